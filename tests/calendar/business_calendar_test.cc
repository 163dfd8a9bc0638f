// BusinessCalendar edge cases, each pinned to exact instants.
#include "lib/calendar/business_calendar.h"

#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace slate {
namespace {

constexpr char kOfficeBerlin[] =
    R"({"name":"office-berlin","timeZone":"Europe/Berlin","weekly":[{"day":"MONDAY","start":"09:00","end":"17:00"},{"day":"TUESDAY","start":"09:00","end":"17:00"},{"day":"WEDNESDAY","start":"09:00","end":"17:00"},{"day":"THURSDAY","start":"09:00","end":"17:00"},{"day":"FRIDAY","start":"09:00","end":"13:00"},{"day":"FRIDAY","start":"14:00","end":"17:00"}],"holidays":[{"date":"2026-12-25"},{"date":"2026-12-24","start":"12:00","end":"24:00"}],"extraWindows":[{"date":"2026-12-27","start":"10:00","end":"14:00"}]})";

std::shared_ptr<const BusinessCalendar> Load(const std::string& json) {
  auto cal = BusinessCalendar::FromJson(json);
  EXPECT_TRUE(cal.ok()) << cal.status() << "\n" << json;
  return cal.ok() ? *cal : nullptr;
}

// A calendar named "c" in `zone` with the given JSON fields.
std::shared_ptr<const BusinessCalendar> Load(const std::string& zone,
                                             const std::string& fields) {
  return Load(
      absl::StrCat(R"({"name":"c","timeZone":")", zone, R"(",)", fields, "}"));
}

absl::Time Utc(int y, int mo, int d, int h = 0, int mi = 0, int s = 0) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s),
                         absl::UTCTimeZone());
}

// Local civil time in the calendar's zone. Only for unambiguous times.
absl::Time Local(const BusinessCalendar& cal, int y, int mo, int d, int h = 0,
                 int mi = 0) {
  const absl::TimeZone::TimeInfo info =
      cal.zone().At(absl::CivilSecond(y, mo, d, h, mi, 0));
  EXPECT_EQ(info.kind, absl::TimeZone::TimeInfo::UNIQUE);
  return info.pre;
}

constexpr absl::Duration kUs = absl::Microseconds(1);

absl::Time AddOk(const BusinessCalendar& cal, absl::Time t, absl::Duration d) {
  absl::StatusOr<absl::Time> r = cal.Add(t, d);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : absl::InfinitePast();
}

absl::Time NextOpenOk(const BusinessCalendar& cal, absl::Time t) {
  absl::StatusOr<absl::Time> r = cal.NextOpen(t);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : absl::InfinitePast();
}

TEST(BusinessCalendar, OfficeBerlinOpenHours) {
  auto cal = Load(kOfficeBerlin);
  ASSERT_NE(cal, nullptr);
  const BusinessCalendar& c = *cal;
  // Monday 2026-12-21.
  EXPECT_FALSE(c.IsOpen(Local(c, 2026, 12, 21, 9) - kUs));
  EXPECT_TRUE(c.IsOpen(Local(c, 2026, 12, 21, 9)));
  EXPECT_TRUE(c.IsOpen(Local(c, 2026, 12, 21, 17) - kUs));
  EXPECT_FALSE(c.IsOpen(Local(c, 2026, 12, 21, 17)));
  // Friday's lunch break.
  EXPECT_TRUE(c.IsOpen(Local(c, 2026, 12, 18, 12, 59)));
  EXPECT_FALSE(c.IsOpen(Local(c, 2026, 12, 18, 13, 30)));
  EXPECT_TRUE(c.IsOpen(Local(c, 2026, 12, 18, 14)));
  // Weekend.
  EXPECT_FALSE(c.IsOpen(Local(c, 2026, 12, 19, 11)));
  // In CET, 09:00 is 08:00Z.
  EXPECT_EQ(NextOpenOk(c, Utc(2026, 12, 19)), Utc(2026, 12, 21, 8));
}

