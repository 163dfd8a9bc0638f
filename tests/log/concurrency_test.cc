// Concurrent appenders and subscribers: dense positions, one winner per
// version, group commit, live subscriptions with no gap and no duplicate.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/api/engine.h"
#include "lib/log/event_log.h"
#include "tests/testing/temp_dir.h"

namespace slate {
namespace {

Envelope Event(const std::string& id) {
  Envelope e;
  e.set_event_id(id);
  e.set_occurred_at_us(1700000000000000);
  e.mutable_incident_commented()->set_text(id);
  return e;
}

// Waits up to 60 s for pred(); returns whether it became true. Generous so
// that slow sanitizer runs do not flake; no test asserts on elapsed time.
template <typename Pred>
bool Eventually(Pred pred) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

TEST(ConcurrencyTest, EightAppendersKeepPositionsDenseAndOneWinnerPerVersion) {
  testing::TempDir dir;
  Options options;
  options.durability = Durability::kProcessCrash;
  auto engine_or = Engine::Open(options, dir.path());
  ASSERT_TRUE(engine_or.ok()) << engine_or.status();
  Engine& engine = **engine_or;

  constexpr int kThreads = 8;
  constexpr int kAppendsPerThread = 10000;
  constexpr int kRaceStreams = 8;
  // Threads 0..3 race on shared streams with exact expected versions;
  // threads 4..7 append to streams of their own.
  struct Won {
    std::string id;
    std::string stream;
    int64_t position;
    int64_t version;
  };
  std::vector<std::vector<Won>> won(kThreads);
  std::vector<std::vector<std::string>> lost(kThreads);
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kAppendsPerThread; ++i) {
        const std::string id = absl::StrCat("t", t, "-", i);
        std::string stream;
        ExpectedVersion ev = ExpectedVersion::Any();
        if (t < 4) {
          stream = absl::StrCat("race/", i % kRaceStreams);
          auto v = engine.StreamVersion(stream);
          if (!v.ok()) {
            errors[t] = v.status().ToString();
            return;
          }
          ev =
              *v < 0 ? ExpectedVersion::NoStream() : ExpectedVersion::Exact(*v);
        } else {
          stream = absl::StrCat("own/", t, "/", i % 16);
        }
        auto r = engine.Append(stream, ev, {Event(id)});
        if (r.ok()) {
          won[t].push_back({id, stream, r->first_position, r->first_version});
        } else if (r.status().code() == absl::StatusCode::kAborted) {
          lost[t].push_back(id);
        } else {
          errors[t] = r.status().ToString();
          return;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(errors[t], "") << "thread " << t;
  }

  size_t total_won = 0;
  absl::flat_hash_map<std::string, const Won*> by_id;
  for (int t = 0; t < kThreads; ++t) {
    total_won += won[t].size();
    for (const Won& w : won[t]) by_id[w.id] = &w;
    if (t >= 4) {
      EXPECT_TRUE(lost[t].empty()) << "thread " << t;
    }
  }
  EXPECT_EQ(engine.NextPosition(), static_cast<int64_t>(total_won));

  // Every acknowledged event is at its position; positions are dense; no
  // refused event is in the log.
  absl::flat_hash_map<std::string, int64_t> next_version;
  int64_t expect = 0;
  while (true) {
    auto batch = engine.ReadAll(expect, 4096);
    ASSERT_TRUE(batch.ok()) << batch.status();
    if (batch->empty()) break;
    for (const Envelope& e : *batch) {
      ASSERT_EQ(e.position(), expect);
      ++expect;
      auto it = by_id.find(e.event_id());
      ASSERT_NE(it, by_id.end()) << "unacknowledged event " << e.event_id();
      EXPECT_EQ(it->second->position, e.position());
      EXPECT_EQ(it->second->stream, e.stream());
      EXPECT_EQ(it->second->version, e.version());
      // Per-stream versions are dense in position order.
      EXPECT_EQ(next_version[e.stream()]++, e.version()) << e.stream();
    }
  }
  EXPECT_EQ(expect, static_cast<int64_t>(total_won));
  for (int t = 0; t < 4; ++t) {
    for (const std::string& id : lost[t]) {
      EXPECT_FALSE(by_id.contains(id)) << id;
    }
  }
  // Exactly one winner per version of each raced stream.
  int64_t raced_events = 0;
  for (int s = 0; s < kRaceStreams; ++s) {
    const std::string stream = absl::StrCat("race/", s);
    auto events = engine.ReadStream(stream, 0, 1000000);
    ASSERT_TRUE(events.ok());
    for (size_t v = 0; v < events->size(); ++v) {
      EXPECT_EQ((*events)[v].version(), static_cast<int64_t>(v));
    }
    raced_events += static_cast<int64_t>(events->size());
  }
  int64_t raced_won = 0;
  for (int t = 0; t < 4; ++t) raced_won += static_cast<int64_t>(won[t].size());
  EXPECT_EQ(raced_events, raced_won);
}

TEST(ConcurrencyTest, PowerLossAppendersShareOneSync) {
  testing::TempDir dir;
  Options options;
  options.durability = Durability::kPowerLoss;
  auto log_or = EventLog::Open(options, dir.path());
  ASSERT_TRUE(log_or.ok()) << log_or.status();
  EventLog& log = **log_or;
  constexpr int kThreads = 8;
  // Hold the first leader until every appender is queued behind it, so the
  // second group deterministically holds the other seven.
  std::atomic<bool> first{true};
  log.SetBeforeGroupWriteHookForTest([&] {
    if (first.exchange(false)) {
      ASSERT_TRUE(
          Eventually([&] { return log.QueuedWritersForTest() == kThreads; }));
    }
  });
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto r = log.Append(absl::StrCat("s/", t), ExpectedVersion::NoStream(),
                          {Event(absl::StrCat("g", t))});
      if (!r.ok()) failures++;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  LogStats stats = log.Stats();
  EXPECT_EQ(stats.appends, kThreads);
  EXPECT_EQ(stats.events_written, kThreads);
  EXPECT_EQ(stats.syncs, 2);
  EXPECT_EQ(stats.write_batches, 2);
}

TEST(ConcurrencyTest, ConflictsInsideOneGroupAreDecidedInQueueOrder) {
  testing::TempDir dir;
  Options options;
  options.durability = Durability::kProcessCrash;
  auto log_or = EventLog::Open(options, dir.path());
  ASSERT_TRUE(log_or.ok());
  EventLog& log = **log_or;
  std::atomic<bool> first{true};
  constexpr int kThreads = 6;
  log.SetBeforeGroupWriteHookForTest([&] {
    if (first.exchange(false)) {
      ASSERT_TRUE(Eventually(
          [&] { return log.QueuedWritersForTest() == kThreads + 1; }));
    }
  });
  std::thread blocker([&] {
    ASSERT_TRUE(log.Append("other", ExpectedVersion::Any(), {Event("b")}).ok());
  });
  ASSERT_TRUE(Eventually([&] { return log.QueuedWritersForTest() >= 1; }));
  // All six race to create the same stream and land in one group: exactly
  // one wins, the others see kAborted, and a duplicate id inside the group
  // is recognised as a retry.
  std::vector<std::thread> threads;
  std::atomic<int> won{0}, aborted{0}, replayed{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::string id = t < 2 ? "same-id" : absl::StrCat("c", t);
      auto r =
          log.Append("contended", ExpectedVersion::NoStream(), {Event(id)});
      if (r.ok() && r->idempotent_replay) {
        replayed++;
      } else if (r.ok()) {
        won++;
      } else if (r.status().code() == absl::StatusCode::kAborted) {
        aborted++;
      }
    });
  }
  for (auto& th : threads) th.join();
  blocker.join();
  EXPECT_EQ(won.load(), 1);
  EXPECT_EQ(won.load() + aborted.load() + replayed.load(), kThreads);
  EXPECT_EQ(*log.StreamVersion("contended"), 0);
  EXPECT_EQ(log.NextPosition(), 2);
}

