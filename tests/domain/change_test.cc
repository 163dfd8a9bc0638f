// Change decide/evolve: every (type, state, command) triple against a table
// written out here; risk scoring, approvals, schedule conflicts, outcomes.
#include "lib/domain/change.h"

#include <map>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/domain/policy.h"
#include "lib/domain/service.h"
#include "tests/domain/domain_test_util.h"

namespace slate {
namespace {

using ::slate::testing::Cmd;
using ::slate::testing::Fold;
using ::slate::testing::T;

class ChangeTest : public ::testing::Test {
 protected:
  ChangeTest() {
    email_ = NewServiceState("email");
    email_.set_defined(true);
  }
  ChangeContext Ctx(absl::Time at) {
    ChangeContext ctx;
    ctx.at = at;
    ctx.policy = &policy_;
    ctx.services = {&email_};
    for (const ChangeState& c : others_) ctx.other_changes.push_back(&c);
    return ctx;
  }
  void Do(ChangeState* s, const std::string& json, absl::Time at) {
    auto events = DecideChange(*s, Cmd(json), Ctx(at));
    ASSERT_TRUE(events.ok()) << json << ": " << events.status();
    Fold(*events, at, s, EvolveChange);
  }
  absl::Status Try(const ChangeState& s, const std::string& json) {
    return DecideChange(s, Cmd(json), Ctx(T(100))).status();
  }
  ChangeState Requested(const std::string& id, const std::string& type,
                        const std::string& extra = "") {
    ChangeState s = NewChangeState(id);
    Do(&s,
       absl::StrCat(
           R"({"requestChange": {"changeId": ")", id, R"(", "type": ")", type,
           R"(", "serviceIds": ["email"], "configurationItems": ["db1"], "impact": 3)",
           extra, "}}"),
       T(0));
    return s;
  }
  static std::string Schedule(const std::string& id, int from_min, int to_min,
                              const std::string& override_reason = "") {
    return absl::StrCat(
        R"({"scheduleChange": {"changeId": ")", id, R"(", "start": ")",
        absl::FormatTime(absl::RFC3339_full, T(from_min), absl::UTCTimeZone()),
        R"(", "end": ")",
        absl::FormatTime(absl::RFC3339_full, T(to_min), absl::UTCTimeZone()),
        R"(", "overrideReason": ")", override_reason, R"("}})");
  }

  DomainPolicy policy_;
  ServiceState email_;
  std::vector<ChangeState> others_;
};

