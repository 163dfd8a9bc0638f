// Engine::Simulate (lib/projection/sla_whatif.h): the identity what-if
// changes nothing on random lifecycles; a changed target flips exactly the
// clocks it should (computed by hand); bad input is refused; and the live
// database is only read while appends and queries run beside it.
#include <atomic>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "lib/api/engine.h"
#include "lib/api/names.h"
#include "tests/projection/sla_test_util.h"
#include "tests/testing/temp_dir.h"

namespace slate {
namespace {

using ::slate::testing::AllHoursPolicyJson;
using ::slate::testing::DefineSlaConfig;
using ::slate::testing::Exec;
using ::slate::testing::OfficePolicyJson;
using ::slate::testing::T;

SlaPolicy Policy(const std::string& json) {
  SlaPolicy p;
  auto st = google::protobuf::util::JsonStringToMessage(json, &p);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return p;
}

class SlaWhatIfTest : public slate::testing::SlaEngineTest {
 protected:
  void Resolve(const std::string& id, const std::string& at) {
    Exec(*engine_, absl::StrCat(R"({"resolveIncident":{"incidentId":")", id,
                                R"(","at":")", at,
                                R"(","resolutionCode":"fixed"}})"));
  }
  // Random lifecycles (as sla_explain_test), on the office policy.
  void RandomHistory(int incidents) {
    std::mt19937 rng(7);
    absl::Time t = T("2026-12-21T06:00:00Z");
    auto at = [&] {
      t += absl::Minutes(std::uniform_int_distribution<int>(5, 600)(rng));
      return absl::FormatTime("%Y-%m-%d%ET%H:%M:%SZ", t, absl::UTCTimeZone());
    };
    for (int n = 0; n < incidents; ++n) {
      const std::string id = absl::StrCat("R", n);
      OpenIncident(id, at(), std::uniform_int_distribution<int>(1, 3)(rng),
                   std::uniform_int_distribution<int>(1, 2)(rng));
      bool held = false;
      for (int s = std::uniform_int_distribution<int>(0, 4)(rng); s > 0; --s) {
        if (held) {
          Exec(*engine_, absl::StrCat(R"({"resumeIncident":{"incidentId":")",
                                      id, R"(","at":")", at(), R"("}})"));
          held = false;
        } else if (s % 2 == 0) {
          Exec(*engine_, absl::StrCat(R"({"holdIncident":{"incidentId":")",
                                      id, R"(","at":")", at(),
                                      R"(","reason":"AWAITING_CALLER"}})"));
          held = true;
        } else {
          ASSERT_TRUE(engine_->AdvanceTo(t).ok());
        }
      }
      if (n % 3 != 0) Resolve(id, at());
    }
  }
};

TEST_F(SlaWhatIfTest, TheSamePoliciesChangeNothing) {
  DefineSlaConfig(*engine_, OfficePolicyJson());
  RandomHistory(40);
  SlaWhatIfQuery q;
  q.policies.push_back(Policy(OfficePolicyJson()));
  q.by = "priority";
  q.list_flips = 10;
  auto r = engine_->Simulate(q);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->flipped, 0) << FormatSlaWhatIf(*r, "table");
  int64_t counted = 0;
  for (const SlaWhatIfRow& row : r->rows) {
    EXPECT_EQ(row.before_met, row.after_met) << row.policy_id << row.key;
    EXPECT_EQ(row.before_breached, row.after_breached);
    counted += row.after_met + row.after_breached;
  }
  EXPECT_GT(counted, 30);
  EXPECT_GE(r->rows.size(), 3u);  // response/resolution x P1/P2.
}

