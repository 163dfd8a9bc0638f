// Crash points (issue 8): for every point in lib/base/crash_point.h a child
// process (crash_points_child) is armed through SLATE_CRASH_POINT to abort at
// its 1st, 3rd, 10th, ... hit. The parent checks that the child died by that
// abort (a point never reached fails the test), then, before anything folds,
// that every projection's stored state equals a fresh fold of the log up to
// its stored checkpoint (nothing half-applied), then reopens the engine and
// checks that every acknowledged event is there exactly once, no append is
// half visible, and Engine::Verify passes (dense log, consistent indexes,
// projections equal to a fold from position 0). Each point's documented
// on-disk state is checked too. For the import points, running the import of
// the same fixture again appends exactly the missing events, none twice, and
// gives the log an uninterrupted import gives.
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "lib/api/engine.h"
#include "lib/base/crash_point.h"
#include "lib/import/servicenow_import.h"
#include "lib/log/event_log.h"
#include "lib/projection/builtins.h"
#include "lib/projection/memory_state.h"
#include "lib/projection/runner.h"
#include "tests/testing/temp_dir.h"

extern char** environ;

namespace slate {
namespace {

constexpr char kFixture[] = "tests/import/fixtures/servicenow_sample.csv";

std::string ChildPath() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* ws = std::getenv("TEST_WORKSPACE");
  return absl::StrCat(srcdir ? srcdir : ".", "/", ws ? ws : "slate",
                      "/tests/crash/crash_points_child");
}

// --- Running a child ---------------------------------------------------------

struct ChildRun {
  int status = 0;                  // As from waitpid.
  std::string err;                 // Its stderr.
  std::vector<std::string> acked;  // Complete stdout lines: acked event ids.
  bool timed_out = false;
};

// Runs crash_points_child with `args` and SLATE_CRASH_POINT=`spec` (unset
// when empty) until it ends, at most 180 s (then SIGKILL).
ChildRun RunChild(const std::vector<std::string>& args,
                  const std::string& spec) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (!absl::StartsWith(*e, "SLATE_CRASH_POINT=")) env.emplace_back(*e);
  }
  if (!spec.empty()) env.push_back(absl::StrCat("SLATE_CRASH_POINT=", spec));
  std::vector<std::string> argv_s = {ChildPath()};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> envp, argv;
  for (std::string& s : env) envp.push_back(s.data());
  envp.push_back(nullptr);
  for (std::string& s : argv_s) argv.push_back(s.data());
  argv.push_back(nullptr);

  ChildRun run;
  int out[2], err[2];
  if (pipe(out) != 0 || pipe(err) != 0) {
    ADD_FAILURE() << "pipe failed";
    return run;
  }
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    dup2(err[1], 2);
    close(out[0]);
    close(out[1]);
    close(err[0]);
    close(err[1]);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  std::string stdout_text;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(180);
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  std::string* sinks[2] = {&stdout_text, &run.err};
  int open_fds = 2;
  while (open_fds > 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      run.timed_out = true;
      break;
    }
    if (poll(fds, 2, 1000) < 0) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char chunk[65536];
      const ssize_t n = read(fds[i].fd, chunk, sizeof chunk);
      if (n > 0) {
        sinks[i]->append(chunk, static_cast<size_t>(n));
      } else {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (pollfd& p : fds) {
    if (p.fd >= 0) close(p.fd);
  }
  waitpid(pid, &run.status, 0);
  // A torn last line was never acknowledged.
  const size_t end = stdout_text.rfind('\n');
  if (end != std::string::npos) {
    for (absl::string_view id :
         absl::StrSplit(absl::string_view(stdout_text.data(), end), '\n')) {
      run.acked.emplace_back(id);
    }
  }
  return run;
}

std::string Describe(const ChildRun& r) {
  std::string how =
      r.timed_out ? "timed out"
      : WIFSIGNALED(r.status)
          ? absl::StrCat("died of signal ", WTERMSIG(r.status))
          : absl::StrCat("exited with status ", WEXITSTATUS(r.status));
  return absl::StrCat(how, ", stderr:\n", r.err);
}

