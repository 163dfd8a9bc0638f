// SLA clocks and timers through Engine::Execute and Engine::AdvanceTo: a P1
// incident on office-berlin through warning, pause, breach and resolve;
// never early, never twice (also after reopening the engine); retroactive
// attach, retarget, reopen cycles; rebuild byte-identical.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/api/engine.h"
#include "lib/api/engine_internal.h"
#include "lib/projection/sla_projection.h"
#include "tests/projection/sla_test_util.h"
#include "tests/testing/temp_dir.h"

namespace slate {
namespace {

using ::slate::testing::DefineSlaConfig;
using ::slate::testing::Exec;
using ::slate::testing::OfficePolicyJson;
using ::slate::testing::AllHoursPolicyJson;
using ::slate::testing::T;

class SlaScenarioTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void Open() {
    Options options;
    options.clock = &clock_;
    options.durability = Durability::kProcessCrash;
    auto e = Engine::Open(options, dir_.path());
    ASSERT_TRUE(e.ok()) << e.status();
    engine_ = std::move(*e);
  }
  std::vector<Envelope> Advance(const std::string& now) {
    auto r = engine_->AdvanceTo(T(now));
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : std::vector<Envelope>();
  }
  const SlaClockView* Find(const std::vector<SlaClockView>& clocks,
                           const std::string& type, int64_t cycle = 1) {
    for (const SlaClockView& v : clocks) {
      if (v.target_type == type && v.cycle == cycle) return &v;
    }
    return nullptr;
  }
  void DefineEmailService() {
    Exec(*engine_, R"({"defineService":{"serviceId":"email","name":"E-mail",
                       "at":"2026-11-01T00:00:00Z"}})");
  }
  // An incident on the e-mail service.
  void OpenIncident(const std::string& id, const std::string& at, int impact,
                    int urgency) {
    Exec(*engine_, absl::StrCat(R"({"openIncident":{"incidentId":")", id,
                                R"(","at":")", at,
                                R"(","serviceId":"email","impact":)", impact,
                                R"(,"urgency":)", urgency, "}}"));
  }
  std::vector<SlaClockView> Clocks(const std::string& record) {
    auto c = engine_->Clocks(record);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *c : std::vector<SlaClockView>();
  }
  std::vector<std::pair<std::string, std::string>> Dump() {
    auto d = RunnerOf(*engine_).Dump(SlaProjection::kName);
    EXPECT_TRUE(d.ok()) << d.status();
    return d.ok() ? *d : std::vector<std::pair<std::string, std::string>>();
  }

  slate::testing::TempDir dir_;
  SimulatedClock clock_{T("2026-12-31T00:00:00Z")};
  std::unique_ptr<Engine> engine_;
};

int64_t Us(const std::string& t) { return absl::ToUnixMicros(T(t)); }

