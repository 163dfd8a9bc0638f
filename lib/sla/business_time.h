// BusinessTime: the business-time arithmetic an SLA clock counts in.
//
// lib/sla does not depend on the calendar library; a business calendar is
// adapted to this interface where the two meet. AlwaysOpen is the "24x7"
// calendar: business time equals wall time.
//
//   slate::AlwaysOpen always;
//   absl::Duration d = always.Between(t, t + absl::Hours(4));   // 4h
//   absl::StatusOr<absl::Time> due = always.Add(t, absl::Hours(4));
//
// Contract every implementation must keep (SlaClock relies on it; the
// property tests in tests/sla check it for the test calendars):
//  - Between(a, b) is the business time inside [a, b); it is 0 when b <= a,
//    never negative, and additive: Between(a, b) + Between(b, c) ==
//    Between(a, c) for a <= b <= c.
//  - For d > 0, Add(t, d) is the earliest instant x > t with
//    Between(t, x) == d. So an Add that lands exactly on the end of a
//    working window returns that end, and a start outside the windows counts
//    from the next opening. SlaClock never calls Add with d <= 0.
//  - Add fails (e.g. kOutOfRange, kFailedPrecondition) only when no such
//    instant exists, for instance past the calendar's last effective date.
//  - Both are pure (same answer for the same arguments) and thread-safe.
//  - Instants and durations that SlaClock passes are whole microseconds;
//    results must be whole microseconds too.
//  - RelativeDeadline(start, r) (relative targets) is the instant r names
//    counted from start in the calendar's own zone: business day N is the
//    Nth local date after start's local date that has open time (closed
//    days and holidays are skipped); "end of" it is the end of its last
//    open time (at most its midnight); "HH:MM on" it is that local time of
//    that date (a wall time a DST change skips counts as the end of the gap,
//    a repeated one as its first occurrence). Calendars that cannot answer
//    return kUnimplemented.
#ifndef SLATE_LIB_SLA_BUSINESS_TIME_H_
#define SLATE_LIB_SLA_BUSINESS_TIME_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace slate {

// A target named by the calendar instead of a duration ("end of next
// business day", "17:00 on business day 3"; ServiceNow's relative
// durations): see BusinessTime::RelativeDeadline.
struct SlaRelativeTarget {
  int business_day = 1;  // >= 1: the Nth business day after the start's.
  // Minutes after local midnight (0..1439); nullopt: the end of that day's
  // open time.
  std::optional<int> minute_of_day;

  friend bool operator==(const SlaRelativeTarget&,
                         const SlaRelativeTarget&) = default;
};

// How a policy writes it: "end of business day 2" (N = 1 is written "end of
// next business day"), "17:00 on business day 3".
std::string SlaRelativeTargetText(const SlaRelativeTarget& r);

class BusinessTime {
 public:
  virtual ~BusinessTime() = default;

  // Business time in [a, b). 0 when b <= a.
  virtual absl::Duration Between(absl::Time a, absl::Time b) const = 0;

  // The instant when d of business time has passed from t (see the contract
  // above for d > 0).
  virtual absl::StatusOr<absl::Time> Add(absl::Time t,
                                         absl::Duration d) const = 0;

  // See the contract above. Default: kUnimplemented.
  virtual absl::StatusOr<absl::Time> RelativeDeadline(
      absl::Time start, const SlaRelativeTarget& target) const {
    (void)start;
    (void)target;
    return absl::UnimplementedError(
        "this calendar does not resolve relative targets");
  }
};

// The "24x7" calendar: every instant is business time.
class AlwaysOpen final : public BusinessTime {
 public:
  absl::Duration Between(absl::Time a, absl::Time b) const override {
    return b > a ? b - a : absl::ZeroDuration();
  }
  absl::StatusOr<absl::Time> Add(absl::Time t,
                                 absl::Duration d) const override {
    return t + d;
  }
  // Every UTC date is a business day, open all day.
  absl::StatusOr<absl::Time> RelativeDeadline(
      absl::Time start, const SlaRelativeTarget& target) const override;
};

}  // namespace slate

#endif  // SLATE_LIB_SLA_BUSINESS_TIME_H_
