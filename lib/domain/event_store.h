// EventStore: the slice of the event log the command executor needs, so the
// domain runs against the real log (an adapter in lib/api/engine.cc) and
// against InMemoryEventStore in tests.
//
//   slate::InMemoryEventStore store(&clock);
//   auto r = store.Append("incident/INC1", slate::ExpectedVersion::NoStream(),
//                         {e});
//   auto events = store.ReadStream("incident/INC1", 0, 100);
#ifndef SLATE_LIB_DOMAIN_EVENT_STORE_H_
#define SLATE_LIB_DOMAIN_EVENT_STORE_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "lib/api/clock.h"
#include "lib/api/types.h"
#include "proto/events.pb.h"

namespace slate {

class EventStore {
 public:
  virtual ~EventStore() = default;
  // The contract of EventLog::ReadStream: up to max_count events of `stream`
  // from `from_version`, in version order; an unknown stream gives none.
  virtual absl::StatusOr<std::vector<Envelope>> ReadStream(
      absl::string_view stream, int64_t from_version,
      size_t max_count) const = 0;
  // The contract of EventLog::Append: atomic, kAborted when `expected` does
  // not hold (nothing written), idempotent by event id.
  virtual absl::StatusOr<AppendResult> Append(absl::string_view stream,
                                              ExpectedVersion expected,
                                              std::vector<Envelope> events) = 0;
  // Names of the streams that start with `prefix`, sorted.
  virtual absl::StatusOr<std::vector<std::string>> ListStreams(
      absl::string_view prefix) const = 0;
  // The contract of EventLog::AppendAtomically: every write's events to its
  // stream, all or none. Default: kUnimplemented (a store that cannot).
  virtual absl::StatusOr<std::vector<AppendResult>> AppendAtomically(
      std::vector<StreamWrite> writes);
};

// A thread-safe in-memory EventStore with the log's append semantics
// (expected versions, idempotent retries, kAlreadyExists for a reused id with
// other content). For tests.
class InMemoryEventStore final : public EventStore {
 public:
  // `clock` (not owned, may be null: SystemClock()) gives recorded_at.
  explicit InMemoryEventStore(const Clock* clock = nullptr);

  absl::StatusOr<std::vector<Envelope>> ReadStream(
      absl::string_view stream, int64_t from_version,
      size_t max_count) const override;
  absl::StatusOr<AppendResult> Append(absl::string_view stream,
                                      ExpectedVersion expected,
                                      std::vector<Envelope> events) override;
  absl::StatusOr<std::vector<std::string>> ListStreams(
      absl::string_view prefix) const override;
  absl::StatusOr<std::vector<AppendResult>> AppendAtomically(
      std::vector<StreamWrite> writes) override;

  // Every event in position order.
  std::vector<Envelope> All() const;

 private:
  // REQUIRES: mu_ held.
  absl::StatusOr<AppendResult> AppendLocked(const std::string& stream,
                                            ExpectedVersion expected,
                                            std::vector<Envelope> events);

  const Clock* clock_;
  mutable std::mutex mu_;
  std::vector<Envelope> all_;                            // Guarded by mu_.
  std::map<std::string, std::vector<int64_t>> streams_;  // -> positions.
  std::map<std::string, int64_t> ids_;                   // id -> position.
};

}  // namespace slate

#endif  // SLATE_LIB_DOMAIN_EVENT_STORE_H_
