// The engine as an embedder uses it (issue 18): command throughput with the
// projections folded synchronously, reopening a large database from its
// projection snapshot, and the memory of a large mostly-finished workload.
//
//   bazel run --config=bench //bench:engine_bench -- --benchmark_filter=Execute
//   bazel run --config=bench //bench:engine_bench -- --benchmark_filter=Open
//   bazel run --config=bench //bench:engine_bench --
//       --benchmark_filter='Memory/2000000/100000'   (one command line)
//   (run one memory case per process: VmHWM is the process's peak)
//
// BM_Engine_Execute/<workload>: commands per second through Engine::Execute
// (kProcessCrash durability, kSync projections: each Execute returns with
// every built-in projection folded), 8 client threads, each on incidents of
// its own, after a service, the office-berlin calendar and a three-clock SLA
// policy (response, resolution, update) were defined. Workload 0: every
// command opens a new incident (3 running clocks each). Workload 1: open,
// acknowledge, assign, incident after incident. Real time; a fresh database
// per run. BM_Engine_ExecuteFloor/<workload>: the events those commands
// appended (read back from the Execute run's log, or produced by running the
// same commands when the Execute case did not run in this process), appended
// by the same 8 threads straight through EventLog::Append on a fresh
// database with the same options: no decide, no fold. Its counter
// execute_over_floor is Execute's rate over the floor's (wall time of the
// timed loops, measured on thread 0).
//
// BM_Engine_Open/<N>/<query>: Engine::Open of a database whose projection
// snapshot holds N open incidents with 3 running clocks each, plus one
// query: 0 AtRisk(now, 8h, top_n 1) with every running clock overdue, 1
// Clocks of one incident. Built once per process: the events appended through
// the log under kBulkImport, folded once by an engine (kSync catch-up),
// snapshot written. Each iteration opens, queries, and (untimed) checks that
// every projection's snapshot position is the log's end (nothing refolded),
// then closes. Counters: the build's append and fold times (what the open
// avoids), snapshot_at_end (1: every projection loaded its snapshot at the
// log's end).
//
// BM_Engine_FinishedAndOpenMemory/<finished>/<open>: that many finished
// incidents (opened, priority, acknowledged, resolved, closed) and open
// ones (opened, priority: 3 running clocks) spread evenly among them,
// appended per incident through Engine::Append under kBulkImport with kAsync
// projections (folded in the background as they arrive), then
// WaitForProjections; reports peak RSS (VmHWM) and how long it took.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/bench_util.h"
#include "benchmark/benchmark.h"
#include "google/protobuf/util/json_util.h"
#include "lib/api/engine.h"
#include "lib/api/engine_internal.h"
#include "lib/log/event_log.h"
#include "lib/projection/runner.h"
#include "lib/projection/sla_projection.h"
#include "proto/commands.pb.h"
#include "proto/events.pb.h"
#include "rocksdb/db.h"

