// Out-of-order arrival: the same incident events appended in time order and
// in a shuffled order (each incident's events shuffled, streams interleaved
// at random; versions assigned by the log) fold to byte-identical SLA
// projections, before and after the timers fire, and after a rebuild; also
// with the office policy retired in the middle of the incidents' span, the
// retirement appended in time order in one log and at a random point of the
// other (issue 20: a retirement and the records it ends fold to the same
// bytes in any arrival order). The random priority changes also make
// records stop matching the office policy (priorities 1 and 2 only), which
// ends its clocks there.
#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "lib/api/engine.h"
#include "lib/api/engine_internal.h"
#include "lib/projection/sla_projection.h"
#include "lib/sla/sla_policy.h"
#include "tests/projection/sla_test_util.h"
#include "tests/testing/temp_dir.h"

namespace slate {
namespace {

using ::slate::testing::AllHoursPolicyJson;
using ::slate::testing::DefineSlaConfig;
using ::slate::testing::Exec;
using ::slate::testing::IncidentStep;
using ::slate::testing::OfficePolicyJson;
using ::slate::testing::RandomIncidentLife;
using ::slate::testing::T;

// Events of one incident that must arrive together (same instant, in order).
struct Unit {
  std::string stream;
  int64_t at_us;
  std::vector<Envelope> events;
};

std::vector<std::vector<Unit>> MakeIncidents(std::mt19937_64& rng, int n) {
  const int64_t base = absl::ToUnixMicros(T("2026-11-23T06:00:00Z"));
  std::vector<std::vector<Unit>> incidents;
  for (int i = 0; i < n; ++i) {
    const std::string id = absl::StrCat("S", i);
    std::vector<Unit> units;
    for (IncidentStep& s : RandomIncidentLife(rng, id, "", base)) {
      units.push_back(
          {absl::StrCat("incident/", id), s.at_us, std::move(s.events)});
    }
    incidents.push_back(std::move(units));
  }
  return incidents;
}

class Db {
 public:
  explicit Db(SimulatedClock* clock) {
    Options options;
    options.clock = clock;
    options.durability = Durability::kProcessCrash;
    auto e = Engine::Open(options, dir_.path());
    EXPECT_TRUE(e.ok()) << e.status();
    engine = std::move(*e);
    DefineSlaConfig(*engine, OfficePolicyJson());
    Exec(*engine, absl::StrCat(R"({"defineSlaPolicy":{"at":"2026-11-01T00:00:00Z","policy":)",
                               AllHoursPolicyJson(), "}}"));
  }
  void Append(const Unit& u) {
    auto r = engine->Append(u.stream, ExpectedVersion::Any(), u.events);
    ASSERT_TRUE(r.ok()) << r.status();
  }
  std::vector<std::pair<std::string, std::string>> Dump() {
    auto d = RunnerOf(*engine).Dump(SlaProjection::kName);
    EXPECT_TRUE(d.ok()) << d.status();
    return *d;
  }
  slate::testing::TempDir dir_;
  std::unique_ptr<Engine> engine;
};

std::set<std::string> Ids(const std::vector<Envelope>& events) {
  std::set<std::string> ids;
  for (const Envelope& e : events) ids.insert(e.event_id());
  return ids;
}

// The retirement of p-office at `at`, as the executor writes it.
Unit Retirement(int64_t at_us) {
  Unit u{"policy/p-office", at_us, {}};
  Envelope e;
  e.set_event_id("retire-p-office");
  e.set_occurred_at_us(at_us);
  e.mutable_sla_policy_retired()->set_policy_id("p-office");
  u.events.push_back(e);
  return u;
}

// p-24x7 redefined at `at` with every resolution target halved, applying to
// running clocks.
Unit Redefinition(int64_t at_us) {
  Unit u{"policy/p-24x7", at_us, {}};
  Envelope e;
  e.set_event_id("redefine-p-24x7");
  e.set_occurred_at_us(at_us);
  SlaPolicy* p = e.mutable_sla_policy_defined()->mutable_policy();
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(
                  AllHoursPolicyJson(), p)
                  .ok());
  for (SlaPriorityTargets& t : *p->mutable_targets()) {
    absl::Duration d;
    EXPECT_TRUE(absl::ParseDuration(t.resolution(), &d));
    t.set_resolution(absl::FormatDuration(d / 2));
  }
  FillSlaPolicyDefaults(p);
  e.mutable_sla_policy_defined()->set_apply_to_running(true);
  u.events.push_back(e);
  return u;
}

size_t CancelledClocks(Engine& engine, absl::string_view reason) {
  size_t n = 0;
  EXPECT_TRUE(ForEachClock(RunnerOf(engine), [&](const SlaClockView& v) {
                if (v.state.cancel_reason() == reason) ++n;
              }).ok());
  return n;
}

void ShuffledArrivalFoldsToTheSameBytes(bool retire) {
  const uint64_t seed = 20261123;
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  SimulatedClock clock(T("2027-01-31T00:00:00Z"));
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    std::vector<std::vector<Unit>> incidents = MakeIncidents(rng, 25);

    Db ordered(&clock);
    std::vector<Unit> all;
    for (const auto& inc : incidents) all.insert(all.end(), inc.begin(), inc.end());
    std::stable_sort(all.begin(), all.end(), [](const Unit& a, const Unit& b) {
      return a.at_us < b.at_us;
    });
    // Day 2 of the 4 days the incidents open over.
    const Unit retirement = Retirement(
        absl::ToUnixMicros(T("2026-11-25T09:30:00Z")) + round * 3'600'000'000);
    const Unit redefinition = Redefinition(retirement.at_us - 3 * 3'600'000'000);
    bool redefined = !retire;
    bool retired = !retire;
    for (const Unit& u : all) {
      if (!redefined && u.at_us >= redefinition.at_us) {
        ordered.Append(redefinition);
        redefined = true;
      }
      if (!retired && u.at_us >= retirement.at_us) {
        ordered.Append(retirement);
        retired = true;
      }
      ordered.Append(u);
    }
    if (!redefined) ordered.Append(redefinition);
    if (!retired) ordered.Append(retirement);

    Db shuffled(&clock);
    const size_t retire_after = retire ? rng() % all.size() : all.size() + 1;
    const size_t redefine_after =
        retire ? rng() % (retire_after + 1) : all.size() + 1;
    std::vector<std::vector<Unit>> queues = incidents;
    size_t late = 0;
    for (auto& q : queues) {
      std::shuffle(q.begin(), q.end(), rng);
      for (size_t i = 1; i < q.size(); ++i) late += q[i].at_us < q[i - 1].at_us;
    }
    ASSERT_GT(late, 10u);  // The shuffle really produces late events.
    std::vector<size_t> next(queues.size(), 0);
    for (size_t left = all.size(); left > 0; --left) {
      if (all.size() - left == redefine_after) shuffled.Append(redefinition);
      if (all.size() - left == retire_after) shuffled.Append(retirement);
      size_t pick;
      do {
        pick = rng() % queues.size();
      } while (next[pick] == queues[pick].size());
      shuffled.Append(queues[pick][next[pick]++]);
    }

    const auto ordered_dump = ordered.Dump();
    ASSERT_GT(ordered_dump.size(), 100u);
    EXPECT_TRUE(ordered_dump == shuffled.Dump());
    // The rules at work: some clocks end because a priority change left
    // the office policy's priorities, and (when retired) because of the
    // retirement.
    EXPECT_GT(CancelledClocks(*ordered.engine, "no longer matches the policy"),
              0u);
    EXPECT_EQ(CancelledClocks(*ordered.engine, "policy retired") > 0, retire);
    size_t rebound = 0;
    EXPECT_TRUE(ForEachClock(RunnerOf(*ordered.engine),
                             [&](const SlaClockView& v) {
                               for (const auto& h : v.state.target_history()) {
                                 rebound += h.reason() == "policy redefined";
                               }
                             })
                    .ok());
    EXPECT_EQ(rebound > 0, retire);

    // Fire the timers halfway and at the end: same events, same bytes.
    for (const char* now : {"2026-11-25T12:00:00Z", "2026-12-31T00:00:00Z"}) {
      auto a = ordered.engine->AdvanceTo(T(now));
      auto b = shuffled.engine->AdvanceTo(T(now));
      ASSERT_TRUE(a.ok()) << a.status();
      ASSERT_TRUE(b.ok()) << b.status();
      EXPECT_FALSE(a->empty());
      EXPECT_EQ(Ids(*a), Ids(*b));
      EXPECT_TRUE(ordered.Dump() == shuffled.Dump()) << now;
    }
    // A rebuild of the shuffled log gives the same bytes again.
    const auto before = shuffled.Dump();
    ASSERT_TRUE(shuffled.engine->RebuildProjection(SlaProjection::kName).ok());
    EXPECT_TRUE(shuffled.Dump() == before);
  }
}

TEST(SlaShuffleTest, ShuffledArrivalFoldsToTheSameBytes) {
  ShuffledArrivalFoldsToTheSameBytes(/*retire=*/false);
}

TEST(SlaShuffleTest, ShuffledArrivalWithARetirementFoldsToTheSameBytes) {
  ShuffledArrivalFoldsToTheSameBytes(/*retire=*/true);
}

}  // namespace
}  // namespace slate
