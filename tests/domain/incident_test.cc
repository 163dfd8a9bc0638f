// Incident decide/evolve: every (state, command) pair against a table written
// out here, plus the rules the table cannot show (reopen window, counts,
// first-contact resolution, priority, validation).
#include "lib/domain/incident.h"

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "lib/domain/change.h"
#include "lib/domain/common.h"
#include "lib/domain/priority_matrix.h"
#include "lib/domain/problem.h"
#include "lib/domain/service.h"
#include "tests/domain/domain_test_util.h"

namespace slate {
namespace {

using ::slate::testing::Cmd;
using ::slate::testing::Fold;
using ::slate::testing::T;

class IncidentTest : public ::testing::Test {
 protected:
  IncidentTest() {
    service_ = NewServiceState("email");
    service_.set_defined(true);
    problem_ = NewProblemState("PRB1");
    problem_.set_status(PROBLEM_NEW);
    change_ = NewChangeState("CHG1");
    change_.set_status(CHANGE_CLOSED);
  }

  IncidentContext Ctx(absl::Time at) {
    IncidentContext ctx;
    ctx.at = at;
    ctx.matrix = &matrix_;
    ctx.policy = &policy_;
    ctx.service = &service_;
    ctx.problem = &problem_;
    ctx.change = &change_;
    return ctx;
  }

  // Decides and folds; fails the test on an error.
  void Do(IncidentState* s, const std::string& json, absl::Time at) {
    auto events = DecideIncident(*s, Cmd(json), Ctx(at));
    ASSERT_TRUE(events.ok()) << json << ": " << events.status();
    Fold(*events, at, s, EvolveIncident);
  }

  absl::Status Try(const IncidentState& s, const std::string& json,
                   absl::Time at) {
    return DecideIncident(s, Cmd(json), Ctx(at)).status();
  }

  IncidentState Opened() {
    IncidentState s = NewIncidentState("INC1");
    Do(&s, kOpen, T(0));
    return s;
  }

  static constexpr char kOpen[] =
      R"({"openIncident": {"incidentId": "INC1", "serviceId": "email",
          "impact": 1, "urgency": 2, "contactType": "PHONE",
          "category": "network"}})";

  PriorityMatrix matrix_ = DefaultPriorityMatrix();
  DomainPolicy policy_;
  ServiceState service_;
  ProblemState problem_;
  ChangeState change_;
};

// The oracle: for each command, the states it is allowed in and the state it
// leads to ("" = stays). Written from the issue, independent of incident.cc.
struct Rule {
  std::string json;
  std::set<std::string> from;
  std::string to;
};

std::map<std::string, Rule> Rules() {
  const std::set<std::string> open = {"New", "In Progress", "On Hold"};
  auto with = [](std::set<std::string> s, std::string extra) {
    s.insert(extra);
    return s;
  };
  const std::string id = R"("incidentId": "INC1")";
  return {
      {"acknowledge",
       {absl::StrCat(R"({"acknowledgeIncident": {)", id, R"(, "by": "sd"}})"),
        open, ""}},
      {"assign",
       {absl::StrCat(R"({"assignIncident": {)", id,
                     R"(, "group": "net", "person": "bob"}})"),
        open, ""}},
      {"set impact and urgency",
       {absl::StrCat(R"({"setIncidentImpactUrgency": {)", id,
                     R"(, "impact": 2, "urgency": 2}})"),
        open, ""}},
      {"override priority",
       {absl::StrCat(R"({"overrideIncidentPriority": {)", id,
                     R"(, "priority": 1, "reason": "VIP"}})"),
        open, ""}},
      {"start",
       {absl::StrCat(R"({"startIncident": {)", id, "}}"),
        {"New"},
        "In Progress"}},
      {"hold",
       {absl::StrCat(R"({"holdIncident": {)", id,
                     R"(, "reason": "AWAITING_CALLER"}})"),
        {"New", "In Progress"},
        "On Hold"}},
      {"resume",
       {absl::StrCat(R"({"resumeIncident": {)", id, "}}"),
        {"On Hold"},
        "In Progress"}},
      {"resolve",
       {absl::StrCat(R"({"resolveIncident": {)", id,
                     R"(, "resolutionCode": "fixed"}})"),
        open, "Resolved"}},
      {"close",
       {absl::StrCat(R"({"closeIncident": {)", id, "}}"),
        {"Resolved"},
        "Closed"}},
      {"reopen",
       {absl::StrCat(R"({"reopenIncident": {)", id, "}}"),
        {"Resolved", "Closed"},
        "In Progress"}},
      {"cancel",
       {absl::StrCat(R"({"cancelIncident": {)", id, "}}"), open, "Cancelled"}},
      {"comment",
       {absl::StrCat(R"({"commentIncident": {)", id, R"(, "text": "hi"}})"),
        with(open, "Resolved"), ""}},
      {"link problem",
       {absl::StrCat(R"({"linkIncidentToProblem": {)", id,
                     R"(, "problemId": "PRB1"}})"),
        with(open, "Resolved"), ""}},
      {"link change",
       {absl::StrCat(R"({"linkIncidentToChange": {)", id,
                     R"(, "changeId": "CHG1", "relation": "CAUSED_BY"}})"),
        with(with(open, "Resolved"), "Closed"), ""}},
      {"update details",
       {absl::StrCat(R"({"updateIncidentDetails": {)", id,
                     R"(, "category": "storage"}})"),
        with(open, "Resolved"), ""}},
      {"record a survey response",
       {absl::StrCat(R"({"recordSurveyResponse": {)", id,
                     R"(, "score": 4, "respondent": "carol"}})"),
        {"Resolved", "Closed"},
        ""}},
  };
}

