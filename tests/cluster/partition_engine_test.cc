// PartitionEngine (lib/cluster/partition_engine.h) on a real nats-server: a
// writer node's engine replicates every append (commands and SLA timers) to
// the partition; a follower applies them and answers as the writer; after a
// clean handover the follower writes where the partition ends and a
// command retried with its id is applied once; a node restarted from its
// own directory catches up; the answers equal one embedded engine's.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "lib/api/clock.h"
#include "lib/api/engine.h"
#include "lib/api/tenant.h"
#include "lib/cluster/partition_engine.h"
#include "tests/cluster/cluster_fixture.h"
#include "tests/testing/temp_dir.h"

namespace slate::cluster {
namespace {

Command Json(const std::string& json) {
  Command c;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &c).ok())
      << json;
  return c;
}

const char* kScript[] = {
    R"({"commandId":"svc","defineService":{"serviceId":"email","at":"2026-11-01T00:00:00Z","name":"E-mail"}})",
    R"({"commandId":"pol","defineSlaPolicy":{"at":"2026-11-01T00:00:00Z","policy":{"id":"std","name":"Std","appliesTo":{"recordTypes":["incident"]},"targets":[{"priority":1,"response":"15m","resolution":"4h"},{"priority":2,"response":"30m","resolution":"8h"},{"priority":3,"response":"1h","resolution":"24h"},{"priority":4,"response":"4h","resolution":"72h"},{"priority":5,"response":"8h","resolution":"120h"}],"calendarId":"24x7","response":{"start":{"events":["incident_opened"]},"stop":{"events":["incident_acknowledged","incident_assigned"]}},"resolution":{"start":{"events":["incident_opened"]},"stop":{"states":["resolved","closed"]}}}}})",
    R"({"commandId":"o1","tenantId":"acme","openIncident":{"incidentId":"INC1","at":"2026-11-23T09:00:00Z","serviceId":"email","impact":1,"urgency":1}})",
    R"({"commandId":"o2","tenantId":"acme","openIncident":{"incidentId":"INC2","at":"2026-11-23T09:05:00Z","serviceId":"email","impact":2,"urgency":2}})",
    R"({"commandId":"p1","tenantId":"acme","logProblem":{"problemId":"PRB1","at":"2026-11-23T09:30:00Z","title":"mail","incidentIds":["INC1","INC2"]}})",
    R"({"commandId":"a2","tenantId":"acme","acknowledgeIncident":{"incidentId":"INC2","at":"2026-11-23T09:20:00Z"}})",
    R"({"commandId":"r1","tenantId":"acme","resolveIncident":{"incidentId":"INC1","at":"2026-11-23T15:00:00Z","resolutionCode":"fixed"}})",
};
constexpr int kLines = sizeof(kScript) / sizeof(kScript[0]);

class PartitionEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<ClusterFixture>> f = ClusterFixture::Start(
        1, Options(/*partitions=*/2, /*replicas=*/1, absl::Seconds(2)));
    ASSERT_TRUE(f.ok()) << f.status();
    f_ = *std::move(f);
  }
  PartitionEngineOptions For(const std::string& node) {
    PartitionEngineOptions o;
    o.dir = dir_.Sub(node);
    o.node = node;
    o.partition = 1;
    o.engine.clock = &clock_;
    o.engine.durability = Durability::kProcessCrash;
    o.acquire_wait = absl::Seconds(10);
    return o;
  }
  void Run(Engine& e, int from, int to) {
    for (int i = from; i < to; ++i) {
      absl::StatusOr<ExecuteResult> r = e.Execute(Json(kScript[i]));
      ASSERT_TRUE(r.ok()) << kScript[i] << ": " << r.status();
      ASSERT_TRUE(e.AdvanceToWatermark().ok());
    }
  }
  static std::vector<std::string> Log(Engine& e) {
    std::vector<std::string> out;
    auto all = e.ReadAll(0, 1000000);
    EXPECT_TRUE(all.ok());
    for (const Envelope& x : *all) out.push_back(x.SerializeAsString());
    return out;
  }
  static std::string Answers(Engine& e) {
    std::string out;
    for (const char* id : {"INC1", "INC2"}) {
      auto inc = e.LoadAggregate("incident", id, "acme");
      absl::StrAppend(&out, inc.ok() ? inc->ShortDebugString()
                                     : inc.status().ToString(), "\n");
      auto clocks = e.Clocks(TenantStream("acme", absl::StrCat("incident/", id)));
      EXPECT_TRUE(clocks.ok()) << clocks.status();
      if (clocks.ok()) {
        for (const SlaClockView& c : *clocks) {
          absl::StrAppend(&out, c.state.ShortDebugString(), "\n");
        }
      }
    }
    KpiQuery q;
    q.bucket = KpiBucket::kAll;
    q.now = absl::FromUnixSeconds(1796000000);
    auto kpis = e.FormatKpis(q, KpiFormat::kJson);
    absl::StrAppend(&out, kpis.ok() ? *kpis : kpis.status().ToString());
    return out;
  }

  std::unique_ptr<ClusterFixture> f_;
  testing::TempDir dir_;
  SimulatedClock clock_{absl::FromUnixSeconds(1796000000)};  // 2026-11-30
};

