// EventLog with a LogReplicator (lib/log/replicator.h) and a follower that
// applies what was replicated (EventLog::AppendReplicated): the follower's
// log equals the writer's byte for byte, concurrent appends replicate in
// position order, a replication failure writes nothing and stops all later
// writes, and a follower refuses batches that disagree with it (kDataLoss)
// or leave a gap.
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/log/event_log.h"
#include "lib/log/replicator.h"
#include "tests/testing/fake_replica.h"
#include "tests/testing/temp_dir.h"

namespace slate {
namespace {

using ::slate::testing::FakeReplica;

Envelope Note(const std::string& id) {
  Envelope e;
  e.set_event_id(id);
  e.set_occurred_at_us(1795000000000000);
  e.mutable_incident_commented()->set_text(id);
  return e;
}

std::unique_ptr<EventLog> OpenLog(const std::string& dir) {
  Options o;
  o.durability = Durability::kProcessCrash;
  auto log = EventLog::Open(o, dir);
  EXPECT_TRUE(log.ok()) << log.status();
  return log.ok() ? *std::move(log) : nullptr;
}

std::vector<std::string> AllBytes(EventLog& log) {
  std::vector<std::string> out;
  auto all = log.ReadAll(0, 1000000);
  EXPECT_TRUE(all.ok());
  for (const Envelope& e : *all) out.push_back(e.SerializeAsString());
  return out;
}

class ReplicatedLogTest : public ::testing::Test {
 protected:
  testing::TempDir dir_;
};

TEST_F(ReplicatedLogTest, AFollowerAppliesWhatWasReplicatedByteForByte) {
  FakeReplica replica;
  auto writer = OpenLog(dir_.Sub("writer"));
  writer->SetReplicator(&replica);
  ASSERT_TRUE(writer
                  ->Append("incident/1", ExpectedVersion::NoStream(),
                           {Note("a"), Note("b")})
                  .ok());
  std::vector<StreamWrite> writes(2);
  writes[0] = {"incident/1", ExpectedVersion::Exact(1), {Note("c")}};
  writes[1] = {"problem/1", ExpectedVersion::NoStream(), {Note("d")}};
  ASSERT_TRUE(writer->AppendAtomically(std::move(writes)).ok());
  // A retry replays locally and replicates nothing.
  auto again = writer->Append("incident/1", ExpectedVersion::NoStream(),
                              {Note("a"), Note("b")});
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->idempotent_replay);
  // A refused append replicates nothing either.
  EXPECT_EQ(
      writer->Append("incident/1", ExpectedVersion::NoStream(), {Note("x")})
          .status()
          .code(),
      absl::StatusCode::kAborted);
  ASSERT_EQ(replica.Batches().size(), 2u);
  EXPECT_EQ(replica.Batches()[1].size(), 2u);  // The atomic append, whole.

  auto follower = OpenLog(dir_.Sub("follower"));
  for (const auto& batch : replica.Batches()) {
    ASSERT_TRUE(follower->AppendReplicated(batch).ok());
  }
  EXPECT_EQ(AllBytes(*follower), AllBytes(*writer));
  EXPECT_EQ(follower->NextPosition(), writer->NextPosition());
  EXPECT_EQ(*follower->StreamVersion("incident/1"), 2);
  // Its id index is complete: the same retry is a replay there too.
  auto replay = follower->Append("incident/1", ExpectedVersion::NoStream(),
                                 {Note("a"), Note("b")});
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_TRUE(replay->idempotent_replay);
  EXPECT_EQ(replay->first_position, 0);
}

TEST_F(ReplicatedLogTest, ConcurrentAppendsReplicateInPositionOrder) {
  FakeReplica replica;
  auto writer = OpenLog(dir_.Sub("writer"));
  writer->SetReplicator(&replica);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        auto r =
            writer->Append(absl::StrCat("incident/", t), ExpectedVersion::Any(),
                           {Note(absl::StrCat(t, "-", i))});
        EXPECT_TRUE(r.ok()) << r.status();
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(replica.next(), 400);
  auto follower = OpenLog(dir_.Sub("follower"));
  for (const auto& batch : replica.Batches()) {
    ASSERT_TRUE(follower->AppendReplicated(batch).ok());
  }
  EXPECT_EQ(AllBytes(*follower), AllBytes(*writer));
}

TEST_F(ReplicatedLogTest, AFailedReplicationWritesNothingAndStopsWrites) {
  FakeReplica replica;
  auto writer = OpenLog(dir_.Sub("writer"));
  writer->SetReplicator(&replica);
  ASSERT_TRUE(
      writer->Append("incident/1", ExpectedVersion::Any(), {Note("a")}).ok());
  replica.Fail(
      absl::FailedPreconditionError("fenced: partition 3 is held by n2"));
  auto r = writer->Append("incident/1", ExpectedVersion::Any(), {Note("b")});
  ASSERT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(r.status().message(), "fenced"));
  EXPECT_EQ(writer->NextPosition(), 1);
  // Even once the replica would take it again: the log may be behind it.
  replica.Fail(absl::OkStatus());
  r = writer->Append("incident/1", ExpectedVersion::Any(), {Note("c")});
  ASSERT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(r.status().message(), "reopened"));
  EXPECT_EQ(writer->NextPosition(), 1);
  EXPECT_EQ(replica.Batches().size(), 1u);
  // A follower log does not take a writer's role and the reverse.
  EXPECT_EQ(writer->AppendReplicated(replica.Batches()[0]).code(),
            absl::StatusCode::kFailedPrecondition);
}

