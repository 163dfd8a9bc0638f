// Failover time of a cluster node (issue 19): from kill -9 of the `slate
// node` process owning a partition to the first command served by the new
// owner through RemoteExecute, over --rounds rounds, on a 3-server
// loopback NATS cluster (R3 streams) with 2 s leases that the bench starts
// itself. Two node processes; each round kills the owner, times a client's
// next command (a new incident, retried while the partition moves), then
// starts the killed node again on its directory as the standby. Prints each
// round and min / median / max. Run:
//   bazel run --config=bench //bench:failover_bench -- [--rounds=N]
// Everything it starts (servers, nodes) is stopped by pid at exit.
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "lib/cluster/client.h"
// Before cluster_fixture.h, whose Options() would hide slate::Options.
#include "lib/cluster/node.h"
#include "tests/cluster/cluster_fixture.h"
#include "tests/cluster/node_testing.h"
#include "tests/testing/child_process.h"
#include "tests/testing/temp_dir.h"

namespace slate::cluster {
namespace {

constexpr char kSlate[] = "tools/slate";  // in the runfiles
constexpr absl::Duration kLeaseTtl = absl::Seconds(2);

int Fail(const std::string& what) {
  std::fprintf(stderr, "failover_bench: %s\n", what.c_str());
  return 1;
}

int Run(int rounds) {
  struct stat st;
  if (stat(kSlate, &st) != 0) {
    return Fail(absl::StrCat(kSlate, " not found: run with bazel run"));
  }
  absl::StatusOr<std::unique_ptr<ClusterFixture>> started =
      ClusterFixture::Start(
          3, Options(/*partitions=*/1, /*replicas=*/3, kLeaseTtl));
  if (!started.ok()) return Fail(started.status().ToString());
  ClusterFixture& f = **started;
  const std::string urls = absl::StrJoin(f.servers->ClientUrls(), ",");
  testing::TempDir dir;

  int starts = 0;
  auto start_node = [&](const std::string& name) {
    return std::make_unique<testing::ChildProcess>(
        std::vector<std::string>{kSlate, "node", "--nats", urls, "--db",
                                 dir.Sub(name), "--name", name},
        dir.Sub(absl::StrCat(name, ".", ++starts, ".out")));
  };
  std::vector<std::string> names = {"n0", "n1"};
  std::vector<std::unique_ptr<testing::ChildProcess>> nodes;
  // A standby prints nothing it flushes until it owns a partition: give it
  // time to connect and run its first round, then check it is alive.
  auto standby_up = [&](int i) {
    absl::SleepFor(absl::Seconds(2));
    return nodes[i]->Running();
  };
  nodes.push_back(start_node(names[0]));
  if (!nodes[0]->WaitFor("owns partitions 0", absl::Seconds(30))) {
    return Fail(absl::StrCat(names[0], ": ", nodes[0]->Output()));
  }
  nodes.push_back(start_node(names[1]));
  if (!standby_up(1))
    return Fail(absl::StrCat(names[1], ": ", nodes[1]->Output()));
  auto holder = [&]() -> std::optional<int> {
    absl::StatusOr<std::optional<LeaseInfo>> lease =
        RetryWhileUnavailable([&] { return f.cluster->Lease(0); });
    if (!lease.ok() || !lease->has_value()) return std::nullopt;
    for (size_t i = 0; i < names.size(); ++i) {
      if ((*lease)->node == names[i]) return static_cast<int>(i);
    }
    return std::nullopt;
  };

  RemoteOptions ro;
  ro.request_timeout = absl::Seconds(1);
  ro.retry_for = absl::Seconds(30);
  int n = 0;
  auto next_command = [&] {
    const Command c = IncidentCommand("acme", 3 * n++);  // a new incident
    return RemoteExecute(*f.cluster, c, ro);
  };
  if (absl::StatusOr<ExecuteResult> r = next_command(); !r.ok()) {
    return Fail(absl::StrCat("first command: ", r.status().ToString()));
  }

  std::printf(
      "failover: kill -9 of the owning slate node -> first command "
      "served by the new owner (lease TTL %s, node round 1s, 3 "
      "servers, R3)\n",
      absl::FormatDuration(kLeaseTtl).c_str());
  std::vector<double> ms;
  for (int round = 1; round <= rounds; ++round) {
    const std::optional<int> owner = holder();
    if (!owner.has_value()) return Fail("nobody holds partition 0's lease");
    nodes[*owner]->Signal(SIGKILL);
    const absl::Time killed = absl::Now();
    nodes[*owner]->Wait();
    absl::StatusOr<ExecuteResult> r = next_command();
    const absl::Duration took = absl::Now() - killed;
    if (!r.ok()) {
      return Fail(absl::StrCat("round ", round, ": ", r.status().ToString()));
    }
    const std::optional<int> now = holder();
    if (!now.has_value() || *now == *owner) {
      return Fail(absl::StrCat("round ", round, ": ", names[*owner],
                               " still or nobody holds the lease"));
    }
    ms.push_back(absl::ToDoubleMilliseconds(took));
    std::printf("round %2d: killed %s, served by %s after %.0f ms\n", round,
                names[*owner].c_str(), names[*now].c_str(), ms.back());
    std::fflush(stdout);
    // The killed node comes back on its directory as the standby.
    nodes[*owner] = start_node(names[*owner]);
    if (!standby_up(*owner)) {
      return Fail(absl::StrCat(names[*owner], ": ", nodes[*owner]->Output()));
    }
  }
  std::vector<double> sorted = ms;
  std::sort(sorted.begin(), sorted.end());
  const size_t k = sorted.size();
  const double median =
      k % 2 == 1 ? sorted[k / 2] : (sorted[k / 2 - 1] + sorted[k / 2]) / 2;
  std::printf("%zu rounds: min %.0f ms, median %.0f ms, max %.0f ms\n", k,
              sorted.front(), median, sorted.back());
  for (auto& node : nodes) {
    node->Signal(SIGTERM);
    node->Wait();
  }
  return 0;
}

}  // namespace
}  // namespace slate::cluster

int main(int argc, char** argv) {
  int rounds = 10;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (!absl::ConsumePrefix(&arg, "--rounds=") ||
        !absl::SimpleAtoi(arg, &rounds) || rounds < 1) {
      std::fprintf(stderr, "usage: failover_bench [--rounds=N]\n");
      return 2;
    }
  }
  return slate::cluster::Run(rounds);
}
