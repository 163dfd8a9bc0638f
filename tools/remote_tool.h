// The `slate` tool's read commands on a cluster (issue 19): `slate show`,
// `at-risk`, `explain`, `tick`, `verify` and `kpi` take
// `--nats URLS [--prefix NAME]` in place of `--db DIR`.
//
// The command line goes, as given (--nats and --prefix left out), to the
// node that owns the partition of the command's tenant (`--tenant`, else
// the default tenant); that node runs the same command on the partition's
// engine (its `slate node` answers with AnswerToolRequest) and sends back
// what it printed and its exit code, which the client prints and returns.
// So a command behaves on a cluster as it does on a database. `tick` and
// `verify` run on every partition (SLA time advances everywhere; every
// partition is checked); `verify` also reads every partition's stream and
// checks it is dense and decodes. `kpi` gathers the partitions' KPI
// exports (all of them with --all-tenants) and merges them
// (lib/api/kpi_merge.h).
//
//   // tools/show_cmd.cc
//   AddDbOrNatsFlags(app, &f->db, &f->nats);
//   ...
//   if (std::optional<int> remote = RunOnClusterIfAsked(
//           "show", f->db, f->nats, f->tenant, ClusterRoute::kTenant)) {
//     return *remote;
//   }
#ifndef SLATE_TOOLS_REMOTE_TOOL_H_
#define SLATE_TOOLS_REMOTE_TOOL_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "lib/api/engine.h"
#include "lib/cluster/cluster.h"
#include "tools/cli.h"
#include "tools/nats_flags.h"

namespace slate::tools {

// Adds `--db DIR` and `--nats URLS [--prefix NAME]`, one of which must be
// given (RunOnClusterIfAsked checks).
void AddDbOrNatsFlags(CLI::App* app, std::string* db, NatsFlags* nats);

enum class ClusterRoute {
  kTenant,  // The partition of the tenant ("" = the default tenant).
  kEvery,   // Every partition; each output under a "partition N" line.
  kEveryMerged,  // Every partition; the output lines sorted (stable), as
                 // `tick` prints events in time order.
};

// Run before a partition's command when routing to every partition (its
// output goes first); returns an exit code. `verify` checks the stream.
using PartitionCheck = std::function<int(cluster::Cluster&, int partition)>;

// Exit 2 (usage) when both or neither of --db and --nats are given, else
// nullopt.
std::optional<int> CheckDbOrNats(absl::string_view command,
                                 const std::string& db, const NatsFlags& nats);

// nullopt when `db` is given (run locally); else runs the command on the
// cluster as described above and returns its exit code. Exit 2 when both
// or neither of --db and --nats are given.
std::optional<int> RunOnClusterIfAsked(absl::string_view command,
                                       const std::string& db,
                                       const NatsFlags& nats,
                                       absl::string_view tenant,
                                       ClusterRoute route,
                                       const PartitionCheck& check = nullptr);

// The KPI exports (Engine::ExportKpis in `zone`) of every partition: merged,
// they answer any tenant's query, or all tenants', as one database would.
absl::StatusOr<std::vector<std::string>> GatherKpiExports(
    cluster::Cluster& cluster, const absl::TimeZone& zone);

// A node's answer to a ToolRequest (lib/cluster/partition.proto) on the
// engine of one of its partitions: the read command run with its output
// captured (a ToolReply), or a KPI export. kInvalidArgument for a request
// that does not decode or names a command that cannot run on a node.
absl::StatusOr<std::string> AnswerToolRequest(Engine& engine, int partition,
                                              absl::string_view request);

}  // namespace slate::tools

#endif  // SLATE_TOOLS_REMOTE_TOOL_H_
