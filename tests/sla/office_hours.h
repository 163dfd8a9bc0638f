// Test calendars: Monday-Friday 09:00-17:00 UTC, as slate::BusinessTime.
//
//   slate::testing::SlowOfficeHours slow;  // Walks day by day: obviously
//   right. slate::testing::OfficeHours fast;      // O(1) week arithmetic.
//   absl::Duration d = fast.Between(friday_16h, monday_12h);  // 4h
//
// SlowOfficeHours is the reference; tests check OfficeHours against it, and
// the benchmark uses OfficeHours. Neither knows holidays or time zones.
#ifndef SLATE_TESTS_SLA_OFFICE_HOURS_H_
#define SLATE_TESTS_SLA_OFFICE_HOURS_H_

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lib/sla/business_time.h"

namespace slate::testing {

// Day by day; d <= 0 returns t if open, else the next opening.
class SlowOfficeHours final : public BusinessTime {
 public:
  absl::Duration Between(absl::Time a, absl::Time b) const override;
  absl::StatusOr<absl::Time> Add(absl::Time t, absl::Duration d) const override;
};

// Cumulative business time since a Monday, inverted for Add.
class OfficeHours final : public BusinessTime {
 public:
  absl::Duration Between(absl::Time a, absl::Time b) const override;
  absl::StatusOr<absl::Time> Add(absl::Time t, absl::Duration d) const override;
};

// True if t is inside a window (Mon-Fri, 09:00 <= time of day < 17:00 UTC).
bool IsOfficeOpen(absl::Time t);

}  // namespace slate::testing

#endif  // SLATE_TESTS_SLA_OFFICE_HOURS_H_
