// slate at-risk: the running SLA clocks whose deadline falls within a
// horizon, soonest first (Engine::AtRisk).
//
//   $ slate at-risk --db /tmp/slate --now 2026-11-30T09:00:00Z --within 8h
//   deadline              record          policy     target      pri  group
//   service  used 2026-11-30T11:00:00Z  incident/INC1   p1-office  resolution
//   1    network     email    75.0%
//
// - `--db DIR`, `--now TIME` (RFC 3339, required; the engine also runs on a
//   simulated clock at TIME, as `slate exec --now`).
// - `--within DURATION` ("8h", "90m", "2d"; required): deadline <= now +
//   within. Deadlines already past whose breach has not been fired (no
//   `slate tick` yet) are listed too.
// - `--tenant T`: tenant T's clocks (default: the default tenant's).
// - `--group G`, `--service S`, `--priority N`: filters.
// - `--top N`: at most N rows. Default: 20; 0 means all.
// - `--format table|csv|json` (default table), as `slate kpi`:
//   table: a header line and one tab-separated row per clock, "-" for no
//     group or service, used in % (one decimal);
//   csv: a header line (deadline,record,policy,target,cycle,priority,group,
//     service,used), then one row per clock; fields quoted when they hold
//     a comma, quote or newline; absent values empty; used as a fraction;
//   json: one object {"now","within","rows":[{"deadline","record","policy",
//     "target","cycle","priority","group","service","used"}]}; absent
//     group/service omitted; used as a fraction.
// - `--nats URLS [--prefix NAME]` in place of --db: ask the cluster node
//   that owns the tenant's partition (tools/remote_tool.h); the same output
//   (the node's engine keeps its own clock: --now only sets the horizon).
// Exit codes: 0 success (also with no rows); 1 the query or the database
// failed; 2 bad usage (tools/cli.h).
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "lib/api/clock.h"
#include "lib/api/engine.h"
#include "tools/cli.h"
#include "tools/remote_tool.h"
#include "tools/duration_parse.h"

namespace slate::tools {
namespace {

struct AtRiskFlags {
  std::string db;
  std::string now;
  std::string within;
  int64_t top = 20;
  std::string format = "table";
  SlaAtRiskFilter filter;
  NatsFlags nats;  // --nats: a cluster instead of --db.
};

std::string Rfc3339(int64_t us) {
  return absl::FormatTime("%Y-%m-%d%ET%H:%M:%E*SZ", absl::FromUnixMicros(us),
                          absl::UTCTimeZone());
}

std::string JsonString(const std::string& v) {
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += absl::StrFormat("\\u%04x", static_cast<unsigned char>(c));
    } else {
      out.push_back(c);
    }
  }
  return out + "\"";
}

