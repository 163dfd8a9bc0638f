// CommandExecutor against InMemoryEventStore: event ids and metadata,
// idempotency, nothing written on error, cross-aggregate commands, version
// conflicts, the priority matrix in force.
#include "lib/domain/executor.h"

#include <functional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "lib/base/status_macros.h"
#include "lib/domain/priority_matrix.h"
#include "tests/domain/domain_test_util.h"

namespace slate {
namespace {

using ::slate::testing::Cmd;

// Runs a hook before forwarding selected appends (to simulate another writer
// or a failing second stream).
class HookedStore final : public EventStore {
 public:
  explicit HookedStore(EventStore* inner) : inner_(inner) {}
  absl::StatusOr<std::vector<Envelope>> ReadStream(absl::string_view stream,
                                                   int64_t from,
                                                   size_t max) const override {
    return inner_->ReadStream(stream, from, max);
  }
  absl::StatusOr<AppendResult> Append(absl::string_view stream,
                                      ExpectedVersion expected,
                                      std::vector<Envelope> events) override {
    ++appends;
    if (hook) {
      absl::Status s = hook(std::string(stream));
      if (!s.ok()) return s;
    }
    return inner_->Append(stream, expected, std::move(events));
  }
  absl::StatusOr<std::vector<std::string>> ListStreams(
      absl::string_view prefix) const override {
    return inner_->ListStreams(prefix);
  }
  // The hook sees the first stream of the write.
  absl::StatusOr<std::vector<AppendResult>> AppendAtomically(
      std::vector<StreamWrite> writes) override {
    ++atomic_appends;
    if (first_stream_only) {  // A crash after the first stream.
      SLATE_RETURN_IF_ERROR(inner_->Append(writes[0].stream,
                                           writes[0].expected,
                                           std::move(writes[0].events))
                                .status());
      return absl::InternalError("crashed after the first stream");
    }
    if (hook && !writes.empty()) {
      absl::Status s = hook(writes[0].stream);
      if (!s.ok()) return s;
    }
    return inner_->AppendAtomically(std::move(writes));
  }
  std::function<absl::Status(const std::string& stream)> hook;
  // AppendAtomically writes the first stream only, then fails (what an
  // earlier build's crash between two streams left).
  bool first_stream_only = false;
  int appends = 0;
  int atomic_appends = 0;

 private:
  EventStore* inner_;
};

class ExecutorTest : public ::testing::Test {
 protected:
  absl::StatusOr<ExecuteResult> Run(const std::string& json) {
    return exec_.Execute(Cmd(json));
  }
  ExecuteResult Ok(const std::string& json) {
    absl::StatusOr<ExecuteResult> r = Run(json);
    EXPECT_TRUE(r.ok()) << json << ": " << r.status();
    return r.ok() ? *r : ExecuteResult();
  }
  void Service() {
    Ok(R"({"defineService": {"serviceId": "email", "name": "E-mail", "configurationItems": ["mx1"]}})");
  }
  void Incident(const std::string& id) {
    Ok(absl::StrCat(
        R"({"commandId": "open-)", id, R"(", "openIncident": {"incidentId": ")",
        id,
        R"(", "at": "2026-11-02T09:00:00Z", "serviceId": "email", "impact": 2, "urgency": 2}})"));
  }

  SimulatedClock clock_{absl::FromUnixSeconds(1793620000)};
  InMemoryEventStore store_{&clock_};
  CommandExecutor exec_{&store_, &clock_};
};

TEST_F(ExecutorTest, TheIssueLinesWork) {
  ExecuteResult svc =
      Ok(R"({"defineService":{"serviceId":"email","name":"E-mail"}})");
  EXPECT_TRUE(svc.service().defined());
  ExecuteResult r = Ok(
      R"({"openIncident":{"incidentId":"INC1","at":"2026-11-27T15:00:00Z","serviceId":"email","impact":1,"urgency":2,"category":"network","contactType":"PHONE"}})");
  ASSERT_EQ(r.appends_size(), 1);
  EXPECT_EQ(r.appends(0).stream(), "incident/INC1");
  EXPECT_EQ(r.appends(0).first_version(), 0);
  EXPECT_EQ(r.appends(0).last_version(), 1);  // Opened + PrioritySet.
  EXPECT_EQ(r.appends(0).first_position(), 1);
  EXPECT_EQ(r.incident().priority(), 2);
  EXPECT_EQ(r.incident().status(), INCIDENT_NEW);
  EXPECT_TRUE(absl::StartsWith(r.command_id(), "auto-")) << r.command_id();
  std::vector<Envelope> all = store_.All();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[1].event_id(), r.command_id() + ":0");
  EXPECT_EQ(all[2].event_id(), r.command_id() + ":1");
  absl::Time at;
  std::string err;
  ASSERT_TRUE(
      absl::ParseTime(absl::RFC3339_full, "2026-11-27T15:00:00Z", &at, &err));
  EXPECT_EQ(all[1].occurred_at_us(), absl::ToUnixMicros(at));
  EXPECT_EQ(all[1].causation_id(), r.command_id());
  EXPECT_EQ(all[1].correlation_id(), r.command_id());
  // No `at`: the clock's now.
  EXPECT_EQ(all[0].occurred_at_us(), absl::ToUnixMicros(clock_.Now()));
}

