// Nodes (lib/cluster/node.h) on a 3-server NATS cluster with R3 streams,
// reached by clients through RemoteExecute (lib/cluster/client.h), as
// issue 19 asks:
// - kill -9 of a partition stream's leader in the middle of kCommands
//   commands of several tenants (several partitions, two client threads):
//   every command whose answer was an error is sent again with the same
//   id; afterwards every command is stored exactly once, every partition's
//   positions are dense, and the owners' answers equal one embedded
//   engine's fed the same commands;
// - a node cut off from its only server (frozen) stops serving writes once
//   its lease lapses: its Execute fails and its local log does not grow;
//   another node takes the partition; the cut-off node's stuck publish is
//   not stored when the server wakes;
// - a node stopped cleanly and restarted on its directory catches up from
//   its own copy: it fetches only what was appended meanwhile.
#include <atomic>
#include <cstdint>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "lib/api/engine.h"
#include "lib/api/tenant.h"
#include "lib/cluster/client.h"
#include "lib/cluster/node.h"
#include "tests/cluster/cluster_fixture.h"
#include "tests/cluster/node_testing.h"
#include "tests/testing/temp_dir.h"

namespace slate::cluster {
namespace {

constexpr int kCommands = 10000;
constexpr int kPartitions = 4;
constexpr int kTenantsPerPartition = 2;
constexpr int kClients = 2;

// The incident states and the KPIs of `tenant`'s first `commands` commands
// (IncidentCommand), as text.
std::string TenantAnswers(Engine& e, const std::string& tenant, int commands) {
  std::string out;
  for (int k = 0; 3 * k < commands; ++k) {
    absl::StatusOr<ExecuteResult> r =
        e.LoadAggregate("incident", absl::StrCat("INC", k), tenant);
    absl::StrAppend(
        &out, "INC", k, ": ",
        r.ok() ? r->incident().ShortDebugString() : r.status().ToString(),
        "\n");
  }
  KpiQuery q;
  q.tenant = tenant;
  q.bucket = KpiBucket::kAll;
  q.now = absl::FromUnixSeconds(1796000000);
  absl::StatusOr<std::string> kpis = e.FormatKpis(q, KpiFormat::kJson);
  absl::StrAppend(&out, kpis.ok() ? *kpis : kpis.status().ToString());
  return out;
}

struct ClientCounts {
  int acknowledged = 0;
  int resent = 0;   // commands sent again after an error or a timeout
  int replays = 0;  // acknowledged as already executed
  std::string last_error;
};

TEST(NodeFailoverTest, KillNineOfAStreamLeaderLosesAndDuplicatesNoCommand) {
  absl::StatusOr<std::unique_ptr<ClusterFixture>> started =
      ClusterFixture::Start(
          3, Options(kPartitions, /*replicas=*/3, absl::Seconds(5)));
  ASSERT_TRUE(started.ok()) << started.status();
  ClusterFixture& f = **started;
  const std::vector<std::string> urls = f.servers->ClientUrls();
  testing::TempDir dir;

  // Two nodes, each on a connection of its own, sharing the partitions.
  std::vector<Connected> conns;
  std::vector<std::unique_ptr<Node>> nodes;
  for (const std::string name : {"a", "b"}) {
    absl::StatusOr<Connected> c = Connected::To(urls, absl::Seconds(2));
    ASSERT_TRUE(c.ok()) << c.status();
    conns.push_back(*std::move(c));
    absl::StatusOr<std::unique_ptr<Node>> n = Node::Start(
        *conns.back().cluster, NodeIn(name, dir.Sub(name), kPartitions / 2));
    ASSERT_TRUE(n.ok()) << n.status();
    nodes.push_back(*std::move(n));
  }
  ASSERT_EQ(nodes[0]->Owned().size() + nodes[1]->Owned().size(),
            static_cast<size_t>(kPartitions));

  const std::vector<std::string> tenants =
      TenantsOnEveryPartition(*f.cluster, kTenantsPerPartition);
  ASSERT_EQ(tenants.size(),
            static_cast<size_t>(kPartitions * kTenantsPerPartition));
  const int per_tenant = kCommands / static_cast<int>(tenants.size());

  // Client c sends the commands of tenants c, c + kClients, ... in turn,
  // each tenant's in order; an error or a timeout is sent again, same id.
  std::atomic<int> acknowledged{0};
  std::vector<ClientCounts> counts(kClients);
  std::vector<std::thread> clients;
  const absl::Time start = absl::Now();
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      absl::StatusOr<Connected> conn = Connected::To(urls, absl::Seconds(2));
      if (!conn.ok()) {
        counts[c].last_error = conn.status().ToString();
        return;
      }
      RemoteOptions ro;
      ro.request_timeout = absl::Seconds(2);
      ro.retry_for = absl::Seconds(20);
      for (int n = 0; n < per_tenant; ++n) {
        for (size_t t = c; t < tenants.size(); t += kClients) {
          const Command command = IncidentCommand(tenants[t], n);
          const absl::Time give_up = absl::Now() + absl::Seconds(90);
          absl::StatusOr<ExecuteResult> r =
              RemoteExecute(*conn->cluster, command, ro);
          while (!r.ok() && absl::Now() < give_up) {
            counts[c].last_error = r.status().ToString();
            ++counts[c].resent;
            r = RemoteExecute(*conn->cluster, command, ro);
          }
          if (!r.ok()) {
            counts[c].last_error =
                absl::StrCat(command.command_id(), ": ", r.status().ToString());
            return;
          }
          ++counts[c].acknowledged;
          if (r->idempotent_replay()) ++counts[c].replays;
          acknowledged.fetch_add(1);
        }
      }
    });
  }

  // Half-way, kill -9 the server leading the first tenant's partition.
  const int target = *f.cluster->PartitionOf(tenants[0]);
  while (acknowledged.load() < kCommands / 2 &&
         absl::Now() < start + absl::Minutes(3)) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  absl::StatusOr<StreamState> state = RetryWhileUnavailable(
      [&] { return f.js->GetStreamState(f.cluster->names().Stream(target)); });
  int killed = state.ok() ? f.servers->IndexOf(state->leader) : -1;
  if (killed < 0) killed = 0;  // Leader unknown: any server will do.
  const int killed_at = acknowledged.load();
  EXPECT_TRUE(f.servers->Kill(killed).ok());
  for (std::thread& t : clients) t.join();
  const absl::Duration took = absl::Now() - start;

  int total = 0, resent = 0, replays = 0;
  for (const ClientCounts& c : counts) {
    EXPECT_EQ(c.acknowledged, kCommands / kClients) << c.last_error;
    total += c.acknowledged;
    resent += c.resent;
    replays += c.replays;
  }
  std::cout << total << " commands through 2 nodes in " << took << " ("
            << total / absl::ToDoubleSeconds(took) << "/s); killed "
            << f.servers->Name(killed) << " (leader of partition " << target
            << ": " << (state.ok() ? state->leader : state.status().ToString())
            << ") after " << killed_at << "; sent again " << resent
            << ", acknowledged as replays " << replays << "\n";
  ASSERT_EQ(total, kCommands);

  auto owner_of = [&](int p) {
    std::shared_ptr<PartitionEngine> owner;
    for (const auto& node : nodes) {
      if (auto e = node->Partition(p); e != nullptr) owner = e;
    }
    return owner;
  };

  // Every stream: dense, each command stored once, nothing else; the
  // owner's local log as long as the stream.
  const absl::Time check_start = absl::Now();
  std::vector<StreamContents> streams;
  int stored = 0;
  for (int p = 0; p < kPartitions; ++p) {
    absl::StatusOr<StreamContents> s = ReadStream(*f.cluster, p);
    ASSERT_TRUE(s.ok()) << s.status();
    std::shared_ptr<PartitionEngine> owner = owner_of(p);
    ASSERT_NE(owner, nullptr) << "nobody owns partition " << p;
    EXPECT_EQ(owner->engine().NextPosition(), s->events) << "partition " << p;
    for (const auto& [tenant, commands] : s->commands) {
      EXPECT_EQ(*f.cluster->PartitionOf(tenant), p) << tenant;
      for (const auto& [id, times] : commands) {
        EXPECT_EQ(times, 1) << "partition " << p << ": " << id << " stored "
                            << times << " times";
        stored += times;
      }
    }
    streams.push_back(*std::move(s));
  }
  EXPECT_EQ(stored, kCommands);
  int lost = 0;
  for (const std::string& t : tenants) {
    auto& stored_of_t = streams[*f.cluster->PartitionOf(t)].commands[t];
    for (int n = 0; n < per_tenant; ++n) {
      if (stored_of_t.count(absl::StrCat(t, "-", n)) == 0) ++lost;
    }
  }
  EXPECT_EQ(lost, 0);
  std::cout << "streams read and checked in " << absl::Now() - check_start
            << "\n";

  // The owners answer as one embedded engine fed the same commands.
  slate::Options o;
  o.durability = Durability::kProcessCrash;
  absl::StatusOr<std::unique_ptr<Engine>> alone =
      Engine::Open(o, dir.Sub("alone"));
  ASSERT_TRUE(alone.ok()) << alone.status();
  for (const std::string& t : tenants) {
    for (int n = 0; n < per_tenant; ++n) {
      ASSERT_TRUE((*alone)->Execute(IncidentCommand(t, n)).ok())
          << t << " " << n;
    }
  }
  for (const std::string& t : tenants) {
    const int p = *f.cluster->PartitionOf(t);
    std::shared_ptr<PartitionEngine> owner = owner_of(p);
    ASSERT_NE(owner, nullptr) << "nobody owns partition " << p;
    EXPECT_EQ(TenantAnswers(owner->engine(), t, per_tenant),
              TenantAnswers(**alone, t, per_tenant))
        << "tenant " << t;
  }
  std::cout << "compared with an embedded engine in "
            << absl::Now() - check_start << "\n";
  nodes.clear();
}

