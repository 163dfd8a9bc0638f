// CalendarBusinessTime: BusinessCalendar adapted to BusinessTime. Worked
// examples on the office-berlin calendar of issue 4, the clamps and errors
// the adapter adds, and the BusinessTime contract on random instants.
#include "lib/sla/calendar_business_time.h"

#include <cstdint>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "lib/calendar/business_calendar.h"
#include "lib/sla/sla_clock.h"
#include "tests/sla/office_berlin.h"
#include "tests/sla/sla_test_util.h"

namespace slate {
namespace {

using ::slate::testing::MustApply;

const absl::TimeZone& Berlin() {
  static const absl::TimeZone* zone = [] {
    auto* z = new absl::TimeZone;
    if (!absl::LoadTimeZone("Europe/Berlin", z)) std::abort();
    return z;
  }();
  return *zone;
}

// Local Berlin wall-clock time (unique readings only in these tests).
absl::Time Local(int y, int mo, int d, int h, int mi = 0) {
  return absl::FromCivil(absl::CivilMinute(y, mo, d, h, mi), Berlin());
}

std::shared_ptr<const BusinessCalendar> OfficeBerlin() {
  absl::StatusOr<std::shared_ptr<const BusinessCalendar>> cal =
      testing::LoadOfficeBerlin();
  if (!cal.ok()) {
    std::cerr << "office-berlin: " << cal.status() << "\n";
    std::abort();
  }
  return *cal;
}

std::shared_ptr<const BusinessCalendar> FromJson(const std::string& json) {
  absl::StatusOr<std::shared_ptr<const BusinessCalendar>> cal =
      BusinessCalendar::FromJson(json);
  if (!cal.ok()) {
    std::cerr << json << ": " << cal.status() << "\n";
    std::abort();
  }
  return *cal;
}

SlaClock P1Resolution() {
  SlaClockSpec spec;
  spec.record_id = "INC0001";
  spec.policy_id = "incident-p1";
  spec.metric = SLA_METRIC_RESOLUTION;
  spec.target = absl::Hours(4);
  absl::StatusOr<SlaClock> clock = SlaClock::Create(spec);
  EXPECT_TRUE(clock.ok()) << clock.status();
  return *std::move(clock);
}

TEST(CalendarBusinessTime, P1OpenedFridayAfternoonIsDueMondayNoon) {
  CalendarBusinessTime business(OfficeBerlin());
  const absl::Time opened = Local(2026, 11, 27, 16);     // Friday, CET.
  EXPECT_EQ(opened, absl::FromUnixSeconds(1795791600));  // 15:00 UTC.
  SlaClock clock = P1Resolution();
  EXPECT_TRUE(MustApply(clock, SlaClockInput::Start(opened), business).empty());
  ASSERT_TRUE(clock.deadline().has_value());
  EXPECT_EQ(*clock.deadline(), Local(2026, 11, 30, 12));  // Monday noon.

  // Friday 16-17 is 1h; Monday from 09:00 the rest.
  std::vector<SlaClockFact> facts = MustApply(
      clock, SlaClockInput::AdvanceTo(Local(2026, 11, 30, 12)), business);
  EXPECT_EQ(facts,
            (std::vector<SlaClockFact>{
                SlaClockFact::WarningReached(50, Local(2026, 11, 30, 10)),
                SlaClockFact::WarningReached(75, Local(2026, 11, 30, 11)),
                SlaClockFact::WarningReached(90, Local(2026, 11, 30, 11, 36)),
                SlaClockFact::Breached(Local(2026, 11, 30, 12)),
            }))
      << testing::FactsToString(facts);
  EXPECT_EQ(clock.business_elapsed(), absl::Hours(4));
  EXPECT_EQ(clock.wall_elapsed(), absl::Hours(68));
}

TEST(CalendarBusinessTime, PauseOverTheWeekendMovesTheDeadline) {
  CalendarBusinessTime business(OfficeBerlin());
  SlaClock clock = P1Resolution();
  MustApply(clock, SlaClockInput::Start(Local(2026, 11, 27, 16)), business);
  MustApply(clock, SlaClockInput::Pause(Local(2026, 11, 27, 16, 30), "caller"),
            business);
  // Resumed Monday 10:00: 30 min used, 3h30 left from 10:00 -> 13:30.
  MustApply(clock, SlaClockInput::Resume(Local(2026, 11, 30, 10)), business);
  EXPECT_EQ(clock.business_elapsed(), absl::Minutes(30));
  ASSERT_TRUE(clock.deadline().has_value());
  EXPECT_EQ(*clock.deadline(), Local(2026, 11, 30, 13, 30));
}

TEST(CalendarBusinessTime, HolidaysAndExtraWindowsCount) {
  CalendarBusinessTime business(OfficeBerlin());
  // Thu Dec 24: open 09-12 only (closed from 12:00), Fri Dec 25 holiday,
  // Sat closed, Sun Dec 27 extra window 10-14.
  EXPECT_EQ(*business.Add(Local(2026, 12, 24, 10), absl::Hours(4)),
            Local(2026, 12, 27, 12));
  EXPECT_EQ(business.Between(Local(2026, 12, 24, 0), Local(2026, 12, 28, 0)),
            absl::Hours(7));
}

TEST(CalendarBusinessTime, AddLandingOnAWindowEndReturnsThatEnd) {
  CalendarBusinessTime business(OfficeBerlin());
  // Friday's lunch break: 13:00-14:00.
  EXPECT_EQ(*business.Add(Local(2026, 11, 27, 12), absl::Hours(1)),
            Local(2026, 11, 27, 13));
  EXPECT_EQ(*business.Add(Local(2026, 11, 27, 12),
                          absl::Hours(1) + absl::Microseconds(1)),
            Local(2026, 11, 27, 14) + absl::Microseconds(1));
  // Thursday's close.
  EXPECT_EQ(*business.Add(Local(2026, 11, 26, 9), absl::Hours(8)),
            Local(2026, 11, 26, 17));
}

TEST(CalendarBusinessTime, StartOutsideTheWindowsCountsFromTheNextOpening) {
  CalendarBusinessTime business(OfficeBerlin());
  EXPECT_EQ(*business.Add(Local(2026, 11, 28, 10), absl::Minutes(1)),
            Local(2026, 11, 30, 9, 1));
  EXPECT_EQ(*business.Add(Local(2026, 11, 27, 13, 30), absl::Minutes(1)),
            Local(2026, 11, 27, 14, 1));
  // d == 0 is the next opening, as BusinessCalendar::Add.
  EXPECT_EQ(*business.Add(Local(2026, 11, 28, 10), absl::ZeroDuration()),
            Local(2026, 11, 30, 9));
  EXPECT_EQ(*business.Add(Local(2026, 11, 30, 10), absl::ZeroDuration()),
            Local(2026, 11, 30, 10));
}

TEST(CalendarBusinessTime, BetweenIsNeverNegative) {
  std::shared_ptr<const BusinessCalendar> cal = OfficeBerlin();
  CalendarBusinessTime business(cal);
  const absl::Time a = Local(2026, 11, 27, 16), b = Local(2026, 11, 30, 12);
  EXPECT_EQ(business.Between(a, b), absl::Hours(4));
  // The calendar's own Between is signed; the adapter clamps.
  EXPECT_EQ(cal->Between(b, a), -absl::Hours(4));
  EXPECT_EQ(business.Between(b, a), absl::ZeroDuration());
  EXPECT_EQ(business.Between(a, a), absl::ZeroDuration());
  EXPECT_EQ(business.Between(absl::InfiniteFuture(), absl::InfinitePast()),
            absl::ZeroDuration());
}

TEST(CalendarBusinessTime, RealElapsedTimeAcrossDst) {
  // Sunday 2026-10-25: Berlin falls back at 03:00 CEST -> 02:00 CET, so an
  // all-day Sunday window lasts 25 hours.
  CalendarBusinessTime business(FromJson(
      R"({"name":"sundays","timeZone":"Europe/Berlin",
          "weekly":[{"day":"SUNDAY","start":"00:00","end":"24:00"}]})"));
  EXPECT_EQ(business.Between(Local(2026, 10, 24, 12), Local(2026, 10, 26, 12)),
            absl::Hours(25));
  // Spring forward, Sunday 2026-03-29: 23 hours.
  EXPECT_EQ(business.Between(Local(2026, 3, 28, 12), Local(2026, 3, 30, 12)),
            absl::Hours(23));
  EXPECT_EQ(*business.Add(Local(2026, 10, 25, 0), absl::Hours(25)),
            Local(2026, 10, 26, 0));
}

TEST(CalendarBusinessTime, ErrorsAreTheCalendars) {
  CalendarBusinessTime business(OfficeBerlin());
  const absl::Time t = Local(2026, 11, 27, 16);
  EXPECT_EQ(business.Add(t, -absl::Seconds(1)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(business.Add(t, absl::InfiniteDuration()).status().code(),
            absl::StatusCode::kInvalidArgument);

  // (A spec without any open time is refused by FromSpec; this one ended.)
  CalendarBusinessTime never(FromJson(
      R"({"name":"ended","timeZone":"UTC","alwaysOpen":true,
          "validTo":"2020-12-31"})"));
  absl::StatusOr<absl::Time> due = never.Add(t, absl::Hours(1));
  EXPECT_EQ(due.status().code(), absl::StatusCode::kFailedPrecondition)
      << due.status();
  EXPECT_EQ(never.Between(t, t + absl::Hours(100)), absl::ZeroDuration());

  // SlaClock passes the calendar's error through and stays unchanged.
  SlaClock clock = P1Resolution();
  std::vector<SlaClockFact> facts;
  absl::Status s = clock.ApplyInPlace(SlaClockInput::Start(t), never, &facts);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_EQ(clock.phase(), SLA_CLOCK_PHASE_NOT_STARTED);
  EXPECT_TRUE(facts.empty());

  // Past validTo: only the open time that remains can be added.
  CalendarBusinessTime ending(FromJson(
      R"({"name":"ending","timeZone":"UTC","alwaysOpen":true,
          "validTo":"2026-11-27"})"));
  const absl::Time last_day =
      absl::FromCivil(absl::CivilDay(2026, 11, 27), absl::UTCTimeZone());
  EXPECT_EQ(*ending.Add(last_day, absl::Hours(24)), last_day + absl::Hours(24));
  EXPECT_EQ(ending.Add(last_day, absl::Hours(24) + absl::Microseconds(1))
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(CalendarBusinessTime, KeepsTheBusinessTimeContract) {
  constexpr uint64_t kSeed = 20261127;
  constexpr int kCases = 20000;
  std::cout << "CalendarBusinessTime.KeepsTheBusinessTimeContract seed "
            << kSeed << ", " << kCases << " cases\n";
  std::mt19937_64 rng(kSeed);
  auto uniform = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  CalendarBusinessTime business(OfficeBerlin());
  // 2026-01-01 .. 2028-01-01 UTC, covering DST changes and the holidays.
  const int64_t lo = absl::ToUnixMicros(Local(2026, 1, 1, 0));
  const int64_t hi = absl::ToUnixMicros(Local(2028, 1, 1, 0));
  const int64_t minute = 60'000'000;
  int on_window_end = 0;
  for (int i = 0; i < kCases; ++i) {
    // Half on whole minutes (window edges), half anywhere.
    auto instant = [&] {
      int64_t us = uniform(lo, hi);
      return absl::FromUnixMicros(i % 2 ? us : us - (us - lo) % minute);
    };
    absl::Time a = instant(), b = instant(), c = instant();
    if (b < a) std::swap(a, b);
    if (c < b) std::swap(b, c);
    if (b < a) std::swap(a, b);
    SCOPED_TRACE(absl::StrCat("case ", i, " a=", absl::FormatTime(a),
                              " b=", absl::FormatTime(b)));
    const absl::Duration ab = business.Between(a, b);
    ASSERT_GE(ab, absl::ZeroDuration());
    ASSERT_LE(ab, b - a);
    ASSERT_EQ(business.Between(b, a), absl::ZeroDuration());
    ASSERT_EQ(ab + business.Between(b, c), business.Between(a, c));

    const absl::Duration d =
        i % 3 == 0
            ? absl::Minutes(uniform(1, 60 * 80))
            : absl::Microseconds(uniform(1, int64_t{200} * 3600 * 1'000'000));
    absl::StatusOr<absl::Time> x = business.Add(a, d);
    ASSERT_TRUE(x.ok()) << x.status();
    ASSERT_GT(*x, a);
    ASSERT_EQ(business.Between(a, *x), d) << "d=" << d;
    // Earliest such instant.
    ASSERT_LT(business.Between(a, *x - absl::Microseconds(1)), d);
    // Whole microseconds.
    ASSERT_EQ(absl::FromUnixMicros(absl::ToUnixMicros(*x)), *x);
    if (!business.calendar().IsOpen(*x)) ++on_window_end;
  }
  std::cout << on_window_end << " results on a window end\n";
  EXPECT_GT(on_window_end, 0);  // The generator reaches window ends.
}

}  // namespace
}  // namespace slate
