// Property tests: BusinessCalendar against MinuteOracle on random calendars.
//
// Random calendars in zones with DST in both hemispheres, 30-minute DST
// (Lord_Howe), 2-hour DST (Troll), +05:45 (Kathmandu), -03:30 (St_Johns), a
// skipped day (Apia 2011-12-30), negative DST (Dublin) and Ramadan DST
// (Casablanca); holidays on DST days and leap days; midnight-crossing,
// touching and 1-minute windows; extra windows and effective dates.
//
// The seed is printed; rerun a failure with SLATE_CALENDAR_SEED=<seed>.
// SLATE_CALENDAR_CALENDARS overrides the number of random calendars.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "lib/calendar/business_calendar.h"
#include "lib/sla/calendar_business_time.h"
#include "proto/calendar.pb.h"
#include "tests/calendar/minute_oracle.h"

namespace slate {
namespace {

constexpr int64_t kHorizonMinutes = 100 * 1440;
constexpr int kMaxReportedFailures = 20;

uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v == nullptr ? fallback : std::strtoull(v, nullptr, 10);
}

uint64_t Seed() {
  static const uint64_t seed = [] {
    const uint64_t s = EnvOr("SLATE_CALENDAR_SEED", 20260401);
    std::cout << "[   SEED   ] SLATE_CALENDAR_SEED=" << s << std::endl;
    return s;
  }();
  return seed;
}

class Gen {
 public:
  explicit Gen(uint64_t seed) : rng_(seed) {}
  // Uniform in [lo, hi].
  int64_t Int(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }
  bool Chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[Int(0, static_cast<int64_t>(v.size()) - 1)];
  }
  std::mt19937_64& rng() { return rng_; }

 private:
  std::mt19937_64 rng_;
};

const std::vector<std::string>& Zones() {
  static const auto* zones = new std::vector<std::string>{
      "Europe/Berlin",    "America/New_York",    "Australia/Sydney",
      "America/Santiago", "Australia/Lord_Howe", "Asia/Kathmandu",
      "America/St_Johns", "Pacific/Apia",        "Antarctica/Troll",
      "Europe/Dublin",    "Africa/Casablanca",   "UTC"};
  return *zones;
}

std::string Hm(int minutes) {
  return absl::StrFormat("%02d:%02d", minutes / 60, minutes % 60);
}

std::string Ymd(absl::CivilDay d) {
  return absl::StrFormat("%04d-%02d-%02d", d.year(), d.month(), d.day());
}

// Times of day where DST and midnight edge cases live.
int HotMinute(Gen& g) {
  static const std::vector<int> kHot = {0,   1,   30,  59,   60,   90,  120,
                                        121, 135, 150, 165,  180,  181, 210,
                                        240, 270, 300, 1380, 1410, 1439};
  return g.Pick(kHot);
}

int TimeOfDay(Gen& g) {
  const int64_t roll = g.Int(0, 99);
  if (roll < 35) return HotMinute(g);
  if (roll < 70) return static_cast<int>(g.Int(0, 95) * 15);
  return static_cast<int>(g.Int(0, 1439));
}

// A window start/end pair of strings with all the allowed spellings: end
// after start, "24:00", or before start (crossing midnight).
void RandomWindow(Gen& g, std::string* start, std::string* end) {
  const int s = TimeOfDay(g);
  *start = Hm(s);
  const int64_t roll = g.Int(0, 99);
  if (roll < 20 && s > 0) {
    *end = Hm(static_cast<int>(g.Int(0, s - 1)));  // Crosses midnight.
  } else if (roll < 30) {
    *end = "24:00";
  } else {
    int e = s < 1439 && g.Chance(0.5) ? HotMinute(g) : 0;
    if (e <= s) e = static_cast<int>(g.Int(s + 1, 1440));
    *end = Hm(e);
  }
}

