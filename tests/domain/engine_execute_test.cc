// Engine::Execute on the real RocksDB log: the issue's lines, bad commands
// leave the log byte-for-byte unchanged, the clock-skew rule, concurrent
// writers on one incident. Recurring incidents (Engine::RecurringIncidents):
// which incidents count, and raising a problem from a candidate
// (LogProblem.incident_ids) in one atomic write of every stream, with
// EventLog::AppendAtomically's all-or-nothing rules. A service request from
// its catalog item to its SLA clock and KPIs.
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "lib/api/engine.h"
#include "lib/api/engine_internal.h"
#include "lib/log/event_log.h"
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
  // The KPIs of 2026-11-27 (one bucket) once the projections caught up.
  absl::StatusOr<std::vector<KpiResult>> KpisOfTheDay(
      std::vector<KpiDimension> by) {
    const absl::Status caught_up =
        engine_->WaitForProjections(engine_->NextPosition());
    if (!caught_up.ok()) return caught_up;
    KpiQuery q;
    q.bucket = KpiBucket::kAll;
    q.by = std::move(by);
    q.from = Parse("2026-11-27T00:00:00Z");
    q.to = q.now = Parse("2026-11-28T00:00:00Z");
    return engine_->Kpis({q});
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

// Recurring incidents and raising a problem from a candidate
// (LogProblem.incident_ids), on the same engine.
class RecurringProblemTest : public EngineExecuteTest {
 protected:
  void SetUp() override {
    EngineExecuteTest::SetUp();
    ASSERT_TRUE(
        Run(R"({"defineService":{"serviceId":"email","name":"E"}})").ok());
  }
  // Opens `id` on day `day` of November 2026 at 09:00 UTC.
  void Open(const std::string& id, int day, const std::string& ci = "") {
    auto r = Run(absl::StrCat(
        R"({"openIncident":{"incidentId":")", id, R"(","at":"2026-11-)",
        absl::Dec(day, absl::kZeroPad2),
        R"(T09:00:00Z","serviceId":"email","impact":2,"urgency":2,"category":"network","configurationItem":")",
        ci, R"("}})"));
    ASSERT_TRUE(r.ok()) << id << ": " << r.status();
  }
  // "ci: id id id" per candidate.
  std::vector<std::string> Candidates(int min, absl::Duration window) {
    RecurringQuery q;
    q.min_incidents = min;
    q.window = window;
    auto r = engine_->RecurringIncidents(q);
    EXPECT_TRUE(r.ok()) << r.status();
    std::vector<std::string> out;
    if (!r.ok()) return out;
    for (const RecurringCandidate& c : *r) {
      std::vector<std::string> ids;
      for (const auto& i : c.incidents) ids.push_back(i.incident_id);
      out.push_back(
          absl::StrCat(c.configuration_item, ": ", absl::StrJoin(ids, " ")));
    }
    return out;
  }
};

TEST_F(RecurringProblemTest, OpenProblemLinksExcludeClosedOnesDoNot) {
  for (int i = 1; i <= 4; ++i) Open(absl::StrCat("INC", i), i);
  EXPECT_EQ(Candidates(4, absl::Hours(24 * 7)),
            std::vector<std::string>{": INC1 INC2 INC3 INC4"});
  // INC1 linked to an open problem: three left, below the minimum.
  ASSERT_TRUE(Run(R"({"logProblem":{"problemId":"PRB1","title":"t"}})").ok());
  ASSERT_TRUE(
      Run(R"({"linkIncidentToProblem":{"incidentId":"INC1","problemId":"PRB1"}})")
          .ok());
  EXPECT_TRUE(Candidates(4, absl::Hours(24 * 7)).empty());
  // The problem closes: INC1 counts again.
  for (const char* c :
       {R"({"assessProblem":{"problemId":"PRB1"}})",
        R"({"startProblemRootCauseAnalysis":{"problemId":"PRB1"}})",
        R"({"recordProblemRootCause":{"problemId":"PRB1","rootCause":"x"}})",
        R"({"startProblemFix":{"problemId":"PRB1"}})",
        R"({"resolveProblem":{"problemId":"PRB1","resolutionCode":"fixed"}})",
        R"({"closeProblem":{"problemId":"PRB1"}})"}) {
    ASSERT_TRUE(Run(c).ok()) << c;
  }
  EXPECT_EQ(Candidates(4, absl::Hours(24 * 7)),
            std::vector<std::string>{": INC1 INC2 INC3 INC4"});
  // An external problem's state is unknown: its link counts as open.
  ASSERT_TRUE(
      Run(R"({"linkIncidentToProblem":{"incidentId":"INC2","problemId":"EXT9","external":true}})")
          .ok());
  EXPECT_TRUE(Candidates(4, absl::Hours(24 * 7)).empty());
}