TEST(BusinessCalendar, OfficeBerlinChristmasWeek) {
  auto cal = Load(kOfficeBerlin);
  ASSERT_NE(cal, nullptr);
  const BusinessCalendar& c = *cal;
  // Partial holiday: Christmas Eve closes from 12:00 to the end of the day.
  EXPECT_TRUE(c.IsOpen(Local(c, 2026, 12, 24, 11, 59)));
  EXPECT_FALSE(c.IsOpen(Local(c, 2026, 12, 24, 12)));
  // Holiday: Christmas Day is closed.
  EXPECT_FALSE(c.IsOpen(Local(c, 2026, 12, 25, 10)));
  // Extra window: Sunday 2026-12-27 10:00-14:00.
  EXPECT_FALSE(c.IsOpen(Local(c, 2026, 12, 27, 9, 59)));
  EXPECT_TRUE(c.IsOpen(Local(c, 2026, 12, 27, 10)));
  EXPECT_FALSE(c.IsOpen(Local(c, 2026, 12, 27, 14)));
  // Mon, Tue, Wed 8h; Thu 3h; Fri 0; Sun 4h.
  EXPECT_EQ(c.Between(Local(c, 2026, 12, 21), Local(c, 2026, 12, 28)),
            absl::Hours(31));
  // One hour left on Christmas Eve, the next one on Sunday's extra window.
  EXPECT_EQ(AddOk(c, Local(c, 2026, 12, 24, 11), absl::Hours(2)),
            Local(c, 2026, 12, 27, 11));
  EXPECT_EQ(NextOpenOk(c, Local(c, 2026, 12, 24, 12)),
            Local(c, 2026, 12, 27, 10));
}

TEST(BusinessCalendar, AddLandingOnWindowEndReturnsThatEnd) {
  auto cal = Load(kOfficeBerlin);
  ASSERT_NE(cal, nullptr);
  const BusinessCalendar& c = *cal;
  EXPECT_EQ(AddOk(c, Local(c, 2026, 12, 21, 9), absl::Hours(8)),
            Local(c, 2026, 12, 21, 17));
  EXPECT_EQ(AddOk(c, Local(c, 2026, 12, 18, 9), absl::Hours(4)),
            Local(c, 2026, 12, 18, 13));
  EXPECT_EQ(AddOk(c, Local(c, 2026, 12, 18, 9), absl::Hours(4) + kUs),
            Local(c, 2026, 12, 18, 14) + kUs);
  // From a window end, more time continues at the next opening.
  EXPECT_EQ(AddOk(c, Local(c, 2026, 12, 21, 17), kUs),
            Local(c, 2026, 12, 22, 9) + kUs);
}

TEST(BusinessCalendar, StartOutsideBusinessTimeCountsFromNextOpening) {
  auto cal = Load(kOfficeBerlin);
  ASSERT_NE(cal, nullptr);
  const BusinessCalendar& c = *cal;
  EXPECT_EQ(AddOk(c, Local(c, 2026, 12, 21, 7), absl::Hours(1)),
            Local(c, 2026, 12, 21, 10));
  EXPECT_EQ(AddOk(c, Local(c, 2026, 12, 19, 12), absl::Hours(1)),
            Local(c, 2026, 12, 21, 10));
  EXPECT_EQ(AddOk(c, Local(c, 2026, 12, 18, 13, 30), absl::Minutes(30)),
            Local(c, 2026, 12, 18, 14, 30));
  // Adding nothing: the instant itself if open, else the next opening.
  EXPECT_EQ(AddOk(c, Local(c, 2026, 12, 21, 10), absl::ZeroDuration()),
            Local(c, 2026, 12, 21, 10));
  EXPECT_EQ(AddOk(c, Local(c, 2026, 12, 21, 17), absl::ZeroDuration()),
            Local(c, 2026, 12, 22, 9));
  EXPECT_EQ(c.Between(Local(c, 2026, 12, 19), Local(c, 2026, 12, 21, 9)),
            absl::ZeroDuration());
}

