#include "lib/sla/calendar_business_time.h"

#include <cstdio>
#include <cstdlib>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace slate {
namespace {
constexpr int kMaxRelativeDays = 1000;
}  // namespace

CalendarBusinessTime::CalendarBusinessTime(
    std::shared_ptr<const BusinessCalendar> calendar)
    : calendar_(std::move(calendar)) {
  if (calendar_ == nullptr) {
    // A programming error, not bad input: fail loudly at construction rather
    // than on the first query.
    std::fprintf(stderr, "CalendarBusinessTime: null calendar\n");
    std::abort();
  }
}

absl::Duration CalendarBusinessTime::Between(absl::Time a, absl::Time b) const {
  if (b <= a) return absl::ZeroDuration();
  return calendar_->Between(a, b);
}

absl::StatusOr<absl::Time> CalendarBusinessTime::Add(absl::Time t,
                                                     absl::Duration d) const {
  return calendar_->Add(t, d);
}

absl::StatusOr<absl::Time> CalendarBusinessTime::RelativeDeadline(
    absl::Time start, const SlaRelativeTarget& target) const {
  const absl::TimeZone& zone = calendar_->zone();
  absl::CivilDay day = absl::ToCivilDay(start, zone);
  int found = 0;
  for (int i = 0; i < kMaxRelativeDays; ++i) {
    day += 1;
    const absl::Time from = absl::FromCivil(day, zone);
    const absl::Time to = absl::FromCivil(day + 1, zone);
    std::vector<std::pair<absl::Time, absl::Time>> open =
        calendar_->OpenIntervals(from, to, 1 << 10);
    if (open.empty() || ++found < target.business_day) continue;
    if (!target.minute_of_day.has_value()) return open.back().second;
    const absl::TimeZone::TimeInfo at = zone.At(absl::CivilMinute(
        day.year(), day.month(), day.day(), *target.minute_of_day / 60,
        *target.minute_of_day % 60));
    // A wall time a DST change skips: the end of the gap; a repeated one:
    // its first occurrence.
    return at.kind == absl::TimeZone::TimeInfo::SKIPPED ? at.trans : at.pre;
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "calendar \"", calendar_->name(), "\" has no ",
      SlaRelativeTargetText(target), " within ", kMaxRelativeDays,
      " days of ", absl::FormatTime(absl::RFC3339_full, start, zone)));
}

}  // namespace slate
