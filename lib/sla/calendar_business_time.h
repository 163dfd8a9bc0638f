// CalendarBusinessTime: a BusinessCalendar seen as the BusinessTime an SLA
// clock counts in. The one place where lib/sla meets lib/calendar, so
// SlaClock itself stays free of the calendar library.
//
//   SLATE_ASSIGN_OR_RETURN(std::shared_ptr<const BusinessCalendar> cal,
//                          BusinessCalendar::FromJson(json));
//   slate::CalendarBusinessTime business(cal);
//   absl::Status s = clock.ApplyInPlace(SlaClockInput::Start(opened_at),
//                                       business, &facts);
//   // On office-berlin, a 4h target opened Friday 2026-11-27 16:00 local
//   // is due Monday 2026-11-30 12:00 local.
//
// Contract: the BusinessTime contract (lib/sla/business_time.h), on top of
// BusinessCalendar's semantics (lib/calendar/business_calendar.h):
//  - Between(a, b) is the calendar's open time in [a, b) when a < b, and 0
//    when b <= a (BusinessCalendar::Between is signed; this never is).
//  - Add(t, d) for d > 0 is BusinessCalendar::Add: the earliest x > t with
//    Between(t, x) == d, a window's end when it lands on one, counting from
//    the next opening when t is closed. For d == 0 it is the next opening
//    (t itself when open), as BusinessCalendar::Add. Errors are the
//    calendar's: kInvalidArgument for d < 0 or an infinite d,
//    kFailedPrecondition when less than d of open time remains (e.g. a
//    calendar that never opens, or one past its validTo), kOutOfRange past
//    year 9999.
//  - Instants and durations are whole microseconds; finer parts are floored
//    (so pass whole microseconds, as SlaClock does).
// Thread-safe and cheap to copy: it only holds the shared, immutable
// calendar.
#ifndef SLATE_LIB_SLA_CALENDAR_BUSINESS_TIME_H_
#define SLATE_LIB_SLA_CALENDAR_BUSINESS_TIME_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lib/calendar/business_calendar.h"
#include "lib/sla/business_time.h"

namespace slate {

class CalendarBusinessTime final : public BusinessTime {
 public:
  // REQUIRES: calendar is not null.
  explicit CalendarBusinessTime(
      std::shared_ptr<const BusinessCalendar> calendar);

  absl::Duration Between(absl::Time a, absl::Time b) const override;
  absl::StatusOr<absl::Time> Add(absl::Time t, absl::Duration d) const override;
  // Business days are the local dates (the calendar's zone) with open time;
  // looks at most 1,000 dates ahead (kFailedPrecondition past that).
  absl::StatusOr<absl::Time> RelativeDeadline(
      absl::Time start, const SlaRelativeTarget& target) const override;

  const BusinessCalendar& calendar() const { return *calendar_; }

 private:
  std::shared_ptr<const BusinessCalendar> calendar_;
};

}  // namespace slate

#endif  // SLATE_LIB_SLA_CALENDAR_BUSINESS_TIME_H_