TEST_F(ExecutorTest, CommandIdAndMetadataGoOnEveryEvent) {
  Service();
  Ok(R"({"commandId": "c-1", "actor": "ann", "correlationId": "ticket-9",
         "openIncident": {"incidentId": "INC1", "impact": 1, "urgency": 1}})");
  std::vector<Envelope> all = store_.All();
  ASSERT_EQ(all.size(), 3u);
  for (int i : {1, 2}) {
    EXPECT_EQ(all[i].event_id(), absl::StrCat("c-1:", i - 1));
    EXPECT_EQ(all[i].actor(), "ann");
    EXPECT_EQ(all[i].correlation_id(), "ticket-9");
    EXPECT_EQ(all[i].causation_id(), "c-1");
  }
}

TEST_F(ExecutorTest, ReExecutingACommandIsANoOpWithTheOriginalResult) {
  Service();
  Incident("INC1");
  const std::string start =
      R"({"commandId": "s1", "startIncident": {"incidentId": "INC1", "at": "2026-11-02T09:05:00Z"}})";
  ExecuteResult first = Ok(start);
  const size_t events = store_.All().size();
  ExecuteResult again = Ok(start);
  EXPECT_TRUE(again.idempotent_replay());
  EXPECT_FALSE(first.idempotent_replay());
  EXPECT_EQ(again.appends(0).DebugString(), first.appends(0).DebugString());
  EXPECT_EQ(again.incident().DebugString(), first.incident().DebugString());
  EXPECT_EQ(store_.All().size(), events);
  // Even after later events: the original result, not a refusal.
  Ok(R"({"holdIncident": {"incidentId": "INC1", "at": "2026-11-02T09:06:00Z", "reason": "AWAITING_CALLER"}})");
  ExecuteResult late = Ok(start);
  EXPECT_TRUE(late.idempotent_replay());
  EXPECT_EQ(late.incident().status(), INCIDENT_IN_PROGRESS);
  // Without a command id the derived id makes identical commands one.
  const std::string comment =
      R"({"commentIncident": {"incidentId": "INC1", "at": "2026-11-02T09:07:00Z", "text": "x"}})";
  ExecuteResult c1 = Ok(comment);
  ExecuteResult c2 = Ok(comment);
  EXPECT_EQ(c1.command_id(), c2.command_id());
  EXPECT_TRUE(c2.idempotent_replay());
  EXPECT_EQ(c2.incident().comment_count(), 1);
  EXPECT_EQ(DeriveCommandId(Cmd(comment)), c1.command_id());
  EXPECT_NE(
      DeriveCommandId(Cmd(comment)),
      DeriveCommandId(Cmd(absl::StrReplaceAll(comment, {{"\"x\"", "\"y\""}}))));
}

TEST_F(ExecutorTest, BadCommandsWriteNothing) {
  Service();
  Incident("INC1");
  const std::vector<Envelope> before = store_.All();
  const std::vector<std::pair<std::string, absl::StatusCode>> bad = {
      {R"({"openIncident": {"incidentId": "INC2", "serviceId": "nope", "impact": 1, "urgency": 1}})",
       absl::StatusCode::kNotFound},
      {R"({"openIncident": {"incidentId": "INC2", "serviceId": "email", "impact": 7, "urgency": 1}})",
       absl::StatusCode::kInvalidArgument},
      {R"({"openIncident": {"incidentId": "INC1", "serviceId": "email", "impact": 1, "urgency": 1}})",
       absl::StatusCode::kAlreadyExists},
      {R"({"closeIncident": {"incidentId": "INC1"}})",
       absl::StatusCode::kFailedPrecondition},
      {R"({"resumeIncident": {"incidentId": "INC9"}})",
       absl::StatusCode::kNotFound},
      {R"({"startIncident": {"incidentId": "bad id"}})",
       absl::StatusCode::kInvalidArgument},
      {R"({"startIncident": {"incidentId": "INC1", "at": "tomorrow"}})",
       absl::StatusCode::kInvalidArgument},
      {R"({"linkIncidentToProblem": {"incidentId": "INC1", "problemId": "PRB404"}})",
       absl::StatusCode::kNotFound},
      {R"({"commandId": "has space", "startIncident": {"incidentId": "INC1"}})",
       absl::StatusCode::kInvalidArgument},
      {R"({})", absl::StatusCode::kInvalidArgument},
  };
  for (const auto& [json, code] : bad) {
    EXPECT_EQ(Run(json).status().code(), code) << json;
  }
  std::vector<Envelope> after = store_.All();
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].SerializeAsString(), before[i].SerializeAsString());
  }
}

