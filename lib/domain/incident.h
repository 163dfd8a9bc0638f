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
//                update-details survey
//   Closed       reopen (within DomainPolicy::reopen_closed_window of the
//                close, on event time) link-change survey
//   Cancelled    nothing
// (New, In Progress and On Hold also take update-details.)
// update-details (UpdateIncidentDetails) changes the fields it is given; a
// service it names must be defined and not retired (as for open); giving no
// field is kInvalidArgument, changing nothing kFailedPrecondition.
// survey (RecordSurveyResponse) rates the current resolution: score 1..5
// (else kInvalidArgument naming the field); a Closed incident closed without
// a resolution has none (kFailedPrecondition); one response per resolution
// cycle (IncidentResolutionCycle): a second is kAlreadyExists, and only a
// reopen and a new resolution make room for another. We keep the first
// answer rather than let the latest win: a KPI bucket's CSAT then never
// moves because a customer answered twice, and response rate stays <= 100 %.
// Relaxed by DomainPolicy options (default off): allow_assign_when_resolved
// adds assign to Resolved and Closed (the state stays);
// allow_close_without_resolve adds close to New, In Progress and On Hold;
// allow_link_closed_incidents adds link to a problem to Closed (the state
// stays);
// reopen_closed_window = absl::InfiniteDuration() lifts the reopen window.
// Transitions: start New->In Progress; hold ->On Hold; resume On Hold->In
// Progress; resolve ->Resolved; close Resolved->Closed; reopen ->In Progress;
// cancel ->Cancelled. acknowledge is allowed once.
#ifndef SLATE_LIB_DOMAIN_INCIDENT_H_
#define SLATE_LIB_DOMAIN_INCIDENT_H_

#include <cstdint>
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
  // OpenIncident or UpdateIncidentDetails naming a service: that service's
  // state (null or not defined: kNotFound).
  const ServiceState* service = nullptr;
  // LinkIncidentToProblem: the problem (null or none: kNotFound). With
  // `external` set: null or none, else kFailedPrecondition.
  const ProblemState* problem = nullptr;
  // LinkIncidentToChange: the change (null or none: kNotFound). With
  // `external` set: null or none, else kFailedPrecondition.
  const ChangeState* change = nullptr;
};

// Survey scores: 1 (very dissatisfied) .. 5 (very satisfied); 4 and 5 count
// as satisfied in CSAT.
inline constexpr int32_t kMinSurveyScore = 1;
inline constexpr int32_t kMaxSurveyScore = 5;

// The incident's current cycle: 1 + the reopens folded. A survey response
// rates the resolution of this cycle (SurveyResponseRecorded.
// resolution_cycle).
int32_t IncidentResolutionCycle(const IncidentState& s);

// "New", "In Progress", ..., "(none)" for an incident that does not exist.
const char* IncidentStatusName(IncidentStatus s);

// An incident that does not exist yet (status unspecified, version -1).
IncidentState NewIncidentState(absl::string_view incident_id);

// True for the incident commands of Command (open_incident ...
// link_incident_to_change, update_incident_details, record_survey_response);
// their incident id in *id.
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