TEST_F(ChangeTest, EveryTypeStateCommandTripleFollowsTheTable) {
  const std::string id = R"("changeId": "CHG1")";
  struct Rule {
    std::string json;
    std::map<std::string, std::set<std::string>> from;  // type -> states.
    std::string to;                                     // "" = stays.
  };
  auto all = [](std::set<std::string> s) {
    return std::map<std::string, std::set<std::string>>{
        {"STANDARD", s}, {"NORMAL", s}, {"EMERGENCY", s}};
  };
  std::map<std::string, Rule> rules = {
      {"start assessment",
       {absl::StrCat(R"({"startChangeAssessment": {)", id, "}}"),
        {{"NORMAL", {"New"}}},
        "Assess"}},
      {"assess risk",
       {absl::StrCat(R"({"assessChangeRisk": {)", id, "}}"),
        all({"New", "Assess"}), ""}},
      {"request authorization",
       {absl::StrCat(R"({"requestChangeAuthorization": {)", id, "}}"),
        {{"NORMAL", {"Assess"}}, {"EMERGENCY", {"New"}}},
        "Authorize"}},
      {"reject",
       {absl::StrCat(R"({"rejectChange": {)", id,
                     R"(, "approver": "x", "reason": "no"}})"),
        all({"Assess", "Authorize"}), "Rejected"}},
      {"schedule",
       {Schedule("CHG1", 60, 120),
        {{"STANDARD", {"New", "Scheduled"}},
         {"NORMAL", {"Authorize", "Scheduled"}},
         {"EMERGENCY", {"Authorize", "Scheduled"}}},
        "Scheduled"}},
      {"start implementation",
       {absl::StrCat(R"({"startChangeImplementation": {)", id, "}}"),
        all({"Scheduled"}), "Implement"}},
      {"complete implementation",
       {absl::StrCat(R"({"completeChangeImplementation": {)", id, "}}"),
        all({"Implement"}), "Review"}},
      {"close",
       {absl::StrCat(R"({"closeChange": {)", id,
                     R"(, "outcome": "SUCCESSFUL"}})"),
        all({"Review"}), "Closed"}},
      {"cancel",
       {absl::StrCat(R"({"cancelChange": {)", id, "}}"),
        all({"New", "Assess", "Authorize", "Scheduled"}), "Cancelled"}},
      // The post-implementation review keeps the state.
      {"review",
       {absl::StrCat(R"({"reviewChange": {)", id,
                     R"(, "reviewer": "r", "outcome": "SUCCESSFUL", )"
                     R"("objectivesMet": true}})"),
        all({"Review", "Closed"}), ""}},
  };
  int checked = 0;
  for (const std::string type : {"STANDARD", "NORMAL", "EMERGENCY"}) {
    const std::string role = type == "NORMAL" ? "change_manager" : "ecab";
    rules["approve"] = {
        absl::StrCat(R"({"approveChange": {)", id,
                     R"(, "approver": "m2", "role": ")", role, "\"}}"),
        all({"Authorize"}), ""};
    // One history per reachable state.
    std::map<std::string, ChangeState> states;
    ChangeState s = Requested("CHG1", type);
    states["New"] = s;
    ChangeState cancelled = s;
    Do(&cancelled, rules["cancel"].json, T(1));
    states["Cancelled"] = cancelled;
    if (type == "NORMAL") {
      Do(&s, rules["start assessment"].json, T(2));
      states["Assess"] = s;
    }
    if (type != "STANDARD") {
      Do(&s, rules["request authorization"].json, T(3));
      Do(&s,
         absl::StrCat(R"({"approveChange": {)", id,
                      R"(, "approver": "m1", "role": ")", role, "\"}}"),
         T(4));
      states["Authorize"] = s;
      ChangeState rejected = s;
      Do(&rejected, rules["reject"].json, T(5));
      states["Rejected"] = rejected;
    }
    Do(&s, rules["schedule"].json, T(6));
    states["Scheduled"] = s;
    Do(&s, rules["start implementation"].json, T(7));
    states["Implement"] = s;
    Do(&s, rules["complete implementation"].json, T(8));
    states["Review"] = s;
    Do(&s, rules["close"].json, T(9));
    states["Closed"] = s;
    EXPECT_EQ(states.size(), type == "STANDARD" ? 6u
                             : type == "NORMAL" ? 9u
                                                : 8u);
    for (const auto& [cmd, rule] : rules) {
      EXPECT_EQ(Try(NewChangeState("CHG1"), rule.json).code(),
                absl::StatusCode::kNotFound)
          << cmd;
      auto it = rule.from.find(type);
      const std::set<std::string> from =
          it == rule.from.end() ? std::set<std::string>{} : it->second;
      for (const auto& [name, st] : states) {
        SCOPED_TRACE(absl::StrCat(type, ": ", cmd, " in ", name));
        ASSERT_EQ(ChangeStatusName(st.status()), name);
        auto events = DecideChange(st, Cmd(rule.json), Ctx(T(100)));
        const std::string to = rule.to.empty() ? name : rule.to;
        if (from.count(name)) {
          ASSERT_TRUE(events.ok()) << events.status();
          ChangeState after = st;
          Fold(*events, T(100), &after, EvolveChange);
          EXPECT_EQ(ChangeStatusName(after.status()), to);
        } else {
          ASSERT_EQ(events.status().code(),
                    absl::StatusCode::kFailedPrecondition)
              << events.status();
          EXPECT_NE(
              events.status().message().find(absl::StrCat(name, " -> ", to)),
              std::string::npos)
              << events.status();
        }
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 11 * (6 + 9 + 8));
}

// The oracle for risk: every impact and every subset of the default answers.
TEST_F(ChangeTest, RiskScoreMatchesTheDefaultFormulaForEveryAnswerSet) {
  const std::vector<std::pair<std::string, int>> questions = {
      {"untested", 2},
      {"no_backout_plan", 3},
      {"requires_outage", 2},
      {"first_time", 1}};
  int cases = 0;
  for (int impact = 1; impact <= 3; ++impact) {
    for (int mask = 0; mask < 16; ++mask) {
      google::protobuf::Map<std::string, bool> answers;
      int score = impact == 1 ? 4 : impact == 2 ? 2 : 0;
      for (int q = 0; q < 4; ++q) {
        const bool yes = (mask >> q) & 1;
        answers[questions[q].first] = yes;
        if (yes) score += questions[q].second;
      }
      auto r = ScoreChangeRisk(policy_.change, impact, answers, "t");
      ASSERT_TRUE(r.ok());
      EXPECT_EQ(r->score, score);
      EXPECT_EQ(r->risk, score >= 5   ? RISK_HIGH
                         : score >= 3 ? RISK_MODERATE
                                      : RISK_LOW)
          << impact << " " << mask;
      ++cases;
    }
  }
  EXPECT_EQ(cases, 48);
  google::protobuf::Map<std::string, bool> unknown;
  unknown["nope"] = true;
  EXPECT_EQ(ScoreChangeRisk(policy_.change, 1, unknown, "t").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ScoreChangeRisk(policy_.change, 4, {}, "t").status().code(),
            absl::StatusCode::kInvalidArgument);
  // Requests record the risk; configurable thresholds change it.
  ChangeState s =
      Requested("CHG1", "NORMAL", R"(, "riskAnswers": {"untested": true})");
  EXPECT_EQ(s.risk(), RISK_LOW);  // 0 + 2.
  policy_.change.set_moderate_threshold(2);
  s = Requested("CHG1", "NORMAL", R"(, "riskAnswers": {"untested": true})");
  EXPECT_EQ(s.risk(), RISK_MODERATE);
}

