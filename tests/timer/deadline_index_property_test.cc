// Randomized comparison of DeadlineIndex against a slow obvious oracle (a
// std::set of (due, key) plus a key -> due map). Every step applies one
// random operation to both and compares the answer; CheckInvariants runs
// after every step (or every `check_every` steps for the large-population
// case). Seeds are fixed and printed; a failure names the seed and step.
//
// Horizons: microsecond-scale with many ties, SLA-like (minutes to 30 days),
// years apart, the whole int64-microsecond range with its extremes, and a
// mix of all. "now" mostly moves forward, sometimes backwards, and sometimes
// jumps to the infinite instants.
#include <cstdint>
#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "lib/timer/deadline_index.h"

namespace slate {
namespace {

constexpr int64_t kMinUs = std::numeric_limits<int64_t>::min();
constexpr int64_t kMaxUs = std::numeric_limits<int64_t>::max();
constexpr int64_t kMinute = 60'000'000;
constexpr int64_t kDay = 24 * 60 * kMinute;
constexpr int64_t kYear = 365 * kDay;

int64_t SatAdd(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) return b > 0 ? kMaxUs : kMinUs;
  return r;
}

int64_t SatSub(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_sub_overflow(a, b, &r)) return b < 0 ? kMaxUs : kMinUs;
  return r;
}

enum class Horizon { kShort, kSla, kYears, kFullRange, kMixed };

struct Config {
  const char* name;
  uint64_t seed;
  int steps;
  uint64_t key_space;  // keys drawn from [0, key_space)
  Horizon horizon;
  int check_every;
  int64_t max_step_us = 0;  // 0: the horizon's default "now" step
  // DeadlineIndexOptions::rebase_min_side: 0 keeps most entries in the wheel
  // (rebase as soon as the side set holds half); the default keeps small
  // populations mostly in the side set.
  size_t rebase_min_side = 0;
};

// gtest names the parameter by its case name instead of dumping bytes.
void PrintTo(const Config& c, std::ostream* os) { *os << c.name; }

class Oracle {
 public:
  void Schedule(uint64_t key, int64_t due) {
    Cancel(key);
    by_key_[key] = due;
    set_.insert({due, key});
  }
  bool Cancel(uint64_t key) {
    auto it = by_key_.find(key);
    if (it == by_key_.end()) return false;
    set_.erase({it->second, key});
    by_key_.erase(it);
    return true;
  }
  // Entries with due <= now (now as floor microseconds; has_now false: none).
  std::vector<DueEntry> Pop(bool has_now, int64_t now) {
    std::vector<DueEntry> out;
    while (has_now && !set_.empty() && set_.begin()->first <= now) {
      out.push_back(
          {set_.begin()->second, absl::FromUnixMicros(set_.begin()->first)});
      by_key_.erase(set_.begin()->second);
      set_.erase(set_.begin());
    }
    return out;
  }
  std::vector<DueEntry> AtRisk(bool has_limit, int64_t limit, size_t top_n,
                               uint64_t key_mod) const {
    std::vector<DueEntry> out;
    if (!has_limit) return out;
    for (const auto& [due, key] : set_) {
      if (due > limit || out.size() >= top_n) break;
      if (key % key_mod == 0) out.push_back({key, absl::FromUnixMicros(due)});
    }
    return out;
  }
  std::optional<absl::Time> NextDue() const {
    if (set_.empty()) return std::nullopt;
    return absl::FromUnixMicros(set_.begin()->first);
  }
  std::optional<absl::Time> DueOf(uint64_t key) const {
    auto it = by_key_.find(key);
    if (it == by_key_.end()) return std::nullopt;
    return absl::FromUnixMicros(it->second);
  }
  size_t size() const { return set_.size(); }

 private:
  std::map<uint64_t, int64_t> by_key_;
  std::set<std::pair<int64_t, uint64_t>> set_;
};

// Floor microseconds of an instant; false if it precedes every representable
// microsecond.
bool FloorUs(absl::Time t, int64_t* us) {
  *us = absl::ToUnixMicros(t);
  return !(*us == kMinUs && t < absl::FromUnixMicros(kMinUs));
}

std::string Describe(const std::vector<DueEntry>& v) {
  std::string s = "[";
  for (const DueEntry& e : v) {
    s += "{" + std::to_string(e.key) + ", " +
         std::to_string(absl::ToUnixMicros(e.due)) + "} ";
  }
  return s + "]";
}

class Runner {
 public:
  explicit Runner(const Config& c)
      : c_(c),
        rng_(c.seed),
        index_(DeadlineIndexOptions{.rebase_min_side = c.rebase_min_side}) {}

