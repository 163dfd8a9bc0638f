// KpiProjection: incident and change KPIs folded from the log into mergeable
// per-day rollups (the "kpi" projection); QueryKpis (kpi_query.h) turns them
// into buckets, dimensions and measures.
//
//   auto rollup = slate::LoadKpiRollup(slate::KpiScanOf(runner),
//                                      std::nullopt);
//   slate::KpiQuery q;  q.by = {slate::KpiDimension::kPriority};
//   q.bucket = slate::KpiBucket::kWeek;  q.from = ...;  q.to = ...;
//   auto report = slate::QueryKpis(*rollup, q, slate::KpiOptions(), {});
//
// ---------------------------------------------------------------------------
// DEFINITIONS (after /work/shared/notes/kpis.md; "bucket by" is the instant
// that attributes a measure to a time bucket and to dimension values).
//
// A record's timeline is its events ordered by (occurred_at, version), so
// out-of-order arrival gives the same rollup. Dimension values attributed to
// a measure at instant t are the record's values after all of its events at
// t: service (from IncidentOpened, then the latest IncidentDetailsUpdated
// that carries one: UpdateIncidentDetails; imports never do), category and
// contact type (from IncidentOpened, then the latest IncidentDetailsUpdated),
// priority (latest
// IncidentPrioritySet), assignment group (latest IncidentAssigned; "" while
// unassigned). Changes: service = the first listed service, the rest unset.
// "Open" = New, In Progress or On Hold. t0 = the first IncidentOpened.
//
// Incidents (counts of transitions; bucket by the transition's instant):
//   opened     = #records whose first IncidentOpened is in the bucket.
//   resolved   = #IncidentResolved (a record resolved again counts again).
//   closed     = #IncidentClosed (also a close without a resolution, which
//                then counts in no resolution measure below and ends any
//                hold).                 cancelled = #IncidentCancelled.
//   reopened   = #IncidentReopened from Resolved or Closed.
// Stocks (bucket end E; "at E" means after every event before E):
//   backlog(E) = #records open at E, under their dimension values at E.
//   aging_k(E) = #records open at E with E - t0 in class k:
//                [0,1d) [1d,3d) [3d,7d) [7d,30d) [30d,inf).
//   Stored as +1/-1 deltas where a record enters/leaves the backlog (or an
//   age class, or a dimension tuple); a stock is the sum of all deltas < E.
// Response (bucket by the first response r = the first IncidentAcknowledged
// or IncidentAssigned at or after t0 while the record is open; an
// assignment while Resolved or Closed is no response):
//   MTTA       = sum(r - t0) / #responses; p50/p90/p99 from the sketch.
// Resolution (bucket by the last resolution R: the latest IncidentResolved
// of a record that is Resolved or Closed now; a reopened record leaves
// these measures until it is resolved again, then counts once, at R):
//   resolved_final        = #such records.
//   MTTR                  = sum(R - t0) / resolved_final; p50/p90/p99.
//   mean time on hold     = sum(On Hold intervals before R) / resolved_final.
//   avg reassignments     = sum(assignment-group changes after the first
//                           assignment) / resolved_final.
//   first-contact rate    = #records never reopened, never reassigned (group
//                           or person changed after the first assignment),
//                           not resolved through a problem, resolved by the
//                           first assigned person (or with no person named /
//                           assigned) / resolved_final.
//   reopen rate           = #records with >= 1 reopen / resolved_final.
// Satisfaction (SurveyResponseRecorded, score 1..5; bucket by the resolution
// it rates: the IncidentResolved of the response's resolution cycle, under
// that resolution's dimension values, so responses and `resolved` share one
// population; a record counts at most one response per cycle, the first):
//   survey_responses      = #responses.
//   CSAT                  = #responses scoring 4 or 5 / survey_responses.
//   average score         = sum(score) / survey_responses.
//   response rate         = survey_responses / resolved (resolutions in the
//                           bucket, each reopen-and-resolve counting again,
//                           as a response is allowed per resolution), <= 1.
//   A late answer moves no other bucket than its resolution's; a reopen
//   keeps the earlier resolution's response where it was counted.
// Wall and business time: MTTA and MTTR are kept in wall time (occurred_at
// differences) and business time (BusinessCalendar::Between in the calendar
// of the record's service: KpiOptions::service_calendars, else the service's
// support_calendar_id from the log (ServiceDefined/ServiceUpdated, latest
// wins) once that calendar is defined (CalendarDefined), else
// KpiOptions::default_calendar, else 24x7, where business time equals wall
// time). A service or calendar (re)definition recomputes every record under
// the new calendars, so the rollup stays a function of the set of events.
// Durations are clamped at 0.
// Changes (a change whose ChangeRequested is an import's placeholder,
// ServiceNowRowMeta.placeholder, is not counted at all: it stands for a
// record the source system did not export, not for a request):
//   requested, emergency (bucket by ChangeRequested);
//   emergency ratio   = emergency / requested.
//   closed (ChangeClosed with an outcome; bucket by close), split into
//   successful, successful_with_issues, failed, rolled_back;
//   success rate      = successful / closed (SUCCESSFUL only, as kpis.md;
//                       SUCCESSFUL_WITH_ISSUES is neither success nor fail);
//   failed rate       = (failed + rolled_back) / closed;
//   causing incidents = #closed changes with >= 1 ChangeIncidentLinked
//                       CAUSED_BY (whenever linked) / closed.
// Post-implementation review (ChangeReviewed; at most one per change, before
// or after its close; bucket by the close, like `closed`, so reviewed and
// unreviewed changes are one population split in two):
//   reviewed          = #closed changes with a ChangeReviewed;
//   review share      = reviewed / closed;
//   reviewed_failed   = #reviewed closed changes closed FAILED or
//                       ROLLED_BACK (the close's outcome, as failed rate);
//   failed rate, reviewed   = reviewed_failed / reviewed;
//   failed rate, unreviewed = (failed + rolled_back - reviewed_failed) /
//                             (closed - reviewed).
//   A review recorded after the close moves its change from unreviewed to
//   reviewed in the close's bucket.
// Service requests (request/<id>; dimensions: service = the request's,
// priority = its priority at submission; no group, category or contact
// type; t0 = RequestSubmitted):
//   opened            = #RequestSubmitted (bucket by submission).
//   approved          = #requests whose approvals completed (the
//                       RequestApproved with complete set; bucket by it);
//   approval time     = sum(approved - t0) / approved, wall and business.
//   rejected, cancelled = #RequestRejected / #RequestCancelled (at them).
//   fulfilled         = #RequestFulfilled (bucket by fulfilment F);
//   fulfilment time   = sum(F - t0) / fulfilled, wall and business.
//   cost              = per currency, sum over fulfilled requests of
//                       quantity x unit price of their lines (bucket by F);
//                       currencies are never added together.
//   request CSAT      = survey responses on requests scoring 4 or 5 /
//                       responses (bucket by F, as incidents' by the
//                       resolution rated); average score; response rate =
//                       responses / fulfilled.
// Availability (per service, bucket [S, E) measured up to min(E, now)):
//   downtime = |union of the service's priority-1 intervals ∩ [S, E')|
//   counted in the service's calendar, where a priority-1 interval is a time
//   during which an incident on the service was open with priority 1 (open ->
//   resolved or cancelled; a reopen starts another); overlaps count once.
//   availability = (agreed - downtime) / agreed, agreed = calendar open time
//   in [S, E'); reported against ServiceSpec.availability_target_percent.
// Reliability (per service, the same bucket and downtime):
//   failures = #downtime episodes (maximal runs of the union above) that
//              start in [S, E').
//   MTBF     = (agreed - downtime) / failures: the mean service time between
//              failures, in the service's calendar; absent with no failure.
// SLA (from the SLA clock projection at query time; per policy and target
// type; bucket by the clock's stop instant when MET, its breach instant when
// BREACHED, running or not): compliance = met / (met + breached).
// Means and rates over an empty population are absent, not 0.
// Tenants (lib/api/tenant.h): every measure is per tenant. A record counts
// only in its own tenant (its stream's), under that tenant's services and
// calendars: a service or calendar id the tenant has not defined is the
// default tenant's, one it has defined overrides the default tenant's for
// it alone (KpiOptions::service_calendars apply in every tenant). So the
// part of the rollup of tenant T is the rollup of a log holding the default
// tenant's configuration, then T's own and T's records, all renamed into
// the default tenant (tests/kpi/tenant_kpi_test.cc checks exactly this). A
// query answers one tenant, or every tenant merged (kpi_query.h).
// ---------------------------------------------------------------------------
//
// Storage (kpi_format.h): per (local day in KpiOptions::zone, full dimension
// tuple) one KpiCell of sums; any combination of dimensions and any of
// day/week/month is aggregated at query time from the day cells (weeks and
// months are unions of whole days in the same zone). A query in another zone
// cannot be answered from day cells; QueryKpis refuses it and `slate kpi`
// re-folds the log into memory for it (kpi_query.h).
//
// Each record keeps its relevant events ("r/<stream>"); an event recomputes
// the record's contribution from them and applies new - old to the cells
// (sketch counts subtract exactly), so late events, reopens and dimension
// changes move earlier contributions. Cells that become all-zero are deleted,
// so the state is a pure function of the set of events: byte-identical for a
// rebuild and for any arrival order of a record's events.
#ifndef SLATE_LIB_PROJECTION_KPI_PROJECTION_H_
#define SLATE_LIB_PROJECTION_KPI_PROJECTION_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "lib/api/options.h"
#include "lib/calendar/business_calendar.h"
#include "lib/projection/kpi.pb.h"
#include "lib/projection/kpi_rollup.h"
#include "lib/projection/projection.h"