TEST_F(ChangeTest, HighRiskNeedsTheCabQuorum) {
  // Impact 1 (4) + untested (2) = 6: high.
  ChangeState s =
      Requested("CHG1", "NORMAL", R"(, "riskAnswers": {"untested": true})");
  ASSERT_TRUE(
      Try(s,
          R"({"assessChangeRisk": {"changeId": "CHG1", "impact": 1, "riskAnswers": {"untested": true}}})")
          .ok());
  Do(&s,
     R"({"assessChangeRisk": {"changeId": "CHG1", "impact": 1, "riskAnswers": {"untested": true}}})",
     T(1));
  ASSERT_EQ(s.risk(), RISK_HIGH);
  Do(&s, R"({"startChangeAssessment": {"changeId": "CHG1"}})", T(2));
  Do(&s, R"({"requestChangeAuthorization": {"changeId": "CHG1"}})", T(3));
  // A change manager does not count for high risk.
  EXPECT_EQ(
      Try(s,
          R"({"approveChange": {"changeId": "CHG1", "approver": "m", "role": "change_manager"}})")
          .code(),
      absl::StatusCode::kFailedPrecondition);
  for (int i = 1; i <= 3; ++i) {
    absl::Status sched = Try(s, Schedule("CHG1", 60, 120));
    EXPECT_EQ(sched.code(), absl::StatusCode::kFailedPrecondition) << i;
    EXPECT_NE(sched.message().find("cab"), std::string::npos) << sched;
    Do(&s,
       absl::StrCat(
           R"({"approveChange": {"changeId": "CHG1", "approver": "cab)", i,
           R"(", "role": "cab"}})"),
       T(3 + i));
    // The same approver twice does not count twice.
    EXPECT_EQ(
        Try(s, absl::StrCat(
                   R"({"approveChange": {"changeId": "CHG1", "approver": "cab)",
                   i, R"(", "role": "cab"}})"))
            .code(),
        absl::StatusCode::kFailedPrecondition);
  }
  EXPECT_EQ(MissingApprovals(policy_.change, s), "");
  EXPECT_TRUE(Try(s, Schedule("CHG1", 60, 120)).ok());
  // A configurable quorum.
  policy_.change.mutable_approval_rules(2)->set_quorum(4);
  ASSERT_EQ(policy_.change.approval_rules(2).risk(), RISK_HIGH);
  EXPECT_EQ(Try(s, Schedule("CHG1", 60, 120)).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(ChangeTest, AnyRejectionRejects) {
  ChangeState s = Requested("CHG1", "EMERGENCY");
  Do(&s, R"({"requestChangeAuthorization": {"changeId": "CHG1"}})", T(1));
  Do(&s,
     R"({"approveChange": {"changeId": "CHG1", "approver": "a", "role": "ecab"}})",
     T(2));
  EXPECT_EQ(Try(s, R"({"rejectChange": {"changeId": "CHG1", "approver": "b"}})")
                .code(),
            absl::StatusCode::kInvalidArgument);  // Reason required.
  Do(&s,
     R"({"rejectChange": {"changeId": "CHG1", "approver": "b", "reason": "risky"}})",
     T(3));
  EXPECT_EQ(s.status(), CHANGE_REJECTED);
  EXPECT_EQ(s.rejected_by(), "b");
}

TEST_F(ChangeTest, StandardChangesArePreApproved) {
  ChangeState s = Requested("CHG1", "STANDARD");
  EXPECT_EQ(MissingApprovals(policy_.change, s), "");
  Do(&s, Schedule("CHG1", 60, 120), T(1));
  EXPECT_EQ(s.status(), CHANGE_SCHEDULED);
  EXPECT_TRUE(s.approvals().empty());
}

TEST_F(ChangeTest, ScheduleConflictsAreAllListed) {
  // Two blackouts of email and two scheduled changes on db1, one far away.
  for (auto [wid, a, b] : {std::tuple<const char*, int, int>{"freeze", 50, 70},
                           {"audit", 110, 200},
                           {"later", 500, 600}}) {
    BlackoutWindow* w = email_.add_blackout_windows();
    w->set_window_id(wid);
    w->set_start_us(absl::ToUnixMicros(T(a)));
    w->set_end_us(absl::ToUnixMicros(T(b)));
  }
  for (auto [id, a, b, status] :
       {std::tuple<const char*, int, int, ChangeStatus>{"CHG2", 100, 130,
                                                        CHANGE_SCHEDULED},
        {"CHG3", 0, 61, CHANGE_IMPLEMENT},
        {"CHG4", 60, 120, CHANGE_CLOSED},         // Not scheduled any more.
        {"CHG5", 120, 180, CHANGE_SCHEDULED}}) {  // Touches, no overlap.
    ChangeState c = NewChangeState(id);
    c.set_status(status);
    c.add_configuration_items("db1");
    c.set_planned_start_us(absl::ToUnixMicros(T(a)));
    c.set_planned_end_us(absl::ToUnixMicros(T(b)));
    others_.push_back(c);
  }
  ChangeState other_ci = NewChangeState("CHG6");
  other_ci.set_status(CHANGE_SCHEDULED);
  other_ci.add_configuration_items("web1");
  other_ci.set_planned_start_us(absl::ToUnixMicros(T(60)));
  other_ci.set_planned_end_us(absl::ToUnixMicros(T(120)));
  others_.push_back(other_ci);

  ChangeState s = Requested("CHG1", "STANDARD");
  absl::Status st = Try(s, Schedule("CHG1", 60, 120));
  ASSERT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  for (const char* must : {"4 conflict", "freeze", "audit", "CHG2", "CHG3"}) {
    EXPECT_NE(st.message().find(must), std::string::npos) << must << ": " << st;
  }
  for (const char* must_not : {"later", "CHG4", "CHG5", "CHG6"}) {
    EXPECT_EQ(st.message().find(must_not), std::string::npos)
        << must_not << ": " << st;
  }
  // A standard change cannot override the blackouts, even with a reason.
  EXPECT_EQ(Try(s, Schedule("CHG1", 60, 120, "urgent")).code(),
            absl::StatusCode::kFailedPrecondition);
  // Away from blackouts, only CHG2 conflicts: the override records it.
  absl::Status one = Try(s, Schedule("CHG1", 100, 110));
  EXPECT_NE(one.message().find("1 conflict"), std::string::npos) << one;
  Do(&s, Schedule("CHG1", 100, 110, "agreed with CHG2 owner"), T(1));
  EXPECT_EQ(s.schedule_override_reason(), "agreed with CHG2 owner");
  ASSERT_EQ(s.overridden_conflicts_size(), 1);
  EXPECT_NE(s.overridden_conflicts(0).find("CHG2"), std::string::npos);
  // No conflict, no override recorded.
  ChangeState free = Requested("CHG7", "STANDARD");
  Do(&free, Schedule("CHG7", 300, 310, "not needed"), T(2));
  EXPECT_EQ(free.schedule_override_reason(), "");
  EXPECT_EQ(free.overridden_conflicts_size(), 0);

  // An emergency change may go into a blackout, with an override only.
  ChangeState e = Requested("CHG8", "EMERGENCY");
  Do(&e, R"({"requestChangeAuthorization": {"changeId": "CHG8"}})", T(3));
  Do(&e,
     R"({"approveChange": {"changeId": "CHG8", "approver": "a", "role": "ecab"}})",
     T(4));
  EXPECT_EQ(Try(e, Schedule("CHG8", 520, 530)).code(),
            absl::StatusCode::kFailedPrecondition);
  Do(&e, Schedule("CHG8", 520, 530, "outage fix"), T(5));
  EXPECT_EQ(e.status(), CHANGE_SCHEDULED);
  ASSERT_EQ(e.overridden_conflicts_size(), 1);
  EXPECT_NE(e.overridden_conflicts(0).find("later"), std::string::npos);
  // Bad windows are invalid input.
  ChangeState b = Requested("CHG9", "STANDARD");
  EXPECT_EQ(Try(b, Schedule("CHG9", 10, 10)).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      Try(b,
          R"({"scheduleChange": {"changeId": "CHG9", "start": "yesterday", "end": "2026-11-02T10:00:00Z"}})")
          .code(),
      absl::StatusCode::kInvalidArgument);
}

TEST_F(ChangeTest, CloseRecordsOutcomeAndReview) {
  ChangeState s = Requested("CHG1", "STANDARD");
  Do(&s, Schedule("CHG1", 60, 120), T(1));
  Do(&s, R"({"startChangeImplementation": {"changeId": "CHG1"}})", T(2));
  Do(&s,
     R"({"completeChangeImplementation": {"changeId": "CHG1", "notes": "done"}})",
     T(3));
  EXPECT_EQ(Try(s, R"({"closeChange": {"changeId": "CHG1"}})").code(),
            absl::StatusCode::kInvalidArgument);
  for (const char* o : {"SUCCESSFUL_WITH_ISSUES", "FAILED", "ROLLED_BACK"}) {
    EXPECT_EQ(Try(s, absl::StrCat(
                         R"({"closeChange": {"changeId": "CHG1", "outcome": ")",
                         o, "\"}}"))
                  .code(),
              absl::StatusCode::kInvalidArgument)
        << o;
    EXPECT_TRUE(
        Try(s,
            absl::StrCat(R"({"closeChange": {"changeId": "CHG1", "outcome": ")",
                         o, R"(", "reviewNotes": "pir"}})"))
            .ok())
        << o;
  }
  policy_.change.set_require_review_notes_unless_successful(false);
  EXPECT_TRUE(
      Try(s, R"({"closeChange": {"changeId": "CHG1", "outcome": "FAILED"}})")
          .ok());
  Do(&s,
     R"({"closeChange": {"changeId": "CHG1", "outcome": "ROLLED_BACK", "reviewNotes": "db lock"}})",
     T(4));
  EXPECT_EQ(s.outcome(), ROLLED_BACK);
  EXPECT_EQ(s.review_notes(), "db lock");
  EXPECT_EQ(s.implementation_notes(), "done");
}

