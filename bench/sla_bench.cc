// SlaClock throughput: clock inputs folded per second.
//
//   bazel --output_base=/root/.cache/bazel-sla run -c opt //bench:sla_bench
//
// The workload: 256 clocks, each fed the same plausible lifecycle of 256
// inputs (start, timer ticks, pauses and resumes, a priority change, stop,
// reopen as a new cycle, ...) interleaved clock by clock, with warnings and
// breaches firing. Every input is checked to be accepted.
//
//   BM_SlaClock_Apply/<calendar>      ApplyInPlace, the fold a projection uses.
//                                     _Calendar: the real office-berlin
//                                     calendar of issue 4
//                                     (examples/calendars/office-berlin.json)
//                                     through CalendarBusinessTime.
//   BM_SlaClock_ApplyPure/<calendar>  Apply: returns a new clock + facts.
//   BM_Baseline_NaiveProtoFold        Naive: decode the stored SlaClockState,
//                                     apply, encode again, for every input.
//   BM_Baseline_SumDeltas             Floor: read each input and add up time
//                                     deltas per clock, nothing else.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "lib/calendar/business_calendar.h"
#include "lib/sla/business_time.h"
#include "lib/sla/calendar_business_time.h"
#include "lib/sla/sla_clock.h"
#include "proto/sla.pb.h"
#include "tests/sla/office_berlin.h"
#include "tests/sla/office_hours.h"

