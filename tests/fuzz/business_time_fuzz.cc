// Fuzz target: business-time arithmetic on random calendars, checked against
// itself rather than only for crashes. The input builds a CalendarSpec (zone,
// weekly windows, holidays, extra windows, effective dates) and picks
// instants and durations; for every calendar that validates:
//  - round trip: Between(t, Add(t, d)) == d, and Add's result is the
//    earliest such instant (one microsecond earlier is short of d);
//  - monotonicity: d1 <= d2 gives Add(t, d1) <= Add(t, d2); t1 <= t2 gives
//    Add(t1, d) <= Add(t2, d); Between never exceeds wall time;
//  - additivity and sign: Between(a, b) + Between(b, c) == Between(a, c),
//    Between(b, a) == -Between(a, b);
//  - IsOpen(t) == (Between(t, t + 1us) == 1us) == (NextOpen(t) == t);
//  - an Add that fails is kFailedPrecondition or kOutOfRange and only when
//    the calendar really has less than d of open time within 400 years;
//  - CalendarBusinessTime (what SLA clocks use) agrees with the calendar.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "lib/calendar/business_calendar.h"
#include "lib/sla/calendar_business_time.h"
#include "proto/calendar.pb.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using slate::fuzz::FuzzInput;

constexpr const char* kZones[] = {"UTC",
                                  "Europe/Berlin",
                                  "America/New_York",
                                  "Asia/Kolkata",
                                  "Pacific/Apia",
                                  "Australia/Lord_Howe",
                                  "America/Sao_Paulo",
                                  "Asia/Kathmandu"};

std::string HhMm(int minutes) {
  return absl::StrFormat("%02d:%02d", minutes / 60, minutes % 60);
}

std::string Date(FuzzInput& in) {
  const absl::CivilDay day = absl::CivilDay(2025, 1, 1) + in.Range(0, 5 * 366);
  return absl::StrFormat("%04d-%02d-%02d", day.year(), day.month(), day.day());
}

// Minutes of the day on a 15-minute grid (plus odd minutes now and then).
int Minute(FuzzInput& in) {
  const uint8_t b = in.Byte();
  return (b & 0x80) ? (b * 13) % 1440 : (b % 96) * 15;
}

slate::CalendarSpec MakeSpec(FuzzInput& in) {
  slate::CalendarSpec spec;
  spec.set_name("fuzz");
  spec.set_time_zone(kZones[in.Byte() % (sizeof(kZones) / sizeof(kZones[0]))]);
  const uint8_t shape = in.Byte();
  if (shape % 8 == 0) {
    spec.set_always_open(true);
  } else {
    const int windows = 1 + in.Byte() % 12;
    for (int i = 0; i < windows; ++i) {
      auto* w = spec.add_weekly();
      w->set_day(
          static_cast<slate::CalendarSpec::DayOfWeek>(1 + in.Byte() % 7));
      w->set_start(HhMm(Minute(in)));
      const int end = Minute(in);
      w->set_end(end == 0 && in.Bool() ? "24:00" : HhMm(end));
    }
  }
  const int holidays = in.Byte() % 6;
  for (int i = 0; i < holidays; ++i) {
    auto* h = spec.add_holidays();
    h->set_date(Date(in));
    if (in.Bool()) {
      h->set_start(HhMm(Minute(in)));
      h->set_end(HhMm(Minute(in)));
    }
  }
  const int extras = in.Byte() % 4;
  for (int i = 0; i < extras; ++i) {
    auto* x = spec.add_extra_windows();
    x->set_date(Date(in));
    x->set_start(HhMm(Minute(in)));
    x->set_end(HhMm(Minute(in)));
  }
  if (shape & 0x10) spec.set_valid_from(Date(in));
  if (shape & 0x20) spec.set_valid_to(Date(in));
  return spec;
}

absl::Time Instant(FuzzInput& in) {
  // 2024-06-01 .. about 2031, on a minute grid or to the microsecond.
  const int64_t base = 1717200000;
  const int64_t s = base + in.Range(0, 7 * 366 * 86400);
  return in.Bool() ? absl::FromUnixSeconds(s - s % 60)
                   : absl::FromUnixMicros(s * 1000000 + in.Range(0, 999999));
}

absl::Duration Length(FuzzInput& in) {
  switch (in.Byte() % 4) {
    case 0:
      return absl::Minutes(in.Range(0, 600));
    case 1:
      return absl::Microseconds(in.Range(1, 5000000));
    case 2:
      return absl::Hours(in.Range(1, 3000));
    default:
      return absl::Microseconds(in.Range(0, int64_t{40} * 86400 * 1000000));
  }
}

