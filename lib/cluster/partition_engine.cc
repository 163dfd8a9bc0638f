#include "lib/cluster/partition_engine.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "lib/api/engine_replication.h"
#include "lib/api/tenant.h"
#include "lib/base/status_macros.h"
#include "lib/log/replicator.h"

namespace slate::cluster {

namespace {

bool Retryable(const absl::Status& s) {
  return absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s);
}

}  // namespace

// Publishes each group commit of the engine's log to the partition.
class PartitionEngine::Replicator final : public LogReplicator {
 public:
  // `next_position`: where the partition's events end (the local log was
  // caught up to it).
  Replicator(PartitionWriter* writer, absl::Duration retry, int64_t next_position)
      : writer_(writer), retry_(retry), next_position_(next_position) {}

  absl::Status Replicate(int64_t first_position,
                         absl::Span<const Envelope* const> events) override {
    absl::Status st = ReplicateBatch(first_position, events);
    if (!st.ok()) {
      // The engine's log takes no more writes: hand the partition over (to
      // this node's next round or another node), which reopens it and
      // catches up with whatever of it the partition holds.
      writer_->Release().IgnoreError();
    }
    return st;
  }

 private:
  absl::Status ReplicateBatch(int64_t first_position,
                              absl::Span<const Envelope* const> events) {
    if (events.empty()) return absl::OkStatus();
    if (first_position != next_position_) {
      // Something wrote to the local log without replicating it: its
      // positions would follow events the partition does not hold.
      return absl::DataLossError(absl::StrCat(
          "partition ", writer_->partition(), ": the local log is at position ",
          first_position, " but the partition's events end at ", next_position_,
          "; not published"));
    }
    PartitionBatch batch;
    batch.set_tenant_id(std::string(StreamTenant(events[0]->stream())));
    batch.set_command_key(events[0]->event_id());
    for (const Envelope* e : events) *batch.add_events() = *e;
    const uint64_t expected = writer_->next_position();
    const absl::Time deadline = absl::Now() + retry_;
    absl::StatusOr<AppendResult> r = writer_->Append(batch);
    while (!r.ok() && Retryable(r.status()) && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(100));
      r = writer_->Append(batch);  // Same key: stored once.
    }
    if (!r.ok()) {
      if (absl::IsAborted(r.status())) {
        return absl::FailedPreconditionError(absl::StrCat(
            "partition ", writer_->partition(),
            ": another writer appended before this one (",
            r.status().message(), "); open the partition again"));
      }
      return r.status();
    }
    if (r->duplicate && r->position != expected) {
      // Stored before, elsewhere: this engine decided on a log that lacks
      // it (its catch-up read came before the stored copy). Writing it
      // here would make the local log differ from the partition's.
      return absl::FailedPreconditionError(absl::StrCat(
          "partition ", writer_->partition(), ": command ",
          batch.command_key(), " is stored already at batch ", r->position,
          ", not at ", expected, "; open the partition again"));
    }
    if (r->position != expected) {
      return absl::DataLossError(absl::StrCat(
          "partition ", writer_->partition(), ": batch of log position ",
          first_position, " stored at batch ", r->position, ", expected ",
          expected));
    }
    next_position_ = first_position + static_cast<int64_t>(events.size());
    return absl::OkStatus();
  }

  PartitionWriter* writer_;
  const absl::Duration retry_;
  int64_t next_position_;  // the partition's next event position
};

PartitionEngine::PartitionEngine(Cluster& cluster,
                                 const PartitionEngineOptions& options)
    : cluster_(cluster),
      options_(options),
      reader_(cluster, options.partition),
      timer_interval_(options.engine.sla_timer_interval) {
  options_.engine.max_group_commit_events = std::min(
      options_.engine.max_group_commit_events, kMaxEventsPerMessage);
  // The engine fires no timer of its own: it would write timer events
  // while this is a follower (no replicator), in the local log only.
  options_.engine.sla_timer_interval = absl::ZeroDuration();
}

PartitionEngine::~PartitionEngine() {
  engine_.reset();  // Stops its timer, which calls writing().
  if (writer_ != nullptr) writer_->Release().IgnoreError();
}

