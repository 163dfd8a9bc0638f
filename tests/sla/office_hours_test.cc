// The test calendars keep the BusinessTime contract, and the fast one agrees
// with the slow walk.
#include "tests/sla/office_hours.h"

#include <cstdint>
#include <iostream>
#include <random>

#include "gtest/gtest.h"
#include "tests/sla/sla_test_util.h"

namespace slate::testing {
namespace {

TEST(OfficeHours, FridayAfternoonToMondayNoonIsFourHours) {
  OfficeHours fast;
  SlowOfficeHours slow;
  for (const BusinessTime* b : {static_cast<const BusinessTime*>(&fast),
                                static_cast<const BusinessTime*>(&slow)}) {
    EXPECT_EQ(b->Between(Utc("2024-03-01 16:00"), Utc("2024-03-04 12:00")),
              absl::Hours(4));
    EXPECT_EQ(*b->Add(Utc("2024-03-01 16:00"), absl::Hours(4)),
              Utc("2024-03-04 12:00"));
    // Landing on a window end returns that end.
    EXPECT_EQ(*b->Add(Utc("2024-03-01 16:00"), absl::Hours(1)),
              Utc("2024-03-01 17:00"));
    // A start outside the windows counts from the next opening.
    EXPECT_EQ(*b->Add(Utc("2024-03-02 10:00"), absl::Minutes(1)),
              Utc("2024-03-04 09:01"));
    EXPECT_EQ(*b->Add(Utc("2024-03-02 10:00"), absl::ZeroDuration()),
              Utc("2024-03-04 09:00"));
    EXPECT_EQ(b->Between(Utc("2024-03-02 00:00"), Utc("2024-03-04 09:00")),
              absl::ZeroDuration());
    EXPECT_EQ(b->Between(Utc("2024-03-04 00:00"), Utc("2024-03-11 00:00")),
              absl::Hours(40));
  }
}

TEST(OfficeHours, FastMatchesSlowAndKeepsTheContract) {
  constexpr uint64_t kSeed = 20240301;
  std::cout << "seed " << kSeed << "\n";
  std::mt19937_64 rng(kSeed);
  OfficeHours fast;
  SlowOfficeHours slow;
  const int64_t base = absl::ToUnixMicros(Utc("2024-01-01 00:00"));
  const int64_t span = int64_t{60} * 24 * 3600 * 1000000;  // 60 days.
  std::uniform_int_distribution<int64_t> instant(0, span);
  std::uniform_int_distribution<int64_t> minute(0, 60 * 24 * 60);
  for (int i = 0; i < 5000; ++i) {
    // Half on whole minutes (window edges), half anywhere.
    int64_t a_us = base + (i % 2 ? instant(rng) : minute(rng) * 60000000);
    int64_t b_us = base + (i % 2 ? instant(rng) : minute(rng) * 60000000);
    int64_t c_us = base + instant(rng);
    absl::Time a = absl::FromUnixMicros(std::min(a_us, b_us));
    absl::Time b = absl::FromUnixMicros(std::max(a_us, b_us));
    absl::Time c = std::max(b, absl::FromUnixMicros(c_us));
    ASSERT_EQ(fast.Between(a, b), slow.Between(a, b)) << a << " " << b;
    ASSERT_EQ(fast.Between(a, b) + fast.Between(b, c), fast.Between(a, c));
    ASSERT_LE(fast.Between(a, b), b - a);
    absl::Duration d = absl::Microseconds(1 + instant(rng) % (span / 4));
    if (i % 3 == 0) d = absl::Minutes(1 + minute(rng) % (60 * 40));
    absl::Time x = *fast.Add(a, d);
    ASSERT_EQ(x, *slow.Add(a, d)) << a << " + " << d;
    ASSERT_EQ(fast.Between(a, x), d);
    ASSERT_LT(fast.Between(a, x - absl::Microseconds(1)), d);  // Earliest.
  }
}

}  // namespace
}  // namespace slate::testing
