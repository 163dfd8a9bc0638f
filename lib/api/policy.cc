#include "lib/api/policy.h"

#include <initializer_list>
#include <utility>

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

}  // namespace slate
