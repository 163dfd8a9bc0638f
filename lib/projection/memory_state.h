// MemoryState: a ProjectionState over an in-memory ordered map, the obvious
// fold used to check stored projections (projection_verify, tests) and to
// fold the log into memory for one-off queries (kpi_query, benchmarks).
//
//   slate::MemoryState state(log);  // log: where ReadStream reads; may be null
//   SLATE_RETURN_IF_ERROR(slate::FoldInto(projection, events, state));
//   for (const auto& [key, value] : state.data()) ...
#ifndef SLATE_LIB_PROJECTION_MEMORY_STATE_H_
#define SLATE_LIB_PROJECTION_MEMORY_STATE_H_

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "lib/projection/projection.h"

namespace slate {

class MemoryState final : public ProjectionState {
 public:
  // Without a log, ReadStream fails with kFailedPrecondition (projections
  // that read streams, like the SLA one, then fail on a late event).
  explicit MemoryState(const EventLog* log = nullptr) : log_(log) {}
  absl::StatusOr<std::optional<std::string>> Get(
      absl::string_view key) override {
    auto it = data_.find(std::string(key));
    if (it == data_.end()) return std::nullopt;
    return it->second;
  }
  void Put(absl::string_view key, absl::string_view value) override {
    data_[std::string(key)] = std::string(value);
  }
  void Delete(absl::string_view key) override { data_.erase(std::string(key)); }
  absl::Status Scan(absl::string_view prefix,
                    const std::function<bool(absl::string_view,
                                             absl::string_view)>& fn) override {
    for (auto it = data_.lower_bound(std::string(prefix));
         it != data_.end() && absl::StartsWith(it->first, prefix); ++it) {
      if (!fn(it->first, it->second)) break;
    }
    return absl::OkStatus();
  }
  absl::Status ReadStream(
      absl::string_view stream, int64_t through_position,
      const std::function<bool(const Envelope&)>& fn) override {
    if (log_ == nullptr) {
      return ProjectionState::ReadStream(stream, through_position, fn);
    }
    return ReadStreamThrough(*log_, stream, through_position, fn);
  }
  // Every key and value, in key order.
  const std::map<std::string, std::string>& data() const { return data_; }

 private:
  const EventLog* log_;
  std::map<std::string, std::string> data_;
};

}  // namespace slate

#endif  // SLATE_LIB_PROJECTION_MEMORY_STATE_H_
