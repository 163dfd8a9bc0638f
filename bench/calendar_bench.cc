// Business-calendar arithmetic: the indexed BusinessCalendar against a
// straightforward day-by-day walk, on the office-berlin calendar of issue 4
// with ten years (2026-2035) of German public holidays.
//
//   bazel --output_base=/root/.cache/bazel-cal run -c opt
//   //bench:calendar_bench
//
// Queries start uniformly in 2026..2035 and add (or span) up to 30 days,
// microsecond-precise. Before timing, both implementations are checked to
// agree on 20,000 random queries; a disagreement aborts the run.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "google/protobuf/util/json_util.h"
#include "lib/calendar/business_calendar.h"
#include "proto/calendar.pb.h"

namespace slate {
namespace {

constexpr char kOfficeBerlin[] =
    R"({"name":"office-berlin","timeZone":"Europe/Berlin","weekly":[{"day":"MONDAY","start":"09:00","end":"17:00"},{"day":"TUESDAY","start":"09:00","end":"17:00"},{"day":"WEDNESDAY","start":"09:00","end":"17:00"},{"day":"THURSDAY","start":"09:00","end":"17:00"},{"day":"FRIDAY","start":"09:00","end":"13:00"},{"day":"FRIDAY","start":"14:00","end":"17:00"}],"holidays":[{"date":"2026-12-25"},{"date":"2026-12-24","start":"12:00","end":"24:00"}],"extraWindows":[{"date":"2026-12-27","start":"10:00","end":"14:00"}]})";

std::string Ymd(absl::CivilDay d) {
  return absl::StrFormat("%04d-%02d-%02d", d.year(), d.month(), d.day());
}

// Gregorian Easter Sunday (anonymous algorithm).
absl::CivilDay Easter(int y) {
  const int a = y % 19, b = y / 100, c = y % 100, d = b / 4, e = b % 4;
  const int f = (b + 8) / 25, g = (b - f + 1) / 3;
  const int h = (19 * a + b - d - g + 15) % 30;
  const int i = c / 4, k = c % 4;
  const int l = (32 + 2 * e + 2 * i - h - k) % 7;
  const int m = (a + 11 * h + 22 * l) / 451;
  const int month = (h + l - 7 * m + 114) / 31;
  const int day = (h + l - 7 * m + 114) % 31 + 1;
  return absl::CivilDay(y, month, day);
}

// The office calendar plus German public holidays 2026..2035, and half days
// on Christmas Eve and New Year's Eve.
CalendarSpec OfficeSpec() {
  CalendarSpec spec;
  if (!google::protobuf::util::JsonStringToMessage(kOfficeBerlin, &spec).ok()) {
    std::abort();
  }
  spec.clear_holidays();
  for (int y = 2026; y <= 2035; ++y) {
    const absl::CivilDay easter = Easter(y);
    for (absl::CivilDay d :
         {absl::CivilDay(y, 1, 1), easter - 2, easter + 1,
          absl::CivilDay(y, 5, 1), easter + 39, easter + 50,
          absl::CivilDay(y, 10, 3), absl::CivilDay(y, 12, 25),
          absl::CivilDay(y, 12, 26)}) {
      spec.add_holidays()->set_date(Ymd(d));
    }
    for (int day : {24, 31}) {
      CalendarSpec::DateWindow* h = spec.add_holidays();
      h->set_date(Ymd(absl::CivilDay(y, 12, day)));
      h->set_start("12:00");
      h->set_end("24:00");
    }
  }
  return spec;
}

// The baseline: walk the calendar day by day, building each day's open
// intervals from the spec. Handles what OfficeSpec uses: weekly windows
// within a day, whole and partial holidays, extra windows within a day.
class NaiveCalendar {
 public:
  explicit NaiveCalendar(const CalendarSpec& spec) {
    absl::LoadTimeZone(spec.time_zone(), &zone_);
    for (const auto& w : spec.weekly()) {
      weekly_[static_cast<int>(w.day()) % 7].push_back(
          {Minutes(w.start()), Minutes(w.end())});
    }
    for (const auto& h : spec.holidays()) {
      holidays_[Date(h.date())].push_back(
          h.start().empty()
              ? std::make_pair(0, 1440)
              : std::make_pair(Minutes(h.start()), Minutes(h.end())));
    }
    for (const auto& x : spec.extra_windows()) {
      extras_[Date(x.date())].push_back({Minutes(x.start()), Minutes(x.end())});
    }
  }

