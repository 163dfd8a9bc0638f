// Column families beside the log: RecreateColumnFamily (a projection's
// reset) and IngestDerived (a rebuild's snapshot written as an SST file).
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/log/event_log.h"
#include "rocksdb/db.h"
#include "rocksdb/sst_file_writer.h"
#include "rocksdb/write_batch.h"
#include "tests/testing/temp_dir.h"

namespace slate {
namespace {

class DerivedFamilyTest : public ::testing::Test {
 protected:
  DerivedFamilyTest() {
    options_.durability = Durability::kProcessCrash;
    Open();
  }
  void Open() {
    log_.reset();
    auto log = EventLog::Open(options_, dir_.path());
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = std::move(*log);
  }
  std::string Get(rocksdb::ColumnFamilyHandle* cf, const std::string& key) {
    std::string v;
    rocksdb::Status s = log_->db()->Get(rocksdb::ReadOptions(), cf, key, &v);
    if (s.IsNotFound()) return "<absent>";
    EXPECT_TRUE(s.ok()) << s.ToString();
    return v;
  }
  void Put(rocksdb::ColumnFamilyHandle* cf, const std::string& key,
           const std::string& value) {
    rocksdb::WriteBatch b;
    ASSERT_TRUE(b.Put(cf, key, value).ok());
    ASSERT_TRUE(log_->WriteDerived(&b).ok());
  }
  std::vector<std::string> Keys(rocksdb::ColumnFamilyHandle* cf) {
    std::vector<std::string> keys;
    std::unique_ptr<rocksdb::Iterator> it(
        log_->db()->NewIterator(rocksdb::ReadOptions(), cf));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      keys.push_back(it->key().ToString());
    }
    EXPECT_TRUE(it->status().ok()) << it->status().ToString();
    return keys;
  }
  // Files IngestDerived left behind.
  size_t IngestFiles() {
    const std::filesystem::path d =
        std::filesystem::path(dir_.path()) / "ingest.tmp";
    if (!std::filesystem::exists(d)) return 0;
    return static_cast<size_t>(std::distance(
        std::filesystem::directory_iterator(d),
        std::filesystem::directory_iterator()));
  }

  testing::TempDir dir_;
  Options options_;
  std::unique_ptr<EventLog> log_;
};

TEST_F(DerivedFamilyTest, RecreateDropsEverythingTheFamilyHeld) {
  auto cf = log_->GetOrCreateColumnFamily("p.test");
  ASSERT_TRUE(cf.ok()) << cf.status();
  Put(*cf, "a", "1");
  Put(*cf, "b", "2");
  auto again = log_->RecreateColumnFamily("p.test");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ((*again)->GetName(), "p.test");
  EXPECT_TRUE(Keys(*again).empty());
  // It is the family GetOrCreateColumnFamily now gives, and it survives a
  // reopen (empty, then with what is written to it).
  auto same = log_->GetOrCreateColumnFamily("p.test");
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(*same, *again);
  Put(*again, "c", "3");
  Open();
  auto reopened = log_->GetOrCreateColumnFamily("p.test");
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(Keys(*reopened), std::vector<std::string>{"c"});
}

TEST_F(DerivedFamilyTest, RecreateCreatesAMissingFamily) {
  auto cf = log_->RecreateColumnFamily("p.new");
  ASSERT_TRUE(cf.ok()) << cf.status();
  Put(*cf, "k", "v");
  EXPECT_EQ(Get(*cf, "k"), "v");
}

TEST_F(DerivedFamilyTest, TheLogsOwnFamiliesCannotBeRecreated) {
  for (const std::string name : {"default", "ids"}) {
    auto cf = log_->RecreateColumnFamily(name);
    EXPECT_EQ(cf.status().code(), absl::StatusCode::kInvalidArgument) << name;
  }
}

TEST_F(DerivedFamilyTest, IngestedKeysAreReadBackAndSurviveAReopen) {
  auto cf = log_->RecreateColumnFamily("p.test");
  ASSERT_TRUE(cf.ok());
  absl::Status s =
      log_->IngestDerived(*cf, [](rocksdb::SstFileWriter& w) {
        rocksdb::Status st;
        for (int i = 0; i < 1000 && st.ok(); ++i) {
          st = w.Put(absl::StrCat("k", 1000 + i), absl::StrCat("v", i));
        }
        return st;
      });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(Keys(*cf).size(), 1000u);
  EXPECT_EQ(Get(*cf, "k1007"), "v7");
  EXPECT_EQ(IngestFiles(), 0u) << "the file is moved into the database";
  // Written afterwards through the memtable: the newer value wins.
  Put(*cf, "k1007", "new");
  EXPECT_EQ(Get(*cf, "k1007"), "new");
  Open();
  auto reopened = log_->GetOrCreateColumnFamily("p.test");
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(Get(*reopened, "k1007"), "new");
  EXPECT_EQ(Get(*reopened, "k1999"), "v999");
}

TEST_F(DerivedFamilyTest, AFailedFileIngestsNothing) {
  auto cf = log_->RecreateColumnFamily("p.test");
  ASSERT_TRUE(cf.ok());
  // The filler's own error, after some keys.
  absl::Status s = log_->IngestDerived(*cf, [](rocksdb::SstFileWriter& w) {
    rocksdb::Status st = w.Put("a", "1");
    if (st.ok()) st = rocksdb::Status::IOError("filler failed");
    return st;
  });
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(absl::StrContains(s.message(), "filler failed")) << s;
  // Keys out of order.
  s = log_->IngestDerived(*cf, [](rocksdb::SstFileWriter& w) {
    rocksdb::Status st = w.Put("b", "1");
    if (st.ok()) st = w.Put("a", "2");
    return st;
  });
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(Keys(*cf).empty());
  EXPECT_EQ(IngestFiles(), 0u);
}

TEST_F(DerivedFamilyTest, IngestingOverAMemtableFailsInsteadOfFlushing) {
  auto cf = log_->RecreateColumnFamily("p.test");
  ASSERT_TRUE(cf.ok());
  Put(*cf, "m", "memtable");
  absl::Status s = log_->IngestDerived(*cf, [](rocksdb::SstFileWriter& w) {
    return w.Put("m", "file");
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_EQ(Get(*cf, "m"), "memtable");
  EXPECT_EQ(IngestFiles(), 0u);
}

TEST_F(DerivedFamilyTest, OpeningRemovesAFileACrashLeft) {
  const std::filesystem::path d =
      std::filesystem::path(dir_.path()) / "ingest.tmp";
  log_.reset();
  std::filesystem::create_directories(d);
  std::ofstream(d / "p.test.7.sst") << "half written";
  ASSERT_EQ(IngestFiles(), 1u);
  Open();
  EXPECT_FALSE(std::filesystem::exists(d));
}

}  // namespace
}  // namespace slate
