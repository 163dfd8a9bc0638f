// Property tests: SlaClock counting in a real calendar (CalendarBusinessTime)
// behaves exactly like SlaClock counting in the test office hours
// (tests/sla/office_hours.h, itself checked against a day-by-day walk and,
// through SlaClock, against a minute-by-minute oracle), on a calendar spec
// that describes the same open time: Monday-Friday 09:00-17:00 UTC. The
// spec is written redundantly (a window split in two touching halves, a
// Saturday holiday, a Sunday holiday partly re-opened by nothing) so the
// calendar's set operations are exercised, not just its weekly grid.
//
// Random input sequences at microsecond precision (fixed, printed seed):
// same acceptance, same facts at the same instants, same stored bytes, same
// NextDue after every input.
#include <algorithm>
#include <cstdint>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "lib/calendar/business_calendar.h"
#include "lib/sla/calendar_business_time.h"
#include "lib/sla/sla_clock.h"
#include "tests/sla/office_hours.h"
#include "tests/sla/sla_test_util.h"

namespace slate {
namespace {

using In = SlaClockInput;
using Kind = SlaClockInputKind;

constexpr uint64_t kSeed = 20261130;
constexpr int kBetweenCases = 20000;
constexpr int kClockCases = 1500;
constexpr int kInputsPerCase = 30;

// The same open time as testing::OfficeHours, in CalendarSpec JSON.
constexpr char kOfficeUtcJson[] = R"({
  "name": "office-utc", "timeZone": "UTC",
  "weekly": [
    {"day": "MONDAY", "start": "09:00", "end": "12:00"},
    {"day": "MONDAY", "start": "12:00", "end": "17:00"},
    {"day": "TUESDAY", "start": "09:00", "end": "17:00"},
    {"day": "WEDNESDAY", "start": "09:00", "end": "17:00"},
    {"day": "THURSDAY", "start": "09:00", "end": "17:00"},
    {"day": "FRIDAY", "start": "09:00", "end": "17:00"}],
  "holidays": [{"date": "2024-03-02"},
               {"date": "2024-03-10", "start": "08:00", "end": "18:00"}],
  "extraWindows": [{"date": "2024-03-13", "start": "10:00", "end": "11:00"}]
})";

CalendarBusinessTime OfficeUtc() {
  absl::StatusOr<std::shared_ptr<const BusinessCalendar>> cal =
      BusinessCalendar::FromJson(kOfficeUtcJson);
  if (!cal.ok()) {
    std::cerr << cal.status() << "\n";
    std::abort();
  }
  return CalendarBusinessTime(*cal);
}

// 2024-01-01 00:00 UTC, a Monday.
const absl::Time kBase = testing::Utc("2024-01-01 00:00");
constexpr int64_t kMinuteUs = 60'000'000;

class Rng {
 public:
  explicit Rng(uint64_t seed) : rng_(seed) {}
  int64_t Int(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }
  // A gap: often zero or whole minutes (hits window edges), else anything.
  int64_t GapUs() {
    int64_t roll = Int(0, 99);
    if (roll < 10) return 0;
    if (roll < 50) return Int(1, 600) * kMinuteUs;
    if (roll < 85) return Int(1, 40LL * 3600 * 1'000'000);
    return Int(1, 4) * 1440 * kMinuteUs + Int(0, 1'000'000);
  }

 private:
  std::mt19937_64 rng_;
};

TEST(CalendarSlaClockProperty, AdapterMatchesOfficeHours) {
  std::cout << "CalendarSlaClockProperty.AdapterMatchesOfficeHours seed "
            << kSeed << ", " << kBetweenCases << " cases\n";
  Rng rng(kSeed);
  CalendarBusinessTime calendar = OfficeUtc();
  testing::OfficeHours office;
  const int64_t base = absl::ToUnixMicros(kBase);
  const int64_t span = int64_t{3 * 365} * 1440 * kMinuteUs;  // 2024-2026.
  for (int i = 0; i < kBetweenCases; ++i) {
    auto instant = [&] {
      int64_t us = rng.Int(0, span);
      return absl::FromUnixMicros(base + (i % 2 ? us : us - us % kMinuteUs));
    };
    const absl::Time a = instant(), b = instant();
    ASSERT_EQ(calendar.Between(a, b), office.Between(a, b)) << a << " " << b;
    const absl::Duration d = absl::Microseconds(
        rng.Int(i % 4 == 0 ? 0 : 1,
                i % 2 ? 50LL * 3600 * 1'000'000 : 2000LL * 3600 * 1'000'000));
    absl::StatusOr<absl::Time> x = calendar.Add(a, d);
    absl::StatusOr<absl::Time> y = office.Add(a, d);
    ASSERT_TRUE(x.ok()) << x.status();
    ASSERT_TRUE(y.ok()) << y.status();
    ASSERT_EQ(*x, *y) << a << " + " << d;
  }
}

