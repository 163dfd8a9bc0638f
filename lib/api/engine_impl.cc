#include "lib/api/engine_impl.h"

#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lib/api/engine_internal.h"
#include "lib/base/crash_point.h"
#include "lib/base/status_macros.h"
#include "lib/domain/executor.h"
#include "lib/log/log_format.h"
#include "lib/log/log_verify.h"
#include "lib/projection/builtins.h"
#include "lib/projection/kpi_projection.h"
#include "lib/projection/kpi_query.h"
#include "lib/projection/kpi_rollup.h"
#include "lib/projection/kpi_sla.h"
#include "lib/projection/projection_verify.h"
#include "lib/projection/sla_projection.h"

namespace slate {

absl::StatusOr<std::unique_ptr<Engine>> Engine::Open(const Options& options,
                                                     const std::string& dir) {
  SLATE_ASSIGN_OR_RETURN(std::unique_ptr<EventLog> log,
                         EventLog::Open(options, dir));
  RunnerOptions runner_options;
  // A dropped projection is rebuilt from the log: say so, once per
  // projection, as the engine opens.
  runner_options.notice = [](absl::string_view message) {
    std::fprintf(stderr, "slate: %.*s\n", static_cast<int>(message.size()),
                 message.data());
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
  if (options.sla_timer_interval > absl::ZeroDuration()) engine->StartTimer();
  return engine;
}

int Engine::FormatVersion() { return log_format::kFormatVersion; }

Engine::~Engine() = default;

EngineImpl::EngineImpl(std::unique_ptr<EventLog> log,
                       std::unique_ptr<ProjectionRunner> runner)
    : log_(std::move(log)), runner_(std::move(runner)) {}
EngineImpl::~EngineImpl() { StopTimer(); }

ProjectionRunner& RunnerOf(Engine& engine) {
  return static_cast<EngineImpl&>(engine).runner();
}
EventLog& LogOf(Engine& engine) {
  return static_cast<EngineImpl&>(engine).log();
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
      log_->Append(stream, expected, std::move(events));
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

// The domain executor's view of the log. ListStreams scans the whole log
// (O(events)); it serves the change calendar until a projection does.
class LogEventStore final : public EventStore {
 public:
  explicit LogEventStore(EventLog* log) : log_(log) {}
  absl::StatusOr<std::vector<Envelope>> ReadStream(
      absl::string_view stream, int64_t from_version,
      size_t max_count) const override {
    return log_->ReadStream(stream, from_version, max_count);
  }
  absl::StatusOr<AppendResult> Append(absl::string_view stream,
                                      ExpectedVersion expected,
                                      std::vector<Envelope> events) override {
    return log_->Append(stream, expected, std::move(events));
  }
  absl::StatusOr<std::vector<std::string>> ListStreams(
      absl::string_view prefix) const override {
    std::set<std::string> names;
    constexpr size_t kPage = 4096;
    for (int64_t from = 0;;) {
      SLATE_ASSIGN_OR_RETURN(std::vector<Envelope> page,
                             log_->ReadAll(from, kPage));
      for (const Envelope& e : page) {
        if (absl::StartsWith(e.stream(), prefix)) names.insert(e.stream());
      }
      if (page.size() < kPage) break;
      from = page.back().position() + 1;
    }
    return std::vector<std::string>(names.begin(), names.end());
  }

 private:
  EventLog* log_;
};

}  // namespace

absl::StatusOr<ExecuteResult> EngineImpl::Execute(const Command& command) {
  return Execute(command, DomainPolicy());
}

absl::StatusOr<ExecuteResult> EngineImpl::Execute(const Command& command,
                                                  const DomainPolicy& policy) {
  LogEventStore store(log_.get());
  absl::StatusOr<ExecuteResult> r =
      CommandExecutor(&store, log_->options().clock, policy).Execute(command);
  if (r.ok()) AfterAppend();
  return r;
}

absl::StatusOr<ExecuteResult> EngineImpl::LoadAggregate(
    absl::string_view kind, absl::string_view id) const {
  LogEventStore store(log_.get());
  return CommandExecutor(&store, log_->options().clock).Load(kind, id);
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
          log_->Append(stream, ExpectedVersion::Any(), {std::move(d.event)}));
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

void EngineImpl::StartTimer() {
  timer_ = std::thread([this] { TimerLoop(); });
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
  const absl::Duration interval = log_->options().sla_timer_interval;
  std::unique_lock<std::mutex> l(timer_mu_);
  while (!timer_stop_) {
    l.unlock();
    absl::Status st = AdvanceTo(clock->Now()).status();
    l.lock();
    if (!st.ok() && timer_status_.ok()) timer_status_ = st;
    timer_cv_.wait_for(l, absl::ToChronoMilliseconds(interval),
                       [this] { return timer_stop_; });
  }
}

absl::StatusOr<std::vector<SlaClockView>> EngineImpl::Clocks(
    absl::string_view record) const {
  return ClocksOf(*runner_, record);
}

absl::StatusOr<std::vector<SlaClockView>> EngineImpl::AtRisk(
    absl::Time now, absl::Duration within, const SlaAtRiskFilter& filter,
    size_t top_n) const {
  return AtRiskClocks(*runner_, now, within, filter, top_n);
}

absl::StatusOr<std::vector<SlaClockView>> EngineImpl::Breached() const {
  return BreachedOpenClocks(*runner_);
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
    o.service = a.service;
    o.agreed_us = a.agreed_us;
    o.downtime_us = a.downtime_us;
    o.target_percent = a.target_percent;
    out.availability.push_back(std::move(o));
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

absl::StatusOr<std::optional<absl::Time>> EngineImpl::LastRecordEventTime()
    const {
  return SlaWatermark(*runner_);
}

absl::Status EngineImpl::Flush() { return log_->Flush(); }
LogStats EngineImpl::Stats() const { return log_->Stats(); }
const Options& EngineImpl::options() const { return log_->options(); }

}  // namespace slate
