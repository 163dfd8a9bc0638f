// The engine's stream cache (lib/log/stream_cache.h) behind Engine::Execute
// and LoadAggregate: an aggregate or the priority matrix changed by an
// append that did not go through Execute (Engine::Append, as an import, an
// SLA timer or a cluster follower writes) is seen by the next command, and
// a query right after a synchronous Execute sees its events folded.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/api/clock.h"
#include "lib/api/engine.h"
#include "tests/testing/engine_script.h"
#include "tests/testing/temp_dir.h"

namespace slate {
namespace {

using ::slate::testing::JsonCommand;

class EngineStreamCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Options o;
    o.clock = &clock_;
    o.durability = Durability::kProcessCrash;
    o.projection_mode = ProjectionMode::kSync;
    auto e = Engine::Open(o, dir_.path());
    ASSERT_TRUE(e.ok()) << e.status();
    engine_ = *std::move(e);
    Ok(R"({"commandId":"svc","defineService":{"serviceId":"email","at":"2026-11-01T00:00:00Z","name":"E-mail"}})");
  }
  ExecuteResult Ok(const std::string& json) {
    absl::StatusOr<ExecuteResult> r = engine_->Execute(JsonCommand(json));
    EXPECT_TRUE(r.ok()) << json << ": " << r.status();
    return r.ok() ? *std::move(r) : ExecuteResult();
  }
  ExecuteResult Open(const std::string& id) {
    return Ok(absl::StrCat(R"({"commandId": "open-)", id,
                           R"(", "openIncident": {"incidentId": ")", id,
                           R"(", "serviceId": "email", "impact": 1, "urgency": 1}})"));
  }

  testing::TempDir dir_;
  SimulatedClock clock_{absl::FromUnixSeconds(1795000000)};  // 2026-11-18
  std::unique_ptr<Engine> engine_;
};

TEST_F(EngineStreamCacheTest, AnAppendFromAnotherPathReachesTheNextCommand) {
  Open("INC1");
  EXPECT_EQ(
      engine_->LoadAggregate("incident", "INC1")->incident().acknowledged_by(),
      "");
  // Acknowledged by a writer other than Execute.
  Envelope ack;
  ack.set_event_id("other-path:0");
  ack.mutable_incident_acknowledged()->set_by("importer");
  ASSERT_TRUE(engine_
                  ->Append("incident/INC1", ExpectedVersion::Exact(1),
                           {std::move(ack)})
                  .ok());
  EXPECT_EQ(
      engine_->LoadAggregate("incident", "INC1")->incident().acknowledged_by(),
      "importer");
  absl::StatusOr<ExecuteResult> again = engine_->Execute(JsonCommand(
      R"({"commandId": "ack", "acknowledgeIncident": {"incidentId": "INC1", "by": "desk"}})"));
  ASSERT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition)
      << again.status();
  EXPECT_NE(again.status().message().find("already acknowledged"),
            std::string::npos)
      << again.status();
}

TEST_F(EngineStreamCacheTest, AMatrixAppendedFromAnotherPathDecidesTheNextOpen) {
  EXPECT_EQ(Open("INC1").incident().priority(), 1);
  // Every cell priority 3, written straight to the matrix's stream.
  const ExecuteResult m =
      *engine_->LoadAggregate("priority-matrix", "");
  Envelope set;
  set.set_event_id("other-path:matrix");
  PriorityMatrix* matrix = set.mutable_priority_matrix_set()->mutable_matrix();
  *matrix = m.priority_matrix();
  for (PriorityMatrix::Cell& c : *matrix->mutable_cells()) c.set_priority(3);
  ASSERT_TRUE(engine_
                  ->Append("config/priority-matrix", ExpectedVersion::Any(),
                           {std::move(set)})
                  .ok());
  EXPECT_EQ(Open("INC2").incident().priority(), 3);
}

TEST_F(EngineStreamCacheTest, ARetriedCommandReplaysFromTheCache) {
  const ExecuteResult first = Open("INC1");
  const ExecuteResult retry = Open("INC1");
  EXPECT_TRUE(retry.idempotent_replay());
  ASSERT_EQ(retry.appends_size(), 1);
  EXPECT_EQ(retry.appends(0).first_position(),
            first.appends(0).first_position());
  EXPECT_EQ(engine_->StreamVersion("incident/INC1").value_or(-2), 1);
}

TEST_F(EngineStreamCacheTest, AQueryRightAfterASyncExecuteSeesItsEvents) {
  MajorIncidentQuery q;
  q.service = "email";
  q.now = clock_.Now() + absl::Hours(1);
  for (int i = 0; i < 3; ++i) {
    Open(absl::StrCat("INC", i));
    absl::StatusOr<std::vector<MajorIncident>> majors =
        engine_->MajorIncidents(q);
    ASSERT_TRUE(majors.ok()) << majors.status();
    EXPECT_EQ(majors->size(), static_cast<size_t>(i + 1));
  }
}

}  // namespace
}  // namespace slate
