#include "lib/api/engine_impl.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lib/api/describe.h"
#include "lib/api/engine_internal.h"
#include "lib/api/engine_replication.h"
#include "lib/api/kpi_merge.h"
#include "lib/api/tenant.h"
#include "lib/api/version.h"
#include "lib/base/crash_point.h"
#include "lib/base/status_macros.h"
#include "lib/domain/executor.h"
#include "lib/log/log_format.h"
#include "lib/log/log_verify.h"
#include "lib/projection/builtins.h"
#include "lib/projection/kpi_export.h"
#include "lib/projection/kpi_projection.h"
#include "lib/projection/kpi_query.h"
#include "lib/projection/kpi_rollup.h"
#include "lib/projection/kpi_sla.h"
#include "lib/projection/projection_verify.h"
#include "lib/projection/major_incidents.h"
#include "lib/projection/recurring.h"
#include "lib/projection/sla_explain.h"
#include "lib/projection/sla_projection.h"
#include "lib/projection/sla_whatif.h"

namespace slate {

namespace {

// Hands a line of Slate's own log to the host's sink, or to stderr without
// one (Options::log_sink).
void Log(const LogSink& sink, LogLevel level, absl::string_view message,
         absl::Span<const LogField> fields) {
  if (sink) {
    sink(level, message, fields);
    return;
  }
  std::fprintf(stderr, "slate: %.*s\n", static_cast<int>(message.size()),
               message.data());
}

// log->Append, timed into `latency`.
absl::StatusOr<AppendResult> TimedAppend(EventLog* log,
                                         LatencyHistogram* latency,
                                         absl::string_view stream,
                                         ExpectedVersion expected,
                                         std::vector<Envelope> events) {
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<AppendResult> r =
      log->Append(stream, expected, std::move(events));
  latency->Record(std::chrono::steady_clock::now() - start);
  return r;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Engine>> Engine::Open(const Options& options,
                                                     const std::string& dir) {
  SLATE_ASSIGN_OR_RETURN(std::unique_ptr<EventLog> log,
                         EventLog::Open(options, dir));
  RunnerOptions runner_options;
  // A dropped projection is rebuilt from the log: say so, once per
  // projection, as the engine opens.
  runner_options.notice = [sink = options.log_sink](
                              absl::string_view projection,
                              absl::string_view why) {
    const LogField fields[] = {{"projection", std::string(projection)},
                               {"reason", std::string(why)}};
    Log(sink, LogLevel::kWarning,
        absl::StrCat("projection ", projection, ": ", why,
                     "; dropped, rebuilding it from the log"),
        fields);
  };
  SLATE_ASSIGN_OR_RETURN(
      std::unique_ptr<ProjectionRunner> runner,
      ProjectionRunner::Open(log.get(), BuiltinProjections(log->options()),
                             runner_options));
  if (options.projection_mode == ProjectionMode::kSync) {
    SLATE_RETURN_IF_ERROR(runner->CatchUp());
  } else {
    runner->StartFollowing();  // Catches up in the background.
  }
  auto engine = std::make_unique<EngineImpl>(std::move(log), std::move(runner));
  if (options.sla_timer_interval > absl::ZeroDuration()) {
    SLATE_RETURN_IF_ERROR(engine->StartTimer(options.sla_timer_interval,
                                             /*active=*/nullptr));
  }
  return engine;
}

int Engine::FormatVersion() { return log_format::kFormatVersion; }

Engine::~Engine() = default;

EngineImpl::EngineImpl(std::unique_ptr<EventLog> log,
                       std::unique_ptr<ProjectionRunner> runner)
    : log_(std::move(log)),
      runner_(std::move(runner)),
      streams_(std::make_unique<StreamCache>(log_.get())),
      gate_(&log_->options(), log_->options().clock) {
  // What the log commits goes to the stream cache and, with kSync
  // projections, to the next fold, which then need not read it back. (The
  // kAsync follower reads ahead on a thread of its own; copying the events
  // in the committing thread instead cost the import's appender CPU.)
  const bool offer =
      log_->options().projection_mode == ProjectionMode::kSync;
  log_->SetCommitListener([streams = streams_.get(), runner = runner_.get(),
                           offer](const std::string& stream,
                                  const std::vector<Envelope>& events) {
    streams->Committed(stream, events);
    if (offer) runner->Offer(events);
  });
}
EngineImpl::~EngineImpl() {
  StopTimer();
  log_->SetCommitListener(nullptr);
}

ProjectionRunner& RunnerOf(Engine& engine) {
  return static_cast<EngineImpl&>(engine).runner();
}
EventLog& LogOf(Engine& engine) {
  return static_cast<EngineImpl&>(engine).log();
}

void SetReplicator(Engine& engine, LogReplicator* replicator) {
  static_cast<EngineImpl&>(engine).log().SetReplicator(replicator);
}

absl::Status StartSlaTimer(Engine& engine, absl::Duration interval,
                           std::function<bool()> active) {
  return static_cast<EngineImpl&>(engine).StartTimer(interval,
                                                     std::move(active));
}

absl::Status ApplyReplicated(Engine& engine, std::vector<Envelope> events) {
  return static_cast<EngineImpl&>(engine).ApplyReplicated(std::move(events));
}

absl::Status EngineImpl::ApplyReplicated(std::vector<Envelope> events) {
  if (events.empty()) return absl::OkStatus();
  SLATE_RETURN_IF_ERROR(log_->AppendReplicated(std::move(events)));
  AfterAppend();
  return absl::OkStatus();
}

void EngineImpl::AfterAppend() {
  if (log_->options().projection_mode != ProjectionMode::kSync) return;
  SLATE_CRASH_POINT("engine.between_log_and_projections");
  absl::Status st = runner_->FoldTo(log_->NextPosition());
  if (!st.ok()) {
    std::lock_guard<std::mutex> l(projection_mu_);
    if (projection_status_.ok()) projection_status_ = st;
  }
}

absl::Status EngineImpl::ProjectionStatus() const {
  std::lock_guard<std::mutex> l(projection_mu_);
  return projection_status_;
}

absl::Status EngineImpl::WaitForProjections(int64_t position,
                                            absl::Duration timeout) {
  SLATE_RETURN_IF_ERROR(ProjectionStatus());
  if (log_->options().projection_mode == ProjectionMode::kSync) {
    return runner_->FoldTo(position);
  }
  return runner_->WaitFor(position, timeout);
}

absl::Status EngineImpl::Verify(VerifyReport* report) {
  SLATE_RETURN_IF_ERROR(VerifyLog(*log_, report));
  if (!report->ok()) {
    report->checked.push_back(
        "projections: not checked, because the log itself has problems");
    return absl::OkStatus();
  }
  return VerifyProjections(*log_, *runner_, BuiltinProjections(log_->options()),
                           report);
}

absl::Status EngineImpl::RebuildProjection(absl::string_view name) {
  return runner_->Rebuild(name);
}

absl::StatusOr<AppendResult> EngineImpl::Append(absl::string_view stream,
                                                ExpectedVersion expected,
                                                std::vector<Envelope> events) {
  absl::StatusOr<AppendResult> r =
      TimedAppend(log_.get(), &metrics_.append_latency, stream, expected,
                  std::move(events));
  if (r.ok() && !r->idempotent_replay) AfterAppend();
  return r;
}

absl::StatusOr<std::vector<Envelope>> EngineImpl::ReadStream(
    absl::string_view stream, int64_t from_version, size_t max_count) const {
  return log_->ReadStream(stream, from_version, max_count);
}

absl::StatusOr<std::vector<Envelope>> EngineImpl::ReadAll(
    int64_t from_position, size_t max_count) const {
  return log_->ReadAll(from_position, max_count);
}

absl::StatusOr<int64_t> EngineImpl::StreamVersion(
    absl::string_view stream) const {
  return log_->StreamVersion(stream);
}

absl::StatusOr<bool> EngineImpl::HasStreamWithPrefix(
    absl::string_view prefix) const {
  return log_->HasStreamWithPrefix(prefix);
}

int64_t EngineImpl::NextPosition() const { return log_->NextPosition(); }

std::unique_ptr<Subscription> EngineImpl::Subscribe(int64_t from_position,
                                                    EventHandler handler) {
  return log_->Subscribe(from_position, std::move(handler));
}

namespace {

// The domain executor's view of the log. ListStreams seeks once per stream
// in the stream index; it serves the change calendar until a projection
// does.
class LogEventStore final : public EventStore {
 public:
  // `append_latency` null: appends are not timed (reads only). Reads go
  // through `streams`.
  LogEventStore(EventLog* log, StreamCache* streams,
                LatencyHistogram* append_latency)
      : log_(log), streams_(streams), append_latency_(append_latency) {}
  absl::StatusOr<std::vector<Envelope>> ReadStream(
      absl::string_view stream, int64_t from_version,
      size_t max_count) const override {
    return streams_->ReadStream(stream, from_version, max_count);
  }
  absl::StatusOr<AppendResult> Append(absl::string_view stream,
                                      ExpectedVersion expected,
                                      std::vector<Envelope> events) override {
    if (append_latency_ == nullptr) {
      return log_->Append(stream, expected, std::move(events));
    }
    return TimedAppend(log_, append_latency_, stream, expected,
                       std::move(events));
  }
  absl::StatusOr<std::vector<AppendResult>> AppendAtomically(
      std::vector<StreamWrite> writes) override {
    const auto start = std::chrono::steady_clock::now();
    absl::StatusOr<std::vector<AppendResult>> r =
        log_->AppendAtomically(std::move(writes));
    if (append_latency_ != nullptr) {
      append_latency_->Record(std::chrono::steady_clock::now() - start);
    }
    return r;
  }
  absl::StatusOr<std::vector<std::string>> ListStreams(
      absl::string_view prefix) const override {
    return log_->ListStreams(prefix);
  }

 private:
  EventLog* log_;
  StreamCache* streams_;
  LatencyHistogram* append_latency_;
};

// The records (incident, problem, change, request streams) of `tenant`.
absl::StatusOr<int64_t> CountTenantRecords(const EventLog& log,
                                           absl::string_view tenant) {
  int64_t n = 0;
  for (const char* kind : {"incident/", "problem/", "change/", "request/"}) {
    SLATE_ASSIGN_OR_RETURN(std::vector<std::string> streams,
                           log.ListStreams(TenantStream(tenant, kind)));
    n += static_cast<int64_t>(streams.size());
  }
  return n;
}

}  // namespace

absl::StatusOr<ExecuteResult> EngineImpl::Execute(const Command& command) {
  return Execute(command, DomainPolicy());
}

absl::StatusOr<ExecuteResult> EngineImpl::Execute(const Command& command,
                                                  const DomainPolicy& policy) {
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<ExecuteResult> r;
  absl::StatusOr<TenantGate::Pass> pass =
      gate_.Admit(
          command,
          [this](absl::string_view tenant) {
            return CountTenantRecords(*log_, tenant);
          },
          [this](const Command& c) -> absl::StatusOr<bool> {
            absl::StatusOr<std::string> stream = PrimaryStream(c);
            // A malformed command creates nothing: the executor refuses it.
            if (!stream.ok()) return true;
            SLATE_ASSIGN_OR_RETURN(int64_t version,
                                   log_->StreamVersion(*stream));
            return version >= 0;
          });
  if (pass.ok()) {
    LogEventStore store(log_.get(), streams_.get(), &metrics_.append_latency);
    r = CommandExecutor(&store, log_->options().clock, policy).Execute(command);
    gate_.Done(*pass, r);
    if (r.ok()) AfterAppend();
  } else {
    r = pass.status();
  }
  metrics_.CountCommand(r.status().code(),
                        std::chrono::steady_clock::now() - start);
  return r;
}

absl::StatusOr<ExecuteResult> EngineImpl::LoadAggregate(
    absl::string_view kind, absl::string_view id,
    absl::string_view tenant) const {
  LogEventStore store(log_.get(), streams_.get(), nullptr);
  return CommandExecutor(&store, log_->options().clock)
      .Load(kind, id, tenant);
}

// --- SLA clocks and timers
// ----------------------------------------------------

absl::StatusOr<std::vector<Envelope>> EngineImpl::AdvanceTo(absl::Time now) {
  std::lock_guard<std::mutex> l(advance_mu_);
  const Clock* clock =
      log_->options().clock != nullptr ? log_->options().clock : SystemClock();
  if (now > clock->Now() + log_->options().max_clock_skew) {
    return absl::InvalidArgumentError(absl::StrCat(
        "advance to ", absl::FormatTime(now), ": more than ",
        absl::FormatDuration(log_->options().max_clock_skew),
        " ahead of the engine's clock (", absl::FormatTime(clock->Now()), ")"));
  }
  std::vector<Envelope> appended;
  constexpr size_t kRound = 4096;
  // Each round fires every clock's next due threshold; a clock's following
  // threshold comes up once its event is folded.
  for (int round = 0;; ++round) {
    SLATE_RETURN_IF_ERROR(
        WaitForProjections(log_->NextPosition(), absl::Seconds(30)));
    SLATE_ASSIGN_OR_RETURN(std::vector<SlaDue> due,
                           DueClocks(*runner_, now, kRound));
    if (due.empty()) break;
    bool progress = false;
    for (SlaDue& d : due) {
      const std::string record = d.event.has_sla_warning()
                                     ? d.event.sla_warning().record()
                                     : d.event.sla_breached().record();
      const std::string stream = SlaEventStream(record);
      Envelope e = d.event;
      SLATE_ASSIGN_OR_RETURN(
          AppendResult r,
          TimedAppend(log_.get(), &metrics_.append_latency, stream,
                      ExpectedVersion::Any(), {std::move(d.event)}));
      if (r.idempotent_replay) continue;
      progress = true;
      e.set_stream(stream);
      e.set_position(r.first_position);
      e.set_version(r.first_version);
      appended.push_back(std::move(e));
    }
    AfterAppend();
    SLATE_RETURN_IF_ERROR(ProjectionStatus());
    // Only already-logged events came up: they are folded now; if they were
    // folded before, the index would not list them, so this ends.
    if (!progress && round > 0) break;
  }
  return appended;
}

absl::StatusOr<std::vector<Envelope>> EngineImpl::AdvanceToWatermark() {
  SLATE_RETURN_IF_ERROR(
      WaitForProjections(log_->NextPosition(), absl::Seconds(30)));
  SLATE_ASSIGN_OR_RETURN(std::optional<absl::Time> wm, SlaWatermark(*runner_));
  if (!wm.has_value()) return std::vector<Envelope>();
  return AdvanceTo(*wm);
}

absl::Status EngineImpl::TimerStatus() const {
  std::lock_guard<std::mutex> l(timer_mu_);
  return timer_status_;
}

absl::Status EngineImpl::StartTimer(absl::Duration interval,
                                    std::function<bool()> active) {
  if (interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("SLA timer: interval must be positive, not ",
                     absl::FormatDuration(interval)));
  }
  if (timer_.joinable()) {
    return absl::FailedPreconditionError("SLA timer: already running");
  }
  timer_interval_ = interval;
  timer_active_ = std::move(active);
  timer_ = std::thread([this] { TimerLoop(); });
  return absl::OkStatus();
}

void EngineImpl::StopTimer() {
  {
    std::lock_guard<std::mutex> l(timer_mu_);
    timer_stop_ = true;
  }
  timer_cv_.notify_all();
  if (timer_.joinable()) timer_.join();
}

void EngineImpl::TimerLoop() {
  const Clock* clock =
      log_->options().clock != nullptr ? log_->options().clock : SystemClock();
  const auto active = [this] {
    return timer_active_ == nullptr || timer_active_();
  };
  std::unique_lock<std::mutex> l(timer_mu_);
  while (!timer_stop_) {
    l.unlock();
    absl::Status st =
        active() ? AdvanceTo(clock->Now()).status() : absl::OkStatus();
    // A round that ran as the engine stopped being active (a lease released
    // or lost under it) was refused as it should be: not an error.
    const bool still_active = active();
    l.lock();
    if (!st.ok() && still_active && timer_status_.ok()) timer_status_ = st;
    timer_cv_.wait_for(l, absl::ToChronoMilliseconds(timer_interval_),
                       [this] { return timer_stop_; });
  }
}

absl::StatusOr<std::vector<SlaClockView>> EngineImpl::Clocks(
    absl::string_view record, absl::string_view tenant) const {
  return ClocksOf(*runner_, record, tenant);
}

absl::StatusOr<std::vector<SlaClockExplanation>> EngineImpl::ExplainClocks(
    absl::string_view record, const SlaExplainFilter& filter,
    absl::string_view tenant) const {
  return slate::ExplainClocks(*runner_, *log_, record, filter, tenant);
}

absl::StatusOr<SlaWhatIfReport> EngineImpl::Simulate(
    const SlaWhatIfQuery& query) const {
  return SimulateSla(*runner_, *log_, query);
}

absl::StatusOr<std::string> EngineImpl::DescribeEvent(const Envelope& e) const {
  if (!e.has_sla_warning() && !e.has_sla_breached()) return DescribePayload(e);
  return DescribeSlaEvent(*runner_, e);
}

absl::StatusOr<std::vector<SlaClockView>> EngineImpl::AtRisk(
    absl::Time now, absl::Duration within, const SlaAtRiskFilter& filter,
    size_t top_n) const {
  return AtRiskClocks(*runner_, now, within, filter, top_n);
}

absl::StatusOr<std::vector<SlaClockView>> EngineImpl::Breached(
    absl::string_view tenant) const {
  return BreachedOpenClocks(*runner_, tenant);
}

// --- KPIs
// ---------------------------------------------------------------------

namespace {

// The KPI rollup in one zone with the options it was folded with, and the
// final SLA clocks.
struct KpiInputs {
  KpiOptions options;
  KpiRollup rollup;
  std::vector<KpiSlaClock> clocks;
};

// The stored rollup when `zone` is the built-in projection's zone, else the
// log folded again in memory in `zone`.
absl::StatusOr<KpiInputs> LoadKpiInputs(const EventLog& log,
                                        const ProjectionRunner& runner,
                                        const absl::TimeZone& zone) {
  KpiInputs in;
  in.options = BuiltinKpiOptions(log.options());
  if (zone.name() == in.options.zone.name()) {
    SLATE_ASSIGN_OR_RETURN(in.rollup,
                           LoadKpiRollup(KpiScanOf(runner), std::nullopt));
  } else {
    in.options.zone = zone;
    SLATE_ASSIGN_OR_RETURN(in.rollup, FoldKpiRollup(
                                          [&log](int64_t position, size_t n) {
                                            return log.ReadAll(position, n);
                                          },
                                          in.options));
  }
  absl::StatusOr<std::vector<KpiSlaClock>> clocks = FinalSlaClocks(runner);
  if (!clocks.ok()) {
    return absl::Status(
        clocks.status().code(),
        absl::StrCat("SLA clocks: ", clocks.status().message()));
  }
  in.clocks = *std::move(clocks);
  return in;
}

absl::StatusOr<KpiReport> QueryKpiInputs(const KpiInputs& in,
                                         const KpiQuery& query) {
  return QueryKpis(in.rollup, query, in.options, in.clocks);
}

KpiKey ToKpiKey(const KpiDims& d) {
  KpiKey k;
  k.tenant = d.tenant;
  k.service = d.service;
  k.priority = d.priority;
  k.group = d.group;
  k.category = d.category;
  k.contact_type = d.contact_type;
  return k;
}

static_assert(kKpiAgingClasses == kAgingClasses);

KpiFlow ToKpiFlow(const KpiMeasures& m) {
  KpiFlow f;
#define SLATE_KPI_COPY(name) f.name = m.name;
  SLATE_KPI_COUNTERS(SLATE_KPI_COPY)
#undef SLATE_KPI_COPY
#define SLATE_KPI_COPY(name) f.name = KpiDurations(m.name);
  SLATE_KPI_SKETCHES(SLATE_KPI_COPY)
#undef SLATE_KPI_COPY
  f.aging_delta = m.aging_delta;
  f.request_cost_cents = m.request_cost_cents;
  return f;
}

KpiResult ToKpiResult(const KpiReport& r) {
  KpiResult out;
  out.by = r.by;
  out.bucket = r.bucket;
  out.zone = r.zone;
  out.rows.reserve(r.rows.size());
  for (const KpiRow& row : r.rows) {
    KpiResultRow o;
    o.start = row.start;
    o.end = row.end;
    o.dims = ToKpiKey(row.dims);
    o.flow = ToKpiFlow(row.flow);
    o.backlog = row.backlog;
    o.aging = row.aging;
    out.rows.push_back(std::move(o));
  }
  for (const KpiAvailabilityRow& a : r.availability) {
    KpiResultAvailabilityRow o;
    o.start = a.start;
    o.end = a.end;
    o.tenant = a.tenant;
    o.service = a.service;
    o.agreed_us = a.agreed_us;
    o.downtime_us = a.downtime_us;
    o.target_percent = a.target_percent;
    o.failures = a.failures;
    out.availability.push_back(std::move(o));
  }
  for (const KpiServiceRow& s : r.services) {
    KpiResultServiceRow o;
    o.start = s.start;
    o.end = s.end;
    o.tenant = s.tenant;
    o.service = s.service;
    o.resolved = s.resolved;
    o.survey_responses = s.survey_responses;
    o.survey_satisfied = s.survey_satisfied;
    o.survey_score_sum = s.survey_score_sum;
    o.has_availability = s.has_availability;
    o.agreed_us = s.agreed_us;
    o.downtime_us = s.downtime_us;
    o.failures = s.failures;
    o.target_percent = s.target_percent;
    out.services.push_back(std::move(o));
  }
  for (const KpiSlaRow& s : r.sla) {
    KpiResultSlaRow o;
    o.start = s.start;
    o.end = s.end;
    o.dims = ToKpiKey(s.dims);
    o.policy_id = s.policy_id;
    o.target_type = s.target_type;
    o.met = s.met;
    o.breached = s.breached;
    out.sla.push_back(std::move(o));
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<KpiResult>> EngineImpl::Kpis(
    absl::Span<const KpiQuery> queries) const {
  std::map<std::string, KpiInputs> inputs;  // By zone name.
  std::vector<KpiResult> results;
  results.reserve(queries.size());
  for (const KpiQuery& q : queries) {
    auto it = inputs.find(q.zone.name());
    if (it == inputs.end()) {
      SLATE_ASSIGN_OR_RETURN(KpiInputs in,
                             LoadKpiInputs(*log_, *runner_, q.zone));
      it = inputs.emplace(q.zone.name(), std::move(in)).first;
    }
    SLATE_ASSIGN_OR_RETURN(KpiReport r, QueryKpiInputs(it->second, q));
    results.push_back(ToKpiResult(r));
  }
  return results;
}

absl::StatusOr<std::string> EngineImpl::FormatKpis(
    const KpiQuery& query, KpiFormat format, const KpiTables& tables) const {
  SLATE_ASSIGN_OR_RETURN(KpiInputs in,
                         LoadKpiInputs(*log_, *runner_, query.zone));
  SLATE_ASSIGN_OR_RETURN(KpiReport r, QueryKpiInputs(in, query));
  return FormatKpiReport(r, format, tables);
}

absl::StatusOr<std::string> EngineImpl::ExportKpis(
    const absl::TimeZone& zone) const {
  SLATE_ASSIGN_OR_RETURN(KpiInputs in, LoadKpiInputs(*log_, *runner_, zone));
  SLATE_ASSIGN_OR_RETURN(std::optional<absl::Time> last,
                         LastRecordEventTime());
  return EncodeKpiExport(in.rollup, in.clocks, zone, last);
}

namespace {

// Every export merged; an error names the export.
absl::StatusOr<KpiMergedInputs> MergeExports(
    absl::Span<const std::string> exports) {
  KpiMergedInputs merged;
  for (size_t i = 0; i < exports.size(); ++i) {
    if (absl::Status s = MergeKpiExport(exports[i], &merged); !s.ok()) {
      return absl::Status(s.code(),
                          absl::StrCat("export ", i, ": ", s.message()));
    }
  }
  return merged;
}

// The merged exports' report for `query`.
absl::StatusOr<KpiReport> MergedKpiReport(absl::Span<const std::string> exports,
                                          const KpiQuery& query,
                                          const Options& options) {
  SLATE_ASSIGN_OR_RETURN(KpiMergedInputs merged, MergeExports(exports));
  KpiOptions o = BuiltinKpiOptions(options);
  o.zone = query.zone;
  if (merged.zone.has_value() && *merged.zone != query.zone.name()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the exports are in zone ", *merged.zone,
                     ", the query in ", query.zone.name()));
  }
  return QueryKpis(merged.rollup, query, o, merged.clocks);
}

}  // namespace

absl::StatusOr<KpiResult> MergedKpis(absl::Span<const std::string> exports,
                                     const KpiQuery& query,
                                     const Options& options) {
  SLATE_ASSIGN_OR_RETURN(KpiReport r, MergedKpiReport(exports, query, options));
  return ToKpiResult(r);
}

absl::StatusOr<std::string> FormatMergedKpis(
    absl::Span<const std::string> exports, const KpiQuery& query,
    KpiFormat format, const KpiTables& tables, const Options& options) {
  SLATE_ASSIGN_OR_RETURN(KpiReport r, MergedKpiReport(exports, query, options));
  return FormatKpiReport(r, format, tables);
}

absl::StatusOr<std::optional<absl::Time>> MergedLastRecordEventTime(
    absl::Span<const std::string> exports) {
  SLATE_ASSIGN_OR_RETURN(KpiMergedInputs merged, MergeExports(exports));
  return merged.last_record_event;
}

// --- Metrics
// -----------------------------------------------------------------

absl::Status EngineImpl::WriteMetrics(std::string* out) const {
  if (out == nullptr) {
    return absl::InvalidArgumentError("WriteMetrics: out is null");
  }
  // Everything that can fail is read before anything is written.
  struct ProjectionFigures {
    std::string name;
    int64_t folded = 0;
    int64_t snapshot = 0;
    absl::Time snapshot_at;
  };
  std::vector<ProjectionFigures> projections;
  for (const std::string& name : runner_->Names()) {
    ProjectionFigures p;
    p.name = name;
    SLATE_ASSIGN_OR_RETURN(p.folded, runner_->Checkpoint(name));
    SLATE_ASSIGN_OR_RETURN(p.snapshot, runner_->SnapshotPosition(name));
    SLATE_ASSIGN_OR_RETURN(p.snapshot_at, runner_->SnapshotTime(name));
    projections.push_back(std::move(p));
  }
  // Read after the projections' positions, so no lag is negative.
  const LogStats stats = log_->Stats();
  const absl::Time wall_now = absl::Now();  // The runner's snapshot clock.

  // SLA clocks: one pass over all of them, and the due index to the
  // at-risk horizon.
  int64_t running = 0, paused = 0, breached = 0;
  std::map<std::string, int64_t> at_risk, breached_open;  // By policy id.
  // Every defined policy, with or without clocks (keys "pol/<id>",
  // lib/projection/sla_projection.h).
  SLATE_RETURN_IF_ERROR(
      runner_->Scan(SlaProjection::kName, "pol/",
                    [&](absl::string_view key, absl::string_view) {
                      const std::string id(key.substr(4));
                      at_risk[id] = 0;
                      breached_open[id] = 0;
                      return true;
                    }));
  SLATE_RETURN_IF_ERROR(ForEachClock(*runner_, [&](const SlaClockView& v) {
    const SlaClockPhase phase = v.state.phase();
    if (phase != SLA_CLOCK_PHASE_RUNNING && phase != SLA_CLOCK_PHASE_PAUSED) {
      return;
    }
    at_risk.try_emplace(v.policy_id, 0);
    int64_t& policy_breached = breached_open[v.policy_id];
    if (v.state.status() == SLA_CLOCK_STATUS_BREACHED) {
      ++breached;
      ++policy_breached;
    } else if (phase == SLA_CLOCK_PHASE_RUNNING) {
      ++running;
    } else {
      ++paused;
    }
  }));
  const Clock* clock =
      log_->options().clock != nullptr ? log_->options().clock : SystemClock();
  const absl::Duration within = log_->options().metrics_at_risk_within;
  SLATE_ASSIGN_OR_RETURN(
      std::vector<SlaClockView> risky,
      AtRiskClocks(*runner_, clock->Now(), within, SlaAtRiskFilter(), 0,
                   /*all_tenants=*/true));
  for (const SlaClockView& v : risky) {
    ++at_risk[v.policy_id];
    breached_open.try_emplace(v.policy_id, 0);
  }

  std::string text;
  OpenMetricsWriter w(&text);
  w.Family("slate_build", "info", "",
           "The Slate library: its version and the log format it writes.");
  w.Sample("slate_build_info",
           {{"version", SLATE_VERSION},
            {"log_format", absl::StrCat(log_format::kFormatVersion)}},
           1);

  w.Family("slate_events_appended", "counter", "",
           "Events this engine appended to the log since it opened.");
  w.Sample("slate_events_appended_total", {}, stats.events_written);
  w.Family("slate_log_events", "gauge", "",
           "Events in the log (the position of the next one).");
  w.Sample("slate_log_events", {}, stats.next_position);

  w.Family("slate_commands", "counter", "",
           "Domain commands executed (Engine::Execute) since the engine "
           "opened, by result code.");
  for (int c = 0; c < EngineMetrics::kStatusCodes; ++c) {
    const auto code = static_cast<absl::StatusCode>(c);
    w.Sample("slate_commands_total", {{"code", StatusCodeLabel(code)}},
             metrics_.Commands(code));
  }
  w.Family("slate_command_duration_seconds", "histogram", "seconds",
           "Time of Engine::Execute, from call to return.");
  w.Histogram("slate_command_duration_seconds", {},
              metrics_.command_latency.Read());
  w.Family("slate_append_duration_seconds", "histogram", "seconds",
           "Time of each append to the log (the host's, Execute's, "
           "AdvanceTo's), from call to return.");
  w.Histogram("slate_append_duration_seconds", {},
              metrics_.append_latency.Read());

  w.Family("slate_projection_lag_events", "gauge", "",
           "Events in the log the projection has not folded yet.");
  for (const ProjectionFigures& p : projections) {
    w.Sample("slate_projection_lag_events", {{"projection", p.name}},
             std::max<int64_t>(0, stats.next_position - p.folded));
  }
  w.Family("slate_projection_snapshot_lag_events", "gauge", "",
           "Events the projection folded since its last snapshot (a "
           "restart folds them again).");
  for (const ProjectionFigures& p : projections) {
    w.Sample("slate_projection_snapshot_lag_events", {{"projection", p.name}},
             std::max<int64_t>(0, p.folded - p.snapshot));
  }
  w.Family("slate_projection_snapshot_age_seconds", "gauge", "seconds",
           "Wall time since this process wrote the projection's last "
           "snapshot (or loaded it, opening).");
  for (const ProjectionFigures& p : projections) {
    const int64_t age_ns = std::max<int64_t>(
        0, absl::ToInt64Nanoseconds(wall_now - p.snapshot_at));
    w.Sample("slate_projection_snapshot_age_seconds", {{"projection", p.name}},
             SecondsText(age_ns));
  }

  w.Family("slate_sla_open_clocks", "gauge", "",
           "SLA clocks running or paused: not breached and running, not "
           "breached and paused, or breached (running or paused).");
  w.Sample("slate_sla_open_clocks", {{"state", "running"}}, running);
  w.Sample("slate_sla_open_clocks", {{"state", "paused"}}, paused);
  w.Sample("slate_sla_open_clocks", {{"state", "breached"}}, breached);
  w.Family("slate_sla_at_risk_clocks", "gauge", "",
           "Running SLA clocks not breached yet whose deadline is within "
           "the at-risk horizon of the engine clock's now, by policy.");
  for (const auto& [policy, n] : at_risk) {
    w.Sample("slate_sla_at_risk_clocks", {{"policy", policy}}, n);
  }
  w.Family("slate_sla_at_risk_horizon_seconds", "gauge", "seconds",
           "The at-risk horizon (Options::metrics_at_risk_within).");
  w.Sample("slate_sla_at_risk_horizon_seconds", {},
           SecondsText(absl::ToInt64Nanoseconds(within)));
  w.Family("slate_sla_breached_open_clocks", "gauge", "",
           "Breached SLA clocks whose record is still open (running or "
           "paused), by policy.");
  for (const auto& [policy, n] : breached_open) {
    w.Sample("slate_sla_breached_open_clocks", {{"policy", policy}}, n);
  }
  // A cluster node's partitions and lease state would follow here; Slate
  // has no clusters yet (a later issue).
  w.End();
  *out = std::move(text);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<absl::Time>> EngineImpl::LastRecordEventTime()
    const {
  return SlaWatermark(*runner_);
}

absl::StatusOr<std::vector<MajorIncident>> EngineImpl::MajorIncidents(
    const MajorIncidentQuery& query) const {
  return slate::MajorIncidents(*runner_, query);
}

absl::StatusOr<std::vector<RecurringCandidate>> EngineImpl::RecurringIncidents(
    const RecurringQuery& query) const {
  return slate::RecurringIncidents(*runner_, query);
}

absl::Status EngineImpl::Flush() { return log_->Flush(); }
LogStats EngineImpl::Stats() const { return log_->Stats(); }
const Options& EngineImpl::options() const { return log_->options(); }

}  // namespace slate