TEST_F(SlaScenarioTest, P1OnOfficeBerlinWarnsPausesBreachesAndResolves) {
  DefineSlaConfig(*engine_, OfficePolicyJson());
  DefineEmailService();
  // Monday 2026-11-23 09:00 Berlin (08:00Z): P1 (impact 1, urgency 1).
  Exec(*engine_, R"({"openIncident":{"incidentId":"INC1",
      "at":"2026-11-23T08:00:00Z","serviceId":"email","impact":1,
      "urgency":1,"category":"network","contactType":"PHONE"}})");
  Exec(*engine_, R"({"assignIncident":{"incidentId":"INC1",
      "at":"2026-11-23T08:10:00Z","group":"network-ops"}})");
  Exec(*engine_, R"({"acknowledgeIncident":{"incidentId":"INC1",
      "at":"2026-11-23T08:20:00Z","by":"desk"}})");

  std::vector<SlaClockView> clocks = Clocks("INC1");
  ASSERT_EQ(clocks.size(), 2u);
  const SlaClockView* response = Find(clocks, "response");
  const SlaClockView* resolution = Find(clocks, "resolution");
  ASSERT_NE(response, nullptr);
  ASSERT_NE(resolution, nullptr);
  EXPECT_EQ(response->state.status(), SLA_CLOCK_STATUS_MET);
  EXPECT_EQ(response->record, "incident/INC1");
  EXPECT_EQ(response->group, "network-ops");
  EXPECT_EQ(response->service, "email");
  EXPECT_EQ(response->priority, 1);
  EXPECT_EQ(resolution->state.status(), SLA_CLOCK_STATUS_RUNNING);
  // 4 business hours from 09:00 Berlin = 13:00 Berlin = 12:00Z.
  EXPECT_EQ(resolution->state.deadline_us(), Us("2026-11-23T12:00:00Z"));

  // 50% (2h) at 10:00Z: not a microsecond early.
  EXPECT_TRUE(Advance("2026-11-23T09:59:59.999999Z").empty());
  std::vector<Envelope> fired = Advance("2026-11-23T10:00:00Z");
  ASSERT_EQ(fired.size(), 1u);
  ASSERT_TRUE(fired[0].has_sla_warning());
  EXPECT_EQ(fired[0].occurred_at_us(), Us("2026-11-23T10:00:00Z"));
  EXPECT_EQ(fired[0].sla_warning().threshold_percent(), 50);
  EXPECT_EQ(fired[0].stream(), "sla/incident/INC1");
  EXPECT_EQ(fired[0].event_id(),
            "sla:incident/INC1:p-office:resolution:1:w0");
  EXPECT_TRUE(Advance("2026-11-23T10:00:00Z").empty());  // Never twice.

  // On hold 10:30Z-11:30Z: paused with 2h30m used; deadline moves 1h later.
  Exec(*engine_, R"({"holdIncident":{"incidentId":"INC1",
      "at":"2026-11-23T10:30:00Z","reason":"AWAITING_CALLER"}})");
  resolution = Find(clocks = Clocks("INC1"), "resolution");
  ASSERT_NE(resolution, nullptr);
  EXPECT_EQ(resolution->state.status(), SLA_CLOCK_STATUS_PAUSED);
  EXPECT_TRUE(Advance("2026-11-23T11:29:00Z").empty());  // Paused: nothing.
  Exec(*engine_, R"({"resumeIncident":{"incidentId":"INC1",
      "at":"2026-11-23T11:30:00Z"}})");
  resolution = Find(clocks = Clocks("INC1"), "resolution");
  ASSERT_NE(resolution, nullptr);
  EXPECT_EQ(resolution->state.deadline_us(), Us("2026-11-23T13:00:00Z"));

  // 75% at 12:00Z, 90% at 12:36Z; the breach at 13:00Z, not before.
  fired = Advance("2026-11-23T12:59:59.999999Z");
  ASSERT_EQ(fired.size(), 2u);
  EXPECT_EQ(fired[0].occurred_at_us(), Us("2026-11-23T12:00:00Z"));
  EXPECT_EQ(fired[0].sla_warning().threshold_percent(), 75);
  EXPECT_EQ(fired[1].occurred_at_us(), Us("2026-11-23T12:36:00Z"));
  EXPECT_EQ(fired[1].sla_warning().threshold_percent(), 90);
  auto breached = engine_->Breached();
  ASSERT_TRUE(breached.ok());
  EXPECT_TRUE(breached->empty());

  fired = Advance("2026-11-23T13:00:00Z");
  ASSERT_EQ(fired.size(), 1u);
  ASSERT_TRUE(fired[0].has_sla_breached());
  EXPECT_EQ(fired[0].occurred_at_us(), Us("2026-11-23T13:00:00Z"));
  EXPECT_EQ(fired[0].event_id(),
            "sla:incident/INC1:p-office:resolution:1:breach");
  breached = engine_->Breached();
  ASSERT_TRUE(breached.ok());
  ASSERT_EQ(breached->size(), 1u);
  EXPECT_EQ((*breached)[0].record, "incident/INC1");
  EXPECT_EQ((*breached)[0].state.breached_at_us(), Us("2026-11-23T13:00:00Z"));

  // Restart: the timers come back from the projection; nothing fires twice.
  const int64_t end_before = engine_->NextPosition();
  engine_.reset();
  Open();
  EXPECT_TRUE(Advance("2026-11-23T14:00:00Z").empty());
  EXPECT_EQ(engine_->NextPosition(), end_before);

  Exec(*engine_, R"({"resolveIncident":{"incidentId":"INC1",
      "at":"2026-11-23T14:30:00Z","resolutionCode":"fixed"}})");
  resolution = Find(clocks = Clocks("INC1"), "resolution");
  ASSERT_NE(resolution, nullptr);
  EXPECT_EQ(resolution->state.status(), SLA_CLOCK_STATUS_BREACHED);
  EXPECT_EQ(resolution->state.phase(), SLA_CLOCK_PHASE_STOPPED);
  EXPECT_EQ(resolution->state.stopped_at_us(), Us("2026-11-23T14:30:00Z"));
  breached = engine_->Breached();
  ASSERT_TRUE(breached.ok());
  EXPECT_TRUE(breached->empty());
  EXPECT_TRUE(Advance("2026-11-30T00:00:00Z").empty());

  // Rebuild gives the same bytes.
  auto before = Dump();
  ASSERT_TRUE(engine_->RebuildProjection(SlaProjection::kName).ok());
  EXPECT_EQ(Dump(), before);
  EXPECT_GT(before.size(), 5u);
}

