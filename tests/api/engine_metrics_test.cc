// Engine::WriteMetrics: after a scripted day of incidents on a simulated
// clock (two policies, three incidents, an acknowledgement, a hold, two
// failing commands, a response breach fired by AdvanceTo) every figure is
// the one the scenario implies: commands by result code, events appended,
// both latency histograms' counts, projection and snapshot lag, open clocks
// by state, at-risk and breached-open clocks per policy, the build info.
// The format itself is checked strictly by tests/tools/slate_metrics_test
// (a parser of the OpenMetrics grammar); here the samples are read plainly.
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "lib/api/clock.h"
#include "lib/api/engine.h"
#include "lib/api/engine_internal.h"
#include "lib/api/version.h"
#include "tests/testing/temp_dir.h"

namespace slate {
namespace {

// Sample lines "name{labels} value" of an exposition, by "name{labels}".
std::map<std::string, std::string> Samples(const std::string& text) {
  std::map<std::string, std::string> out;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    if (absl::StartsWith(line, "#")) continue;
    const size_t space = line.rfind(' ');
    EXPECT_NE(space, absl::string_view::npos) << line;
    if (space == absl::string_view::npos) continue;
    const std::string series(line.substr(0, space));
    EXPECT_EQ(out.count(series), 0u) << "twice: " << series;
    out[series] = std::string(line.substr(space + 1));
  }
  return out;
}

// The sample's value as a number; a failure if it is absent or no number.
double Value(const std::map<std::string, std::string>& samples,
             const std::string& series) {
  auto it = samples.find(series);
  if (it == samples.end()) {
    ADD_FAILURE() << "no sample " << series;
    return -1;
  }
  double v = 0;
  EXPECT_TRUE(absl::SimpleAtod(it->second, &v)) << series << " " << it->second;
  return v;
}

const char* kStatusCodeLabels[] = {"ok",
                                   "cancelled",
                                   "unknown",
                                   "invalid_argument",
                                   "deadline_exceeded",
                                   "not_found",
                                   "already_exists",
                                   "permission_denied",
                                   "resource_exhausted",
                                   "failed_precondition",
                                   "aborted",
                                   "out_of_range",
                                   "unimplemented",
                                   "internal",
                                   "unavailable",
                                   "data_loss",
                                   "unauthenticated"};

class EngineMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    clock_ = std::make_unique<SimulatedClock>(At("09:00"));
    Options options;
    options.clock = clock_.get();
    options.durability = Durability::kProcessCrash;
    options.metrics_at_risk_within = absl::Hours(4);
    auto engine = Engine::Open(options, dir_.path());
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = *std::move(engine);
  }

  static absl::Time At(const std::string& hhmm) {
    absl::Time t;
    std::string err;
    EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full,
                                absl::StrCat("2026-11-27T", hhmm, ":00Z"), &t,
                                &err))
        << err;
    return t;
  }

  // Executes a command given as JSON; tallies its result code.
  absl::StatusCode Exec(const std::string& json) {
    Command cmd;
    auto parsed = google::protobuf::util::JsonStringToMessage(json, &cmd);
    EXPECT_TRUE(parsed.ok()) << parsed.ToString() << " in " << json;
    absl::StatusCode code = engine_->Execute(cmd).status().code();
    ++codes_[code];
    return code;
  }

  std::map<std::string, std::string> Metrics() {
    std::string text = "stale";
    absl::Status st = engine_->WriteMetrics(&text);
    EXPECT_TRUE(st.ok()) << st;
    EXPECT_TRUE(absl::EndsWith(text, "\n# EOF\n")) << text;
    text_ = text;
    return Samples(text);
  }

  testing::TempDir dir_;
  std::unique_ptr<SimulatedClock> clock_;
  std::unique_ptr<Engine> engine_;
  std::map<absl::StatusCode, int> codes_;
  std::string text_;
};

constexpr char kFastPolicy[] = R"({"defineSlaPolicy":{"policy":{
  "id":"p-fast","name":"P1-3 around the clock",
  "appliesTo":{"recordTypes":["incident"]},
  "targets":[{"priority":1,"response":"30m","resolution":"4h"},
             {"priority":2,"response":"30m","resolution":"4h"},
             {"priority":3,"response":"30m","resolution":"4h"}],
  "calendarId":"24x7",
  "response":{"start":{"events":["incident_opened"]},
              "stop":{"events":["incident_acknowledged"]},
              "cancel":{"states":["cancelled"]}},
  "resolution":{"start":{"events":["incident_opened"]},
                "pause":{"states":["on_hold"]},
                "stop":{"states":["resolved","closed"]},
                "cancel":{"states":["cancelled"]}}}}})";
// Applies to changes only: defined, never attached in this scenario.
constexpr char kIdlePolicy[] = R"({"defineSlaPolicy":{"policy":{
  "id":"p-idle","name":"changes",
  "appliesTo":{"recordTypes":["change"]},
  "targets":[{"priority":1,"resolution":"8h"}],
  "calendarId":"24x7",
  "resolution":{"start":{"events":["change_requested"]},
                "stop":{"states":["closed"]}}}}})";

