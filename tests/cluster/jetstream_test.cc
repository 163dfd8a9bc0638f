// lib/cluster/jetstream against one real nats-server per test: fencing with
// the expected last sequence, Msg-Id de-duplication, KV leases.
#include "lib/cluster/jetstream.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/testing/nats_cluster.h"

namespace slate {
namespace {

using ::slate::testing::NatsCluster;

// GCC 12 warns about designated initializers that leave fields out.
StreamConfig Stream(const std::string& name, const std::string& subjects) {
  StreamConfig config;
  config.name = name;
  config.subjects = {subjects};
  return config;
}
PublishOptions Expecting(uint64_t last_sequence) {
  PublishOptions options;
  options.expected_last_sequence = last_sequence;
  return options;
}
PublishOptions WithMsgId(const std::string& id) {
  PublishOptions options;
  options.msg_id = id;
  return options;
}
KvConfig Bucket(const std::string& name, absl::Duration ttl) {
  KvConfig config;
  config.name = name;
  config.ttl = ttl;
  return config;
}

class JetStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<NatsCluster>> cluster = NatsCluster::Start(1);
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = *std::move(cluster);
    JetStreamOptions options;
    options.servers = cluster_->ClientUrls();
    absl::StatusOr<std::unique_ptr<JetStream>> js = JetStream::Connect(options);
    ASSERT_TRUE(js.ok()) << js.status();
    js_ = *std::move(js);
  }

  // Declared first: destroyed after the connection.
  std::unique_ptr<NatsCluster> cluster_;
  std::unique_ptr<JetStream> js_;
};

TEST_F(JetStreamTest, ExpectedLastSequenceFencesStaleWriters) {
  ASSERT_TRUE(js_->EnsureStream(Stream("FENCE", "fence.>")).ok());
  // Creating it again with the same settings is a look-up.
  ASSERT_TRUE(js_->EnsureStream(Stream("FENCE", "fence.>")).ok());
  absl::StatusOr<PublishAck> marker = js_->Publish("fence.p0", "marker");
  ASSERT_TRUE(marker.ok()) << marker.status();
  ASSERT_EQ(marker->sequence, 1u);

  absl::StatusOr<PublishAck> a =
      js_->Publish("fence.p0", "from a", Expecting(1));
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->sequence, 2u);
  EXPECT_FALSE(a->duplicate);

  // A writer that still believes the stream ends at 1 is refused.
  absl::StatusOr<PublishAck> stale =
      js_->Publish("fence.p0", "from b", Expecting(1));
  ASSERT_EQ(stale.status().code(), absl::StatusCode::kFailedPrecondition)
      << stale.status();
  EXPECT_TRUE(absl::StrContains(stale.status().message(), "fence.p0"))
      << stale.status();
  EXPECT_TRUE(absl::StrContains(stale.status().message(), "wrong last sequence"))
      << stale.status();

  absl::StatusOr<uint64_t> last = js_->LastSequence("FENCE");
  ASSERT_TRUE(last.ok()) << last.status();
  EXPECT_EQ(*last, 2u);
  absl::StatusOr<std::vector<StoredMessage>> all = js_->Read("FENCE", 1, 100);
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].data, "marker");
  EXPECT_EQ((*all)[1].data, "from a");
  EXPECT_EQ((*all)[1].sequence, 2u);
  EXPECT_EQ((*all)[1].subject, "fence.p0");

  // The current position is accepted.
  absl::StatusOr<PublishAck> next =
      js_->Publish("fence.p0", "from a again", Expecting(2));
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->sequence, 3u);
}

TEST_F(JetStreamTest, ExpectingAnEmptyStreamIsRefusedUpFront) {
  ASSERT_TRUE(js_->EnsureStream(Stream("EMPTY", "empty")).ok());
  absl::StatusOr<PublishAck> ack =
      js_->Publish("empty", "x", Expecting(0));
  EXPECT_EQ(ack.status().code(), absl::StatusCode::kInvalidArgument);
  absl::StatusOr<uint64_t> last = js_->LastSequence("EMPTY");
  ASSERT_TRUE(last.ok()) << last.status();
  EXPECT_EQ(*last, 0u);
}

TEST_F(JetStreamTest, RetriedMsgIdIsAcknowledgedAsDuplicate) {
  ASSERT_TRUE(js_->EnsureStream(Stream("DEDUP", "dedup.>")).ok());
  absl::StatusOr<PublishAck> first = js_->Publish("dedup.x", "one", WithMsgId("cmd-1"));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE(first->duplicate);
  absl::StatusOr<PublishAck> second = js_->Publish("dedup.x", "two", WithMsgId("cmd-2"));
  ASSERT_TRUE(second.ok()) << second.status();

  absl::StatusOr<PublishAck> retry = js_->Publish("dedup.x", "one", WithMsgId("cmd-1"));
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_TRUE(retry->duplicate);
  EXPECT_EQ(retry->sequence, first->sequence);

  absl::StatusOr<uint64_t> last = js_->LastSequence("DEDUP");
  ASSERT_TRUE(last.ok()) << last.status();
  EXPECT_EQ(*last, 2u);
  absl::StatusOr<StoredMessage> stored = js_->Get("DEDUP", first->sequence);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->msg_id, "cmd-1");
  EXPECT_EQ(stored->data, "one");
}

