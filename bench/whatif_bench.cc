// What-if (Engine::Simulate) over the whole ServiceNow data set against the
// SLA projection's own rebuild of the same database, in the same run
// (issue 20: the what-if at most twice the rebuild).
//
//   bazel run --config=bench //bench:whatif_bench
//
// Set-up (once, not timed): the data set imported as `slate import
// servicenow` does, with examples/servicenow/priority_matrix.json and the
// SLA policy of examples/servicenow/policies.json defined first.
// BM_Sla_Rebuild: Engine::RebuildProjection("sla"): reset, fold the whole
//   log, write the snapshot.
// BM_WhatIf_SamePolicies: Engine::Simulate with the same policies (a fold
//   of the whole log into a scratch SLA projection in memory, then the
//   comparison with the live clocks); counter `flipped` must be 0.
// BM_WhatIf_LongerTargets: the same with every resolution target doubled.
//
// The data set is ../shared/data/incident_event_log.zip from the workspace
// (or $SLATE_SHARED_DATA); without it the benchmarks skip with a message.
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "bench/bench_util.h"
#include "benchmark/benchmark.h"
#include "google/protobuf/util/json_util.h"
#include "lib/api/engine.h"
#include "lib/import/servicenow_import.h"
#include "lib/import/sla_policies.h"

namespace slate {
namespace {

struct Fixture {
  std::unique_ptr<Engine> engine;
  std::vector<SlaPolicy> policies;
  std::string error;  // Set up failed: why.
};

Fixture& Shared() {
  static Fixture* f = [] {
    auto* f = new Fixture();
    const std::string zip = bench::ServiceNowZip();
    if (!std::filesystem::exists(zip)) {
      f->error = absl::StrCat("no data set at ", zip,
                              " (set SLATE_SHARED_DATA)");
      return f;
    }
    ServiceNowImportOptions opts;
    opts.matrix = PriorityMatrix();
    const std::string matrix =
        bench::ReadFile("examples/servicenow/priority_matrix.json");
    if (!google::protobuf::util::JsonStringToMessage(matrix, &*opts.matrix)
             .ok()) {
      f->error = "cannot read examples/servicenow/priority_matrix.json";
      return f;
    }
    auto policies = LoadSlaPolicyListJson(
        bench::ReadFile("examples/servicenow/policies.json"),
        opts.matrix->level_names_size());
    if (!policies.ok()) {
      f->error = policies.status().ToString();
      return f;
    }
    f->policies = *policies;
    Options eo;
    eo.durability = Durability::kBulkImport;
    auto engine = Engine::Open(eo, bench::TempPath("whatif-bench", "sn"));
    if (!engine.ok()) {
      f->error = engine.status().ToString();
      return f;
    }
    for (const SlaPolicy& p : f->policies) {
      Command c;
      c.mutable_define_sla_policy()->set_at("2000-01-01T00:00:00Z");
      *c.mutable_define_sla_policy()->mutable_policy() = p;
      auto r = (*engine)->Execute(c);
      if (!r.ok()) {
        f->error = r.status().ToString();
        return f;
      }
    }
    auto s = ImportServiceNow(engine->get(), zip, opts);
    if (!s.ok()) {
      f->error = s.status().ToString();
      return f;
    }
    f->engine = std::move(*engine);
    return f;
  }();
  return *f;
}

void BM_Sla_Rebuild(benchmark::State& state) {
  Fixture& f = Shared();
  if (!f.error.empty()) {
    state.SkipWithError(f.error.c_str());
    return;
  }
  for (auto _ : state) {
    absl::Status s = f.engine->RebuildProjection("sla");
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      return;
    }
  }
  state.SetItemsProcessed(state.iterations() * f.engine->NextPosition());
}
BENCHMARK(BM_Sla_Rebuild)->Unit(benchmark::kMillisecond)->Iterations(3);

void WhatIf(benchmark::State& state, bool longer) {
  Fixture& f = Shared();
  if (!f.error.empty()) {
    state.SkipWithError(f.error.c_str());
    return;
  }
  SlaWhatIfQuery q;
  q.policies = f.policies;
  if (longer) {
    for (SlaPolicy& p : q.policies) {
      for (auto& t : *p.mutable_targets()) {
        if (t.resolution().empty()) continue;
        absl::Duration d;
        if (absl::ParseDuration(t.resolution(), &d)) {
          t.set_resolution(absl::FormatDuration(2 * d));
        }
      }
    }
  }
  int64_t flipped = 0;
  for (auto _ : state) {
    auto r = f.engine->Simulate(q);
    if (!r.ok()) {
      state.SkipWithError(r.status().ToString().c_str());
      return;
    }
    flipped = r->flipped;
  }
  state.SetItemsProcessed(state.iterations() * f.engine->NextPosition());
  state.counters["flipped"] = static_cast<double>(flipped);
}

void BM_WhatIf_SamePolicies(benchmark::State& state) { WhatIf(state, false); }
BENCHMARK(BM_WhatIf_SamePolicies)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_WhatIf_LongerTargets(benchmark::State& state) { WhatIf(state, true); }
BENCHMARK(BM_WhatIf_LongerTargets)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);

}  // namespace
}  // namespace slate
