// SLA clock query types: what Engine::Clocks, AtRisk and Breached return.
//
//   slate::SlaAtRiskFilter filter;
//   filter.group = "network";  // empty / zero fields match anything
//   auto risky = engine->AtRisk(absl::Now(), absl::Hours(8), filter);
//   for (const slate::SlaClockView& c : *risky) {
//     std::cout << c.record << " " << c.target_type << " due "
//               << absl::FromUnixMicros(c.state.deadline_us()) << "\n";
//   }
#ifndef SLATE_LIB_API_SLA_TYPES_H_
#define SLATE_LIB_API_SLA_TYPES_H_

#include <cstdint>
#include <string>

#include "proto/sla.pb.h"

namespace slate {

// One SLA clock with the attributes of its record, for queries and KPIs.
// Stable: the KPI rollups code against it.
struct SlaClockView {
  // The record's stream, e.g. "incident/INC1" or "change/CHG1".
  std::string record;
  std::string policy_id;
  // "response", "resolution" or "update".
  std::string target_type;
  // 1 for the first cycle; +1 per reopen in NEW_CYCLE mode.
  int64_t cycle = 1;
  // status, phase, deadline_us, started_at_us, stopped_at_us, breached_at_us,
  // business/wall elapsed, target history: see SlaClockState.
  SlaClockState state;
  // The record's attributes as of the latest event folded. For a change:
  // service = its first service id, group and contact_type empty, priority
  // = its impact.
  std::string service;
  std::string group;
  std::string category;
  std::string contact_type;
  int priority = 0;
};

// Filters for Engine::AtRisk; an empty/zero field matches anything.
struct SlaAtRiskFilter {
  std::string group;    // The incident's assignment group.
  std::string service;  // The record's service.
  int priority = 0;     // The record's priority (1..N).
};

}  // namespace slate

#endif  // SLATE_LIB_API_SLA_TYPES_H_
