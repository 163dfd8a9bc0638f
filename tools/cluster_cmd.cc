// slate cluster: create and inspect a Slate cluster's partitioned log on
// NATS JetStream (lib/cluster/cluster.h).
//
//   $ slate cluster init --nats nats://127.0.0.1:4222,nats://127.0.0.1:4223,
//         nats://127.0.0.1:4224 --partitions 16
//   cluster SLATE: 16 partitions, 3 replicas, lease ttl 10s
//   $ slate cluster status --nats nats://127.0.0.1:4222
//   cluster SLATE: 16 partitions, 3 replicas, lease ttl 10s
//   partition  owner   lease left  batches  last  leader  replicas (lag)
//   0          node-a  8.1s        42       41    n1      n0:0 n2:0
//   1          -       -           0        -     n0      n2:0 n1:offline
//   live nodes: node-a node-b
//
// - init creates the streams (one per partition, file storage, replicas
//   from --replicas) and the buckets, or finishes an interrupted init; the
//   partition count is fixed at creation: init with another count fails.
// - status prints each partition's lease owner and the time its lease has
//   left (by the owner's clock), the batches stored (positions 0..N-1) and
//   the last position, the stream's leader and each other copy's lag
//   (operations behind the leader) as the leader reports it, then the live
//   nodes (their membership keys; each takes about partitions / nodes).
// Exit codes (tools/cli.h): 0 success; 2 bad usage, or no cluster with this
// prefix (status); 1 for any other failure (no server reachable, init with
// another partition count).
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "lib/cluster/cluster.h"
#include "lib/cluster/jetstream.h"
#include "tools/cli.h"
#include "tools/nats_flags.h"