TEST_F(ChangeTest, RequestValidatesTypeImpactAndServices) {
  ChangeState none = NewChangeState("CHG1");
  EXPECT_EQ(Try(none, R"({"requestChange": {"changeId": "CHG1", "impact": 2}})")
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      Try(none, R"({"requestChange": {"changeId": "CHG1", "type": "NORMAL"}})")
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      Try(none,
          R"({"requestChange": {"changeId": "CHG1", "type": "NORMAL", "impact": 2, "serviceIds": ["nope"]}})")
          .code(),
      absl::StatusCode::kNotFound);
  EXPECT_EQ(
      Try(Requested("CHG1", "NORMAL"),
          R"({"requestChange": {"changeId": "CHG1", "type": "NORMAL", "impact": 2}})")
          .code(),
      absl::StatusCode::kAlreadyExists);
}

TEST_F(ChangeTest, IncidentsLinkedAsCausedOrFixed) {
  ChangeState s = Requested("CHG1", "STANDARD");
  for (auto [inc, rel] :
       {std::pair<const char*, ChangeLinkRelation>{"INC1", CAUSED_BY},
        {"INC2", CAUSED_BY},
        {"INC3", FIXED_BY}}) {
    auto e = DecideChangeIncidentLink(s, inc, rel);
    ASSERT_TRUE(e.ok());
    Fold({*e}, T(1), &s, EvolveChange);
  }
  EXPECT_EQ(s.caused_incidents_size(), 2);
  EXPECT_EQ(s.fixed_incidents_size(), 1);
  EXPECT_EQ(DecideChangeIncidentLink(NewChangeState("X"), "INC1", CAUSED_BY)
                .status()
                .code(),
            absl::StatusCode::kNotFound);
}

