// slate import servicenow: imports a ServiceNow incident export (.csv, or a
// .zip holding one) into a database. See lib/import/servicenow_import.h for
// how rows become domain events.
//
//   $ slate import servicenow --db /tmp/sn incident_event_log.zip
//         --matrix examples/servicenow/priority_matrix.json
//         --policies examples/servicenow/policies.json
//   sla policies:     1 defined, 0 already in force (examples/servicenow/...)
//   rows read:        141712
//   ...
//
// - `--db DIR` (required) opens or creates the database. The import writes
//   in bulk mode (no WAL) and flushes at the end: a crash during the import
//   loses that import's events (never older data); run it again.
// - `--tz ZONE` IANA zone of the export's timestamps. Default: UTC.
// - `--matrix FILE` priority matrix JSON (proto/events.proto PriorityMatrix);
//   rows' priorities are checked against it and it becomes the matrix in
//   force. Default: the database's matrix in force.
// - `--policies FILE` SLA policies (one, or a JSON array; proto/sla.proto),
//   validated against the matrix's levels and defined in the engine before
//   the rows are imported (DefineSlaPolicy commands, as
//   examples/servicenow_replay does), so `slate kpi` shows the engine's own
//   SLA verdicts beside the export's made_sla. A calendar a policy names is
//   the built-in "24x7", a CalendarSpec file <calendarId>.json in FILE's
//   directory (defined too), or one the database defines already; any other
//   is bad input. Everything is validated before anything is written, and a
//   policy or calendar identical to the one in force appends nothing, so
//   importing again defines nothing new.
// - `--rejects FILE` where rejected rows go (CSV: line,number,reason,detail).
//   Default: DIR.rejects.csv next to the database directory.
// - `--strict`: decide the rows under the engine's default domain rules
//   (DomainPolicy()), so rows that assign a Resolved or Closed incident,
//   close one never resolved or reopen one closed more than 30 days before
//   are rejected. Default: off, the rows are decided under
//   ServiceNowDomainPolicy() (lib/import/servicenow_import.h) and imported.
// - `--tenant T`: the tenant (lib/api/tenant.h) the incidents belong to;
//   the matrix checked and set, the policies and calendars defined are T's,
//   and a calendar T has not defined may be the default tenant's. Default:
//   default.
// - On a terminal, a progress bar on stderr; otherwise none.
// Exit codes (tools/cli.h): 0 imported (rows may have been rejected; see the
// summary); 1 the import or the database failed; 2 bad usage or unreadable
// or invalid input (the export, --matrix, --policies or a calendar file).
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "lib/api/calendar.h"
#include "lib/api/engine.h"
#include "lib/api/names.h"
#include "lib/api/tenant.h"
#include "lib/import/csv_reader.h"
#include "lib/import/servicenow_format.h"
#include "lib/import/servicenow_import.h"
#include "lib/import/sla_policies.h"
#include "proto/calendar.pb.h"
#include "proto/sla.pb.h"
#include "tools/cli.h"