TEST_F(EngineMetricsTest, FiguresAfterAScriptedScenario) {
  ASSERT_EQ(Exec(kFastPolicy), absl::StatusCode::kOk);
  ASSERT_EQ(Exec(kIdlePolicy), absl::StatusCode::kOk);
  ASSERT_EQ(Exec(R"({"defineService":{"serviceId":"email","name":"E-mail"}})"),
            absl::StatusCode::kOk);
  for (const char* id : {"INC1", "INC2", "INC3"}) {
    ASSERT_EQ(
        Exec(absl::StrCat(R"({"openIncident":{"incidentId":")", id,
                          R"(","at":"2026-11-27T09:00:00Z",)",
                          R"("serviceId":"email","impact":1,"urgency":1}})")),
        absl::StatusCode::kOk);
  }
  clock_->Set(At("09:10"));
  ASSERT_EQ(Exec(R"({"acknowledgeIncident":{"incidentId":"INC1",
                   "at":"2026-11-27T09:10:00Z","by":"desk"}})"),
            absl::StatusCode::kOk);
  ASSERT_EQ(Exec(R"({"acknowledgeIncident":{"incidentId":"INC2",
                   "at":"2026-11-27T09:10:00Z","by":"desk"}})"),
            absl::StatusCode::kOk);
  ASSERT_EQ(Exec(R"({"assignIncident":{"incidentId":"INC2",
                   "at":"2026-11-27T09:11:00Z","group":"mail","person":"ann"}})"),
            absl::StatusCode::kOk);
  ASSERT_EQ(Exec(R"({"startIncident":{"incidentId":"INC2",
                   "at":"2026-11-27T09:12:00Z"}})"),
            absl::StatusCode::kOk);
  ASSERT_EQ(Exec(R"({"holdIncident":{"incidentId":"INC2",
                   "at":"2026-11-27T09:15:00Z","reason":"AWAITING_VENDOR"}})"),
            absl::StatusCode::kOk);
  // Two that fail: a bad impact, an incident that does not exist.
  EXPECT_NE(Exec(R"({"openIncident":{"incidentId":"INC4",
                   "serviceId":"email","impact":9,"urgency":1}})"),
            absl::StatusCode::kOk);
  EXPECT_NE(Exec(R"({"acknowledgeIncident":{"incidentId":"INC9",
                   "at":"2026-11-27T09:16:00Z","by":"desk"}})"),
            absl::StatusCode::kOk);
  const int commands = 13;
  const int ok = 11;
  ASSERT_EQ(codes_[absl::StatusCode::kOk], ok);

  // INC3's response (30 min from 09:00) warns at 50/75/90 % (the default
  // thresholds) and breaches at 09:30.
  clock_->Set(At("09:45"));
  auto fired = engine_->AdvanceTo(At("09:45"));
  ASSERT_TRUE(fired.ok()) << fired.status();
  ASSERT_EQ(fired->size(), 4u);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE((*fired)[i].has_sla_warning());
  ASSERT_TRUE((*fired)[3].has_sla_breached());

  std::map<std::string, std::string> m = Metrics();
  SCOPED_TRACE(text_);
  const int64_t events = engine_->NextPosition();

  EXPECT_EQ(Value(m, absl::StrCat("slate_build_info{version=\"", SLATE_VERSION,
                                  "\",log_format=\"", Engine::FormatVersion(),
                                  "\"}")),
            1);
  EXPECT_EQ(Value(m, "slate_events_appended_total"), events);
  EXPECT_EQ(Value(m, "slate_log_events"), events);

  // Every code has its series; the counts are the scenario's.
  for (int c = 0; c < 17; ++c) {
    const std::string series = absl::StrCat("slate_commands_total{code=\"",
                                            kStatusCodeLabels[c], "\"}");
    EXPECT_EQ(Value(m, series), codes_[static_cast<absl::StatusCode>(c)])
        << series;
  }
  EXPECT_EQ(Value(m, "slate_command_duration_seconds_count"), commands);
  EXPECT_EQ(Value(m, "slate_command_duration_seconds_bucket{le=\"+Inf\"}"),
            commands);
  EXPECT_GT(Value(m, "slate_command_duration_seconds_sum"), 0);
  // One append per successful command and one per fired event; the failed
  // commands fail before they append.
  EXPECT_EQ(Value(m, "slate_append_duration_seconds_count"),
            ok + static_cast<int>(fired->size()));
  EXPECT_GT(Value(m, "slate_append_duration_seconds_sum"), 0);

  ProjectionRunner& runner = RunnerOf(*engine_);
  for (const std::string& p : runner.Names()) {
    SCOPED_TRACE(p);
    const std::string label = absl::StrCat("{projection=\"", p, "\"}");
    EXPECT_EQ(Value(m, "slate_projection_lag_events" + label), 0);  // kSync
    auto snapshot = runner.SnapshotPosition(p);
    ASSERT_TRUE(snapshot.ok()) << snapshot.status();
    EXPECT_EQ(Value(m, "slate_projection_snapshot_lag_events" + label),
              events - *snapshot);
    const double age =
        Value(m, "slate_projection_snapshot_age_seconds" + label);
    EXPECT_GE(age, 0);
    EXPECT_LT(age, 600);
  }
  EXPECT_EQ(runner.Names().size(), 3u);

  // Open clocks: INC1 and INC3 resolution running, INC2 resolution paused,
  // INC3 response breached (INC1 and INC2 responses met: not open).
  EXPECT_EQ(Value(m, "slate_sla_open_clocks{state=\"running\"}"), 2);
  EXPECT_EQ(Value(m, "slate_sla_open_clocks{state=\"paused\"}"), 1);
  EXPECT_EQ(Value(m, "slate_sla_open_clocks{state=\"breached\"}"), 1);
  EXPECT_EQ(Value(m, "slate_sla_breached_open_clocks{policy=\"p-fast\"}"), 1);
  EXPECT_EQ(Value(m, "slate_sla_breached_open_clocks{policy=\"p-idle\"}"), 0);
  // Within 4 h of 09:45: the running resolutions due 13:00 (the paused one
  // does not count, as in Engine::AtRisk).
  EXPECT_EQ(Value(m, "slate_sla_at_risk_clocks{policy=\"p-fast\"}"), 2);
  EXPECT_EQ(Value(m, "slate_sla_at_risk_clocks{policy=\"p-idle\"}"), 0);
  EXPECT_EQ(Value(m, "slate_sla_at_risk_horizon_seconds"), 4 * 3600);
  auto breached = engine_->Breached();
  ASSERT_TRUE(breached.ok());
  EXPECT_EQ(breached->size(), 1u);

  // A snapshot brings every projection's snapshot lag to 0.
  ASSERT_TRUE(runner.Snapshot().ok());
  m = Metrics();
  for (const std::string& p : runner.Names()) {
    EXPECT_EQ(Value(m, absl::StrCat("slate_projection_snapshot_lag_events{"
                                    "projection=\"",
                                    p, "\"}")),
              0)
        << p;
  }
}

