// Customer satisfaction and details updates (issue 21) through the public
// Engine: the hand-computed example examples/domain/satisfaction.jsonl, the
// survey KPIs against a slow obvious computation on random histories, and
// the SLA clocks and views following a service change.
//
// Hand-computed (examples/domain/satisfaction.jsonl, 2026-11-27 UTC, now
// 16:00; bucket all, by service; "at the resolution rated" puts INC40's
// two answers on crm, its service when it was resolved each time):
//   crm:  resolved 2 (INC40 10:00, 13:00), responses 2 (5, 2): response rate
//         2/2 = 100 %, CSAT 1/2 = 50 %, average (5+2)/2 = 3.5. Downtime: INC40
//         is P1 on crm 09:10-10:00 and 12:00-13:00 = 1h50m in 2 failures;
//         agreed 00:00-16:00 = 16h; MTBF (16h - 1h50m)/2 = 7h05m.
//   mail: resolved 2 (INC41, INC42), responses 1 (4): rate 50 %, CSAT 100 %,
//         average 4. Downtime INC40 09:00-09:10 on mail = 10m, 1 failure,
//         MTBF (16h - 10m)/1 = 15h50m.
//   opened: 3 on mail (INC40 was opened on mail), 0 on crm.
#include <cstdint>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "lib/api/clock.h"
#include "lib/api/engine.h"
#include "tests/testing/temp_dir.h"

namespace slate {
namespace {

absl::Time T(const std::string& s) {
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, s, &t, &err)) std::abort();
  return t;
}

std::string Rfc(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

Command Cmd(const std::string& json) {
  Command c;
  if (!google::protobuf::util::JsonStringToMessage(json, &c).ok()) {
    ADD_FAILURE() << "bad JSON " << json;
  }
  return c;
}

class SatisfactionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Options options;
    options.clock = &clock_;
    options.durability = Durability::kProcessCrash;
    auto e = Engine::Open(options, dir_.path());
    ASSERT_TRUE(e.ok()) << e.status();
    engine_ = std::move(*e);
  }

  absl::Status Exec(const std::string& json) {
    return engine_->Execute(Cmd(json)).status();
  }

  void RunExample() {
    std::ifstream in("examples/domain/satisfaction.jsonl");
    ASSERT_TRUE(in.good()) << "examples/domain/satisfaction.jsonl missing";
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') continue;
      ASSERT_TRUE(Exec(line).ok()) << line;
    }
  }

  KpiResult Kpis(std::vector<KpiDimension> by, KpiBucket bucket,
                 absl::Time from, absl::Time to, absl::Time now) {
    KpiQuery q;
    q.by = std::move(by);
    q.bucket = bucket;
    q.from = from;
    q.to = to;
    q.now = now;
    auto r = engine_->Kpis({q});
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? (*r)[0] : KpiResult();
  }

  slate::testing::TempDir dir_;
  SimulatedClock clock_{T("2027-06-01T00:00:00Z")};
  std::unique_ptr<Engine> engine_;
};

