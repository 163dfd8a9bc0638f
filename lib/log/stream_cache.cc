#include "lib/log/stream_cache.h"

#include <utility>

namespace slate {

StreamCache::StreamCache(const EventLog* log, size_t max_stream_events,
                         size_t max_events)
    : log_(log),
      max_stream_events_(max_stream_events),
      max_events_(max_events) {}

absl::StatusOr<std::vector<Envelope>> StreamCache::ReadStream(
    absl::string_view stream, int64_t from_version, size_t max_count) {
  if (from_version != 0) return log_->ReadStream(stream, from_version, max_count);
  {
    std::unique_lock<std::mutex> l(mu_);
    auto it = map_.find(stream);
    if (it != map_.end() && it->second.known) {
      if (it->second.events.size() <= max_count) return it->second.events;
      l.unlock();
      return log_->ReadStream(stream, from_version, max_count);
    }
    if (it == map_.end()) it = map_.try_emplace(stream).first;
    ++it->second.loaders;
  }
  absl::StatusOr<std::vector<Envelope>> read =
      log_->ReadStream(stream, from_version, max_count);
  std::lock_guard<std::mutex> l(mu_);
  auto it = map_.find(stream);  // Registered above: still there.
  Entry& e = it->second;
  --e.loaders;
  if (read.ok() && !e.spoiled && !e.known && read->size() < max_count &&
      read->size() <= max_stream_events_) {
    if (events_ + read->size() > max_events_) {
      // Over the bound: start again (entries being read stay registered;
      // this one holds nothing yet).
      for (auto j = map_.begin(); j != map_.end();) {
        if (j == it) {
          ++j;
        } else {
          DropLocked(j++);
        }
      }
    }
    e.events = *read;
    e.known = true;
    events_ += read->size();
  }
  if (e.loaders == 0) {
    e.spoiled = false;
    if (!e.known) map_.erase(it);
  }
  return read;
}

void StreamCache::DropLocked(
    absl::flat_hash_map<std::string, Entry>::iterator it) {
  Entry& e = it->second;
  if (e.known) events_ -= e.events.size();
  if (e.loaders == 0) {
    map_.erase(it);
    return;
  }
  e.events.clear();
  e.known = false;
  e.spoiled = true;
}

void StreamCache::Committed(const std::string& stream,
                            const std::vector<Envelope>& events) {
  if (events.empty()) return;
  std::lock_guard<std::mutex> l(mu_);
  auto it = map_.find(stream);
  if (it == map_.end()) return;
  Entry& e = it->second;
  if (!e.known) {
    e.spoiled = true;  // A read under way may have missed these.
    return;
  }
  if (events.front().version() != static_cast<int64_t>(e.events.size()) ||
      e.events.size() + events.size() > max_stream_events_ ||
      events_ + events.size() > max_events_) {
    DropLocked(it);
    return;
  }
  e.events.insert(e.events.end(), events.begin(), events.end());
  events_ += events.size();
}

size_t StreamCache::CachedStreamsForTest() {
  std::lock_guard<std::mutex> l(mu_);
  size_t n = 0;
  for (const auto& [stream, e] : map_) n += e.known ? 1 : 0;
  return n;
}

}  // namespace slate
