// slate::Engine: the embeddable SLA and incident engine. This is the header a
// service includes; everything it needs is declared here, in the other
// lib/api headers it includes (options.h, types.h, clock.h, subscription.h,
// policy.h, sla_types.h, kpi_types.h, trend_types.h, service_types.h,
// verify.h) and in the schema in proto/. Nothing of RocksDB or of the
// engine's internals is visible from here: an embedder's build needs only
// this repo's root and the generated proto headers on its include path.
//
//   #include "lib/api/engine.h"
//
//   slate::Options options;  // defaults: power-loss durability, wall clock
//   absl::StatusOr<std::unique_ptr<slate::Engine>> engine =
//       slate::Engine::Open(options, "/var/lib/slate");
//   if (!engine.ok()) return engine.status();
//
//   slate::Command cmd;  // proto/commands.proto
//   cmd.mutable_open_incident()->set_incident_id("INC1");
//   ...
//   auto result = (*engine)->Execute(cmd);            // decided, appended
//   auto fired = (*engine)->AdvanceTo(absl::Now());   // SLA warnings, breaches
//   auto risky = (*engine)->AtRisk(absl::Now(), absl::Hours(8));
//   slate::KpiQuery q;  q.now = absl::Now();
//   auto table = (*engine)->FormatKpis(q, slate::KpiFormat::kTable);
//
// Thread-safe: call any method from any thread. Close by destroying it.
#ifndef SLATE_LIB_API_ENGINE_H_
#define SLATE_LIB_API_ENGINE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "lib/api/kpi_types.h"
#include "lib/api/options.h"
#include "lib/api/policy.h"
#include "lib/api/service_types.h"
#include "lib/api/sla_types.h"
#include "lib/api/subscription.h"
#include "lib/api/tenant.h"
#include "lib/api/trend_types.h"
#include "lib/api/types.h"
#include "lib/api/verify.h"
#include "proto/commands.pb.h"
#include "proto/events.pb.h"

namespace slate {

class Engine {
 public:
  // Opens the database in `dir`, creating it if options.create_if_missing.
  // kFailedPrecondition: `dir` holds something other than a Slate database,
  // or one written by a newer Slate. kDataLoss: the database is corrupt.
  static absl::StatusOr<std::unique_ptr<Engine>> Open(const Options& options,
                                                      const std::string& dir);

  // The on-disk format version this build writes (and the newest it opens).
  static int FormatVersion();

  virtual ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // --- The log
  // ----------------------------------------------------------------

  // Appends `events` to `stream` atomically if `expected` holds. Event ids
  // are idempotency keys: a retry with identical content returns the
  // original positions (AppendResult::idempotent_replay); the same id with
  // other content is kAlreadyExists. A version mismatch is kAborted with
  // nothing written. On a full disk kResourceExhausted; after a failed
  // write or flush, every write fails with that error until the engine is
  // reopened.
  virtual absl::StatusOr<AppendResult> Append(absl::string_view stream,
                                              ExpectedVersion expected,
                                              std::vector<Envelope> events) = 0;

  // Events of `stream` from `from_version`, at most `max_count`.
  virtual absl::StatusOr<std::vector<Envelope>> ReadStream(
      absl::string_view stream, int64_t from_version,
      size_t max_count) const = 0;
  // Events of the whole log from `from_position`, at most `max_count`.
  virtual absl::StatusOr<std::vector<Envelope>> ReadAll(
      int64_t from_position, size_t max_count) const = 0;
  // Version of the stream's last event; -1 if it has none.
  virtual absl::StatusOr<int64_t> StreamVersion(
      absl::string_view stream) const = 0;
  // Whether any stream whose id starts with `prefix` has an event.
  virtual absl::StatusOr<bool> HasStreamWithPrefix(
      absl::string_view prefix) const = 0;
  // Number of events in the log (= the next position).
  virtual int64_t NextPosition() const = 0;

  // Follows the log from `from_position` (catch-up, then live). The handler
  // runs on the subscription's own thread. Stop it by destroying the result.
  virtual std::unique_ptr<Subscription> Subscribe(int64_t from_position,
                                                  EventHandler handler) = 0;

  // Persists everything appended so far (required in kBulkImport mode;
  // also done on close). Appends wait while it runs.
  virtual absl::Status Flush() = 0;

  // --- Domain commands ----------------------------------------------------

