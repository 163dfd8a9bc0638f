// Issue 20's agreement rules through the Engine: a record that stops
// matching a policy ends that policy's clocks (unless the policy keeps
// them), and RetireSlaPolicy ends every clock of a policy at its instant
// and stops it attaching. Arrival order and rebuilds: sla_shuffle_test.
#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "lib/api/engine.h"
#include "tests/projection/sla_test_util.h"

namespace slate {
namespace {

using ::slate::testing::AllHoursPolicyJson;
using ::slate::testing::Cmd;
using ::slate::testing::DefineSlaConfig;
using ::slate::testing::Exec;
using ::slate::testing::OfficePolicyJson;
using ::slate::testing::T;

// A 24x7 policy for priority 3 only (resolution 24h).
std::string P3PolicyJson(bool keep_when_unmatched) {
  return absl::StrCat(R"({"id":"p3-only","calendarId":"24x7",
    "appliesTo":{"recordTypes":["incident"],"priorities":[3]},
    "targets":[{"priority":3,"resolution":"24h"}],
    "resolution":{"start":{"events":["incident_opened"]},
                  "stop":{"states":["resolved","closed"]}},
    "keepWhenUnmatched":)",
                      keep_when_unmatched ? "true" : "false", "}");
}

class SlaAgreementTest : public slate::testing::SlaEngineTest {
 protected:
  void DefinePolicy(const std::string& json) {
    Exec(*engine_, absl::StrCat(
                       R"({"defineSlaPolicy":{"at":"2026-11-01T00:00:00Z",)",
                       R"("policy":)", json, "}}"));
  }
  std::vector<SlaClockView> ClocksOf(const std::string& record,
                                     const std::string& policy) {
    auto all = engine_->Clocks(record);
    EXPECT_TRUE(all.ok()) << all.status();
    std::vector<SlaClockView> out;
    if (!all.ok()) return out;
    for (SlaClockView& v : *all) {
      if (v.policy_id == policy) out.push_back(std::move(v));
    }
    return out;
  }
  // The SLA events AdvanceTo(now) appends for `policy`.
  std::vector<Envelope> FiredFor(absl::Time now, const std::string& policy) {
    auto fired = engine_->AdvanceTo(now);
    EXPECT_TRUE(fired.ok()) << fired.status();
    std::vector<Envelope> out;
    if (!fired.ok()) return out;
    for (const Envelope& e : *fired) {
      const std::string& p = e.has_sla_warning() ? e.sla_warning().policy_id()
                                                 : e.sla_breached().policy_id();
      if (p == policy) out.push_back(e);
    }
    return out;
  }
  void Raise(const std::string& id, const std::string& at, int priority) {
    Exec(*engine_, absl::StrCat(R"({"overrideIncidentPriority":{"incidentId":")",
                                id, R"(","at":")", at, R"(","priority":)",
                                priority, R"(,"reason":"escalated"}})"));
  }
  void ExpectVerified() {
    VerifyReport report;
    absl::Status st = engine_->Verify(&report);
    EXPECT_TRUE(st.ok()) << st;
  }
};

