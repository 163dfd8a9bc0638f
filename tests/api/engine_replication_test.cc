// A cluster node's partition engines (lib/api/engine_replication.h): a
// writer engine replicates every append (commands and SLA timers alike), a
// follower engine applies the batches and answers every query as the writer
// does; a follower restarted halfway catches up; a follower takes over as
// the writer where the partition ends; a fenced writer appends nothing.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "lib/api/clock.h"
#include "lib/api/engine.h"
#include "lib/api/engine_replication.h"
#include "tests/testing/fake_replica.h"
#include "tests/testing/temp_dir.h"

namespace slate {
namespace {

using ::slate::testing::FakeReplica;

Command Json(const std::string& json) {
  Command c;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &c).ok())
      << json;
  return c;
}

const char* kScript[] = {
    R"({"commandId":"svc","defineService":{"serviceId":"email","at":"2026-11-01T00:00:00Z","name":"E-mail"}})",
    R"({"commandId":"pol","defineSlaPolicy":{"at":"2026-11-01T00:00:00Z","policy":{"id":"std","name":"Std","appliesTo":{"recordTypes":["incident"]},"targets":[{"priority":1,"response":"15m","resolution":"4h"},{"priority":2,"response":"30m","resolution":"8h"},{"priority":3,"response":"1h","resolution":"24h"},{"priority":4,"response":"4h","resolution":"72h"},{"priority":5,"response":"8h","resolution":"120h"}],"calendarId":"24x7","response":{"start":{"events":["incident_opened"]},"stop":{"events":["incident_acknowledged","incident_assigned"]}},"resolution":{"start":{"events":["incident_opened"]},"stop":{"states":["resolved","closed"]}}}}})",
    R"({"commandId":"o1","openIncident":{"incidentId":"INC1","at":"2026-11-23T09:00:00Z","serviceId":"email","impact":1,"urgency":1}})",
    R"({"commandId":"o2","tenantId":"acme","openIncident":{"incidentId":"INC1","at":"2026-11-23T09:05:00Z","serviceId":"email","impact":2,"urgency":2}})",
    R"({"commandId":"p1","logProblem":{"problemId":"PRB1","at":"2026-11-23T09:30:00Z","title":"mail","incidentIds":["INC1"]}})",
    R"({"commandId":"a2","tenantId":"acme","acknowledgeIncident":{"incidentId":"INC1","at":"2026-11-23T09:20:00Z"}})",
    R"({"commandId":"r1","resolveIncident":{"incidentId":"INC1","at":"2026-11-23T15:00:00Z","resolutionCode":"fixed"}})",
};
constexpr int kScriptLines = sizeof(kScript) / sizeof(kScript[0]);

class EngineReplicationTest : public ::testing::Test {
 protected:
  std::unique_ptr<Engine> Open(const std::string& name) {
    Options o;
    o.clock = &clock_;
    o.durability = Durability::kProcessCrash;
    auto e = Engine::Open(o, dir_.Sub(name));
    EXPECT_TRUE(e.ok()) << e.status();
    return e.ok() ? *std::move(e) : nullptr;
  }
  // The writer runs the script, firing SLA timers after each command.
  void RunScript(Engine& writer, int from, int to) {
    for (int i = from; i < to; ++i) {
      absl::StatusOr<ExecuteResult> r = writer.Execute(Json(kScript[i]));
      ASSERT_TRUE(r.ok()) << kScript[i] << ": " << r.status();
      ASSERT_TRUE(writer.AdvanceToWatermark().ok());
    }
  }
  static std::vector<std::string> Log(Engine& e) {
    std::vector<std::string> out;
    auto all = e.ReadAll(0, 1000000);
    EXPECT_TRUE(all.ok());
    for (const Envelope& x : *all) out.push_back(x.SerializeAsString());
    return out;
  }
  // What the queries answer, as text.
  static std::string Answers(Engine& e) {
    std::string out;
    for (const char* tenant : {"default", "acme"}) {
      auto inc = e.LoadAggregate("incident", "INC1", tenant);
      absl::StrAppend(&out, inc.ok() ? inc->ShortDebugString()
                                     : inc.status().ToString(), "\n");
      auto clocks = e.Clocks(TenantStream(tenant, "incident/INC1"));
      EXPECT_TRUE(clocks.ok());
      for (const SlaClockView& c : *clocks) {
        absl::StrAppend(&out, c.state.ShortDebugString(), "\n");
      }
    }
    KpiQuery q;
    q.bucket = KpiBucket::kAll;
    q.now = absl::FromUnixSeconds(1795000000);
    auto kpis = e.FormatKpis(q, KpiFormat::kJson);
    EXPECT_TRUE(kpis.ok()) << kpis.status();
    absl::StrAppend(&out, kpis.ok() ? *kpis : "", "\n");
    return out;
  }
  static void ExpectVerified(Engine& e) {
    VerifyReport report;
    ASSERT_TRUE(e.Verify(&report).ok());
    EXPECT_TRUE(report.ok()) << absl::StrJoin(report.problems, "\n");
  }

