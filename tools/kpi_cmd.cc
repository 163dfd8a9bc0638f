// slate kpi: KPI rollups of a database by time bucket and dimensions.
//
//   $ slate kpi --db /tmp/slate --by priority --bucket week
//       --from 2026-11-01 --to 2026-12-01 --now 2026-12-01T00:00:00Z
//   (one command line)
//   KPIs by priority; week buckets in UTC
//
//   Incidents (backlog and ages at bucket end)
//   bucket      priority  opened  resolved  ...
//
// - `--by D` (repeatable, or comma-separated): service, priority, group,
//   category, contact. None: totals only.
// - `--bucket day|week|month` (default day; weeks start on Monday).
// - `--tz ZONE` (IANA name; default UTC). The stored rollups are in UTC
//   days; another zone folds the whole log again in memory for this query
//   (correct, costs one pass over the log).
// - `--from T`, `--to T`: RFC 3339 instants or dates (YYYY-MM-DD, midnight
//   in --tz); buckets overlapping [from, to) are printed. Default: from the
//   first day with data to --now.
// - `--now T` (RFC 3339): the instant ongoing outages run to and the default
//   --to; also the engine clock. Default: the wall clock.
// - `--format table|csv|json` (default table); `--table incidents|
//   availability|sla` prints one table only (default all).
// Measures and definitions: lib/projection/kpi_projection.h.
// Exit codes: 0 success; 1 the database or a query failed; 2 bad usage.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "lib/api/clock.h"
#include "lib/api/engine.h"
#include "lib/projection/kpi_query.h"
#include "lib/projection/kpi_rollup.h"
#include "lib/projection/kpi_sla.h"

