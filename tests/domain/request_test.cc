// Catalog item and service request decide/evolve: every (state, command)
// pair against a table written out here, then each validation rule with the
// status code and the record and field its message names.
#include "lib/domain/request.h"

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
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

class RequestTest : public ::testing::Test {
 protected:
  RequestTest() {
    matrix_ = DefaultPriorityMatrix();
    desk_ = NewServiceState("desk");
    desk_.set_defined(true);
    desk_.mutable_spec()->set_service_id("desk");
    other_ = NewServiceState("other");
    other_.set_defined(true);
    other_.mutable_spec()->set_service_id("other");
    laptop_ = Item(R"("itemId": "laptop", "serviceId": "desk", "name": "Laptop",
        "priceCents": 120000, "currency": "EUR", "fulfilmentTarget": "72h",
        "approvalRequired": true, "approverRoles": ["manager"],
        "fulfilmentGroup": "hardware")");
    mouse_ = Item(R"("itemId": "mouse", "serviceId": "desk", "name": "Mouse",
        "priceCents": 2500, "currency": "EUR", "fulfilmentTarget": "8h",
        "fulfilmentGroup": "hardware")");
    cable_ = Item(R"("itemId": "cable", "serviceId": "desk", "name": "Cable",
        "priceCents": 900, "currency": "USD", "fulfilmentGroup": "hardware")");
    vpn_ = Item(R"("itemId": "vpn", "serviceId": "desk", "name": "VPN access",
        "fulfilmentGroup": "network")");
  }
  CatalogItemState Item(const std::string& fields) {
    const Command c = Cmd(absl::StrCat(R"({"defineCatalogItem": {)", fields,
                                       "}}"));
    CatalogItemState s = NewCatalogItemState(c.define_catalog_item().item_id());
    auto events = DecideCatalogItem(s, c, &desk_);
    EXPECT_TRUE(events.ok()) << events.status();
    if (events.ok()) Fold(*events, T(0), &s, EvolveCatalogItem);
    return s;
  }
  RequestContext Ctx(absl::Time at) {
    RequestContext ctx;
    ctx.at = at;
    ctx.matrix = &matrix_;
    ctx.items = {&laptop_, &mouse_, &vpn_, &cable_};
    ctx.services = {&desk_, &other_};
    return ctx;
  }
  void Do(RequestState* s, const std::string& json, absl::Time at) {
    auto events = DecideRequest(*s, Cmd(json), Ctx(at));
    ASSERT_TRUE(events.ok()) << json << ": " << events.status();
    Fold(*events, at, s, EvolveRequest);
  }
  absl::Status Try(const RequestState& s, const std::string& json) {
    return DecideRequest(s, Cmd(json), Ctx(T(100))).status();
  }
  // REQ1 ordering `items` (JSON list entries).
  RequestState Submitted(const std::string& items) {
    RequestState s = NewRequestState("REQ1");
    Do(&s,
       absl::StrCat(R"({"submitRequest": {"requestId": "REQ1",
           "requester": "ann", "impact": 3, "urgency": 3, "items": [)",
          items, "]}}"),
       T(0));
    return s;
  }

  PriorityMatrix matrix_;
  ServiceState desk_, other_;
  CatalogItemState laptop_, mouse_, vpn_, cable_;
};

constexpr char kBoth[] = R"({"itemId": "laptop"}, {"itemId": "mouse",
                            "quantity": 2})";
constexpr char kApprove[] =
    R"({"approveRequest": {"requestId": "REQ1", "approver": "boss",
        "role": "manager"}})";
constexpr char kComplete1[] =
    R"({"completeRequestTask": {"requestId": "REQ1", "task": 1}})";
constexpr char kComplete2[] =
    R"({"completeRequestTask": {"requestId": "REQ1", "task": 2}})";