// The live bug of issue 20: raised from P3 to P1, the P3-only policy's
// clock used to run on beside the P1 clocks and went on to warn and breach.
TEST_F(SlaAgreementTest, RaisedOutOfAPolicysPrioritiesEndsItsClocks) {
  DefineSlaConfig(*engine_, OfficePolicyJson());
  DefinePolicy(P3PolicyJson(/*keep_when_unmatched=*/false));
  OpenIncident("INC1", "2026-11-23T08:00:00Z", 2, 2);  // P3, Mon 09:00 Berlin.
  ASSERT_EQ(ClocksOf("INC1", "p3-only").size(), 1u);
  EXPECT_TRUE(ClocksOf("INC1", "p-office").empty());  // P3: not office's.

  Raise("INC1", "2026-11-23T10:00:00Z", 1);
  std::vector<SlaClockView> p3 = ClocksOf("INC1", "p3-only");
  ASSERT_EQ(p3.size(), 1u);
  EXPECT_EQ(p3[0].state.phase(), SLA_CLOCK_PHASE_CANCELLED);
  EXPECT_EQ(p3[0].state.status(), SLA_CLOCK_STATUS_CANCELLED);
  EXPECT_EQ(p3[0].state.cancelled_at_us(),
            absl::ToUnixMicros(T("2026-11-23T10:00:00Z")));
  EXPECT_EQ(p3[0].state.cancel_reason(), "no longer matches the policy");
  EXPECT_EQ(p3[0].state.business_elapsed_us(), int64_t{2} * 3'600'000'000);
  // The P1 policy attached (counted from the open, as a late attach is).
  EXPECT_EQ(ClocksOf("INC1", "p-office").size(), 2u);

  // Nothing more fires for the ended clock; the office clocks do fire.
  auto fired = engine_->AdvanceTo(T("2026-11-30T00:00:00Z"));
  ASSERT_TRUE(fired.ok()) << fired.status();
  size_t p3_events = 0, office_events = 0;
  for (const Envelope& e : *fired) {
    const std::string& p = e.has_sla_warning() ? e.sla_warning().policy_id()
                                               : e.sla_breached().policy_id();
    p3_events += p == "p3-only";
    office_events += p == "p-office";
  }
  EXPECT_EQ(p3_events, 0u);
  EXPECT_GT(office_events, 0u);
  // Lowered back to P3: the ended attachment stays ended.
  Raise("INC1", "2026-11-30T10:00:00Z", 3);
  p3 = ClocksOf("INC1", "p3-only");
  ASSERT_EQ(p3.size(), 1u);
  EXPECT_EQ(p3[0].state.phase(), SLA_CLOCK_PHASE_CANCELLED);
  // The explanation says why it was cancelled.
  SlaExplainFilter f;
  f.policy_id = "p3-only";
  auto ex = engine_->ExplainClocks("INC1", f);
  ASSERT_TRUE(ex.ok()) << ex.status();
  ASSERT_EQ(ex->size(), 1u);
  bool said = false;
  for (const SlaClockStep& s : (*ex)[0].steps) {
    said = said || (s.action == "cancelled" &&
                    absl::StrContains(s.detail, "no longer matches"));
  }
  EXPECT_TRUE(said) << FormatSlaExplanations(*ex, /*json=*/false);
  ExpectVerified();
}

TEST_F(SlaAgreementTest, KeepWhenUnmatchedKeepsTheClockRunning) {
  DefineSlaConfig(*engine_, OfficePolicyJson());
  DefinePolicy(P3PolicyJson(/*keep_when_unmatched=*/true));
  OpenIncident("INC1", "2026-11-23T08:00:00Z", 2, 2);  // P3.
  Raise("INC1", "2026-11-23T10:00:00Z", 1);
  std::vector<SlaClockView> p3 = ClocksOf("INC1", "p3-only");
  ASSERT_EQ(p3.size(), 1u);
  EXPECT_EQ(p3[0].state.phase(), SLA_CLOCK_PHASE_RUNNING);
  EXPECT_TRUE(p3[0].state.cancel_reason().empty());
  // It goes on to breach 24h after the open.
  std::vector<Envelope> fired = FiredFor(T("2026-11-30T00:00:00Z"), "p3-only");
  ASSERT_FALSE(fired.empty());
  EXPECT_TRUE(fired.back().has_sla_breached());
  EXPECT_EQ(fired.back().occurred_at_us(),
            absl::ToUnixMicros(T("2026-11-24T08:00:00Z")));
  ExpectVerified();
}

// The category moves out of a category-bound policy through the details
// update the importer writes: the policy's clock ends there.
TEST_F(SlaAgreementTest, ACategoryChangeOutOfThePolicyEndsItsClocks) {
  DefinePolicy(R"({"id":"network-only","calendarId":"24x7",
    "appliesTo":{"recordTypes":["incident"],"categories":["network"]},
    "targets":[{"priority":3,"resolution":"24h"}],
    "resolution":{"start":{"events":["incident_opened"]},
                  "stop":{"states":["resolved","closed"]}}})");
  Exec(*engine_, R"({"openIncident":{"incidentId":"INC1",
      "at":"2026-11-23T08:00:00Z","serviceId":"email","category":"network",
      "impact":2,"urgency":2}})");
  ASSERT_EQ(ClocksOf("INC1", "network-only").size(), 1u);
  Envelope moved;
  moved.set_event_id("INC1-moved");
  moved.set_occurred_at_us(absl::ToUnixMicros(T("2026-11-23T09:00:00Z")));
  moved.mutable_incident_details_updated()->set_category("database");
  auto r = engine_->Append("incident/INC1", ExpectedVersion::Any(), {moved});
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(engine_->WaitForProjections(r->last_position + 1,
                                          absl::Seconds(30))
                  .ok());
  std::vector<SlaClockView> c = ClocksOf("INC1", "network-only");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].state.phase(), SLA_CLOCK_PHASE_CANCELLED);
  EXPECT_EQ(c[0].state.cancelled_at_us(),
            absl::ToUnixMicros(T("2026-11-23T09:00:00Z")));
  ExpectVerified();
}

// A service change through UpdateIncidentDetails: out of a service-bound
// policy (its clock ends) and into another (that one attaches, counted
// from the open as any late attach).
TEST_F(SlaAgreementTest, AServiceChangeMovesTheRecordBetweenPolicies) {
  Exec(*engine_, R"({"defineService":{"serviceId":"crm","name":"CRM",
                     "at":"2026-11-01T00:00:00Z"}})");
  for (const char* svc : {"email", "crm"}) {
    DefinePolicy(absl::StrCat(R"({"id":")", svc, R"(-only","calendarId":"24x7",
      "appliesTo":{"recordTypes":["incident"],"services":[")",
                              svc, R"("]},
      "targets":[{"priority":3,"resolution":"24h"}],
      "resolution":{"start":{"events":["incident_opened"]},
                    "stop":{"states":["resolved","closed"]}}})"));
  }
  OpenIncident("INC1", "2026-11-23T08:00:00Z", 2, 2);
  ASSERT_EQ(ClocksOf("INC1", "email-only").size(), 1u);
  EXPECT_TRUE(ClocksOf("INC1", "crm-only").empty());
  Exec(*engine_, R"({"updateIncidentDetails":{"incidentId":"INC1",
      "at":"2026-11-23T09:00:00Z","serviceId":"crm"}})");
  std::vector<SlaClockView> mail = ClocksOf("INC1", "email-only");
  ASSERT_EQ(mail.size(), 1u);
  EXPECT_EQ(mail[0].state.phase(), SLA_CLOCK_PHASE_CANCELLED);
  EXPECT_EQ(mail[0].state.cancelled_at_us(),
            absl::ToUnixMicros(T("2026-11-23T09:00:00Z")));
  std::vector<SlaClockView> crm = ClocksOf("INC1", "crm-only");
  ASSERT_EQ(crm.size(), 1u);
  EXPECT_EQ(crm[0].state.phase(), SLA_CLOCK_PHASE_RUNNING);
  EXPECT_EQ(crm[0].state.started_at_us(),
            absl::ToUnixMicros(T("2026-11-23T08:00:00Z")));
  EXPECT_EQ(crm[0].service, "crm");
  ExpectVerified();
}

