// Upgrade test: databases written by an earlier main (fixtures/main-ac4bb2b/,
// see README.md) open with the current code. For each one the test copies
// the committed directory into a fresh temporary directory (the committed
// files are never opened in place), runs the built `slate` (//tools:slate)
// with the commands that produced golden/, and checks that
//   - the first open prints, on stderr, one line per built-in projection
//     (views, sla, kpi) saying its stored state is dropped and rebuilt from
//     the log, and nothing else;
//   - every later open prints none of them (the copy is upgraded);
//   - every answer (log, kpi, at-risk, verify, show) equals its golden byte
//     for byte, the log before and after every other command (it is read as
//     is, nothing is appended), and `slate verify` passes.
//
// Keep this test and its fixtures for good: every change to proto/, the log
// format or a projection must pass it. Never edit a golden to make it pass,
// with one exception: `slate verify` prints each projection's version and key
// count, so a change that bumps a projection's version (or changes how many
// keys it stores) updates golden/*.verify.txt in the same commit, and says
// so in the commit message. Every other golden is an answer of the engine
// and must not change. On a failure the outputs of this run are in the
// test's undeclared outputs (bazel-testlogs/tests/upgrade/upgrade_test/
// test.outputs/outputs.zip) to diff against golden/.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/report/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace slate {
namespace {

namespace fs = std::filesystem;
using ::slate::testing::ProcessResult;
using ::slate::testing::ReadFileOrEmpty;
using ::slate::testing::Runfile;
using ::slate::testing::RunProcess;

// The stable part of the notice the runner prints when it drops a
// projection's stored state (lib/projection/runner.cc); the reason before it
// may change.
constexpr char kDropped[] = "dropped, rebuilding it from the log";

// The built-in projections the old databases hold state of.
const std::set<std::string> kOldProjections = {"views", "sla", "kpi"};

// A golden answer: `golden` (file name under golden/) is the output of
// `slate ARGS --db DB`, stdout only, or stdout and stderr on one descriptor
// (`2>&1`) when `merged`.
struct Query {
  std::string golden;
  std::vector<std::string> args;
  bool merged;
};

// A fixture database and its queries, in the order the goldens were made.
struct Fixture {
  std::string name;  // fixtures/main-ac4bb2b/<name>, golden/<name>.*
  std::vector<Query> queries;
};

const char kNow[] = "2027-01-01T00:00:00Z";

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

// Where `got` first differs from `want`, line by line, for failure messages.
std::string FirstDifference(const std::string& want, const std::string& got) {
  // Lines without the empty piece after a final newline.
  auto split = [](const std::string& text) {
    std::vector<std::string> lines = absl::StrSplit(text, '\n');
    if (absl::EndsWith(text, "\n")) lines.pop_back();
    return lines;
  };
  const std::vector<std::string> w = split(want);
  const std::vector<std::string> g = split(got);
  for (size_t i = 0; i < std::max(w.size(), g.size()); ++i) {
    const std::string wl = i < w.size() ? w[i] : "<end of golden>";
    const std::string gl = i < g.size() ? g[i] : "<end of output>";
    if (wl != gl) {
      return absl::StrCat("first difference at line ", i + 1, " (of ",
                          w.size(), " golden, ", g.size(),
                          " output)\n  golden: ", wl, "\n  output: ", gl);
    }
  }
  return "equal line by line (a final newline differs)";
}

// Saves an output where `bazel test` collects it (outputs.zip), so a
// failure can be diffed against golden/.
void KeepOutput(const std::string& name, const std::string& text) {
  const char* dir = std::getenv("TEST_UNDECLARED_OUTPUTS_DIR");
  if (dir == nullptr) return;
  std::ofstream(fs::path(dir) / name, std::ios::binary) << text;
}

// The projections `err` says are dropped and rebuilt; adds a failure for
// any other line.
std::multiset<std::string> DropNotices(const std::string& err) {
  std::multiset<std::string> names;
  for (const std::string& line : Lines(err)) {
    const std::string prefix = "slate: projection ";
    const size_t colon = line.find(':', prefix.size());
    if (absl::StartsWith(line, prefix) && absl::EndsWith(line, kDropped) &&
        colon != std::string::npos) {
      names.insert(line.substr(prefix.size(), colon - prefix.size()));
    } else {
      ADD_FAILURE() << "unexpected line on stderr: " << line;
    }
  }
  return names;
}

class UpgradeTest : public ::testing::Test {
 protected:
  // Copies the committed fixture into a fresh directory and returns it.
  std::string CopyFixture(const std::string& name) {
    const fs::path from =
        Runfile(absl::StrCat("tests/upgrade/fixtures/main-ac4bb2b/", name));
    const fs::path to = tmp_.Sub(name);
    fs::create_directory(to);
    int copied = 0;
    for (const fs::directory_entry& e : fs::directory_iterator(from)) {
      // Runfiles are symlinks to the sources: copy what they point at, and
      // make the copy writable whatever the source's mode.
      const fs::path dest = to / e.path().filename();
      fs::copy_file(e.path(), dest);
      fs::permissions(dest, fs::perms::owner_read | fs::perms::owner_write,
                      fs::perm_options::add);
      ++copied;
    }
    EXPECT_TRUE(fs::exists(to / "CURRENT")) << from;
    EXPECT_GE(copied, 4) << from;
    return to.string();
  }