TEST_F(RecurringProblemTest, CancelledIncidentsAndOtherItemsDoNotCount) {
  for (int i = 1; i <= 3; ++i) Open(absl::StrCat("INC", i), i);
  Open("INC4", 4, "mx1");  // Another configuration item.
  EXPECT_TRUE(Candidates(4, absl::Hours(24 * 7)).empty());
  Open("INC5", 5);  // No configuration item, like INC1..3.
  EXPECT_EQ(Candidates(4, absl::Hours(24 * 7)),
            std::vector<std::string>{": INC1 INC2 INC3 INC5"});
  ASSERT_TRUE(
      Run(R"({"cancelIncident":{"incidentId":"INC5","reason":"dup"}})").ok());
  EXPECT_TRUE(Candidates(4, absl::Hours(24 * 7)).empty());
  // Window boundary on a real engine: INC1 (day 1) and INC3 (day 3) are
  // exactly 2 days apart.
  EXPECT_TRUE(Candidates(3, absl::Hours(48)).empty());
  EXPECT_EQ(Candidates(3, absl::Hours(48) + absl::Microseconds(1)),
            std::vector<std::string>{": INC1 INC2 INC3"});
}

TEST_F(RecurringProblemTest, RaisingAProblemLinksEveryIncidentInOneWrite) {
  for (int i = 1; i <= 3; ++i) Open(absl::StrCat("INC", i), i);
  const int64_t before = engine_->NextPosition();
  const std::string cmd =
      R"({"commandId":"raise-1","logProblem":{"problemId":"PRB7","title":"network recurs","serviceId":"email","incidentIds":["INC1","INC2","INC3"]}})";
  auto r = Run(cmd);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->problem().status(), PROBLEM_NEW);
  EXPECT_EQ(absl::StrJoin(r->problem().linked_incidents(), " "),
            "INC1 INC2 INC3");
  // Four streams, one contiguous range of positions: one write.
  ASSERT_EQ(r->appends_size(), 4);
  EXPECT_EQ(r->appends(0).stream(), "problem/PRB7");
  EXPECT_EQ(r->appends(0).first_position(), before);
  EXPECT_EQ(r->appends(3).stream(), "incident/INC3");
  EXPECT_EQ(r->appends(3).last_position(), before + 4 + 3 - 1);
  EXPECT_EQ(engine_->NextPosition(), before + 7);
  for (int i = 1; i <= 3; ++i) {
    auto inc = engine_->LoadAggregate("incident", absl::StrCat("INC", i));
    ASSERT_TRUE(inc.ok());
    EXPECT_EQ(inc->incident().problem_id(), "PRB7");
  }
  // Now linked to an open problem: no longer a candidate.
  EXPECT_TRUE(Candidates(3, absl::Hours(24 * 7)).empty());
  // A retry is the same command: nothing appended, same positions.
  auto again = Run(cmd);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->idempotent_replay());
  ASSERT_EQ(again->appends_size(), 4);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(again->appends(i).DebugString(), r->appends(i).DebugString());
  }
  EXPECT_EQ(engine_->NextPosition(), before + 7);
  VerifyReport report;
  ASSERT_TRUE(engine_->Verify(&report).ok());
  EXPECT_TRUE(report.ok());
}

