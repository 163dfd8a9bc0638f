// Test helpers for lib/cluster's partitioned log: nats-server processes
// (tests/testing/nats_cluster.h), a connection, an initialised cluster, and
// batches of made-up events.
//
//   absl::StatusOr<std::unique_ptr<ClusterFixture>> f =
//       ClusterFixture::Start(/*servers=*/1, options);
//   PartitionBatch b = MakeBatch("acme", "cmd-1", /*events=*/3);
#ifndef SLATE_TESTS_CLUSTER_CLUSTER_FIXTURE_H_
#define SLATE_TESTS_CLUSTER_CLUSTER_FIXTURE_H_

#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "lib/cluster/cluster.h"
#include "lib/cluster/jetstream.h"
#include "lib/cluster/partition_log.h"
#include "tests/testing/nats_cluster.h"

namespace slate::cluster {

// `events` envelopes of `tenant`, one command's, with ids "<key>/<i>".
inline PartitionBatch MakeBatch(const std::string& tenant,
                                const std::string& command_id, int events) {
  PartitionBatch batch;
  batch.set_tenant_id(tenant);
  batch.set_command_key(CommandKey(tenant, command_id));
  for (int i = 0; i < events; ++i) {
    slate::Envelope* e = batch.add_events();
    e->set_event_id(absl::StrCat(batch.command_key(), "/", i));
    e->set_stream(absl::StrCat("tenant/", tenant, "/incident/", command_id));
    e->set_version(i);
    e->mutable_incident_commented();
  }
  return batch;
}

inline ClusterOptions Options(int partitions, int replicas, absl::Duration lease_ttl) {
  ClusterOptions options;
  options.partitions = partitions;
  options.replicas = replicas;
  options.lease_ttl = lease_ttl;
  return options;
}

// Servers, a connection and an initialised, opened cluster. Members are
// destroyed cluster first, servers last.
struct ClusterFixture {
  std::unique_ptr<testing::NatsCluster> servers;
  std::unique_ptr<JetStream> js;
  std::unique_ptr<Cluster> cluster;

  static absl::StatusOr<std::unique_ptr<ClusterFixture>> Start(
      int servers, const ClusterOptions& options,
      absl::Duration request_timeout = absl::Seconds(5)) {
    auto f = std::make_unique<ClusterFixture>();
    absl::StatusOr<std::unique_ptr<testing::NatsCluster>> started =
        testing::NatsCluster::Start(servers);
    if (!started.ok()) return started.status();
    f->servers = *std::move(started);
    absl::StatusOr<std::unique_ptr<JetStream>> js =
        f->Connect(f->servers->ClientUrls(), request_timeout);
    if (!js.ok()) return js.status();
    f->js = *std::move(js);
    // Right after the servers start (and on a loaded machine) creating the
    // R3 streams and buckets may time out, or find "no suitable peers for
    // placement" while the servers still learn of each other; InitCluster
    // completes a half-done init when called again.
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    auto transient = [](const absl::Status& st) {
      return absl::IsUnavailable(st) || absl::IsDeadlineExceeded(st) ||
             absl::StrContains(st.message(), "no suitable peers");
    };
    absl::Status st = InitCluster(*f->js, options);
    while (transient(st) && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(200));
      st = InitCluster(*f->js, options);
    }
    if (!st.ok()) return st;
    absl::StatusOr<std::unique_ptr<Cluster>> cluster =
        Cluster::Open(*f->js, options.prefix);
    if (!cluster.ok()) return cluster.status();
    f->cluster = *std::move(cluster);
    return f;
  }

  static absl::StatusOr<std::unique_ptr<JetStream>> Connect(
      std::vector<std::string> urls, absl::Duration request_timeout) {
    JetStreamOptions options;
    options.servers = std::move(urls);
    options.request_timeout = request_timeout;
    options.max_reconnect = -1;
    return JetStream::Connect(options);
  }

  ~ClusterFixture() {
    cluster.reset();
    js.reset();
    servers.reset();
  }
};

// Calls f() until it returns something other than kUnavailable or
// kDeadlineExceeded (leaders being elected after a kill or a thaw), for at
// most 30 s; returns the last result.
template <typename F>
auto RetryWhileUnavailable(F f) -> decltype(f()) {
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  auto r = f();
  while ((absl::IsUnavailable(r.status()) || absl::IsDeadlineExceeded(r.status())) &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(100));
    r = f();
  }
  return r;
}

inline PartitionWriterOptions Writer(const std::string& node, int partition) {
  PartitionWriterOptions options;
  options.node = node;
  options.partition = partition;
  return options;
}

}  // namespace slate::cluster

#endif  // SLATE_TESTS_CLUSTER_CLUSTER_FIXTURE_H_