bool AddFailureOk(const absl::Status& s) {
  return s.code() == absl::StatusCode::kFailedPrecondition ||
         s.code() == absl::StatusCode::kOutOfRange;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzInput in(data, size);
  const slate::CalendarSpec spec = MakeSpec(in);
  auto made = slate::BusinessCalendar::FromSpec(spec);
  if (!made.ok()) {
    FUZZ_CHECK(made.status().code() == absl::StatusCode::kInvalidArgument,
               made.status().ToString());
    return 0;
  }
  const slate::BusinessCalendar& cal = **made;
  const slate::CalendarBusinessTime business(*made);
  const absl::Duration us = absl::Microseconds(1);
  const absl::Time horizon =
      absl::FromUnixSeconds(1717200000) + absl::Hours(24 * 366 * 420);

  for (int round = 0; round < 4; ++round) {
    const absl::Time t1 = Instant(in);
    const absl::Time t2 = std::max(t1, Instant(in));
    const absl::Duration d1 = Length(in);
    const absl::Duration d2 = std::max(d1, Length(in));

    // IsOpen, a one-microsecond Between and NextOpen tell the same story.
    const bool open = cal.IsOpen(t1);
    FUZZ_CHECK(open == (cal.Between(t1, t1 + us) == us),
               "IsOpen vs Between at ", absl::FormatTime(t1));
    auto next = cal.NextOpen(t1);
    if (next.ok()) {
      FUZZ_CHECK((*next == t1) == open, "NextOpen vs IsOpen at ",
                 absl::FormatTime(t1));
      FUZZ_CHECK(*next >= t1 && cal.Between(t1, *next) == absl::ZeroDuration(),
                 "NextOpen skipped open time");
    }

    // Between: bounded by wall time, additive, antisymmetric.
    const absl::Time t3 = t2 + (t2 - t1);
    const absl::Duration b12 = cal.Between(t1, t2);
    const absl::Duration b23 = cal.Between(t2, t3);
    FUZZ_CHECK(b12 >= absl::ZeroDuration() && b12 <= t2 - t1,
               "Between outside [0, wall time]");
    FUZZ_CHECK(b12 + b23 == cal.Between(t1, t3), "Between not additive");
    FUZZ_CHECK(cal.Between(t2, t1) == -b12, "Between not antisymmetric");
    FUZZ_CHECK(business.Between(t1, t2) == b12 &&
                   business.Between(t2, t1) == absl::ZeroDuration(),
               "CalendarBusinessTime::Between disagrees");

    // Add and Between round trip; Add is the earliest such instant.
    auto r1 = cal.Add(t1, d1);
    auto r2 = cal.Add(t1, d2);
    auto r3 = cal.Add(t2, d1);
    if (r1.ok()) {
      FUZZ_CHECK(cal.Between(t1, *r1) == d1, "Between(t, Add(t, d)) = ",
                 absl::FormatDuration(cal.Between(t1, *r1)),
                 " != d = ", absl::FormatDuration(d1),
                 " at t = ", absl::FormatTime(t1));
      FUZZ_CHECK(*r1 >= t1, "Add went back in time");
      if (d1 > absl::ZeroDuration()) {
        FUZZ_CHECK(cal.Between(t1, *r1 - us) < d1,
                   "Add(t, d) is not the earliest instant with d open");
      }
      auto b = business.Add(t1, d1);
      FUZZ_CHECK(b.ok() && *b == *r1, "CalendarBusinessTime::Add disagrees");
    } else {
      FUZZ_CHECK(AddFailureOk(r1.status()), r1.status().ToString());
      // It failed because there is not enough open time, not by mistake
      // (for d == 0: because the calendar never opens again).
      const absl::Duration left = cal.Between(t1, horizon);
      FUZZ_CHECK(
          d1 == absl::ZeroDuration() ? left == absl::ZeroDuration() : left < d1,
          "Add failed (", r1.status().ToString(),
          ") but the calendar has enough open time: t = ", absl::FormatTime(t1),
          ", d = ", absl::FormatDuration(d1),
          ", open until the horizon: ", absl::FormatDuration(left),
          "\nspec: ", spec.ShortDebugString());
    }
    if (r1.ok() && r2.ok()) {
      FUZZ_CHECK(*r1 <= *r2, "Add not monotonic in d");
    }
    if (!r1.ok()) {
      FUZZ_CHECK(!r2.ok(), "Add(t, d2) succeeded but Add(t, d1 <= d2) failed");
    }
    if (r1.ok() && r3.ok()) {
      FUZZ_CHECK(*r1 <= *r3, "Add not monotonic in t: Add(",
                 absl::FormatTime(t1), ") = ", absl::FormatTime(*r1), " > Add(",
                 absl::FormatTime(t2), ") = ", absl::FormatTime(*r3));
    }
    // Add(t, Between(t, x)) lands at or before x, never after.
    if (b12 > absl::ZeroDuration()) {
      auto back = cal.Add(t1, b12);
      FUZZ_CHECK(back.ok() && *back <= t2 &&
                     cal.Between(*back, t2) == absl::ZeroDuration(),
                 "Add(t1, Between(t1, t2)) does not land at t2's open time");
    }
  }
  return 0;
}