TEST_F(RequestTest, EveryStateCommandPairFollowsTheTable) {
  std::map<std::string, RequestState> states;
  states["(none)"] = NewRequestState("REQ1");
  RequestState s = Submitted(kBoth);
  states["Awaiting Approval"] = s;
  Do(&s, kApprove, T(1));
  states["In Fulfilment"] = s;
  Do(&s, kComplete1, T(2));
  Do(&s, kComplete2, T(3));
  states["Fulfilled"] = s;
  Do(&s, R"({"closeRequest": {"requestId": "REQ1"}})", T(4));
  states["Closed"] = s;
  RequestState r = states["Awaiting Approval"];
  Do(&r,
     R"({"rejectRequest": {"requestId": "REQ1", "approver": "boss",
         "reason": "no budget"}})",
     T(1));
  states["Rejected"] = r;
  RequestState c = states["In Fulfilment"];
  Do(&c, R"({"cancelRequest": {"requestId": "REQ1", "reason": "left"}})",
     T(2));
  states["Cancelled"] = c;
  for (const auto& [name, st] : states) {
    ASSERT_STREQ(RequestStatusName(st.status()), name.c_str());
  }

  struct Rule {
    std::string json;
    std::set<std::string> from;
  };
  const std::vector<Rule> rules = {
      {kApprove, {"Awaiting Approval"}},
      {R"({"rejectRequest": {"requestId": "REQ1", "approver": "x",
           "reason": "r"}})",
       {"Awaiting Approval"}},
      {R"({"assignRequestTask": {"requestId": "REQ1", "task": 2,
           "group": "desk"}})",
       {"Awaiting Approval", "In Fulfilment"}},
      {kComplete2, {"In Fulfilment"}},
      {R"({"closeRequest": {"requestId": "REQ1"}})", {"Fulfilled"}},
      {R"({"cancelRequest": {"requestId": "REQ1"}})",
       {"Awaiting Approval", "In Fulfilment"}},
      {R"({"recordRequestSurveyResponse": {"requestId": "REQ1",
           "score": 5}})",
       {"Fulfilled", "Closed"}},
  };
  for (const Rule& rule : rules) {
    for (const auto& [name, st] : states) {
      const absl::Status status = Try(st, rule.json);
      SCOPED_TRACE(absl::StrCat(rule.json, " in ", name, ": ",
                                status.ToString()));
      if (rule.from.count(name) > 0) {
        EXPECT_TRUE(status.ok());
      } else if (name == "(none)") {
        EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
        EXPECT_TRUE(absl::StrContains(status.message(), "request REQ1"));
      } else {
        EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
        EXPECT_TRUE(absl::StrContains(
            status.message(), absl::StrCat("request REQ1: cannot ")));
        EXPECT_TRUE(absl::StrContains(status.message(), name));
      }
    }
  }
}

TEST_F(RequestTest, SubmitCopiesTheCatalogTermsAndTotals) {
  RequestState s = Submitted(kBoth);
  EXPECT_EQ(s.status(), REQUEST_AWAITING_APPROVAL);
  EXPECT_TRUE(s.approval_required());
  EXPECT_EQ(s.service_id(), "desk");
  EXPECT_EQ(s.priority(), 5);  // Impact 3, urgency 3 in the default matrix.
  ASSERT_EQ(s.lines_size(), 2);
  EXPECT_EQ(s.lines(1).quantity(), 2);
  EXPECT_EQ(s.total_cents(), 120000 + 2 * 2500);
  EXPECT_EQ(s.currency(), "EUR");
  EXPECT_EQ(s.due_at_us(), absl::ToUnixMicros(T(0) + absl::Hours(72)));
  ASSERT_EQ(s.tasks_size(), 2);
  EXPECT_EQ(s.tasks(0).group(), "hardware");
  EXPECT_EQ(s.tasks(1).task(), 2);

  // Nothing needs approval: straight into fulfilment.
  RequestState m = Submitted(R"({"itemId": "mouse"})");
  EXPECT_EQ(m.status(), REQUEST_IN_FULFILMENT);
  EXPECT_FALSE(m.approval_required());
  EXPECT_EQ(m.total_cents(), 2500);

  // A free item (no currency) goes with priced ones.
  RequestState v = Submitted(R"({"itemId": "vpn"}, {"itemId": "mouse"})");
  EXPECT_EQ(v.currency(), "EUR");
  EXPECT_EQ(v.total_cents(), 2500);
}