TEST(BusinessCalendar, BetweenIsSignedAndExactToTheMicrosecond) {
  auto cal = Load(kOfficeBerlin);
  ASSERT_NE(cal, nullptr);
  const BusinessCalendar& c = *cal;
  const absl::Time a = Local(c, 2026, 12, 21, 16, 59) + absl::Seconds(59);
  const absl::Time b = Local(c, 2026, 12, 22, 9) + absl::Microseconds(7);
  EXPECT_EQ(c.Between(a, b), absl::Seconds(1) + absl::Microseconds(7));
  EXPECT_EQ(c.Between(b, a), -(absl::Seconds(1) + absl::Microseconds(7)));
  EXPECT_EQ(c.Between(a, a), absl::ZeroDuration());
  EXPECT_EQ(AddOk(c, Local(c, 2026, 12, 21, 9), kUs),
            Local(c, 2026, 12, 21, 9) + kUs);
  // Sub-microsecond parts of inputs are floored.
  EXPECT_EQ(AddOk(c, Local(c, 2026, 12, 21, 9) + absl::Nanoseconds(999),
                  kUs + absl::Nanoseconds(999)),
            Local(c, 2026, 12, 21, 9) + kUs);
}

TEST(BusinessCalendar, PauseFreeRoundTrip) {
  auto cal = Load(kOfficeBerlin);
  ASSERT_NE(cal, nullptr);
  const BusinessCalendar& c = *cal;
  std::mt19937_64 rng(7);
  const absl::Time from = Local(c, 2026, 1, 1);
  for (int i = 0; i < 2000; ++i) {
    const absl::Time t0 =
        from + absl::Microseconds(std::uniform_int_distribution<int64_t>(
                   0, int64_t{3} * 365 * 86400000000)(rng));
    const absl::Time t = NextOpenOk(c, t0);
    ASSERT_TRUE(c.IsOpen(t));
    const absl::Duration d =
        absl::Microseconds(std::uniform_int_distribution<int64_t>(
            0, int64_t{30} * 86400000000)(rng));
    const absl::Time r = AddOk(c, t, d);
    EXPECT_EQ(c.Between(t, r), d) << t << " + " << d;
    EXPECT_EQ(c.Between(t0, r), d) << t0 << " + " << d;
  }
}

TEST(BusinessCalendar, MidnightCrossingWindowBelongsToItsStartDay) {
  auto cal = Load(
      "UTC", R"("weekly":[{"day":"FRIDAY","start":"22:00","end":"06:00"}])");
  ASSERT_NE(cal, nullptr);
  const BusinessCalendar& c = *cal;
  // Friday 2026-12-18.
  EXPECT_FALSE(c.IsOpen(Utc(2026, 12, 18, 22) - kUs));
  EXPECT_TRUE(c.IsOpen(Utc(2026, 12, 18, 22)));
  EXPECT_TRUE(c.IsOpen(Utc(2026, 12, 19)));
  EXPECT_TRUE(c.IsOpen(Utc(2026, 12, 19, 6) - kUs));
  EXPECT_FALSE(c.IsOpen(Utc(2026, 12, 19, 6)));
  EXPECT_EQ(c.Between(Utc(2026, 12, 18), Utc(2026, 12, 20)), absl::Hours(8));
  EXPECT_EQ(AddOk(c, Utc(2026, 12, 18, 23), absl::Hours(7)),
            Utc(2026, 12, 19, 6));
  EXPECT_EQ(AddOk(c, Utc(2026, 12, 18, 23), absl::Hours(8)),
            Utc(2026, 12, 25, 23));
}

TEST(BusinessCalendar, HolidaysCloseTimeNotWindows) {
  // A whole-day holiday on Friday closes Friday 22:00-24:00; the part after
  // midnight is Saturday's time and stays open. One on Saturday closes it.
  auto fri = Load(
      "UTC", R"("weekly":[{"day":"FRIDAY","start":"22:00","end":"06:00"}],)"
             R"("holidays":[{"date":"2026-12-18"}])");
  auto sat = Load(
      "UTC", R"("weekly":[{"day":"FRIDAY","start":"22:00","end":"06:00"}],)"
             R"("holidays":[{"date":"2026-12-19"}])");
  ASSERT_NE(fri, nullptr);
  ASSERT_NE(sat, nullptr);
  EXPECT_EQ(fri->Between(Utc(2026, 12, 18), Utc(2026, 12, 20)), absl::Hours(6));
  EXPECT_EQ(NextOpenOk(*fri, Utc(2026, 12, 18)), Utc(2026, 12, 19));
  EXPECT_EQ(sat->Between(Utc(2026, 12, 18), Utc(2026, 12, 20)), absl::Hours(2));
  // A partial holiday may cross midnight too.
  auto nye = Load(
      "UTC",
      R"("alwaysOpen":true,)"
      R"("holidays":[{"date":"2026-12-31","start":"18:00","end":"06:00"}])");
  ASSERT_NE(nye, nullptr);
  EXPECT_EQ(nye->Between(Utc(2026, 12, 31), Utc(2027, 1, 2)), absl::Hours(36));
  EXPECT_EQ(NextOpenOk(*nye, Utc(2026, 12, 31, 20)), Utc(2027, 1, 1, 6));
}

