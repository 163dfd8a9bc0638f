// StreamCache: the events of recently read short streams, kept current by
// the log's commit listener, so a command on a hot aggregate (and the
// configuration every command reads: the priority matrix, a service) does
// not read them back from RocksDB.
//
//   slate::StreamCache cache(log.get());
//   log->SetCommitListener([&](const std::string& s,
//                              const std::vector<slate::Envelope>& e) {
//     cache.Committed(s, e);
//   });
//   auto events = cache.ReadStream("incident/INC1", 0, 1024);
//
// An entry holds a whole stream (or knows it absent) as of the last commit
// the listener reported. Every commit to a cached stream extends its entry
// (or drops it past the bounds), so a hit equals what EventLog::ReadStream
// would return at that instant: the log calls the listener after the
// RocksDB write and before the appenders return. A read that misses goes
// to the log and fills the entry only if no commit to that stream was
// reported while it read. Thread-safe.
#ifndef SLATE_LIB_LOG_STREAM_CACHE_H_
#define SLATE_LIB_LOG_STREAM_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "lib/log/event_log.h"
#include "proto/events.pb.h"

namespace slate {

class StreamCache {
 public:
  // `log` must outlive the cache, and report its commits to Committed.
  // Streams of more than `max_stream_events` events are not kept; past
  // `max_events` events in all, the cache is emptied. Defaults: 32 and
  // 65,536 (incidents have a handful of events; ~30 MiB at most).
  explicit StreamCache(const EventLog* log, size_t max_stream_events = 32,
                       size_t max_events = 65536);

  // As EventLog::ReadStream. Served from memory for from_version 0 when the
  // stream is cached and has at most max_count events.
  absl::StatusOr<std::vector<Envelope>> ReadStream(absl::string_view stream,
                                                   int64_t from_version,
                                                   size_t max_count);

  // The log's commit listener: `events` were appended to `stream`.
  void Committed(const std::string& stream, const std::vector<Envelope>& events);

  // Streams cached (complete entries), for tests.
  size_t CachedStreamsForTest();

 private:
  struct Entry {
    // The stream's events from version 0, when `known`; else a read is
    // under way or was spoiled by a commit. Extended in place by commits
    // (copying the whole stream per append cost the import ~15 % of its
    // CPU).
    std::vector<Envelope> events;
    bool known = false;
    int loaders = 0;     // Reads from the log under way.
    bool spoiled = false;  // A commit came while loaders > 0.
  };
  // Drops `it`'s events (a read under way keeps the entry, spoiled).
  // REQUIRES: mu_ held.
  void DropLocked(absl::flat_hash_map<std::string, Entry>::iterator it);

  const EventLog* const log_;
  const size_t max_stream_events_;
  const size_t max_events_;
  std::mutex mu_;
  absl::flat_hash_map<std::string, Entry> map_;  // Guarded by mu_.
  size_t events_ = 0;  // In all entries. Guarded by mu_.
};

}  // namespace slate

#endif  // SLATE_LIB_LOG_STREAM_CACHE_H_
