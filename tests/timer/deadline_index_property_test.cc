// Randomized comparison of DeadlineIndex against a slow obvious oracle (a
// std::set of (due, key, handle) plus a handle -> (due, key) map). Every step
// applies one random operation to both and compares the answer;
// CheckInvariants runs after every step (or every `check_every` steps for the
// large-population case). Seeds are fixed and printed; a failure names the
// seed and step.
//
// Handles: the index issues them, the oracle records them. Operations use
// live handles, stale ones (cancelled or popped earlier, usually with their
// node reused since) and made-up values; the test checks that no handle is
// ever issued twice and that stale handles whose node is live again were
// really tried. Keys come from a small space, so equal (due, key) pairs occur
// and the handle tie-break is compared too.
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
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
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
  size_t max_live;     // at this many entries, schedules become cancels
  Horizon horizon;
  int check_every;
  int64_t max_step_us = 0;  // 0: the horizon's default "now" step
  // DeadlineIndexOptions::rebase_min_side: 0 keeps most entries in the wheel
  // (rebase as soon as the side set holds half); the default keeps small
  // populations mostly in the side set.
  size_t rebase_min_side = 0;
  // Chance that a pop uses an infinite "now" (the future one drains the
  // index, so the large-population cases turn it off).
  double infinite_now_chance = 0.002;
};

// gtest names the parameter by its case name instead of dumping bytes.
void PrintTo(const Config& c, std::ostream* os) { *os << c.name; }

class Oracle {
 public:
  void Schedule(DeadlineHandle h, uint64_t key, int64_t due) {
    by_handle_[h.bits()] = {due, key};
    set_.insert({due, key, h.bits()});
  }
  bool Reschedule(DeadlineHandle h, int64_t due) {
    auto it = by_handle_.find(h.bits());
    if (it == by_handle_.end()) return false;
    set_.erase({it->second.first, it->second.second, h.bits()});
    it->second.first = due;
    set_.insert({due, it->second.second, h.bits()});
    return true;
  }
  bool Cancel(DeadlineHandle h) {
    auto it = by_handle_.find(h.bits());
    if (it == by_handle_.end()) return false;
    set_.erase({it->second.first, it->second.second, h.bits()});
    by_handle_.erase(it);
    return true;
  }
  // Entries with due <= now (now as floor microseconds; has_now false: none).
  std::vector<DueEntry> Pop(bool has_now, int64_t now) {
    std::vector<DueEntry> out;
    while (has_now && !set_.empty() && std::get<0>(*set_.begin()) <= now) {
      out.push_back(ToEntry(*set_.begin()));
      by_handle_.erase(std::get<2>(*set_.begin()));
      set_.erase(set_.begin());
    }
    return out;
  }
  std::vector<DueEntry> AtRisk(bool has_limit, int64_t limit, size_t top_n,
                               uint64_t key_mod) const {
    std::vector<DueEntry> out;
    if (!has_limit) return out;
    for (const Item& item : set_) {
      if (std::get<0>(item) > limit || out.size() >= top_n) break;
      if (std::get<1>(item) % key_mod == 0) out.push_back(ToEntry(item));
    }
    return out;
  }
  std::optional<absl::Time> NextDue() const {
    if (set_.empty()) return std::nullopt;
    return absl::FromUnixMicros(std::get<0>(*set_.begin()));
  }
  std::optional<absl::Time> DueOf(DeadlineHandle h) const {
    auto it = by_handle_.find(h.bits());
    if (it == by_handle_.end()) return std::nullopt;
    return absl::FromUnixMicros(it->second.first);
  }
  bool Contains(DeadlineHandle h) const {
    return by_handle_.contains(h.bits());
  }
  size_t size() const { return set_.size(); }

