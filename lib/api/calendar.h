// Calendar: business-time arithmetic on a CalendarSpec (proto/calendar.proto:
// a zone, weekly hours, holidays), as SLA clocks count it.
//
//   absl::StatusOr<slate::Calendar> cal = slate::Calendar::FromJson(json);
//   if (!cal.ok()) return cal.status();
//   // 4 business hours after Friday 16:00 in Berlin: Monday 11:00.
//   absl::StatusOr<absl::Time> due = cal->Add(start, absl::Hours(4));
//   absl::Duration open = cal->Between(start, *due);  // 4h
//
// A copyable handle; thread-safe (the calendar is immutable once built).
#ifndef SLATE_LIB_API_CALENDAR_H_
#define SLATE_LIB_API_CALENDAR_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "proto/calendar.pb.h"

namespace slate {

class BusinessCalendar;

class Calendar {
 public:
  // Validates and compiles `spec`. kInvalidArgument names the calendar and
  // the field, e.g. `calendar office-berlin: weekly[3].end "25:00" is not
  // HH:MM`.
  static absl::StatusOr<Calendar> FromSpec(const CalendarSpec& spec);
  // The spec as JSON (protobuf JSON mapping, unknown fields an error).
  static absl::StatusOr<Calendar> FromJson(absl::string_view json);

  // The instant at which `d` of open time has passed since `t`: for d > 0
  // the earliest r with Between(t, r) == d (a `t` outside business time
  // counts from the next opening); for d == 0 `t` if open, else the next
  // opening. kInvalidArgument if d < 0 or infinite; kFailedPrecondition
  // when less than d of open time remains (searched for at most 400 years),
  // kOutOfRange past year 9999.
  absl::StatusOr<absl::Time> Add(absl::Time t, absl::Duration d) const;
  // Open time inside [a, b); -Between(b, a) if b < a.
  absl::Duration Between(absl::Time a, absl::Time b) const;
  // Whether `t` is inside an open interval [start, end).
  bool IsOpen(absl::Time t) const;
  // The calendar's zone.
  const absl::TimeZone& zone() const;

 private:
  explicit Calendar(std::shared_ptr<const BusinessCalendar> impl);
  std::shared_ptr<const BusinessCalendar> impl_;  // Never null.
};

}  // namespace slate

#endif  // SLATE_LIB_API_CALENDAR_H_