TEST_F(EngineMetricsTest, FreshEngineHasEveryFamilyAtZero) {
  std::map<std::string, std::string> m = Metrics();
  SCOPED_TRACE(text_);
  EXPECT_EQ(Value(m, "slate_events_appended_total"), 0);
  EXPECT_EQ(Value(m, "slate_log_events"), 0);
  EXPECT_EQ(Value(m, "slate_commands_total{code=\"ok\"}"), 0);
  EXPECT_EQ(Value(m, "slate_command_duration_seconds_count"), 0);
  EXPECT_EQ(Value(m, "slate_command_duration_seconds_sum"), 0);
  EXPECT_EQ(Value(m, "slate_append_duration_seconds_bucket{le=\"0.0001\"}"), 0);
  EXPECT_EQ(Value(m, "slate_sla_open_clocks{state=\"running\"}"), 0);
  // No policy defined: no per-policy series.
  for (const auto& [series, value] : m) {
    EXPECT_FALSE(absl::StrContains(series, "policy=")) << series;
  }
  // Families in order, each with TYPE before HELP; one # EOF, last.
  EXPECT_TRUE(absl::StartsWith(text_, "# TYPE slate_build info\n")) << text_;
  EXPECT_EQ(text_.find("# EOF"), text_.size() - 6);
}

TEST_F(EngineMetricsTest, NullOutIsInvalidArgument) {
  absl::Status st = engine_->WriteMetrics(nullptr);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
  EXPECT_THAT(std::string(st.message()), ::testing::HasSubstr("null"));
}

// Commands from several threads while another scrapes: the counters lose
// nothing (run under TSan by ./dev.sh test --config=tsan).
TEST_F(EngineMetricsTest, CountsConcurrentCommandsExactly) {
  ASSERT_EQ(Exec(R"({"defineService":{"serviceId":"email","name":"E-mail"}})"),
            absl::StatusCode::kOk);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 25;
  std::atomic<bool> done{false};
  std::thread scraper([&] {
    while (!done.load()) {
      std::string text;
      EXPECT_TRUE(engine_->WriteMetrics(&text).ok());
    }
  });
  std::vector<std::thread> threads;
  std::atomic<int> failed{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        Command cmd;
        auto* open = cmd.mutable_open_incident();
        open->set_incident_id(absl::StrCat("T", t, "-", i));
        open->set_service_id("email");
        open->set_impact(2);
        open->set_urgency(2);
        if (!engine_->Execute(cmd).ok()) failed.fetch_add(1);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  done.store(true);
  scraper.join();
  ASSERT_EQ(failed.load(), 0);
  std::map<std::string, std::string> m = Metrics();
  SCOPED_TRACE(text_);
  const int total = 1 + kThreads * kPerThread;
  EXPECT_EQ(Value(m, "slate_commands_total{code=\"ok\"}"), total);
  EXPECT_EQ(Value(m, "slate_command_duration_seconds_count"), total);
  EXPECT_EQ(Value(m, "slate_append_duration_seconds_count"), total);
  EXPECT_EQ(Value(m, "slate_events_appended_total"), engine_->NextPosition());
}

}  // namespace
}  // namespace slate