TEST(BusinessCalendar, ExtraWindowReopensAHoliday) {
  auto cal = Load(
      "Europe/Berlin",
      R"("weekly":[{"day":"FRIDAY","start":"09:00","end":"17:00"}],)"
      R"("holidays":[{"date":"2026-12-25"}],)"
      R"("extraWindows":[{"date":"2026-12-25","start":"16:00","end":"18:00"}])");
  ASSERT_NE(cal, nullptr);
  const BusinessCalendar& c = *cal;
  EXPECT_FALSE(c.IsOpen(Local(c, 2026, 12, 25, 10)));
  EXPECT_TRUE(c.IsOpen(Local(c, 2026, 12, 25, 17, 30)));
  EXPECT_EQ(c.Between(Local(c, 2026, 12, 25), Local(c, 2026, 12, 26)),
            absl::Hours(2));
}

TEST(BusinessCalendar, EndOfDayIs2400AndJoinsTheNextDay) {
  auto cal =
      Load("UTC", R"("weekly":[{"day":"MONDAY","start":"18:00","end":"24:00"},)"
                  R"({"day":"TUESDAY","start":"00:00","end":"02:00"}])");
  ASSERT_NE(cal, nullptr);
  const BusinessCalendar& c = *cal;
  // Monday 2026-12-21.
  EXPECT_TRUE(c.IsOpen(Utc(2026, 12, 22) - kUs));
  EXPECT_TRUE(c.IsOpen(Utc(2026, 12, 22)));
  EXPECT_EQ(AddOk(c, Utc(2026, 12, 21, 23), absl::Hours(2)),
            Utc(2026, 12, 22, 1));
  EXPECT_EQ(AddOk(c, Utc(2026, 12, 21, 18), absl::Hours(8)),
            Utc(2026, 12, 22, 2));
  EXPECT_EQ(c.Between(Utc(2026, 12, 21), Utc(2026, 12, 23)), absl::Hours(8));
  // "00:00" as an end is the same as "24:00".
  auto zero = Load(
      "UTC", R"("weekly":[{"day":"MONDAY","start":"18:00","end":"00:00"}])");
  ASSERT_NE(zero, nullptr);
  EXPECT_EQ(zero->Between(Utc(2026, 12, 21), Utc(2026, 12, 23)),
            absl::Hours(6));
}

TEST(BusinessCalendar, BerlinSpringForward) {
  // 2026-03-29 (Sunday): 02:00 CET jumps to 03:00 CEST (01:00Z).
  auto day =
      Load("Europe/Berlin",
           R"("weekly":[{"day":"SUNDAY","start":"00:00","end":"24:00"}])");
  auto shifted =
      Load("Europe/Berlin",
           R"("weekly":[{"day":"SUNDAY","start":"01:00","end":"09:00"}])");
  auto office =
      Load("Europe/Berlin",
           R"("weekly":[{"day":"SUNDAY","start":"09:00","end":"17:00"}])");
  ASSERT_NE(day, nullptr);
  ASSERT_NE(shifted, nullptr);
  ASSERT_NE(office, nullptr);
  const absl::Time sat = Utc(2026, 3, 28, 12);
  const absl::Time mon = Utc(2026, 3, 30, 12);
  EXPECT_EQ(day->Between(sat, mon), absl::Hours(23));
  EXPECT_EQ(shifted->Between(sat, mon), absl::Hours(7));
  EXPECT_EQ(office->Between(sat, mon), absl::Hours(8));
  EXPECT_EQ(AddOk(*shifted, sat, absl::Hours(1)), Utc(2026, 3, 29, 1));
  // A week earlier the same windows are 24h and 8h.
  EXPECT_EQ(day->Between(sat - absl::Hours(168), mon - absl::Hours(168)),
            absl::Hours(24));
}