// Local dates of the zone's transitions inside [from, to).
std::vector<absl::CivilDay> TransitionDays(const absl::TimeZone& zone,
                                           absl::Time from, absl::Time to) {
  std::vector<absl::CivilDay> days;
  absl::TimeZone::CivilTransition tr;
  absl::Time t = from;
  while (zone.NextTransition(t, &tr)) {
    const absl::Time at = zone.At(tr.to).pre;
    if (at >= to || days.size() > 50) break;
    days.push_back(absl::CivilDay(tr.from));
    days.push_back(absl::CivilDay(tr.to));
    t = at;
  }
  return days;
}

absl::Time RoundToMinute(absl::Time t) {
  return absl::FromUnixSeconds(absl::ToUnixSeconds(t) / 60 * 60);
}

// Where the horizon starts: near DST transitions, leap days, Apia's skipped
// day, or anywhere in 1970..2200.
absl::Time PickBegin(Gen& g, const std::string& zone_name,
                     const absl::TimeZone& zone) {
  const absl::Time lo =
      absl::FromCivil(absl::CivilDay(1970, 1, 3), absl::UTCTimeZone());
  const absl::Time hi =
      absl::FromCivil(absl::CivilDay(2200, 1, 1), absl::UTCTimeZone());
  const absl::Duration back = absl::Minutes(g.Int(0, 60 * 1440));
  const int64_t roll = g.Int(0, 99);
  if (zone_name == "Pacific/Apia" && roll < 30) {
    return RoundToMinute(absl::FromCivil(absl::CivilDay(2011, 12, 29), zone) -
                         back);
  }
  if (roll < 10) {
    // White box: the index is built in chunks of 2^47 us from 0001-01-01Z.
    constexpr int64_t kOriginUs = int64_t{-62135596800} * 1000000;
    const int64_t k = g.Int((absl::ToUnixMicros(lo) - kOriginUs) >> 47,
                            (absl::ToUnixMicros(hi) - kOriginUs) >> 47);
    return RoundToMinute(absl::FromUnixMicros(kOriginUs + (k << 47)) - back);
  }
  if (roll < 50) {
    const int year = static_cast<int>(g.Int(1970, 2198));
    absl::TimeZone::CivilTransition tr;
    if (zone.NextTransition(absl::FromCivil(absl::CivilDay(year, 1, 1), zone),
                            &tr)) {
      const absl::Time t = zone.At(tr.to).pre - back;
      if (t > lo && t < hi) return RoundToMinute(t);
    }
  }
  if (roll < 70) {
    int year = static_cast<int>(g.Int(493, 549)) * 4;  // 1972..2196
    if (year == 2100) year = 2096;
    return RoundToMinute(absl::FromCivil(absl::CivilDay(year, 2, 29), zone) -
                         back);
  }
  return RoundToMinute(absl::FromUnixMicros(
      g.Int(absl::ToUnixMicros(lo), absl::ToUnixMicros(hi))));
}

// What the calendar does after the oracle's horizon.
enum class After {
  kClosed,  // Never open again: kFailedPrecondition.
  kOpen,    // Open again (weekly windows, no validTo): a result after it.
  kEither,  // Closes within days of the horizon's end: either.
};

struct RandomCalendar {
  CalendarSpec spec;
  After after = After::kOpen;
};

