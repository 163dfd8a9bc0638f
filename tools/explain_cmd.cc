// slate explain: why each SLA clock of a record stands where it does
// (Engine::ExplainClocks).
//
//   $ slate explain --db /tmp/slate incident INC1 --metric resolution
//   incident/INC1  policy p2-office  resolution  cycle 1  calendar ...
//     running; target 8h; business time used 2h (25.0%); paused 0s ...
//     deadline Tue 2026-12-01 11:00 CET: target 8h - used 2h = 6h more ...
//     timeline:
//       #3      Mon 2026-11-30 09:00 CET  incident_opened   started ...
//     business time (2h in 1 windows):
//       Mon 2026-11-30 09:00 CET - Mon 2026-11-30 11:00 CET  2h
//     thresholds:
//       50% warning at 4h of business time: due Mon 2026-11-30 13:00 CET
//
// - KIND: incident, change or request; ID: the record's id.
// - `--tenant T`: the record of tenant T (default: the default tenant's).
// - `--policy P`, `--metric response|resolution|update`, `--cycle N`:
//   only those clocks (default: all of the record's clocks).
// - `--format text|json`: text for people (times in each calendar's zone;
//   default), or one JSON object per clock and line.
// - `--nats URLS [--prefix NAME]` in place of --db: ask the cluster node
//   that owns the tenant's partition (tools/remote_tool.h); the same output.
// Exit codes: 0 success (also when the record has no clocks); 1 no such
// record or the database failed; 2 bad usage (tools/cli.h).
#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "lib/api/engine.h"
#include "tools/cli.h"
#include "tools/remote_tool.h"

namespace slate::tools {
namespace {

struct ExplainFlags {
  std::string db;
  std::string kind;
  std::string id;
  std::string format = "text";
  std::string tenant;
  SlaExplainFilter filter;
  NatsFlags nats;  // --nats: a cluster instead of --db.
};

int RunExplain(const ExplainFlags& f) {
  Options options;
  options.create_if_missing = false;
  int code = kExitOk;
  if (std::optional<int> remote = RunOnClusterIfAsked(
          "explain", f.db, f.nats, f.tenant, ClusterRoute::kTenant)) {
    return *remote;
  }
  OpenedEngine db = OpenEngine("explain", options, f.db, std::nullopt, &code);
  if (db.engine == nullptr) return code;
  auto ex = db.engine->ExplainClocks(absl::StrCat(f.kind, "/", f.id), f.filter,
                                     f.tenant);
  if (!ex.ok()) return Fail("explain", ex.status().ToString());
  const std::string out = FormatSlaExplanations(*ex, f.format == "json");
  std::fwrite(out.data(), 1, out.size(), ToolOut());
  if (ex->empty() && f.format == "text") {
    std::fprintf(ToolOut(), "%s/%s has no SLA clocks%s\n", f.kind.c_str(), f.id.c_str(),
                f.filter.policy_id.empty() && f.filter.target_type.empty() &&
                        f.filter.cycle == 0
                    ? ""
                    : " matching the filters");
  }
  return kExitOk;
}

}  // namespace

CommandRun SetUpExplainCommand(CLI::App* app) {
  auto f = std::make_shared<ExplainFlags>();
  AddDbOrNatsFlags(app, &f->db, &f->nats);
  app->add_option("KIND", f->kind, "the record's kind")
      ->required()
      ->check(OneOf({"incident", "change", "request"}));
  app->add_option("ID", f->id, "the record's id")->required();
  AddTenantFlag(app, &f->tenant);
  app->add_option("--policy", f->filter.policy_id,
                  "only this policy's clocks (default: all)")
      ->type_name("P");
  app->add_option("--metric", f->filter.target_type,
                  "only this metric (default: all)")
      ->type_name("M")
      ->check(OneOf({"response", "resolution", "update"}));
  app->add_option("--cycle", f->filter.cycle,
                  "only this cycle (1..); 0 means all")
      ->type_name("N")
      ->check(NonNegativeInteger())
      ->capture_default_str();
  app->add_option("--format", f->format, "text or json")
      ->type_name("FORMAT")
      ->check(OneOf({"text", "json"}))
      ->capture_default_str();
  return [f] { return RunExplain(*f); };
}

}  // namespace slate::tools
