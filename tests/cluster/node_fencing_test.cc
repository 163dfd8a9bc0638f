// Fencing of a frozen node (issue 19): a real `slate node` process owning
// the partition of a 3-server cluster (R3, 2 s leases) is frozen (SIGSTOP)
// with a command in flight to it; another node takes the partition once the
// lease lapses and serves the clients; the frozen node then wakes (SIGCONT)
// with the request it was sent, and the ones sent since, still waiting for
// it. It cannot append a single event: after takeover the partition holds
// exactly the commands the new owner acknowledged, dense, and the woken
// node's own directory did not grow. (One partition: with two, the woken
// node would take one back by balancing, legitimately.)
//
// The test starts its nats-server processes and the `slate node` process
// itself and ends them (by pid) whatever happens.
#include <signal.h>
#include <sys/stat.h>

#include <cstdint>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "lib/api/engine.h"
#include "lib/cluster/client.h"
#include "lib/cluster/node.h"
#include "tests/cluster/cluster_fixture.h"
#include "tests/cluster/node_testing.h"
#include "tests/testing/child_process.h"
#include "tests/testing/temp_dir.h"

namespace slate::cluster {
namespace {

// The slate binary, in the test's runfiles (data dependency).
constexpr char kSlate[] = "tools/slate";

TEST(NodeFencingTest, AFrozenNodeProcessCannotAppendAfterAnotherTookOver) {
  struct stat st;
  ASSERT_EQ(stat(kSlate, &st), 0) << kSlate << " is not in the runfiles";
  constexpr int kPartitions = 1;
  absl::StatusOr<std::unique_ptr<ClusterFixture>> started =
      ClusterFixture::Start(
          3, Options(kPartitions, /*replicas=*/3, absl::Seconds(2)));
  ASSERT_TRUE(started.ok()) << started.status();
  ClusterFixture& f = **started;
  const std::vector<std::string> urls = f.servers->ClientUrls();
  testing::TempDir dir;
  const std::vector<std::string> tenants =
      TenantsOnEveryPartition(*f.cluster, 1);
  ASSERT_EQ(tenants.size(), static_cast<size_t>(kPartitions));

  testing::ChildProcess a({kSlate, "node", "--nats", absl::StrJoin(urls, ","),
                           "--db", dir.Sub("a"), "--name", "a"},
                          dir.Sub("a.out"));
  ASSERT_TRUE(a.WaitFor("owns partitions 0", absl::Seconds(30))) << a.Output();

  // Commands served by a.
  RemoteOptions ro;
  ro.request_timeout = absl::Seconds(2);
  int n = 0;
  for (; n < 9; ++n) {
    for (const std::string& t : tenants) {
      absl::StatusOr<ExecuteResult> r =
          RemoteExecute(*f.cluster, IncidentCommand(t, n), ro);
      ASSERT_TRUE(r.ok()) << r.status();
    }
  }
  std::vector<int64_t> events_before;
  std::vector<uint64_t> batches_before;
  for (int p = 0; p < kPartitions; ++p) {
    absl::StatusOr<StreamContents> s = ReadStream(*f.cluster, p);
    ASSERT_TRUE(s.ok()) << s.status();
    events_before.push_back(s->events);
    batches_before.push_back(s->batches);
  }

  // Freeze a with a command on its way to it: one try, nobody answers.
  ASSERT_TRUE(a.Signal(SIGSTOP));
  const absl::Time frozen = absl::Now();
  RemoteOptions once;
  once.request_timeout = absl::Seconds(1);
  once.retry_for = absl::ZeroDuration();
  std::vector<Command> to_a;
  for (const std::string& t : tenants) {
    to_a.push_back(IncidentCommand(t, n));
    absl::StatusOr<ExecuteResult> r =
        RemoteExecute(*f.cluster, to_a.back(), once);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded)
        << r.status();
  }

  // b starts, takes the partition once a's lease lapses, and serves the
  // clients (a, still subscribed, is sent every request too and holds
  // them).
  absl::StatusOr<Connected> b_conn = Connected::To(urls, absl::Seconds(2));
  ASSERT_TRUE(b_conn.ok()) << b_conn.status();
  absl::StatusOr<std::unique_ptr<Node>> b =
      Node::Start(*b_conn->cluster, NodeIn("b", dir.Sub("b")));
  ASSERT_TRUE(b.ok()) << b.status();
  while ((*b)->Owned().size() < kPartitions &&
         absl::Now() < frozen + absl::Seconds(10)) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_EQ((*b)->Owned(), std::vector<int>{0});
  std::cout << "b owns the partition " << absl::Now() - frozen
            << " after a was frozen\n";
  const int by_b_from = ++n;
  for (; n < by_b_from + 3; ++n) {
    for (const std::string& t : tenants) {
      // Fresh incidents of another run of ids: a's held one stays unopened.
      Command c = IncidentCommand(t, 3 * n);
      absl::StatusOr<ExecuteResult> r = RetryWhileUnavailable(
          [&] { return RemoteExecute(*f.cluster, c, ro); });
      ASSERT_TRUE(r.ok()) << r.status();
    }
  }

  // a wakes with the requests it holds; it cannot append them, and drops
  // the partition at its next round.
  ASSERT_TRUE(a.Signal(SIGCONT));
  EXPECT_TRUE(a.WaitFor("owns partitions none", absl::Seconds(10)))
      << a.Output();
  for (const std::string& t : tenants) {
    Command c = IncidentCommand(t, 3 * n);
    absl::StatusOr<ExecuteResult> r =
        RetryWhileUnavailable([&] { return RemoteExecute(*f.cluster, c, ro); });
    ASSERT_TRUE(r.ok()) << r.status();
  }
  ++n;

  // The partition: what a stored before the freeze, then b's commands
  // only; a's held command is not there.
  for (int p = 0; p < kPartitions; ++p) {
    absl::StatusOr<StreamContents> s = ReadStream(*f.cluster, p);
    ASSERT_TRUE(s.ok()) << s.status();
    const std::string& t = tenants[p];
    EXPECT_EQ(s->commands[t].count(to_a[p].command_id()), 0u)
        << "a appended " << to_a[p].command_id() << " after b took over";
    EXPECT_EQ(s->batches, batches_before[p] + (n - by_b_from))
        << "partition " << p;
    for (int k = by_b_from; k < n; ++k) {
      EXPECT_EQ(s->commands[t][absl::StrCat(t, "-", 3 * k)], 1) << k;
    }
    std::shared_ptr<PartitionEngine> e = (*b)->Partition(p);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->engine().NextPosition(), s->events);
  }

  // a stops cleanly; its own copies hold nothing past the freeze.
  ASSERT_TRUE(a.Signal(SIGTERM));
  EXPECT_EQ(a.Wait(), 0) << a.Output();
  for (int p = 0; p < kPartitions; ++p) {
    slate::Options o;
    o.durability = Durability::kProcessCrash;
    absl::StatusOr<std::unique_ptr<Engine>> local =
        Engine::Open(o, absl::StrCat(dir.Sub("a"), "/p", p));
    ASSERT_TRUE(local.ok()) << local.status();
    EXPECT_EQ((*local)->NextPosition(), events_before[p]) << "partition " << p;
  }
}

}  // namespace
}  // namespace slate::cluster
