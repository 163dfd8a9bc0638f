// Recurring incidents (problem candidates): the query and result types of
// Engine::RecurringIncidents, as `slate trends` prints them.
//
//   slate::RecurringQuery q;            // defaults: window 7 days, at least 5
//   q.window = absl::Hours(24 * 7);
//   q.min_incidents = 5;
//   auto candidates = engine->RecurringIncidents(q);
//   for (const slate::RecurringCandidate& c : *candidates) {
//     // c.service, c.category, c.configuration_item ("" = none),
//     // c.incidents in (opened_at, incident_id) order
//   }
//
// Semantics (lib/projection/recurring.h has the algorithm and its proof):
//  - Eligible incidents: every incident that was opened and not cancelled
//    and is not linked to an open problem. "Open" means any state but
//    Closed; a link to a problem of another system (an external reference)
//    counts as open, since its state is not known here. Incidents of every
//    other state (resolved and closed ones included) are eligible: past
//    recurrences are what problem management looks for.
//  - Groups: eligible incidents with the same (service, category,
//    configuration item); an empty value is a value of its own ("none"),
//    so incidents without a configuration item group together.
//  - Windows: a window of length W holds the incidents of a group opened at
//    or after its start and strictly before start + W (half-open, like the
//    KPI buckets): two incidents opened exactly W apart never share one. A
//    window is qualifying when it holds at least N incidents.
//  - Candidates: qualifying windows of one group that share an incident are
//    one candidate; a candidate's incidents are the union of its windows'.
//    So a burst that lasts longer than W is one candidate, and two bursts
//    with no qualifying window across them are two.
//  - Order: most incidents first, then the earliest first opened, then
//    service, category, configuration item.
#ifndef SLATE_LIB_API_TREND_TYPES_H_
#define SLATE_LIB_API_TREND_TYPES_H_

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "proto/commands.pb.h"

namespace slate {

struct RecurringQuery {
  // Length of the sliding window (> 0). Default: 7 days.
  absl::Duration window = absl::Hours(24 * 7);
  // Incidents a window must hold to count (>= 2). Default: 5.
  int min_incidents = 5;
  // The tenant whose incidents and problems are read (lib/api/tenant.h):
  // a candidate never holds incidents of two tenants. Default: "" = the
  // default tenant. kInvalidArgument for an invalid id.
  std::string tenant;
};

// One incident of a candidate, as the views projection holds it now.
struct RecurringIncident {
  std::string incident_id;
  absl::Time opened_at;
  IncidentStatus status = INCIDENT_STATUS_UNSPECIFIED;
  // A problem it is linked to (Closed, or it would not be listed); empty if
  // none. Linking it to a new problem needs it unlinked first.
  std::string problem_id;
};

struct RecurringCandidate {
  std::string service;             // "" = none.
  std::string category;            // "" = none.
  std::string configuration_item;  // "" = none.
  absl::Time first_opened;
  absl::Time last_opened;
  // In (opened_at, incident_id) order; at least min_incidents.
  std::vector<RecurringIncident> incidents;
};

}  // namespace slate

#endif  // SLATE_LIB_API_TREND_TYPES_H_
