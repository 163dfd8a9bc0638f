// Projection fold throughput against a raw RocksDB scan of the same log, and
// the memory of many open incidents with running SLA clocks (issue 6).
//
//   bazel run --config=bench //bench:fold_bench
//   bazel run --config=bench //bench:fold_bench -- --benchmark_filter=Memory
//   (run the memory case alone: VmHWM is the process's peak)
//
// BM_Projection_Fold/<threads>: events per second through ALL built-in
// projections (BuiltinProjections: views, sla, kpi, ...), a full rebuild of
// all of them from position 0 (ProjectionRunner::RebuildAll: one read of the
// log; /1 folds one projection after another, /0 folds them on up to one
// thread per core) over a prebuilt log of realistic incident lifecycles (open +
// priority, assign, acknowledge, start, sometimes hold/resume or a priority
// change, resolve, close; two SLA policies, one on the office-berlin
// calendar). BM_RocksDB_RawScan: the same log read with a plain RocksDB
// iterator over the event column family (no decoding): the ceiling.
// BM_Log_ReadAllDecoded: the same log read and decoded as a rebuild reads
// it, folded into nothing (the ceiling of any fold through EventLog).
// BM_Projection_FoldInterleaved/<threads> and FoldOneInterleaved/<name>:
// the same incidents written interleaved in time order (MakeLog).
// BM_Floor_ReadAndWriteState/0: the log decoded while the state a rebuild
// leaves is written back once, with no fold logic (the floor of this design).
// /20000: the same bytes packed into one key per incident per projection.
// BM_Sla_OpenClocksMemory/N: N open incidents each with three running clocks
// (response, resolution, update) folded by an Engine (kAsync: appended,
// then folded in the background); reports peak RSS (VmHWM; VmHWM_folded:
// the peak before the clocks are read back to count them). Run one size
// per process (--benchmark_filter=Memory/1000000): VmHWM is the process's.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "bench/bench_util.h"
#include "benchmark/benchmark.h"
#include "google/protobuf/util/json_util.h"
#include "lib/api/engine.h"
#include "lib/api/engine_internal.h"
#include "lib/log/event_log.h"
#include "lib/projection/builtins.h"
#include "lib/projection/runner.h"
#include "lib/projection/sla_projection.h"
#include "proto/commands.pb.h"
#include "rocksdb/db.h"

namespace slate {
namespace {

const absl::Time kBase = absl::FromUnixSeconds(1795420800);  // 2026-11-23Z

std::string TempPath(const std::string& name) {
  return bench::TempPath("fold-bench", name);
}

using bench::ReadFile;

Envelope Config(const std::string& id, const std::string& json_field,
                const std::string& json) {
  Envelope e;
  std::string wrapped = absl::StrCat("{\"", json_field, "\":", json, "}");
  auto st = google::protobuf::util::JsonStringToMessage(wrapped, &e);
  if (!st.ok()) {
    std::fprintf(stderr, "bad config %s: %s\n", id.c_str(),
                 st.ToString().c_str());
    std::abort();
  }
  e.set_event_id(id);
  e.set_occurred_at_us(absl::ToUnixMicros(kBase - absl::Hours(24 * 30)));
  return e;
}

// Calendar + two policies (office hours and 24x7).
void AppendConfig(EventLog& log, bool three_clocks) {
  std::string cal = ReadFile("examples/calendars/office-berlin.json");
  auto must = [](absl::StatusOr<AppendResult> r) {
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
      std::abort();
    }
  };
  must(log.Append("calendar/office-berlin", ExpectedVersion::Any(),
                  {Config("cal", "calendarDefined",
                          absl::StrCat("{\"spec\":", cal, "}"))}));
  const std::string rules = R"(
    "response":{"start":{"events":["incident_opened"]},
                "stop":{"events":["incident_acknowledged"]}},
    "resolution":{"start":{"events":["incident_opened","incident_reopened"]},
                  "pause":{"states":["on_hold"]},
                  "stop":{"states":["resolved","closed"]}},
    "update":{"start":{"events":["incident_opened"]},
              "stop":{"events":["incident_commented"]}})";
  must(log.Append("policy/office", ExpectedVersion::Any(),
                  {Config("pol-office", "slaPolicyDefined",
                          absl::StrCat(R"({"policy":{
        "id":"office","calendarId":"office-berlin",
        "appliesTo":{"recordTypes":["incident"],"priorities":[1,2,3]},
        "targets":[{"priority":1,"response":"1h","resolution":"4h","update":"2h"},
                   {"priority":2,"response":"4h","resolution":"8h","update":"4h"},
                   {"priority":3,"response":"8h","resolution":"24h","update":"8h"}],
        "warningThresholdsPercent":[50,75,90],)",
                                       rules, "}}"))}));
  if (three_clocks) return;
  must(log.Append("policy/allhours", ExpectedVersion::Any(),
                  {Config("pol-24x7", "slaPolicyDefined", R"({"policy":{
        "id":"allhours","calendarId":"24x7",
        "appliesTo":{"recordTypes":["incident"]},
        "targets":[{"priority":1,"resolution":"8h"},
                   {"priority":2,"resolution":"24h"},
                   {"priority":3,"resolution":"72h"},
                   {"priority":4,"resolution":"120h"},
                   {"priority":5,"resolution":"240h"}],
        "resolution":{"start":{"events":["incident_opened"]},
                      "pause":{"states":["on_hold"]},
                      "stop":{"states":["resolved","closed"]}}}})")}));
}

