// Node (lib/cluster/node.h) on a real nats-server: two nodes share the
// partitions; a command for a partition another node owns is forwarded to
// it, and the shared configuration reaches every partition; when the owning node dies (its leases left to lapse) the
// other takes its partition over within 10 s, catches up from the
// partition, and a client retrying with the same command ids sees each
// applied once; the answers equal one embedded engine's.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "lib/api/engine.h"
#include "lib/api/tenant.h"
#include "lib/cluster/client.h"
#include "lib/cluster/node.h"
#include "lib/cluster/partition.pb.h"
#include "tests/cluster/cluster_fixture.h"
#include "tests/cluster/node_testing.h"
#include "tests/testing/temp_dir.h"

namespace slate::cluster {
namespace {

Command Open(const std::string& tenant, int n) {
  Command c;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(
                  absl::StrCat(R"({"commandId":"open-)", n,
                               R"(","openIncident":{"incidentId":"INC)", n,
                               R"(","at":"2026-11-23T09:00:00Z","impact":2,"urgency":2}})"),
                  &c)
                  .ok());
  c.set_tenant_id(tenant);
  return c;
}

class NodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<ClusterFixture>> f = ClusterFixture::Start(
        1, Options(/*partitions=*/2, /*replicas=*/1, absl::Seconds(2)));
    ASSERT_TRUE(f.ok()) << f.status();
    f_ = *std::move(f);
  }
  NodeOptions For(const std::string& name, int max_partitions) {
    NodeOptions o;
    o.name = name;
    o.dir = dir_.Sub(name);
    o.engine.durability = Durability::kProcessCrash;
    o.max_partitions = max_partitions;
    o.tick = absl::Milliseconds(200);
    return o;
  }
  // A tenant whose partition is `p`.
  std::string TenantOn(int p) {
    for (int i = 0; i < 1000; ++i) {
      const std::string t = absl::StrCat("t", i);
      if (*f_->cluster->PartitionOf(t) == p) return t;
    }
    ADD_FAILURE() << "no tenant on partition " << p;
    return "";
  }

  // Node "a" owning partition 0 and node "b" owning partition 1.
  void StartTwoNodes() {
    a_ = Node::Start(*f_->cluster, For("a", 1));
    ASSERT_TRUE(a_.ok()) << a_.status();
    ASSERT_EQ((*a_)->Owned(), std::vector<int>{0});
    b_ = Node::Start(*f_->cluster, For("b", 0));
    ASSERT_TRUE(b_.ok()) << b_.status();
    ASSERT_EQ((*b_)->Owned(), std::vector<int>{1});
  }

  std::unique_ptr<ClusterFixture> f_;
  testing::TempDir dir_;
  // StartTwoNodes's; stopped before the directory and servers go.
  absl::StatusOr<std::unique_ptr<Node>> a_, b_;
};