namespace slate {
namespace {

const absl::Time kBase = absl::FromUnixSeconds(1795420800);  // 2026-11-23Z

std::string TempPath(const std::string& name) {
  return bench::TempPath("engine-bench", name);
}

using bench::ProcStatusKb;
using bench::ReadFile;
using bench::RemoveDir;

void Must(const absl::Status& st, const char* what) {
  if (!st.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, st.ToString().c_str());
    std::abort();
  }
}

template <typename T>
T Must(absl::StatusOr<T> r, const char* what) {
  Must(r.status(), what);
  return std::move(*r);
}

// Size of a directory tree in MiB (du), for the counters.
double DirMiB(const std::string& dir) {
  std::string cmd = absl::StrCat("du -sk '", dir, "'");
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return -1;
  long long kb = -1;
  if (std::fscanf(p, "%lld", &kb) != 1) kb = -1;
  pclose(p);
  return static_cast<double>(kb) / 1024.0;
}

// The three-clock policy of fold_bench (BM_Sla_OpenClocksMemory): response,
// resolution and update targets for priorities 1-3 on office-berlin. The
// update clock also stops when the incident is resolved or closed, so a
// finished incident has no running clock.
const char kPolicy[] = R"({
  "id":"office","calendarId":"office-berlin",
  "appliesTo":{"recordTypes":["incident"],"priorities":[1,2,3]},
  "targets":[{"priority":1,"response":"1h","resolution":"4h","update":"2h"},
             {"priority":2,"response":"4h","resolution":"8h","update":"4h"},
             {"priority":3,"response":"8h","resolution":"24h","update":"8h"}],
  "warningThresholdsPercent":[50,75,90],
  "response":{"start":{"events":["incident_opened"]},
              "stop":{"events":["incident_acknowledged"]}},
  "resolution":{"start":{"events":["incident_opened","incident_reopened"]},
                "pause":{"states":["on_hold"]},
                "stop":{"states":["resolved","closed"]}},
  "update":{"start":{"events":["incident_opened"]},
            "stop":{"events":["incident_commented"],
                    "states":["resolved","closed"]}}})";

void ExecJson(Engine& engine, const std::string& json) {
  Command cmd;
  auto parsed = google::protobuf::util::JsonStringToMessage(json, &cmd);
  if (!parsed.ok()) {
    std::fprintf(stderr, "bad command %s: %s\n", json.c_str(),
                 parsed.ToString().c_str());
    std::abort();
  }
  Must(engine.Execute(cmd).status(), json.c_str());
}

// Service "email", calendar office-berlin, policy "office": as commands, 30
// days before kBase.
void DefineConfig(Engine& engine) {
  const std::string at = absl::StrCat(
      R"("at":")",
      absl::FormatTime(absl::RFC3339_sec, kBase - absl::Hours(24 * 30),
                       absl::UTCTimeZone()),
      R"(")");
  ExecJson(engine,
           absl::StrCat(R"({"commandId":"cfg-svc","defineService":{)", at,
                        R"(,"serviceId":"email","name":"E-mail"}})"));
  ExecJson(
      engine,
      absl::StrCat(R"({"commandId":"cfg-cal","defineCalendar":{)", at,
                   R"(,"spec":)",
                   ReadFile("examples/calendars/office-berlin.json"), "}}"));
  ExecJson(engine, absl::StrCat(R"({"commandId":"cfg-pol","defineSlaPolicy":{)",
                                at, R"(,"policy":)", kPolicy, "}}"));
}

// --- BM_Engine_Execute / BM_Engine_ExecuteFloor ----------------------------

constexpr int kClientThreads = 8;
// Commands per client thread per run (fixed, so the floor appends exactly
// the events of one Execute run).
constexpr int kCommandsPerThread = 1500;

// Command `i` of client thread `t`. Workload 0: open incident i. Workload
// 1: incident i / 3, step i % 3: open, acknowledge, assign.
Command ClientCommand(int t, int i, int workload) {
  const int incident = workload == 0 ? i : i / 3;
  const int step = workload == 0 ? 0 : i % 3;
  const std::string id = absl::StrCat("T", t, "-INC", incident);
  Command c;
  c.set_command_id(absl::StrCat("c", t, "-", i));
  c.set_actor(absl::StrCat("client", t));
  switch (step) {
    case 0: {
      OpenIncident* o = c.mutable_open_incident();
      o->set_incident_id(id);
      o->set_service_id("email");
      o->set_short_description("mail down");
      o->set_category("network");
      o->set_contact_type(PHONE);
      o->set_impact(1);
      o->set_urgency(1 + incident % 3);  // Priority 1..3: 3 clocks.
      break;
    }
    case 1:
      c.mutable_acknowledge_incident()->set_incident_id(id);
      c.mutable_acknowledge_incident()->set_by("service-desk");
      break;
    default:
      c.mutable_assign_incident()->set_incident_id(id);
      c.mutable_assign_incident()->set_group(absl::StrCat("g", incident % 10));
      c.mutable_assign_incident()->set_person("ann");
      break;
  }
  return c;
}