// Problem management from history: Closed incidents can be raised into a
// problem only under DomainPolicy::allow_link_closed_incidents (as
// ServiceNowDomainPolicy sets it); they stay Closed, and resolving the
// problem resolves only its open incidents.
TEST_F(RecurringProblemTest, ClosedIncidentsAreLinkedOnlyWhenThePolicyAllows) {
  for (int i = 1; i <= 3; ++i) Open(absl::StrCat("INC", i), i);
  for (int i = 1; i <= 2; ++i) {
    ASSERT_TRUE(Run(absl::StrCat(R"({"resolveIncident":{"incidentId":"INC)", i,
                                 R"(","at":"2026-11-10T09:00:00Z",)",
                                 R"("resolutionCode":"fixed"}})"))
                    .ok());
    ASSERT_TRUE(Run(absl::StrCat(R"({"closeIncident":{"incidentId":"INC)", i,
                                 R"(","at":"2026-11-11T09:00:00Z"}})"))
                    .ok());
  }
  const std::string raise =
      R"({"commandId":"raise-closed","logProblem":{"problemId":"PRB8","at":"2026-11-20T09:00:00Z","title":"network recurs","serviceId":"email","incidentIds":["INC1","INC2","INC3"]}})";
  const int64_t before = engine_->NextPosition();
  auto strict = Run(raise);
  ASSERT_FALSE(strict.ok());
  EXPECT_EQ(strict.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(strict.status().message().find("incident INC1"),
            absl::string_view::npos)
      << strict.status();
  EXPECT_EQ(engine_->NextPosition(), before);  // Nothing written.

  DomainPolicy relaxed;
  relaxed.allow_link_closed_incidents = true;
  auto r = engine_->Execute(Cmd(raise), relaxed);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(absl::StrJoin(r->problem().linked_incidents(), " "),
            "INC1 INC2 INC3");
  for (int i = 1; i <= 3; ++i) {
    auto inc = engine_->LoadAggregate("incident", absl::StrCat("INC", i));
    ASSERT_TRUE(inc.ok());
    EXPECT_EQ(inc->incident().problem_id(), "PRB8");
    EXPECT_EQ(inc->incident().status(),
              i <= 2 ? INCIDENT_CLOSED : INCIDENT_NEW);
  }
  // Through the problem's lifecycle to resolved, resolving its incidents:
  // only INC3 (open) is resolved; the Closed ones stay as they were.
  for (const char* step :
       {R"({"assessProblem":{"problemId":"PRB8","at":"2026-11-20T10:00:00Z","assignmentGroup":"network","assignee":"carol"}})",
        R"({"startProblemRootCauseAnalysis":{"problemId":"PRB8","at":"2026-11-20T10:30:00Z"}})",
        R"({"recordProblemRootCause":{"problemId":"PRB8","at":"2026-11-20T11:00:00Z","rootCause":"flapping uplink"}})",
        R"({"startProblemFix":{"problemId":"PRB8","at":"2026-11-20T12:00:00Z","fixDescription":"replace the uplink"}})",
        R"({"resolveProblem":{"problemId":"PRB8","at":"2026-11-20T13:00:00Z","resolutionCode":"fixed","resolveLinkedIncidents":true}})"}) {
    auto step_result = engine_->Execute(Cmd(step), relaxed);
    ASSERT_TRUE(step_result.ok()) << step << ": " << step_result.status();
  }
  for (int i = 1; i <= 3; ++i) {
    auto inc = engine_->LoadAggregate("incident", absl::StrCat("INC", i));
    ASSERT_TRUE(inc.ok());
    EXPECT_EQ(inc->incident().status(),
              i <= 2 ? INCIDENT_CLOSED : INCIDENT_RESOLVED);
  }
  VerifyReport report;
  ASSERT_TRUE(engine_->Verify(&report).ok());
  EXPECT_TRUE(report.ok());
}