// Two P1 incidents on the 24x7 policy (4h): INC1 resolved after 5h
// (breached), INC2 after 3h (met), INC3 after 7h (breached). With 6h:
// INC1 flips to met; INC3 stays breached.
TEST_F(SlaWhatIfTest, ALongerTargetFlipsExactlyTheClocksWithinIt) {
  Exec(*engine_, absl::StrCat(R"({"defineSlaPolicy":{"at":"2026-11-01T00:00:00Z","policy":)",
                              AllHoursPolicyJson(), "}}"));
  OpenIncident("INC1", "2026-11-23T08:00:00Z", 1, 1);
  OpenIncident("INC2", "2026-11-23T08:00:00Z", 1, 1);
  OpenIncident("INC3", "2026-11-24T08:00:00Z", 1, 1);
  Resolve("INC1", "2026-11-23T13:00:00Z");
  Resolve("INC2", "2026-11-23T11:00:00Z");
  Resolve("INC3", "2026-11-24T15:00:00Z");
  std::string longer = AllHoursPolicyJson();
  longer.replace(longer.find("\"resolution\":\"4h\""), 17,
                 "\"resolution\":\"6h\"");
  SlaWhatIfQuery q;
  q.policies.push_back(Policy(longer));
  q.list_flips = 5;
  auto r = engine_->Simulate(q);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->rows.size(), 1u);
  EXPECT_EQ(r->rows[0].before_met, 1);
  EXPECT_EQ(r->rows[0].before_breached, 2);
  EXPECT_EQ(r->rows[0].after_met, 2);
  EXPECT_EQ(r->rows[0].after_breached, 1);
  EXPECT_EQ(r->flipped, 1);
  ASSERT_EQ(r->flips.size(), 1u);
  EXPECT_EQ(r->flips[0].record, "incident/INC1");
  EXPECT_EQ(r->flips[0].before, "breached");
  EXPECT_EQ(r->flips[0].after, "met");
  EXPECT_EQ(r->flips[0].why, "target 4h -> 6h; business time used 5h");
  // Only the clocks started on the 24th: INC3, no flip.
  q.from = T("2026-11-24T00:00:00Z");
  r = engine_->Simulate(q);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->rows.size(), 1u);
  EXPECT_EQ(r->rows[0].before_breached, 1);
  EXPECT_EQ(r->rows[0].before_met, 0);
  EXPECT_EQ(r->flipped, 0);
  const std::string csv = FormatSlaWhatIf(*r, "csv");
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "policy,target,key,before_met,before_breached,before_compliance,"
            "after_met,after_breached,after_compliance,flips");
}