Options ExecuteOptions(Clock* clock) {
  Options options;
  options.clock = clock;
  options.durability = Durability::kProcessCrash;
  options.projection_mode = ProjectionMode::kSync;
  return options;
}

// One append the floor repeats: what one command appended to one stream.
struct FloorAppend {
  std::string stream;
  ExpectedVersion expected = ExpectedVersion::Any();
  std::vector<Envelope> events;
};

// What one Execute run appended: the configuration (untimed in the floor),
// then per client thread, per command, its appends.
struct Captured {
  std::vector<FloorAppend> config;
  std::vector<std::vector<std::vector<FloorAppend>>> commands;
  int64_t events = 0;
};

// Reads the engine's log back and groups its events by the command that
// appended them (`landed[t][i]`: where command i of thread t landed).
Captured Capture(Engine& engine,
                 const std::vector<std::vector<ExecuteResult>>& landed) {
  std::vector<Envelope> all;
  const int64_t end = engine.NextPosition();
  while (static_cast<int64_t>(all.size()) < end) {
    std::vector<Envelope> batch = Must(
        engine.ReadAll(static_cast<int64_t>(all.size()), 10000), "read back");
    if (batch.empty()) std::abort();
    for (Envelope& e : batch) all.push_back(std::move(e));
  }
  auto take = [&](const std::string& stream, int64_t first, int64_t last,
                  int64_t first_version) {
    FloorAppend a;
    a.stream = stream;
    a.expected = first_version == 0 ? ExpectedVersion::NoStream()
                                    : ExpectedVersion::Exact(first_version - 1);
    for (int64_t p = first; p <= last; ++p) {
      Envelope e = all[static_cast<size_t>(p)];
      e.clear_position();
      e.clear_version();
      e.clear_recorded_at_us();
      a.events.push_back(std::move(e));
    }
    return a;
  };
  Captured c;
  int64_t min_command_position = end;
  c.commands.resize(landed.size());
  for (size_t t = 0; t < landed.size(); ++t) {
    for (const ExecuteResult& r : landed[t]) {
      c.commands[t].emplace_back();
      for (const StreamAppend& s : r.appends()) {
        c.commands[t].back().push_back(take(s.stream(), s.first_position(),
                                            s.last_position(),
                                            s.first_version()));
        c.events += s.last_position() - s.first_position() + 1;
        min_command_position =
            std::min(min_command_position, s.first_position());
      }
    }
  }
  // Everything before the first command's event is configuration.
  for (int64_t p = 0; p < min_command_position; ++p) {
    const Envelope& e = all[static_cast<size_t>(p)];
    c.config.push_back(take(e.stream(), p, p, -1));
    c.config.back().expected = ExpectedVersion::Any();
  }
  return c;
}

// Shared by the threads of one run. Set up by thread 0 before the loop's
// start barrier, torn down by it after the stop barrier.
struct ExecuteRun {
  std::string dir;
  std::unique_ptr<SimulatedClock> clock;
  std::unique_ptr<Engine> engine;
  std::unique_ptr<EventLog> log;  // The floor's.
  std::vector<std::vector<ExecuteResult>> landed;
  const Captured* captured = nullptr;
  std::atomic<int64_t> failures{0};
  std::string first_error;  // Written by the first failure only.
  absl::Time start;
};
ExecuteRun* g_run = nullptr;
std::map<int64_t, Captured> g_captured;    // By workload.
std::map<int64_t, double> g_execute_rate;  // Commands/s (thread 0's wall).

void NoteFailure(ExecuteRun& run, const absl::Status& st) {
  if (run.failures.fetch_add(1) == 0) run.first_error = st.ToString();
}

