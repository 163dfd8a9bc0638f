// StreamCache (lib/log/stream_cache.h): a cached stream answers as the log
// does, also after appends that did not go through the cache, and a read
// that a commit overtook does not leave a stale entry behind.
#include "lib/log/stream_cache.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "google/protobuf/util/message_differencer.h"
#include "lib/api/clock.h"
#include "lib/log/event_log.h"
#include "tests/testing/temp_dir.h"

namespace slate {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1795000000);  // 2026-11-18

Envelope Comment(const std::string& id) {
  Envelope e;
  e.set_event_id(id);
  e.mutable_incident_commented()->set_text(absl::StrCat("text of ", id));
  return e;
}

class StreamCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Options o;
    o.clock = &clock_;
    o.durability = Durability::kProcessCrash;
    auto log = EventLog::Open(o, dir_.path());
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = *std::move(log);
    cache_ = std::make_unique<StreamCache>(log_.get(), /*max_stream_events=*/4,
                                           /*max_events=*/16);
    log_->SetCommitListener(
        [this](const std::string& s, const std::vector<Envelope>& e) {
          cache_->Committed(s, e);
        });
  }
  void TearDown() override { log_->SetCommitListener(nullptr); }

  void Append(const std::string& stream, const std::string& id) {
    ASSERT_TRUE(
        log_->Append(stream, ExpectedVersion::Any(), {Comment(id)}).ok());
  }
  // The cache's answer equals the log's.
  void ExpectAsLog(const std::string& stream) {
    auto cached = cache_->ReadStream(stream, 0, 1024);
    auto stored = log_->ReadStream(stream, 0, 1024);
    ASSERT_TRUE(cached.ok()) << cached.status();
    ASSERT_TRUE(stored.ok()) << stored.status();
    ASSERT_EQ(cached->size(), stored->size()) << stream;
    for (size_t i = 0; i < stored->size(); ++i) {
      EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
          (*cached)[i], (*stored)[i]))
          << stream << " version " << i << ":\n"
          << (*cached)[i].DebugString() << "vs\n"
          << (*stored)[i].DebugString();
    }
  }

  testing::TempDir dir_;
  SimulatedClock clock_{kStart};
  std::unique_ptr<EventLog> log_;
  std::unique_ptr<StreamCache> cache_;
};

TEST_F(StreamCacheTest, AnAppendFromAnotherPathReachesTheCachedStream) {
  Append("incident/INC1", "e1");
  ExpectAsLog("incident/INC1");
  EXPECT_EQ(cache_->CachedStreamsForTest(), 1u);
  // Straight through the log, not through the cache.
  Append("incident/INC1", "e2");
  clock_.Advance(absl::Minutes(1));
  Append("incident/INC1", "e3");
  ExpectAsLog("incident/INC1");
  EXPECT_EQ(cache_->CachedStreamsForTest(), 1u);
}

TEST_F(StreamCacheTest, AnAbsentStreamIsKnownUntilItsFirstAppend) {
  auto none = cache_->ReadStream("incident/NEW", 0, 1024);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  EXPECT_EQ(cache_->CachedStreamsForTest(), 1u);
  Append("incident/NEW", "n1");
  ExpectAsLog("incident/NEW");
}

TEST_F(StreamCacheTest, StreamsPastTheBoundsAreReadFromTheLog) {
  for (int i = 0; i < 6; ++i) Append("incident/LONG", absl::StrCat("l", i));
  ExpectAsLog("incident/LONG");  // 6 events > 4: not kept.
  EXPECT_EQ(cache_->CachedStreamsForTest(), 0u);
  Append("incident/A", "a1");
  ExpectAsLog("incident/A");
  for (int i = 0; i < 5; ++i) Append("incident/A", absl::StrCat("a", i + 2));
  ExpectAsLog("incident/A");  // Grew past 4: dropped, read again.
  EXPECT_EQ(cache_->CachedStreamsForTest(), 0u);
  // 16 events in all: the cache starts again rather than growing.
  for (int s = 0; s < 6; ++s) {
    const std::string stream = absl::StrCat("incident/S", s);
    for (int i = 0; i < 3; ++i) Append(stream, absl::StrCat(stream, ":", i));
    ExpectAsLog(stream);
  }
  EXPECT_LE(cache_->CachedStreamsForTest(), 5u);
  for (int s = 0; s < 6; ++s) ExpectAsLog(absl::StrCat("incident/S", s));
}

TEST_F(StreamCacheTest, ReadsRacingAppendsStayCurrent) {
  // Readers fill entries while a writer appends to the same streams: every
  // answer holds at least the appends that had returned before the read
  // began, and at the end every stream reads as the log holds it.
  constexpr int kStreams = 3;
  constexpr int kAppends = 300;
  // Room for every stream whole (no append is made yet).
  cache_ = std::make_unique<StreamCache>(log_.get(), kAppends, kAppends);
  std::atomic<int> appended[kStreams] = {};
  std::atomic<bool> done{false};
  std::atomic<int> stale{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      while (!done.load()) {
        for (int s = 0; s < kStreams; ++s) {
          const int returned = appended[s].load();
          auto got = cache_->ReadStream(absl::StrCat("incident/R", s), 0, 1024);
          if (got.ok() && static_cast<int>(got->size()) < returned) ++stale;
        }
      }
    });
  }
  for (int i = 0; i < kAppends; ++i) {
    const int s = i % kStreams;
    Append(absl::StrCat("incident/R", s), absl::StrCat("r", i));
    appended[s].fetch_add(1);
  }
  done.store(true);
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(stale.load(), 0);
  for (int s = 0; s < kStreams; ++s) ExpectAsLog(absl::StrCat("incident/R", s));
}

}  // namespace
}  // namespace slate
