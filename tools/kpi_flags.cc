#include "tools/kpi_flags.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "lib/base/status_macros.h"
#include "lib/projection/kpi_sla.h"

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

absl::StatusOr<KpiInputs> LoadKpiInputs(Engine& engine,
                                        const absl::TimeZone& zone) {
  KpiInputs in;
  in.options = BuiltinKpiOptions(engine.options());
  if (zone.name() == in.options.zone.name()) {
    SLATE_ASSIGN_OR_RETURN(
        in.rollup,
        LoadKpiRollup(KpiScanOf(engine.projections()), std::nullopt));
  } else {
    in.options.zone = zone;
    Engine* e = &engine;
    SLATE_ASSIGN_OR_RETURN(in.rollup, FoldKpiRollup(
                                          [e](int64_t position, size_t n) {
                                            return e->ReadAll(position, n);
                                          },
                                          in.options));
  }
  absl::StatusOr<std::vector<KpiSlaClock>> clocks =
      FinalSlaClocks(engine.projections());
  if (!clocks.ok()) {
    return absl::Status(
        clocks.status().code(),
        absl::StrCat("SLA clocks: ", clocks.status().message()));
  }
  in.clocks = *std::move(clocks);
  return in;
}

}  // namespace slate::tools
