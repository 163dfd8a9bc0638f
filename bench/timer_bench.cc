// DeadlineIndex (lib/timer) against std::priority_queue baselines with lazy
// deletion, and against an absl::btree_set alternative, in one binary.
//
//   bazel run --config=bench //bench:timer_bench --
//     --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
//   (one command line; bench/RESULTS.md has the exact commands)
//
// Workload: 1,000,000 live deadlines spread uniformly over now + [1 minute,
// 30 days] at microsecond resolution (pseudo-random, fixed seed), 64-bit
// keys. Every implementation has the same interface: Schedule(key, due)
// returns a handle, Cancel(handle) removes that entry.
//
//   BM_<Impl>_ScheduleCancel/<live> Schedule a new key, then cancel it: one
//                                  schedule+cancel pair per iteration, with
//                                  <live> (1M; 10k) other live entries.
//   BM_<Impl>_ScheduleCancelChurn  Schedule a new key and cancel the oldest
//                                  live entry (random position in time, its
//                                  handle kept in a ring): steady 1M live,
//                                  every cancel touches cold memory.
//   BM_<Impl>_PopDue/<step_s>      Advance now by step_s seconds, pop what is
//                                  due, re-schedule every popped key at now +
//                                  [1 min, 30 days] (a clock moving to its next
//                                  threshold), then ask NextDue. items = popped
//                                  entries.
//   BM_<Impl>_Memory/<n>           Schedule n entries into a fresh index;
//                                  report the index's own bytes per entry and
//                                  the process peak RSS (VmHWM, reset first via
//                                  /proc/self/clear_refs). Run each alone:
//                                  --benchmark_filter=BM_Timer_Memory/1000000
//
// <Impl>: Timer = DeadlineIndex (handles index its node array directly);
// TimerBaseline = std::priority_queue of (due, key, seq) + flat_hash_map key
// -> seq, handle = key, cancel = erase from the map (lazy), compaction when
// stale entries outnumber live ones (the baseline of the first measurement);
// TimerBaselineDense = the same priority_queue with dense handles instead of
// the hash map (handle = slot index + generation in a vector, freed slots
// reused; a heap item is stale when its generation no longer matches), so
// the comparison is not won by the hash map alone; TimerBtree =
// absl::btree_set<(due, key)> + flat_hash_map key -> due (an equivalent
// ordered structure). BM_TimerFloor_HashMapInsertErase/<live>: the
// flat_hash_map insert+erase of a new key alone, the floor under every
// key-addressed (hash map) implementation's schedule+cancel pair.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <queue>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "lib/timer/deadline_index.h"

