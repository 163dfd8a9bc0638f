// Major incidents of a service: the query behind Engine::MajorIncidents
// (semantics in lib/api/service_types.h).
//
//   slate::MajorIncidentQuery q;  q.service = "email";  q.now = absl::Now();
//   auto major = slate::MajorIncidents(runner, q);
//
// Why a query over two projections and not a projection of its own: the KPI
// projection already keeps every incident's priority-1 intervals per
// service ("o/" keys, lib/projection/kpi_format.h; they make availability),
// and the views projection every incident's current state. The query scans
// the one service's outage keys (O(its incidents that were ever priority 1))
// and reads the view of each one listed.
#ifndef SLATE_LIB_PROJECTION_MAJOR_INCIDENTS_H_
#define SLATE_LIB_PROJECTION_MAJOR_INCIDENTS_H_

#include <vector>

#include "absl/status/statusor.h"
#include "lib/api/service_types.h"

namespace slate {

class ProjectionRunner;

// The major incidents of query.service as folded so far by the runner's
// "kpi" and "views" projections, of query.tenant only. kInvalidArgument for
// an empty service, from >= to or an invalid tenant id; kDataLoss for
// undecodable state, naming the key.
absl::StatusOr<std::vector<MajorIncident>> MajorIncidents(
    const ProjectionRunner& runner, const MajorIncidentQuery& query);

}  // namespace slate

#endif  // SLATE_LIB_PROJECTION_MAJOR_INCIDENTS_H_