  ProcessResult Slate(std::vector<std::string> args, bool merged) {
    args.insert(args.begin(), Runfile("tools/slate"));
    const std::string prefix = tmp_.Sub(absl::StrCat("run", runs_++));
    return RunProcess(args, prefix, /*merge_stderr=*/merged);
  }

  // Runs `q` on `db` and compares its output with the golden; returns the
  // run's stderr (empty when merged).
  std::string Check(const Fixture& f, const Query& q, const std::string& db) {
    std::vector<std::string> args = q.args;
    args.push_back("--db");
    args.push_back(db);
    const std::string what =
        absl::StrCat(f.name, ": slate ", absl::StrJoin(args, " "));
    const std::string golden_path =
        Runfile(absl::StrCat("tests/upgrade/golden/", f.name, ".", q.golden));
    EXPECT_TRUE(fs::exists(golden_path)) << golden_path;
    const std::string golden = ReadFileOrEmpty(golden_path);
    ProcessResult r = Slate(args, q.merged);
    KeepOutput(absl::StrCat(f.name, ".", q.golden), r.out);
    EXPECT_EQ(r.code, 0) << what << "\n" << r;
    EXPECT_FALSE(r.out.empty()) << what;
    EXPECT_TRUE(r.out == golden)
        << what << "\ndiffers from golden/" << f.name << "." << q.golden
        << ": " << FirstDifference(golden, r.out);
    if (q.merged) {
      // A drop notice would be in the merged output, which equals the
      // golden; say so plainly if it is the cause.
      EXPECT_FALSE(absl::StrContains(r.out, kDropped)) << what << "\n" << r;
    }
    return r.err;
  }

  void CheckUpgrade(const Fixture& f) {
    const std::string db = CopyFixture(f.name);
    if (::testing::Test::HasFailure()) return;
    // The first open: the log's answer, and the drop notices on stderr.
    const Query log{"log.jsonl", {"log"}, false};
    const std::string first_err = Check(f, log, db);
    const std::multiset<std::string> dropped = DropNotices(first_err);
    EXPECT_EQ(dropped, std::multiset<std::string>(kOldProjections.begin(),
                                                  kOldProjections.end()))
        << f.name << ": first open's stderr:\n"
        << first_err;
    // Every later open: no notice (the copy is upgraded), the same answers.
    for (const Query& q : f.queries) {
      const std::string err = Check(f, q, db);
      EXPECT_EQ(err, "") << f.name << ": slate " << absl::StrJoin(q.args, " ")
                         << " after the upgrade";
    }
    // Nothing appended, the log read as is.
    EXPECT_EQ(Check(f, log, db), "") << f.name << ": second `slate log`";
  }

  testing::TempDir tmp_;
  int runs_ = 0;
};

// The queries common to both fixtures, as the goldens were made (README.md):
// after `log`, these in this order, with `special` after the first.
std::vector<Query> Queries(const Query& special, const std::string& show_id) {
  return {
      {"kpi_priority_month.csv",
       {"kpi", "--by", "priority", "--bucket", "month", "--now", kNow,
        "--format", "csv"},
       false},
      special,
      {"at_risk.txt",
       {"at-risk", "--now", "2016-03-01T00:00:00Z", "--within", "100000h"},
       true},
      // Holds each projection's version and key count: a version bump
      // updates this golden in the same commit (see the top of this file).
      {"verify.txt", {"verify"}, true},
      {absl::StrCat("show_", show_id, ".txt"),
       {"show", "incident", show_id},
       false},
  };
}

TEST_F(UpgradeTest, QuickstartDatabaseOfMainAc4bb2b) {
  CheckUpgrade({"quickstart",
                Queries({"kpi_service_group_week.json",
                         {"kpi", "--by", "service,group", "--bucket", "week",
                          "--now", kNow, "--format", "json"},
                         false},
                        "INC1")});
}

TEST_F(UpgradeTest, ServiceNowDatabaseOfMainAc4bb2b) {
  CheckUpgrade({"servicenow",
                Queries({"kpi_sla_group_month.csv",
                         {"kpi", "--by", "group", "--bucket", "month", "--now",
                          kNow, "--format", "csv", "--table", "sla"},
                         false},
                        "INC0000045")});
}

}  // namespace
}  // namespace slate