  // Executes a domain command (proto/commands.proto): loads the aggregate,
  // decides, appends with the loaded stream version. Returns where the events
  // landed and the aggregate's new state. Idempotent by command_id; nothing
  // is appended on any error (kInvalidArgument: a bad command;
  // kFailedPrecondition: not allowed in the aggregate's state; kAborted: a
  // concurrent writer won, retry; kResourceExhausted: the command's tenant
  // is over a limit of Options::tenant_limits). Command.tenant_id names the
  // tenant (lib/api/tenant.h): its records are its own, its configuration
  // falls back to the default tenant's. The policy overload overrides the domain
  // policy (default: DomainPolicy(), lib/api/policy.h).
  virtual absl::StatusOr<ExecuteResult> Execute(const Command& command) = 0;
  virtual absl::StatusOr<ExecuteResult> Execute(const Command& command,
                                                const DomainPolicy& policy) = 0;

  // The current state of an aggregate of `tenant` (lib/api/tenant.h; ""
  // = "default"): kind "incident", "problem", "change", "service",
  // "request" (a service request), "catalog" (a request catalog item) or
  // "priority-matrix" (id ignored). A service, catalog item or matrix the
  // tenant has not defined is the default tenant's (shared). kNotFound if
  // none; kInvalidArgument for a malformed kind, id or tenant.
  virtual absl::StatusOr<ExecuteResult> LoadAggregate(
      absl::string_view kind, absl::string_view id,
      absl::string_view tenant) const = 0;
  // The default tenant's.
  absl::StatusOr<ExecuteResult> LoadAggregate(absl::string_view kind,
                                              absl::string_view id) const {
    return LoadAggregate(kind, id, kDefaultTenant);
  }

  // --- Projections ----------------------------------------------------------

  // Returns once every built-in projection has folded the log up to
  // `position` (exclusive), e.g. AppendResult::last_position + 1. In kSync
  // mode that is already true after Append returns. kDeadlineExceeded on
  // timeout; the projection's error if one failed to fold.
  virtual absl::Status WaitForProjections(
      int64_t position, absl::Duration timeout = absl::Seconds(30)) = 0;
  // Drops a projection's state and folds it again from position 0.
  virtual absl::Status RebuildProjection(absl::string_view name) = 0;
  // The first error a projection met while folding after an append (the
  // append itself succeeded and is durable). OK when all is well.
  virtual absl::Status ProjectionStatus() const = 0;
  // Checks the whole log (dense positions, stream and id indexes, every
  // record decodes) and that every projection equals a fresh fold from
  // position 0. Fills `report` with what was checked and the differences
  // found; non-OK only if the check itself could not run.
  virtual absl::Status Verify(VerifyReport* report) = 0;

  // --- SLA clocks and timers ------------------------------------------------
  // Clocks are folded from the log: see lib/projection/sla_projection.h for
  // the rules. In kAsync mode these read what the projections have folded
  // so far (WaitForProjections first).

  // Appends the SlaWarning / SlaBreached events of every threshold due at
  // or before `now` (due <= now: never early; occurred_at = the exact
  // crossing instant), of every tenant's clocks, to the record's SLA stream
  // (sla/<record stream>; tenant/<T>/sla/<local stream> for tenant T's
  // records), and folds them.
  // Event ids are derived from (record, policy, metric, cycle, threshold),
  // so calling it again, concurrently, or after a restart never appends one
  // twice. Returns the events appended by this call (with positions), in
  // append order. kInvalidArgument if `now` lies further ahead of the
  // engine's clock than options.max_clock_skew (nothing is appended): the
  // future is not a fact. Serialised with other AdvanceTo calls.
  virtual absl::StatusOr<std::vector<Envelope>> AdvanceTo(absl::Time now) = 0;
  // Replay mode: AdvanceTo(the latest occurred_at of any incident or change
  // event folded), so a historical log fires exactly the deadlines its own
  // events have passed. Call it after importing or replaying a batch.
  // Returns nothing before the first record event.
  virtual absl::StatusOr<std::vector<Envelope>> AdvanceToWatermark() = 0;
  // The first error the live timer thread met (OK if none or not running).
  virtual absl::Status TimerStatus() const = 0;

  // SLA queries are per tenant (lib/api/tenant.h): `tenant` "" (the
  // default) means the default tenant; an invalid tenant id is
  // kInvalidArgument. No query of one tenant sees another's clocks.

