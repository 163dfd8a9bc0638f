// PartitionEngine: one partition of a cluster node (issue 19). The node keeps
// an Engine (lib/api/engine.h) per partition in a local directory of its own,
// equal to the partition's stream on JetStream (lib/cluster/partition_log.h),
// the truth. A follower applies the partition's batches to its engine; the
// writer holds the partition's lease and every append of its engine (a
// command, an SLA timer's event, an import) is published to the partition
// first, fenced, as one message, and written locally only once stored.
//
//   slate::cluster::PartitionEngineOptions o;
//   o.dir = "/var/lib/slate/p3";
//   o.node = "node-a";
//   o.partition = 3;
//   SLATE_ASSIGN_OR_RETURN(auto p,
//       slate::cluster::PartitionEngine::OpenWriter(*cluster, o));
//   p->engine().Execute(command);   // replicated, then written here
//   p->Release();                   // clean handover (or the destructor)
//
// Opening as the writer: the local engine opens (its projections load their
// snapshots), catches up with what the partition holds past the local log,
// takes the lease, catches up again to where the lease began, then writes.
// A local log that holds events the partition does not (another cluster's
// directory) is kDataLoss. Once the lease is lost or a publish fails for
// good, the engine refuses every write (kFailedPrecondition or the publish's
// error): open the partition again to catch up and, lease permitting, write.
//
// SLA timers (Options::sla_timer_interval > 0) fire only on the writer, once
// it holds the lease and publishes: a follower's engine, or a writer's
// before its lease, has no replicator, and a timer event written there
// would be in the local log only (a copy the partition does not hold). The
// engine is opened without a timer; this class starts it (StartSlaTimer)
// once it writes, and it fires only while the lease is held.
//
// Message = one group commit: the engine's log gathers the appends queued
// while it writes (concurrent Engine::Execute calls, e.g. a node's
// ExecGroupRequest) into one group of at most kMaxEventsPerMessage events
// (Options::max_group_commit_events, capped), published as one
// PartitionBatch, fenced on the partition's last sequence: whole commands
// only, so each command stays atomic. Its Nats-Msg-Id is its first event's
// id (tenant-scoped, unique in the log), so a publish retried after a
// timeout is stored once.
#ifndef SLATE_LIB_CLUSTER_PARTITION_ENGINE_H_
#define SLATE_LIB_CLUSTER_PARTITION_ENGINE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lib/api/engine.h"
#include "lib/api/options.h"
#include "lib/cluster/cluster.h"
#include "lib/cluster/partition_log.h"

namespace slate::cluster {

// Most events of one group commit, so one message (256 events of a few
// hundred bytes stay far below NATS's 1 MiB payload limit).
inline constexpr size_t kMaxEventsPerMessage = 256;

struct PartitionEngineOptions {
  // The partition's local directory (created if missing). Required.
  std::string dir;
  // This node's name (stored in the lease). Required for a writer.
  std::string node;
  // The partition (0 .. partitions-1). Required.
  int partition = -1;
  // The local engine's options; max_group_commit_events is capped at
  // kMaxEventsPerMessage (one group per message), and sla_timer_interval
  // drives this class's timer, on the writer only (the engine runs none of
  // its own). Default: Options().
  Options engine;
  // How long OpenWriter waits for the lease (another node's may be
  // lapsing). Default: zero (one try).
  absl::Duration acquire_wait = absl::ZeroDuration();
  // How long one append keeps retrying a publish whose outcome is unknown
  // (timeout, no server) before the engine gives up writing. Default: 30 s.
  absl::Duration publish_retry = absl::Seconds(30);
};

class PartitionEngine {
 public:
  // A follower: opens the local engine and catches up. No lease; the
  // engine must not be written to (reads only; CatchUp to follow).
  static absl::StatusOr<std::unique_ptr<PartitionEngine>> OpenFollower(
      Cluster& cluster, const PartitionEngineOptions& options);
  // The writer: as a follower, then the lease, then writes through the
  // partition. kFailedPrecondition if another node holds the lease.
  static absl::StatusOr<std::unique_ptr<PartitionEngine>> OpenWriter(
      Cluster& cluster, const PartitionEngineOptions& options);

  // Releases the lease (if held) and closes the engine.
  ~PartitionEngine();
  PartitionEngine(const PartitionEngine&) = delete;
  PartitionEngine& operator=(const PartitionEngine&) = delete;

  Engine& engine() { return *engine_; }
  int partition() const { return options_.partition; }

  // Follower: applies what the partition holds past the local log; returns
  // the number of batches applied. kFailedPrecondition on a writer.
  absl::StatusOr<int64_t> CatchUp();

  // Batches applied from the partition since the engine opened (the
  // catch-ups at open and CatchUp): what the local copy lacked, not what
  // was folded from it.
  int64_t batches_fetched() const { return batches_fetched_.load(); }

  // Whether this is the writer and still holds its lease.
  bool writing() const;


  // Stops writing and releases the lease so another node can take over at
  // once. Idempotent; the engine stays open for reads.
  absl::Status Release();

  // Test hook: stops writing without releasing the lease, as a killed node
  // (PartitionWriter::AbandonForTest).
  void AbandonForTest();

 private:
  class Replicator;
  PartitionEngine(Cluster& cluster, const PartitionEngineOptions& options);
  absl::Status OpenEngine();
  // Applies the partition's batches from the one holding the local log's
  // next position, up to `end_batch` (exclusive).
  absl::StatusOr<int64_t> ApplyBatches(uint64_t end_batch);
  // The index of the batch whose first event is at `position`, or the
  // partition's batch count when it holds nothing from there.
  absl::StatusOr<uint64_t> BatchAt(int64_t position, uint64_t batches);

  Cluster& cluster_;
  PartitionEngineOptions options_;
  PartitionReader reader_;
  std::unique_ptr<PartitionWriter> writer_;
  std::unique_ptr<Replicator> replicator_;
  std::unique_ptr<Engine> engine_;  // Closed before the writer goes.
  std::atomic<int64_t> batches_fetched_{0};
  absl::Duration timer_interval_;  // options.engine.sla_timer_interval
};

}  // namespace slate::cluster

#endif  // SLATE_LIB_CLUSTER_PARTITION_ENGINE_H_
