// KpiMeasures and KpiRollup: the mergeable sums the KPI projection stores,
// loaded into memory for queries. Definitions of every measure are in
// lib/projection/kpi_projection.h.
//
//   auto rollup = slate::LoadKpiRollup(
//       slate::KpiScanOf(runner), /*until=*/std::nullopt);
//   rollup->Merge(*other_partition);   // partitions and time ranges combine
//   auto report = slate::QueryKpis(*rollup, query, options, clocks);
//
// Mergeability: every stored quantity is a sum over records of a per-record
// contribution (counters, duration sums, sketch bucket counts, backlog and
// aging deltas), or a set (outage intervals per record, service targets).
// Merging two rollups adds the sums and unions the sets, so the rollup of a
// union of disjoint record sets is the merge of their rollups, and the
// rollup of a time range is the merge of the rollups of its sub-ranges.
#ifndef SLATE_LIB_PROJECTION_KPI_ROLLUP_H_
#define SLATE_LIB_PROJECTION_KPI_ROLLUP_H_

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "lib/projection/kpi.pb.h"
#include "lib/projection/kpi_format.h"
#include "lib/projection/quantile_sketch.h"

namespace slate {

class ProjectionRunner;

// Age classes of the backlog: [0, 1d), [1d, 3d), [3d, 7d), [7d, 30d), 30d+.
inline constexpr int kAgingClasses = 5;
inline constexpr int64_t kAgingBoundsDays[kAgingClasses + 1] = {0, 1,  3,
                                                                7, 30, -1};
inline constexpr const char* kAgingNames[kAgingClasses] = {
    "0-1d", "1-3d", "3-7d", "7-30d", "30d+"};

// Every summed counter of a cell (name = KpiCell field).
#define SLATE_KPI_COUNTERS(X)       \
  X(opened)                         \
  X(resolved)                       \
  X(closed)                         \
  X(reopened)                       \
  X(cancelled)                      \
  X(backlog_delta)                  \
  X(response_count)                 \
  X(response_wall_us)               \
  X(response_business_us)           \
  X(resolved_final)                 \
  X(resolution_wall_us)             \
  X(resolution_business_us)         \
  X(hold_us)                        \
  X(group_changes)                  \
  X(first_contact)                  \
  X(reopened_records)               \
  X(survey_responses)               \
  X(survey_satisfied)               \
  X(survey_score_sum)               \
  X(changes_requested)              \
  X(changes_emergency)              \
  X(changes_closed)                 \
  X(changes_successful)             \
  X(changes_successful_with_issues) \
  X(changes_failed)                 \
  X(changes_rolled_back)            \
  X(changes_causing_incidents)      \
  X(changes_reviewed)               \
  X(changes_reviewed_failed)        \
  X(requests_opened)                \
  X(requests_fulfilled)             \
  X(request_fulfilment_wall_us)     \
  X(request_fulfilment_business_us) \
  X(requests_approved)              \
  X(request_approval_wall_us)       \
  X(request_approval_business_us)   \
  X(requests_rejected)              \
  X(requests_cancelled)             \
  X(request_survey_responses)       \
  X(request_survey_satisfied)       \
  X(request_survey_score_sum)

// Every sketch of a cell.
#define SLATE_KPI_SKETCHES(X) \
  X(response_wall_sketch)     \
  X(response_business_sketch) \
  X(resolution_wall_sketch)   \
  X(resolution_business_sketch)

// One cell's sums (or a delta of them: counts may then be negative).
struct KpiMeasures {
#define SLATE_KPI_FIELD(name) int64_t name = 0;
  SLATE_KPI_COUNTERS(SLATE_KPI_FIELD)
#undef SLATE_KPI_FIELD
  std::array<int64_t, kAgingClasses> aging_delta{};
#define SLATE_KPI_FIELD(name) QuantileSketch name;
  SLATE_KPI_SKETCHES(SLATE_KPI_FIELD)
#undef SLATE_KPI_FIELD
  // Cost of fulfilled requests: currency -> minor units. No zero entries.
  std::map<std::string, int64_t> request_cost_cents;

  // this += sign * other (sign is +1 or -1).
  void Add(const KpiMeasures& other, int sign = 1);
  bool IsZero() const;
  kpi::KpiCell ToProto() const;
  // Sets `out` to the deterministic serialization of ToProto() (the bytes
  // SerializeDeterministic gives), written without building the message.
  void EncodeTo(std::string* out) const;
  static absl::StatusOr<KpiMeasures> FromProto(const kpi::KpiCell& cell);

