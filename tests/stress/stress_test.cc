// Stress (issue 8): 4 writer threads executing incident commands, 2 live
// subscribers, a thread advancing SLA time and one running queries, for a
// bounded time; then Engine::Verify must find the log intact and every
// projection equal to a fresh fold, and each subscriber must have seen every
// event once, in order. Meant for --config=tsan too.
#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "google/protobuf/util/json_util.h"
#include "lib/api/engine.h"
#include "tests/testing/temp_dir.h"

namespace slate {
namespace {

absl::Status Exec(Engine& engine, const std::string& json) {
  Command c;
  if (!google::protobuf::util::JsonStringToMessage(json, &c).ok()) {
    return absl::InvalidArgumentError(json);
  }
  return engine.Execute(c).status();
}

std::string At(absl::Time t) {
  return absl::StrCat(R"("at":")",
                      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t,
                                       absl::UTCTimeZone()),
                      "\"");
}

TEST(StressTest, WritersSubscribersTimersAndQueriesThenVerify) {
  testing::TempDir dir;
  const absl::Time t0 = absl::FromUnixSeconds(1796112000);  // 2026-12-01
  SimulatedClock clock(t0 + absl::Hours(48));
  Options options;
  options.clock = &clock;
  options.durability = Durability::kProcessCrash;
  auto opened = Engine::Open(options, dir.path());
  ASSERT_TRUE(opened.ok()) << opened.status();
  Engine& engine = **opened;
  ASSERT_TRUE(Exec(engine, absl::StrCat(R"({"commandId":"svc","defineService":{"serviceId":"web","name":"Web",)",
                                        At(t0), "}}"))
                  .ok());
  ASSERT_TRUE(
      Exec(engine,
           absl::StrCat(R"({"commandId":"pol","defineSlaPolicy":{)", At(t0),
                        R"(,"policy":{"id":"p","calendarId":"24x7","appliesTo":{"recordTypes":["incident"]},)"
                        R"("targets":[{"priority":1,"resolution":"1h"},{"priority":2,"resolution":"2h"},{"priority":3,"resolution":"3h"},{"priority":4,"resolution":"4h"},{"priority":5,"resolution":"5h"}],)"
                        R"("resolution":{"start":{"events":["incident_opened"]},"stop":{"states":["resolved","closed"]}}}}})"))
          .ok());

  struct Seen {
    std::mutex mu;
    std::vector<int64_t> positions;
  };
  Seen seen[2];
  std::vector<std::unique_ptr<Subscription>> subs;
  for (int s = 0; s < 2; ++s) {
    subs.push_back(engine.Subscribe(0, [&, s](const Envelope& e) {
      std::lock_guard<std::mutex> l(seen[s].mu);
      seen[s].positions.push_back(e.position());
      return absl::OkStatus();
    }));
  }

  std::atomic<bool> stop{false};
  std::atomic<int> errors{0};
  std::mutex error_mu;
  std::vector<std::string> error_text;
  auto fail = [&](const absl::Status& st) {
    ++errors;
    std::lock_guard<std::mutex> l(error_mu);
    if (error_text.size() < 5) error_text.push_back(st.ToString());
  };
  std::vector<std::thread> threads;
  std::atomic<int> opened_count{0}, queries{0}, ticks{0};
  for (int w = 0; w < 4; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; !stop.load(); ++i) {
        const std::string id = absl::StrCat("W", w, "-", i);
        const absl::Time t = t0 + absl::Minutes(i);
        absl::Status st = Exec(
            engine, absl::StrCat(R"({"commandId":"o-)", id,
                                 R"(","openIncident":{"incidentId":")", id,
                                 R"(",)", At(t), R"(,"serviceId":"web","impact":)",
                                 1 + i % 3, R"(,"urgency":)", 1 + w % 3, "}}"));
        if (st.ok() && i % 2 == 0) {
          st = Exec(engine,
                    absl::StrCat(R"({"commandId":"r-)", id,
                                 R"(","resolveIncident":{"incidentId":")", id,
                                 R"(",)", At(t + absl::Minutes(30)),
                                 R"(,"resolutionCode":"fixed"}})"));
        }
        if (!st.ok()) {
          fail(st);
          return;
        }
        ++opened_count;
      }
    });
  }
  threads.emplace_back([&] {  // SLA time.
    for (int k = 1; !stop.load(); ++k) {
      absl::Status st =
          engine.AdvanceTo(t0 + absl::Minutes(10 * k) > clock.Now()
                               ? clock.Now()
                               : t0 + absl::Minutes(10 * k))
              .status();
      if (!st.ok()) {
        fail(st);
        return;
      }
      ++ticks;
    }
  });
  threads.emplace_back([&] {  // Queries.
    while (!stop.load()) {
      auto risk = engine.AtRisk(t0 + absl::Hours(1), absl::Hours(8), {}, 10);
      auto breached = engine.Breached();
      if (!risk.ok() || !breached.ok()) {
        fail(!risk.ok() ? risk.status() : breached.status());
        return;
      }
      ++queries;
    }
  });
  std::this_thread::sleep_for(std::chrono::seconds(4));
  stop = true;
  for (auto& t : threads) t.join();
  ASSERT_EQ(errors.load(), 0) << absl::StrJoin(error_text, "\n");

  const int64_t end = engine.NextPosition();
  for (int s = 0; s < 2; ++s) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (subs[s]->next_position() < end &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  subs.clear();
  for (int s = 0; s < 2; ++s) {
    std::lock_guard<std::mutex> l(seen[s].mu);
    ASSERT_EQ(static_cast<int64_t>(seen[s].positions.size()), end);
    for (int64_t i = 0; i < end; ++i) ASSERT_EQ(seen[s].positions[i], i);
  }
  VerifyReport report;
  ASSERT_TRUE(engine.Verify(&report).ok());
  EXPECT_TRUE(report.ok()) << absl::StrJoin(report.problems, "\n");
  std::printf("stress: %d incidents, %d SLA ticks, %d query rounds, %lld "
              "events, verify %s\n",
              opened_count.load(), ticks.load(), queries.load(),
              static_cast<long long>(end), report.ok() ? "OK" : "FAILED");
  EXPECT_GT(opened_count.load(), 8);
  EXPECT_GT(queries.load(), 0);
  EXPECT_GT(ticks.load(), 0);
}

}  // namespace
}  // namespace slate