TEST_F(IncidentTest, EveryStateCommandPairFollowsTheTable) {
  // One history per state, built with the commands themselves.
  std::map<std::string, IncidentState> states;
  states["New"] = Opened();
  IncidentState s = Opened();
  Do(&s, R"({"startIncident": {"incidentId": "INC1"}})", T(1));
  states["In Progress"] = s;
  Do(&s,
     R"({"holdIncident": {"incidentId": "INC1", "reason": "AWAITING_VENDOR"}})",
     T(2));
  states["On Hold"] = s;
  s = states["In Progress"];
  Do(&s,
     R"({"resolveIncident": {"incidentId": "INC1", "resolutionCode": "x"}})",
     T(3));
  states["Resolved"] = s;
  Do(&s, R"({"closeIncident": {"incidentId": "INC1"}})", T(4));
  states["Closed"] = s;
  s = Opened();
  Do(&s, R"({"cancelIncident": {"incidentId": "INC1"}})", T(5));
  states["Cancelled"] = s;
  ASSERT_EQ(states.size(), 6u);
  for (const auto& [name, st] : states) {
    ASSERT_EQ(IncidentStatusName(st.status()), name);
  }

  int checked = 0;
  for (const auto& [cmd_name, rule] : Rules()) {
    // No such incident: kNotFound for every command but open.
    EXPECT_EQ(Try(NewIncidentState("INC1"), rule.json, T(10)).code(),
              absl::StatusCode::kNotFound)
        << cmd_name;
    for (const auto& [state_name, st] : states) {
      SCOPED_TRACE(absl::StrCat(cmd_name, " in ", state_name));
      auto events = DecideIncident(st, Cmd(rule.json), Ctx(T(10)));
      const std::string to = rule.to.empty() ? state_name : rule.to;
      if (rule.from.count(state_name)) {
        ASSERT_TRUE(events.ok()) << events.status();
        ASSERT_FALSE(events->empty());
        IncidentState after = st;
        Fold(*events, T(10), &after, EvolveIncident);
        EXPECT_EQ(IncidentStatusName(after.status()), to);
        EXPECT_EQ(after.version(), st.version() + events->size());
      } else {
        ASSERT_EQ(events.status().code(), absl::StatusCode::kFailedPrecondition)
            << events.status();
        EXPECT_NE(events.status().message().find(
                      absl::StrCat(state_name, " -> ", to)),
                  std::string::npos)
            << events.status();
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, 16 * 6);
  // Open: allowed only when there is no incident.
  EXPECT_TRUE(Try(NewIncidentState("INC1"), kOpen, T(0)).ok());
  for (const auto& [state_name, st] : states) {
    EXPECT_EQ(Try(st, kOpen, T(10)).code(), absl::StatusCode::kAlreadyExists)
        << state_name;
  }
}

TEST_F(IncidentTest, OpenRecordsFieldsAndMatrixPriority) {
  IncidentState s = Opened();
  EXPECT_EQ(s.status(), INCIDENT_NEW);
  EXPECT_EQ(s.contact_type(), "phone");
  EXPECT_EQ(s.service_id(), "email");
  EXPECT_EQ(s.category(), "network");
  EXPECT_EQ(s.priority(), 2);  // I1U2 = 2 (High).
  EXPECT_EQ(s.opened_at_us(), absl::ToUnixMicros(T(0)));
  // The matrix in force is used, not the default.
  matrix_.mutable_cells(1)->set_priority(1);  // I1U2 -> 1.
  ASSERT_EQ(matrix_.cells(1).impact(), 1);
  ASSERT_EQ(matrix_.cells(1).urgency(), 2);
  IncidentState t = NewIncidentState("INC1");
  Do(&t, kOpen, T(0));
  EXPECT_EQ(t.priority(), 1);
}

TEST_F(IncidentTest, OpenRejectsBadImpactUrgencyAndUnknownService) {
  IncidentState none = NewIncidentState("INC1");
  for (const char* bad :
       {R"("impact": 0, "urgency": 1)", R"("impact": 4, "urgency": 1)",
        R"("impact": 1, "urgency": 0)", R"("impact": 1, "urgency": -1)"}) {
    EXPECT_EQ(Try(none,
                  absl::StrCat(R"({"openIncident": {"incidentId": "INC1", )",
                               bad, "}}"),
                  T(0))
                  .code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
  service_.set_defined(false);
  EXPECT_EQ(Try(none, kOpen, T(0)).code(), absl::StatusCode::kNotFound);
  service_.set_defined(true);
  service_.set_retired(true);
  EXPECT_EQ(Try(none, kOpen, T(0)).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(IncidentTest, ImpactUrgencyChangeRecomputesAndOverrideNeedsReason) {
  IncidentState s = Opened();
  Do(&s,
     R"({"setIncidentImpactUrgency": {"incidentId": "INC1", "impact": 3, "urgency": 3}})",
     T(1));
  EXPECT_EQ(s.priority(), 5);
  EXPECT_FALSE(s.priority_overridden());
  EXPECT_EQ(
      Try(s,
          R"({"setIncidentImpactUrgency": {"incidentId": "INC1", "impact": 3, "urgency": 4}})",
          T(2))
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      Try(s,
          R"({"overrideIncidentPriority": {"incidentId": "INC1", "priority": 1}})",
          T(2))
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      Try(s,
          R"({"overrideIncidentPriority": {"incidentId": "INC1", "priority": 6, "reason": "x"}})",
          T(2))
          .code(),
      absl::StatusCode::kInvalidArgument);
  Do(&s,
     R"({"overrideIncidentPriority": {"incidentId": "INC1", "priority": 1, "reason": "CEO"}})",
     T(2));
  EXPECT_EQ(s.priority(), 1);
  EXPECT_TRUE(s.priority_overridden());
  EXPECT_EQ(s.priority_override_reason(), "CEO");
  EXPECT_EQ(s.impact(), 3);  // Override keeps impact/urgency.
  // A later impact/urgency change recomputes and ends the override.
  Do(&s,
     R"({"setIncidentImpactUrgency": {"incidentId": "INC1", "impact": 2, "urgency": 3}})",
     T(3));
  EXPECT_EQ(s.priority(), 4);
  EXPECT_FALSE(s.priority_overridden());
}

TEST_F(IncidentTest, OverrideIsItsOwnEvent) {
  IncidentState s = Opened();
  auto events = DecideIncident(
      s,
      Cmd(R"({"overrideIncidentPriority": {"incidentId": "INC1", "priority": 1, "reason": "CEO"}})"),
      Ctx(T(1)));
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_TRUE((*events)[0].incident_priority_set().manual_override());
  EXPECT_EQ((*events)[0].incident_priority_set().reason(), "CEO");
}

TEST_F(IncidentTest, ReopenOfClosedWithinWindowOnly) {
  IncidentState s = Opened();
  Do(&s,
     R"({"resolveIncident": {"incidentId": "INC1", "resolutionCode": "x"}})",
     T(10));
  Do(&s, R"({"closeIncident": {"incidentId": "INC1"}})", T(20));
  const std::string reopen = R"({"reopenIncident": {"incidentId": "INC1"}})";
  const absl::Time closed = T(20);
  EXPECT_TRUE(Try(s, reopen, closed + absl::Hours(24 * 30)).ok());
  absl::Status late =
      Try(s, reopen, closed + absl::Hours(24 * 30) + absl::Seconds(1));
  EXPECT_EQ(late.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(late.message().find("Closed -> In Progress"), std::string::npos)
      << late;
  // Configurable.
  policy_.reopen_closed_window = absl::Hours(1);
  EXPECT_EQ(Try(s, reopen, closed + absl::Minutes(61)).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Try(s, reopen, closed + absl::Minutes(60)).ok());
  // Resolved (not closed) may always be reopened.
  IncidentState r = Opened();
  Do(&r,
     R"({"resolveIncident": {"incidentId": "INC1", "resolutionCode": "x"}})",
     T(10));
  EXPECT_TRUE(Try(r, reopen, T(10) + absl::Hours(24 * 365)).ok());
}

// The rules a DomainPolicy option relaxes, each with the option off (today's
// strict default: kFailedPrecondition naming the transition) and on (the
// command is decided and leads to `to`).
struct RelaxedRule {
  std::string name;
  std::string from;  // Starting state (a history built below).
  std::string json;
  absl::Duration after_close;  // Event time of the command after T(20).
  void (*relax)(DomainPolicy*);
  std::string to;          // State after the command with the option on.
  std::string refused_as;  // Substring of the refusal with it off.
};

TEST_F(IncidentTest, PolicyOptionsRelaxRulesOnlyWhenSet) {
  const std::string assign =
      R"({"assignIncident": {"incidentId": "INC1", "group": "ops", "person": "eve"}})";
  const std::string close = R"({"closeIncident": {"incidentId": "INC1"}})";
  const std::string reopen = R"({"reopenIncident": {"incidentId": "INC1"}})";
  auto assign_on = [](DomainPolicy* p) {
    p->allow_assign_when_resolved = true;
  };
  auto close_on = [](DomainPolicy* p) {
    p->allow_close_without_resolve = true;
  };
  auto window_off = [](DomainPolicy* p) {
    p->reopen_closed_window = absl::InfiniteDuration();
  };
  const absl::Duration soon = absl::Minutes(5);
  const absl::Duration late = absl::Hours(24 * 30) + absl::Seconds(1);
  const std::vector<RelaxedRule> rules = {
      {"assign while Resolved", "Resolved", assign, soon, assign_on, "Resolved",
       "Resolved -> Resolved"},
      {"assign while Closed", "Closed", assign, soon, assign_on, "Closed",
       "Closed -> Closed"},
      {"close from New", "New", close, soon, close_on, "Closed",
       "New -> Closed"},
      {"close from In Progress", "In Progress", close, soon, close_on, "Closed",
       "In Progress -> Closed"},
      {"close from On Hold", "On Hold", close, soon, close_on, "Closed",
       "On Hold -> Closed"},
      {"reopen after the window", "Closed", reopen, late, window_off,
       "In Progress", "after the reopen window"},
  };
  // Histories: every event up to T(20) (the close of "Closed").
  std::map<std::string, IncidentState> states;
  IncidentState s = Opened();
  states["New"] = s;
  Do(&s, R"({"startIncident": {"incidentId": "INC1"}})", T(1));
  states["In Progress"] = s;
  IncidentState h = s;
  Do(&h,
     R"({"holdIncident": {"incidentId": "INC1", "reason": "AWAITING_CALLER"}})",
     T(2));
  states["On Hold"] = h;
  Do(&s,
     R"({"resolveIncident": {"incidentId": "INC1", "resolutionCode": "x"}})",
     T(10));
  states["Resolved"] = s;
  Do(&s, close, T(20));
  states["Closed"] = s;

  for (const RelaxedRule& r : rules) {
    SCOPED_TRACE(r.name);
    const IncidentState& from = states.at(r.from);
    const absl::Time at = T(20) + r.after_close;
    policy_ = DomainPolicy();
    absl::Status strict = Try(from, r.json, at);
    EXPECT_EQ(strict.code(), absl::StatusCode::kFailedPrecondition) << strict;
    EXPECT_NE(strict.message().find(r.refused_as), std::string::npos) << strict;
    EXPECT_NE(strict.message().find("incident INC1"), std::string::npos)
        << strict;
    r.relax(&policy_);
    auto events = DecideIncident(from, Cmd(r.json), Ctx(at));
    ASSERT_TRUE(events.ok()) << events.status();
    IncidentState after = from;
    Fold(*events, at, &after, EvolveIncident);
    EXPECT_EQ(IncidentStatusName(after.status()), r.to);
    // Each option relaxes its own rule only: the other two stay strict.
    DomainPolicy others;
    others.allow_assign_when_resolved = true;
    others.allow_close_without_resolve = true;
    others.reopen_closed_window = absl::InfiniteDuration();
    if (r.relax == +assign_on) others.allow_assign_when_resolved = false;
    if (r.relax == +close_on) others.allow_close_without_resolve = false;
    if (r.relax == +window_off) {
      others.reopen_closed_window = DomainPolicy().reopen_closed_window;
    }
    policy_ = others;
    EXPECT_EQ(Try(from, r.json, at).code(),
              absl::StatusCode::kFailedPrecondition);
  }
  policy_ = DomainPolicy();
  // Cancelled stays final under every option.
  IncidentState cancelled = Opened();
  Do(&cancelled, R"({"cancelIncident": {"incidentId": "INC1"}})", T(1));
  policy_.allow_assign_when_resolved = true;
  policy_.allow_close_without_resolve = true;
  EXPECT_EQ(Try(cancelled, assign, T(2)).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Try(cancelled, close, T(2)).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(IncidentTest, RelaxedEventsFoldSanely) {
  policy_.allow_assign_when_resolved = true;
  policy_.allow_close_without_resolve = true;
  // A close from On Hold ends the hold and records no resolution.
  IncidentState s = Opened();
  Do(&s,
     R"({"holdIncident": {"incidentId": "INC1", "reason": "AWAITING_VENDOR"}})",
     T(1));
  Do(&s, R"({"closeIncident": {"incidentId": "INC1"}})", T(2));
  EXPECT_EQ(s.status(), INCIDENT_CLOSED);
  EXPECT_EQ(s.hold_reason(), HOLD_REASON_UNSPECIFIED);
  EXPECT_EQ(s.closed_at_us(), absl::ToUnixMicros(T(2)));
  EXPECT_EQ(s.resolved_at_us(), 0);
  EXPECT_TRUE(s.resolution_code().empty());
  // An assignment while Closed moves the assignment, not the state.
  Do(&s,
     R"({"assignIncident": {"incidentId": "INC1", "group": "ops", "person": "eve"}})",
     T(3));
  EXPECT_EQ(s.status(), INCIDENT_CLOSED);
  EXPECT_EQ(s.assignment_group(), "ops");
  EXPECT_EQ(s.assignment_count(), 1);
  EXPECT_EQ(s.closed_at_us(), absl::ToUnixMicros(T(2)));
}

TEST_F(IncidentTest, ReopensAreCounted) {
  IncidentState s = Opened();
  for (int i = 0; i < 3; ++i) {
    Do(&s,
       R"({"resolveIncident": {"incidentId": "INC1", "resolutionCode": "x"}})",
       T(10 * i + 1));
    if (i == 1)
      Do(&s, R"({"closeIncident": {"incidentId": "INC1"}})", T(10 * i + 2));
    Do(&s, R"({"reopenIncident": {"incidentId": "INC1"}})", T(10 * i + 3));
    EXPECT_EQ(s.reopen_count(), i + 1);
    EXPECT_EQ(s.status(), INCIDENT_IN_PROGRESS);
    EXPECT_EQ(s.resolved_at_us(), 0);
  }
}

TEST_F(IncidentTest, AssignmentsReassignmentsAndFirstContactResolution) {
  const std::string resolve =
      R"({"resolveIncident": {"incidentId": "INC1", "resolutionCode": "x"}})";
  // Group first, then a person in it: one assignee, no reassignment.
  IncidentState s = Opened();
  Do(&s, R"({"assignIncident": {"incidentId": "INC1", "group": "desk"}})",
     T(1));
  Do(&s,
     R"({"assignIncident": {"incidentId": "INC1", "group": "desk", "person": "ann"}})",
     T(2));
  EXPECT_EQ(s.assignment_count(), 2);
  EXPECT_EQ(s.reassignment_count(), 0);
  EXPECT_EQ(s.first_assignee(), "ann");
  IncidentState fcr = s;
  Do(&fcr, resolve, T(3));
  EXPECT_EQ(fcr.resolved_by(), "ann");  // Defaults to the assignee.
  EXPECT_TRUE(fcr.first_contact_resolution());
  // Reopened and resolved again by the same person: no longer first
  // contact.
  Do(&fcr, R"({"reopenIncident": {"incidentId": "INC1", "reason": "back"}})",
     T(4));
  EXPECT_FALSE(fcr.first_contact_resolution());
  Do(&fcr, resolve, T(5));
  EXPECT_EQ(fcr.resolved_by(), "ann");
  EXPECT_EQ(fcr.reassignment_count(), 0);
  EXPECT_FALSE(fcr.first_contact_resolution());
  // Same person again is refused (nothing to record).
  EXPECT_EQ(
      Try(s,
          R"({"assignIncident": {"incidentId": "INC1", "group": "desk", "person": "ann"}})",
          T(3))
          .code(),
      absl::StatusCode::kFailedPrecondition);
  // Another person: a reassignment; no first-contact resolution.
  Do(&s,
     R"({"assignIncident": {"incidentId": "INC1", "group": "desk", "person": "bob"}})",
     T(3));
  EXPECT_EQ(s.reassignment_count(), 1);
  // Another group: another.
  Do(&s,
     R"({"assignIncident": {"incidentId": "INC1", "group": "net", "person": "bob"}})",
     T(4));
  EXPECT_EQ(s.reassignment_count(), 2);
  EXPECT_EQ(s.assignment_count(), 4);
  EXPECT_EQ(s.first_assignee(), "ann");
  Do(&s, resolve, T(5));
  EXPECT_FALSE(s.first_contact_resolution());
  // Resolved by someone other than the first assignee, no reassignment.
  IncidentState t = Opened();
  Do(&t,
     R"({"assignIncident": {"incidentId": "INC1", "group": "desk", "person": "ann"}})",
     T(1));
  Do(&t,
     R"({"resolveIncident": {"incidentId": "INC1", "resolutionCode": "x", "resolvedBy": "carl"}})",
     T(2));
  EXPECT_FALSE(t.first_contact_resolution());
  // Group is required.
  EXPECT_EQ(
      Try(Opened(),
          R"({"assignIncident": {"incidentId": "INC1", "person": "x"}})", T(1))
          .code(),
      absl::StatusCode::kInvalidArgument);
}

TEST_F(IncidentTest, AcknowledgeOnceRecordsFirstResponse) {
  IncidentState s = Opened();
  Do(&s, R"({"acknowledgeIncident": {"incidentId": "INC1", "by": "sd"}})",
     T(7));
  EXPECT_EQ(s.acknowledged_at_us(), absl::ToUnixMicros(T(7)));
  EXPECT_EQ(s.acknowledged_by(), "sd");
  EXPECT_EQ(
      Try(s, R"({"acknowledgeIncident": {"incidentId": "INC1"}})", T(8)).code(),
      absl::StatusCode::kFailedPrecondition);
}

TEST_F(IncidentTest, HoldNeedsAReasonAndKeepsIt) {
  IncidentState s = Opened();
  EXPECT_EQ(Try(s, R"({"holdIncident": {"incidentId": "INC1"}})", T(1)).code(),
            absl::StatusCode::kInvalidArgument);
  for (const char* r :
       {"AWAITING_CALLER", "AWAITING_VENDOR", "AWAITING_PROBLEM",
        "AWAITING_CHANGE", "AWAITING_EVIDENCE"}) {
    IncidentState h = s;
    Do(&h,
       absl::StrCat(R"({"holdIncident": {"incidentId": "INC1", "reason": ")", r,
                    "\"}}"),
       T(1));
    EXPECT_EQ(HoldReason_Name(h.hold_reason()), r);
    Do(&h, R"({"resumeIncident": {"incidentId": "INC1"}})", T(2));
    EXPECT_EQ(h.hold_reason(), HOLD_REASON_UNSPECIFIED);
  }
}

TEST_F(IncidentTest, ResolveNeedsCodeAndRecordsNotes) {
  IncidentState s = Opened();
  EXPECT_EQ(
      Try(s, R"({"resolveIncident": {"incidentId": "INC1"}})", T(1)).code(),
      absl::StatusCode::kInvalidArgument);
  Do(&s,
     R"({"resolveIncident": {"incidentId": "INC1", "resolutionCode": "workaround", "notes": "rebooted"}})",
     T(1));
  EXPECT_EQ(s.resolution_code(), "workaround");
  EXPECT_EQ(s.resolution_notes(), "rebooted");
  EXPECT_EQ(s.resolved_at_us(), absl::ToUnixMicros(T(1)));
}

TEST_F(IncidentTest, LinksToProblemAndChange) {
  IncidentState s = Opened();
  const std::string link =
      R"({"linkIncidentToProblem": {"incidentId": "INC1", "problemId": "PRB1"}})";
  problem_.set_status(PROBLEM_STATUS_UNSPECIFIED);
  EXPECT_EQ(Try(s, link, T(1)).code(), absl::StatusCode::kNotFound);
  problem_.set_status(PROBLEM_CLOSED);
  EXPECT_EQ(Try(s, link, T(1)).code(), absl::StatusCode::kFailedPrecondition);
  problem_.set_status(PROBLEM_ROOT_CAUSE_ANALYSIS);
  Do(&s, link, T(1));
  EXPECT_EQ(s.problem_id(), "PRB1");
  EXPECT_EQ(Try(s, link, T(2)).code(), absl::StatusCode::kFailedPrecondition);

  const std::string caused =
      R"({"linkIncidentToChange": {"incidentId": "INC1", "changeId": "CHG1", "relation": "CAUSED_BY"}})";
  const std::string fixed =
      R"({"linkIncidentToChange": {"incidentId": "INC1", "changeId": "CHG1", "relation": "FIXED_BY"}})";
  EXPECT_EQ(
      Try(s,
          R"({"linkIncidentToChange": {"incidentId": "INC1", "changeId": "CHG1"}})",
          T(2))
          .code(),
      absl::StatusCode::kInvalidArgument);
  change_.set_status(CHANGE_STATUS_UNSPECIFIED);
  EXPECT_EQ(Try(s, caused, T(2)).code(), absl::StatusCode::kNotFound);
  change_.set_status(CHANGE_REVIEW);
  Do(&s, caused, T(2));
  Do(&s, fixed, T(3));
  EXPECT_EQ(s.caused_by_change_id(), "CHG1");
  EXPECT_EQ(s.fixed_by_change_id(), "CHG1");
  EXPECT_EQ(Try(s, caused, T(4)).code(), absl::StatusCode::kFailedPrecondition);
}

// External references (`external`: a record of another system): accepted
// whether or not the context holds a record, unless this engine holds one
// under that id; recorded on the incident with the external flag.
TEST_F(IncidentTest, ExternalLinksNeedNoRecordHereAndRefuseOneThatIsHere) {
  struct Case {
    std::string name;
    std::string json;
    bool record_here;  // The context holds a record under the id.
    absl::StatusCode want;
  };
  const std::string problem =
      R"({"linkIncidentToProblem": {"incidentId": "INC1", "problemId": "PRB1", "external": true}})";
  const std::string caused =
      R"({"linkIncidentToChange": {"incidentId": "INC1", "changeId": "CHG1", "relation": "CAUSED_BY", "external": true}})";
  const std::string fixed =
      R"({"linkIncidentToChange": {"incidentId": "INC1", "changeId": "CHG1", "relation": "FIXED_BY", "external": true}})";
  const std::vector<Case> cases = {
      {"problem, none here", problem, false, absl::StatusCode::kOk},
      {"problem, one here", problem, true,
       absl::StatusCode::kFailedPrecondition},
      {"caused by, none here", caused, false, absl::StatusCode::kOk},
      {"caused by, one here", caused, true,
       absl::StatusCode::kFailedPrecondition},
      {"fixed by, none here", fixed, false, absl::StatusCode::kOk},
      {"fixed by, one here", fixed, true,
       absl::StatusCode::kFailedPrecondition},
      {"bad id", absl::StrReplaceAll(problem, {{"PRB1", "bad id"}}), false,
       absl::StatusCode::kInvalidArgument},
      {"no relation",
       R"({"linkIncidentToChange": {"incidentId": "INC1", "changeId": "CHG1", "external": true}})",
       false, absl::StatusCode::kInvalidArgument},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    problem_.set_status(c.record_here ? PROBLEM_NEW
                                      : PROBLEM_STATUS_UNSPECIFIED);
    change_.set_status(c.record_here ? CHANGE_CLOSED
                                     : CHANGE_STATUS_UNSPECIFIED);
    IncidentState s = Opened();
    auto events = DecideIncident(s, Cmd(c.json), Ctx(T(1)));
    ASSERT_EQ(events.status().code(), c.want) << events.status();
    if (!events.ok()) {
      EXPECT_NE(events.status().message().find("incident INC1"),
                std::string::npos)
          << events.status();
      continue;
    }
    ASSERT_EQ(events->size(), 1u);
    Fold(*events, T(1), &s, EvolveIncident);
    const Envelope& e = (*events)[0];
    if (e.has_incident_linked_to_problem()) {
      EXPECT_TRUE(e.incident_linked_to_problem().external());
      EXPECT_EQ(s.problem_id(), "PRB1");
      EXPECT_TRUE(s.problem_external());
    } else {
      ASSERT_TRUE(e.has_incident_linked_to_change());
      EXPECT_TRUE(e.incident_linked_to_change().external());
      const bool caused_by =
          e.incident_linked_to_change().relation() == CAUSED_BY;
      EXPECT_EQ(caused_by ? s.caused_by_change_id() : s.fixed_by_change_id(),
                "CHG1");
      EXPECT_TRUE(caused_by ? s.caused_by_change_external()
                            : s.fixed_by_change_external());
      EXPECT_FALSE(caused_by ? s.fixed_by_change_external()
                             : s.caused_by_change_external());
    }
  }
  // An internal link after an external one of the other relation keeps
  // each flag to its own link.
  change_.set_status(CHANGE_STATUS_UNSPECIFIED);
  IncidentState s = Opened();
  Do(&s, caused, T(1));
  change_.set_status(CHANGE_CLOSED);
  Do(&s,
     R"({"linkIncidentToChange": {"incidentId": "INC1", "changeId": "CHG1", "relation": "FIXED_BY"}})",
     T(2));
  EXPECT_TRUE(s.caused_by_change_external());
  EXPECT_FALSE(s.fixed_by_change_external());
}

TEST_F(IncidentTest, ProblemResolutionResolvesOnlyOpenIncidents) {
  ResolveProblem r;
  r.set_resolution_code("fixed-by-problem");
  IncidentState s = Opened();
  auto e = IncidentResolutionForProblem(s, "PRB1", r);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->incident_resolved().resolved_by_problem(), "PRB1");
  Fold({*e}, T(1), &s, EvolveIncident);
  EXPECT_EQ(s.status(), INCIDENT_RESOLVED);
  EXPECT_FALSE(s.first_contact_resolution());
  EXPECT_FALSE(IncidentResolutionForProblem(s, "PRB1", r).has_value());
}

// IncidentDetailsUpdated (written by imports) carries the full current
// details: each replaces the stored value, empty ones included.
TEST_F(IncidentTest, DetailsUpdatedReplacesTheDetails) {
  IncidentState s = Opened();
  ASSERT_EQ(s.category(), "network");
  Envelope e;
  IncidentDetailsUpdated* d = e.mutable_incident_details_updated();
  d->set_category("Category 26");
  d->set_subcategory("Subcategory 174");
  d->set_configuration_item("CI 3");
  d->set_contact_type("Email");
  d->set_caller("Caller 2403");
  d->set_location("Location 143");
  Fold({e}, T(1), &s, EvolveIncident);
  EXPECT_EQ(s.category(), "Category 26");
  EXPECT_EQ(s.subcategory(), "Subcategory 174");
  EXPECT_EQ(s.configuration_item(), "CI 3");
  EXPECT_EQ(s.contact_type(), "Email");
  EXPECT_EQ(s.caller(), "Caller 2403");
  EXPECT_EQ(s.location(), "Location 143");
  Envelope cleared;
  cleared.mutable_incident_details_updated()->set_category("Category 9");
  Fold({cleared}, T(2), &s, EvolveIncident);
  EXPECT_EQ(s.category(), "Category 9");
  EXPECT_EQ(s.contact_type(), "");
  EXPECT_EQ(s.status(), INCIDENT_NEW);  // Details never move the state.
}

TEST_F(IncidentTest, UpdateDetailsChangesOnlyTheFieldsGiven) {
  IncidentState s = Opened();
  s.set_caller("ann");
  Do(&s,
     R"({"updateIncidentDetails": {"incidentId": "INC1",
         "category": "storage", "configurationItem": "san-1",
         "contactType": "EMAIL"}})",
     T(1));
  EXPECT_EQ(s.category(), "storage");
  EXPECT_EQ(s.configuration_item(), "san-1");
  EXPECT_EQ(s.contact_type(), "email");
  EXPECT_EQ(s.caller(), "ann");        // Not given: kept.
  EXPECT_EQ(s.service_id(), "email");  // Not given: kept.
  EXPECT_EQ(s.status(), INCIDENT_NEW);
  // An empty string given clears the field (presence, not emptiness, says
  // what was given).
  Do(&s,
     R"({"updateIncidentDetails": {"incidentId": "INC1",
         "configurationItem": ""}})",
     T(2));
  EXPECT_EQ(s.configuration_item(), "");
  EXPECT_EQ(s.category(), "storage");
}

TEST_F(IncidentTest, UpdateDetailsEventCarriesEveryDetailAndTheService) {
  IncidentState s = Opened();
  auto events =
      DecideIncident(s, Cmd(R"({"updateIncidentDetails": {"incidentId": "INC1",
              "serviceId": "email2"}})"),
                     Ctx(T(1)));
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 1u);
  const IncidentDetailsUpdated& d = (*events)[0].incident_details_updated();
  ASSERT_TRUE(d.has_service());
  EXPECT_EQ(d.service(), "email2");
  EXPECT_EQ(d.category(), "network");  // The current value, unchanged.
  EXPECT_EQ(d.contact_type(), "phone");
  Fold(*events, T(1), &s, EvolveIncident);
  EXPECT_EQ(s.service_id(), "email2");
}

