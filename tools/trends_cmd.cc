// slate trends: recurring incidents, the problem candidates
// (Engine::RecurringIncidents; semantics in lib/api/trend_types.h).
//
//   $ slate trends --db /tmp/slate --window 7d --min 5
//   rank  incidents  first_opened  last_opened  service  category  ci  ids
//   1     6          2026-11-02T08:00:00Z  ...  email  network  mx1
//   INC1 INC2 ...
//   1 candidate(s), 6 incident(s); window 7d, at least 5
//
// - `--db DIR` (required).
// - `--window DURATION` ("7d", "36h"; default 7d): the sliding window; an
//   incident opened exactly DURATION after another is not within it.
// - `--min N` (>= 2, default 5): incidents a window must hold.
// - `--top N`: at most N candidates. Default: 20; 0 means all.
// - `--tenant T`: tenant T's incidents and problems only (a candidate never
//   holds two tenants' incidents). Default: the default tenant.
// - `--format table|csv|json` (default table), as `slate kpi`:
//   table: a header line, one tab-separated row per candidate (ids
//     space-separated, "-" for no service, category or configuration
//     item), then a summary line;
//   csv: a header line (rank,service,category,configuration_item,incident,
//     opened_at,status,problem), then one row per incident of each
//     candidate; absent values empty;
//   json: one object {"window","min","candidates":[{"rank","service",
//     "category","configuration_item","first_opened","last_opened",
//     "incidents":[{"id","opened_at","status","problem"}]}]}; absent values
//     omitted.
// Raise a problem from a candidate with `slate exec` and a logProblem
// command listing its incidents in incidentIds (one atomic write).
// Exit codes: 0 success (also with no candidates); 1 the query or the
// database failed; 2 bad usage (tools/cli.h).
#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "lib/api/engine.h"
#include "lib/api/names.h"
#include "tools/cli.h"
#include "tools/duration_parse.h"