TEST_F(RequestTest, SubmitRefusesBadInputNamingTheField) {
  struct Case {
    std::string body;
    absl::StatusCode code;
    std::string says;
  };
  const std::string base = R"("requestId": "REQ1", "requester": "ann",
                              "impact": 3, "urgency": 3)";
  const std::vector<Case> cases = {
      {R"("requestId": "REQ1", "impact": 3, "urgency": 3,
          "items": [{"itemId": "mouse"}])",
       absl::StatusCode::kInvalidArgument, "field requester is required"},
      {base, absl::StatusCode::kInvalidArgument, "field items is required"},
      {base + R"(, "items": [{"itemId": "nope"}])",
       absl::StatusCode::kNotFound, "field items[0]: catalog item nope"},
      {base + R"(, "items": [{"itemId": "mouse"}, {"itemId": "mouse"}])",
       absl::StatusCode::kInvalidArgument, "items[1]: catalog item mouse is "
                                           "listed twice"},
      {base + R"(, "items": [{"itemId": "mouse", "quantity": -1}])",
       absl::StatusCode::kInvalidArgument, "items[0].quantity must be >= 1"},
      {base + R"(, "items": [{"itemId": "vpn"}, {"itemId": "mouse"},
                             {"itemId": "cable"}])",
       absl::StatusCode::kInvalidArgument,
       "request REQ1: field items[2]: catalog item cable is priced in USD, "
       "not EUR (a request has one currency)"},
      {base + R"(, "items": [{"itemId": "bad id"}])",
       absl::StatusCode::kInvalidArgument,
       "request REQ1: field items[0]: catalog item id"},
      {R"("requestId": "REQ1", "requester": "ann", "impact": 9,
          "urgency": 3, "items": [{"itemId": "mouse"}])",
       absl::StatusCode::kInvalidArgument, "request REQ1: impact"},
  };
  for (const Case& c : cases) {
    const absl::Status st = Try(
        NewRequestState("REQ1"),
        absl::StrCat(R"({"submitRequest": {)", c.body, "}}"));
    EXPECT_EQ(st.code(), c.code) << c.body << ": " << st;
    EXPECT_TRUE(absl::StrContains(st.message(), c.says)) << st;
  }
  EXPECT_EQ(Try(Submitted(R"({"itemId": "mouse"})"),
                R"({"submitRequest": {"requestId": "REQ1", "requester": "a",
                    "impact": 3, "urgency": 3,
                    "items": [{"itemId": "mouse"}]}})")
                .code(),
            absl::StatusCode::kAlreadyExists);

  // Another service's item; a retired item; a retired service.
  CatalogItemState foreign = mouse_;
  foreign.mutable_spec()->set_item_id("foreign");
  foreign.mutable_spec()->set_service_id("other");
  CatalogItemState old = mouse_;
  old.mutable_spec()->set_item_id("old");
  old.set_retired(true);
  RequestContext ctx = Ctx(T(0));
  ctx.items.push_back(&foreign);
  ctx.items.push_back(&old);
  auto mixed = DecideRequest(
      NewRequestState("REQ1"),
      Cmd(absl::StrCat(R"({"submitRequest": {)", base,
                       R"(, "items": [{"itemId": "mouse"},
                           {"itemId": "foreign"}]}})")),
      ctx);
  EXPECT_EQ(mixed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(mixed.status().message(),
                                "items[1]: catalog item foreign belongs to "
                                "service other, not desk"))
      << mixed.status();
  auto retired = DecideRequest(
      NewRequestState("REQ1"),
      Cmd(absl::StrCat(R"({"submitRequest": {)", base,
                       R"(, "items": [{"itemId": "old"}]}})")),
      ctx);
  EXPECT_EQ(retired.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(retired.status().message(),
                                "items[0]: catalog item old is retired"));
  desk_.set_retired(true);
  EXPECT_EQ(Try(NewRequestState("REQ1"),
                absl::StrCat(R"({"submitRequest": {)", base,
                             R"(, "items": [{"itemId": "mouse"}]}})"))
                .code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(RequestTest, ApprovalsFollowEachLinesQuorumAndRoles) {
  CatalogItemState server = Item(R"("itemId": "server", "serviceId": "desk",
      "name": "Server", "approvalRequired": true, "approvalQuorum": 2,
      "approverRoles": ["cab", "cto"], "fulfilmentGroup": "infra")");
  RequestContext ctx = Ctx(T(0));
  ctx.items.push_back(&server);
  RequestState s = NewRequestState("REQ1");
  auto submitted = DecideRequest(
      s,
      Cmd(R"({"submitRequest": {"requestId": "REQ1", "requester": "ann",
          "impact": 3, "urgency": 3,
          "items": [{"itemId": "laptop"}, {"itemId": "server"}]}})"),
      ctx);
  ASSERT_TRUE(submitted.ok()) << submitted.status();
  Fold(*submitted, T(0), &s, EvolveRequest);
  EXPECT_EQ(MissingRequestApprovals(s),
            "line 1 (laptop): 1 more approval(s) from manager (have 0 of 1); "
            "line 2 (server): 2 more approval(s) from cab or cto (have 0 of "
            "2)");

  // A role no waiting line counts, and a missing approver.
  absl::Status st = Try(s, R"({"approveRequest": {"requestId": "REQ1",
      "approver": "x", "role": "intern"}})");
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(st.message(),
                                "request REQ1: role \"intern\" approves no "
                                "line that still needs approval"))
      << st;
  EXPECT_TRUE(absl::StrContains(
      Try(s, R"({"approveRequest": {"requestId": "REQ1", "role": "cab"}})")
          .message(),
      "request REQ1: field approver is required"));

  Do(&s, kApprove, T(10));
  EXPECT_EQ(s.status(), REQUEST_AWAITING_APPROVAL);
  // The laptop's quorum is met: another manager counts for nothing.
  EXPECT_EQ(Try(s, R"({"approveRequest": {"requestId": "REQ1",
      "approver": "boss2", "role": "manager"}})")
                .code(),
            absl::StatusCode::kFailedPrecondition);
  Do(&s, R"({"approveRequest": {"requestId": "REQ1", "approver": "c1",
      "role": "cab"}})",
     T(20));
  EXPECT_EQ(Try(s, R"({"approveRequest": {"requestId": "REQ1",
      "approver": "c1", "role": "cto"}})")
                .message(),
            "request REQ1: c1 already approved it");
  EXPECT_EQ(s.status(), REQUEST_AWAITING_APPROVAL);
  Do(&s, R"({"approveRequest": {"requestId": "REQ1", "approver": "c2",
      "role": "cto"}})",
     T(30));
  EXPECT_EQ(s.status(), REQUEST_IN_FULFILMENT);
  EXPECT_EQ(s.approved_at_us(), absl::ToUnixMicros(T(30)));
  EXPECT_EQ(MissingRequestApprovals(s), "");
  EXPECT_EQ(s.approvals_size(), 3);
}

