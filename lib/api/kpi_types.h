// KPI queries and their results: what Engine::Kpis and Engine::FormatKpis
// take and return. Measures and their definitions:
// lib/projection/kpi_projection.h (in short: flows count transitions in a
// bucket, stocks such as the backlog are taken at the bucket's end, SLA
// compliance counts final clocks by their stop or breach instant).
//
//   slate::KpiQuery q;
//   q.by = {slate::KpiDimension::kPriority};  // empty: totals only
//   q.bucket = slate::KpiBucket::kWeek;       // weeks start on Monday
//   q.now = absl::Now();                      // set it
//   q.tenant = "acme";                        // one tenant ("": default)
//   auto table = engine->FormatKpis(q, slate::KpiFormat::kTable);
//   auto kpis = engine->Kpis({q});            // the same as data
//   for (const slate::KpiResultRow& row : (*kpis)[0].rows) {
//     std::cout << row.start << " P" << row.dims.priority << " opened "
//               << row.flow.opened << " backlog " << row.backlog << "\n";
//   }
#ifndef SLATE_LIB_API_KPI_TYPES_H_
#define SLATE_LIB_API_KPI_TYPES_H_

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace slate {

class QuantileSketch;

enum class KpiDimension {
  kService,
  kPriority,
  kGroup,
  kCategory,
  kContactType,
  // The record's tenant (lib/api/tenant.h): rows per tenant of an
  // all-tenants query.
  kTenant
};
// kAll: one bucket for the whole queried period (whole days in the zone,
// from the first day of `from` to the last day before `to`).
enum class KpiBucket { kDay, kWeek, kMonth, kAll };
enum class KpiFormat { kTable, kCsv, kJson };

// "service", "priority", "group", "category", "contact", "tenant".
const char* KpiDimensionName(KpiDimension d);
// Accepts the names above (and "contact_type", "assignment_group").
std::optional<KpiDimension> ParseKpiDimension(absl::string_view s);
// "day", "week", "month", "all".
const char* KpiBucketName(KpiBucket b);

struct KpiQuery {
  // Dimensions to group by, in output column order; empty: totals only.
  std::vector<KpiDimension> by;
  // Default: days. kAll: one row per dimension group for the whole period.
  KpiBucket bucket = KpiBucket::kDay;
  // Must be the rollup's zone (KpiOptions::zone). Default: UTC.
  absl::TimeZone zone = absl::UTCTimeZone();
  // Buckets overlapping [from, to). Default from: the first day with data;
  // default to: `now`.
  absl::Time from = absl::InfinitePast();
  absl::Time to = absl::InfiniteFuture();
  // Ongoing outages end here; availability is measured up to here.
  // Default: the Unix epoch (set it).
  absl::Time now = absl::UnixEpoch();
  // The tenant whose records are counted (lib/api/tenant.h), under its
  // services and calendars (the default tenant's where it has none of its
  // own). Default: "" = the default tenant. kInvalidArgument for an
  // invalid id; a tenant without records answers like an empty log.
  std::string tenant;
  // Every tenant's records merged (group by KpiDimension::kTenant for rows
  // per tenant); availability and the services table stay per tenant and
  // service (a service's availability is measured in its tenant's
  // calendar), their rows naming the tenant. kInvalidArgument together with
  // a non-empty `tenant`. Default: false.
  bool all_tenants = false;
};

// Which tables FormatKpiReport prints. Default: all.
struct KpiTables {
  bool incidents = true;  // Incidents, times, quality and change measures.
  bool availability = true;
  bool sla = true;
  // CSAT, average score and response rate per row's dimensions.
  bool satisfaction = true;
  // Per service: availability, reliability (failures, MTBF) and
  // satisfaction side by side.
  bool services = true;
  // Post-implementation review of closed changes per row's dimensions:
  // share reviewed, failed rate of reviewed and of unreviewed changes.
  bool changes = true;
  // Leave the satisfaction and services tables out when the report holds
  // no survey response, so a log without surveys prints what it printed
  // before they existed. Default: true; `slate kpi --table satisfaction`
  // or `--table services` sets it to false.
  bool hide_satisfaction_without_responses = true;
  // Likewise the changes table when no closed change in the report was
  // reviewed. Default: true; `slate kpi --table changes` sets it to false.
  bool hide_changes_without_reviews = true;
  // Service requests per row's dimensions: opened, fulfilled, fulfilment
  // and approval times (wall and business), cost, request CSAT.
  bool requests = true;
  // Leave the requests table out when no request was submitted in the
  // report. Default: true; `slate kpi --table requests` sets it to false.
  bool hide_requests_without_requests = true;
};

// --- Results of Engine::Kpis ---------------------------------------------

// The durations (microseconds) behind a mean: mergeable, with quantiles
// within 0.8 % of the exact ones. Copyable value.
class KpiDurations {
 public:
  KpiDurations();
  // For the engine: a copy of an internal sketch.
  explicit KpiDurations(const QuantileSketch& sketch);
  KpiDurations(const KpiDurations& other);
  KpiDurations& operator=(const KpiDurations& other);
  ~KpiDurations();

  // Number of durations (sum of counts).
  int64_t count() const;
  // Whether every count is >= 0 (always, except for backlog-like deltas).
  bool IsNonNegative() const;
  // The q-quantile in microseconds, 0 <= q <= 1.
  // REQUIRES: count() > 0 and IsNonNegative().
  double Quantile(double q) const;
  // Adds every duration of `other` (exact; order-independent).
  void Merge(const KpiDurations& other);

 private:
  std::unique_ptr<QuantileSketch> sketch_;  // Never null.
};

// Age classes of the backlog: [0, 1d), [1d, 3d), [3d, 7d), [7d, 30d), 30d+.
inline constexpr int kKpiAgingClasses = 5;

// The sums of one row (field = the measure's name in kpi_projection.h).
struct KpiFlow {
  int64_t opened = 0;
  int64_t resolved = 0;
  int64_t closed = 0;
  int64_t reopened = 0;
  int64_t cancelled = 0;
  int64_t backlog_delta = 0;
  int64_t response_count = 0;
  int64_t response_wall_us = 0;
  int64_t response_business_us = 0;
  int64_t resolved_final = 0;
  int64_t resolution_wall_us = 0;
  int64_t resolution_business_us = 0;
  int64_t hold_us = 0;
  int64_t group_changes = 0;
  int64_t first_contact = 0;
  int64_t reopened_records = 0;
  int64_t survey_responses = 0;  // At the resolution rated.
  int64_t survey_satisfied = 0;  // Scores 4 and 5.
  int64_t survey_score_sum = 0;
  int64_t changes_requested = 0;
  int64_t changes_emergency = 0;
  int64_t changes_closed = 0;
  int64_t changes_successful = 0;
  int64_t changes_successful_with_issues = 0;
  int64_t changes_failed = 0;
  int64_t changes_rolled_back = 0;
  int64_t changes_causing_incidents = 0;
  // Closed changes with a post-implementation review, and those of them
  // closed FAILED or ROLLED_BACK (bucket by close).
  int64_t changes_reviewed = 0;
  int64_t changes_reviewed_failed = 0;
  // Service requests: submitted; fulfilled with the summed fulfilment time
  // (submission -> fulfilment); approvals completed with the summed approval
  // time (submission -> the completing approval); rejected, cancelled; survey
  // responses on fulfilled requests (bucket by fulfilment).
  int64_t requests_opened = 0;
  int64_t requests_fulfilled = 0;
  int64_t request_fulfilment_wall_us = 0;
  int64_t request_fulfilment_business_us = 0;
  int64_t requests_approved = 0;
  int64_t request_approval_wall_us = 0;
  int64_t request_approval_business_us = 0;
  int64_t requests_rejected = 0;
  int64_t requests_cancelled = 0;
  int64_t request_survey_responses = 0;
  int64_t request_survey_satisfied = 0;
  int64_t request_survey_score_sum = 0;
  // Cost of the fulfilled requests: currency -> minor units (cents).
  std::map<std::string, int64_t> request_cost_cents;
  std::array<int64_t, kKpiAgingClasses> aging_delta{};
  KpiDurations response_wall_sketch;
  KpiDurations response_business_sketch;
  KpiDurations resolution_wall_sketch;
  KpiDurations resolution_business_sketch;

  // this += other (counters summed, durations merged).
  void Add(const KpiFlow& other);
};

// The dimension values of a row; only the query's `by` dimensions are set
// (unset text is "", unset priority 0).
struct KpiKey {
  std::string tenant;  // The tenant id ("default" included).
  std::string service;
  int32_t priority = 0;
  std::string group;
  std::string category;
  std::string contact_type;
};

struct KpiResultRow {
  absl::CivilDay start, end;  // [start, end) in the query's zone.
  KpiKey dims;
  KpiFlow flow;         // Sums of the bucket's cells.
  int64_t backlog = 0;  // At `end`.
  std::array<int64_t, kKpiAgingClasses> aging{};
};

struct KpiResultAvailabilityRow {
  absl::CivilDay start, end;
  std::string tenant;  // The service's tenant id ("default" included).
  std::string service;
  int64_t agreed_us = 0;      // Calendar open time in [start, min(end, now)).
  int64_t downtime_us = 0;    // Within the agreed time.
  double target_percent = 0;  // 0: none.
  // Reliability: downtime episodes (runs of the union of priority-1
  // intervals) that start in the bucket; MTBF = (agreed - downtime) /
  // failures.
  int64_t failures = 0;
};

// One service in one bucket: availability and reliability (from its
// availability row, if it has one) next to satisfaction.
struct KpiResultServiceRow {
  absl::CivilDay start, end;
  std::string tenant;  // The service's tenant id ("default" included).
  std::string service;
  int64_t resolved = 0;          // Resolutions in the bucket.
  int64_t survey_responses = 0;  // At the resolution rated.
  int64_t survey_satisfied = 0;  // Scores 4 and 5: CSAT = satisfied/responses.
  int64_t survey_score_sum = 0;  // Average score = sum/responses.
  bool has_availability = false;  // False: the four fields below are unset.
  int64_t agreed_us = 0;
  int64_t downtime_us = 0;
  int64_t failures = 0;
  double target_percent = 0;
};

struct KpiResultSlaRow {
  absl::CivilDay start, end;
  KpiKey dims;
  std::string policy_id;
  std::string target_type;  // "response", "resolution", "update".
  int64_t met = 0;
  int64_t breached = 0;
};

// Every bucket overlapping the query's [from, to) times every dimension
// group with data (or one total row per bucket), empty buckets included.
struct KpiResult {
  std::vector<KpiDimension> by;
  KpiBucket bucket = KpiBucket::kDay;
  std::string zone;
  std::vector<KpiResultRow> rows;
  std::vector<KpiResultAvailabilityRow> availability;
  std::vector<KpiResultSlaRow> sla;
  std::vector<KpiResultServiceRow> services;
};

}  // namespace slate

#endif  // SLATE_LIB_API_KPI_TYPES_H_