  void Run() {
    std::cout << "[property] " << c_.name << " seed=0x" << std::hex << c_.seed
              << std::dec << " steps=" << c_.steps << " keys=" << c_.key_space
              << "\n";
    now_ = RandomStart();
    size_t popped_total = 0, max_size = 0;
    for (step_ = 0; step_ < c_.steps; ++step_) {
      Step(&popped_total);
      if (::testing::Test::HasFatalFailure()) return;
      max_size = std::max(max_size, index_.Size());
      if (step_ % c_.check_every == 0 || step_ + 1 == c_.steps) {
        absl::Status s = index_.CheckInvariants();
        ASSERT_TRUE(s.ok()) << Where() << s.message();
        ASSERT_EQ(index_.Size(), oracle_.size()) << Where();
      }
    }
    // Drain: everything comes out, in order.
    int64_t dummy;
    ASSERT_TRUE(FloorUs(absl::InfiniteFuture(), &dummy));
    ASSERT_EQ(Describe(index_.PopDue(absl::InfiniteFuture())),
              Describe(oracle_.Pop(true, kMaxUs)))
        << Where();
    ASSERT_EQ(index_.Size(), 0u);
    ASSERT_TRUE(index_.CheckInvariants().ok());
    std::cout << "[property] " << c_.name << " popped " << popped_total
              << " entries, max live " << max_size << "\n";
    // The large-population case must really be large.
    if (c_.key_space >= 10'000) {
      EXPECT_GT(max_size, c_.key_space / 5);
    }
    // The test must have exercised popping.
    EXPECT_GT(popped_total, static_cast<size_t>(c_.steps / 50));
  }

 private:
  std::string Where() const {
    return std::string(c_.name) + " seed=" + std::to_string(c_.seed) +
           " (decimal)" + " step=" + std::to_string(step_) + ": ";
  }

  int64_t Uniform(int64_t lo, int64_t hi) {  // inclusive
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }
  bool Chance(double p) { return std::bernoulli_distribution(p)(rng_); }

  Horizon PickHorizon() {
    if (c_.horizon != Horizon::kMixed) return c_.horizon;
    return static_cast<Horizon>(Uniform(0, 3));
  }

  int64_t RandomStart() {
    switch (c_.horizon) {
      case Horizon::kFullRange:
        return Uniform(kMinUs, kMaxUs);
      default:
        return 1'700'000'000'000'000 + Uniform(-kYear, kYear);
    }
  }

  // A due instant relative to now_.
  int64_t RandomDue() {
    switch (PickHorizon()) {
      case Horizon::kShort:
        // A small grid of instants around now: many exact ties.
        return SatAdd(now_, Uniform(-50, 300) * (Chance(0.5) ? 1 : 17));
      case Horizon::kSla:
        if (Chance(0.1)) return SatAdd(now_, -Uniform(0, kDay));
        return SatAdd(now_, Uniform(kMinute, 30 * kDay));
      case Horizon::kYears:
        return SatAdd(now_, Uniform(-200 * kYear, 2000 * kYear));
      case Horizon::kFullRange:
      case Horizon::kMixed:
        break;
    }
    switch (Uniform(0, 5)) {
      case 0:
        return kMinUs + Uniform(0, 3);
      case 1:
        return kMaxUs - Uniform(0, 3);
      case 2:
        return SatAdd(now_, Uniform(-1000, 1000));
      default:
        return Uniform(kMinUs, kMaxUs);
    }
  }

  int64_t RandomStep() {
    if (c_.max_step_us > 0) return Uniform(0, c_.max_step_us);
    switch (PickHorizon()) {
      case Horizon::kShort:
        return Uniform(0, 40);
      case Horizon::kSla:
        return Uniform(0, 6 * 60 * kMinute);
      case Horizon::kYears:
        return Uniform(0, 50 * kYear);
      default:
        return Chance(0.5) ? Uniform(0, 1000) : Uniform(0, kMaxUs / 4);
    }
  }