namespace slate::tools {
namespace {

constexpr char kDetails[] =
    "URLS  NATS server URLs, comma-separated, e.g.\n"
    "      nats://127.0.0.1:4222,nats://127.0.0.1:4223 (any of the cluster's\n"
    "      servers; the client fails over between those given)\n"
    "\n"
    "init creates one stream per partition and the config, lease and tenant\n"
    "buckets (or finishes an interrupted init); the partition count is fixed\n"
    "at creation. status prints every partition's lease owner, batches and\n"
    "replica lag.";

struct ClusterFlags {
  NatsFlags nats;
  int partitions = 0;
  int replicas = 3;
  std::string lease_ttl = "10s";
};

int FailIn(absl::string_view sub, const absl::Status& status) {
  const bool usage = absl::IsNotFound(status) || absl::IsInvalidArgument(status);
  return Fail(absl::StrCat("cluster ", sub), status.message(),
              usage ? kExitUsage : kExitFailed);
}

void PrintSummary(absl::string_view prefix, int partitions, int replicas,
                  absl::Duration ttl) {
  std::printf("cluster %s: %d partitions, %d replicas, lease ttl %s\n",
              std::string(prefix).c_str(), partitions, replicas,
              absl::FormatDuration(ttl).c_str());
}

int RunInit(const ClusterFlags& f) {
  absl::StatusOr<NatsConnection> c0 =
      ConnectNats(f.nats, "slate cluster", /*reconnect_forever=*/false);
  if (!c0.ok()) return FailIn("init", c0.status());
  std::unique_ptr<JetStream>& js = c0->js;
  cluster::ClusterOptions options;
  options.prefix = f.nats.prefix;
  options.partitions = f.partitions;
  options.replicas = f.replicas;
  if (!absl::ParseDuration(f.lease_ttl, &options.lease_ttl) ||
      options.lease_ttl < absl::Milliseconds(100)) {
    return Usage("cluster init",
                 absl::StrCat("--lease-ttl: not a duration of at least 100ms: ",
                              f.lease_ttl));
  }
  if (absl::Status st = cluster::InitCluster(*js, options); !st.ok()) {
    return FailIn("init", st);
  }
  absl::StatusOr<std::unique_ptr<cluster::Cluster>> c =
      cluster::Cluster::Open(*js, f.nats.prefix);
  if (!c.ok()) return FailIn("init", c.status());
  PrintSummary(f.nats.prefix, (*c)->partitions(), (*c)->replicas(), (*c)->lease_ttl());
  return kExitOk;
}

std::string Lag(const StreamState& s) {
  std::string out;
  for (const ReplicaState& r : s.replicas) {
    if (!out.empty()) out += " ";
    absl::StrAppend(&out, r.name, ":",
                    r.offline ? std::string("offline") : absl::StrCat(r.lag));
  }
  return out.empty() ? "-" : out;
}

int RunStatus(const ClusterFlags& f) {
  absl::StatusOr<NatsConnection> conn =
      ConnectCluster(f.nats, "slate cluster", /*reconnect_forever=*/false);
  if (!conn.ok()) return FailIn("status", conn.status());
  std::unique_ptr<cluster::Cluster>* c = &conn->cluster;
  PrintSummary(f.nats.prefix, (*c)->partitions(), (*c)->replicas(), (*c)->lease_ttl());
  std::printf("%-10s %-16s %-11s %-8s %-8s %-8s %s\n", "partition", "owner",
              "lease left", "batches", "last", "leader", "replicas (lag)");
  const absl::Time now = absl::Now();
  for (int p = 0; p < (*c)->partitions(); ++p) {
    absl::StatusOr<cluster::PartitionStatus> s = (*c)->Status(p);
    if (!s.ok()) return FailIn("status", s.status());
    std::string owner = "-", left = "-";
    if (s->lease.has_value()) {
      owner = s->lease->node;
      const absl::Duration d = std::max(absl::ZeroDuration(), s->lease->expires_at - now);
      left = absl::FormatDuration(absl::Trunc(d, absl::Milliseconds(100)));
    }
    const std::string last = s->batches == 0 ? "-" : absl::StrCat(s->batches - 1);
    const std::string leader = s->stream_state.leader.empty() ? "-" : s->stream_state.leader;
    std::printf("%-10d %-16s %-11s %-8llu %-8s %-8s %s\n", p, owner.c_str(), left.c_str(),
                static_cast<unsigned long long>(s->batches), last.c_str(), leader.c_str(),
                Lag(s->stream_state).c_str());
  }
  absl::StatusOr<std::vector<std::string>> live = (*c)->LiveNodes();
  if (!live.ok()) return FailIn("status", live.status());
  std::printf("live nodes: %s\n",
              live->empty() ? "none" : absl::StrJoin(*live, " ").c_str());
  return kExitOk;
}

}  // namespace

CommandRun SetUpClusterCommand(CLI::App* app) {
  auto f = std::make_shared<ClusterFlags>();
  app->require_subcommand(1);
  app->footer(kDetails);
  CLI::App* init = app->add_subcommand(
      "init", "create the partition streams and buckets (count fixed forever)");
  AddNatsFlags(init, &f->nats, /*required=*/true);
  init->add_option("--partitions", f->partitions, "number of partitions, 1..4096")
      ->required()
      ->type_name("N");
  init->add_option("--replicas", f->replicas,
                   "copies of every stream and bucket: 1, 3 or 5")
      ->type_name("R")
      ->capture_default_str();
  init->add_option("--lease-ttl", f->lease_ttl,
                   "a lease lapses this long after its last renewal: how "
                   "long a dead node's partitions wait for a new owner")
      ->type_name("DURATION")
      ->capture_default_str();
  init->footer(kDetails);
  CLI::App* status = app->add_subcommand(
      "status", "print partitions, lease owners, positions and replica lag");
  AddNatsFlags(status, &f->nats, /*required=*/true);
  status->footer(kDetails);
  return [f, init] { return init->parsed() ? RunInit(*f) : RunStatus(*f); };
}

}  // namespace slate::tools
