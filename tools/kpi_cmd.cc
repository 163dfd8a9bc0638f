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
//   category, contact, tenant. None: totals only.
// - `--tenant T`: the records of tenant T only, under T's services and
//   calendars (the default tenant's where T has none of its own). Default:
//   the default tenant. `--all-tenants`: every tenant's records merged
//   (with `--by tenant`, rows per tenant); availability and services rows
//   stay per tenant and name it. The two exclude each other. The default
//   --now is the log's last record event of any tenant.
// - `--bucket day|week|month|all` (default day; weeks start on Monday; all:
//   one row per dimension group for the whole period).
// - `--tz ZONE` (IANA name; default UTC). The stored rollups are in UTC
//   days; another zone folds the whole log again in memory for this query
//   (correct, costs one pass over the log).
// - `--from T`, `--to T`: RFC 3339 instants or dates (YYYY-MM-DD, midnight
//   in --tz); buckets overlapping [from, to) are printed. Default: from the
//   first day with data to --now (without --now: to just after the last
//   incident or change event).
// - `--now T` (RFC 3339): the instant ongoing outages run to and the default
//   --to; also the engine clock. Default: the last incident or change event
//   in the database (Engine::LastRecordEventTime), so a historical import
//   ends where its data ends; the wall clock for a database without one.
// - `--format table|csv|json` (default table); `--table incidents|
//   availability|sla|changes|requests|satisfaction|services` prints one
//   table only
//   (default all; satisfaction, CSAT and response rate per row, and
//   services, availability, reliability and satisfaction per service, are
//   left out of the default output of a database without survey responses;
//   changes, the post-implementation review of closed changes per row:
//   share reviewed, failed rate with and without review, next to the
//   overall failed rate, is left out of it when no closed change in the
//   report was reviewed; requests, service requests per row: opened,
//   approved, rejected, cancelled, fulfilled, mean approval and fulfilment
//   time wall and business, cost of the fulfilled ones per currency in
//   minor units, request CSAT, is left out of it when no request was
//   submitted in the report).
// - `--nats URLS [--prefix NAME]` in place of --db: the KPIs of a cluster,
//   every partition's rollup merged (lib/api/kpi_merge.h), the same answer
//   as one database holding every partition's commands (--tenant,
//   --all-tenants and the default --now included).
// Measures and definitions: lib/projection/kpi_projection.h
// (Engine::FormatKpis).
// Exit codes: 0 success; 1 the database or a query failed; 2 bad usage or
// no database in DIR (tools/cli.h).
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "lib/api/clock.h"
#include "lib/api/engine.h"
#include "lib/api/kpi_merge.h"
#include "tools/cli.h"
#include "tools/kpi_flags.h"
#include "tools/remote_tool.h"

