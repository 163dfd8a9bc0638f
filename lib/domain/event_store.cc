#include "lib/domain/event_store.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/message_differencer.h"

namespace slate {

InMemoryEventStore::InMemoryEventStore(const Clock* clock)
    : clock_(clock != nullptr ? clock : SystemClock()) {}

absl::StatusOr<std::vector<Envelope>> InMemoryEventStore::ReadStream(
    absl::string_view stream, int64_t from_version, size_t max_count) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Envelope> out;
  auto it = streams_.find(std::string(stream));
  if (it == streams_.end()) return out;
  for (int64_t v = std::max<int64_t>(from_version, 0);
       v < static_cast<int64_t>(it->second.size()) && out.size() < max_count;
       ++v) {
    out.push_back(all_[it->second[v]]);
  }
  return out;
}

absl::StatusOr<std::vector<AppendResult>> EventStore::AppendAtomically(
    std::vector<StreamWrite> writes) {
  (void)writes;
  return absl::UnimplementedError(
      "this event store cannot append to several streams atomically");
}

absl::StatusOr<AppendResult> InMemoryEventStore::Append(
    absl::string_view stream, ExpectedVersion expected,
    std::vector<Envelope> events) {
  std::lock_guard<std::mutex> lock(mu_);
  return AppendLocked(std::string(stream), expected, std::move(events));
}

absl::StatusOr<std::vector<AppendResult>> InMemoryEventStore::AppendAtomically(
    std::vector<StreamWrite> writes) {
  std::lock_guard<std::mutex> lock(mu_);
  if (writes.empty()) {
    return absl::InvalidArgumentError("atomic append: no streams");
  }
  // Undone by restoring copies: a test store favours the obvious.
  const std::vector<Envelope> all = all_;
  const auto streams = streams_;
  const auto ids = ids_;
  std::vector<AppendResult> out;
  size_t replays = 0;
  absl::Status failed;
  for (size_t i = 0; i < writes.size() && failed.ok(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (writes[j].stream == writes[i].stream) {
        failed = absl::InvalidArgumentError(absl::StrCat(
            "atomic append: stream ", writes[i].stream, " is named twice"));
      }
    }
    if (!failed.ok()) break;
    absl::StatusOr<AppendResult> r = AppendLocked(
        writes[i].stream, writes[i].expected, std::move(writes[i].events));
    if (!r.ok()) {
      failed = r.status();
      break;
    }
    if (r->idempotent_replay) ++replays;
    out.push_back(*r);
  }
  if (failed.ok() && replays != 0 && replays != writes.size()) {
    failed = absl::AlreadyExistsError(
        "atomic append: only some streams' events are stored");
  }
  if (!failed.ok()) {
    all_ = all;
    streams_ = streams;
    ids_ = ids;
    return failed;
  }
  return out;
}

absl::StatusOr<AppendResult> InMemoryEventStore::AppendLocked(
    const std::string& stream, ExpectedVersion expected,
    std::vector<Envelope> events) {
  if (events.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("append to ", stream, ": no events"));
  }
  // Idempotent retry: every id stored with identical content.
  size_t stored = 0;
  AppendResult original;
  for (size_t i = 0; i < events.size(); ++i) {
    auto id = ids_.find(events[i].event_id());
    if (id == ids_.end()) continue;
    Envelope mine = events[i];
    const Envelope& theirs = all_[id->second];
    mine.set_stream(theirs.stream());
    mine.set_version(theirs.version());
    mine.set_position(theirs.position());
    mine.set_recorded_at_us(theirs.recorded_at_us());
    if (!google::protobuf::util::MessageDifferencer::Equals(mine, theirs)) {
      return absl::AlreadyExistsError(
          absl::StrCat("append to ", stream, ": event ", events[i].event_id(),
                       " is stored with other content"));
    }
    if (stored == 0) {
      original.first_position = theirs.position();
      original.first_version = theirs.version();
    }
    original.last_position = theirs.position();
    original.last_version = theirs.version();
    ++stored;
  }
  if (stored == events.size()) {
    original.idempotent_replay = true;
    return original;
  }
  if (stored != 0) {
    return absl::AlreadyExistsError(
        absl::StrCat("append to ", stream, ": only some event ids are stored"));
  }
  std::vector<int64_t>& positions = streams_[stream];
  const int64_t head = static_cast<int64_t>(positions.size()) - 1;
  bool ok = true;
  switch (expected.kind()) {
    case ExpectedVersion::Kind::kAny:
      break;
    case ExpectedVersion::Kind::kNoStream:
      ok = head == -1;
      break;
    case ExpectedVersion::Kind::kStreamExists:
      ok = head >= 0;
      break;
    case ExpectedVersion::Kind::kExact:
      ok = head == expected.version();
      break;
  }
  if (!ok) {
    if (positions.empty()) streams_.erase(stream);
    return absl::AbortedError(absl::StrCat("append to ", stream, ": expected ",
                                           expected.ToString(),
                                           ", stream is at ", head));
  }
  AppendResult r;
  r.first_position = static_cast<int64_t>(all_.size());
  r.first_version = head + 1;
  const int64_t now = absl::ToUnixMicros(clock_->Now());
  for (Envelope& e : events) {
    e.set_stream(stream);
    e.set_version(static_cast<int64_t>(positions.size()));
    e.set_position(static_cast<int64_t>(all_.size()));
    e.set_recorded_at_us(now);
    if (e.occurred_at_us() == 0) e.set_occurred_at_us(now);
    ids_[e.event_id()] = e.position();
    positions.push_back(e.position());
    all_.push_back(std::move(e));
  }
  r.last_position = static_cast<int64_t>(all_.size()) - 1;
  r.last_version = static_cast<int64_t>(positions.size()) - 1;
  return r;
}

absl::StatusOr<std::vector<std::string>> InMemoryEventStore::ListStreams(
    absl::string_view prefix) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& [name, positions] : streams_) {
    if (absl::StartsWith(name, prefix)) out.push_back(name);
  }
  return out;
}

std::vector<Envelope> InMemoryEventStore::All() const {
  std::lock_guard<std::mutex> lock(mu_);
  return all_;
}

}  // namespace slate
