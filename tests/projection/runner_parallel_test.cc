// Folding projections on several threads (RunnerOptions::fold_threads),
// projections that defer their writes to Flush (the built-ins keep records,
// clocks and KPI cells decoded between events), and RebuildAll must never
// change what is stored. The built-in projections fold a random log of
// incident lifecycles (late events included) in uneven live steps with
// reopens, under option sets from "one thread, big batches" to "three
// threads, a snapshot after every 7-event read, no cache"; every option set
// must store exactly the state of an independent in-memory fold
// (VerifyProjections), the same bytes as every other option set, and the
// same bytes again after RebuildAll.
#include <atomic>
#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "lib/log/event_log.h"
#include "lib/projection/builtins.h"
#include "lib/projection/decoded_cache.h"
#include "lib/projection/projection_verify.h"
#include "lib/projection/runner.h"
#include "tests/testing/temp_dir.h"

namespace slate {
namespace {

const int64_t kBaseUs = 1795420800LL * 1000000;  // 2026-11-23T00:00:00Z

Envelope FromJson(const std::string& id, const std::string& json) {
  Envelope e;
  auto st = google::protobuf::util::JsonStringToMessage(json, &e);
  EXPECT_TRUE(st.ok()) << json;
  e.set_event_id(id);
  e.set_occurred_at_us(kBaseUs - 86400LL * 1000000);
  return e;
}

struct Step {
  std::string stream;
  Envelope event;
};

// Policies, then incidents whose events arrive interleaved; about one in
// eight arrives late (older than its stream's latest).
std::vector<Step> MakeLog(uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Step> out;
  out.push_back({"policy/p24", FromJson("pol-24", R"({"slaPolicyDefined":{"policy":{
      "id":"p24","calendarId":"24x7",
      "appliesTo":{"recordTypes":["incident"]},
      "targets":[{"priority":1,"response":"1h","resolution":"4h"},
                 {"priority":2,"response":"4h","resolution":"8h"},
                 {"priority":3,"response":"8h","resolution":"24h"}],
      "warningThresholdsPercent":[50,90],
      "response":{"start":{"events":["incident_opened"]},
                  "stop":{"events":["incident_acknowledged"]}},
      "resolution":{"start":{"events":["incident_opened","incident_reopened"]},
                    "pause":{"states":["on_hold"]},
                    "stop":{"states":["resolved","closed"]}}}}})")});
  std::vector<std::vector<Step>> incidents;
  for (int i = 0; i < 60; ++i) {
    const std::string id = absl::StrCat("INC", i);
    const std::string stream = absl::StrCat("incident/", id);
    int64_t t = kBaseUs + static_cast<int64_t>(rng() % (10 * 86400)) * 1000000;
    std::vector<Step> steps;
    int n = 0;
    auto add = [&](int64_t minutes) -> Envelope& {
      t += minutes * 60 * 1000000;
      Envelope e;
      e.set_event_id(absl::StrCat(id, "-", n++));
      e.set_occurred_at_us(t);
      steps.push_back({stream, e});
      return steps.back().event;
    };
    const int priority = 1 + static_cast<int>(rng() % 3);
    auto* o = add(0).mutable_incident_opened();
    o->set_number(id);
    o->set_service(absl::StrCat("svc", rng() % 3));
    o->set_category(rng() % 2 ? "network" : "email");
    o->set_contact_type("phone");
    auto* p = add(0).mutable_incident_priority_set();
    p->set_impact(1);
    p->set_urgency(priority);
    p->set_priority(priority);
    add(1 + rng() % 60).mutable_incident_assigned()->set_group(
        absl::StrCat("g", rng() % 4));
    add(1 + rng() % 90).mutable_incident_acknowledged()->set_by("desk");
    if (rng() % 2 == 0) {
      add(5 + rng() % 120).mutable_incident_put_on_hold()->set_reason(
          AWAITING_CALLER);
      add(5 + rng() % 600).mutable_incident_resumed();
    }
    if (rng() % 3 == 0) {
      auto* q = add(5 + rng() % 60).mutable_incident_priority_set();
      q->set_priority(1 + static_cast<int>(rng() % 3));
      q->set_manual_override(true);
      q->set_reason("test");
    }
    add(30 + rng() % 900).mutable_incident_resolved()->set_resolution_code(
        "fixed");
    if (rng() % 4 == 0) {
      add(10 + rng() % 300).mutable_incident_reopened()->set_reason("again");
      add(30 + rng() % 300).mutable_incident_resolved()->set_resolution_code(
          "fixed");
    }
    add(60 + rng() % 900).mutable_incident_closed();
    // Late arrival: swap a few neighbours (never the opening pair).
    for (size_t k = 3; k + 1 < steps.size(); ++k) {
      if (rng() % 8 == 0) std::swap(steps[k], steps[k + 1]);
    }
    incidents.push_back(std::move(steps));
  }
  std::vector<size_t> next(incidents.size(), 0);
  for (bool any = true; any;) {
    any = false;
    for (size_t i = 0; i < incidents.size(); ++i) {
      const size_t take = rng() % 3;
      for (size_t k = 0; k < take && next[i] < incidents[i].size(); ++k) {
        out.push_back(incidents[i][next[i]++]);
      }
      any = any || next[i] < incidents[i].size();
    }
  }
  return out;
}

struct Variant {
  const char* name;
  RunnerOptions options;
  // Options::projection_cached_records of the projections folded.
  size_t cached_records = Options().projection_cached_records;
};

std::vector<Variant> Variants() {
  std::vector<Variant> v;
  RunnerOptions serial;
  serial.fold_threads = 1;
  v.push_back({"serial", serial});
  v.push_back({"defaults", RunnerOptions()});
  RunnerOptions busy;  // More threads than projections need; tiny steps.
  busy.fold_threads = 3;
  busy.batch_events = 7;
  busy.snapshot_events = 1;
  busy.snapshot_bytes = 0;
  v.push_back({"three-threads-snapshot-each-read", busy});
  RunnerOptions uneven;
  uneven.fold_threads = 2;
  uneven.batch_events = 13;
  uneven.snapshot_bytes = 4096;
  uneven.snapshot_events = 50;
  v.push_back({"two-threads-tiny-cache", uneven});
  // Decoded SLA and KPI records, clocks and cells dropped (and their
  // memory reused for the next) after nearly every batch of 5 events: a
  // batch that touches more than one record is over the bound of one.
  RunnerOptions evicting;
  evicting.batch_events = 5;
  v.push_back({"decoded-caches-of-one-record", evicting, 1});
  return v;
}

using Dumps = std::map<std::string, std::vector<std::pair<std::string, std::string>>>;

TEST(RunnerParallelTest, EveryOptionSetStoresTheSameBytesAsAFreshFold) {
  const uint64_t seed = 20261126;
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  const std::vector<Step> steps = MakeLog(seed);
  size_t late = 0;
  {
    std::map<std::string, int64_t> latest;
    for (const Step& s : steps) {
      int64_t& l = latest[s.stream];
      late += s.event.occurred_at_us() < l;
      l = std::max(l, s.event.occurred_at_us());
    }
  }
  ASSERT_GT(late, 10u);  // The log really has late events.

  std::vector<Dumps> results;
  for (const Variant& variant : Variants()) {
    SCOPED_TRACE(variant.name);
    testing::TempDir dir;
    Options options;
    options.durability = Durability::kProcessCrash;
    options.max_clock_skew = absl::Hours(24 * 365 * 10);
    auto log = EventLog::Open(options, dir.path());
    ASSERT_TRUE(log.ok()) << log.status();
    Options projection_options = (*log)->options();
    projection_options.projection_cached_records = variant.cached_records;
    auto open_runner = [&] {
      return ProjectionRunner::Open(
          log->get(), BuiltinProjections(projection_options), variant.options);
    };
    auto runner = open_runner();
    ASSERT_TRUE(runner.ok()) << runner.status();
    std::mt19937_64 rng(seed + 1);
    size_t i = 0;
    for (int round = 0; i < steps.size(); ++round) {
      const size_t n = 1 + rng() % 40;
      for (size_t k = 0; k < n && i < steps.size(); ++k, ++i) {
        ASSERT_TRUE((*log)
                        ->Append(steps[i].stream, ExpectedVersion::Any(),
                                 {steps[i].event})
                        .ok());
      }
      if (round % 3 != 2) {
        ASSERT_TRUE((*runner)->CatchUp().ok());
      }
      if (round % 11 == 10) {  // Reopen: every cache starts cold.
        runner->reset();
        runner = open_runner();
        ASSERT_TRUE(runner.ok()) << runner.status();
      }
    }
    VerifyReport report;
    ASSERT_TRUE(VerifyProjections(**log, **runner,
                                  BuiltinProjections((*log)->options()),
                                  &report)
                    .ok());
    EXPECT_TRUE(report.problems.empty())
        << report.problems.front() << " (" << report.problems.size()
        << " problems)";
    Dumps incremental;
    for (const std::string& name : (*runner)->Names()) {
      auto d = (*runner)->Dump(name);
      ASSERT_TRUE(d.ok()) << d.status();
      incremental[name] = std::move(*d);
    }
    EXPECT_GT(incremental["sla"].size(), 200u);
    // Every incident's record is stored (deferred writes reach the state).
    size_t records = 0;
    for (const auto& [key, value] : incremental["sla"]) {
      records += key.rfind("rec/incident/", 0) == 0 ? 1 : 0;
    }
    EXPECT_EQ(records, 60u);
    EXPECT_GT(incremental["kpi"].size(), 50u);
    ASSERT_TRUE((*runner)->RebuildAll().ok());
    for (const std::string& name : (*runner)->Names()) {
      auto d = (*runner)->Dump(name);
      ASSERT_TRUE(d.ok()) << d.status();
      EXPECT_TRUE(*d == incremental[name]) << name << " after RebuildAll";
    }
    results.push_back(std::move(incremental));
  }
  for (size_t k = 1; k < results.size(); ++k) {
    for (const auto& [name, dump] : results[0]) {
      EXPECT_TRUE(results[k][name] == dump)
          << name << ": option set " << Variants()[k].name
          << " differs from " << Variants()[0].name;
    }
  }
}

// A decoded record's memory is reused for the next record (a cache of one
// record, a batch per event): a record of one type (incident, change,
// request) reused for another must store the bytes of a fresh one, with
// nothing of the other type's state left behind.
TEST(RunnerParallelTest, RecordsReusedAcrossTypesStoreTheSameBytes) {
  std::vector<Step> steps;
  for (int i = 0; i < 9; ++i) {
    const std::string id = absl::StrCat(i);
    Envelope e;
    e.set_event_id(absl::StrCat("ev", i));
    e.set_occurred_at_us(kBaseUs + i * 1000000LL);
    if (i % 3 == 0) {
      auto* o = e.mutable_incident_opened();
      o->set_number(absl::StrCat("INC", id));
      o->set_service("svc");
      o->set_category("network");
      steps.push_back({absl::StrCat("incident/INC", id), e});
    } else if (i % 3 == 1) {
      auto* c = e.mutable_change_requested();
      c->set_change_id(absl::StrCat("CHG", id));
      c->set_title("upgrade");
      c->add_services("svc");
      c->set_impact(2);
      steps.push_back({absl::StrCat("change/CHG", id), e});
    } else {
      auto* r = e.mutable_request_submitted();
      r->set_request_id(absl::StrCat("REQ", id));
      r->set_requester("someone");
      r->set_service("svc");
      r->set_priority(3);
      steps.push_back({absl::StrCat("request/REQ", id), e});
    }
  }
  std::vector<std::vector<std::pair<std::string, std::string>>> dumps;
  for (size_t cached_records : {size_t{1}, size_t{1000}}) {
    SCOPED_TRACE(cached_records);
    testing::TempDir dir;
    Options options;
    options.durability = Durability::kProcessCrash;
    auto log = EventLog::Open(options, dir.path());
    ASSERT_TRUE(log.ok()) << log.status();
    for (const Step& s : steps) {
      ASSERT_TRUE(
          (*log)->Append(s.stream, ExpectedVersion::Any(), {s.event}).ok());
    }
    Options projection_options = (*log)->options();
    projection_options.projection_cached_records = cached_records;
    RunnerOptions runner_options;
    runner_options.batch_events = 1;
    auto runner = ProjectionRunner::Open(
        log->get(), BuiltinProjections(projection_options), runner_options);
    ASSERT_TRUE(runner.ok()) << runner.status();
    ASSERT_TRUE((*runner)->CatchUp().ok());
    auto d = (*runner)->Dump("sla");
    ASSERT_TRUE(d.ok()) << d.status();
    size_t records = 0;
    for (const auto& [key, value] : *d) {
      records += key.rfind("rec/", 0) == 0 ? 1 : 0;
    }
    EXPECT_EQ(records, steps.size());
    dumps.push_back(std::move(*d));
  }
  ASSERT_EQ(dumps.size(), 2u);
  EXPECT_TRUE(dumps[0] == dumps[1])
      << "a cache of one record stores other bytes than a cache of 1000";
}

// Counts events per stream in a DecodedCache, written only in Flush; fails
// at one position. After a failure the runner must Discard the deferred
// counts, so the refold up to the failing batch does not count twice.
class DeferredCount final : public Projection {
 public:
  DeferredCount(std::string name, int64_t fail_at)
      : name_(std::move(name)), fail_at_(fail_at) {}
  absl::string_view name() const override { return name_; }
  int64_t version() const override { return 1; }
  absl::Status Apply(const Envelope& e, ProjectionState& state) override {
    if (e.position() == fail_at_) return absl::InternalError("boom");
    auto entry = counts_.Load(state, e.stream(),
                              [](absl::string_view bytes, int64_t* n) {
                                return absl::SimpleAtoi(bytes, n)
                                           ? absl::OkStatus()
                                           : absl::DataLossError("count");
                              });
    if (!entry.ok()) return entry.status();
    ++(*entry)->value;
    counts_.MarkWritten(*entry);
    return absl::OkStatus();
  }
  absl::Status Flush(ProjectionState& state) override {
    ++flushes;
    return counts_.Flush([&](const std::string& key, int64_t n, bool) {
      state.Put(key, absl::StrCat(n));
      return absl::OkStatus();
    });
  }
  void Discard() override { counts_.Clear(); }