TEST_F(ExecutorTest, ResolvingAProblemResolvesItsOpenIncidents) {
  Service();
  for (const char* id : {"INC1", "INC2", "INC3", "INC4"}) Incident(id);
  Ok(R"({"resolveIncident": {"incidentId": "INC3", "at": "2026-11-02T09:10:00Z", "resolutionCode": "own fix"}})");
  Ok(R"({"logProblem": {"problemId": "PRB1", "at": "2026-11-02T09:20:00Z", "title": "mx flaps"}})");
  for (const char* id : {"INC1", "INC2", "INC3"}) {
    ExecuteResult link = Ok(absl::StrCat(
        R"({"commandId": "link-)", id,
        R"(", "linkIncidentToProblem": {"incidentId": ")", id,
        R"(", "at": "2026-11-02T09:21:00Z", "problemId": "PRB1"}})"));
    ASSERT_EQ(link.appends_size(), 2);
    EXPECT_EQ(link.appends(1).stream(), "problem/PRB1");
    EXPECT_EQ(link.incident().problem_id(), "PRB1");
  }
  for (
      const char* json :
      {R"({"assessProblem": {"problemId": "PRB1", "at": "2026-11-02T09:30:00Z"}})",
       R"({"startProblemRootCauseAnalysis": {"problemId": "PRB1", "at": "2026-11-02T09:31:00Z"}})",
       R"({"recordProblemRootCause": {"problemId": "PRB1", "at": "2026-11-02T09:32:00Z", "rootCause": "bad NIC"}})",
       R"({"startProblemFix": {"problemId": "PRB1", "at": "2026-11-02T09:33:00Z"}})"}) {
    Ok(json);
  }
  ExecuteResult r = Ok(
      R"({"commandId": "fix", "resolveProblem": {"problemId": "PRB1", "at": "2026-11-02T10:00:00Z", "resolutionCode": "replaced NIC", "resolveLinkedIncidents": true}})");
  EXPECT_EQ(r.problem().status(), PROBLEM_RESOLVED);
  EXPECT_EQ(r.problem().linked_incidents_size(), 3);
  ASSERT_EQ(r.appends_size(), 3);  // Problem, INC1, INC2 (INC3 was resolved).
  EXPECT_EQ(r.appends(1).stream(), "incident/INC1");
  EXPECT_EQ(r.appends(2).stream(), "incident/INC2");
  for (const char* id : {"INC1", "INC2"}) {
    auto events = store_.ReadStream(absl::StrCat("incident/", id), 0, 100);
    ASSERT_TRUE(events.ok());
    const Envelope& last = events->back();
    EXPECT_EQ(last.event_id(), absl::StrCat("fix:incident/", id, ":0"));
    EXPECT_EQ(last.causation_id(), "fix:0");  // The ProblemResolved event.
    EXPECT_EQ(last.incident_resolved().resolved_by_problem(), "PRB1");
    EXPECT_EQ(exec_.Load("incident", id)->incident().status(),
              INCIDENT_RESOLVED);
  }
  EXPECT_EQ(exec_.Load("incident", "INC3")->incident().resolution_code(),
            "own fix");
  EXPECT_EQ(exec_.Load("incident", "INC4")->incident().status(), INCIDENT_NEW);
  // Replaying the command adds nothing and reports the same appends.
  const size_t n = store_.All().size();
  ExecuteResult again = Ok(
      R"({"commandId": "fix", "resolveProblem": {"problemId": "PRB1", "at": "2026-11-02T10:00:00Z", "resolutionCode": "replaced NIC", "resolveLinkedIncidents": true}})");
  EXPECT_TRUE(again.idempotent_replay());
  EXPECT_EQ(again.appends_size(), 3);
  EXPECT_EQ(store_.All().size(), n);
}

