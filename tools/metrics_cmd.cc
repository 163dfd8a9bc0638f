// slate metrics: prints a database's metrics in the OpenMetrics text format
// (Engine::WriteMetrics), e.g. for a node exporter's textfile collector.
//
//   $ slate metrics --db /tmp/slate --now 2026-11-27T18:00:00Z
//   # TYPE slate_build info
//   # HELP slate_build The Slate library: its version and the log format ...
//   slate_build_info{version="0.1.0",log_format="1"} 1
//   ...
//   slate_sla_breached_open_clocks{policy="p1-office"} 1
//   # EOF
//
// - `--db DIR`: the database (never created: no database there is a usage
//   error).
// - `--now TIME` (RFC 3339): the engine clock's now, which the at-risk
//   gauge counts from (the engine then runs on a simulated clock at TIME,
//   as `slate at-risk --now`). Default: the system clock.
// - `--within DURATION` ("1h", "90m", "2d"): the at-risk horizon
//   (Options::metrics_at_risk_within). Default: 1h.
// The counters and histograms count what this process did since it opened
// the database, which is nothing: they are 0 here, and meaningful in a
// process that embeds the engine. The gauges are the database's state.
// Exit codes: 0 success; 1 the database or a projection read failed; 2 bad
// usage (tools/cli.h).
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "lib/api/engine.h"
#include "tools/cli.h"
#include "tools/duration_parse.h"

namespace slate::tools {
namespace {

struct MetricsFlags {
  std::string db;
  std::string now;
  std::string within = "1h";
};

int RunMetrics(const MetricsFlags& f) {
  absl::StatusOr<absl::Duration> within = ParseBusinessDuration(
      absl::string_view(f.within.data(), f.within.size()));
  if (!within.ok()) {
    return Usage("metrics",
                 absl::StrCat("--within: ", within.status().message()));
  }
  Options options;
  options.create_if_missing = false;
  options.metrics_at_risk_within = *within;
  int code = kExitOk;
  OpenedEngine db =
      OpenEngine("metrics", options, f.db, FlagInstant(f.now), &code);
  if (db.engine == nullptr) return code;
  std::string text;
  absl::Status st = db.engine->WriteMetrics(&text);
  if (!st.ok()) return Fail("metrics", st.ToString());
  std::fwrite(text.data(), 1, text.size(), stdout);
  return kExitOk;
}

}  // namespace

CommandRun SetUpMetricsCommand(CLI::App* app) {
  auto f = std::make_shared<MetricsFlags>();
  AddDbFlag(app, &f->db);
  app->add_option("--now", f->now,
                  "the engine clock's now, for the at-risk gauge (RFC 3339; "
                  "default: the system clock)")
      ->type_name("TIME")
      ->check(Rfc3339Instant());
  app->add_option("--within", f->within,
                  "the at-risk horizon: deadlines at or before now + DURATION")
      ->type_name("DURATION")
      ->check(BusinessDuration())
      ->capture_default_str();
  return [f] { return RunMetrics(*f); };
}

}  // namespace slate::tools