// Another matrix: impact 2 / urgency 2 is P3 under the default matrix
// (the 24x7 policy's 24h) and P1 under this one (4h). INC1 (open 6h)
// breaches under it; INC2's manual override to P3 keeps P3; INC3 (1/1, P1
// either way) is unchanged.
TEST_F(SlaWhatIfTest, AnotherMatrixRecomputesPrioritiesButNotOverrides) {
  Exec(*engine_, absl::StrCat(R"({"defineSlaPolicy":{"at":"2026-11-01T00:00:00Z","policy":)",
                              AllHoursPolicyJson(), "}}"));
  OpenIncident("INC1", "2026-11-23T08:00:00Z", 2, 2);
  Resolve("INC1", "2026-11-23T14:00:00Z");
  OpenIncident("INC2", "2026-11-23T08:00:00Z", 2, 2);
  Exec(*engine_, R"({"overrideIncidentPriority":{"incidentId":"INC2",
      "at":"2026-11-23T08:01:00Z","priority":3,"reason":"agreed with caller"}})");
  Resolve("INC2", "2026-11-23T14:00:00Z");
  OpenIncident("INC3", "2026-11-23T08:00:00Z", 1, 1);
  Resolve("INC3", "2026-11-23T10:00:00Z");
  auto matrix = ParsePriorityMatrixJson(R"({"impactLevels":3,"urgencyLevels":3,
      "levelNames":["Critical","High","Moderate"],
      "cells":[{"impact":1,"urgency":1,"priority":1},{"impact":1,"urgency":2,"priority":1},
               {"impact":1,"urgency":3,"priority":2},{"impact":2,"urgency":1,"priority":1},
               {"impact":2,"urgency":2,"priority":1},{"impact":2,"urgency":3,"priority":2},
               {"impact":3,"urgency":1,"priority":2},{"impact":3,"urgency":2,"priority":3},
               {"impact":3,"urgency":3,"priority":3}]})");
  ASSERT_TRUE(matrix.ok()) << matrix.status();
  SlaWhatIfQuery q;
  q.matrix = *matrix;
  q.list_flips = 10;
  auto r = engine_->Simulate(q);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->flipped, 1) << FormatSlaWhatIf(*r, "table");
  ASSERT_EQ(r->flips.size(), 1u);
  EXPECT_EQ(r->flips[0].record, "incident/INC1");
  // The live database still says P3 and met.
  auto live = engine_->Clocks("INC1");
  ASSERT_TRUE(live.ok());
  ASSERT_EQ(live->size(), 1u);
  EXPECT_EQ((*live)[0].priority, 3);
  EXPECT_EQ((*live)[0].state.status(), SLA_CLOCK_STATUS_MET);

  PriorityMatrix bad = *matrix;
  bad.clear_cells();
  q.matrix = bad;
  EXPECT_EQ(engine_->Simulate(q).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(SlaWhatIfTest, BadDefinitionsAreRefused) {
  DefineSlaConfig(*engine_, OfficePolicyJson());
  SlaWhatIfQuery q;
  q.policies.push_back(Policy(OfficePolicyJson("p2", "nowhere")));
  auto r = engine_->Simulate(q);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("nowhere"), std::string::npos)
      << r.status();
  q.policies[0] = Policy(OfficePolicyJson());
  q.policies[0].mutable_targets(0)->set_resolution("-4h");
  r = engine_->Simulate(q);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument)
      << r.status();
  q.policies[0] = Policy(OfficePolicyJson());
  q.by = "weather";
  EXPECT_EQ(engine_->Simulate(q).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// The what-if only reads: appends and queries beside it see nothing of it,
// and afterwards the log holds exactly what was appended and every
// projection equals a rebuild.
TEST_F(SlaWhatIfTest, TheLiveDatabaseIsOnlyRead) {
  DefineSlaConfig(*engine_, OfficePolicyJson());
  RandomHistory(30);
  const int64_t before = engine_->NextPosition();
  // Resolution targets of 1000h: every breached resolution clock is met.
  std::string longer = OfficePolicyJson();
  longer.replace(longer.find("\"resolution\":\"4h\""), 17,
                 "\"resolution\":\"1000h\"");
  longer.replace(longer.find("\"resolution\":\"8h\""), 17,
                 "\"resolution\":\"1000h\"");
  SlaWhatIfQuery q;
  q.policies.push_back(Policy(longer));
  std::atomic<bool> done{false};
  int appended = 0;
  std::thread writer([&] {
    for (int i = 0; !done.load() || i < 5; ++i) {
      Exec(*engine_, absl::StrCat(R"({"openIncident":{"incidentId":"W)", i,
                                  R"(","at":"2027-01-30T08:00:00Z",)",
                                  R"("serviceId":"email","impact":1,)",
                                  R"("urgency":1}})"));
      EXPECT_TRUE(engine_->Clocks(absl::StrCat("W", i)).ok());
      ++appended;
    }
  });
  for (int k = 0; k < 3; ++k) {
    auto r = engine_->Simulate(q);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_GT(r->flipped, 0);
  }
  done = true;
  writer.join();
  // Each open appends the opened and the priority event.
  EXPECT_EQ(engine_->NextPosition(), before + 2 * appended);
  VerifyReport report;
  ASSERT_TRUE(engine_->Verify(&report).ok());
  EXPECT_TRUE(report.ok());
}

}  // namespace
}  // namespace slate