// The child died of SIGABRT raised by crash point `name` at hit `hit`.
::testing::AssertionResult AbortedAt(const ChildRun& r, const std::string& name,
                                     int64_t hit) {
  const std::string want =
      absl::StrCat("slate: crash point ", name, ": abort at hit ", hit, "\n");
  if (!r.timed_out && WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGABRT &&
      absl::StrContains(r.err, want)) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << "expected the child to abort at " << name << " hit " << hit
         << " (a point never reached must fail); it " << Describe(r);
}

// --- Checks after a crash ----------------------------------------------------

std::vector<Envelope> ReadWholeLog(const EventLog& log) {
  std::vector<Envelope> all;
  while (true) {
    auto page = log.ReadAll(static_cast<int64_t>(all.size()), 4096);
    EXPECT_TRUE(page.ok()) << page.status();
    if (!page.ok() || page->empty()) break;
    for (Envelope& e : *page) all.push_back(std::move(e));
  }
  return all;
}

// What the database held right after the crash, before anything folded.
struct StoredState {
  int64_t log_end = 0;
  std::map<std::string, int64_t> checkpoints;
  int64_t min_checkpoint() const {
    int64_t m = log_end;
    for (const auto& [n, cp] : checkpoints) m = std::min(m, cp);
    return m;
  }
  int64_t max_checkpoint() const {
    int64_t m = 0;
    for (const auto& [n, cp] : checkpoints) m = std::max(m, cp);
    return m;
  }
  std::string ToString() const {
    std::string s = absl::StrCat("log end ", log_end, ", checkpoints");
    for (const auto& [n, cp] : checkpoints)
      absl::StrAppend(&s, " ", n, "=", cp);
    return s;
  }
};

// Opens the log and the projections without folding anything and checks
// that each projection's stored state is exactly a fresh fold of the log up
// to its stored checkpoint, and that no checkpoint lies past the log.
StoredState CheckStoredProjections(const std::string& db,
                                   const Options& options,
                                   const std::string& where) {
  StoredState st;
  auto log = EventLog::Open(options, db);
  EXPECT_TRUE(log.ok()) << where << ": " << log.status();
  if (!log.ok()) return st;
  st.log_end = (*log)->NextPosition();
  auto runner = ProjectionRunner::Open(
      log->get(), BuiltinProjections((*log)->options()), RunnerOptions());
  EXPECT_TRUE(runner.ok()) << where << ": " << runner.status();
  if (!runner.ok()) return st;
  const std::vector<Envelope> events = ReadWholeLog(**log);
  EXPECT_EQ(static_cast<int64_t>(events.size()), st.log_end) << where;
  for (std::unique_ptr<Projection>& fresh :
       BuiltinProjections((*log)->options())) {
    const std::string name(fresh->name());
    auto cp = (*runner)->Checkpoint(name);
    EXPECT_TRUE(cp.ok()) << where << ": " << cp.status();
    if (!cp.ok()) continue;
    st.checkpoints[name] = *cp;
    EXPECT_LE(*cp, st.log_end) << where << ": projection " << name;
    MemoryState expected(log->get());
    for (int64_t p = 0; p < std::min<int64_t>(*cp, st.log_end); ++p) {
      absl::Status s = fresh->Apply(events[p], expected);
      EXPECT_TRUE(s.ok()) << where << ": " << s;
    }
    absl::Status flushed = fresh->Flush(expected);
    EXPECT_TRUE(flushed.ok()) << where << ": " << flushed;
    auto stored = (*runner)->Dump(name);
    EXPECT_TRUE(stored.ok()) << where << ": " << stored.status();
    if (!stored.ok()) continue;
    std::map<std::string, std::string> got;
    for (auto& [k, v] : *stored) {
      if (!k.empty() && k[0] == '\0') continue;  // Runner metadata.
      got[k] = v;
    }
    if (got != expected.data()) {
      // Name the first difference rather than printing both maps.
      auto a = got.begin();
      auto b = expected.data().begin();
      while (a != got.end() && b != expected.data().end() && *a == *b) {
        ++a;
        ++b;
      }
      ADD_FAILURE() << where << ": projection " << name << " at checkpoint "
                    << *cp << " is not a fold of the log up to it (half "
                    << "applied?): first difference at stored key \""
                    << (a == got.end() ? "<end>" : a->first)
                    << "\" / fold key \""
                    << (b == expected.data().end() ? "<end>" : b->first)
                    << "\"; " << got.size() << " vs " << expected.data().size()
                    << " keys";
    }
  }
  return st;
}

