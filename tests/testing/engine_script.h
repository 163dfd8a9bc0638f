// A scripted day for tests that compare engines (a writer and its follower,
// a cluster node and one embedded engine): commands as JSON, SLA timers
// fired after each, the log as bytes, and the queries' answers as text.
//
//   slate::testing::RunScript(engine, script, 0, script.size());
//   EXPECT_EQ(slate::testing::LogBytes(a), slate::testing::LogBytes(b));
//   EXPECT_EQ(slate::testing::Answers(a, {{"acme", "INC1"}}), ...);
#ifndef SLATE_TESTS_TESTING_ENGINE_SCRIPT_H_
#define SLATE_TESTS_TESTING_ENGINE_SCRIPT_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "lib/api/engine.h"
#include "lib/api/tenant.h"

namespace slate::testing {

// Service "email", SLA policy "std" (24x7, response and resolution), then
// records of the default tenant and of "acme": incidents INC1 and INC2 of
// acme, INC1 of the default tenant, a problem raised from acme's two
// incidents, an acknowledgement and a resolution.
inline const std::vector<std::string>& DayScript() {
  static const auto* script = new std::vector<std::string>{
      R"({"commandId":"svc","defineService":{"serviceId":"email","at":"2026-11-01T00:00:00Z","name":"E-mail"}})",
      R"({"commandId":"pol","defineSlaPolicy":{"at":"2026-11-01T00:00:00Z","policy":{"id":"std","name":"Std","appliesTo":{"recordTypes":["incident"]},"targets":[{"priority":1,"response":"15m","resolution":"4h"},{"priority":2,"response":"30m","resolution":"8h"},{"priority":3,"response":"1h","resolution":"24h"},{"priority":4,"response":"4h","resolution":"72h"},{"priority":5,"response":"8h","resolution":"120h"}],"calendarId":"24x7","response":{"start":{"events":["incident_opened"]},"stop":{"events":["incident_acknowledged","incident_assigned"]}},"resolution":{"start":{"events":["incident_opened"]},"stop":{"states":["resolved","closed"]}}}}})",
      R"({"commandId":"o0","openIncident":{"incidentId":"INC1","at":"2026-11-23T08:00:00Z","serviceId":"email","impact":3,"urgency":3}})",
      R"({"commandId":"o1","tenantId":"acme","openIncident":{"incidentId":"INC1","at":"2026-11-23T09:00:00Z","serviceId":"email","impact":1,"urgency":1}})",
      R"({"commandId":"o2","tenantId":"acme","openIncident":{"incidentId":"INC2","at":"2026-11-23T09:05:00Z","serviceId":"email","impact":2,"urgency":2}})",
      R"({"commandId":"p1","tenantId":"acme","logProblem":{"problemId":"PRB1","at":"2026-11-23T09:30:00Z","title":"mail","incidentIds":["INC1","INC2"]}})",
      R"({"commandId":"a2","tenantId":"acme","acknowledgeIncident":{"incidentId":"INC2","at":"2026-11-23T09:20:00Z"}})",
      R"({"commandId":"r1","tenantId":"acme","resolveIncident":{"incidentId":"INC1","at":"2026-11-23T15:00:00Z","resolutionCode":"fixed"}})",
  };
  return *script;
}

inline Command JsonCommand(const std::string& json) {
  Command c;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &c).ok())
      << json;
  return c;
}

// Executes script[from, to), firing due SLA timers after each command.
inline void RunScript(Engine& e, const std::vector<std::string>& script,
                      size_t from, size_t to) {
  for (size_t i = from; i < to; ++i) {
    absl::StatusOr<ExecuteResult> r = e.Execute(JsonCommand(script[i]));
    ASSERT_TRUE(r.ok()) << script[i] << ": " << r.status();
    ASSERT_TRUE(e.AdvanceToWatermark().ok());
  }
}

// Every event of the log, serialized.
inline std::vector<std::string> LogBytes(Engine& e) {
  std::vector<std::string> out;
  absl::StatusOr<std::vector<Envelope>> all = e.ReadAll(0, 1000000);
  EXPECT_TRUE(all.ok()) << all.status();
  if (all.ok()) {
    for (const Envelope& x : *all) out.push_back(x.SerializeAsString());
  }
  return out;
}

// The states and SLA clocks of `records` ((tenant, incident id)) and the
// KPIs, as text.
inline std::string Answers(
    Engine& e, const std::vector<std::pair<std::string, std::string>>& records) {
  std::string out;
  for (const auto& [tenant, id] : records) {
    absl::StatusOr<ExecuteResult> inc = e.LoadAggregate("incident", id, tenant);
    absl::StrAppend(&out, inc.ok() ? inc->ShortDebugString()
                                   : inc.status().ToString(), "\n");
    absl::StatusOr<std::vector<SlaClockView>> clocks =
        e.Clocks(TenantStream(tenant, absl::StrCat("incident/", id)));
    EXPECT_TRUE(clocks.ok()) << clocks.status();
    if (clocks.ok()) {
      for (const SlaClockView& c : *clocks) {
        absl::StrAppend(&out, c.state.ShortDebugString(), "\n");
      }
    }
  }
  KpiQuery q;
  q.bucket = KpiBucket::kAll;
  q.now = absl::FromUnixSeconds(1796000000);
  absl::StatusOr<std::string> kpis = e.FormatKpis(q, KpiFormat::kJson);
  absl::StrAppend(&out, kpis.ok() ? *kpis : kpis.status().ToString());
  return out;
}

}  // namespace slate::testing

#endif  // SLATE_TESTS_TESTING_ENGINE_SCRIPT_H_