// A replicator whose first group waits for Open(); the later ones fail
// with `fail` (the partition engine's on a lease lapse or a leader kill).
class GatedReplica final : public LogReplicator {
 public:
  explicit GatedReplica(absl::Status fail) : fail_(std::move(fail)) {}
  absl::Status Replicate(
      int64_t /*first_position*/,
      absl::Span<const Envelope* const> /*events*/) override {
    std::unique_lock<std::mutex> l(mu_);
    ++calls_;
    if (calls_ > 1) return fail_;
    in_first_ = true;
    cv_.notify_all();
    cv_.wait(l, [this] { return open_; });
    return absl::OkStatus();
  }
  void AwaitFirst() {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [this] { return in_first_; });
  }
  void Open() {
    std::lock_guard<std::mutex> l(mu_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  const absl::Status fail_;
  int calls_ = 0;
  bool in_first_ = false;
  bool open_ = false;
};

// Issue 19's lost command: a command retried (same event ids) while its
// first try waited behind a slow group lands in the same group as that
// first try, as an idempotent replay of it. When that group's replication
// fails, nothing of it is stored anywhere, so the replay must fail too;
// it was acknowledged as a replay of events that were never stored.
TEST_F(ReplicatedLogTest, AReplayOfAnAppendInTheSameFailedGroupFailsWithIt) {
  GatedReplica replica(absl::UnavailableError("leader killed, lease lapsed"));
  auto writer = OpenLog(dir_.Sub("writer"));
  writer->SetReplicator(&replica);
  std::thread slow([&] {
    EXPECT_TRUE(
        writer->Append("incident/0", ExpectedVersion::Any(), {Note("slow")})
            .ok());
  });
  replica.AwaitFirst();  // the slow group is replicating
  // The command and its retry queue behind it: the next group holds both.
  std::vector<absl::StatusOr<AppendResult>> tries(
      2, absl::InternalError("not run"));
  std::vector<std::thread> retried;
  for (int i = 0; i < 2; ++i) {
    retried.emplace_back([&, i] {
      tries[i] = writer->Append("incident/1", ExpectedVersion::Any(),
                                {Note("cmd-7:0")});
    });
  }
  while (writer->QueuedWritersForTest() < 3) std::this_thread::yield();
  replica.Open();
  slow.join();
  for (auto& t : retried) t.join();
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(tries[i].status().code(), absl::StatusCode::kUnavailable)
        << "try " << i << ": "
        << (tries[i].ok()
                ? (tries[i]->idempotent_replay ? "acknowledged as a replay"
                                               : "acknowledged")
                : tries[i].status().ToString());
  }
  EXPECT_EQ(writer->NextPosition(), 1);
}

TEST_F(ReplicatedLogTest, AFollowerRefusesBatchesThatDisagreeOrLeaveAGap) {
  FakeReplica replica;
  auto writer = OpenLog(dir_.Sub("writer"));
  writer->SetReplicator(&replica);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(writer
                    ->Append("incident/1", ExpectedVersion::Any(),
                             {Note(absl::StrCat("e", i))})
                    .ok());
  }
  auto follower = OpenLog(dir_.Sub("follower"));
  // A gap: batch 1 before batch 0.
  absl::Status gap = follower->AppendReplicated(replica.Batches()[1]);
  EXPECT_EQ(gap.code(), absl::StatusCode::kFailedPrecondition) << gap;
  EXPECT_TRUE(absl::StrContains(gap.message(), "in between")) << gap;
  ASSERT_TRUE(follower->AppendReplicated(replica.Batches()[0]).ok());
  // The same batch twice: its ids are here already.
  absl::Status twice = follower->AppendReplicated(replica.Batches()[0]);
  EXPECT_EQ(twice.code(), absl::StatusCode::kDataLoss) << twice;
  // A wrong version for its stream.
  std::vector<Envelope> bad = replica.Batches()[1];
  bad[0].set_version(7);
  absl::Status version = follower->AppendReplicated(bad);
  EXPECT_EQ(version.code(), absl::StatusCode::kDataLoss) << version;
  EXPECT_TRUE(absl::StrContains(version.message(), "version")) << version;
  // No stream.
  bad = replica.Batches()[1];
  bad[0].clear_stream();
  EXPECT_EQ(follower->AppendReplicated(bad).code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(follower->NextPosition(), 1);  // Nothing of the refused ones.
  ASSERT_TRUE(follower->AppendReplicated(replica.Batches()[1]).ok());
  ASSERT_TRUE(follower->AppendReplicated(replica.Batches()[2]).ok());
  EXPECT_EQ(AllBytes(*follower), AllBytes(*writer));
}

}  // namespace
}  // namespace slate
