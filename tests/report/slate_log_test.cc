// Runs the built `slate log` on the scripted dataset and checks its JSON
// lines against the log read through the engine (the oracle): every event
// once, in position order, as the protobuf JSON of its Envelope; --stream,
// --from and --limit select exactly what they say; bad usage exits 2.
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "lib/api/engine.h"
#include "proto/events.pb.h"
#include "tests/report/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace slate {
namespace {

using ::slate::testing::ProcessResult;
using ::slate::testing::Runfile;
using ::slate::testing::RunProcess;

class SlateLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ProcessResult r = RunProcess(
        {slate_, "exec", "--db", db_, "--now", "2026-12-31T00:00:00Z",
         Runfile("tests/report/dataset.jsonl")},
        tmp_.Sub("exec"));
    ASSERT_EQ(r.code, 0) << r;
    Options options;
    options.create_if_missing = false;
    auto e = Engine::Open(options, db_);
    ASSERT_TRUE(e.ok()) << e.status();
    auto all = (*e)->ReadAll(0, 100000);
    ASSERT_TRUE(all.ok()) << all.status();
    all_ = *all;
    ASSERT_GT(all_.size(), 20u);
  }

  ProcessResult Log(std::vector<std::string> args) {
    args.insert(args.begin(), {slate_, "log", "--db", db_});
    return RunProcess(args, tmp_.Sub("log" + std::to_string(runs_++)));
  }

  // The lines of `out` parsed as Envelopes.
  std::vector<Envelope> Parse(const std::string& out) {
    std::vector<Envelope> events;
    for (absl::string_view line : absl::StrSplit(out, '\n')) {
      if (line.empty()) continue;
      Envelope e;
      auto st = google::protobuf::util::JsonStringToMessage(
          std::string(line.data(), line.size()), &e);
      EXPECT_TRUE(st.ok()) << line;
      events.push_back(e);
    }
    EXPECT_TRUE(out.empty() || out.back() == '\n');
    return events;
  }

  void ExpectEqual(const std::vector<Envelope>& got,
                   const std::vector<Envelope>& want) {
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_TRUE(
          google::protobuf::util::MessageDifferencer::Equals(got[i], want[i]))
          << i << "\n"
          << got[i].DebugString() << "\nwant\n"
          << want[i].DebugString();
    }
  }

  slate::testing::TempDir tmp_;
  const std::string slate_ = Runfile("tools/slate");
  const std::string db_ = tmp_.Sub("db");
  std::vector<Envelope> all_;
  int runs_ = 0;
};

TEST_F(SlateLogTest, PrintsTheWholeLogInOrder) {
  ProcessResult r = Log({});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_EQ(r.err, "");
  ExpectEqual(Parse(r.out), all_);
}

TEST_F(SlateLogTest, FromAndLimitSelectPositions) {
  ProcessResult r = Log({"--from", "5", "--limit", "3"});
  ASSERT_EQ(r.code, 0) << r;
  ExpectEqual(Parse(r.out), {all_.begin() + 5, all_.begin() + 8});
  r = Log({"--from=" + std::to_string(all_.size())});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_EQ(r.out, "");
  r = Log({"--limit", "0"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_EQ(r.out, "");
}

TEST_F(SlateLogTest, StreamSelectsOneStreamByVersion) {
  std::vector<Envelope> want;
  for (const Envelope& e : all_) {
    if (e.stream() == "incident/INC2") want.push_back(e);
  }
  ASSERT_GE(want.size(), 3u);  // Open, priority, assign, resolve, ...
  ASSERT_LT(want.size(), all_.size());
  ProcessResult r = Log({"--stream", "incident/INC2"});
  ASSERT_EQ(r.code, 0) << r;
  ExpectEqual(Parse(r.out), want);
  r = Log({"--stream", "incident/INC2", "--from", "1", "--limit", "2"});
  ASSERT_EQ(r.code, 0) << r;
  ExpectEqual(Parse(r.out), {want.begin() + 1, want.begin() + 3});
  r = Log({"--stream", "incident/NOPE"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_EQ(r.out, "");
}

TEST_F(SlateLogTest, BadUsageExitsTwoWithOneLine) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{
           {"--from", "-1"}, {"--limit", "x"}, {"--bogus"}, {"--stream"}}) {
    ProcessResult r = Log(args);
    EXPECT_EQ(r.code, 2) << r;
    EXPECT_EQ(r.out, "");
    EXPECT_THAT(r.err, ::testing::StartsWith("slate log: ")) << r;
  }
  ProcessResult r =
      RunProcess({slate_, "log", "--db", tmp_.Sub("none")}, tmp_.Sub("none"));
  EXPECT_EQ(r.code, 2) << r;
  EXPECT_EQ(r.out, "");
}

}  // namespace
}  // namespace slate