  testing::TempDir dir_;
  SimulatedClock clock_{absl::FromUnixSeconds(1795000000)};  // 2026-11-18
};

TEST_F(EngineReplicationTest, AFollowerAnswersAsTheWriter) {
  clock_.Set(absl::FromUnixSeconds(1796000000));  // 2026-11-30
  FakeReplica replica;
  std::unique_ptr<Engine> writer = Open("writer");
  SetReplicator(*writer, &replica);
  RunScript(*writer, 0, kScriptLines);
  EXPECT_EQ(replica.next(), writer->NextPosition());
  std::unique_ptr<Engine> follower = Open("follower");
  for (const auto& batch : replica.Batches()) {
    ASSERT_TRUE(ApplyReplicated(*follower, batch).ok());
  }
  EXPECT_EQ(Log(*follower), Log(*writer));
  EXPECT_EQ(Answers(*follower), Answers(*writer));
  ExpectVerified(*follower);
}

TEST_F(EngineReplicationTest, ARestartedFollowerCatchesUpAndTakesOver) {
  clock_.Set(absl::FromUnixSeconds(1796000000));
  FakeReplica replica;
  std::unique_ptr<Engine> writer = Open("writer");
  SetReplicator(*writer, &replica);
  RunScript(*writer, 0, 4);
  {
    std::unique_ptr<Engine> follower = Open("follower");
    const auto batches = replica.Batches();
    for (size_t i = 0; i < batches.size() / 2; ++i) {
      ASSERT_TRUE(ApplyReplicated(*follower, batches[i]).ok());
    }
  }  // Restarted here.
  std::unique_ptr<Engine> follower = Open("follower");
  const auto batches = replica.Batches();
  for (const auto& batch : batches) {
    if (batch.front().position() < follower->NextPosition()) continue;
    ASSERT_TRUE(ApplyReplicated(*follower, batch).ok());
  }
  EXPECT_EQ(Log(*follower), Log(*writer));

  // The old writer loses its lease: the replicated log fences it.
  replica.Fail(absl::FailedPreconditionError("fenced"));
  const int64_t end = writer->NextPosition();
  EXPECT_EQ(writer->Execute(Json(kScript[4])).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(writer->NextPosition(), end);

  // The follower takes over where the partition ends and runs the rest.
  FakeReplica next(replica.next());
  SetReplicator(*follower, &next);
  RunScript(*follower, 4, kScriptLines);
  ExpectVerified(*follower);

  // The same script on one engine gives the same answers.
  std::unique_ptr<Engine> alone = Open("alone");
  RunScript(*alone, 0, kScriptLines);
  EXPECT_EQ(Answers(*follower), Answers(*alone));
  EXPECT_EQ(Log(*follower).size(), Log(*alone).size());
}

}  // namespace
}  // namespace slate