namespace slate {
namespace {

constexpr uint64_t kLive = 1'000'000;
constexpr size_t kOffsetsMask = (1 << 20) - 1;
const absl::Time kEpoch = absl::FromUnixSeconds(1'700'000'000);

// Deadline offsets from "now": uniform over [1 minute, 30 days] in whole
// microseconds, fixed seed.
const std::vector<absl::Duration>& Offsets() {
  static const std::vector<absl::Duration>* offsets = [] {
    auto* v = new std::vector<absl::Duration>(kOffsetsMask + 1);
    std::mt19937_64 rng(42);
    std::uniform_int_distribution<int64_t> dist(60'000'000,
                                                30LL * 86'400'000'000);
    for (absl::Duration& d : *v) d = absl::Microseconds(dist(rng));
    return v;
  }();
  return *offsets;
}

// --- Baseline: std::priority_queue with lazy deletion. --------------------
class PqBaseline {
 public:
  using Handle = uint64_t;  // the key
  Handle Schedule(uint64_t key, absl::Time due) {
    const int64_t us = absl::ToUnixMicros(due);
    const uint64_t seq = next_seq_++;
    live_[key] = seq;
    heap_.push(Item{us, key, seq});
    if (heap_.size() > 2 * live_.size() + 1024) Compact();
    return key;
  }
  bool Cancel(uint64_t key) { return live_.erase(key) > 0; }
  size_t PopDue(absl::Time now, std::vector<DueEntry>* out) {
    const int64_t now_us = absl::ToUnixMicros(now);
    size_t n = 0;
    while (!heap_.empty() && heap_.top().due <= now_us) {
      const Item item = heap_.top();
      heap_.pop();
      auto it = live_.find(item.key);
      if (it == live_.end() || it->second != item.seq) continue;  // stale
      live_.erase(it);
      out->push_back(
          DueEntry{item.key, absl::FromUnixMicros(item.due), DeadlineHandle()});
      ++n;
    }
    return n;
  }
  std::optional<absl::Time> NextDue() {
    while (!heap_.empty()) {
      auto it = live_.find(heap_.top().key);
      if (it != live_.end() && it->second == heap_.top().seq) {
        return absl::FromUnixMicros(heap_.top().due);
      }
      heap_.pop();
    }
    return std::nullopt;
  }
  size_t Size() const { return live_.size(); }
  size_t MemoryBytes() const {
    return heap_.capacity_bytes() +
           live_.bucket_count() *
               (sizeof(std::pair<const uint64_t, uint64_t>) + 1);
  }

 private:
  struct Item {
    int64_t due;
    uint64_t key;
    uint64_t seq;
  };
  struct Later {  // min-heap on (due, key)
    bool operator()(const Item& a, const Item& b) const {
      return a.due != b.due ? a.due > b.due : a.key > b.key;
    }
  };
  struct Heap : std::priority_queue<Item, std::vector<Item>, Later> {
    size_t capacity_bytes() const { return c.capacity() * sizeof(Item); }
    template <class Live>
    void Compact(const Live& live) {
      std::erase_if(c, [&](const Item& i) {
        auto it = live.find(i.key);
        return it == live.end() || it->second != i.seq;
      });
      std::make_heap(c.begin(), c.end(), comp);
    }
  };
  void Compact() { heap_.Compact(live_); }

  Heap heap_;
  absl::flat_hash_map<uint64_t, uint64_t> live_;  // key -> seq of its entry
  uint64_t next_seq_ = 0;
};

// --- Baseline: std::priority_queue with lazy deletion, dense handles. ------
class PqDenseBaseline {
 public:
  struct Handle {
    uint32_t slot = 0;
    uint32_t gen = 0;
  };
  Handle Schedule(uint64_t key, absl::Time due) {
    const int64_t us = absl::ToUnixMicros(due);
    uint32_t slot;
    if (!free_.empty()) {
      slot = free_.back();
      free_.pop_back();
    } else {
      slot = static_cast<uint32_t>(gen_.size());
      gen_.push_back(0);
    }
    const uint32_t gen = ++gen_[slot];  // odd: live
    heap_.push(Item{us, key, slot, gen});
    ++live_;
    if (heap_.size() > 2 * live_ + 1024) heap_.Compact(gen_);
    return Handle{slot, gen};
  }
  bool Cancel(Handle h) {
    if (h.slot >= gen_.size() || gen_[h.slot] != h.gen || !(h.gen & 1)) {
      return false;
    }
    Release(h.slot);
    return true;
  }
  size_t PopDue(absl::Time now, std::vector<DueEntry>* out) {
    const int64_t now_us = absl::ToUnixMicros(now);
    size_t n = 0;
    while (!heap_.empty() && heap_.top().due <= now_us) {
      const Item item = heap_.top();
      heap_.pop();
      if (gen_[item.slot] != item.gen) continue;  // stale
      Release(item.slot);
      out->push_back(
          DueEntry{item.key, absl::FromUnixMicros(item.due), DeadlineHandle()});
      ++n;
    }
    return n;
  }
  std::optional<absl::Time> NextDue() {
    while (!heap_.empty()) {
      if (gen_[heap_.top().slot] == heap_.top().gen) {
        return absl::FromUnixMicros(heap_.top().due);
      }
      heap_.pop();
    }
    return std::nullopt;
  }
  size_t Size() const { return live_; }
  size_t MemoryBytes() const {
    return heap_.capacity_bytes() + gen_.capacity() * sizeof(uint32_t) +
           free_.capacity() * sizeof(uint32_t);
  }

 private:
  struct Item {
    int64_t due;
    uint64_t key;
    uint32_t slot;
    uint32_t gen;
  };
  struct Later {  // min-heap on (due, key, slot)
    bool operator()(const Item& a, const Item& b) const {
      if (a.due != b.due) return a.due > b.due;
      if (a.key != b.key) return a.key > b.key;
      return a.slot > b.slot;
    }
  };
  struct Heap : std::priority_queue<Item, std::vector<Item>, Later> {
    size_t capacity_bytes() const { return c.capacity() * sizeof(Item); }
    void Compact(const std::vector<uint32_t>& gen) {
      std::erase_if(c, [&](const Item& i) { return gen[i.slot] != i.gen; });
      std::make_heap(c.begin(), c.end(), comp);
    }
  };
  void Release(uint32_t slot) {
    ++gen_[slot];  // even: free; stale heap items no longer match
    free_.push_back(slot);
    --live_;
  }

  Heap heap_;
  std::vector<uint32_t> gen_;   // per slot; odd while live
  std::vector<uint32_t> free_;  // free slots, last freed first
  size_t live_ = 0;
};

// --- Alternative: ordered set. --------------------------------------------
class BtreeIndex {
 public:
  using Handle = uint64_t;  // the key
  Handle Schedule(uint64_t key, absl::Time due) {
    const int64_t us = absl::ToUnixMicros(due);
    auto [it, inserted] = due_.try_emplace(key, us);
    if (!inserted) {
      set_.erase({it->second, key});
      it->second = us;
    }
    set_.insert({us, key});
    return key;
  }
  bool Cancel(uint64_t key) {
    auto it = due_.find(key);
    if (it == due_.end()) return false;
    set_.erase({it->second, key});
    due_.erase(it);
    return true;
  }
  size_t PopDue(absl::Time now, std::vector<DueEntry>* out) {
    const int64_t now_us = absl::ToUnixMicros(now);
    auto end = set_.begin();
    size_t n = 0;
    for (; end != set_.end() && end->first <= now_us; ++end, ++n) {
      out->push_back(DueEntry{end->second, absl::FromUnixMicros(end->first),
                              DeadlineHandle()});
      due_.erase(end->second);
    }
    set_.erase(set_.begin(), end);
    return n;
  }
  std::optional<absl::Time> NextDue() const {
    if (set_.empty()) return std::nullopt;
    return absl::FromUnixMicros(set_.begin()->first);
  }
  size_t Size() const { return due_.size(); }
  size_t MemoryBytes() const {
    // btree: payload plus about 1/3 node overhead (estimate).
    return set_.size() * sizeof(std::pair<int64_t, uint64_t>) * 4 / 3 +
           due_.bucket_count() *
               (sizeof(std::pair<const uint64_t, int64_t>) + 1);
  }

 private:
  absl::btree_set<std::pair<int64_t, uint64_t>> set_;
  absl::flat_hash_map<uint64_t, int64_t> due_;
};

// DeadlineIndex behind the same interface (Schedule returns a StatusOr).
class WheelIndex {
 public:
  using Handle = DeadlineHandle;
  Handle Schedule(uint64_t key, absl::Time due) {
    absl::StatusOr<DeadlineHandle> h = index_.Schedule(key, due);
    if (!h.ok()) std::abort();
    return *h;
  }
  bool Cancel(Handle h) { return index_.Cancel(h); }
  size_t PopDue(absl::Time now, std::vector<DueEntry>* out) {
    return index_.PopDue(now, out);
  }
  std::optional<absl::Time> NextDue() { return index_.NextDue(); }
  size_t Size() const { return index_.Size(); }
  size_t MemoryBytes() const { return index_.MemoryBytes(); }

 private:
  DeadlineIndex index_;
};

// Schedules keys 0..n-1; their handles go to *handles when given.
template <class Index>
void Fill(Index& index, uint64_t n, absl::Time now,
          std::vector<typename Index::Handle>* handles = nullptr) {
  const std::vector<absl::Duration>& off = Offsets();
  for (uint64_t k = 0; k < n; ++k) {
    auto h = index.Schedule(k, now + off[(k * 7919) & kOffsetsMask]);
    if (handles != nullptr) handles->push_back(h);
  }
}

template <class Index>
void ScheduleCancel(benchmark::State& state) {
  const uint64_t live = static_cast<uint64_t>(state.range(0));
  Index index;
  Fill(index, live, kEpoch);
  const std::vector<absl::Duration>& off = Offsets();
  uint64_t key = live;
  for (auto _ : state) {
    auto h = index.Schedule(key, kEpoch + off[key & kOffsetsMask]);
    benchmark::DoNotOptimize(index.Cancel(h));
    ++key;
  }
  state.SetItemsProcessed(state.iterations());  // schedule+cancel pairs
  state.counters["live"] = static_cast<double>(index.Size());
}

template <class Index>
void ScheduleCancelChurn(benchmark::State& state) {
  Index index;
  // ring[k % kLive]: the handle of the live entry with key k.
  std::vector<typename Index::Handle> ring;
  ring.reserve(kLive);
  Fill(index, kLive, kEpoch, &ring);
  const std::vector<absl::Duration>& off = Offsets();
  uint64_t oldest = 0;
  for (auto _ : state) {
    const uint64_t key = oldest + kLive;
    auto h = index.Schedule(key, kEpoch + off[(key * 7919) & kOffsetsMask]);
    auto& slot = ring[oldest % kLive];
    benchmark::DoNotOptimize(index.Cancel(slot));
    slot = h;
    ++oldest;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["live"] = static_cast<double>(index.Size());
}

template <class Index>
void PopDue(benchmark::State& state) {
  const absl::Duration step = absl::Seconds(state.range(0));
  Index index;
  Fill(index, kLive, kEpoch);
  const std::vector<absl::Duration>& off = Offsets();
  absl::Time now = kEpoch;
  std::vector<DueEntry> out;
  uint64_t popped = 0, i = 0;
  for (auto _ : state) {
    now += step;
    out.clear();
    index.PopDue(now, &out);
    for (const DueEntry& e : out) {
      index.Schedule(e.key, now + off[i++ & kOffsetsMask]);
    }
    popped += out.size();
    benchmark::DoNotOptimize(index.NextDue());
  }
  state.SetItemsProcessed(static_cast<int64_t>(popped));
  state.counters["popped_per_call"] =
      static_cast<double>(popped) / static_cast<double>(state.iterations());
  state.counters["calls_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["live"] = static_cast<double>(index.Size());
}

// Kilobytes of a /proc/self/status field, -1 if missing.
int64_t StatusKb(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) {
      return std::stoll(line.substr(field.size() + 1));
    }
  }
  return -1;
}

template <class Index>
void Memory(benchmark::State& state) {
  const uint64_t n = static_cast<uint64_t>(state.range(0));
  Offsets();  // allocate the shared offsets before measuring
  { std::ofstream("/proc/self/clear_refs") << "5"; }  // reset VmHWM
  const int64_t rss_before = StatusKb("VmRSS");
  double index_bytes = 0, hwm_kb = 0;
  for (auto _ : state) {
    Index index;
    Fill(index, n, kEpoch);
    index_bytes = static_cast<double>(index.MemoryBytes());
    hwm_kb = static_cast<double>(StatusKb("VmHWM"));
    benchmark::DoNotOptimize(index.Size());
  }
  state.counters["index_bytes_per_entry"] = index_bytes / n;
  state.counters["peak_rss_MiB"] = hwm_kb / 1024;
  state.counters["rss_before_MiB"] = static_cast<double>(rss_before) / 1024;
  state.counters["peak_rss_growth_bytes_per_entry"] =
      (hwm_kb - static_cast<double>(rss_before)) * 1024 / n;
}

// Floor of the key-addressed implementations: only the key -> entry hash map
// work of a schedule+cancel pair (insert a new key, erase it) with <live>
// other keys, no deadline at all. DeadlineIndex no longer pays it.
void BM_TimerFloor_HashMapInsertErase(benchmark::State& state) {
  const uint64_t live = static_cast<uint64_t>(state.range(0));
  absl::flat_hash_map<uint64_t, uint32_t> map;
  for (uint64_t k = 0; k < live; ++k) map[k] = static_cast<uint32_t>(k);
  uint64_t key = live;
  for (auto _ : state) {
    map.try_emplace(key, 1u);
    benchmark::DoNotOptimize(map.erase(key));
    ++key;
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Timer_ScheduleCancel(benchmark::State& s) {
  ScheduleCancel<WheelIndex>(s);
}
void BM_TimerBaseline_ScheduleCancel(benchmark::State& s) {
  ScheduleCancel<PqBaseline>(s);
}
void BM_TimerBaselineDense_ScheduleCancel(benchmark::State& s) {
  ScheduleCancel<PqDenseBaseline>(s);
}
void BM_TimerBtree_ScheduleCancel(benchmark::State& s) {
  ScheduleCancel<BtreeIndex>(s);
}
void BM_Timer_ScheduleCancelChurn(benchmark::State& s) {
  ScheduleCancelChurn<WheelIndex>(s);
}
void BM_TimerBaseline_ScheduleCancelChurn(benchmark::State& s) {
  ScheduleCancelChurn<PqBaseline>(s);
}
void BM_TimerBaselineDense_ScheduleCancelChurn(benchmark::State& s) {
  ScheduleCancelChurn<PqDenseBaseline>(s);
}
void BM_TimerBtree_ScheduleCancelChurn(benchmark::State& s) {
  ScheduleCancelChurn<BtreeIndex>(s);
}
void BM_Timer_PopDue(benchmark::State& s) { PopDue<WheelIndex>(s); }
void BM_TimerBaseline_PopDue(benchmark::State& s) { PopDue<PqBaseline>(s); }
void BM_TimerBaselineDense_PopDue(benchmark::State& s) {
  PopDue<PqDenseBaseline>(s);
}
void BM_TimerBtree_PopDue(benchmark::State& s) { PopDue<BtreeIndex>(s); }
void BM_Timer_Memory(benchmark::State& s) { Memory<WheelIndex>(s); }
void BM_TimerBaseline_Memory(benchmark::State& s) { Memory<PqBaseline>(s); }
void BM_TimerBaselineDense_Memory(benchmark::State& s) {
  Memory<PqDenseBaseline>(s);
}
void BM_TimerBtree_Memory(benchmark::State& s) { Memory<BtreeIndex>(s); }

// Arg: live entries besides the scheduled-and-cancelled key (10k: fits in
// cache, isolates the structure's own cost from cache misses).
BENCHMARK(BM_TimerFloor_HashMapInsertErase)->Arg(kLive)->Arg(10'000);
BENCHMARK(BM_Timer_ScheduleCancel)->Arg(kLive)->Arg(10'000);
BENCHMARK(BM_TimerBaseline_ScheduleCancel)->Arg(kLive)->Arg(10'000);
BENCHMARK(BM_TimerBaselineDense_ScheduleCancel)->Arg(kLive)->Arg(10'000);
BENCHMARK(BM_TimerBtree_ScheduleCancel)->Arg(kLive)->Arg(10'000);
BENCHMARK(BM_Timer_ScheduleCancelChurn);
BENCHMARK(BM_TimerBaseline_ScheduleCancelChurn);
BENCHMARK(BM_TimerBaselineDense_ScheduleCancelChurn);
BENCHMARK(BM_TimerBtree_ScheduleCancelChurn);
// PopDue: a fixed number of calls per step size, so every implementation
// simulates the same span of time (11.6, 13.9 and 12.5 days) and pops the
// same entries.
BENCHMARK(BM_Timer_PopDue)->Arg(1)->Iterations(1'000'000);
BENCHMARK(BM_Timer_PopDue)->Arg(60)->Iterations(20'000);
BENCHMARK(BM_Timer_PopDue)->Arg(3600)->Iterations(300);
BENCHMARK(BM_TimerBaseline_PopDue)->Arg(1)->Iterations(1'000'000);
BENCHMARK(BM_TimerBaseline_PopDue)->Arg(60)->Iterations(20'000);
BENCHMARK(BM_TimerBaseline_PopDue)->Arg(3600)->Iterations(300);
BENCHMARK(BM_TimerBaselineDense_PopDue)->Arg(1)->Iterations(1'000'000);
BENCHMARK(BM_TimerBaselineDense_PopDue)->Arg(60)->Iterations(20'000);
BENCHMARK(BM_TimerBaselineDense_PopDue)->Arg(3600)->Iterations(300);
BENCHMARK(BM_TimerBtree_PopDue)->Arg(1)->Iterations(1'000'000);
BENCHMARK(BM_TimerBtree_PopDue)->Arg(60)->Iterations(20'000);
BENCHMARK(BM_TimerBtree_PopDue)->Arg(3600)->Iterations(300);
BENCHMARK(BM_Timer_Memory)->Arg(kLive)->Arg(3'000'000)->Iterations(1);
BENCHMARK(BM_TimerBaseline_Memory)->Arg(kLive)->Arg(3'000'000)->Iterations(1);
BENCHMARK(BM_TimerBaselineDense_Memory)
    ->Arg(kLive)
    ->Arg(3'000'000)
    ->Iterations(1);
BENCHMARK(BM_TimerBtree_Memory)->Arg(kLive)->Arg(3'000'000)->Iterations(1);

}  // namespace
}  // namespace slate
