// The flags `slate kpi` and `slate report` share: time bucket, zone, range,
// now; and their default end, the database's last record event.
//
//   auto range = std::make_shared<KpiRangeFlags>();
//   range->bucket = "week";                   // This command's default.
//   AddKpiRangeFlags(app, range.get());
//   ...after the parse:
//   KpiRange r = ResolveKpiRange(*range);     // Values validated already.
//   ...after opening the engine:
//   absl::Status s = DefaultEndToLastEvent(*engine, &r);
#ifndef SLATE_TOOLS_KPI_FLAGS_H_
#define SLATE_TOOLS_KPI_FLAGS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lib/api/engine.h"
#include "lib/api/kpi_types.h"
#include "tools/cli.h"

namespace slate::tools {

struct KpiRangeFlags {
  std::string bucket = "day";  // day|week|month|all.
  std::string tz = "UTC";      // IANA zone.
  std::string from;            // RFC 3339 or YYYY-MM-DD; empty: unset.
  std::string to;
  std::string now;  // Empty: the last record event (DefaultEndToLastEvent).
};

// Adds --bucket (default: f->bucket as set), --tz, --from, --to and --now,
// each validated while parsing. `now_means` says what --now is for.
void AddKpiRangeFlags(CLI::App* app, KpiRangeFlags* f,
                      const std::string& now_means);

struct KpiRange {
  KpiBucket bucket = KpiBucket::kDay;
  absl::TimeZone zone = absl::UTCTimeZone();
  absl::Time from = absl::InfinitePast();
  absl::Time to = absl::InfiniteFuture();
  absl::Time now;
  bool now_given = false;  // false: `now` is the wall clock (until
                           // DefaultEndToLastEvent).
};

// The flags' values (dates are midnight in the zone). REQUIRES: they passed
// the validators AddKpiRangeFlags installs.
KpiRange ResolveKpiRange(const KpiRangeFlags& f);

// Without --now: `now` becomes the database's last incident or change event
// (Engine::LastRecordEventTime) and, without --to, the period ends just
// after it, so a historical import is reported up to its own end and not to
// the wall clock. A database with no such event keeps the wall clock. With
// --now: nothing changes. Errors: the engine's.
absl::Status DefaultEndToLastEvent(const Engine& engine, KpiRange* r);
// The same with the last record event known (nullopt: none).
void DefaultEndTo(std::optional<absl::Time> last, KpiRange* r);

}  // namespace slate::tools

#endif  // SLATE_TOOLS_KPI_FLAGS_H_
