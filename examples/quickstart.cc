// Quickstart: open a Slate engine on a local directory, record an incident's
// lifecycle, read it back and print it.
//
//   bazel run //examples:quickstart                 # temporary database
//   bazel run //examples:quickstart -- --db /tmp/x  # keep the database
//
// Running it twice on the same --db shows idempotent appends: the events
// carry fixed ids, so the second run writes nothing and says so.
#include <stdlib.h>

#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "lib/api/describe.h"
#include "lib/api/engine.h"

namespace {

constexpr char kUsage[] = "usage: quickstart [--db DIR]\n";

// Builds one event of the incident at `at`, with a stable id.
slate::Envelope Event(const std::string& id, absl::Time at) {
  slate::Envelope e;
  e.set_event_id(id);
  e.set_occurred_at_us(absl::ToUnixMicros(at));
  e.set_actor("quickstart");
  e.set_correlation_id("INC0001");
  return e;
}

std::vector<slate::Envelope> Lifecycle() {
  const absl::TimeZone utc = absl::UTCTimeZone();
  const absl::Time t0 =
      absl::FromCivil(absl::CivilMinute(2026, 11, 20, 9, 0), utc);
  std::vector<slate::Envelope> events;

  slate::Envelope opened = Event("INC0001/opened", t0);
  auto* o = opened.mutable_incident_opened();
  o->set_number("INC0001");
  o->set_short_description("Email delivery delayed for the sales team");
  o->set_caller("alice");
  o->set_contact_type("phone");
  o->set_service("email");
  o->set_category("software");
  o->set_impact(2);
  o->set_urgency(1);
  events.push_back(opened);

  slate::Envelope prio = Event("INC0001/priority", t0);
  auto* p = prio.mutable_incident_priority_set();
  p->set_impact(2);
  p->set_urgency(1);
  p->set_priority(2);  // Default ITIL matrix: I2 x U1 = 2 (High).
  events.push_back(prio);

  slate::Envelope assigned = Event("INC0001/assigned", t0 + absl::Minutes(4));
  assigned.mutable_incident_assigned()->set_group("messaging");
  events.push_back(assigned);

  slate::Envelope ack = Event("INC0001/acknowledged", t0 + absl::Minutes(11));
  ack.mutable_incident_acknowledged()->set_by("bob");
  events.push_back(ack);

  slate::Envelope started = Event("INC0001/started", t0 + absl::Minutes(12));
  started.mutable_incident_started();
  events.push_back(started);

  slate::Envelope hold = Event("INC0001/on-hold", t0 + absl::Minutes(40));
  hold.mutable_incident_put_on_hold()->set_reason(slate::AWAITING_VENDOR);
  hold.mutable_incident_put_on_hold()->set_note("mail relay vendor ticket");
  events.push_back(hold);

  slate::Envelope resumed = Event("INC0001/resumed", t0 + absl::Hours(2));
  resumed.mutable_incident_resumed();
  events.push_back(resumed);

  slate::Envelope resolved =
      Event("INC0001/resolved", t0 + absl::Hours(2) + absl::Minutes(35));
  resolved.mutable_incident_resolved()->set_resolution_code(
      "solved-workaround");
  resolved.mutable_incident_resolved()->set_notes("relay queue flushed");
  events.push_back(resolved);

  slate::Envelope closed = Event("INC0001/closed", t0 + absl::Hours(26));
  closed.mutable_incident_closed();
  events.push_back(closed);
  return events;
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
      std::cerr << "quickstart: unknown argument " << argv[i] << "\n" << kUsage;
      return 2;
    }
  }
  bool temporary = false;
  if (db.empty()) {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "slate-quickstart-XXXXXX")
            .string();
    if (mkdtemp(tmpl.data()) == nullptr) {
      std::cerr << "quickstart: cannot create a temporary directory\n";
      return 1;
    }
    db = tmpl;
    temporary = true;
  }

  int rc = 0;
  {
    slate::Options options;  // Power-loss durability, wall clock.
    absl::StatusOr<std::unique_ptr<slate::Engine>> engine =
        slate::Engine::Open(options, db);
    if (!engine.ok()) {
      std::cerr << "quickstart: " << engine.status() << "\n";
      return 1;
    }
    std::cout << "Slate quickstart: database " << db
              << (temporary ? " (temporary)" : "") << ", durability "
              << slate::DurabilityName((*engine)->options().durability)
              << "\n\n";

    const std::string stream = "incident/INC0001";
    absl::StatusOr<slate::AppendResult> r = (*engine)->Append(
        stream, slate::ExpectedVersion::NoStream(), Lifecycle());
    if (!r.ok()) {
      std::cerr << "quickstart: append failed: " << r.status() << "\n";
      rc = 1;
    } else {
      std::cout << (r->idempotent_replay
                        ? "Already recorded by an earlier run (idempotent "
                          "retry, nothing written): "
                        : "Appended atomically: ")
                << "versions " << r->first_version << ".." << r->last_version
                << " at positions " << r->first_position << ".."
                << r->last_position << "\n\n";
    }

    // A stale writer that still believes the stream is new is refused.
    slate::Envelope late = Event("INC0001/late-comment", absl::Now());
    late.mutable_incident_commented()->set_text("is it fixed?");
    absl::StatusOr<slate::AppendResult> conflict =
        (*engine)->Append(stream, slate::ExpectedVersion::NoStream(), {late});
    std::cout << "A conflicting append is refused: " << conflict.status()
              << "\n\n";

    absl::StatusOr<std::vector<slate::Envelope>> events =
        (*engine)->ReadStream(stream, 0, 100);
    if (!events.ok()) {
      std::cerr << "quickstart: read failed: " << events.status() << "\n";
      return 1;
    }
    std::cout << stream << " (" << events->size() << " events):\n";
    for (const slate::Envelope& e : *events) {
      std::cout << "  " << slate::DescribeEvent(e) << "\n";
    }
    const slate::Envelope& first = events->front();
    const slate::Envelope& last = events->back();
    std::cout << "\nOpen to close: "
              << absl::FormatDuration(absl::Microseconds(
                     last.occurred_at_us() - first.occurred_at_us()))
              << " wall time; the log holds " << (*engine)->NextPosition()
              << " events.\n";
  }
  if (temporary) {
    std::error_code ec;
    std::filesystem::remove_all(db, ec);
  }
  return rc;
}