// --- Post-implementation review ---------------------------------------------

class ChangeReviewTest : public ChangeTest {
 protected:
  // A change of `type` through to Review (approved by the rule's roles).
  ChangeState Implemented(const std::string& id, const std::string& type,
                          const std::string& extra = "") {
    ChangeState s = Requested(id, type, extra);
    const std::string cid = absl::StrCat(R"("changeId": ")", id, "\"");
    if (type == "NORMAL") {
      Do(&s, absl::StrCat(R"({"startChangeAssessment": {)", cid, "}}"), T(1));
    }
    if (type != "STANDARD") {
      Do(&s, absl::StrCat(R"({"requestChangeAuthorization": {)", cid, "}}"),
         T(2));
      const ApprovalRule* rule =
          FindApprovalRule(policy_.change, s.type(), s.risk());
      for (int i = 0; rule != nullptr && i < rule->quorum(); ++i) {
        Do(&s,
           absl::StrCat(R"({"approveChange": {)", cid, R"(, "approver": "a)", i,
                        R"(", "role": ")", rule->roles(0), "\"}}"),
           T(3));
      }
    }
    Do(&s, Schedule(id, 60, 120), T(4));
    Do(&s, absl::StrCat(R"({"startChangeImplementation": {)", cid, "}}"),
       T(60));
    Do(&s, absl::StrCat(R"({"completeChangeImplementation": {)", cid, "}}"),
       T(90));
    EXPECT_EQ(s.status(), CHANGE_REVIEW);
    return s;
  }
  static std::string ReviewJson(const std::string& id,
                                const std::string& outcome,
                                const std::string& objectives = "true") {
    return absl::StrCat(R"({"reviewChange": {"changeId": ")", id,
                        R"(", "reviewer": "pat", "outcome": ")", outcome,
                        R"(", "objectivesMet": )", objectives,
                        R"(, "lessons": "test the backout"}})");
  }
  static std::string CloseJson(const std::string& id,
                               const std::string& outcome) {
    return absl::StrCat(R"({"closeChange": {"changeId": ")", id,
                        R"(", "outcome": ")", outcome,
                        R"(", "reviewNotes": "n"}})");
  }
};