  absl::Time Add(absl::Time t, absl::Duration d) const {
    for (absl::CivilDay day = absl::CivilDay(zone_.At(t).cs);; ++day) {
      for (const auto& [s, e] : Open(day)) {
        if (e <= t) continue;
        const absl::Time from = std::max(s, t);
        if (e - from >= d && (d > absl::ZeroDuration() || from < e)) {
          return from + d;
        }
        d -= e - from;
      }
    }
  }

  absl::Duration Between(absl::Time a, absl::Time b) const {
    absl::Duration sum;
    for (absl::CivilDay day = absl::CivilDay(zone_.At(a).cs) - 1;
         day <= absl::CivilDay(zone_.At(b).cs); ++day) {
      for (const auto& [s, e] : Open(day)) {
        const absl::Time lo = std::max(s, a);
        const absl::Time hi = std::min(e, b);
        if (lo < hi) sum += hi - lo;
      }
    }
    return sum;
  }

 private:
  static int Minutes(const std::string& hhmm) {
    return std::atoi(hhmm.substr(0, 2).c_str()) * 60 +
           std::atoi(hhmm.substr(3, 2).c_str());
  }
  static absl::CivilDay Date(const std::string& s) {
    return absl::CivilDay(std::atoi(s.substr(0, 4).c_str()),
                          std::atoi(s.substr(5, 2).c_str()),
                          std::atoi(s.substr(8, 2).c_str()));
  }
  absl::Time At(absl::CivilDay day, int minutes) const {
    return absl::FromCivil(absl::CivilMinute(day) + minutes, zone_);
  }

  // The day's open intervals in order: weekly windows minus holidays, plus
  // extra windows (which never overlap weekly time in OfficeSpec).
  std::vector<std::pair<absl::Time, absl::Time>> Open(
      absl::CivilDay day) const {
    std::vector<std::pair<int, int>> minutes;
    auto weekly =
        weekly_.find((static_cast<int>(absl::GetWeekday(day)) + 1) % 7);
    if (weekly != weekly_.end()) minutes = weekly->second;
    auto holidays = holidays_.find(day);
    if (holidays != holidays_.end()) {
      for (const auto& [hs, he] : holidays->second) {
        std::vector<std::pair<int, int>> left;
        for (const auto& [s, e] : minutes) {
          if (s < hs) left.push_back({s, std::min(e, hs)});
          if (e > he) left.push_back({std::max(s, he), e});
        }
        minutes = std::move(left);
      }
    }
    auto extras = extras_.find(day);
    if (extras != extras_.end()) {
      minutes.insert(minutes.end(), extras->second.begin(),
                     extras->second.end());
    }
    std::sort(minutes.begin(), minutes.end());
    std::vector<std::pair<absl::Time, absl::Time>> out;
    for (const auto& [s, e] : minutes) out.push_back({At(day, s), At(day, e)});
    return out;
  }