void AddWeekly(Gen& g, CalendarSpec& spec) {
  constexpr int64_t kWeek = 7 * 1440;
  const int n = static_cast<int>(g.Int(1, 12));
  const int64_t first = g.Int(0, kWeek - 1);
  int64_t cursor = first;
  std::vector<CalendarSpec::WeeklyWindow> windows;
  for (int i = 0; i < n; ++i) {
    int64_t s = cursor + (g.Chance(0.25) ? 0 : g.Int(0, 3000));
    if (g.Chance(0.3)) {
      int64_t snapped = s / 1440 * 1440 + HotMinute(g);
      if (snapped < cursor) snapped += 1440;
      s = snapped;
    }
    const int64_t roll = g.Int(0, 99);
    int64_t len = roll < 10 ? g.Int(1, 5) : (roll < 18 ? 1439 : g.Int(30, 720));
    int64_t e = s + len;
    if (g.Chance(0.25)) {
      int64_t snapped = e / 1440 * 1440 + HotMinute(g);
      if (snapped <= s) snapped += 1440;
      if (snapped - s <= 1439) e = snapped;
    }
    if (e - first > kWeek) break;
    const int64_t day_start = s / 1440 * 1440;
    CalendarSpec::WeeklyWindow w;
    w.set_day(static_cast<CalendarSpec::DayOfWeek>((s / 1440) % 7 + 1));
    w.set_start(Hm(static_cast<int>(s - day_start)));
    const int64_t end_of_day = e - day_start;
    if (end_of_day == 1440) {
      w.set_end(s > day_start && g.Chance(0.4) ? "00:00" : "24:00");
    } else {
      w.set_end(Hm(static_cast<int>(end_of_day % 1440)));
    }
    windows.push_back(w);
    cursor = e;
  }
  std::shuffle(windows.begin(), windows.end(), g.rng());
  for (const auto& w : windows) *spec.add_weekly() = w;
}

RandomCalendar MakeRandomCalendar(Gen& g, int id, const std::string& zone_name,
                                  const absl::TimeZone& zone, absl::Time begin,
                                  absl::Time end) {
  RandomCalendar rc;
  CalendarSpec& spec = rc.spec;
  spec.set_name(absl::StrCat("random-", id));
  spec.set_time_zone(zone_name);
  const absl::CivilDay first_day(zone.At(begin).cs);
  const absl::CivilDay last_day(zone.At(end).cs);
  const int64_t kind = g.Int(0, 99);
  const bool extras_only = kind < 6;
  if (kind >= 6 && kind < 16) {
    spec.set_always_open(true);
  } else if (!extras_only) {
    AddWeekly(g, spec);
  }
  auto random_day = [&]() {
    return first_day + g.Int(-2, last_day - first_day);
  };

  const std::vector<absl::CivilDay> transitions =
      TransitionDays(zone, begin, end);
  const int holidays = static_cast<int>(g.Int(0, 10));
  for (int i = 0; i < holidays; ++i) {
    absl::CivilDay day = random_day();
    const int64_t roll = g.Int(0, 99);
    if (roll < 45 && !transitions.empty()) {
      day = g.Pick(transitions);
    } else if (roll < 60) {
      for (absl::CivilDay d = first_day; d <= last_day; ++d) {
        if (d.month() == 2 && d.day() == 29) day = d;
      }
    }
    CalendarSpec::DateWindow* h = spec.add_holidays();
    h->set_date(Ymd(day));
    if (g.Chance(0.6)) RandomWindow(g, h->mutable_start(), h->mutable_end());
  }

  // Extra windows on days at least two apart, so they never overlap.
  const int extras = static_cast<int>(extras_only ? g.Int(1, 4) : g.Int(0, 4));
  std::vector<absl::CivilDay> extra_days;
  for (int i = 0; i < extras; ++i) {
    absl::CivilDay day = g.Chance(0.3) && !transitions.empty()
                             ? g.Pick(transitions)
                             : random_day();
    bool clash = false;
    for (absl::CivilDay d : extra_days) clash |= (d - day < 2 && day - d < 2);
    if (clash) continue;
    extra_days.push_back(day);
    CalendarSpec::DateWindow* x = spec.add_extra_windows();
    x->set_date(Ymd(day));
    RandomWindow(g, x->mutable_start(), x->mutable_end());
  }
  absl::CivilDay last_open_day = last_day + 100;
  bool bounded = extras_only;
  if (extras_only) {
    last_open_day = first_day - 10;
    for (absl::CivilDay d : extra_days)
      last_open_day = std::max(last_open_day, d);
  }
  if (g.Chance(0.15)) {
    const absl::CivilDay from = random_day();
    const absl::CivilDay to = from + g.Int(0, last_day - from + 5);
    if (g.Chance(0.7)) spec.set_valid_from(Ymd(from));
    if (g.Chance(0.7)) {
      spec.set_valid_to(Ymd(to));
      last_open_day = std::min(last_open_day, to);
      bounded = true;
    }
  }
  // The last open minute is before the end of last_open_day + 1 (a window
  // crossing midnight); two days of margin cover any UTC offset.
  if (bounded) {
    rc.after = last_open_day + 3 < last_day ? After::kClosed : After::kEither;
  }
  return rc;
}

