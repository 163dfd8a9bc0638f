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

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
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
  // kAborted on a version conflict, kAlreadyExists on a reused id).
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
  // Number of events in the log (= the next position).
  int64_t NextPosition() const;

  // Follows the log from `from_position` (catch-up, then live). The handler
  // runs on the subscription's own thread. Stop it by destroying the result.
  std::unique_ptr<Subscription> Subscribe(int64_t from_position,
                                          EventHandler handler);

  // Persists everything appended so far (required in kBulkImport mode;
  // also done on close).
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
};

}  // namespace slate

#endif  // SLATE_LIB_API_ENGINE_H_
