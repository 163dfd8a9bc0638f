#include "lib/calendar/calendar_rules.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace slate {
namespace calendar_internal {
namespace {

constexpr int64_t kMinutesPerWeek = 7 * kMinutesPerDay;

const absl::CivilMinute kEpochMinute(1970, 1, 1, 0, 0);

// Floor division, for civil minutes before 1970.
int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// Monday == 0. 1970-01-01 (day 0) was a Thursday.
int WeekdayIndex(int64_t day) {
  return static_cast<int>(((day % 7) + 7 + 3) % 7);
}

absl::Status Invalid(absl::string_view calendar, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("calendar ", calendar, ": ", what));
}

bool ParseDigits(absl::string_view s, int* out) {
  int v = 0;
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return !s.empty();
}

// "HH:MM" to minutes of the day, 0..1440 ("24:00" is 1440).
bool ParseHhMm(absl::string_view s, int* minutes) {
  int h = 0;
  int m = 0;
  if (s.size() != 5 || s[2] != ':' || !ParseDigits(s.substr(0, 2), &h) ||
      !ParseDigits(s.substr(3, 2), &m) || m > 59 || h > 24 ||
      (h == 24 && m != 0)) {
    return false;
  }
  *minutes = h * 60 + m;
  return true;
}

// "YYYY-MM-DD", year 0001..9999, a real date.
bool ParseDate(absl::string_view s, absl::CivilDay* day) {
  int y = 0;
  int m = 0;
  int d = 0;
  if (s.size() != 10 || s[4] != '-' || s[7] != '-' ||
      !ParseDigits(s.substr(0, 4), &y) || !ParseDigits(s.substr(5, 2), &m) ||
      !ParseDigits(s.substr(8, 2), &d) || y < 1) {
    return false;
  }
  absl::CivilDay cd(y, m, d);
  if (cd.year() != y || cd.month() != m || cd.day() != d) return false;
  *day = cd;
  return true;
}

// A window's start and end, validated: start 00:00..23:59, end 00:00..24:00,
// end != start. Returns [begin, end) in minutes from the start of the day,
// end > 1440 when it crosses midnight.
absl::Status ParseWindow(absl::string_view calendar, absl::string_view field,
                         absl::string_view start, absl::string_view end,
                         DayWindow* out) {
  int b = 0;
  int e = 0;
  if (!ParseHhMm(start, &b)) {
    return Invalid(calendar,
                   absl::StrCat(field, ".start \"", start, "\" is not HH:MM"));
  }
  if (b == kMinutesPerDay) {
    return Invalid(calendar, absl::StrCat(field, ".start \"", start,
                                          "\" must be 00:00..23:59"));
  }
  if (!ParseHhMm(end, &e)) {
    return Invalid(calendar,
                   absl::StrCat(field, ".end \"", end, "\" is not HH:MM"));
  }
  if (e == b) {
    return Invalid(
        calendar,
        absl::StrCat(field, ": end \"", end, "\" equals start \"", start,
                     "\" (an end before the start crosses "
                     "midnight; an empty window is an error)"));
  }
  if (e < b) e += kMinutesPerDay;  // Crosses midnight.
  *out = DayWindow{b, e};
  return absl::OkStatus();
}

// Sorts by begin and merges overlapping or touching ranges.
std::vector<CivilRange> Merge(std::vector<CivilRange> ranges) {
  std::sort(ranges.begin(), ranges.end(),
            [](const CivilRange& a, const CivilRange& b) {
              return a.begin < b.begin;
            });
  std::vector<CivilRange> out;
  for (const CivilRange& r : ranges) {
    if (r.begin >= r.end) continue;
    if (!out.empty() && r.begin <= out.back().end) {
      out.back().end = std::max(out.back().end, r.end);
    } else {
      out.push_back(r);
    }
  }
  return out;
}

// a minus b; both sorted and disjoint.
std::vector<CivilRange> Subtract(const std::vector<CivilRange>& a,
                                 const std::vector<CivilRange>& b) {
  std::vector<CivilRange> out;
  size_t j = 0;
  for (CivilRange r : a) {
    while (j < b.size() && b[j].end <= r.begin) ++j;
    size_t k = j;
    while (k < b.size() && b[k].begin < r.end) {
      if (b[k].begin > r.begin) out.push_back({r.begin, b[k].begin});
      r.begin = std::max(r.begin, b[k].end);
      if (r.begin >= r.end) break;
      ++k;
    }
    if (r.begin < r.end) out.push_back(r);
  }
  return out;
}

// The ranges of sorted, disjoint `v` that intersect [from, to), clipped.
std::vector<CivilRange> Slice(const std::vector<CivilRange>& v, int64_t from,
                              int64_t to) {
  std::vector<CivilRange> out;
  auto it = std::upper_bound(
      v.begin(), v.end(), from,
      [](int64_t x, const CivilRange& r) { return x < r.end; });
  for (; it != v.end() && it->begin < to; ++it) {
    out.push_back({std::max(it->begin, from), std::min(it->end, to)});
  }
  return out;
}

const char* DayName(int index) {
  static const char* const kNames[] = {"MONDAY",   "TUESDAY", "WEDNESDAY",
                                       "THURSDAY", "FRIDAY",  "SATURDAY",
                                       "SUNDAY"};
  return kNames[index];
}

}  // namespace