std::string Json(const CalendarSpec& spec) {
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(spec, &json);
  return json;
}

std::string Fmt(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", t, absl::UTCTimeZone());
}

// Checks one calendar against its oracle; counts cases and failures.
class Checker {
 public:
  Checker(Gen& g, const BusinessCalendar& cal, const MinuteOracle& oracle,
          const RandomCalendar& rc, int64_t* cases, int* failures)
      : g_(g),
        cal_(cal),
        oracle_(oracle),
        rc_(rc),
        cases_(cases),
        failures_(failures) {}

  // An instant in the horizon, often on or next to an open/closed edge.
  absl::Time Instant() {
    const int64_t roll = g_.Int(0, 99);
    const int64_t b = absl::ToUnixMicros(oracle_.begin());
    const int64_t e = absl::ToUnixMicros(oracle_.end());
    int64_t us = g_.Int(b, e - 1);
    if (roll < 45 && !oracle_.edges().empty()) {
      us = b + g_.Pick(oracle_.edges()) * 60000000;
      const int64_t nudge = g_.Int(0, 4);
      if (nudge == 1) us -= 1;
      if (nudge == 2) us += 1;
      if (nudge == 3) us += g_.Int(-7200, 7200) * 1000000;
    } else if (roll < 70) {
      us = b + (us - b) / 60000000 * 60000000;
    }
    return absl::FromUnixMicros(std::clamp(us, b, e - 1));
  }

  // A duration to add at t: zero, tiny, landing on an edge, or up to 30 days
  // of the open time left in the horizon (sometimes a little more).
  absl::Duration Amount(absl::Time t) {
    const int64_t left =
        absl::ToInt64Microseconds(oracle_.Between(t, oracle_.end()));
    const int64_t roll = g_.Int(0, 99);
    if (roll < 5) return absl::ZeroDuration();
    if (roll < 15) return absl::Microseconds(g_.Int(1, 1000));
    if (roll < 35 && !oracle_.edges().empty()) {
      const absl::Time edge =
          oracle_.begin() + absl::Minutes(g_.Pick(oracle_.edges()));
      if (edge > t) return oracle_.Between(t, edge);
    }
    if (roll < 40) return absl::Microseconds(left + g_.Int(0, 1));
    const int64_t cap = std::min<int64_t>(left, int64_t{30} * 86400000000);
    if (cap <= 0) return absl::Microseconds(g_.Int(1, 1000));
    int64_t us = g_.Int(1, cap);
    if (g_.Chance(0.4))
      us = std::max<int64_t>(60000000, us / 60000000 * 60000000);
    return absl::Microseconds(us);
  }

  void CheckIsOpen(absl::Time t) {
    Count();
    if (cal_.IsOpen(t) != oracle_.IsOpen(t)) {
      Fail(absl::StrCat("IsOpen(", Fmt(t), ") = ", cal_.IsOpen(t)));
    }
  }

  // Both NextOpen and Add: compare with the oracle's answer, or when the
  // oracle sees none inside the horizon, with what must happen after it.
  void CheckResult(const std::string& what, absl::StatusOr<absl::Time> got,
                   std::optional<absl::Time> want) {
    Count();
    if (want.has_value()) {
      if (!got.ok() || *got != *want) {
        Fail(absl::StrCat(what, " = ",
                          got.ok() ? Fmt(*got) : got.status().ToString(),
                          ", oracle ", Fmt(*want)));
      }
    } else if (rc_.after == After::kClosed ||
               (rc_.after == After::kEither && !got.ok())) {
      if (got.status().code() != absl::StatusCode::kFailedPrecondition) {
        Fail(absl::StrCat(what, " = ",
                          got.ok() ? Fmt(*got) : got.status().ToString(),
                          ", want kFailedPrecondition"));
      }
    } else if (!got.ok() || *got < oracle_.end()) {
      Fail(absl::StrCat(what, " = ",
                        got.ok() ? Fmt(*got) : got.status().ToString(),
                        ", oracle: not before ", Fmt(oracle_.end())));
    }
  }

