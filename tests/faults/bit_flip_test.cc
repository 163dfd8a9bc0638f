// Bit flips in the log's SST and WAL files. A database is written (some
// events flushed to SST files, the rest only in the WAL), copied, and for
// many offsets in each file one bit of the copy is flipped. Opening and
// reading every event must then either report kDataLoss naming the file or
// the position, or return exactly the original events: never a crash, never
// a different event, never a silently shorter log. Prints the outcomes per
// file kind (tests/RELIABILITY.md).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "lib/api/clock.h"
#include "lib/log/event_log.h"
#include "tests/testing/temp_dir.h"

namespace slate {
namespace {

namespace fs = std::filesystem;

constexpr int kStreams = 5;

struct Outcomes {
  int flips = 0;
  int detected_at_open = 0;
  int detected_at_read = 0;
  int harmless = 0;      // Every event read back exactly.
  int silent_loss = 0;   // Fewer events, no error.
  int silent_wrong = 0;  // A different event, no error.
  int other_error = 0;   // An error that is not kDataLoss.
  int unnamed = 0;       // kDataLoss without a file or position.
};

class BitFlipTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Options options;
    options.clock = &clock_;
    options.durability = Durability::kPowerLoss;
    pristine_ = dir_.Sub("pristine");
    auto log = EventLog::Open(options, pristine_);
    ASSERT_TRUE(log.ok()) << log.status();
    int batch = 0;
    auto append = [&](int batches) {
      for (int b = 0; b < batches; ++b, ++batch) {
        std::vector<Envelope> events(5);
        for (int i = 0; i < 5; ++i) {
          events[i].set_event_id(absl::StrCat("b", batch, "-", i));
          events[i].mutable_incident_commented()->set_text(
              absl::StrCat("event ", i, " of batch ", batch));
        }
        ASSERT_TRUE((*log)
                        ->Append(absl::StrCat("incident/INC", batch % kStreams),
                                 ExpectedVersion::Any(), std::move(events))
                        .ok());
      }
    };
    append(40);
    ASSERT_TRUE((*log)->Flush().ok());  // These 200 events are in an SST.
    append(20);                         // These 100 only in the WAL.
    auto all = (*log)->ReadAll(0, 1 << 20);
    ASSERT_TRUE(all.ok());
    expected_ = *all;
    ASSERT_EQ(expected_.size(), 300u);
  }

