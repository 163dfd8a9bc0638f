// Node: a cluster node's partitions (issue 19). A node takes the leases of
// free partitions up to its fair share, opens a PartitionEngine for each
// in its directory (DIR/p<N>), executes the commands of the tenants they
// hold, and drops a partition whose lease it lost. A node that dies (kill
// -9) leaves its leases to lapse after the cluster's lease TTL; the other
// nodes' next rounds take its partitions, catch up from their own copies or
// from scratch, and serve them. A stopped node releases its leases first
// (clean handover: the others take over at their next round).
//
// Balance: each round also refreshes the node's membership key
// (Cluster::Heartbeat) and counts the live nodes; a node's fair share is
// ceil(partitions / live nodes) (capped by max_partitions). A node above
// its share (another joined) releases its highest partitions, which the
// newcomer takes at its next round; a node below it (one died or left)
// takes free ones. So 6 partitions on 3 nodes end as 2 each, and 3 each on
// the 2 left after one dies, without anyone assigning them.
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
//   // Any command on any node: one the node does not own goes to the
//   // owner (retried while ownership moves on failover).
//
// Groups: the owner also answers ClusterNames::ExecGroupSubject, several
// commands in one request (lib/cluster/client.h RemoteExecuteGroup): it
// runs them concurrently on the node's group threads (up to
// kMaxGroupCommands - 1, started as needed), so the partition's log takes
// their appends as one group commit, published as one message (or a few).
//
// Reads: with NodeOptions::query_handler set, the owner of a partition also
// answers ClusterNames::QuerySubject (lib/cluster/client.h RemoteQuery),
// from its engine's projections.
#ifndef SLATE_LIB_CLUSTER_NODE_H_
#define SLATE_LIB_CLUSTER_NODE_H_

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "lib/api/engine.h"
#include "lib/api/options.h"
#include "lib/cluster/client.h"
#include "lib/cluster/cluster.h"
#include "lib/cluster/partition_engine.h"
#include "proto/commands.pb.h"

namespace slate::cluster {

// Answers a read query on an owned partition's engine (the request's and
// the answer's bytes are the caller's protocol: `slate node` runs the
// `slate` tool's read commands, tools/remote_tool.h). Called on the query
// subscription's thread, concurrently with commands, only while the node
// holds the partition's lease (else the client gets kUnavailable and
// retries). An error goes back to the client as is.
using QueryHandler = std::function<absl::StatusOr<std::string>(
    Engine& engine, int partition, absl::string_view request)>;

struct NodeOptions {
  // This node's name, unique in the cluster ([A-Za-z0-9_-]). Required.
  std::string name;
  // Where the partitions' local engines live (DIR/p<N>). Required.
  std::string dir;
  // Options of every partition engine. Default: Options().
  Options engine;
  // Most partitions this node takes, below its fair share; 0: no cap.
  // Default: 0.
  int max_partitions = 0;
  // How often the node looks for free partitions and lost leases; zero: only
  // when Tick is called (tests). Default: 1 s.
  absl::Duration tick = absl::Seconds(1);
  // How Execute forwards a command this node does not own. Default:
  // RemoteOptions() (5 s per request, retried for 30 s).
  RemoteOptions forward;
  // Answers ClusterNames::QuerySubject of every owned partition; empty: the
  // node answers no queries. Default: empty.
  QueryHandler query_handler;
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

  // Executes `command`: on this node's engine when it owns the tenant's
  // partition, else forwarded to the owner (RemoteExecute with
  // options.forward: retried while the partition moves, applied once); the
  // default tenant's configuration goes to every partition. The engine's or
  // the owner's errors; kUnavailable when no owner answers in time.
  absl::StatusOr<ExecuteResult> Execute(const Command& command);

  // One ownership round: refreshes the membership, drops partitions whose
  // lease is lost, hands over those above the fair share, takes free ones
  // up to it (and removes a lease still stored a whole TTL after its
  // holder's expiry: the servers failed to expire it). A round's error is
  // logged (options.engine.log_sink) when it differs from the last one. Returns the first error met (the round goes
  // on past it).
  absl::Status Tick();

  // The partitions this node owns, ascending.
  std::vector<int> Owned() const;

  // The engine of an owned partition (null if not owned), for reads.
  std::shared_ptr<PartitionEngine> Partition(int partition) const;

  // Test hook: stops as a crash would, leases left to lapse.
  void KillForTest();

 private:
  class GroupPool;
  Node(Cluster& cluster, const NodeOptions& options);
  void Loop();
  void Stop(bool release);
  // ceil(partitions / live_nodes), capped by max_partitions.
  int FairShare(size_t live_nodes) const;
  // A warning through options.engine.log_sink (stderr without one).
  void Log(absl::string_view message) const;
  std::string last_round_error_;  // Guarded by round_mu_: logged once.

  Cluster& cluster_;
  const NodeOptions options_;
  // Runs group requests' commands; goes after every responder.
  std::unique_ptr<GroupPool> pool_;
  mutable std::mutex mu_;
  struct OwnedPartition {
    std::shared_ptr<PartitionEngine> engine;
    // Commands and groups of commands. Go before the engine.
    std::vector<std::unique_ptr<Responder>> responders;
    std::unique_ptr<Responder> queries;    // Null: no query_handler.
  };
  // Starts answering the partition's command and group subjects.
  absl::StatusOr<std::vector<std::unique_ptr<Responder>>> Serve(
      int partition, std::shared_ptr<PartitionEngine> engine);
  // Starts answering its query subject (null without a query_handler).
  absl::StatusOr<std::unique_ptr<Responder>> ServeQueries(
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