// One incident's lifecycle, in time order.
std::vector<Envelope> IncidentEvents(std::mt19937_64& rng, int i,
                                     bool open_only) {
  const std::string id = absl::StrCat("INC", i);
  int64_t t = absl::ToUnixMicros(kBase) +
              static_cast<int64_t>(rng() % (30LL * 24 * 3600)) * 1000000;
  std::vector<Envelope> events;
  auto add = [&](int64_t minutes) -> Envelope& {
    t += minutes * 60000000;
    Envelope e;
    e.set_event_id(absl::StrCat(id, "-", events.size()));
    e.set_occurred_at_us(t);
    events.push_back(e);
    return events.back();
  };
  const int priority = 1 + static_cast<int>(rng() % 3);
  auto* o = add(0).mutable_incident_opened();
  o->set_number(id);
  o->set_service(absl::StrCat("svc", rng() % 20));
  o->set_category("network");
  o->set_contact_type("phone");
  o->set_impact(1);
  o->set_urgency(priority);
  auto* p = add(0).mutable_incident_priority_set();
  p->set_impact(1);
  p->set_urgency(priority);
  p->set_priority(priority);
  if (!open_only) {
    add(1 + rng() % 30)
        .mutable_incident_assigned()
        ->set_group(absl::StrCat("g", rng() % 10));
    add(1 + rng() % 30).mutable_incident_acknowledged()->set_by("desk");
    add(1 + rng() % 30).mutable_incident_started();
    if (rng() % 3 == 0) {
      add(10 + rng() % 120)
          .mutable_incident_put_on_hold()
          ->set_reason(AWAITING_CALLER);
      add(10 + rng() % 600).mutable_incident_resumed();
    }
    if (rng() % 5 == 0) {
      auto* q = add(10 + rng() % 60).mutable_incident_priority_set();
      q->set_priority(1 + static_cast<int>(rng() % 3));
      q->set_manual_override(true);
      q->set_reason("bench");
    }
    add(30 + rng() % 2000)
        .mutable_incident_resolved()
        ->set_resolution_code("fixed");
    add(60 + rng() % 2000).mutable_incident_closed();
  }
  return events;
}

struct FoldFixture {
  std::string dir;
  std::unique_ptr<EventLog> log;
  int64_t events = 0;
};