TEST_F(IncidentTest, UpdateDetailsRefusals) {
  IncidentState s = Opened();
  // No field at all.
  EXPECT_EQ(Try(s, R"({"updateIncidentDetails": {"incidentId": "INC1"}})", T(1))
                .code(),
            absl::StatusCode::kInvalidArgument);
  // Fields given but nothing changes.
  absl::Status same = Try(s,
                          R"({"updateIncidentDetails": {"incidentId": "INC1",
                              "category": "network", "serviceId": "email"}})",
                          T(1));
  EXPECT_EQ(same.code(), absl::StatusCode::kFailedPrecondition) << same;
  // Unknown or retired service, as for OpenIncident.
  const std::string other = R"({"updateIncidentDetails": {"incidentId": "INC1",
                                "serviceId": "payroll"}})";
  service_.set_defined(false);
  absl::Status unknown = Try(s, other, T(1));
  EXPECT_EQ(unknown.code(), absl::StatusCode::kNotFound) << unknown;
  EXPECT_NE(unknown.message().find("payroll"), std::string::npos) << unknown;
  service_.set_defined(true);
  service_.set_retired(true);
  EXPECT_EQ(Try(s, other, T(1)).code(), absl::StatusCode::kFailedPrecondition);
  service_.set_retired(false);
  EXPECT_TRUE(Try(s, other, T(1)).ok());
  // Clearing the service needs no service state.
  EXPECT_TRUE(Try(s,
                  R"({"updateIncidentDetails": {"incidentId": "INC1",
                      "serviceId": ""}})",
                  T(1))
                  .ok());
  // A bad contact type names the field.
  absl::Status contact = Try(s,
                             R"({"updateIncidentDetails": {"incidentId": "INC1",
                                 "contactType": 42}})",
                             T(1));
  EXPECT_EQ(contact.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(contact.message().find("contact_type"), std::string::npos);
  // Closed and Cancelled incidents refuse it.
  IncidentState closed = Opened();
  Do(&closed,
     R"({"resolveIncident": {"incidentId": "INC1", "resolutionCode": "x"}})",
     T(2));
  Do(&closed, R"({"closeIncident": {"incidentId": "INC1"}})", T(3));
  absl::Status refused = Try(closed,
                             R"({"updateIncidentDetails": {"incidentId": "INC1",
                                 "category": "storage"}})",
                             T(4));
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.message().find("Closed -> Closed"), std::string::npos)
      << refused;
}

