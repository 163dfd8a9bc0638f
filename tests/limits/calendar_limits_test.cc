// Limits and bad input for business calendars and SLA durations: windows per
// day at, under and over the limit (96), huge holiday lists, calendars that
// never open (Add is kFailedPrecondition, promptly), times at and beyond the
// supported range, and durations that are negative, zero, infinite, below
// the microsecond or absurdly large. Prints the bad inputs it tried.
#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/calendar/business_calendar.h"
#include "lib/sla/sla_policy.h"
#include "proto/calendar.pb.h"

namespace slate {
namespace {

using ::testing::HasSubstr;

// The documented limit (lib/calendar/business_calendar.h, calendar.proto).
constexpr int kWindowsPerDay = 96;

std::string HhMm(int minutes) {
  return absl::StrFormat("%02d:%02d", minutes / 60, minutes % 60);
}

CalendarSpec Office() {
  CalendarSpec spec;
  spec.set_name("office");
  spec.set_time_zone("Europe/Berlin");
  for (int d = 1; d <= 5; ++d) {
    auto* w = spec.add_weekly();
    w->set_day(static_cast<CalendarSpec::DayOfWeek>(d));
    w->set_start("09:00");
    w->set_end("17:00");
  }
  return spec;
}

absl::Time Utc(int y, int m, int d, int hh = 0, int mm = 0) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, hh, mm, 0),
                         absl::UTCTimeZone());
}

// n windows of 10 minutes, 14 minutes apart, on Monday.
CalendarSpec WeeklyWindows(int n) {
  CalendarSpec spec;
  spec.set_name("many");
  spec.set_time_zone("UTC");
  for (int i = 0; i < n; ++i) {
    auto* w = spec.add_weekly();
    w->set_day(CalendarSpec::MONDAY);
    w->set_start(HhMm(i * 14));
    w->set_end(HhMm(i * 14 + 10));
  }
  return spec;
}

TEST(CalendarLimitsTest, WeeklyWindowsPerDay) {
  for (int n : {kWindowsPerDay - 1, kWindowsPerDay}) {
    auto cal = BusinessCalendar::FromSpec(WeeklyWindows(n));
    ASSERT_TRUE(cal.ok()) << n << ": " << cal.status();
    // Monday 2026-11-30: n windows of 10 minutes.
    EXPECT_EQ((*cal)->Between(Utc(2026, 11, 30), Utc(2026, 12, 1)),
              absl::Minutes(10 * n));
  }
  auto over = BusinessCalendar::FromSpec(WeeklyWindows(kWindowsPerDay + 1));
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(over.status().message()),
              HasSubstr("97 windows on MONDAY; the limit is 96 per day"));
  // The limit is per day: 96 on Monday and 96 on Tuesday is fine.
  CalendarSpec two = WeeklyWindows(kWindowsPerDay);
  for (int i = 0; i < kWindowsPerDay; ++i) {
    auto* w = two.add_weekly();
    w->set_day(CalendarSpec::TUESDAY);
    w->set_start(HhMm(i * 14));
    w->set_end(HhMm(i * 14 + 10));
  }
  EXPECT_TRUE(BusinessCalendar::FromSpec(two).ok());
  std::printf("bad inputs tried: calendar weekly windows per day: 1\n");
}

TEST(CalendarLimitsTest, ExtraWindowsPerDate) {
  auto spec_with = [](int n) {
    CalendarSpec spec = Office();
    for (int i = 0; i < n; ++i) {
      auto* x = spec.add_extra_windows();
      x->set_date("2026-12-27");
      x->set_start(HhMm(i * 14));
      x->set_end(HhMm(i * 14 + 10));
    }
    // Another date does not count towards 2026-12-27.
    auto* x = spec.add_extra_windows();
    x->set_date("2026-12-28");
    x->set_start("20:00");
    x->set_end("21:00");
    return spec;
  };
  for (int n : {kWindowsPerDay - 1, kWindowsPerDay}) {
    auto cal = BusinessCalendar::FromSpec(spec_with(n));
    ASSERT_TRUE(cal.ok()) << n << ": " << cal.status();
  }
  auto over = BusinessCalendar::FromSpec(spec_with(kWindowsPerDay + 1));
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(over.status().message()),
              HasSubstr("on 2026-12-27; the limit is 96 per day"));
  std::printf("bad inputs tried: calendar extra windows per date: 1\n");
}

