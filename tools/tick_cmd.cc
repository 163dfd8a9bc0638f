// slate tick: advances SLA time to --now and prints the warnings and
// breaches it appended, one per line (Engine::AdvanceTo).
//
//   $ slate tick --db /tmp/slate --now 2026-11-30T12:00:00Z
//   2026-11-27T17:00:00Z warning 50% incident/INC1 policy=p1-office resolution
//   cycle=1 2026-11-30T11:00:00Z breached incident/INC1 policy=p1-office
//   resolution cycle=1
//
// - `--db DIR` the database (created if missing).
// - `--now TIME` (RFC 3339, required): every threshold due at or before TIME
//   fires, at its exact instant. The engine also runs on a simulated clock at
//   TIME (as `slate exec --now`), so future-dated data can be advanced.
// - `--watermark` instead of --now: replay mode, advance to the latest event
//   time in the log (the engine clock is then the wall clock, or --now).
// Running it again with the same or an earlier --now prints nothing: the
// events are in the log already (ids derived from clock, cycle, threshold).
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
#include "lib/api/names.h"
#include "tools/cli.h"

namespace slate::tools {
namespace {

struct TickFlags {
  std::string db;
  std::string now;
  bool watermark = false;
};

std::string Rfc3339(int64_t us) {
  return absl::FormatTime("%Y-%m-%d%ET%H:%M:%E*SZ", absl::FromUnixMicros(us),
                          absl::UTCTimeZone());
}

// One line for an SlaWarning/SlaBreached event.
std::string FormatSlaTimerEvent(const Envelope& e) {
  if (e.has_sla_warning()) {
    const SlaWarning& w = e.sla_warning();
    return absl::StrCat(Rfc3339(e.occurred_at_us()), " warning ",
                        w.threshold_percent(), "% ", w.record(),
                        " policy=", w.policy_id(), " ",
                        SlaMetricName(w.metric()), " cycle=", w.cycle());
  }
  const SlaBreached& b = e.sla_breached();
  return absl::StrCat(Rfc3339(e.occurred_at_us()), " breached ", b.record(),
                      " policy=", b.policy_id(), " ", SlaMetricName(b.metric()),
                      " cycle=", b.cycle());
}

int RunTick(const TickFlags& f) {
  if (f.now.empty() && !f.watermark) {
    return Usage("tick", "missing --now (or --watermark)");
  }
  const std::optional<absl::Time> now = FlagInstant(f.now);  // Validated.
  int code = kExitOk;
  OpenedEngine db = OpenEngine("tick", Options(), f.db, now, &code);
  if (db.engine == nullptr) return code;
  absl::StatusOr<std::vector<Envelope>> events =
      f.watermark ? db.engine->AdvanceToWatermark()
                  : db.engine->AdvanceTo(*now);
  if (!events.ok()) return Fail("tick", events.status().ToString());
  for (const Envelope& e : *events) {
    std::printf("%s\n", FormatSlaTimerEvent(e).c_str());
  }
  return kExitOk;
}

}  // namespace

CommandRun SetUpTickCommand(CLI::App* app) {
  auto f = std::make_shared<TickFlags>();
  AddDbFlag(app, &f->db);
  app->add_option("--now", f->now,
                  "fire every threshold due at or before TIME (RFC 3339)")
      ->type_name("TIME")
      ->check(Rfc3339Instant());
  app->add_flag("--watermark", f->watermark,
                "advance to the latest event time in the log instead");
  return [f] { return RunTick(*f); };
}

}  // namespace slate::tools
