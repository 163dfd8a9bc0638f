// Projection crash safety: a child appends through an Engine whose
// projections fold (synchronously or on the follower thread); the parent
// SIGKILLs it at random moments, reopens, and checks with Engine::Verify that
// the log is intact and every projection equals a fresh fold from position 0.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "lib/api/engine.h"
#include "tests/testing/temp_dir.h"

namespace slate {
namespace {

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
  constexpr int kRounds = 22;
  int64_t last_end = 0;
  int grew = 0;
  for (int round = 0; round < kRounds; ++round) {
    const char* mode = round % 2 == 0 ? "sync" : "async";
    pid_t pid = fork();
    if (pid == 0) {
      std::string path = ChildPath();
      std::string seed = absl::StrCat(round);
      execl(path.c_str(), path.c_str(), db.c_str(), mode, seed.c_str(),
            static_cast<char*>(nullptr));
      _exit(127);
    }
    // Let it start (slow under sanitizers), then kill at a random moment.
    usleep(static_cast<useconds_t>(120000 + rng() % 250000));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status))
        << "round " << round << ": child exited with " << WEXITSTATUS(status);

    Options options;
    options.durability = Durability::kProcessCrash;
    auto engine = Engine::Open(options, db);  // kSync: catches up on open.
    ASSERT_TRUE(engine.ok()) << "round " << round << ": " << engine.status();
    VerifyReport report;
    ASSERT_TRUE((*engine)->Verify(&report).ok());
    EXPECT_TRUE(report.ok()) << "round " << round << ":\n"
                             << absl::StrJoin(report.problems, "\n");
    const int64_t end = (*engine)->NextPosition();
    if (end > last_end) ++grew;
    last_end = end;
  }
  std::printf(
      "%d rounds, %d of them appended before the kill; log ends at "
      "%lld events\n",
      kRounds, grew, static_cast<long long>(last_end));
  EXPECT_GE(grew, kRounds / 2);  // The kills landed mid-work.
}

}  // namespace
}  // namespace slate