namespace slate {

// service -> the calendar the log gives it: the support_calendar_id of the
// service's latest ServiceDefined/ServiceUpdated, once a CalendarDefined of
// that id is folded (a spec that does not build counts as none).
using KpiLogCalendars =
    std::map<std::string, std::shared_ptr<const BusinessCalendar>>;

// The log calendars of a rollup's services (KpiRollup::services and
// calendar_specs).
KpiLogCalendars KpiCalendarsOf(
    const std::map<std::string, KpiServiceTarget>& services,
    const std::map<std::string, std::string>& calendar_specs);

// The services' calendars of every tenant (internal to the projection).
struct KpiTenantCalendars;

struct KpiOptions {
  // The zone whose civil days are the cells. Default: UTC.
  absl::TimeZone zone = absl::UTCTimeZone();
  // Business time of records on a service listed here uses its calendar
  // (also for that service's availability), whatever the log says.
  // Default: none.
  std::map<std::string, std::shared_ptr<const BusinessCalendar>>
      service_calendars;
  // Business time of records whose service has no calendar (neither here
  // nor in the log). Default: null = 24x7.
  std::shared_ptr<const BusinessCalendar> default_calendar;
  // Bounds what the projection keeps decoded between flushes (see
  // Options::projection_cached_records): 4 x this many records (a flush
  // drops the closed and cancelled ones, then the open ones used longest
  // ago) and 16 x this many day cells. Default: 4096.
  size_t cached_records = 4096;