TEST_F(RequestTest, TasksAreAssignedAndTheLastCompletionFulfils) {
  RequestState s = Submitted(kBoth);
  Do(&s, kApprove, T(1));
  Do(&s, R"({"assignRequestTask": {"requestId": "REQ1", "task": 2,
      "group": "desk", "person": "bob"}})",
     T(2));
  EXPECT_EQ(s.tasks(1).group(), "desk");
  EXPECT_EQ(s.tasks(1).person(), "bob");
  for (const char* bad : {
           R"({"assignRequestTask": {"requestId": "REQ1", "task": 3,
               "group": "g"}})",
           R"({"completeRequestTask": {"requestId": "REQ1", "task": 0}})"}) {
    const absl::Status st = Try(s, bad);
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StrContains(st.message(),
                                  "request REQ1: field task must be 1..2"))
        << st;
  }
  EXPECT_EQ(Try(s, R"({"assignRequestTask": {"requestId": "REQ1",
      "task": 1}})")
                .message(),
            "request REQ1: field group is required");

  auto first = DecideRequest(s, Cmd(kComplete2), Ctx(T(3)));
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 1u);  // One task still open: not fulfilled.
  EXPECT_EQ((*first)[0].request_task_completed().completed_by(), "bob");
  Fold(*first, T(3), &s, EvolveRequest);
  const absl::Status again = Try(s, kComplete2);
  EXPECT_EQ(again.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(again.message(),
                                "request REQ1: task 2 (mouse) is already done"))
      << again;
  auto last = DecideRequest(s, Cmd(kComplete1), Ctx(T(4)));
  ASSERT_TRUE(last.ok());
  ASSERT_EQ(last->size(), 2u);
  EXPECT_TRUE((*last)[1].has_request_fulfilled());
  Fold(*last, T(4), &s, EvolveRequest);
  EXPECT_EQ(s.status(), REQUEST_FULFILLED);
  EXPECT_EQ(s.fulfilled_at_us(), absl::ToUnixMicros(T(4)));
}

