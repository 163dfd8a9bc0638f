// SLA clocks for the KPI rollups: the final (met or breached) clocks of the
// SLA projection, as QueryKpis takes them.
//
//   SLATE_ASSIGN_OR_RETURN(std::vector<slate::KpiSlaClock> clocks,
//                          slate::FinalSlaClocks(runner));
//   auto report = slate::QueryKpis(rollup, query, options, clocks);
//
// A clock counts as breached when its deadline passed while it ran
// (breached_at is set: running, paused, stopped, or cancelled after the
// breach; attributed at breached_at), as met when its status is MET
// (attributed at stopped_at). Other running, paused, not started and
// cancelled clocks are not counted (kpis.md: "per clock that reached a final
// state"). Dimensions are the record's attributes
// as the SLA projection holds them (its latest values, see SlaClockView),
// and the tenant of the record's stream (KpiDims::tenant), by which
// QueryKpis counts a clock only in its record's tenant.
#ifndef SLATE_LIB_PROJECTION_KPI_SLA_H_
#define SLATE_LIB_PROJECTION_KPI_SLA_H_

#include <vector>

#include "absl/status/statusor.h"
#include "lib/projection/kpi_query.h"
#include "lib/projection/runner.h"
#include "lib/projection/sla_projection.h"

namespace slate {

// The KPI view of one clock; nullopt unless it is met or breached.
std::optional<KpiSlaClock> ToKpiSlaClock(const SlaClockView& view);

// Every final clock of the runner's "sla" projection.
absl::StatusOr<std::vector<KpiSlaClock>> FinalSlaClocks(
    const ProjectionRunner& runner);

}  // namespace slate

#endif  // SLATE_LIB_PROJECTION_KPI_SLA_H_
