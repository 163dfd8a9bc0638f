// Projection crash safety: a child appends through an Engine whose
// projections fold (synchronously or on the follower thread); the parent
// SIGKILLs it at random moments (most of them after its first append, so
// they land mid-work on any machine), reopens, and checks with
// Engine::Verify that the log is intact and every projection equals a fresh
// fold from position 0.
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "lib/api/engine.h"
#include "tests/testing/child_process.h"
#include "tests/testing/temp_dir.h"

namespace slate {
namespace {

// What the child prints once its first append returned.
constexpr char kFirstAppendLine[] = "fold_crash_child: appending";

std::string ChildPath() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* ws = std::getenv("TEST_WORKSPACE");
  return absl::StrCat(srcdir ? srcdir : ".", "/", ws ? ws : "slate",
                      "/tests/projection/fold_crash_child");
}

TEST(ProjectionCrashTest, KilledFoldsNeverLeaveProjectionsBehindOrWrong) {
  testing::TempDir dir;
  const std::string db = dir.Sub("db");
  std::mt19937 rng(20261126);
  // Two rounds in three kill the child at a random moment after its first
  // append returned, so the kill lands while it appends and folds, however
  // long opening takes on a loaded machine; the third kills it at a random
  // moment from its start, which may land while Engine::Open catches up.
  constexpr int kRounds = 24;
  int64_t last_end = 0;
  int mid_work_rounds = 0;
  int grew_mid_work = 0;
  for (int round = 0; round < kRounds; ++round) {
    const char* mode = round % 2 == 0 ? "sync" : "async";
    const bool mid_work = round % 3 != 2;
    testing::ChildProcess child({ChildPath(), db, mode, absl::StrCat(round)},
                                dir.Sub(absl::StrCat("child-", round, ".out")));
    ASSERT_GT(child.pid(), 0) << "round " << round;
    if (mid_work) {
      ++mid_work_rounds;
      // Slow under sanitizers and with a long log to catch up on.
      ASSERT_TRUE(child.WaitFor(kFirstAppendLine, absl::Minutes(3)))
          << "round " << round << ": the child never appended:\n"
          << child.Output();
      usleep(static_cast<useconds_t>(rng() % 250000));
    } else {
      usleep(static_cast<useconds_t>(rng() % 400000));
    }
    ASSERT_TRUE(child.Signal(SIGKILL)) << "round " << round;
    ASSERT_EQ(child.Wait(), -1)
        << "round " << round << ": the child exited by itself:\n"
        << child.Output();

    Options options;
    options.durability = Durability::kProcessCrash;
    auto engine = Engine::Open(options, db);  // kSync: catches up on open.
    ASSERT_TRUE(engine.ok()) << "round " << round << ": " << engine.status();
    VerifyReport report;
    ASSERT_TRUE((*engine)->Verify(&report).ok());
    EXPECT_TRUE(report.ok()) << "round " << round << ":\n"
                             << absl::StrJoin(report.problems, "\n");
    const int64_t end = (*engine)->NextPosition();
    // An append that returned under kProcessCrash survives the kill.
    if (mid_work) {
      EXPECT_GT(end, last_end) << "round " << round;
      if (end > last_end) ++grew_mid_work;
    }
    last_end = end;
  }
  std::printf(
      "%d rounds, %d of them killed after appending (%d grew the log); log "
      "ends at %lld events\n",
      kRounds, mid_work_rounds, grew_mid_work,
      static_cast<long long>(last_end));
  EXPECT_EQ(grew_mid_work, mid_work_rounds);
}

}  // namespace
}  // namespace slate
