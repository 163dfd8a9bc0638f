#include "lib/domain/policy.h"

#include <set>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "lib/domain/common.h"

namespace slate {

ChangePolicy DefaultChangePolicy() {
  ChangePolicy p;
  for (auto [id, weight] : {std::pair<const char*, int>{"untested", 2},
                            {"no_backout_plan", 3},
                            {"requires_outage", 2},
                            {"first_time", 1}}) {
    RiskQuestion* q = p.add_risk_questions();
    q->set_id(id);
    q->set_weight(weight);
  }
  p.add_impact_points(4);
  p.add_impact_points(2);
  p.add_impact_points(0);
  p.set_moderate_threshold(3);
  p.set_high_threshold(5);
  auto rule = [&p](ChangeType type, ChangeRisk risk, int quorum,
                   std::initializer_list<const char*> roles) {
    ApprovalRule* r = p.add_approval_rules();
    r->set_type(type);
    r->set_risk(risk);
    r->set_quorum(quorum);
    for (const char* role : roles) r->add_roles(role);
  };
  rule(NORMAL, RISK_LOW, 1, {"change_manager"});
  rule(NORMAL, RISK_MODERATE, 2, {"change_manager", "cab"});
  rule(NORMAL, RISK_HIGH, 3, {"cab"});
  rule(EMERGENCY, CHANGE_RISK_UNSPECIFIED, 1, {"ecab"});
  rule(EMERGENCY, RISK_HIGH, 2, {"ecab"});
  p.add_blackout_override_types(EMERGENCY);
  p.set_require_review_notes_unless_successful(true);
  return p;
}

absl::Status ValidateChangePolicy(const ChangePolicy& p) {
  auto bad = [](auto... parts) {
    return absl::InvalidArgumentError(
        absl::StrCat("change policy: ", parts...));
  };
  if (p.impact_points_size() != 3) {
    return bad("impact_points must have 3 entries (impact 1..3), got ",
               p.impact_points_size());
  }
  std::set<std::string> ids;
  for (int i = 0; i < p.risk_questions_size(); ++i) {
    const RiskQuestion& q = p.risk_questions(i);
    absl::Status s = ValidateAggregateId("risk question", q.id());
    if (!s.ok()) return bad("risk_questions[", i, "].id: ", s.message());
    if (!ids.insert(q.id()).second) {
      return bad("risk_questions[", i, "].id \"", q.id(), "\" appears twice");
    }
    if (q.weight() < 0) {
      return bad("risk_questions[", i, "].weight must be >= 0, got ",
                 q.weight());
    }
  }
  if (p.moderate_threshold() <= 0 ||
      p.high_threshold() < p.moderate_threshold()) {
    return bad("need 0 < moderate_threshold <= high_threshold, got ",
               p.moderate_threshold(), " and ", p.high_threshold());
  }
  std::set<std::pair<int, int>> keys;
  for (int i = 0; i < p.approval_rules_size(); ++i) {
    const ApprovalRule& r = p.approval_rules(i);
    if (r.type() != NORMAL && r.type() != EMERGENCY) {
      return bad("approval_rules[", i,
                 "].type must be NORMAL or EMERGENCY (standard changes are "
                 "pre-approved)");
    }
    if (r.quorum() < 1) {
      return bad("approval_rules[", i, "].quorum must be >= 1, got ",
                 r.quorum());
    }
    if (!keys.insert({r.type(), r.risk()}).second) {
      return bad("approval_rules[", i, "]: a second rule for ",
                 ChangeType_Name(r.type()), " ", ChangeRisk_Name(r.risk()));
    }
  }
  for (ChangeType t : {NORMAL, EMERGENCY}) {
    for (ChangeRisk k : {RISK_LOW, RISK_MODERATE, RISK_HIGH}) {
      if (!keys.count({t, k}) && !keys.count({t, CHANGE_RISK_UNSPECIFIED})) {
        return bad("approval_rules: no rule for ", ChangeType_Name(t), " ",
                   ChangeRisk_Name(k));
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ChangePolicy> LoadChangePolicyJson(absl::string_view json) {
  ChangePolicy p;
  google::protobuf::util::JsonParseOptions parse;
  parse.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(
      std::string(json.data(), json.size()), &p, parse);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("change policy: not a valid ChangePolicy JSON: ",
                     std::string(status.message())));
  }
  absl::Status s = ValidateChangePolicy(p);
  if (!s.ok()) return s;
  return p;
}

}  // namespace slate