namespace slate {
namespace {

constexpr int kClocks = 256;

using In = SlaClockInput;

// One clock's lifecycle, starting Friday 2024-03-01 15:00 UTC, all inputs
// valid in order.
std::vector<In> Lifecycle() {
  std::vector<In> inputs;
  absl::Time t = absl::FromCivil(absl::CivilMinute(2024, 3, 1, 15, 0),
                                 absl::UTCTimeZone());
  inputs.push_back(In::Start(t));
  int round = 0;
  while (inputs.size() < 256) {
    for (int i = 0; i < 6; ++i) {
      t += absl::Minutes(17);
      inputs.push_back(In::AdvanceTo(t));
    }
    t += absl::Minutes(5);
    inputs.push_back(In::Pause(t, "AWAITING_CALLER"));
    t += absl::Minutes(40);
    inputs.push_back(In::AdvanceTo(t));
    t += absl::Minutes(20);
    inputs.push_back(In::Resume(t));
    for (int i = 0; i < 4; ++i) {
      t += absl::Minutes(25);
      inputs.push_back(In::AdvanceTo(t));
    }
    if (round % 2 == 0) {
      t += absl::Minutes(3);
      inputs.push_back(In::Retarget(t, absl::Hours(2), "P3 -> P1"));
    }
    for (int i = 0; i < 4; ++i) {
      t += absl::Minutes(30);
      inputs.push_back(In::AdvanceTo(t));
    }
    t += absl::Minutes(1);
    inputs.push_back(In::Stop(t));
    t += absl::Hours(3);
    inputs.push_back(In::AdvanceTo(t));
    t += absl::Minutes(10);
    inputs.push_back(In::Reopen(t, SLA_REOPEN_MODE_NEW_CYCLE));
    ++round;
  }
  return inputs;
}

SlaClock Fresh() {
  SlaClockSpec spec;
  spec.record_id = "INC0000001";
  spec.policy_id = "incident-default";
  spec.metric = SLA_METRIC_RESOLUTION;
  spec.target = absl::Hours(8);
  return *SlaClock::Create(spec);
}

void Fold(benchmark::State& state, const BusinessTime& business) {
  const std::vector<In> inputs = Lifecycle();
  const SlaClock fresh = Fresh();
  std::vector<SlaClock> clocks(kClocks, fresh);
  std::vector<SlaClockFact> facts;
  facts.reserve(1 << 16);
  int64_t applied = 0, refused = 0, fact_count = 0;
  for (auto _ : state) {
    for (SlaClock& c : clocks) c = fresh;
    facts.clear();
    for (const In& in : inputs) {
      for (SlaClock& c : clocks) {
        refused += !c.ApplyInPlace(in, business, &facts).ok();
      }
    }
    applied += static_cast<int64_t>(inputs.size()) * kClocks;
    fact_count += static_cast<int64_t>(facts.size());
    benchmark::DoNotOptimize(facts.data());
  }
  if (refused != 0) state.SkipWithError("an input was refused");
  state.SetItemsProcessed(applied);
  state.counters["facts_per_input"] =
      static_cast<double>(fact_count) / static_cast<double>(applied);
}

void BM_SlaClock_Apply_AlwaysOpen(benchmark::State& state) {
  AlwaysOpen always;
  Fold(state, always);
}
BENCHMARK(BM_SlaClock_Apply_AlwaysOpen);

void BM_SlaClock_Apply_OfficeHours(benchmark::State& state) {
  testing::OfficeHours office;
  Fold(state, office);
}
BENCHMARK(BM_SlaClock_Apply_OfficeHours);

void BM_SlaClock_Apply_Calendar(benchmark::State& state) {
  absl::StatusOr<std::shared_ptr<const BusinessCalendar>> calendar =
      testing::LoadOfficeBerlin();
  if (!calendar.ok()) {
    state.SkipWithError(std::string(calendar.status().message()).c_str());
    return;
  }
  // Build the index chunk the lifecycle touches before timing (a one-off
  // cost of a fresh calendar, measured by BM_Calendar_FirstUse).
  const std::vector<In> inputs = Lifecycle();
  benchmark::DoNotOptimize(
      (*calendar)->Between(inputs.front().at, inputs.back().at));
  CalendarBusinessTime business(*std::move(calendar));
  Fold(state, business);
}
BENCHMARK(BM_SlaClock_Apply_Calendar);

void BM_SlaClock_ApplyPure_AlwaysOpen(benchmark::State& state) {
  AlwaysOpen always;
  const std::vector<In> inputs = Lifecycle();
  const SlaClock fresh = Fresh();
  std::vector<SlaClock> clocks(kClocks, fresh);
  int64_t applied = 0, refused = 0;
  for (auto _ : state) {
    for (SlaClock& c : clocks) c = fresh;
    for (const In& in : inputs) {
      for (SlaClock& c : clocks) {
        absl::StatusOr<SlaTransition> t = c.Apply(in, always);
        if (!t.ok()) {
          ++refused;
          continue;
        }
        c = std::move(t->clock);
      }
    }
    applied += static_cast<int64_t>(inputs.size()) * kClocks;
  }
  if (refused != 0) state.SkipWithError("an input was refused");
  state.SetItemsProcessed(applied);
}
BENCHMARK(BM_SlaClock_ApplyPure_AlwaysOpen);

// What a projection would do without an in-memory clock: the state lives
// only as stored bytes.
void BM_Baseline_NaiveProtoFold(benchmark::State& state) {
  AlwaysOpen always;
  const std::vector<In> inputs = Lifecycle();
  std::string fresh_bytes;
  Fresh().ToProto().SerializeToString(&fresh_bytes);
  std::vector<std::string> stored(kClocks, fresh_bytes);
  SlaClockState proto;
  std::vector<SlaClockFact> facts;
  int64_t applied = 0, refused = 0;
  for (auto _ : state) {
    for (std::string& s : stored) s = fresh_bytes;
    for (const In& in : inputs) {
      for (std::string& s : stored) {
        proto.ParseFromString(s);
        absl::StatusOr<SlaClock> c = SlaClock::FromProto(proto);
        facts.clear();
        refused += !c.ok() || !c->ApplyInPlace(in, always, &facts).ok();
        c->ToProto(&proto);
        proto.SerializeToString(&s);
      }
    }
    applied += static_cast<int64_t>(inputs.size()) * kClocks;
  }
  if (refused != 0) state.SkipWithError("an input was refused");
  state.SetItemsProcessed(applied);
}
BENCHMARK(BM_Baseline_NaiveProtoFold);

// The floor: touch every input and keep one running sum per clock.
void BM_Baseline_SumDeltas(benchmark::State& state) {
  const std::vector<In> inputs = Lifecycle();
  std::vector<absl::Time> last(kClocks);
  std::vector<absl::Duration> sum(kClocks);
  int64_t applied = 0;
  for (auto _ : state) {
    for (int k = 0; k < kClocks; ++k) {
      last[k] = inputs[0].at;
      sum[k] = absl::ZeroDuration();
    }
    for (const In& in : inputs) {
      for (int k = 0; k < kClocks; ++k) {
        sum[k] += in.at - last[k];
        last[k] = in.at;
      }
    }
    benchmark::DoNotOptimize(sum.data());
    applied += static_cast<int64_t>(inputs.size()) * kClocks;
  }
  state.SetItemsProcessed(applied);
}
BENCHMARK(BM_Baseline_SumDeltas);

}  // namespace
}  // namespace slate