  // The calendar business time of `service` counts in: service_calendars,
  // else the log's (`from_log`, may be null), else default_calendar; null =
  // 24x7.
  const BusinessCalendar* CalendarFor(
      const std::string& service,
      const KpiLogCalendars* from_log = nullptr) const;
};

// The options of the built-in "kpi" projection: UTC days and 24x7 business
// time (Options has no KPI zone or calendars yet), and
// Options::projection_cached_records.
KpiOptions BuiltinKpiOptions(const Options& options);

class KpiProjection final : public Projection {
 public:
  static constexpr absl::string_view kName = "kpi";
  explicit KpiProjection(KpiOptions options = {});
  ~KpiProjection() override;
  absl::string_view name() const override { return kName; }
  // 2: placeholder changes are not counted. 3: business time in the
  // services' calendars from the log. 4: survey responses; the service
  // dimension follows IncidentDetailsUpdated.service. 5: changes' post-
  // implementation reviews (ChangeReviewed; changes_reviewed and
  // changes_reviewed_failed in the cells). 6: service requests (request/<id>:
  // the requests_* and request_* measures). 7: tenants (lib/api/tenant.h):
  // records of every tenant count, each under its tenant (cells carry it,
  // services and calendars are per tenant, "ts/" and "tk/" keys); the
  // default tenant's keys are those of version 6.
  int64_t version() const override { return 7; }
  absl::Status Apply(const Envelope& e, ProjectionState& state) override;
  // Records and day cells stay decoded between events as typed structs
  // with interned texts (see KpiOptions::cached_records for the bounds).
  // Apply only adds the event to its record; Flush moves each changed
  // record's cells once (from its contribution before its first event since
  // the last flush to its contribution now), writes the changed records and
  // cells serialized, then drops finished records from memory.
  absl::Status Flush(ProjectionState& state) override;
  void Discard() override;
  bool WantsFlush() const override;
  const KpiOptions& options() const { return options_; }

 private:
  struct Caches;
  // A service or calendar definition (recomputes records when a service's
  // calendar changes).
  // `tenant`: "" for the default tenant.
  absl::Status ApplyConfig(const Envelope& e, absl::string_view kind,
                           absl::string_view tenant, absl::string_view id,
                           ProjectionState& state);
  // Applies the contribution under `after` in place of the one under
  // `before` of every stored record whose tenant's calendars differ.
  absl::Status RecomputeRecords(const KpiTenantCalendars& before,
                                const KpiTenantCalendars& after,
                                ProjectionState& state);
  const KpiOptions options_;
  std::unique_ptr<Caches> caches_;
};

}  // namespace slate

#endif  // SLATE_LIB_PROJECTION_KPI_PROJECTION_H_