TEST_F(ChangeReviewTest, ReviewRecordsFindingsAndTheIncidentsCausedSoFar) {
  ChangeState s = Implemented("CHG1", "STANDARD");
  for (auto [inc, rel] :
       {std::pair<const char*, ChangeLinkRelation>{"INC1", CAUSED_BY},
        {"INC2", FIXED_BY},
        {"INC3", CAUSED_BY}}) {
    auto e = DecideChangeIncidentLink(s, inc, rel);
    ASSERT_TRUE(e.ok());
    Fold({*e}, T(95), &s, EvolveChange);
  }
  auto events =
      DecideChange(s, Cmd(ReviewJson("CHG1", "FAILED", "false")), Ctx(T(100)));
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 1u);
  const ChangeReviewed& p = (*events)[0].change_reviewed();
  EXPECT_EQ(p.reviewer(), "pat");
  EXPECT_EQ(p.outcome(), FAILED);
  EXPECT_FALSE(p.objectives_met());
  EXPECT_EQ(p.lessons(), "test the backout");
  ASSERT_EQ(p.caused_incidents_size(), 2);  // Caused by, not fixed by.
  EXPECT_EQ(p.caused_incidents(0), "INC1");
  EXPECT_EQ(p.caused_incidents(1), "INC3");
  Fold(*events, T(100), &s, EvolveChange);
  EXPECT_EQ(s.status(), CHANGE_REVIEW);  // The review keeps the state.
  ASSERT_TRUE(s.has_review());
  EXPECT_EQ(s.review().reviewed_at_us(), absl::ToUnixMicros(T(100)));
  EXPECT_EQ(s.review().reviewed_in(), CHANGE_REVIEW);
  EXPECT_TRUE(s.review().has_objectives_met());
  EXPECT_FALSE(s.review().objectives_met());
  EXPECT_FALSE(s.review().has_outcome_confirmed());  // Not closed yet.
  // A later link is the change's, not the review's.
  auto later = DecideChangeIncidentLink(s, "INC4", CAUSED_BY);
  ASSERT_TRUE(later.ok());
  Fold({*later}, T(101), &s, EvolveChange);
  EXPECT_EQ(s.caused_incidents_size(), 3);
  EXPECT_EQ(s.review().caused_incidents_size(), 2);
  // The close with the outcome the review found confirms it.
  Do(&s, CloseJson("CHG1", "FAILED"), T(110));
  EXPECT_EQ(s.status(), CHANGE_CLOSED);
  ASSERT_TRUE(s.review().has_outcome_confirmed());
  EXPECT_TRUE(s.review().outcome_confirmed());
}

TEST_F(ChangeReviewTest, AReviewThatDoesNotConfirmTheOutcomeIsRecordedAsIs) {
  // Closed SUCCESSFUL, reviewed afterwards: the review finds it failed.
  ChangeState closed = Implemented("CHG1", "STANDARD");
  Do(&closed, CloseJson("CHG1", "SUCCESSFUL"), T(100));
  Do(&closed, ReviewJson("CHG1", "FAILED"), T(200));
  EXPECT_EQ(closed.status(), CHANGE_CLOSED);
  EXPECT_EQ(closed.outcome(), SUCCESSFUL);  // The close's, never rewritten.
  EXPECT_EQ(closed.review().outcome(), FAILED);
  EXPECT_EQ(closed.review().reviewed_in(), CHANGE_CLOSED);
  ASSERT_TRUE(closed.review().has_outcome_confirmed());
  EXPECT_FALSE(closed.review().outcome_confirmed());
  // Reviewed first, closed with another outcome: not confirmed either.
  ChangeState first = Implemented("CHG2", "STANDARD");
  Do(&first, ReviewJson("CHG2", "SUCCESSFUL"), T(100));
  Do(&first, CloseJson("CHG2", "SUCCESSFUL_WITH_ISSUES"), T(110));
  ASSERT_TRUE(first.review().has_outcome_confirmed());
  EXPECT_FALSE(first.review().outcome_confirmed());
  // A closed change reviewed with its own outcome: confirmed.
  ChangeState same = Implemented("CHG3", "STANDARD");
  Do(&same, CloseJson("CHG3", "ROLLED_BACK"), T(100));
  Do(&same, ReviewJson("CHG3", "ROLLED_BACK"), T(200));
  EXPECT_TRUE(same.review().outcome_confirmed());
}

TEST_F(ChangeReviewTest, OneReviewPerChange) {
  ChangeState s = Implemented("CHG1", "STANDARD");
  Do(&s, ReviewJson("CHG1", "SUCCESSFUL"), T(100));
  const ChangeState once = s;
  for (int closed = 0; closed < 2; ++closed) {
    absl::Status again = Try(s, ReviewJson("CHG1", "FAILED"));
    EXPECT_EQ(again.code(), absl::StatusCode::kFailedPrecondition) << again;
    EXPECT_NE(again.message().find("change CHG1: already reviewed by pat at "
                                   "2026-11-02T10:40:00Z"),
              std::string::npos)
        << again;
    if (closed == 0) Do(&s, CloseJson("CHG1", "SUCCESSFUL"), T(110));
  }
  // A second ChangeReviewed in a log (not written by DecideChange): the
  // first review stands.
  Envelope dup;
  dup.mutable_change_reviewed()->set_reviewer("other");
  dup.mutable_change_reviewed()->set_outcome(FAILED);
  ChangeState folded = once;
  Fold({dup}, T(105), &folded, EvolveChange);
  EXPECT_EQ(folded.review().reviewer(), "pat");
  EXPECT_EQ(folded.review().outcome(), SUCCESSFUL);
  EXPECT_EQ(folded.version(), once.version() + 1);
}

