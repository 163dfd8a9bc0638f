// ServiceNow import of the whole shared data set (141,712 rows) into a fresh
// database, against a raw RocksDB bulk load of the same events in the same
// run (issue 7).
//
//   bazel run --config=bench //bench:import_bench
//
// BM_ServiceNowImport_WholeDataSet: `slate import servicenow` as the tool runs
//   it (bulk durability, projections folding on their own thread), timed to
//   the point where the engine's built-in projections are current
//   (WaitForProjections). Counters: import_s (rows read and appended),
//   fold_wait_s (projections catching up after the last append), and
//   s_per_100k_rows for the whole.
// BM_RocksDbBulkLoad_SameEvents: the baseline: the same events (read back
//   from the imported log, serialized) written to a fresh RocksDB with
//   WriteBatches of 1,000, no WAL, then flushed: the floor for storing them.
//
// The data set is ../shared/data/incident_event_log.zip from the workspace
// (or $SLATE_SHARED_DATA); without it the benchmarks skip with a message.
#include <sys/resource.h>
#include <time.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/bench_util.h"
#include "benchmark/benchmark.h"
#include "lib/api/engine.h"
#include "lib/domain/priority_matrix.h"
#include "lib/import/servicenow_import.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"

namespace slate {
namespace {

std::string FreshDir(const std::string& name) {
  const char* base = std::getenv("TMPDIR");
  std::string dir = absl::StrCat(base != nullptr ? base : "/tmp",
                                 "/slate-import-bench-", name);
  std::filesystem::remove_all(dir);
  return dir;
}

double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec * 1e-9;
}

double ProcessCpuSeconds() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         (u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

// Events the import wrote, kept for the baseline.
std::vector<std::string>& ImportedEvents() {
  static auto* events = new std::vector<std::string>();
  return *events;
}

void BM_ServiceNowImport_WholeDataSet(benchmark::State& state) {
  const std::string zip = bench::ServiceNowZip();
  if (!std::filesystem::exists(zip)) {
    state.SkipWithError(absl::StrCat("shared data set not found at ", zip,
                                     " (set SLATE_SHARED_DATA)")
                            .c_str());
    return;
  }
  ServiceNowImportOptions opts;
  opts.matrix = PriorityMatrix();
  {
    // The shipped 4-level matrix of examples/servicenow/priority_matrix.json.
    PriorityMatrix& m = *opts.matrix;
    m.set_impact_levels(3);
    m.set_urgency_levels(3);
    for (const char* n : {"Critical", "High", "Moderate", "Low"}) {
      m.add_level_names(n);
    }
    const int cells[3][3] = {{1, 2, 3}, {2, 3, 4}, {3, 4, 4}};
    for (int i = 1; i <= 3; ++i) {
      for (int u = 1; u <= 3; ++u) {
        auto* c = m.add_cells();
        c->set_impact(i);
        c->set_urgency(u);
        c->set_priority(cells[i - 1][u - 1]);
      }
    }
  }
  for (auto _ : state) {
    const std::string dir = FreshDir("slate");
    Options eo;
    eo.durability = Durability::kBulkImport;
    eo.projection_mode = ProjectionMode::kAsync;
    const absl::Time start = absl::Now();
    const double thread_cpu0 = ThreadCpuSeconds();
    const double process_cpu0 = ProcessCpuSeconds();
    auto engine = Engine::Open(eo, dir);
    if (!engine.ok()) {
      state.SkipWithError(engine.status().ToString().c_str());
      return;
    }
    auto s = ImportServiceNow(engine->get(), zip, opts);
    if (!s.ok()) {
      state.SkipWithError(s.status().ToString().c_str());
      return;
    }
    const absl::Time imported = absl::Now();
    const double import_cpu = ThreadCpuSeconds() - thread_cpu0;
    absl::Status folded = (*engine)->WaitForProjections(
        (*engine)->NextPosition(), absl::Hours(1));
    const absl::Time end = absl::Now();
    const double process_cpu = ProcessCpuSeconds() - process_cpu0;
    if (!folded.ok()) {
      state.SkipWithError(folded.ToString().c_str());
      return;
    }
    state.SetIterationTime(absl::ToDoubleSeconds(end - start));
    const double total = absl::ToDoubleSeconds(end - start);
    state.counters["rows"] = static_cast<double>(s->rows_read);
    state.counters["events"] = static_cast<double>(s->events_appended);
    state.counters["rejected"] = static_cast<double>(s->rows_rejected);
    state.counters["import_s"] = absl::ToDoubleSeconds(imported - start);
    state.counters["fold_wait_s"] = absl::ToDoubleSeconds(end - imported);
    // CPU seconds: the importing thread (read, parse, decide, append) and
    // the whole process (that plus the projections' fold and RocksDB's
    // background threads). On a loaded machine these are the stable figures.
    state.counters["import_cpu_s"] = import_cpu;
    state.counters["process_cpu_s"] = process_cpu;
    state.counters["s_per_100k_rows"] =
        total * 100000.0 / static_cast<double>(s->rows_read);
    state.counters["events_per_s"] =
        static_cast<double>(s->events_appended) / total;
    // Keep the events for the baseline (outside the timing).
    auto all = (*engine)->ReadAll(0, 1 << 22);
    if (all.ok()) {
      ImportedEvents().clear();
      for (const Envelope& e : *all) {
        ImportedEvents().push_back(e.SerializeAsString());
      }
    }
    engine->reset();
    std::filesystem::remove_all(dir);
  }
}
BENCHMARK(BM_ServiceNowImport_WholeDataSet)
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

void BM_RocksDbBulkLoad_SameEvents(benchmark::State& state) {
  const std::vector<std::string>& events = ImportedEvents();
  if (events.empty()) {
    state.SkipWithError("no imported events (the import benchmark skipped)");
    return;
  }
  for (auto _ : state) {
    const std::string dir = FreshDir("raw");
    rocksdb::Options o;
    o.create_if_missing = true;
    rocksdb::DB* raw = nullptr;
    const absl::Time start = absl::Now();
    const double process_cpu0 = ProcessCpuSeconds();
    rocksdb::Status st = rocksdb::DB::Open(o, dir, &raw);
    if (!st.ok()) {
      state.SkipWithError(st.ToString().c_str());
      return;
    }
    std::unique_ptr<rocksdb::DB> db(raw);
    rocksdb::WriteOptions w;
    w.disableWAL = true;
    rocksdb::WriteBatch batch;
    for (size_t i = 0; i < events.size(); ++i) {
      char key[8];
      for (int b = 0; b < 8; ++b) key[b] = static_cast<char>(i >> (56 - 8 * b));
      batch.Put(rocksdb::Slice(key, 8), events[i]);
      if (batch.Count() == 1000 || i + 1 == events.size()) {
        st = db->Write(w, &batch);
        if (!st.ok()) {
          state.SkipWithError(st.ToString().c_str());
          return;
        }
        batch.Clear();
      }
    }
    st = db->Flush(rocksdb::FlushOptions());
    const absl::Time end = absl::Now();
    state.SetIterationTime(absl::ToDoubleSeconds(end - start));
    state.counters["process_cpu_s"] = ProcessCpuSeconds() - process_cpu0;
    state.counters["events"] = static_cast<double>(events.size());
    state.counters["events_per_s"] =
        static_cast<double>(events.size()) / absl::ToDoubleSeconds(end - start);
    db.reset();
    std::filesystem::remove_all(dir);
  }
}
BENCHMARK(BM_RocksDbBulkLoad_SameEvents)
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace slate
