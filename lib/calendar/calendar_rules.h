// Calendar rules: a validated CalendarSpec, compiled to civil-minute ranges.
//
// Internal to lib/calendar. BusinessCalendar compiles a spec once and asks
// for the open ranges of a stretch of local civil time when it indexes it:
//
//   SLATE_ASSIGN_OR_RETURN(CalendarRules rules, CompileCalendarSpec(spec));
//   std::vector<CivilRange> open = OpenCivilRanges(rules, from_min, to_min);
//
// Civil minutes count local wall-clock minutes since 1970-01-01 00:00 as if
// every day had 1440 minutes; no time zone is involved until BusinessCalendar
// maps the range boundaries to absolute time.
#ifndef SLATE_LIB_CALENDAR_CALENDAR_RULES_H_
#define SLATE_LIB_CALENDAR_CALENDAR_RULES_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "proto/calendar.pb.h"

namespace slate {
namespace calendar_internal {

inline constexpr int64_t kMinutesPerDay = 1440;

// Most windows of one day: weekly windows on one day of the week, and extra
// windows on one date, each counted separately. A window every 15 minutes;
// more would multiply the size of the calendar's index (one interval per
// window and day) for no real calendar. Past it: kInvalidArgument.
inline constexpr int kMaxWindowsPerDay = 96;

// Civil minutes since 1970-01-01 00:00 of `cm`, and back.
int64_t ToCivilMinutes(absl::CivilMinute cm);
absl::CivilMinute FromCivilMinutes(int64_t minutes);

// A half-open range [begin, end) of civil minutes.
struct CivilRange {
  int64_t begin;
  int64_t end;
  friend bool operator==(const CivilRange& a, const CivilRange& b) {
    return a.begin == b.begin && a.end == b.end;
  }
};

// A recurring window in minutes from the start of its day: 0 <= begin < 1440,
// begin < end <= begin + 1440. end > 1440 crosses midnight.
struct DayWindow {
  int begin;
  int end;
};

struct CalendarRules {
  std::string name;
  absl::TimeZone zone;
  bool always_open = false;
  // Index 0 is Monday. Each list is sorted by begin, and no window of the
  // week overlaps another (crossing windows included).
  std::array<std::vector<DayWindow>, 7> weekly;
  // Sorted, disjoint, non-touching (merged) closures.
  std::vector<CivilRange> holidays;
  // Sorted, disjoint, non-touching (merged) extra open time.
  std::vector<CivilRange> extras;
  // Effective range [valid_from, valid_to); wide sentinels when unbounded.
  int64_t valid_from = 0;
  int64_t valid_to = 0;
};

// Validates `spec` and compiles it. Errors are kInvalidArgument naming the
// calendar and the field, e.g.
//   calendar office-berlin: weekly[3].end "25:00" is not HH:MM
absl::StatusOr<CalendarRules> CompileCalendarSpec(const CalendarSpec& spec);

// The open time of `rules` inside [from, to) in civil minutes: sorted,
// disjoint and merged (no two ranges touch), clipped to [from, to).
// REQUIRES: from <= to, both within a few days of years 0001..9999.
std::vector<CivilRange> OpenCivilRanges(const CalendarRules& rules,
                                        int64_t from, int64_t to);

// A range of civil minutes outside which `rules` is never open (it may be
// closed inside too). Empty (begin == end) if the calendar is never open.
CivilRange PossiblyOpenRange(const CalendarRules& rules);

}  // namespace calendar_internal
}  // namespace slate

#endif  // SLATE_LIB_CALENDAR_CALENDAR_RULES_H_