absl::Status PartitionEngine::OpenEngine() {
  if (options_.dir.empty()) {
    return absl::InvalidArgumentError("partition engine: dir is required");
  }
  if (options_.partition < 0 || options_.partition >= cluster_.partitions()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "partition engine: partition ", options_.partition, " is not in 0..",
        cluster_.partitions() - 1));
  }
  SLATE_ASSIGN_OR_RETURN(engine_, Engine::Open(options_.engine, options_.dir));
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> PartitionEngine::BatchAt(int64_t position,
                                                  uint64_t batches) {
  // The first batch whose first event is at or past `position`: the
  // batches' first positions increase, so a binary search (one read each).
  uint64_t lo = 0;
  uint64_t hi = batches;
  while (lo < hi) {
    const uint64_t mid = lo + (hi - lo) / 2;
    SLATE_ASSIGN_OR_RETURN(std::vector<PartitionEntry> one,
                           reader_.Read(mid, 1));
    if (one.empty() || one[0].batch.events_size() == 0) {
      return absl::DataLossError(absl::StrCat("partition ", options_.partition,
                                              ": batch ", mid,
                                              " is missing or empty"));
    }
    if (one[0].batch.events(0).position() < position) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

absl::StatusOr<int64_t> PartitionEngine::ApplyBatches(uint64_t end_batch) {
  const int64_t local_end = engine_->NextPosition();
  SLATE_ASSIGN_OR_RETURN(uint64_t next, BatchAt(local_end, end_batch));
  if (local_end > 0 && next == end_batch) {
    // Nothing new; the local log must end where the partition does.
    if (end_batch > 0) {
      SLATE_ASSIGN_OR_RETURN(std::vector<PartitionEntry> last,
                             reader_.Read(end_batch - 1, 1));
      if (!last.empty() && last[0].batch.events_size() > 0) {
        const Envelope& e =
            last[0].batch.events(last[0].batch.events_size() - 1);
        if (e.position() + 1 != local_end) {
          return absl::DataLossError(absl::StrCat(
              "partition ", options_.partition, ": the local log in ",
              options_.dir, " ends at position ", local_end,
              " but the partition's last event is at ", e.position()));
        }
      }
    } else {
      return absl::DataLossError(absl::StrCat(
          "partition ", options_.partition, ": the local log in ",
          options_.dir, " holds ", local_end,
          " events but the partition none"));
    }
  }
  int64_t applied = 0;
  constexpr size_t kRead = 1024;
  while (next < end_batch) {
    SLATE_ASSIGN_OR_RETURN(
        std::vector<PartitionEntry> entries,
        reader_.Read(next, std::min<uint64_t>(kRead, end_batch - next)));
    if (entries.empty()) {
      // The batches exist (end_batch came from the stream), but the read
      // found none: a follower answered the stream's info with an older
      // state during a leader election. Never an end: stopping here would
      // leave the local log behind the writer's fence.
      return absl::UnavailableError(absl::StrCat(
          "partition ", options_.partition, ": batches ", next, "..",
          end_batch - 1, " not readable yet (leader election?); retry"));
    }
    for (PartitionEntry& entry : entries) {
      if (entry.position >= end_batch) break;
      std::vector<Envelope> events(entry.batch.events().begin(),
                                   entry.batch.events().end());
      if (!events.empty() &&
          events.front().position() != engine_->NextPosition()) {
        return absl::DataLossError(absl::StrCat(
            "partition ", options_.partition, ": batch ", entry.position,
            " starts at log position ", events.front().position(),
            ", the local log ends at ", engine_->NextPosition()));
      }
      SLATE_RETURN_IF_ERROR(ApplyReplicated(*engine_, std::move(events)));
      ++applied;
      batches_fetched_.fetch_add(1);
      next = entry.position + 1;
    }
  }
  return applied;
}

absl::StatusOr<int64_t> PartitionEngine::CatchUp() {
  if (writer_ != nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "partition ", options_.partition,
        ": this node writes it; a writer does not follow"));
  }
  SLATE_ASSIGN_OR_RETURN(uint64_t batches, reader_.Batches());
  return ApplyBatches(batches);
}

absl::StatusOr<std::unique_ptr<PartitionEngine>> PartitionEngine::OpenFollower(
    Cluster& cluster, const PartitionEngineOptions& options) {
  std::unique_ptr<PartitionEngine> p(new PartitionEngine(cluster, options));
  SLATE_RETURN_IF_ERROR(p->OpenEngine());
  SLATE_RETURN_IF_ERROR(p->CatchUp().status());
  return p;
}

absl::StatusOr<std::unique_ptr<PartitionEngine>> PartitionEngine::OpenWriter(
    Cluster& cluster, const PartitionEngineOptions& options) {
  SLATE_ASSIGN_OR_RETURN(std::unique_ptr<PartitionEngine> p,
                         OpenFollower(cluster, options));
  PartitionWriterOptions w;
  w.node = options.node;
  w.partition = options.partition;
  w.acquire_wait = options.acquire_wait;
  SLATE_ASSIGN_OR_RETURN(p->writer_, PartitionWriter::Acquire(cluster, w));
  // What was appended between the catch-up and the lease.
  SLATE_RETURN_IF_ERROR(p->ApplyBatches(p->writer_->next_position()).status());
  p->replicator_ = std::make_unique<Replicator>(
      p->writer_.get(), options.publish_retry, p->engine_->NextPosition());
  SetReplicator(*p->engine_, p->replicator_.get());
  if (p->timer_interval_ > absl::ZeroDuration()) {
    // A writer that lost its lease appends nothing (its log refuses).
    PartitionEngine* self = p.get();
    SLATE_RETURN_IF_ERROR(StartSlaTimer(*p->engine_, p->timer_interval_,
                                        [self] { return self->writing(); }));
  }
  return p;
}

bool PartitionEngine::writing() const {
  return writer_ != nullptr && writer_->holds_lease();
}

void PartitionEngine::AbandonForTest() {
  if (writer_ != nullptr) writer_->AbandonForTest();
}

absl::Status PartitionEngine::Release() {
  if (writer_ == nullptr) return absl::OkStatus();
  return writer_->Release();
}

}  // namespace slate::cluster