struct Reopened {
  std::vector<std::string> ids;  // In log order.
  int64_t lost = 0;              // Acknowledged ids missing.
};

// Reopens the engine (which catches the projections up), checks every
// acknowledged id is present exactly once, no id twice, and Verify passes.
Reopened ReopenAndVerify(const std::string& db, const Options& options,
                         const std::set<std::string>& acked,
                         const std::string& where) {
  Reopened out;
  auto engine = Engine::Open(options, db);
  EXPECT_TRUE(engine.ok()) << where << ": " << engine.status();
  if (!engine.ok()) return out;
  absl::flat_hash_map<std::string, int> count;
  for (int64_t from = 0;;) {
    auto page = (*engine)->ReadAll(from, 4096);
    EXPECT_TRUE(page.ok()) << where << ": " << page.status();
    if (!page.ok() || page->empty()) break;
    from += static_cast<int64_t>(page->size());
    for (const Envelope& e : *page) {
      out.ids.push_back(e.event_id());
      if (++count[e.event_id()] == 2) {
        ADD_FAILURE() << where << ": event " << e.event_id()
                      << " is in the log twice";
      }
    }
  }
  for (const std::string& id : acked) {
    if (!count.contains(id)) {
      if (out.lost++ < 5) {
        ADD_FAILURE() << where << ": acknowledged event " << id << " lost";
      }
    }
  }
  VerifyReport report;
  absl::Status v = (*engine)->Verify(&report);
  EXPECT_TRUE(v.ok()) << where << ": " << v;
  EXPECT_TRUE(report.ok()) << where << ":\n"
                           << absl::StrJoin(report.problems, "\n");
  return out;
}

// Every append of crash_points_child ("r<run>-b<batch>-<i>of<size>") is
// whole in the log or absent.
void ExpectAppendsWhole(const std::vector<std::string>& ids,
                        const std::string& where) {
  std::map<std::pair<long, long>, std::pair<int, int>> seen;  // seen, size.
  for (const std::string& id : ids) {
    long run = 0, batch = 0;
    int i = 0, size = 0;
    ASSERT_EQ(
        std::sscanf(id.c_str(), "r%ld-b%ld-%dof%d", &run, &batch, &i, &size), 4)
        << where << ": unexpected id " << id;
    auto& s = seen[{run, batch}];
    ++s.first;
    s.second = size;
  }
  for (const auto& [key, s] : seen) {
    EXPECT_EQ(s.first, s.second) << where << ": append r" << key.first << "-b"
                                 << key.second << " is half visible";
  }
}

Options ChildOptions(const std::string& durability) {
  Options o;
  o.durability = durability == "power-loss" ? Durability::kPowerLoss
                                            : Durability::kProcessCrash;
  return o;
}

// Totals printed at the end of each test, for tests/RELIABILITY.md.
struct Tally {
  int rounds = 0;
  size_t acked = 0;
  int64_t lost = 0;
  void Print(const std::string& what) const {
    std::printf(
        "%s: %d crash rounds, %zu acknowledged events checked, %lld "
        "lost\n",
        what.c_str(), rounds, acked, static_cast<long long>(lost));
  }
};

// --- Append and fold points --------------------------------------------------

// What a point leaves on disk (lib/base/crash_point.h), checked on the state
// stored right after the crash. `unacked_new`: events present in the log
// that were never acknowledged, minus those before this round.
void ExpectPointState(const std::string& point, const StoredState& st,
                      int64_t unacked_new, const std::string& where) {
  if (point == "log.after_wal_write" ||
      point == "engine.between_log_and_projections") {
    // The crashed append is in the log, unacknowledged and not folded.
    EXPECT_GE(unacked_new, 1) << where;
    EXPECT_LT(st.max_checkpoint(), st.log_end)
        << where << ": " << st.ToString();
  } else if (point == "runner.before_batch_commit") {
    EXPECT_LT(st.min_checkpoint(), st.log_end)
        << where << ": " << st.ToString();
  } else if (point == "runner.after_batch_commit") {
    // The closing snapshot covers every append.
    EXPECT_EQ(st.min_checkpoint(), st.log_end)
        << where << ": " << st.ToString();
  }
}