TEST(SubscriptionTest, CatchesUpThenFollowsLiveAppendsInOrder) {
  testing::TempDir dir;
  Options options;
  options.durability = Durability::kProcessCrash;
  auto engine_or = Engine::Open(options, dir.path());
  ASSERT_TRUE(engine_or.ok());
  Engine& engine = **engine_or;
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(engine
                    .Append("s/1", ExpectedVersion::Any(),
                            {Event(absl::StrCat("pre", i))})
                    .ok());
  }
  std::mutex mu;
  std::vector<int64_t> seen;
  auto sub = engine.Subscribe(0, [&](const Envelope& e) {
    std::lock_guard<std::mutex> l(mu);
    seen.push_back(e.position());
    return absl::OkStatus();
  });
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(engine
                    .Append("s/2", ExpectedVersion::Any(),
                            {Event(absl::StrCat("live", i)),
                             Event(absl::StrCat("live2-", i))})
                    .ok());
  }
  ASSERT_TRUE(Eventually([&] { return sub->next_position() == 300; }));
  sub->Stop();
  sub->Stop();  // Idempotent.
  EXPECT_TRUE(sub->status().ok()) << sub->status();
  std::lock_guard<std::mutex> l(mu);
  ASSERT_EQ(seen.size(), 300u);
  for (int64_t i = 0; i < 300; ++i) EXPECT_EQ(seen[i], i);
}

