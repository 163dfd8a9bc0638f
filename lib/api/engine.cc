#include "lib/api/engine.h"

#include <set>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "lib/base/status_macros.h"
#include "lib/domain/executor.h"
#include "lib/projection/builtins.h"
#include "lib/projection/projection_verify.h"

namespace slate {

absl::StatusOr<std::unique_ptr<Engine>> Engine::Open(const Options& options,
                                                     const std::string& dir) {
  SLATE_ASSIGN_OR_RETURN(std::unique_ptr<EventLog> log,
                         EventLog::Open(options, dir));
  SLATE_ASSIGN_OR_RETURN(
      std::unique_ptr<ProjectionRunner> runner,
      ProjectionRunner::Open(log.get(), BuiltinProjections(log->options()),
                             RunnerOptions()));
  if (options.projection_mode == ProjectionMode::kSync) {
    SLATE_RETURN_IF_ERROR(runner->CatchUp());
  } else {
    runner->StartFollowing();  // Catches up in the background.
  }
  return std::unique_ptr<Engine>(new Engine(std::move(log), std::move(runner)));
}

Engine::Engine(std::unique_ptr<EventLog> log,
               std::unique_ptr<ProjectionRunner> runner)
    : log_(std::move(log)), runner_(std::move(runner)) {}
Engine::~Engine() = default;

void Engine::AfterAppend() {
  if (log_->options().projection_mode != ProjectionMode::kSync) return;
  absl::Status st = runner_->FoldTo(log_->NextPosition());
  if (!st.ok()) {
    std::lock_guard<std::mutex> l(projection_mu_);
    if (projection_status_.ok()) projection_status_ = st;
  }
}

absl::Status Engine::ProjectionStatus() const {
  std::lock_guard<std::mutex> l(projection_mu_);
  return projection_status_;
}

absl::Status Engine::WaitForProjections(int64_t position,
                                        absl::Duration timeout) {
  SLATE_RETURN_IF_ERROR(ProjectionStatus());
  if (log_->options().projection_mode == ProjectionMode::kSync) {
    return runner_->FoldTo(position);
  }
  return runner_->WaitFor(position, timeout);
}

absl::Status Engine::Verify(VerifyReport* report) {
  SLATE_RETURN_IF_ERROR(VerifyLog(*log_, report));
  if (!report->ok()) {
    report->checked.push_back(
        "projections: not checked, because the log itself has problems");
    return absl::OkStatus();
  }
  return VerifyProjections(*log_, *runner_, BuiltinProjections(log_->options()),
                           report);
}

absl::Status Engine::RebuildProjection(absl::string_view name) {
  return runner_->Rebuild(name);
}

absl::StatusOr<AppendResult> Engine::Append(absl::string_view stream,
                                            ExpectedVersion expected,
                                            std::vector<Envelope> events) {
  absl::StatusOr<AppendResult> r =
      log_->Append(stream, expected, std::move(events));
  if (r.ok() && !r->idempotent_replay) AfterAppend();
  return r;
}

absl::StatusOr<std::vector<Envelope>> Engine::ReadStream(
    absl::string_view stream, int64_t from_version, size_t max_count) const {
  return log_->ReadStream(stream, from_version, max_count);
}

absl::StatusOr<std::vector<Envelope>> Engine::ReadAll(int64_t from_position,
                                                      size_t max_count) const {
  return log_->ReadAll(from_position, max_count);
}

absl::StatusOr<int64_t> Engine::StreamVersion(absl::string_view stream) const {
  return log_->StreamVersion(stream);
}

int64_t Engine::NextPosition() const { return log_->NextPosition(); }

std::unique_ptr<Subscription> Engine::Subscribe(int64_t from_position,
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

absl::StatusOr<ExecuteResult> Engine::Execute(const Command& command) {
  return Execute(command, DomainPolicy());
}

absl::StatusOr<ExecuteResult> Engine::Execute(const Command& command,
                                              const DomainPolicy& policy) {
  LogEventStore store(log_.get());
  absl::StatusOr<ExecuteResult> r =
      CommandExecutor(&store, log_->options().clock, policy).Execute(command);
  if (r.ok()) AfterAppend();
  return r;
}

absl::StatusOr<ExecuteResult> Engine::LoadAggregate(
    absl::string_view kind, absl::string_view id) const {
  LogEventStore store(log_.get());
  return CommandExecutor(&store, log_->options().clock).Load(kind, id);
}

absl::Status Engine::Flush() { return log_->Flush(); }
LogStats Engine::Stats() const { return log_->Stats(); }
const Options& Engine::options() const { return log_->options(); }

}  // namespace slate
