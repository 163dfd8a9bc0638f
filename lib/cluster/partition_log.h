// The partitioned, fenced log on JetStream (issue 19): one writer per
// partition at a time (a lease), appends fenced by the stream's expected
// last sequence and de-duplicated by command key, dense positions, ordered
// reads. lib/cluster/cluster.h creates and opens the cluster.
//
//   SLATE_ASSIGN_OR_RETURN(auto cluster, slate::cluster::Cluster::Open(js));
//   slate::cluster::PartitionWriterOptions w;
//   w.node = "node-a";
//   w.partition = 3;
//   SLATE_ASSIGN_OR_RETURN(auto writer,
//                          slate::cluster::PartitionWriter::Acquire(*cluster, w));
//   slate::cluster::PartitionBatch batch;   // lib/cluster/partition.proto
//   batch.set_tenant_id("acme");
//   batch.set_command_key(slate::cluster::CommandKey("acme", "cmd-42"));
//   *batch.add_events() = opened;          // a slate::Envelope
//   absl::StatusOr<slate::cluster::AppendResult> r = writer->Append(batch);
//   // r->position: dense per partition; a retry of the same command key
//   // returns the original position with r->duplicate set.
//   writer->Release();                     // or the destructor does
//
//   slate::cluster::PartitionReader reader(*cluster, 3);
//   auto batches = reader.Read(/*from_position=*/0, /*max_batches=*/1000);
//
// Leases: the key "p<N>" of the leases bucket, created by Acquire (taken:
// kFailedPrecondition naming the holder), renewed on a thread every
// renew_interval with the last revision (a renewal refused, or none
// acknowledged for a whole TTL, loses the lease: Append refuses from then
// on), deleted with the last revision by Release (a successor's lease is
// never deleted). A writer that crashed is replaced after the TTL.
//
// Fencing: every append expects the stream's last sequence to be the
// writer's (read at Acquire, then its own appends). Whoever appended in
// between (a new lease holder) makes it fail with kFailedPrecondition and
// nothing is stored, even when the old writer has not noticed that its
// lease is gone. One window stays: an append of the old writer already in
// flight when the new one read the stream's end at Acquire may land after
// that read; the new writer's next append then fails with kAborted (its
// lease is intact, nothing of its batch is stored): CatchUp(), fold what
// arrived, decide the command again and retry. An append whose outcome is
// unknown (timeout, connection lost) is recognised later by its command
// key: retry it with the same key, or append the next batch; either way
// nothing is lost or doubled (within the cluster's duplicate window, 2
// minutes by default).
//
// Errors: kFailedPrecondition for a lease held by another node, a lost
// lease or a fenced append (the message names the partition and the
// holder); kAborted for the late append above; kUnavailable when no server
// can be reached; kDeadlineExceeded on a timeout (outcome unknown: retry
// with the same key); kDataLoss for a stored message that does not decode;
// kInvalidArgument for a bad batch.
#ifndef SLATE_LIB_CLUSTER_PARTITION_LOG_H_
#define SLATE_LIB_CLUSTER_PARTITION_LOG_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lib/cluster/cluster.h"
#include "lib/cluster/partition.pb.h"

namespace slate::cluster {

struct PartitionWriterOptions {
  // This node's name, stored in the lease. Required.
  std::string node;
  // The partition to write. Required (0 .. partitions-1).
  int partition = -1;
  // The lease is renewed every renew_interval; zero means the cluster's
  // lease TTL / 3. It counts as lost locally 0.9 TTL after the send time of
  // the last acknowledged write. Default: zero.
  absl::Duration renew_interval = absl::ZeroDuration();
  // How long Acquire keeps trying while another node holds the lease (it
  // may be lapsing) or the leases bucket does not answer (a leader
  // election). Default: zero (one try).
  absl::Duration acquire_wait = absl::ZeroDuration();

  // Test hooks: simulate a writer that has stopped renewing (frozen) and
  // does not know it lost its lease. Default: false.
  bool test_no_renewals = false;
  bool test_skip_local_lease_check = false;
};

struct AppendResult {
  uint64_t position = 0;
  uint64_t sequence = 0;   // the stream sequence (position + 2)
  bool duplicate = false;  // the command key was stored before; not again
};

class PartitionWriter {
 public:
  // Takes partition options.partition's lease and reads the stream's last
  // sequence (catching up). REQUIRES: `cluster` outlives the writer.
  static absl::StatusOr<std::unique_ptr<PartitionWriter>> Acquire(
      Cluster& cluster, const PartitionWriterOptions& options);

