// Quickstart: the whole loop of an embedded Slate engine in one program.
//
//   bazel run //examples:quickstart                 # temporary database
//   bazel run //examples:quickstart -- --db /tmp/x  # keep the database
//
// It defines a service, a business calendar and an SLA policy; opens a
// priority-1 incident; advances simulated time through a warning, a pause
// (on hold, awaiting the vendor) and a breach; resolves it; and prints the
// incident's events, its SLA clocks and a KPI table. Everything is appended
// to the log first and folded into projections, so every answer below can be
// rebuilt from the events (`slate verify --db DIR` checks exactly that).
//
// The story runs on Monday 2026-11-30 in Berlin against a simulated clock,
// so the output is the same on every run. Running it twice on the same --db
// shows idempotency: every command carries a command id, the second run
// appends nothing.
#include <stdlib.h>

#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "lib/api/describe.h"
#include "lib/api/engine.h"

namespace {

constexpr char kUsage[] = "usage: quickstart [--db DIR]\n";

const absl::TimeZone& Berlin() {
  static const absl::TimeZone* zone = [] {
    auto* z = new absl::TimeZone;
    if (!absl::LoadTimeZone("Europe/Berlin", z)) *z = absl::UTCTimeZone();
    return z;
  }();
  return *zone;
}

// 2026-11-30 (a Monday) at hh:mm in Berlin.
absl::Time Monday(int hh, int mm) {
  return absl::FromCivil(absl::CivilMinute(2026, 11, 30, hh, mm), Berlin());
}

std::string Local(absl::Time t) {
  return absl::FormatTime("%a %H:%M", t, Berlin());
}

// Runs one command given in the JSON form `slate exec` reads.
bool Exec(slate::Engine& engine, const std::string& json) {
  slate::Command command;
  auto parsed = google::protobuf::util::JsonStringToMessage(json, &command);
  if (!parsed.ok()) {
    std::cerr << "quickstart: bad command JSON: " << parsed.ToString() << "\n";
    return false;
  }
  absl::StatusOr<slate::ExecuteResult> r = engine.Execute(command);
  if (!r.ok()) {
    std::cerr << "quickstart: " << r.status() << "\n  for " << json << "\n";
    return false;
  }
  return true;
}

// Moves simulated time to `t` and lets the engine fire what fell due.
bool AdvanceTo(slate::Engine& engine, slate::SimulatedClock& clock,
               absl::Time t) {
  clock.Set(t);
  absl::StatusOr<std::vector<slate::Envelope>> fired = engine.AdvanceTo(t);
  if (!fired.ok()) {
    std::cerr << "quickstart: advance: " << fired.status() << "\n";
    return false;
  }
  std::cout << "  " << Local(t) << "  time advances; the engine fires "
            << fired->size() << " SLA event(s)\n";
  for (const slate::Envelope& e : *fired) {
    absl::StatusOr<std::string> line = engine.DescribeEvent(e);
    std::cout << "             "
              << (line.ok() ? *line : slate::DescribePayload(e)) << "\n";
  }
  return true;
}

std::string Hm(int64_t us) {
  return absl::FormatDuration(absl::Trunc(absl::Microseconds(us),
                                          absl::Minutes(1)));
}

const char* kCalendar =
    R"({"name":"office-berlin","timeZone":"Europe/Berlin","weekly":[{"day":"MONDAY","start":"09:00","end":"17:00"},{"day":"TUESDAY","start":"09:00","end":"17:00"},{"day":"WEDNESDAY","start":"09:00","end":"17:00"},{"day":"THURSDAY","start":"09:00","end":"17:00"},{"day":"FRIDAY","start":"09:00","end":"13:00"},{"day":"FRIDAY","start":"14:00","end":"17:00"}],"holidays":[{"date":"2026-12-25"},{"date":"2026-12-24","start":"12:00","end":"24:00"}],"extraWindows":[{"date":"2026-12-27","start":"10:00","end":"14:00"}]})";

const char* kPolicy =
    R"({"id":"p1-office","calendarId":"office-berlin",
        "appliesTo":{"recordTypes":["incident"],"priorities":[1,2]},
        "targets":[{"priority":1,"response":"30m","resolution":"4h"},
                   {"priority":2,"response":"1h","resolution":"8h"}],
        "response":{"start":{"events":["incident_opened"]},
                    "stop":{"events":["incident_acknowledged"]},
                    "cancel":{"states":["cancelled"]}},
        "resolution":{"start":{"events":["incident_opened","incident_reopened"]},
                      "pause":{"states":["on_hold"]},
                      "stop":{"states":["resolved","closed"]},
                      "cancel":{"states":["cancelled"]}}})";