TEST_F(SatisfactionTest, HandComputedExample) {
  RunExample();
  const absl::Time now = T("2026-11-27T16:00:00Z");
  KpiResult r = Kpis({KpiDimension::kService}, KpiBucket::kAll,
                     T("2026-11-27T00:00:00Z"), now, now);
  std::map<std::string, KpiResultRow> rows;
  for (const KpiResultRow& row : r.rows) rows[row.dims.service] = row;
  ASSERT_EQ(rows.count("crm"), 1u);
  ASSERT_EQ(rows.count("mail"), 1u);
  EXPECT_EQ(rows["crm"].flow.resolved, 2);
  EXPECT_EQ(rows["crm"].flow.survey_responses, 2);
  EXPECT_EQ(rows["crm"].flow.survey_satisfied, 1);
  EXPECT_EQ(rows["crm"].flow.survey_score_sum, 7);
  EXPECT_EQ(rows["crm"].flow.opened, 0);
  EXPECT_EQ(rows["mail"].flow.opened, 3);
  EXPECT_EQ(rows["mail"].flow.resolved, 2);
  EXPECT_EQ(rows["mail"].flow.survey_responses, 1);
  EXPECT_EQ(rows["mail"].flow.survey_satisfied, 1);
  EXPECT_EQ(rows["mail"].flow.survey_score_sum, 4);

  std::map<std::string, KpiResultServiceRow> services;
  for (const KpiResultServiceRow& s : r.services) services[s.service] = s;
  ASSERT_EQ(services.size(), 2u);
  const KpiResultServiceRow& crm = services["crm"];
  ASSERT_TRUE(crm.has_availability);
  EXPECT_EQ(crm.downtime_us, absl::ToInt64Microseconds(absl::Minutes(110)));
  EXPECT_EQ(crm.failures, 2);
  EXPECT_EQ(crm.agreed_us, absl::ToInt64Microseconds(absl::Hours(16)));
  EXPECT_EQ(crm.survey_responses, 2);
  EXPECT_EQ(crm.resolved, 2);
  const KpiResultServiceRow& mail = services["mail"];
  EXPECT_EQ(mail.downtime_us, absl::ToInt64Microseconds(absl::Minutes(10)));
  EXPECT_EQ(mail.failures, 1);
  EXPECT_EQ(mail.target_percent, 99.5);
  EXPECT_EQ(mail.survey_satisfied, 1);

  KpiQuery q;
  q.by = {KpiDimension::kService};
  q.bucket = KpiBucket::kAll;
  q.from = T("2026-11-27T00:00:00Z");
  q.to = now;
  q.now = now;
  KpiTables only;
  only.incidents = only.availability = only.sla = only.satisfaction = false;
  auto csv = engine_->FormatKpis(q, KpiFormat::kCsv, only);
  ASSERT_TRUE(csv.ok()) << csv.status();
  EXPECT_EQ(*csv,
            "bucket,bucket_end,service,availability,target,downtime,failures,"
            "mtbf,resolved,survey_responses,response_rate,csat,avg_score\n"
            "2026-11-27,2026-11-28,crm,0.8854,,6600.000,2,25500.000,2,2,"
            "1.0000,0.5000,3.5000\n"
            "2026-11-27,2026-11-28,mail,0.9896,0.9950,600.000,1,57000.000,2,1,"
            "0.5000,1.0000,4.0000\n");
  auto json = engine_->FormatKpis(q, KpiFormat::kJson);
  ASSERT_TRUE(json.ok());
  EXPECT_NE(json->find("\"satisfaction\":[{"), std::string::npos);
  EXPECT_NE(json->find("\"csat\":0.5000"), std::string::npos);
}

TEST_F(SatisfactionTest, SatisfactionTablesStayOutWithoutResponses) {
  ASSERT_TRUE(
      Exec(R"({"defineService":{"serviceId":"mail","name":"M"}})").ok());
  ASSERT_TRUE(
      Exec(
          R"({"openIncident":{"incidentId":"I1","at":"2026-11-27T09:00:00Z","serviceId":"mail","impact":1,"urgency":1}})")
          .ok());
  ASSERT_TRUE(
      Exec(
          R"({"resolveIncident":{"incidentId":"I1","at":"2026-11-27T10:00:00Z","resolutionCode":"x"}})")
          .ok());
  KpiQuery q;
  q.from = T("2026-11-27T00:00:00Z");
  q.to = q.now = T("2026-11-28T00:00:00Z");
  auto json = engine_->FormatKpis(q, KpiFormat::kJson);
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(json->find("satisfaction"), std::string::npos) << *json;
  EXPECT_EQ(json->find("\"services\""), std::string::npos) << *json;
  KpiTables asked;
  asked.hide_satisfaction_without_responses = false;
  json = engine_->FormatKpis(q, KpiFormat::kJson, asked);
  ASSERT_TRUE(json.ok());
  EXPECT_NE(json->find("\"satisfaction\":[{"), std::string::npos) << *json;
  EXPECT_NE(json->find("\"failures\":1"), std::string::npos) << *json;
  // Once answered, the default shows them.
  ASSERT_TRUE(
      Exec(
          R"({"recordSurveyResponse":{"incidentId":"I1","at":"2026-11-27T11:00:00Z","score":3}})")
          .ok());
  json = engine_->FormatKpis(q, KpiFormat::kJson);
  ASSERT_TRUE(json.ok());
  EXPECT_NE(json->find("\"csat\":0.0000"), std::string::npos) << *json;
}

TEST_F(SatisfactionTest, UnknownServiceIsRefusedThroughTheEngine) {
  ASSERT_TRUE(
      Exec(R"({"defineService":{"serviceId":"mail","name":"M"}})").ok());
  ASSERT_TRUE(
      Exec(
          R"({"openIncident":{"incidentId":"I1","at":"2026-11-27T09:00:00Z","serviceId":"mail","impact":2,"urgency":2}})")
          .ok());
  absl::Status st = Exec(
      R"({"updateIncidentDetails":{"incidentId":"I1","at":"2026-11-27T09:05:00Z","serviceId":"nope"}})");
  EXPECT_EQ(st.code(), absl::StatusCode::kNotFound) << st;
  EXPECT_NE(st.message().find("nope"), std::string::npos);
}