// An external reference appends to the incident's stream only: no problem
// or change stream is created or required.
TEST_F(ExecutorTest, ExternalLinksAppendToTheIncidentOnly) {
  Service();
  Incident("INC1");
  ExecuteResult p = Ok(
      R"({"linkIncidentToProblem": {"incidentId": "INC1", "problemId": "PRB77", "external": true}})");
  ASSERT_EQ(p.appends_size(), 1);
  EXPECT_EQ(p.appends(0).stream(), "incident/INC1");
  EXPECT_TRUE(p.incident().problem_external());
  ExecuteResult c = Ok(
      R"({"linkIncidentToChange": {"incidentId": "INC1", "changeId": "CHG77", "relation": "FIXED_BY", "external": true}})");
  ASSERT_EQ(c.appends_size(), 1);
  EXPECT_TRUE(c.incident().fixed_by_change_external());
  for (const Envelope& e : store_.All()) {
    EXPECT_NE(e.stream(), "problem/PRB77");
    EXPECT_NE(e.stream(), "change/CHG77");
  }
  // A record this engine holds cannot be named as external.
  Ok(R"({"logProblem": {"problemId": "PRB1", "title": "t"}})");
  Incident("INC2");
  EXPECT_EQ(
      Run(R"({"linkIncidentToProblem": {"incidentId": "INC2", "problemId": "PRB1", "external": true}})")
          .status()
          .code(),
      absl::StatusCode::kFailedPrecondition);
}

TEST_F(ExecutorTest, ALinkIsOneAtomicWriteOfBothStreams) {
  Service();
  Incident("INC1");
  Ok(R"({"logProblem": {"problemId": "PRB1", "title": "t"}})");
  HookedStore hooked(&store_);
  CommandExecutor exec(&hooked, &clock_);
  hooked.hook = [](const std::string&) { return absl::UnavailableError("disk"); };
  const Command link = Cmd(
      R"({"commandId": "L", "linkIncidentToProblem": {"incidentId": "INC1", "problemId": "PRB1"}})");
  const size_t before = store_.All().size();
  absl::StatusOr<ExecuteResult> r = exec.Execute(link);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(store_.All().size(), before);  // Neither stream written.
  EXPECT_EQ(hooked.appends, 0);
  EXPECT_EQ(hooked.atomic_appends, 1);
  hooked.hook = nullptr;
  r = exec.Execute(link);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->idempotent_replay());
  ASSERT_EQ(r->appends_size(), 2);
  EXPECT_EQ(r->appends(0).last_position() + 1, r->appends(1).first_position());
  EXPECT_EQ(exec_.Load("problem", "PRB1")->problem().linked_incidents(0),
            "INC1");
  EXPECT_EQ(exec_.Load("incident", "INC1")->incident().problem_id(), "PRB1");
}

// What an earlier build could leave behind: the primary stream written, the
// second not (it wrote them one after the other). Executing the same command
// again completes it.
TEST_F(ExecutorTest, AHalfWrittenCommandOfAnEarlierBuildIsCompletedByReExecuting) {
  Service();
  Incident("INC1");
  Ok(R"({"logProblem": {"problemId": "PRB1", "title": "t"}})");
  HookedStore old(&store_);
  old.first_stream_only = true;
  const Command link = Cmd(
      R"({"commandId": "L", "linkIncidentToProblem": {"incidentId": "INC1", "problemId": "PRB1"}})");
  ASSERT_FALSE(CommandExecutor(&old, &clock_).Execute(link).ok());
  EXPECT_EQ(exec_.Load("incident", "INC1")->incident().problem_id(), "PRB1");
  EXPECT_EQ(exec_.Load("problem", "PRB1")->problem().linked_incidents_size(),
            0);
  absl::StatusOr<ExecuteResult> r = exec_.Execute(link);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->idempotent_replay());
  ASSERT_EQ(r->appends_size(), 2);
  EXPECT_EQ(exec_.Load("problem", "PRB1")->problem().linked_incidents(0),
            "INC1");
}

