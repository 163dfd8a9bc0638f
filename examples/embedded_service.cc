// embedded_service: how a C++ service embeds the engine.
//
//   bazel run //examples:embedded_service [-- --db DIR]
//
// Three threads share one Engine (every Engine method is thread-safe):
//  - an intake thread executes commands: it opens incidents and resolves
//    some of them, as a ticket API would;
//  - a query thread serves "what is at risk in the next 2 hours" while the
//    intake runs, as a dashboard endpoint would;
//  - a subscription follows the log live, as an outbound notifier would
//    (here it counts SLA breaches and resolutions).
// The engine runs on a simulated clock; shutdown is orderly: stop the
// producers, then the subscription, then close the engine.
#include <stdlib.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "lib/api/engine.h"

namespace {

constexpr int kIncidents = 200;

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

absl::Status Exec(slate::Engine& engine, const std::string& json) {
  slate::Command command;
  auto parsed = google::protobuf::util::JsonStringToMessage(json, &command);
  if (!parsed.ok()) return absl::InvalidArgumentError(parsed.ToString());
  return engine.Execute(command).status();
}

int Run(const std::string& db) {
  // Tuesday 2026-12-01 08:00 UTC; the story runs on a simulated clock.
  const absl::Time start = absl::FromUnixSeconds(1796112000);
  slate::SimulatedClock clock(start);
  slate::Options options;
  options.clock = &clock;
  options.durability = slate::Durability::kProcessCrash;  // Demo speed.
  auto opened = slate::Engine::Open(options, db);
  if (!opened.ok()) {
    std::cerr << "embedded_service: " << opened.status() << "\n";
    return 1;
  }
  slate::Engine& engine = **opened;
  const std::string at0 = absl::StrCat(R"("at":")", Rfc3339(start), "\"");
  for (const std::string& json :
       {absl::StrCat(R"({"commandId":"es-svc","defineService":{"serviceId":"web","name":"Web shop",)",
                     at0, "}}"),
        absl::StrCat(R"({"commandId":"es-pol","defineSlaPolicy":{)", at0,
                     R"(,"policy":{"id":"web-24x7","calendarId":"24x7","appliesTo":{"recordTypes":["incident"]},)"
                     R"("targets":[{"priority":1,"resolution":"1h"},{"priority":2,"resolution":"2h"},{"priority":3,"resolution":"4h"},{"priority":4,"resolution":"8h"},{"priority":5,"resolution":"24h"}],)"
                     R"("resolution":{"start":{"events":["incident_opened"]},"stop":{"states":["resolved","closed"]}}}}})")}) {
    absl::Status st = Exec(engine, json);
    if (!st.ok()) {
      std::cerr << "embedded_service: " << st << "\n";
      return 1;
    }
  }

  // The notifier: a live subscription from the current end of the log.
  std::atomic<int> breaches{0}, resolutions{0};
  auto notifier = engine.Subscribe(engine.NextPosition(),
                                   [&](const slate::Envelope& e) {
                                     if (e.has_sla_breached()) ++breaches;
                                     if (e.has_incident_resolved()) {
                                       ++resolutions;
                                     }
                                     return absl::OkStatus();
                                   });

  std::atomic<bool> intake_done{false};
  std::atomic<int> intake_errors{0};
  std::mutex clock_mu;  // The intake thread owns simulated time.
  std::thread intake([&] {
    for (int i = 0; i < kIncidents; ++i) {
      absl::Time t;
      {
        std::lock_guard<std::mutex> l(clock_mu);
        clock.Advance(absl::Minutes(1));
        t = clock.Now();
      }
      const std::string id = absl::StrCat("WEB", i);
      const std::string at = absl::StrCat(R"("at":")", Rfc3339(t), "\"");
      absl::Status st = Exec(
          engine,
          absl::StrCat(R"({"commandId":"open-)", id,
                       R"(","openIncident":{"incidentId":")", id, R"(",)", at,
                       R"(,"serviceId":"web","impact":)", 1 + i % 3,
                       R"(,"urgency":)", 1 + (i / 3) % 3, "}}"));
      // Every third incident is resolved right away.
      if (st.ok() && i % 3 == 0) {
        st = Exec(engine,
                  absl::StrCat(R"({"commandId":"resolve-)", id,
                               R"(","resolveIncident":{"incidentId":")", id,
                               R"(",)", at, R"(,"resolutionCode":"fixed"}})"));
      }
      if (st.ok() && i % 20 == 19) st = engine.AdvanceTo(t).status();
      if (!st.ok()) {
        std::cerr << "intake: " << st << "\n";
        ++intake_errors;
      }
    }
    intake_done = true;
  });

  // The dashboard: at-risk queries while intake runs.
  std::atomic<int> queries{0};
  size_t last_at_risk = 0;
  std::thread dashboard([&] {
    while (!intake_done) {
      absl::Time now = clock.Now();
      auto at_risk = engine.AtRisk(now, absl::Hours(2), {}, 10);
      if (at_risk.ok()) {
        last_at_risk = at_risk->size();
        ++queries;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });

  intake.join();
  dashboard.join();
  // Let the notifier catch up with the last append, then stop it.
  const int64_t end = engine.NextPosition();
  while (notifier->next_position() < end && !notifier->done()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  notifier->Stop();

  auto at_risk = engine.AtRisk(clock.Now(), absl::Hours(2), {}, 5);
  std::cout << "Intake: " << kIncidents << " incidents opened, "
            << resolutions.load() << " resolved, " << intake_errors.load()
            << " errors\n"
            << "Dashboard: " << queries.load()
            << " at-risk queries served during intake (last one listed "
            << last_at_risk << ")\n"
            << "Notifier: saw " << breaches.load() << " SLA breaches and "
            << resolutions.load() << " resolutions live\n";
  if (at_risk.ok()) {
    std::cout << "At risk in the next 2h (top 5):\n";
    for (const slate::SlaClockView& c : *at_risk) {
      std::cout << "  " << c.record << " P" << c.priority << " due "
                << Rfc3339(absl::FromUnixMicros(c.state.deadline_us()))
                << "\n";
    }
  }
  std::cout << "Log: " << engine.NextPosition()
            << " events; shutting down cleanly.\n";
  return intake_errors.load() == 0 && at_risk.ok() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string db;
  if (argc == 3 && std::strcmp(argv[1], "--db") == 0) {
    db = argv[2];
  } else if (argc != 1) {
    std::cerr << "usage: embedded_service [--db DIR]\n";
    return 2;
  }
  bool temporary = db.empty();
  if (temporary) {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "slate-embedded-XXXXXX")
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
