// slate report: one self-contained HTML file (inline SVG charts, no script,
// no network) of a database's KPIs and SLA compliance.
//
//   $ slate report --db /tmp/slate --out report.html --bucket week
//   wrote report.html (48213 bytes; 9 weeks, 12 incidents opened)
//
// - `--out FILE` (required): written whole (to FILE.tmp, then renamed), so
//   a failure never leaves a half-written report.
// - `--bucket day|week|month|all` (default week; weeks start on Monday; all:
//   one bucket for the whole period).
// - `--tz ZONE` (IANA name; default UTC). Another zone than the stored
//   rollup's (UTC) folds the whole log again in memory, as `slate kpi`.
// - `--from T`, `--to T`: RFC 3339 instants or dates (YYYY-MM-DD, midnight
//   in --tz). Default: from the first day with data to --now (without
//   --now: to just after the last incident or change event).
// - `--now T` (RFC 3339): the report's "now". Default: the last incident or
//   change event in the database (Engine::LastRecordEventTime), so a
//   historical import is drawn up to its own end, not to today; the wall
//   clock for a database without one.
// - `--title TEXT`: the page heading. Default: "Slate report".
// - `--tenant T`: the report of tenant T: its records only, under its
//   services and calendars (the default tenant's where it has none of its
//   own); also for the service review. Default: the default tenant.
// What the report shows: lib/report/report.h.
//
// The service review (issue 21): one service, one calendar month.
//
//   $ slate report --db /tmp/slate --service email --month 2026-11 --out r.html
//   wrote r.html (23817 bytes; service email, 2026-11: 12
//   incidents opened, 2 major, availability 99.861 %)
//
// - `--service S --month YYYY-MM` (both or neither): the review of S in
//   that month; --bucket, --from and --to do not apply (usage error).
// - `--tz ZONE`: the zone of the month's boundaries (default UTC, the
//   stored rollup's; another folds the log again in memory).
// - `--now T`, `--out FILE` and `--title TEXT` as above; the default title
//   is "Service review: <name> (<id>), <month>".
// - An unknown service (neither defined nor named by any record) fails with
//   exit 1, naming it, and writes nothing.
// What the review shows: lib/report/service_report.h.
// Exit codes: 0 written; 1 the database, a query or writing failed, or an
// unknown service; 2 bad usage or no database in DIR (tools/cli.h).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "lib/api/clock.h"
#include "lib/api/engine.h"
#include "lib/report/report.h"
#include "lib/report/service_report.h"
#include "tools/cli.h"
#include "tools/kpi_flags.h"