 private:
  using Item = std::tuple<int64_t, uint64_t, uint64_t>;  // due, key, handle
  static DueEntry ToEntry(const Item& item) {
    return DueEntry{std::get<1>(item), absl::FromUnixMicros(std::get<0>(item)),
                    DeadlineHandle::FromBits(std::get<2>(item))};
  }
  std::map<uint64_t, std::pair<int64_t, uint64_t>> by_handle_;
  std::set<Item> set_;
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
         std::to_string(absl::ToUnixMicros(e.due)) + ", h" +
         std::to_string(e.handle.bits() >> 32) + "." +
         std::to_string(e.handle.bits() & 0xffffffffu) + "} ";
  }
  return s + "]";
}

// Live handles in a vector for uniform picking (swap-remove), dead handles
// in a bounded ring.
class HandlePool {
 public:
  void AddLive(DeadlineHandle h) {
    pos_[h.bits()] = live_.size();
    live_.push_back(h);
  }
  void Kill(DeadlineHandle h) {
    auto it = pos_.find(h.bits());
    if (it == pos_.end()) return;
    const size_t p = it->second;
    pos_.erase(it);
    if (p + 1 != live_.size()) {
      live_[p] = live_.back();
      pos_[live_[p].bits()] = p;
    }
    live_.pop_back();
    if (dead_.size() < kDeadRing) {
      dead_.push_back(h);
    } else {
      dead_[next_dead_++ % kDeadRing] = h;
    }
  }
  const std::vector<DeadlineHandle>& live() const { return live_; }
  const std::vector<DeadlineHandle>& dead() const { return dead_; }

 private:
  static constexpr size_t kDeadRing = 512;
  std::vector<DeadlineHandle> live_;
  absl::flat_hash_map<uint64_t, size_t> pos_;
  std::vector<DeadlineHandle> dead_;
  size_t next_dead_ = 0;
};

class Runner {
 public:
  explicit Runner(const Config& c)
      : c_(c),
        rng_(c.seed),
        index_(DeadlineIndexOptions{.rebase_min_side = c.rebase_min_side}) {}

