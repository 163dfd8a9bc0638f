// Pure helpers of the clustered log (issue 19): which partition a tenant
// lives in, the names of a cluster's streams, subjects and buckets, and the
// mapping between a partition's dense positions and stream sequences.
//
//   int p = slate::cluster::HashPartition("acme", 16);   // stable forever
//   slate::cluster::ClusterNames names("SLATE");
//   names.Stream(3);          // "SLATE_P3"
//   names.BatchSubject(3);    // "slate.p3.batch"
//   slate::cluster::SequenceOf(0);  // 2: position 0 follows the marker
#ifndef SLATE_LIB_CLUSTER_PARTITIONING_H_
#define SLATE_LIB_CLUSTER_PARTITIONING_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace slate::cluster {

// FNV-1a, 64 bits, over the bytes of `s` (offset basis 14695981039346656037,
// prime 1099511628211). Part of the stored format: never change it.
uint64_t Fnv1a64(absl::string_view s);

// The partition of `tenant` without an override: Fnv1a64(tenant) mod
// `partitions`. REQUIRES: partitions >= 1.
int HashPartition(absl::string_view tenant, int partitions);

// The Nats-Msg-Id of a command: "<tenant>:<command id>".
std::string CommandKey(absl::string_view tenant, absl::string_view command_id);

// Sequence 1 of a partition's stream is its marker; position p is at
// sequence p + kFirstBatchSequence.
inline constexpr uint64_t kMarkerSequence = 1;
inline constexpr uint64_t kFirstBatchSequence = 2;
inline uint64_t SequenceOf(uint64_t position) {
  return position + kFirstBatchSequence;
}
// REQUIRES: sequence >= kFirstBatchSequence.
inline uint64_t PositionOf(uint64_t sequence) {
  return sequence - kFirstBatchSequence;
}

// Names of one cluster's JetStream objects, all derived from a prefix of
// [A-Za-z0-9_-] (default "SLATE"), so several clusters can share servers.
class ClusterNames {
 public:
  explicit ClusterNames(absl::string_view prefix);
  // kInvalidArgument unless `prefix` is 1..32 bytes of [A-Za-z0-9_-].
  static absl::Status Validate(absl::string_view prefix);

  std::string Stream(int partition) const;        // "SLATE_P3"
  std::string Subjects(int partition) const;      // "slate.p3.>"
  std::string BatchSubject(int partition) const;  // "slate.p3.batch"
  std::string MarkerSubject(int partition) const; // "slate.p3.marker"
  // Where the partition's owner takes commands (request/reply, outside the
  // stream's subjects).
  std::string ExecSubject(int partition) const;   // "slate.exec.p3"
  // Where the owner takes several commands in one request (ExecGroupRequest).
  std::string ExecGroupSubject(int partition) const;  // "slate.execgroup.p3"
  // Where the owner answers read queries (NodeOptions::query_handler).
  std::string QuerySubject(int partition) const;  // "slate.query.p3"
  std::string ConfigBucket() const;               // "SLATE_CONFIG"
  std::string LeaseBucket() const;                // "SLATE_LEASES"
  std::string TenantBucket() const;               // "SLATE_TENANTS"
  static std::string LeaseKey(int partition);     // "p3"
  // A live node's membership key in the leases bucket.
  static std::string NodeKey(absl::string_view node);  // "n-node-a"

 private:
  std::string prefix_;   // as given
  std::string subject_;  // lower case
};

}  // namespace slate::cluster

#endif  // SLATE_LIB_CLUSTER_PARTITIONING_H_
