// Helpers shared by the SLA tests: UTC instants from text, folding inputs
// with checks, printing facts.
//
//   absl::Time t = slate::testing::Utc("2024-03-01 16:00");  // a Friday
//   std::vector<slate::SlaClockFact> facts =
//       slate::testing::MustApply(clock, SlaClockInput::Start(t), office);
#ifndef SLATE_TESTS_SLA_SLA_TEST_UTIL_H_
#define SLATE_TESTS_SLA_SLA_TEST_UTIL_H_

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "lib/sla/sla_clock.h"

namespace slate::testing {

// "YYYY-MM-DD HH:MM" or "YYYY-MM-DD HH:MM:SS" in UTC; aborts the test
// binary on a typo.
absl::Time Utc(const std::string& text);

// Applies `input` in place, checks that it succeeded and that the clock's
// invariants hold, and returns the facts it produced.
std::vector<SlaClockFact> MustApply(SlaClock& clock, const SlaClockInput& input,
                                    const BusinessTime& business);

std::string FactsToString(const std::vector<SlaClockFact>& facts);

}  // namespace slate::testing

namespace slate {
// gtest printers.
inline void PrintTo(const SlaClockFact& fact, std::ostream* os) {
  *os << ToString(fact);
}
}  // namespace slate

#endif  // SLATE_TESTS_SLA_SLA_TEST_UTIL_H_
