// Child process of crash_points_test: works on a database until a crash
// point (armed by the parent through SLATE_CRASH_POINT, or here through the
// API) aborts it. Every event it knows to be acknowledged is written to
// stdout as "<event id>\n" with write(2) (nothing buffered is lost by the
// abort). Exits 0 if it finishes its work without crashing, which the parent
// treats as a failure (the point was never reached).
//
//   crash_points_child append  DB DURABILITY RUN BATCHES
//       Appends BATCHES new incidents, one Append each of 1..4 events with
//       ids "r<RUN>-b<batch>-<i>of<size>"; acks each after Append returns.
//   crash_points_child rebuild DB DURABILITY RUN BATCHES REBUILDS [SPEC]
//       Appends as above, then arms SPEC (crash_point::ArmFromSpec) if given,
//       then rebuilds every built-in projection in turn, REBUILDS rounds.
//   crash_points_child rebuild-batched DB DURABILITY RUN BATCHES REBUILDS
//                      [SPEC]
//       The same, but the rebuilds run on a ProjectionRunner that reads 32
//       events at a time and snapshots after each read (snapshot_events =
//       1), so a crash can land after a snapshot of part of a rebuild.
//   crash_points_child rebuild-all DB DURABILITY RUN BATCHES REBUILDS [SPEC]
//       The same, but each round rebuilds all the projections at once, on a
//       ProjectionRunner with two fold threads (a snapshot writes one batch
//       per projection).
//   crash_points_child rebuild-ingest DB DURABILITY RUN BATCHES REBUILDS
//                      [SPEC]
//       The same as rebuild-all, but every rebuild's snapshot is ingested as
//       SST files (RunnerOptions::ingest_min_keys_for_test = 1).
//   crash_points_child import  DB DURABILITY CSV
//       Imports the ServiceNow export CSV with max_events_per_append = 2;
//       acks every event a subscription sees committed.
//
// DURABILITY: power-loss | process-crash.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "lib/api/engine.h"
#include "lib/api/engine_internal.h"
#include "lib/base/crash_point.h"
#include "lib/import/servicenow_import.h"
#include "lib/log/event_log.h"
#include "lib/projection/builtins.h"
#include "lib/projection/runner.h"
#include "tests/testing/incident_events.h"

namespace {

void WriteAll(const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    const ssize_t n = ::write(1, s.data() + off, s.size() - off);
    if (n <= 0) std::_Exit(3);  // The parent went away.
    off += static_cast<size_t>(n);
  }
}

int Fail(const absl::Status& s) {
  std::fprintf(stderr, "crash_points_child: %s\n", s.ToString().c_str());
  return 1;
}

// Appends `batches` new incidents of 1..4 events each (opened, assigned,
// commented, acknowledged: a prefix), acknowledging each append's ids.
absl::Status AppendBatches(slate::Engine& engine, long run, long batches) {
  std::mt19937 rng(static_cast<unsigned>(run));
  for (long b = 0; b < batches; ++b) {
    const int size = 1 + static_cast<int>(rng() % 4);
    const std::string number = absl::StrCat("r", run, "-", b);
    const int64_t at_us = 1700000000000000 + (run * 100000 + b) * 1000000;
    std::vector<slate::Envelope> events;
    std::string acks;
    for (int i = 0; i < size; ++i) {
      slate::Envelope e;
      e.set_event_id(absl::StrCat("r", run, "-b", b, "-", i, "of", size));
      e.set_occurred_at_us(at_us + i);
      slate::testing::SetIncidentStep(i, number, rng, &e);
      absl::StrAppend(&acks, e.event_id(), "\n");
      events.push_back(std::move(e));
    }
    absl::StatusOr<slate::AppendResult> r =
        engine.Append(absl::StrCat("incident/", number),
                      slate::ExpectedVersion::NoStream(), std::move(events));
    if (!r.ok()) return r.status();
    WriteAll(acks);
  }
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr,
                 "usage: crash_points_child append|rebuild|import DB "
                 "DURABILITY ...\n");
    return 2;
  }
  const std::string mode = argv[1];
  slate::Options options;
  options.durability = std::strcmp(argv[3], "power-loss") == 0
                           ? slate::Durability::kPowerLoss
                           : slate::Durability::kProcessCrash;
  if (mode == "import") options.max_events_per_append = 2;
  auto engine = slate::Engine::Open(options, argv[2]);
  if (!engine.ok()) return Fail(engine.status());

  if (mode == "import") {
    std::unique_ptr<slate::Subscription> acks =
        (*engine)->Subscribe(0, [](const slate::Envelope& e) {
          WriteAll(absl::StrCat(e.event_id(), "\n"));
          return absl::OkStatus();
        });
    auto s = slate::ImportServiceNow(engine->get(), argv[4],
                                     slate::ServiceNowImportOptions());
    if (!s.ok()) return Fail(s.status());
    return 0;
  }

  long run = 0, batches = 0;
  if (argc < 6 || !absl::SimpleAtoi(argv[4], &run) ||
      !absl::SimpleAtoi(argv[5], &batches)) {
    std::fprintf(stderr, "crash_points_child: bad RUN or BATCHES\n");
    return 2;
  }
  if (absl::Status s = AppendBatches(**engine, run, batches); !s.ok()) {
    return Fail(s);
  }
  if (mode == "append") return 0;
  if ((mode != "rebuild" && mode != "rebuild-batched" &&
       mode != "rebuild-all" && mode != "rebuild-ingest") ||
      argc < 7) {
    std::fprintf(stderr, "crash_points_child: bad mode or arguments\n");
    return 2;
  }
  long rebuilds = 0;
  if (!absl::SimpleAtoi(argv[6], &rebuilds)) return 2;
  auto arm = [&]() -> absl::Status {
    if (argc < 8) return absl::OkStatus();
    return slate::crash_point::ArmFromSpec(argv[7]);
  };
  if (mode == "rebuild-batched" || mode == "rebuild-all" ||
      mode == "rebuild-ingest") {
    // Armed after the engine closed: its closing snapshot is not a hit.
    engine->reset();
    if (absl::Status s = arm(); !s.ok()) return Fail(s);
    auto log = slate::EventLog::Open(options, argv[2]);
    if (!log.ok()) return Fail(log.status());
    slate::RunnerOptions ro;
    if (mode == "rebuild-batched") {
      ro.batch_events = 32;
      ro.snapshot_events = 1;
    } else {
      ro.fold_threads = 2;
      if (mode == "rebuild-ingest") ro.ingest_min_keys_for_test = 1;
    }
    auto runner = slate::ProjectionRunner::Open(
        log->get(), slate::BuiltinProjections((*log)->options()), ro);
    if (!runner.ok()) return Fail(runner.status());
    for (long i = 0; i < rebuilds; ++i) {
      if (mode != "rebuild-batched") {
        if (absl::Status s = (*runner)->RebuildAll(); !s.ok()) return Fail(s);
        continue;
      }
      for (const std::string& name : (*runner)->Names()) {
        if (absl::Status s = (*runner)->Rebuild(name); !s.ok()) return Fail(s);
      }
    }
    return 0;
  }
  if (absl::Status s = arm(); !s.ok()) return Fail(s);
  const std::vector<std::string> names = RunnerOf(**engine).Names();
  for (long i = 0; i < rebuilds; ++i) {
    for (const std::string& name : names) {
      if (absl::Status s = (*engine)->RebuildProjection(name); !s.ok()) {
        return Fail(s);
      }
    }
  }
  return 0;
}
