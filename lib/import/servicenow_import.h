// Imports a ServiceNow incident export (CSV, or a .zip holding one) into a
// Slate database as domain events. Used by `slate import servicenow`.
//
//   slate::ServiceNowImportOptions opts;
//   opts.tz = tz;                                 // event times' zone
//   opts.matrix = *slate::LoadPriorityMatrixJson(json);
//   opts.rejects_path = "/var/lib/slate.rejects.csv";
//   absl::StatusOr<slate::ServiceNowImportSummary> s =
//       slate::ImportServiceNow(engine.get(), "incident_event_log.zip", opts);
//   std::cout << slate::FormatImportSummary(*s);
//
// Contract:
//  - Streaming: rows are read and parsed on a thread of their own, handed
//    to the importing thread in order in chunks of 512 (at most four
//    waiting); memory holds those, one incident's rows (an export groups an
//    incident's rows together) and the ids of the problems and changes the
//    export refers to.
//  - Each incident's rows are ordered by (sys_updated_at, sys_mod_count, line)
//    and turned into domain commands that the pure domain functions
//    (lib/domain/incident.h) decide against the incident's state, row by row:
//    the first row opens the incident (at opened_at when that is not later
//    than the row), then each row reopens it if it was Resolved or Closed and
//    the row's state is open, assigns (group, person), sets impact/urgency,
//    links a problem (problem_id) or change (rfc: FIXED_BY, caused_by:
//    CAUSED_BY), records changed details (IncidentDetailsUpdated) and moves
//    to the row's state: Active = In Progress, Awaiting User Info / Vendor /
//    Problem / Evidence = On Hold with reason AWAITING_CALLER / _VENDOR /
//    _PROBLEM / _EVIDENCE (from one hold reason to another: resume, then
//    hold), Resolved (resolution code = closed_code), Closed. A row that
//    changes nothing the domain models still gets an IncidentDetailsUpdated,
//    so every imported row is in the log. Every event carries the row's
//    ServiceNowRowMeta (made_sla, knowledge, u_priority_confirmation,
//    location, ...).
//  - A field change is applied when the row differs from the previous row of
//    the incident and from the incident's state, so one refused change is
//    reported once.
//  - A row that cannot be applied is not imported (none of its events): an
//    unparseable row, an unknown state, a transition the domain refuses. It
//    goes to the rejects file with line, number and reason; the import goes
//    on with the next row.
//  - Problems and changes the rows refer to are linked as external
//    references (LinkIncidentToProblem / LinkIncidentToChange with
//    `external`): the export holds no record of them, so no problem or
//    change record is created and no change KPI counts them (imports before
//    external references created placeholder records marked
//    ServiceNowRowMeta.placeholder, which the KPIs skip). Ids are the
//    export's with each run of spaces replaced by '_' ("Problem ID  14" ->
//    "Problem_ID_14"). The import does not look these ids up in the
//    database (one that holds placeholders from an earlier import keeps
//    them).
//  - Event ids derive from the row's content: "sn:<number>:<hash>:<n>"
//    (hash of every field of the row; a repeated identical row adds "#k").
//    An incident whose stream already holds a prefix of the events this
//    import produces for it gets only the rest; so importing the same file
//    again appends nothing, and an interrupted import run again completes
//    without duplicates. A stream holding anything else is left alone and
//    its rows are rejected ("incident stream differs").
//  - The priority recorded on each row is checked against `matrix`.
//  - Returns kInvalidArgument for an input that is not a ServiceNow export
//    (missing columns) before anything is written; kNotFound for a missing
//    file; log errors as they come (what was appended stays: rerun).
#ifndef SLATE_LIB_IMPORT_SERVICENOW_IMPORT_H_
#define SLATE_LIB_IMPORT_SERVICENOW_IMPORT_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lib/api/engine.h"
#include "lib/domain/policy.h"
#include "lib/import/csv_reader.h"
#include "proto/events.pb.h"

namespace slate {

struct ImportProgress {
  int64_t rows_read = 0;
  int64_t bytes_read = 0;
  int64_t total_bytes = -1;  // -1: unknown.
  absl::Duration elapsed;
};

// DomainPolicy() with the rules a real ServiceNow export breaks relaxed, so
// its rows are imported rather than rejected (in the UCI event log: 77 rows
// assign a Resolved or Closed incident, 16 close one never resolved, 13
// reopen one closed more than 30 days before):
// allow_assign_when_resolved, allow_close_without_resolve, and no reopen
// window (reopen_closed_window = absl::InfiniteDuration()); and, for the
// problem management done on its history afterwards (every exported
// incident is Closed), allow_link_closed_incidents. Every other choice is
// DomainPolicy()'s. The events these decisions append are facts:
// a rebuild folds them the same way, whatever policy later commands use.
DomainPolicy ServiceNowDomainPolicy();

struct ServiceNowImportOptions {
  // The tenant the incidents belong to (lib/api/tenant.h): their streams,
  // event ids and the matrix checked and recorded are the tenant's.
  // Default: "" (the default tenant).
  std::string tenant;