TEST(SubscriptionTest, SeveralSubscribersWithConcurrentAppendersSeeEverything) {
  testing::TempDir dir;
  Options options;
  options.durability = Durability::kProcessCrash;
  auto engine_or = Engine::Open(options, dir.path());
  ASSERT_TRUE(engine_or.ok());
  Engine& engine = **engine_or;
  constexpr int kSubs = 3;
  constexpr int kWriters = 4;
  constexpr int kPerWriter = 500;
  struct Seen {
    std::mutex mu;
    std::vector<int64_t> positions;
  };
  std::vector<Seen> seen(kSubs);
  std::vector<std::unique_ptr<Subscription>> subs;
  for (int s = 0; s < kSubs; ++s) {
    // Different checkpoints: from the start, and from positions not yet
    // written (they wait for them).
    subs.push_back(engine.Subscribe(s * 10, [&, s](const Envelope& e) {
      std::lock_guard<std::mutex> l(seen[s].mu);
      seen[s].positions.push_back(e.position());
      return absl::OkStatus();
    }));
  }
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < kPerWriter; ++i) {
        ASSERT_TRUE(engine
                        .Append(absl::StrCat("w/", w), ExpectedVersion::Any(),
                                {Event(absl::StrCat(w, "-", i))})
                        .ok());
      }
    });
  }
  for (auto& t : writers) t.join();
  const int64_t total = kWriters * kPerWriter;
  for (int s = 0; s < kSubs; ++s) {
    ASSERT_TRUE(Eventually([&] { return subs[s]->next_position() == total; }))
        << "subscriber " << s << " stuck at " << subs[s]->next_position();
  }
  subs.clear();  // Destroying stops them.
  for (int s = 0; s < kSubs; ++s) {
    std::lock_guard<std::mutex> l(seen[s].mu);
    ASSERT_EQ(seen[s].positions.size(), static_cast<size_t>(total - s * 10));
    for (size_t i = 0; i < seen[s].positions.size(); ++i) {
      ASSERT_EQ(seen[s].positions[i], static_cast<int64_t>(i) + s * 10);
    }
  }
}

TEST(SubscriptionTest, HandlerErrorEndsTheSubscriptionWithThatStatus) {
  testing::TempDir dir;
  Options options;
  options.durability = Durability::kProcessCrash;
  auto engine_or = Engine::Open(options, dir.path());
  ASSERT_TRUE(engine_or.ok());
  Engine& engine = **engine_or;
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(engine
                    .Append("s/1", ExpectedVersion::Any(),
                            {Event(absl::StrCat("e", i))})
                    .ok());
  }
  auto sub = engine.Subscribe(0, [](const Envelope& e) {
    if (e.position() == 4) return absl::InternalError("projection broke");
    return absl::OkStatus();
  });
  ASSERT_TRUE(Eventually([&] { return sub->done(); }));
  EXPECT_EQ(sub->status().code(), absl::StatusCode::kInternal);
  // Position 4 was not processed: the checkpoint stays there.
  EXPECT_EQ(sub->next_position(), 4);
}

TEST(SubscriptionTest, ClosingTheEngineStopsLiveSubscriptions) {
  testing::TempDir dir;
  Options options;
  options.durability = Durability::kProcessCrash;
  std::unique_ptr<Subscription> sub;
  std::atomic<int> delivered{0};
  {
    auto engine_or = Engine::Open(options, dir.path());
    ASSERT_TRUE(engine_or.ok());
    sub = (*engine_or)->Subscribe(0, [&](const Envelope&) {
      delivered++;
      return absl::OkStatus();
    });
    ASSERT_TRUE(
        (*engine_or)->Append("s/1", ExpectedVersion::Any(), {Event("x")}).ok());
    ASSERT_TRUE(Eventually([&] { return delivered.load() == 1; }));
  }  // Engine closes while the subscription waits for more.
  EXPECT_TRUE(sub->done());
  sub.reset();  // Safe after the engine is gone.
  EXPECT_EQ(delivered.load(), 1);
}

}  // namespace
}  // namespace slate