  std::vector<std::string> FilesEndingIn(const std::string& suffix) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(pristine_)) {
      const std::string name = e.path().filename().string();
      if (absl::EndsWith(name, suffix) && fs::file_size(e.path()) > 0) {
        out.push_back(name);
      }
    }
    return out;
  }

  // Whether the error says where: the file, a position or offset, or (for
  // errors RocksDB raises while opening, e.g. a WAL checksum mismatch) the
  // database directory.
  static bool NamesWhere(const absl::Status& s, const std::string& file,
                         const std::string& dir) {
    const std::string m(s.message());
    return absl::StrContains(m, file) || absl::StrContains(m, dir) ||
           absl::StrContains(m, "position") || absl::StrContains(m, ".sst") ||
           absl::StrContains(m, ".log") || absl::StrContains(m, "offset") ||
           absl::StrContains(m, "WAL");
  }

  // Flips bit `bit` of byte `offset` of `file` in a fresh copy of the
  // database, opens it and reads everything.
  void Trial(const std::string& file, uint64_t offset, int bit, Outcomes* out) {
    const std::string trial = dir_.Sub(absl::StrCat("trial-", trials_++));
    fs::copy(pristine_, trial, fs::copy_options::recursive);
    {
      std::fstream f(fs::path(trial) / file,
                     std::ios::in | std::ios::out | std::ios::binary);
      f.seekg(static_cast<std::streamoff>(offset));
      char c = 0;
      f.read(&c, 1);
      c = static_cast<char>(c ^ (1 << bit));
      f.seekp(static_cast<std::streamoff>(offset));
      f.write(&c, 1);
    }
    ++out->flips;
    Options options;
    options.clock = &clock_;
    options.create_if_missing = false;
    auto classify_error = [&](const absl::Status& s, int* detected) {
      if (s.code() != absl::StatusCode::kDataLoss) {
        ++out->other_error;
        ADD_FAILURE() << file << " offset " << offset << " bit " << bit
                      << ": not kDataLoss: " << s;
        return;
      }
      ++*detected;
      if (!NamesWhere(s, file, trial)) {
        ++out->unnamed;
        ADD_FAILURE() << "kDataLoss names no file or position: " << s;
      }
    };
    {
      auto log = EventLog::Open(options, trial);
      if (!log.ok()) {
        classify_error(log.status(), &out->detected_at_open);
      } else {
        absl::Status read_error;
        std::vector<Envelope> got;
        auto all = (*log)->ReadAll(0, 1 << 20);
        if (!all.ok()) {
          read_error = all.status();
        } else {
          got = *all;
          for (int s = 0; s < kStreams && read_error.ok(); ++s) {
            auto events =
                (*log)->ReadStream(absl::StrCat("incident/INC", s), 0, 1 << 20);
            if (!events.ok()) read_error = events.status();
          }
        }
        if (!read_error.ok()) {
          classify_error(read_error, &out->detected_at_read);
        } else if (got.size() < expected_.size()) {
          ++out->silent_loss;
          ADD_FAILURE() << file << " offset " << offset << " bit " << bit
                        << ": " << got.size() << " of " << expected_.size()
                        << " events read back and no error";
        } else {
          bool same = got.size() == expected_.size();
          for (size_t i = 0; same && i < got.size(); ++i) {
            same =
                got[i].SerializeAsString() == expected_[i].SerializeAsString();
          }
          if (same) {
            ++out->harmless;
          } else {
            ++out->silent_wrong;
            ADD_FAILURE() << file << " offset " << offset << " bit " << bit
                          << ": events differ and no error";
          }
        }
      }
    }
    fs::remove_all(trial);
  }

  void FlipAcross(const std::string& suffix, int per_file, Outcomes* out) {
    std::mt19937_64 rng(1234);  // Fixed seed; offsets are printed on failure.
    const std::vector<std::string> files = FilesEndingIn(suffix);
    ASSERT_FALSE(files.empty()) << "no " << suffix << " file to corrupt";
    for (const std::string& file : files) {
      const uint64_t size = fs::file_size(fs::path(pristine_) / file);
      for (int i = 0; i < per_file; ++i) {
        // Half evenly spaced (headers, middles, footers), half random.
        const uint64_t offset = i % 2 == 0
                                    ? size * static_cast<uint64_t>(i) / per_file
                                    : rng() % size;
        Trial(file, offset, static_cast<int>(rng() % 8), out);
      }
      // The last bytes: SST footer and magic, the WAL's newest record.
      for (uint64_t back = 1; back <= 8 && back <= size; ++back) {
        Trial(file, size - back, static_cast<int>(back % 8), out);
      }
    }
  }

  static void Print(const char* kind, const Outcomes& o) {
    std::printf(
        "%s: %d flips: %d detected at open, %d detected at read, %d "
        "harmless, %d silent loss, %d silently wrong, %d other errors\n",
        kind, o.flips, o.detected_at_open, o.detected_at_read, o.harmless,
        o.silent_loss, o.silent_wrong, o.other_error);
  }

  SimulatedClock clock_{absl::FromUnixSeconds(1795000000)};
  testing::TempDir dir_;
  std::string pristine_;
  std::vector<Envelope> expected_;
  int trials_ = 0;
};

TEST_F(BitFlipTest, SstFiles) {
  Outcomes o;
  FlipAcross(".sst", 120, &o);
  Print("sst", o);
  EXPECT_GT(o.detected_at_open + o.detected_at_read, 0);
  EXPECT_EQ(o.silent_loss + o.silent_wrong + o.other_error + o.unnamed, 0);
}

TEST_F(BitFlipTest, WalFiles) {
  Outcomes o;
  FlipAcross(".log", 120, &o);
  Print("wal", o);
  EXPECT_GT(o.detected_at_open + o.detected_at_read, 0);
  EXPECT_EQ(o.silent_loss + o.silent_wrong + o.other_error + o.unnamed, 0);
}

}  // namespace
}  // namespace slate
