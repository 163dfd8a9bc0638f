// lib/cluster/partition_log and cluster against one real nats-server per
// test (R1 streams, short lease TTLs): cluster metadata, dense positions,
// atomic batches, de-duplication, leases, fencing, retries after a timeout
// and after a server restart, corruption as kDataLoss.
#include "lib/cluster/partition_log.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "lib/cluster/cluster.h"
#include "tests/cluster/cluster_fixture.h"

namespace slate::cluster {
namespace {

ClusterOptions TestOptions(absl::Duration lease_ttl) {
  return Options(/*partitions=*/4, /*replicas=*/1, lease_ttl);
}

class PartitionLogTest : public ::testing::Test {
 protected:
  void Start(absl::Duration lease_ttl = absl::Seconds(1),
             absl::Duration request_timeout = absl::Seconds(5)) {
    absl::StatusOr<std::unique_ptr<ClusterFixture>> f =
        ClusterFixture::Start(1, TestOptions(lease_ttl), request_timeout);
    ASSERT_TRUE(f.ok()) << f.status();
    f_ = *std::move(f);
  }
  Cluster& cluster() { return *f_->cluster; }

  std::unique_ptr<PartitionWriter> MustAcquire(const PartitionWriterOptions& o) {
    absl::StatusOr<std::unique_ptr<PartitionWriter>> w =
        PartitionWriter::Acquire(cluster(), o);
    EXPECT_TRUE(w.ok()) << w.status();
    return w.ok() ? *std::move(w) : nullptr;
  }

  // Every batch of `partition`, in order.
  std::vector<PartitionEntry> ReadAll(int partition) {
    PartitionReader reader(cluster(), partition);
    absl::StatusOr<std::vector<PartitionEntry>> all = reader.Read(0, 1000000);
    EXPECT_TRUE(all.ok()) << all.status();
    return all.ok() ? *std::move(all) : std::vector<PartitionEntry>{};
  }