namespace slate::tools {
namespace {

constexpr char kCommand[] = "import servicenow";

struct ServiceNowFlags {
  std::string file;
  std::string db;
  std::string tz;
  std::string matrix;
  std::string policies;
  std::string rejects;
  bool strict = false;
  std::string tenant;
};

std::string Thousands(int64_t v) {
  std::string digits = absl::StrCat(v < 0 ? -v : v);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return v < 0 ? "-" + out : out;
}

void DrawProgress(const ImportProgress& p) {
  const double secs = absl::ToDoubleSeconds(p.elapsed);
  const double rate = secs > 0 ? static_cast<double>(p.rows_read) / secs : 0;
  double frac = -1;
  if (p.total_bytes > 0) {
    frac = std::min(1.0, static_cast<double>(p.bytes_read) /
                             static_cast<double>(p.total_bytes));
  }
  constexpr int kWidth = 30;
  std::string bar;
  const int filled = frac < 0 ? 0 : static_cast<int>(frac * kWidth);
  bar.append(filled, '#');
  bar.append(kWidth - filled, '.');
  std::string left = "?";
  if (frac > 0) {
    left = absl::StrFormat("%.1f s", secs * (1 - frac) / frac);
  }
  std::fprintf(stderr, "\r[%s] %3.0f%%  %s rows  %s rows/s  %s left   ",
               bar.c_str(), frac < 0 ? 0.0 : frac * 100,
               Thousands(p.rows_read).c_str(),
               Thousands(static_cast<int64_t>(rate)).c_str(), left.c_str());
  std::fflush(stderr);
}

// What --policies defines: the policies and the calendar files they name,
// every one validated.
struct PolicySet {
  std::vector<SlaPolicy> policies;
  std::vector<CalendarSpec> calendars;
};

// Loads --policies FILE for a matrix with `levels` levels, and each calendar
// its policies name that is neither "24x7" nor defined in `engine` already
// from <calendarId>.json next to FILE. kInvalidArgument names the file and
// what is wrong with it.
absl::StatusOr<PolicySet> LoadPolicySet(const std::string& path, int levels,
                                        Engine& engine,
                                        const std::string& tenant) {
  std::string json;
  if (!ReadWholeFile(path, &json)) {
    return absl::InvalidArgumentError(absl::StrCat("cannot read ", path));
  }
  absl::StatusOr<std::vector<SlaPolicy>> policies = LoadSlaPolicyListJson(
      absl::string_view(json.data(), json.size()), levels);
  if (!policies.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", policies.status().message()));
  }
  PolicySet set;
  set.policies = *std::move(policies);
  const std::filesystem::path dir = std::filesystem::path(path).parent_path();
  std::set<std::string> seen = {"24x7"};
  for (const SlaPolicy& p : set.policies) {
    const std::string& id = p.calendar_id();
    if (!seen.insert(id).second) continue;
    const std::string file = (dir / (id + ".json")).string();
    std::string text;
    if (!ReadWholeFile(file, &text)) {
      // The tenant's calendar, else the default tenant's (shared).
      absl::StatusOr<std::vector<Envelope>> defined = engine.ReadStream(
          TenantStream(tenant, absl::StrCat("calendar/", id)), 0, 1);
      if (!defined.ok()) return defined.status();
      if (defined->empty()) {
        defined = engine.ReadStream(absl::StrCat("calendar/", id), 0, 1);
        if (!defined.ok()) return defined.status();
      }
      if (!defined->empty()) continue;  // The database defines it.
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": policy ", p.id(), ": calendar \"", id,
          "\" is not 24x7, not defined in the database and not a file ", file));
    }
    CalendarSpec spec;
    const auto parsed =
        google::protobuf::util::JsonStringToMessage(text, &spec);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(file, ": calendar JSON: ", parsed.ToString()));
    }
    const absl::Status valid = Calendar::FromSpec(spec).status();
    if (!valid.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(file, ": ", valid.message()));
    }
    if (spec.name() != id) {
      return absl::InvalidArgumentError(
          absl::StrCat(file, ": name is \"", spec.name(), "\", policy ", p.id(),
                       " needs calendar \"", id, "\""));
    }
    set.calendars.push_back(std::move(spec));
  }
  return set;
}

// How many definitions a DefinePolicySet appended, and how many were
// identical to the ones in force.
struct DefineCounts {
  int calendars_defined = 0;
  int calendars_unchanged = 0;
  int policies_defined = 0;
  int policies_unchanged = 0;
};