TEST_F(IncidentTest, ImportedDetailsWithoutServiceKeepTheService) {
  IncidentState s = Opened();
  Envelope e;
  e.mutable_incident_details_updated()->set_category("Category 1");
  ASSERT_FALSE(e.incident_details_updated().has_service());
  Fold({e}, T(1), &s, EvolveIncident);
  EXPECT_EQ(s.service_id(), "email");
  Envelope cleared;
  cleared.mutable_incident_details_updated()->set_service("");
  Fold({cleared}, T(2), &s, EvolveIncident);
  EXPECT_EQ(s.service_id(), "");
}

constexpr char kResolve[] =
    R"({"resolveIncident": {"incidentId": "INC1", "resolutionCode": "x"}})";

std::string Survey(int score) {
  return absl::StrCat(
      R"({"recordSurveyResponse": {"incidentId": "INC1", "score": )", score,
      R"(, "comment": "quick", "respondent": "carol"}})");
}

TEST_F(IncidentTest, SurveyBeforeResolveIsRefused) {
  IncidentState s = Opened();
  absl::Status st = Try(s, Survey(5), T(1));
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("New -> New"), std::string::npos) << st;
  Do(&s, R"({"startIncident": {"incidentId": "INC1"}})", T(1));
  EXPECT_EQ(Try(s, Survey(5), T(2)).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Try(NewIncidentState("INC1"), Survey(5), T(2)).code(),
            absl::StatusCode::kNotFound);
}