  std::unique_ptr<ClusterFixture> f_;
};

// PartitionOf answers from a watched copy of the tenants bucket; an
// override set or cleared through this Cluster routes the very next lookup.
TEST_F(PartitionLogTest, AnOverrideRoutesTheNextLookupFromTheWatchedCopy) {
  Start();
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (!cluster().RoutesCached() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_TRUE(cluster().RoutesCached());
  const int hashed = HashPartition("acme", 4);
  const int pinned = (hashed + 1) % 4;
  EXPECT_EQ(*cluster().PartitionOf("acme"), hashed);
  for (int round = 0; round < 20; ++round) {
    const int to = round % 2 == 0 ? pinned : (pinned + 1) % 4;
    ASSERT_TRUE(cluster().SetOverride("acme", to).ok());
    EXPECT_EQ(*cluster().PartitionOf("acme"), to) << "round " << round;
    ASSERT_TRUE(cluster().ClearOverride("acme").ok());
    EXPECT_EQ(*cluster().PartitionOf("acme"), hashed) << "round " << round;
  }
  // Still answered from the copy: every change was seen in time.
  EXPECT_TRUE(cluster().RoutesCached());
}

TEST_F(PartitionLogTest, InitCreatesMarkedStreamsAndFixesThePartitionCount) {
  Start();
  EXPECT_EQ(cluster().partitions(), 4);
  EXPECT_EQ(cluster().replicas(), 1);
  EXPECT_EQ(cluster().lease_ttl(), absl::Seconds(1));
  for (int p = 0; p < 4; ++p) {
    absl::StatusOr<StoredMessage> marker = f_->js->Get(cluster().names().Stream(p), 1);
    ASSERT_TRUE(marker.ok()) << marker.status();
    EXPECT_EQ(marker->subject, cluster().names().MarkerSubject(p));
    PartitionReader reader(cluster(), p);
    absl::StatusOr<uint64_t> batches = reader.Batches();
    ASSERT_TRUE(batches.ok()) << batches.status();
    EXPECT_EQ(*batches, 0u);
  }
  // Again with the same count: nothing changes (no second marker).
  ASSERT_TRUE(InitCluster(*f_->js, TestOptions(absl::Seconds(1))).ok());
  absl::StatusOr<uint64_t> last = f_->js->LastSequence(cluster().names().Stream(0));
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(*last, 1u);
  ClusterOptions other = TestOptions(absl::Seconds(1));
  other.partitions = 8;
  absl::Status refused = InitCluster(*f_->js, other);
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition) << refused;
  EXPECT_TRUE(absl::StrContains(refused.message(), "4 partitions")) << refused;

  absl::StatusOr<std::unique_ptr<Cluster>> missing = Cluster::Open(*f_->js, "OTHER");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound) << missing.status();
  other.partitions = 0;
  EXPECT_EQ(InitCluster(*f_->js, other).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(PartitionLogTest, PartitionOfIsTheHashUnlessOverridden) {
  Start();
  for (const char* tenant : {"default", "acme", "globex", "initech"}) {
    absl::StatusOr<int> p = cluster().PartitionOf(tenant);
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_EQ(*p, HashPartition(tenant, 4)) << tenant;
  }
  const int hashed = HashPartition("acme", 4);
  const int pinned = (hashed + 1) % 4;
  ASSERT_TRUE(cluster().SetOverride("acme", pinned).ok());
  EXPECT_EQ(*cluster().PartitionOf("acme"), pinned);
  EXPECT_EQ(*cluster().PartitionOf("globex"), HashPartition("globex", 4));
  // Overwriting an override, then clearing it.
  ASSERT_TRUE(cluster().SetOverride("acme", hashed).ok());
  EXPECT_EQ(*cluster().PartitionOf("acme"), hashed);
  ASSERT_TRUE(cluster().SetOverride("acme", pinned).ok());
  ASSERT_TRUE(cluster().ClearOverride("acme").ok());
  EXPECT_EQ(*cluster().PartitionOf("acme"), hashed);

  EXPECT_EQ(cluster().SetOverride("acme", 4).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(cluster().SetOverride("a.b", 1).code(), absl::StatusCode::kInvalidArgument);
  // A tenant id that cannot be a key still has a partition.
  EXPECT_EQ(*cluster().PartitionOf("a.b c"), HashPartition("a.b c", 4));
}

TEST_F(PartitionLogTest, PositionsAreDenseAndBatchesAtomic) {
  Start(absl::Seconds(10));
  std::unique_ptr<PartitionWriter> w = MustAcquire(Writer("node-a", 2));
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->next_position(), 0u);
  constexpr int kBatches = 60;
  for (int i = 0; i < kBatches; ++i) {
    absl::StatusOr<AppendResult> r =
        w->Append(MakeBatch("acme", absl::StrCat("c", i), 1 + i % 5));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->position, static_cast<uint64_t>(i));
    EXPECT_EQ(r->sequence, static_cast<uint64_t>(i) + 2);
    EXPECT_FALSE(r->duplicate);
  }
  EXPECT_EQ(w->next_position(), static_cast<uint64_t>(kBatches));
  std::vector<PartitionEntry> all = ReadAll(2);
  ASSERT_EQ(all.size(), static_cast<size_t>(kBatches));
  for (int i = 0; i < kBatches; ++i) {
    EXPECT_EQ(all[i].position, static_cast<uint64_t>(i));
    EXPECT_EQ(all[i].batch.SerializeAsString(),
              MakeBatch("acme", absl::StrCat("c", i), 1 + i % 5).SerializeAsString());
  }
  // Reading from the middle, a bounded number.
  PartitionReader reader(cluster(), 2);
  absl::StatusOr<std::vector<PartitionEntry>> some = reader.Read(10, 5);
  ASSERT_TRUE(some.ok()) << some.status();
  ASSERT_EQ(some->size(), 5u);
  EXPECT_EQ(some->front().position, 10u);
  EXPECT_EQ(some->back().batch.command_key(), "acme:c14");
  absl::StatusOr<std::vector<PartitionEntry>> past = reader.Read(kBatches, 5);
  ASSERT_TRUE(past.ok()) << past.status();
  EXPECT_TRUE(past->empty());
  // Other partitions are untouched.
  EXPECT_TRUE(ReadAll(1).empty());
}

TEST_F(PartitionLogTest, ARepeatedCommandKeyIsStoredOnce) {
  Start(absl::Seconds(10));
  std::unique_ptr<PartitionWriter> w = MustAcquire(Writer("node-a", 0));
  ASSERT_NE(w, nullptr);
  absl::StatusOr<AppendResult> first = w->Append(MakeBatch("acme", "c1", 2));
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(w->Append(MakeBatch("acme", "c2", 1)).ok());
  absl::StatusOr<AppendResult> again = w->Append(MakeBatch("acme", "c1", 2));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->position, first->position);
  absl::StatusOr<AppendResult> next = w->Append(MakeBatch("acme", "c3", 1));
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->position, 2u);
  EXPECT_EQ(ReadAll(0).size(), 3u);
}

