#include "lib/projection/kpi_sla.h"

#include "lib/base/status_macros.h"

namespace slate {

std::optional<KpiSlaClock> ToKpiSlaClock(const SlaClockView& v) {
  KpiSlaClock c;
  if (v.state.has_breached_at_us()) {
    // Its deadline passed while it ran, whatever happened later.
    c.met = false;
    c.at_us = v.state.breached_at_us();
  } else if (v.state.status() == SLA_CLOCK_STATUS_MET &&
             v.state.has_stopped_at_us()) {
    c.met = true;
    c.at_us = v.state.stopped_at_us();
  } else {
    return std::nullopt;
  }
  c.policy_id = v.policy_id;
  c.target_type = v.target_type;
  c.dims.tenant = std::string(KpiTenantOf(v.record));
  c.dims.service = v.service;
  c.dims.priority = v.priority;
  c.dims.group = v.group;
  c.dims.category = v.category;
  c.dims.contact_type = v.contact_type;
  return c;
}

absl::StatusOr<std::vector<KpiSlaClock>> FinalSlaClocks(
    const ProjectionRunner& runner) {
  std::vector<KpiSlaClock> out;
  SLATE_RETURN_IF_ERROR(ForEachClock(runner, [&out](const SlaClockView& v) {
    if (auto c = ToKpiSlaClock(v)) out.push_back(std::move(*c));
  }));
  return out;
}

}  // namespace slate
