// slate::Engine: the embeddable SLA and incident engine. This is the header a
// service includes; everything it needs is declared here or in options.h,
// types.h, clock.h and the schema in proto/events.proto.
//
//   #include "lib/api/engine.h"
//
//   slate::Options options;  // defaults: power-loss durability, wall clock
//   absl::StatusOr<std::unique_ptr<slate::Engine>> engine =
//       slate::Engine::Open(options, "/var/lib/slate");
//   if (!engine.ok()) return engine.status();
//
//   slate::Envelope e;
//   e.set_event_id("inc-1-opened");
//   e.mutable_incident_opened()->set_number("INC1");
//   auto r = (*engine)->Append("incident/INC1",
//                              slate::ExpectedVersion::NoStream(), {e});
//   auto events = (*engine)->ReadStream("incident/INC1", 0, 100);
//
// Thread-safe: call any method from any thread. Close by destroying it.
#ifndef SLATE_LIB_API_ENGINE_H_
#define SLATE_LIB_API_ENGINE_H_

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "lib/api/options.h"
#include "lib/api/types.h"
#include "lib/domain/policy.h"
#include "lib/log/event_log.h"
#include "lib/log/log_verify.h"
#include "lib/projection/runner.h"
#include "lib/projection/sla_projection.h"
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

  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Appends `events` to `stream` atomically if `expected` holds. See
  // EventLog::Append for the exact contract (idempotent retries by event id,
  // kAborted on a version conflict, kAlreadyExists on a reused id). On a
  // full disk kResourceExhausted; after a failed write or flush, every
  // write fails with that error until the engine is reopened.
  absl::StatusOr<AppendResult> Append(absl::string_view stream,
                                      ExpectedVersion expected,
                                      std::vector<Envelope> events);

  // Events of `stream` from `from_version`, at most `max_count`.
  absl::StatusOr<std::vector<Envelope>> ReadStream(absl::string_view stream,
                                                   int64_t from_version,
                                                   size_t max_count) const;
  // Events of the whole log from `from_position`, at most `max_count`.
  absl::StatusOr<std::vector<Envelope>> ReadAll(int64_t from_position,
                                                size_t max_count) const;
  // Version of the stream's last event; -1 if it has none.
  absl::StatusOr<int64_t> StreamVersion(absl::string_view stream) const;
  // Whether any stream whose id starts with `prefix` has an event.
  absl::StatusOr<bool> HasStreamWithPrefix(absl::string_view prefix) const;
  // Number of events in the log (= the next position).
  int64_t NextPosition() const;

  // Follows the log from `from_position` (catch-up, then live). The handler
  // runs on the subscription's own thread. Stop it by destroying the result.
  std::unique_ptr<Subscription> Subscribe(int64_t from_position,
                                          EventHandler handler);

  // Persists everything appended so far (required in kBulkImport mode;
  // also done on close). Appends wait while it runs (EventLog::Flush).
  absl::Status Flush();

  // Executes a domain command (proto/commands.proto): loads the aggregate,
  // decides, appends with the loaded stream version. Returns where the events
  // landed and the aggregate's new state. Idempotent by command_id; nothing
  // is appended on any error. See lib/domain/executor.h for the contract.
  // The policy overload overrides the domain policy (default: DomainPolicy()).
  absl::StatusOr<ExecuteResult> Execute(const Command& command);
  absl::StatusOr<ExecuteResult> Execute(const Command& command,
                                        const DomainPolicy& policy);

  // The current state of an aggregate: kind "incident", "problem",
  // "change", "service" or "priority-matrix" (id ignored). kNotFound if none.
  absl::StatusOr<ExecuteResult> LoadAggregate(absl::string_view kind,
                                              absl::string_view id) const;

  // --- Projections ----------------------------------------------------------

  // Returns once every built-in projection has folded the log up to
  // `position` (exclusive), e.g. AppendResult::last_position + 1. In kSync
  // mode that is already true after Append returns. kDeadlineExceeded on
  // timeout; the projection's error if one failed to fold.
  absl::Status WaitForProjections(int64_t position,
                                  absl::Duration timeout = absl::Seconds(30));
  // Drops a projection's state and folds it again from position 0.
  absl::Status RebuildProjection(absl::string_view name);
  // The first error a projection met while folding after an append (the
  // append itself succeeded and is durable). OK when all is well.
  absl::Status ProjectionStatus() const;
  // Checks the whole log (dense positions, stream and id indexes, every
  // record decodes) and that every projection equals a fresh fold from
  // position 0. Fills `report` with what was checked and the differences
  // found; non-OK only if the check itself could not run.
  absl::Status Verify(VerifyReport* report);

  // The projection runner, for tools and advanced queries (slate verify,
  // slate kpi). Valid while the engine is open.
  ProjectionRunner& projections() { return *runner_; }

  // --- SLA clocks and timers ------------------------------------------------
  // Semantics: lib/projection/sla_projection.h. In kAsync mode these read
  // what the projections have folded so far (WaitForProjections first).

  // Appends the SlaWarning / SlaBreached events of every threshold due at
  // or before `now` (due <= now: never early; occurred_at = the exact
  // crossing instant), to stream sla/<record stream>, and folds them.
  // Event ids are derived from (record, policy, metric, cycle, threshold),
  // so calling it again, concurrently, or after a restart never appends one
  // twice. Returns the events appended by this call (with positions), in
  // append order. kInvalidArgument if `now` lies further ahead of the
  // engine's clock than options.max_clock_skew (nothing is appended): the
  // future is not a fact. Serialised with other AdvanceTo calls.
  absl::StatusOr<std::vector<Envelope>> AdvanceTo(absl::Time now);
  // Replay mode: AdvanceTo(the latest occurred_at of any incident or change
  // event folded), so a historical log fires exactly the deadlines its own
  // events have passed. Call it after importing or replaying a batch.
  // Returns nothing before the first record event.
  absl::StatusOr<std::vector<Envelope>> AdvanceToWatermark();
  // The first error the live timer thread met (OK if none or not running).
  absl::Status TimerStatus() const;

  // Every clock (all cycles) of one record: "incident/INC1", or a bare id
  // looked up as an incident, then a change. Empty if it has none.
  absl::StatusOr<std::vector<SlaClockView>> Clocks(
      absl::string_view record) const;
  // Not-yet-breached running clocks whose deadline is <= now + within,
  // filtered, sorted by deadline, at most top_n (0: all).
  absl::StatusOr<std::vector<SlaClockView>> AtRisk(
      absl::Time now, absl::Duration within,
      const SlaAtRiskFilter& filter = SlaAtRiskFilter(),
      size_t top_n = 20) const;
  // Breached clocks whose record is still open (clock running or paused),
  // sorted by breach instant.
  absl::StatusOr<std::vector<SlaClockView>> Breached() const;

  LogStats Stats() const;
  const Options& options() const;

 private:
  Engine(std::unique_ptr<EventLog> log,
         std::unique_ptr<ProjectionRunner> runner);
  // After a successful append: fold now (kSync) or leave it to the follower.
  void AfterAppend();

  std::unique_ptr<EventLog> log_;
  std::unique_ptr<ProjectionRunner> runner_;  // Destroyed before log_.
  mutable std::mutex projection_mu_;
  absl::Status projection_status_;  // Guarded by projection_mu_.

  // SLA timers.
  void StartTimer();
  void StopTimer();
  void TimerLoop();
  std::mutex advance_mu_;  // Serialises AdvanceTo.
  mutable std::mutex timer_mu_;
  std::condition_variable timer_cv_;
  bool timer_stop_ = false;  // Guarded by timer_mu_.
  absl::Status timer_status_;  // Guarded by timer_mu_.
  std::thread timer_;
};

}  // namespace slate

#endif  // SLATE_LIB_API_ENGINE_H_
