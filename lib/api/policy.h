// DomainPolicy: the policy choices of the service-management domain, each with
// its default. Pass one to Engine::Execute.
//
//   slate::DomainPolicy policy;                         // the defaults below
//   policy.reopen_closed_window = absl::Hours(24 * 7);  // stricter reopen
//   policy.require_root_cause_before_fix = false;
//   auto r = engine->Execute(command, policy);
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
//  - closing with an outcome other than SUCCESSFUL needs review notes.
ChangePolicy DefaultChangePolicy();

struct DomainPolicy {
  // A Closed incident may be reopened while the reopen's event time is at
  // most this long after the close's event time; later it is
  // kFailedPrecondition. A Resolved incident may always be reopened.
  // Default: 30 days.
  absl::Duration reopen_closed_window = absl::Hours(24 * 30);

  // A problem enters Fix in Progress only once a root cause is recorded.
  // Default: true.
  bool require_root_cause_before_fix = true;

  // Change risk scoring, approvals, blackout overrides.
  // Default: DefaultChangePolicy().
  ChangePolicy change = DefaultChangePolicy();
};

}  // namespace slate

#endif  // SLATE_LIB_API_POLICY_H_
