// Loading calendar specs from JSON, and every validation error.
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "lib/calendar/business_calendar.h"
#include "proto/calendar.pb.h"

namespace slate {
namespace {

using ::testing::HasSubstr;

// The calendar of the issue, byte for byte.
constexpr char kOfficeBerlin[] =
    R"({"name":"office-berlin","timeZone":"Europe/Berlin","weekly":[{"day":"MONDAY","start":"09:00","end":"17:00"},{"day":"TUESDAY","start":"09:00","end":"17:00"},{"day":"WEDNESDAY","start":"09:00","end":"17:00"},{"day":"THURSDAY","start":"09:00","end":"17:00"},{"day":"FRIDAY","start":"09:00","end":"13:00"},{"day":"FRIDAY","start":"14:00","end":"17:00"}],"holidays":[{"date":"2026-12-25"},{"date":"2026-12-24","start":"12:00","end":"24:00"}],"extraWindows":[{"date":"2026-12-27","start":"10:00","end":"14:00"}]})";

absl::Status Load(const std::string& json) {
  return BusinessCalendar::FromJson(json).status();
}

// A minimal valid calendar with `fields` spliced in, e.g.
// Spec(R"("weekly":[...])").
std::string Spec(const std::string& fields) {
  return absl::StrCat(R"({"name":"c","timeZone":"UTC",)", fields, "}");
}

std::string Weekly(const std::string& windows) {
  return Spec(absl::StrCat(R"("weekly":[)", windows, "]"));
}

void ExpectInvalid(const std::string& json, const std::string& message) {
  const absl::Status s = Load(json);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << json;
  EXPECT_THAT(std::string(s.message()), HasSubstr(message)) << json;
}

TEST(CalendarSpec, OfficeBerlinJsonLoadsExactlyAsWritten) {
  auto cal = BusinessCalendar::FromJson(kOfficeBerlin);
  ASSERT_TRUE(cal.ok()) << cal.status();
  EXPECT_EQ((*cal)->name(), "office-berlin");
  EXPECT_EQ((*cal)->zone().name(), "Europe/Berlin");
}

TEST(CalendarSpec, JsonMapsToProtoFields) {
  CalendarSpec spec;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(kOfficeBerlin, &spec).ok());
  EXPECT_EQ(spec.time_zone(), "Europe/Berlin");
  ASSERT_EQ(spec.weekly_size(), 6);
  EXPECT_EQ(spec.weekly(5).day(), CalendarSpec::FRIDAY);
  EXPECT_EQ(spec.weekly(5).start(), "14:00");
  ASSERT_EQ(spec.holidays_size(), 2);
  EXPECT_EQ(spec.holidays(0).start(), "");
  EXPECT_EQ(spec.holidays(1).end(), "24:00");
  ASSERT_EQ(spec.extra_windows_size(), 1);
  EXPECT_EQ(spec.extra_windows(0).date(), "2026-12-27");
}

TEST(CalendarSpec, AlwaysOpenAndEffectiveDatesLoad) {
  EXPECT_TRUE(Load(Spec(R"("alwaysOpen":true)")).ok());
  EXPECT_TRUE(
      Load(Spec(R"("alwaysOpen":true,"holidays":[{"date":"2026-01-01"}],)"
                R"("validFrom":"2026-01-01","validTo":"2026-01-01")"))
          .ok());
  // Only extra windows: a calendar for a one-off project.
  EXPECT_TRUE(
      Load(
          Spec(
              R"("extraWindows":[{"date":"2026-01-01","start":"22:00","end":"02:00"}])"))
          .ok());
}

TEST(CalendarSpec, SpellingsOfMidnightAndTouchingWindowsAreValid) {
  EXPECT_TRUE(
      Load(Weekly(R"({"day":"MONDAY","start":"00:00","end":"24:00"},)"
                  R"({"day":"TUESDAY","start":"00:00","end":"12:00"},)"
                  R"({"day":"TUESDAY","start":"12:00","end":"13:00"},)"
                  R"({"day":"WEDNESDAY","start":"22:00","end":"00:00"},)"
                  R"({"day":"THURSDAY","start":"22:00","end":"06:00"},)"
                  R"({"day":"FRIDAY","start":"06:00","end":"07:00"})"))
          .ok());
}

TEST(CalendarSpec, BadJsonIsInvalidArgument) {
  ExpectInvalid("{", "calendar JSON");
  ExpectInvalid(
      Spec(
          R"("weekly":[{"day":"MONDAY","start":"09:00","end":"17:00"}],"colour":"red")"),
      "calendar JSON");
  ExpectInvalid(Weekly(R"({"day":"FUNDAY","start":"09:00","end":"17:00"})"),
                "calendar JSON");
}

TEST(CalendarSpec, NameIsRequired) {
  ExpectInvalid(R"({"timeZone":"UTC","alwaysOpen":true})",
                "calendar: name is required");
}

TEST(CalendarSpec, TimeZoneIsRequiredAndMustBeKnown) {
  ExpectInvalid(R"({"name":"c","alwaysOpen":true})",
                "calendar c: timeZone is required");
  ExpectInvalid(R"({"name":"c","timeZone":"Mars/Olympus","alwaysOpen":true})",
                "calendar c: timeZone \"Mars/Olympus\" is not a known IANA "
                "time zone");
  ExpectInvalid(R"({"name":"c","timeZone":"localtime","alwaysOpen":true})",
                "timeZone \"localtime\" is not a known IANA time zone");
}

TEST(CalendarSpec, BadTimeNamesTheField) {
  const std::string ok = R"({"day":"MONDAY","start":"09:00","end":"17:00"},)";
  ExpectInvalid(
      absl::StrReplaceAll(kOfficeBerlin,
                          {{R"("THURSDAY","start":"09:00","end":"17:00")",
                            R"("THURSDAY","start":"09:00","end":"25:00")"}}),
      R"(calendar office-berlin: weekly[3].end "25:00" is not HH:MM)");
  ExpectInvalid(
      Weekly(ok + R"({"day":"TUESDAY","start":"9:00","end":"17:00"})"),
      R"(calendar c: weekly[1].start "9:00" is not HH:MM)");
  ExpectInvalid(Weekly(R"({"day":"MONDAY","start":"09:60","end":"17:00"})"),
                R"(weekly[0].start "09:60" is not HH:MM)");
  ExpectInvalid(Weekly(R"({"day":"MONDAY","start":"09:00","end":"24:01"})"),
                R"(weekly[0].end "24:01" is not HH:MM)");
  ExpectInvalid(Weekly(R"({"day":"MONDAY","start":"09:00","end":"17:00:00"})"),
                R"(weekly[0].end "17:00:00" is not HH:MM)");
  ExpectInvalid(Weekly(R"({"day":"MONDAY","start":"09:00"})"),
                R"(weekly[0].end "" is not HH:MM)");
  ExpectInvalid(Weekly(R"({"day":"MONDAY","start":"24:00","end":"01:00"})"),
                R"(weekly[0].start "24:00" must be 00:00..23:59)");
}

TEST(CalendarSpec, EndEqualToStartIsAnError) {
  ExpectInvalid(Weekly(R"({"day":"MONDAY","start":"09:00","end":"09:00"})"),
                R"(calendar c: weekly[0]: end "09:00" equals start "09:00")");
  ExpectInvalid(Weekly(R"({"day":"MONDAY","start":"00:00","end":"00:00"})"),
                R"(weekly[0]: end "00:00" equals start "00:00")");
}

TEST(CalendarSpec, DayIsRequired) {
  ExpectInvalid(Weekly(R"({"start":"09:00","end":"17:00"})"),
                "calendar c: weekly[0].day is required (MONDAY..SUNDAY)");
  CalendarSpec spec;
  spec.set_name("c");
  spec.set_time_zone("UTC");
  CalendarSpec::WeeklyWindow* w = spec.add_weekly();
  w->set_day(static_cast<CalendarSpec::DayOfWeek>(9));
  w->set_start("09:00");
  w->set_end("17:00");
  const absl::Status s = BusinessCalendar::FromSpec(spec).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("weekly[0].day 9 is not a day of the week"));
}