TEST_F(ExecutorTest, AVersionConflictIsRetriedByReDeciding) {
  Service();
  Incident("INC1");
  HookedStore hooked(&store_);
  CommandExecutor exec(&hooked, &clock_);
  int interference = 0;
  // Another writer sneaks in a comment before our first append.
  hooked.hook = [&](const std::string& stream) {
    if (stream == "incident/INC1" && interference++ == 0) {
      return exec_
          .Execute(Cmd(
              R"({"commentIncident": {"incidentId": "INC1", "text": "other"}})"))
          .status();
    }
    return absl::OkStatus();
  };
  absl::StatusOr<ExecuteResult> r = exec.Execute(Cmd(
      R"({"startIncident": {"incidentId": "INC1", "at": "2026-11-02T09:05:00Z"}})"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->incident().status(), INCIDENT_IN_PROGRESS);
  EXPECT_EQ(r->incident().comment_count(), 1);
  EXPECT_EQ(r->appends(0).first_version(), 3);  // After opened, prio, comment.
  // The other writer's change can make the command invalid: re-decided.
  interference = 0;
  hooked.hook = [&](const std::string& stream) {
    if (stream == "incident/INC1" && interference++ == 0) {
      return exec_.Execute(Cmd(R"({"cancelIncident": {"incidentId": "INC1"}})"))
          .status();
    }
    return absl::OkStatus();
  };
  r = exec.Execute(Cmd(
      R"({"holdIncident": {"incidentId": "INC1", "reason": "AWAITING_CALLER"}})"));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition)
      << r.status();
  // A writer that always wins: bounded retries, then kAborted.
  Incident("INC2");
  int n = 0;
  hooked.hook = [&](const std::string& stream) {
    if (stream != "incident/INC2") return absl::OkStatus();
    return exec_
        .Execute(Cmd(absl::StrCat(
            R"({"commentIncident": {"incidentId": "INC2", "text": "spam )", n++,
            "\"}}")))
        .status();
  };
  exec.max_attempts = 3;
  r = exec.Execute(Cmd(R"({"startIncident": {"incidentId": "INC2"}})"));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kAborted) << r.status();
  EXPECT_EQ(n, 3);
}

TEST_F(ExecutorTest, IncidentsUseTheMatrixInForce) {
  Service();
  ExecuteResult unchanged = Ok(absl::StrCat(
      R"({"setPriorityMatrix": {"matrix": )",
      R"({"impactLevels": 3, "urgencyLevels": 3, "levelNames": ["Critical", "High", "Moderate", "Low", "Planning"], "cells": [)",
      R"({"impact": 1, "urgency": 1, "priority": 1}, {"impact": 1, "urgency": 2, "priority": 2}, {"impact": 1, "urgency": 3, "priority": 3},)",
      R"({"impact": 2, "urgency": 1, "priority": 2}, {"impact": 2, "urgency": 2, "priority": 3}, {"impact": 2, "urgency": 3, "priority": 4},)",
      R"({"impact": 3, "urgency": 1, "priority": 3}, {"impact": 3, "urgency": 2, "priority": 4}, {"impact": 3, "urgency": 3, "priority": 5}]}}})"));
  EXPECT_EQ(unchanged.appends_size(), 0);  // The default: no change, no event.
  EXPECT_EQ(Run(R"({"setPriorityMatrix": {"matrix": {"impactLevels": 1}}})")
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  ExecuteResult set = Ok(
      R"({"setPriorityMatrix": {"at": "2026-11-02T08:00:00Z", "matrix": {"impactLevels": 1, "urgencyLevels": 2, "levelNames": ["Now", "Soon"], "cells": [{"impact": 1, "urgency": 1, "priority": 1}, {"impact": 1, "urgency": 2, "priority": 2}]}}})");
  ASSERT_EQ(set.appends_size(), 1);
  EXPECT_EQ(set.appends(0).stream(), kPriorityMatrixStream);
  EXPECT_EQ(exec_.LoadPriorityMatrix()->level_names(1), "Soon");
  ExecuteResult inc = Ok(
      R"({"openIncident": {"incidentId": "INC1", "serviceId": "email", "impact": 1, "urgency": 2}})");
  EXPECT_EQ(inc.incident().priority(), 2);
  EXPECT_EQ(
      Run(R"({"openIncident": {"incidentId": "INC2", "serviceId": "email", "impact": 2, "urgency": 1}})")
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
}

TEST_F(ExecutorTest, SchedulingChecksOtherChangeStreamsAndBlackouts) {
  Service();
  Ok(R"({"addServiceBlackout": {"serviceId": "email", "windowId": "xmas", "start": "2026-12-24T00:00:00Z", "end": "2026-12-27T00:00:00Z"}})");
  for (const char* id : {"CHG1", "CHG2"}) {
    Ok(absl::StrCat(
        R"({"requestChange": {"changeId": ")", id,
        R"(", "type": "STANDARD", "serviceIds": ["email"], "configurationItems": ["mx1"], "impact": 3}})"));
  }
  Ok(R"({"scheduleChange": {"changeId": "CHG1", "start": "2026-12-01T10:00:00Z", "end": "2026-12-01T12:00:00Z"}})");
  absl::StatusOr<ExecuteResult> r = Run(
      R"({"scheduleChange": {"changeId": "CHG2", "start": "2026-12-01T11:00:00Z", "end": "2026-12-01T13:00:00Z"}})");
  ASSERT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("CHG1"), std::string::npos) << r.status();
  r = Run(
      R"({"scheduleChange": {"changeId": "CHG2", "start": "2026-12-25T11:00:00Z", "end": "2026-12-25T13:00:00Z", "overrideReason": "x"}})");
  ASSERT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("xmas"), std::string::npos) << r.status();
  ExecuteResult ok = Ok(
      R"({"scheduleChange": {"changeId": "CHG2", "start": "2026-12-01T11:00:00Z", "end": "2026-12-01T13:00:00Z", "overrideReason": "same team"}})");
  EXPECT_EQ(ok.change().overridden_conflicts_size(), 1);
}