TEST_F(JetStreamTest, ExistingStreamWithOtherSubjectsIsReported) {
  ASSERT_TRUE(js_->EnsureStream(Stream("S", "s.a")).ok());
  absl::Status other = js_->EnsureStream(Stream("S", "s.b"));
  EXPECT_EQ(other.code(), absl::StatusCode::kFailedPrecondition) << other;
  EXPECT_TRUE(absl::StrContains(other.message(), "stream S")) << other;
}

TEST_F(JetStreamTest, MissingStreamAndMessageAreNotFound) {
  absl::StatusOr<uint64_t> none = js_->LastSequence("NOPE");
  EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound) << none.status();
  EXPECT_TRUE(absl::StrContains(none.status().message(), "NOPE")) << none.status();

  ASSERT_TRUE(js_->EnsureStream(Stream("ONE", "one")).ok());
  ASSERT_TRUE(js_->Publish("one", "x").ok());
  absl::StatusOr<StoredMessage> missing = js_->Get("ONE", 7);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound)
      << missing.status();
}

TEST_F(JetStreamTest, KvLeaseAcquireRenewAndFence) {
  absl::StatusOr<std::unique_ptr<KvBucket>> bucket =
      js_->EnsureKvBucket(Bucket("leases", absl::Minutes(1)));
  ASSERT_TRUE(bucket.ok()) << bucket.status();
  KvBucket& leases = **bucket;

  absl::StatusOr<uint64_t> a = leases.Create("p0", "node-a");
  ASSERT_TRUE(a.ok()) << a.status();
  absl::StatusOr<uint64_t> b = leases.Create("p0", "node-b");
  EXPECT_EQ(b.status().code(), absl::StatusCode::kAlreadyExists) << b.status();

  absl::StatusOr<KvEntry> held = leases.Get("p0");
  ASSERT_TRUE(held.ok()) << held.status();
  EXPECT_EQ(held->value, "node-a");
  EXPECT_EQ(held->revision, *a);

  absl::StatusOr<uint64_t> renewed = leases.Update("p0", "node-a", *a);
  ASSERT_TRUE(renewed.ok()) << renewed.status();
  EXPECT_GT(*renewed, *a);

  // A node still holding the old revision learns it lost the lease.
  absl::StatusOr<uint64_t> stale = leases.Update("p0", "node-b", *a);
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kFailedPrecondition)
      << stale.status();
  EXPECT_TRUE(absl::StrContains(stale.status().message(), "p0")) << stale.status();
  absl::StatusOr<KvEntry> still = leases.Get("p0");
  ASSERT_TRUE(still.ok()) << still.status();
  EXPECT_EQ(still->value, "node-a");

  // Release: the key is free for the next node.
  ASSERT_TRUE(leases.Delete("p0").ok());
  EXPECT_EQ(leases.Get("p0").status().code(), absl::StatusCode::kNotFound);
  absl::StatusOr<uint64_t> taken = leases.Create("p0", "node-b");
  ASSERT_TRUE(taken.ok()) << taken.status();
  absl::StatusOr<KvEntry> now = leases.Get("p0");
  ASSERT_TRUE(now.ok()) << now.status();
  EXPECT_EQ(now->value, "node-b");
}

TEST_F(JetStreamTest, KvTtlExpiryFreesTheKey) {
  // libnats takes the TTL in nanoseconds; a wrong unit is refused by the
  // server (below 100 ms) or would make the lease last 10^6 times longer.
  absl::StatusOr<std::unique_ptr<KvBucket>> bucket =
      js_->EnsureKvBucket(Bucket("short", absl::Milliseconds(1500)));
  ASSERT_TRUE(bucket.ok()) << bucket.status();
  KvBucket& leases = **bucket;
  absl::StatusOr<uint64_t> a = leases.Create("p1", "node-a");
  ASSERT_TRUE(a.ok()) << a.status();

  // Bounded wait for the expiry (no assertion on how long it took).
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  absl::StatusOr<KvEntry> entry = leases.Get("p1");
  while (entry.ok() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(100));
    entry = leases.Get("p1");
  }
  EXPECT_EQ(entry.status().code(), absl::StatusCode::kNotFound) << entry.status();
  absl::StatusOr<uint64_t> b = leases.Create("p1", "node-b");
  EXPECT_TRUE(b.ok()) << b.status();
}