TEST_F(RequestTest, RejectNeedsApproverAndReason) {
  RequestState s = Submitted(kBoth);
  EXPECT_EQ(Try(s, R"({"rejectRequest": {"requestId": "REQ1",
      "reason": "r"}})")
                .message(),
            "request REQ1: field approver is required");
  EXPECT_EQ(Try(s, R"({"rejectRequest": {"requestId": "REQ1",
      "approver": "boss"}})")
                .message(),
            "request REQ1: field reason is required");
}

TEST_F(RequestTest, OneSurveyResponsePerRequestScoredOneToFive) {
  RequestState s = Submitted(R"({"itemId": "mouse"})");
  Do(&s, kComplete1, T(5));
  const absl::Status bad = Try(
      s, R"({"recordRequestSurveyResponse": {"requestId": "REQ1",
          "score": 6}})");
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.message(), "request REQ1: field score must be 1..5, got 6");
  Do(&s, R"({"recordRequestSurveyResponse": {"requestId": "REQ1",
      "score": 4, "respondent": "ann"}})",
     T(6));
  EXPECT_EQ(s.survey_score(), 4);
  const absl::Status twice = Try(
      s, R"({"recordRequestSurveyResponse": {"requestId": "REQ1",
          "score": 1}})");
  EXPECT_EQ(twice.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE(absl::StrContains(twice.message(),
                                "request REQ1: already has a survey response "
                                "(score 4"))
      << twice;
}

