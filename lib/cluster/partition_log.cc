#include "lib/cluster/partition_log.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace slate::cluster {
namespace {

using SteadyClock = std::chrono::steady_clock;

// From this many messages on, PartitionReader reads through an ordered
// consumer (bench/cluster_bench: BM_PartitionReader_*).
constexpr uint64_t kOrderedReadFrom = 32;

SteadyClock::duration ToSteady(absl::Duration d) {
  return std::chrono::duration_cast<SteadyClock::duration>(absl::ToChronoNanoseconds(d));
}

absl::Status Invalid(int partition, absl::string_view key, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("partition ", partition, ": batch ", key, ": ", what));
}

std::string Holder(const absl::StatusOr<std::optional<LeaseInfo>>& lease) {
  if (!lease.ok()) return absl::StrCat("lease unreadable: ", lease.status().message());
  if (!lease->has_value()) return "nobody holds the lease now";
  const absl::Duration left = (*lease)->expires_at - absl::Now();
  return absl::StrCat("lease held by ", (*lease)->node, " (revision ",
                      (*lease)->revision, ", expires in ",
                      absl::FormatDuration(absl::Trunc(left, absl::Milliseconds(100))),
                      ")");
}

}  // namespace

PartitionWriter::PartitionWriter(Cluster& cluster, const PartitionWriterOptions& options)
    : cluster_(cluster),
      options_(options),
      stream_(cluster.names().Stream(options.partition)),
      subject_(cluster.names().BatchSubject(options.partition)),
      lease_key_(ClusterNames::LeaseKey(options.partition)) {}

std::string PartitionWriter::LeaseValue(absl::Time now) const {
  PartitionLease lease;
  lease.set_node(options_.node);
  lease.set_acquired_at_us(absl::ToUnixMicros(now));
  lease.set_expires_at_us(absl::ToUnixMicros(now + cluster_.lease_ttl()));
  return lease.SerializeAsString();
}

absl::StatusOr<std::unique_ptr<PartitionWriter>> PartitionWriter::Acquire(
    Cluster& cluster, const PartitionWriterOptions& options) {
  if (options.node.empty()) {
    return absl::InvalidArgumentError("partition writer: node name is empty");
  }
  if (options.partition < 0 || options.partition >= cluster.partitions()) {
    return absl::InvalidArgumentError(
        absl::StrCat("partition ", options.partition, ": the cluster has partitions 0..",
                     cluster.partitions() - 1));
  }
  std::unique_ptr<PartitionWriter> w(new PartitionWriter(cluster, options));
  const absl::Time give_up = absl::Now() + options.acquire_wait;
  uint64_t revision = 0;
  SteadyClock::time_point sent;
  // Values sent by this call: a create that timed out may have been
  // stored, and is then ours (the value names the attempt's instant).
  std::vector<std::pair<std::string, SteadyClock::time_point>> sent_values;
  absl::Status tried;
  while (true) {
    sent = SteadyClock::now();
    sent_values.emplace_back(w->LeaseValue(absl::Now()), sent);
    absl::StatusOr<uint64_t> created =
        cluster.leases().Create(w->lease_key_, sent_values.back().first);
    if (created.ok()) {
      revision = *created;
      break;
    }
    tried = created.status();
    if (absl::IsAlreadyExists(tried) && sent_values.size() > 1) {
      absl::StatusOr<KvEntry> entry = cluster.leases().Get(w->lease_key_);
      auto ours = std::find_if(
          sent_values.begin(), sent_values.end(),
          [&](const auto& v) { return entry.ok() && v.first == entry->value; });
      if (ours != sent_values.end()) {
        revision = entry->revision;  // an earlier try of ours got through
        sent = ours->second;
        break;
      }
    }
    // Held by another node (maybe lapsing), or no answer (a leader
    // election in the leases bucket): try again until acquire_wait.
    const bool retry = absl::IsAlreadyExists(tried) || absl::IsUnavailable(tried) ||
                       absl::IsDeadlineExceeded(tried);
    if (!retry) return tried;
    if (absl::Now() >= give_up) {
      if (!absl::IsAlreadyExists(tried)) return tried;
      return absl::FailedPreconditionError(
          absl::StrCat("partition ", options.partition, ": ", options.node,
                       " cannot take the lease: ", Holder(cluster.Lease(options.partition))));
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  {
    std::lock_guard<std::mutex> lock(w->mu_);
    w->revision_ = revision;
    w->deadline_ = sent + ToSteady(cluster.lease_ttl() * 0.9);
  }
  // Catch up: appends expect the stream's end as it is now.
  absl::StatusOr<uint64_t> last = cluster.js().LastSequence(w->stream_);
  if (last.ok() && *last < kMarkerSequence) {
    last = absl::FailedPreconditionError(
        absl::StrCat("stream ", w->stream_, " has no marker: run `slate cluster init`"));
  }
  if (!last.ok()) return last.status();  // the destructor releases the lease
  w->known_last_ = *last;
  if (!options.test_no_renewals) w->renewer_ = std::thread([p = w.get()] { p->RenewLoop(); });
  return w;
}

PartitionWriter::~PartitionWriter() { (void)Release(); }

uint64_t PartitionWriter::lease_revision() const {
  std::lock_guard<std::mutex> lock(mu_);
  return revision_;
}

void PartitionWriter::RenewLoop() {
  const absl::Duration interval = options_.renew_interval > absl::ZeroDuration()
                                      ? options_.renew_interval
                                      : cluster_.lease_ttl() / 3;
  absl::Duration wait = interval;
  while (true) {
    uint64_t revision = 0;
    {
      std::unique_lock<std::mutex> lock(mu_);
      stop_cv_.wait_for(lock, absl::ToChronoNanoseconds(wait),
                        [this] { return stop_; });
      if (stop_) return;
      revision = revision_;
    }
    const SteadyClock::time_point sent = SteadyClock::now();
    absl::StatusOr<uint64_t> renewed =
        cluster_.leases().Update(lease_key_, LeaseValue(absl::Now()), revision);
    std::lock_guard<std::mutex> lock(mu_);
    if (renewed.ok()) {
      revision_ = *renewed;
      deadline_ = sent + ToSteady(cluster_.lease_ttl() * 0.9);
      wait = interval;
      continue;
    }
    // Refused: another node holds it, or it lapsed. Else (no answer) try
    // again soon until the local deadline passes.
    if (absl::IsFailedPrecondition(renewed.status()) ||
        absl::IsNotFound(renewed.status()) || SteadyClock::now() >= deadline_) {
      lost_ = true;
      return;
    }
    wait = std::min(interval, absl::Milliseconds(100));
  }
}

void PartitionWriter::AbandonForTest() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  if (renewer_.joinable()) renewer_.join();
  lost_ = true;
}

absl::Status PartitionWriter::Release() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  if (renewer_.joinable()) renewer_.join();
  if (lost_.exchange(true)) return absl::OkStatus();
  absl::Status st = cluster_.leases().Delete(lease_key_, lease_revision());
  // A refused delete: the lease had passed to another node already.
  if (absl::IsFailedPrecondition(st)) return absl::OkStatus();
  return st;
}