  absl::TimeZone zone_;
  // Keyed by absl::Weekday + 1 modulo 7 == CalendarSpec::DayOfWeek % 7.
  absl::flat_hash_map<int, std::vector<std::pair<int, int>>> weekly_;
  absl::flat_hash_map<absl::CivilDay, std::vector<std::pair<int, int>>>
      holidays_;
  absl::flat_hash_map<absl::CivilDay, std::vector<std::pair<int, int>>> extras_;
};

struct Fixture {
  std::shared_ptr<const BusinessCalendar> fast;
  std::unique_ptr<NaiveCalendar> naive;
  // Power-of-two sized so the loop indexes with a mask.
  std::vector<absl::Time> starts;
  std::vector<absl::Duration> durations;
};

constexpr size_t kQueries = 1 << 14;

const Fixture& GetFixture() {
  static const Fixture* fixture = [] {
    auto* f = new Fixture;
    const CalendarSpec spec = OfficeSpec();
    auto cal = BusinessCalendar::FromSpec(spec);
    if (!cal.ok()) {
      std::fprintf(stderr, "%s\n", cal.status().ToString().c_str());
      std::abort();
    }
    f->fast = *cal;
    f->naive = std::make_unique<NaiveCalendar>(spec);
    std::mt19937_64 rng(42);
    const int64_t lo = absl::ToUnixMicros(
        absl::FromCivil(absl::CivilDay(2026, 1, 1), f->fast->zone()));
    const int64_t hi = absl::ToUnixMicros(
        absl::FromCivil(absl::CivilDay(2036, 1, 1), f->fast->zone()));
    std::uniform_int_distribution<int64_t> start(lo, hi - 1);
    std::uniform_int_distribution<int64_t> duration(0,
                                                    int64_t{30} * 86400000000);
    for (size_t i = 0; i < kQueries; ++i) {
      f->starts.push_back(absl::FromUnixMicros(start(rng)));
      f->durations.push_back(absl::Microseconds(duration(rng)));
    }
    // The baseline must compute the same answers, or the ratio means nothing.
    for (size_t i = 0; i < 20000; ++i) {
      const absl::Time t =
          f->starts[i % kQueries] +
          absl::Microseconds(static_cast<int64_t>(i / kQueries));
      const absl::Duration d = f->durations[(i * 7) % kQueries];
      const absl::Time want = f->naive->Add(t, d);
      const auto got = f->fast->Add(t, d);
      const absl::Duration span =
          f->fast->Between(t, t + d) - f->naive->Between(t, t + d);
      if (!got.ok() || *got != want || span != absl::ZeroDuration()) {
        std::fprintf(
            stderr, "calendar_bench: fast and naive disagree at %s + %s\n",
            absl::FormatTime(t).c_str(), absl::FormatDuration(d).c_str());
        std::abort();
      }
    }
    return f;
  }();
  return *fixture;
}

void BM_Calendar_Add(benchmark::State& state) {
  const Fixture& f = GetFixture();
  size_t i = 0;
  for (auto _ : state) {
    const size_t k = i++ & (kQueries - 1);
    benchmark::DoNotOptimize(f.fast->Add(f.starts[k], f.durations[k]));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Calendar_Add);

void BM_Calendar_Between(benchmark::State& state) {
  const Fixture& f = GetFixture();
  size_t i = 0;
  for (auto _ : state) {
    const size_t k = i++ & (kQueries - 1);
    benchmark::DoNotOptimize(
        f.fast->Between(f.starts[k], f.starts[k] + f.durations[k]));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Calendar_Between);

// Loading the calendar and indexing the ~4.5-year chunk of one query.
void BM_Calendar_FirstUse(benchmark::State& state) {
  const Fixture& f = GetFixture();
  const CalendarSpec spec = OfficeSpec();
  size_t i = 0;
  for (auto _ : state) {
    const size_t k = i++ & (kQueries - 1);
    auto cal = BusinessCalendar::FromSpec(spec);
    benchmark::DoNotOptimize((*cal)->Add(f.starts[k], f.durations[k]));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Calendar_FirstUse);

void BM_CalendarNaive_Add(benchmark::State& state) {
  const Fixture& f = GetFixture();
  size_t i = 0;
  for (auto _ : state) {
    const size_t k = i++ & (kQueries - 1);
    benchmark::DoNotOptimize(f.naive->Add(f.starts[k], f.durations[k]));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CalendarNaive_Add);

void BM_CalendarNaive_Between(benchmark::State& state) {
  const Fixture& f = GetFixture();
  size_t i = 0;
  for (auto _ : state) {
    const size_t k = i++ & (kQueries - 1);
    benchmark::DoNotOptimize(
        f.naive->Between(f.starts[k], f.starts[k] + f.durations[k]));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CalendarNaive_Between);

}  // namespace
}  // namespace slate