TEST_F(SlaAgreementTest, RetirementCancelsRunningClocksAndStopsAttaching) {
  DefineSlaConfig(*engine_, OfficePolicyJson());
  DefinePolicy(AllHoursPolicyJson());
  OpenIncident("INC1", "2026-11-23T08:00:00Z", 1, 1);  // P1: 4h office.
  Exec(*engine_, R"({"acknowledgeIncident":{"incidentId":"INC1",
      "at":"2026-11-23T08:10:00Z","by":"desk"}})");
  // Mon 11:00 Berlin: 2h used, the resolution's 50% warning fired.
  std::vector<Envelope> fired =
      FiredFor(T("2026-11-23T10:00:00Z"), "p-office");
  ASSERT_EQ(fired.size(), 1u);
  ASSERT_TRUE(fired[0].has_sla_warning());

  Exec(*engine_, R"({"retireSlaPolicy":{"policyId":"p-office",
      "at":"2026-11-23T10:30:00Z","reason":"replaced by the 2027 contract"}})");
  for (const SlaClockView& v : ClocksOf("INC1", "p-office")) {
    if (v.target_type == "response") {  // Met before: stays met.
      EXPECT_EQ(v.state.status(), SLA_CLOCK_STATUS_MET);
      EXPECT_TRUE(v.state.cancel_reason().empty());
    } else {
      EXPECT_EQ(v.state.phase(), SLA_CLOCK_PHASE_CANCELLED);
      EXPECT_EQ(v.state.cancel_reason(), "policy retired");
      EXPECT_EQ(v.state.cancelled_at_us(),
                absl::ToUnixMicros(T("2026-11-23T10:30:00Z")));
      EXPECT_EQ(v.state.warnings_reached(), 1);  // What fired stays.
      EXPECT_FALSE(v.state.has_breached_at_us());
    }
  }
  // Nothing more fires for it; the other policy runs on.
  EXPECT_TRUE(FiredFor(T("2026-12-31T00:00:00Z"), "p-office").empty());
  EXPECT_EQ(ClocksOf("INC1", "p-24x7")[0].state.status(),
            SLA_CLOCK_STATUS_BREACHED);
  // A record opened after the retirement gets no clock of it.
  OpenIncident("INC2", "2026-11-24T08:00:00Z", 1, 1);
  EXPECT_TRUE(ClocksOf("INC2", "p-office").empty());
  EXPECT_EQ(ClocksOf("INC2", "p-24x7").size(), 1u);
  // The warning stays in the log.
  auto sla = engine_->ReadStream("sla/incident/INC1", 0, 100);
  ASSERT_TRUE(sla.ok()) << sla.status();
  size_t office_events = 0;
  for (const Envelope& e : *sla) {
    office_events += e.has_sla_warning() &&
                     e.sla_warning().policy_id() == "p-office";
  }
  EXPECT_EQ(office_events, 1u);
  ExpectVerified();
}

// A retirement dated before an incident's later events, and one after its
// last event: both end the clocks at the retirement instant.
TEST_F(SlaAgreementTest, RetirementEndsClocksAtItsInstantWhateverFollows) {
  DefineSlaConfig(*engine_, OfficePolicyJson());
  OpenIncident("INC1", "2026-11-23T08:00:00Z", 1, 2);  // P2: 8h office.
  Exec(*engine_, R"({"retireSlaPolicy":{"policyId":"p-office",
      "at":"2026-11-23T09:00:00Z"}})");
  // An event before the retirement that arrives after it (a late
  // acknowledgement) still stops the response clock first.
  Exec(*engine_, R"({"acknowledgeIncident":{"incidentId":"INC1",
      "at":"2026-11-23T08:30:00Z","by":"desk"}})");
  for (const SlaClockView& v : ClocksOf("INC1", "p-office")) {
    if (v.target_type == "response") {
      EXPECT_EQ(v.state.status(), SLA_CLOCK_STATUS_MET);
    } else {
      EXPECT_EQ(v.state.phase(), SLA_CLOCK_PHASE_CANCELLED);
      EXPECT_EQ(v.state.cancelled_at_us(),
                absl::ToUnixMicros(T("2026-11-23T09:00:00Z")));
      EXPECT_EQ(v.state.business_elapsed_us(), int64_t{3'600'000'000});
    }
  }
  // Events after it change nothing.
  Exec(*engine_, R"({"resolveIncident":{"incidentId":"INC1",
      "at":"2026-11-23T12:00:00Z","resolutionCode":"fixed"}})");
  for (const SlaClockView& v : ClocksOf("INC1", "p-office")) {
    if (v.target_type == "resolution") {
      EXPECT_EQ(v.state.phase(), SLA_CLOCK_PHASE_CANCELLED);
    }
  }
  ASSERT_TRUE(engine_->RebuildProjection("sla").ok());
  for (const SlaClockView& v : ClocksOf("INC1", "p-office")) {
    if (v.target_type == "resolution") {
      EXPECT_EQ(v.state.cancelled_at_us(),
                absl::ToUnixMicros(T("2026-11-23T09:00:00Z")));
    }
  }
  ExpectVerified();
}

// p-24x7 gives P1 4h; redefined at 09:00 with P1 8h.
std::string Redefine(bool apply_to_running) {
  return absl::StrCat(
      R"({"defineSlaPolicy":{"at":"2026-11-23T09:00:00Z","applyToRunning":)",
      apply_to_running ? "true" : "false", R"(,"policy":)",
      absl::StrReplaceAll(AllHoursPolicyJson(),
                          {{R"("priority":1,"resolution":"4h")",
                            R"("priority":1,"resolution":"8h")"}}),
      "}}");
}

