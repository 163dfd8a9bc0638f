// Problem decide/evolve: every (state, command) pair against a table written
// out here, and the rules behind it.
#include "lib/domain/problem.h"

#include <map>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/domain/priority_matrix.h"
#include "lib/domain/service.h"
#include "tests/domain/domain_test_util.h"

namespace slate {
namespace {

using ::slate::testing::Cmd;
using ::slate::testing::Fold;
using ::slate::testing::T;

class ProblemTest : public ::testing::Test {
 protected:
  ProblemContext Ctx(absl::Time at) {
    ProblemContext ctx;
    ctx.at = at;
    ctx.matrix = &matrix_;
    ctx.policy = &policy_;
    ctx.service = &service_;
    return ctx;
  }
  void Do(ProblemState* s, const std::string& json, absl::Time at) {
    auto events = DecideProblem(*s, Cmd(json), Ctx(at));
    ASSERT_TRUE(events.ok()) << json << ": " << events.status();
    Fold(*events, at, s, EvolveProblem);
  }
  absl::Status Try(const ProblemState& s, const std::string& json) {
    return DecideProblem(s, Cmd(json), Ctx(T(50))).status();
  }
  ProblemState Logged() {
    ProblemState s = NewProblemState("PRB1");
    Do(&s, kLog, T(0));
    return s;
  }
  static constexpr char kLog[] =
      R"({"logProblem": {"problemId": "PRB1", "title": "mail drops",
          "serviceId": "email", "impact": 2, "urgency": 1}})";

  PriorityMatrix matrix_ = DefaultPriorityMatrix();
  DomainPolicy policy_;
  ServiceState service_ = [] {
    ServiceState s = NewServiceState("email");
    s.set_defined(true);
    return s;
  }();
};

TEST_F(ProblemTest, EveryStateCommandPairFollowsTheTable) {
  const std::string id = R"("problemId": "PRB1")";
  struct Rule {
    std::string json;
    std::set<std::string> from;
    std::string to;  // "" = stays.
  };
  const std::map<std::string, Rule> rules = {
      {"assess",
       {absl::StrCat(R"({"assessProblem": {)", id, "}}"), {"New"}, "Assessed"}},
      {"rca",
       {absl::StrCat(R"({"startProblemRootCauseAnalysis": {)", id, "}}"),
        {"Assessed"},
        "Root Cause Analysis"}},
      {"root cause",
       {absl::StrCat(R"({"recordProblemRootCause": {)", id,
                     R"(, "rootCause": "bad cert"}})"),
        {"Root Cause Analysis", "Fix in Progress"},
        ""}},
      {"known error",
       {absl::StrCat(R"({"recordKnownError": {)", id,
                     R"(, "workaround": "restart"}})"),
        {"Assessed", "Root Cause Analysis", "Fix in Progress"},
        ""}},
      {"fix",
       {absl::StrCat(R"({"startProblemFix": {)", id, "}}"),
        {"Root Cause Analysis"},
        "Fix in Progress"}},
      {"resolve",
       {absl::StrCat(R"({"resolveProblem": {)", id,
                     R"(, "resolutionCode": "fixed"}})"),
        {"Fix in Progress"},
        "Resolved"}},
      {"close",
       {absl::StrCat(R"({"closeProblem": {)", id, "}}"),
        {"Resolved"},
        "Closed"}},
  };
  std::map<std::string, ProblemState> states;
  ProblemState s = Logged();
  states["New"] = s;
  Do(&s, rules.at("assess").json, T(1));
  states["Assessed"] = s;
  Do(&s, rules.at("rca").json, T(2));
  Do(&s, rules.at("root cause").json, T(3));
  states["Root Cause Analysis"] = s;
  Do(&s, rules.at("fix").json, T(4));
  states["Fix in Progress"] = s;
  Do(&s, rules.at("resolve").json, T(5));
  states["Resolved"] = s;
  Do(&s, rules.at("close").json, T(6));
  states["Closed"] = s;
  int checked = 0;
  for (const auto& [cmd, rule] : rules) {
    EXPECT_EQ(Try(NewProblemState("PRB1"), rule.json).code(),
              absl::StatusCode::kNotFound)
        << cmd;
    for (const auto& [name, st] : states) {
      SCOPED_TRACE(absl::StrCat(cmd, " in ", name));
      ASSERT_EQ(ProblemStatusName(st.status()), name);
      auto events = DecideProblem(st, Cmd(rule.json), Ctx(T(50)));
      const std::string to = rule.to.empty() ? name : rule.to;
      if (rule.from.count(name)) {
        ASSERT_TRUE(events.ok()) << events.status();
        ProblemState after = st;
        Fold(*events, T(50), &after, EvolveProblem);
        EXPECT_EQ(ProblemStatusName(after.status()), to);
      } else {
        ASSERT_EQ(events.status().code(), absl::StatusCode::kFailedPrecondition)
            << events.status();
        EXPECT_NE(
            events.status().message().find(absl::StrCat(name, " -> ", to)),
            std::string::npos)
            << events.status();
      }
      ++checked;
    }
    for (const auto& [name, st] : states) {
      EXPECT_EQ(Try(st, kLog).code(), absl::StatusCode::kAlreadyExists) << name;
    }
  }
  EXPECT_EQ(checked, 7 * 6);
}