namespace slate::tools {
namespace {

struct TrendsFlags {
  std::string db;
  std::string window = "7d";
  int64_t min = 5;
  int64_t top = 20;
  std::string format = "table";
  std::string tenant;
};

std::string Instant(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d%ET%H:%M:%E*SZ", t, absl::UTCTimeZone());
}

std::string StatusName(IncidentStatus s) {
  ExecuteResult r;
  r.mutable_incident()->set_status(s);
  return AggregateStatusName(r);
}

std::string OrDash(const std::string& v) { return v.empty() ? "-" : v; }

std::string FormatCandidates(const std::vector<RecurringCandidate>& cs,
                             size_t total_incidents, const TrendsFlags& f,
                             size_t total_candidates) {
  std::string out;
  if (f.format == "csv") {
    out =
        "rank,service,category,configuration_item,incident,opened_at,status,"
        "problem\n";
    for (size_t r = 0; r < cs.size(); ++r) {
      const RecurringCandidate& c = cs[r];
      for (const RecurringIncident& i : c.incidents) {
        absl::StrAppend(
            &out, r + 1, ",", CsvQuote(c.service), ",", CsvQuote(c.category),
            ",", CsvQuote(c.configuration_item), ",", CsvQuote(i.incident_id),
            ",", Instant(i.opened_at), ",", CsvQuote(StatusName(i.status)), ",",
            CsvQuote(i.problem_id), "\n");
      }
    }
    return out;
  }
  if (f.format == "json") {
    std::vector<std::string> items;
    for (size_t r = 0; r < cs.size(); ++r) {
      const RecurringCandidate& c = cs[r];
      std::string item = absl::StrCat("{\"rank\":", r + 1);
      auto optional = [&item](const char* name, const std::string& v) {
        if (!v.empty())
          absl::StrAppend(&item, ",\"", name, "\":", JsonQuote(v));
      };
      optional("service", c.service);
      optional("category", c.category);
      optional("configuration_item", c.configuration_item);
      absl::StrAppend(&item,
                      ",\"first_opened\":", JsonQuote(Instant(c.first_opened)),
                      ",\"last_opened\":", JsonQuote(Instant(c.last_opened)),
                      ",\"incidents\":[");
      for (size_t k = 0; k < c.incidents.size(); ++k) {
        const RecurringIncident& i = c.incidents[k];
        absl::StrAppend(&item, k == 0 ? "" : ",",
                        "{\"id\":", JsonQuote(i.incident_id),
                        ",\"opened_at\":", JsonQuote(Instant(i.opened_at)),
                        ",\"status\":", JsonQuote(StatusName(i.status)));
        if (!i.problem_id.empty()) {
          absl::StrAppend(&item, ",\"problem\":", JsonQuote(i.problem_id));
        }
        absl::StrAppend(&item, "}");
      }
      absl::StrAppend(&item, "]}");
      items.push_back(std::move(item));
    }
    return absl::StrCat("{\"window\":", JsonQuote(f.window), ",\"min\":", f.min,
                        ",\"candidates\":[", absl::StrJoin(items, ","), "]}\n");
  }
  out =
      "rank\tincidents\tfirst_opened\tlast_opened\tservice\tcategory\tci\t"
      "ids\n";
  for (size_t r = 0; r < cs.size(); ++r) {
    const RecurringCandidate& c = cs[r];
    std::vector<std::string> ids;
    for (const RecurringIncident& i : c.incidents) ids.push_back(i.incident_id);
    absl::StrAppend(&out, r + 1, "\t", c.incidents.size(), "\t",
                    Instant(c.first_opened), "\t", Instant(c.last_opened), "\t",
                    OrDash(c.service), "\t", OrDash(c.category), "\t",
                    OrDash(c.configuration_item), "\t", absl::StrJoin(ids, " "),
                    "\n");
  }
  absl::StrAppend(&out, total_candidates, " candidate(s), ", total_incidents,
                  " incident(s); window ", f.window, ", at least ", f.min,
                  cs.size() < total_candidates
                      ? absl::StrCat("; the first ", cs.size(), " shown")
                      : "",
                  "\n");
  return out;
}

int RunTrends(const TrendsFlags& f) {
  absl::StatusOr<absl::Duration> window = ParseBusinessDuration(
      absl::string_view(f.window.data(), f.window.size()));
  if (!window.ok() || *window <= absl::ZeroDuration()) {
    return Usage(
        "trends",
        absl::StrCat("--window: ",
                     window.ok() ? "must be > 0" : window.status().message()));
  }
  if (f.min < 2) return Usage("trends", "--min: must be >= 2");
  int code = kExitOk;
  OpenedEngine db = OpenEngine("trends", Options(), f.db, std::nullopt, &code);
  if (db.engine == nullptr) return code;
  RecurringQuery q;
  q.window = *window;
  q.min_incidents = static_cast<int>(std::min<int64_t>(f.min, 1 << 30));
  q.tenant = f.tenant;
  absl::StatusOr<std::vector<RecurringCandidate>> all =
      db.engine->RecurringIncidents(q);
  if (!all.ok()) return Fail("trends", all.status().ToString());
  size_t incidents = 0;
  for (const RecurringCandidate& c : *all) incidents += c.incidents.size();
  const size_t total = all->size();
  std::vector<RecurringCandidate> shown = *std::move(all);
  if (f.top > 0 && shown.size() > static_cast<size_t>(f.top)) {
    shown.resize(static_cast<size_t>(f.top));
  }
  const std::string text = FormatCandidates(shown, incidents, f, total);
  std::fputs(text.c_str(), stdout);
  return kExitOk;
}

}  // namespace

CommandRun SetUpTrendsCommand(CLI::App* app) {
  auto f = std::make_shared<TrendsFlags>();
  AddDbFlag(app, &f->db);
  app->add_option("--window", f->window,
                  "the sliding window's length (an incident opened exactly "
                  "DURATION after another is outside it)")
      ->type_name("DURATION")
      ->check(BusinessDuration())
      ->capture_default_str();
  app->add_option("--min", f->min, "incidents a window must hold (>= 2)")
      ->type_name("N")
      ->check(NonNegativeInteger())
      ->capture_default_str();
  AddTopFlag(app, &f->top, "candidates");
  AddFormatFlag(app, &f->format);
  AddTenantFlag(app, &f->tenant)
      ->description(
          "this tenant's incidents and problems only (default: default)");
  return [f] { return RunTrends(*f); };
}

}  // namespace slate::tools