// 20,000 incident lifecycles after the calendar and policies. Contiguous:
// each incident's events in one append, incident after incident (a bulk
// load of finished records). Interleaved: every event appended on its own
// in time order across incidents, as a live service writes them, so each
// batch of a fold touches thousands of records and the projections' caches
// of decoded records (Options::projection_cached_records) evict and re-read.
FoldFixture* MakeLog(bool interleaved) {
  auto* fx = new FoldFixture;
  fx->dir = TempPath(interleaved ? "fold-interleaved" : "fold");
  Options options;
  options.durability = Durability::kBulkImport;
  options.max_clock_skew = absl::Hours(24 * 365 * 10);
  auto log = EventLog::Open(options, fx->dir);
  if (!log.ok()) std::abort();
  fx->log = std::move(*log);
  AppendConfig(*fx->log, false);
  std::mt19937_64 rng(42);
  constexpr int kIncidents = 20000;
  std::vector<std::pair<std::string, Envelope>> all;
  for (int i = 0; i < kIncidents; ++i) {
    const std::string stream = absl::StrCat("incident/INC", i);
    std::vector<Envelope> events = IncidentEvents(rng, i, false);
    if (interleaved) {
      for (Envelope& e : events) all.emplace_back(stream, std::move(e));
    } else if (!fx->log
                    ->Append(stream, ExpectedVersion::NoStream(),
                             std::move(events))
                    .ok()) {
      std::abort();
    }
  }
  // Stable: an incident's events keep their order at equal times.
  std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    return a.second.occurred_at_us() < b.second.occurred_at_us();
  });
  for (auto& [stream, e] : all) {
    if (!fx->log->Append(stream, ExpectedVersion::Any(), {std::move(e)}).ok()) {
      std::abort();
    }
  }
  if (!fx->log->Flush().ok()) std::abort();
  fx->events = fx->log->NextPosition();
  return fx;
}

FoldFixture& SharedLog() {
  static FoldFixture* f = MakeLog(false);
  return *f;
}

FoldFixture& SharedInterleavedLog() {
  static FoldFixture* f = MakeLog(true);
  return *f;
}

void BM_RocksDB_RawScan(benchmark::State& state) {
  FoldFixture& f = SharedLog();
  rocksdb::DB* db = f.log->db();
  int64_t n = 0;
  for (auto _ : state) {
    size_t bytes = 0;
    n = 0;
    std::unique_ptr<rocksdb::Iterator> it(
        db->NewIterator(rocksdb::ReadOptions(), db->DefaultColumnFamily()));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      bytes += it->key().size() + it->value().size();
      ++n;
    }
    benchmark::DoNotOptimize(bytes);
  }
  state.SetItemsProcessed(state.iterations() * n);
  state.counters["log_events"] = static_cast<double>(f.events);
  state.counters["keys_scanned"] = static_cast<double>(n);
}
BENCHMARK(BM_RocksDB_RawScan)->Unit(benchmark::kMillisecond);

// Reads and decodes the whole log in batches of `batch` envelopes on an
// arena (EventLog::ReadAll), as a rebuild reads it; returns the envelopes
// read, or -1 if a read failed.
int64_t ReadAllDecoded(FoldFixture& f, size_t batch_size) {
  int64_t n = 0;
  while (n < f.events) {
    google::protobuf::Arena arena;
    std::vector<const Envelope*> batch;
    if (!f.log->ReadAll(n, batch_size, &arena, &batch).ok() || batch.empty()) {
      return -1;
    }
    benchmark::DoNotOptimize(batch.back()->position());
    n += static_cast<int64_t>(batch.size());
  }
  return n;
}