// When BM_Engine_ExecuteFloor runs without BM_Engine_Execute before it:
// produces the same events by running the same commands (untimed) on a
// scratch engine.
const Captured& CapturedFor(int64_t workload) {
  auto it = g_captured.find(workload);
  if (it != g_captured.end()) return it->second;
  const std::string dir = TempPath(absl::StrCat("capture", workload));
  SimulatedClock clock(kBase);
  std::unique_ptr<Engine> engine =
      Must(Engine::Open(ExecuteOptions(&clock), dir), "open");
  DefineConfig(*engine);
  std::vector<std::vector<ExecuteResult>> landed(kClientThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kClientThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCommandsPerThread; ++i) {
        landed[t].push_back(Must(
            engine->Execute(ClientCommand(t, i, static_cast<int>(workload))),
            "execute"));
      }
    });
  }
  for (std::thread& th : threads) th.join();
  Captured c = Capture(*engine, landed);
  engine.reset();
  RemoveDir(dir);
  return g_captured[workload] = std::move(c);
}

void BM_Engine_Execute(benchmark::State& state) {
  const int workload = static_cast<int>(state.range(0));
  const int t = state.thread_index();
  if (t == 0) {
    g_run = new ExecuteRun;
    g_run->dir = TempPath(absl::StrCat("execute", workload));
    g_run->clock = std::make_unique<SimulatedClock>(kBase);
    g_run->engine = Must(
        Engine::Open(ExecuteOptions(g_run->clock.get()), g_run->dir), "open");
    DefineConfig(*g_run->engine);
    g_run->landed.resize(static_cast<size_t>(state.threads()));
  }
  // Built before the timed loop: the loop measures Execute only.
  std::vector<Command> commands;
  for (int i = 0; i < static_cast<int>(state.max_iterations); ++i) {
    commands.push_back(ClientCommand(t, i, workload));
  }
  size_t i = 0;
  bool first = true;
  for (auto _ : state) {
    if (first && t == 0) g_run->start = absl::Now();
    first = false;
    absl::StatusOr<ExecuteResult> r = g_run->engine->Execute(commands[i++]);
    if (!r.ok()) {
      NoteFailure(*g_run, r.status());
      continue;
    }
    g_run->landed[static_cast<size_t>(t)].push_back(std::move(*r));
  }
  state.SetItemsProcessed(state.iterations());
  if (t != 0) return;
  // Thread 0, after the stop barrier: every client is done.
  const double wall = absl::ToDoubleSeconds(absl::Now() - g_run->start);
  const int64_t commands_run = state.iterations() * state.threads();
  if (g_run->failures.load() > 0) {
    state.SkipWithError(g_run->first_error.c_str());
  } else if (absl::Status st = g_run->engine->ProjectionStatus(); !st.ok()) {
    state.SkipWithError(st.ToString().c_str());
  } else {
    const double rate = static_cast<double>(commands_run) / wall;
    g_execute_rate[workload] = rate;
    Captured c = Capture(*g_run->engine, g_run->landed);
    state.counters["commands_per_s_wall"] = rate;
    state.counters["events_per_command"] =
        static_cast<double>(c.events) / static_cast<double>(commands_run);
    state.counters["log_events"] =
        static_cast<double>(g_run->engine->NextPosition());
    g_captured[workload] = std::move(c);
  }
  g_run->engine.reset();
  RemoveDir(g_run->dir);
  delete g_run;
  g_run = nullptr;
}
BENCHMARK(BM_Engine_Execute)
    ->Arg(0)
    ->Arg(1)
    ->Threads(kClientThreads)
    ->Iterations(kCommandsPerThread)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

