// slate import servicenow: imports a ServiceNow incident export (.csv, or a
// .zip holding one) into a database. See lib/import/servicenow_import.h for
// how rows become domain events.
//
//   $ slate import servicenow --db /tmp/sn incident_event_log.zip
//         --matrix examples/servicenow/priority_matrix.json
//         --policies examples/servicenow/policies.json
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
// - `--policies FILE` SLA policies (one, or a JSON array) to validate against
//   the matrix's levels; the engine's own SLA verdicts come from them
//   (`slate kpi`), beside the export's made_sla.
// - `--rejects FILE` where rejected rows go (CSV: line,number,reason,detail).
//   Default: DIR.rejects.csv next to the database directory.
// - On a terminal, a progress bar on stderr; otherwise none.
// Exit codes: 0 imported (rows may have been rejected; see the summary);
// 1 the import failed; 2 bad usage or unreadable input.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "lib/api/engine.h"
#include "lib/domain/priority_matrix.h"
#include "lib/import/servicenow_import.h"
#include "lib/import/sla_policies.h"

namespace slate::tools {
namespace {

constexpr char kUsage[] =
    "usage: slate import servicenow --db DIR FILE [--tz ZONE] "
    "[--policies FILE] [--matrix FILE] [--rejects FILE]\n"
    "  FILE            the export: .csv, or .zip holding one .csv\n"
    "  --db DIR        database directory (created if missing)\n"
    "  --tz ZONE       IANA time zone of the timestamps (default UTC)\n"
    "  --matrix FILE   priority matrix JSON to check priorities against and\n"
    "                  record as the matrix in force (default: the one in "
    "force)\n"
    "  --policies FILE SLA policies JSON (one or an array) to validate\n"
    "  --rejects FILE  rejected rows as CSV (default DIR.rejects.csv)\n";

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

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

int RunServiceNow(int argc, char** argv) {
  std::string db, file, tz_name, policies_path, matrix_path, rejects;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char* flag, std::string* out) {
      if (a == flag) {
        if (i + 1 >= argc) return false;
        *out = argv[++i];
        return true;
      }
      *out = a.substr(std::string(flag).size() + 1);
      return true;
    };
    auto is = [&](const char* flag) {
      return a == flag || absl::StartsWith(a, absl::StrCat(flag, "="));
    };
    bool ok = true;
    if (a == "--help" || a == "-h") {
      std::printf("%s", kUsage);
      return 0;
    } else if (is("--db")) {
      ok = value("--db", &db);
    } else if (is("--tz")) {
      ok = value("--tz", &tz_name);
    } else if (is("--policies")) {
      ok = value("--policies", &policies_path);
    } else if (is("--matrix")) {
      ok = value("--matrix", &matrix_path);
    } else if (is("--rejects")) {
      ok = value("--rejects", &rejects);
    } else if (absl::StartsWith(a, "-")) {
      std::fprintf(stderr, "slate import servicenow: unknown flag %s\n%s",
                   a.c_str(), kUsage);
      return 2;
    } else if (file.empty()) {
      file = a;
    } else {
      std::fprintf(stderr, "slate import servicenow: more than one FILE\n%s",
                   kUsage);
      return 2;
    }
    if (!ok) {
      std::fprintf(stderr, "slate import servicenow: %s needs a value\n%s",
                   a.c_str(), kUsage);
      return 2;
    }
  }
  if (db.empty() || file.empty()) {
    std::fprintf(stderr,
                 "slate import servicenow: --db DIR and FILE are "
                 "required\n%s",
                 kUsage);
    return 2;
  }
  ServiceNowImportOptions opts;
  if (!tz_name.empty() && !absl::LoadTimeZone(tz_name, &opts.tz)) {
    std::fprintf(stderr,
                 "slate import servicenow: --tz \"%s\" is not a known "
                 "time zone\n",
                 tz_name.c_str());
    return 2;
  }
  if (!matrix_path.empty()) {
    std::string json;
    if (!ReadFile(matrix_path, &json)) {
      std::fprintf(stderr, "slate import servicenow: cannot read %s\n",
                   matrix_path.c_str());
      return 2;
    }
    absl::StatusOr<PriorityMatrix> m = LoadPriorityMatrixJson(json);
    if (!m.ok()) {
      std::fprintf(stderr, "slate import servicenow: %s: %s\n",
                   matrix_path.c_str(),
                   std::string(m.status().message()).c_str());
      return 2;
    }
    opts.matrix = *m;
  }
  std::string trimmed_db = db;
  while (trimmed_db.size() > 1 && trimmed_db.back() == '/') {
    trimmed_db.pop_back();
  }
  opts.rejects_path =
      rejects.empty() ? absl::StrCat(trimmed_db, ".rejects.csv") : rejects;
  const bool tty = isatty(fileno(stderr)) != 0;
  if (tty) opts.progress = DrawProgress;

