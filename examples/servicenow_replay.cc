// servicenow_replay: a real ServiceNow incident export, replayed.
//
//   bazel run //examples:servicenow_replay                # the shared data set
//   bazel run //examples:servicenow_replay -- FILE.csv    # any export (CSV or zip)
//
// Imports the export with the ServiceNow priority matrix and the example SLA
// policy of examples/servicenow/, lets the projections catch up, advances SLA
// time to the end of the log (replay mode: the last event's time), and prints
// a KPI table by priority and the clocks most at risk at that moment.
// Without a file and without ../shared/data it says so and exits 0.
//
// Data: "Incident management process enriched event log", UCI Machine
// Learning Repository, DOI 10.24432/C57S4H, Amaral, Fantinato, Peres (2018),
// CC BY 4.0. Used in place; never copied into the repository.
#include <stdlib.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "lib/api/engine.h"
#include "lib/api/names.h"
#include "lib/import/servicenow_import.h"
#include "lib/import/sla_policies.h"

namespace {

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path);
  if (!in) return false;
  std::stringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

// The shared data set: next to the workspace (bazel run) or the cwd.
std::string DefaultDataPath() {
  const char* ws = std::getenv("BUILD_WORKSPACE_DIRECTORY");
  const std::string base = ws != nullptr ? std::string(ws) + "/.." : "..";
  return base + "/shared/data/incident_event_log.zip";
}

int Run(const std::string& db, const std::string& file) {
  // Config files are data dependencies: runfiles-relative under bazel.
  std::string matrix_json, policies_json;
  if (!ReadFile("examples/servicenow/priority_matrix.json", &matrix_json) ||
      !ReadFile("examples/servicenow/policies.json", &policies_json)) {
    std::cerr << "servicenow_replay: examples/servicenow/*.json not found "
                 "(run it with bazel run)\n";
    return 1;
  }
  auto matrix = slate::ParsePriorityMatrixJson(matrix_json);
  if (!matrix.ok()) {
    std::cerr << "servicenow_replay: matrix: " << matrix.status() << "\n";
    return 1;
  }
  auto policies =
      slate::LoadSlaPolicyListJson(policies_json, matrix->level_names_size());
  if (!policies.ok()) {
    std::cerr << "servicenow_replay: policies: " << policies.status() << "\n";
    return 1;
  }

  slate::Options options;
  options.durability = slate::Durability::kBulkImport;  // Flushed on close.
  options.projection_mode = slate::ProjectionMode::kAsync;
  auto opened = slate::Engine::Open(options, db);
  if (!opened.ok()) {
    std::cerr << "servicenow_replay: " << opened.status() << "\n";
    return 1;
  }
  slate::Engine& engine = **opened;

  // The SLA policy is configuration in the log, dated before the data.
  for (const slate::SlaPolicy& p : *policies) {
    slate::Command c;
    c.set_command_id(absl::StrCat("replay-policy-", p.id()));
    c.mutable_define_sla_policy()->set_at("2016-01-01T00:00:00Z");
    *c.mutable_define_sla_policy()->mutable_policy() = p;
    auto r = engine.Execute(c);
    if (!r.ok()) {
      std::cerr << "servicenow_replay: policy " << p.id() << ": " << r.status()
                << "\n";
      return 1;
    }
  }

  slate::ServiceNowImportOptions import_options;
  import_options.matrix = *matrix;
  import_options.rejects_path = db + ".rejects.csv";
  auto summary = slate::ImportServiceNow(&engine, file, import_options);
  if (!summary.ok()) {
    std::cerr << "servicenow_replay: import: " << summary.status() << "\n";
    return 1;
  }
  absl::Status folded =
      engine.WaitForProjections(engine.NextPosition(), absl::InfiniteDuration());
  if (!folded.ok()) {
    std::cerr << "servicenow_replay: projections: " << folded << "\n";
    return 1;
  }
  std::cout << "Imported " << summary->rows_imported << " of "
            << summary->rows_read << " rows (" << summary->rows_rejected
            << " rejected, reasons in " << import_options.rejects_path
            << "): " << summary->events_appended << " events, "
            << summary->incidents << " incidents.\n";

  // Replay mode: SLA time is the time of the last event.
  auto fired = engine.AdvanceToWatermark();
  if (!fired.ok()) {
    std::cerr << "servicenow_replay: advance: " << fired.status() << "\n";
    return 1;
  }
  if (!engine.WaitForProjections(engine.NextPosition(),
                                 absl::InfiniteDuration())
           .ok()) {
    return 1;
  }
  absl::Time end = absl::UnixEpoch();
  for (const slate::Envelope& e : *fired) {
    end = std::max(end, absl::FromUnixMicros(e.occurred_at_us()));
  }
  std::cout << "SLA replay to the end of the log fired " << fired->size()
            << " warning/breach events.\n\n";
  // The log's end in event time: the latest fired instant or last event.
  absl::Time last = end;
  auto tail = engine.ReadAll(std::max<int64_t>(0, engine.NextPosition() - 1), 1);
  if (tail.ok() && !tail->empty()) {
    last = std::max(last, absl::FromUnixMicros(tail->front().occurred_at_us()));
  }

  slate::KpiQuery q;
  q.by = {slate::KpiDimension::kPriority};
  q.bucket = slate::KpiBucket::kMonth;
  q.now = last;
  q.to = last + absl::Hours(24);
  slate::KpiTables tables;
  tables.availability = false;
  auto report = engine.FormatKpis(q, slate::KpiFormat::kTable, tables);
  if (!report.ok()) {
    std::cerr << "servicenow_replay: kpi: " << report.status() << "\n";
    return 1;
  }
  std::cout << *report;

  // At risk at the end of the log: running clocks due within 8 hours of the
  // last event.
  auto at_risk = engine.AtRisk(last, absl::Hours(8), {}, 10);
  if (!at_risk.ok()) {
    std::cerr << "servicenow_replay: at-risk: " << at_risk.status() << "\n";
    return 1;
  }
  std::cout << "\nAt risk within 8h of the log's end ("
            << absl::FormatTime("%Y-%m-%d %H:%M UTC", last,
                                absl::UTCTimeZone())
            << "): " << at_risk->size() << "\n";
  for (const slate::SlaClockView& c : *at_risk) {
    std::cout << "  " << c.record << "  P" << c.priority << "  due "
              << absl::FormatTime("%Y-%m-%d %H:%M",
                                  absl::FromUnixMicros(c.state.deadline_us()),
                                  absl::UTCTimeZone())
              << "  group " << (c.group.empty() ? "-" : c.group) << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string db, file;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
      db = argv[++i];
    } else if (argv[i][0] == '-') {
      std::cerr << "usage: servicenow_replay [--db DIR] [FILE]\n";
      return 2;
    } else {
      file = argv[i];
    }
  }
  if (file.empty()) {
    file = DefaultDataPath();
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) {
      std::cout << "servicenow_replay: the shared data set is not at " << file
                << " (see ../shared/data/README.md); nothing to replay. "
                   "Pass an export's path to replay another file.\n";
      return 0;
    }
  }
  bool temporary = db.empty();
  if (temporary) {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "slate-replay-XXXXXX")
            .string();
    if (mkdtemp(tmpl.data()) == nullptr) return 1;
    db = tmpl + "/db";
  }
  int rc = Run(db, file);
  if (temporary) {
    std::error_code ec;
    std::filesystem::remove_all(std::filesystem::path(db).parent_path(), ec);
  }
  return rc;
}
