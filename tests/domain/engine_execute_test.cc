// Engine::Execute on the real RocksDB log: the issue's lines, bad commands
// leave the log byte-for-byte unchanged, the clock-skew rule, concurrent
// writers on one incident.
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/api/engine.h"
#include "tests/domain/domain_test_util.h"
#include "tests/testing/temp_dir.h"

namespace slate {
namespace {

using ::slate::testing::Cmd;

absl::Time Parse(const char* s) {
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, s, &t, &err)) std::abort();
  return t;
}

class EngineExecuteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Options options;
    options.clock = &clock_;
    options.durability = Durability::kProcessCrash;
    auto e = Engine::Open(options, dir_.path());
    ASSERT_TRUE(e.ok()) << e.status();
    engine_ = std::move(*e);
  }
  // Every stored byte the log hands out, in position order.
  std::string Snapshot() {
    auto all = engine_->ReadAll(0, 1 << 20);
    EXPECT_TRUE(all.ok());
    std::string out;
    for (const Envelope& e : *all) {
      std::string bytes;
      EXPECT_TRUE(e.SerializeToString(&bytes));
      absl::StrAppend(&out, bytes.size(), ":", bytes);
    }
    return out;
  }
  absl::StatusOr<ExecuteResult> Run(const std::string& json) {
    return engine_->Execute(Cmd(json));
  }

  slate::testing::TempDir dir_;
  SimulatedClock clock_{Parse("2026-11-27T16:00:00Z")};
  std::unique_ptr<Engine> engine_;
};

TEST_F(EngineExecuteTest, TheIssueLinesWorkOnTheLog) {
  auto svc = Run(R"({"defineService":{"serviceId":"email","name":"E-mail"}})");
  ASSERT_TRUE(svc.ok()) << svc.status();
  auto inc = Run(
      R"({"openIncident":{"incidentId":"INC1","at":"2026-11-27T15:00:00Z","serviceId":"email","impact":1,"urgency":2,"category":"network","contactType":"PHONE"}})");
  ASSERT_TRUE(inc.ok()) << inc.status();
  EXPECT_EQ(inc->incident().priority(), 2);
  auto loaded = engine_->LoadAggregate("incident", "INC1");
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->incident().DebugString(), inc->incident().DebugString());
  EXPECT_EQ(engine_->NextPosition(), 3);
  auto events = engine_->ReadStream("incident/INC1", 0, 10);
  ASSERT_TRUE(events.ok());
  EXPECT_EQ((*events)[0].occurred_at_us(),
            absl::ToUnixMicros(Parse("2026-11-27T15:00:00Z")));
}

TEST_F(EngineExecuteTest, BadCommandsLeaveTheLogByteForByteUnchanged) {
  ASSERT_TRUE(
      Run(R"({"defineService":{"serviceId":"email","name":"E-mail"}})").ok());
  ASSERT_TRUE(
      Run(R"({"openIncident":{"incidentId":"INC1","at":"2026-11-27T15:00:00Z","serviceId":"email","impact":1,"urgency":2}})")
          .ok());
  ASSERT_TRUE(Run(R"({"logProblem":{"problemId":"PRB1","title":"t"}})").ok());
  const std::string before = Snapshot();
  const int64_t next = engine_->NextPosition();
  for (
      const char* bad : {
          R"({"closeIncident":{"incidentId":"INC1"}})",
          R"({"openIncident":{"incidentId":"INC2","serviceId":"nope","impact":1,"urgency":1}})",
          R"({"openIncident":{"incidentId":"INC2","serviceId":"email","impact":0,"urgency":1}})",
          R"({"defineService":{"serviceId":"email","name":"again"}})",
          R"({"resolveProblem":{"problemId":"PRB1","resolutionCode":"x","resolveLinkedIncidents":true}})",
          R"({"linkIncidentToChange":{"incidentId":"INC1","changeId":"CHG1","relation":"CAUSED_BY"}})",
          // Further ahead of the engine clock than the skew allows.
          R"({"startIncident":{"incidentId":"INC1","at":"2026-11-27T16:06:00Z"}})",
      }) {
    auto r = Run(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(Snapshot(), before) << bad;
    EXPECT_EQ(engine_->NextPosition(), next) << bad;
  }
  // Within the skew: accepted.
  EXPECT_TRUE(
      Run(R"({"startIncident":{"incidentId":"INC1","at":"2026-11-27T16:04:00Z"}})")
          .ok());
  EXPECT_NE(Snapshot(), before);
}

TEST_F(EngineExecuteTest, ConcurrentWritersNeverInterleaveALifecycle) {
  ASSERT_TRUE(
      Run(R"({"defineService":{"serviceId":"email","name":"E-mail"}})").ok());
  ASSERT_TRUE(
      Run(R"({"openIncident":{"incidentId":"INC1","at":"2026-11-27T15:00:00Z","serviceId":"email","impact":1,"urgency":2}})")
          .ok());
  constexpr int kThreads = 4;
  constexpr int kPerThread = 10;
  std::vector<std::thread> threads;
  std::vector<int> failures(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        Command c = Cmd(absl::StrCat(
            R"({"commandId": "t)", t, "-", i,
            R"(", "commentIncident": {"incidentId": "INC1", "at": "2026-11-27T15:30:00Z", "text": "n"}})"));
        auto r = engine_->Execute(c);
        if (!r.ok()) ++failures[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  int failed = 0;
  for (int f : failures) failed += f;
  // kAborted only after max_attempts conflicts in a row; with 4 writers
  // some may give up, but every success is one dense append.
  auto state = engine_->LoadAggregate("incident", "INC1");
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->incident().comment_count() + failed, kThreads * kPerThread);
  auto events = engine_->ReadStream("incident/INC1", 0, 1000);
  ASSERT_TRUE(events.ok());
  for (size_t v = 0; v < events->size(); ++v) {
    EXPECT_EQ((*events)[v].version(), static_cast<int64_t>(v));
  }
}

}  // namespace
}  // namespace slate
