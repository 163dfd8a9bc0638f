// Property tests for SlaClock on random input sequences (fixed, printed
// seeds):
//  1. Against a slow oracle that simulates the clock minute by minute on a
//     minute grid: elapsed, paused, overdue, facts and their instants,
//     deadlines, next due instants, and which inputs are refused.
//  2. Folding incrementally (with timer ticks and storage round trips in
//     between) gives the same state bytes and facts as folding the events
//     alone; and replaying the accepted inputs shuffled gives the same bytes.
#include <algorithm>
#include <cstdint>
#include <iostream>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/sla/business_time.h"
#include "lib/sla/sla_clock.h"
#include "tests/sla/office_hours.h"
#include "tests/sla/sla_test_util.h"

namespace slate {
namespace {

using ::slate::testing::OfficeHours;
using ::slate::testing::SlowOfficeHours;
using ::slate::testing::Utc;
using In = SlaClockInput;
using Kind = SlaClockInputKind;

constexpr uint64_t kOracleSeed = 20240304;
constexpr uint64_t kFoldSeed = 20240305;
constexpr int kOracleCases = 2000;
constexpr int kFoldCases = 3000;

// Minute m of the grid is [base + m, base + m + 1min); base is a Monday.
const absl::Time kBase = Utc("2024-01-01 00:00");
absl::Time AtMinute(int64_t m) { return kBase + absl::Minutes(m); }
int64_t MinuteOf(absl::Time t) {
  absl::Duration d = t - kBase;
  EXPECT_EQ(d % absl::Minutes(1), absl::ZeroDuration()) << t;
  return absl::IDivDuration(d, absl::Minutes(1), &d);
}

struct GridInput {
  Kind kind;
  int64_t at;          // Minute.
  int64_t target = 0;  // Minutes, kRetarget.
  SlaReopenMode mode = SLA_REOPEN_MODE_UNSPECIFIED;
};

In ToInput(const GridInput& g) {
  switch (g.kind) {
    case Kind::kStart:
      return In::Start(AtMinute(g.at));
    case Kind::kPause:
      return In::Pause(AtMinute(g.at), "waiting");
    case Kind::kResume:
      return In::Resume(AtMinute(g.at));
    case Kind::kStop:
      return In::Stop(AtMinute(g.at));
    case Kind::kCancel:
      return In::Cancel(AtMinute(g.at));
    case Kind::kRetarget:
      return In::Retarget(AtMinute(g.at), absl::Minutes(g.target), "priority");
    case Kind::kReopen:
      return In::Reopen(AtMinute(g.at), g.mode);
    case Kind::kAdvanceTo:
      return In::AdvanceTo(AtMinute(g.at));
  }
  return In::AdvanceTo(AtMinute(g.at));
}

// A fact on the grid, comparable with SlaClockFact.
struct GridFact {
  SlaClockFact::Kind kind;
  int64_t at;
  int pct;
  int64_t cycle;
  int64_t before = 0;  // Minutes, for an offset threshold.
  bool operator==(const GridFact&) const = default;
};

std::ostream& operator<<(std::ostream& os, const GridFact& f) {
  return os << static_cast<int>(f.kind) << "@" << f.at << " pct " << f.pct
            << " before " << f.before << " cycle " << f.cycle;
}

// The slow, obvious model. Every rule is written out independently of
// lib/sla: a minute counts if the clock runs through it; a threshold is
// crossed at the end of the minute that brings elapsed up to it.
class Oracle {
 public:
  enum Phase { kNotStarted, kRunning, kPaused, kStopped, kCancelled };

  // `before`: offsets in minutes before the deadline, used instead of the
  // percentages when not empty (fired from the largest).
  Oracle(bool office, int64_t target, std::vector<int> thresholds,
         std::vector<int> before = {})
      : office_(office), target_(target), thresholds_(std::move(thresholds)),
        before_(std::move(before)) {
    std::sort(before_.rbegin(), before_.rend());
  }

  bool Open(int64_t m) const {
    if (!office_) return true;
    int64_t day = m / 1440, tod = m % 1440;
    return day % 7 < 5 && tod >= 9 * 60 && tod < 17 * 60;
  }
  int64_t Threshold(int i) const {
    if (!before_.empty()) return target_ - before_[i];
    return target_ * thresholds_[i] / 100;
  }
  int n() const {
    return static_cast<int>(before_.empty() ? thresholds_.size()
                                            : before_.size());
  }