TEST_F(ChangeReviewTest, RefusedBeforeImplementationAndOnCancelledChanges) {
  ChangeState cancelled = Requested("CHG1", "NORMAL");
  Do(&cancelled, R"({"cancelChange": {"changeId": "CHG1"}})", T(1));
  absl::Status st = Try(cancelled, ReviewJson("CHG1", "SUCCESSFUL"));
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(st.message(),
            "change CHG1: cannot review (normal change): Cancelled -> "
            "Cancelled is not allowed");
  ChangeState implementing = Requested("CHG2", "STANDARD");
  Do(&implementing, Schedule("CHG2", 60, 120), T(1));
  Do(&implementing, R"({"startChangeImplementation": {"changeId": "CHG2"}})",
     T(2));
  EXPECT_EQ(Try(implementing, ReviewJson("CHG2", "SUCCESSFUL")).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(
      Try(NewChangeState("CHG3"), ReviewJson("CHG3", "SUCCESSFUL")).code(),
      absl::StatusCode::kNotFound);
}

TEST_F(ChangeReviewTest, ReviewValidatesItsFields) {
  const ChangeState s = Implemented("CHG1", "STANDARD");
  struct Case {
    const char* json;
    const char* field;
  };
  for (
      const Case& c : {
          Case{
              R"({"reviewChange": {"changeId": "CHG1", "outcome": "SUCCESSFUL", "objectivesMet": true}})",
              "reviewer"},
          Case{
              R"({"reviewChange": {"changeId": "CHG1", "reviewer": "p", "objectivesMet": true}})",
              "outcome"},
          Case{
              R"({"reviewChange": {"changeId": "CHG1", "reviewer": "p", "outcome": "FAILED"}})",
              "objectives_met"},
      }) {
    absl::Status st = Try(s, c.json);
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << c.json;
    EXPECT_NE(st.message().find(absl::StrCat("field ", c.field)),
              std::string::npos)
        << st;
  }
  Command unknown = Cmd(ReviewJson("CHG1", "FAILED"));
  unknown.mutable_review_change()->set_outcome(static_cast<ChangeOutcome>(9));
  EXPECT_EQ(DecideChange(s, unknown, Ctx(T(100))).status().code(),
            absl::StatusCode::kInvalidArgument);
  // objectivesMet false is an answer, not a missing field.
  EXPECT_TRUE(Try(s, ReviewJson("CHG1", "FAILED", "false")).ok());
}

TEST_F(ChangeReviewTest, NotRequiredBeforeCloseByDefault) {
  EXPECT_FALSE(DefaultChangePolicy().has_review_required());
  // Every type, low and high risk: closes without a review.
  for (const std::string type : {"STANDARD", "NORMAL", "EMERGENCY"}) {
    for (
        const std::string& extra :
        {std::string(),
         std::string(
             R"(, "riskAnswers": {"untested": true, "no_backout_plan": true})")}) {
      ChangeState s = Implemented("CHG1", type, extra);
      EXPECT_EQ(ChangeReviewRequirement(policy_.change, s), "");
      EXPECT_TRUE(Try(s, CloseJson("CHG1", "SUCCESSFUL")).ok())
          << type << " " << ChangeRisk_Name(s.risk());
    }
  }
}

TEST_F(ChangeReviewTest, RequiredBeforeCloseByRisk) {
  policy_.change.mutable_review_required()->set_min_risk(RISK_MODERATE);
  // Impact 3 + untested + no backout plan = 5: high.
  ChangeState high = Implemented(
      "CHG1", "NORMAL",
      R"(, "riskAnswers": {"untested": true, "no_backout_plan": true})");
  ASSERT_EQ(high.risk(), RISK_HIGH);
  absl::Status st = Try(high, CloseJson("CHG1", "SUCCESSFUL"));
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(st.message(),
            "change CHG1: cannot close before its post-implementation "
            "review: the change policy requires one for changes of risk "
            "RISK_MODERATE or above (review_required.min_risk; this one is "
            "RISK_HIGH) (reviewChange first)");
  // The review lifts it.
  Do(&high, ReviewJson("CHG1", "SUCCESSFUL"), T(100));
  EXPECT_TRUE(Try(high, CloseJson("CHG1", "SUCCESSFUL")).ok());
  // At the threshold: required; below: not.
  ChangeState moderate = Implemented(
      "CHG2", "NORMAL", R"(, "riskAnswers": {"no_backout_plan": true})");
  ASSERT_EQ(moderate.risk(), RISK_MODERATE);
  EXPECT_EQ(Try(moderate, CloseJson("CHG2", "SUCCESSFUL")).code(),
            absl::StatusCode::kFailedPrecondition);
  ChangeState low = Implemented("CHG3", "NORMAL");
  ASSERT_EQ(low.risk(), RISK_LOW);
  EXPECT_TRUE(Try(low, CloseJson("CHG3", "SUCCESSFUL")).ok());
}

TEST_F(ChangeReviewTest, RequiredBeforeCloseByType) {
  policy_.change.mutable_review_required()->add_types(EMERGENCY);
  ChangeState emergency = Implemented("CHG1", "EMERGENCY");
  ASSERT_EQ(emergency.risk(), RISK_LOW);
  absl::Status st = Try(emergency, CloseJson("CHG1", "SUCCESSFUL"));
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(st.message(),
            "change CHG1: cannot close before its post-implementation "
            "review: the change policy requires one for emergency changes "
            "(review_required.types) (reviewChange first)");
  for (const std::string type : {"STANDARD", "NORMAL"}) {
    ChangeState other = Implemented("CHG2", type);
    EXPECT_TRUE(Try(other, CloseJson("CHG2", "SUCCESSFUL")).ok()) << type;
  }
  // A close refused for want of a review appends nothing and keeps the
  // change in Review; review, then close.
  Do(&emergency, ReviewJson("CHG1", "SUCCESSFUL"), T(100));
  Do(&emergency, CloseJson("CHG1", "SUCCESSFUL"), T(110));
  EXPECT_EQ(emergency.status(), CHANGE_CLOSED);
}

// Exhaustive over the rule's parts and the change's type and risk, against
// the rule as the policy states it.
TEST_F(ChangeReviewTest, RequirementMatchesTheRuleForEveryTypeAndRisk) {
  const std::vector<ChangeType> types = {STANDARD, NORMAL, EMERGENCY};
  const std::vector<ChangeRisk> risks = {CHANGE_RISK_UNSPECIFIED, RISK_LOW,
                                         RISK_MODERATE, RISK_HIGH};
  int cases = 0;
  for (ChangeRisk min_risk : risks) {
    for (int mask = 0; mask < 8; ++mask) {
      ChangePolicy policy = DefaultChangePolicy();
      ChangeReviewRule* rule = policy.mutable_review_required();
      rule->set_min_risk(min_risk);
      for (int i = 0; i < 3; ++i) {
        if ((mask >> i) & 1) rule->add_types(types[i]);
      }
      ASSERT_TRUE(ValidateChangePolicy(policy).ok());
      for (int ti = 0; ti < 3; ++ti) {
        for (ChangeRisk risk : risks) {
          ChangeState c = NewChangeState("CHG1");
          c.set_type(types[ti]);
          c.set_risk(risk);
          const bool by_type = (mask >> ti) & 1;
          const bool by_risk =
              min_risk != CHANGE_RISK_UNSPECIFIED &&
              risk != CHANGE_RISK_UNSPECIFIED &&
              static_cast<int>(risk) >= static_cast<int>(min_risk);
          const std::string got = ChangeReviewRequirement(policy, c);
          EXPECT_EQ(!got.empty(), by_type || by_risk)
              << ChangeRisk_Name(min_risk) << " mask " << mask << " "
              << ChangeType_Name(types[ti]) << " " << ChangeRisk_Name(risk);
          if (by_type) {
            EXPECT_NE(got.find("review_required.types"), std::string::npos);
          } else if (by_risk) {
            EXPECT_NE(got.find("review_required.min_risk"), std::string::npos);
          }
          ++cases;
        }
      }
    }
  }
  EXPECT_EQ(cases, 4 * 8 * 3 * 4);
}

TEST(ChangeReviewPolicyTest, TheRuleIsValidatedAndLoadsOverTheDefaults) {
  ChangePolicy p = DefaultChangePolicy();
  p.mutable_review_required()->add_types(CHANGE_TYPE_UNSPECIFIED);
  EXPECT_EQ(ValidateChangePolicy(p).code(), absl::StatusCode::kInvalidArgument);
  p = DefaultChangePolicy();
  p.mutable_review_required()->add_types(EMERGENCY);
  p.mutable_review_required()->add_types(EMERGENCY);
  absl::Status twice = ValidateChangePolicy(p);
  EXPECT_EQ(twice.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(twice.message().find("review_required.types[1]"), std::string::npos)
      << twice;
  p = DefaultChangePolicy();
  p.mutable_review_required()->set_min_risk(static_cast<ChangeRisk>(7));
  EXPECT_EQ(ValidateChangePolicy(p).code(), absl::StatusCode::kInvalidArgument);

  // Over the defaults: only the fields named change.
  auto over = LoadChangePolicyJsonOver(
      DefaultChangePolicy(),
      R"({"reviewRequired": {"minRisk": "RISK_HIGH", "types": ["EMERGENCY"]}})");
  ASSERT_TRUE(over.ok()) << over.status();
  ChangePolicy expected = DefaultChangePolicy();
  expected.mutable_review_required()->set_min_risk(RISK_HIGH);
  expected.mutable_review_required()->add_types(EMERGENCY);
  EXPECT_EQ(over->DebugString(), expected.DebugString());
  // A field set to its zero value replaces the default's too; proto names
  // work as well as JSON names.
  over = LoadChangePolicyJsonOver(
      DefaultChangePolicy(),
      R"({"require_review_notes_unless_successful": false, "blackoutOverrideTypes": []})");
  ASSERT_TRUE(over.ok()) << over.status();
  EXPECT_FALSE(over->require_review_notes_unless_successful());
  EXPECT_EQ(over->blackout_override_types_size(), 0);
  EXPECT_EQ(over->approval_rules_size(),
            DefaultChangePolicy().approval_rules_size());
  for (const char* bad : {R"({"reviewRequired": {"types": ["NOPE"]}})",
                          R"({"impactPoints": [1, 1]})", R"({"unknown": 1})",
                          R"([1, 2])", "not json"}) {
    EXPECT_EQ(
        LoadChangePolicyJsonOver(DefaultChangePolicy(), bad).status().code(),
        absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

}  // namespace
}  // namespace slate