void BM_Engine_ExecuteFloor(benchmark::State& state) {
  const int workload = static_cast<int>(state.range(0));
  const int t = state.thread_index();
  if (t == 0) {
    const Captured& captured = CapturedFor(workload);
    g_run = new ExecuteRun;
    g_run->captured = &captured;
    g_run->dir = TempPath(absl::StrCat("floor", workload));
    g_run->clock = std::make_unique<SimulatedClock>(kBase);
    g_run->log = Must(
        EventLog::Open(ExecuteOptions(g_run->clock.get()), g_run->dir), "open");
    for (const FloorAppend& a : captured.config) {
      Must(g_run->log->Append(a.stream, a.expected, a.events).status(),
           "config");
    }
  }
  // The other threads see g_run only after the loop's start barrier: each
  // copies its appends in its first iteration, with the timer paused.
  std::vector<FloorAppend> appends;
  size_t i = 0;
  bool first = true;
  for (auto _ : state) {
    if (first) {
      // Copied untimed: the floor measures Append only.
      state.PauseTiming();
      for (const auto& cmd :
           g_run->captured->commands[static_cast<size_t>(t)]) {
        for (const FloorAppend& a : cmd) appends.push_back(a);
      }
      first = false;
      if (t == 0) g_run->start = absl::Now();
      state.ResumeTiming();
    }
    // One command's appends per iteration (all of ours have one stream).
    FloorAppend& a = appends[i++];
    absl::StatusOr<AppendResult> r =
        g_run->log->Append(a.stream, a.expected, std::move(a.events));
    if (!r.ok()) NoteFailure(*g_run, r.status());
  }
  state.SetItemsProcessed(state.iterations());
  if (t != 0) return;
  const double wall = absl::ToDoubleSeconds(absl::Now() - g_run->start);
  const int64_t commands_run = state.iterations() * state.threads();
  if (g_run->failures.load() > 0) {
    state.SkipWithError(g_run->first_error.c_str());
  } else {
    const double rate = static_cast<double>(commands_run) / wall;
    state.counters["appends_per_s_wall"] = rate;
    state.counters["events"] = static_cast<double>(g_run->captured->events);
    auto it = g_execute_rate.find(workload);
    if (it != g_execute_rate.end()) {
      state.counters["execute_over_floor"] = it->second / rate;
    }
  }
  g_run->log.reset();
  RemoveDir(g_run->dir);
  delete g_run;
  g_run = nullptr;
}
BENCHMARK(BM_Engine_ExecuteFloor)
    ->Arg(0)
    ->Arg(1)
    ->Threads(kClientThreads)
    ->Iterations(kCommandsPerThread)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// --- Large databases: open incidents, finished incidents ------------------

// Events of one incident opened at a random instant in the 30 days after
// kBase, with its priority (1..3: the policy's three clocks start). If
// `finished`, then acknowledged, resolved and closed (no clock left running).
std::vector<Envelope> IncidentEvents(std::mt19937_64& rng, int64_t i,
                                     bool finished) {
  const std::string id = absl::StrCat("INC", i);
  int64_t t = absl::ToUnixMicros(kBase) +
              static_cast<int64_t>(rng() % (30LL * 24 * 3600)) * 1000000;
  const int priority = 1 + static_cast<int>(i % 3);
  std::vector<Envelope> events;
  auto add = [&](int64_t minutes) -> Envelope& {
    t += minutes * 60000000;
    Envelope e;
    e.set_event_id(absl::StrCat(id, "-", events.size()));
    e.set_occurred_at_us(t);
    events.push_back(std::move(e));
    return events.back();
  };
  IncidentOpened* o = add(0).mutable_incident_opened();
  o->set_number(id);
  o->set_service("email");
  o->set_category("network");
  o->set_impact(1);
  o->set_urgency(priority);
  IncidentPrioritySet* p = add(0).mutable_incident_priority_set();
  p->set_impact(1);
  p->set_urgency(priority);
  p->set_priority(priority);
  if (finished) {
    add(1 + static_cast<int64_t>(rng() % 30))
        .mutable_incident_acknowledged()
        ->set_by("desk");
    add(30 + static_cast<int64_t>(rng() % 2000))
        .mutable_incident_resolved()
        ->set_resolution_code("fixed");
    add(60 + static_cast<int64_t>(rng() % 2000)).mutable_incident_closed();
  }
  return events;
}