// A redefinition binds the clocks that attach after it; the running ones
// keep the version they attached under.
TEST_F(SlaAgreementTest, ARedefinitionBindsNewClocksOnly) {
  DefinePolicy(AllHoursPolicyJson());
  OpenIncident("INC1", "2026-11-23T08:00:00Z", 1, 1);
  Exec(*engine_, Redefine(/*apply_to_running=*/false));
  OpenIncident("INC2", "2026-11-23T10:00:00Z", 1, 1);
  auto target = [&](const std::string& id) {
    std::vector<SlaClockView> c = ClocksOf(id, "p-24x7");
    EXPECT_EQ(c.size(), 1u) << id;
    return c.empty() ? absl::ZeroDuration()
                     : absl::Microseconds(c[0].state.target_us());
  };
  EXPECT_EQ(target("INC1"), absl::Hours(4));
  EXPECT_EQ(target("INC2"), absl::Hours(8));
  // INC1 breaches at 12:00 under its own version, INC2 not before 18:00.
  std::vector<Envelope> fired = FiredFor(T("2026-11-23T13:00:00Z"), "p-24x7");
  ASSERT_FALSE(fired.empty());
  EXPECT_TRUE(fired.back().has_sla_breached());
  EXPECT_EQ(fired.back().sla_breached().record(), "incident/INC1");
  ASSERT_TRUE(engine_->RebuildProjection("sla").ok());
  EXPECT_EQ(target("INC1"), absl::Hours(4));
  EXPECT_EQ(target("INC2"), absl::Hours(8));
  ExpectVerified();
}

TEST_F(SlaAgreementTest, ARedefinitionAppliedToRunningClocksRetargetsThem) {
  DefinePolicy(AllHoursPolicyJson());
  OpenIncident("INC1", "2026-11-23T08:00:00Z", 1, 1);
  OpenIncident("INC3", "2026-11-23T06:00:00Z", 1, 1);
  Exec(*engine_, R"({"resolveIncident":{"incidentId":"INC3",
      "at":"2026-11-23T07:00:00Z","resolutionCode":"fixed"}})");
  OpenIncident("INC4", "2026-11-23T08:00:00Z", 1, 1);
  Exec(*engine_, Redefine(/*apply_to_running=*/true));
  // Resolved before the redefinition, recorded after it: in time order
  // the clock stopped under the old version and was never re-targeted.
  Exec(*engine_, R"({"resolveIncident":{"incidentId":"INC4",
      "at":"2026-11-23T08:30:00Z","resolutionCode":"fixed"}})");
  std::vector<SlaClockView> inc4 = ClocksOf("INC4", "p-24x7");
  ASSERT_EQ(inc4.size(), 1u);
  EXPECT_EQ(inc4[0].state.status(), SLA_CLOCK_STATUS_MET);
  EXPECT_EQ(inc4[0].state.target_us(),
            absl::ToInt64Microseconds(absl::Hours(4)));
  EXPECT_EQ(inc4[0].state.target_history_size(), 0);
  std::vector<SlaClockView> c = ClocksOf("INC1", "p-24x7");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].state.target_us(), absl::ToInt64Microseconds(absl::Hours(8)));
  ASSERT_EQ(c[0].state.target_history_size(), 1);
  EXPECT_EQ(c[0].state.target_history(0).reason(), "policy redefined");
  EXPECT_EQ(c[0].state.target_history(0).at_us(),
            absl::ToUnixMicros(T("2026-11-23T09:00:00Z")));
  EXPECT_EQ(c[0].state.deadline_us(),
            absl::ToUnixMicros(T("2026-11-23T16:00:00Z")));
  // A stopped clock keeps its version and verdict.
  c = ClocksOf("INC3", "p-24x7");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].state.target_us(), absl::ToInt64Microseconds(absl::Hours(4)));
  // An event before the redefinition that arrives after it is folded in
  // time order: the acknowledgement changes nothing here, but the record
  // is recomputed and must come out the same.
  Exec(*engine_, R"({"acknowledgeIncident":{"incidentId":"INC1",
      "at":"2026-11-23T08:30:00Z","by":"desk"}})");
  c = ClocksOf("INC1", "p-24x7");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].state.target_us(), absl::ToInt64Microseconds(absl::Hours(8)));
  ASSERT_TRUE(engine_->RebuildProjection("sla").ok());
  c = ClocksOf("INC1", "p-24x7");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].state.target_history_size(), 1);
  ExpectVerified();
}

TEST_F(SlaAgreementTest, RetireRefusesUnknownAndRetiredPolicies) {
  DefineSlaConfig(*engine_, OfficePolicyJson());
  auto unknown = engine_->Execute(Cmd(
      R"({"retireSlaPolicy":{"policyId":"nope","at":"2026-11-23T09:00:00Z"}})"));
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(unknown.status().message(), "policy nope"))
      << unknown.status();
  Exec(*engine_, R"({"retireSlaPolicy":{"policyId":"p-office",
      "at":"2026-11-23T09:00:00Z"}})");
  auto again = engine_->Execute(Cmd(
      R"({"retireSlaPolicy":{"policyId":"p-office","at":"2026-11-23T10:00:00Z"}})"));
  EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(again.status().message(),
                                "retired at 2026-11-23T09:00:00Z"))
      << again.status();
  auto redefine = engine_->Execute(Cmd(absl::StrCat(
      R"({"defineSlaPolicy":{"at":"2026-11-24T00:00:00Z","policy":)",
      OfficePolicyJson(), "}}")));
  EXPECT_EQ(redefine.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(redefine.status().message(), "another id"))
      << redefine.status();
  // Nothing was appended by the refused commands.
  auto stream = engine_->ReadStream("policy/p-office", 0, 100);
  ASSERT_TRUE(stream.ok());
  EXPECT_EQ(stream->size(), 2u);
}

