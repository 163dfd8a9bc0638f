// slate at-risk: the running SLA clocks whose deadline falls within a
// horizon, soonest first (Engine::AtRisk).
//
//   $ slate at-risk --db /tmp/slate --now 2026-11-30T09:00:00Z --within 8h
//   deadline              record          policy     target      pri  group       service  used
//   2026-11-30T11:00:00Z  incident/INC1   p1-office  resolution  1    network     email    75.0%
//
// - `--db DIR`, `--now TIME` (RFC 3339, required; the engine also runs on a
//   simulated clock at TIME, as `slate exec --now`).
// - `--within DURATION` ("8h", "90m", "2d"; required): deadline <= now +
//   within. Deadlines already past whose breach has not been fired (no
//   `slate tick` yet) are listed too.
// - `--group G`, `--service S`, `--priority N`: filters.
// - `--top N`: at most N rows. Default: 20; 0 means all.
// Output: a header line and one tab-separated row per clock.
// Exit codes: 0 success (also with no rows); 1 the query failed; 2 bad
// usage or database.
#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "lib/api/clock.h"
#include "lib/api/engine.h"
#include "lib/projection/sla_projection.h"
#include "tools/duration_parse.h"

namespace slate::tools {
namespace {

constexpr char kUsage[] =
    "usage: slate at-risk --db DIR --now RFC3339 --within DURATION "
    "[--group G] [--service S] [--priority N] [--top N]\n";

}  // namespace

int RunAtRiskCommand(int argc, char** argv) {
  std::string db, now, within, top = "20", priority = "0";
  SlaAtRiskFilter filter;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto flag = [&](const char* name, std::string* out) {
      if (a == name && i + 1 < argc) {
        *out = argv[++i];
        return true;
      }
      std::string eq = absl::StrCat(name, "=");
      if (absl::StartsWith(a, eq)) {
        *out = a.substr(eq.size());
        return true;
      }
      return false;
    };
    if (a == "--help" || a == "-h") {
      std::printf("%s", kUsage);
      return 0;
    }
    if (flag("--db", &db) || flag("--now", &now) ||
        flag("--within", &within) || flag("--group", &filter.group) ||
        flag("--service", &filter.service) || flag("--top", &top) ||
        flag("--priority", &priority)) {
      continue;
    }
    std::fprintf(stderr, "slate at-risk: unexpected argument %s\n%s",
                 a.c_str(), kUsage);
    return 2;
  }
  if (db.empty() || now.empty() || within.empty()) {
    std::fprintf(stderr, "slate at-risk: --db, --now and --within are "
                         "required\n%s", kUsage);
    return 2;
  }
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, now, &t, &err)) {
    std::fprintf(stderr, "slate at-risk: --now \"%s\" is not RFC 3339: %s\n",
                 now.c_str(), err.c_str());
    return 2;
  }
  absl::StatusOr<absl::Duration> horizon = ParseBusinessDuration(within);
  if (!horizon.ok()) {
    std::fprintf(stderr, "slate at-risk: --within: %s\n",
                 std::string(horizon.status().message()).c_str());
    return 2;
  }
  int64_t top_n = 0;
  if (!absl::SimpleAtoi(top, &top_n) || top_n < 0) {
    std::fprintf(stderr, "slate at-risk: --top must be >= 0, got \"%s\"\n",
                 top.c_str());
    return 2;
  }
  if (!absl::SimpleAtoi(priority, &filter.priority) || filter.priority < 0) {
    std::fprintf(stderr, "slate at-risk: --priority must be >= 0, got \"%s\"\n",
                 priority.c_str());
    return 2;
  }
  SimulatedClock clock(t);
  Options options;
  options.clock = &clock;
  auto engine = Engine::Open(options, db);
  if (!engine.ok()) {
    std::fprintf(stderr, "slate at-risk: %s\n",
                 std::string(engine.status().ToString()).c_str());
    return 2;
  }
  auto rows = (*engine)->AtRisk(t, *horizon, filter,
                                static_cast<size_t>(top_n));
  if (!rows.ok()) {
    std::fprintf(stderr, "slate at-risk: %s\n",
                 std::string(rows.status().ToString()).c_str());
    return 1;
  }
  std::printf("deadline\trecord\tpolicy\ttarget\tcycle\tpriority\tgroup\t"
              "service\tused\n");
  for (const SlaClockView& v : *rows) {
    std::printf(
        "%s\t%s\t%s\t%s\t%lld\t%d\t%s\t%s\t%.1f%%\n",
        absl::FormatTime("%Y-%m-%d%ET%H:%M:%E*SZ",
                         absl::FromUnixMicros(v.state.deadline_us()),
                         absl::UTCTimeZone())
            .c_str(),
        v.record.c_str(), v.policy_id.c_str(), v.target_type.c_str(),
        static_cast<long long>(v.cycle), v.priority,
        v.group.empty() ? "-" : v.group.c_str(),
        v.service.empty() ? "-" : v.service.c_str(), v.state.percent_used());
  }
  return 0;
}

}  // namespace slate::tools