TEST(BusinessCalendar, SkippedLocalTimesMapToTheJump) {
  // 02:30 does not exist on 2026-03-29 in Berlin: a window starting then
  // opens at the jump (03:00 CEST, 01:00Z); a window inside the gap is empty.
  auto late =
      Load("Europe/Berlin",
           R"("weekly":[{"day":"SUNDAY","start":"02:30","end":"10:00"}])");
  auto gap =
      Load("Europe/Berlin",
           R"("weekly":[{"day":"SUNDAY","start":"02:15","end":"02:45"}])");
  ASSERT_NE(late, nullptr);
  ASSERT_NE(gap, nullptr);
  const absl::Time sat = Utc(2026, 3, 28, 12);
  const absl::Time mon = Utc(2026, 3, 30, 12);
  EXPECT_EQ(NextOpenOk(*late, sat), Utc(2026, 3, 29, 1));
  EXPECT_EQ(late->Between(sat, mon), absl::Hours(7));
  EXPECT_EQ(gap->Between(sat, mon), absl::ZeroDuration());
  EXPECT_EQ(NextOpenOk(*gap, sat), Utc(2026, 4, 5, 0, 15));
}

TEST(BusinessCalendar, BerlinFallBackAndRepeatedLocalTimes) {
  // 2026-10-25 (Sunday): 03:00 CEST (01:00Z) goes back to 02:00 CET.
  auto day =
      Load("Europe/Berlin",
           R"("weekly":[{"day":"SUNDAY","start":"00:00","end":"24:00"}])");
  auto shifted =
      Load("Europe/Berlin",
           R"("weekly":[{"day":"SUNDAY","start":"01:00","end":"09:00"}])");
  // Repeated times take their first occurrence (CEST).
  auto repeated =
      Load("Europe/Berlin",
           R"("weekly":[{"day":"SUNDAY","start":"02:15","end":"02:45"}])");
  auto into =
      Load("Europe/Berlin",
           R"("weekly":[{"day":"SUNDAY","start":"02:30","end":"04:00"}])");
  ASSERT_NE(day, nullptr);
  ASSERT_NE(shifted, nullptr);
  ASSERT_NE(repeated, nullptr);
  ASSERT_NE(into, nullptr);
  const absl::Time sat = Utc(2026, 10, 24, 12);
  const absl::Time mon = Utc(2026, 10, 26, 12);
  EXPECT_EQ(day->Between(sat, mon), absl::Hours(25));
  EXPECT_EQ(shifted->Between(sat, mon), absl::Hours(9));
  EXPECT_EQ(NextOpenOk(*repeated, sat), Utc(2026, 10, 25, 0, 15));
  EXPECT_EQ(repeated->Between(sat, mon), absl::Minutes(30));
  EXPECT_FALSE(repeated->IsOpen(Utc(2026, 10, 25, 1, 30)));  // 02:30 CET.
  // 02:30 CEST (00:30Z) to 04:00 CET (03:00Z).
  EXPECT_EQ(into->Between(sat, mon), absl::Minutes(150));
}

TEST(BusinessCalendar, SydneyDstBothWays) {
  // 2026-04-05: 03:00 AEDT back to 02:00 AEST. 2026-10-04: 02:00 AEST to
  // 03:00 AEDT.
  auto cal =
      Load("Australia/Sydney",
           R"("weekly":[{"day":"SUNDAY","start":"01:00","end":"09:00"}],)"
           R"("holidays":[{"date":"2026-10-11"}])");
  ASSERT_NE(cal, nullptr);
  const BusinessCalendar& c = *cal;
  EXPECT_EQ(c.Between(Local(c, 2026, 4, 4, 12), Local(c, 2026, 4, 6, 12)),
            absl::Hours(9));
  EXPECT_EQ(c.Between(Local(c, 2026, 10, 3, 12), Local(c, 2026, 10, 5, 12)),
            absl::Hours(7));
  EXPECT_EQ(c.Between(Local(c, 2026, 10, 3, 12), Local(c, 2026, 10, 19, 12)),
            absl::Hours(15));
  // Add across the spring-forward Sunday: 7h that day, then a week later
  // (the holiday), then the next Sunday 01:00 AEDT.
  EXPECT_EQ(AddOk(c, Local(c, 2026, 10, 4, 1), absl::Hours(8)),
            Local(c, 2026, 10, 18, 2));
}