TEST_F(ExecutorTest, LoadReportsStatesAndNotFound) {
  Service();
  EXPECT_EQ(exec_.Load("service", "email")->service().spec().name(), "E-mail");
  EXPECT_EQ(exec_.Load("incident", "INC404").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(exec_.Load("widget", "x").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(exec_.Load("priority-matrix", "")->priority_matrix().cells_size(),
            9);
}

TEST_F(ExecutorTest, RaisingAProblemRedecidesEveryStreamAfterAConflict) {
  Service();
  Incident("INC1");
  Incident("INC2");
  HookedStore hooked(&store_);
  int calls = 0;
  hooked.hook = [&](const std::string& stream) {
    if (stream != "problem/PRB1" || calls++ > 0) return absl::OkStatus();
    // Another writer comments on INC2 between the decision and the write:
    // the whole write is refused, then decided again.
    return exec_
        .Execute(Cmd(
            R"({"commentIncident":{"incidentId":"INC2","text":"meanwhile"}})"))
        .status();
  };
  CommandExecutor exec(&hooked, &clock_);
  absl::StatusOr<ExecuteResult> r = exec.Execute(Cmd(
      R"({"commandId":"raise","logProblem":{"problemId":"PRB1","title":"t","incidentIds":["INC1","INC2"]}})"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(hooked.atomic_appends, 2);
  EXPECT_EQ(hooked.appends, 0);  // Never one stream at a time.
  auto problem = store_.ReadStream("problem/PRB1", 0, 100);
  ASSERT_TRUE(problem.ok());
  ASSERT_EQ(problem->size(), 3u);  // Logged, two links: once each.
  EXPECT_TRUE((*problem)[1].has_problem_incident_linked());
  auto inc2 = store_.ReadStream("incident/INC2", 0, 100);
  ASSERT_TRUE(inc2.ok());
  ASSERT_FALSE(inc2->empty());
  EXPECT_TRUE(inc2->back().has_incident_linked_to_problem());
  EXPECT_TRUE((*inc2)[inc2->size() - 2].has_incident_commented());
  EXPECT_EQ(inc2->back().event_id(), "raise:incident/INC2:0");
  EXPECT_EQ(inc2->back().causation_id(), "raise:0");
}

TEST_F(ExecutorTest, AnAtomicWriteThatFailsLeavesTheStoreAsItWas) {
  Service();
  Incident("INC1");
  const std::vector<Envelope> before = store_.All();
  Envelope e;
  e.set_event_id("x0");
  e.mutable_incident_commented()->set_text("x");
  std::vector<StreamWrite> writes;
  writes.push_back({"incident/INC1", ExpectedVersion::Any(), {e}});
  e.set_event_id("y0");
  writes.push_back({"incident/INC9", ExpectedVersion::StreamExists(), {e}});
  EXPECT_EQ(store_.AppendAtomically(writes).status().code(),
            absl::StatusCode::kAborted);
  EXPECT_EQ(store_.All().size(), before.size());
  auto inc1 = store_.ReadStream("incident/INC1", 0, 100);
  ASSERT_TRUE(inc1.ok());
  EXPECT_FALSE(inc1->back().has_incident_commented());
}

}  // namespace
}  // namespace slate
