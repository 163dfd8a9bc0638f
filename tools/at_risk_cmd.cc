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
// - `--group G`, `--service S`, `--priority N`: filters.
// - `--top N`: at most N rows. Default: 20; 0 means all.
// Output: a header line and one tab-separated row per clock.
// Exit codes: 0 success (also with no rows); 1 the query or the database
// failed; 2 bad usage (tools/cli.h).
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "lib/api/clock.h"
#include "lib/api/engine.h"
#include "tools/cli.h"
#include "tools/duration_parse.h"

namespace slate::tools {
namespace {

struct AtRiskFlags {
  std::string db;
  std::string now;
  std::string within;
  int64_t top = 20;
  SlaAtRiskFilter filter;
};

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
  OpenedEngine db = OpenEngine("at-risk", Options(), f.db, t, &code);
  if (db.engine == nullptr) return code;
  auto rows =
      db.engine->AtRisk(t, *horizon, f.filter, static_cast<size_t>(f.top));
  if (!rows.ok()) return Fail("at-risk", rows.status().ToString());
  std::printf(
      "deadline\trecord\tpolicy\ttarget\tcycle\tpriority\tgroup\t"
      "service\tused\n");
  for (const SlaClockView& v : *rows) {
    std::printf("%s\t%s\t%s\t%s\t%lld\t%d\t%s\t%s\t%.1f%%\n",
                absl::FormatTime("%Y-%m-%d%ET%H:%M:%E*SZ",
                                 absl::FromUnixMicros(v.state.deadline_us()),
                                 absl::UTCTimeZone())
                    .c_str(),
                v.record.c_str(), v.policy_id.c_str(), v.target_type.c_str(),
                static_cast<long long>(v.cycle), v.priority,
                v.group.empty() ? "-" : v.group.c_str(),
                v.service.empty() ? "-" : v.service.c_str(),
                v.state.percent_used());
  }
  return kExitOk;
}

}  // namespace

CommandRun SetUpAtRiskCommand(CLI::App* app) {
  auto f = std::make_shared<AtRiskFlags>();
  AddDbFlag(app, &f->db);
  app->add_option("--now", f->now, "the instant to look from (RFC 3339)")
      ->required()
      ->type_name("TIME")
      ->check(Rfc3339Instant());
  app->add_option("--within", f->within,
                  "the horizon: deadlines at or before now + DURATION")
      ->required()
      ->type_name("DURATION")
      ->check(BusinessDuration());
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
  app->add_option("--top", f->top, "at most N rows; 0 means all")
      ->type_name("N")
      ->check(NonNegativeInteger())
      ->capture_default_str();
  return [f] { return RunAtRisk(*f); };
}

}  // namespace slate::tools