// Node::Execute routes by the cluster's watched copy of the tenants
// bucket: an override set between two commands sends the second one to the
// new partition's owner.
TEST_F(NodeTest, AnOverrideRoutesTheTenantsNextCommand) {
  ASSERT_NO_FATAL_FAILURE(StartTwoNodes());
  auto& a = a_;
  auto& b = b_;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (!f_->cluster->RoutesCached() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_TRUE(f_->cluster->RoutesCached());

  const std::string tenant = TenantOn(0);
  ASSERT_TRUE((*a)->Execute(Open(tenant, 1)).ok());
  ASSERT_TRUE(f_->cluster->SetOverride(tenant, 1).ok());
  ASSERT_TRUE((*a)->Execute(Open(tenant, 2)).ok());
  Engine& on_a = (*a)->Partition(0)->engine();
  Engine& on_b = (*b)->Partition(1)->engine();
  EXPECT_TRUE(on_a.LoadAggregate("incident", "INC1", tenant).ok());
  EXPECT_FALSE(on_a.LoadAggregate("incident", "INC2", tenant).ok());
  EXPECT_TRUE(on_b.LoadAggregate("incident", "INC2", tenant).ok());
  // Cleared: back to its hash partition at once.
  ASSERT_TRUE(f_->cluster->ClearOverride(tenant).ok());
  ASSERT_TRUE((*b)->Execute(Open(tenant, 3)).ok());
  EXPECT_TRUE(on_a.LoadAggregate("incident", "INC3", tenant).ok());
  EXPECT_FALSE(on_b.LoadAggregate("incident", "INC3", tenant).ok());
}

// Several commands in one request (RemoteExecuteGroup): the owner runs
// them together; each command's own result comes back in its place, each is
// stored once, whole, at dense positions, and sending the group again
// applies nothing twice.
TEST_F(NodeTest, AGroupOfCommandsIsAppliedOnceEachInOrderOfReplies) {
  ASSERT_NO_FATAL_FAILURE(StartTwoNodes());
  const std::vector<std::string> tenants = {TenantOn(0), TenantOn(1)};
  std::vector<Command> group;
  for (int n = 0; n < 40; ++n) group.push_back(Open(tenants[n % 2], n));
  // The same command twice in one group: applied once.
  group.push_back(Open(tenants[0], 0));
  // A command of its own that fails: its error in its place only.
  Command unknown;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(
                  R"({"commandId":"ack-x","acknowledgeIncident":{"incidentId":"INC404","at":"2026-11-23T10:00:00Z"}})",
                  &unknown)
                  .ok());
  unknown.set_tenant_id(tenants[1]);
  group.push_back(unknown);

  int64_t events[2] = {0, 0};  // what the results say each partition holds
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::vector<absl::StatusOr<ExecuteResult>> r =
        RemoteExecuteGroup(*f_->cluster, group);
    ASSERT_EQ(r.size(), group.size());
    for (size_t i = 0; i + 1 < group.size(); ++i) {
      ASSERT_TRUE(r[i].ok()) << i << ": " << r[i].status();
      EXPECT_EQ(r[i]->command_id(), group[i].command_id()) << i;
      EXPECT_EQ(r[i]->tenant_id(), group[i].tenant_id()) << i;
      if (attempt == 1) {
        EXPECT_TRUE(r[i]->idempotent_replay()) << i;
      } else if (i < 40) {
        for (const StreamAppend& a : r[i]->appends()) {
          events[i % 2] += a.last_position() - a.first_position() + 1;
        }
      }
    }
    EXPECT_EQ(r.back().status().code(), absl::StatusCode::kNotFound)
        << r.back().status();
    // The two copies of command 0 name the same events.
    EXPECT_EQ(r[0]->appends(0).first_position(),
              r[40]->appends(0).first_position());
  }
  for (int p = 0; p < 2; ++p) {
    absl::StatusOr<StreamContents> s = ReadStream(*f_->cluster, p);
    ASSERT_TRUE(s.ok()) << s.status();  // dense, positions continuing
    ASSERT_EQ(s->commands[tenants[p]].size(), 20u) << p;
    for (const auto& [command, times] : s->commands[tenants[p]]) {
      EXPECT_EQ(times, 1) << command;
    }
    EXPECT_EQ(s->events, events[p]) << p;
    EXPECT_LE(s->batches, 20u) << p;
  }
}

TEST_F(NodeTest, TheOtherNodeTakesOverADeadNodesPartition) {
  ASSERT_NO_FATAL_FAILURE(StartTwoNodes());
  auto& a = a_;
  auto& b = b_;

  const std::string on_a = TenantOn(0);
  const std::string on_b = TenantOn(1);
  for (int n = 0; n < 20; ++n) {
    ASSERT_TRUE((*a)->Execute(Open(on_a, n)).ok());
    ASSERT_TRUE((*b)->Execute(Open(on_b, n)).ok());
  }
  // Any node takes any command: b forwards a's to a, whose engine decides.
  absl::StatusOr<ExecuteResult> elsewhere = (*b)->Execute(Open(on_a, 99));
  ASSERT_TRUE(elsewhere.ok()) << elsewhere.status();
  EXPECT_TRUE((*a)->Partition(0)->engine()
                  .LoadAggregate("incident", "INC99", on_a)
                  .ok());
  EXPECT_EQ((*b)->Partition(0), nullptr);
  // The shared configuration, sent to one node, reaches every partition.
  Command service;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(
                  R"({"commandId":"svc","defineService":{"serviceId":"email","at":"2026-11-01T00:00:00Z","name":"E-mail"}})",
                  &service)
                  .ok());
  ASSERT_TRUE((*a)->Execute(service).ok());
  EXPECT_TRUE((*a)->Partition(0)->engine().LoadAggregate("service", "email").ok());
  EXPECT_TRUE((*b)->Partition(1)->engine().LoadAggregate("service", "email").ok());

  // a dies: its lease lapses after the TTL (2 s); b's rounds take it.
  const absl::Time killed = absl::Now();
  (*a)->KillForTest();
  while ((*b)->Owned().size() < 2 && absl::Now() < killed + absl::Seconds(10)) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_EQ((*b)->Owned(), (std::vector<int>{0, 1}));
  const absl::Duration takeover = absl::Now() - killed;
  EXPECT_LT(takeover, absl::Seconds(10));
  std::printf("takeover after kill: %s\n",
              absl::FormatDuration(takeover).c_str());

  // The client retries everything it sent to a: each applied once.
  for (int n = 0; n < 20; ++n) {
    absl::StatusOr<ExecuteResult> r = (*b)->Execute(Open(on_a, n));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_TRUE(r->idempotent_replay()) << n;
  }
  ASSERT_TRUE((*b)->Execute(Open(on_a, 20)).ok());
  std::shared_ptr<PartitionEngine> p0 = (*b)->Partition(0);
  ASSERT_NE(p0, nullptr);
  for (int n = 0; n <= 20; ++n) {
    auto inc = p0->engine().LoadAggregate("incident", absl::StrCat("INC", n),
                                          on_a);
    EXPECT_TRUE(inc.ok()) << n << ": " << inc.status();
  }
  VerifyReport report;
  ASSERT_TRUE(p0->engine().Verify(&report).ok());
  EXPECT_TRUE(report.ok());
}

