#include "lib/sla/calendar_business_time.h"

#include <cstdio>
#include <cstdlib>
#include <utility>

namespace slate {

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

}  // namespace slate
