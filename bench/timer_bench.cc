// DeadlineIndex (lib/timer) against a std::priority_queue baseline with lazy
// deletion, and against an absl::btree_set alternative, in one binary.
//
//   bazel --output_base=/root/.cache/bazel-tim run -c opt //bench:timer_bench
//
// Workload: 1,000,000 live deadlines spread uniformly over now + [1 minute,
// 30 days] at microsecond resolution (pseudo-random, fixed seed), keys are
// 64-bit handles.
//
//   BM_<Impl>_ScheduleCancel/<live> Schedule a new key, then cancel it: one
//                                  schedule+cancel pair per iteration, with
//                                  <live> (1M; 10k) other live entries.
//   BM_<Impl>_ScheduleCancelChurn  Schedule a new key and cancel the oldest
//                                  live key (random position in time): steady
//                                  1M live, every cancel touches cold memory.
//   BM_<Impl>_PopDue/<step_s>      Advance now by step_s seconds, pop what is
//                                  due, re-schedule every popped key at now +
//                                  [1 min, 30 days] (a clock moving to its next
//                                  threshold), then ask NextDue. items = popped
//                                  entries.
//   BM_<Impl>_Memory/<n>           Schedule n entries into a fresh index;
//                                  report the index's own bytes per entry and
//                                  the process peak RSS (VmHWM, reset first via
//                                  /proc/self/clear_refs). Run it alone:
//                                  --benchmark_filter=BM_Timer_Memory
//
// <Impl>: Timer = DeadlineIndex; TimerBaseline = std::priority_queue of
// (due, key, seq) + flat_hash_map key -> seq, cancel = erase from the map
// (lazy), compaction when stale entries outnumber live ones; TimerBtree =
// absl::btree_set<(due, key)> + flat_hash_map key -> due (an equivalent
// ordered structure). BM_TimerFloor_HashMapInsertErase/<live>: the
// flat_hash_map insert+erase of a new key alone, the floor under every
// implementation's schedule+cancel pair.
#include <cstdint>
#include <fstream>
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
  void Schedule(uint64_t key, absl::Time due) {
    const int64_t us = absl::ToUnixMicros(due);
    const uint64_t seq = next_seq_++;
    live_[key] = seq;
    heap_.push(Item{us, key, seq});
    if (heap_.size() > 2 * live_.size() + 1024) Compact();
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
      out->push_back(DueEntry{item.key, absl::FromUnixMicros(item.due)});
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

// --- Alternative: ordered set. --------------------------------------------
class BtreeIndex {
 public:
  void Schedule(uint64_t key, absl::Time due) {
    const int64_t us = absl::ToUnixMicros(due);
    auto [it, inserted] = due_.try_emplace(key, us);
    if (!inserted) {
      set_.erase({it->second, key});
      it->second = us;
    }
    set_.insert({us, key});
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
      out->push_back(DueEntry{end->second, absl::FromUnixMicros(end->first)});
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

// DeadlineIndex behind the same interface (Schedule returns a Status).
class WheelIndex {
 public:
  void Schedule(uint64_t key, absl::Time due) {
    absl::Status s = index_.Schedule(key, due);
    if (!s.ok()) std::abort();
  }
  bool Cancel(uint64_t key) { return index_.Cancel(key); }
  size_t PopDue(absl::Time now, std::vector<DueEntry>* out) {
    return index_.PopDue(now, out);
  }
  std::optional<absl::Time> NextDue() { return index_.NextDue(); }
  size_t Size() const { return index_.Size(); }
  size_t MemoryBytes() const { return index_.MemoryBytes(); }

 private:
  DeadlineIndex index_;
};

template <class Index>
void Fill(Index& index, uint64_t n, absl::Time now) {
  const std::vector<absl::Duration>& off = Offsets();
  for (uint64_t k = 0; k < n; ++k) {
    index.Schedule(k, now + off[(k * 7919) & kOffsetsMask]);
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
    index.Schedule(key, kEpoch + off[key & kOffsetsMask]);
    benchmark::DoNotOptimize(index.Cancel(key));
    ++key;
  }
  state.SetItemsProcessed(state.iterations());  // schedule+cancel pairs
  state.counters["live"] = static_cast<double>(index.Size());
}

template <class Index>
void ScheduleCancelChurn(benchmark::State& state) {
  Index index;
  Fill(index, kLive, kEpoch);
  const std::vector<absl::Duration>& off = Offsets();
  uint64_t oldest = 0;
  for (auto _ : state) {
    const uint64_t key = oldest + kLive;
    index.Schedule(key, kEpoch + off[(key * 7919) & kOffsetsMask]);
    benchmark::DoNotOptimize(index.Cancel(oldest));
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

// Floor: only the key -> node hash map work of a schedule+cancel pair
// (insert a new key, erase it) with <live> other keys, no deadline at all.
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
void BM_TimerBtree_ScheduleCancel(benchmark::State& s) {
  ScheduleCancel<BtreeIndex>(s);
}
void BM_Timer_ScheduleCancelChurn(benchmark::State& s) {
  ScheduleCancelChurn<WheelIndex>(s);
}
void BM_TimerBaseline_ScheduleCancelChurn(benchmark::State& s) {
  ScheduleCancelChurn<PqBaseline>(s);
}
void BM_TimerBtree_ScheduleCancelChurn(benchmark::State& s) {
  ScheduleCancelChurn<BtreeIndex>(s);
}
void BM_Timer_PopDue(benchmark::State& s) { PopDue<WheelIndex>(s); }
void BM_TimerBaseline_PopDue(benchmark::State& s) { PopDue<PqBaseline>(s); }
void BM_TimerBtree_PopDue(benchmark::State& s) { PopDue<BtreeIndex>(s); }
void BM_Timer_Memory(benchmark::State& s) { Memory<WheelIndex>(s); }
void BM_TimerBaseline_Memory(benchmark::State& s) { Memory<PqBaseline>(s); }
void BM_TimerBtree_Memory(benchmark::State& s) { Memory<BtreeIndex>(s); }

// Arg: live entries besides the scheduled-and-cancelled key (10k: fits in
// cache, isolates the structure's own cost from cache misses).
BENCHMARK(BM_TimerFloor_HashMapInsertErase)->Arg(kLive)->Arg(10'000);
BENCHMARK(BM_Timer_ScheduleCancel)->Arg(kLive)->Arg(10'000);
BENCHMARK(BM_TimerBaseline_ScheduleCancel)->Arg(kLive)->Arg(10'000);
BENCHMARK(BM_TimerBtree_ScheduleCancel)->Arg(kLive)->Arg(10'000);
BENCHMARK(BM_Timer_ScheduleCancelChurn);
BENCHMARK(BM_TimerBaseline_ScheduleCancelChurn);
BENCHMARK(BM_TimerBtree_ScheduleCancelChurn);
BENCHMARK(BM_Timer_PopDue)->Arg(1)->Arg(60)->Arg(3600);
BENCHMARK(BM_TimerBaseline_PopDue)->Arg(1)->Arg(60)->Arg(3600);
BENCHMARK(BM_TimerBtree_PopDue)->Arg(1)->Arg(60)->Arg(3600);
BENCHMARK(BM_Timer_Memory)->Arg(3'000'000)->Iterations(1);
BENCHMARK(BM_TimerBaseline_Memory)->Arg(3'000'000)->Iterations(1);
BENCHMARK(BM_TimerBtree_Memory)->Arg(3'000'000)->Iterations(1);

}  // namespace
}  // namespace slate