TEST_F(PartitionLogTest, BadBatchesAreRefusedAndNothingIsStored) {
  Start(absl::Seconds(10));
  std::unique_ptr<PartitionWriter> w = MustAcquire(Writer("node-a", 0));
  ASSERT_NE(w, nullptr);
  PartitionBatch no_key = MakeBatch("acme", "c1", 1);
  no_key.clear_command_key();
  PartitionBatch no_events = MakeBatch("acme", "c1", 0);
  PartitionBatch no_tenant = MakeBatch("acme", "c1", 1);
  no_tenant.clear_tenant_id();
  for (const PartitionBatch& b : {no_key, no_events, no_tenant}) {
    absl::StatusOr<AppendResult> r = w->Append(b);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
    EXPECT_TRUE(absl::StrContains(r.status().message(), "partition 0")) << r.status();
  }
  EXPECT_TRUE(ReadAll(0).empty());
}

TEST_F(PartitionLogTest, UndecodableMessagesAreDataLoss) {
  Start();
  const std::string stream = cluster().names().Stream(1);
  PublishOptions fence;
  fence.expected_last_sequence = 1;
  ASSERT_TRUE(f_->js->Publish(cluster().names().BatchSubject(1), "\xff\xff garbage", fence)
                  .ok());
  PartitionReader reader(cluster(), 1);
  absl::StatusOr<std::vector<PartitionEntry>> read = reader.Read(0, 10);
  EXPECT_EQ(read.status().code(), absl::StatusCode::kDataLoss) << read.status();
  EXPECT_TRUE(absl::StrContains(read.status().message(), "partition 1 position 0"))
      << read.status();

  // A message on another subject of the partition's stream.
  ASSERT_TRUE(f_->js->Publish("slate.p3.other", MakeBatch("a", "c", 1).SerializeAsString())
                  .ok());
  PartitionReader reader3(cluster(), 3);
  read = reader3.Read(0, 10);
  EXPECT_EQ(read.status().code(), absl::StatusCode::kDataLoss) << read.status();

  // Garbage after 40 good batches: found by the streamed (ordered) read.
  {
    std::unique_ptr<PartitionWriter> w = MustAcquire(Writer("node-a", 0));
    ASSERT_NE(w, nullptr);
    for (int i = 0; i < 40; ++i) {
      ASSERT_TRUE(w->Append(MakeBatch("acme", absl::StrCat("c", i), 1)).ok());
    }
    PublishOptions after40;
    after40.expected_last_sequence = 41;
    ASSERT_TRUE(f_->js->Publish(cluster().names().BatchSubject(0), "\xff", after40).ok());
    PartitionReader reader0(cluster(), 0);
    read = reader0.Read(0, 1000);
    EXPECT_EQ(read.status().code(), absl::StatusCode::kDataLoss) << read.status();
    EXPECT_TRUE(absl::StrContains(read.status().message(), "partition 0 position 40"))
        << read.status();
    read = reader0.Read(0, 40);
    ASSERT_TRUE(read.ok()) << read.status();
    EXPECT_EQ(read->size(), 40u);
  }

  // A lease value that does not decode.
  ASSERT_TRUE(cluster().leases().Create("p2", "\xff\xff").ok());
  absl::StatusOr<std::optional<LeaseInfo>> lease = cluster().Lease(2);
  EXPECT_EQ(lease.status().code(), absl::StatusCode::kDataLoss) << lease.status();
}