  // Every clock (all cycles) of one record of `tenant`: "incident/INC1",
  // or a bare id looked up as an incident, then a change; a full tenant
  // stream "tenant/acme/incident/INC1" as is (kInvalidArgument if `tenant`
  // is given and is another). Empty if it has none.
  virtual absl::StatusOr<std::vector<SlaClockView>> Clocks(
      absl::string_view record, absl::string_view tenant = "") const = 0;
  // Not-yet-breached running clocks of filter.tenant whose deadline is
  // <= now + within, filtered, sorted by deadline, at most top_n (0: all).
  virtual absl::StatusOr<std::vector<SlaClockView>> AtRisk(
      absl::Time now, absl::Duration within,
      const SlaAtRiskFilter& filter = SlaAtRiskFilter(),
      size_t top_n = 20) const = 0;
  // Breached clocks of `tenant` whose record is still open (clock running
  // or paused), sorted by breach instant.
  virtual absl::StatusOr<std::vector<SlaClockView>> Breached(
      absl::string_view tenant = "") const = 0;
  // Why each clock of `record` (as Clocks) stands where it does: the events
  // that started, paused, resumed, retargeted, stopped or cancelled it, the
  // business time each calendar window added (holidays and closed days
  // skipped, UTC offset changes), and its warnings and breach with their
  // due instants. FormatSlaExplanations (sla_types.h) prints them.
  // `record` and `tenant` as for Clocks. kNotFound if the log holds no
  // such record.
  virtual absl::StatusOr<std::vector<SlaClockExplanation>> ExplainClocks(
      absl::string_view record,
      const SlaExplainFilter& filter = SlaExplainFilter(),
      absl::string_view tenant = "") const = 0;
  // What-if: the SLA clocks of query.tenant's history under other policies
  // and calendars (SlaWhatIfQuery), compared with the live ones; the
  // database is only read. Cost: one fold of the log through the SLA logic, in
  // memory. kInvalidArgument for an invalid policy or calendar.
  virtual absl::StatusOr<SlaWhatIfReport> Simulate(
      const SlaWhatIfQuery& query) const = 0;
  // One line for an event in people's units. An SLA warning or breach:
  //   "resolution 75% warning on incident/INC1 (policy p1-office, cycle 1),
  //    due Mon 2026-11-30 14:30 CET: 3h of 4h business time"
  // (times in the zone of the policy's calendar, UTC for 24x7); any other
  // event: DescribePayload (describe.h).
  virtual absl::StatusOr<std::string> DescribeEvent(
      const Envelope& e) const = 0;

  // --- KPIs
  // -------------------------------------------------------------------
  // Measures and their definitions: lib/projection/kpi_projection.h. The
  // stored rollups are in UTC days; a query in another zone folds the whole
  // log again in memory (correct, costs one pass over the log). SLA
  // compliance counts the final clocks of the SLA projection. A query
  // counts the records of KpiQuery::tenant (default: the default tenant)
  // under that tenant's services and calendars, or of every tenant with
  // KpiQuery::all_tenants (kpi_types.h).

  // Answers every query from one load of the KPI rollup and the final SLA
  // clocks (one per distinct zone), in order. kInvalidArgument when a
  // query's from >= to; the error of the load otherwise ("SLA clocks: ..."
  // when the clocks did not load).
  virtual absl::StatusOr<std::vector<KpiResult>> Kpis(
      absl::Span<const KpiQuery> queries) const = 0;
  // The answer to `query` as `slate kpi` prints it. Table: aligned sections
  // for people (durations like "2h05m", rates in %, "-" for an absent
  // mean). CSV: one block per table, each with a header line, blocks
  // separated by a blank line; durations in seconds, rates as fractions,
  // absent values empty. JSON: one object {"zone","bucket","by","rows":
  // [...],"availability":[...],"sla":[...]} and, when shown (KpiTables),
  // "changes":[...] (post-implementation review), "satisfaction":[...] and
  // "services":[...]; absent values omitted.
  // Errors as Kpis.
  virtual absl::StatusOr<std::string> FormatKpis(
      const KpiQuery& query, KpiFormat format,
      const KpiTables& tables = KpiTables()) const = 0;
  // This engine's KPI inputs as bytes: the rollup in `zone` (another zone
  // than UTC folds the log again, as a query in it does), the final SLA
  // clocks and LastRecordEventTime. Merged by MergedKpis
  // (lib/api/kpi_merge.h) with those of engines holding other tenants (a
  // cluster's partitions), they answer as one engine holding them all.
  // Errors as Kpis.
  virtual absl::StatusOr<std::string> ExportKpis(
      const absl::TimeZone& zone) const = 0;
  // The latest event time (occurred_at) of any incident, change or service
  // request event folded: where the log's history ends (a historical import's last
  // update, not the wall clock), the default end of `slate kpi` and `slate
  // report`. nullopt before the first such event. In kAsync mode, what the
  // projections have folded so far (WaitForProjections first). One for the
  // whole log, of every tenant: it is the replay watermark AdvanceToWatermark
  // fires every tenant's deadlines up to (the log's position in event time,
  // not a fact about any record), so a tenant's report without an explicit
  // end ends where the shared log ends; pass `now`/`to` for a tenant's own.
  virtual absl::StatusOr<std::optional<absl::Time>> LastRecordEventTime()
      const = 0;
  // The major (priority-1) incidents of one service whose priority-1
  // intervals overlap [from, to): the outages behind its availability,
  // each with its incident's current state (semantics and order in
  // service_types.h), as the service review (`slate report --service`)
  // lists them. Reads the KPI projection's intervals of that service and
  // the views of the incidents listed; nothing is folded again. Only the
  // incidents of MajorIncidentQuery::tenant. kInvalidArgument for an empty
  // service, from >= to or an invalid tenant. In kAsync mode, what the
  // projections have folded so far.
  virtual absl::StatusOr<std::vector<MajorIncident>> MajorIncidents(
      const MajorIncidentQuery& query) const = 0;

