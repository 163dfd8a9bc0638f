// slate tick: advances SLA time to --now and prints the warnings and
// breaches it appended, one per line (Engine::AdvanceTo).
//
//   $ slate tick --db /tmp/slate --now 2026-11-23T12:00:00Z
//   2026-11-23T10:00:00Z  resolution 50% warning on incident/INC1 (policy
//     p1, cycle 1), due Mon 2026-11-23 11:00 CET: 2h of 4h business time
//   2026-11-23T12:00:00Z  resolution breached on incident/INC1 (policy p1,
//     cycle 1) at Mon 2026-11-23 13:00 CET: the 4h of business time used up
// (one line each: the instant in UTC, then the event in people's units,
// times in the policy calendar's zone; Engine::DescribeEvent).
//
// - `--db DIR` the database (created if missing).
// - `--now TIME` (RFC 3339, required): every threshold due at or before TIME
//   fires, at its exact instant. The engine also runs on a simulated clock at
//   TIME (as `slate exec --now`), so future-dated data can be advanced.
// - `--watermark` instead of --now: replay mode, advance to the latest event
//   time in the log (the engine clock is then the wall clock, or --now).
// - `--tenant T`: print only tenant T's warnings and breaches. Every
//   tenant's thresholds fire either way (the advance is global). Default:
//   every tenant's are printed.
// Running it again with the same or an earlier --now prints nothing: the
// events are in the log already (ids derived from clock, cycle, threshold).
// - `--nats URLS [--prefix NAME]` in place of --db: every partition of the
//   cluster advances (its owner runs the tick; tools/remote_tool.h), and
//   the events of all are printed in time order. The nodes keep their own
//   (wall) clocks: a --now further ahead of them than max_clock_skew is
//   refused (Engine::AdvanceTo), where a database would run at --now. Nodes started with `--timer-interval 0s` fire nothing
//   on their own, so this drives SLA time as on a database.
// Exit codes: 0 success; 1 the advance or the database failed; 2 bad usage
// (tools/cli.h).
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "lib/api/clock.h"
#include "lib/api/engine.h"
#include "lib/api/tenant.h"
#include "tools/cli.h"
#include "tools/remote_tool.h"

namespace slate::tools {
namespace {

struct TickFlags {
  std::string db;
  std::string now;
  bool watermark = false;
  std::string tenant;  // Empty: print every tenant's events.
  NatsFlags nats;      // --nats: a cluster instead of --db.
};

std::string Rfc3339(int64_t us) {
  return absl::FormatTime("%Y-%m-%d%ET%H:%M:%E*SZ", absl::FromUnixMicros(us),
                          absl::UTCTimeZone());
}

int RunTick(const TickFlags& f) {
  if (f.now.empty() && !f.watermark) {
    return Usage("tick", "missing --now (or --watermark)");
  }
  const std::optional<absl::Time> now = FlagInstant(f.now);  // Validated.
  int code = kExitOk;
  if (std::optional<int> remote = RunOnClusterIfAsked(
          "tick", f.db, f.nats, f.tenant, ClusterRoute::kEveryMerged)) {
    return *remote;
  }
  OpenedEngine db = OpenEngine("tick", Options(), f.db, now, &code);
  if (db.engine == nullptr) return code;
  absl::StatusOr<std::vector<Envelope>> events =
      f.watermark ? db.engine->AdvanceToWatermark()
                  : db.engine->AdvanceTo(*now);
  if (!events.ok()) return Fail("tick", events.status().ToString());
  for (const Envelope& e : *events) {
    if (!f.tenant.empty() && !StreamInTenant(e.stream(), f.tenant)) continue;
    absl::StatusOr<std::string> line = db.engine->DescribeEvent(e);
    if (!line.ok()) return Fail("tick", line.status().ToString());
    std::fprintf(ToolOut(), "%s  %s\n", Rfc3339(e.occurred_at_us()).c_str(),
                line->c_str());
  }
  return kExitOk;
}

}  // namespace

CommandRun SetUpTickCommand(CLI::App* app) {
  auto f = std::make_shared<TickFlags>();
  AddDbOrNatsFlags(app, &f->db, &f->nats);
  app->add_option("--now", f->now,
                  "fire every threshold due at or before TIME (RFC 3339)")
      ->type_name("TIME")
      ->check(Rfc3339Instant());
  app->add_flag("--watermark", f->watermark,
                "advance to the latest event time in the log instead");
  app->add_option("--tenant", f->tenant,
                  "print only tenant T's warnings and breaches (every "
                  "tenant's thresholds fire; default: print all)")
      ->type_name("T")
      ->check(TenantId());
  return [f] { return RunTick(*f); };
}

}  // namespace slate::tools