  void CheckNextOpen(absl::Time t) {
    CheckResult(absl::StrCat("NextOpen(", Fmt(t), ")"), cal_.NextOpen(t),
                oracle_.NextOpen(t));
  }

  void CheckAdd(absl::Time t, absl::Duration d) {
    CheckResult(
        absl::StrCat("Add(", Fmt(t), ", ", absl::FormatDuration(d), ")"),
        cal_.Add(t, d), oracle_.Add(t, d));
  }

  void CheckBetween(absl::Time a, absl::Time b) {
    Count();
    const absl::Duration got = cal_.Between(a, b);
    const absl::Duration want = oracle_.Between(a, b);
    if (got != want) {
      Fail(absl::StrCat("Between(", Fmt(a), ", ", Fmt(b),
                        ") = ", absl::FormatDuration(got), ", oracle ",
                        absl::FormatDuration(want)));
    }
  }

  // OpenIntervals: ordered, maximal open stretches inside [a, b) whose
  // lengths add up to the oracle's Between; each is open at both ends and
  // closed just outside (unless clipped by a or b).
  void CheckOpenIntervals(absl::Time a, absl::Time b) {
    if (b < a) std::swap(a, b);
    Count();
    const auto got = cal_.OpenIntervals(a, b, 1 << 20);
    absl::Duration sum;
    absl::Time last = absl::InfinitePast();
    const absl::Duration us = absl::Microseconds(1);
    for (const auto& [s, e] : got) {
      sum += e - s;
      const bool ok = s >= a && e <= b && s < e && s > last &&
                      oracle_.IsOpen(s) && oracle_.IsOpen(e - us) &&
                      (s == a || !oracle_.IsOpen(s - us)) &&
                      (e == b || !oracle_.IsOpen(e));
      if (!ok) {
        Fail(absl::StrCat("OpenIntervals(", Fmt(a), ", ", Fmt(b),
                          ") has [", Fmt(s), ", ", Fmt(e), ")"));
        return;
      }
      last = e;
    }
    const absl::Duration want = oracle_.Between(a, b);
    if (sum != want) {
      Fail(absl::StrCat("OpenIntervals(", Fmt(a), ", ", Fmt(b), ") add up to ",
                        absl::FormatDuration(sum), ", oracle ",
                        absl::FormatDuration(want)));
    }
  }

