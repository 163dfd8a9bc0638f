// Projections: state folded from the event log into a column family of its
// own, with its checkpoint written in the same batch.
//
//   class OpenCount : public slate::Projection {
//    public:
//     absl::string_view name() const override { return "open-count"; }
//     int64_t version() const override { return 1; }
//     absl::Status Apply(const slate::Envelope& e,
//                        slate::ProjectionState& state) override {
//       if (!e.has_incident_opened()) return absl::OkStatus();
//       SLATE_ASSIGN_OR_RETURN(auto v, state.Get("n"));
//       state.Put("n", absl::StrCat(v ? std::stoll(*v) + 1 : 1));
//       return absl::OkStatus();
//     }
//   };
//
// Contract for Apply: deterministic (the same events in the same order give
// the same bytes: no clocks, no randomness, no iteration over unordered
// containers into the output), reads only through `state` (its own keys, and
// the log's streams up to the event being folded: ReadStream), and keys never
// start with 0x00 (reserved for the runner's metadata).
//
// A projection keeps its working state decoded in memory between Apply
// calls (typed records, never decoded and re-encoded per event) and writes
// what changed, serialized, in Flush; it forgets everything in Discard.
// Whoever folds calls Flush before it reads or snapshots the state (the
// runner: before a snapshot, before a query, and after a batch when
// WantsFlush says the decoded records passed their bound), and Discard
// when the state the projection has seen is thrown away (a failed batch, a
// reset, another state object).
#ifndef SLATE_LIB_PROJECTION_PROJECTION_H_
#define SLATE_LIB_PROJECTION_PROJECTION_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/events.pb.h"

namespace slate {

class EventLog;

// A projection's view of its own data during a fold: reads see the writes
// made earlier in the same batch.
class ProjectionState {
 public:
  virtual ~ProjectionState() = default;
  virtual absl::StatusOr<std::optional<std::string>> Get(
      absl::string_view key) = 0;
  virtual void Put(absl::string_view key, absl::string_view value) = 0;
  virtual void Delete(absl::string_view key) = 0;
  // Calls fn(key, value) for keys starting with `prefix`, in key order,
  // including this batch's writes. Stop early by returning false.
  virtual absl::Status Scan(
      absl::string_view prefix,
      const std::function<bool(absl::string_view, absl::string_view)>& fn) = 0;
  // Calls fn(event) for the log's events of `stream` at positions <=
  // through_position, in position order; stop early by returning false.
  // For a projection that recomputes a record from its events instead of
  // storing them; pass the position of the event being folded, so the
  // result is the same whenever the fold runs. Default (a state without a
  // log behind it): kFailedPrecondition.
  virtual absl::Status ReadStream(
      absl::string_view stream, int64_t through_position,
      const std::function<bool(const Envelope&)>& fn);
};

class Projection {
 public:
  virtual ~Projection() = default;
  // Stable name; its data lives in column family "p.<name>".
  virtual absl::string_view name() const = 0;
  // Bump when the folded state's meaning or layout changes: a stored state
  // of another version is dropped and rebuilt from position 0.
  virtual int64_t version() const = 0;
  // Folds one event. A non-OK status stops the fold; nothing of the current
  // batch is written and the checkpoint stays before it.
  virtual absl::Status Apply(const Envelope& e, ProjectionState& state) = 0;
  // Writes everything Apply deferred into `state` (the same state the
  // preceding Apply calls saw). Default: nothing is deferred.
  virtual absl::Status Flush(ProjectionState& state) {
    (void)state;
    return absl::OkStatus();
  }
  // Drops everything kept between Apply calls: the next Apply may see a
  // state other than (or older than) the one written so far. Default: none.
  virtual void Discard() {}
  // True when the records kept decoded passed the projection's bound, so
  // the runner should Flush after this batch (Flush then keeps fewer).
  // Default: false (nothing is kept).
  virtual bool WantsFlush() const { return false; }
};

// Folds `events` into `state` and flushes: the fold every caller outside
// the runner uses (verification, in-memory queries, tests).
absl::Status FoldInto(Projection& projection,
                      const std::vector<Envelope>& events,
                      ProjectionState& state);

// ProjectionState::ReadStream over `log` (for states with a log behind
// them): reads the stream in pages and stops at the first event past
// through_position.
absl::Status ReadStreamThrough(
    const EventLog& log, absl::string_view stream, int64_t through_position,
    const std::function<bool(const Envelope&)>& fn);

}  // namespace slate

#endif  // SLATE_LIB_PROJECTION_PROJECTION_H_
