// A Slate cluster's metadata on JetStream (issue 19): a fixed number of
// partitions, each one stream; which partition a tenant lives in; who holds
// each partition's lease. Creating it is `InitCluster`; every node, writer
// and `slate cluster status` opens it with `Cluster::Open`.
//
//   slate::cluster::ClusterOptions options;     // prefix "SLATE", R3, 10 s
//   options.partitions = 16;
//   SLATE_RETURN_IF_ERROR(slate::cluster::InitCluster(js, options));
//   SLATE_ASSIGN_OR_RETURN(auto cluster, slate::cluster::Cluster::Open(js));
//   SLATE_ASSIGN_OR_RETURN(int p, cluster->PartitionOf("acme"));
//   SLATE_RETURN_IF_ERROR(cluster->SetOverride("bigco", 7));  // pin a tenant
//
// What InitCluster creates (names from ClusterNames, lib/cluster/
// partitioning.h; "SLATE" is the default prefix):
//   SLATE_P0 .. SLATE_P<N-1>  one file stream per partition (subjects
//                             slate.p<i>.>), sequence 1 a PartitionMarker
//                             (lib/cluster/partition.proto);
//   SLATE_CONFIG (KV)         "partitions" = N, "replicas" = R,
//                             "lease_ttl_ms" = the leases' TTL: fixed at
//                             creation; InitCluster again with another N is
//                             kFailedPrecondition, with the same N a no-op
//                             that completes a half-done init;
//   SLATE_LEASES (KV, TTL)    "p<i>" = PartitionLease of the writer;
//   SLATE_TENANTS (KV)        "<tenant>" = partition number, an override.
//
// A tenant's partition is its override if one is set, else
// HashPartition(tenant, N) = FNV-1a 64 of the tenant id mod N. PartitionOf
// answers from a copy of the tenants bucket that a watch keeps current
// (started by the first PartitionOf, SetOverride or ClearOverride; a KV
// read per call until its initial state is in): no server round trip per
// command. SetOverride and ClearOverride return once this Cluster's copy
// holds their change, so the tenant's next command here goes to the new
// partition; other processes' copies follow within the watch's delivery
// (milliseconds). A copy that does not see a change of its own within the
// request timeout is no longer trusted: KV reads again, as before the watch.
//
// Errors: kUnavailable when no server can be reached, kDeadlineExceeded on
// a timeout, kNotFound from Open when the cluster was never initialised,
// kDataLoss for metadata that does not decode.
#ifndef SLATE_LIB_CLUSTER_CLUSTER_H_
#define SLATE_LIB_CLUSTER_CLUSTER_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "lib/cluster/jetstream.h"
#include "lib/cluster/partitioning.h"

namespace slate::cluster {

struct ClusterOptions {
  // Prefix of every stream and bucket name. Default: "SLATE".
  std::string prefix = "SLATE";
  // Partition count, fixed at creation (InitCluster only). Default: 16.
  int partitions = 16;
  // Copies of every stream and bucket: 3 in production, 1 for a single
  // server (tests). Default: 3.
  int replicas = 3;
  // A lease lapses this long after its last renewal (the leases bucket's
  // TTL; InitCluster only). Default: 10 s.
  absl::Duration lease_ttl = absl::Seconds(10);
  // How long a command key (Nats-Msg-Id) is remembered for de-duplication
  // (InitCluster only). Default: 2 min.
  absl::Duration duplicate_window = absl::Minutes(2);
};

// Creates the cluster described by `options`, or checks that the existing
// one has the same partition count (kFailedPrecondition if not) and
// finishes whatever an interrupted InitCluster left undone.
absl::Status InitCluster(JetStream& js, const ClusterOptions& options);

struct LeaseInfo {
  std::string node;
  uint64_t revision = 0;
  absl::Time acquired_at;  // by the holder's clock
  absl::Time expires_at;   // by the holder's clock
};

struct PartitionStatus {
  int partition = 0;
  std::string stream;
  std::optional<LeaseInfo> lease;  // none: nobody writes it now
  // Batches stored: the next position to be written (positions are dense,
  // 0 .. batches-1).
  uint64_t batches = 0;
  StreamState stream_state;
};

class Cluster {
 public:
  // Opens the cluster with `prefix`: reads its partition count.
  // REQUIRES: `js` outlives the Cluster and everything made from it.
  static absl::StatusOr<std::unique_ptr<Cluster>> Open(
      JetStream& js, absl::string_view prefix = "SLATE");
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  int partitions() const { return partitions_; }
  int replicas() const { return replicas_; }
  absl::Duration lease_ttl() const { return lease_ttl_; }
  const ClusterNames& names() const { return names_; }
  JetStream& js() const { return js_; }
  KvBucket& leases() const { return *leases_; }

  // The override of `tenant`, else HashPartition(tenant, partitions()).
  absl::StatusOr<int> PartitionOf(absl::string_view tenant);
  // Pins `tenant` to `partition` (only before the tenant has data there:
  // moving a tenant's history is not done here). kInvalidArgument for a
  // tenant that is not a valid KV key ([A-Za-z0-9_-]) or a partition
  // outside 0..partitions()-1.
  absl::Status SetOverride(absl::string_view tenant, int partition);
  absl::Status ClearOverride(absl::string_view tenant);
  // Whether PartitionOf answers from the watched copy of the tenants
  // bucket now (false: it reads the bucket); starts the watch. For tests.
  bool RoutesCached();

  // The live lease of `partition`; nullopt if nobody holds it.
  absl::StatusOr<std::optional<LeaseInfo>> Lease(int partition);
  absl::StatusOr<PartitionStatus> Status(int partition);

  // Membership, for balancing partitions over the live nodes: a node's key
  // (ClusterNames::NodeKey) in the leases bucket, written by each of its
  // rounds, lapses with the lease TTL as a lease does. Heartbeat writes it
  // (kInvalidArgument for a name outside [A-Za-z0-9_-]{1,64}); Leave
  // deletes it; LiveNodes lists the names whose key is live, sorted.
  absl::Status Heartbeat(absl::string_view node);
  absl::Status Leave(absl::string_view node);
  absl::StatusOr<std::vector<std::string>> LiveNodes();

 private:
  class TenantRoutes;  // the tenants bucket, kept by a watch
  Cluster(JetStream& js, ClusterNames names);
  absl::Status CheckPartition(int partition) const;
  // The partition an override value names; kDataLoss if it names none.
  absl::StatusOr<int> ParseOverride(absl::string_view tenant,
                                    absl::string_view value) const;
  TenantRoutes& Routes();  // started on first use

  JetStream& js_;
  ClusterNames names_;
  int partitions_ = 0;
  int replicas_ = 0;
  absl::Duration lease_ttl_;
  std::unique_ptr<KvBucket> leases_;
  std::unique_ptr<KvBucket> tenants_;
  std::once_flag routes_once_;
  std::unique_ptr<TenantRoutes> routes_;  // Goes before tenants_.
};

// Decodes a lease value; kDataLoss naming the partition if it does not.
absl::StatusOr<LeaseInfo> DecodeLease(int partition, const KvEntry& entry);

}  // namespace slate::cluster

#endif  // SLATE_LIB_CLUSTER_CLUSTER_H_
