// Node: a cluster node's partitions (issue 19). A node takes the leases of
// free partitions (up to max_partitions), opens a PartitionEngine for each
// in its directory (DIR/p<N>), executes the commands of the tenants they
// hold, and drops a partition whose lease it lost. A node that dies (kill
// -9) leaves its leases to lapse after the cluster's lease TTL; the other
// nodes' next rounds take its partitions, catch up from their own copies or
// from scratch, and serve them. A stopped node releases its leases first
// (clean handover: the others take over at their next round).
//
// Clients reach a partition's owner by NATS request/reply on the
// partition's subject (ClusterNames::ExecSubject; lib/cluster/client.h
// sends there and retries while a partition moves), so any client can talk
// to the cluster without knowing its nodes.
//
//   slate::cluster::NodeOptions o;
//   o.name = "node-a";
//   o.dir = "/var/lib/slate";
//   SLATE_ASSIGN_OR_RETURN(auto node, slate::cluster::Node::Start(*cluster, o));
//   absl::StatusOr<slate::ExecuteResult> r = node->Execute(command);
//   // kUnavailable naming the owner when another node owns the tenant's
//   // partition: send it there (or retry: ownership moves on failover).
#ifndef SLATE_LIB_CLUSTER_NODE_H_
#define SLATE_LIB_CLUSTER_NODE_H_

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lib/api/options.h"
#include "lib/cluster/cluster.h"
#include "lib/cluster/partition_engine.h"
#include "proto/commands.pb.h"

namespace slate::cluster {

struct NodeOptions {
  // This node's name, unique in the cluster ([A-Za-z0-9_-]). Required.
  std::string name;
  // Where the partitions' local engines live (DIR/p<N>). Required.
  std::string dir;
  // Options of every partition engine. Default: Options().
  Options engine;
  // Most partitions this node takes; 0: every free one. Default: 0.
  int max_partitions = 0;
  // How often the node looks for free partitions and lost leases; zero: only
  // when Tick is called (tests). Default: 1 s.
  absl::Duration tick = absl::Seconds(1);
  // Commands of one partition executed at once (RespondOptions::concurrency
  // of its exec subject's responder): concurrent commands share a group
  // commit, whose messages are published pipelined (partition_engine.h).
  // 1: one at a time. Default: 32.
  int concurrent_commands = 32;
};

class Node {
 public:
  // Starts the node: one ownership round now, then one every options.tick.
  static absl::StatusOr<std::unique_ptr<Node>> Start(Cluster& cluster,
                                                     const NodeOptions& options);
  // Stops the rounds, releases every lease, closes the engines.
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Executes `command` on the engine of its tenant's partition.
  // kUnavailable naming the partition and its owner when this node does
  // not own it; the engine's errors otherwise (kFailedPrecondition once the
  // lease is lost: retry, the partition is moving).
  absl::StatusOr<ExecuteResult> Execute(const Command& command);

  // One ownership round: drops partitions whose lease is lost, takes free
  // ones up to max_partitions. Returns the first error met (the round goes
  // on past it).
  absl::Status Tick();

  // The partitions this node owns, ascending.
  std::vector<int> Owned() const;

  // The engine of an owned partition (null if not owned), for reads.
  std::shared_ptr<PartitionEngine> Partition(int partition) const;

  // Test hook: stops as a crash would, leases left to lapse.
  void KillForTest();

 private:
  Node(Cluster& cluster, const NodeOptions& options);
  void Loop();
  void Stop(bool release);

  Cluster& cluster_;
  const NodeOptions options_;
  mutable std::mutex mu_;
  struct OwnedPartition {
    std::shared_ptr<PartitionEngine> engine;
    std::unique_ptr<Responder> responder;  // Goes before the engine.
  };
  // Starts answering the partition's subject.
  absl::StatusOr<std::unique_ptr<Responder>> Serve(
      int partition, std::shared_ptr<PartitionEngine> engine);
  std::map<int, OwnedPartition> owned_;  // Guarded by mu_.
  std::mutex round_mu_;  // One round at a time.
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stop_ = false;  // Guarded by stop_mu_.
  std::thread thread_;
};

}  // namespace slate::cluster

#endif  // SLATE_LIB_CLUSTER_NODE_H_
