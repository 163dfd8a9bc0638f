// DomainPolicy: the policy choices of the service-management domain, each with
// its default. Pass one to Engine::Execute.
//
//   slate::DomainPolicy policy;                         // the defaults below
//   policy.reopen_closed_window = absl::Hours(24 * 7);  // stricter reopen
//   policy.require_root_cause_before_fix = false;
//   auto r = engine->Execute(command, policy);
//
// The incident rules below are decided when a command executes; the events a
// decision appends are facts, so a rebuild from the log folds them the same
// way whichever policy later commands run under. A source system whose
// records break a rule (an import) relaxes it for its own commands only,
// e.g. ServiceNowDomainPolicy() (lib/import/servicenow_import.h).
#ifndef SLATE_LIB_API_POLICY_H_
#define SLATE_LIB_API_POLICY_H_

#include "absl/time/time.h"
#include "proto/commands.pb.h"

namespace slate {

// Default change policy:
//  - risk score = impact points (impact 1: 4, 2: 2, 3: 0) + the weights of
//    the questions answered yes: "untested" 2, "no_backout_plan" 3,
//    "requires_outage" 2, "first_time" 1; moderate from 3, high from 5;
//  - approvals: normal low 1 of {change_manager}; normal moderate 2 of
//    {change_manager, cab}; normal high 3 of {cab} (the CAB quorum);
//    emergency 1 of {ecab}, emergency high 2 of {ecab}; standard changes
//    are pre-approved and never enter Authorize;
//  - only emergency changes may override a blackout (with a reason);
//  - closing with an outcome other than SUCCESSFUL needs review notes;
//  - no change needs a post-implementation review (ReviewChange) before it
//    closes: review_required is unset. Set it to require one by risk or
//    type, e.g. review_required.min_risk = RISK_HIGH and
//    review_required.types = {EMERGENCY} (proto/commands.proto
//    ChangeReviewRule); CloseChange on a matching change without a review
//    is then kFailedPrecondition naming the change and the rule.
ChangePolicy DefaultChangePolicy();

struct DomainPolicy {
  // A Closed incident may be reopened while the reopen's event time is at
  // most this long after the close's event time; later it is
  // kFailedPrecondition. absl::InfiniteDuration(): no window (a Closed
  // incident may always be reopened). A Resolved incident may always be
  // reopened. Default: 30 days.
  absl::Duration reopen_closed_window = absl::Hours(24 * 30);

  // Whether an incident may be assigned (AssignIncident) while it is
  // Resolved or Closed; the assignment leaves its state as it is. Off, that
  // is kFailedPrecondition and assignment needs New, In Progress or On
  // Hold. Default: false.
  bool allow_assign_when_resolved = false;

  // Whether an incident may be closed (CloseIncident) from New, In Progress
  // or On Hold without being resolved first (it records no resolution, so
  // it counts in no resolution KPI). Off, close needs Resolved and
  // anything else is kFailedPrecondition. Default: false.
  bool allow_close_without_resolve = false;

  // Whether a Closed incident may be linked to a problem
  // (LinkIncidentToProblem, LogProblem.incident_ids): problem management
  // that works from history (slate trends) links incidents long closed.
  // The link is recorded and the incident stays Closed; resolving the
  // problem resolves only its open incidents. Off, linking needs New, In
  // Progress, On Hold or Resolved and a Closed incident is
  // kFailedPrecondition. Default: false.
  bool allow_link_closed_incidents = false;

  // A problem enters Fix in Progress only once a root cause is recorded.
  // Default: true.
  bool require_root_cause_before_fix = true;

  // Change risk scoring, approvals, blackout overrides, review notes and
  // the post-implementation review required before close (none by
  // default). `slate exec --change-policy FILE` sets it from JSON.
  // Default: DefaultChangePolicy().
  ChangePolicy change = DefaultChangePolicy();
};

}  // namespace slate

#endif  // SLATE_LIB_API_POLICY_H_
