#include "tools/kpi_flags.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"

namespace slate::tools {

void AddKpiRangeFlags(CLI::App* app, KpiRangeFlags* f,
                      const std::string& now_means) {
  app->add_option("--bucket", f->bucket, "time bucket; weeks start on Monday")
      ->type_name("day|week|month")
      ->check(OneOf({"day", "week", "month"}))
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
                  "end, exclusive: RFC 3339 or YYYY-MM-DD (default: --now)")
      ->type_name("T")
      ->check(InstantOrDate());
  app->add_option("--now", f->now,
                  absl::StrCat(now_means, " (default: the wall clock)"))
      ->type_name("T")
      ->check(InstantOrDate());
}

KpiRange ResolveKpiRange(const KpiRangeFlags& f) {
  KpiRange r;
  r.bucket = f.bucket == "week"    ? KpiBucket::kWeek
             : f.bucket == "month" ? KpiBucket::kMonth
                                   : KpiBucket::kDay;
  if (!absl::LoadTimeZone(f.tz, &r.zone)) r.zone = absl::UTCTimeZone();
  r.now = absl::Now();
  r.now_given = !f.now.empty() && ParseInstantOrDate(f.now, r.zone, &r.now);
  if (!f.from.empty()) ParseInstantOrDate(f.from, r.zone, &r.from);
  if (!f.to.empty()) ParseInstantOrDate(f.to, r.zone, &r.to);
  return r;
}

}  // namespace slate::tools