  absl::StatusCode Apply(const GridInput& in, std::vector<GridFact>* facts) {
    if (phase_ == kCancelled) return absl::StatusCode::kFailedPrecondition;
    if (observed_.has_value() && in.at < *observed_) {
      return absl::StatusCode::kInvalidArgument;
    }
    bool ok = true;
    switch (in.kind) {
      case Kind::kStart:
        ok = phase_ == kNotStarted;
        break;
      case Kind::kPause:
        ok = phase_ == kRunning;
        break;
      case Kind::kResume:
        ok = phase_ == kPaused;
        break;
      case Kind::kStop:
        ok = phase_ == kRunning || phase_ == kPaused;
        break;
      case Kind::kCancel:
        ok = phase_ != kStopped;
        break;
      case Kind::kRetarget:
        if (in.target <= 0) return absl::StatusCode::kInvalidArgument;
        ok = phase_ != kStopped;
        break;
      case Kind::kReopen:
        ok = phase_ == kStopped;
        break;
      case Kind::kAdvanceTo:
        break;
    }
    if (!ok) return absl::StatusCode::kFailedPrecondition;

    // Let time pass, one minute at a time.
    for (int64_t m = observed_.value_or(in.at); m < in.at; ++m) {
      if (phase_ == kPaused) ++paused_;
      if (phase_ != kRunning) continue;
      ++wall_;
      if (breached_) ++overdue_;
      if (Open(m)) ++elapsed_;
      FireReached(m + 1, facts);
    }
    observed_ = in.at;

    const int64_t t = in.at;
    switch (in.kind) {
      case Kind::kStart:
      case Kind::kResume:
        phase_ = kRunning;
        break;
      case Kind::kPause:
        phase_ = kPaused;
        break;
      case Kind::kStop:
        phase_ = kStopped;
        facts->push_back({breached_ ? SlaClockFact::Kind::kCompletedBreached
                                    : SlaClockFact::Kind::kMet,
                          t, 0, cycle_});
        break;
      case Kind::kCancel:
        phase_ = kCancelled;
        facts->push_back({SlaClockFact::Kind::kCancelled, t, 0, cycle_});
        break;
      case Kind::kRetarget:
        target_ = in.target;
        if (phase_ != kNotStarted) FireReached(t, facts);
        break;
      case Kind::kReopen:
        phase_ = kRunning;
        if (in.mode != SLA_REOPEN_MODE_RESUME) {
          ++cycle_;
          elapsed_ = wall_ = paused_ = overdue_ = 0;
          warnings_ = 0;
          breached_ = false;
          facts->push_back({SlaClockFact::Kind::kCycleStarted, t, 0, cycle_});
        }
        break;
      case Kind::kAdvanceTo:
        break;
    }
    return absl::StatusCode::kOk;
  }

  // Runs the clock forward (no pauses) until elapsed reaches `goal`.
  int64_t WhenElapsedReaches(int64_t goal) const {
    int64_t e = elapsed_, m = *observed_;
    while (e < goal) {
      if (Open(m)) ++e;
      ++m;
    }
    return m;
  }

  std::optional<int64_t> Deadline() const {
    if (breached_) return breached_at_;
    if (phase_ == kRunning) return WhenElapsedReaches(target_);
    return std::nullopt;
  }
  std::optional<int64_t> NextDue() const {
    if (phase_ != kRunning || breached_) return std::nullopt;
    return WhenElapsedReaches(warnings_ < n() ? Threshold(warnings_) : target_);
  }

  Phase phase() const { return phase_; }
  bool breached() const { return breached_; }
  std::optional<int64_t> breached_at() const {
    return breached_ ? std::optional<int64_t>(breached_at_) : std::nullopt;
  }
  int64_t cycle() const { return cycle_; }
  int64_t target() const { return target_; }
  int warnings() const { return warnings_; }
  int64_t elapsed() const { return elapsed_; }
  int64_t wall() const { return wall_; }
  int64_t paused() const { return paused_; }
  int64_t overdue() const { return overdue_; }