// Version 3 stores no copy of the events (a recompute reads them from the
// log), so SLA events count only where a recompute finds them: on the
// record's SLA stream.
TEST_F(SlaScenarioTest, SlaEventsCountOnlyOnTheRecordsSlaStream) {
  DefineSlaConfig(*engine_, OfficePolicyJson());
  DefineEmailService();
  OpenIncident("INC1", "2026-11-23T08:00:00Z", 1, 1);
  // Unacknowledged: the response clock has warned and breached by 10:00Z;
  // the resolution clock has reached 50%.
  auto resolution_warning = [](const std::vector<Envelope>& events,
                               int percent) -> const Envelope* {
    for (const Envelope& e : events) {
      if (e.has_sla_warning() &&
          e.sla_warning().metric() == SLA_METRIC_RESOLUTION &&
          e.sla_warning().threshold_percent() == percent) {
        return &e;
      }
    }
    return nullptr;
  };
  std::vector<Envelope> fired = Advance("2026-11-23T10:00:00Z");
  const Envelope* w50 = resolution_warning(fired, 50);
  ASSERT_NE(w50, nullptr);
  const Envelope first = *w50;
  const auto before = Dump();
  for (const auto& [key, value] : before) {
    EXPECT_FALSE(absl::StartsWith(key, "in/")) << key;
  }
  // The next threshold's warning, on two streams it does not belong to.
  for (const std::string stream : {"other/1", "incident/INC1"}) {
    Envelope w = first;
    w.clear_stream();
    w.clear_version();
    w.clear_position();
    w.clear_recorded_at_us();
    w.set_event_id(absl::StrCat("stray-", stream));
    w.mutable_sla_warning()->set_threshold_index(1);
    w.mutable_sla_warning()->set_threshold_percent(75);
    w.set_occurred_at_us(Us("2026-11-23T11:00:00Z"));
    auto r = engine_->Append(stream, ExpectedVersion::Any(), {w});
    ASSERT_TRUE(r.ok()) << r.status();
  }
  ASSERT_TRUE(RunnerOf(*engine_).CatchUp().ok());
  auto user_keys = [](std::vector<std::pair<std::string, std::string>> kv) {
    std::erase_if(kv, [](const auto& p) { return p.first[0] == '\0'; });
    return kv;
  };
  EXPECT_EQ(user_keys(Dump()), user_keys(before));
  // The 75% warning still fires from the clock itself, on the SLA stream.
  fired = Advance("2026-11-23T12:00:00Z");
  const Envelope* w75 = resolution_warning(fired, 75);
  ASSERT_NE(w75, nullptr);
  EXPECT_EQ(w75->stream(), "sla/incident/INC1");
  EXPECT_EQ(w75->occurred_at_us(), Us("2026-11-23T11:00:00Z"));
  // A late incident event recomputes from the log to the same clocks as a
  // rebuild.
  Exec(*engine_, R"({"assignIncident":{"incidentId":"INC1",
      "at":"2026-11-23T08:05:00Z","group":"network-ops"}})");
  const auto live = Dump();
  ASSERT_TRUE(engine_->RebuildProjection(SlaProjection::kName).ok());
  EXPECT_EQ(Dump(), live);
}

