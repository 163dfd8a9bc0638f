// The problem aggregate: decide and evolve (pure; see incident.h for the
// pattern).
//
//   slate::ProblemState s = slate::NewProblemState("PRB1");
//   for (const slate::Envelope& e : history) slate::EvolveProblem(e, &s);
//   auto events = slate::DecideProblem(s, command, ctx);
//
// States and the commands allowed in each (anything else is
// kFailedPrecondition naming both states; kNotFound when the problem does not
// exist, kAlreadyExists when logging one that does):
//   New                  assess (-> Assessed)
//   Assessed             start-rca (-> Root Cause Analysis), record-known-error
//   Root Cause Analysis  record-root-cause, record-known-error,
//                        start-fix (-> Fix in Progress; needs a root cause
//                        unless DomainPolicy::require_root_cause_before_fix
//                        is off)
//   Fix in Progress      record-root-cause, record-known-error,
//                        resolve (-> Resolved)
//   Resolved             close (-> Closed)
//   Closed               nothing
// Linking an incident (an incident command) is allowed in every state but
// Closed. Resolving with resolve_linked_incidents resolves every linked
// incident that is New, In Progress or On Hold (the executor appends one
// IncidentResolved per incident stream).
#ifndef SLATE_LIB_DOMAIN_PROBLEM_H_
#define SLATE_LIB_DOMAIN_PROBLEM_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "lib/domain/policy.h"
#include "proto/commands.pb.h"
#include "proto/events.pb.h"

namespace slate {

struct ProblemContext {
  absl::Time at = absl::UnixEpoch();
  // The priority matrix in force. REQUIRED (not null).
  const PriorityMatrix* matrix = nullptr;
  // REQUIRED (not null).
  const DomainPolicy* policy = nullptr;
  // LogProblem naming a service: its state (null or not defined: kNotFound).
  const ServiceState* service = nullptr;
};

// "New", "Assessed", "Root Cause Analysis", "Fix in Progress", "Resolved",
// "Closed"; "(none)" for a problem that does not exist.
const char* ProblemStatusName(ProblemStatus s);

ProblemState NewProblemState(absl::string_view problem_id);

// True for log_problem ... close_problem; the problem id in *id.
bool IsProblemCommand(const Command& c, std::string* id);

// REQUIRES: IsProblemCommand(command).
absl::StatusOr<std::vector<Envelope>> DecideProblem(const ProblemState& state,
                                                    const Command& command,
                                                    const ProblemContext& ctx);

void EvolveProblem(const Envelope& e, ProblemState* state);

// The ProblemIncidentLinked that linking `incident_id` appends to the problem
// stream. kNotFound: no such problem; kFailedPrecondition: Closed, or the
// incident is already linked.
absl::StatusOr<Envelope> DecideProblemIncidentLink(
    const ProblemState& state, absl::string_view incident_id);

}  // namespace slate

#endif  // SLATE_LIB_DOMAIN_PROBLEM_H_