// Every event lies before it: nothing is refused as "in the future".
SimulatedClock& LateClock() {
  static SimulatedClock* clock =
      new SimulatedClock(kBase + absl::Hours(24 * 60));
  return *clock;
}

// Smallest snapshot position over every projection, and whether each one's
// fold checkpoint is the log's end.
struct SnapshotCheck {
  int64_t min_snapshot = -1;
  bool folded_to_end = true;
  size_t projections = 0;
};
SnapshotCheck CheckSnapshots(Engine& engine) {
  ProjectionRunner& runner = RunnerOf(engine);
  const int64_t end = engine.NextPosition();
  SnapshotCheck c;
  c.min_snapshot = end;
  for (const std::string& name : runner.Names()) {
    c.min_snapshot = std::min(
        c.min_snapshot, Must(runner.SnapshotPosition(name), "snapshot pos"));
    if (Must(runner.Checkpoint(name), "checkpoint") != end) {
      c.folded_to_end = false;
    }
    ++c.projections;
  }
  return c;
}

struct OpenFixture {
  std::string dir;
  int64_t log_end = 0;
  double append_s = 0;    // Appending the incidents through the log.
  double fold_s = 0;      // Folding them all (what a reopen must avoid).
  double snapshot_s = 0;  // Writing the snapshot after the fold.
  double db_mib = 0;
};

// N open incidents with 3 running clocks each, folded, snapshot written at
// the log's end; the engine closed.
OpenFixture* BuildOpenFixture(int64_t n) {
  auto* fx = new OpenFixture;
  fx->dir = TempPath(absl::StrCat("open", n));
  Options options;
  options.clock = &LateClock();
  options.durability = Durability::kBulkImport;
  std::unique_ptr<Engine> engine = Must(Engine::Open(options, fx->dir), "open");
  DefineConfig(*engine);
  EventLog& log = LogOf(*engine);
  std::mt19937_64 rng(7);
  absl::Time t0 = absl::Now();
  for (int64_t i = 0; i < n; ++i) {
    Must(log.Append(absl::StrCat("incident/INC", i),
                    ExpectedVersion::NoStream(), IncidentEvents(rng, i, false))
             .status(),
         "append");
  }
  Must(log.Flush(), "flush");
  absl::Time t1 = absl::Now();
  Must(RunnerOf(*engine).CatchUp(), "fold");
  absl::Time t2 = absl::Now();
  Must(RunnerOf(*engine).Snapshot(), "snapshot");
  absl::Time t3 = absl::Now();
  SnapshotCheck c = CheckSnapshots(*engine);
  fx->log_end = engine->NextPosition();
  if (c.min_snapshot != fx->log_end || !c.folded_to_end) {
    std::fprintf(stderr, "snapshot at %lld, log end %lld\n",
                 static_cast<long long>(c.min_snapshot),
                 static_cast<long long>(fx->log_end));
    std::abort();
  }
  engine.reset();
  fx->append_s = absl::ToDoubleSeconds(t1 - t0);
  fx->fold_s = absl::ToDoubleSeconds(t2 - t1);
  fx->snapshot_s = absl::ToDoubleSeconds(t3 - t2);
  fx->db_mib = DirMiB(fx->dir);
  return fx;
}

// The fixtures built in this process, removed from disk when it exits.
struct OpenFixtures {
  ~OpenFixtures() {
    for (auto& [n, fx] : by_size) RemoveDir(fx->dir);
  }
  std::map<int64_t, OpenFixture*> by_size;
};