TEST_F(RequestTest, CatalogItemRulesNameTheField) {
  struct Case {
    std::string fields;
    absl::StatusCode code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {R"("itemId": "x", "name": "X", "fulfilmentGroup": "g")",
       absl::StatusCode::kInvalidArgument,
       "catalog item x: field service_id is required"},
      {R"("itemId": "x", "serviceId": "nope", "name": "X",
          "fulfilmentGroup": "g")",
       absl::StatusCode::kNotFound,
       "catalog item x: service \"nope\" not found"},
      {R"("itemId": "x", "serviceId": "desk", "fulfilmentGroup": "g")",
       absl::StatusCode::kInvalidArgument,
       "catalog item x: field name is required"},
      {R"("itemId": "x", "serviceId": "desk", "name": "X")",
       absl::StatusCode::kInvalidArgument,
       "catalog item x: field fulfilment_group is required"},
      {R"("itemId": "x", "serviceId": "desk", "name": "X",
          "fulfilmentGroup": "g", "priceCents": -1)",
       absl::StatusCode::kInvalidArgument,
       "catalog item x: field price_cents must be >= 0, got -1"},
      {R"("itemId": "x", "serviceId": "desk", "name": "X",
          "fulfilmentGroup": "g", "priceCents": 5)",
       absl::StatusCode::kInvalidArgument,
       "catalog item x: field currency is required when price_cents > 0"},
      {R"("itemId": "x", "serviceId": "desk", "name": "X",
          "fulfilmentGroup": "g", "currency": "eur")",
       absl::StatusCode::kInvalidArgument,
       "catalog item x: field currency must be 3 letters A-Z, got \"eur\""},
      {R"("itemId": "x", "serviceId": "desk", "name": "X",
          "fulfilmentGroup": "g", "fulfilmentTarget": "3 days")",
       absl::StatusCode::kInvalidArgument,
       "catalog item x: field fulfilment_target must be a duration >= 0 "
       "like \"8h\", got \"3 days\""},
      {R"("itemId": "x", "serviceId": "desk", "name": "X",
          "fulfilmentGroup": "g", "approvalQuorum": -2)",
       absl::StatusCode::kInvalidArgument,
       "catalog item x: field approval_quorum must be >= 0, got -2"},
      {R"("itemId": "x", "serviceId": "desk", "name": "X",
          "fulfilmentGroup": "g", "approverRoles": [""])",
       absl::StatusCode::kInvalidArgument,
       "catalog item x: field approver_roles[0] is empty"},
  };
  for (const Case& c : cases) {
    auto r = DecideCatalogItem(
        NewCatalogItemState("x"),
        Cmd(absl::StrCat(R"({"defineCatalogItem": {)", c.fields, "}}")),
        &desk_);
    EXPECT_EQ(r.status().code(), c.code) << c.fields;
    EXPECT_EQ(r.status().message(), c.message);
  }
  // Approval quorum 0 means 1; redefining identically records nothing;
  // retire once; a retired item cannot come back.
  EXPECT_EQ(laptop_.spec().approval_quorum(), 1);
  EXPECT_EQ(laptop_.spec().fulfilment_target_us(),
            absl::ToInt64Microseconds(absl::Hours(72)));
  auto same = DecideCatalogItem(
      mouse_,
      Cmd(R"({"defineCatalogItem": {"itemId": "mouse", "serviceId": "desk",
          "name": "Mouse", "priceCents": 2500, "currency": "EUR",
          "fulfilmentTarget": "8h", "fulfilmentGroup": "hardware"}})"),
      &desk_);
  ASSERT_TRUE(same.ok());
  EXPECT_TRUE(same->empty());
  const Command retire = Cmd(R"({"retireCatalogItem": {"itemId": "mouse"}})");
  EXPECT_EQ(DecideCatalogItem(NewCatalogItemState("mouse"), retire, nullptr)
                .status()
                .code(),
            absl::StatusCode::kNotFound);
  CatalogItemState m = mouse_;
  auto retired = DecideCatalogItem(m, retire, nullptr);
  ASSERT_TRUE(retired.ok());
  Fold(*retired, T(1), &m, EvolveCatalogItem);
  EXPECT_TRUE(m.retired());
  EXPECT_EQ(DecideCatalogItem(m, retire, nullptr).status().message(),
            "catalog item mouse: already retired");
  EXPECT_EQ(DecideCatalogItem(
                m,
                Cmd(R"({"defineCatalogItem": {"itemId": "mouse",
                    "serviceId": "desk", "name": "M",
                    "fulfilmentGroup": "g"}})"),
                &desk_)
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace slate
