// The runner's write-behind state cache and deferred commits (RunnerOptions
// cache_bytes, commit_bytes, batch_events) must never change what is stored:
// for every option set, folding a random log in uneven live steps, with
// reopens in between, gives exactly the state of an independent in-memory
// fold (VerifyProjections). The projection here leans on what the cache has
// to get right: Scan merging committed keys with this batch's writes,
// deletes of committed keys, reads of absent keys, and overwrites.
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "lib/log/event_log.h"
#include "lib/projection/projection_verify.h"
#include "lib/projection/runner.h"
#include "tests/testing/temp_dir.h"

namespace slate {
namespace {

// Keeps, per stream, a window of the last 3 event ids ("w/<stream>/<pos>"),
// found by Scan and trimmed by Delete; a per-stream counter ("n/<stream>");
// and a set of "seen" ids that every 5th event of a stream clears by Scan.
class WindowProjection final : public Projection {
 public:
  absl::string_view name() const override { return "window"; }
  int64_t version() const override { return 1; }
  absl::Status Apply(const Envelope& e, ProjectionState& state) override {
    const std::string stream = e.stream();
    const std::string prefix = absl::StrCat("w/", stream, "/");
    state.Put(absl::StrFormat("%s%08d", prefix, e.position()), e.event_id());
    std::vector<std::string> window;
    absl::Status st =
        state.Scan(prefix, [&](absl::string_view k, absl::string_view) {
          window.emplace_back(k);
          return true;
        });
    if (!st.ok()) return st;
    for (size_t i = 0; i + 3 < window.size(); ++i) state.Delete(window[i]);

    const std::string count_key = absl::StrCat("n/", stream);
    auto count = state.Get(count_key);
    if (!count.ok()) return count.status();
    int64_t n = 0;
    if (count->has_value() && !absl::SimpleAtoi(**count, &n)) {
      return absl::InternalError("bad counter");
    }
    ++n;
    state.Put(count_key, absl::StrCat(n));
    // A read of a key that never exists (the cache's negative entries).
    auto none = state.Get(absl::StrCat("x/", stream));
    if (!none.ok()) return none.status();
    if (none->has_value()) return absl::InternalError("x/ exists");

    const std::string seen = absl::StrCat("s/", stream, "/");
    if (n % 5 == 0) {
      std::vector<std::string> all;
      st = state.Scan(seen, [&](absl::string_view k, absl::string_view) {
        all.emplace_back(k);
        return true;
      });
      if (!st.ok()) return st;
      for (const std::string& k : all) state.Delete(k);
    } else {
      state.Put(absl::StrCat(seen, e.event_id()), "1");
    }
    return absl::OkStatus();
  }
};

struct Variant {
  const char* name;
  RunnerOptions options;
};

std::vector<Variant> Variants() {
  std::vector<Variant> v;
  v.push_back({"defaults", RunnerOptions()});
  RunnerOptions no_cache;  // Every read snapshots and drops the cache:
                           // merged scans.
  no_cache.snapshot_bytes = 0;
  no_cache.batch_events = 3;
  no_cache.snapshot_events = 1;
  v.push_back({"no-cache-snapshot-each-read", no_cache});
  RunnerOptions tiny;  // Evicts now and then.
  tiny.snapshot_bytes = 2048;
  tiny.batch_events = 5;
  tiny.snapshot_events = 7;
  v.push_back({"tiny-cache", tiny});
  return v;
}

Envelope Event(const std::string& id) {
  Envelope e;
  e.set_event_id(id);
  e.set_occurred_at_us(1700000000000000);
  e.mutable_incident_commented()->set_text(id);
  return e;
}

TEST(RunnerCacheTest, EveryOptionSetStoresExactlyAFreshFold) {
  for (const Variant& variant : Variants()) {
    SCOPED_TRACE(variant.name);
    testing::TempDir dir;
    Options options;
    options.durability = Durability::kProcessCrash;
    auto log = EventLog::Open(options, dir.path());
    ASSERT_TRUE(log.ok()) << log.status();
    const uint64_t seed = 20261126;
    std::mt19937_64 rng(seed);
    std::printf("variant %s, seed %llu\n", variant.name,
                static_cast<unsigned long long>(seed));
    auto open_runner = [&] {
      std::vector<std::unique_ptr<Projection>> ps;
      ps.push_back(std::make_unique<WindowProjection>());
      return ProjectionRunner::Open(log->get(), std::move(ps), variant.options);
    };
    auto runner = open_runner();
    ASSERT_TRUE(runner.ok()) << runner.status();
    int next_id = 0;
    for (int round = 0; round < 60; ++round) {
      const int n = 1 + static_cast<int>(rng() % 12);
      for (int i = 0; i < n; ++i) {
        std::vector<Envelope> batch;
        const int k = 1 + static_cast<int>(rng() % 3);
        for (int j = 0; j < k; ++j) {
          batch.push_back(Event(absl::StrCat("e", next_id++)));
        }
        ASSERT_TRUE((*log)
                        ->Append(absl::StrCat("s/", rng() % 9),
                                 ExpectedVersion::Any(), std::move(batch))
                        .ok());
      }
      if (round % 3 != 2) {
        ASSERT_TRUE((*runner)->CatchUp().ok());
      }
      if (round % 17 == 16) {  // Reopen: the cache starts cold.
        runner->reset();
        runner = open_runner();
        ASSERT_TRUE(runner.ok()) << runner.status();
      }
    }
    VerifyReport report;
    std::vector<std::unique_ptr<Projection>> fresh;
    fresh.push_back(std::make_unique<WindowProjection>());
    ASSERT_TRUE(
        VerifyProjections(**log, **runner, std::move(fresh), &report).ok());
    EXPECT_TRUE(report.problems.empty())
        << report.problems.front() << " (" << report.problems.size()
        << " problems)";
    auto incremental = (*runner)->Dump("window");
    ASSERT_TRUE(incremental.ok());
    EXPECT_GT(incremental->size(), 30u);
    ASSERT_TRUE((*runner)->Rebuild("window").ok());
    auto rebuilt = (*runner)->Dump("window");
    ASSERT_TRUE(rebuilt.ok());
    EXPECT_EQ(*incremental, *rebuilt);
  }
}

// A failing event leaves the checkpoint just before the read that failed,
// whatever the options, and the cache holds nothing of the failed fold.
class FailAt final : public Projection {
 public:
  explicit FailAt(int64_t position) : position_(position) {}
  absl::string_view name() const override { return "fail"; }
  int64_t version() const override { return 1; }
  absl::Status Apply(const Envelope& e, ProjectionState& state) override {
    if (e.position() == position_) return absl::InternalError("boom");
    auto v = state.Get("total");
    if (!v.ok()) return v.status();
    int64_t n = 0;
    if (v->has_value() && !absl::SimpleAtoi(**v, &n)) {
      return absl::InternalError("bad total");
    }
    state.Put("total", absl::StrCat(n + 1));
    return absl::OkStatus();
  }
  int64_t position_;
};

TEST(RunnerCacheTest, FailureKeepsEarlierReadsAndDropsTheFailedOne) {
  testing::TempDir dir;
  Options options;
  options.durability = Durability::kProcessCrash;
  auto log = EventLog::Open(options, dir.path());
  ASSERT_TRUE(log.ok());
  for (int i = 0; i < 25; ++i) {
    ASSERT_TRUE((*log)
                    ->Append("s/1", ExpectedVersion::Any(),
                             {Event(absl::StrCat("f", i))})
                    .ok());
  }
  auto fail = std::make_unique<FailAt>(17);
  FailAt* raw = fail.get();
  std::vector<std::unique_ptr<Projection>> ps;
  ps.push_back(std::move(fail));
  RunnerOptions ro;
  ro.batch_events = 5;  // Reads [0,5) [5,10) [10,15) [15,20): 17 fails.
  auto runner = ProjectionRunner::Open(log->get(), std::move(ps), ro);
  ASSERT_TRUE(runner.ok());
  EXPECT_EQ((*runner)->CatchUp().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(*(*runner)->Checkpoint("fail"), 15);
  auto total = (*runner)->Get("fail", "total");
  ASSERT_TRUE(total.ok() && total->has_value());
  EXPECT_EQ(**total, "15");
  raw->position_ = -1;
  ASSERT_TRUE((*runner)->CatchUp().ok());
  total = (*runner)->Get("fail", "total");
  ASSERT_TRUE(total.ok() && total->has_value());
  EXPECT_EQ(**total, "25");  // 15..16 were not counted twice.
}

// Counts each stream's events in "n/<stream>" (a read and a write per
// event).
class CountPerStream final : public Projection {
 public:
  absl::string_view name() const override { return "count"; }
  int64_t version() const override { return 1; }
  absl::Status Apply(const Envelope& e, ProjectionState& state) override {
    const std::string key = absl::StrCat("n/", e.stream());
    auto v = state.Get(key);
    if (!v.ok()) return v.status();
    int64_t n = 0;
    if (v->has_value() && !absl::SimpleAtoi(**v, &n)) {
      return absl::InternalError("bad count");
    }
    state.Put(key, absl::StrCat(n + 1));
    return absl::OkStatus();
  }
};

// Past its bound, the cache drops its clean entries before it snapshots.
// After a reset it is complete (a miss means absent): dropping a value it
// holds there must not turn that value into an absence. The scenario
// leaves committed values in a complete cache (a snapshot under the
// bound), then goes over the bound with new keys and reads the old ones
// again; the bounds swept put the crossing at every entry count.
TEST(RunnerCacheTest, DroppingCleanEntriesOfACompleteCacheKeepsTheirValues) {
  for (size_t bound = 512; bound <= 2048; bound += 64) {
    SCOPED_TRACE(absl::StrCat("snapshot_bytes ", bound));
    testing::TempDir dir;
    Options options;
    options.durability = Durability::kProcessCrash;
    auto log = EventLog::Open(options, dir.path());
    ASSERT_TRUE(log.ok()) << log.status();
    int next_id = 0;
    auto append = [&](int from, int to) {
      for (int s = from; s < to; ++s) {
        ASSERT_TRUE((*log)
                        ->Append(absl::StrCat("s", s), ExpectedVersion::Any(),
                                 {Event(absl::StrCat("e", next_id++))})
                        .ok());
      }
    };
    RunnerOptions ro;
    ro.snapshot_bytes = bound;
    ro.batch_events = 1;
    auto open_runner = [&] {
      std::vector<std::unique_ptr<Projection>> ps;
      ps.push_back(std::make_unique<CountPerStream>());
      return ProjectionRunner::Open(log->get(), std::move(ps), ro);
    };
    auto runner = open_runner();  // New: reset, its cache complete.
    ASSERT_TRUE(runner.ok()) << runner.status();
    append(0, 6);
    ASSERT_TRUE((*runner)->CatchUp().ok());
    ASSERT_TRUE((*runner)->Snapshot().ok());
    append(6, 12);  // New keys: over the bound.
    ASSERT_TRUE((*runner)->CatchUp().ok());
    append(0, 6);  // The first keys again.
    ASSERT_TRUE((*runner)->CatchUp().ok());
    for (int s = 0; s < 6; ++s) {
      auto n = (*runner)->Get("count", absl::StrCat("n/s", s));
      ASSERT_TRUE(n.ok()) << n.status();
      ASSERT_TRUE(n->has_value());
      EXPECT_EQ(**n, "2") << "stream s" << s;
    }
    VerifyReport report;
    std::vector<std::unique_ptr<Projection>> fresh;
    fresh.push_back(std::make_unique<CountPerStream>());
    ASSERT_TRUE(
        VerifyProjections(**log, **runner, std::move(fresh), &report).ok());
    EXPECT_TRUE(report.problems.empty()) << report.problems.front();
  }
}

}  // namespace
}  // namespace slate
