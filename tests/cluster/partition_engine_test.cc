// PartitionEngine (lib/cluster/partition_engine.h) on a real nats-server: a
// writer node's engine replicates every append (commands and SLA timers) to
// the partition; a follower applies them and answers as the writer; after a
// clean handover the follower writes where the partition ends and a
// command retried with its id is applied once; a node restarted from its
// own directory catches up; the answers equal one embedded engine's.
// Concurrent commands share group commits, one message each; a group that
// fails leaves nothing of it locally and the next writer catches up.
#include <algorithm>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
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

Command OpenIncidentCommand(const std::string& tenant, const std::string& id) {
  Command c;
  c.set_command_id(id);
  c.set_tenant_id(tenant);
  OpenIncident* o = c.mutable_open_incident();
  o->set_incident_id(id);
  o->set_at("2026-11-23T09:00:00Z");
  o->set_impact(2);
  o->set_urgency(2);
  return c;
}

// The command id of an event ("tenant/<tenant>/<command id>:<n>", or
// with the stream before <n> for a follow-up's).
std::string CommandOf(const Envelope& e) {
  const std::string scoped = e.event_id().substr(0, e.event_id().find(':'));
  return scoped.substr(scoped.rfind('/') + 1);
}

// Checks that `entries` are dense, each one command's events whose key is
// its first event's id, the events dense from position 0; returns the
// command ids in order.
std::vector<std::string> CheckOneCommandPerMessage(
    const std::vector<PartitionEntry>& entries) {
  std::vector<std::string> commands;
  int64_t next_event = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    const PartitionBatch& b = entries[i].batch;
    EXPECT_EQ(entries[i].position, i);
    EXPECT_EQ(b.command_key(), b.events(0).event_id());
    for (const Envelope& e : b.events()) {
      EXPECT_EQ(CommandOf(e), CommandOf(b.events(0))) << "batch " << i;
      EXPECT_EQ(e.position(), next_event++);
    }
    commands.push_back(CommandOf(b.events(0)));
  }
  return commands;
}

std::vector<std::string> EventBytes(const std::vector<PartitionEntry>& entries) {
  std::vector<std::string> out;
  for (const PartitionEntry& entry : entries) {
    for (const Envelope& e : entry.batch.events()) out.push_back(e.SerializeAsString());
  }
  return out;
}

TEST_F(PartitionEngineTest, ConcurrentCommandsAreOneMessageEachAtDensePositions) {
  auto a = PartitionEngine::OpenWriter(*f_->cluster, For("a"));
  ASSERT_TRUE(a.ok()) << a.status();
  constexpr int kThreads = 8;
  constexpr int kEach = 20;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        absl::StatusOr<ExecuteResult> r = (*a)->engine().Execute(
            OpenIncidentCommand(t % 2 == 0 ? "acme" : "zeta", absl::StrCat("c", t, "-", i)));
        EXPECT_TRUE(r.ok()) << r.status();
      }
    });
  }
  for (std::thread& th : threads) th.join();
  PartitionReader reader(*f_->cluster, 1);
  absl::StatusOr<std::vector<PartitionEntry>> all = reader.Read(0, 100000);
  ASSERT_TRUE(all.ok()) << all.status();
  std::vector<std::string> commands = CheckOneCommandPerMessage(*all);
  ASSERT_EQ(commands.size(), static_cast<size_t>(kThreads * kEach));
  std::sort(commands.begin(), commands.end());
  EXPECT_EQ(std::unique(commands.begin(), commands.end()), commands.end());
  EXPECT_EQ(EventBytes(*all), LogBytes((*a)->engine()));
  auto b = PartitionEngine::OpenFollower(*f_->cluster, For("b"));
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(LogBytes((*b)->engine()), LogBytes((*a)->engine()));
}

// A command whose message the server refuses (a test hook makes it expect
// a sequence the stream is not at) fails its whole group: nothing of the
// group is written locally, the partition holds whole commands of it from
// the group's first on at most, the engine hands the partition over, and
// the next writer catches up and applies each retried command once.
TEST_F(PartitionEngineTest, AFailedGroupWritesNothingLocallyAndTheNextWriterCatchesUp) {
  PartitionEngineOptions o = For("a");
  const std::string kRefused = "c3-4";
  o.test_refuse_event_id = absl::StrCat("tenant/acme/", kRefused, ":0");
  auto a = PartitionEngine::OpenWriter(*f_->cluster, o);
  ASSERT_TRUE(a.ok()) << a.status();
  constexpr int kThreads = 8;
  constexpr int kEach = 10;
  std::mutex mu;
  std::set<std::string> acknowledged;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const std::string id = absl::StrCat("c", t, "-", i);
        absl::StatusOr<ExecuteResult> r =
            (*a)->engine().Execute(OpenIncidentCommand("acme", id));
        std::lock_guard<std::mutex> l(mu);
        if (r.ok()) acknowledged.insert(id);
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(acknowledged.count(kRefused), 0u);
  EXPECT_FALSE((*a)->writing());  // handed over

  PartitionReader reader(*f_->cluster, 1);
  absl::StatusOr<std::vector<PartitionEntry>> all = reader.Read(0, 100000);
  ASSERT_TRUE(all.ok()) << all.status();
  std::vector<std::string> stored = CheckOneCommandPerMessage(*all);
  const std::set<std::string> in_stream(stored.begin(), stored.end());
  EXPECT_EQ(in_stream.count(kRefused), 0u);
  for (const std::string& id : acknowledged) EXPECT_EQ(in_stream.count(id), 1u) << id;
  // The local log is a prefix of the partition: whole groups only.
  const std::vector<std::string> local = LogBytes((*a)->engine());
  const std::vector<std::string> remote = EventBytes(*all);
  ASSERT_LE(local.size(), remote.size());
  EXPECT_TRUE(std::equal(local.begin(), local.end(), remote.begin()));

  auto b = PartitionEngine::OpenWriter(*f_->cluster, For("b"));
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(LogBytes((*b)->engine()), remote);
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kEach; ++i) {
      const std::string id = absl::StrCat("c", t, "-", i);
      absl::StatusOr<ExecuteResult> r =
          (*b)->engine().Execute(OpenIncidentCommand("acme", id));
      ASSERT_TRUE(r.ok()) << id << ": " << r.status();
      EXPECT_EQ(r->idempotent_replay(), in_stream.count(id) == 1) << id;
    }
  }
  all = reader.Read(0, 100000);
  ASSERT_TRUE(all.ok()) << all.status();
  stored = CheckOneCommandPerMessage(*all);
  EXPECT_EQ(stored.size(), static_cast<size_t>(kThreads * kEach));
  EXPECT_EQ(std::set<std::string>(stored.begin(), stored.end()).size(), stored.size());
  EXPECT_EQ(EventBytes(*all), LogBytes((*b)->engine()));
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
