// Test helpers for cluster nodes (lib/cluster/node.h) on real nats-server
// processes: a connection and an opened cluster of one's own (a node or a
// client, as a separate process would have), incident commands of a tenant,
// tenants spread over the partitions, and a partition's stream read back
// and checked dense.
//
//   absl::StatusOr<Connected> c = Connected::To(urls, absl::Seconds(2));
//   Command open = IncidentCommand("t3", /*n=*/7);   // open INC7
//   absl::StatusOr<StreamContents> s = ReadStream(*c->cluster, 0);
//   // s->commands["t3"]["t3-7"] == 1: stored once
#ifndef SLATE_TESTS_CLUSTER_NODE_TESTING_H_
#define SLATE_TESTS_CLUSTER_NODE_TESTING_H_

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "lib/api/tenant.h"
#include "lib/cluster/cluster.h"
#include "lib/cluster/jetstream.h"
#include "lib/cluster/node.h"
#include "lib/cluster/partition_log.h"
#include "proto/commands.pb.h"
#include "tests/cluster/cluster_fixture.h"

namespace slate::cluster {

// A connection of its own to `urls` and the cluster opened on it.
struct Connected {
  std::unique_ptr<JetStream> js;
  std::unique_ptr<Cluster> cluster;

  static absl::StatusOr<Connected> To(std::vector<std::string> urls,
                                      absl::Duration request_timeout) {
    Connected c;
    absl::StatusOr<std::unique_ptr<JetStream>> js =
        ClusterFixture::Connect(std::move(urls), request_timeout);
    if (!js.ok()) return js.status();
    c.js = *std::move(js);
    absl::StatusOr<std::unique_ptr<Cluster>> cluster =
        RetryWhileUnavailable([&] { return Cluster::Open(*c.js); });
    if (!cluster.ok()) return cluster.status();
    c.cluster = *std::move(cluster);
    return c;
  }
};

// Command `n` of a tenant's incident stream: incident INC<n/3> is opened
// (n % 3 == 0), acknowledged (1) and resolved (2), at times that depend on
// n so that KPIs differ per record. Command id "<tenant>-<n>", also the
// correlation id, so every stored batch names its command.
inline Command IncidentCommand(const std::string& tenant, int n) {
  const int k = n / 3;
  const std::string id = absl::StrCat("INC", k);
  const absl::Time opened =
      absl::FromUnixSeconds(1795420800) + absl::Minutes(k);  // 2026-11-23
  const std::string rfc = "%Y-%m-%d%ET%H:%M:%SZ";
  Command c;
  c.set_tenant_id(tenant);
  c.set_command_id(absl::StrCat(tenant, "-", n));
  c.set_correlation_id(c.command_id());
  switch (n % 3) {
    case 0: {
      OpenIncident* o = c.mutable_open_incident();
      o->set_incident_id(id);
      o->set_at(absl::FormatTime(rfc, opened, absl::UTCTimeZone()));
      o->set_impact(1 + k % 3);
      o->set_urgency(1 + (k / 3) % 3);
      break;
    }
    case 1: {
      AcknowledgeIncident* a = c.mutable_acknowledge_incident();
      a->set_incident_id(id);
      a->set_at(absl::FormatTime(rfc, opened + absl::Minutes(1 + k % 40),
                                 absl::UTCTimeZone()));
      break;
    }
    default: {
      ResolveIncident* r = c.mutable_resolve_incident();
      r->set_incident_id(id);
      r->set_at(absl::FormatTime(rfc, opened + absl::Minutes(30 + k % 300),
                                 absl::UTCTimeZone()));
      r->set_resolution_code("fixed");
      break;
    }
  }
  return c;
}

// `per_partition` tenants ("t<i>") on each partition, partition by partition.
inline std::vector<std::string> TenantsOnEveryPartition(Cluster& cluster,
                                                        int per_partition) {
  std::vector<std::vector<std::string>> on(cluster.partitions());
  for (int i = 0; i < 10000; ++i) {
    const std::string t = absl::StrCat("t", i);
    absl::StatusOr<int> p = cluster.PartitionOf(t);
    if (p.ok() && static_cast<int>(on[*p].size()) < per_partition) {
      on[*p].push_back(t);
    }
  }
  std::vector<std::string> out;
  for (const auto& ts : on) out.insert(out.end(), ts.begin(), ts.end());
  return out;
}

// What a partition's stream holds, checked: positions dense from 0, every
// batch's events continuing the log positions of the one before.
struct StreamContents {
  uint64_t batches = 0;
  int64_t events = 0;
  // tenant -> correlation id (the command) -> batches holding it
  std::map<std::string, std::map<std::string, int>> commands;
};

inline absl::StatusOr<StreamContents> ReadStream(Cluster& cluster,
                                                 int partition) {
  PartitionReader reader(cluster, partition);
  absl::StatusOr<uint64_t> batches =
      RetryWhileUnavailable([&] { return reader.Batches(); });
  if (!batches.ok()) return batches.status();
  absl::StatusOr<std::vector<PartitionEntry>> all =
      RetryWhileUnavailable([&] { return reader.Read(0, *batches + 1); });
  if (!all.ok()) return all.status();
  StreamContents out;
  out.batches = *batches;
  if (all->size() != *batches) {
    return absl::DataLossError(absl::StrCat("partition ", partition, ": ",
                                            all->size(), " batches read, ",
                                            *batches, " counted"));
  }
  for (size_t k = 0; k < all->size(); ++k) {
    const PartitionEntry& e = (*all)[k];
    if (e.position != k || e.batch.events_size() == 0) {
      return absl::DataLossError(absl::StrCat(
          "partition ", partition, ": entry ", k, " is at position ",
          e.position, " with ", e.batch.events_size(), " events"));
    }
    for (const Envelope& ev : e.batch.events()) {
      if (ev.position() != out.events) {
        return absl::DataLossError(absl::StrCat(
            "partition ", partition, ": batch ", k, " holds log position ",
            ev.position(), ", expected ", out.events));
      }
      ++out.events;
    }
    // A batch holds one or several whole commands (a group commit): each
    // counted once, by its events' tenant and correlation id.
    std::set<std::pair<std::string, std::string>> in_batch;
    for (const Envelope& ev : e.batch.events()) {
      in_batch.emplace(std::string(StreamTenant(ev.stream())),
                       ev.correlation_id());
    }
    for (const auto& [tenant, command] : in_batch) ++out.commands[tenant][command];
  }
  return out;
}

// Options of an in-process node in `dir` with a tick of 200 ms.
inline NodeOptions NodeIn(const std::string& name, const std::string& dir,
                          int max_partitions = 0) {
  NodeOptions o;
  o.name = name;
  o.dir = dir;
  o.engine.durability = Durability::kProcessCrash;
  o.max_partitions = max_partitions;
  o.tick = absl::Milliseconds(200);
  return o;
}

}  // namespace slate::cluster

#endif  // SLATE_TESTS_CLUSTER_NODE_TESTING_H_
