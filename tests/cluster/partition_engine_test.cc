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
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "lib/api/clock.h"
#include "lib/api/engine.h"
#include "lib/api/tenant.h"
#include "lib/cluster/partition_engine.h"
#include "tests/cluster/cluster_fixture.h"
#include "tests/testing/engine_script.h"
#include "tests/testing/temp_dir.h"

namespace slate::cluster {
namespace {

using ::slate::testing::Answers;
using ::slate::testing::DayScript;
using ::slate::testing::JsonCommand;
using ::slate::testing::LogBytes;
using ::slate::testing::RunScript;

const std::vector<std::pair<std::string, std::string>> kRecords = {
    {"default", "INC1"}, {"acme", "INC1"}, {"acme", "INC2"}};
const size_t kLines = DayScript().size();

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
  void Run(Engine& e, size_t from, size_t to) {
    RunScript(e, DayScript(), from, to);
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
  EXPECT_EQ(LogBytes((*b)->engine()), LogBytes((*a)->engine()));
  EXPECT_EQ(Answers((*b)->engine(), kRecords), Answers((*a)->engine(), kRecords));
  EXPECT_EQ(*(*b)->CatchUp(), 0);

  // A clean handover: a releases, its engine writes no more.
  ASSERT_TRUE((*a)->Release().ok());
  EXPECT_FALSE((*a)->writing());
  const int64_t end = (*a)->engine().NextPosition();
  EXPECT_FALSE((*a)->engine().Execute(JsonCommand(DayScript()[5])).ok());
  EXPECT_EQ((*a)->engine().NextPosition(), end);

  b->reset();
  auto b2 = PartitionEngine::OpenWriter(*f_->cluster, For("b"));
  ASSERT_TRUE(b2.ok()) << b2.status();
  // A client retrying a command a acknowledged: applied once.
  absl::StatusOr<ExecuteResult> retry = (*b2)->engine().Execute(JsonCommand(DayScript()[4]));
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
  EXPECT_EQ(Answers((*b2)->engine(), kRecords), Answers(**alone, kRecords));
  EXPECT_EQ(LogBytes((*b2)->engine()).size(), LogBytes(**alone).size());
  VerifyReport report;
  ASSERT_TRUE((*b2)->engine().Verify(&report).ok());
  EXPECT_TRUE(report.ok());

  // a restarts from its own directory: it catches up to b's writes.
  a->reset();
  auto a2 = PartitionEngine::OpenFollower(*f_->cluster, For("a"));
  ASSERT_TRUE(a2.ok()) << a2.status();
  EXPECT_EQ(LogBytes((*a2)->engine()), LogBytes((*b2)->engine()));
}

// The cluster demo's divergence (issue 19): `slate node` runs its engines
// with live SLA timers. A follower's engine (and a writer's before it has
// its lease) has no replicator, so a timer that fired there wrote warnings
// and breaches to the local log only: a copy longer than the partition,
// refused afterwards with kDataLoss (or, if the node then took the lease,
// a partition written on from a position its other copies had passed).
// Only the writer fires timers, through the partition.
TEST_F(PartitionEngineTest, OnlyTheWriterFiresSlaTimersAndThroughThePartition) {
  auto a = PartitionEngine::OpenWriter(*f_->cluster, For("a"));
  ASSERT_TRUE(a.ok()) << a.status();
  Run((*a)->engine(), 0, kLines);
  const int64_t end = (*a)->engine().NextPosition();
  // Warnings and breaches are due at the clock's now (a week after the
  // script), beyond the script's watermark: a timer would fire them.
  clock_.Advance(absl::Hours(1));

  PartitionEngineOptions timed = For("b");
  timed.engine.sla_timer_interval = absl::Milliseconds(10);
  auto b = PartitionEngine::OpenFollower(*f_->cluster, timed);
  ASSERT_TRUE(b.ok()) << b.status();
  // Time for a timer to run a few rounds, if it ran (no timing asserted).
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ((*b)->engine().NextPosition(), end);
  EXPECT_EQ(LogBytes((*b)->engine()), LogBytes((*a)->engine()));
  absl::StatusOr<int64_t> caught_up = (*b)->CatchUp();
  EXPECT_TRUE(caught_up.ok()) << caught_up.status();

  // As the writer, b's timers fire, and what they append is in the
  // partition: a third node's copy equals b's.
  ASSERT_TRUE((*a)->Release().ok());
  b->reset();
  auto b2 = PartitionEngine::OpenWriter(*f_->cluster, timed);
  ASSERT_TRUE(b2.ok()) << b2.status();
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while ((*b2)->engine().NextPosition() == end && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_GT((*b2)->engine().NextPosition(), end) << "the writer's timers fired nothing";
  ASSERT_TRUE((*b2)->Release().ok());  // no more writes: the copies compare
  // Released, the timer skips its rounds instead of failing them.
  EXPECT_TRUE((*b2)->engine().TimerStatus().ok()) << (*b2)->engine().TimerStatus();
  // Closed (its timer joined, a round in flight at the release finished)
  // and reopened from its own directory: b's copy is what it wrote.
  b2->reset();
  auto b3 = PartitionEngine::OpenFollower(*f_->cluster, For("b"));
  ASSERT_TRUE(b3.ok()) << b3.status();
  auto c = PartitionEngine::OpenFollower(*f_->cluster, For("c"));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(LogBytes((*c)->engine()), LogBytes((*b3)->engine()));
  EXPECT_EQ(Answers((*c)->engine(), kRecords), Answers((*b3)->engine(), kRecords));
}

TEST_F(PartitionEngineTest, ALocalLogThePartitionDoesNotHoldIsDataLoss) {
  {
    slate::Options o;
    o.durability = Durability::kProcessCrash;
    auto stray = Engine::Open(o, For("x").dir);
    ASSERT_TRUE(stray.ok());
    ASSERT_TRUE((*stray)->Execute(JsonCommand(DayScript()[0])).ok());
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