TEST_F(SlaScenarioTest, PolicyDefinedLateAttachesFromTheOriginalStart) {
  DefineEmailService();
  OpenIncident("INC2", "2026-11-23T08:00:00Z", 1, 1);
  EXPECT_TRUE(Clocks("INC2").empty());
  DefineSlaConfig(*engine_, OfficePolicyJson());
  std::vector<SlaClockView> clocks = Clocks("INC2");
  const SlaClockView* resolution = Find(clocks, "resolution");
  ASSERT_NE(resolution, nullptr);
  EXPECT_EQ(resolution->state.started_at_us(), Us("2026-11-23T08:00:00Z"));
  EXPECT_EQ(resolution->state.deadline_us(), Us("2026-11-23T12:00:00Z"));
}

TEST_F(SlaScenarioTest, PriorityRaisedAttachesRetroactivelyAndRetargets) {
  DefineSlaConfig(*engine_, OfficePolicyJson());
  DefineEmailService();
  // Impact 3 urgency 3: P5, no policy.
  OpenIncident("INC3", "2026-11-23T08:00:00Z", 3, 3);
  EXPECT_TRUE(Clocks("INC3").empty());
  // Raised to P2 at 09:00Z: attached as if from 08:00Z, 8h target.
  Exec(*engine_, R"({"setIncidentImpactUrgency":{"incidentId":"INC3",
      "at":"2026-11-23T09:00:00Z","impact":1,"urgency":2}})");
  std::vector<SlaClockView> clocks = Clocks("INC3");
  const SlaClockView* resolution = Find(clocks, "resolution");
  ASSERT_NE(resolution, nullptr);
  EXPECT_EQ(resolution->state.started_at_us(), Us("2026-11-23T08:00:00Z"));
  EXPECT_EQ(resolution->state.target_us(), absl::ToInt64Microseconds(
                                               absl::Hours(8)));
  EXPECT_EQ(resolution->priority, 2);
  // Raised to P1 at 10:00Z: keeps 2h elapsed, takes the 4h target.
  Exec(*engine_, R"({"setIncidentImpactUrgency":{"incidentId":"INC3",
      "at":"2026-11-23T10:00:00Z","impact":1,"urgency":1}})");
  resolution = Find(clocks = Clocks("INC3"), "resolution");
  ASSERT_NE(resolution, nullptr);
  EXPECT_EQ(resolution->state.target_us(),
            absl::ToInt64Microseconds(absl::Hours(4)));
  EXPECT_EQ(resolution->state.deadline_us(), Us("2026-11-23T12:00:00Z"));
  ASSERT_EQ(resolution->state.target_history_size(), 1);
  EXPECT_EQ(resolution->state.target_history(0).at_us(),
            Us("2026-11-23T10:00:00Z"));
}