// Defines the calendars, then the policies, through Engine::Execute
// (DefineCalendar / DefineSlaPolicy, dated `at`). One identical to the
// definition in force appends nothing.
absl::StatusOr<DefineCounts> DefinePolicySet(Engine& engine,
                                             const PolicySet& set,
                                             absl::Time at,
                                             const std::string& tenant) {
  const std::string when =
      absl::FormatTime("%Y-%m-%d%ET%H:%M:%SZ", at, absl::UTCTimeZone());
  DefineCounts counts;
  auto appended = [](const ExecuteResult& r) {
    return r.appends_size() > 0 && !r.idempotent_replay();
  };
  for (const CalendarSpec& spec : set.calendars) {
    Command c;
    c.set_tenant_id(tenant);
    c.mutable_define_calendar()->set_at(when);
    *c.mutable_define_calendar()->mutable_spec() = spec;
    absl::StatusOr<ExecuteResult> r = engine.Execute(c);
    if (!r.ok()) return r.status();
    (appended(*r) ? counts.calendars_defined : counts.calendars_unchanged)++;
  }
  for (const SlaPolicy& p : set.policies) {
    Command c;
    c.set_tenant_id(tenant);
    c.mutable_define_sla_policy()->set_at(when);
    *c.mutable_define_sla_policy()->mutable_policy() = p;
    absl::StatusOr<ExecuteResult> r = engine.Execute(c);
    if (!r.ok()) return r.status();
    (appended(*r) ? counts.policies_defined : counts.policies_unchanged)++;
  }
  return counts;
}

// OK when `path` opens (plain CSV or zip) and starts with a ServiceNow
// export's header; kNotFound or kInvalidArgument naming the problem.
absl::Status CheckExportHeader(const std::string& path) {
  absl::StatusOr<std::unique_ptr<ByteSource>> source = OpenImportSource(path);
  if (!source.ok()) return source.status();
  CsvReader csv(source->get(), 1 << 16);
  CsvRecord rec;
  absl::StatusOr<bool> any = csv.Next(&rec);
  if (!any.ok()) return any.status();
  if (!*any || !rec.error.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat((*source)->Name(), ": no CSV header"));
  }
  absl::Status columns = ServiceNowColumns::FromHeader(rec.fields).status();
  if (!columns.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat((*source)->Name(), ": ", columns.message()));
  }
  return absl::OkStatus();
}

