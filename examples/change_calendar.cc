// change_calendar: change management on the engine.
//
//   bazel run //examples:change_calendar
//
// A standard change (pre-approved), a high-risk normal change that needs a
// CAB quorum, an emergency change that collides with a blackout window (refused
// with every conflict listed, then scheduled with an explicit override), and a
// normal change that fails, is rolled back and caused an incident. Ends with
// the change KPIs for the month.
#include <stdlib.h>

#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "lib/api/engine.h"

namespace {

struct Step {
  const char* say;
  const char* json;
  bool expect_ok;
};

// Times are November 2026; the engine clock is set after them.
const std::vector<Step>& Script() {
  static const std::vector<Step>* steps = new std::vector<Step>{
      {"catalog: service crm with CIs db1, app1", R"({"commandId":"cc-svc","defineService":{"serviceId":"crm","name":"CRM","at":"2026-11-01T08:00:00Z","configurationItems":["db1","app1"]}})", true},
      {"blackout: quarter-end close, Nov 30 - Dec 2", R"({"commandId":"cc-freeze","addServiceBlackout":{"serviceId":"crm","at":"2026-11-01T08:05:00Z","windowId":"quarter-end","start":"2026-11-30T00:00:00Z","end":"2026-12-02T00:00:00Z","reason":"quarter-end close"}})", true},
      {"CHG1 standard: rotate a certificate (pre-approved, no CAB)", R"({"commandId":"cc-1","requestChange":{"changeId":"CHG1","at":"2026-11-02T09:00:00Z","type":"STANDARD","title":"Rotate db1 certificate","serviceIds":["crm"],"configurationItems":["db1"],"impact":3}})", true},
      {"CHG1 scheduled", R"({"commandId":"cc-1s","scheduleChange":{"changeId":"CHG1","at":"2026-11-02T09:05:00Z","start":"2026-11-03T20:00:00Z","end":"2026-11-03T20:30:00Z"}})", true},
      {"CHG1 implemented", R"({"commandId":"cc-1i","startChangeImplementation":{"changeId":"CHG1","at":"2026-11-03T20:00:00Z"}})", true},
      {"CHG1 done", R"({"commandId":"cc-1d","completeChangeImplementation":{"changeId":"CHG1","at":"2026-11-03T20:20:00Z"}})", true},
      {"CHG1 closed: successful", R"({"commandId":"cc-1c","closeChange":{"changeId":"CHG1","at":"2026-11-04T09:00:00Z","outcome":"SUCCESSFUL"}})", true},
      {"CHG2 normal, impact 1, untested: high risk", R"({"commandId":"cc-2","requestChange":{"changeId":"CHG2","at":"2026-11-10T09:00:00Z","type":"NORMAL","title":"Upgrade CRM database","serviceIds":["crm"],"configurationItems":["db1"],"impact":1,"riskAnswers":{"untested":true}}})", true},
      {"CHG2 assessed, sent to CAB", R"({"commandId":"cc-2a","startChangeAssessment":{"changeId":"CHG2","at":"2026-11-10T10:00:00Z"}})", true},
      {"", R"({"commandId":"cc-2r","requestChangeAuthorization":{"changeId":"CHG2","at":"2026-11-10T11:00:00Z"}})", true},
      {"CHG2 one CAB approval is not a quorum: scheduling is refused", R"({"commandId":"cc-2ap1","approveChange":{"changeId":"CHG2","at":"2026-11-11T10:00:00Z","approver":"alice","role":"cab"}})", true},
      {"", R"({"commandId":"cc-2s-early","scheduleChange":{"changeId":"CHG2","at":"2026-11-11T10:30:00Z","start":"2026-11-14T22:00:00Z","end":"2026-11-15T02:00:00Z"}})", false},
      {"CHG2 two more CAB approvals: quorum of 3 reached", R"({"commandId":"cc-2ap2","approveChange":{"changeId":"CHG2","at":"2026-11-11T11:00:00Z","approver":"bruno","role":"cab"}})", true},
      {"", R"({"commandId":"cc-2ap3","approveChange":{"changeId":"CHG2","at":"2026-11-11T11:05:00Z","approver":"chen","role":"cab"}})", true},
      {"CHG2 scheduled", R"({"commandId":"cc-2s","scheduleChange":{"changeId":"CHG2","at":"2026-11-11T12:00:00Z","start":"2026-11-14T22:00:00Z","end":"2026-11-15T02:00:00Z"}})", true},
      {"CHG2 implementation fails and is rolled back", R"({"commandId":"cc-2i","startChangeImplementation":{"changeId":"CHG2","at":"2026-11-14T22:00:00Z"}})", true},
      {"", R"({"commandId":"cc-2d","completeChangeImplementation":{"changeId":"CHG2","at":"2026-11-15T01:00:00Z","notes":"migration failed, restored backup"}})", true},
      {"INC7 opened: CRM slow after the failed upgrade", R"({"commandId":"cc-inc","openIncident":{"incidentId":"INC7","at":"2026-11-15T07:00:00Z","serviceId":"crm","impact":2,"urgency":2,"contactType":"EMAIL"}})", true},
      {"INC7 linked as caused by CHG2", R"({"commandId":"cc-link","linkIncidentToChange":{"incidentId":"INC7","at":"2026-11-15T08:00:00Z","changeId":"CHG2","relation":"CAUSED_BY"}})", true},
      {"CHG2 closed: rolled back, with review notes", R"({"commandId":"cc-2c","closeChange":{"changeId":"CHG2","at":"2026-11-16T09:00:00Z","outcome":"ROLLED_BACK","reviewNotes":"restore tested; retry with rehearsal"}})", true},
      {"CHG3 emergency: patch an auth bypass (ECAB)", R"({"commandId":"cc-3","requestChange":{"changeId":"CHG3","at":"2026-11-29T08:00:00Z","type":"EMERGENCY","title":"Patch CRM auth bypass","serviceIds":["crm"],"configurationItems":["app1"],"impact":1}})", true},
      {"", R"({"commandId":"cc-3r","requestChangeAuthorization":{"changeId":"CHG3","at":"2026-11-29T08:05:00Z"}})", true},
      {"", R"({"commandId":"cc-3ap","approveChange":{"changeId":"CHG3","at":"2026-11-29T08:10:00Z","approver":"dana","role":"ecab"}})", true},
      {"CHG3 inside the quarter-end blackout: refused, conflicts listed", R"({"commandId":"cc-3s-try","scheduleChange":{"changeId":"CHG3","at":"2026-11-29T08:15:00Z","start":"2026-11-30T06:00:00Z","end":"2026-11-30T07:00:00Z"}})", false},
      {"CHG3 scheduled with an explicit override (recorded)", R"({"commandId":"cc-3s","scheduleChange":{"changeId":"CHG3","at":"2026-11-29T08:20:00Z","start":"2026-11-30T06:00:00Z","end":"2026-11-30T07:00:00Z","overrideReason":"security fix cannot wait for quarter-end"}})", true},
  };
  return *steps;
}

int Run(const std::string& db) {
  slate::SimulatedClock clock(absl::FromUnixSeconds(1796083200));  // Nov 30
  slate::Options options;
  options.clock = &clock;
  options.durability = slate::Durability::kProcessCrash;
  auto opened = slate::Engine::Open(options, db);
  if (!opened.ok()) {
    std::cerr << "change_calendar: " << opened.status() << "\n";
    return 1;
  }
  slate::Engine& engine = **opened;
  int surprises = 0;
  for (const Step& s : Script()) {
    slate::Command command;
    if (!google::protobuf::util::JsonStringToMessage(s.json, &command).ok()) {
      std::cerr << "change_calendar: bad JSON " << s.json << "\n";
      return 1;
    }
    absl::StatusOr<slate::ExecuteResult> r = engine.Execute(command);
    if (*s.say != '\0') std::cout << "- " << s.say << "\n";
    if (r.ok() != s.expect_ok) {
      ++surprises;
      std::cout << "  UNEXPECTED: " << r.status() << "\n";
    } else if (!r.ok()) {
      std::cout << "  refused as expected: "
                << absl::StatusCodeToString(r.status().code()) << ": "
                << r.status().message() << "\n";
    }
  }

  std::cout << "\nChange KPIs for November 2026:\n";
  slate::KpiQuery q;
  q.bucket = slate::KpiBucket::kMonth;
  q.now = clock.Now();
  q.to = clock.Now();
  slate::KpiTables tables;
  tables.availability = false;
  tables.sla = false;
  auto report = engine.FormatKpis(q, slate::KpiFormat::kTable, tables);
  if (!report.ok()) {
    std::cerr << "change_calendar: " << report.status() << "\n";
    return 1;
  }
  std::cout << *report;
  return surprises == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string db;
  if (argc == 3 && std::strcmp(argv[1], "--db") == 0) {
    db = argv[2];
  } else if (argc != 1) {
    std::cerr << "usage: change_calendar [--db DIR]\n";
    return 2;
  }
  bool temporary = db.empty();
  if (temporary) {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "slate-changes-XXXXXX")
            .string();
    if (mkdtemp(tmpl.data()) == nullptr) return 1;
    db = tmpl;
  }
  int rc = Run(db);
  if (temporary) {
    std::error_code ec;
    std::filesystem::remove_all(db, ec);
  }
  return rc;
}