int64_t ToCivilMinutes(absl::CivilMinute cm) { return cm - kEpochMinute; }

absl::CivilMinute FromCivilMinutes(int64_t minutes) {
  return kEpochMinute + minutes;
}

absl::StatusOr<CalendarRules> CompileCalendarSpec(const CalendarSpec& spec) {
  CalendarRules rules;
  rules.name = spec.name();
  const absl::string_view name = spec.name();
  if (name.empty()) {
    return absl::InvalidArgumentError("calendar: name is required");
  }
  if (spec.time_zone().empty()) {
    return Invalid(name,
                   "timeZone is required (an IANA name such as "
                   "\"Europe/Berlin\")");
  }
  // "localtime" would make the calendar depend on the machine it runs on.
  if (spec.time_zone() == "localtime" ||
      !absl::LoadTimeZone(spec.time_zone(), &rules.zone)) {
    return Invalid(name, absl::StrCat("timeZone \"", spec.time_zone(),
                                      "\" is not a known IANA time zone"));
  }
  rules.always_open = spec.always_open();
  if (rules.always_open && spec.weekly_size() > 0) {
    return Invalid(name, absl::StrCat("alwaysOpen is set, so weekly must be "
                                      "empty (it has ",
                                      spec.weekly_size(), " windows)"));
  }
  if (!rules.always_open && spec.weekly_size() == 0 &&
      spec.extra_windows_size() == 0) {
    return Invalid(name,
                   "no weekly windows, no extraWindows and alwaysOpen is "
                   "false: the calendar would never be open");
  }

  // Weekly windows, with their position in the week for the overlap check.
  struct WeekSpan {
    int64_t begin;
    int64_t end;
    int index;
  };
  std::vector<WeekSpan> spans;
  for (int i = 0; i < spec.weekly_size(); ++i) {
    const CalendarSpec::WeeklyWindow& w = spec.weekly(i);
    const std::string field = absl::StrCat("weekly[", i, "]");
    const int day = static_cast<int>(w.day());
    if (day == CalendarSpec::DAY_OF_WEEK_UNSPECIFIED) {
      return Invalid(name, absl::StrCat(field,
                                        ".day is required "
                                        "(MONDAY..SUNDAY)"));
    }
    if (day < CalendarSpec::MONDAY || day > CalendarSpec::SUNDAY) {
      return Invalid(
          name, absl::StrCat(field, ".day ", day, " is not a day of the week"));
    }
    DayWindow dw;
    const absl::Status s = ParseWindow(name, field, w.start(), w.end(), &dw);
    if (!s.ok()) return s;
    rules.weekly[day - 1].push_back(dw);
    const int64_t base = (day - 1) * kMinutesPerDay;
    spans.push_back({base + dw.begin, base + dw.end, i});
  }
  std::sort(
      spans.begin(), spans.end(),
      [](const WeekSpan& a, const WeekSpan& b) { return a.begin < b.begin; });
  auto describe = [&spec](int i) {
    const CalendarSpec::WeeklyWindow& w = spec.weekly(i);
    return absl::StrCat("weekly[", i, "] (",
                        DayName(static_cast<int>(w.day()) - 1), " ", w.start(),
                        "-", w.end(), ")");
  };
  auto overlap = [&](int a, int b) {
    return Invalid(name, absl::StrCat(describe(std::min(a, b)), " overlaps ",
                                      describe(std::max(a, b))));
  };
  for (size_t i = 1; i < spans.size(); ++i) {
    if (spans[i - 1].end > spans[i].begin) {
      return overlap(spans[i - 1].index, spans[i].index);
    }
  }
  if (spans.size() > 1 &&
      spans.back().end - kMinutesPerWeek > spans.front().begin) {
    return overlap(spans.back().index, spans.front().index);
  }
  for (int d = 0; d < 7; ++d) {
    if (rules.weekly[d].size() > static_cast<size_t>(kMaxWindowsPerDay)) {
      return Invalid(name, absl::StrCat("weekly has ", rules.weekly[d].size(),
                                        " windows on ", DayName(d),
                                        "; the limit is ", kMaxWindowsPerDay,
                                        " per day"));
    }
  }
  for (std::vector<DayWindow>& day : rules.weekly) {
    std::sort(day.begin(), day.end(),
              [](const DayWindow& a, const DayWindow& b) {
                return a.begin < b.begin;
              });
  }

  // Holidays: whole or partial days; they may overlap each other.
  std::vector<CivilRange> holidays;
  for (int i = 0; i < spec.holidays_size(); ++i) {
    const CalendarSpec::DateWindow& h = spec.holidays(i);
    const std::string field = absl::StrCat("holidays[", i, "]");
    absl::CivilDay day;
    if (!ParseDate(h.date(), &day)) {
      return Invalid(name, absl::StrCat(field, ".date \"", h.date(),
                                        "\" is not a YYYY-MM-DD date"));
    }
    const int64_t base = ToCivilMinutes(absl::CivilMinute(day));
    if (h.start().empty() && h.end().empty()) {
      holidays.push_back({base, base + kMinutesPerDay});
      continue;
    }
    if (h.start().empty() || h.end().empty()) {
      return Invalid(name, absl::StrCat(field,
                                        ": start and end must both be set "
                                        "(part of the day) or both be empty "
                                        "(the whole day)"));
    }
    DayWindow dw;
    const absl::Status s = ParseWindow(name, field, h.start(), h.end(), &dw);
    if (!s.ok()) return s;
    holidays.push_back({base + dw.begin, base + dw.end});
  }
  rules.holidays = Merge(std::move(holidays));

  // Extra windows: may overlap weekly time, not each other.
  struct Extra {
    CivilRange range;
    int index;
  };
  std::vector<Extra> extras;
  for (int i = 0; i < spec.extra_windows_size(); ++i) {
    const CalendarSpec::DateWindow& x = spec.extra_windows(i);
    const std::string field = absl::StrCat("extraWindows[", i, "]");
    absl::CivilDay day;
    if (!ParseDate(x.date(), &day)) {
      return Invalid(name, absl::StrCat(field, ".date \"", x.date(),
                                        "\" is not a YYYY-MM-DD date"));
    }
    if (x.start().empty() || x.end().empty()) {
      return Invalid(name, absl::StrCat(field, ": start and end are required"));
    }
    DayWindow dw;
    const absl::Status s = ParseWindow(name, field, x.start(), x.end(), &dw);
    if (!s.ok()) return s;
    const int64_t base = ToCivilMinutes(absl::CivilMinute(day));
    extras.push_back({{base + dw.begin, base + dw.end}, i});
  }
  std::sort(extras.begin(), extras.end(), [](const Extra& a, const Extra& b) {
    return a.range.begin < b.range.begin;
  });
  // Windows per date (a window belongs to the date it starts on).
  for (size_t i = 0, run = 0; i < extras.size(); ++i) {
    const int64_t day = FloorDiv(extras[i].range.begin, kMinutesPerDay);
    run = (i > 0 && FloorDiv(extras[i - 1].range.begin, kMinutesPerDay) == day)
              ? run + 1
              : 1;
    if (run > static_cast<size_t>(kMaxWindowsPerDay)) {
      return Invalid(name,
                     absl::StrCat("extraWindows has more than ",
                                  kMaxWindowsPerDay, " windows on ",
                                  spec.extra_windows(extras[i].index).date(),
                                  "; the limit is ", kMaxWindowsPerDay,
                                  " per day"));
    }
  }
  for (size_t i = 1; i < extras.size(); ++i) {
    if (extras[i - 1].range.end > extras[i].range.begin) {
      const int a = std::min(extras[i - 1].index, extras[i].index);
      const int b = std::max(extras[i - 1].index, extras[i].index);
      return Invalid(name, absl::StrCat("extraWindows[", b,
                                        "] overlaps extraWindows[", a, "]"));
    }
  }
  std::vector<CivilRange> extra_ranges;
  for (const Extra& e : extras) extra_ranges.push_back(e.range);
  rules.extras = Merge(std::move(extra_ranges));

  // Effective dates.
  rules.valid_from = ToCivilMinutes(absl::CivilMinute(0, 1, 1, 0, 0));
  rules.valid_to = ToCivilMinutes(absl::CivilMinute(10001, 1, 1, 0, 0));
  absl::CivilDay from;
  absl::CivilDay to;
  if (!spec.valid_from().empty()) {
    if (!ParseDate(spec.valid_from(), &from)) {
      return Invalid(name, absl::StrCat("validFrom \"", spec.valid_from(),
                                        "\" is not a YYYY-MM-DD date"));
    }
    rules.valid_from = ToCivilMinutes(absl::CivilMinute(from));
  }
  if (!spec.valid_to().empty()) {
    if (!ParseDate(spec.valid_to(), &to)) {
      return Invalid(name, absl::StrCat("validTo \"", spec.valid_to(),
                                        "\" is not a YYYY-MM-DD date"));
    }
    rules.valid_to = ToCivilMinutes(absl::CivilMinute(to + 1));
    if (!spec.valid_from().empty() && to < from) {
      return Invalid(name, absl::StrCat("validTo \"", spec.valid_to(),
                                        "\" is before validFrom \"",
                                        spec.valid_from(), "\""));
    }
  }
  return rules;
}