// The rows in `format` ("table", "csv" or "json"; see the file comment).
std::string FormatRows(const std::vector<SlaClockView>& rows,
                       const std::string& format, absl::Time now,
                       const std::string& within) {
  std::string out;
  if (format == "csv") {
    out = "deadline,record,policy,target,cycle,priority,group,service,used\n";
    for (const SlaClockView& v : rows) {
      absl::StrAppend(
          &out, Rfc3339(v.state.deadline_us()), ",", CsvQuote(v.record), ",",
          CsvQuote(v.policy_id), ",", CsvQuote(v.target_type), ",", v.cycle,
          ",", v.priority, ",", CsvQuote(v.group), ",", CsvQuote(v.service),
          ",", absl::StrFormat("%.4f", v.state.percent_used() / 100), "\n");
    }
    return out;
  }
  if (format == "json") {
    std::vector<std::string> items;
    for (const SlaClockView& v : rows) {
      std::string item = absl::StrCat(
          "{\"deadline\":", JsonString(Rfc3339(v.state.deadline_us())),
          ",\"record\":", JsonString(v.record),
          ",\"policy\":", JsonString(v.policy_id),
          ",\"target\":", JsonString(v.target_type), ",\"cycle\":", v.cycle,
          ",\"priority\":", v.priority);
      if (!v.group.empty()) {
        absl::StrAppend(&item, ",\"group\":", JsonString(v.group));
      }
      if (!v.service.empty()) {
        absl::StrAppend(&item, ",\"service\":", JsonString(v.service));
      }
      absl::StrAppend(&item, ",\"used\":",
                      absl::StrFormat("%.4f", v.state.percent_used() / 100),
                      "}");
      items.push_back(std::move(item));
    }
    return absl::StrCat(
        "{\"now\":", JsonString(Rfc3339(absl::ToUnixMicros(now))),
        ",\"within\":", JsonString(within), ",\"rows\":[",
        absl::StrJoin(items, ","), "]}\n");
  }
  out =
      "deadline\trecord\tpolicy\ttarget\tcycle\tpriority\tgroup\t"
      "service\tused\n";
  for (const SlaClockView& v : rows) {
    absl::StrAppend(&out, Rfc3339(v.state.deadline_us()), "\t", v.record, "\t",
                    v.policy_id, "\t", v.target_type, "\t", v.cycle, "\t",
                    v.priority, "\t", v.group.empty() ? "-" : v.group, "\t",
                    v.service.empty() ? "-" : v.service, "\t",
                    absl::StrFormat("%.1f%%", v.state.percent_used()), "\n");
  }
  return out;
}

int RunAtRisk(const AtRiskFlags& f) {
  const std::optional<absl::Time> now = FlagInstant(f.now);  // Validated.
  if (!now.has_value()) return Usage("at-risk", "missing --now");
  const absl::Time t = *now;
  absl::StatusOr<absl::Duration> horizon = ParseBusinessDuration(
      absl::string_view(f.within.data(), f.within.size()));
  if (!horizon.ok()) {
    return Usage("at-risk",
                 absl::StrCat("--within: ", horizon.status().message()));
  }
  int code = kExitOk;
  if (std::optional<int> remote =
          RunOnClusterIfAsked("at-risk", f.db, f.nats, f.filter.tenant,
                              ClusterRoute::kTenant)) {
    return *remote;
  }
  OpenedEngine db = OpenEngine("at-risk", Options(), f.db, t, &code);
  if (db.engine == nullptr) return code;
  auto rows =
      db.engine->AtRisk(t, *horizon, f.filter, static_cast<size_t>(f.top));
  if (!rows.ok()) return Fail("at-risk", rows.status().ToString());
  const std::string text = FormatRows(*rows, f.format, t, f.within);
  std::fputs(text.c_str(), ToolOut());
  return kExitOk;
}

}  // namespace

CommandRun SetUpAtRiskCommand(CLI::App* app) {
  auto f = std::make_shared<AtRiskFlags>();
  AddDbOrNatsFlags(app, &f->db, &f->nats);
  app->add_option("--now", f->now, "the instant to look from (RFC 3339)")
      ->required()
      ->type_name("TIME")
      ->check(Rfc3339Instant());
  app->add_option("--within", f->within,
                  "the horizon: deadlines at or before now + DURATION")
      ->required()
      ->type_name("DURATION")
      ->check(BusinessDuration());
  AddTenantFlag(app, &f->filter.tenant);
  app->add_option("--group", f->filter.group,
                  "only this assignment group (default: all)")
      ->type_name("G");
  app->add_option("--service", f->filter.service,
                  "only this service (default: all)")
      ->type_name("S");
  app->add_option("--priority", f->filter.priority,
                  "only this priority; 0 means all")
      ->type_name("N")
      ->check(NonNegativeInteger())
      ->capture_default_str();
  AddTopFlag(app, &f->top, "rows");
  AddFormatFlag(app, &f->format);
  return [f] { return RunAtRisk(*f); };
}

}  // namespace slate::tools