  // Time zone of the export's timestamps. Default: UTC.
  absl::TimeZone tz = absl::UTCTimeZone();

  // The priority matrix the rows' priorities are checked against and the
  // domain computes priorities with. When set and different from the
  // matrix in force in the database, it is recorded (PriorityMatrixSet)
  // before the import. Default: the matrix in force in the database.
  std::optional<PriorityMatrix> matrix;

  // The domain rules the rows are decided under. Default:
  // ServiceNowDomainPolicy() (the rules the real exports break relaxed);
  // DomainPolicy() rejects those rows instead.
  DomainPolicy policy = ServiceNowDomainPolicy();

  // Rejected rows go here as CSV: line,number,reason,detail. Empty: not
  // written. Default: empty.
  std::string rejects_path;

  // Called about every `progress_every_rows` rows and once at the end.
  // Default: none.
  std::function<void(const ImportProgress&)> progress;
  int64_t progress_every_rows = 8192;

  // Test hook: stop (as if interrupted) after this many incidents have been
  // appended. Negative: never. Default: -1.
  int64_t stop_after_incidents = -1;
};

struct PriorityDisagreement {
  int impact = 0;
  int urgency = 0;
  int recorded = 0;  // The row's priority.
  int computed = 0;  // The matrix's.
  int64_t rows = 0;
  std::vector<std::string> examples;  // "INC0000045 (line 2)", at most 5.
};

struct ServiceNowImportSummary {
  int64_t rows_read = 0;      // Data rows (the header excluded).
  int64_t rows_imported = 0;  // Rows whose events are in the log.
  int64_t rows_rejected = 0;
  // Rejected rows by reason category, e.g. "unknown state" -> 5.
  std::map<std::string, int64_t> rejected_by_reason;
  // Changes the domain has no event for, kept on the rows' metadata only,
  // e.g. "assignment group cleared" -> 3329.
  std::map<std::string, int64_t> not_mapped;
  int64_t events_appended = 0;
  int64_t events_already_present = 0;  // Found in the log (re-import).
  int64_t incidents = 0;               // Distinct incidents with events.
  int64_t incidents_appended = 0;      // Incidents this run appended to.
  int64_t problems = 0;          // Distinct external problem ids referred to.
  int64_t changes = 0;           // Distinct external change ids referred to.
  bool matrix_recorded = false;  // A PriorityMatrixSet was appended.
  bool interrupted = false;      // stop_after_incidents was hit.
  // Priority agreement over the rows that parsed.
  int64_t priority_rows_checked = 0;
  int64_t priority_rows_agreeing = 0;
  std::vector<PriorityDisagreement> priority_disagreements;
  absl::Duration elapsed;
};

// Imports `path` (.csv or .zip) into `engine`. See the contract above.
absl::StatusOr<ServiceNowImportSummary> ImportServiceNow(
    Engine* engine, const std::string& path,
    const ServiceNowImportOptions& options);

// The same from any byte source.
absl::StatusOr<ServiceNowImportSummary> ImportServiceNowFrom(
    Engine* engine, ByteSource* source, const ServiceNowImportOptions& options);

// The human-readable summary the tool prints (several lines).
std::string FormatImportSummary(const ServiceNowImportSummary& s,
                                const PriorityMatrix* matrix);

// The tool's last summary line: how long the projections took to catch up
// after the import (`fold_wait`), and import + fold in all. The rate per
// 100,000 rows is given from kImportRateMinRows rows read on; below that
// start-up costs dominate and the rate would mislead.
inline constexpr int64_t kImportRateMinRows = 10000;
std::string FormatImportTiming(const ServiceNowImportSummary& s,
                               absl::Duration fold_wait);

// "Problem ID  14" -> "Problem_ID_14": each run of characters an aggregate id
// may not hold becomes one '_'.
std::string SanitizeServiceNowId(const std::string& raw);

}  // namespace slate

#endif  // SLATE_LIB_IMPORT_SERVICENOW_IMPORT_H_
