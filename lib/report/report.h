// The HTML report of a Slate database (`slate report`): one self-contained
// HTML file with inline SVG charts (no script, no network) of the KPIs that
// Engine::Kpis computes, SLA compliance included (lib/api/kpi_types.h).
//
//   slate::report::ReportOptions o;
//   o.bucket = slate::KpiBucket::kWeek;  o.now = absl::Now();
//   absl::StatusOr<slate::report::ReportData> data =
//       slate::report::CollectReportData(*engine, o);
//   if (!data.ok()) return data.status();
//   std::string html = slate::report::RenderReportHtml(*data, o);
//
// What it shows (every figure is an Engine::Kpis measure, summed over
// buckets or dimension groups with KpiFlow::Add; nothing is recomputed from
// events):
//   1. opened and resolved (transitions) per bucket, and the backlog at each
//      bucket's end;
//   2. MTTR p50 / p90 per priority (wall-clock time, records by their last
//      resolution in the period; from the merged resolution sketch);
//   3. SLA compliance (met / (met + breached)) per priority and per
//      assignment group (the `top_groups` groups with the most final
//      clocks), per target type (response, resolution, update), all
//      policies together;
//   4. reopen rate per bucket (records reopened at least once / records
//      resolved, by last resolution);
//   5. customer satisfaction per bucket: CSAT (responses scoring 4 or 5 /
//      responses) and the survey response rate (responses / resolutions),
//      responses by the bucket of the resolution they rate;
//   6. top categories by incidents opened and by SLA breaches;
//   7. a summary table of the whole period (CSAT, average score and
//      response rate included).
// Dimension values are those QueryKpis attributes: flows by the record's
// values at the event, SLA clocks by the record's latest values.
// Empty data renders every section with a "No data for this period" chart.
// The service review of one service and month is lib/report/service_report.h.
#ifndef SLATE_LIB_REPORT_REPORT_H_
#define SLATE_LIB_REPORT_REPORT_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "lib/api/engine.h"
#include "lib/api/kpi_types.h"

namespace slate::report {

struct ReportOptions {
  // Heading of the page. Default: "Slate report".
  std::string title = "Slate report";
  // Shown under the title (e.g. the database path). Default: none.
  std::string source;
  // Time buckets of the charts over time. Default: week (Monday first).
  KpiBucket bucket = KpiBucket::kWeek;
  // The zone of the buckets; another than UTC folds the log again (see
  // Engine::Kpis). Default: UTC.
  absl::TimeZone zone = absl::UTCTimeZone();
  // Buckets overlapping [from, to). Default: from the first day with data
  // to `now`.
  absl::Time from = absl::InfinitePast();
  absl::Time to = absl::InfiniteFuture();
  // The report's "now" (default `to`, ongoing outages). Default: the Unix
  // epoch (set it).
  absl::Time now = absl::UnixEpoch();
  // Assignment groups in the SLA-by-group chart. Default: 15.
  int top_groups = 15;
  // Categories in each top-categories chart. Default: 10.
  int top_categories = 10;
  // Width of every chart in CSS pixels. Default: 960.
  int chart_width = 960;
  // The tenant reported on (lib/api/tenant.h): its records only, under its
  // services and calendars. Default: "" = the default tenant.
  std::string tenant;
};

// One time bucket of the charts over time.
struct BucketPoint {
  absl::CivilDay start, end;  // [start, end) in the report's zone.
  int64_t opened = 0;
  int64_t resolved = 0;  // Transitions into Resolved.
  int64_t backlog = 0;   // Open records at `end`.
  int64_t resolved_final = 0;
  int64_t reopened_records = 0;
  int64_t survey_responses = 0;  // Rating resolutions in the bucket.
  int64_t survey_satisfied = 0;  // Of them, scores 4 and 5.
};

// Met and breached final clocks of one target type.
struct SlaCount {
  int64_t met = 0;
  int64_t breached = 0;
};

// SLA counts of one dimension value, by target type ("response", ...).
struct SlaByTarget {
  std::string label;
  std::map<std::string, SlaCount> by_target;
  int64_t total() const;
};

struct PriorityStat {
  int priority = 0;  // 0: no priority set.
  int64_t resolved_final = 0;
  // Wall-clock MTTR quantiles in seconds; nullopt when nothing resolved.
  std::optional<double> mttr_p50_s;
  std::optional<double> mttr_p90_s;
  std::optional<double> mttr_mean_s;
};

struct CategoryStat {
  std::string category;  // "" for none.
  int64_t opened = 0;
  int64_t breached = 0;  // Breached final SLA clocks (all target types).
};

struct ReportData {
  std::string zone;
  KpiBucket bucket = KpiBucket::kWeek;
  absl::Time now;
  std::vector<BucketPoint> buckets;
  std::vector<PriorityStat> priorities;       // Ascending priority.
  std::vector<SlaByTarget> sla_by_priority;   // Ascending priority.
  std::vector<SlaByTarget> sla_by_group;      // Most clocks first; top N.
  int64_t groups_with_clocks = 0;             // Before the top-N cut.
  std::vector<CategoryStat> top_by_volume;    // Most opened first; top N.
  std::vector<CategoryStat> top_by_breaches;  // Most breaches first; top N.
  KpiFlow total;                              // Flows of the whole period.
  int64_t backlog_at_end = 0;
  std::map<std::string, SlaCount> sla_total;  // By target type.
};

// Queries the engine's KPIs (one load of the rollup for four queries:
// totals, by priority, by group, by category). kInvalidArgument when
// from >= to; the engine's error otherwise (Engine::Kpis).
absl::StatusOr<ReportData> CollectReportData(const Engine& engine,
                                             const ReportOptions& options);

// The whole HTML document (UTF-8). Every text from the data is escaped.
std::string RenderReportHtml(const ReportData& data,
                             const ReportOptions& options);

// "1h05m", "3d04h", "45s": a duration in seconds for people.
std::string FormatDurationSeconds(double seconds);

}  // namespace slate::report

#endif  // SLATE_LIB_REPORT_REPORT_H_