TEST_F(IncidentTest, SurveyScoreOutOfRangeNamesTheField) {
  IncidentState s = Opened();
  Do(&s, kResolve, T(1));
  for (int bad : {0, 6, -1, 100}) {
    absl::Status st = Try(s, Survey(bad), T(2));
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(st.message().find("field score"), std::string::npos) << st;
  }
  for (int good = kMinSurveyScore; good <= kMaxSurveyScore; ++good) {
    EXPECT_TRUE(Try(s, Survey(good), T(2)).ok()) << good;
  }
}

TEST_F(IncidentTest, OneSurveyPerResolutionCycleAndReopenMakesRoom) {
  IncidentState s = Opened();
  Do(&s, kResolve, T(1));
  Do(&s, Survey(2), T(2));
  EXPECT_EQ(s.survey_score(), 2);
  EXPECT_EQ(s.survey_resolution_cycle(), 1);
  EXPECT_EQ(s.survey_at_us(), absl::ToUnixMicros(T(2)));
  // A second answer to the same resolution: refused, also once Closed.
  absl::Status again = Try(s, Survey(5), T(3));
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists) << again;
  Do(&s, R"({"closeIncident": {"incidentId": "INC1"}})", T(3));
  EXPECT_EQ(Try(s, Survey(5), T(4)).code(), absl::StatusCode::kAlreadyExists);
  // Reopened: no resolution to rate until it is resolved again.
  Do(&s, R"({"reopenIncident": {"incidentId": "INC1"}})", T(5));
  EXPECT_EQ(Try(s, Survey(5), T(6)).code(),
            absl::StatusCode::kFailedPrecondition);
  Do(&s, kResolve, T(7));
  auto events = DecideIncident(s, Cmd(Survey(5)), Ctx(T(8)));
  ASSERT_TRUE(events.ok()) << events.status();
  EXPECT_EQ((*events)[0].survey_response_recorded().resolution_cycle(), 2);
  EXPECT_EQ((*events)[0].survey_response_recorded().respondent(), "carol");
  EXPECT_EQ((*events)[0].survey_response_recorded().comment(), "quick");
  Fold(*events, T(8), &s, EvolveIncident);
  EXPECT_EQ(s.survey_score(), 5);
  EXPECT_EQ(s.survey_resolution_cycle(), 2);
  EXPECT_EQ(Try(s, Survey(1), T(9)).code(), absl::StatusCode::kAlreadyExists);
}

TEST_F(IncidentTest, SurveyOnIncidentClosedWithoutResolutionIsRefused) {
  policy_.allow_close_without_resolve = true;
  IncidentState s = Opened();
  Do(&s, R"({"closeIncident": {"incidentId": "INC1"}})", T(1));
  ASSERT_EQ(s.status(), INCIDENT_CLOSED);
  absl::Status st = Try(s, Survey(4), T(2));
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("without a resolution"), std::string::npos) << st;
}

TEST_F(IncidentTest, BadIdsAreInvalidArgument) {
  IncidentState none = NewIncidentState("INC1");
  EXPECT_EQ(
      Try(Opened(),
          R"({"linkIncidentToProblem": {"incidentId": "INC1", "problemId": "a/b"}})",
          T(1))
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateAggregateId("incident", "").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateAggregateId("incident", "a b").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateAggregateId("incident", std::string(129, 'a')).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(ValidateAggregateId("incident", "INC-1.a_b:c@d+e=f").ok());
}

}  // namespace
}  // namespace slate
