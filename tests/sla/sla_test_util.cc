#include "tests/sla/sla_test_util.h"

#include <cstdlib>
#include <iostream>

namespace slate::testing {

absl::Time Utc(const std::string& text) {
  absl::Time t;
  std::string err;
  const char* format =
      text.size() > 16 ? "%Y-%m-%d %H:%M:%S" : "%Y-%m-%d %H:%M";
  if (!absl::ParseTime(format, text, absl::UTCTimeZone(), &t, &err)) {
    std::cerr << "bad time in test: " << text << ": " << err << "\n";
    std::abort();
  }
  return t;
}

std::vector<SlaClockFact> MustApply(SlaClock& clock, const SlaClockInput& input,
                                    const BusinessTime& business) {
  std::vector<SlaClockFact> facts;
  absl::Status s = clock.ApplyInPlace(input, business, &facts);
  EXPECT_TRUE(s.ok()) << ToString(input) << ": " << s;
  absl::Status inv = clock.CheckInvariants();
  EXPECT_TRUE(inv.ok()) << inv;
  return facts;
}

std::string FactsToString(const std::vector<SlaClockFact>& facts) {
  std::string out;
  for (const SlaClockFact& f : facts) out += ToString(f) + "\n";
  return out;
}

}  // namespace slate::testing