// Mostly inputs that suit the phase the clock is probably in, some refused.
std::vector<In> RandomInputs(Rng& rng, absl::Time start) {
  std::vector<In> inputs;
  absl::Time t = start;
  enum { kNew, kRunning, kPaused, kStopped, kCancelled } phase = kNew;
  for (int i = 0; i < kInputsPerCase; ++i) {
    t += absl::Microseconds(rng.GapUs());
    const bool late = rng.Int(0, 99) < 3;
    const absl::Time at = late ? t - absl::Microseconds(rng.Int(1, 1e9)) : t;
    std::vector<Kind> fits = {Kind::kAdvanceTo, Kind::kRetarget};
    switch (phase) {
      case kNew:
        fits = {Kind::kStart};
        break;
      case kRunning:
        fits.insert(fits.end(), {Kind::kPause, Kind::kPause, Kind::kStop});
        break;
      case kPaused:
        fits.insert(fits.end(), {Kind::kResume, Kind::kResume, Kind::kStop});
        break;
      case kStopped:
        fits = {Kind::kReopen, Kind::kAdvanceTo};
        break;
      case kCancelled:
        break;
    }
    Kind kind = rng.Int(0, 99) < 85 ? fits[rng.Int(0, fits.size() - 1)]
                                    : static_cast<Kind>(rng.Int(0, 7));
    // Targets: whole minutes or arbitrary microseconds, 1us .. 30h.
    const absl::Duration target =
        rng.Int(0, 1) ? absl::Minutes(rng.Int(1, 1800))
                      : absl::Microseconds(rng.Int(1, 30LL * 3600 * 1'000'000));
    switch (kind) {
      case Kind::kStart:
        inputs.push_back(In::Start(at));
        break;
      case Kind::kPause:
        inputs.push_back(In::Pause(at, "waiting"));
        break;
      case Kind::kResume:
        inputs.push_back(In::Resume(at));
        break;
      case Kind::kStop:
        inputs.push_back(In::Stop(at));
        break;
      case Kind::kCancel:
        inputs.push_back(In::Cancel(at));
        break;
      case Kind::kRetarget:
        inputs.push_back(In::Retarget(at, target, "priority"));
        break;
      case Kind::kReopen:
        inputs.push_back(
            In::Reopen(at, static_cast<SlaReopenMode>(rng.Int(0, 2))));
        break;
      case Kind::kAdvanceTo:
        inputs.push_back(In::AdvanceTo(at));
        break;
    }
    if (late || phase == kCancelled) continue;
    switch (kind) {
      case Kind::kStart:
        if (phase == kNew) phase = kRunning;
        break;
      case Kind::kPause:
        if (phase == kRunning) phase = kPaused;
        break;
      case Kind::kResume:
        if (phase == kPaused) phase = kRunning;
        break;
      case Kind::kStop:
        if (phase == kRunning || phase == kPaused) phase = kStopped;
        break;
      case Kind::kCancel:
        if (phase != kStopped) phase = kCancelled;
        break;
      case Kind::kReopen:
        if (phase == kStopped) phase = kRunning;
        break;
      default:
        break;
    }
  }
  return inputs;
}

std::string Bytes(const SlaClock& clock) {
  std::string out;
  EXPECT_TRUE(clock.ToProto().SerializeToString(&out));
  return out;
}

TEST(CalendarSlaClockProperty, SlaClockAgreesWithOfficeHours) {
  std::cout << "CalendarSlaClockProperty.SlaClockAgreesWithOfficeHours seed "
            << kSeed + 1 << ", " << kClockCases << " cases of "
            << kInputsPerCase << " inputs\n";
  Rng rng(kSeed + 1);
  CalendarBusinessTime calendar = OfficeUtc();
  testing::OfficeHours office;
  int accepted = 0, refused = 0, facts_seen = 0, breaches = 0;
  for (int k = 0; k < kClockCases; ++k) {
    SlaClockSpec spec;
    spec.record_id = absl::StrCat("INC", k);
    spec.policy_id = "p";
    spec.target = absl::Minutes(rng.Int(1, 1200));
    if (k % 5 == 0) spec.warning_thresholds_percent = {10, 33.3, 99.9};
    absl::StatusOr<SlaClock> created = SlaClock::Create(spec);
    ASSERT_TRUE(created.ok()) << created.status();
    SlaClock a = *created, b = *created;
    const absl::Time start =
        kBase + absl::Microseconds(rng.Int(0, 7LL * 1440 * kMinuteUs));
    const std::vector<In> inputs = RandomInputs(rng, start);
    for (size_t i = 0; i < inputs.size(); ++i) {
      SCOPED_TRACE(
          absl::StrCat("case ", k, " input ", i, ": ", ToString(inputs[i])));
      std::vector<SlaClockFact> fa, fb;
      absl::Status sa = a.ApplyInPlace(inputs[i], calendar, &fa);
      absl::Status sb = b.ApplyInPlace(inputs[i], office, &fb);
      ASSERT_EQ(sa.code(), sb.code()) << sa << " vs " << sb;
      ASSERT_TRUE(a.CheckInvariants().ok()) << a.CheckInvariants();
      ASSERT_EQ(fa, fb) << testing::FactsToString(fa) << "vs\n"
                        << testing::FactsToString(fb);
      ASSERT_EQ(Bytes(a), Bytes(b));
      absl::StatusOr<std::optional<absl::Time>> da = a.NextDue(calendar);
      absl::StatusOr<std::optional<absl::Time>> db = b.NextDue(office);
      ASSERT_TRUE(da.ok() && db.ok()) << da.status() << " " << db.status();
      ASSERT_EQ(*da, *db);
      if (sa.ok()) {
        ++accepted;
      } else {
        ++refused;
      }
      facts_seen += static_cast<int>(fa.size());
      if (a.breached()) ++breaches;
    }
  }
  std::cout << accepted << " inputs accepted, " << refused << " refused, "
            << facts_seen << " facts, " << breaches
            << " inputs on breached clocks\n";
  // The generator must exercise refusals, facts and breaches.
  EXPECT_GT(refused, kClockCases);
  EXPECT_GT(facts_seen, kClockCases * 3);
  EXPECT_GT(breaches, kClockCases * kInputsPerCase / 10);
}

}  // namespace
}  // namespace slate
