// The incident aggregate: decide (validate a command against the current state
// and turn it into events) and evolve (fold an event into the state). Pure: no
// I/O; whatever else a decision needs (the matrix in force, the service, a
// linked problem or change) the caller loads and passes in IncidentContext.
//
//   slate::IncidentState s = slate::NewIncidentState("INC1");
//   for (const slate::Envelope& e : history) slate::EvolveIncident(e, &s);
//   slate::IncidentContext ctx{.at = at, .matrix = &matrix, .policy = &policy};
//   absl::StatusOr<std::vector<slate::Envelope>> events =
//       slate::DecideIncident(s, command, ctx);  // payloads only
//
// States and the commands allowed in each (anything else is
// kFailedPrecondition naming both states; a command on an incident that does
// not exist is kNotFound, opening one that exists kAlreadyExists):
//   New          acknowledge assign set-impact-urgency override-priority start
//                hold resolve cancel comment link-problem link-change
//   In Progress  acknowledge assign set-impact-urgency override-priority hold
//                resolve cancel comment link-problem link-change
//   On Hold      acknowledge assign set-impact-urgency override-priority resume
//                resolve cancel comment link-problem link-change
//   Resolved     close reopen comment link-problem link-change
//   Closed       reopen (within DomainPolicy::reopen_closed_window of the
//                close, on event time) link-change
//   Cancelled    nothing
// Relaxed by DomainPolicy options (default off): allow_assign_when_resolved
// adds assign to Resolved and Closed (the state stays);
// allow_close_without_resolve adds close to New, In Progress and On Hold;
// reopen_closed_window = absl::InfiniteDuration() lifts the reopen window.
// Transitions: start New->In Progress; hold ->On Hold; resume On Hold->In
// Progress; resolve ->Resolved; close Resolved->Closed; reopen ->In Progress;
// cancel ->Cancelled. acknowledge is allowed once.
#ifndef SLATE_LIB_DOMAIN_INCIDENT_H_
#define SLATE_LIB_DOMAIN_INCIDENT_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "lib/domain/policy.h"
#include "proto/commands.pb.h"
#include "proto/events.pb.h"

namespace slate {

struct IncidentContext {
  // The command's event time.
  absl::Time at = absl::UnixEpoch();
  // The priority matrix in force. REQUIRED (not null).
  const PriorityMatrix* matrix = nullptr;
  // REQUIRED (not null).
  const DomainPolicy* policy = nullptr;
  // OpenIncident naming a service: that service's state (null or not defined:
  // kNotFound).
  const ServiceState* service = nullptr;
  // LinkIncidentToProblem: the problem (null or none: kNotFound). With
  // `external` set: null or none, else kFailedPrecondition.
  const ProblemState* problem = nullptr;
  // LinkIncidentToChange: the change (null or none: kNotFound). With
  // `external` set: null or none, else kFailedPrecondition.
  const ChangeState* change = nullptr;
};

// "New", "In Progress", ..., "(none)" for an incident that does not exist.
const char* IncidentStatusName(IncidentStatus s);

// An incident that does not exist yet (status unspecified, version -1).
IncidentState NewIncidentState(absl::string_view incident_id);

// True for the incident commands of Command (open_incident ...
// link_incident_to_change); their incident id in *id.
bool IsIncidentCommand(const Command& c, std::string* id);

// The events (payloads only; the executor sets ids and times) that `command`
// produces on `state`, or the error. REQUIRES: IsIncidentCommand(command).
absl::StatusOr<std::vector<Envelope>> DecideIncident(
    const IncidentState& state, const Command& command,
    const IncidentContext& ctx);

// Folds one event. Events of other aggregates are ignored.
void EvolveIncident(const Envelope& e, IncidentState* state);

// For ResolveProblem with resolve_linked_incidents: the IncidentResolved the
// problem's resolution gives `incident`, or nullopt when it is not New, In
// Progress or On Hold.
std::optional<Envelope> IncidentResolutionForProblem(
    const IncidentState& incident, absl::string_view problem_id,
    const ResolveProblem& resolve);

}  // namespace slate

#endif  // SLATE_LIB_DOMAIN_INCIDENT_H_