  void Run() {
    std::cout << "[property] " << c_.name << " seed=0x" << std::hex << c_.seed
              << std::dec << " steps=" << c_.steps << " keys=" << c_.key_space
              << " max_live=" << c_.max_live << "\n";
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
    const std::vector<DueEntry> drained = index_.PopDue(absl::InfiniteFuture());
    const std::vector<DueEntry> want = oracle_.Pop(true, kMaxUs);
    ASSERT_TRUE(drained == want)
        << Where() << Describe(drained) << " vs " << Describe(want);
    ASSERT_EQ(index_.Size(), 0u);
    ASSERT_TRUE(index_.CheckInvariants().ok());
    std::cout << "[property] " << c_.name << " popped " << popped_total
              << " entries, max live " << max_size << ", issued "
              << issued_.size() << " handles (" << reused_ << " on reused "
              << "nodes), " << stale_probes_ << " stale-handle probes ("
              << stale_on_live_node_ << " on a live node)\n";
    // The large-population case must really be large.
    if (c_.max_live >= 10'000) {
      EXPECT_GT(max_size, c_.max_live / 2);
    }
    // The test must have exercised popping, node reuse and stale handles
    // naming a node that is live again under a new generation.
    EXPECT_GT(popped_total, static_cast<size_t>(c_.steps / 50));
    EXPECT_GT(reused_, issued_.size() / 4);
    EXPECT_GT(stale_on_live_node_, static_cast<size_t>(c_.steps / 100));
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

  // A handle to operate on: live (60%), stale (30%) or made up (10%).
  DeadlineHandle PickHandle() {
    const std::vector<DeadlineHandle>& live = pool_.live();
    const std::vector<DeadlineHandle>& dead = pool_.dead();
    const int kind = static_cast<int>(Uniform(0, 9));
    if (kind < 6 && !live.empty()) {
      return live[static_cast<size_t>(
          Uniform(0, static_cast<int64_t>(live.size()) - 1))];
    }
    if (kind < 9 && !dead.empty()) {
      const DeadlineHandle h = dead[static_cast<size_t>(
          Uniform(0, static_cast<int64_t>(dead.size()) - 1))];
      ++stale_probes_;
      if (live_nodes_.contains(h.bits() >> 32)) ++stale_on_live_node_;
      return h;
    }
    switch (Uniform(0, 3)) {
      case 0:
        return DeadlineHandle();
      case 1:  // a known node index, any generation
        return DeadlineHandle::FromBits(
            static_cast<uint64_t>(Uniform(0, max_node_ + 1)) << 32 |
            static_cast<uint64_t>(Uniform(0, 7)));
      case 2:
        return DeadlineHandle::FromBits(static_cast<uint64_t>(
            Uniform(std::numeric_limits<int64_t>::min(), kMaxUs)));
      default:
        return DeadlineHandle::FromBits(~uint64_t{0});
    }
  }

  // Records a newly issued handle; fails if it was ever issued before.
  void Issued(DeadlineHandle h, uint64_t key, int64_t due) {
    ASSERT_FALSE(h.is_null()) << Where();
    ASSERT_TRUE(issued_.insert(h.bits()).second)
        << Where() << "handle issued twice: " << h.bits();
    const int64_t node = static_cast<int64_t>(h.bits() >> 32);
    if (node <= max_node_ && seen_any_) ++reused_;
    if (!seen_any_ || node > max_node_) max_node_ = node;
    seen_any_ = true;
    ASSERT_TRUE(live_nodes_.insert(node).second)
        << Where() << "node " << node << " issued while live";
    oracle_.Schedule(h, key, due);
    pool_.AddLive(h);
  }
  void Died(DeadlineHandle h) {
    live_nodes_.erase(h.bits() >> 32);
    pool_.Kill(h);
  }

  void Step(size_t* popped_total) {
    const int op = static_cast<int>(Uniform(0, 99));
    const uint64_t key = static_cast<uint64_t>(
        Uniform(0, static_cast<int64_t>(c_.key_space) - 1));
    if (op < 30 && index_.Size() < c_.max_live) {  // schedule a new entry
      const int64_t due = RandomDue();
      absl::StatusOr<DeadlineHandle> h =
          index_.Schedule(key, absl::FromUnixMicros(due));
      ASSERT_TRUE(h.ok()) << Where() << due << " " << h.status();
      Issued(*h, key, due);
    } else if (op < 30 || (op >= 45 && op < 60)) {
      // cancel: a random handle, or a live one when the index is full
      const std::vector<DeadlineHandle>& live = pool_.live();
      const DeadlineHandle h =
          op < 30 ? live[static_cast<size_t>(
                        Uniform(0, static_cast<int64_t>(live.size()) - 1))]
                  : PickHandle();
      const bool want = oracle_.Cancel(h);
      ASSERT_EQ(index_.Cancel(h), want) << Where() << h.bits();
      if (want) Died(h);
    } else if (op < 45) {  // reschedule: live, stale or made-up handle
      const DeadlineHandle h = PickHandle();
      const int64_t due = RandomDue();
      absl::Status s = index_.Reschedule(h, absl::FromUnixMicros(due));
      const bool live = oracle_.Reschedule(h, due);
      ASSERT_EQ(s.code(),
                live ? absl::StatusCode::kOk : absl::StatusCode::kNotFound)
          << Where() << s;
    } else if (op < 62) {  // invalid schedule or reschedule: nothing changes
      const absl::Time bad =
          Chance(0.5) ? absl::FromUnixMicros(now_) + absl::Nanoseconds(500)
                      : absl::InfiniteFuture();
      if (Chance(0.5)) {
        ASSERT_EQ(index_.Schedule(key, bad).status().code(),
                  absl::StatusCode::kInvalidArgument)
            << Where();
      } else {
        const DeadlineHandle h = PickHandle();
        ASSERT_EQ(index_.Reschedule(h, bad).code(),
                  absl::StatusCode::kInvalidArgument)
            << Where();
        ASSERT_EQ(index_.DueOf(h), oracle_.DueOf(h)) << Where();
      }
      ASSERT_EQ(index_.Size(), oracle_.size()) << Where();
    } else if (op < 84) {  // advance now (sometimes backwards) and pop
      absl::Time now;
      if (Chance(c_.infinite_now_chance)) {
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
      // (Describe only on failure: it dominated the run time.)
      ASSERT_TRUE(got == want)
          << Where() << Describe(got) << " vs " << Describe(want);
      for (const DueEntry& e : got) Died(e.handle);
      *popped_total += got.size();
    } else if (op < 92) {
      ASSERT_EQ(index_.NextDue(), oracle_.NextDue()) << Where();
    } else if (op < 97) {
      const DeadlineHandle h = PickHandle();
      ASSERT_EQ(index_.DueOf(h), oracle_.DueOf(h)) << Where() << h.bits();
      ASSERT_EQ(index_.Contains(h), oracle_.Contains(h)) << Where();
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
      const std::vector<DueEntry> want =
          oracle_.AtRisk(has_limit, limit_us, top_n, mod);
      ASSERT_TRUE(got == want)
          << Where() << Describe(got) << " vs " << Describe(want);
    }
  }

  Config c_;
  std::mt19937_64 rng_;
  DeadlineIndex index_;
  Oracle oracle_;
  HandlePool pool_;
  absl::flat_hash_set<uint64_t> issued_;      // every handle ever issued
  absl::flat_hash_set<uint64_t> live_nodes_;  // node indices of live handles
  int64_t max_node_ = 0;
  bool seen_any_ = false;
  size_t reused_ = 0;  // handles issued on a node index issued before
  size_t stale_probes_ = 0;
  size_t stale_on_live_node_ = 0;  // stale handle whose node is live again
  int64_t now_ = 0;
  int step_ = 0;
};

class DeadlineIndexPropertyTest : public ::testing::TestWithParam<Config> {};

TEST_P(DeadlineIndexPropertyTest, MatchesOracle) { Runner(GetParam()).Run(); }

constexpr size_t kDefaultRebase = DeadlineIndexOptions().rebase_min_side;

INSTANTIATE_TEST_SUITE_P(
    Horizons, DeadlineIndexPropertyTest,
    ::testing::Values(
        Config{"short_ties", 0x5EED0001, 400'000, 16, 64, Horizon::kShort, 1},
        Config{"short_ties_side", 0x5EED0011, 200'000, 16, 64, Horizon::kShort,
               1, 0, kDefaultRebase},
        Config{"sla_minutes_to_30_days", 0x5EED0002, 400'000, 64, 256,
               Horizon::kSla, 1},
        Config{"sla_side", 0x5EED0012, 200'000, 64, 256, Horizon::kSla, 1, 0,
               kDefaultRebase},
        Config{"years_apart", 0x5EED0003, 300'000, 32, 128, Horizon::kYears, 1},
        Config{"full_int64_range", 0x5EED0004, 300'000, 32, 128,
               Horizon::kFullRange, 1},
        Config{"mixed", 0x5EED0005, 400'000, 24, 96, Horizon::kMixed, 1},
        Config{"mixed_side", 0x5EED0015, 200'000, 24, 96, Horizon::kMixed, 1, 0,
               kDefaultRebase},
        Config{"sla_large_population", 0x5EED0006, 200'000, 5'000, 20'000,
               Horizon::kSla, 5'000, 10'000'000, 0, 0.0},
        Config{"sla_large_population_side", 0x5EED0016, 200'000, 5'000, 20'000,
               Horizon::kSla, 5'000, 10'000'000, kDefaultRebase, 0.0}),
    [](const ::testing::TestParamInfo<Config>& info) {
      return std::string(info.param.name);
    });

}  // namespace
}  // namespace slate