  Options eo;
  eo.durability = Durability::kBulkImport;
  // Projections fold on their own thread while the import appends (the
  // second core); the import waits for them at the end.
  eo.projection_mode = ProjectionMode::kAsync;
  auto engine = Engine::Open(eo, db);
  if (!engine.ok()) {
    std::fprintf(stderr, "slate import servicenow: %s\n",
                 engine.status().ToString().c_str());
    return 2;
  }
  if (!policies_path.empty()) {
    std::string json;
    if (!ReadFile(policies_path, &json)) {
      std::fprintf(stderr, "slate import servicenow: cannot read %s\n",
                   policies_path.c_str());
      return 2;
    }
    absl::StatusOr<ExecuteResult> in_force =
        (*engine)->LoadAggregate("priority-matrix", "");
    const int levels =
        opts.matrix.has_value()
            ? opts.matrix->level_names_size()
            : (in_force.ok() ? in_force->priority_matrix().level_names_size()
                             : 5);
    auto policies = LoadSlaPolicyListJson(json, levels);
    if (!policies.ok()) {
      std::fprintf(stderr, "slate import servicenow: %s: %s\n",
                   policies_path.c_str(),
                   std::string(policies.status().message()).c_str());
      return 2;
    }
    std::printf(
        "sla policies:     %zu valid (%s); the engine's SLA verdicts "
        "come from them, beside made_sla\n",
        policies->size(), policies_path.c_str());
  }
  absl::StatusOr<ServiceNowImportSummary> s =
      ImportServiceNow(engine->get(), file, opts);
  if (tty) std::fprintf(stderr, "\n");
  if (!s.ok()) {
    std::fprintf(stderr, "slate import servicenow: %s\n",
                 s.status().ToString().c_str());
    return s.status().code() == absl::StatusCode::kNotFound ||
                   s.status().code() == absl::StatusCode::kInvalidArgument
               ? 2
               : 1;
  }
  // "Imported" means the engine's projections are current too.
  const absl::Time fold_start = absl::Now();
  absl::Status folded = (*engine)->WaitForProjections(
      (*engine)->NextPosition(), absl::Hours(1));
  const absl::Duration fold_wait = absl::Now() - fold_start;
  if (!folded.ok()) {
    std::fprintf(stderr, "slate import servicenow: projections: %s\n",
                 folded.ToString().c_str());
    return 1;
  }
  absl::StatusOr<ExecuteResult> matrix =
      (*engine)->LoadAggregate("priority-matrix", "");
  std::printf("%s", FormatImportSummary(
                        *s, matrix.ok() ? &matrix->priority_matrix() : nullptr)
                        .c_str());
  const absl::Duration total = s->elapsed + fold_wait;
  std::printf(
      "projections:      current after %.2f s more; import + fold %.2f s = "
      "%.2f s per 100,000 rows\n",
      absl::ToDoubleSeconds(fold_wait), absl::ToDoubleSeconds(total),
      s->rows_read == 0 ? 0.0
                        : absl::ToDoubleSeconds(total) * 100000.0 /
                              static_cast<double>(s->rows_read));
  if (s->rows_rejected > 0) {
    std::printf("rejects:          %s\n", opts.rejects_path.c_str());
  }
  return 0;
}

}  // namespace

int RunImportCommand(int argc, char** argv) {
  if (argc >= 2 && std::string(argv[1]) == "servicenow") {
    return RunServiceNow(argc - 1, argv + 1);
  }
  if (argc >= 2 &&
      (std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h")) {
    std::printf("%s", kUsage);
    return 0;
  }
  std::fprintf(stderr, "slate import: expected a source (servicenow)\n%s",
               kUsage);
  return 2;
}

}  // namespace slate::tools
