// Test helpers for lib/domain: build commands from JSON, fold decided events
// into a state the way the executor does (versions, event time).
//
//   slate::Command c = slate::testing::Cmd(R"({"startIncident": {...}})");
//   slate::testing::Fold(events, at, &state, slate::EvolveIncident);
#ifndef SLATE_TESTS_DOMAIN_DOMAIN_TEST_UTIL_H_
#define SLATE_TESTS_DOMAIN_DOMAIN_TEST_UTIL_H_

#include <stdexcept>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "proto/commands.pb.h"
#include "proto/events.pb.h"

namespace slate::testing {

// Parses a Command from its JSON form; throws on bad JSON (a test bug).
inline Command Cmd(const std::string& json) {
  Command c;
  google::protobuf::util::JsonParseOptions o;
  o.ignore_unknown_fields = false;
  auto s = google::protobuf::util::JsonStringToMessage(json, &c, o);
  if (!s.ok()) throw std::runtime_error("bad command JSON: " + json);
  return c;
}

// Folds `events` after `state`'s version, with occurred_at = at.
template <typename State, typename Evolve>
void Fold(const std::vector<Envelope>& events, absl::Time at, State* state,
          Evolve evolve) {
  for (Envelope e : events) {
    e.set_version(state->version() + 1);
    e.set_occurred_at_us(absl::ToUnixMicros(at));
    evolve(e, state);
  }
}

// 2026-11-02T09:00:00Z plus `minutes`.
inline absl::Time T(int64_t minutes) {
  return absl::FromUnixSeconds(1793610000) + absl::Minutes(minutes);
}

}  // namespace slate::testing

#endif  // SLATE_TESTS_DOMAIN_DOMAIN_TEST_UTIL_H_