TEST_F(JetStreamTest, KvKeysListsLiveKeysOnly) {
  absl::StatusOr<std::unique_ptr<KvBucket>> bucket =
      js_->EnsureKvBucket(Bucket("members", absl::Milliseconds(1500)));
  ASSERT_TRUE(bucket.ok()) << bucket.status();
  KvBucket& kv = **bucket;
  absl::StatusOr<std::vector<std::string>> keys = kv.Keys();
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_TRUE(keys->empty());
  ASSERT_TRUE(kv.Create("n-a", "a").ok());
  ASSERT_TRUE(kv.Create("n-b", "b").ok());
  absl::StatusOr<uint64_t> c = kv.Create("n-c", "c");
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(kv.Update("n-c", "c", *c).ok());
  ASSERT_TRUE(kv.Delete("n-b").ok());
  keys = kv.Keys();
  ASSERT_TRUE(keys.ok()) << keys.status();
  std::sort(keys->begin(), keys->end());
  EXPECT_EQ(*keys, (std::vector<std::string>{"n-a", "n-c"}));
  // Only n-c is kept alive: n-a lapses with the TTL.
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (absl::Now() < deadline) {
    absl::StatusOr<KvEntry> e = kv.Get("n-c");
    ASSERT_TRUE(e.ok()) << e.status();
    ASSERT_TRUE(kv.Update("n-c", "c", e->revision).ok());
    keys = kv.Keys();
    ASSERT_TRUE(keys.ok()) << keys.status();
    if (keys->size() == 1) break;
    absl::SleepFor(absl::Milliseconds(300));
  }
  EXPECT_EQ(*keys, std::vector<std::string>{"n-c"});
  EXPECT_EQ(kv.Get("n-a").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(JetStreamTest, KvTtlBelowServerMinimumIsInvalid) {
  absl::StatusOr<std::unique_ptr<KvBucket>> bucket =
      js_->EnsureKvBucket(Bucket("tiny", absl::Milliseconds(50)));
  EXPECT_EQ(bucket.status().code(), absl::StatusCode::kInvalidArgument);
}

// A server that hangs (SIGSTOP) answers nothing: a publish times out with
// kDeadlineExceeded, and its outcome is unknown (the server may store it
// once it runs again). A retry with the same Msg-Id after the server is
// back is stored at most once in all: the message is there exactly once.
TEST(JetStreamFrozenServerTest, PublishTimesOutAndARetryIsStoredOnce) {
  absl::StatusOr<std::unique_ptr<NatsCluster>> cluster = NatsCluster::Start(1);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  JetStreamOptions options;
  options.servers = (*cluster)->ClientUrls();
  options.request_timeout = absl::Milliseconds(500);
  absl::StatusOr<std::unique_ptr<JetStream>> js = JetStream::Connect(options);
  ASSERT_TRUE(js.ok()) << js.status();
  ASSERT_TRUE((*js)->EnsureStream(Stream("HUNG", "hung.>")).ok());
  ASSERT_TRUE((*js)->Publish("hung.p0", "before", WithMsgId("m1")).ok());

  ASSERT_TRUE((*cluster)->Freeze(0).ok());
  absl::StatusOr<PublishAck> lost =
      (*js)->Publish("hung.p0", "during", WithMsgId("m2"));
  const absl::StatusCode code = lost.status().code();
  ASSERT_TRUE((*cluster)->Thaw(0).ok());
  ASSERT_EQ(code, absl::StatusCode::kDeadlineExceeded) << lost.status();
  EXPECT_TRUE(absl::StrContains(lost.status().message(), "hung.p0"))
      << lost.status();

  // The retry: the connection may still be recovering, so a few tries.
  absl::StatusOr<PublishAck> retry;
  for (int attempt = 0; attempt < 20; ++attempt) {
    retry = (*js)->Publish("hung.p0", "during", WithMsgId("m2"));
    if (retry.ok()) break;
    absl::SleepFor(absl::Milliseconds(250));
  }
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_EQ(retry->sequence, 2u);  // Whether stored now or before.
  absl::StatusOr<uint64_t> last = (*js)->LastSequence("HUNG");
  ASSERT_TRUE(last.ok()) << last.status();
  EXPECT_EQ(*last, 2u);
  absl::StatusOr<std::vector<StoredMessage>> all = (*js)->Read("HUNG", 1, 2);
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[1].msg_id, "m2");
  EXPECT_EQ((*all)[1].data, "during");
}

TEST(JetStreamConnectTest, NoServerIsUnavailable) {
  std::vector<std::string> urls;
  {
    absl::StatusOr<std::unique_ptr<NatsCluster>> cluster = NatsCluster::Start(1);
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    urls = (*cluster)->ClientUrls();
    ASSERT_TRUE((*cluster)->Kill(0).ok());
  }
  JetStreamOptions options;
  options.servers = urls;
  options.connect_timeout = absl::Milliseconds(500);
  absl::StatusOr<std::unique_ptr<JetStream>> js = JetStream::Connect(options);
  EXPECT_EQ(js.status().code(), absl::StatusCode::kUnavailable) << js.status();
  EXPECT_TRUE(absl::StrContains(js.status().message(), urls[0])) << js.status();

  options.servers.clear();
  EXPECT_EQ(JetStream::Connect(options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace slate
