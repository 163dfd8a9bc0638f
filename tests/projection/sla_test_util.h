// Helpers for the SLA projection tests: commands from JSON, the office-berlin
// calendar, a standard policy, times.
#ifndef SLATE_TESTS_PROJECTION_SLA_TEST_UTIL_H_
#define SLATE_TESTS_PROJECTION_SLA_TEST_UTIL_H_

#include <cstdint>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "lib/api/engine.h"
#include "proto/commands.pb.h"
#include "proto/events.pb.h"
#include "tests/testing/temp_dir.h"

namespace slate::testing {

inline absl::Time T(const std::string& rfc3339) {
  absl::Time t;
  std::string err;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, rfc3339, &t, &err))
      << rfc3339 << ": " << err;
  return t;
}

inline Command Cmd(const std::string& json) {
  Command c;
  auto st = google::protobuf::util::JsonStringToMessage(json, &c);
  EXPECT_TRUE(st.ok()) << json << ": " << st.ToString();
  return c;
}

// Executes a command given as JSON; fails the test on error.
inline ExecuteResult Exec(Engine& engine, const std::string& json) {
  absl::StatusOr<ExecuteResult> r = engine.Execute(Cmd(json));
  EXPECT_TRUE(r.ok()) << json << ": " << r.status().ToString();
  return r.ok() ? *r : ExecuteResult();
}

inline std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::string OfficeBerlinJson() {
  return ReadFileOrDie("examples/calendars/office-berlin.json");
}

// Incident policy "p-office" on office-berlin for priorities 1 and 2:
// P1 response 1h / resolution 4h, P2 response 4h / resolution 8h; pauses
// on hold; new cycle on reopen.
inline std::string OfficePolicyJson(const std::string& id = "p-office",
                                    const std::string& calendar =
                                        "office-berlin") {
  return absl::StrCat(R"({"id":")", id, R"(","calendarId":")", calendar,
                      R"(",
    "appliesTo":{"recordTypes":["incident"],"priorities":[1,2]},
    "targets":[{"priority":1,"response":"1h","resolution":"4h"},
               {"priority":2,"response":"4h","resolution":"8h"}],
    "response":{"start":{"events":["incident_opened"]},
                "stop":{"events":["incident_acknowledged"]},
                "cancel":{"states":["cancelled"]}},
    "resolution":{"start":{"events":["incident_opened","incident_reopened"]},
                  "pause":{"states":["on_hold"]},
                  "stop":{"states":["resolved","closed"]},
                  "cancel":{"states":["cancelled"]}},
    "reopen":"SLA_REOPEN_MODE_NEW_CYCLE"})");
}

// A 24x7 policy for all incident priorities 1..3 (resolution 4h/8h/24h).
inline std::string AllHoursPolicyJson(const std::string& id = "p-24x7") {
  return absl::StrCat(R"({"id":")", id, R"(","calendarId":"24x7",
    "appliesTo":{"recordTypes":["incident"]},
    "targets":[{"priority":1,"resolution":"4h"},
               {"priority":2,"resolution":"8h"},
               {"priority":3,"resolution":"24h"}],
    "resolution":{"start":{"events":["incident_opened","incident_reopened"]},
                  "pause":{"states":["on_hold"]},
                  "stop":{"states":["resolved","closed"]},
                  "cancel":{"states":["cancelled"]}}})");
}

inline void DefineSlaConfig(Engine& engine, const std::string& policy_json) {
  Exec(engine, absl::StrCat(R"({"defineCalendar":{"at":"2026-11-01T00:00:00Z","spec":)",
                            OfficeBerlinJson(), "}}"));
  Exec(engine, absl::StrCat(
                   R"({"defineSlaPolicy":{"at":"2026-11-01T00:00:00Z","policy":)",
                   policy_json, "}}"));
}

// One instant of an incident's life: the events that happen at it, in
// order (occurred_at set; stream and version left to the log).
struct IncidentStep {
  int64_t at_us = 0;
  std::vector<Envelope> events;
};

