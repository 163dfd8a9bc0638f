// EngineImpl: the Engine behind lib/api/engine.h: the event log, the
// projection runner with the built-in projections, and the SLA timer thread.
// Internal to //lib/api:engine (tests and benches reach the runner and the
// log through lib/api/engine_internal.h).
#ifndef SLATE_LIB_API_ENGINE_IMPL_H_
#define SLATE_LIB_API_ENGINE_IMPL_H_

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "lib/api/engine.h"
#include "lib/api/engine_metrics.h"
#include "lib/api/tenant_gate.h"
#include "lib/log/event_log.h"
#include "lib/log/stream_cache.h"
#include "lib/projection/runner.h"

namespace slate {

class EngineImpl final : public Engine {
 public:
  EngineImpl(std::unique_ptr<EventLog> log,
             std::unique_ptr<ProjectionRunner> runner);
  ~EngineImpl() override;

  absl::StatusOr<AppendResult> Append(absl::string_view stream,
                                      ExpectedVersion expected,
                                      std::vector<Envelope> events) override;
  absl::StatusOr<std::vector<Envelope>> ReadStream(
      absl::string_view stream, int64_t from_version,
      size_t max_count) const override;
  absl::StatusOr<std::vector<Envelope>> ReadAll(
      int64_t from_position, size_t max_count) const override;
  absl::StatusOr<int64_t> StreamVersion(
      absl::string_view stream) const override;
  absl::StatusOr<bool> HasStreamWithPrefix(
      absl::string_view prefix) const override;
  int64_t NextPosition() const override;
  std::unique_ptr<Subscription> Subscribe(int64_t from_position,
                                          EventHandler handler) override;
  absl::Status Flush() override;

  absl::StatusOr<ExecuteResult> Execute(const Command& command) override;
  absl::StatusOr<ExecuteResult> Execute(const Command& command,
                                        const DomainPolicy& policy) override;
  using Engine::LoadAggregate;
  absl::StatusOr<ExecuteResult> LoadAggregate(
      absl::string_view kind, absl::string_view id,
      absl::string_view tenant) const override;

  absl::Status WaitForProjections(int64_t position,
                                  absl::Duration timeout) override;
  absl::Status RebuildProjection(absl::string_view name) override;
  absl::Status ProjectionStatus() const override;
  absl::Status Verify(VerifyReport* report) override;

  absl::StatusOr<std::vector<Envelope>> AdvanceTo(absl::Time now) override;
  absl::StatusOr<std::vector<Envelope>> AdvanceToWatermark() override;
  absl::Status TimerStatus() const override;
  absl::StatusOr<std::vector<SlaClockExplanation>> ExplainClocks(
      absl::string_view record, const SlaExplainFilter& filter,
      absl::string_view tenant) const override;
  absl::StatusOr<std::string> DescribeEvent(const Envelope& e) const override;
  absl::StatusOr<SlaWhatIfReport> Simulate(
      const SlaWhatIfQuery& query) const override;
  absl::StatusOr<std::vector<SlaClockView>> Clocks(
      absl::string_view record, absl::string_view tenant) const override;
  absl::StatusOr<std::vector<SlaClockView>> AtRisk(
      absl::Time now, absl::Duration within, const SlaAtRiskFilter& filter,
      size_t top_n) const override;
  absl::StatusOr<std::vector<SlaClockView>> Breached(
      absl::string_view tenant) const override;

  absl::StatusOr<std::vector<KpiResult>> Kpis(
      absl::Span<const KpiQuery> queries) const override;
  absl::StatusOr<std::string> FormatKpis(
      const KpiQuery& query, KpiFormat format,
      const KpiTables& tables) const override;
  absl::StatusOr<std::string> ExportKpis(
      const absl::TimeZone& zone) const override;
  absl::StatusOr<std::optional<absl::Time>> LastRecordEventTime()
      const override;
  absl::StatusOr<std::vector<MajorIncident>> MajorIncidents(
      const MajorIncidentQuery& query) const override;

  absl::StatusOr<std::vector<RecurringCandidate>> RecurringIncidents(
      const RecurringQuery& query) const override;

  LogStats Stats() const override;
  absl::Status WriteMetrics(std::string* out) const override;
  const Options& options() const override;

  // For lib/api/engine_internal.h.
  ProjectionRunner& runner() { return *runner_; }
  EventLog& log() { return *log_; }

  // See ApplyReplicated in lib/api/engine_replication.h.
  absl::Status ApplyReplicated(std::vector<Envelope> events);

  // Starts the live SLA timer thread: AdvanceTo(now) every `interval`
  // while `active()` says so (null: always). kFailedPrecondition if it
  // runs already. See StartSlaTimer in lib/api/engine_replication.h.
  absl::Status StartTimer(absl::Duration interval,
                          std::function<bool()> active);

 private:
  // After a successful append: fold now (kSync) or leave it to the follower.
  void AfterAppend();
  void StopTimer();
  void TimerLoop();

  std::unique_ptr<EventLog> log_;
  std::unique_ptr<ProjectionRunner> runner_;  // Destroyed before log_.
  // The streams commands read (aggregates, configuration), kept current by
  // the log's commit listener. Destroyed before log_; the listener is
  // removed first.
  std::unique_ptr<StreamCache> streams_;
  EngineMetrics metrics_;  // Atomics: updated without a lock.
  TenantGate gate_;        // Options::tenant_limits.
  mutable std::mutex projection_mu_;
  absl::Status projection_status_;  // Guarded by projection_mu_.

  // SLA timers.
  std::mutex advance_mu_;  // Serialises AdvanceTo.
  mutable std::mutex timer_mu_;
  std::condition_variable timer_cv_;
  bool timer_stop_ = false;    // Guarded by timer_mu_.
  absl::Status timer_status_;  // Guarded by timer_mu_.
  // Set by StartTimer before the thread starts, read only by it.
  absl::Duration timer_interval_;
  std::function<bool()> timer_active_;
  std::thread timer_;
};

}  // namespace slate

#endif  // SLATE_LIB_API_ENGINE_IMPL_H_
