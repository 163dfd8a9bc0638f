// slate whatif: SLA compliance of the whole history under other policies
// and calendars, before and after, side by side (Engine::Simulate). The
// database is only read.
//
//   $ slate whatif --db /tmp/sn --policies p1-6h.json --by priority
//   policy  target      key  before_met  before_breached  before_compliance ...
//   sn-res  resolution  P1   412         188              68.7%  ...
//   as of 2017-02-11T10:42:00Z: 57 clock(s) change verdict
//
// - `--policies FILE`: SLA policies (one object or a JSON array,
//   proto/sla.proto's JSON form): each replaces the policy in force with the
//   same id, or is added.
// - `--matrix FILE`: another priority matrix (the JSON of
//   examples/servicenow/priority_matrix.json): each incident's priority is
//   computed again from its recorded impact and urgency (manual overrides
//   stay). At least one of --policies and --matrix.
// - `--calendars FILE`: business calendars (one object or an array) the
//   policies may name, besides the database's and "24x7".
// - `--from TIME`, `--to TIME` (RFC 3339): only clocks started in
//   [from, to). Default: all.
// - `--tenant T`: tenant T's records, under its configuration; the
//   policies and calendars given are T's (default: the default tenant).
// - `--by priority|service|group|month`: a row per value (default: none).
// - `--format table|csv|json` (default: table).
// - `--list-flips N`: list the first N clocks whose verdict changes, with
//   why (default: 0).
// Exit codes: 0 success; 1 the simulation or the database failed; 2 bad
// usage or invalid input (tools/cli.h).
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "lib/api/engine.h"
#include "lib/api/names.h"
#include "lib/import/sla_policies.h"
#include "tools/cli.h"

namespace slate::tools {
namespace {

struct WhatIfFlags {
  std::string db;
  std::string policies;
  std::string matrix;
  std::string calendars;
  std::string from;
  std::string to;
  std::string by;
  std::string tenant;
  std::string format = "table";
  int64_t list_flips = 0;
};

// One CalendarSpec object or a JSON array of them.
absl::StatusOr<std::vector<CalendarSpec>> LoadCalendars(
    const std::string& path) {
  std::string text;
  if (!ReadWholeFile(path, &text)) {
    return absl::InvalidArgumentError(absl::StrCat("cannot read ", path));
  }
  absl::string_view t = absl::StripAsciiWhitespace(text);
  // Split a top-level array with the JSON parser of a wrapper message.
  std::vector<CalendarSpec> out;
  const std::string wrapped =
      absl::StartsWith(t, "[") ? absl::StrCat("{\"values\":", t, "}")
                               : absl::StrCat("{\"values\":[", t, "]}");
  google::protobuf::Struct parsed;
  auto st = google::protobuf::util::JsonStringToMessage(wrapped, &parsed);
  if (!st.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": calendar JSON: ", st.ToString()));
  }
  const auto& list = parsed.fields().at("values").list_value();
  for (int i = 0; i < list.values_size(); ++i) {
    std::string one;
    google::protobuf::util::MessageToJsonString(list.values(i), &one);
    CalendarSpec spec;
    st = google::protobuf::util::JsonStringToMessage(one, &spec);
    if (!st.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": calendar [", i, "]: ", st.ToString()));
    }
    out.push_back(std::move(spec));
  }
  return out;
}

int RunWhatIf(const WhatIfFlags& f) {
  Options options;
  options.create_if_missing = false;
  int code = kExitOk;
  OpenedEngine db = OpenEngine("whatif", options, f.db, std::nullopt, &code);
  if (db.engine == nullptr) return code;
  SlaWhatIfQuery q;
  if (f.policies.empty() && f.matrix.empty()) {
    return Usage("whatif", "give --policies FILE, --matrix FILE or both");
  }
  std::string text;
  absl::StatusOr<ExecuteResult> matrix =
      db.engine->LoadAggregate("priority-matrix", "", f.tenant);
  int levels = matrix.ok() ? matrix->priority_matrix().level_names_size() : 5;
  if (!f.matrix.empty()) {
    if (!ReadWholeFile(f.matrix, &text)) {
      return Usage("whatif", absl::StrCat("cannot read ", f.matrix));
    }
    absl::StatusOr<PriorityMatrix> m = ParsePriorityMatrixJson(text);
    if (!m.ok()) {
      return Usage("whatif", absl::StrCat(f.matrix, ": ", m.status().message()));
    }
    levels = m->level_names_size();
    q.matrix = *std::move(m);
  }
  if (!f.policies.empty()) {
    if (!ReadWholeFile(f.policies, &text)) {
      return Usage("whatif", absl::StrCat("cannot read ", f.policies));
    }
    auto policies = LoadSlaPolicyListJson(text, levels);
    if (!policies.ok()) {
      return Usage("whatif",
                   absl::StrCat(f.policies, ": ", policies.status().message()));
    }
    q.policies = *std::move(policies);
  }
  if (!f.calendars.empty()) {
    auto calendars = LoadCalendars(f.calendars);
    if (!calendars.ok()) return Usage("whatif", calendars.status().message());
    q.calendars = *std::move(calendars);
  }
  q.from = FlagInstant(f.from);
  q.to = FlagInstant(f.to);
  q.by = f.by;
  q.tenant = f.tenant;
  q.list_flips = static_cast<size_t>(f.list_flips);
  absl::StatusOr<SlaWhatIfReport> r = db.engine->Simulate(q);
  if (!r.ok()) {
    return r.status().code() == absl::StatusCode::kInvalidArgument
               ? Usage("whatif", r.status().message())
               : Fail("whatif", r.status().ToString());
  }
  const std::string out = FormatSlaWhatIf(*r, f.format);
  std::fwrite(out.data(), 1, out.size(), ToolOut());
  return kExitOk;
}

}  // namespace

CommandRun SetUpWhatIfCommand(CLI::App* app) {
  auto f = std::make_shared<WhatIfFlags>();
  AddDbFlag(app, &f->db);
  app->add_option("--policies", f->policies,
                  "SLA policies (JSON object or array) replacing or adding "
                  "to the ones in force")
      ->type_name("FILE");
  app->add_option("--matrix", f->matrix,
                  "a priority matrix (JSON) to compute incidents' priorities "
                  "again with")
      ->type_name("FILE");
  app->add_option("--calendars", f->calendars,
                  "calendars (JSON object or array) the policies may name")
      ->type_name("FILE");
  app->add_option("--from", f->from, "only clocks started at or after TIME")
      ->type_name("TIME")
      ->check(Rfc3339Instant());
  app->add_option("--to", f->to, "only clocks started before TIME")
      ->type_name("TIME")
      ->check(Rfc3339Instant());
  AddTenantFlag(app, &f->tenant);
  app->add_option("--by", f->by, "a row per priority, service, group or month")
      ->type_name("DIM")
      ->check(OneOf({"priority", "service", "group", "month"}));
  app->add_option("--format", f->format, "table, csv or json")
      ->type_name("FORMAT")
      ->check(OneOf({"table", "csv", "json"}))
      ->capture_default_str();
  app->add_option("--list-flips", f->list_flips,
                  "list the first N clocks whose verdict changes")
      ->type_name("N")
      ->check(NonNegativeInteger())
      ->capture_default_str();
  return [f] { return RunWhatIf(*f); };
}

}  // namespace slate::tools