// A random incident `id` on the e-mail service, opened within 4 days of
// `base_us` with priority 1..3 (impact 1): acknowledged, assigned to one of
// groups g0..g2, maybe put on hold and resumed, maybe given another
// priority by hand, mostly resolved (maybe reopened and resolved again)
// and closed. Event ids "<event_id_prefix><id>-<n>".
inline std::vector<IncidentStep> RandomIncidentLife(
    std::mt19937_64& rng, const std::string& id,
    const std::string& event_id_prefix, int64_t base_us) {
  auto minutes = [&](int lo, int hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng) * 60'000'000;
  };
  std::vector<IncidentStep> steps;
  int seq = 0;
  auto step = [&](int64_t at) -> IncidentStep& {
    steps.push_back({at, {}});
    return steps.back();
  };
  auto event = [&](IncidentStep& s) -> Envelope& {
    Envelope& e = s.events.emplace_back();
    e.set_event_id(absl::StrCat(event_id_prefix, id, "-", seq++));
    e.set_occurred_at_us(s.at_us);
    return e;
  };
  int64_t t = base_us + minutes(0, 60 * 24 * 4);
  const int priority = 1 + static_cast<int>(rng() % 3);
  {
    IncidentStep& s = step(t);
    auto* o = event(s).mutable_incident_opened();
    o->set_number(id);
    o->set_service("email");
    o->set_impact(1);
    o->set_urgency(priority);
    auto* p = event(s).mutable_incident_priority_set();
    p->set_impact(1);
    p->set_urgency(priority);
    p->set_priority(priority);
  }
  t += minutes(1, 90);
  event(step(t)).mutable_incident_acknowledged()->set_by("desk");
  t += minutes(1, 60);
  event(step(t)).mutable_incident_assigned()->set_group(
      absl::StrCat("g", rng() % 3));
  if (rng() % 2 == 0) {
    t += minutes(1, 240);
    event(step(t)).mutable_incident_put_on_hold()->set_reason(AWAITING_CALLER);
    t += minutes(1, 240);
    event(step(t)).mutable_incident_resumed();
  }
  if (rng() % 2 == 0) {
    t += minutes(1, 120);
    auto* p = event(step(t)).mutable_incident_priority_set();
    p->set_priority(1 + static_cast<int>(rng() % 3));
    p->set_manual_override(true);
    p->set_reason("test");
  }
  if (rng() % 4 != 0) {
    t += minutes(1, 60 * 30);
    event(step(t)).mutable_incident_resolved()->set_resolution_code("fixed");
    if (rng() % 3 == 0) {
      t += minutes(1, 600);
      event(step(t)).mutable_incident_reopened()->set_reason("again");
      t += minutes(1, 600);
      event(step(t)).mutable_incident_resolved()->set_resolution_code("x");
    }
    t += minutes(1, 600);
    event(step(t)).mutable_incident_closed();
  }
  return steps;
}

// An engine on a simulated clock at 2027-06-01 (so the tests' 2026 events
// are in the past), with the "email" service defined.
class SlaEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Options options;
    options.clock = &clock_;
    options.durability = Durability::kProcessCrash;
    auto e = Engine::Open(options, dir_.path());
    ASSERT_TRUE(e.ok()) << e.status();
    engine_ = std::move(*e);
    Exec(*engine_, R"({"defineService":{"serviceId":"email","name":"E-mail",
                       "at":"2026-11-01T00:00:00Z"}})");
  }
  // An incident on the e-mail service.
  void OpenIncident(const std::string& id, const std::string& at, int impact,
                    int urgency) {
    Exec(*engine_, absl::StrCat(R"({"openIncident":{"incidentId":")", id,
                                R"(","at":")", at,
                                R"(","serviceId":"email","impact":)", impact,
                                R"(,"urgency":)", urgency, "}}"));
  }

  TempDir dir_;
  SimulatedClock clock_{T("2027-06-01T00:00:00Z")};
  std::unique_ptr<Engine> engine_;
};

}  // namespace slate::testing

#endif  // SLATE_TESTS_PROJECTION_SLA_TEST_UTIL_H_