  friend bool operator==(const KpiMeasures& a, const KpiMeasures& b);
  friend bool operator!=(const KpiMeasures& a, const KpiMeasures& b) {
    return !(a == b);
  }
};

struct KpiInterval {
  int64_t start_us = 0;
  int64_t end_us = 0;  // 0: still open.
  friend bool operator==(const KpiInterval& a, const KpiInterval& b) {
    return a.start_us == b.start_us && a.end_us == b.end_us;
  }
};

struct KpiServiceTarget {
  double availability_target_percent = 0;
  int64_t at_us = 0;
  int64_t version = 0;
  std::string calendar_id;  // The service's support calendar ("" = none).
  friend bool operator==(const KpiServiceTarget& a, const KpiServiceTarget& b) {
    return a.availability_target_percent == b.availability_target_percent &&
           a.at_us == b.at_us && a.version == b.version &&
           a.calendar_id == b.calendar_id;
  }
};

// Tenants (lib/api/tenant.h): cells carry their record's tenant
// (KpiDims::tenant, "" for the default one), outages name their record's
// stream, which names its tenant. Configuration is the default tenant's
// (`services`, `calendar_specs`) plus each other tenant's own definitions,
// which override the default tenant's of the same id for that tenant only
// (ServicesOf, CalendarSpecsOf).
struct KpiRollup {
  // (local day, full dimension tuple) -> sums. No all-zero entries.
  std::map<std::pair<absl::CivilDay, KpiDims>, KpiMeasures> cells;
  // service -> record stream -> that record's priority-1 intervals.
  std::map<std::string, std::map<std::string, std::vector<KpiInterval>>>
      outages;
  // The default tenant's services: service -> availability target (the
  // latest definition wins).
  std::map<std::string, KpiServiceTarget> services;
  // The default tenant's calendars: calendar id -> CalendarSpec bytes, for
  // every CalendarDefined folded.
  std::map<std::string, std::string> calendar_specs;
  // Another tenant -> its own services / calendars, as above.
  std::map<std::string, std::map<std::string, KpiServiceTarget>>
      tenant_services;
  std::map<std::string, std::map<std::string, std::string>>
      tenant_calendar_specs;

  // The services and calendars `tenant` ("" or "default": the default
  // tenant) sees: the default tenant's, overridden by its own.
  std::map<std::string, KpiServiceTarget> ServicesOf(
      absl::string_view tenant) const;
  std::map<std::string, std::string> CalendarSpecsOf(
      absl::string_view tenant) const;
  // Every tenant with a cell, an outage or configuration of its own, as
  // cells name them ("" = default, always present), sorted.
  std::vector<std::string> Tenants() const;

  // Adds `other`'s sums and unions its sets (a record present in both keeps
  // the union of its intervals; a service in both keeps the later target).
  void Merge(const KpiRollup& other);
  friend bool operator==(const KpiRollup& a, const KpiRollup& b) {
    return a.cells == b.cells && a.outages == b.outages &&
           a.services == b.services && a.calendar_specs == b.calendar_specs &&
           a.tenant_services == b.tenant_services &&
           a.tenant_calendar_specs == b.tenant_calendar_specs;
  }
};

// The tenant of `stream` as KpiDims::tenant holds it: "" for the default
// tenant.
absl::string_view KpiTenantOf(absl::string_view stream);

// Scans keys with a prefix of the KPI projection's state, in key order
// (ProjectionRunner::Scan or ProjectionState::Scan bound to "kpi").
using KpiScanFn = std::function<absl::Status(
    absl::string_view prefix,
    const std::function<bool(absl::string_view, absl::string_view)>& fn)>;

// A KpiScanFn over the runner's projection `name` (default "kpi").
KpiScanFn KpiScanOf(const ProjectionRunner& runner,
                    absl::string_view name = "kpi");

// Loads the configuration part of the stored rollup into `out`: the
// services and calendars of every tenant. kDataLoss on undecodable state,
// naming the key.
absl::Status LoadKpiConfig(const KpiScanFn& scan, KpiRollup* out);

// kDataLoss "kpi projection: undecodable <what> at key \"<key>\"" (the key
// printable: other bytes as \xNN).
absl::Status KpiCorrupt(absl::string_view what, absl::string_view key);

// Loads the stored rollup; cells of days >= `until` are skipped (they cannot
// affect buckets that end at or before `until`). kDataLoss on undecodable
// state, naming the key.
absl::StatusOr<KpiRollup> LoadKpiRollup(const KpiScanFn& scan,
                                        std::optional<absl::CivilDay> until);

}  // namespace slate

#endif  // SLATE_LIB_PROJECTION_KPI_ROLLUP_H_