  const std::string name_;
  int64_t fail_at_;
  int flushes = 0;

 private:
  DecodedCache<int64_t> counts_{1000};
};

// Appends comment events <prefix>from .. <prefix>(to - 1), event i to
// stream s/<i % 2>.
void AppendComments(EventLog& log, const std::string& prefix, int from,
                    int to) {
  for (int i = from; i < to; ++i) {
    Envelope e;
    e.set_event_id(absl::StrCat(prefix, i));
    e.set_occurred_at_us(kBaseUs);
    e.mutable_incident_commented()->set_text("x");
    ASSERT_TRUE(
        log.Append(absl::StrCat("s/", i % 2), ExpectedVersion::Any(), {e})
            .ok());
  }
}

// A kProcessCrash log at `path` holding AppendComments(prefix, 0, n).
std::unique_ptr<EventLog> CommentLog(const std::string& path,
                                     const std::string& prefix, int n) {
  Options options;
  options.durability = Durability::kProcessCrash;
  auto log = EventLog::Open(options, path);
  EXPECT_TRUE(log.ok()) << log.status();
  if (!log.ok()) return nullptr;
  AppendComments(**log, prefix, 0, n);
  return std::move(*log);
}

// snapshot_events = 1: every batch is snapshotted, so the failing batch
// comes after snapshots of this fold (the state must stay at the last one).
TEST(RunnerParallelTest, FailureDiscardsDeferredStateOnEveryThread) {
  for (const auto& [threads, snapshot_events] :
       std::vector<std::pair<size_t, int64_t>>{
           {1, RunnerOptions().snapshot_events},
           {2, RunnerOptions().snapshot_events},
           {1, 1},
           {2, 1}}) {
    SCOPED_TRACE(absl::StrCat(threads, " fold threads, snapshot_events ",
                              snapshot_events));
    testing::TempDir dir;
    std::unique_ptr<EventLog> log = CommentLog(dir.path(), "f", 25);
    ASSERT_TRUE(log != nullptr && !::testing::Test::HasFatalFailure());
    auto failing = std::make_unique<DeferredCount>("deferred", 17);
    auto healthy = std::make_unique<DeferredCount>("healthy", -1);
    DeferredCount* f = failing.get();
    DeferredCount* h = healthy.get();
    std::vector<std::unique_ptr<Projection>> ps;
    ps.push_back(std::move(failing));
    ps.push_back(std::move(healthy));
    RunnerOptions ro;
    ro.batch_events = 5;  // Reads [0,5) [5,10) [10,15) [15,20): 17 fails.
    ro.fold_threads = threads;
    ro.snapshot_events = snapshot_events;
    auto runner = ProjectionRunner::Open(log.get(), std::move(ps), ro);
    ASSERT_TRUE(runner.ok());
    absl::Status st = (*runner)->CatchUp();
    EXPECT_EQ(st.code(), absl::StatusCode::kInternal);
    EXPECT_NE(st.message().find("projection deferred at position 17"),
              std::string::npos)
        << st;
    EXPECT_EQ(*(*runner)->Checkpoint("deferred"), 15);
    EXPECT_EQ(*(*runner)->Checkpoint("healthy"), 15);
    auto expect = [&](const char* name, const char* key, const char* want) {
      auto v = (*runner)->Get(name, key);
      ASSERT_TRUE(v.ok() && v->has_value()) << name << " " << key;
      EXPECT_EQ(**v, want) << name << " " << key;
    };
    expect("deferred", "s/0", "8");  // Positions 0..14: 8 even, 7 odd.
    expect("deferred", "s/1", "7");
    expect("healthy", "s/0", "8");
    f->fail_at_ = -1;
    ASSERT_TRUE((*runner)->CatchUp().ok());
    expect("deferred", "s/0", "13");  // 15..16 were not counted twice.
    expect("deferred", "s/1", "12");
    expect("healthy", "s/0", "13");
    expect("healthy", "s/1", "12");
    EXPECT_GT(f->flushes, 0);
    EXPECT_GT(h->flushes, 0);
  }
}

// A failure after events folded since the last snapshot: the state goes
// back to the snapshot and folds again up to the failing batch, so it
// stands just before that batch, not at the snapshot.
TEST(RunnerParallelTest, AFailureAfterUnsnapshottedWorkStopsBeforeTheBatch) {
  testing::TempDir dir;
  std::unique_ptr<EventLog> log = CommentLog(dir.path(), "u", 20);
  ASSERT_TRUE(log != nullptr && !::testing::Test::HasFatalFailure());
  auto failing = std::make_unique<DeferredCount>("deferred", 22);
  DeferredCount* f = failing.get();
  std::vector<std::unique_ptr<Projection>> ps;
  ps.push_back(std::move(failing));
  auto runner = ProjectionRunner::Open(log.get(), std::move(ps), {});
  ASSERT_TRUE(runner.ok());
  ASSERT_TRUE((*runner)->CatchUp().ok());
  EXPECT_EQ(*(*runner)->SnapshotPosition("deferred"), 0);  // Not yet due.
  ASSERT_NO_FATAL_FAILURE(AppendComments(*log, "u", 20, 30));
  absl::Status st = (*runner)->CatchUp();
  EXPECT_EQ(st.code(), absl::StatusCode::kInternal) << st;
  EXPECT_EQ(*(*runner)->Checkpoint("deferred"), 20);
  auto v = (*runner)->Get("deferred", "s/0");
  ASSERT_TRUE(v.ok() && v->has_value());
  EXPECT_EQ(**v, "10");  // Positions 0..19: 10 even.
  f->fail_at_ = -1;
  ASSERT_TRUE((*runner)->CatchUp().ok());
  v = (*runner)->Get("deferred", "s/0");
  ASSERT_TRUE(v.ok() && v->has_value());
  EXPECT_EQ(**v, "15");
}

// A snapshot writes each projection's batch on its own. When one
// projection's write fails, the others' snapshots stand, the state in
// memory stays right (queries see every event once), and the failed
// projection's changes stay pending: the next snapshot, or a reopen that
// folds from its older snapshot, gives the same answers.
TEST(RunnerParallelTest, AFailedSnapshotWriteKeepsTheStateAndTheOtherSnapshots) {
  for (const size_t threads : {size_t{1}, size_t{2}}) {
    SCOPED_TRACE(absl::StrCat(threads, " fold threads"));
    testing::TempDir dir;
    std::unique_ptr<EventLog> log = CommentLog(dir.path(), "w", 20);
    ASSERT_TRUE(log != nullptr && !::testing::Test::HasFatalFailure());
    std::atomic<bool> beta_fails{false};
    RunnerOptions ro;
    ro.fold_threads = threads;
    ro.write_fault_for_test = [&](absl::string_view projection) {
      return beta_fails.load() && projection == "beta"
                 ? absl::UnavailableError("injected write failure")
                 : absl::OkStatus();
    };
    auto open = [&] {
      std::vector<std::unique_ptr<Projection>> ps;
      ps.push_back(std::make_unique<DeferredCount>("alpha", -1));
      ps.push_back(std::make_unique<DeferredCount>("beta", -1));
      return ProjectionRunner::Open(log.get(), std::move(ps), ro);
    };
    auto runner = open();
    ASSERT_TRUE(runner.ok());
    ASSERT_TRUE((*runner)->CatchUp().ok());
    ASSERT_TRUE((*runner)->Snapshot().ok());
    auto value = [&](const char* name) {
      auto v = (*runner)->Get(name, "s/0");
      EXPECT_TRUE(v.ok() && v->has_value()) << name;
      return v.ok() && v->has_value() ? **v : "";
    };
    beta_fails = true;
    ASSERT_NO_FATAL_FAILURE(AppendComments(*log, "w", 20, 30));
    ASSERT_TRUE((*runner)->CatchUp().ok());
    absl::Status st = (*runner)->Snapshot();
    EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
    EXPECT_NE(st.message().find("projection beta"), std::string::npos) << st;
    EXPECT_EQ(*(*runner)->SnapshotPosition("alpha"), 30);
    EXPECT_EQ(*(*runner)->SnapshotPosition("beta"), 20);
    EXPECT_EQ(*(*runner)->Checkpoint("beta"), 30);
    EXPECT_EQ(value("alpha"), "15");
    EXPECT_EQ(value("beta"), "15");
    // A reopen while beta still cannot write: it loads its older snapshot
    // and folds the tail again, counting each event once.
    runner->reset();
    runner = open();
    ASSERT_TRUE(runner.ok());
    EXPECT_EQ(*(*runner)->Checkpoint("beta"), 20);
    ASSERT_TRUE((*runner)->CatchUp().ok());
    EXPECT_EQ(value("beta"), "15");
    beta_fails = false;
    ASSERT_NO_FATAL_FAILURE(AppendComments(*log, "w", 30, 40));
    ASSERT_TRUE((*runner)->CatchUp().ok());
    ASSERT_TRUE((*runner)->Snapshot().ok());
    EXPECT_EQ(*(*runner)->SnapshotPosition("alpha"), 40);
    EXPECT_EQ(*(*runner)->SnapshotPosition("beta"), 40);
    EXPECT_EQ(value("alpha"), "20");
    EXPECT_EQ(value("beta"), "20");
  }
}

}  // namespace
}  // namespace slate