absl::Status PartitionWriter::Fenced(absl::string_view why) {
  lost_ = true;
  return absl::FailedPreconditionError(
      absl::StrCat("partition ", options_.partition, ": ", options_.node,
                   " may not append: ", why, "; ",
                   Holder(cluster_.Lease(options_.partition))));
}

absl::StatusOr<bool> PartitionWriter::AdoptOwnAppends(uint64_t up_to_sequence) {
  if (unacknowledged_.empty() || up_to_sequence <= known_last_) return false;
  absl::StatusOr<std::vector<StoredMessage>> after = cluster_.js().Read(
      stream_, known_last_ + 1, static_cast<size_t>(up_to_sequence - known_last_));
  if (!after.ok()) return after.status();
  if (after->empty() || after->back().sequence < up_to_sequence) return false;
  for (const StoredMessage& m : *after) {
    if (unacknowledged_.count(m.msg_id) == 0) return false;
  }
  for (const StoredMessage& m : *after) unacknowledged_.erase(m.msg_id);
  known_last_ = up_to_sequence;
  return true;
}

absl::StatusOr<AppendResult> PartitionWriter::Append(const PartitionBatch& batch) {
  const std::string& key = batch.command_key();
  if (key.empty()) return Invalid(options_.partition, "(no key)", "command_key is empty");
  if (batch.tenant_id().empty()) return Invalid(options_.partition, key, "tenant_id is empty");
  if (batch.events_size() == 0) return Invalid(options_.partition, key, "no events");
  if (lost_) return Fenced("its lease is lost or released");
  if (!options_.test_skip_local_lease_check) {
    std::lock_guard<std::mutex> lock(mu_);
    if (SteadyClock::now() >= deadline_) {
      lost_ = true;
    }
  }
  if (lost_) return Fenced("its lease lapsed (no renewal acknowledged in time)");
  const std::string data = batch.SerializeAsString();
  for (int attempt = 0;; ++attempt) {
    PublishOptions publish;
    publish.msg_id = key;
    publish.expected_last_sequence = known_last_;
    absl::StatusOr<PublishAck> ack = cluster_.js().Publish(subject_, data, publish);
    if (ack.ok()) {
      unacknowledged_.erase(key);
      if (ack->sequence < kFirstBatchSequence) {
        return absl::DataLossError(absl::StrCat(
            "partition ", options_.partition, ": command ", key,
            " acknowledged at sequence ", ack->sequence, ", the marker's"));
      }
      if (!ack->duplicate) {
        known_last_ = ack->sequence;
      } else if (ack->sequence > known_last_) {
        // Stored by an earlier unacknowledged try: adopt it (and any
        // other of ours before it); if it is not ours alone, the next
        // append meets the fence.
        unacknowledged_.insert(key);
        absl::StatusOr<bool> adopted = AdoptOwnAppends(ack->sequence);
        unacknowledged_.erase(key);
        if (!adopted.ok()) return adopted.status();
      }
      return AppendResult{.position = PositionOf(ack->sequence),
                          .sequence = ack->sequence,
                          .duplicate = ack->duplicate};
    }
    if (absl::IsDeadlineExceeded(ack.status()) || absl::IsUnavailable(ack.status())) {
      unacknowledged_.insert(key);  // maybe stored: recognised later
      return ack.status();
    }
    if (!absl::IsFailedPrecondition(ack.status())) return ack.status();
    // The stream moved past known_last_: our own unacknowledged appends,
    // or another writer (fenced).
    if (attempt == 0 && !unacknowledged_.empty()) {
      absl::StatusOr<uint64_t> last = cluster_.js().LastSequence(stream_);
      if (!last.ok()) return last.status();
      absl::StatusOr<bool> adopted = AdoptOwnAppends(*last);
      if (!adopted.ok()) return adopted.status();
      if (*adopted) continue;
    }
    // Still ours in the bucket: a previous holder's append that was in
    // flight when this writer took over landed after our catch-up read.
    // Nothing of this batch is stored; the caller catches up, decides
    // again on the longer log, and retries.
    absl::StatusOr<std::optional<LeaseInfo>> lease = cluster_.Lease(options_.partition);
    if (lease.ok() && lease->has_value() && (*lease)->node == options_.node &&
        (*lease)->revision == lease_revision()) {
      return absl::AbortedError(absl::StrCat(
          "partition ", options_.partition, ": ", options_.node,
          " holds the lease but the stream moved past sequence ", known_last_,
          " (a previous holder's late append): CatchUp(), decide again, retry"));
    }
    return Fenced(absl::StrCat("the stream moved past sequence ", known_last_,
                               " (", ack.status().message(), ")"));
  }
}

