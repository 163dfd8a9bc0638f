// Event log throughput against raw RocksDB in the same run. This measures
// the log alone (EventLog), without the projections Engine folds.
//
//   ./dev.sh bench //bench:log_bench
//   bazel run --config=bench //bench:log_bench -- --benchmark_filter=Append
//
// BM_EventLog_Append/N appends N events (200-byte payloads) per call;
// BM_RocksDB_RawWriteBatch/N writes the same envelope bytes under position
// keys in one WriteBatch with the same durability. The *Sync variants fsync
// (Durability::kPowerLoss); the others use the WAL without fsync
// (kProcessCrash). ReadAll is compared with a raw iterator scan of the same
// keys (the raw scan does not decode the protobuf; the log does).
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "lib/log/event_log.h"
#include "lib/log/log_format.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"

namespace slate {
namespace {

class BenchDir {
 public:
  BenchDir() {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "slate-bench-XXXXXX")
            .string();
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    path_ = tmpl;
  }
  ~BenchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

Envelope MakeEvent(int64_t n) {
  Envelope e;
  e.set_event_id(absl::StrCat("evt-", n));
  e.set_occurred_at_us(1700000000000000 + n);
  e.set_actor("bench");
  e.mutable_incident_commented()->set_text(std::string(200, 'p'));
  return e;
}

void AppendBench(benchmark::State& state, Durability durability) {
  BenchDir dir;
  Options options;
  options.durability = durability;
  auto engine = EventLog::Open(options, dir.path());
  if (!engine.ok()) {
    state.SkipWithError(engine.status().ToString().c_str());
    return;
  }
  const int per_append = static_cast<int>(state.range(0));
  int64_t n = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<Envelope> events;
    events.reserve(per_append);
    for (int i = 0; i < per_append; ++i) events.push_back(MakeEvent(n++));
    state.ResumeTiming();
    auto r = (*engine)->Append(absl::StrCat("incident/", n % 1000),
                               ExpectedVersion::Any(), std::move(events));
    if (!r.ok()) {
      state.SkipWithError(r.status().ToString().c_str());
      return;
    }
  }
  state.SetItemsProcessed(state.iterations() * per_append);
}

// The baseline: the bytes the log would store for the same events, under
// position keys, in one WriteBatch per call.
void RawBench(benchmark::State& state, bool sync) {
  BenchDir dir;
  rocksdb::Options ro;
  ro.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  if (!rocksdb::DB::Open(ro, dir.path(), &raw).ok()) {
    state.SkipWithError("open failed");
    return;
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  const int per_append = static_cast<int>(state.range(0));
  int64_t n = 0;
  std::string bytes;
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<Envelope> events;
    events.reserve(per_append);
    for (int i = 0; i < per_append; ++i) events.push_back(MakeEvent(n++));
    state.ResumeTiming();
    rocksdb::WriteBatch batch;
    for (Envelope& e : events) {
      e.set_stream("incident/x");
      e.set_position(n);
      e.SerializeToString(&bytes);
      batch.Put(log_format::EventKey(e.position()), bytes);
    }
    if (!db->Write(wo, &batch).ok()) {
      state.SkipWithError("write failed");
      return;
    }
  }
  state.SetItemsProcessed(state.iterations() * per_append);
}

void BM_EventLog_Append(benchmark::State& state) {
  AppendBench(state, Durability::kProcessCrash);
}
void BM_RocksDB_RawWriteBatch(benchmark::State& state) {
  RawBench(state, /*sync=*/false);
}
void BM_EventLog_AppendSync(benchmark::State& state) {
  AppendBench(state, Durability::kPowerLoss);
}
void BM_RocksDB_RawWriteBatchSync(benchmark::State& state) {
  RawBench(state, /*sync=*/true);
}
BENCHMARK(BM_EventLog_Append)->Arg(1)->Arg(100);
BENCHMARK(BM_RocksDB_RawWriteBatch)->Arg(1)->Arg(100);
BENCHMARK(BM_EventLog_AppendSync)->Arg(1)->Arg(100);
BENCHMARK(BM_RocksDB_RawWriteBatchSync)->Arg(1)->Arg(100);

// Concurrent appenders in power-loss mode: group commit shares fsyncs.
void BM_EventLog_AppendSyncThreads(benchmark::State& state) {
  static std::unique_ptr<BenchDir> dir;
  static std::unique_ptr<EventLog> engine;
  static std::atomic<int64_t> counter{0};
  if (state.thread_index() == 0) {
    engine.reset();  // Close the previous repetition's log before its dir.
    dir = std::make_unique<BenchDir>();
    Options options;
    options.durability = Durability::kPowerLoss;
    engine = std::move(*EventLog::Open(options, dir->path()));
  }
  // Google Benchmark starts the threads' loops together after setup.
  for (auto _ : state) {
    int64_t n = counter.fetch_add(1);
    auto r = engine->Append(absl::StrCat("incident/", n % 1000),
                            ExpectedVersion::Any(), {MakeEvent(n)});
    if (!r.ok()) state.SkipWithError(r.status().ToString().c_str());
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    state.counters["events_per_sync"] =
        static_cast<double>(engine->Stats().events_written) /
        static_cast<double>(std::max<int64_t>(1, engine->Stats().syncs));
  }
}
BENCHMARK(BM_EventLog_AppendSyncThreads)->Threads(1)->Threads(8)->UseRealTime();

constexpr int64_t kScanEvents = 100000;

struct Prefilled {
  BenchDir dir;
  std::unique_ptr<EventLog> engine;
};

Prefilled* Prefill() {
  static Prefilled* p = [] {
    auto* p = new Prefilled();
    Options options;
    options.durability = Durability::kBulkImport;
    p->engine = std::move(*EventLog::Open(options, p->dir.path()));
    for (int64_t n = 0; n < kScanEvents; n += 100) {
      std::vector<Envelope> events;
      for (int i = 0; i < 100; ++i) events.push_back(MakeEvent(n + i));
      if (!p->engine
               ->Append(absl::StrCat("incident/", n % 1000),
                        ExpectedVersion::Any(), std::move(events))
               .ok()) {
        std::abort();
      }
    }
    if (!p->engine->Flush().ok()) std::abort();
    return p;
  }();
  return p;
}

void BM_EventLog_ReadAll(benchmark::State& state) {
  EventLog& engine = *Prefill()->engine;
  for (auto _ : state) {
    int64_t from = 0;
    while (true) {
      auto batch = engine.ReadAll(from, 1000);
      if (!batch.ok() || batch->empty()) break;
      from += static_cast<int64_t>(batch->size());
    }
    benchmark::DoNotOptimize(from);
  }
  state.SetItemsProcessed(state.iterations() * kScanEvents);
}
BENCHMARK(BM_EventLog_ReadAll)->Unit(benchmark::kMillisecond);

void BM_RocksDB_RawIteratorScan(benchmark::State& state) {
  // Scan the same database's event keys with a plain iterator.
  rocksdb::DB* db = Prefill()->engine->db();
  const std::string upper(1, log_format::kEventPrefix + 1);
  for (auto _ : state) {
    rocksdb::Slice ub(upper);
    rocksdb::ReadOptions opts;
    opts.iterate_upper_bound = &ub;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(opts));
    size_t bytes = 0;
    for (it->Seek(log_format::EventKey(0)); it->Valid(); it->Next()) {
      bytes += it->value().size();
    }
    benchmark::DoNotOptimize(bytes);
  }
  state.SetItemsProcessed(state.iterations() * kScanEvents);
}
BENCHMARK(BM_RocksDB_RawIteratorScan)->Unit(benchmark::kMillisecond);

