// slate report: one self-contained HTML file (inline SVG charts, no script,
// no network) of a database's KPIs and SLA compliance.
//
//   $ slate report --db /tmp/slate --out report.html --bucket week
//   wrote report.html (48213 bytes; 9 weeks, 12 incidents opened)
//
// - `--out FILE` (required): written whole (to FILE.tmp, then renamed), so
//   a failure never leaves a half-written report.
// - `--bucket day|week|month` (default week; weeks start on Monday).
// - `--tz ZONE` (IANA name; default UTC). Another zone than the stored
//   rollup's (UTC) folds the whole log again in memory, as `slate kpi`.
// - `--from T`, `--to T`: RFC 3339 instants or dates (YYYY-MM-DD, midnight
//   in --tz). Default: from the first day with data to --now.
// - `--now T` (RFC 3339): the report's "now". Default: the wall clock.
// - `--title TEXT`: the page heading. Default: "Slate report".
// What the report shows: lib/report/report.h.
// Exit codes: 0 written; 1 the database, a query or writing failed; 2 bad
// usage or no database in DIR.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "lib/api/clock.h"
#include "lib/api/engine.h"
#include "lib/projection/kpi_query.h"
#include "lib/projection/kpi_rollup.h"
#include "lib/projection/kpi_sla.h"
#include "lib/report/report.h"

namespace slate::tools {
namespace {

constexpr char kUsage[] =
    "usage: slate report --db DIR --out FILE [--bucket day|week|month] "
    "[--tz ZONE]\n"
    "                    [--from T] [--to T] [--now T] [--title TEXT]\n";

int Usage(const std::string& message) {
  std::fprintf(stderr, "slate report: %s\n%s", message.c_str(), kUsage);
  return 2;
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "slate report: %s\n", message.c_str());
  return 1;
}

// RFC 3339, or a civil date at midnight in `zone`.
bool ParseInstant(const std::string& s, const absl::TimeZone& zone,
                  absl::Time* out) {
  std::string err;
  if (absl::ParseTime(absl::RFC3339_full, s, out, &err)) return true;
  absl::CivilDay day;
  if (absl::ParseCivilTime(s, &day)) {
    *out = zone.At(absl::CivilSecond(day)).pre;
    return true;
  }
  return false;
}

}  // namespace

int RunReportCommand(int argc, char** argv) {
  std::string db, out, bucket = "week", tz = "UTC", from, to, now;
  std::string title = "Slate report";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    std::string name = a, value;
    bool has_inline = false;
    if (absl::StartsWith(a, "--") && a.find('=') != std::string::npos) {
      name = a.substr(0, a.find('='));
      value = a.substr(a.find('=') + 1);
      has_inline = true;
    }
    if (name == "--help" || name == "-h") {
      std::printf("%s", kUsage);
      return 0;
    }
    std::string* target = name == "--db"       ? &db
                          : name == "--out"    ? &out
                          : name == "--bucket" ? &bucket
                          : name == "--tz"     ? &tz
                          : name == "--from"   ? &from
                          : name == "--to"     ? &to
                          : name == "--now"    ? &now
                          : name == "--title"  ? &title
                                               : nullptr;
    if (target == nullptr) return Usage(absl::StrCat("unknown argument ", a));
    if (has_inline) {
      *target = value;
    } else if (i + 1 < argc) {
      *target = argv[++i];
    } else {
      return Usage(absl::StrCat(name, " needs a value"));
    }
  }
  if (db.empty()) return Usage("--db DIR is required");
  if (out.empty()) return Usage("--out FILE is required");

  report::ReportOptions ro;
  ro.title = title;
  ro.source = db;
  if (bucket == "day") {
    ro.bucket = KpiBucket::kDay;
  } else if (bucket == "week") {
    ro.bucket = KpiBucket::kWeek;
  } else if (bucket == "month") {
    ro.bucket = KpiBucket::kMonth;
  } else {
    return Usage(
        absl::StrCat("--bucket ", bucket, " is not day, week or month"));
  }
  absl::TimeZone zone;
  if (!absl::LoadTimeZone(tz, &zone)) {
    return Usage(absl::StrCat("--tz ", tz, " is not a known time zone"));
  }
  std::unique_ptr<SimulatedClock> clock;
  Options options;
  options.create_if_missing = false;
  ro.now = absl::Now();
  if (!now.empty()) {
    if (!ParseInstant(now, zone, &ro.now)) {
      return Usage(absl::StrCat("--now \"", now, "\" is not RFC 3339"));
    }
    clock = std::make_unique<SimulatedClock>(ro.now);
    options.clock = clock.get();
  }
  if (!from.empty() && !ParseInstant(from, zone, &ro.from)) {
    return Usage(
        absl::StrCat("--from \"", from, "\" is not RFC 3339 or YYYY-MM-DD"));
  }
  if (!to.empty() && !ParseInstant(to, zone, &ro.to)) {
    return Usage(
        absl::StrCat("--to \"", to, "\" is not RFC 3339 or YYYY-MM-DD"));
  }

  auto engine = Engine::Open(options, db);
  if (!engine.ok()) return Usage(std::string(engine.status().ToString()));
  KpiOptions kpi_options = BuiltinKpiOptions((*engine)->options());
  absl::StatusOr<KpiRollup> rollup;
  if (zone.name() == kpi_options.zone.name()) {
    rollup = LoadKpiRollup(KpiScanOf((*engine)->projections()), std::nullopt);
  } else {
    kpi_options.zone = zone;
    Engine* e = engine->get();
    rollup = FoldKpiRollup(
        [e](int64_t position, size_t n) { return e->ReadAll(position, n); },
        kpi_options);
  }
  if (!rollup.ok()) return Fail(std::string(rollup.status().ToString()));
  absl::StatusOr<std::vector<KpiSlaClock>> clocks =
      FinalSlaClocks((*engine)->projections());
  if (!clocks.ok()) {
    return Fail(absl::StrCat("SLA clocks: ", clocks.status().ToString()));
  }
  absl::StatusOr<report::ReportData> data =
      report::CollectReportData(*rollup, kpi_options, *clocks, ro);
  if (!data.ok()) {
    if (data.status().code() == absl::StatusCode::kInvalidArgument) {
      return Usage(std::string(data.status().message()));
    }
    return Fail(std::string(data.status().ToString()));
  }
  const std::string html = report::RenderReportHtml(*data, ro);

  const std::string tmp = out + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << html;
    f.flush();
    if (!f.good()) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      return Fail(absl::StrCat("cannot write ", tmp));
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, out, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    return Fail(absl::StrCat("cannot rename ", tmp, " to ", out));
  }
  std::printf("wrote %s (%zu bytes; %zu %s buckets, %lld incidents opened)\n",
              out.c_str(), html.size(), data->buckets.size(),
              KpiBucketName(ro.bucket),
              static_cast<long long>(data->total.opened));
  return 0;
}

}  // namespace slate::tools