absl::StatusOr<uint64_t> PartitionWriter::CatchUp() {
  if (lost_) return Fenced("its lease is lost or released");
  absl::StatusOr<uint64_t> last = cluster_.js().LastSequence(stream_);
  if (!last.ok()) return last.status();
  if (*last < known_last_) {
    return absl::DataLossError(absl::StrCat("stream ", stream_, ": last sequence ", *last,
                                            " is behind this writer's ", known_last_));
  }
  known_last_ = *last;
  unacknowledged_.clear();  // whatever of ours got through is in the log now
  return next_position();
}

PartitionReader::PartitionReader(Cluster& cluster, int partition)
    : cluster_(cluster),
      partition_(partition),
      stream_(cluster.names().Stream(partition)),
      subject_(cluster.names().BatchSubject(partition)) {}

absl::StatusOr<uint64_t> PartitionReader::Batches() {
  absl::StatusOr<uint64_t> last = cluster_.js().LastSequence(stream_);
  if (!last.ok()) return last.status();
  return *last >= kFirstBatchSequence ? PositionOf(*last) + 1 : 0;
}

absl::StatusOr<std::vector<PartitionEntry>> PartitionReader::Read(uint64_t from_position,
                                                                  size_t max_batches) {
  absl::StatusOr<uint64_t> last = cluster_.js().LastSequence(stream_);
  if (!last.ok()) return last.status();
  const uint64_t from = SequenceOf(from_position);
  const uint64_t available = *last >= from ? *last - from + 1 : 0;
  // An ordered consumer costs a request or two to set up, then streams;
  // a get is one request per message.
  absl::StatusOr<std::vector<StoredMessage>> messages;
  if (std::min<uint64_t>(available, max_batches) >= kOrderedReadFrom) {
    messages = cluster_.js().ReadOrdered(
        stream_, cluster_.names().Subjects(partition_), from, max_batches);
    // Setting up a consumer needs the cluster's meta leader, which may be
    // in an election (a server just died): the gets need only the stream's.
    if (absl::IsDeadlineExceeded(messages.status()) ||
        absl::IsUnavailable(messages.status())) {
      messages = cluster_.js().Read(stream_, from, max_batches);
    }
  } else {
    messages = cluster_.js().Read(stream_, from, max_batches);
  }
  if (!messages.ok()) return messages.status();
  std::vector<PartitionEntry> out;
  out.reserve(messages->size());
  for (const StoredMessage& m : *messages) {
    PartitionEntry entry;
    entry.sequence = m.sequence;
    entry.position = PositionOf(m.sequence);
    auto corrupt = [&](absl::string_view what) {
      return absl::DataLossError(absl::StrCat("partition ", partition_, " position ",
                                              entry.position, " (stream ", stream_,
                                              " sequence ", m.sequence, "): ", what));
    };
    if (m.subject != subject_) {
      return corrupt(absl::StrCat("subject ", m.subject, " is not ", subject_));
    }
    if (!entry.batch.ParseFromString(m.data)) {
      return corrupt("not a PartitionBatch (does not decode)");
    }
    if (entry.batch.command_key().empty() || entry.batch.events_size() == 0) {
      return corrupt("a batch without command key or events");
    }
    out.push_back(std::move(entry));
  }
  return out;
}

}  // namespace slate::cluster
