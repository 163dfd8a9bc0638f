// `--nats URLS` and `--prefix NAME` of the commands that talk to a Slate
// cluster (slate cluster, node, exec --nats), and the connection they open.
//
//   NatsFlags f;   // filled by AddNatsFlags
//   absl::StatusOr<NatsConnection> c = ConnectCluster(f, "slate node");
//   // c->cluster->PartitionOf("acme"), ...
#ifndef SLATE_TOOLS_NATS_FLAGS_H_
#define SLATE_TOOLS_NATS_FLAGS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "lib/cluster/cluster.h"
#include "lib/cluster/jetstream.h"
#include "tools/cli.h"

namespace slate::tools {

struct NatsFlags {
  std::string nats;              // comma-separated URLs
  std::string prefix = "SLATE";  // of the cluster's streams and buckets
};

// Adds `--nats URLS` (required if `required`) and `--prefix NAME`.
CLI::Option* AddNatsFlags(CLI::App* app, NatsFlags* f, bool required);

// A connection; members destroyed cluster first.
struct NatsConnection {
  std::unique_ptr<JetStream> js;
  std::unique_ptr<cluster::Cluster> cluster;  // null from ConnectNats
};

// Connects to f.nats (reconnecting forever when `reconnect_forever`, else a
// few times). kInvalidArgument for no URL.
absl::StatusOr<NatsConnection> ConnectNats(const NatsFlags& f,
                                           absl::string_view name,
                                           bool reconnect_forever);
// ConnectNats, then opens the cluster with f.prefix (kNotFound: none),
// retried for up to 30 s while the servers time out (leader elections).
absl::StatusOr<NatsConnection> ConnectCluster(const NatsFlags& f,
                                              absl::string_view name,
                                              bool reconnect_forever);

}  // namespace slate::tools

#endif  // SLATE_TOOLS_NATS_FLAGS_H_
