// Does an R3 file stream on nats-server keep every acknowledged publish
// across a kill -9 of its leader? The writer publishes as PartitionWriter
// does (Nats-Msg-Id + expected last sequence, a timed-out publish retried
// with the same id, a refused one adopted when the stream's tail is its own
// retry), a reader on its own connection follows the stream as a catching-up
// node does (stream info, then one get per sequence) and a second one reads
// through ordered consumers; the leader is killed mid-stream and left dead
// (or restarted). Afterwards every acknowledged (sequence, id) must be in
// the stream as seen through the new leader, nothing twice, and everything
// a reader saw must still be there at the same sequence.
//
// One round per variant by default; SLATE_JSLOSS_ROUNDS=N runs N (a
// stress run, e.g. `bazel test //tests/cluster:jetstream_loss_test
// --test_env=SLATE_JSLOSS_ROUNDS=30`).
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "lib/cluster/jetstream.h"
#include "tests/testing/nats_cluster.h"

namespace slate {
namespace {

using ::slate::testing::NatsCluster;

constexpr int kCommands = 600;
constexpr int kKillAfter = 200;     // acknowledged commands before the kill
constexpr int kRestartAfter = 350;  // ... before the restart (variant)
constexpr char kStream[] = "LOSS";
constexpr char kSubject[] = "loss.batch";

int Rounds() {
  const char* env = std::getenv("SLATE_JSLOSS_ROUNDS");
  const int n = env == nullptr ? 1 : std::atoi(env);
  return n > 0 ? n : 1;
}

absl::StatusOr<std::unique_ptr<JetStream>> Connect(NatsCluster& cluster,
                                                   const std::string& name) {
  JetStreamOptions options;
  options.servers = cluster.ClientUrls();
  options.name = name;
  options.request_timeout = absl::Seconds(2);
  return JetStream::Connect(options);
}

bool Retryable(const absl::Status& s) {
  return absl::IsDeadlineExceeded(s) || absl::IsUnavailable(s);
}

// What went wrong in a round, one line each; empty: nothing.
class Anomalies {
 public:
  void Add(std::string what) {
    std::lock_guard<std::mutex> l(mu_);
    lines_.push_back(std::move(what));
  }
  std::vector<std::string> lines() const {
    std::lock_guard<std::mutex> l(mu_);
    return lines_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> lines_;
};

// The fenced single writer: publishes cmd-0.. in order, each until
// acknowledged. `acked` maps sequence -> id.
void Write(JetStream& js, std::atomic<int>& acked_count,
           std::map<uint64_t, std::string>& acked, std::mutex& acked_mu,
           Anomalies& anomalies) {
  uint64_t known_last = 1;  // the marker
  for (int i = 0; i < kCommands; ++i) {
    const std::string id = absl::StrCat("cmd-", i);
    const absl::Time give_up = absl::Now() + absl::Seconds(60);
    while (true) {
      PublishOptions o;
      o.msg_id = id;
      o.expected_last_sequence = known_last;
      absl::StatusOr<PublishAck> ack = js.Publish(kSubject, id, o);
      if (ack.ok()) {
        if (ack->sequence != known_last + 1 &&
            !(ack->duplicate && ack->sequence == known_last)) {
          anomalies.Add(absl::StrCat(id, " acknowledged at ", ack->sequence,
                                     (ack->duplicate ? " (duplicate)" : ""),
                                     ", the writer's last was ", known_last));
        }
        known_last = std::max(known_last, ack->sequence);
        {
          std::lock_guard<std::mutex> l(acked_mu);
          auto [it, inserted] = acked.emplace(ack->sequence, id);
          if (!inserted && it->second != id) {
            anomalies.Add(absl::StrCat(id, " and ", it->second,
                                       " both acknowledged at ", ack->sequence));
          }
        }
        acked_count.fetch_add(1);
        break;
      }
      if (absl::Now() > give_up) {
        anomalies.Add(absl::StrCat(id, ": not acknowledged in 60 s: ",
                                   ack.status().ToString()));
        return;
      }
      if (Retryable(ack.status())) {
        absl::SleepFor(absl::Milliseconds(50));
        continue;
      }
      if (!absl::IsFailedPrecondition(ack.status())) {
        anomalies.Add(absl::StrCat(id, ": ", ack.status().ToString()));
        return;
      }
      // Refused: the stream moved past known_last. With one writer that
      // can only be an earlier try of this id that got stored.
      absl::StatusOr<uint64_t> last = js.LastSequence(kStream);
      if (!last.ok()) {
        absl::SleepFor(absl::Milliseconds(50));
        continue;
      }
      if (*last < known_last) {
        // During an election a follower may answer stream info with its
        // older state: not the stream's end. The final read decides.
        absl::SleepFor(absl::Milliseconds(50));
        continue;
      }
      absl::StatusOr<StoredMessage> m = js.Get(kStream, *last);
      if (*last == known_last + 1 && m.ok() && m->msg_id == id) {
        known_last = *last;  // adopt; the retry is acknowledged as duplicate
        continue;
      }
      if (*last == known_last) continue;  // a stale refusal; try again
      anomalies.Add(absl::StrCat(id, ": refused at ", known_last, "; stream ends at ",
                                 *last, " with ",
                                 m.ok() ? m->msg_id : m.status().ToString()));
      return;
    }
  }
}

// Follows the stream as a catching-up node does (stream info, then gets),
// noting every (sequence, id) it saw. A stream info answer behind an
// earlier one is counted in `stale_infos`, not an anomaly: nats-server 2.9
// lets the stream's followers answer it during an election.
void Follow(JetStream& js, std::atomic<bool>& stop, std::map<uint64_t, std::string>& seen,
            int& stale_infos, Anomalies& anomalies) {
  uint64_t max_last = 0;
  uint64_t next = 2;
  while (!stop.load()) {
    absl::StatusOr<uint64_t> last = js.LastSequence(kStream);
    if (!last.ok()) {
      absl::SleepFor(absl::Milliseconds(20));
      continue;
    }
    if (*last < max_last) ++stale_infos;
    max_last = std::max(max_last, *last);
    for (; next <= *last && !stop.load(); ++next) {
      absl::StatusOr<StoredMessage> m = js.Get(kStream, next);
      if (!m.ok()) {
        if (!Retryable(m.status())) {
          anomalies.Add(absl::StrCat("reader: get ", next, " of ..", *last, ": ",
                                     m.status().ToString()));
        }
        break;
      }
      seen[next] = m->msg_id;
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
}

// Reads through ordered consumers (PartitionReader's long reads), from the
// start each time, noting what it saw.
void FollowOrdered(JetStream& js, std::atomic<bool>& stop,
                   std::map<uint64_t, std::string>& seen, Anomalies& anomalies) {
  while (!stop.load()) {
    absl::StatusOr<std::vector<StoredMessage>> all =
        js.ReadOrdered(kStream, kSubject, 2, 100000);
    if (all.ok()) {
      for (const StoredMessage& m : *all) {
        auto [it, inserted] = seen.emplace(m.sequence, m.msg_id);
        if (!inserted && it->second != m.msg_id) {
          anomalies.Add(absl::StrCat("ordered reader: sequence ", m.sequence, " held ",
                                     it->second, ", now ", m.msg_id));
        }
      }
    } else if (absl::IsDataLoss(all.status())) {
      anomalies.Add(absl::StrCat("ordered reader: ", all.status().ToString()));
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
}

struct RoundResult {
  std::vector<std::string> anomalies;
  std::string killed;
  int stale_infos = 0;
};

// Every message from 1 to the stream's end or `at_least`, whichever is
// further, one get each; a sequence it does not hold is left out.
absl::StatusOr<std::vector<StoredMessage>> ReadThrough(JetStream& js, uint64_t at_least) {
  absl::StatusOr<uint64_t> last = js.LastSequence(kStream);
  if (!last.ok()) return last.status();
  std::vector<StoredMessage> out;
  for (uint64_t seq = 1; seq <= std::max(*last, at_least); ++seq) {
    absl::StatusOr<StoredMessage> m = js.Get(kStream, seq);
    if (absl::IsNotFound(m.status())) continue;
    if (!m.ok()) return m.status();
    out.push_back(*std::move(m));
  }
  return out;
}

RoundResult RunRound(bool restart) {
  RoundResult out;
  Anomalies anomalies;
  absl::StatusOr<std::unique_ptr<NatsCluster>> started = NatsCluster::Start(3);
  if (!started.ok()) {
    out.anomalies.push_back(absl::StrCat("start: ", started.status().ToString()));
    return out;
  }
  NatsCluster& cluster = **started;
  auto writer_js = Connect(cluster, "writer");
  auto reader_js = Connect(cluster, "reader");
  auto ordered_js = Connect(cluster, "ordered");
  if (!writer_js.ok() || !reader_js.ok() || !ordered_js.ok()) {
    out.anomalies.push_back("connect failed");
    return out;
  }
  JetStream& js = **writer_js;
  StreamConfig config;
  config.name = kStream;
  config.subjects = {"loss.>"};
  config.replicas = 3;
  absl::Status created = js.EnsureStream(config);
  for (int i = 0; !created.ok() && i < 50; ++i) {  // peers still meeting
    absl::SleepFor(absl::Milliseconds(200));
    created = js.EnsureStream(config);
  }
  if (!created.ok()) {
    out.anomalies.push_back(absl::StrCat("stream: ", created.ToString()));
    return out;
  }
  absl::StatusOr<PublishAck> marker = js.Publish(kSubject, "marker", {});
  if (!marker.ok() || marker->sequence != 1) {
    out.anomalies.push_back("marker not at 1");
    return out;
  }

  std::atomic<int> acked_count{0};
  std::map<uint64_t, std::string> acked;
  std::mutex acked_mu;
  std::map<uint64_t, std::string> seen, seen_ordered;
  std::atomic<bool> stop{false};
  std::thread writer(
      [&] { Write(js, acked_count, acked, acked_mu, anomalies); });
  int stale_infos = 0;
  std::thread reader([&] { Follow(**reader_js, stop, seen, stale_infos, anomalies); });
  std::thread ordered(
      [&] { FollowOrdered(**ordered_js, stop, seen_ordered, anomalies); });

  auto wait_for = [&](int n) {
    const absl::Time deadline = absl::Now() + absl::Seconds(90);
    while (acked_count.load() < n && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(2));
    }
  };
  wait_for(kKillAfter);
  int killed = -1;
  absl::StatusOr<StreamState> state = js.GetStreamState(kStream);
  if (state.ok()) killed = cluster.IndexOf(state->leader);
  if (killed < 0 || !cluster.Kill(killed).ok()) {
    anomalies.Add("could not find or kill the stream leader");
  } else {
    out.killed = cluster.Name(killed);
  }
  if (restart && killed >= 0) {
    wait_for(kRestartAfter);
    absl::Status s = cluster.Restart(killed);
    if (!s.ok()) anomalies.Add(absl::StrCat("restart: ", s.ToString()));
  }
  writer.join();
  absl::SleepFor(absl::Milliseconds(300));  // the readers reach the end
  stop = true;
  reader.join();
  ordered.join();

  out.stale_infos = stale_infos;

  // The stream as the current leader serves it, by gets up to the last
  // acknowledged sequence at least (not bounded by stream info alone).
  absl::StatusOr<std::vector<StoredMessage>> all;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  do {
    all = ReadThrough(js, acked.empty() ? 1 : acked.rbegin()->first);
    if (!all.ok()) absl::SleepFor(absl::Milliseconds(200));
  } while (!all.ok() && absl::Now() < deadline);
  if (!all.ok()) {
    anomalies.Add(absl::StrCat("final read: ", all.status().ToString()));
  } else {
    std::map<uint64_t, std::string> stored;
    std::map<std::string, int> copies;
    for (const StoredMessage& m : *all) {
      stored[m.sequence] = m.msg_id;
      if (m.sequence > 1) ++copies[m.msg_id];
    }
    for (const auto& [seq, id] : acked) {
      auto it = stored.find(seq);
      if (it == stored.end() || it->second != id) {
        anomalies.Add(absl::StrCat("acknowledged ", id, " at ", seq, ": the stream holds ",
                                   it == stored.end() ? "nothing" : it->second,
                                   " there (ends at ",
                                   all->empty() ? 0 : all->back().sequence, ")"));
      }
    }
    for (const auto& [id, n] : copies) {
      if (n != 1) anomalies.Add(absl::StrCat(id, " stored ", n, " times"));
    }
    if (acked_count.load() == kCommands &&
        all->size() != static_cast<size_t>(kCommands + 1)) {
      anomalies.Add(absl::StrCat("the stream holds ", all->size(), " messages, not ",
                                 kCommands + 1));
    }
    for (const auto* m : {&seen, &seen_ordered}) {
      for (const auto& [seq, id] : *m) {
        auto it = stored.find(seq);
        if (it == stored.end() || it->second != id) {
          anomalies.Add(absl::StrCat("a reader saw ", id, " at ", seq,
                                     "; the stream holds ",
                                     it == stored.end() ? "nothing" : it->second));
        }
      }
    }
  }
  out.anomalies = anomalies.lines();
  if (!out.anomalies.empty() && killed >= 0) {
    for (int i = 0; i < cluster.size(); ++i) {
      out.anomalies.push_back(absl::StrCat("log of ", cluster.Name(i), ":\n",
                                           cluster.LogTail(i)));
    }
  }
  return out;
}

void RunRounds(bool restart) {
  const int rounds = Rounds();
  int clean = 0, stale_infos = 0;
  for (int r = 0; r < rounds; ++r) {
    RoundResult result = RunRound(restart);
    stale_infos += result.stale_infos;
    if (result.anomalies.empty()) {
      ++clean;
      continue;
    }
    std::string all;
    for (const std::string& a : result.anomalies) absl::StrAppend(&all, "\n  ", a);
    ADD_FAILURE() << "round " << r << " (killed " << result.killed << "):" << all;
  }
  std::cout << clean << " of " << rounds << " rounds without an anomaly; "
            << stale_infos << " stream info answers behind an earlier one\n";
}

TEST(JetStreamLossTest, LeaderKilledAndLeftDeadKeepsEveryAcknowledgedPublish) {
  RunRounds(/*restart=*/false);
}

TEST(JetStreamLossTest, LeaderKilledAndRestartedKeepsEveryAcknowledgedPublish) {
  RunRounds(/*restart=*/true);
}

}  // namespace
}  // namespace slate