TEST_F(PartitionEngineTest, AFollowerAnswersAsTheWriterAndTakesOver) {
  auto a = PartitionEngine::OpenWriter(*f_->cluster, For("a"));
  ASSERT_TRUE(a.ok()) << a.status();
  Run((*a)->engine(), 0, 5);
  // Another node cannot write the partition meanwhile.
  PartitionEngineOptions busy = For("b");
  busy.acquire_wait = absl::ZeroDuration();
  EXPECT_EQ(PartitionEngine::OpenWriter(*f_->cluster, busy).status().code(),
            absl::StatusCode::kFailedPrecondition);

  auto b = PartitionEngine::OpenFollower(*f_->cluster, For("b"));
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(Log((*b)->engine()), Log((*a)->engine()));
  EXPECT_EQ(Answers((*b)->engine()), Answers((*a)->engine()));
  EXPECT_EQ(*(*b)->CatchUp(), 0);

  // A clean handover: a releases, its engine writes no more.
  ASSERT_TRUE((*a)->Release().ok());
  EXPECT_FALSE((*a)->writing());
  const int64_t end = (*a)->engine().NextPosition();
  EXPECT_FALSE((*a)->engine().Execute(Json(kScript[5])).ok());
  EXPECT_EQ((*a)->engine().NextPosition(), end);

  b->reset();
  auto b2 = PartitionEngine::OpenWriter(*f_->cluster, For("b"));
  ASSERT_TRUE(b2.ok()) << b2.status();
  // A client retrying a command a acknowledged: applied once.
  absl::StatusOr<ExecuteResult> retry = (*b2)->engine().Execute(Json(kScript[4]));
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_TRUE(retry->idempotent_replay());
  EXPECT_EQ((*b2)->engine().NextPosition(), end);
  Run((*b2)->engine(), 5, kLines);

  // One embedded engine fed the same commands answers the same.
  slate::Options o;
  o.clock = &clock_;
  o.durability = Durability::kProcessCrash;
  auto alone = Engine::Open(o, dir_.Sub("alone"));
  ASSERT_TRUE(alone.ok());
  Run(**alone, 0, kLines);
  EXPECT_EQ(Answers((*b2)->engine()), Answers(**alone));
  EXPECT_EQ(Log((*b2)->engine()).size(), Log(**alone).size());
  VerifyReport report;
  ASSERT_TRUE((*b2)->engine().Verify(&report).ok());
  EXPECT_TRUE(report.ok());

  // a restarts from its own directory: it catches up to b's writes.
  a->reset();
  auto a2 = PartitionEngine::OpenFollower(*f_->cluster, For("a"));
  ASSERT_TRUE(a2.ok()) << a2.status();
  EXPECT_EQ(Log((*a2)->engine()), Log((*b2)->engine()));
}

TEST_F(PartitionEngineTest, ALocalLogThePartitionDoesNotHoldIsDataLoss) {
  {
    slate::Options o;
    o.durability = Durability::kProcessCrash;
    auto stray = Engine::Open(o, For("x").dir);
    ASSERT_TRUE(stray.ok());
    ASSERT_TRUE((*stray)->Execute(Json(kScript[0])).ok());
  }
  auto x = PartitionEngine::OpenFollower(*f_->cluster, For("x"));
  EXPECT_EQ(x.status().code(), absl::StatusCode::kDataLoss) << x.status();
  PartitionEngineOptions bad = For("y");
  bad.partition = 7;
  EXPECT_EQ(PartitionEngine::OpenFollower(*f_->cluster, bad).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace slate::cluster
