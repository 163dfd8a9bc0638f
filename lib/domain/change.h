// The change aggregate: decide and evolve (pure; see incident.h for the
// pattern), risk scoring, approval requirements and schedule conflicts.
//
//   slate::ChangeState s = slate::NewChangeState("CHG1");
//   for (const slate::Envelope& e : history) slate::EvolveChange(e, &s);
//   slate::ChangeContext ctx{.at = at, .policy = &policy,
//                            .services = {&email}, .other_changes = {...}};
//   auto events = slate::DecideChange(s, command, ctx);
//
// Flows by type (anything else is kFailedPrecondition naming both states):
//   standard   New -> Scheduled -> Implement -> Review -> Closed
//   normal     New -> Assess -> Authorize -> Scheduled -> Implement -> Review
//              -> Closed
//   emergency  New -> Authorize -> Scheduled -> Implement -> Review -> Closed
// plus: assess-risk in New and Assess; approve in Authorize (one approval per
// approver, role counted by the approval rule of the change's type and risk);
// reject in Assess and Authorize (-> Rejected: any rejection rejects);
// cancel in New, Assess, Authorize and Scheduled (-> Cancelled); schedule
// again in Scheduled (reschedule). Leaving Authorize for Scheduled needs the
// approvals the rule asks for.
//
// Post-implementation review (ReviewChange -> ChangeReviewed): in Review or
// Closed, once per change (a second one is kFailedPrecondition naming the
// first), keeping the state; it records the incidents linked as caused by
// the change at that moment. Close (Review -> Closed) of a change that
// ChangePolicy::review_required matches needs the review first
// (kFailedPrecondition naming the change and the rule it matched; default:
// no change needs one). ChangeState.review holds the review; its
// outcome_confirmed is set once the change is Closed (review outcome ==
// close outcome).
//
// Scheduling [start, end) is kFailedPrecondition listing every conflict: a
// blackout window of a service the change touches, or another change in
// Scheduled or Implement on a shared configuration item whose window
// overlaps. A non-empty override_reason schedules anyway (recorded), except
// that a blackout can be overridden only by the types in
// ChangePolicy::blackout_override_types (default: emergency).
#ifndef SLATE_LIB_DOMAIN_CHANGE_H_
#define SLATE_LIB_DOMAIN_CHANGE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/map.h"
#include "lib/domain/policy.h"
#include "proto/commands.pb.h"
#include "proto/events.pb.h"

namespace slate {

struct ChangeContext {
  absl::Time at = absl::UnixEpoch();
  // REQUIRED (not null).
  const DomainPolicy* policy = nullptr;
  // RequestChange and ScheduleChange: the states of the services the change
  // names (request: the command's service_ids; schedule: the change's). A
  // service missing here or not defined is kNotFound.
  std::vector<const ServiceState*> services;
  // ScheduleChange: every other change (the change calendar). Changes not in
  // Scheduled or Implement, and this change itself, are ignored.
  std::vector<const ChangeState*> other_changes;
};

// "New", "Assess", "Authorize", "Scheduled", "Implement", "Review", "Closed",
// "Rejected", "Cancelled"; "(none)".
const char* ChangeStatusName(ChangeStatus s);

ChangeState NewChangeState(absl::string_view change_id);

// True for request_change ... cancel_change; the change id in *id.
bool IsChangeCommand(const Command& c, std::string* id);

struct RiskScore {
  ChangeRisk risk = CHANGE_RISK_UNSPECIFIED;
  int score = 0;
};

// Impact points plus the weights of the questions answered yes, mapped by
// the thresholds. kInvalidArgument (naming `what`) for an impact outside
// 1..3 or an unknown question id.
absl::StatusOr<RiskScore> ScoreChangeRisk(
    const ChangePolicy& policy, int impact,
    const google::protobuf::Map<std::string, bool>& answers,
    absl::string_view what);

// The rule for (type, risk): the exact rule, else the type's rule for any
// risk; null when none (standard changes).
const ApprovalRule* FindApprovalRule(const ChangePolicy& policy,
                                     ChangeType type, ChangeRisk risk);

// Empty when `policy` requires no post-implementation review of `change`
// before it closes (ChangePolicy.review_required); else the part of the rule
// it matches, e.g. "emergency changes (review_required.types)" or "changes
// of risk RISK_MODERATE or above (review_required.min_risk; this one is
// RISK_HIGH)". A type match is named before a risk match.
std::string ChangeReviewRequirement(const ChangePolicy& policy,
                                    const ChangeState& change);

// Empty when the change's approvals satisfy its rule; else what is missing,
// e.g. "2 more approvals from cab (have 1 of 3)".
std::string MissingApprovals(const ChangePolicy& policy,
                             const ChangeState& change);

// Conflicts of scheduling `change` over [start, end), one line each.
struct ScheduleConflicts {
  std::vector<std::string> blackouts;
  std::vector<std::string> changes;
  bool empty() const { return blackouts.empty() && changes.empty(); }
};
ScheduleConflicts FindScheduleConflicts(
    const ChangeState& change, absl::Time start, absl::Time end,
    const std::vector<const ServiceState*>& services,
    const std::vector<const ChangeState*>& other_changes);

// REQUIRES: IsChangeCommand(command).
absl::StatusOr<std::vector<Envelope>> DecideChange(const ChangeState& state,
                                                   const Command& command,
                                                   const ChangeContext& ctx);

void EvolveChange(const Envelope& e, ChangeState* state);

// The ChangeIncidentLinked that linking an incident appends to the change
// stream. kNotFound when the change does not exist.
absl::StatusOr<Envelope> DecideChangeIncidentLink(const ChangeState& state,
                                                  absl::string_view incident_id,
                                                  ChangeLinkRelation relation);

}  // namespace slate

#endif  // SLATE_LIB_DOMAIN_CHANGE_H_