// 100,000 whole-day holidays: every day from 2000-01-01 for 273 years. The
// calendar loads, and an Add from 2026 lands on the first working hour
// after the last holiday.
TEST(CalendarLimitsTest, HugeHolidayList) {
  CalendarSpec spec = Office();
  const absl::CivilDay first(2000, 1, 1);
  constexpr int kHolidays = 100000;
  for (int i = 0; i < kHolidays; ++i) {
    const absl::CivilDay d = first + i;
    spec.add_holidays()->set_date(
        absl::StrFormat("%04d-%02d-%02d", d.year(), d.month(), d.day()));
  }
  auto cal = BusinessCalendar::FromSpec(spec);
  ASSERT_TRUE(cal.ok()) << cal.status();
  const absl::CivilDay after = first + kHolidays;  // Not a holiday.
  const absl::Time t = Utc(2026, 11, 30, 12);
  EXPECT_FALSE((*cal)->IsOpen(t));
  auto r = (*cal)->Add(t, absl::Hours(1));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_GE(*r, absl::FromCivil(after, (*cal)->zone()));
  EXPECT_EQ((*cal)->Between(t, *r), absl::Hours(1));
  EXPECT_EQ((*cal)->Between(t, absl::FromCivil(after, (*cal)->zone())),
            absl::ZeroDuration());
}

// Calendars that are never open from some instant on: Add and NextOpen
// return kFailedPrecondition (not an endless loop), Between is 0.
TEST(CalendarLimitsTest, NeverOpenCalendars) {
  int tried = 0;
  // Every day of its validity is a holiday.
  CalendarSpec closed = Office();
  closed.set_valid_from("2026-01-01");
  closed.set_valid_to("2026-01-31");
  for (int d = 1; d <= 31; ++d) {
    closed.add_holidays()->set_date(absl::StrFormat("2026-01-%02d", d));
  }
  // Only an extra window, long ago.
  CalendarSpec past;
  past.set_name("past");
  past.set_time_zone("UTC");
  auto* x = past.add_extra_windows();
  x->set_date("1999-12-31");
  x->set_start("10:00");
  x->set_end("11:00");
  // Always open, but every day of its validity closed.
  CalendarSpec always;
  always.set_name("always");
  always.set_time_zone("UTC");
  always.set_always_open(true);
  always.set_valid_from("2030-02-01");
  always.set_valid_to("2030-02-02");
  always.add_holidays()->set_date("2030-02-01");
  always.add_holidays()->set_date("2030-02-02");
  // Open in 2026, then not for 7000 years: further than Add and NextOpen
  // look across a gap (400 years), so from 2027 on it counts as never open.
  CalendarSpec far;
  far.set_name("far");
  far.set_time_zone("UTC");
  for (const char* date : {"2026-06-01", "9000-06-01"}) {
    auto* y = far.add_extra_windows();
    y->set_date(date);
    y->set_start("10:00");
    y->set_end("11:00");
  }

  for (const CalendarSpec& spec : {closed, past, always, far}) {
    auto cal = BusinessCalendar::FromSpec(spec);
    ASSERT_TRUE(cal.ok()) << spec.name() << ": " << cal.status();
    for (absl::Time t : {Utc(2026, 1, 10), Utc(2000, 1, 1), Utc(1, 1, 1),
                         absl::InfinitePast()}) {
      if (spec.name() == "past" && t < Utc(2000, 1, 1)) continue;
      if (spec.name() == "far") t = Utc(2027, 1, 10) + absl::Hours(tried);
      auto r = (*cal)->Add(t, absl::Hours(1));
      ASSERT_FALSE(r.ok()) << spec.name();
      EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition)
          << spec.name() << ": " << r.status();
      EXPECT_THAT(std::string(r.status().message()),
                  HasSubstr(absl::StrCat("calendar ", spec.name())));
      auto n = (*cal)->NextOpen(t);
      EXPECT_EQ(n.status().code(), absl::StatusCode::kFailedPrecondition)
          << spec.name();
      EXPECT_EQ((*cal)->Between(t, Utc(2100, 1, 1)), absl::ZeroDuration());
      tried += 2;
    }
  }
  // Before the gap, "far" is an ordinary calendar: from year 1 the search
  // jumps straight to its first window.
  auto far_cal = BusinessCalendar::FromSpec(far);
  ASSERT_TRUE(far_cal.ok());
  auto r = (*far_cal)->Add(Utc(1, 1, 1), absl::Minutes(30));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, Utc(2026, 6, 1, 10, 30));
  auto gap = (*far_cal)->Add(Utc(2027, 1, 1), absl::Minutes(30));
  EXPECT_THAT(std::string(gap.status().message()),
              HasSubstr("no open time in the 400 years"));
  std::printf("bad inputs tried: never-open calendar queries: %d\n", tried);
}

