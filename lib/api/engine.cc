#include "lib/api/engine.h"

#include <utility>

#include "lib/base/status_macros.h"

namespace slate {

absl::StatusOr<std::unique_ptr<Engine>> Engine::Open(const Options& options,
                                                     const std::string& dir) {
  SLATE_ASSIGN_OR_RETURN(std::unique_ptr<EventLog> log,
                         EventLog::Open(options, dir));
  return std::unique_ptr<Engine>(new Engine(std::move(log)));
}

Engine::Engine(std::unique_ptr<EventLog> log) : log_(std::move(log)) {}
Engine::~Engine() = default;

absl::StatusOr<AppendResult> Engine::Append(absl::string_view stream,
                                            ExpectedVersion expected,
                                            std::vector<Envelope> events) {
  return log_->Append(stream, expected, std::move(events));
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

absl::Status Engine::Flush() { return log_->Flush(); }
LogStats Engine::Stats() const { return log_->Stats(); }
const Options& Engine::options() const { return log_->options(); }

}  // namespace slate
