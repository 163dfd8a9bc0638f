// Crash test: a child process appends batches and reports each acknowledged
// batch over a pipe; the parent SIGKILLs it at a random moment, reopens the
// log and checks that every acknowledged event is there at its position,
// positions are dense, and no batch is half visible. 20+ rounds per mode.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "lib/api/engine.h"
#include "tests/testing/temp_dir.h"

namespace slate {
namespace {

constexpr int kRounds = 24;

std::string ChildPath() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* ws = std::getenv("TEST_WORKSPACE");
  return absl::StrCat(srcdir ? srcdir : ".", "/", ws ? ws : "slate",
                      "/tests/log/crash_child");
}

struct Acked {
  long batch;
  int size;
  int64_t first_position;
};

// Runs the child, kills it `run_ms` after its first acknowledgement (or,
// when `early`, `run_ms` after its start, possibly while it is still
// creating or opening the database), returns what it acknowledged.
std::vector<Acked> RunAndKill(const std::string& db, const char* mode,
                              long first_batch, unsigned seed, int run_ms,
                              bool early) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    std::string path = ChildPath();
    std::string fb = absl::StrCat(first_batch);
    std::string sd = absl::StrCat(seed);
    execl(path.c_str(), path.c_str(), db.c_str(), mode, fb.c_str(), sd.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  fcntl(fds[0], F_SETFL, O_NONBLOCK);
  std::string buffer;
  auto drain = [&] {
    char chunk[4096];
    ssize_t n;
    while ((n = read(fds[0], chunk, sizeof chunk)) > 0) buffer.append(chunk, n);
  };
  auto start = std::chrono::steady_clock::now();
  if (!early) {
    // Slow builds (sanitizers) take a while to start; wait for the first
    // acknowledgement, up to 30 s.
    while (buffer.find('\n') == std::string::npos &&
           std::chrono::steady_clock::now() - start <
               std::chrono::seconds(30)) {
      drain();
      usleep(1000);
    }
    start = std::chrono::steady_clock::now();
  }
  auto deadline = start + std::chrono::milliseconds(run_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    drain();
    usleep(1000);
  }
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status))
      << "child exited early with status " << WEXITSTATUS(status);
  drain();  // Acknowledgements already in the pipe count too.
  close(fds[0]);
  std::vector<Acked> acked;
  for (absl::string_view line : absl::StrSplit(buffer, '\n')) {
    std::vector<absl::string_view> f = absl::StrSplit(line, ' ');
    if (f.size() != 3) continue;  // A torn last line was never acknowledged.
    Acked a;
    if (absl::SimpleAtoi(f[0], &a.batch) && absl::SimpleAtoi(f[1], &a.size) &&
        absl::SimpleAtoi(f[2], &a.first_position)) {
      acked.push_back(a);
    }
  }
  return acked;
}

void CrashRounds(const char* mode) {
  testing::TempDir dir;
  const std::string db = dir.Sub("db");
  std::mt19937 rng(20261125);
  std::vector<Acked> all_acked;
  int total_killed_with_acks = 0;
  for (int round = 0; round < kRounds; ++round) {
    // One round in four kills at a random moment from the start, which may
    // fall inside database creation or recovery.
    const bool early = rng() % 4 == 0;
    const int run_ms = static_cast<int>(rng() % (early ? 60 : 200));
    std::vector<Acked> acked =
        RunAndKill(db, mode, round * 1000000L, rng(), run_ms, early);
    if (!acked.empty()) ++total_killed_with_acks;
    all_acked.insert(all_acked.end(), acked.begin(), acked.end());

    Options options;
    options.durability = Durability::kProcessCrash;
    auto engine = Engine::Open(options, db);
    ASSERT_TRUE(engine.ok()) << "round " << round << ": " << engine.status();
    // Read everything: ReadAll itself fails on a gap in positions.
    absl::flat_hash_map<std::string, Envelope> by_id;
    std::vector<Envelope> log;
    for (int64_t from = 0;;) {
      auto batch = (*engine)->ReadAll(from, 10000);
      ASSERT_TRUE(batch.ok()) << "round " << round << ": " << batch.status();
      if (batch->empty()) break;
      from += static_cast<int64_t>(batch->size());
      for (Envelope& e : *batch) log.push_back(std::move(e));
    }
    ASSERT_EQ(static_cast<int64_t>(log.size()), (*engine)->NextPosition());
    // No batch half visible: count events per batch against its size.
    absl::flat_hash_map<long, int> seen, size_of;
    for (const Envelope& e : log) {
      long b = 0;
      int size = 0;
      ASSERT_EQ(std::sscanf(e.incident_commented().text().c_str(),
                            "batch=%ld size=%d", &b, &size),
                2);
      ++seen[b];
      size_of[b] = size;
      by_id[e.event_id()] = e;
    }
    for (const auto& [b, n] : seen) {
      EXPECT_EQ(n, size_of[b])
          << "round " << round << ": batch " << b << " is half visible";
    }
    // Every acknowledged event is there, at the acknowledged position.
    for (const Acked& a : all_acked) {
      for (int i = 0; i < a.size; ++i) {
        auto it = by_id.find(absl::StrCat("b", a.batch, "-", i));
        ASSERT_NE(it, by_id.end()) << "round " << round << ": acknowledged "
                                   << "batch " << a.batch << " lost";
        EXPECT_EQ(it->second.position(), a.first_position + i);
      }
    }
  }
  std::printf(
      "%s: %d rounds, %zu acknowledged batches checked, %d rounds "
      "killed mid-stream\n",
      mode, kRounds, all_acked.size(), total_killed_with_acks);
  // The test must have exercised something: most rounds acknowledged work.
  EXPECT_GE(total_killed_with_acks, kRounds / 2);
}

TEST(CrashTest, PowerLossModeLosesNothingAcknowledged) {
  CrashRounds("power-loss");
}

TEST(CrashTest, ProcessCrashModeLosesNothingAcknowledged) {
  CrashRounds("process-crash");
}

}  // namespace
}  // namespace slate