// Instants at and beyond the supported range (years 0001..9999), and
// durations outside what Add accepts.
TEST(CalendarLimitsTest, ExtremeTimesAndDurations) {
  CalendarSpec spec;
  spec.set_name("24x7");
  spec.set_time_zone("UTC");
  spec.set_always_open(true);
  auto always = BusinessCalendar::FromSpec(spec);
  ASSERT_TRUE(always.ok());
  auto office = BusinessCalendar::FromSpec(Office());
  ASSERT_TRUE(office.ok());
  int tried = 0;
  const absl::Time times[] = {absl::InfinitePast(),
                              Utc(1, 1, 1),
                              Utc(1, 1, 1) - absl::Hours(1),
                              Utc(9999, 12, 31, 23, 0),
                              Utc(9999, 12, 31, 23, 59),
                              absl::InfiniteFuture(),
                              absl::FromUnixMicros(INT64_MIN),
                              absl::FromUnixMicros(INT64_MAX)};
  const absl::Duration durations[] = {
      absl::ZeroDuration(),        absl::Nanoseconds(1),
      absl::Microseconds(1),       absl::Hours(1),
      absl::Hours(24 * 366 * 200), absl::Hours(1e9),
      absl::Seconds(INT64_MAX)};
  for (const auto& cal : {*always, *office}) {
    for (absl::Time t : times) {
      for (absl::Duration d : durations) {
        auto r = cal->Add(t, d);
        ++tried;
        if (r.ok()) {
          // Sub-microsecond parts are floored (documented).
          const absl::Duration want =
              absl::Microseconds(absl::ToInt64Microseconds(d));
          EXPECT_EQ(cal->Between(t, *r), want)
              << cal->name() << " t=" << t << " d=" << d;
          EXPECT_GE(*r, Utc(1, 1, 1));
          EXPECT_LE(*r, Utc(10000, 1, 1));  // A window may end there.
        } else {
          EXPECT_TRUE(r.status().code() == absl::StatusCode::kOutOfRange ||
                      r.status().code() ==
                          absl::StatusCode::kFailedPrecondition)
              << cal->name() << " t=" << t << " d=" << d << ": " << r.status();
        }
      }
      // Negative and infinite durations are the caller's mistake.
      for (absl::Duration d :
           {-absl::Microseconds(1), -absl::Hours(4), absl::InfiniteDuration(),
            -absl::InfiniteDuration()}) {
        auto r = cal->Add(t, d);
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
        ++tried;
      }
      // Between is finite and antisymmetric even at the extremes.
      const absl::Duration b = cal->Between(t, Utc(2026, 1, 1));
      EXPECT_EQ(cal->Between(Utc(2026, 1, 1), t), -b);
    }
  }
  // The whole supported range of a 24x7 calendar is its wall time.
  EXPECT_EQ((*always)->Between(absl::InfinitePast(), absl::InfiniteFuture()),
            Utc(10000, 1, 1) - Utc(1, 1, 1));
  std::printf("bad inputs tried: extreme times x durations: %d\n", tried);
}

// SLA policy durations: zero, negative, infinite, sub-microsecond, huge.
TEST(CalendarLimitsTest, SlaTargetDurations) {
  int tried = 0;
  for (const char* bad :
       {"0s", "0", "-1us", "-4h", "inf", "-inf", "1ns", "1.5us",
        "999999999999999999h", "4 hours", "4d", "nan", "h", "1e3h"}) {
    auto d = ParseSlaDuration(bad);
    EXPECT_FALSE(d.ok()) << bad;
    if (!d.ok()) {
      EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    }
    ++tried;
  }
  // Just inside: one microsecond, and a century.
  auto us = ParseSlaDuration("1us");
  ASSERT_TRUE(us.ok() && us->has_value());
  EXPECT_EQ(**us, absl::Microseconds(1));
  auto century = ParseSlaDuration("876600h");
  ASSERT_TRUE(century.ok() && century->has_value());
  EXPECT_EQ(**century, absl::Hours(876600));
  std::printf("bad inputs tried: SLA target durations: %d\n", tried);
}

}  // namespace
}  // namespace slate