TEST_F(PartitionLogTest, LeaseIsExclusiveAndRenewed) {
  Start(absl::Seconds(1));
  std::unique_ptr<PartitionWriter> a = MustAcquire(Writer("node-a", 1));
  ASSERT_NE(a, nullptr);
  const uint64_t first = a->lease_revision();
  absl::StatusOr<std::unique_ptr<PartitionWriter>> b =
      PartitionWriter::Acquire(cluster(), Writer("node-b", 1));
  EXPECT_EQ(b.status().code(), absl::StatusCode::kFailedPrecondition) << b.status();
  EXPECT_TRUE(absl::StrContains(b.status().message(), "partition 1")) << b.status();
  EXPECT_TRUE(absl::StrContains(b.status().message(), "held by node-a")) << b.status();
  // Renewals move the revision on (every ttl/3) and keep it past the TTL.
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (a->lease_revision() < first + 4 && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_GE(a->lease_revision(), first + 4);
  EXPECT_TRUE(a->holds_lease());
  absl::StatusOr<std::optional<LeaseInfo>> lease = cluster().Lease(1);
  ASSERT_TRUE(lease.ok()) << lease.status();
  ASSERT_TRUE(lease->has_value());
  EXPECT_EQ((*lease)->node, "node-a");
  ASSERT_TRUE(a->Append(MakeBatch("acme", "c1", 1)).ok());
}

TEST_F(PartitionLogTest, AnUnrenewedLeaseExpiresAndAnotherNodeTakesOver) {
  Start(absl::Seconds(1));
  PartitionWriterOptions frozen = Writer("node-a", 0);
  frozen.test_no_renewals = true;
  std::unique_ptr<PartitionWriter> a = MustAcquire(frozen);
  ASSERT_NE(a, nullptr);
  PartitionWriterOptions waiting = Writer("node-b", 0);
  waiting.acquire_wait = absl::Seconds(20);
  std::unique_ptr<PartitionWriter> b = MustAcquire(waiting);
  ASSERT_NE(b, nullptr);
  absl::StatusOr<std::optional<LeaseInfo>> lease = cluster().Lease(0);
  ASSERT_TRUE(lease.ok() && lease->has_value()) << lease.status();
  EXPECT_EQ((*lease)->node, "node-b");
  // A knows by its own clock that its lease lapsed: refused locally.
  absl::StatusOr<AppendResult> late = a->Append(MakeBatch("acme", "a1", 1));
  EXPECT_EQ(late.status().code(), absl::StatusCode::kFailedPrecondition) << late.status();
  EXPECT_TRUE(absl::StrContains(late.status().message(), "lapsed")) << late.status();
  // A's release must not delete B's lease.
  EXPECT_TRUE(a->Release().ok());
  lease = cluster().Lease(0);
  ASSERT_TRUE(lease.ok() && lease->has_value()) << lease.status();
  EXPECT_EQ((*lease)->node, "node-b");
  ASSERT_TRUE(b->Append(MakeBatch("acme", "b1", 1)).ok());
  EXPECT_EQ(ReadAll(0).size(), 1u);
}

TEST_F(PartitionLogTest, CleanReleaseLetsAnotherNodeTakeOverAtOnce) {
  Start(absl::Seconds(30));  // far longer than the test: no expiry involved
  std::unique_ptr<PartitionWriter> a = MustAcquire(Writer("node-a", 3));
  ASSERT_NE(a, nullptr);
  ASSERT_TRUE(a->Append(MakeBatch("acme", "a1", 1)).ok());
  ASSERT_TRUE(a->Release().ok());
  EXPECT_FALSE(a->holds_lease());
  absl::StatusOr<AppendResult> after = a->Append(MakeBatch("acme", "a2", 1));
  EXPECT_EQ(after.status().code(), absl::StatusCode::kFailedPrecondition);
  std::unique_ptr<PartitionWriter> b = MustAcquire(Writer("node-b", 3));  // no wait
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->next_position(), 1u);  // caught up with A's append
  absl::StatusOr<AppendResult> r = b->Append(MakeBatch("acme", "b1", 1));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->position, 1u);
  // The destructor releases too.
  b.reset();
  EXPECT_NE(MustAcquire(Writer("node-c", 3)), nullptr);
}