// The log read and decoded in batches of 4096 envelopes (a rebuild reads
// RunnerOptions::batch_events, 16384 by default since the sixth session;
// this figure kept its batch size to stay comparable), folded into nothing:
// the most any fold through this log's API can reach on one thread.
void BM_Log_ReadAllDecoded(benchmark::State& state) {
  FoldFixture& f = SharedLog();
  int64_t n = 0;
  for (auto _ : state) {
    n = ReadAllDecoded(f, 4096);
    if (n < 0) {
      state.SkipWithError("read failed");
      return;
    }
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_Log_ReadAllDecoded)->Unit(benchmark::kMillisecond);

// A full rebuild of every built-in projection (RebuildAll: one read of the
// log). Arg: fold threads (0: one per projection up to the cores; 1: one
// projection after another).
void FoldAll(benchmark::State& state, FoldFixture& f) {
  Options options;
  RunnerOptions ro;
  ro.fold_threads = static_cast<size_t>(state.range(0));
  auto runner =
      ProjectionRunner::Open(f.log.get(), BuiltinProjections(options), ro);
  if (!runner.ok()) std::abort();
  // A fresh runner folds every projection on open: catch up first.
  if (!(*runner)->CatchUp().ok()) std::abort();
  for (auto _ : state) {
    absl::Status st = (*runner)->RebuildAll();
    if (!st.ok()) {
      state.SkipWithError(st.ToString().c_str());
      return;
    }
  }
  state.SetItemsProcessed(state.iterations() * f.events);
  state.counters["projections"] =
      static_cast<double>((*runner)->Names().size());
}

void BM_Projection_Fold(benchmark::State& state) {
  FoldAll(state, SharedLog());
}
BENCHMARK(BM_Projection_Fold)
    ->Arg(1)
    ->Arg(0)
    ->UseRealTime()  // Threads: CPU time of the main one undercounts.
    ->Unit(benchmark::kMillisecond)
    ->Iterations(2);

// The same rebuild over the same incidents written interleaved in time
// order (MakeLog): what a rebuild of a live service's log costs.
void BM_Projection_FoldInterleaved(benchmark::State& state) {
  FoldAll(state, SharedInterleavedLog());
}
BENCHMARK(BM_Projection_FoldInterleaved)
    ->Arg(1)
    ->Arg(0)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(2);

// One built-in projection at a time, for attribution
// (BM_Projection_FoldOne/views, /sla, /kpi).
// BM_Projection_FoldOneInterleaved/<name>: the same over the interleaved log.
void BM_Projection_FoldOne(benchmark::State& state, const std::string& name,
                           bool interleaved) {
  FoldFixture& f = interleaved ? SharedInterleavedLog() : SharedLog();
  Options options;
  std::vector<std::unique_ptr<Projection>> only;
  for (auto& p : BuiltinProjections(options)) {
    if (p->name() == name) only.push_back(std::move(p));
  }
  if (only.size() != 1) std::abort();
  auto runner = ProjectionRunner::Open(f.log.get(), std::move(only), {});
  if (!runner.ok()) std::abort();
  for (auto _ : state) {
    absl::Status st = (*runner)->Rebuild(name);
    if (!st.ok()) {
      state.SkipWithError(st.ToString().c_str());
      return;
    }
  }
  state.SetItemsProcessed(state.iterations() * f.events);
}
const bool kRegistered = [] {
  for (bool interleaved : {false, true}) {
    for (const char* name : {"views", "sla", "kpi"}) {
      benchmark::RegisterBenchmark(
          absl::StrCat("BM_Projection_FoldOne",
                       interleaved ? "Interleaved/" : "/", name)
              .c_str(),
          [n = std::string(name), interleaved](benchmark::State& s) {
            BM_Projection_FoldOne(s, n, interleaved);
          })
          ->Unit(benchmark::kMillisecond)
          ->Iterations(2);
    }
  }
  return true;
}();

// The floor of this design (issue 6 asks for a fold into each projection's
// own column family through WriteBatches): what a rebuild of these states
// cannot avoid, with no fold logic at all. On the main thread the log is
// read and decoded (as BM_Log_ReadAllDecoded); at the same time, on a second
// thread, the state a rebuild leaves (every key and value of every built-in
// projection's column family, copied after a rebuild) is written back once,
// in WriteBatches of 4,096 keys, each family reset first as
// ProjectionRunner::Reset does (a DeleteRange over the family).
// Real time, so the figure is the longer of the two with perfect overlap on
// two cores: no rebuild through this API and this state can beat it.
void BM_Floor_ReadAndWriteState(benchmark::State& state) {
  FoldFixture& f = SharedLog();
  rocksdb::DB* db = f.log->db();
  std::vector<rocksdb::ColumnFamilyHandle*> cfs;
  std::vector<std::vector<std::pair<std::string, std::string>>> kvs;
  {
    Options options;
    auto runner =
        ProjectionRunner::Open(f.log.get(), BuiltinProjections(options), {});
    if (!runner.ok() || !(*runner)->CatchUp().ok()) std::abort();
    for (const std::string& name : (*runner)->Names()) {
      auto cf = f.log->GetOrCreateColumnFamily(ProjectionColumnFamily(name));
      if (!cf.ok()) std::abort();
      cfs.push_back(*cf);
      kvs.emplace_back();
      std::unique_ptr<rocksdb::Iterator> it(
          db->NewIterator(rocksdb::ReadOptions(), *cf));
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        kvs.back().emplace_back(it->key().ToString(), it->value().ToString());
      }
      if (!it->status().ok()) std::abort();
    }
  }
  // Each family's reset deletes up to its last stored key, as Reset does.
  std::vector<std::string> reset_end;
  for (const auto& family : kvs) {
    reset_end.push_back(family.empty() ? "" : family.back().first + '\0');
  }
  // Arg > 0: each family's keys packed, in key order, into at most that many
  // values (consecutive keys concatenated under the first one's key): the
  // same bytes as a state model with one key per record would write.
  if (const int64_t packed = state.range(0); packed > 0) {
    for (auto& family : kvs) {
      const size_t per = (family.size() + packed - 1) / packed;
      std::vector<std::pair<std::string, std::string>> groups;
      for (size_t j = 0; j < family.size(); ++j) {
        if (j % per == 0) groups.emplace_back(family[j].first, "");
        groups.back().second += family[j].first;
        groups.back().second += family[j].second;
      }
      family = std::move(groups);
    }
  }
  int64_t keys = 0, bytes = 0;
  for (size_t i = 0; i < kvs.size(); ++i) {
    int64_t family_bytes = 0;
    for (const auto& [k, v] : kvs[i]) {
      family_bytes += static_cast<int64_t>(k.size() + v.size());
    }
    keys += static_cast<int64_t>(kvs[i].size());
    bytes += family_bytes;
    const std::string name = cfs[i]->GetName();
    state.counters[absl::StrCat("keys_", name)] =
        static_cast<double>(kvs[i].size());
    state.counters[absl::StrCat("MiB_", name)] =
        static_cast<double>(family_bytes) / (1 << 20);
  }
  for (auto _ : state) {
    absl::Status write_status;
    std::thread writer([&] {
      for (size_t i = 0; i < cfs.size(); ++i) {
        rocksdb::WriteBatch reset;
        if (!reset_end[i].empty()) {
          reset.DeleteRange(cfs[i], "", reset_end[i]).PermitUncheckedError();
        }
        write_status.Update(f.log->WriteDerived(&reset));
        // Batches of kBatchKeys: as fast as one batch per family with the
        // stored keys, faster with the packed ones (measured).
        constexpr size_t kBatchKeys = 4096;
        rocksdb::WriteBatch batch;
        size_t n = 0;
        for (const auto& [k, v] : kvs[i]) {
          batch.Put(cfs[i], k, v).PermitUncheckedError();
          if (++n % kBatchKeys == 0) {
            write_status.Update(f.log->WriteDerived(&batch));
            batch.Clear();
          }
        }
        write_status.Update(f.log->WriteDerived(&batch));
      }
    });
    if (ReadAllDecoded(f, RunnerOptions().batch_events) < 0) std::abort();
    writer.join();
    if (!write_status.ok()) {
      state.SkipWithError(write_status.ToString().c_str());
      return;
    }
  }
  state.SetItemsProcessed(state.iterations() * f.events);
  state.counters["state_keys"] = static_cast<double>(keys);
  state.counters["state_MiB"] = static_cast<double>(bytes) / (1 << 20);
}
BENCHMARK(BM_Floor_ReadAndWriteState)
    ->Arg(0)
    ->Arg(20000)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);

