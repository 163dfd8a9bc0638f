#include "tools/remote_tool.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "lib/api/tenant.h"
#include "lib/cluster/client.h"
#include "lib/cluster/partition.pb.h"
#include "tools/commands.h"

namespace slate::tools {
namespace {

// ToolRequest.command of a KPI export (args: the zone's name).
constexpr absl::string_view kKpiExport = "kpi-export";

// The commands a node runs for a client.
bool RunsOnNode(absl::string_view command) {
  static const auto* names = new std::set<std::string, std::less<>>{
      "show", "at-risk", "explain", "tick", "verify"};
  return names->count(command) != 0;
}

// Reads and retries generously: a verify of a big partition takes a while,
// and a read or an advance is safe to repeat.
cluster::RemoteOptions ToolRemoteOptions() {
  cluster::RemoteOptions o;
  o.request_timeout = absl::Seconds(120);
  o.retry_for = absl::Seconds(30);
  return o;
}

// The command line's arguments without --nats and --prefix, with the
// database the node substitutes.
std::vector<std::string> ArgsForNode() {
  std::vector<std::string> out;
  const std::vector<std::string>& args = CommandArgs();
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--nats" || a == "--prefix") {
      ++i;  // And its value.
      continue;
    }
    if (a.rfind("--nats=", 0) == 0 || a.rfind("--prefix=", 0) == 0) continue;
    out.push_back(a);
  }
  out.push_back("--db");
  out.push_back("(cluster)");
  return out;
}

// The reply of partition `p`'s owner to `request`, or a failure line.
absl::StatusOr<cluster::ToolReply> Ask(cluster::Cluster& c, int p,
                                       const cluster::ToolRequest& request) {
  absl::StatusOr<std::string> answer = cluster::RemoteQuery(
      c, p, request.SerializeAsString(), ToolRemoteOptions());
  if (!answer.ok()) return answer.status();
  cluster::ToolReply reply;
  if (!reply.ParseFromString(*answer)) {
    return absl::DataLossError(
        absl::StrCat("partition ", p, ": the reply does not decode"));
  }
  return reply;
}

}  // namespace

void AddDbOrNatsFlags(CLI::App* app, std::string* db, NatsFlags* nats) {
  AddDbFlag(app, db)->required(false)->description(
      "the database directory (or --nats)");
  AddNatsFlags(app, nats, /*required=*/false)
      ->description(
          "NATS server URLs of a cluster, comma-separated, in place of --db");
}

std::optional<int> CheckDbOrNats(absl::string_view command,
                                 const std::string& db, const NatsFlags& nats) {
  if (nats.nats.empty() == db.empty()) {
    return Usage(command, "give either --db DIR or --nats URLS");
  }
  return std::nullopt;
}

std::optional<int> RunOnClusterIfAsked(absl::string_view command,
                                       const std::string& db,
                                       const NatsFlags& nats,
                                       absl::string_view tenant,
                                       ClusterRoute route,
                                       const PartitionCheck& check) {
  if (std::optional<int> bad = CheckDbOrNats(command, db, nats)) return bad;
  if (nats.nats.empty()) return std::nullopt;
  absl::StatusOr<NatsConnection> c = ConnectCluster(
      nats, absl::StrCat("slate ", command), /*reconnect_forever=*/false);
  if (!c.ok()) return Fail(command, c.status().ToString());
  cluster::Cluster& cl = *c->cluster;
  std::vector<int> partitions;
  if (route == ClusterRoute::kTenant) {
    absl::StatusOr<int> p = cl.PartitionOf(TenantOrDefault(tenant));
    if (!p.ok()) return Fail(command, p.status().ToString());
    partitions.push_back(*p);
  } else {
    for (int p = 0; p < cl.partitions(); ++p) partitions.push_back(p);
  }
  cluster::ToolRequest request;
  request.set_command(std::string(command));
  for (std::string& a : ArgsForNode()) request.add_args(std::move(a));
  int code = kExitOk;
  std::vector<std::string> lines;  // kEveryMerged.
  for (int p : partitions) {
    if (route == ClusterRoute::kEvery) {
      std::fprintf(ToolOut(), "partition %d:\n", p);
    }
    if (check) code = std::max(code, check(cl, p));
    absl::StatusOr<cluster::ToolReply> reply = Ask(cl, p, request);
    if (!reply.ok()) {
      code = std::max(code, Fail(command, reply.status().ToString()));
      continue;
    }
    if (route == ClusterRoute::kEveryMerged) {
      for (absl::string_view line :
           absl::StrSplit(reply->out(), '\n', absl::SkipEmpty())) {
        lines.emplace_back(line);
      }
    } else {
      std::fwrite(reply->out().data(), 1, reply->out().size(), ToolOut());
    }
    std::fwrite(reply->err().data(), 1, reply->err().size(), ToolErr());
    code = std::max(code, static_cast<int>(reply->exit_code()));
  }
  std::stable_sort(lines.begin(), lines.end(),
                   [](const std::string& a, const std::string& b) {
                     return a.substr(0, a.find(' ')) <
                            b.substr(0, b.find(' '));
                   });
  for (const std::string& line : lines) {
    std::fprintf(ToolOut(), "%s\n", line.c_str());
  }
  return code;
}

absl::StatusOr<std::vector<std::string>> GatherKpiExports(
    cluster::Cluster& cluster, const absl::TimeZone& zone) {
  cluster::ToolRequest request;
  request.set_command(std::string(kKpiExport));
  request.add_args(zone.name());
  std::vector<std::string> exports;
  for (int p = 0; p < cluster.partitions(); ++p) {
    absl::StatusOr<std::string> e = cluster::RemoteQuery(
        cluster, p, request.SerializeAsString(), ToolRemoteOptions());
    if (!e.ok()) return e.status();
    exports.push_back(*std::move(e));
  }
  return exports;
}

absl::StatusOr<std::string> AnswerToolRequest(Engine& engine, int partition,
                                              absl::string_view request) {
  cluster::ToolRequest req;
  if (!req.ParseFromArray(request.data(), static_cast<int>(request.size()))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "partition ", partition, ": the tool request does not decode"));
  }
  if (req.command() == kKpiExport) {
    absl::TimeZone zone;
    if (req.args_size() != 1 || !absl::LoadTimeZone(req.args(0), &zone)) {
      return absl::InvalidArgumentError(
          "kpi-export: one argument, a time zone name, expected");
    }
    return engine.ExportKpis(zone);
  }
  const CommandSpec* spec = nullptr;
  for (const CommandSpec& c : AllCommands()) {
    if (c.name == req.command()) spec = &c;
  }
  if (spec == nullptr || !RunsOnNode(req.command())) {
    return absl::InvalidArgumentError(
        absl::StrCat("slate ", req.command(), " does not run on a node"));
  }
  CLI::App root("slate");
  CLI::App* sub = root.add_subcommand(spec->name, spec->summary);
  CommandRun run = spec->set_up(sub);
  // CLI11 takes the arguments last first.
  std::vector<std::string> args(req.args().rbegin(), req.args().rend());
  args.push_back(spec->name);
  cluster::ToolReply reply;
  ToolOutputCapture capture;
  int code = kExitOk;
  try {
    root.parse(args);
    BorrowedEngineScope borrow(&engine);
    code = run();
  } catch (const CLI::ParseError& e) {
    std::fprintf(ToolErr(), "%s\n", UsageErrorLine(root, e).c_str());
    code = kExitUsage;
  }
  reply.set_exit_code(code);
  reply.set_out(capture.out());
  reply.set_err(capture.err());
  return reply.SerializeAsString();
}

}  // namespace slate::tools