void BM_Engine_Open(benchmark::State& state) {
  const int64_t n = state.range(0);
  const int64_t query = state.range(1);
  static OpenFixtures fixtures;
  OpenFixture*& fx = fixtures.by_size[n];
  if (fx == nullptr) fx = BuildOpenFixture(n);
  Options options;
  options.clock = &LateClock();
  options.durability = Durability::kProcessCrash;
  SnapshotCheck check;
  size_t returned = 0;
  int64_t rss_kb = 0;
  double open_s = 0, query_s = 0;  // Summed over the iterations.
  for (auto _ : state) {
    const absl::Time t0 = absl::Now();
    std::unique_ptr<Engine> engine =
        Must(Engine::Open(options, fx->dir), "reopen");
    const absl::Time t1 = absl::Now();
    // Query 0: AtRisk(now, 8h, top_n 1). Every clock's deadline lies
    // before the clock's now (the incidents opened 30-60 days ago and
    // nothing advanced time), so every running clock qualifies. Query 1:
    // the clocks of one incident (a point read).
    std::vector<SlaClockView> risky =
        query == 0 ? Must(engine->AtRisk(LateClock().Now(), absl::Hours(8),
                                         SlaAtRiskFilter(), 1),
                          "at risk")
                   : Must(engine->Clocks(absl::StrCat("incident/INC", n / 2)),
                          "clocks");
    state.PauseTiming();
    open_s += absl::ToDoubleSeconds(t1 - t0);
    query_s += absl::ToDoubleSeconds(absl::Now() - t1);
    returned = risky.size();
    check = CheckSnapshots(*engine);
    rss_kb = ProcStatusKb("VmRSS:");
    engine.reset();
    state.ResumeTiming();
  }
  const double iterations = static_cast<double>(state.iterations());
  state.counters["open_ms"] = 1000 * open_s / iterations;
  state.counters["query_ms"] = 1000 * query_s / iterations;
  state.counters["incidents"] = static_cast<double>(n);
  state.counters["log_events"] = static_cast<double>(fx->log_end);
  state.counters["snapshot_position_min"] =
      static_cast<double>(check.min_snapshot);
  state.counters["snapshot_at_end"] =
      check.min_snapshot == fx->log_end && check.folded_to_end ? 1 : 0;
  state.counters["projections"] = static_cast<double>(check.projections);
  state.counters["clocks_returned"] = static_cast<double>(returned);
  state.counters["VmRSS_open_MiB"] = static_cast<double>(rss_kb) / 1024.0;
  state.counters["build_append_s"] = fx->append_s;
  state.counters["build_fold_s"] = fx->fold_s;
  state.counters["build_snapshot_s"] = fx->snapshot_s;
  state.counters["db_MiB"] = fx->db_mib;
}
BENCHMARK(BM_Engine_Open)
    ->Args({100000, 0})
    ->Args({100000, 1})
    ->Args({1000000, 0})
    ->Args({1000000, 1})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);