void AppendRounds(const std::string& point, const std::string& durability,
                  const std::vector<int64_t>& hits) {
  testing::TempDir dir;
  const std::string db = dir.Sub("db");
  const Options options = ChildOptions(durability);
  std::set<std::string> acked;
  int64_t unacked_before = 0;
  Tally tally;
  for (size_t round = 0; round < hits.size(); ++round) {
    const int64_t hit = hits[round];
    const std::string where = absl::StrCat(point, " hit ", hit);
    ChildRun r =
        RunChild({"append", db, durability, absl::StrCat(round + 1), "300"},
                 absl::StrCat(point, ":", hit));
    ASSERT_TRUE(AbortedAt(r, point, hit)) << where;
    acked.insert(r.acked.begin(), r.acked.end());
    const StoredState st = CheckStoredProjections(db, options, where);
    const Reopened log = ReopenAndVerify(db, options, acked, where);
    ExpectAppendsWhole(log.ids, where);
    int64_t unacked = 0;
    for (const std::string& id : log.ids) unacked += acked.count(id) == 0;
    ExpectPointState(point, st, unacked - unacked_before, where);
    unacked_before = unacked;
    ++tally.rounds;
    tally.lost += log.lost;
  }
  tally.acked = acked.size();
  tally.Print(absl::StrCat(point, " (", durability, ")"));
  EXPECT_EQ(tally.lost, 0);
  EXPECT_GT(tally.acked, 0u);
}

const std::vector<int64_t> kAppendHits = {1, 3, 10, 40};

TEST(CrashPointsTest, LogAfterWalWrite) {
  AppendRounds("log.after_wal_write", "process-crash", kAppendHits);
}

TEST(CrashPointsTest, LogAfterWalWritePowerLoss) {
  AppendRounds("log.after_wal_write", "power-loss", {1, 3, 10});
}

TEST(CrashPointsTest, EngineBetweenLogAndProjections) {
  AppendRounds("engine.between_log_and_projections", "process-crash",
               kAppendHits);
}

// Appends fold in memory; the snapshot that follows them is the one the
// engine writes as it closes (hit 1 of each child), so each round crashes
// in it, and the next round opens on the snapshot before.
const std::vector<int64_t> kCloseSnapshotHits = {1, 1, 1, 1};

TEST(CrashPointsTest, RunnerBeforeBatchCommit) {
  AppendRounds("runner.before_batch_commit", "process-crash",
               kCloseSnapshotHits);
}

TEST(CrashPointsTest, RunnerAfterBatchCommit) {
  AppendRounds("runner.after_batch_commit", "process-crash",
               kCloseSnapshotHits);
}

// --- Rebuilds ----------------------------------------------------------------

