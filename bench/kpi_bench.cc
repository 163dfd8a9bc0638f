// KPI projection fold cost.
//
// BM_KpiProjection_FoldMemory folds a synthetic incident and change log
// through KpiProjection::Apply into an in-memory ordered map (the state
// interface without RocksDB); BM_ViewsProjection_FoldMemory folds the same
// events through the views projection into the same kind of map: the
// baseline (one Get + one Put of a small proto per event). The headline is
// the ratio of the two rates. BM_KpiProjection_Rebuild and
// BM_ViewsProjection_Rebuild rebuild each projection through the real
// runner (RocksDB column family, WriteBatch per 1024 events) over the same
// log; BM_KpiQuery_Month runs a month query by priority and group.
//
//   bazel --output_base=... run -c opt //bench:kpi_bench
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "lib/api/engine.h"
#include "lib/api/engine_internal.h"
#include "lib/projection/kpi_projection.h"
#include "lib/projection/kpi_query.h"
#include "lib/projection/kpi_rollup.h"
#include "lib/projection/memory_state.h"
#include "lib/projection/views.h"

namespace slate {
namespace {

constexpr int64_t kMinUs = 60'000'000;
const int64_t kStartUs = absl::ToUnixMicros(absl::FromCivil(
    absl::CivilSecond(2026, 1, 1, 0, 0, 0), absl::UTCTimeZone()));

// Per incident: opened, priority, ack, assigned, hold, resume, resolved,
// closed (8 events, 20 % reassigned, 5 % reopened and resolved again);
// one change per 10 incidents (requested, closed). Spread over 90 days.
std::vector<Envelope> SyntheticLog(int incidents) {
  std::mt19937_64 rng(7);
  const char* services[] = {"email", "crm", "erp", "vpn", "web"};
  const char* groups[] = {"net", "apps", "db", "desk"};
  const char* categories[] = {"network", "software", "hardware"};
  const char* contacts[] = {"phone", "email", "self-service"};
  std::vector<Envelope> out;
  int64_t position = 0;
  auto add = [&](const std::string& stream, int64_t version, int64_t at,
                 Envelope e) {
    e.set_stream(stream);
    e.set_version(version);
    e.set_position(position++);
    e.set_occurred_at_us(at);
    e.set_event_id(absl::StrCat(stream, ":", version));
    out.push_back(std::move(e));
  };
  for (int i = 0; i < incidents; ++i) {
    const std::string s = absl::StrCat("incident/INC", i);
    int64_t t = kStartUs + static_cast<int64_t>(rng() % (90 * 1440)) * kMinUs;
    int64_t v = 0;
    Envelope e;
    auto* o = e.mutable_incident_opened();
    o->set_number(absl::StrCat("INC", i));
    o->set_service(services[rng() % 5]);
    o->set_category(categories[rng() % 3]);
    o->set_contact_type(contacts[rng() % 3]);
    add(s, v++, t, e);
    e.Clear();
    e.mutable_incident_priority_set()->set_priority(1 + rng() % 5);
    add(s, v++, t, e);
    t += static_cast<int64_t>(1 + rng() % 60) * kMinUs;
    e.Clear();
    e.mutable_incident_acknowledged()->set_by("desk");
    add(s, v++, t, e);
    e.Clear();
    e.mutable_incident_assigned()->set_group(groups[rng() % 4]);
    e.mutable_incident_assigned()->set_person("p1");
    add(s, v++, t + kMinUs, e);
    if (rng() % 5 == 0) {
      e.Clear();
      e.mutable_incident_assigned()->set_group(groups[rng() % 4]);
      e.mutable_incident_assigned()->set_person("p2");
      add(s, v++, t + 2 * kMinUs, e);
    }
    t += static_cast<int64_t>(10 + rng() % 600) * kMinUs;
    e.Clear();
    e.mutable_incident_put_on_hold()->set_reason(AWAITING_CALLER);
    add(s, v++, t, e);
    t += static_cast<int64_t>(10 + rng() % 600) * kMinUs;
    e.Clear();
    e.mutable_incident_resumed();
    add(s, v++, t, e);
    t += static_cast<int64_t>(10 + rng() % 3000) * kMinUs;
    e.Clear();
    e.mutable_incident_resolved()->set_resolved_by("p1");
    add(s, v++, t, e);
    if (rng() % 20 == 0) {
      t += 60 * kMinUs;
      e.Clear();
      e.mutable_incident_reopened();
      add(s, v++, t, e);
      t += 120 * kMinUs;
      e.Clear();
      e.mutable_incident_resolved()->set_resolved_by("p1");
      add(s, v++, t, e);
    }
    e.Clear();
    e.mutable_incident_closed();
    add(s, v++, t + 1440 * kMinUs, e);
    if (i % 10 == 0) {
      const std::string c = absl::StrCat("change/CHG", i);
      e.Clear();
      e.mutable_change_requested()->set_type(rng() % 4 == 0 ? EMERGENCY
                                                            : NORMAL);
      e.mutable_change_requested()->add_services(services[rng() % 5]);
      add(c, 0, t, e);
      e.Clear();
      e.mutable_change_closed()->set_outcome(
          static_cast<ChangeOutcome>(1 + rng() % 4));
      add(c, 1, t + 600 * kMinUs, e);
    }
  }
  // Log order: by event time, as a live log would be (versions stay dense
  // per stream because each stream's events are time-ordered).
  std::stable_sort(out.begin(), out.end(),
                   [](const Envelope& a, const Envelope& b) {
                     return a.occurred_at_us() < b.occurred_at_us();
                   });
  for (size_t i = 0; i < out.size(); ++i) out[i].set_position(i);
  return out;
}

const std::vector<Envelope>& Log() {
  static const auto* log = new std::vector<Envelope>(SyntheticLog(20000));
  return *log;
}

template <typename P>
void FoldMemory(benchmark::State& state) {
  const auto& log = Log();
  size_t keys = 0;
  for (auto _ : state) {
    P p;
    MemoryState s;
    if (!FoldInto(p, log, s).ok()) state.SkipWithError("apply failed");
    keys = s.data().size();
  }
  state.SetItemsProcessed(state.iterations() * log.size());
  state.counters["events"] = static_cast<double>(log.size());
  state.counters["keys"] = static_cast<double>(keys);
}

void BM_KpiProjection_FoldMemory(benchmark::State& state) {
  FoldMemory<KpiProjection>(state);
}
void BM_ViewsProjection_FoldMemory(benchmark::State& state) {
  FoldMemory<ViewsProjection>(state);
}
BENCHMARK(BM_ViewsProjection_FoldMemory)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_KpiProjection_FoldMemory)->Unit(benchmark::kMillisecond);

// An engine over the synthetic log (bulk-imported; projections folded once).
Engine& BenchEngine() {
  static Engine* engine = [] {
    static SimulatedClock clock(absl::FromUnixMicros(kStartUs) +
                                absl::Hours(24 * 200));
    Options options;
    options.clock = &clock;
    options.durability = Durability::kBulkImport;
    options.projection_mode = ProjectionMode::kAsync;
    std::string dir = absl::StrCat("/tmp/slate-kpi-bench-", getpid());
    std::filesystem::remove_all(dir);
    auto e = Engine::Open(options, dir);
    if (!e.ok()) std::abort();
    // Append per stream in log order, one event per append.
    for (Envelope ev : Log()) {
      const std::string stream = ev.stream();
      ev.clear_position();
      ev.clear_version();
      if (!(*e)->Append(stream, ExpectedVersion::Any(), {ev}).ok()) {
        std::abort();
      }
    }
    if (!(*e)->Flush().ok()) std::abort();
    if (!(*e)->WaitForProjections((*e)->NextPosition(), absl::Minutes(10))
             .ok()) {
      std::abort();
    }
    return e->release();
  }();
  return *engine;
}

void Rebuild(benchmark::State& state, absl::string_view name) {
  Engine& e = BenchEngine();
  for (auto _ : state) {
    if (!e.RebuildProjection(name).ok()) state.SkipWithError("rebuild");
  }
  state.SetItemsProcessed(state.iterations() * e.NextPosition());
}
void BM_KpiProjection_Rebuild(benchmark::State& state) {
  Rebuild(state, "kpi");
}
void BM_ViewsProjection_Rebuild(benchmark::State& state) {
  Rebuild(state, "views");
}
BENCHMARK(BM_ViewsProjection_Rebuild)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_KpiProjection_Rebuild)->Unit(benchmark::kMillisecond);

void BM_KpiQuery_Month(benchmark::State& state) {
  Engine& e = BenchEngine();
  KpiQuery q;
  q.by = {KpiDimension::kPriority, KpiDimension::kGroup};
  q.bucket = KpiBucket::kMonth;
  q.now = absl::FromUnixMicros(kStartUs) + absl::Hours(24 * 120);
  size_t rows = 0;
  for (auto _ : state) {
    auto rollup = LoadKpiRollup(KpiScanOf(RunnerOf(e)), std::nullopt);
    if (!rollup.ok()) state.SkipWithError("load");
    auto r = QueryKpis(*rollup, q, KpiOptions(), {});
    if (!r.ok()) state.SkipWithError("query");
    rows = r->rows.size();
    benchmark::DoNotOptimize(FormatKpiReport(*r, KpiFormat::kCsv));
  }
  state.counters["rows"] = static_cast<double>(rows);
}
BENCHMARK(BM_KpiQuery_Month)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace slate