// The cost of RocksDB's block checksums on reads (issue 8: "measure their
// cost"): the same scan with the block cache bypassed (fill_cache = false,
// so every block is read from the file and, when verify_checksums is on,
// checksummed), checksums verified (arg 1, RocksDB's default and what the
// log uses) or not (arg 0). The data is in SST files (Prefill flushes).
void BM_RocksDB_UncachedScanChecksums(benchmark::State& state) {
  rocksdb::DB* db = Prefill()->engine->db();
  const std::string upper(1, log_format::kEventPrefix + 1);
  for (auto _ : state) {
    rocksdb::Slice ub(upper);
    rocksdb::ReadOptions opts;
    opts.iterate_upper_bound = &ub;
    opts.fill_cache = false;
    opts.verify_checksums = state.range(0) != 0;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(opts));
    size_t bytes = 0;
    for (it->Seek(log_format::EventKey(0)); it->Valid(); it->Next()) {
      bytes += it->value().size();
    }
    benchmark::DoNotOptimize(bytes);
  }
  state.SetItemsProcessed(state.iterations() * kScanEvents);
}
BENCHMARK(BM_RocksDB_UncachedScanChecksums)
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMillisecond);

// Time from calling Append to the subscriber's handler running.
void BM_Subscription_WakeLatency(benchmark::State& state) {
  BenchDir dir;
  Options options;
  options.durability = Durability::kProcessCrash;
  auto engine = std::move(*EventLog::Open(options, dir.path()));
  std::mutex mu;
  std::condition_variable cv;
  int64_t delivered = -1;
  std::chrono::steady_clock::time_point woke;
  auto sub = engine->Subscribe(0, [&](const Envelope& e) {
    auto now = std::chrono::steady_clock::now();
    std::lock_guard<std::mutex> l(mu);
    delivered = e.position();
    woke = now;
    cv.notify_one();
    return absl::OkStatus();
  });
  int64_t n = 0;
  double max_us = 0;
  for (auto _ : state) {
    // Measured from before the append: an upper bound on the wake latency.
    auto appended = std::chrono::steady_clock::now();
    auto r =
        engine->Append("incident/w", ExpectedVersion::Any(), {MakeEvent(n)});
    if (!r.ok()) {
      state.SkipWithError(r.status().ToString().c_str());
      break;
    }
    std::unique_lock<std::mutex> l(mu);
    cv.wait(l, [&] { return delivered == n; });
    double us =
        std::chrono::duration<double, std::micro>(woke - appended).count();
    state.SetIterationTime(std::max(us, 0.0) / 1e6);
    max_us = std::max(max_us, us);
    ++n;
  }
  state.counters["max_us"] = max_us;
}
BENCHMARK(BM_Subscription_WakeLatency)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace slate