  // Relative targets (lib/sla): business day n after t's local date is the
  // nth later local date with an open minute; its end is the end of that
  // date's last open minute; "HH:MM on" it is that wall time of that date.
  void CheckRelativeDeadline(const CalendarBusinessTime& business,
                             absl::Time t, int n) {
    absl::TimeZone zone;
    if (!absl::LoadTimeZone(rc_.spec.time_zone(), &zone)) return;
    const absl::CivilDay start_day = absl::ToCivilDay(t, zone);
    std::optional<absl::CivilDay> day;  // The nth business day.
    absl::CivilDay counted = start_day;
    int found = 0;
    absl::Time last_end;
    for (absl::Time m = RoundToMinute(t); m < oracle_.end();
         m += absl::Minutes(1)) {
      if (m < oracle_.begin()) continue;
      const absl::CivilDay d = absl::ToCivilDay(m, zone);
      if (day.has_value() && d > *day) break;
      if (d <= start_day || !oracle_.IsOpen(m)) continue;
      if (d != counted) {
        counted = d;
        if (++found == n) day = d;
      }
      if (day.has_value() && d == *day) last_end = m + absl::Minutes(1);
    }
    if (!day.has_value() || absl::ToCivilDay(oracle_.end(), zone) <= *day) {
      return;  // Past the horizon.
    }
    Count();
    SlaRelativeTarget r;
    r.business_day = n;
    absl::StatusOr<absl::Time> got = business.RelativeDeadline(t, r);
    if (!got.ok() || *got != last_end) {
      Fail(absl::StrCat("RelativeDeadline(", Fmt(t), ", ",
                        SlaRelativeTargetText(r), ") = ",
                        got.ok() ? Fmt(*got) : got.status().ToString(),
                        ", oracle ", Fmt(last_end)));
      return;
    }
    r.minute_of_day = static_cast<int>(g_.Int(0, 1439));
    got = business.RelativeDeadline(t, r);
    const absl::CivilMinute want(day->year(), day->month(), day->day(),
                                 *r.minute_of_day / 60, *r.minute_of_day % 60);
    const absl::TimeZone::TimeInfo info = zone.At(want);
    // A wall time skipped by a DST change counts as the instant after the
    // gap (absl's `trans`); else its first occurrence (`pre`).
    const absl::Time expect =
        info.kind == absl::TimeZone::TimeInfo::SKIPPED ? info.trans : info.pre;
    if (!got.ok() || *got != expect) {
      Fail(absl::StrCat("RelativeDeadline(", Fmt(t), ", ",
                        SlaRelativeTargetText(r), ") = ",
                        got.ok() ? Fmt(*got) : got.status().ToString(),
                        ", expected ", Fmt(expect)));
    }
  }

  // From an open instant, Add then Between gives back the duration.
  void CheckRoundTrip(absl::Time t, absl::Duration d) {
    absl::StatusOr<absl::Time> open = cal_.NextOpen(t);
    if (!open.ok() || *open >= oracle_.end()) return;  // Nothing open left.
    Count();
    absl::StatusOr<absl::Time> r = cal_.Add(*open, d);
    if (!r.ok()) {
      if (oracle_.Add(*open, d).has_value()) {
        Fail(absl::StrCat("round trip Add(", Fmt(*open), ", ",
                          absl::FormatDuration(d),
                          ") = ", r.status().ToString()));
      }
      return;
    }
    if (cal_.Between(*open, *r) != d) {
      Fail(absl::StrCat(
          "round trip from ", Fmt(*open), ": Add(", absl::FormatDuration(d),
          ") = ", Fmt(*r),
          ", Between back = ", absl::FormatDuration(cal_.Between(*open, *r))));
    }
  }

 private:
  void Count() { ++*cases_; }
  void Fail(const std::string& what) {
    if (++*failures_ <= kMaxReportedFailures) {
      ADD_FAILURE() << "calendar " << Json(rc_.spec) << "\nhorizon ["
                    << Fmt(oracle_.begin()) << ", " << Fmt(oracle_.end())
                    << ")\n"
                    << what << "\nseed " << Seed();
    }
  }

  Gen& g_;
  const BusinessCalendar& cal_;
  const MinuteOracle& oracle_;
  const RandomCalendar& rc_;
  int64_t* cases_;
  int* failures_;
};