// An OLA with the network and database groups: 4h of business time per
// stay at P3, on the office calendar, paused on hold.
std::string OlaPolicyJson() {
  return R"({"id":"ola-infra","calendarId":"office-berlin","kind":"SLA_AGREEMENT_KIND_OLA",
    "groups":["network","database"],
    "targets":[{"priority":3,"resolution":"4h"}],
    "resolution":{"pause":{"states":["on_hold"]},
                  "stop":{"states":["resolved","closed"]},
                  "cancel":{"states":["cancelled"]}}})";
}

void Assign(Engine& engine, const std::string& id, const std::string& at,
            const std::string& group) {
  Exec(engine, absl::StrCat(R"({"assignIncident":{"incidentId":")", id,
                            R"(","at":")", at, R"(","group":")", group,
                            R"("}})"));
}

// Mon 2026-11-23 (Berlin office 09:00-17:00, UTC+1): network holds the
// incident 09:00-11:00, service desk (not in the OLA) 11:00-12:00,
// database 12:00-13:00 with an hour on hold, network again from 14:00 to
// the resolve at 15:00.
TEST_F(SlaAgreementTest, OlaCountsEachStayInAGroupAsACycleOfItsOwn) {
  DefineSlaConfig(*engine_, OfficePolicyJson());
  DefinePolicy(OlaPolicyJson());
  OpenIncident("INC1", "2026-11-23T07:30:00Z", 2, 2);  // P3, 08:30 Berlin.
  std::vector<SlaClockView> ola = ClocksOf("INC1", "ola-infra");
  ASSERT_EQ(ola.size(), 1u);
  EXPECT_EQ(ola[0].state.phase(), SLA_CLOCK_PHASE_NOT_STARTED);

  Assign(*engine_, "INC1", "2026-11-23T08:00:00Z", "network");
  Assign(*engine_, "INC1", "2026-11-23T10:00:00Z", "service-desk");
  Assign(*engine_, "INC1", "2026-11-23T11:00:00Z", "database");
  Exec(*engine_, R"({"holdIncident":{"incidentId":"INC1",
      "at":"2026-11-23T11:15:00Z","reason":"AWAITING_CALLER"}})");
  Exec(*engine_, R"({"resumeIncident":{"incidentId":"INC1",
      "at":"2026-11-23T11:45:00Z"}})");
  Assign(*engine_, "INC1", "2026-11-23T12:00:00Z", "network");
  Exec(*engine_, R"({"resolveIncident":{"incidentId":"INC1",
      "at":"2026-11-23T14:00:00Z","resolutionCode":"fixed"}})");

  ola = ClocksOf("INC1", "ola-infra");
  ASSERT_EQ(ola.size(), 3u);
  struct Want {
    std::string group;
    int64_t business_minutes;
    int64_t paused_minutes;
  };
  const Want want[] = {{"network", 120, 0}, {"database", 30, 30},
                       {"network", 120, 0}};
  for (size_t i = 0; i < 3; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(ola[i].cycle, static_cast<int64_t>(i + 1));
    EXPECT_EQ(ola[i].group, want[i].group);
    EXPECT_EQ(ola[i].stay_group, want[i].group);
    EXPECT_EQ(ola[i].state.status(), SLA_CLOCK_STATUS_MET);
    EXPECT_EQ(ola[i].state.business_elapsed_us(),
              want[i].business_minutes * 60'000'000);
    EXPECT_EQ(ola[i].state.paused_us(), want[i].paused_minutes * 60'000'000);
  }
  // The customer's SLA clock is one, across every group.
  EXPECT_EQ(ClocksOf("INC1", "p-office").size(), 0u);  // P3: not office's.
  ExpectVerified();
}

TEST_F(SlaAgreementTest, OlaStayBreachesAndTheNextGroupStartsFresh) {
  DefineSlaConfig(*engine_, OfficePolicyJson());
  DefinePolicy(OlaPolicyJson());
  OpenIncident("INC1", "2026-11-23T08:00:00Z", 2, 2);
  Assign(*engine_, "INC1", "2026-11-23T08:00:00Z", "database");
  // 4h of office time from Mon 09:00 Berlin: due 13:00 Berlin.
  std::vector<Envelope> fired =
      FiredFor(T("2026-11-23T16:00:00Z"), "ola-infra");
  ASSERT_FALSE(fired.empty());
  EXPECT_TRUE(fired.back().has_sla_breached());
  EXPECT_EQ(fired.back().occurred_at_us(),
            absl::ToUnixMicros(T("2026-11-23T12:00:00Z")));
  Assign(*engine_, "INC1", "2026-11-23T15:00:00Z", "network");
  std::vector<SlaClockView> ola = ClocksOf("INC1", "ola-infra");
  ASSERT_EQ(ola.size(), 2u);
  EXPECT_EQ(ola[0].state.status(), SLA_CLOCK_STATUS_BREACHED);
  EXPECT_EQ(ola[0].state.phase(), SLA_CLOCK_PHASE_STOPPED);
  EXPECT_EQ(ola[0].group, "database");
  EXPECT_EQ(ola[1].state.status(), SLA_CLOCK_STATUS_RUNNING);
  EXPECT_EQ(ola[1].group, "network");
  EXPECT_EQ(ola[1].state.business_elapsed_us(), 0);
  ExpectVerified();
}