int Run(const std::string& db, bool temporary) {
  slate::SimulatedClock clock(Monday(8, 0));
  slate::Options options;  // Power-loss durability, projections in sync.
  options.clock = &clock;
  absl::StatusOr<std::unique_ptr<slate::Engine>> opened =
      slate::Engine::Open(options, db);
  if (!opened.ok()) {
    std::cerr << "quickstart: " << opened.status() << "\n";
    return 1;
  }
  slate::Engine& engine = **opened;
  std::cout << "Slate quickstart: database " << db
            << (temporary ? " (temporary)" : "") << ", durability "
            << slate::DurabilityName(engine.options().durability) << "\n\n";

  std::cout << "1. Configuration, recorded as events:\n"
            << "   service email, calendar office-berlin (Mon-Thu 09-17, "
               "Fri 09-13 and 14-17),\n"
            << "   policy p1-office: P1 response 30m and resolution 4h of "
               "business time,\n"
            << "   paused while on hold; warnings at 50/75/90 %.\n\n";
  const std::string at0 = R"("at":"2026-11-30T07:00:00Z")";
  if (!Exec(engine, absl::StrCat(R"({"commandId":"qs-svc","defineService":{"serviceId":"email","name":"E-mail",)",
                                 at0, "}}")) ||
      !Exec(engine, absl::StrCat(R"({"commandId":"qs-cal","defineCalendar":{)",
                                 at0, R"(,"spec":)", kCalendar, "}}")) ||
      !Exec(engine, absl::StrCat(R"({"commandId":"qs-pol","defineSlaPolicy":{)",
                                 at0, R"(,"policy":)", kPolicy, "}}"))) {
    return 1;
  }

  std::cout << "2. The incident's day (Berlin time):\n";
  struct Step {
    absl::Time at;
    std::string say;
    std::string json;  // Empty: only advance time.
  };
  auto at = [](absl::Time t) {
    return absl::StrCat(R"("at":")", absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t,
                                                      absl::UTCTimeZone()),
                        "\"");
  };
  const std::vector<Step> steps = {
      {Monday(9, 0), "INC1 opened: mail down for sales (impact 1, urgency 1 = P1)",
       absl::StrCat(R"({"commandId":"qs-open","openIncident":{"incidentId":"INC1",)",
                    at(Monday(9, 0)),
                    R"(,"serviceId":"email","impact":1,"urgency":1,"category":"mail","contactType":"PHONE","shortDescription":"mail down for sales"}})")},
      {Monday(9, 12), "acknowledged by the service desk (response met)",
       absl::StrCat(R"({"commandId":"qs-ack","acknowledgeIncident":{"incidentId":"INC1",)",
                    at(Monday(9, 12)), R"(,"by":"desk"}})")},
      {Monday(9, 15), "assigned to messaging / ann",
       absl::StrCat(R"({"commandId":"qs-assign","assignIncident":{"incidentId":"INC1",)",
                    at(Monday(9, 15)), R"(,"group":"messaging","person":"ann"}})")},
      {Monday(11, 30), "", ""},
      {Monday(11, 30), "on hold: awaiting the mail relay vendor (clock pauses)",
       absl::StrCat(R"({"commandId":"qs-hold","holdIncident":{"incidentId":"INC1",)",
                    at(Monday(11, 30)),
                    R"(,"reason":"AWAITING_VENDOR","note":"relay vendor ticket"}})")},
      {Monday(14, 0), "vendor answered; work resumes (clock runs again)",
       absl::StrCat(R"({"commandId":"qs-resume","resumeIncident":{"incidentId":"INC1",)",
                    at(Monday(14, 0)), "}}")},
      {Monday(15, 45), "", ""},
      {Monday(16, 0), "resolved: relay queue flushed",
       absl::StrCat(R"({"commandId":"qs-resolve","resolveIncident":{"incidentId":"INC1",)",
                    at(Monday(16, 0)),
                    R"(,"resolutionCode":"solved-workaround","notes":"relay queue flushed"}})")},
  };
  for (const Step& s : steps) {
    if (s.json.empty()) {
      if (!AdvanceTo(engine, clock, s.at)) return 1;
      continue;
    }
    clock.Set(s.at);
    std::cout << "  " << Local(s.at) << "  " << s.say << "\n";
    if (!Exec(engine, s.json)) return 1;
  }

  std::cout << "\n3. The SLA clocks of incident/INC1:\n";
  absl::StatusOr<std::vector<slate::SlaClockView>> clocks =
      engine.Clocks("incident/INC1");
  if (!clocks.ok()) {
    std::cerr << "quickstart: clocks: " << clocks.status() << "\n";
    return 1;
  }
  for (const slate::SlaClockView& c : *clocks) {
    const slate::SlaClockState& s = c.state;
    std::cout << "  " << c.policy_id << " " << c.target_type << " (cycle "
              << c.cycle << "): "
              << slate::SlaClockStatus_Name(s.status()).substr(17)
              << ", target " << Hm(s.target_us()) << ", business time used "
              << Hm(s.business_elapsed_us()) << ", paused " << Hm(s.paused_us());
    if (s.has_deadline_us()) {
      std::cout << ", deadline "
                << Local(absl::FromUnixMicros(s.deadline_us()));
    }
    if (s.has_breached_at_us()) {
      std::cout << ", breached "
                << Local(absl::FromUnixMicros(s.breached_at_us()));
    }
    std::cout << "\n";
  }

  std::cout << "\n4. KPIs for the day (by priority):\n";
  slate::KpiQuery q;
  q.by = {slate::KpiDimension::kPriority};
  q.bucket = slate::KpiBucket::kDay;  // UTC days (KpiQuery::zone)
  q.now = clock.Now();
  q.to = clock.Now();
  absl::StatusOr<std::string> report =
      engine.FormatKpis(q, slate::KpiFormat::kTable);
  if (!report.ok()) {
    std::cerr << "quickstart: kpi: " << report.status() << "\n";
    return 1;
  }
  std::cout << *report;

  slate::VerifyReport verify;
  if (!engine.Verify(&verify).ok() || !verify.ok()) {
    std::cerr << "quickstart: verify found problems\n";
    return 1;
  }
  std::cout << "\nThe log holds " << engine.NextPosition()
            << " events; every projection equals a rebuild from them ("
            << verify.checked.size() << " checks).\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string db;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
      db = argv[++i];
    } else if (std::strcmp(argv[i], "--help") == 0) {
      std::cout << kUsage;
      return 0;
    } else {
      std::cerr << "quickstart: unknown argument " << argv[i] << "\n"
                << kUsage;
      return 2;
    }
  }
  bool temporary = false;
  if (db.empty()) {
    std::string tmpl = (std::filesystem::temp_directory_path() /
                        "slate-quickstart-XXXXXX")
                           .string();
    if (mkdtemp(tmpl.data()) == nullptr) {
      std::cerr << "quickstart: cannot create a temporary directory\n";
      return 1;
    }
    db = tmpl;
    temporary = true;
  }
  int rc = Run(db, temporary);
  if (temporary) {
    std::error_code ec;
    std::filesystem::remove_all(db, ec);
  }
  return rc;
}