TEST(BusinessCalendar, HolidayOnADstDay) {
  auto cal = Load("Europe/Berlin",
                  R"("alwaysOpen":true,"holidays":[{"date":"2026-03-29"},)"
                  R"({"date":"2026-10-25","start":"01:00","end":"04:00"}])");
  ASSERT_NE(cal, nullptr);
  // The spring day is 23h long, all closed.
  EXPECT_EQ(cal->Between(Utc(2026, 3, 28, 12), Utc(2026, 3, 30, 12)),
            absl::Hours(48 - 23));
  // 01:00 CEST (23:00Z) to 04:00 CET (03:00Z): four real hours closed.
  EXPECT_EQ(cal->Between(Utc(2026, 10, 24, 12), Utc(2026, 10, 26, 12)),
            absl::Hours(44));
}

TEST(BusinessCalendar, LordHoweHalfHourDst) {
  // 2026-10-04: 02:00 (+10:30) jumps to 02:30 (+11). 2026-04-05: 02:00 (+11)
  // back to 01:30 (+10:30).
  auto cal =
      Load("Australia/Lord_Howe",
           R"("weekly":[{"day":"SUNDAY","start":"00:00","end":"24:00"}])");
  ASSERT_NE(cal, nullptr);
  const BusinessCalendar& c = *cal;
  EXPECT_EQ(c.Between(Local(c, 2026, 10, 3, 12), Local(c, 2026, 10, 5, 12)),
            absl::Minutes(23 * 60 + 30));
  EXPECT_EQ(c.Between(Local(c, 2026, 4, 4, 12), Local(c, 2026, 4, 6, 12)),
            absl::Minutes(24 * 60 + 30));
}

TEST(BusinessCalendar, OddOffsets) {
  auto kathmandu = Load(absl::StrReplaceAll(
      kOfficeBerlin, {{"Europe/Berlin", "Asia/Kathmandu"}}));
  auto st_johns = Load(absl::StrReplaceAll(
      kOfficeBerlin, {{"Europe/Berlin", "America/St_Johns"}}));
  ASSERT_NE(kathmandu, nullptr);
  ASSERT_NE(st_johns, nullptr);
  // 09:00 +05:45 and 09:00 -03:30.
  EXPECT_EQ(NextOpenOk(*kathmandu, Utc(2026, 12, 20)),
            Utc(2026, 12, 21, 3, 15));
  EXPECT_EQ(NextOpenOk(*st_johns, Utc(2026, 12, 20)),
            Utc(2026, 12, 21, 12, 30));
}

TEST(BusinessCalendar, ApiaSkippedAWholeDay) {
  // Samoa went from 2011-12-29 24:00 (-10) to 2011-12-31 00:00 (+14).
  std::string days;
  for (const char* d : {"MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY",
                        "SATURDAY", "SUNDAY"}) {
    absl::StrAppend(&days, days.empty() ? "" : ",", R"({"day":")", d,
                    R"(","start":"09:00","end":"17:00"})");
  }
  auto cal = Load("Pacific/Apia", absl::StrCat(R"("weekly":[)", days, "]"));
  ASSERT_NE(cal, nullptr);
  // From 2011-12-29 00:00 -10 to 2012-01-01 00:00 +14: the 29th and the
  // 31st, no Friday the 30th.
  EXPECT_EQ(cal->Between(Utc(2011, 12, 29, 10), Utc(2011, 12, 31, 10)),
            absl::Hours(16));
  EXPECT_EQ(AddOk(*cal, Utc(2011, 12, 29, 19), absl::Hours(9)),
            Utc(2011, 12, 30, 20));  // 2011-12-31 10:00 +14.
}

