// The service review (`slate report --service S --month YYYY-MM`): the
// monthly report a provider sends its customer about one service, as one
// self-contained HTML file with inline SVG charts (no script, no network),
// like the KPI report (lib/report/report.h).
//
//   slate::report::ServiceReportOptions o;
//   o.service = "email";
//   o.month = absl::CivilMonth(2026, 11);
//   o.now = absl::Now();
//   absl::StatusOr<slate::report::ServiceReportData> data =
//       slate::report::CollectServiceReportData(*engine, o);
//   if (!data.ok()) return data.status();  // kNotFound: unknown service
//   std::string html = slate::report::RenderServiceReportHtml(*data, o);
//
// The month is the calendar month in ServiceReportOptions::zone, UTC by
// default: the zone of the stored KPI rollup, so the review costs one load
// of it; another zone (e.g. the one of the service's support calendar, for
// a customer who reads "November" in Berlin) folds the log again in memory,
// as `slate kpi --tz` does. Availability itself is always counted in the
// service's support calendar, whatever the zone of the month.
//
// What it shows, every figure an Engine query (Engine::Kpis by service,
// month buckets; Engine::MajorIncidents):
//   1. availability against the target (ServiceSpec.
//      availability_target_percent) for the month and the month before,
//      with the downtime, failures and MTBF, and a chart per day;
//   2. SLA compliance per policy and target type (response, resolution,
//      update): final clocks by their stop or breach instant in the month;
//   3. incidents opened and resolved in the month and the month before,
//      the backlog at each month's end, MTTR, opened per priority;
//   4. major incidents: every priority-1 outage overlapping the month, with
//      opened, resolved and duration;
//   5. changes requested and closed in the month, by outcome;
//   6. satisfaction: CSAT, average score, response rate;
//   7. service requests: submitted, approved (mean approval time),
//      rejected, cancelled, fulfilled (mean fulfilment time, wall and
//      business), the cost of the fulfilled ones per currency, request
//      CSAT.
// A section with nothing in the month says so in words.
#ifndef SLATE_LIB_REPORT_SERVICE_REPORT_H_
#define SLATE_LIB_REPORT_SERVICE_REPORT_H_

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
#include "lib/api/service_types.h"
#include "lib/report/report.h"

namespace slate::report {

struct ServiceReportOptions {
  // The service id. Required.
  std::string service;
  // The calendar month reviewed, in `zone`. Default: 1970-01 (set it).
  absl::CivilMonth month;
  // The zone of the month's boundaries. Default: UTC.
  absl::TimeZone zone = absl::UTCTimeZone();
  // The report's "now": availability is measured up to it and an outage
  // still open ends there. Default: the Unix epoch (set it).
  absl::Time now = absl::UnixEpoch();
  // Heading of the page. Default: "Service review: <name> (<id>), <month>".
  std::string title;
  // Shown under the title (e.g. the database path). Default: none.
  std::string source;
  // Width of every chart in CSS pixels. Default: 960.
  int chart_width = 960;
  // The tenant whose service is reviewed (lib/api/tenant.h): its records
  // only; the service is the tenant's own definition of that id, else the
  // default tenant's. Default: "" = the default tenant.
  std::string tenant;
};

// One calendar month of the service.
struct ServiceMonth {
  absl::CivilMonth month;
  absl::Time start, end;  // [start, end) in the options' zone.
  KpiFlow flow;           // The service's flows in the month.
  int64_t backlog_at_end = 0;
  // Availability (KpiResultAvailabilityRow of the month); unset when the
  // engine measures none for the service (no target and no priority-1
  // incident ever).
  bool has_availability = false;
  int64_t agreed_us = 0;
  int64_t downtime_us = 0;
  int64_t failures = 0;
  double target_percent = 0;  // 0: none.
  // (agreed - downtime) / agreed in %; nullopt without agreed time.
  std::optional<double> availability_percent() const;
  // Whether anything of the service happened in the month (a flow, an
  // open incident, downtime).
  bool HasIncidentData() const;
};

// Availability of one day of the month (days after `now` have no agreed
// time and are absent from the chart).
struct ServiceDay {
  absl::CivilDay day;
  int64_t agreed_us = 0;
  int64_t downtime_us = 0;
};

// Opened and resolved incidents of one priority in the month.
struct ServicePriorityCount {
  int priority = 0;  // 0: no priority set.
  int64_t opened = 0;
  int64_t resolved = 0;  // Transitions into Resolved.
};

struct ServiceReportData {
  std::string service;
  bool defined = false;       // In the catalog (DefineService).
  std::string name;           // The catalog name; "" when not defined.
  std::string owner;          // The catalog owner; "" when none.
  std::string calendar_id;    // Support calendar; "" = 24x7.
  double target_percent = 0;  // The catalog's availability target; 0: none.
  // When the service was defined; nullopt when it is not in the catalog.
  // A month that ends before it has no availability to review.
  std::optional<absl::Time> defined_at;
  std::string zone;
  absl::Time now;
  ServiceMonth month;     // The month reviewed.
  ServiceMonth previous;  // The month before, for the trend.
  std::vector<ServiceDay> days;
  // Final SLA clocks of the month per policy (label = policy id), by target
  // type; policies in id order.
  std::vector<SlaByTarget> sla_by_policy;
  std::vector<ServicePriorityCount> by_priority;  // Ascending priority.
  std::vector<MajorIncident> major_incidents;     // Engine::MajorIncidents.
};

// Queries the engine: the service's catalog entry (LoadAggregate), one
// Engine::Kpis batch (by service: the two months, the days of the month,
// priorities) and Engine::MajorIncidents for the month. kInvalidArgument
// for an empty service; kNotFound naming the service when it is neither
// defined nor named by any incident or change (a service known only from
// imported records is reviewed without a catalog entry); the engine's
// error otherwise.
absl::StatusOr<ServiceReportData> CollectServiceReportData(
    const Engine& engine, const ServiceReportOptions& options);

// The whole HTML document (UTF-8). Every text from the data is escaped.
std::string RenderServiceReportHtml(const ServiceReportData& data,
                                    const ServiceReportOptions& options);

}  // namespace slate::report

#endif  // SLATE_LIB_REPORT_SERVICE_REPORT_H_