TEST_F(SlaAgreementTest, UcRunsOnlyWhileWaitingOnTheSupplier) {
  DefinePolicy(R"({"id":"uc-mailvendor","calendarId":"24x7","kind":"SLA_AGREEMENT_KIND_UC",
    "targets":[{"priority":3,"resolution":"8h"}],
    "resolution":{"stop":{"states":["resolved","closed"]},
                  "cancel":{"states":["cancelled"]}}})");
  OpenIncident("INC1", "2026-11-23T08:00:00Z", 2, 2);
  auto hold = [&](const std::string& at, const std::string& reason) {
    Exec(*engine_, absl::StrCat(R"({"holdIncident":{"incidentId":"INC1","at":")",
                                at, R"(","reason":")", reason, R"("}})"));
  };
  auto resume = [&](const std::string& at) {
    Exec(*engine_, absl::StrCat(
                       R"({"resumeIncident":{"incidentId":"INC1","at":")", at,
                       R"("}})"));
  };
  hold("2026-11-23T09:00:00Z", "AWAITING_CALLER");  // Not the supplier.
  resume("2026-11-23T10:00:00Z");
  hold("2026-11-23T11:00:00Z", "AWAITING_VENDOR");  // 3h waiting.
  resume("2026-11-23T14:00:00Z");
  hold("2026-11-24T09:00:00Z", "AWAITING_VENDOR");  // 2h waiting.
  resume("2026-11-24T11:00:00Z");
  Exec(*engine_, R"({"resolveIncident":{"incidentId":"INC1",
      "at":"2026-11-24T12:00:00Z","resolutionCode":"fixed"}})");
  std::vector<SlaClockView> uc = ClocksOf("INC1", "uc-mailvendor");
  ASSERT_EQ(uc.size(), 1u);
  EXPECT_EQ(uc[0].state.status(), SLA_CLOCK_STATUS_MET);
  EXPECT_EQ(uc[0].state.business_elapsed_us(), int64_t{5} * 3'600'000'000);
  EXPECT_EQ(uc[0].state.started_at_us(),
            absl::ToUnixMicros(T("2026-11-23T11:00:00Z")));
  ExpectVerified();
}

// Property: on random incidents (24x7 calendar), the OLA's cycles are the
// stays in its groups and their business time is the time assigned there,
// off hold, before the resolve; the UC's business time is the time on hold
// awaiting the vendor before the resolve. The oracle walks the commands.
TEST_F(SlaAgreementTest, OlaAndUcClocksEqualAnOracleOnRandomIncidents) {
  DefinePolicy(R"({"id":"ola","calendarId":"24x7","kind":"SLA_AGREEMENT_KIND_OLA",
    "groups":["network","database"],
    "targets":[{"priority":3,"resolution":"1000h"}],
    "resolution":{"pause":{"states":["on_hold"]},
                  "stop":{"states":["resolved","closed"]}}})");
  DefinePolicy(R"({"id":"uc","calendarId":"24x7","kind":"SLA_AGREEMENT_KIND_UC",
    "targets":[{"priority":3,"resolution":"1000h"}],
    "resolution":{"stop":{"states":["resolved","closed"]}}})");
  const uint64_t seed = 20261206;
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  const char* groups[] = {"network", "database", "desk"};
  const char* reasons[] = {"AWAITING_VENDOR", "AWAITING_CALLER"};
  for (int i = 0; i < 40; ++i) {
    const std::string id = absl::StrCat("R", i);
    SCOPED_TRACE(id);
    int64_t t = absl::ToUnixMicros(T("2026-11-23T08:00:00Z"));
    auto at = [&] {
      return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixMicros(t),
                              absl::UTCTimeZone());
    };
    OpenIncident(id, at(), 2, 2);
    // Oracle state.
    std::string group;
    bool on_hold = false, vendor = false;
    std::map<std::string, int64_t> ola_us;  // Per group.
    int64_t uc_us = 0;
    int stays = 0;
    auto advance = [&](int64_t minutes) {
      const int64_t d = minutes * 60'000'000;
      if ((group == "network" || group == "database") && !on_hold) {
        ola_us[group] += d;
      }
      if (on_hold && vendor) uc_us += d;
      t += d;
    };
    const int steps = 2 + static_cast<int>(rng() % 8);
    for (int k = 0; k < steps; ++k) {
      advance(1 + static_cast<int64_t>(rng() % 300));
      const int what = static_cast<int>(rng() % 3);
      if (what == 0 || on_hold) {
        if (on_hold) {
          Exec(*engine_, absl::StrCat(R"({"resumeIncident":{"incidentId":")",
                                      id, R"(","at":")", at(), R"("}})"));
          on_hold = vendor = false;
          continue;
        }
      }
      if (what <= 1) {
        const std::string g = groups[rng() % 3];
        if (g == group) continue;
        Exec(*engine_, absl::StrCat(R"({"assignIncident":{"incidentId":")", id,
                                    R"(","at":")", at(), R"(","group":")", g,
                                    R"("}})"));
        group = g;
        stays += g != "desk";
      } else {
        const std::string r = reasons[rng() % 2];
        Exec(*engine_, absl::StrCat(R"({"holdIncident":{"incidentId":")", id,
                                    R"(","at":")", at(), R"(","reason":")", r,
                                    R"("}})"));
        on_hold = true;
        vendor = r == "AWAITING_VENDOR";
      }
    }
    advance(1 + static_cast<int64_t>(rng() % 300));
    if (on_hold) {
      Exec(*engine_, absl::StrCat(R"({"resumeIncident":{"incidentId":")", id,
                                  R"(","at":")", at(), R"("}})"));
      on_hold = vendor = false;
    }
    Exec(*engine_, absl::StrCat(R"({"resolveIncident":{"incidentId":")", id,
                                R"(","at":")", at(),
                                R"(","resolutionCode":"fixed"}})"));

    std::map<std::string, int64_t> got;
    int cycles = 0;
    for (const SlaClockView& v : ClocksOf(id, "ola")) {
      if (!v.state.has_started_at_us()) continue;  // Never in a group.
      ++cycles;
      EXPECT_EQ(v.state.phase(), SLA_CLOCK_PHASE_STOPPED) << v.cycle;
      got[v.group] += v.state.business_elapsed_us();
    }
    EXPECT_EQ(cycles, stays);
    for (const char* g : {"network", "database"}) {
      EXPECT_EQ(got[g], ola_us[g]) << g;
    }
    std::vector<SlaClockView> uc = ClocksOf(id, "uc");
    ASSERT_EQ(uc.size(), 1u);
    EXPECT_EQ(uc[0].state.business_elapsed_us(), uc_us);
  }
  ExpectVerified();
}