  // Releases the lease if still held.
  ~PartitionWriter();
  PartitionWriter(const PartitionWriter&) = delete;
  PartitionWriter& operator=(const PartitionWriter&) = delete;

  // Appends one command's events as one message with Nats-Msg-Id =
  // batch.command_key(). REQUIRES: batch has a command_key, a tenant_id and
  // at least one event. Not thread-safe: one appending thread.
  absl::StatusOr<AppendResult> Append(const PartitionBatch& batch);

  // Moves this writer's expectation to the stream's end after kAborted;
  // returns the next position. The batches from the old next_position()
  // on are the ones to fold before deciding again. kFailedPrecondition if
  // the lease is lost.
  absl::StatusOr<uint64_t> CatchUp();

  // Stops renewing and deletes the lease (with its revision), so another
  // node can take over at once. Later appends fail. Idempotent.
  absl::Status Release();

  // Test hook: stops renewing and never releases, as a killed process: the
  // lease lapses after the TTL. Later appends fail.
  void AbandonForTest();

  int partition() const { return options_.partition; }
  // The next position this writer would append at.
  uint64_t next_position() const { return PositionOf(known_last_ + 1); }
  // False once the lease is lost or released.
  bool holds_lease() const { return !lost_.load(); }
  // The lease revision last written (acquire or renewal).
  uint64_t lease_revision() const;

 private:
  PartitionWriter(Cluster& cluster, const PartitionWriterOptions& options);
  void RenewLoop();
  std::string LeaseValue(absl::Time now) const;
  // kFailedPrecondition for this partition, naming the lease's holder.
  absl::Status Fenced(absl::string_view why);
  // After a refused expectation: adopts the messages after known_last_ if
  // they are this writer's own unacknowledged appends; false otherwise.
  absl::StatusOr<bool> AdoptOwnAppends(uint64_t up_to_sequence);

  Cluster& cluster_;
  const PartitionWriterOptions options_;
  const std::string stream_;
  const std::string subject_;
  const std::string lease_key_;

  uint64_t known_last_ = 0;  // the stream's last sequence as this writer knows it
  // Command keys whose append ended without an answer (timeout, lost
  // connection): a later message with one of them is this writer's own.
  std::set<std::string> unacknowledged_;

  std::atomic<bool> lost_{false};
  // std::mutex, not absl::Mutex: Debian's Abseil is not built for TSan, so
  // TSan cannot see absl::Mutex's ordering (false races under --config=tsan).
  mutable std::mutex mu_;
  std::condition_variable stop_cv_;  // Wakes the renewer when stop_ is set.
  uint64_t revision_ = 0;  // Guarded by mu_.
  // Local deadline of the lease: send time of the last acknowledged write
  // + 0.9 ttl, on the monotonic clock.
  std::chrono::steady_clock::time_point deadline_;  // Guarded by mu_.
  bool stop_ = false;                                // Guarded by mu_.
  std::thread renewer_;
};

struct PartitionEntry {
  uint64_t position = 0;
  uint64_t sequence = 0;
  PartitionBatch batch;
};

// Reads a partition's batches in order; any node, no lease needed.
class PartitionReader {
 public:
  // REQUIRES: `cluster` outlives the reader.
  PartitionReader(Cluster& cluster, int partition);

  // Batches from `from_position` on, at most `max_batches`, in order,
  // ending at the stream's end. kDataLoss (naming partition, position and
  // sequence) for a message that is not a batch or does not decode. From
  // 32 batches on it reads through an ordered consumer (streamed), below
  // with one get request per batch.
  absl::StatusOr<std::vector<PartitionEntry>> Read(uint64_t from_position,
                                                   size_t max_batches);
  // How many batches the partition holds (its next position).
  absl::StatusOr<uint64_t> Batches();

 private:
  Cluster& cluster_;
  int partition_;
  std::string stream_;
  std::string subject_;
};

}  // namespace slate::cluster

#endif  // SLATE_LIB_CLUSTER_PARTITION_LOG_H_
