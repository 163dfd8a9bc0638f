// LogReplicator: where an EventLog sends what it is about to write, so that a
// replicated log (a partition's stream on NATS JetStream, lib/cluster) holds
// every event at the same position before the local RocksDB log does.
// Internal: a cluster node sets one on the log of each partition it owns.
//
//   class MyReplicator : public slate::LogReplicator {
//     absl::Status Replicate(int64_t first_position,
//                            absl::Span<const slate::Envelope* const> events)
//         override { /* publish, fenced at first_position; wait for ack */ }
//   };
//   log->SetReplicator(&replicator);      // before the first append
//   log->Append(...);                     // replicated, then written here
//
// A follower (a node catching up on a partition it takes over) writes what
// the replicated log holds with EventLog::AppendReplicated, unchanged.
#ifndef SLATE_LIB_LOG_REPLICATOR_H_
#define SLATE_LIB_LOG_REPLICATOR_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "proto/events.pb.h"

namespace slate {

class LogReplicator {
 public:
  virtual ~LogReplicator() = default;

  // Called by the log's writer for each group commit, before anything of it
  // is written locally, with its new events: dense positions from
  // `first_position`, in order, every field final (stream, version,
  // position, recorded_at), whole appends only (an atomic append is never
  // split). One call at a time. OK means the replicated log holds them
  // durably at those positions; the log then writes them. Any error fails
  // every append of the group with it, and the log refuses every later
  // write with it (the replicated log may hold the events all the same:
  // reopen the log and catch up with AppendReplicated).
  virtual absl::Status Replicate(
      int64_t first_position,
      absl::Span<const Envelope* const> events) = 0;
};

}  // namespace slate

#endif  // SLATE_LIB_LOG_REPLICATOR_H_
