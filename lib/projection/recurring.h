// Recurring incidents (problem candidates): the detection behind
// Engine::RecurringIncidents and `slate trends`. The semantics are written
// out in lib/api/trend_types.h.
//
//   std::vector<slate::RecurringInput> in = ...;  // eligible incidents
//   auto candidates = slate::DetectRecurring(in, query);
//   auto live = slate::RecurringIncidents(runner, query);  // from the views
//
// Why a query and not a built-in projection: the views projection already
// keeps every incident's service, category, configuration item, opening
// time and problem link, and every problem's state. A projection of its
// own would cost every user fold time on every event, and it would have to
// recompute whole groups whenever a problem closes or a link is made
// (eligibility changes for many incidents at once). The query reads the
// views once (O(incidents + problems) keys) and sorts; on the ServiceNow
// export's 24,918 incidents that is well under a second
// (examples/servicenow/README.md), fine for an on-demand report.
//
// Algorithm (per group, incidents sorted by (opened_at, incident_id)):
// every qualifying window's incidents are a subset of the window starting
// at its earliest incident, so it suffices to look at the windows anchored
// at each incident i: indexes [i, end(i)) with end(i) the first incident
// opened at or after opened_at(i) + W (two pointers, end is monotone).
// Anchored windows that qualify and overlap in index space share an
// incident, so merging overlapping index ranges in order of i gives the
// candidates. O(n log n) for the sort, O(n) after.
#ifndef SLATE_LIB_PROJECTION_RECURRING_H_
#define SLATE_LIB_PROJECTION_RECURRING_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/api/trend_types.h"

namespace slate {

class ProjectionRunner;

// An eligible incident with its group key.
struct RecurringInput {
  RecurringIncident incident;
  std::string service;
  std::string category;
  std::string configuration_item;
};

// The candidates among `incidents` (all eligible; their order does not
// matter), in the order of lib/api/trend_types.h. kInvalidArgument when
// query.window <= 0 or query.min_incidents < 2.
absl::StatusOr<std::vector<RecurringCandidate>> DetectRecurring(
    std::vector<RecurringInput> incidents, const RecurringQuery& query);

// Whether `s` may count: opened, not cancelled, and not linked to a problem
// that is open (`linked_problem`: that problem's state; null when the link
// is external or names no problem held here, both counting as open).
bool RecurringEligible(const IncidentState& s,
                       const ProblemState* linked_problem);

// DetectRecurring over the incidents of query.tenant in the views
// projection ("views", lib/projection/views.h) as folded so far.
// kInvalidArgument for an invalid tenant id.
absl::StatusOr<std::vector<RecurringCandidate>> RecurringIncidents(
    const ProjectionRunner& runner, const RecurringQuery& query);

}  // namespace slate

#endif  // SLATE_LIB_PROJECTION_RECURRING_H_