// A policy scoped to one service: the service change through the details
// command attaches the incident's clocks (the SLA projection folds
// IncidentDetailsUpdated through EvolveIncident), and the views show it.
TEST_F(SatisfactionTest, ServiceChangeMovesSlaScopeAndTheView) {
  ASSERT_TRUE(
      Exec(R"({"defineService":{"serviceId":"mail","name":"M"}})").ok());
  ASSERT_TRUE(Exec(R"({"defineService":{"serviceId":"crm","name":"C"}})").ok());
  ASSERT_TRUE(
      Exec(
          R"({"defineSlaPolicy":{"at":"2026-11-27T08:00:00Z","policy":{"id":"crm-only","name":"crm","appliesTo":{"recordTypes":["incident"],"services":["crm"]},"targets":[{"priority":2,"resolution":"8h"},{"priority":3,"resolution":"8h"}],"calendarId":"24x7","resolution":{"start":{"events":["incident_opened"]},"stop":{"states":["resolved","closed"]},"cancel":{"states":["cancelled"]}}}}})")
          .ok());
  ASSERT_TRUE(
      Exec(
          R"({"openIncident":{"incidentId":"I1","at":"2026-11-27T09:00:00Z","serviceId":"mail","impact":2,"urgency":2}})")
          .ok());
  auto before = engine_->Clocks("incident/I1");
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_TRUE(before->empty());
  ASSERT_TRUE(
      Exec(
          R"({"updateIncidentDetails":{"incidentId":"I1","at":"2026-11-27T09:30:00Z","serviceId":"crm","category":"sync"}})")
          .ok());
  auto after = engine_->Clocks("incident/I1");
  ASSERT_TRUE(after.ok()) << after.status();
  ASSERT_EQ(after->size(), 1u);
  EXPECT_EQ((*after)[0].policy_id, "crm-only");
  EXPECT_EQ((*after)[0].service, "crm");
  auto view = engine_->LoadAggregate("incident", "I1");
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->incident().service_id(), "crm");
  EXPECT_EQ(view->incident().category(), "sync");
}