TEST(BusinessCalendar, LeapDay) {
  std::string days;
  for (const char* d : {"MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY",
                        "SATURDAY", "SUNDAY"}) {
    absl::StrAppend(&days, days.empty() ? "" : ",", R"({"day":")", d,
                    R"(","start":"09:00","end":"17:00"})");
  }
  const std::string weekly = absl::StrCat(R"("weekly":[)", days, "]");
  auto plain = Load("UTC", weekly);
  auto holiday = Load(
      "UTC", absl::StrCat(weekly, R"(,"holidays":[{"date":"2028-02-29"}])"));
  ASSERT_NE(plain, nullptr);
  ASSERT_NE(holiday, nullptr);
  EXPECT_TRUE(plain->IsOpen(Utc(2028, 2, 29, 10)));
  EXPECT_FALSE(holiday->IsOpen(Utc(2028, 2, 29, 10)));
  EXPECT_EQ(plain->Between(Utc(2028, 2, 28), Utc(2028, 3, 2)), absl::Hours(24));
  EXPECT_EQ(holiday->Between(Utc(2028, 2, 28), Utc(2028, 3, 2)),
            absl::Hours(16));
  EXPECT_EQ(AddOk(*plain, Utc(2028, 2, 28, 16), absl::Hours(2)),
            Utc(2028, 2, 29, 10));
  EXPECT_EQ(AddOk(*holiday, Utc(2028, 2, 28, 16), absl::Hours(2)),
            Utc(2028, 3, 1, 10));
}

TEST(BusinessCalendar, AlwaysOpenCountsWallTimeOverCenturies) {
  auto cal = Load("Europe/Berlin", R"("alwaysOpen":true)");
  ASSERT_NE(cal, nullptr);
  const absl::Time a = Utc(1970, 1, 1) + absl::Microseconds(3);
  const absl::Time b = Utc(2200, 12, 31, 23, 59, 59);
  EXPECT_TRUE(cal->IsOpen(a));
  EXPECT_EQ(cal->Between(a, b), b - a);
  EXPECT_EQ(AddOk(*cal, a, b - a), b);
  EXPECT_EQ(cal->Between(b, a), a - b);
}

TEST(BusinessCalendar, WeeklyHoursOverTwoCenturies) {
  auto cal = Load("UTC", R"("weekly":[)"
                         R"({"day":"MONDAY","start":"09:00","end":"17:00"},)"
                         R"({"day":"TUESDAY","start":"09:00","end":"17:00"},)"
                         R"({"day":"WEDNESDAY","start":"09:00","end":"17:00"},)"
                         R"({"day":"THURSDAY","start":"09:00","end":"17:00"},)"
                         R"({"day":"FRIDAY","start":"09:00","end":"17:00"}])");
  ASSERT_NE(cal, nullptr);
  constexpr int64_t kWeeks = 12000;  // 1970-01-05 (a Monday) to 2199-12-30.
  const absl::Time monday = Utc(1970, 1, 5);
  const absl::Time end = monday + absl::Hours(24 * 7 * kWeeks);
  EXPECT_EQ(cal->Between(monday, end), absl::Hours(40 * kWeeks));
  EXPECT_EQ(AddOk(*cal, monday, absl::Hours(40 * kWeeks)),
            end - absl::Hours(2 * 24 + 7));  // The last Friday, 17:00.
}