// Rounds on one database: the child appends incidents (200 in the first
// round, 10 in later ones), then rebuilds every projection in turn until the
// armed point aborts. A refold snapshots once, at the log's end (unless
// RunnerOptions::snapshot_events pass first), so a crash inside it leaves
// the projection either reset (checkpoint 0) or complete.
// `via_api`: armed by the child after its appends (crash_point::ArmFromSpec),
// so only rebuild hits count; otherwise through SLATE_CRASH_POINT.
// `mode`: the child's mode: "rebuild", "rebuild-batched" (snapshots every 32
// events), "rebuild-all" (all projections at once, one batch each) or
// "rebuild-ingest" (the same, each snapshot an ingested SST file).
void RebuildRounds(const std::string& point, bool via_api,
                   const std::vector<int64_t>& hits, int* mid_refold_rounds,
                   const std::string& mode = "rebuild") {
  const bool batched = mode == "rebuild-batched";
  testing::TempDir dir;
  const std::string db = dir.Sub("db");
  const Options options = ChildOptions("process-crash");
  std::set<std::string> acked;
  Tally tally;
  for (size_t round = 0; round < hits.size(); ++round) {
    const int64_t hit = hits[round];
    const std::string spec = absl::StrCat(point, ":", hit);
    const std::string where = absl::StrCat(point, " in rebuild, hit ", hit);
    std::vector<std::string> args = {mode,
                                     db,
                                     "process-crash",
                                     absl::StrCat(round + 1),
                                     round == 0 ? "200" : "10",
                                     "20"};
    if (via_api) args.push_back(spec);
    ChildRun r = RunChild(args, via_api ? "" : spec);
    ASSERT_TRUE(AbortedAt(r, point, hit)) << where;
    acked.insert(r.acked.begin(), r.acked.end());
    const std::filesystem::path ingest_dir =
        std::filesystem::path(db) / "ingest.tmp";
    if (point == "log.mid_ingest") {
      // The crash left the file it was about to ingest.
      EXPECT_TRUE(std::filesystem::exists(ingest_dir) &&
                  !std::filesystem::is_empty(ingest_dir))
          << where;
    }
    const StoredState st = CheckStoredProjections(db, options, where);
    EXPECT_FALSE(std::filesystem::exists(ingest_dir))
        << where << ": reopening leaves no ingestion file behind";
    if (point == "log.mid_ingest") {
      // The projection whose file was not ingested stands reset.
      EXPECT_EQ(st.min_checkpoint(), 0) << where << ": " << st.ToString();
    }
    // Interrupted inside a rebuild: a projection behind the log.
    bool mid = false;
    for (const auto& [name, cp] : st.checkpoints) {
      mid |= cp < st.log_end;
    }
    if (point == "runner.mid_rebuild") {
      // Reset left the rebuilt projection empty at checkpoint 0.
      EXPECT_EQ(st.min_checkpoint(), 0) << where << ": " << st.ToString();
      EXPECT_GT(st.log_end, 0) << where;
    }
    if (batched && point == "runner.after_batch_commit") {
      // Part of a rebuild is committed: one projection stands between 0
      // and the log's end, and equals a fold up to there (checked above).
      bool partial = false;
      for (const auto& [name, cp] : st.checkpoints) {
        partial |= cp > 0 && cp < st.log_end;
      }
      EXPECT_TRUE(partial) << where << ": " << st.ToString();
    }
    if (point == "runner.between_projection_commits") {
      // The refold's snapshot is half written: one projection stands at
      // the log's end, the next one is still reset.
      EXPECT_EQ(st.max_checkpoint(), st.log_end)
          << where << ": " << st.ToString();
      EXPECT_EQ(st.min_checkpoint(), 0) << where << ": " << st.ToString();
    }
    if (mid) ++*mid_refold_rounds;
    const Reopened log = ReopenAndVerify(db, options, acked, where);
    ExpectAppendsWhole(log.ids, where);
    ++tally.rounds;
    tally.lost += log.lost;
  }
  tally.acked = acked.size();
  tally.Print(
      absl::StrCat(point, " during rebuild", via_api ? " (armed by API)" : ""));
  EXPECT_EQ(tally.lost, 0);
}

TEST(CrashPointsTest, RunnerMidRebuild) {
  int mid = 0;
  RebuildRounds("runner.mid_rebuild", /*via_api=*/false, {1, 3, 10}, &mid);
  EXPECT_EQ(mid, 3);
}

TEST(CrashPointsTest, RunnerBeforeBatchCommitDuringRebuild) {
  int mid = 0;
  RebuildRounds("runner.before_batch_commit", /*via_api=*/true, {1, 2, 7},
                &mid);
  // The refold's commit was not written: the rebuilt projection is still
  // behind the log after every crash (the crash landed inside a rebuild).
  EXPECT_EQ(mid, 3);
}

TEST(CrashPointsTest, RunnerAfterBatchCommitDuringRebuild) {
  int mid = 0;
  RebuildRounds("runner.after_batch_commit", /*via_api=*/true, {1, 3, 10},
                &mid);
}

TEST(CrashPointsTest, RunnerAfterACommitPartWayThroughARebuild) {
  int mid = 0;
  RebuildRounds("runner.after_batch_commit", /*via_api=*/true, {2, 5, 9}, &mid,
                "rebuild-batched");
  EXPECT_EQ(mid, 3);
}

TEST(CrashPointsTest, RunnerBeforeACommitPartWayThroughARebuild) {
  int mid = 0;
  RebuildRounds("runner.before_batch_commit", /*via_api=*/true, {3, 4, 8}, &mid,
                "rebuild-batched");
  EXPECT_EQ(mid, 3);
}

