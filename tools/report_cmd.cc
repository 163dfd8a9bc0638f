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
// What the report shows: lib/report/report.h.
// Exit codes: 0 written; 1 the database, a query or writing failed; 2 bad
// usage or no database in DIR (tools/cli.h).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "lib/api/clock.h"
#include "lib/api/engine.h"
#include "lib/report/report.h"
#include "tools/cli.h"
#include "tools/kpi_flags.h"

namespace slate::tools {
namespace {

struct ReportFlags {
  std::string db;
  std::string out;
  KpiRangeFlags range;
  std::string title = "Slate report";
};

int RunReport(const ReportFlags& f) {
  KpiRange range = ResolveKpiRange(f.range);
  report::ReportOptions ro;
  ro.title = f.title;
  ro.source = f.db;
  Options options;
  options.create_if_missing = false;
  int code = kExitOk;
  OpenedEngine db = OpenEngine(
      "report", options, f.db,
      range.now_given ? std::optional<absl::Time>(range.now) : std::nullopt,
      &code);
  if (db.engine == nullptr) return code;
  if (absl::Status s = DefaultEndToLastEvent(*db.engine, &range); !s.ok()) {
    return Fail("report", s.ToString());
  }
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
  app->add_option("--title", f->title, "the page heading")
      ->type_name("TEXT")
      ->capture_default_str();
  return [f] { return RunReport(*f); };
}

}  // namespace slate::tools