// Random histories: survey sums per (month, service, group, priority)
// against a model kept beside the commands, counting each resolution where
// it happened and each accepted answer at the resolution it rates.
TEST_F(SatisfactionTest, SurveyKpisEqualASlowComputationOnRandomHistories) {
  constexpr uint32_t kSeed = 2111;
  std::printf("seed %u\n", kSeed);
  std::mt19937 rng(kSeed);
  auto pick = [&rng](int n) {
    return static_cast<int>(std::uniform_int_distribution<int>(0, n - 1)(rng));
  };
  const std::vector<std::string> services = {"a", "b", "c"};
  const std::vector<std::string> groups = {"g1", "g2"};
  for (const std::string& s : services) {
    ASSERT_TRUE(Exec(absl::StrCat(R"({"defineService":{"serviceId":")", s,
                                  R"(","name":")", s, R"("}})"))
                    .ok());
  }
  struct Sums {
    int64_t resolved = 0, responses = 0, satisfied = 0, score_sum = 0;
  };
  using Key = std::tuple<absl::CivilMonth, std::string, std::string, int>;
  std::map<Key, Sums> expected;
  struct Model {
    std::string service, group;
    int priority = 0;
    bool resolved = false, closed = false, answered = false;
    Key resolution;
  };
  std::map<std::string, Model> incidents;
  absl::Time at = T("2026-09-01T00:00:00Z");
  int refused_surveys = 0;
  for (int step = 0; step < 900; ++step) {
    at += absl::Minutes(20 + pick(400));
    const std::string when = Rfc(at);
    if (incidents.size() < 8 || pick(6) == 0) {
      const std::string id = absl::StrCat("I", incidents.size());
      Model m;
      m.service = services[pick(3)];
      const int impact = 1 + pick(3), urgency = 1 + pick(3);
      ASSERT_TRUE(Exec(absl::StrCat(R"({"openIncident":{"incidentId":")", id,
                                    R"(","at":")", when, R"(","serviceId":")",
                                    m.service, R"(","impact":)", impact,
                                    R"(,"urgency":)", urgency, "}}"))
                      .ok());
      auto st = engine_->LoadAggregate("incident", id);
      ASSERT_TRUE(st.ok());
      m.priority = st->incident().priority();
      incidents[id] = m;
      continue;
    }
    auto it = incidents.begin();
    std::advance(it, pick(static_cast<int>(incidents.size())));
    const std::string& id = it->first;
    Model& m = it->second;
    const std::string head =
        absl::StrCat(R"({"incidentId":")", id, R"(","at":")", when, R"(")");
    const int action = pick(6);
    if (m.closed) continue;
    if (!m.resolved && action == 0) {
      m.group = groups[pick(2)];
      // The same group twice is refused; the model takes the state's.
      Exec(absl::StrCat(R"({"assignIncident":)", head, R"(,"group":")", m.group,
                        R"("}})"))
          .IgnoreError();
      auto st = engine_->LoadAggregate("incident", id);
      ASSERT_TRUE(st.ok());
      m.group = st->incident().assignment_group();
    } else if (action == 1) {
      // A service change, open or resolved.
      const std::string s = services[pick(3)];
      absl::Status r = Exec(absl::StrCat(R"({"updateIncidentDetails":)", head,
                                         R"(,"serviceId":")", s, R"("}})"));
      if (s == m.service) {
        EXPECT_EQ(r.code(), absl::StatusCode::kFailedPrecondition);
      } else {
        ASSERT_TRUE(r.ok()) << r;
        m.service = s;
      }
    } else if (!m.resolved && action <= 3) {
      ASSERT_TRUE(Exec(absl::StrCat(R"({"resolveIncident":)", head,
                                    R"(,"resolutionCode":"x"}})"))
                      .ok());
      m.resolved = true;
      m.answered = false;
      m.resolution = {
          absl::CivilMonth(absl::ToCivilSecond(at, absl::UTCTimeZone())),
          m.service, m.group, m.priority};
      expected[m.resolution].resolved += 1;
    } else if (m.resolved && action <= 3) {
      const int score = pick(7);  // 0 and 6 are out of range.
      absl::Status r = Exec(absl::StrCat(R"({"recordSurveyResponse":)", head,
                                         R"(,"score":)", score, "}}"));
      if (score < 1 || score > 5) {
        EXPECT_EQ(r.code(), absl::StatusCode::kInvalidArgument);
      } else if (m.answered) {
        EXPECT_EQ(r.code(), absl::StatusCode::kAlreadyExists);
        ++refused_surveys;
      } else {
        ASSERT_TRUE(r.ok()) << r;
        m.answered = true;
        Sums& s = expected[m.resolution];
        s.responses += 1;
        s.satisfied += score >= 4 ? 1 : 0;
        s.score_sum += score;
      }
    } else if (m.resolved && action == 4) {
      ASSERT_TRUE(Exec(absl::StrCat(R"({"reopenIncident":)", head, "}}")).ok());
      m.resolved = false;
    } else if (m.resolved && action == 5 && pick(4) == 0) {
      ASSERT_TRUE(Exec(absl::StrCat(R"({"closeIncident":)", head, "}}")).ok());
      m.closed = true;
    }
  }
  ASSERT_GT(refused_surveys, 0);
  const absl::Time end = at + absl::Hours(1);
  KpiResult r = Kpis(
      {KpiDimension::kService, KpiDimension::kGroup, KpiDimension::kPriority},
      KpiBucket::kMonth, T("2026-09-01T00:00:00Z"), end, end);
  std::map<Key, Sums> got;
  int64_t total_responses = 0;
  for (const KpiResultRow& row : r.rows) {
    if (row.flow.resolved == 0 && row.flow.survey_responses == 0) continue;
    Sums& s = got[{absl::CivilMonth(row.start), row.dims.service,
                   row.dims.group, row.dims.priority}];
    s.resolved += row.flow.resolved;
    s.responses += row.flow.survey_responses;
    s.satisfied += row.flow.survey_satisfied;
    s.score_sum += row.flow.survey_score_sum;
    total_responses += row.flow.survey_responses;
  }
  ASSERT_GT(total_responses, 20);
  ASSERT_EQ(got.size(), expected.size());
  for (const auto& [k, e] : expected) {
    SCOPED_TRACE(absl::StrCat(absl::FormatCivilTime(std::get<0>(k)), " ",
                              std::get<1>(k), " ", std::get<2>(k), " P",
                              std::get<3>(k)));
    auto g = got.find(k);
    ASSERT_NE(g, got.end());
    EXPECT_EQ(g->second.resolved, e.resolved);
    EXPECT_EQ(g->second.responses, e.responses);
    EXPECT_EQ(g->second.satisfied, e.satisfied);
    EXPECT_EQ(g->second.score_sum, e.score_sum);
  }
  // A rebuild folds the same answer.
  ASSERT_TRUE(engine_->RebuildProjection("kpi").ok());
  KpiResult again = Kpis(
      {KpiDimension::kService, KpiDimension::kGroup, KpiDimension::kPriority},
      KpiBucket::kMonth, T("2026-09-01T00:00:00Z"), end, end);
  ASSERT_EQ(again.rows.size(), r.rows.size());
  for (size_t i = 0; i < r.rows.size(); ++i) {
    EXPECT_EQ(again.rows[i].flow.survey_score_sum,
              r.rows[i].flow.survey_score_sum);
  }
}

}  // namespace
}  // namespace slate