// The projection replays a record it has cached from its own copy of the
// items, and one it has not (here: after a restart) from the log. Both give
// the clocks a rebuild gives.
TEST_F(SlaScenarioTest, AttachAfterRestartReplaysTheRecordFromTheLog) {
  DefineSlaConfig(*engine_, OfficePolicyJson());
  DefineEmailService();
  OpenIncident("INC3", "2026-11-23T08:00:00Z", 3, 3);
  Exec(*engine_, R"({"holdIncident":{"incidentId":"INC3",
      "at":"2026-11-23T08:30:00Z","reason":"AWAITING_CALLER"}})");
  Exec(*engine_, R"({"resumeIncident":{"incidentId":"INC3",
      "at":"2026-11-23T08:45:00Z"}})");
  EXPECT_TRUE(Clocks("INC3").empty());
  engine_.reset();
  Open();
  // Raised to P2 at 09:00Z: the 8 business hours ran 08:00-08:30Z and
  // from 08:45Z; office hours end 16:00Z, so 15 minutes are left for
  // Tuesday 08:00Z.
  Exec(*engine_, R"({"setIncidentImpactUrgency":{"incidentId":"INC3",
      "at":"2026-11-23T09:00:00Z","impact":1,"urgency":2}})");
  std::vector<SlaClockView> clocks = Clocks("INC3");
  const SlaClockView* resolution = Find(clocks, "resolution");
  ASSERT_NE(resolution, nullptr);
  EXPECT_EQ(resolution->state.started_at_us(), Us("2026-11-23T08:00:00Z"));
  EXPECT_EQ(resolution->state.deadline_us(), Us("2026-11-24T08:15:00Z"));
  const auto live = Dump();
  ASSERT_TRUE(engine_->RebuildProjection(SlaProjection::kName).ok());
  EXPECT_EQ(Dump(), live);
}

TEST_F(SlaScenarioTest, ReopenStartsANewCycleAndKeepsTheOld) {
  DefineSlaConfig(*engine_, AllHoursPolicyJson());
  DefineEmailService();
  OpenIncident("INC4", "2026-11-23T08:00:00Z", 1, 1);
  Exec(*engine_, R"({"resolveIncident":{"incidentId":"INC4",
      "at":"2026-11-23T09:00:00Z","resolutionCode":"fixed"}})");
  Exec(*engine_, R"({"reopenIncident":{"incidentId":"INC4",
      "at":"2026-11-23T10:00:00Z","reason":"again"}})");
  std::vector<SlaClockView> clocks = Clocks("INC4");
  const SlaClockView* first = Find(clocks, "resolution", 1);
  const SlaClockView* second = Find(clocks, "resolution", 2);
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(first->state.status(), SLA_CLOCK_STATUS_MET);
  EXPECT_EQ(second->state.status(), SLA_CLOCK_STATUS_RUNNING);
  EXPECT_EQ(second->state.deadline_us(), Us("2026-11-23T14:00:00Z"));
  // The new cycle fires its own events with its own ids.
  std::vector<Envelope> fired = Advance("2026-11-23T14:00:00Z");
  ASSERT_EQ(fired.size(), 4u);
  EXPECT_EQ(fired.back().event_id(),
            "sla:incident/INC4:p-24x7:resolution:2:breach");
}