// A rebuild of every projection at once ends with a snapshot of one batch
// per projection; the crash lands between two of them.
TEST(CrashPointsTest, RunnerBetweenProjectionCommits) {
  int mid = 0;
  RebuildRounds("runner.between_projection_commits", /*via_api=*/true,
                {1, 2, 5}, &mid, "rebuild-all");
  EXPECT_EQ(mid, 3);
}

// A rebuild's snapshot ingested as SST files (one per projection, written
// on two threads): the crash lands after a file is written and before it
// is ingested. The projection whose file was lost is empty (reset); the
// others are at the log's end or reset; the file is gone after reopening.
TEST(CrashPointsTest, LogMidIngest) {
  int mid = 0;
  RebuildRounds("log.mid_ingest", /*via_api=*/true, {1, 2, 4}, &mid,
                "rebuild-ingest");
  EXPECT_EQ(mid, 3);
}

// The same rebuilds with no crash point, past the ingestions: every
// projection is at the log's end and equals a fold of it.
TEST(CrashPointsTest, RebuildsIngestedAsFilesEqualAFold) {
  int mid = 0;
  RebuildRounds("runner.after_batch_commit", /*via_api=*/true, {1, 3}, &mid,
                "rebuild-ingest");
  EXPECT_EQ(mid, 0);
}

// --- Import ------------------------------------------------------------------

std::vector<Envelope> ReadEngineLog(Engine& engine) {
  std::vector<Envelope> all;
  while (true) {
    auto page = engine.ReadAll(static_cast<int64_t>(all.size()), 4096);
    EXPECT_TRUE(page.ok()) << page.status();
    if (!page.ok() || page->empty()) break;
    for (Envelope& e : *page) all.push_back(std::move(e));
  }
  return all;
}

Options ImportOptions() {
  Options o = ChildOptions("process-crash");
  o.max_events_per_append = 2;  // As the child: records span appends.
  return o;
}

// Events per stream of the database in `db`.
std::map<std::string, int> PerStream(const std::string& db) {
  std::map<std::string, int> n;
  auto engine = Engine::Open(ImportOptions(), db);
  EXPECT_TRUE(engine.ok()) << engine.status();
  if (!engine.ok()) return n;
  for (const Envelope& e : ReadEngineLog(**engine)) ++n[e.stream()];
  return n;
}

class ImportCrashTest : public ::testing::Test {
 protected:
  // A clean, uninterrupted import of the fixture: the oracle.
  static void SetUpTestSuite() {
    testing::TempDir dir;
    {
      auto engine = Engine::Open(ImportOptions(), dir.Sub("db"));
      ASSERT_TRUE(engine.ok()) << engine.status();
      auto s = ImportServiceNow(engine->get(), kFixture, {});
      ASSERT_TRUE(s.ok()) << s.status();
      for (const Envelope& e : ReadEngineLog(**engine)) {
        reference_.push_back(e.event_id());
      }
    }
    reference_per_stream_ = PerStream(dir.Sub("db"));
  }

  void ImportRounds(const std::string& point, const std::vector<int64_t>& hits);

  static std::vector<std::string> reference_;  // Event ids, in log order.
  static std::map<std::string, int> reference_per_stream_;
};

std::vector<std::string> ImportCrashTest::reference_;
std::map<std::string, int> ImportCrashTest::reference_per_stream_;

