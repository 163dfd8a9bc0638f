#include "lib/sla/business_time.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace slate {

std::string SlaRelativeTargetText(const SlaRelativeTarget& r) {
  if (r.minute_of_day.has_value()) {
    return absl::StrFormat("%02d:%02d on business day %d",
                           *r.minute_of_day / 60, *r.minute_of_day % 60,
                           r.business_day);
  }
  if (r.business_day == 1) return "end of next business day";
  return absl::StrCat("end of business day ", r.business_day);
}

absl::StatusOr<absl::Time> AlwaysOpen::RelativeDeadline(
    absl::Time start, const SlaRelativeTarget& target) const {
  const absl::TimeZone utc = absl::UTCTimeZone();
  const absl::CivilDay day =
      absl::ToCivilDay(start, utc) + target.business_day;
  if (!target.minute_of_day.has_value()) return absl::FromCivil(day + 1, utc);
  return absl::FromCivil(day, utc) + absl::Minutes(*target.minute_of_day);
}

}  // namespace slate
