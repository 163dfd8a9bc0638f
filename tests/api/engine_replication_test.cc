// A cluster node's partition engines (lib/api/engine_replication.h): a
// writer engine replicates every append (commands and SLA timers alike), a
// follower engine applies the batches and answers every query as the writer
// does; a follower restarted halfway catches up; a follower takes over as
// the writer where the partition ends; a fenced writer appends nothing.
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "lib/api/clock.h"
#include "lib/api/engine.h"
#include "lib/api/engine_replication.h"
#include "tests/testing/engine_script.h"
#include "tests/testing/fake_replica.h"
#include "tests/testing/temp_dir.h"

namespace slate {
namespace {

using ::slate::testing::FakeReplica;

using ::slate::testing::Answers;
using ::slate::testing::DayScript;
using ::slate::testing::JsonCommand;
using ::slate::testing::LogBytes;
using ::slate::testing::RunScript;

const std::vector<std::pair<std::string, std::string>> kRecords = {
    {"default", "INC1"}, {"acme", "INC1"}, {"acme", "INC2"}};

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
  RunScript(*writer, DayScript(), 0, DayScript().size());
  EXPECT_EQ(replica.next(), writer->NextPosition());
  std::unique_ptr<Engine> follower = Open("follower");
  for (const auto& batch : replica.Batches()) {
    ASSERT_TRUE(ApplyReplicated(*follower, batch).ok());
  }
  EXPECT_EQ(LogBytes(*follower), LogBytes(*writer));
  EXPECT_EQ(Answers(*follower, kRecords), Answers(*writer, kRecords));
  ExpectVerified(*follower);
}

TEST_F(EngineReplicationTest, AStartedSlaTimerFiresOnlyWhileActiveAndThroughTheReplicator) {
  clock_.Set(absl::FromUnixSeconds(1796000000));
  FakeReplica replica;
  std::unique_ptr<Engine> writer = Open("writer");  // no timer of its own
  SetReplicator(*writer, &replica);
  RunScript(*writer, DayScript(), 0, DayScript().size());
  // The script's warnings and breaches are due a week later.
  clock_.Advance(absl::Hours(24 * 7));
  const int64_t end = writer->NextPosition();

  EXPECT_EQ(StartSlaTimer(*writer, absl::ZeroDuration(), nullptr).code(),
            absl::StatusCode::kInvalidArgument);
  std::atomic<bool> active{false};
  ASSERT_TRUE(StartSlaTimer(*writer, absl::Milliseconds(5), [&active] {
                return active.load();
              }).ok());
  EXPECT_EQ(StartSlaTimer(*writer, absl::Milliseconds(5), nullptr).code(),
            absl::StatusCode::kFailedPrecondition);
  // Time for the timer to run rounds, if it fired while inactive (no
  // timing asserted: nothing may be appended however long it runs).
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_EQ(writer->NextPosition(), end);

  active = true;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (writer->NextPosition() == end && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_GT(writer->NextPosition(), end) << "the active timer fired nothing";
  active = false;  // No more appends: the counts below compare.
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_TRUE(writer->TimerStatus().ok()) << writer->TimerStatus();
  EXPECT_EQ(replica.next(), writer->NextPosition())
      << "a timer event was written without going through the replicator";
}

TEST_F(EngineReplicationTest, ARestartedFollowerCatchesUpAndTakesOver) {
  clock_.Set(absl::FromUnixSeconds(1796000000));
  FakeReplica replica;
  std::unique_ptr<Engine> writer = Open("writer");
  SetReplicator(*writer, &replica);
  RunScript(*writer, DayScript(), 0, 4);
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
  EXPECT_EQ(LogBytes(*follower), LogBytes(*writer));

  // The old writer loses its lease: the replicated log fences it.
  replica.Fail(absl::FailedPreconditionError("fenced"));
  const int64_t end = writer->NextPosition();
  EXPECT_EQ(writer->Execute(JsonCommand(DayScript()[4])).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(writer->NextPosition(), end);

  // The follower takes over where the partition ends and runs the rest.
  FakeReplica next(replica.next());
  SetReplicator(*follower, &next);
  RunScript(*follower, DayScript(), 4, DayScript().size());
  ExpectVerified(*follower);

  // The same script on one engine gives the same answers.
  std::unique_ptr<Engine> alone = Open("alone");
  RunScript(*alone, DayScript(), 0, DayScript().size());
  EXPECT_EQ(Answers(*follower, kRecords), Answers(*alone, kRecords));
  EXPECT_EQ(LogBytes(*follower).size(), LogBytes(*alone).size());
}

}  // namespace
}  // namespace slate
