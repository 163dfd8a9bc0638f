// The crash point registry (lib/base/crash_point.h): arming, counting, the
// spec syntax and the abort itself (in death tests, which fork).
#include "lib/base/crash_point.h"

#include <csignal>
#include <cstdio>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace slate::crash_point {
namespace {

static_assert(IsKnown("log.after_wal_write"));
static_assert(IsKnown("import.after_batch"));
static_assert(!IsKnown("log.after_wal"));
static_assert(!IsKnown(""));

class CrashPointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::testing::FLAGS_gtest_death_test_style = "threadsafe";
    DisarmAll();
  }
  void TearDown() override { DisarmAll(); }
  static int64_t Left(absl::string_view name) {
    absl::StatusOr<int64_t> r = Remaining(name);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : -1;
  }
};

TEST_F(CrashPointTest, EveryNameIsUniqueAndWellFormed) {
  const size_t n = std::size(kCrashPoints);
  ASSERT_GE(n, 7u);
  for (size_t i = 0; i < n; ++i) {
    EXPECT_NE(kCrashPoints[i].find('.'), std::string_view::npos)
        << kCrashPoints[i];
    EXPECT_EQ(kCrashPoints[i].find_first_of(":, "), std::string_view::npos)
        << kCrashPoints[i];
    for (size_t j = i + 1; j < n; ++j)
      EXPECT_NE(kCrashPoints[i], kCrashPoints[j]);
  }
}

TEST_F(CrashPointTest, UnknownNamesAndBadCountsAreInvalidArgument) {
  EXPECT_EQ(Arm("log.after_wal").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(Arm("nope").message(), "log.after_wal_write"))
      << "the error lists the known points";
  EXPECT_EQ(Disarm("nope").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Remaining("nope").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Arm("runner.mid_rebuild", 0).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Arm("runner.mid_rebuild", -3).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Left("runner.mid_rebuild"), 0);
}

TEST_F(CrashPointTest, SpecsParseAllOrNothing) {
  ASSERT_TRUE(ArmFromSpec("import.mid_batch:2,log.after_wal_write").ok());
  EXPECT_EQ(Left("import.mid_batch"), 2);
  EXPECT_EQ(Left("log.after_wal_write"), 1);
  EXPECT_EQ(Left("import.after_batch"), 0);
  DisarmAll();
  for (const char* bad :
       {"", ",", "log.after_wal_write:", "log.after_wal_write:0",
        "log.after_wal_write:-1", "log.after_wal_write:2x",
        "log.after_wal_write :2", "import.mid_batch:2,bogus",
        "import.mid_batch:2,", "import.mid_batch:99999999999999999999"}) {
    EXPECT_EQ(ArmFromSpec(bad).code(), absl::StatusCode::kInvalidArgument)
        << "\"" << bad << "\"";
    EXPECT_EQ(Left("import.mid_batch"), 0) << "\"" << bad << "\"";
    EXPECT_EQ(Left("log.after_wal_write"), 0) << "\"" << bad << "\"";
  }
}

TEST_F(CrashPointTest, ArmedPointsCountDownOtherPointsDoNot) {
  ASSERT_TRUE(Arm("runner.mid_rebuild", 3).ok());
  SLATE_CRASH_POINT("runner.mid_rebuild");
  SLATE_CRASH_POINT("runner.after_batch_commit");  // Not armed: not counted.
  SLATE_CRASH_POINT("runner.mid_rebuild");
  EXPECT_EQ(Left("runner.mid_rebuild"), 1);
  EXPECT_EQ(Left("runner.after_batch_commit"), 0);
  ASSERT_TRUE(Arm("runner.mid_rebuild", 5).ok());  // Re-arming restarts.
  EXPECT_EQ(Left("runner.mid_rebuild"), 5);
  ASSERT_TRUE(Disarm("runner.mid_rebuild").ok());
  for (int i = 0; i < 10; ++i) SLATE_CRASH_POINT("runner.mid_rebuild");
  EXPECT_EQ(Left("runner.mid_rebuild"), 0);
}

TEST_F(CrashPointTest, ConcurrentHitsAreEachCountedOnce) {
  constexpr int kThreads = 8, kHitsEach = 500;
  ASSERT_TRUE(Arm("log.after_wal_write", kThreads * kHitsEach + 7).ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([] {
      for (int i = 0; i < kHitsEach; ++i)
        SLATE_CRASH_POINT("log.after_wal_write");
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(Left("log.after_wal_write"), 7);
}

TEST_F(CrashPointTest, TheNthHitAborts) {
  EXPECT_DEATH(
      {
        if (!Arm("import.after_batch", 3).ok()) return;
        SLATE_CRASH_POINT("import.after_batch");
        SLATE_CRASH_POINT("import.after_batch");
        fprintf(stderr, "survived two hits\n");
        SLATE_CRASH_POINT("import.after_batch");
        fprintf(stderr, "survived the third\n");
      },
      "survived two hits\nslate: crash point import.after_batch: abort at hit "
      "3");
}

TEST_F(CrashPointTest, TheAbortIsSigabrt) {
  EXPECT_EXIT(
      {
        if (!Arm("engine.between_log_and_projections").ok()) return;
        SLATE_CRASH_POINT("engine.between_log_and_projections");
      },
      ::testing::KilledBySignal(SIGABRT),
      "crash point engine.between_log_and_projections: abort at hit 1");
}

}  // namespace
}  // namespace slate::crash_point