 private:
  void FireReached(int64_t at, std::vector<GridFact>* facts) {
    if (breached_) return;
    while (warnings_ < n() && Threshold(warnings_) <= elapsed_) {
      if (before_.empty()) {
        facts->push_back({SlaClockFact::Kind::kWarningReached, at,
                          thresholds_[warnings_], cycle_});
      } else {
        facts->push_back({SlaClockFact::Kind::kWarningReached, at, 0, cycle_,
                          before_[warnings_]});
      }
      ++warnings_;
    }
    if (elapsed_ >= target_) {
      breached_ = true;
      breached_at_ = at;
      facts->push_back({SlaClockFact::Kind::kBreached, at, 0, cycle_});
    }
  }

  bool office_;
  int64_t target_;
  std::vector<int> thresholds_;
  std::vector<int> before_;
  Phase phase_ = kNotStarted;
  std::optional<int64_t> observed_;
  int64_t cycle_ = 1;
  int warnings_ = 0;
  bool breached_ = false;
  int64_t breached_at_ = 0;
  int64_t elapsed_ = 0, wall_ = 0, paused_ = 0, overdue_ = 0;
};

// Thresholds whose durations are whole minutes for targets that are
// multiples of 20 minutes.
const std::vector<std::vector<int>> kThresholdSets = {
    {50, 75, 90}, {}, {10, 20, 30, 40, 50, 60, 70, 80, 90}, {25, 50}};

// Offsets before the deadline, in minutes: all below the smallest target
// (20 minutes), so thresholds stay on the minute grid (an offset not below
// the target has its own scenario test); listed out of order on purpose.
const std::vector<std::vector<int>> kBeforeSets = {
    {10}, {5, 15}, {15, 10, 5}, {1, 19}};

struct Case {
  int64_t target;
  std::vector<int> thresholds;
  std::vector<int> before;  // Not empty: used instead of thresholds.
  std::vector<GridInput> inputs;
};

// Mostly plausible sequences (the next input usually suits the phase the
// clock should be in), with some refused ones mixed in: wrong phase, late
// (time going backwards), zero targets.
Case RandomCase(std::mt19937_64& rng, int length) {
  auto uniform = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  Case c;
  c.target = 20 * uniform(1, 15);
  c.thresholds = kThresholdSets[uniform(0, kThresholdSets.size() - 1)];
  if (uniform(0, 2) == 0) {
    c.before = kBeforeSets[uniform(0, kBeforeSets.size() - 1)];
  }
  int64_t t = uniform(0, 7 * 1440);
  // A rough model of the phase, for choosing plausible inputs only.
  enum { kNew, kRunning, kPaused, kStopped, kCancelled } phase = kNew;
  // Weights: Start, Pause, Resume, Stop, Cancel, Retarget, Reopen, AdvanceTo.
  std::discrete_distribution<int> any_kind({10, 15, 15, 8, 1, 10, 8, 15});
  for (int i = 0; i < length; ++i) {
    int64_t roll = uniform(0, 99);
    int64_t gap = roll < 10   ? 0
                  : roll < 60 ? uniform(1, 120)
                  : roll < 90 ? uniform(120, 1500)
                              : uniform(1500, 4000);
    t += gap;
    GridInput in;
    if (uniform(0, 99) < 80) {
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
      in.kind = fits[uniform(0, fits.size() - 1)];
    } else {
      in.kind = static_cast<Kind>(any_kind(rng));
    }
    const bool late = uniform(0, 99) < 3;
    in.at = late ? t - uniform(1, 60) : t;
    in.target = uniform(0, 49) == 0 ? 0 : 20 * uniform(1, 15);
    in.mode = static_cast<SlaReopenMode>(uniform(0, 2));
    c.inputs.push_back(in);
    if (late || phase == kCancelled) continue;
    switch (in.kind) {
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
  return c;
}

SlaClock NewClock(const Case& c) {
  SlaClockSpec spec;
  spec.record_id = "INC";
  spec.policy_id = "p";
  spec.target = absl::Minutes(c.target);
  spec.warning_thresholds_percent.assign(c.thresholds.begin(),
                                         c.thresholds.end());
  for (int b : c.before) spec.warning_before.push_back(absl::Minutes(b));
  absl::StatusOr<SlaClock> clock = SlaClock::Create(spec);
  EXPECT_TRUE(clock.ok()) << clock.status();
  return *std::move(clock);
}

std::string Describe(const Case& c, size_t upto) {
  std::string s = absl::StrCat("target ", c.target, "m, thresholds [");
  for (int p : c.thresholds) absl::StrAppend(&s, p, " ");
  absl::StrAppend(&s, "], before [");
  for (int b : c.before) absl::StrAppend(&s, b, "m ");
  absl::StrAppend(&s, "]\n");
  for (size_t i = 0; i <= upto && i < c.inputs.size(); ++i) {
    absl::StrAppend(&s, "  ", ToString(ToInput(c.inputs[i])), "\n");
  }
  return s;
}

std::optional<int64_t> Minutes(std::optional<absl::Time> t) {
  if (!t.has_value()) return std::nullopt;
  return MinuteOf(*t);
}

TEST(SlaClockProperty, MatchesAMinuteByMinuteOracle) {
  std::cout << "SlaClockProperty.MatchesAMinuteByMinuteOracle seed "
            << kOracleSeed << ", " << kOracleCases << " cases\n";
  std::mt19937_64 rng(kOracleSeed);
  AlwaysOpen always;
  OfficeHours fast_office;
  SlowOfficeHours slow_office;
  int inputs_checked = 0, refused = 0, breaches = 0, offset_warnings = 0;
  for (int k = 0; k < kOracleCases; ++k) {
    Case c = RandomCase(rng, 24);
    const bool office = k % 3 != 0;
    const BusinessTime& business =
        k % 3 == 0   ? static_cast<const BusinessTime&>(always)
        : k % 3 == 1 ? static_cast<const BusinessTime&>(slow_office)
                     : static_cast<const BusinessTime&>(fast_office);
    Oracle oracle(office, c.target, c.thresholds, c.before);
    SlaClock clock = NewClock(c);
    for (size_t i = 0; i < c.inputs.size(); ++i) {
      const GridInput& g = c.inputs[i];
      SCOPED_TRACE(absl::StrCat("case ", k, (office ? " office" : " 24x7"),
                                " input ", i, "\n", Describe(c, i)));
      std::vector<SlaClockFact> facts;
      absl::Status s = clock.ApplyInPlace(ToInput(g), business, &facts);
      std::vector<GridFact> expected;
      absl::StatusCode code = oracle.Apply(g, &expected);
      ASSERT_EQ(s.code(), code) << s;
      ASSERT_TRUE(clock.CheckInvariants().ok()) << clock.CheckInvariants();
      ++inputs_checked;
      if (!s.ok()) {
        ++refused;
        ASSERT_TRUE(facts.empty());
        continue;
      }
      std::vector<GridFact> got;
      for (const SlaClockFact& f : facts) {
        got.push_back({f.kind, MinuteOf(f.at),
                       static_cast<int>(f.threshold_percent), f.cycle,
                       absl::ToInt64Minutes(f.before)});
        if (f.before > absl::ZeroDuration()) ++offset_warnings;
      }
      ASSERT_EQ(got, expected);
      ASSERT_EQ(clock.cycle(), oracle.cycle());
      ASSERT_EQ(clock.breached(), oracle.breached());
      ASSERT_EQ(Minutes(clock.breached_at()), oracle.breached_at());
      ASSERT_EQ(clock.target(), absl::Minutes(oracle.target()));
      ASSERT_EQ(clock.warnings_reached(), oracle.warnings());
      ASSERT_EQ(clock.business_elapsed(), absl::Minutes(oracle.elapsed()));
      ASSERT_EQ(clock.wall_elapsed(), absl::Minutes(oracle.wall()));
      ASSERT_EQ(clock.paused(), absl::Minutes(oracle.paused()));
      ASSERT_EQ(clock.wall_overdue(), absl::Minutes(oracle.overdue()));
      ASSERT_EQ(clock.business_overdue(),
                absl::Minutes(
                    std::max<int64_t>(0, oracle.elapsed() - oracle.target())));
      if (oracle.phase() == Oracle::kRunning ||
          oracle.phase() == Oracle::kPaused) {
        ASSERT_EQ(Minutes(clock.deadline()), oracle.Deadline());
      }
      absl::StatusOr<std::optional<absl::Time>> due = clock.NextDue(business);
      ASSERT_TRUE(due.ok()) << due.status();
      ASSERT_EQ(Minutes(*due), oracle.NextDue());
      if (oracle.breached()) ++breaches;
    }
  }
  std::cout << inputs_checked << " inputs checked, " << refused << " refused, "
            << breaches << " inputs on breached clocks, " << offset_warnings
            << " warnings before the deadline\n";
  // The generator must exercise both paths meaningfully.
  EXPECT_GT(refused, inputs_checked / 10);
  EXPECT_GT(breaches, inputs_checked / 10);
  EXPECT_GT(offset_warnings, 500);
}

std::string Bytes(const SlaClock& clock) {
  std::string out;
  EXPECT_TRUE(clock.ToProto().SerializeToString(&out));
  return out;
}

TEST(SlaClockProperty, IncrementalFoldEqualsRecomputingFromScratch) {
  std::cout << "SlaClockProperty.IncrementalFoldEqualsRecomputingFromScratch "
            << "seed " << kFoldSeed << ", " << kFoldCases << " cases\n";
  std::mt19937_64 rng(kFoldSeed);
  auto uniform = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  AlwaysOpen always;
  OfficeHours office;
  int ticks = 0, round_trips = 0;
  for (int k = 0; k < kFoldCases; ++k) {
    Case c = RandomCase(rng, 30);
    const BusinessTime& business =
        k % 2 ? static_cast<const BusinessTime&>(office)
              : static_cast<const BusinessTime&>(always);
    // Ticks before input i may not pass any later input's time.
    std::vector<int64_t> suffix_min(c.inputs.size() + 1, INT64_MAX);
    for (size_t i = c.inputs.size(); i-- > 0;) {
      suffix_min[i] = std::min(suffix_min[i + 1], c.inputs[i].at);
    }
    SlaClock scratch = NewClock(c), incremental = NewClock(c);
    std::vector<SlaClockFact> scratch_facts, incremental_facts;
    std::vector<SequencedClockInput> accepted;
    int64_t last = c.inputs[0].at;
    for (size_t i = 0; i < c.inputs.size(); ++i) {
      SCOPED_TRACE(
          absl::StrCat("case ", k, " input ", i, "\n", Describe(c, i)));
      const In input = ToInput(c.inputs[i]);
      for (int64_t n = uniform(0, 2); n > 0 && last <= suffix_min[i]; --n) {
        int64_t at = uniform(last, suffix_min[i]);
        // A tick may be refused (cancelled clock); it changes nothing then.
        (void)incremental.ApplyInPlace(In::AdvanceTo(AtMinute(at)), business,
                                       &incremental_facts);
        last = at;
        ++ticks;
      }
      if (uniform(0, 4) == 0) {
        absl::StatusOr<SlaClock> decoded =
            SlaClock::FromProto(incremental.ToProto());
        ASSERT_TRUE(decoded.ok()) << decoded.status();
        incremental = *std::move(decoded);
        ++round_trips;
      }
      absl::Status a = scratch.ApplyInPlace(input, business, &scratch_facts);
      absl::Status b =
          incremental.ApplyInPlace(input, business, &incremental_facts);
      ASSERT_EQ(a.code(), b.code()) << a << " vs " << b;
      if (a.ok()) {
        accepted.push_back({input, static_cast<int64_t>(i)});
        last = std::max(last, c.inputs[i].at);
      }
    }
    // The scratch fold of the accepted events, shuffled, before the final
    // advance.
    std::vector<SequencedClockInput> shuffled = accepted;
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    absl::StatusOr<SlaTransition> replayed =
        Replay(NewClock(c), shuffled, business);
    ASSERT_TRUE(replayed.ok()) << replayed.status();
    ASSERT_EQ(Bytes(replayed->clock), Bytes(scratch)) << "case " << k;

    const In end = In::AdvanceTo(AtMinute(last + uniform(0, 3000)));
    absl::Status a = scratch.ApplyInPlace(end, business, &scratch_facts);
    absl::Status b =
        incremental.ApplyInPlace(end, business, &incremental_facts);
    ASSERT_EQ(a.code(), b.code());
    ASSERT_EQ(Bytes(incremental), Bytes(scratch))
        << "case " << k << "\n"
        << Describe(c, c.inputs.size()) << incremental.ToProto().DebugString()
        << "\nvs\n"
        << scratch.ToProto().DebugString();
    ASSERT_EQ(incremental_facts, scratch_facts) << "case " << k;
  }
  std::cout << ticks << " ticks, " << round_trips << " storage round trips\n";
}

}  // namespace
}  // namespace slate