// The fence itself: A has stopped renewing and does not know its lease is
// gone (both test hooks), B takes the lease and appends; A's append is
// refused by the stream (expected last sequence), nothing of it stored.
TEST_F(PartitionLogTest, AWriterThatLostItsLeaseIsFencedByTheStream) {
  Start(absl::Seconds(1));
  PartitionWriterOptions unaware = Writer("node-a", 2);
  unaware.test_no_renewals = true;
  unaware.test_skip_local_lease_check = true;
  std::unique_ptr<PartitionWriter> a = MustAcquire(unaware);
  ASSERT_NE(a, nullptr);
  ASSERT_TRUE(a->Append(MakeBatch("acme", "a1", 1)).ok());
  PartitionWriterOptions waiting = Writer("node-b", 2);
  waiting.acquire_wait = absl::Seconds(20);
  std::unique_ptr<PartitionWriter> b = MustAcquire(waiting);
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(b->Append(MakeBatch("acme", "b1", 2)).ok());

  absl::StatusOr<AppendResult> stale = a->Append(MakeBatch("acme", "a2", 3));
  ASSERT_EQ(stale.status().code(), absl::StatusCode::kFailedPrecondition) << stale.status();
  EXPECT_TRUE(absl::StrContains(stale.status().message(), "partition 2")) << stale.status();
  EXPECT_TRUE(absl::StrContains(stale.status().message(), "held by node-b"))
      << stale.status();
  EXPECT_FALSE(a->holds_lease());
  std::vector<PartitionEntry> all = ReadAll(2);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].batch.command_key(), "acme:a1");
  EXPECT_EQ(all[1].batch.command_key(), "acme:b1");
}

// The window fencing cannot close: A's append lands after B's catch-up
// read at Acquire (here: A is simply late, with both hooks). B's next
// append is refused with kAborted, B keeps its lease, catches up, and
// appends after A's batch; A, once B has appended, is fenced.
TEST_F(PartitionLogTest, ALateAppendOfThePreviousHolderAbortsTheNewOnesNext) {
  Start(absl::Seconds(1));
  PartitionWriterOptions unaware = Writer("node-a", 1);
  unaware.test_no_renewals = true;
  unaware.test_skip_local_lease_check = true;
  std::unique_ptr<PartitionWriter> a = MustAcquire(unaware);
  ASSERT_NE(a, nullptr);
  PartitionWriterOptions waiting = Writer("node-b", 1);
  waiting.acquire_wait = absl::Seconds(20);
  std::unique_ptr<PartitionWriter> b = MustAcquire(waiting);
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(a->Append(MakeBatch("acme", "a1", 1)).ok());  // the late one

  absl::StatusOr<AppendResult> refused = b->Append(MakeBatch("acme", "b1", 1));
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kAborted) << refused.status();
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "CatchUp")) << refused.status();
  EXPECT_TRUE(b->holds_lease());
  EXPECT_EQ(ReadAll(1).size(), 1u);  // nothing of B's batch
  absl::StatusOr<uint64_t> next = b->CatchUp();
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(*next, 1u);
  absl::StatusOr<AppendResult> b1 = b->Append(MakeBatch("acme", "b1", 1));
  ASSERT_TRUE(b1.ok()) << b1.status();
  EXPECT_EQ(b1->position, 1u);

  absl::StatusOr<AppendResult> a2 = a->Append(MakeBatch("acme", "a2", 1));
  EXPECT_EQ(a2.status().code(), absl::StatusCode::kFailedPrecondition) << a2.status();
  EXPECT_EQ(ReadAll(1).size(), 2u);
}