void ImportCrashTest::ImportRounds(const std::string& point,
                                   const std::vector<int64_t>& hits) {
  ASSERT_GT(reference_.size(), 100u);
  Tally tally;
  std::set<std::string> all_acked;
  const Options options = ImportOptions();
  for (const int64_t hit : hits) {
    const std::string where = absl::StrCat(point, " hit ", hit);
    testing::TempDir dir;
    const std::string db = dir.Sub("db");
    ChildRun r = RunChild({"import", db, "process-crash", kFixture},
                          absl::StrCat(point, ":", hit));
    ASSERT_TRUE(AbortedAt(r, point, hit)) << where;
    const std::set<std::string> acked(r.acked.begin(), r.acked.end());
    all_acked.insert(r.acked.begin(), r.acked.end());
    CheckStoredProjections(db, options, where);
    const Reopened log = ReopenAndVerify(db, options, acked, where);
    tally.lost += log.lost;
    // The interrupted log is a prefix of a clean import's.
    ASSERT_GT(log.ids.size(), 0u) << where;
    ASSERT_LE(log.ids.size(), reference_.size()) << where;
    for (size_t i = 0; i < log.ids.size(); ++i) {
      ASSERT_EQ(log.ids[i], reference_[i]) << where << ": position " << i;
    }
    // The point's documented state: one record split over appends
    // (mid_batch), or whole records only (after_batch).
    int partial = 0;
    for (const auto& [stream, n] : PerStream(db)) {
      partial += n < reference_per_stream_[stream];
    }
    EXPECT_EQ(partial, point == "import.mid_batch" ? 1 : 0) << where;

    // Resume: the same import again appends exactly what is missing.
    const int64_t before = static_cast<int64_t>(log.ids.size());
    {
      auto engine = Engine::Open(options, db);
      ASSERT_TRUE(engine.ok()) << where << ": " << engine.status();
      auto s = ImportServiceNow(engine->get(), kFixture, {});
      ASSERT_TRUE(s.ok()) << where << ": " << s.status();
      EXPECT_EQ(s->events_already_present, before) << where;
      EXPECT_EQ(s->events_appended,
                static_cast<int64_t>(reference_.size()) - before)
          << where;
    }
    const Reopened resumed = ReopenAndVerify(db, options, acked, where);
    EXPECT_EQ(resumed.ids, reference_)
        << where << ": the resumed import differs from a clean one";
    ++tally.rounds;
  }
  tally.acked = all_acked.size();
  tally.Print(point);
  EXPECT_EQ(tally.lost, 0);
}

TEST_F(ImportCrashTest, MidBatch) {
  ImportRounds("import.mid_batch", {1, 3, 10, 40});
}

TEST_F(ImportCrashTest, AfterBatch) {
  ImportRounds("import.after_batch", {1, 3, 10, 25});
}

// --- The harness itself ------------------------------------------------------

// Every point in lib/base/crash_point.h has rounds above.
TEST(CrashPointsTest, EveryPointHasRounds) {
  const std::set<std::string> tested = {
      "log.after_wal_write",        "engine.between_log_and_projections",
      "runner.before_batch_commit", "runner.after_batch_commit",
      "runner.mid_rebuild",         "runner.between_projection_commits",
      "log.mid_ingest",             "import.mid_batch",
      "import.after_batch"};
  std::set<std::string> declared;
  for (std::string_view p : crash_point::kCrashPoints) {
    declared.emplace(p.data(), p.size());
  }
  EXPECT_EQ(declared, tested);
}

// A point armed but never reached: the child finishes and exits 0, which
// AbortedAt reports as a failure.
TEST(CrashPointsTest, APointNeverReachedIsReportedAsSuch) {
  testing::TempDir dir;
  ChildRun r = RunChild({"append", dir.Sub("db"), "process-crash", "1", "5"},
                        "log.after_wal_write:1000000");
  ASSERT_TRUE(WIFEXITED(r.status)) << Describe(r);
  EXPECT_EQ(WEXITSTATUS(r.status), 0) << Describe(r);
  EXPECT_GE(r.acked.size(), 5u);
  EXPECT_FALSE(AbortedAt(r, "log.after_wal_write", 1000000));
}

// A misspelt name in the environment stops the child at start-up (exit 2)
// instead of running it unarmed.
TEST(CrashPointsTest, AnUnknownNameInTheEnvironmentIsRefused) {
  testing::TempDir dir;
  for (const char* spec : {"log.after_wal_wirte", "log.after_wal_write:0",
                           "runner.mid_rebuild:x", "import.mid_batch:2,nope"}) {
    ChildRun r =
        RunChild({"append", dir.Sub("db"), "process-crash", "1", "5"}, spec);
    ASSERT_TRUE(WIFEXITED(r.status)) << spec << ": " << Describe(r);
    EXPECT_EQ(WEXITSTATUS(r.status), 2) << spec << ": " << Describe(r);
    EXPECT_TRUE(absl::StrContains(r.err, "SLATE_CRASH_POINT")) << r.err;
    EXPECT_TRUE(r.acked.empty()) << spec;
  }
}

}  // namespace
}  // namespace slate