std::vector<CivilRange> OpenCivilRanges(const CalendarRules& rules,
                                        int64_t from, int64_t to) {
  const int64_t lo = std::max(from, rules.valid_from);
  const int64_t hi = std::min(to, rules.valid_to);
  if (lo >= hi) return {};

  std::vector<CivilRange> base;
  if (rules.always_open) {
    base.push_back({lo, hi});
  } else {
    // Start a day early: yesterday's midnight-crossing windows reach today.
    for (int64_t day = FloorDiv(lo, kMinutesPerDay) - 1;
         day * kMinutesPerDay < hi; ++day) {
      const int64_t day_start = day * kMinutesPerDay;
      for (const DayWindow& w : rules.weekly[WeekdayIndex(day)]) {
        const CivilRange r{std::max(lo, day_start + w.begin),
                           std::min(hi, day_start + w.end)};
        if (r.begin >= r.end) continue;
        // Windows never overlap, and come in order of their start.
        if (!base.empty() && r.begin <= base.back().end) {
          base.back().end = std::max(base.back().end, r.end);
        } else {
          base.push_back(r);
        }
      }
    }
  }
  std::vector<CivilRange> open = Subtract(base, Slice(rules.holidays, lo, hi));
  std::vector<CivilRange> extras = Slice(rules.extras, lo, hi);
  if (extras.empty()) return open;
  open.insert(open.end(), extras.begin(), extras.end());
  return Merge(std::move(open));
}

CivilRange PossiblyOpenRange(const CalendarRules& rules) {
  int64_t lo = rules.valid_from;
  int64_t hi = rules.valid_to;
  bool any_weekly = rules.always_open;
  for (const auto& day : rules.weekly) any_weekly |= !day.empty();
  if (!any_weekly) {
    if (rules.extras.empty()) return {lo, lo};
    lo = std::max(lo, rules.extras.front().begin);
    hi = std::min(hi, rules.extras.back().end);
  }
  if (lo >= hi) return {lo, lo};
  return {lo, hi};
}

}  // namespace calendar_internal
}  // namespace slate