TEST_F(NodeTest, AStoppedNodeHandsOverAtOnce) {
  auto a = Node::Start(*f_->cluster, For("a", 0));
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_EQ((*a)->Owned(), (std::vector<int>{0, 1}));
  NodeOptions ob = For("b", 0);
  ob.tick = absl::ZeroDuration();  // Rounds by hand.
  auto b = Node::Start(*f_->cluster, ob);
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE((*b)->Owned().empty());
  const std::string t = TenantOn(1);
  ASSERT_TRUE((*a)->Execute(Open(t, 1)).ok());
  a->reset();  // Releases its leases.
  ASSERT_TRUE((*b)->Tick().ok());
  EXPECT_EQ((*b)->Owned(), (std::vector<int>{0, 1}));
  absl::StatusOr<ExecuteResult> r = (*b)->Execute(Open(t, 1));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->idempotent_replay());
}

// Balance: partitions spread over the live nodes as nodes join, die and
// leave, with rounds run by hand (the fixture's cluster has 2 partitions).
TEST_F(NodeTest, PartitionsSpreadOverTheLiveNodes) {
  auto manual = [this](const std::string& name) {
    NodeOptions o = For(name, 0);
    o.tick = absl::ZeroDuration();
    auto n = Node::Start(*f_->cluster, o);
    EXPECT_TRUE(n.ok()) << n.status();
    return n.ok() ? *std::move(n) : nullptr;
  };
  auto live = [this] {
    absl::StatusOr<std::vector<std::string>> l = f_->cluster->LiveNodes();
    EXPECT_TRUE(l.ok()) << l.status();
    return l.ok() ? *l : std::vector<std::string>();
  };
  std::unique_ptr<Node> a = manual("a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->Owned(), (std::vector<int>{0, 1}));  // Alone: all.
  const std::string t1 = TenantOn(1);
  ASSERT_TRUE(a->Execute(Open(t1, 1)).ok());

  // b joins: a hands partition 1 over at its next round, b takes it at
  // its own, and b answers for it from the partition's history.
  std::unique_ptr<Node> b = manual("b");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(live(), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(b->Owned().empty());
  ASSERT_TRUE(a->Tick().ok());
  EXPECT_EQ(a->Owned(), std::vector<int>{0});
  ASSERT_TRUE(b->Tick().ok());
  EXPECT_EQ(b->Owned(), std::vector<int>{1});
  absl::StatusOr<ExecuteResult> replay = b->Execute(Open(t1, 1));
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_TRUE(replay->idempotent_replay());

  // c joins: ceil(2 / 3) = 1 each, nothing moves; c stands by.
  std::unique_ptr<Node> c = manual("c");
  ASSERT_NE(c, nullptr);
  for (Node* n : {a.get(), b.get(), c.get()}) ASSERT_TRUE(n->Tick().ok());
  EXPECT_EQ(a->Owned(), std::vector<int>{0});
  EXPECT_EQ(b->Owned(), std::vector<int>{1});
  EXPECT_TRUE(c->Owned().empty());

  // a dies: once its lease and its membership lapse (2 s after their last
  // writes, which a round apart), c takes its partition (b is at its
  // share) and the members are b and c.
  a->KillForTest();
  const absl::Time killed = absl::Now();
  while ((c->Owned().empty() || live().size() != 2) &&
         absl::Now() < killed + absl::Seconds(10)) {
    ASSERT_TRUE(b->Tick().ok());
    ASSERT_TRUE(c->Tick().ok());
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(b->Owned(), std::vector<int>{1});
  EXPECT_EQ(c->Owned(), std::vector<int>{0});
  EXPECT_EQ(live(), (std::vector<std::string>{"b", "c"}));

  // b leaves cleanly: its lease and membership go with it, and c's next
  // round takes both.
  b.reset();
  EXPECT_EQ(live(), std::vector<std::string>{"c"});
  ASSERT_TRUE(c->Tick().ok());
  EXPECT_EQ(c->Owned(), (std::vector<int>{0, 1}));
  replay = c->Execute(Open(t1, 1));
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_TRUE(replay->idempotent_replay());
}

// A lease the servers still store a whole TTL after its holder's own
// expiry (seen after a leader change of the leases bucket) is removed and
// the partition taken; a current one is left alone.
TEST_F(NodeTest, ALeaseLongPastItsHoldersExpiryIsRemoved) {
  auto ghost = [this](int p, absl::Duration expires_in) {
    PartitionLease lease;
    lease.set_node("ghost");
    lease.set_acquired_at_us(absl::ToUnixMicros(absl::Now() - absl::Seconds(60)));
    lease.set_expires_at_us(absl::ToUnixMicros(absl::Now() + expires_in));
    ASSERT_TRUE(f_->cluster->leases()
                    .Create(ClusterNames::LeaseKey(p), lease.SerializeAsString())
                    .ok());
  };
  ghost(0, absl::Seconds(2));     // Current: its holder may still write.
  ghost(1, -absl::Seconds(30));   // Expired 30 s ago by its holder's clock.
  NodeOptions o = For("a", 0);
  o.tick = absl::ZeroDuration();
  std::vector<std::string> logged;
  o.engine.log_sink = [&logged](LogLevel, absl::string_view m,
                                absl::Span<const LogField>) {
    logged.emplace_back(m);
  };
  auto a = Node::Start(*f_->cluster, o);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ((*a)->Owned(), std::vector<int>{1});
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_TRUE(absl::StrContains(logged[0], "partition 1: lease of ghost"))
      << logged[0];
}

TEST_F(NodeTest, ANodeNameMustBeAKey) {
  NodeOptions o = For("a", 0);
  o.name = "no spaces";
  EXPECT_EQ(Node::Start(*f_->cluster, o).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(NodeTest, ClientsReachTheOwnerAndRetryAcrossAFailover) {
  auto a = Node::Start(*f_->cluster, For("a", 1));
  ASSERT_TRUE(a.ok()) << a.status();
  auto b = Node::Start(*f_->cluster, For("b", 0));
  ASSERT_TRUE(b.ok()) << b.status();
  const std::string on_a = TenantOn(0);
  const std::string on_b = TenantOn(1);
  for (int n = 0; n < 10; ++n) {
    absl::StatusOr<ExecuteResult> r = RemoteExecute(*f_->cluster, Open(on_a, n));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_FALSE(r->idempotent_replay());
    EXPECT_EQ(r->tenant_id(), on_a);
    ASSERT_TRUE(RemoteExecute(*f_->cluster, Open(on_b, n)).ok());
  }
  // A domain error comes back as it is, not retried.
  absl::StatusOr<ExecuteResult> twice = RemoteExecute(
      *f_->cluster, [&] {
        Command c = Open(on_a, 0);
        c.set_command_id("another-id");
        return c;
      }());
  EXPECT_EQ(twice.status().code(), absl::StatusCode::kAlreadyExists)
      << twice.status();

  // Kill a; the client's next command waits for b to take over.
  const absl::Time killed = absl::Now();
  (*a)->KillForTest();
  absl::StatusOr<ExecuteResult> after = RemoteExecute(*f_->cluster, Open(on_a, 10));
  ASSERT_TRUE(after.ok()) << after.status();
  const absl::Duration failover = absl::Now() - killed;
  std::printf("failover (kill to first command served): %s\n",
              absl::FormatDuration(failover).c_str());
  EXPECT_LT(failover, absl::Seconds(10));
  for (int n = 0; n < 10; ++n) {
    absl::StatusOr<ExecuteResult> r = RemoteExecute(*f_->cluster, Open(on_a, n));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_TRUE(r->idempotent_replay()) << n;
  }
}

}  // namespace
}  // namespace slate::cluster