int64_t VmHwmKb() { return bench::ProcStatusKb("VmHWM:"); }

void BM_Sla_OpenClocksMemory(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  for (auto _ : state) {
    const int64_t before_kb = VmHwmKb();
    const std::string dir = TempPath(absl::StrCat("mem", n));
    SimulatedClock clock(kBase + absl::Hours(24 * 60));
    Options options;
    options.clock = &clock;
    options.durability = Durability::kProcessCrash;
    // The projections fold on their own thread in large batches (what a
    // bulk load or a restart does); the appends do not wait for them.
    options.projection_mode = ProjectionMode::kAsync;
    auto engine = Engine::Open(options, dir);
    if (!engine.ok()) std::abort();
    std::mt19937_64 rng(7);
    {
      // The calendar and the three-clock policy, written to a scratch log
      // by AppendConfig and copied into the engine's log.
      Options o2 = options;
      auto scratch = EventLog::Open(o2, dir + "-cfg");
      if (!scratch.ok()) std::abort();
      AppendConfig(**scratch, true);
      auto all = (*scratch)->ReadAll(0, 100);
      if (!all.ok()) std::abort();
      for (Envelope& e : *all) {
        std::string stream = e.stream();
        e.clear_position();
        e.clear_version();
        e.clear_recorded_at_us();
        if (!(*engine)->Append(stream, ExpectedVersion::Any(), {e}).ok()) {
          std::abort();
        }
      }
    }
    // Open incidents, appended through a log the engine folds in batches.
    int64_t open_clocks = 0;
    {
      for (int i = 0; i < n; ++i) {
        const std::string id = absl::StrCat("INC", i);
        int64_t t = absl::ToUnixMicros(kBase) +
                    static_cast<int64_t>(rng() % (30LL * 24 * 3600)) * 1000000;
        Envelope o;
        o.set_event_id(absl::StrCat(id, "-0"));
        o.set_occurred_at_us(t);
        o.mutable_incident_opened()->set_number(id);
        o.mutable_incident_opened()->set_service("svc");
        Envelope p;
        p.set_event_id(absl::StrCat(id, "-1"));
        p.set_occurred_at_us(t);
        p.mutable_incident_priority_set()->set_priority(1 + i % 3);
        if (!(*engine)
                 ->Append(absl::StrCat("incident/", id),
                          ExpectedVersion::NoStream(), {o, p})
                 .ok()) {
          std::abort();
        }
      }
    }
    if (!(*engine)
             ->WaitForProjections((*engine)->NextPosition(),
                                  absl::InfiniteDuration())
             .ok()) {
      std::abort();
    }
    // Peak once folded, before the clocks are read back to count them.
    const int64_t folded_kb = VmHwmKb();
    auto status = ForEachClock(RunnerOf(**engine), [&](const SlaClockView& v) {
      if (v.state.phase() == SLA_CLOCK_PHASE_RUNNING) {
        ++open_clocks;
      }
    });
    if (!status.ok()) std::abort();
    const int64_t hwm_kb = VmHwmKb();
    state.counters["incidents"] = n;
    state.counters["running_clocks"] = static_cast<double>(open_clocks);
    state.counters["VmHWM_MiB"] = static_cast<double>(hwm_kb) / 1024.0;
    state.counters["VmHWM_before_MiB"] =
        static_cast<double>(before_kb) / 1024.0;
    state.counters["VmHWM_folded_MiB"] =
        static_cast<double>(folded_kb) / 1024.0;
    engine->reset();
  }
}
BENCHMARK(BM_Sla_OpenClocksMemory)
    ->Arg(100000)
    ->Arg(1000000)
    ->Unit(benchmark::kSecond)
    ->Iterations(1);

}  // namespace
}  // namespace slate