TEST_F(SlaAgreementTest, OlaAndUcPoliciesAreValidated) {
  auto define = [&](const std::string& json) {
    return engine_
        ->Execute(Cmd(absl::StrCat(
            R"({"defineSlaPolicy":{"at":"2026-11-01T00:00:00Z","policy":)",
            json, "}}")))
        .status();
  };
  absl::Status st = define(R"({"id":"o1","calendarId":"24x7","kind":"SLA_AGREEMENT_KIND_OLA",
      "targets":[{"priority":3,"resolution":"4h"}],
      "resolution":{"stop":{"states":["resolved"]}}})");
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(st.message(), "groups: required")) << st;
  st = define(R"({"id":"o2","calendarId":"24x7","kind":"SLA_AGREEMENT_KIND_OLA",
      "groups":["network"],"targets":[{"priority":3,"response":"1h"}],
      "resolution":{"stop":{"states":["resolved"]}}})");
  EXPECT_TRUE(absl::StrContains(st.message(), "resolution targets only")) << st;
  st = define(R"({"id":"o3","calendarId":"24x7","kind":"SLA_AGREEMENT_KIND_OLA",
      "groups":["network"],"targets":[{"priority":3,"resolution":"4h"}],
      "resolution":{"start":{"events":["incident_opened"]},
                    "stop":{"states":["resolved"]}}})");
  EXPECT_TRUE(absl::StrContains(st.message(), "resolution.start: must be empty"))
      << st;
  st = define(R"({"id":"s1","calendarId":"24x7","groups":["network"],
      "targets":[{"priority":3,"resolution":"4h"}],
      "resolution":{"start":{"events":["incident_opened"]},
                    "stop":{"states":["resolved"]}}})");
  EXPECT_TRUE(absl::StrContains(st.message(), "only an OLA policy")) << st;
  st = define(R"({"id":"u1","calendarId":"24x7","kind":"SLA_AGREEMENT_KIND_UC",
      "appliesTo":{"recordTypes":["change"]},
      "targets":[{"priority":3,"resolution":"4h"}],
      "resolution":{"stop":{"states":["resolved"]}}})");
  EXPECT_TRUE(absl::StrContains(st.message(), "incidents only")) << st;
}

// --- Mid-flight attach (the rule is written down in lib/sla/sla_policy.h) --

// A P1-only 24x7 policy with no pause rule: time on hold counts.
std::string P1NoPausePolicyJson() {
  return R"({"id":"p1-nopause","calendarId":"24x7",
    "appliesTo":{"recordTypes":["incident"],"priorities":[1]},
    "targets":[{"priority":1,"resolution":"96h"}],
    "resolution":{"start":{"events":["incident_opened"]},
                  "stop":{"states":["resolved","closed"]}}})";
}

const SlaClockView* Find(const std::vector<SlaClockView>& clocks,
                         const std::string& metric) {
  for (const SlaClockView& v : clocks) {
    if (v.target_type == metric) return &v;
  }
  return nullptr;
}