TEST_F(RecurringProblemTest, BadIncidentListsNameTheFieldAndWriteNothing) {
  for (int i = 1; i <= 3; ++i) Open(absl::StrCat("INC", i), i);
  ASSERT_TRUE(
      Run(R"({"resolveIncident":{"incidentId":"INC3","resolutionCode":"fixed"}})")
          .ok());
  ASSERT_TRUE(Run(R"({"closeIncident":{"incidentId":"INC3"}})").ok());
  ASSERT_TRUE(Run(R"({"logProblem":{"problemId":"PRB1","title":"t"}})").ok());
  ASSERT_TRUE(
      Run(R"({"linkIncidentToProblem":{"incidentId":"INC2","problemId":"PRB1"}})")
          .ok());
  const std::string log = Snapshot();
  struct Case {
    std::string ids;
    absl::StatusCode code;
    std::string message;
  };
  const Case cases[] = {
      {R"("INC1","INC9")", absl::StatusCode::kNotFound,
       "problem PRB2: field incident_ids[1]: incident INC9 not found"},
      {R"("INC1","INC1")", absl::StatusCode::kInvalidArgument,
       "problem PRB2: field incident_ids[1]: incident INC1 is listed twice "
       "(also incident_ids[0])"},
      {R"("INC1","INC2")", absl::StatusCode::kFailedPrecondition,
       "problem PRB2: field incident_ids[1]: incident INC2: already linked "
       "to problem PRB1"},
      {R"("INC1","INC3")", absl::StatusCode::kFailedPrecondition,
       "problem PRB2: field incident_ids[1]: incident INC3"},
      {R"("INC1","bad id")", absl::StatusCode::kInvalidArgument,
       "problem PRB2: field incident_ids[1]: "},
  };
  for (const Case& c : cases) {
    auto r = Run(absl::StrCat(
        R"({"logProblem":{"problemId":"PRB2","title":"t","incidentIds":[)",
        c.ids, "]}}"));
    ASSERT_FALSE(r.ok()) << c.ids;
    EXPECT_EQ(r.status().code(), c.code) << r.status();
    EXPECT_EQ(r.status().message().substr(0, c.message.size()), c.message)
        << r.status();
    EXPECT_EQ(Snapshot(), log) << c.ids;  // Nothing half-written.
  }
  auto p = engine_->LoadAggregate("problem", "PRB2");
  EXPECT_EQ(p.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(RecurringProblemTest, AtomicAppendWritesEveryStreamOrNone) {
  EventLog& log = LogOf(*engine_);
  auto event = [](const std::string& id) {
    Envelope e;
    e.set_event_id(id);
    e.mutable_incident_commented()->set_text("x");
    return e;
  };
  const int64_t before = log.NextPosition();
  // The second stream's expected version fails: the first is not written.
  std::vector<StreamWrite> writes;
  writes.push_back({"note/a", ExpectedVersion::NoStream(), {event("a0")}});
  writes.push_back({"note/b", ExpectedVersion::Exact(3), {event("b0")}});
  auto r = log.AppendAtomically(writes);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kAborted) << r.status();
  EXPECT_EQ(log.NextPosition(), before);
  ASSERT_TRUE(log.StreamVersion("note/a").ok());
  EXPECT_EQ(*log.StreamVersion("note/a"), -1);
  // Both hold: both written, contiguous.
  writes[1].expected = ExpectedVersion::NoStream();
  r = log.AppendAtomically(writes);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)[0].first_position, before);
  EXPECT_EQ((*r)[1].first_position, before + 1);
  // The same again: an idempotent replay of both.
  r = log.AppendAtomically(writes);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE((*r)[0].idempotent_replay && (*r)[1].idempotent_replay);
  // One stream's events stored and the other's new: refused, none written.
  writes[1].events = {event("b1")};
  writes[1].expected = ExpectedVersion::Any();
  r = log.AppendAtomically(writes);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kAlreadyExists) << r.status();
  EXPECT_EQ(log.NextPosition(), before + 2);
  // A stream named twice, or none.
  writes[1].stream = "note/a";
  EXPECT_EQ(log.AppendAtomically(writes).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(log.AppendAtomically({}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Post-implementation review through Engine::Execute on the real log: the
// review-before-close rule of the DomainPolicy passed, the caused incidents
// read from the change's links, once only, a refused command writes nothing,
// and the views and KPI projections agree with a fresh fold.
TEST_F(EngineExecuteTest, ChangeReviewUnderAReviewRequiringPolicy) {
  DomainPolicy strict;
  strict.change.mutable_review_required()->add_types(EMERGENCY);
  auto run = [this, &strict](const std::string& json) {
    return engine_->Execute(Cmd(json), strict);
  };
  ASSERT_TRUE(
      run(R"({"defineService":{"serviceId":"crm","name":"CRM"}})").ok());
  for (
      const char* c : {
          R"({"requestChange":{"changeId":"CHG1","at":"2026-11-27T08:00:00Z","type":"EMERGENCY","serviceIds":["crm"],"configurationItems":["db1"],"impact":2}})",
          R"({"requestChangeAuthorization":{"changeId":"CHG1","at":"2026-11-27T08:01:00Z"}})",
          R"({"approveChange":{"changeId":"CHG1","at":"2026-11-27T08:02:00Z","approver":"dana","role":"ecab"}})",
          R"({"scheduleChange":{"changeId":"CHG1","at":"2026-11-27T08:03:00Z","start":"2026-11-27T09:00:00Z","end":"2026-11-27T10:00:00Z"}})",
          R"({"startChangeImplementation":{"changeId":"CHG1","at":"2026-11-27T09:00:00Z"}})",
          R"({"completeChangeImplementation":{"changeId":"CHG1","at":"2026-11-27T09:30:00Z"}})",
          R"({"openIncident":{"incidentId":"INC1","at":"2026-11-27T10:00:00Z","serviceId":"crm","impact":2,"urgency":2}})",
          R"({"linkIncidentToChange":{"incidentId":"INC1","at":"2026-11-27T10:05:00Z","changeId":"CHG1","relation":"CAUSED_BY"}})",
          R"({"requestChange":{"changeId":"CHG2","at":"2026-11-27T08:00:00Z","type":"STANDARD","serviceIds":["crm"],"impact":3}})",
          R"({"cancelChange":{"changeId":"CHG2","at":"2026-11-27T08:10:00Z"}})",
      }) {
    auto r = run(c);
    ASSERT_TRUE(r.ok()) << c << ": " << r.status();
  }
  const std::string close =
      R"({"closeChange":{"changeId":"CHG1","at":"2026-11-27T12:00:00Z","outcome":"ROLLED_BACK","reviewNotes":"lock storm"}})";
  const std::string before = Snapshot();
  auto refused = run(close);
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("change CHG1: cannot close"),
            std::string::npos)
      << refused.status();
  EXPECT_NE(refused.status().message().find("review_required.types"),
            std::string::npos)
      << refused.status();
  // Nor on a cancelled change, nor twice.
  auto cancelled = run(
      R"({"reviewChange":{"changeId":"CHG2","reviewer":"pat","outcome":"SUCCESSFUL","objectivesMet":true}})");
  EXPECT_EQ(cancelled.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Snapshot(), before);

  auto reviewed = run(
      R"({"reviewChange":{"changeId":"CHG1","at":"2026-11-27T11:00:00Z","reviewer":"pat","outcome":"ROLLED_BACK","objectivesMet":false,"lessons":"stage the lock test"}})");
  ASSERT_TRUE(reviewed.ok()) << reviewed.status();
  ASSERT_TRUE(reviewed->change().has_review());
  EXPECT_EQ(reviewed->change().status(), CHANGE_REVIEW);
  ASSERT_EQ(reviewed->change().review().caused_incidents_size(), 1);
  EXPECT_EQ(reviewed->change().review().caused_incidents(0), "INC1");
  auto events = engine_->ReadStream("change/CHG1", 0, 100);
  ASSERT_TRUE(events.ok());
  ASSERT_TRUE(events->back().has_change_reviewed());
  EXPECT_EQ(events->back().change_reviewed().caused_incidents(0), "INC1");
  EXPECT_EQ(events->back().occurred_at_us(),
            absl::ToUnixMicros(Parse("2026-11-27T11:00:00Z")));
  const std::string reviewed_log = Snapshot();
  auto twice = run(
      R"({"reviewChange":{"changeId":"CHG1","reviewer":"sam","outcome":"SUCCESSFUL","objectivesMet":true}})");
  EXPECT_EQ(twice.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(twice.status().message().find("already reviewed by pat"),
            std::string::npos)
      << twice.status();
  EXPECT_EQ(Snapshot(), reviewed_log);

  auto closed = run(close);
  ASSERT_TRUE(closed.ok()) << closed.status();
  auto loaded = engine_->LoadAggregate("change", "CHG1");
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->change().status(), CHANGE_CLOSED);
  EXPECT_TRUE(loaded->change().review().outcome_confirmed());
  // The same command again is a replay, not a second review.
  auto replay = run(
      R"({"reviewChange":{"changeId":"CHG1","at":"2026-11-27T11:00:00Z","reviewer":"pat","outcome":"ROLLED_BACK","objectivesMet":false,"lessons":"stage the lock test"}})");
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_TRUE(replay->idempotent_replay());

  // KPIs: one closed change, reviewed and rolled back.
  auto kpis = KpisOfTheDay({});
  ASSERT_TRUE(kpis.ok()) << kpis.status();
  ASSERT_EQ((*kpis)[0].rows.size(), 1u);
  const KpiFlow& f = (*kpis)[0].rows[0].flow;
  EXPECT_EQ(f.changes_closed, 1);
  EXPECT_EQ(f.changes_reviewed, 1);
  EXPECT_EQ(f.changes_reviewed_failed, 1);
  VerifyReport report;
  ASSERT_TRUE(engine_->Verify(&report).ok());
  EXPECT_TRUE(report.ok()) << report.problems[0];
}

TEST_F(EngineExecuteTest, ServiceRequestFromCatalogToKpisAndClocks) {
  for (const char* c : {
           R"({"defineService":{"serviceId":"desk","name":"Desk"}})",
           R"({"defineCatalogItem":{"itemId":"phone","serviceId":"desk","name":"Phone","priceCents":40000,"currency":"EUR","approvalRequired":true,"approvalQuorum":2,"fulfilmentGroup":"mobile"}})",
           R"({"defineSlaPolicy":{"at":"2026-11-27T00:00:00Z","policy":{"id":"req","name":"Requests","calendarId":"24x7","appliesTo":{"recordTypes":["request"]},"targets":[{"priority":3,"resolution":"8h"}],"resolution":{"start":{"states":["in_fulfilment"]},"stop":{"states":["fulfilled"]},"cancel":{"states":["rejected","cancelled"]}}}}})",
           R"({"submitRequest":{"requestId":"REQ1","at":"2026-11-27T08:00:00Z","requester":"ann","items":[{"itemId":"phone","quantity":3}],"impact":2,"urgency":2}})",
           R"({"approveRequest":{"requestId":"REQ1","at":"2026-11-27T09:00:00Z","approver":"a1"}})",
       }) {
    auto r = Run(c);
    ASSERT_TRUE(r.ok()) << c << ": " << r.status();
  }
  // Not complete yet (quorum 2): a task cannot be completed; nothing written.
  const std::string before = Snapshot();
  auto early = Run(
      R"({"completeRequestTask":{"requestId":"REQ1","at":"2026-11-27T09:30:00Z","task":1}})");
  EXPECT_EQ(early.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(early.status().message(),
            "request REQ1: cannot complete a task: Awaiting Approval -> "
            "Awaiting Approval is not allowed");
  EXPECT_EQ(Snapshot(), before);
  auto approved = Run(
      R"({"approveRequest":{"requestId":"REQ1","at":"2026-11-27T10:00:00Z","approver":"a2"}})");
  ASSERT_TRUE(approved.ok()) << approved.status();
  EXPECT_EQ(approved->request().status(), REQUEST_IN_FULFILMENT);
  auto done = Run(
      R"({"completeRequestTask":{"requestId":"REQ1","at":"2026-11-27T13:00:00Z","task":1}})");
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->request().status(), REQUEST_FULFILLED);
  ASSERT_EQ(done->appends_size(), 1);
  EXPECT_EQ(done->appends(0).last_version() - done->appends(0).first_version(),
            1);  // The task and RequestFulfilled, one append.
  ASSERT_TRUE(Run(R"({"recordRequestSurveyResponse":{"requestId":"REQ1","at":"2026-11-27T14:00:00Z","score":4}})").ok());
  auto loaded = engine_->LoadAggregate("request", "REQ1");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->request().total_cents(), 120000);
  EXPECT_EQ(loaded->request().survey_score(), 4);
  auto item = engine_->LoadAggregate("catalog", "phone");
  ASSERT_TRUE(item.ok()) << item.status();
  EXPECT_EQ(item->catalog_item().spec().approval_quorum(), 2);

  ASSERT_TRUE(engine_->WaitForProjections(engine_->NextPosition()).ok());
  // The SLA clock counts fulfilment only: from the completing approval
  // (10:00) to the fulfilment (13:00).
  auto clocks = engine_->Clocks("request/REQ1");
  ASSERT_TRUE(clocks.ok()) << clocks.status();
  ASSERT_EQ(clocks->size(), 1u);
  EXPECT_EQ((*clocks)[0].state.status(), SLA_CLOCK_STATUS_MET);
  EXPECT_EQ((*clocks)[0].state.phase(), SLA_CLOCK_PHASE_STOPPED);
  EXPECT_EQ((*clocks)[0].state.business_elapsed_us(),
            absl::ToInt64Microseconds(absl::Hours(3)));
  auto kpis = KpisOfTheDay({KpiDimension::kService});
  ASSERT_TRUE(kpis.ok()) << kpis.status();
  ASSERT_EQ((*kpis)[0].rows.size(), 1u);
  const KpiFlow& f = (*kpis)[0].rows[0].flow;
  EXPECT_EQ(f.requests_opened, 1);
  EXPECT_EQ(f.requests_approved, 1);
  EXPECT_EQ(f.request_approval_wall_us,
            absl::ToInt64Microseconds(absl::Hours(2)));
  EXPECT_EQ(f.requests_fulfilled, 1);
  EXPECT_EQ(f.request_fulfilment_wall_us,
            absl::ToInt64Microseconds(absl::Hours(5)));
  EXPECT_EQ(f.request_cost_cents.at("EUR"), 120000);
  EXPECT_EQ(f.request_survey_satisfied, 1);
  VerifyReport report;
  ASSERT_TRUE(engine_->Verify(&report).ok());
  EXPECT_TRUE(report.ok()) << report.problems[0];
}

}  // namespace
}  // namespace slate
