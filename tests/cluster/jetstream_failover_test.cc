// lib/cluster/jetstream on a 3-server cluster: kill -9 of the stream's
// leader in the middle of 2,000 publishes to an R3 stream. Every publish is
// retried with its Msg-Id until acknowledged; afterwards every acknowledged
// publish is readable at its acknowledged sequence, none is stored twice,
// sequences are dense, and the killed server, restarted, catches up.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "lib/cluster/jetstream.h"
#include "tests/testing/nats_cluster.h"

namespace slate {
namespace {

using ::slate::testing::NatsCluster;

constexpr int kMessages = 2000;
constexpr int kKillAt = 1000;

// Publishes until acknowledged or the deadline passes; the Msg-Id makes a
// retry of a publish that was stored but not acknowledged a duplicate.
absl::StatusOr<PublishAck> PublishWithRetries(JetStream& js, const std::string& data,
                                              const std::string& id, int& retries) {
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (true) {
    PublishOptions options;
    options.msg_id = id;
    absl::StatusOr<PublishAck> ack = js.Publish("orders.events", data, options);
    if (ack.ok() || absl::Now() > deadline) return ack;
    ++retries;
    absl::SleepFor(absl::Milliseconds(50));
  }
}

TEST(JetStreamFailoverTest, KillNineOfTheLeaderLosesAndDuplicatesNothing) {
  absl::StatusOr<std::unique_ptr<NatsCluster>> started = NatsCluster::Start(3);
  ASSERT_TRUE(started.ok()) << started.status();
  NatsCluster& cluster = **started;
  JetStreamOptions options;
  options.servers = cluster.ClientUrls();
  options.request_timeout = absl::Seconds(2);
  absl::StatusOr<std::unique_ptr<JetStream>> connected = JetStream::Connect(options);
  ASSERT_TRUE(connected.ok()) << connected.status();
  JetStream& js = **connected;
  StreamConfig orders;
  orders.name = "ORDERS";
  orders.subjects = {"orders.>"};
  orders.replicas = 3;
  absl::Status created = js.EnsureStream(orders);
  ASSERT_TRUE(created.ok()) << created;

  std::map<uint64_t, int> acked;  // sequence -> publish number
  int retries = 0, duplicates = 0, killed = -1;
  for (int i = 0; i < kMessages; ++i) {
    if (i == kKillAt) {
      absl::StatusOr<StreamState> state = js.GetStreamState("ORDERS");
      ASSERT_TRUE(state.ok()) << state.status();
      killed = cluster.IndexOf(state->leader);
      ASSERT_GE(killed, 0) << "leader '" << state->leader << "'";
      ASSERT_TRUE(cluster.Kill(killed).ok());
    }
    absl::StatusOr<PublishAck> ack = PublishWithRetries(
        js, absl::StrCat("payload-", i), absl::StrCat("msg-", i), retries);
    ASSERT_TRUE(ack.ok()) << "publish " << i << ": " << ack.status();
    if (ack->duplicate) ++duplicates;
    auto [it, inserted] = acked.emplace(ack->sequence, i);
    ASSERT_TRUE(inserted) << "publishes " << it->second << " and " << i
                          << " both acknowledged at sequence " << ack->sequence;
  }
  std::cout << "retries " << retries << ", acknowledged as duplicates "
            << duplicates << ", killed " << cluster.Name(killed) << "\n";

  // Dense: exactly one message per publish, at 1..kMessages.
  absl::StatusOr<StreamState> state = js.GetStreamState("ORDERS");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->messages, static_cast<uint64_t>(kMessages));
  EXPECT_EQ(state->first_sequence, 1u);
  EXPECT_EQ(state->last_sequence, static_cast<uint64_t>(kMessages));
  absl::StatusOr<std::vector<StoredMessage>> all = js.Read("ORDERS", 1, kMessages + 1);
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), static_cast<size_t>(kMessages));
  std::vector<int> seen(kMessages, 0);
  for (const StoredMessage& m : *all) {
    auto it = acked.find(m.sequence);
    ASSERT_NE(it, acked.end()) << "sequence " << m.sequence << " never acknowledged";
    EXPECT_EQ(m.data, absl::StrCat("payload-", it->second));
    EXPECT_EQ(m.msg_id, absl::StrCat("msg-", it->second));
    ++seen[it->second];
  }
  for (int i = 0; i < kMessages; ++i) {
    EXPECT_EQ(seen[i], 1) << "publish " << i;
  }

  // The restarted server catches up: the leader reports every copy current.
  absl::Status restarted = cluster.Restart(killed);
  ASSERT_TRUE(restarted.ok()) << restarted;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  bool caught_up = false;
  std::string last_view;
  while (!caught_up && absl::Now() < deadline) {
    absl::StatusOr<StreamState> s = js.GetStreamState("ORDERS");
    if (s.ok()) {
      caught_up = s->replicas.size() == 2 && s->last_sequence == kMessages;
      last_view = absl::StrCat("leader ", s->leader);
      for (const ReplicaState& r : s->replicas) {
        caught_up = caught_up && r.current && !r.offline && r.lag == 0;
        absl::StrAppend(&last_view, "; ", r.name, " current ", r.current,
                        " offline ", r.offline, " lag ", r.lag);
      }
    } else {
      last_view = std::string(s.status().message());
    }
    if (!caught_up) absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_TRUE(caught_up) << "last view: " << last_view << "\nlog of "
                         << cluster.Name(killed) << ":\n"
                         << cluster.LogTail(killed);
}

}  // namespace
}  // namespace slate