// An incident opened P3 on Monday, on hold from Monday to Thursday (three
// days), then raised to P1: the P1 policies attach mid-flight and count
// the record's whole history under their own rules, as if they had
// applied from the start condition. The office policy pauses on hold, so
// the three days stay paused; the no-pause policy counts them.
TEST_F(SlaAgreementTest, AMidFlightAttachCountsTheHistoryUnderTheNewRules) {
  DefineSlaConfig(*engine_, OfficePolicyJson());
  DefinePolicy(P3PolicyJson(false));
  DefinePolicy(P1NoPausePolicyJson());
  OpenIncident("INC1", "2026-11-23T08:00:00Z", 2, 2);  // Mon 09:00 Berlin, P3.
  Exec(*engine_, R"({"holdIncident":{"incidentId":"INC1",
      "at":"2026-11-23T09:00:00Z","reason":"AWAITING_CALLER"}})");
  Exec(*engine_, R"({"resumeIncident":{"incidentId":"INC1",
      "at":"2026-11-26T09:00:00Z"}})");
  EXPECT_TRUE(ClocksOf("INC1", "p-office").empty());
  EXPECT_TRUE(ClocksOf("INC1", "p1-nopause").empty());
  Raise("INC1", "2026-11-26T10:00:00Z", 1);  // Thu 11:00 Berlin.

  // The office policy: Mon 09:00-10:00 Berlin counts, the 72h on hold
  // are paused time, and it runs again from the resume (Thu 10:00 Berlin;
  // a clock's totals are as of its last input): 3h of the 4h are left
  // then, so it is due Thu 13:00 Berlin.
  const std::vector<SlaClockView> office_clocks = ClocksOf("INC1", "p-office");
  const SlaClockView* office = Find(office_clocks, "resolution");
  ASSERT_NE(office, nullptr);
  EXPECT_EQ(office->state.phase(), SLA_CLOCK_PHASE_RUNNING);
  EXPECT_EQ(office->state.started_at_us(),
            absl::ToUnixMicros(T("2026-11-23T08:00:00Z")));
  EXPECT_EQ(office->state.observed_at_us(),
            absl::ToUnixMicros(T("2026-11-26T09:00:00Z")));
  EXPECT_EQ(office->state.business_elapsed_us(),
            absl::ToInt64Microseconds(absl::Hours(1)));
  EXPECT_EQ(office->state.paused_us(),
            absl::ToInt64Microseconds(absl::Hours(72)));
  EXPECT_EQ(office->state.target_us(),
            absl::ToInt64Microseconds(absl::Hours(4)));
  EXPECT_EQ(office->state.deadline_us(),
            absl::ToUnixMicros(T("2026-11-26T12:00:00Z")));  // Thu 13:00.
  // Its response clock (1h, no pause rule) was due on Monday, at the
  // instant it would have been then: history is not re-dated to the
  // attach (its breach fires at that instant, below).
  const SlaClockView* response = Find(office_clocks, "response");
  ASSERT_NE(response, nullptr);
  EXPECT_EQ(response->state.deadline_us(),
            absl::ToUnixMicros(T("2026-11-23T09:00:00Z")));

  // The no-pause policy: every hour since Monday 08:00Z counts, the hold
  // too: 96h from Monday 08:00Z, due Friday 08:00Z.
  const std::vector<SlaClockView> nopause_clocks =
      ClocksOf("INC1", "p1-nopause");
  const SlaClockView* nopause = Find(nopause_clocks, "resolution");
  ASSERT_NE(nopause, nullptr);
  EXPECT_EQ(nopause->state.phase(), SLA_CLOCK_PHASE_RUNNING);
  EXPECT_EQ(nopause->state.paused_us(), 0);
  EXPECT_EQ(nopause->state.deadline_us(),
            absl::ToUnixMicros(T("2026-11-27T08:00:00Z")));

  // The P3 policy no longer matches: cancelled at the raise.
  std::vector<SlaClockView> p3 = ClocksOf("INC1", "p3-only");
  ASSERT_EQ(p3.size(), 1u);
  EXPECT_EQ(p3[0].state.cancelled_at_us(),
            absl::ToUnixMicros(T("2026-11-26T10:00:00Z")));

  // The office clock fires at the deadline computed from its history.
  std::vector<Envelope> fired =
      FiredFor(T("2026-11-26T12:00:00Z"), "p-office");
  int breaches = 0;
  for (const Envelope& e : fired) {
    if (!e.has_sla_breached()) continue;
    ++breaches;
    EXPECT_EQ(e.occurred_at_us(),
              absl::ToUnixMicros(T(e.sla_breached().metric() ==
                                           SLA_METRIC_RESOLUTION
                                       ? "2026-11-26T12:00:00Z"
                                       : "2026-11-23T09:00:00Z")));
  }
  EXPECT_EQ(breaches, 2);
  ExpectVerified();
}

// Raised while still on hold (five days over a weekend): the new clock
// attaches paused, with the time before the hold counted, and runs from
// the resume.
TEST_F(SlaAgreementTest, AMidFlightAttachWhileOnHoldStartsPaused) {
  DefineSlaConfig(*engine_, OfficePolicyJson());
  OpenIncident("INC1", "2026-11-20T13:00:00Z", 2, 2);  // Fri 14:00 Berlin, P3.
  Exec(*engine_, R"({"holdIncident":{"incidentId":"INC1",
      "at":"2026-11-20T14:00:00Z","reason":"AWAITING_CALLER"}})");
  Raise("INC1", "2026-11-23T10:00:00Z", 2);  // Mon, still on hold: P2, 8h.
  std::vector<SlaClockView> clocks = ClocksOf("INC1", "p-office");
  const SlaClockView* c = Find(clocks, "resolution");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->state.phase(), SLA_CLOCK_PHASE_PAUSED);
  EXPECT_EQ(c->state.business_elapsed_us(),
            absl::ToInt64Microseconds(absl::Hours(1)));  // Fri 14:00-15:00.
  EXPECT_FALSE(c->state.has_deadline_us());
  Exec(*engine_, R"({"resumeIncident":{"incidentId":"INC1",
      "at":"2026-11-25T08:00:00Z"}})");  // Wed 09:00 Berlin.
  clocks = ClocksOf("INC1", "p-office");
  c = Find(clocks, "resolution");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->state.phase(), SLA_CLOCK_PHASE_RUNNING);
  EXPECT_EQ(c->state.paused_us(),
            absl::ToInt64Microseconds(absl::Hours(4 * 24 + 18)));
  // 7h left from Wed 09:00 Berlin: Wed 16:00 Berlin = 15:00Z.
  EXPECT_EQ(c->state.deadline_us(),
            absl::ToUnixMicros(T("2026-11-25T15:00:00Z")));
  ExpectVerified();
}

}  // namespace
}  // namespace slate