namespace slate::tools {
namespace {

struct ReportFlags {
  std::string db;
  std::string out;
  KpiRangeFlags range;
  std::string title = "Slate report";
  std::string service;
  std::string month;  // YYYY-MM; empty: not given.
  std::string tenant;
  // Whether these were given (the service review refuses them).
  bool bucket_given = false, from_given = false, to_given = false;
  bool title_given = false;
};

std::optional<absl::CivilMonth> ParseMonth(const std::string& s) {
  absl::CivilMonth m;
  if (s.size() != 7 || s[4] != '-' || !absl::ParseCivilTime(s, &m)) {
    return std::nullopt;
  }
  return m;
}

// Writes `html` to `out` whole: FILE.tmp, then a rename. An error line
// (and exit code) on failure, kExitOk otherwise.
int WriteWhole(const std::string& out, const std::string& html) {
  const std::string tmp = out + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << html;
    f.flush();
    if (!f.good()) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      return Fail("report", absl::StrCat("cannot write ", tmp));
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, out, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    return Fail("report", absl::StrCat("cannot rename ", tmp, " to ", out));
  }
  return kExitOk;
}

// Opens the database in `db` (never creating one) on --now's clock and
// defaults the range's end to its last record event. On failure prints the
// error line, sets *code and returns a null engine.
OpenedEngine OpenForReport(const std::string& db, KpiRange* range,
                           int* code) {
  Options options;
  options.create_if_missing = false;
  OpenedEngine opened = OpenEngine(
      "report", options, db,
      range->now_given ? std::optional<absl::Time>(range->now) : std::nullopt,
      code);
  if (opened.engine == nullptr) return opened;
  if (absl::Status s = DefaultEndToLastEvent(*opened.engine, range);
      !s.ok()) {
    *code = Fail("report", s.ToString());
    return OpenedEngine();
  }
  return opened;
}

int RunServiceReport(const ReportFlags& f) {
  if (f.bucket_given || f.from_given || f.to_given) {
    return Usage("report",
                 "--bucket, --from and --to do not apply to a service review "
                 "(--service, --month): it covers one calendar month");
  }
  KpiRange range = ResolveKpiRange(f.range);
  report::ServiceReportOptions ro;
  ro.service = f.service;
  ro.tenant = f.tenant;
  ro.month = *ParseMonth(f.month);  // Validated while parsing.
  ro.zone = range.zone;
  ro.source = f.db;
  if (f.title_given) ro.title = f.title;
  int code = kExitOk;
  OpenedEngine db = OpenForReport(f.db, &range, &code);
  if (db.engine == nullptr) return code;
  ro.now = range.now;
  absl::StatusOr<report::ServiceReportData> data =
      report::CollectServiceReportData(*db.engine, ro);
  if (!data.ok()) {
    if (data.status().code() == absl::StatusCode::kNotFound) {
      return Fail("report", data.status().message());
    }
    return Fail("report", data.status().ToString());
  }
  const std::string html = report::RenderServiceReportHtml(*data, ro);
  if (int c = WriteWhole(f.out, html); c != kExitOk) return c;
  const std::optional<double> a = data->month.availability_percent();
  std::printf(
      "wrote %s (%zu bytes; service %s, %s: %lld incidents opened, %zu "
      "major, availability %s)\n",
      f.out.c_str(), html.size(), f.service.c_str(), f.month.c_str(),
      static_cast<long long>(data->month.flow.opened),
      data->major_incidents.size(),
      a.has_value() ? absl::StrFormat("%.3f %%", *a).c_str() : "not measured");
  return kExitOk;
}

int RunReport(const ReportFlags& f) {
  if (f.service.empty() != f.month.empty()) {
    return Usage("report",
                 "--service and --month go together (the review of one "
                 "service in one calendar month)");
  }
  if (!f.service.empty()) return RunServiceReport(f);
  KpiRange range = ResolveKpiRange(f.range);
  report::ReportOptions ro;
  ro.title = f.title;
  ro.source = f.db;
  ro.tenant = f.tenant;
  int code = kExitOk;
  OpenedEngine db = OpenForReport(f.db, &range, &code);
  if (db.engine == nullptr) return code;
  ro.bucket = range.bucket;
  ro.zone = range.zone;
  ro.from = range.from;
  ro.to = range.to;
  ro.now = range.now;
  absl::StatusOr<report::ReportData> data =
      report::CollectReportData(*db.engine, ro);
  if (!data.ok()) {
    if (data.status().code() == absl::StatusCode::kInvalidArgument) {
      return Usage("report", data.status().message());
    }
    return Fail("report", data.status().ToString());
  }
  const std::string html = report::RenderReportHtml(*data, ro);

  const std::string& out = f.out;
  if (int c = WriteWhole(out, html); c != kExitOk) return c;
  std::printf("wrote %s (%zu bytes; %zu %s buckets, %lld incidents opened)\n",
              out.c_str(), html.size(), data->buckets.size(),
              KpiBucketName(ro.bucket),
              static_cast<long long>(data->total.opened));
  return kExitOk;
}

}  // namespace

CommandRun SetUpReportCommand(CLI::App* app) {
  auto f = std::make_shared<ReportFlags>();
  AddDbFlag(app, &f->db);
  app->add_option("--out", f->out,
                  "the HTML file to write (whole, via FILE.tmp and a rename)")
      ->required()
      ->type_name("FILE");
  f->range.bucket = "week";
  AddKpiRangeFlags(app, &f->range, "the report's now; engine clock");
  app->add_option("--title", f->title,
                  "the page heading (service review: \"Service review: "
                  "NAME (ID), MONTH\")")
      ->type_name("TEXT")
      ->capture_default_str();
  AddTenantFlag(app, &f->tenant)
      ->description(
          "report on this tenant's records, under its services and "
          "calendars; also the service review (default: default)");
  app->add_option("--service", f->service,
                  "write the service review of service S (with --month)")
      ->type_name("S");
  app->add_option("--month", f->month,
                  "the calendar month of the service review, in --tz")
      ->type_name("YYYY-MM")
      ->check(CLI::Validator(
          [](std::string& v) -> std::string {
            if (ParseMonth(v).has_value()) return "";
            return absl::StrCat("\"", v,
                                "\" is not a month YYYY-MM (e.g. 2026-11)");
          },
          ""));
  return [f, app] {
    f->bucket_given = app->count("--bucket") > 0;
    f->from_given = app->count("--from") > 0;
    f->to_given = app->count("--to") > 0;
    f->title_given = app->count("--title") > 0;
    return RunReport(*f);
  };
}

}  // namespace slate::tools
