// slate node: runs a cluster node (lib/cluster/node.h) until SIGTERM or
// SIGINT: it takes free partitions' leases, keeps each partition's engine in
// DIR/p<N> (caught up from the partition), answers the commands sent to its
// partitions (slate exec --nats), fires their SLA timers, and on the signal
// releases its leases so the other nodes take over at once.
//
//   $ slate node --nats nats://127.0.0.1:4222,nats://127.0.0.1:4223
//       --db /var/lib/slate/node-a --name node-a
//   node node-a: owns partitions 0 1 2 3 (+0 +1 +2 +3)
//   node node-a: owns partitions 0 1 (-2 -3)
//   node node-a: stopping, releasing partitions 0 1
//
// - `--name` defaults to HOST-PID; it must be unique in the cluster.
// - `--max-partitions N` caps the partitions it takes (default 0: every free
//   one; give each of K nodes about partitions/K to spread the work).
// - `--timer-interval D` how often each partition's SLA timers fire
//   (Options::sla_timer_interval). Default: 1s; 0s: never on their own
//   (`slate tick --nats` then advances SLA time).
// - It answers the read commands sent with --nats (`slate show`, `at-risk`,
//   `explain`, `tick`, `verify`, `kpi`; tools/remote_tool.h) for the
//   partitions it owns.
// Exit codes (tools/cli.h): 0 stopped by a signal; 2 bad usage or no
// cluster with this prefix; 1 anything else.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "lib/cluster/node.h"
#include "tools/cli.h"
#include "tools/nats_flags.h"
#include "tools/remote_tool.h"

namespace slate::tools {
namespace {

struct NodeFlags {
  NatsFlags nats;
  std::string db;
  std::string name;
  int max_partitions = 0;
  std::string timer_interval = "1s";
};

std::string Changes(const std::vector<int>& before,
                    const std::vector<int>& after) {
  std::vector<std::string> out;
  for (int p : after) {
    if (std::find(before.begin(), before.end(), p) == before.end()) {
      out.push_back(absl::StrCat("+", p));
    }
  }
  for (int p : before) {
    if (std::find(after.begin(), after.end(), p) == after.end()) {
      out.push_back(absl::StrCat("-", p));
    }
  }
  return absl::StrJoin(out, " ");
}

int RunNode(const NodeFlags& f) {
  absl::Duration interval;
  if (!absl::ParseDuration(f.timer_interval, &interval) ||
      interval < absl::ZeroDuration()) {
    return Usage("node", absl::StrCat("--timer-interval: not a duration: ",
                                      f.timer_interval));
  }
  std::string name = f.name;
  if (name.empty()) {
    char host[256] = {};
    gethostname(host, sizeof(host) - 1);
    name = absl::StrCat(host, "-", getpid());
  }
  // The signals wait for sigtimedwait here; every thread started from now
  // on inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  absl::StatusOr<NatsConnection> c =
      ConnectCluster(f.nats, absl::StrCat("slate node ", name),
                     /*reconnect_forever=*/true);
  if (!c.ok()) {
    return Fail("node", c.status().ToString(),
                absl::IsNotFound(c.status()) ? kExitUsage : kExitFailed);
  }
  cluster::NodeOptions o;
  o.name = name;
  o.dir = f.db;
  o.max_partitions = f.max_partitions;
  // Answers the read commands of `slate show|at-risk|explain|tick|verify|
  // kpi --nats` on the partitions it owns.
  o.query_handler = AnswerToolRequest;
  o.engine.sla_timer_interval = interval;
  absl::StatusOr<std::unique_ptr<cluster::Node>> node =
      cluster::Node::Start(*c->cluster, o);
  if (!node.ok()) return Fail("node", node.status().ToString());
  std::vector<int> owned;
  auto report = [&] {
    std::vector<int> now = (*node)->Owned();
    if (now == owned) return;
    std::printf("node %s: owns partitions %s (%s)\n", name.c_str(),
                now.empty() ? "none" : absl::StrJoin(now, " ").c_str(),
                Changes(owned, now).c_str());
    std::fflush(stdout);
    owned = std::move(now);
  };
  std::printf("node %s: started on cluster %s (%d partitions)\n",
              name.c_str(), f.nats.prefix.c_str(),
              c->cluster->partitions());
  report();
  while (true) {
    timespec wait{0, 200 * 1000 * 1000};
    const int sig = sigtimedwait(&signals, nullptr, &wait);
    if (sig == SIGTERM || sig == SIGINT) break;
    report();
  }
  std::printf("node %s: stopping, releasing partitions %s\n", name.c_str(),
              owned.empty() ? "none" : absl::StrJoin(owned, " ").c_str());
  std::fflush(stdout);
  node->reset();  // Releases the leases.
  return kExitOk;
}

}  // namespace

CommandRun SetUpNodeCommand(CLI::App* app) {
  auto f = std::make_shared<NodeFlags>();
  AddNatsFlags(app, &f->nats, /*required=*/true);
  app->add_option("--db", f->db,
                  "the node's directory (one engine per partition in it)")
      ->required()
      ->type_name("DIR");
  app->add_option("--name", f->name,
                  "the node's name, unique in the cluster (default: HOST-PID)")
      ->type_name("NAME");
  app->add_option("--max-partitions", f->max_partitions,
                  "most partitions to take (default: 0, every free one)")
      ->type_name("N")
      ->check(CLI::NonNegativeNumber);
  app->add_option("--timer-interval", f->timer_interval,
                  "how often SLA timers fire on each partition")
      ->type_name("DURATION")
      ->capture_default_str();
  return [f] { return RunNode(*f); };
}

}  // namespace slate::tools