// The index of a server that does not lead `partition`'s stream.
// A server that leads neither the partition's stream nor the leases
// bucket. Freezing the leases bucket's leader (SIGSTOP: its connections stay
// open) stalls every lease read and renewal until the other two servers
// elect a new one, which took over 10 s in 1 of ~20 runs under load (CI,
// 2026-12-07): that measures NATS's election, not the cut-off node.
int NeitherLeader(ClusterFixture& f, int partition) {
  std::vector<bool> leads(f.servers->size(), false);
  for (const std::string& stream :
       {f.cluster->names().Stream(partition),
        absl::StrCat("KV_", f.cluster->names().LeaseBucket())}) {
    absl::StatusOr<StreamState> state =
        RetryWhileUnavailable([&] { return f.js->GetStreamState(stream); });
    const int leader = state.ok() ? f.servers->IndexOf(state->leader) : -1;
    if (leader >= 0) leads[leader] = true;
  }
  for (int i = 0; i < f.servers->size(); ++i) {
    if (!leads[i]) return i;
  }
  return 0;  // Unreachable with 3 servers and 2 leaders.
}

TEST(NodeFailoverTest, ANodeCutOffFromItsServerStopsWritingOnceItsLeaseLapses) {
  absl::StatusOr<std::unique_ptr<ClusterFixture>> started =
      ClusterFixture::Start(
          3, Options(/*partitions=*/1, /*replicas=*/3, absl::Seconds(2)));
  ASSERT_TRUE(started.ok()) << started.status();
  ClusterFixture& f = **started;
  const std::vector<std::string> urls = f.servers->ClientUrls();
  testing::TempDir dir;
  // Node c talks to one server only; node d and the client to the others.
  const int cut = NeitherLeader(f, 0);
  std::vector<std::string> others;
  for (int i = 0; i < 3; ++i) {
    if (i != cut) others.push_back(urls[i]);
  }
  absl::StatusOr<Connected> c_conn =
      Connected::To({urls[cut]}, absl::Seconds(1));
  ASSERT_TRUE(c_conn.ok()) << c_conn.status();
  absl::StatusOr<Connected> d_conn = Connected::To(others, absl::Seconds(2));
  ASSERT_TRUE(d_conn.ok()) << d_conn.status();
  // c forwards what it does not own (Node::Execute); briefly, here.
  NodeOptions c_options = NodeIn("c", dir.Sub("c"));
  c_options.forward.request_timeout = absl::Seconds(1);
  c_options.forward.retry_for = absl::Seconds(2);
  absl::StatusOr<std::unique_ptr<Node>> c =
      Node::Start(*c_conn->cluster, c_options);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ((*c)->Owned(), std::vector<int>{0});
  absl::StatusOr<std::unique_ptr<Node>> d =
      Node::Start(*d_conn->cluster, NodeIn("d", dir.Sub("d")));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_TRUE((*d)->Owned().empty());

  const std::string t = "acme";
  int n = 0;
  for (; n < 6; ++n) {
    absl::StatusOr<ExecuteResult> r = (*c)->Execute(IncidentCommand(t, n));
    ASSERT_TRUE(r.ok()) << r.status();
  }
  std::shared_ptr<PartitionEngine> c_engine = (*c)->Partition(0);
  ASSERT_NE(c_engine, nullptr);
  const int64_t c_end = c_engine->engine().NextPosition();

  // Cut c off: every command its partition's engine executes from now on
  // (as c's request handler would) fails and leaves its local log as it
  // was, before and after its lease lapses (2 s).
  ASSERT_TRUE(f.servers->Freeze(cut).ok());
  const absl::Time frozen = absl::Now();
  const int in_flight = n;  // c's publish of it is stuck in the frozen server
  std::vector<int> refused_by_c;
  while (absl::Now() < frozen + absl::Seconds(5)) {
    absl::StatusOr<ExecuteResult> r =
        c_engine->engine().Execute(IncidentCommand(t, n));
    EXPECT_FALSE(r.ok()) << "c executed command " << n << " "
                         << absl::Now() - frozen << " after it was cut off";
    if (refused_by_c.empty()) {
      std::cout << "c's first command after the cut: " << r.status()
                << " after " << absl::Now() - frozen << "\n";
    }
    refused_by_c.push_back(n++);
    EXPECT_EQ(c_engine->engine().NextPosition(), c_end);
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_FALSE(c_engine->writing());
  absl::StatusOr<ExecuteResult> late = (*c)->Execute(IncidentCommand(t, n));
  EXPECT_FALSE(late.ok());
  refused_by_c.push_back(n++);

  // d takes the partition over; a client retrying the command
  // that was in flight in c gets it applied once, through d. (RemoteExecute
  // itself does not retry a timeout of the tenant's partition lookup, which
  // a bucket led by the frozen server answers with until it has a new
  // leader: the client retries.)
  // Within 10 s of the freeze, as issue 19 asks after a node's death. (The
  // frozen server leads neither the partition nor the leases bucket, but it
  // holds replicas: reads it could answer, direct gets or a listing's
  // consumer, stalled d's lease reads past 10 s, until lib/cluster sent
  // every KV read to the bucket's leader.)
  while ((*d)->Owned().empty() && absl::Now() < frozen + absl::Seconds(10)) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_EQ((*d)->Owned(), std::vector<int>{0});
  std::cout << "d took partition 0 " << absl::Now() - frozen
            << " after the freeze of " << f.servers->Name(cut) << "\n";
  // Only its address: holding the engine would keep d's directory locked.
  const PartitionEngine* d_first = (*d)->Partition(0).get();
  RemoteOptions ro;
  ro.request_timeout = absl::Seconds(2);
  absl::StatusOr<ExecuteResult> retried = RetryWhileUnavailable([&] {
    return RemoteExecute(*d_conn->cluster, IncidentCommand(t, in_flight), ro);
  });
  ASSERT_TRUE(retried.ok()) << retried.status();
  const Command by_d = IncidentCommand("beta", 0);
  absl::StatusOr<ExecuteResult> new_by_d = RetryWhileUnavailable(
      [&] { return RemoteExecute(*d_conn->cluster, by_d, ro); });
  ASSERT_TRUE(new_by_d.ok()) << new_by_d.status();

  // The server wakes: c's stuck publish arrives late and is not stored; c
  // still cannot write.
  ASSERT_TRUE(f.servers->Thaw(cut).ok());
  absl::SleepFor(absl::Seconds(1));
  // (c's Node::Execute would now forward to d, the owner: c's own engine,
  // as the handler of a request c was sent before, is what must refuse.)
  absl::StatusOr<ExecuteResult> after =
      c_engine->engine().Execute(IncidentCommand(t, n));
  EXPECT_FALSE(after.ok());
  refused_by_c.push_back(n++);
  EXPECT_EQ(c_engine->engine().NextPosition(), c_end);

  absl::StatusOr<StreamContents> s = ReadStream(*d_conn->cluster, 0);
  ASSERT_TRUE(s.ok()) << s.status();
  std::map<std::string, int>& stored = s->commands[t];
  for (int i = 0; i < in_flight; ++i) {
    EXPECT_EQ(stored[absl::StrCat(t, "-", i)], 1) << i;
  }
  EXPECT_EQ(stored[absl::StrCat(t, "-", in_flight)], 1);
  EXPECT_EQ(s->commands["beta"][by_d.command_id()], 1);
  for (int i : refused_by_c) {
    if (i != in_flight) {
      EXPECT_EQ(stored[absl::StrCat(t, "-", i)], 0) << i;
    }
  }
  EXPECT_EQ(s->batches, static_cast<uint64_t>(in_flight + 2));

  // The woken server's return may hold up the leases bucket long enough
  // for d's 2 s lease to lapse too; then d takes it again (c cannot: the
  // test keeps c's old engine, and so its directory, open). Whoever writes it
  // holds what the stream holds.
  std::shared_ptr<PartitionEngine> owner;
  for (const absl::Time until = absl::Now() + absl::Seconds(15);
       absl::Now() < until; absl::SleepFor(absl::Milliseconds(50))) {
    owner = (*d)->Partition(0);
    if (owner == nullptr) owner = (*c)->Partition(0);
    if (owner != nullptr && owner->writing()) break;
    owner.reset();  // A lost engine held here keeps its directory locked.
  }
  if (owner == nullptr) {
    absl::StatusOr<std::optional<LeaseInfo>> lease = d_conn->cluster->Lease(0);
    std::cout << "after the thaw: lease of partition 0: "
              << (!lease.ok()          ? lease.status().ToString()
                  : lease->has_value() ? (*lease)->node
                                       : "none")
              << "; d's round: " << (*d)->Tick()
              << "; c's round: " << (*c)->Tick() << "\n";
  }
  ASSERT_NE(owner, nullptr) << "nobody writes partition 0";
  if (owner.get() != d_first) {
    std::cout << "partition 0 changed hands after the thaw\n";
  }
  EXPECT_EQ(owner->engine().NextPosition(), s->events);
}

TEST(NodeFailoverTest, ARestartedNodeCatchesUpFromItsOwnCopy) {
  absl::StatusOr<std::unique_ptr<ClusterFixture>> started =
      ClusterFixture::Start(
          3, Options(/*partitions=*/2, /*replicas=*/3, absl::Seconds(2)));
  ASSERT_TRUE(started.ok()) << started.status();
  ClusterFixture& f = **started;
  const std::vector<std::string> urls = f.servers->ClientUrls();
  testing::TempDir dir;
  const std::vector<std::string> tenants =
      TenantsOnEveryPartition(*f.cluster, 1);
  ASSERT_EQ(tenants.size(), 2u);
  RemoteOptions ro;
  ro.request_timeout = absl::Seconds(2);
  auto send = [&](int from, int to) {
    for (int n = from; n < to; ++n) {
      for (const std::string& t : tenants) {
        absl::StatusOr<ExecuteResult> r =
            RemoteExecute(*f.cluster, IncidentCommand(t, n), ro);
        ASSERT_TRUE(r.ok()) << t << " " << n << ": " << r.status();
        ASSERT_FALSE(r->idempotent_replay()) << t << " " << n;
      }
    }
  };
  constexpr int kBefore = 60, kWhileAway = 30, kAfter = 9;

  absl::StatusOr<Connected> a_conn = Connected::To(urls, absl::Seconds(2));
  ASSERT_TRUE(a_conn.ok()) << a_conn.status();
  absl::StatusOr<Connected> b_conn = Connected::To(urls, absl::Seconds(2));
  ASSERT_TRUE(b_conn.ok()) << b_conn.status();
  absl::StatusOr<std::unique_ptr<Node>> a =
      Node::Start(*a_conn->cluster, NodeIn("a", dir.Sub("a")));
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_EQ((*a)->Owned(), (std::vector<int>{0, 1}));
  send(0, kBefore);
  std::vector<int64_t> a_had;
  for (int p = 0; p < 2; ++p)
    a_had.push_back((*a)->Partition(p)->engine().NextPosition());

  // Nodes balance (each takes its fair share at its rounds): wait for one
  // to own both partitions.
  auto owns_both = [](Node& node) {
    for (const absl::Time until = absl::Now() + absl::Seconds(10);
         absl::Now() < until; absl::SleepFor(absl::Milliseconds(50))) {
      if (node.Owned() == std::vector<int>{0, 1}) return true;
    }
    return false;
  };

  // a stops cleanly; b serves while a is away.
  absl::StatusOr<std::unique_ptr<Node>> b =
      Node::Start(*b_conn->cluster, NodeIn("b", dir.Sub("b")));
  ASSERT_TRUE(b.ok()) << b.status();
  a->reset();
  ASSERT_TRUE(owns_both(**b));
  send(kBefore, kBefore + kWhileAway);

  // a starts again on its directory and gets the partitions back (one at
  // its share, the other when b stops): it fetches only what b appended.
  a = Node::Start(*a_conn->cluster, NodeIn("a", dir.Sub("a")));
  ASSERT_TRUE(a.ok()) << a.status();
  b->reset();
  ASSERT_TRUE(owns_both(**a));
  send(kBefore + kWhileAway, kBefore + kWhileAway + kAfter);
  const int total = kBefore + kWhileAway + kAfter;

  slate::Options o;
  o.durability = Durability::kProcessCrash;
  absl::StatusOr<std::unique_ptr<Engine>> alone =
      Engine::Open(o, dir.Sub("alone"));
  ASSERT_TRUE(alone.ok()) << alone.status();
  for (int n = 0; n < total; ++n) {
    for (const std::string& t : tenants) {
      ASSERT_TRUE((*alone)->Execute(IncidentCommand(t, n)).ok());
    }
  }
  for (int p = 0; p < 2; ++p) {
    std::shared_ptr<PartitionEngine> e = (*a)->Partition(p);
    ASSERT_NE(e, nullptr);
    absl::StatusOr<StreamContents> s = ReadStream(*f.cluster, p);
    ASSERT_TRUE(s.ok()) << s.status();
    EXPECT_EQ(s->batches, static_cast<uint64_t>(total));
    EXPECT_GT(a_had[p], 0);
    EXPECT_EQ(e->batches_fetched(), kWhileAway) << "partition " << p;
    EXPECT_EQ(e->engine().NextPosition(), s->events);
    EXPECT_EQ(TenantAnswers(e->engine(), tenants[p], total),
              TenantAnswers(**alone, tenants[p], total));
    VerifyReport report;
    ASSERT_TRUE(e->engine().Verify(&report).ok());
    EXPECT_TRUE(report.ok());
  }
}

}  // namespace
}  // namespace slate::cluster
