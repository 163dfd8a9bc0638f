// Fuzz target: LoadSlaPolicyJson on arbitrary text. A policy that loads
// validates again, survives a JSON round trip unchanged, and answers
// SlaTargetFor / SlaClockSpecFor / SlaDecideInput for every metric and
// priority without crashing.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "lib/sla/sla_policy.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view json(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<slate::SlaPolicy> policy = slate::LoadSlaPolicyJson(json);
  if (!policy.ok()) {
    FUZZ_CHECK(policy.status().code() == absl::StatusCode::kInvalidArgument,
               "LoadSlaPolicyJson failed with ", policy.status().ToString());
    return 0;
  }
  const absl::Status valid = slate::ValidateSlaPolicy(*policy);
  FUZZ_CHECK(valid.ok(),
             "a loaded policy does not validate: ", valid.ToString());

  std::string printed;
  FUZZ_CHECK(
      google::protobuf::util::MessageToJsonString(*policy, &printed).ok(),
      "a loaded policy does not print as JSON");
  absl::StatusOr<slate::SlaPolicy> again = slate::LoadSlaPolicyJson(printed);
  FUZZ_CHECK(again.ok(),
             "the printed policy does not load: ", again.status().ToString(),
             "\n", printed);
  FUZZ_CHECK(
      google::protobuf::util::MessageDifferencer::Equals(*policy, *again),
      "JSON round trip changed the policy:\n", printed);

  const slate::SlaRecordTransition transition{"incident_opened", "new", ""};
  for (slate::SlaMetric m :
       {slate::SLA_METRIC_RESPONSE, slate::SLA_METRIC_RESOLUTION,
        slate::SLA_METRIC_UPDATE}) {
    slate::SlaDecideInput(slate::SlaRulesFor(*policy, m),
                          slate::SLA_CLOCK_PHASE_NOT_STARTED, transition);
    for (int priority = 1; priority <= 5; ++priority) {
      const bool has = slate::SlaTargetFor(*policy, m, priority).has_value();
      auto spec = slate::SlaClockSpecFor(*policy, m, priority, "INC1");
      FUZZ_CHECK(spec.ok() == has, "SlaClockSpecFor and SlaTargetFor disagree");
    }
  }
  return 0;
}