TEST(CalendarSpec, OverlappingWindowsOnOneDay) {
  ExpectInvalid(Weekly(R"({"day":"FRIDAY","start":"09:00","end":"13:00"},)"
                       R"({"day":"MONDAY","start":"09:00","end":"17:00"},)"
                       R"({"day":"FRIDAY","start":"12:00","end":"17:00"})"),
                "calendar c: weekly[0] (FRIDAY 09:00-13:00) overlaps "
                "weekly[2] (FRIDAY 12:00-17:00)");
  // The same window twice.
  ExpectInvalid(Weekly(R"({"day":"MONDAY","start":"09:00","end":"17:00"},)"
                       R"({"day":"MONDAY","start":"09:00","end":"17:00"})"),
                "weekly[0] (MONDAY 09:00-17:00) overlaps weekly[1] (MONDAY "
                "09:00-17:00)");
}

TEST(CalendarSpec, MidnightCrossingWindowOverlappingTheNextDay) {
  ExpectInvalid(Weekly(R"({"day":"TUESDAY","start":"05:00","end":"09:00"},)"
                       R"({"day":"MONDAY","start":"22:00","end":"06:00"})"),
                "weekly[0] (TUESDAY 05:00-09:00) overlaps weekly[1] (MONDAY "
                "22:00-06:00)");
  // Sunday night into Monday morning wraps around the week.
  ExpectInvalid(Weekly(R"({"day":"MONDAY","start":"00:00","end":"08:00"},)"
                       R"({"day":"SUNDAY","start":"23:00","end":"01:00"})"),
                "weekly[0] (MONDAY 00:00-08:00) overlaps weekly[1] (SUNDAY "
                "23:00-01:00)");
}