namespace slate::tools {
namespace {

constexpr char kUsage[] =
    "usage: slate kpi --db DIR [--by service|priority|group|category|contact]"
    "...\n"
    "                 [--bucket day|week|month] [--tz ZONE] [--from T] "
    "[--to T]\n"
    "                 [--now T] [--format table|csv|json]\n"
    "                 [--table incidents|availability|sla]\n";

int Usage(const std::string& message) {
  std::fprintf(stderr, "slate kpi: %s\n%s", message.c_str(), kUsage);
  return 2;
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

int RunKpiCommand(int argc, char** argv) {
  std::string db, tz = "UTC", from, to, now, format = "table", table;
  std::vector<std::string> by;
  std::string bucket = "day";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    std::string* target = nullptr;
    std::string by_value;
    std::string name = a;
    std::string inline_value;
    bool has_inline = false;
    if (absl::StartsWith(a, "--") && a.find('=') != std::string::npos) {
      name = a.substr(0, a.find('='));
      inline_value = a.substr(a.find('=') + 1);
      has_inline = true;
    }
    if (name == "--help" || name == "-h") {
      std::printf("%s", kUsage);
      return 0;
    } else if (name == "--db") {
      target = &db;
    } else if (name == "--tz") {
      target = &tz;
    } else if (name == "--from") {
      target = &from;
    } else if (name == "--to") {
      target = &to;
    } else if (name == "--now") {
      target = &now;
    } else if (name == "--format") {
      target = &format;
    } else if (name == "--bucket") {
      target = &bucket;
    } else if (name == "--table") {
      target = &table;
    } else if (name == "--by") {
      target = &by_value;
    } else {
      return Usage(absl::StrCat("unknown argument ", a));
    }
    if (has_inline) {
      *target = inline_value;
    } else if (i + 1 < argc) {
      *target = argv[++i];
    } else {
      return Usage(absl::StrCat(name, " needs a value"));
    }
    if (target == &by_value) {
      for (absl::string_view part : absl::StrSplit(by_value, ',')) {
        by.emplace_back(part);
      }
    }
  }
  if (db.empty()) return Usage("--db DIR is required");

  KpiQuery q;
  for (const std::string& d : by) {
    std::optional<KpiDimension> dim = ParseKpiDimension(d);
    if (!dim.has_value()) {
      return Usage(
          absl::StrCat("--by ", d,
                       " is not one of service, priority, group, category, "
                       "contact"));
    }
    q.by.push_back(*dim);
  }
  if (bucket == "day") {
    q.bucket = KpiBucket::kDay;
  } else if (bucket == "week") {
    q.bucket = KpiBucket::kWeek;
  } else if (bucket == "month") {
    q.bucket = KpiBucket::kMonth;
  } else {
    return Usage(
        absl::StrCat("--bucket ", bucket, " is not day, week or month"));
  }
  KpiFormat fmt;
  if (format == "table") {
    fmt = KpiFormat::kTable;
  } else if (format == "csv") {
    fmt = KpiFormat::kCsv;
  } else if (format == "json") {
    fmt = KpiFormat::kJson;
  } else {
    return Usage(
        absl::StrCat("--format ", format, " is not table, csv or json"));
  }
  KpiTables tables;
  if (!table.empty()) {
    tables.incidents = table == "incidents";
    tables.availability = table == "availability";
    tables.sla = table == "sla";
    if (!tables.incidents && !tables.availability && !tables.sla) {
      return Usage(absl::StrCat("--table ", table,
                                " is not incidents, availability or sla"));
    }
  }
  if (!absl::LoadTimeZone(tz, &q.zone)) {
    return Usage(absl::StrCat("--tz ", tz, " is not a known time zone"));
  }
  std::unique_ptr<SimulatedClock> clock;
  Options options;
  options.create_if_missing = false;
  q.now = absl::Now();
  if (!now.empty()) {
    if (!ParseInstant(now, q.zone, &q.now)) {
      return Usage(absl::StrCat("--now \"", now, "\" is not RFC 3339"));
    }
    clock = std::make_unique<SimulatedClock>(q.now);
    options.clock = clock.get();
  }
  if (!from.empty() && !ParseInstant(from, q.zone, &q.from)) {
    return Usage(
        absl::StrCat("--from \"", from, "\" is not RFC 3339 or YYYY-MM-DD"));
  }
  if (!to.empty() && !ParseInstant(to, q.zone, &q.to)) {
    return Usage(
        absl::StrCat("--to \"", to, "\" is not RFC 3339 or YYYY-MM-DD"));
  }

  auto engine = Engine::Open(options, db);
  if (!engine.ok()) {
    std::fprintf(stderr, "slate kpi: %s\n",
                 std::string(engine.status().ToString()).c_str());
    return 2;
  }
  KpiOptions kpi_options = BuiltinKpiOptions((*engine)->options());
  absl::StatusOr<KpiRollup> rollup;
  if (q.zone.name() == kpi_options.zone.name()) {
    rollup = LoadKpiRollup(KpiScanOf((*engine)->projections()), std::nullopt);
  } else {
    kpi_options.zone = q.zone;
    Engine* e = engine->get();
    rollup = FoldKpiRollup(
        [e](int64_t position, size_t n) { return e->ReadAll(position, n); },
        kpi_options);
  }
  if (!rollup.ok()) {
    std::fprintf(stderr, "slate kpi: %s\n",
                 std::string(rollup.status().ToString()).c_str());
    return 1;
  }
  absl::StatusOr<std::vector<KpiSlaClock>> clocks =
      FinalSlaClocks((*engine)->projections());
  if (!clocks.ok()) {
    std::fprintf(stderr, "slate kpi: SLA clocks: %s\n",
                 std::string(clocks.status().ToString()).c_str());
    return 1;
  }
  absl::StatusOr<KpiReport> report =
      QueryKpis(*rollup, q, kpi_options, *clocks);
  if (!report.ok()) {
    std::fprintf(stderr, "slate kpi: %s\n",
                 std::string(report.status().message()).c_str());
    return report.status().code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  std::fputs(FormatKpiReport(*report, fmt, tables).c_str(), stdout);
  return 0;
}

}  // namespace slate::tools