// Records under a relaxed DomainPolicy (as `slate import servicenow`
// decides them). 24x7, P1 resolution 4h, pause on hold, new cycle on reopen.
// INC8: opened 11-23 08:00; on hold 09:00; closed 10:00 without a resolve
// (the policy's stop states include closed: cycle 1 MET, 1h used, stopped
// 10:00); assigned 11:00 while Closed (no clock input); reopened 12-28
// 10:00, 35 days after the close (cycle 2 runs, deadline 14:00); resolved
// 12:00 (cycle 2 MET, 2h used).
TEST_F(SlaScenarioTest, RelaxedRulesGiveSaneClocks) {
  DefineSlaConfig(*engine_, AllHoursPolicyJson());
  DefineEmailService();
  OpenIncident("INC8", "2026-11-23T08:00:00Z", 1, 1);
  DomainPolicy relaxed;
  relaxed.allow_assign_when_resolved = true;
  relaxed.allow_close_without_resolve = true;
  relaxed.reopen_closed_window = absl::InfiniteDuration();
  auto run = [&](const std::string& json) {
    absl::StatusOr<ExecuteResult> r = engine_->Execute(slate::testing::Cmd(json), relaxed);
    ASSERT_TRUE(r.ok()) << json << ": " << r.status();
  };
  run(R"({"holdIncident":{"incidentId":"INC8","at":"2026-11-23T09:00:00Z","reason":"AWAITING_CALLER"}})");
  run(R"({"closeIncident":{"incidentId":"INC8","at":"2026-11-23T10:00:00Z"}})");
  std::vector<SlaClockView> clocks = Clocks("INC8");
  ASSERT_EQ(clocks.size(), 1u);
  EXPECT_EQ(clocks[0].state.status(), SLA_CLOCK_STATUS_MET);
  EXPECT_EQ(clocks[0].state.business_elapsed_us(), 3600000000);
  EXPECT_EQ(clocks[0].state.stopped_at_us(), Us("2026-11-23T10:00:00Z"));
  const std::string cycle1 = clocks[0].state.SerializeAsString();

  run(R"({"assignIncident":{"incidentId":"INC8","at":"2026-11-23T11:00:00Z","group":"ops"}})");
  clocks = Clocks("INC8");
  ASSERT_EQ(clocks.size(), 1u);
  EXPECT_EQ(clocks[0].state.SerializeAsString(), cycle1);

  run(R"({"reopenIncident":{"incidentId":"INC8","at":"2026-12-28T10:00:00Z"}})");
  clocks = Clocks("INC8");
  const SlaClockView* second = Find(clocks, "resolution", 2);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(second->state.status(), SLA_CLOCK_STATUS_RUNNING);
  EXPECT_EQ(second->state.deadline_us(), Us("2026-12-28T14:00:00Z"));
  run(R"({"resolveIncident":{"incidentId":"INC8","at":"2026-12-28T12:00:00Z","resolutionCode":"fixed"}})");
  clocks = Clocks("INC8");
  second = Find(clocks, "resolution", 2);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(second->state.status(), SLA_CLOCK_STATUS_MET);
  EXPECT_EQ(second->state.business_elapsed_us(), 2 * 3600000000LL);
  ASSERT_NE(Find(clocks, "resolution", 1), nullptr);
  EXPECT_EQ(Find(clocks, "resolution", 1)->state.SerializeAsString(), cycle1);
  // A rebuild from the log gives the same clocks.
  VerifyReport report;
  ASSERT_TRUE(engine_->Verify(&report).ok());
  EXPECT_TRUE(report.ok()) << (report.ok() ? "" : report.problems[0]);
}

