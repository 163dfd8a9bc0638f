// slate tick: advances SLA time to --now and prints the warnings and
// breaches it appended, one per line (Engine::AdvanceTo).
//
//   $ slate tick --db /tmp/slate --now 2026-11-30T12:00:00Z
//   2026-11-27T17:00:00Z warning 50% incident/INC1 policy=p1-office resolution cycle=1
//   2026-11-30T11:00:00Z breached incident/INC1 policy=p1-office resolution cycle=1
//
// - `--db DIR` the database (created if missing).
// - `--now TIME` (RFC 3339, required): every threshold due at or before TIME
//   fires, at its exact instant. The engine also runs on a simulated clock at
//   TIME (as `slate exec --now`), so future-dated data can be advanced.
// - `--watermark` instead of --now: replay mode, advance to the latest event
//   time in the log (the engine clock is then the wall clock, or --now).
// Running it again with the same or an earlier --now prints nothing: the
// events are in the log already (ids derived from clock, cycle, threshold).
// Exit codes: 0 success; 1 the advance failed; 2 bad usage or database.
#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "lib/api/clock.h"
#include "lib/api/engine.h"
#include "lib/projection/sla_projection.h"

namespace slate::tools {
namespace {

constexpr char kUsage[] =
    "usage: slate tick --db DIR (--now RFC3339 | --watermark [--now RFC3339])\n";

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
                        SlaTargetTypeName(w.metric()), " cycle=", w.cycle());
  }
  const SlaBreached& b = e.sla_breached();
  return absl::StrCat(Rfc3339(e.occurred_at_us()), " breached ", b.record(),
                      " policy=", b.policy_id(), " ",
                      SlaTargetTypeName(b.metric()), " cycle=", b.cycle());
}

}  // namespace

int RunTickCommand(int argc, char** argv) {
  std::string db, now;
  bool watermark = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::printf("%s", kUsage);
      return 0;
    } else if (a == "--db" && i + 1 < argc) {
      db = argv[++i];
    } else if (absl::StartsWith(a, "--db=")) {
      db = a.substr(5);
    } else if (a == "--now" && i + 1 < argc) {
      now = argv[++i];
    } else if (absl::StartsWith(a, "--now=")) {
      now = a.substr(6);
    } else if (a == "--watermark") {
      watermark = true;
    } else {
      std::fprintf(stderr, "slate tick: unexpected argument %s\n%s", a.c_str(),
                   kUsage);
      return 2;
    }
  }
  if (db.empty() || (now.empty() && !watermark)) {
    std::fprintf(stderr, "slate tick: --db and --now are required\n%s",
                 kUsage);
    return 2;
  }
  Options options;
  std::unique_ptr<SimulatedClock> clock;
  absl::Time t;
  if (!now.empty()) {
    std::string err;
    if (!absl::ParseTime(absl::RFC3339_full, now, &t, &err)) {
      std::fprintf(stderr, "slate tick: --now \"%s\" is not RFC 3339: %s\n",
                   now.c_str(), err.c_str());
      return 2;
    }
    clock = std::make_unique<SimulatedClock>(t);
    options.clock = clock.get();
  }
  auto engine = Engine::Open(options, db);
  if (!engine.ok()) {
    std::fprintf(stderr, "slate tick: %s\n",
                 std::string(engine.status().ToString()).c_str());
    return 2;
  }
  absl::StatusOr<std::vector<Envelope>> events =
      watermark ? (*engine)->AdvanceToWatermark() : (*engine)->AdvanceTo(t);
  if (!events.ok()) {
    std::fprintf(stderr, "slate tick: %s\n",
                 std::string(events.status().ToString()).c_str());
    return 1;
  }
  for (const Envelope& e : *events) {
    std::printf("%s\n", FormatSlaTimerEvent(e).c_str());
  }
  return 0;
}

}  // namespace slate::tools
