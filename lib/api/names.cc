#include "lib/api/names.h"

#include "lib/domain/change.h"
#include "lib/domain/common.h"
#include "lib/domain/incident.h"
#include "lib/domain/priority_matrix.h"
#include "lib/domain/problem.h"
#include "lib/domain/request.h"
#include "lib/domain/service.h"
#include "lib/projection/sla_projection.h"

namespace slate {

std::string PriorityLevelName(const PriorityMatrix& matrix, int level) {
  return PriorityName(matrix, level);
}

std::string AggregateStatusName(const ExecuteResult& state) {
  if (state.has_incident())
    return IncidentStatusName(state.incident().status());
  if (state.has_problem()) return ProblemStatusName(state.problem().status());
  if (state.has_change()) return ChangeStatusName(state.change().status());
  if (state.has_service()) return ServiceStatusName(state.service());
  if (state.has_request()) return RequestStatusName(state.request().status());
  if (state.has_catalog_item()) {
    return state.catalog_item().retired() ? "Retired" : "Offered";
  }
  return "";
}

std::string FormatStateTime(int64_t us) { return FormatMicros(us); }

absl::string_view SlaMetricName(SlaMetric metric) {
  return SlaTargetTypeName(metric);
}

absl::StatusOr<PriorityMatrix> ParsePriorityMatrixJson(absl::string_view json) {
  return LoadPriorityMatrixJson(json);
}

}  // namespace slate