int RunServiceNow(const ServiceNowFlags& f) {
  ServiceNowImportOptions opts;
  if (f.strict) opts.policy = DomainPolicy();
  if (TenantOrDefault(f.tenant) != kDefaultTenant) opts.tenant = f.tenant;
  // --tz was validated while parsing (tools/cli.h).
  if (!f.tz.empty() && !absl::LoadTimeZone(f.tz, &opts.tz)) {
    return Usage(kCommand, "--tz");
  }
  // The export's header before anything is written (the policies are
  // defined before the rows are imported).
  const absl::Status header = CheckExportHeader(f.file);
  if (!header.ok()) {
    return Fail(kCommand, header.ToString(),
                header.code() == absl::StatusCode::kNotFound ||
                        header.code() == absl::StatusCode::kInvalidArgument
                    ? kExitUsage
                    : kExitFailed);
  }
  if (!f.matrix.empty()) {
    std::string json;
    if (!ReadWholeFile(f.matrix, &json)) {
      return Usage(kCommand, absl::StrCat("cannot read ", f.matrix));
    }
    absl::StatusOr<PriorityMatrix> m = ParsePriorityMatrixJson(json);
    if (!m.ok()) {
      return Usage(kCommand,
                   absl::StrCat(f.matrix, ": ", m.status().message()));
    }
    opts.matrix = *m;
  }
  std::string trimmed_db = f.db;
  while (trimmed_db.size() > 1 && trimmed_db.back() == '/') {
    trimmed_db.pop_back();
  }
  opts.rejects_path =
      f.rejects.empty() ? absl::StrCat(trimmed_db, ".rejects.csv") : f.rejects;
  const bool tty = isatty(fileno(stderr)) != 0;
  if (tty) opts.progress = DrawProgress;

  Options eo;
  eo.durability = Durability::kBulkImport;
  // Projections fold on their own thread while the import appends (the
  // second core); the import waits for them at the end.
  eo.projection_mode = ProjectionMode::kAsync;
  int code = kExitOk;
  OpenedEngine db = OpenEngine(kCommand, eo, f.db, std::nullopt, &code);
  if (db.engine == nullptr) return code;
  Engine& engine = *db.engine;
  if (!f.policies.empty()) {
    absl::StatusOr<ExecuteResult> in_force =
        engine.LoadAggregate("priority-matrix", "", f.tenant);
    const int levels =
        opts.matrix.has_value()
            ? opts.matrix->level_names_size()
            : (in_force.ok() ? in_force->priority_matrix().level_names_size()
                             : 5);
    absl::StatusOr<PolicySet> set = LoadPolicySet(f.policies, levels, engine, opts.tenant);
    if (!set.ok()) {
      return Fail(kCommand, set.status().message(),
                  set.status().code() == absl::StatusCode::kInvalidArgument
                      ? kExitUsage
                      : kExitFailed);
    }
    absl::StatusOr<DefineCounts> counts =
        DefinePolicySet(engine, *set, absl::Now(), opts.tenant);
    if (!counts.ok()) {
      return Fail(kCommand, absl::StrCat("defining the SLA policies: ",
                                         counts.status().ToString()));
    }
    if (!set->calendars.empty()) {
      std::printf("calendars:        %d defined, %d already in force\n",
                  counts->calendars_defined, counts->calendars_unchanged);
    }
    std::printf(
        "sla policies:     %d defined, %d already in force (%s); the "
        "engine's SLA verdicts (slate kpi) come from them, beside made_sla\n",
        counts->policies_defined, counts->policies_unchanged,
        f.policies.c_str());
  }
  absl::StatusOr<ServiceNowImportSummary> s =
      ImportServiceNow(&engine, f.file, opts);
  if (tty) std::fprintf(stderr, "\n");
  if (!s.ok()) {
    return Fail(kCommand, s.status().ToString(),
                s.status().code() == absl::StatusCode::kNotFound ||
                        s.status().code() == absl::StatusCode::kInvalidArgument
                    ? kExitUsage
                    : kExitFailed);
  }
  // "Imported" means the engine's projections are current too.
  const absl::Time fold_start = absl::Now();
  absl::Status folded =
      engine.WaitForProjections(engine.NextPosition(), absl::Hours(1));
  const absl::Duration fold_wait = absl::Now() - fold_start;
  if (!folded.ok()) {
    return Fail(kCommand, absl::StrCat("projections: ", folded.ToString()));
  }
  absl::StatusOr<ExecuteResult> matrix =
      engine.LoadAggregate("priority-matrix", "");
  std::printf("%s", FormatImportSummary(
                        *s, matrix.ok() ? &matrix->priority_matrix() : nullptr)
                        .c_str());
  std::printf("%s", FormatImportTiming(*s, fold_wait).c_str());
  if (s->rows_rejected > 0) {
    std::printf("rejects:          %s\n", opts.rejects_path.c_str());
  }
  return kExitOk;
}

}  // namespace

CommandRun SetUpImportCommand(CLI::App* app) {
  auto f = std::make_shared<ServiceNowFlags>();
  app->require_subcommand(1);
  CLI::App* sn = app->add_subcommand(
      "servicenow", "import a ServiceNow incident export (CSV or zip)");
  sn->add_option("FILE", f->file,
                 "the export: a .csv, or a .zip holding one .csv")
      ->required()
      ->type_name("");
  AddDbFlag(sn, &f->db);
  sn->add_option("--tz", f->tz,
                 "IANA time zone of the export's timestamps (default: UTC)")
      ->type_name("ZONE")
      ->check(KnownTimeZone());
  sn->add_option("--policies", f->policies,
                 "SLA policies JSON (one or an array) to define in the engine")
      ->type_name("FILE");
  sn->add_option("--matrix", f->matrix,
                 "priority matrix JSON to check and set (default: the one in "
                 "force)")
      ->type_name("FILE");
  sn->add_option("--rejects", f->rejects,
                 "where rejected rows go, CSV (default: DIR.rejects.csv)")
      ->type_name("FILE");
  sn->add_flag("--strict", f->strict,
               "decide rows under the default domain rules (DomainPolicy()); "
               "rows that break them are rejected (default: off, the "
               "ServiceNow rules)");
  AddTenantFlag(sn, &f->tenant)
      ->description(
          "the tenant the incidents, policies and calendars belong to "
          "(default: default)");
  return [f] { return RunServiceNow(*f); };
}

}  // namespace slate::tools