void BM_Engine_FinishedAndOpenMemory(benchmark::State& state) {
  const int64_t finished = state.range(0);
  const int64_t open = state.range(1);
  const int64_t total = finished + open;
  for (auto _ : state) {
    const int64_t before_kb = ProcStatusKb("VmHWM:");
    const std::string dir = TempPath(absl::StrCat("mem", finished, "-", open));
    Options options;
    options.clock = &LateClock();
    // No WAL; the projections fold on their own thread in large batches
    // while the incidents are appended (a bulk load).
    options.durability = Durability::kBulkImport;
    options.projection_mode = ProjectionMode::kAsync;
    std::unique_ptr<Engine> engine = Must(Engine::Open(options, dir), "open");
    DefineConfig(*engine);
    std::mt19937_64 rng(7);
    // Where the memory is at the RSS peak: every 100 ms, a new VmRSS high
    // records RocksDB's own share (memtables, block cache, table readers'
    // index and filter blocks) at that moment.
    struct AtPeak {
      int64_t rss_kb = 0;
      uint64_t memtables = 0, block_cache = 0, table_readers = 0;
    };
    AtPeak at_peak;
    std::atomic<bool> sampling{true};
    std::thread sampler([&] {
      rocksdb::DB* db = LogOf(*engine).db();
      while (sampling.load()) {
        const int64_t rss = ProcStatusKb("VmRSS:");
        if (rss > at_peak.rss_kb) {
          AtPeak p;
          p.rss_kb = rss;
          db->GetAggregatedIntProperty("rocksdb.cur-size-all-mem-tables",
                                       &p.memtables);
          // One cache shared by every column family: read it once.
          db->GetIntProperty("rocksdb.block-cache-usage", &p.block_cache);
          db->GetAggregatedIntProperty("rocksdb.estimate-table-readers-mem",
                                       &p.table_readers);
          at_peak = p;
        }
        absl::SleepFor(absl::Milliseconds(100));
      }
    });
    const absl::Time t0 = absl::Now();
    int64_t opened = 0;
    for (int64_t i = 0; i < total; ++i) {
      // The open incidents spread evenly among the finished ones.
      const bool is_open = (i + 1) * open / total != i * open / total;
      opened += is_open ? 1 : 0;
      Must(engine
               ->Append(absl::StrCat("incident/INC", i),
                        ExpectedVersion::NoStream(),
                        IncidentEvents(rng, i, !is_open))
               .status(),
           "append");
    }
    const absl::Time t1 = absl::Now();
    Must(engine->WaitForProjections(engine->NextPosition(),
                                    absl::InfiniteDuration()),
         "fold");
    const absl::Time t2 = absl::Now();
    sampling.store(false);
    sampler.join();
    const int64_t hwm_kb = ProcStatusKb("VmHWM:");
    const int64_t rss_kb = ProcStatusKb("VmRSS:");
    int64_t running = 0, clocks = 0;
    Must(ForEachClock(RunnerOf(*engine),
                      [&](const SlaClockView& v) {
                        ++clocks;
                        if (v.state.phase() == SLA_CLOCK_PHASE_RUNNING) {
                          ++running;
                        }
                      }),
         "clocks");
    state.counters["finished"] = static_cast<double>(total - opened);
    state.counters["open"] = static_cast<double>(opened);
    state.counters["log_events"] = static_cast<double>(engine->NextPosition());
    state.counters["clocks"] = static_cast<double>(clocks);
    state.counters["running_clocks"] = static_cast<double>(running);
    state.counters["append_s"] = absl::ToDoubleSeconds(t1 - t0);
    state.counters["fold_wait_s"] = absl::ToDoubleSeconds(t2 - t1);
    state.counters["VmHWM_MiB"] = static_cast<double>(hwm_kb) / 1024.0;
    state.counters["VmRSS_end_MiB"] = static_cast<double>(rss_kb) / 1024.0;
    state.counters["VmHWM_after_count_MiB"] =
        static_cast<double>(ProcStatusKb("VmHWM:")) / 1024.0;
    constexpr double kMiB = 1024.0 * 1024.0;
    state.counters["peak_RSS_MiB"] =
        static_cast<double>(at_peak.rss_kb) / 1024.0;
    state.counters["peak_memtables_MiB"] =
        static_cast<double>(at_peak.memtables) / kMiB;
    state.counters["peak_block_cache_MiB"] =
        static_cast<double>(at_peak.block_cache) / kMiB;
    state.counters["peak_table_readers_MiB"] =
        static_cast<double>(at_peak.table_readers) / kMiB;
    state.counters["VmHWM_before_MiB"] =
        static_cast<double>(before_kb) / 1024.0;
    engine.reset();
    RemoveDir(dir);
  }
}
BENCHMARK(BM_Engine_FinishedAndOpenMemory)
    ->Args({200000, 10000})
    ->Args({2000000, 100000})
    ->Unit(benchmark::kSecond)
    ->Iterations(1);

}  // namespace
}  // namespace slate