  void Step(size_t* popped_total) {
    const int op = static_cast<int>(Uniform(0, 99));
    const uint64_t key = static_cast<uint64_t>(
        Uniform(0, static_cast<int64_t>(c_.key_space) - 1));
    if (op < 45) {  // schedule or re-schedule
      const int64_t due = RandomDue();
      ASSERT_TRUE(index_.Schedule(key, absl::FromUnixMicros(due)).ok())
          << Where() << due;
      oracle_.Schedule(key, due);
    } else if (op < 60) {  // cancel, often of a missing key
      ASSERT_EQ(index_.Cancel(key), oracle_.Cancel(key)) << Where() << key;
    } else if (op < 62) {  // invalid schedule: nothing changes
      const absl::Time bad =
          Chance(0.5) ? absl::FromUnixMicros(now_) + absl::Nanoseconds(500)
                      : absl::InfiniteFuture();
      ASSERT_FALSE(index_.Schedule(key, bad).ok()) << Where();
      ASSERT_EQ(index_.DueOf(key), oracle_.DueOf(key)) << Where();
    } else if (op < 84) {  // advance now (sometimes backwards) and pop
      absl::Time now;
      if (Chance(0.002)) {
        now = Chance(0.5) ? absl::InfiniteFuture() : absl::InfinitePast();
      } else {
        const int64_t step = RandomStep();
        // Over the full range, go back often enough not to stick at the end.
        const bool wide =
            c_.horizon == Horizon::kFullRange || c_.horizon == Horizon::kMixed;
        now_ = SatAdd(now_, Chance(wide ? 0.4 : 0.1) ? -step : step);
        now = absl::FromUnixMicros(now_);
        if (Chance(0.1)) now += absl::Nanoseconds(Uniform(1, 999));
      }
      int64_t now_us;
      const bool has_now = FloorUs(now, &now_us);
      std::vector<DueEntry> got = index_.PopDue(now);
      std::vector<DueEntry> want = oracle_.Pop(has_now, now_us);
      ASSERT_EQ(Describe(got), Describe(want)) << Where();
      *popped_total += got.size();
    } else if (op < 94) {
      ASSERT_EQ(index_.NextDue(), oracle_.NextDue()) << Where();
    } else if (op < 97) {
      ASSERT_EQ(index_.DueOf(key), oracle_.DueOf(key)) << Where();
    } else {  // at-risk query with a filter and a limit
      const absl::Time now = absl::FromUnixMicros(now_);
      const absl::Duration within =
          Chance(0.05) ? absl::InfiniteDuration()
                       : absl::Microseconds(SatSub(RandomDue(), now_));
      const size_t top_n = Chance(0.3) ? DeadlineIndex::kNoLimit
                                       : static_cast<size_t>(Uniform(0, 20));
      const uint64_t mod = static_cast<uint64_t>(Uniform(1, 3));
      int64_t limit_us;
      const bool has_limit = FloorUs(now + within, &limit_us);
      std::vector<DueEntry> got =
          index_.AtRisk(now, within, top_n,
                        [mod](const DueEntry& e) { return e.key % mod == 0; });
      ASSERT_EQ(Describe(got),
                Describe(oracle_.AtRisk(has_limit, limit_us, top_n, mod)))
          << Where();
    }
  }

  Config c_;
  std::mt19937_64 rng_;
  DeadlineIndex index_;
  Oracle oracle_;
  int64_t now_ = 0;
  int step_ = 0;
};

class DeadlineIndexPropertyTest : public ::testing::TestWithParam<Config> {};

TEST_P(DeadlineIndexPropertyTest, MatchesOracle) { Runner(GetParam()).Run(); }

constexpr size_t kDefaultRebase = DeadlineIndexOptions().rebase_min_side;

INSTANTIATE_TEST_SUITE_P(
    Horizons, DeadlineIndexPropertyTest,
    ::testing::Values(
        Config{"short_ties", 0x5EED0001, 400'000, 64, Horizon::kShort, 1},
        Config{"short_ties_side", 0x5EED0011, 200'000, 64, Horizon::kShort, 1,
               0, kDefaultRebase},
        Config{"sla_minutes_to_30_days", 0x5EED0002, 400'000, 256,
               Horizon::kSla, 1},
        Config{"sla_side", 0x5EED0012, 200'000, 256, Horizon::kSla, 1, 0,
               kDefaultRebase},
        Config{"years_apart", 0x5EED0003, 300'000, 128, Horizon::kYears, 1},
        Config{"full_int64_range", 0x5EED0004, 300'000, 128,
               Horizon::kFullRange, 1},
        Config{"mixed", 0x5EED0005, 400'000, 96, Horizon::kMixed, 1},
        Config{"mixed_side", 0x5EED0015, 200'000, 96, Horizon::kMixed, 1, 0,
               kDefaultRebase},
        Config{"sla_large_population", 0x5EED0006, 200'000, 20'000,
               Horizon::kSla, 5'000, 10 * kMinute},
        Config{"sla_large_population_side", 0x5EED0016, 200'000, 20'000,
               Horizon::kSla, 5'000, 10 * kMinute, kDefaultRebase}),
    [](const ::testing::TestParamInfo<Config>& info) {
      return std::string(info.param.name);
    });

}  // namespace
}  // namespace slate