namespace slate::tools {
namespace {

struct KpiFlags {
  std::string db;
  std::vector<std::string> by;
  KpiRangeFlags range;
  std::string format = "table";
  std::string table;
  std::string tenant;
  bool all_tenants = false;
  NatsFlags nats;  // --nats: a cluster instead of --db.
};

int RunKpi(const KpiFlags& f) {
  KpiQuery q;
  for (const std::string& d : f.by) {
    std::optional<KpiDimension> dim = ParseKpiDimension(d);
    if (!dim.has_value()) return Usage("kpi", absl::StrCat("--by ", d));
    q.by.push_back(*dim);
  }
  q.tenant = f.tenant;
  q.all_tenants = f.all_tenants;
  KpiRange range = ResolveKpiRange(f.range);
  const KpiFormat fmt = f.format == "csv"    ? KpiFormat::kCsv
                        : f.format == "json" ? KpiFormat::kJson
                                             : KpiFormat::kTable;
  KpiTables tables;
  if (!f.table.empty()) {
    tables.incidents = f.table == "incidents";
    tables.availability = f.table == "availability";
    tables.sla = f.table == "sla";
    tables.changes = f.table == "changes";
    tables.requests = f.table == "requests";
    tables.satisfaction = f.table == "satisfaction";
    tables.services = f.table == "services";
    tables.hide_satisfaction_without_responses = false;
    tables.hide_changes_without_reviews = false;
    tables.hide_requests_without_requests = false;
  }
  if (std::optional<int> bad = CheckDbOrNats("kpi", f.db, f.nats)) {
    return *bad;
  }
  const bool remote = !f.nats.nats.empty();
  auto set_range = [&q, &range] {
    q.bucket = range.bucket;
    q.zone = range.zone;
    q.from = range.from;
    q.to = range.to;
    q.now = range.now;
  };
  absl::StatusOr<std::string> text;
  if (remote) {
    // Every partition's export, merged: one database's answer.
    absl::StatusOr<NatsConnection> c =
        ConnectCluster(f.nats, "slate kpi", /*reconnect_forever=*/false);
    if (!c.ok()) return Fail("kpi", c.status().ToString());
    absl::StatusOr<std::vector<std::string>> exports =
        GatherKpiExports(*c->cluster, range.zone);
    if (!exports.ok()) return Fail("kpi", exports.status().ToString());
    absl::StatusOr<std::optional<absl::Time>> last =
        MergedLastRecordEventTime(*exports);
    if (!last.ok()) return Fail("kpi", last.status().ToString());
    DefaultEndTo(*last, &range);
    set_range();
    text = FormatMergedKpis(*exports, q, fmt, tables);
  } else {
    Options options;
    options.create_if_missing = false;
    int code = kExitOk;
    OpenedEngine db = OpenEngine(
        "kpi", options, f.db,
        range.now_given ? std::optional<absl::Time>(range.now) : std::nullopt,
        &code);
    if (db.engine == nullptr) return code;
    if (absl::Status s = DefaultEndToLastEvent(*db.engine, &range); !s.ok()) {
      return Fail("kpi", s.ToString());
    }
    set_range();
    text = db.engine->FormatKpis(q, fmt, tables);
  }
  if (!text.ok()) {
    // A query the flags make impossible (--from after --to) is bad usage.
    if (text.status().code() == absl::StatusCode::kInvalidArgument) {
      return Fail("kpi", text.status().message(), kExitUsage);
    }
    return Fail("kpi", text.status().ToString());
  }
  std::fputs(text->c_str(), stdout);
  return kExitOk;
}

}  // namespace

CommandRun SetUpKpiCommand(CLI::App* app) {
  auto f = std::make_shared<KpiFlags>();
  AddDbOrNatsFlags(app, &f->db, &f->nats);
  app->add_option("--by", f->by,
                  "group by these dimensions; repeat or comma-separate "
                  "(default: totals only)")
      ->type_name("service|priority|group|category|contact|tenant")
      ->delimiter(',')
      ->check(OneOf(
          {"service", "priority", "group", "category", "contact", "tenant"}));
  CLI::Option* tenant =
      AddTenantFlag(app, &f->tenant)
          ->description(
              "count only this tenant's records, under its services and "
              "calendars (default: default)");
  app->add_flag("--all-tenants", f->all_tenants,
                "every tenant's records merged (--by tenant: rows per "
                "tenant)")
      ->excludes(tenant);
  AddKpiRangeFlags(app, &f->range, "end of ongoing outages; engine clock");
  app->add_option("--format", f->format, "output format")
      ->type_name("table|csv|json")
      ->check(OneOf({"table", "csv", "json"}))
      ->capture_default_str();
  app->add_option("--table", f->table, "print one table only (default: all)")
      ->type_name(
          "incidents|availability|sla|changes|requests|satisfaction|services")
      ->check(OneOf({"incidents", "availability", "sla", "changes",
                     "requests", "satisfaction", "services"}));
  return [f] { return RunKpi(*f); };
}

}  // namespace slate::tools