TEST(CalendarSpec, BadDatesNameTheField) {
  const std::string weekly =
      R"("weekly":[{"day":"MONDAY","start":"09:00","end":"17:00"}],)";
  ExpectInvalid(
      Spec(weekly + R"("holidays":[{"date":"2026-02-30"}])"),
      R"(calendar c: holidays[0].date "2026-02-30" is not a YYYY-MM-DD date)");
  ExpectInvalid(Spec(weekly + R"("holidays":[{"date":"2027-02-29"}])"),
                R"(holidays[0].date "2027-02-29" is not a YYYY-MM-DD date)");
  ExpectInvalid(Spec(weekly + R"("holidays":[{"date":"2026-1-05"}])"),
                R"(holidays[0].date "2026-1-05" is not a YYYY-MM-DD date)");
  ExpectInvalid(Spec(weekly + R"("holidays":[{"date":"0000-01-01"}])"),
                R"(holidays[0].date "0000-01-01" is not a YYYY-MM-DD date)");
  ExpectInvalid(Spec(weekly + R"("holidays":[{}])"),
                R"(holidays[0].date "" is not a YYYY-MM-DD date)");
  ExpectInvalid(
      Spec(
          weekly +
          R"("extraWindows":[{"date":"26-12-27","start":"10:00","end":"14:00"}])"),
      R"(extraWindows[0].date "26-12-27" is not a YYYY-MM-DD date)");
  ExpectInvalid(Spec(weekly + R"("validFrom":"2026-13-01")"),
                R"(validFrom "2026-13-01" is not a YYYY-MM-DD date)");
  ExpectInvalid(Spec(weekly + R"("validTo":"tomorrow")"),
                R"(validTo "tomorrow" is not a YYYY-MM-DD date)");
}

TEST(CalendarSpec, LeapDayIsADate) {
  EXPECT_TRUE(
      Load(Spec(R"("alwaysOpen":true,"holidays":[{"date":"2028-02-29"}])"))
          .ok());
}

TEST(CalendarSpec, PartialHolidayNeedsBothEnds) {
  const std::string weekly =
      R"("weekly":[{"day":"MONDAY","start":"09:00","end":"17:00"}],)";
  ExpectInvalid(
      Spec(weekly + R"("holidays":[{"date":"2026-12-24","start":"12:00"}])"),
      "calendar c: holidays[0]: start and end must both be set");
  ExpectInvalid(
      Spec(
          weekly +
          R"("holidays":[{"date":"2026-12-24","start":"12:00","end":"12:00"}])"),
      R"(holidays[0]: end "12:00" equals start "12:00")");
  ExpectInvalid(
      Spec(weekly +
           R"("holidays":[{"date":"2026-12-24","start":"12:00","end":"7pm"}])"),
      R"(holidays[0].end "7pm" is not HH:MM)");
}

TEST(CalendarSpec, ExtraWindowNeedsTimesAndMayNotOverlapAnother) {
  ExpectInvalid(Spec(R"("extraWindows":[{"date":"2026-12-27"}])"),
                "calendar c: extraWindows[0]: start and end are required");
  ExpectInvalid(
      Spec(
          R"("extraWindows":[{"date":"2026-12-27","start":"10:00","end":"14:00"},)"
          R"({"date":"2026-12-26","start":"20:00","end":"11:00"}])"),
      "calendar c: extraWindows[1] overlaps extraWindows[0]");
}

TEST(CalendarSpec, AlwaysOpenExcludesWeekly) {
  ExpectInvalid(
      Spec(
          R"("alwaysOpen":true,"weekly":[{"day":"MONDAY","start":"09:00","end":"17:00"}])"),
      "calendar c: alwaysOpen is set, so weekly must be empty (it has 1 "
      "windows)");
}

TEST(CalendarSpec, EmptyCalendarIsAnError) {
  ExpectInvalid(Spec(R"("holidays":[{"date":"2026-12-25"}])"),
                "calendar c: no weekly windows, no extraWindows and "
                "alwaysOpen is false");
  ExpectInvalid(R"({"name":"c","timeZone":"UTC"})", "would never be open");
}

TEST(CalendarSpec, ValidToBeforeValidFrom) {
  ExpectInvalid(
      Spec(
          R"("alwaysOpen":true,"validFrom":"2026-01-02","validTo":"2026-01-01")"),
      R"(calendar c: validTo "2026-01-01" is before validFrom "2026-01-02")");
}

}  // namespace
}  // namespace slate