// A publish that times out (the server frozen) may still be stored when the
// server wakes; retried with the same key it is stored once.
TEST_F(PartitionLogTest, ARetryAfterATimeoutIsStoredOnce) {
  Start(absl::Seconds(60), absl::Milliseconds(500));
  std::unique_ptr<PartitionWriter> w = MustAcquire(Writer("node-a", 1));
  ASSERT_NE(w, nullptr);
  ASSERT_TRUE(w->Append(MakeBatch("acme", "c0", 1)).ok());
  ASSERT_TRUE(f_->servers->Freeze(0).ok());
  absl::StatusOr<AppendResult> lost = w->Append(MakeBatch("acme", "c1", 2));
  EXPECT_TRUE(absl::IsDeadlineExceeded(lost.status()) || absl::IsUnavailable(lost.status()))
      << lost.status();
  ASSERT_TRUE(f_->servers->Thaw(0).ok());
  absl::StatusOr<AppendResult> retry =
      RetryWhileUnavailable([&] { return w->Append(MakeBatch("acme", "c1", 2)); });
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_EQ(retry->position, 1u);
  ASSERT_TRUE(w->Append(MakeBatch("acme", "c2", 1)).ok());
  std::vector<PartitionEntry> all = ReadAll(1);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[1].batch.command_key(), "acme:c1");
  EXPECT_EQ(all[2].batch.command_key(), "acme:c2");
}

// After a timed-out append the writer goes on with the next command: its
// earlier append, stored meanwhile, is recognised as its own (by key), not
// taken for another writer's.
TEST_F(PartitionLogTest, TheNextAppendAfterATimeoutAdoptsTheStoredOne) {
  Start(absl::Seconds(60), absl::Milliseconds(500));
  std::unique_ptr<PartitionWriter> w = MustAcquire(Writer("node-a", 1));
  ASSERT_NE(w, nullptr);
  ASSERT_TRUE(f_->servers->Freeze(0).ok());
  absl::StatusOr<AppendResult> lost = w->Append(MakeBatch("acme", "c1", 1));
  EXPECT_FALSE(lost.ok());
  ASSERT_TRUE(f_->servers->Thaw(0).ok());
  absl::StatusOr<AppendResult> next =
      RetryWhileUnavailable([&] { return w->Append(MakeBatch("acme", "c2", 1)); });
  ASSERT_TRUE(next.ok()) << next.status();
  std::vector<PartitionEntry> all = ReadAll(1);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].batch.command_key(), "acme:c1");
  EXPECT_EQ(all[1].batch.command_key(), "acme:c2");
  EXPECT_EQ(next->position, 1u);
  EXPECT_TRUE(w->holds_lease());
}

// kill -9 and restart of the (only) server: an acknowledged command retried
// is a duplicate at its position, the one in flight is stored once.
TEST_F(PartitionLogTest, ARetryAfterAServerRestartIsStoredOnce) {
  Start(absl::Seconds(60), absl::Milliseconds(500));
  std::unique_ptr<PartitionWriter> w = MustAcquire(Writer("node-a", 0));
  ASSERT_NE(w, nullptr);
  absl::StatusOr<AppendResult> c1 = w->Append(MakeBatch("acme", "c1", 1));
  ASSERT_TRUE(c1.ok()) << c1.status();
  ASSERT_TRUE(f_->servers->Kill(0).ok());
  absl::StatusOr<AppendResult> down = w->Append(MakeBatch("acme", "c2", 1));
  EXPECT_TRUE(absl::IsUnavailable(down.status()) || absl::IsDeadlineExceeded(down.status()))
      << down.status();
  ASSERT_TRUE(f_->servers->Restart(0).ok());
  absl::StatusOr<AppendResult> c2 =
      RetryWhileUnavailable([&] { return w->Append(MakeBatch("acme", "c2", 1)); });
  ASSERT_TRUE(c2.ok()) << c2.status();
  EXPECT_EQ(c2->position, 1u);
  absl::StatusOr<AppendResult> c1_again = w->Append(MakeBatch("acme", "c1", 1));
  ASSERT_TRUE(c1_again.ok()) << c1_again.status();
  EXPECT_TRUE(c1_again->duplicate);
  EXPECT_EQ(c1_again->position, c1->position);
  std::vector<PartitionEntry> all = ReadAll(0);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1].batch.command_key(), "acme:c2");
}

TEST_F(PartitionLogTest, NoServerIsUnavailable) {
  absl::StatusOr<std::unique_ptr<JetStream>> js =
      ClusterFixture::Connect({"nats://127.0.0.1:1"}, absl::Seconds(1));
  EXPECT_EQ(js.status().code(), absl::StatusCode::kUnavailable) << js.status();
}

}  // namespace
}  // namespace slate::cluster