// A clock that starts while its pause condition holds starts paused: the
// time the record spends in a state the policy pauses on never counts, also
// when the clock starts in it. 24x7, resolution starts at the assignment,
// pauses on hold, P1 4h. INC9: opened 08:00, on hold 09:00, assigned 10:00
// (still on hold: starts paused), resumed 12:00 (deadline 16:00), put on
// hold again 13:00 and resolved 15:00 (1h used). INC10, the same without
// the hold, runs from 10:00 (deadline 14:00).
TEST_F(SlaScenarioTest, AClockStartingWhileItsPauseHoldsStartsPaused) {
  DefineSlaConfig(*engine_, R"({"id":"p-assign","calendarId":"24x7",
    "appliesTo":{"recordTypes":["incident"]},
    "targets":[{"priority":1,"resolution":"4h"}],
    "resolution":{"start":{"events":["incident_assigned"]},
                  "pause":{"states":["on_hold"]},
                  "stop":{"states":["resolved","closed"]}}})");
  DefineEmailService();
  OpenIncident("INC9", "2026-11-23T08:00:00Z", 1, 1);
  OpenIncident("INC10", "2026-11-23T08:00:00Z", 1, 1);
  Exec(*engine_, R"({"holdIncident":{"incidentId":"INC9",
      "at":"2026-11-23T09:00:00Z","reason":"AWAITING_CALLER"}})");
  for (const char* id : {"INC9", "INC10"}) {
    Exec(*engine_, absl::StrCat(R"({"assignIncident":{"incidentId":")", id,
                                R"(","at":"2026-11-23T10:00:00Z","group":"ops"}})"));
  }
  std::vector<SlaClockView> clocks = Clocks("INC9");
  ASSERT_EQ(clocks.size(), 1u);
  EXPECT_EQ(clocks[0].state.status(), SLA_CLOCK_STATUS_PAUSED);
  EXPECT_EQ(clocks[0].state.started_at_us(), Us("2026-11-23T10:00:00Z"));
  EXPECT_EQ(clocks[0].state.pause_reason(), "AWAITING_CALLER");
  clocks = Clocks("INC10");
  ASSERT_EQ(clocks.size(), 1u);
  EXPECT_EQ(clocks[0].state.status(), SLA_CLOCK_STATUS_RUNNING);
  EXPECT_EQ(clocks[0].state.deadline_us(), Us("2026-11-23T14:00:00Z"));

  Exec(*engine_, R"({"resumeIncident":{"incidentId":"INC9",
      "at":"2026-11-23T12:00:00Z"}})");
  clocks = Clocks("INC9");
  ASSERT_EQ(clocks.size(), 1u);
  EXPECT_EQ(clocks[0].state.status(), SLA_CLOCK_STATUS_RUNNING);
  EXPECT_EQ(clocks[0].state.deadline_us(), Us("2026-11-23T16:00:00Z"));
  // No warning for the time on hold: INC9's first (50 %, 2h used) is due
  // at 14:00; INC10's 50 % and 75 % are due by 13:00.
  for (const Envelope& fired : Advance("2026-11-23T13:00:00Z")) {
    EXPECT_FALSE(absl::StrContains(fired.event_id(), "INC9:"))
        << fired.event_id();
    EXPECT_TRUE(absl::StrContains(fired.event_id(), "INC10:"))
        << fired.event_id();
  }
  Exec(*engine_, R"({"holdIncident":{"incidentId":"INC9",
      "at":"2026-11-23T13:00:00Z","reason":"AWAITING_CALLER"}})");
  Exec(*engine_, R"({"resolveIncident":{"incidentId":"INC9",
      "at":"2026-11-23T15:00:00Z","resolutionCode":"fixed"}})");
  clocks = Clocks("INC9");
  ASSERT_EQ(clocks.size(), 1u);
  EXPECT_EQ(clocks[0].state.status(), SLA_CLOCK_STATUS_MET);
  EXPECT_EQ(clocks[0].state.business_elapsed_us(), 3600000000LL);
  // A rebuild from the log gives the same clocks.
  VerifyReport report;
  ASSERT_TRUE(engine_->Verify(&report).ok());
  EXPECT_TRUE(report.ok()) << (report.ok() ? "" : report.problems[0]);
}

