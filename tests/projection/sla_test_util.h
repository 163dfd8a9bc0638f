// Helpers for the SLA projection tests: commands from JSON, the office-berlin
// calendar, a standard policy, times.
#ifndef SLATE_TESTS_PROJECTION_SLA_TEST_UTIL_H_
#define SLATE_TESTS_PROJECTION_SLA_TEST_UTIL_H_

#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "lib/api/engine.h"
#include "tests/testing/temp_dir.h"
#include "proto/commands.pb.h"

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
