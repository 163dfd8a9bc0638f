// QueryKpis: buckets (day/week/month), dimension groupings and measures over
// a KpiRollup; FormatKpiReport prints a report as a table, CSV or JSON.
//
//   SLATE_ASSIGN_OR_RETURN(slate::KpiRollup rollup,
//       slate::LoadKpiRollup(slate::KpiScanOf(runner), {}));
//   slate::KpiQuery q;
//   q.by = {slate::KpiDimension::kPriority, slate::KpiDimension::kGroup};
//   q.bucket = slate::KpiBucket::kMonth;
//   q.from = ...;  q.to = ...;  q.now = clock->Now();
//   SLATE_ASSIGN_OR_RETURN(slate::KpiReport r,
//       slate::QueryKpis(rollup, q, slate::KpiOptions(), sla_clocks));
//   std::cout << slate::FormatKpiReport(r, slate::KpiFormat::kTable);
//
// Measures and their definitions: lib/projection/kpi_projection.h.
//
// Buckets are half-open [start, end) civil days, ISO weeks (Monday first)
// or months in KpiOptions::zone, the zone the rollup's day cells were folded
// in. A query for another zone is kInvalidArgument: day cells of one zone do
// not split into days of another. To answer it, fold the log again with that
// zone (FoldKpiRollup below; `slate kpi --tz` does this, at the cost of one
// pass over the log).
//
// Rows: every bucket overlapping [from, to) times every dimension group that
// has a cell before the last bucket's end (or one total row per bucket when
// `by` is empty), including empty buckets with zero counts.
// Cost: O(cells before `to`) to load and sum (backlog is a running sum from
// the first day); sketches merge per row.
#ifndef SLATE_LIB_PROJECTION_KPI_QUERY_H_
#define SLATE_LIB_PROJECTION_KPI_QUERY_H_

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "lib/api/kpi_types.h"
#include "lib/projection/kpi_projection.h"
#include "lib/projection/kpi_rollup.h"
#include "proto/events.pb.h"

namespace slate {

// One final SLA clock (met or breached), as the SLA projection reports it.
struct KpiSlaClock {
  std::string policy_id;
  std::string target_type;  // "response", "resolution", "update".
  bool met = false;         // false: breached.
  int64_t at_us = 0;        // Stop instant (met) or breach instant.
  KpiDims dims;
};

struct KpiRow {
  absl::CivilDay start, end;  // [start, end) in the query's zone.
  KpiDims dims;               // Only the `by` dimensions are set.
  KpiMeasures flow;           // Sums of the bucket's cells.
  int64_t backlog = 0;        // At `end`.
  std::array<int64_t, kAgingClasses> aging{};
};

struct KpiAvailabilityRow {
  absl::CivilDay start, end;
  std::string tenant;  // The service's tenant id ("default" included).
  std::string service;
  int64_t agreed_us = 0;      // Calendar open time in [start, min(end, now)).
  int64_t downtime_us = 0;    // Within the agreed time.
  double target_percent = 0;  // 0: none.
  int64_t failures = 0;       // Downtime episodes starting in the bucket.
};

// One service in one bucket: its availability and reliability (when it has
// an availability row) next to its satisfaction (kpi_projection.h).
struct KpiServiceRow {
  absl::CivilDay start, end;
  std::string tenant;  // The service's tenant id ("default" included).
  std::string service;
  int64_t resolved = 0;
  int64_t survey_responses = 0;
  int64_t survey_satisfied = 0;
  int64_t survey_score_sum = 0;
  bool has_availability = false;  // False: the fields below are unset.
  int64_t agreed_us = 0;
  int64_t downtime_us = 0;
  int64_t failures = 0;
  double target_percent = 0;
};

struct KpiSlaRow {
  absl::CivilDay start, end;
  KpiDims dims;
  std::string policy_id;
  std::string target_type;
  int64_t met = 0;
  int64_t breached = 0;
};

struct KpiReport {
  std::string tenant;        // The query's tenant id ("default" included).
  bool all_tenants = false;  // Every tenant merged (then `tenant` is "").
  std::vector<KpiDimension> by;
  KpiBucket bucket = KpiBucket::kDay;
  std::string zone;
  std::vector<KpiRow> rows;
  std::vector<KpiAvailabilityRow> availability;
  std::vector<KpiSlaRow> sla;
  // Every bucket times every named service with an availability row, a
  // resolution or a survey response in the queried period.
  std::vector<KpiServiceRow> services;
};

// Counts the records of query.tenant, or of every tenant when
// query.all_tenants (kpi_types.h). kInvalidArgument when query.zone is not
// options.zone, from >= to, the tenant id is invalid, or both a tenant and
// all_tenants are given.
absl::StatusOr<KpiReport> QueryKpis(const KpiRollup& rollup,
                                    const KpiQuery& query,
                                    const KpiOptions& options,
                                    absl::Span<const KpiSlaClock> sla_clocks);

// Table: aligned sections for people (durations like "2h05m", rates in %,
// "-" for an absent mean). CSV: one block per table, each with a header
// line, blocks separated by a blank line; durations in seconds, rates as
// fractions, absent values empty. JSON: one object {"zone","bucket","by",
// "rows":[...],"availability":[...],"sla":[...],"changes":[...],
// "requests":[...],"satisfaction":[...],"services":[...]}; absent values
// omitted. The changes table (post-implementation review) and the requests
// table (one cost_cents_<CURRENCY> column per currency in the report)
// follow the incident table in text and CSV; the satisfaction and services tables follow the others
// (KpiTables says when they are left out). The table's first line names a
// tenant other than the default one; an all-tenants report says so there
// and in JSON ("all_tenants":true), and its availability and services rows
// carry a tenant column.
std::string FormatKpiReport(const KpiReport& report, KpiFormat format,
                            KpiTables tables = {});

// Reads the whole log through `read_all(from_position, max_count)` and folds
// it into a fresh, in-memory KpiProjection with `options`.
absl::StatusOr<KpiRollup> FoldKpiRollup(
    const std::function<absl::StatusOr<std::vector<Envelope>>(int64_t, size_t)>&
        read_all,
    const KpiOptions& options);

}  // namespace slate

#endif  // SLATE_LIB_PROJECTION_KPI_QUERY_H_