  // --- Recurring incidents -------------------------------------------------

  // Problem candidates: N or more eligible incidents of one (service,
  // category, configuration item) opened within a sliding window, not
  // linked to an open problem; semantics and order in trend_types.h. A
  // query over the current incident and problem views (one scan of them,
  // nothing folded again), as `slate trends`. Raise a problem from a
  // candidate with LogProblem.incident_ids (proto/commands.proto). Only
  // the incidents and problems of RecurringQuery::tenant: no candidate
  // holds two tenants' incidents. kInvalidArgument for a window <= 0,
  // min_incidents < 2 or an invalid tenant. In kAsync mode, what the
  // projections have folded so far.
  virtual absl::StatusOr<std::vector<RecurringCandidate>> RecurringIncidents(
      const RecurringQuery& query) const = 0;

  // --- Misc -----------------------------------------------------------------

  // Counters since open.
  virtual LogStats Stats() const = 0;

  // Sets *out to the engine's metrics in the OpenMetrics text format
  // (https://github.com/OpenMetrics/OpenMetrics; serve it as
  // "application/openmetrics-text; version=1.0.0; charset=utf-8"), ending
  // with "# EOF\n". Counters and histograms count since this engine
  // opened (`slate metrics`, a process of its own, shows them at zero);
  // the gauges are the state of the database. Names and labels:
  //   slate_build_info{version,log_format}          info (value 1)
  //   slate_events_appended_total                   counter
  //   slate_log_events                              gauge: events in the log
  //   slate_commands_total{code}                    counter: Execute calls
  //       by result, code = "ok", "invalid_argument", ... (every absl code)
  //   slate_command_duration_seconds                histogram: Execute
  //   slate_append_duration_seconds                 histogram: every log
  //       append (the host's Append, Execute's, AdvanceTo's)
  //   slate_projection_lag_events{projection}       gauge: log events not
  //       folded yet
  //   slate_projection_snapshot_lag_events{projection}  gauge: events folded
  //       since the last snapshot (what a restart folds again)
  //   slate_projection_snapshot_age_seconds{projection} gauge: since this
  //       process wrote (or, opening, loaded) the last snapshot
  //   slate_sla_open_clocks{state}                  gauge: clocks running
  //       or paused; state "running", "paused" or "breached"
  //   slate_sla_at_risk_clocks{policy}              gauge: as AtRisk(clock
  //       now, Options::metrics_at_risk_within), every defined policy
  //   slate_sla_at_risk_horizon_seconds             gauge: that horizon
  //   slate_sla_breached_open_clocks{policy}        gauge: as Breached()
  // The SLA gauges count every tenant's clocks together (a policy id
  // labels the default tenant's policy and every tenant's of that id).
  // A cluster node's partitions and lease state are not among them: Slate
  // has no clusters yet (tenants and clusters are a later issue).
  // Histogram buckets: 100 us to 10 s, then +Inf. Cost: the counters are
  // atomics read in passing; the SLA gauges read every clock (O(clocks),
  // like Breached()), holding the projections' lock meanwhile, so folds
  // wait: scrape a large database every minute rather than every second.
  // kInvalidArgument if out is null; the error of a projection read
  // otherwise (then *out is unchanged).
  virtual absl::Status WriteMetrics(std::string* out) const = 0;
  // The options the engine was opened with (clock null: the system clock).
  virtual const Options& options() const = 0;

 protected:
  Engine() = default;
};

}  // namespace slate

#endif  // SLATE_LIB_API_ENGINE_H_