TEST(BusinessCalendar, EffectiveDates) {
  auto cal =
      Load("Europe/Berlin",
           R"("weekly":[{"day":"THURSDAY","start":"09:00","end":"17:00"}],)"
           R"("validFrom":"2026-01-01","validTo":"2026-12-31")");
  ASSERT_NE(cal, nullptr);
  const BusinessCalendar& c = *cal;
  EXPECT_FALSE(c.IsOpen(Local(c, 2025, 12, 25, 10)));
  EXPECT_EQ(NextOpenOk(c, Utc(2020, 1, 1)), Local(c, 2026, 1, 1, 9));
  EXPECT_EQ(c.Between(Utc(2000, 1, 1), Utc(2100, 1, 1)), absl::Hours(8 * 53));
  EXPECT_EQ(AddOk(c, Utc(2000, 1, 1), absl::Hours(8 * 53)),
            Local(c, 2026, 12, 31, 17));
  EXPECT_EQ(c.Add(Utc(2000, 1, 1), absl::Hours(8 * 53) + kUs).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(c.NextOpen(Local(c, 2026, 12, 31, 17)).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(BusinessCalendar, NeverOpenIsFailedPreconditionNotALoop) {
  // Only Saturdays, valid Monday to Tuesday.
  auto never = Load(
      "UTC", R"("weekly":[{"day":"SATURDAY","start":"09:00","end":"17:00"}],)"
             R"("validFrom":"2026-01-05","validTo":"2026-01-06")");
  ASSERT_NE(never, nullptr);
  EXPECT_EQ(never->NextOpen(Utc(1970, 1, 1)).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(never->Add(Utc(1970, 1, 1), absl::Hours(1)).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(never->IsOpen(Utc(2026, 1, 5, 10)));
  EXPECT_EQ(never->Between(absl::InfinitePast(), absl::InfiniteFuture()),
            absl::ZeroDuration());
  // Only one extra window: open once, then never again.
  auto once = Load(
      "UTC",
      R"("extraWindows":[{"date":"2026-12-27","start":"10:00","end":"14:00"}])");
  ASSERT_NE(once, nullptr);
  EXPECT_EQ(NextOpenOk(*once, Utc(1970, 1, 1)), Utc(2026, 12, 27, 10));
  EXPECT_EQ(AddOk(*once, Utc(2026, 12, 27, 13), absl::Hours(1)),
            Utc(2026, 12, 27, 14));
  const absl::StatusOr<absl::Time> r =
      once->Add(Utc(2026, 12, 27, 13), absl::Hours(2));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("calendar c: never open"),
            absl::string_view::npos)
      << r.status();
}

TEST(BusinessCalendar, BadDurationsAndTheEndOfTheSupportedRange) {
  auto cal = Load("UTC", R"("alwaysOpen":true)");
  ASSERT_NE(cal, nullptr);
  EXPECT_EQ(cal->Add(Utc(2026, 1, 1), -kUs).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(cal->Add(Utc(2026, 1, 1), absl::InfiniteDuration()).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(cal->Add(Utc(9999, 12, 31), absl::Hours(48)).status().code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_EQ(cal->NextOpen(absl::InfiniteFuture()).status().code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_FALSE(cal->IsOpen(absl::InfiniteFuture()));
  EXPECT_EQ(AddOk(*cal, Utc(9999, 12, 31), absl::Hours(24) - kUs),
            Utc(10000, 1, 1) - kUs);
  EXPECT_EQ(NextOpenOk(*cal, absl::InfinitePast()), Utc(1, 1, 1));
}

TEST(BusinessCalendar, ConcurrentFirstUseBuildsConsistentIndexes) {
  std::mt19937_64 rng(11);
  std::vector<std::pair<absl::Time, absl::Duration>> queries;
  for (int i = 0; i < 400; ++i) {
    const absl::Time t =
        Utc(1970, 1, 1) +
        absl::Hours(std::uniform_int_distribution<int64_t>(0, 230 * 8766)(rng));
    queries.emplace_back(
        t, absl::Minutes(
               std::uniform_int_distribution<int64_t>(0, 60 * 24 * 400)(rng)));
  }
  auto serial = Load(kOfficeBerlin);
  ASSERT_NE(serial, nullptr);
  std::vector<absl::Time> want;
  for (const auto& [t, d] : queries) want.push_back(AddOk(*serial, t, d));
  for (int round = 0; round < 3; ++round) {
    auto shared = Load(kOfficeBerlin);
    ASSERT_NE(shared, nullptr);
    std::vector<std::vector<absl::Time>> got(4);
    std::vector<std::thread> threads;
    for (int k = 0; k < 4; ++k) {
      threads.emplace_back([&, k] {
        // Each thread walks the queries from a different place.
        for (size_t j = 0; j < queries.size(); ++j) {
          const size_t i = (j + k * queries.size() / 4) % queries.size();
          absl::StatusOr<absl::Time> r =
              shared->Add(queries[i].first, queries[i].second);
          got[k].push_back(r.ok() ? *r : absl::InfinitePast());
        }
      });
    }
    for (std::thread& t : threads) t.join();
    for (int k = 0; k < 4; ++k) {
      for (size_t j = 0; j < queries.size(); ++j) {
        const size_t i = (j + k * queries.size() / 4) % queries.size();
        ASSERT_EQ(got[k][j], want[i]) << "thread " << k << " query " << i;
      }
    }
  }
}

}  // namespace
}  // namespace slate