TEST(BusinessCalendarProperty, RandomCalendarsMatchMinuteOracle) {
  Gen g(Seed());
  const int calendars =
      static_cast<int>(EnvOr("SLATE_CALENDAR_CALENDARS", 240));
  constexpr int kRoundsPerCalendar = 90;
  constexpr int kRelativeRoundsPerCalendar = 4;
  int64_t cases = 0;
  int failures = 0;
  for (int id = 0; id < calendars && failures < kMaxReportedFailures; ++id) {
    const std::string& zone_name = Zones()[id % Zones().size()];
    absl::TimeZone zone;
    ASSERT_TRUE(absl::LoadTimeZone(zone_name, &zone)) << zone_name;
    const absl::Time begin = PickBegin(g, zone_name, zone);
    const absl::Time end = begin + absl::Minutes(kHorizonMinutes);
    const RandomCalendar rc =
        MakeRandomCalendar(g, id, zone_name, zone, begin, end);
    auto cal = BusinessCalendar::FromSpec(rc.spec);
    ASSERT_TRUE(cal.ok()) << cal.status() << "\n" << Json(rc.spec);
    const MinuteOracle oracle(rc.spec, begin, kHorizonMinutes);
    ASSERT_TRUE(oracle.whole_minutes()) << zone_name << " at " << Fmt(begin);
    Checker check(g, **cal, oracle, rc, &cases, &failures);
    const CalendarBusinessTime business(*cal);
    for (int i = 0; i < kRelativeRoundsPerCalendar; ++i) {
      check.CheckRelativeDeadline(business, check.Instant(),
                                  static_cast<int>(g.Int(1, 6)));
    }
    for (int i = 0; i < kRoundsPerCalendar; ++i) {
      check.CheckIsOpen(check.Instant());
      check.CheckNextOpen(check.Instant());
      absl::Time t = check.Instant();
      check.CheckAdd(t, check.Amount(t));
      check.CheckBetween(check.Instant(), check.Instant());
      check.CheckOpenIntervals(check.Instant(), check.Instant());
      t = check.Instant();
      check.CheckRoundTrip(t, check.Amount(t));
    }
  }
  std::cout << "[  CASES   ] " << cases << " oracle cases on " << calendars
            << " random calendars" << std::endl;
  EXPECT_EQ(failures, 0);
  EXPECT_GE(cases, int64_t{90000} * calendars / 240);
}

// Spans of centuries, where no oracle is affordable: the algebra must hold.
TEST(BusinessCalendarProperty, LongSpansAreAdditiveAndRoundTrip) {
  Gen g(Seed() ^ 0x5eed);
  const absl::Time lo =
      absl::FromCivil(absl::CivilDay(1970, 1, 1), absl::UTCTimeZone());
  const absl::Time hi =
      absl::FromCivil(absl::CivilDay(2200, 12, 31), absl::UTCTimeZone());
  auto instant = [&]() {
    return absl::FromUnixMicros(
        g.Int(absl::ToUnixMicros(lo), absl::ToUnixMicros(hi)));
  };
  int64_t cases = 0;
  for (int id = 0; id < 12; ++id) {
    const std::string& zone_name = Zones()[id % Zones().size()];
    CalendarSpec spec;
    spec.set_name(absl::StrCat("long-", id));
    spec.set_time_zone(zone_name);
    AddWeekly(g, spec);
    for (int i = 0; i < 20; ++i) {
      CalendarSpec::DateWindow* h = spec.add_holidays();
      h->set_date(
          Ymd(absl::CivilDay(g.Int(1970, 2200), g.Int(1, 12), g.Int(1, 28))));
    }
    auto cal = BusinessCalendar::FromSpec(spec);
    ASSERT_TRUE(cal.ok()) << cal.status();
    for (int i = 0; i < 300; ++i) {
      absl::Time a = instant();
      absl::Time b = instant();
      absl::Time c = instant();
      cases += 3;
      EXPECT_EQ((*cal)->Between(a, c),
                (*cal)->Between(a, b) + (*cal)->Between(b, c))
          << Json(spec) << " " << Fmt(a) << " " << Fmt(b) << " " << Fmt(c);
      EXPECT_EQ((*cal)->Between(a, b), -(*cal)->Between(b, a));
      const absl::Duration d = (*cal)->Between(a, b);
      if (d > absl::ZeroDuration()) {
        // Add(a, Between(a, b)) is the earliest instant with that much open
        // time since a: not after b, and with nothing open in between.
        absl::StatusOr<absl::Time> r = (*cal)->Add(a, d);
        ASSERT_TRUE(r.ok()) << r.status();
        EXPECT_LE(*r, b);
        EXPECT_EQ((*cal)->Between(*r, b), absl::ZeroDuration());
        EXPECT_EQ((*cal)->Between(a, *r), d);
      }
    }
  }
  std::cout << "[  CASES   ] " << cases << " long-span cases" << std::endl;
}

}  // namespace
}  // namespace slate