TEST_F(SlaScenarioTest, AdvanceRefusesTheFuture) {
  auto r = engine_->AdvanceTo(clock_.Now() + absl::Hours(1));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(SlaScenarioTest, AtRiskSortsByDeadlineFiltersAndLimits) {
  DefineSlaConfig(*engine_, AllHoursPolicyJson());
  for (const char* svc : {"email", "vpn"}) {
    Exec(*engine_, absl::StrCat(R"({"defineService":{"serviceId":")", svc,
                                R"(","name":"x","at":"2026-11-01T00:00:00Z"}})"));
  }
  // (id, open time, impact/urgency -> priority, service, group)
  struct Inc {
    const char* id;
    const char* at;
    int impact, urgency;  // 1/1 -> P1 (4h), 1/2 -> P2 (8h), 1/3 -> P3 (24h)
    const char* service;
    const char* group;
  };
  const Inc incs[] = {
      {"A", "2026-11-23T08:00:00Z", 1, 2, "email", "g1"},  // due 16:00
      {"B", "2026-11-23T09:00:00Z", 1, 1, "vpn", "g2"},    // due 13:00
      {"C", "2026-11-23T07:00:00Z", 1, 3, "email", "g1"},  // due +1d 07:00
      {"D", "2026-11-23T10:00:00Z", 1, 1, "email", "g2"},  // due 14:00
      {"E", "2026-11-23T06:00:00Z", 1, 2, "vpn", "g1"},    // due 14:00
  };
  for (const Inc& i : incs) {
    Exec(*engine_,
         absl::StrCat(R"({"openIncident":{"incidentId":")", i.id,
                      R"(","at":")", i.at, R"(","serviceId":")", i.service,
                      R"(","impact":)", i.impact, R"(,"urgency":)", i.urgency,
                      "}}"));
    Exec(*engine_, absl::StrCat(R"({"assignIncident":{"incidentId":")", i.id,
                                R"(","at":")", i.at, R"(","group":")",
                                i.group, R"("}})"));
  }
  auto ids = [](const std::vector<SlaClockView>& v) {
    std::vector<std::string> out;
    for (const auto& c : v) out.push_back(c.record);
    return out;
  };
  const absl::Time now = T("2026-11-23T11:00:00Z");
  auto all = engine_->AtRisk(now, absl::Hours(8), {}, 0);
  ASSERT_TRUE(all.ok()) << all.status();
  // Deadlines B 13:00, D 14:00, E 14:00 (tie: by record), A 16:00; C is
  // outside the horizon (next day 07:00 > 19:00? no: 07:00 next day).
  EXPECT_EQ(ids(*all),
            (std::vector<std::string>{"incident/B", "incident/D", "incident/E",
                                      "incident/A"}));
  auto top2 = engine_->AtRisk(now, absl::Hours(8), {}, 2);
  ASSERT_TRUE(top2.ok());
  EXPECT_EQ(ids(*top2),
            (std::vector<std::string>{"incident/B", "incident/D"}));
  // Every limit gives the first clocks of the whole list (the scan stops
  // early once the limit's worst deadline is passed).
  for (size_t n = 1; n <= all->size() + 1; ++n) {
    auto top = engine_->AtRisk(now, absl::Hours(8), {}, n);
    ASSERT_TRUE(top.ok());
    std::vector<std::string> want = ids(*all);
    want.resize(std::min(n, want.size()));
    EXPECT_EQ(ids(*top), want) << "top " << n;
  }
  SlaAtRiskFilter g1;
  g1.group = "g1";
  auto by_group = engine_->AtRisk(now, absl::Hours(24), g1, 0);
  ASSERT_TRUE(by_group.ok());
  EXPECT_EQ(ids(*by_group),
            (std::vector<std::string>{"incident/E", "incident/A",
                                      "incident/C"}));
  SlaAtRiskFilter vpn;
  vpn.service = "vpn";
  vpn.priority = 1;
  auto by_service = engine_->AtRisk(now, absl::Hours(24), vpn, 0);
  ASSERT_TRUE(by_service.ok());
  EXPECT_EQ(ids(*by_service), (std::vector<std::string>{"incident/B"}));
  // Narrow horizon: only B (13:00 <= 13:00).
  auto narrow = engine_->AtRisk(now, absl::Hours(2), {}, 0);
  ASSERT_TRUE(narrow.ok());
  EXPECT_EQ(ids(*narrow), (std::vector<std::string>{"incident/B"}));
}

}  // namespace
}  // namespace slate
