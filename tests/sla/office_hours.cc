#include "tests/sla/office_hours.h"

#include <algorithm>
#include <cstdint>

namespace slate::testing {
namespace {

constexpr int64_t kMinuteUs = int64_t{60} * 1000 * 1000;
constexpr int64_t kHourUs = 60 * kMinuteUs;
constexpr int64_t kDayUs = 24 * kHourUs;
constexpr int64_t kWeekUs = 7 * kDayUs;
constexpr int64_t kOpenUs = 9 * kHourUs;
constexpr int64_t kCloseUs = 17 * kHourUs;
constexpr int64_t kWindowUs = kCloseUs - kOpenUs;
constexpr int64_t kBusinessWeekUs = 5 * kWindowUs;
// 1970-01-05 00:00 UTC, a Monday.
constexpr int64_t kMondayUs = 4 * kDayUs;

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int64_t Us(absl::Time t) { return absl::ToUnixMicros(t); }
absl::Time At(int64_t us) { return absl::FromUnixMicros(us); }

// 0 = Monday for the day starting at day_us (a multiple of kDayUs).
int Weekday(int64_t day_us) {
  return static_cast<int>(FloorDiv(day_us - kMondayUs, kDayUs) % 7 + 7) % 7;
}

// Business time in [kMondayUs, x).
int64_t Cumulative(int64_t x) {
  int64_t rel = x - kMondayUs;
  int64_t week = FloorDiv(rel, kWeekUs);
  int64_t r = rel - week * kWeekUs;
  int64_t day = r / kDayUs;
  int64_t tod = r % kDayUs;
  int64_t in_week = std::min<int64_t>(day, 5) * kWindowUs;
  if (day < 5) in_week += std::clamp<int64_t>(tod - kOpenUs, 0, kWindowUs);
  return week * kBusinessWeekUs + in_week;
}

// The earliest x with Cumulative(x) == v, for a v that is not the start of
// a window's worth (v > 0 relative to the week grid is handled by the -1).
int64_t Inverse(int64_t v) {
  int64_t week = FloorDiv(v - 1, kBusinessWeekUs);
  int64_t rem = v - week * kBusinessWeekUs;  // (0, kBusinessWeekUs]
  int64_t day = (rem - 1) / kWindowUs;       // 0..4
  int64_t in_day = rem - day * kWindowUs;    // (0, kWindowUs]
  return kMondayUs + week * kWeekUs + day * kDayUs + kOpenUs + in_day;
}

}  // namespace

bool IsOfficeOpen(absl::Time t) {
  int64_t x = Us(t);
  int64_t day = FloorDiv(x, kDayUs) * kDayUs;
  int64_t tod = x - day;
  return Weekday(day) < 5 && tod >= kOpenUs && tod < kCloseUs;
}

absl::Duration SlowOfficeHours::Between(absl::Time a, absl::Time b) const {
  int64_t from = Us(a), to = Us(b);
  if (to <= from) return absl::ZeroDuration();
  int64_t total = 0;
  for (int64_t day = FloorDiv(from, kDayUs) * kDayUs; day < to; day += kDayUs) {
    if (Weekday(day) >= 5) continue;
    int64_t lo = std::max(from, day + kOpenUs);
    int64_t hi = std::min(to, day + kCloseUs);
    if (hi > lo) total += hi - lo;
  }
  return absl::Microseconds(total);
}

absl::StatusOr<absl::Time> SlowOfficeHours::Add(absl::Time t,
                                                absl::Duration d) const {
  int64_t from = Us(t);
  int64_t left = absl::ToInt64Microseconds(d);
  for (int64_t day = FloorDiv(from, kDayUs) * kDayUs;; day += kDayUs) {
    if (Weekday(day) >= 5) continue;
    int64_t lo = std::max(from, day + kOpenUs);
    int64_t hi = day + kCloseUs;
    if (lo >= hi) continue;
    if (left <= 0) return At(lo);
    if (left <= hi - lo) return At(lo + left);
    left -= hi - lo;
  }
}

absl::Duration OfficeHours::Between(absl::Time a, absl::Time b) const {
  int64_t from = Us(a), to = Us(b);
  if (to <= from) return absl::ZeroDuration();
  return absl::Microseconds(Cumulative(to) - Cumulative(from));
}

absl::StatusOr<absl::Time> OfficeHours::Add(absl::Time t,
                                            absl::Duration d) const {
  int64_t from = Us(t);
  int64_t left = absl::ToInt64Microseconds(d);
  if (left <= 0) {
    if (IsOfficeOpen(t)) return t;
    return At(Inverse(Cumulative(from) + 1) - 1);
  }
  return At(Inverse(Cumulative(from) + left));
}

}  // namespace slate::testing
