#include "lib/api/calendar.h"

#include <utility>

#include "lib/calendar/business_calendar.h"

namespace slate {

Calendar::Calendar(std::shared_ptr<const BusinessCalendar> impl)
    : impl_(std::move(impl)) {}

absl::StatusOr<Calendar> Calendar::FromSpec(const CalendarSpec& spec) {
  absl::StatusOr<std::shared_ptr<const BusinessCalendar>> c =
      BusinessCalendar::FromSpec(spec);
  if (!c.ok()) return c.status();
  return Calendar(*std::move(c));
}

absl::StatusOr<Calendar> Calendar::FromJson(absl::string_view json) {
  absl::StatusOr<std::shared_ptr<const BusinessCalendar>> c =
      BusinessCalendar::FromJson(json);
  if (!c.ok()) return c.status();
  return Calendar(*std::move(c));
}

absl::StatusOr<absl::Time> Calendar::Add(absl::Time t, absl::Duration d) const {
  return impl_->Add(t, d);
}
absl::Duration Calendar::Between(absl::Time a, absl::Time b) const {
  return impl_->Between(a, b);
}
bool Calendar::IsOpen(absl::Time t) const { return impl_->IsOpen(t); }
const absl::TimeZone& Calendar::zone() const { return impl_->zone(); }

}  // namespace slate
