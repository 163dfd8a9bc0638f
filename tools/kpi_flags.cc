#include "tools/kpi_flags.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"

namespace slate::tools {

void AddKpiRangeFlags(CLI::App* app, KpiRangeFlags* f,
                      const std::string& now_means) {
  app->add_option("--bucket", f->bucket,
                  "time bucket; weeks start on Monday; all: one bucket for "
                  "the whole period")
      ->type_name("day|week|month|all")
      ->check(OneOf({"day", "week", "month", "all"}))
      ->capture_default_str();
  app->add_option(
         "--tz", f->tz,
         "IANA time zone of the buckets (not UTC: folds the log again)")
      ->type_name("ZONE")
      ->check(KnownTimeZone())
      ->capture_default_str();
  app->add_option("--from", f->from,
                  "first bucket: RFC 3339 or YYYY-MM-DD (default: first data)")
      ->type_name("T")
      ->check(InstantOrDate());
  app->add_option("--to", f->to,
                  "end, exclusive: RFC 3339 or YYYY-MM-DD (default: --now, "
                  "else just after the last record event)")
      ->type_name("T")
      ->check(InstantOrDate());
  app->add_option("--now", f->now,
                  absl::StrCat(now_means,
                               " (default: the last incident or change "
                               "event; the wall clock if there is none)"))
      ->type_name("T")
      ->check(InstantOrDate());
}

KpiRange ResolveKpiRange(const KpiRangeFlags& f) {
  KpiRange r;
  r.bucket = f.bucket == "week"    ? KpiBucket::kWeek
             : f.bucket == "month" ? KpiBucket::kMonth
             : f.bucket == "all"   ? KpiBucket::kAll
                                   : KpiBucket::kDay;
  if (!absl::LoadTimeZone(f.tz, &r.zone)) r.zone = absl::UTCTimeZone();
  r.now = absl::Now();
  r.now_given = !f.now.empty() && ParseInstantOrDate(f.now, r.zone, &r.now);
  if (!f.from.empty()) ParseInstantOrDate(f.from, r.zone, &r.from);
  if (!f.to.empty()) ParseInstantOrDate(f.to, r.zone, &r.to);
  return r;
}

absl::Status DefaultEndToLastEvent(const Engine& engine, KpiRange* r) {
  if (r->now_given) return absl::OkStatus();
  absl::StatusOr<std::optional<absl::Time>> last = engine.LastRecordEventTime();
  if (!last.ok()) return last.status();
  DefaultEndTo(*last, r);
  return absl::OkStatus();
}

void DefaultEndTo(std::optional<absl::Time> last, KpiRange* r) {
  if (r->now_given || !last.has_value()) return;
  r->now = *last;
  // --to is exclusive: the last event's own instant is in the period.
  if (r->to == absl::InfiniteFuture()) r->to = *last + absl::Microseconds(1);
}

}  // namespace slate::tools
