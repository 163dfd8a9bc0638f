#include "tests/calendar/minute_oracle.h"

#include <algorithm>
#include <cstdio>
#include <string>

namespace slate {
namespace {

constexpr int64_t kUsPerMinute = 60 * 1000 * 1000;
constexpr int kDayMinutes = 1440;

// "HH:MM" to minutes; the spec is valid, so no error handling.
int Hm(const std::string& s) {
  int h = 0;
  int m = 0;
  std::sscanf(s.c_str(), "%d:%d", &h, &m);
  return h * 60 + m;
}

absl::CivilDay Date(const std::string& s) {
  int y = 0;
  int m = 0;
  int d = 0;
  std::sscanf(s.c_str(), "%d-%d-%d", &y, &m, &d);
  return absl::CivilDay(y, m, d);
}

// 1 = Monday .. 7 = Sunday, as CalendarSpec::DayOfWeek.
int DayOfWeek(absl::CivilDay day) {
  switch (absl::GetWeekday(day)) {
    case absl::Weekday::monday:
      return 1;
    case absl::Weekday::tuesday:
      return 2;
    case absl::Weekday::wednesday:
      return 3;
    case absl::Weekday::thursday:
      return 4;
    case absl::Weekday::friday:
      return 5;
    case absl::Weekday::saturday:
      return 6;
    case absl::Weekday::sunday:
      return 7;
  }
  return 0;
}

void Fill(std::vector<bool>& paint, int from, int to, bool value) {
  for (int i = from; i < to; ++i) paint[i] = value;
}

// Paints a window [start, end) that began on `window_day` onto `day`: its
// own part if window_day == day, its after-midnight part if window_day is
// the day before and end < start.
void PaintWindow(std::vector<bool>& paint, absl::CivilDay day,
                 absl::CivilDay window_day, const std::string& start,
                 const std::string& end, bool value) {
  const int s = Hm(start);
  const int e = Hm(end);
  const bool crosses = e < s;
  if (window_day == day) Fill(paint, s, crosses ? kDayMinutes : e, value);
  if (crosses && window_day == day - 1) Fill(paint, 0, e, value);
}

}  // namespace

MinuteOracle::MinuteOracle(const CalendarSpec& spec, absl::Time begin,
                           int64_t minutes)
    : spec_(spec), begin_(begin), minutes_(minutes) {
  absl::LoadTimeZone(spec.time_zone(), &zone_);
  open_.assign(minutes_, false);
  // Start the wall-clock maximum three days early so that a repeated hour
  // just before begin is accounted for.
  absl::Time t = begin_ - absl::Hours(72);
  absl::CivilMinute wall_max;
  bool first = true;
  for (int64_t i = -72 * 60; i < minutes_; ++i, t += absl::Minutes(1)) {
    const absl::TimeZone::CivilInfo info = zone_.At(t);
    if (info.cs.second() != 0 || info.subsecond != absl::ZeroDuration()) {
      whole_minutes_ = false;
    }
    const absl::CivilMinute wall(info.cs);
    if (first || wall > wall_max) wall_max = wall;
    first = false;
    if (i >= 0) open_[i] = OpenAtCivil(wall_max);
  }
  open_before_.assign(minutes_ + 1, 0);
  for (int64_t i = 0; i < minutes_; ++i) {
    open_before_[i + 1] = open_before_[i] + (open_[i] ? 1 : 0);
  }
  next_open_.assign(minutes_ + 1, minutes_);
  for (int64_t i = minutes_ - 1; i >= 0; --i) {
    next_open_[i] = open_[i] ? i : next_open_[i + 1];
  }
  for (int64_t i = 0; i < minutes_; ++i) {
    if (open_[i] != (i > 0 && open_[i - 1])) edges_.push_back(i);
  }
}

const MinuteOracle::DayPaint& MinuteOracle::Paint(absl::CivilDay day) {
  auto it = paint_.find(day);
  if (it != paint_.end()) return it->second;
  DayPaint paint(kDayMinutes, false);
  const bool before =
      !spec_.valid_from().empty() && day < Date(spec_.valid_from());
  const bool after = !spec_.valid_to().empty() && day > Date(spec_.valid_to());
  if (!before && !after) {
    if (spec_.always_open()) Fill(paint, 0, kDayMinutes, true);
    for (const auto& w : spec_.weekly()) {
      for (absl::CivilDay d : {day, day - 1}) {
        if (DayOfWeek(d) == static_cast<int>(w.day())) {
          PaintWindow(paint, day, d, w.start(), w.end(), true);
        }
      }
    }
    for (const auto& h : spec_.holidays()) {
      const absl::CivilDay d = Date(h.date());
      if (h.start().empty()) {
        if (d == day) Fill(paint, 0, kDayMinutes, false);
      } else {
        PaintWindow(paint, day, d, h.start(), h.end(), false);
      }
    }
    for (const auto& x : spec_.extra_windows()) {
      PaintWindow(paint, day, Date(x.date()), x.start(), x.end(), true);
    }
  }
  return paint_.emplace(day, std::move(paint)).first->second;
}

bool MinuteOracle::OpenAtCivil(absl::CivilMinute m) {
  const absl::CivilDay day(m);
  if (last_paint_ == nullptr || day != last_day_) {
    last_paint_ = &Paint(day);
    last_day_ = day;
  }
  return (*last_paint_)[m.hour() * 60 + m.minute()];
}

int64_t MinuteOracle::MinuteIndex(absl::Time t) const {
  return (absl::ToUnixMicros(t) - absl::ToUnixMicros(begin_)) / kUsPerMinute;
}

bool MinuteOracle::IsOpen(absl::Time t) const { return open_[MinuteIndex(t)]; }

std::optional<absl::Time> MinuteOracle::NextOpen(absl::Time t) const {
  const int64_t m = MinuteIndex(t);
  if (open_[m]) return t;
  const int64_t n = next_open_[m];
  if (n == minutes_) return std::nullopt;
  return begin_ + absl::Minutes(n);
}

int64_t MinuteOracle::Cum(absl::Time t) const {
  const int64_t us = absl::ToUnixMicros(t) - absl::ToUnixMicros(begin_);
  const int64_t m = us / kUsPerMinute;
  int64_t cum = open_before_[m] * kUsPerMinute;
  if (m < minutes_ && open_[m]) cum += us - m * kUsPerMinute;
  return cum;
}

absl::Duration MinuteOracle::Between(absl::Time a, absl::Time b) const {
  return absl::Microseconds(Cum(b) - Cum(a));
}

std::optional<absl::Time> MinuteOracle::Add(absl::Time t,
                                            absl::Duration d) const {
  const int64_t us = absl::ToInt64Microseconds(d);
  if (us == 0) return NextOpen(t);
  const int64_t target = Cum(t) + us;
  if (target > open_before_[minutes_] * kUsPerMinute) return std::nullopt;
  // The minute holding the target's last microsecond is the k-th open one.
  const int64_t k = (target + kUsPerMinute - 1) / kUsPerMinute;
  const int64_t m =
      std::lower_bound(open_before_.begin(), open_before_.end(), k) -
      open_before_.begin() - 1;
  return begin_ + absl::Microseconds(m * kUsPerMinute +
                                     (target - open_before_[m] * kUsPerMinute));
}

}  // namespace slate