TEST_F(ProblemTest, LogComputesPriorityAndChecksService) {
  ProblemState s = Logged();
  EXPECT_EQ(s.priority(), 2);  // I2U1.
  EXPECT_EQ(s.title(), "mail drops");
  ProblemState none = NewProblemState("PRB1");
  EXPECT_EQ(Try(none, R"({"logProblem": {"problemId": "PRB1"}})").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      Try(none,
          R"({"logProblem": {"problemId": "PRB1", "title": "t", "impact": 9, "urgency": 1}})")
          .code(),
      absl::StatusCode::kInvalidArgument);
  service_.set_defined(false);
  EXPECT_EQ(Try(none, kLog).code(), absl::StatusCode::kNotFound);
}

TEST_F(ProblemTest, FixNeedsRootCauseUnlessPolicySaysOtherwise) {
  ProblemState s = Logged();
  Do(&s, R"({"assessProblem": {"problemId": "PRB1"}})", T(1));
  Do(&s, R"({"startProblemRootCauseAnalysis": {"problemId": "PRB1"}})", T(2));
  const std::string fix = R"({"startProblemFix": {"problemId": "PRB1"}})";
  EXPECT_EQ(Try(s, fix).code(), absl::StatusCode::kFailedPrecondition);
  policy_.require_root_cause_before_fix = false;
  EXPECT_TRUE(Try(s, fix).ok());
}

TEST_F(ProblemTest, KnownErrorFlagWithWorkaround) {
  ProblemState s = Logged();
  Do(&s, R"({"assessProblem": {"problemId": "PRB1"}})", T(1));
  EXPECT_FALSE(s.known_error());
  EXPECT_EQ(Try(s, R"({"recordKnownError": {"problemId": "PRB1"}})").code(),
            absl::StatusCode::kInvalidArgument);
  Do(&s,
     R"({"recordKnownError": {"problemId": "PRB1", "workaround": "restart"}})",
     T(2));
  EXPECT_TRUE(s.known_error());
  EXPECT_EQ(s.workaround(), "restart");
  EXPECT_EQ(s.status(), PROBLEM_ASSESSED);
}

TEST_F(ProblemTest, LinkedIncidentsManyToOne) {
  ProblemState s = Logged();
  for (const char* inc : {"INC1", "INC2", "INC3"}) {
    auto e = DecideProblemIncidentLink(s, inc);
    ASSERT_TRUE(e.ok()) << e.status();
    Fold({*e}, T(1), &s, EvolveProblem);
  }
  ASSERT_EQ(s.linked_incidents_size(), 3);
  EXPECT_EQ(s.linked_incidents(2), "INC3");
  EXPECT_EQ(DecideProblemIncidentLink(s, "INC2").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(
      DecideProblemIncidentLink(NewProblemState("X"), "INC2").status().code(),
      absl::StatusCode::kNotFound);
  s.set_status(PROBLEM_CLOSED);
  EXPECT_EQ(DecideProblemIncidentLink(s, "INC9").status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(ProblemTest, ResolveRecordsWhetherLinkedIncidentsResolve) {
  ProblemState s = Logged();
  s.set_status(PROBLEM_FIX_IN_PROGRESS);
  auto e = DecideProblem(
      s,
      Cmd(R"({"resolveProblem": {"problemId": "PRB1", "resolutionCode": "fixed", "resolveLinkedIncidents": true}})"),
      Ctx(T(1)));
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE((*e)[0].problem_resolved().resolve_linked_incidents());
  EXPECT_EQ(Try(s, R"({"resolveProblem": {"problemId": "PRB1"}})").code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace slate
