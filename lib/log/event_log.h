// EventLog: Slate's append-only event log on RocksDB (internal; users go
// through slate::Engine in lib/api/engine.h).
//
//   auto log = slate::EventLog::Open(options, "/tmp/db");
//   slate::Envelope e;
//   e.set_event_id("evt-1");
//   e.mutable_incident_opened()->set_number("INC1");
//   auto r = (*log)->Append("incident/INC1", ExpectedVersion::NoStream(), {e});
//   auto events = (*log)->ReadStream("incident/INC1", 0, 100);
//
// Thread-safe. Appends go through one writer queue: the writer at its head
// (the leader) validates every queued append in order, writes them all in one
// RocksDB WriteBatch, syncs once if the durability asks for it, and wakes the
// others. That keeps positions dense and lets concurrent appenders share
// fsyncs (group commit).
#ifndef SLATE_LIB_LOG_EVENT_LOG_H_
#define SLATE_LIB_LOG_EVENT_LOG_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "google/protobuf/arena.h"
#include "lib/api/options.h"
#include "lib/api/subscription.h"
#include "lib/api/types.h"
#include "lib/log/replicator.h"
#include "proto/events.pb.h"
#include "rocksdb/db.h"
#include "rocksdb/sst_file_writer.h"

namespace slate {

class LogSubscription;

// Test-only knobs for EventLog::OpenForTest (fault injection in tests/faults).
// Production code uses Open, which is OpenForTest with these defaults.
struct EventLogTestHooks {
  // The RocksDB environment all of the log's files go through, e.g. one
  // whose writes fail as on a full disk or a read-only directory. Not owned;
  // must outlive the log. Default (null): rocksdb::Env::Default().
  rocksdb::Env* env = nullptr;
};

class EventLog {
 public:
  // Opens (or, with create_if_missing, creates) the log in `dir`.
  // kFailedPrecondition: `dir` holds something that is not a Slate database,
  // or one written in a newer format. kNotFound: no database and
  // !create_if_missing. kDataLoss: RocksDB reports corruption.
  static absl::StatusOr<std::unique_ptr<EventLog>> Open(const Options& options,
                                                        const std::string& dir);
  // Open with test hooks (see EventLogTestHooks). Not for production use.
  static absl::StatusOr<std::unique_ptr<EventLog>> OpenForTest(
      const Options& options, const std::string& dir,
      const EventLogTestHooks& hooks);

  // Stops all subscriptions, flushes a bulk import, closes RocksDB.
  ~EventLog();

  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  // Appends `events` to `stream` atomically if `expected` holds.
  // The log assigns stream, version, position and recorded_at; an event's
  // occurred_at_us defaults to recorded_at when 0. If the caller set
  // `stream` on an event it must equal `stream`.
  // Errors: kInvalidArgument (bad ids, empty batch, limits, occurred_at too
  // far in the future) naming the event and field; kAborted when `expected`
  // does not hold (nothing written); kAlreadyExists when an event id is
  // stored with different content or only some ids of the batch are stored.
  // Retrying an append whose ids are all stored with identical content
  // returns the original positions with idempotent_replay = true.
  // kResourceExhausted ("No space") on a full disk, kUnavailable on another
  // I/O error or a read-only directory. Once a write to the write-ahead log
  // or a flush has failed, every later write (Append, WriteDerived, Flush)
  // fails with that error until the log is reopened, even once the disk has
  // room again; reads keep working.
  absl::StatusOr<AppendResult> Append(absl::string_view stream,
                                      ExpectedVersion expected,
                                      std::vector<Envelope> events);

  // Appends each write's events to its stream, all in one RocksDB write:
  // every stream's `expected` must hold and every event be valid, or
  // nothing is written (a crash leaves all of them or none). Errors as
  // Append, naming the stream; kInvalidArgument also for no writes or a
  // stream named twice. A retry whose ids are all stored with identical
  // content returns the original positions (idempotent_replay on each);
  // ids stored for only some of the streams are kAlreadyExists. Results in
  // the order of `writes`; positions are contiguous across them.
  absl::StatusOr<std::vector<AppendResult>> AppendAtomically(
      std::vector<StreamWrite> writes);

  // Replication (lib/log/replicator.h). Sets the replicator every later
  // group commit goes through first; null: none (the default). Not owned;
  // must outlive the log. Set it before the first append.
  void SetReplicator(LogReplicator* replicator) { replicator_ = replicator; }

  // Told of each stream's new events once a group is written, before any
  // appender of the group returns: one call per appended part (stream, its
  // events as stored: version, position and times set), in position order,
  // also for replicated appends; replays and failed parts are not told.
  // Runs on the committing thread while it holds the writer role: it must
  // be quick and must not append. Set it before the first append; null:
  // none (the default).
  using CommitListener = std::function<void(
      const std::string& stream, const std::vector<Envelope>& events)>;
  void SetCommitListener(CommitListener listener) {
    commit_listener_ = std::move(listener);
  }

  // A follower's write: `events` as a replicated log holds them (stream,
  // version, position, recorded_at and ids as their writer assigned them),
  // written unchanged and atomically. The first must sit at NextPosition()
  // and the rest follow densely, each at its stream's next version, with
  // ids not stored yet: kDataLoss naming the position and field otherwise
  // (the replicated log and this one disagree), kFailedPrecondition for a
  // log with a replicator (it writes, it does not follow) or a first
  // position past NextPosition() (a gap: fetch the missing events first).
  // An empty batch is OK.
  absl::Status AppendReplicated(std::vector<Envelope> events);

  // Up to `max_count` events of `stream` with version >= from_version, in
  // version order. An unknown stream gives an empty vector.
  absl::StatusOr<std::vector<Envelope>> ReadStream(absl::string_view stream,
                                                   int64_t from_version,
                                                   size_t max_count) const;

  // Up to `max_count` events with position >= from_position, in position
  // order ("$all").
  absl::StatusOr<std::vector<Envelope>> ReadAll(int64_t from_position,
                                                size_t max_count) const;
  // The same events decoded on `arena` (clears `out` first; the events live
  // as long as the arena): a reader of big batches frees them all at once
  // instead of field by field. On an error `out` holds the events before it.
  absl::Status ReadAll(int64_t from_position, size_t max_count,
                       google::protobuf::Arena* arena,
                       std::vector<const Envelope*>* out) const;

  // Version of the stream's last event, or -1 if the stream has none.
  absl::StatusOr<int64_t> StreamVersion(absl::string_view stream) const;

  // Whether any stream whose id starts with `prefix` has an event (one
  // seek; "" asks whether the log holds any stream at all).
  absl::StatusOr<bool> HasStreamWithPrefix(absl::string_view prefix) const;

  // Names of the streams whose id starts with `prefix`, sorted: one seek per
  // stream in the stream index (not a scan of the log). kDataLoss for an
  // index key that does not decode.
  absl::StatusOr<std::vector<std::string>> ListStreams(
      absl::string_view prefix) const;

  // Position the next appended event will get (= events in the log).
  int64_t NextPosition() const {
    return committed_next_.load(std::memory_order_acquire);
  }

  // Delivers every event from `from_position` (a checkpoint: the next
  // position to process) on a thread of its own: first the events already in
  // the log, then live appends as they commit, in position order with no gap
  // and no duplicate. Several subscriptions may run at once.
  // The handler must not call Stop() on its own subscription.
  std::unique_ptr<Subscription> Subscribe(int64_t from_position,
                                          EventHandler handler,
                                          size_t batch_size = 1024);

  // Writes the memtables of every column family (the log's and the
  // projections') to SST files, waits, and syncs the WAL. In kBulkImport mode
  // this is what makes the import durable. Appends and WriteDerived wait
  // while it runs: Debian's RocksDB 7.8 aborts the process (an assertion,
  // fixed upstream in 7.10.1) when a flush it was asked for and an automatic
  // flush of some of the same column families, set off by a write, carry
  // different reasons under atomic_flush (tests/log/flush_race_test).
  absl::Status Flush();

  LogStats Stats() const;

  const Options& options() const { return options_; }

  // Test hook: runs in the leader after it has taken its group and before
  // the RocksDB write. Set before any Append; not for production use.
  void SetBeforeGroupWriteHookForTest(std::function<void()> hook) {
    before_group_write_ = std::move(hook);
  }
  // Appends waiting in the writer queue (including the leader's).
  size_t QueuedWritersForTest();
  // The underlying database, for projections that keep their own column
  // families next to the log. Never null while the log is open. Write
  // through WriteDerived and flush through Flush(), never through db()
  // directly: see Flush.
  rocksdb::DB* db() const { return db_.get(); }

  // The event-id index's column family (for verification).
  rocksdb::ColumnFamilyHandle* ids_column_family() const { return ids_cf_; }

  // --- Column families beside the log (used by projections) ----------------
  // Names must not collide with the log's own ("default", "ids").

  // The handle of column family `name`, created empty if absent. Handles stay
  // valid until the log closes.
  absl::StatusOr<rocksdb::ColumnFamilyHandle*> GetOrCreateColumnFamily(
      const std::string& name);
  // Writes a batch of derived data (projections) with the log's durability
  // mode: WAL without fsync, or no WAL in kBulkImport. Derived data never
  // needs fsync: it is rebuilt from the log. Flushes of all column families
  // are atomic, so derived data never survives a crash that loses the log
  // events it was derived from.
  absl::Status WriteDerived(rocksdb::WriteBatch* batch);

  // Drops column family `name` (one beside the log) with everything in it
  // and creates it again, empty: a projection's reset that leaves nothing
  // (no range deletion) in the memtable for the rebuild's keys to land on,
  // so the rebuild's snapshot can be ingested (IngestDerived). Handles of
  // `name` obtained before are invalid afterwards. A crash in between leaves
  // the family absent or empty. kInvalidArgument for the log's own families.
  absl::StatusOr<rocksdb::ColumnFamilyHandle*> RecreateColumnFamily(
      const std::string& name);

  // Writes derived data as one SST file and ingests it into `cf`,
  // atomically: all of it or none. `fill` adds the keys, in key order,
  // through the writer it is given. For a family nothing was written to
  // since RecreateColumnFamily: an ingestion that would need a memtable
  // flush fails (kFailedPrecondition) instead of flushing (see Flush for
  // why flushes are gated). The file is built under the database's
  // directory ("ingest.tmp", emptied when the log opens) and moved in.
  // Derived data is rebuilt from the log, and a snapshot that outlives
  // the log events it was folded from (a lost suffix) lies past the log's
  // end, which the projection runner detects and drops.
  absl::Status IngestDerived(
      rocksdb::ColumnFamilyHandle* cf,
      const std::function<rocksdb::Status(rocksdb::SstFileWriter&)>& fill);

  // Blocks until NextPosition() > position, `stop` is set, or WakeWaiters()
  // is called. Returns false if `stop` was set.
  bool WaitForPosition(int64_t position, const std::atomic<bool>& stop);
  // Wakes every WaitForPosition so waiters can re-check their stop flags.
  void WakeWaiters();

 private:
  friend class LogSubscription;
  struct Part;
  struct Writer;
  struct GroupState;

  EventLog(const Options& options, std::unique_ptr<rocksdb::DB> db,
           std::vector<rocksdb::ColumnFamilyHandle*> handles,
           rocksdb::ColumnFamilyHandle* ids_cf, int64_t next_position);

  // Calls fn(position, envelope bytes) for up to `max_count` events from
  // `from_position` on, checking the positions are dense.
  absl::Status ScanAll(
      int64_t from_position, size_t max_count,
      const std::function<absl::Status(int64_t, absl::string_view)>& fn) const;
  // Checks `events` and readies them for `stream`; *encoded gets each one
  // serialized as it will be stored but for the fields the leader assigns
  // (lib/log/event_encoding.h).
  absl::Status ValidateEvents(absl::string_view stream,
                              std::vector<Envelope>& events, absl::Time now,
                              std::vector<std::string>* encoded) const;
  // Stream id, expected version and events of one stream's part.
  absl::Status ValidatePart(absl::string_view stream, ExpectedVersion expected,
                            std::vector<Envelope>& events,
                            std::vector<std::string>* encoded) const;
  // Queues `w`, and when it leads a group decides and writes the group;
  // returns once w's parts have their results.
  void Commit(Writer* w);
  // Leader only: decide one part against the committed state plus what
  // earlier writers of this group added; on success add its keys to `batch`.
  // `replicated`: the part's events come from a replicated log with their
  // positions, versions and times set; they are checked, not assigned.
  void Decide(Part* w, GroupState* group, rocksdb::WriteBatch* batch,
              bool replicated);
  // Leader only: the group's new events to the replicator (if any).
  absl::Status Replicate(const std::vector<Writer*>& group,
                         int64_t first_position);
  // Leader only: Decide every part of `w`, all or none.
  void DecideWriter(Writer* w, GroupState* group, rocksdb::WriteBatch* batch);
  // Leader only: the stream's current version (-1 if none), consulting the
  // group first, then the cache, then RocksDB.
  absl::StatusOr<int64_t> HeadForLeader(const std::string& stream,
                                        const GroupState& group);
  // Leader only: the results of an idempotency check of w's event ids.
  absl::Status CheckIds(Part* w, const GroupState& group, bool* all_stored,
                        AppendResult* original);

  void Unregister(LogSubscription* s);

  const Options options_;
  std::unique_ptr<rocksdb::DB> db_;
  std::mutex cf_mu_;
  // Every open column family, including default and ids. Guarded by cf_mu_
  // for changes; ids_cf_ and handles_[0] (default) never change.
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::ColumnFamilyHandle* ids_cf_;  // One of handles_.
  // Creates a family beside the log and adds it to handles_.
  // REQUIRES: cf_mu_ held.
  absl::StatusOr<rocksdb::ColumnFamilyHandle*> CreateDerivedFamilyLocked(
      const std::string& name);
  // Names IngestDerived's files apart.
  std::atomic<uint64_t> ingest_seq_{0};
  // Writes hold it shared, Flush exclusive: no write can set off an
  // automatic flush while a flush Slate asked for is under way (see Flush).
  std::shared_mutex flush_gate_;

  // Writer queue. The front writer is the leader.
  std::mutex queue_mu_;
  std::deque<Writer*> writers_;  // Guarded by queue_mu_.

  // Owned by whichever writer is leader (only one at a time).
  int64_t leader_next_position_;
  int64_t last_recorded_us_ = 0;  // recorded_at never goes backwards.
  // Stream heads kept after their group's write (cleared whole past it):
  // an append to a stream written lately skips the RocksDB read of its
  // head. 65,536 heads take about 7 MiB; 2^20 grew to about 150 MiB (a
  // table of 2^21 slots beside its predecessor while resizing, plus the
  // stream names) in a bulk load of 2.1 M incidents (bench/RESULTS.md,
  // 2 M finished + 100 k open).
  static constexpr size_t kMaxCachedHeads = 1 << 16;
  absl::flat_hash_map<std::string, int64_t> head_cache_;

  // Committed state, published after each successful group write.
  std::atomic<int64_t> committed_next_;
  std::mutex notify_mu_;
  std::condition_variable notify_cv_;

  std::mutex subs_mu_;
  std::vector<LogSubscription*> subscriptions_;  // Guarded by subs_mu_.

  std::function<void()> before_group_write_;
  LogReplicator* replicator_ = nullptr;
  CommitListener commit_listener_;
  // The first replication error; every later write fails with it. Leader
  // only (guarded by being the head of the writer queue).
  absl::Status replication_status_;

  std::atomic<int64_t> stat_appends_{0};
  std::atomic<int64_t> stat_events_{0};
  std::atomic<int64_t> stat_batches_{0};
  std::atomic<int64_t> stat_syncs_{0};
};

// The log's Subscription (lib/api/subscription.h). Destroying it stops it.
class LogSubscription final : public Subscription {
 public:
  ~LogSubscription() override;
  void Stop() override;
  int64_t next_position() const override {
    return next_.load(std::memory_order_acquire);
  }
  absl::Status status() const override;
  bool done() const override { return done_.load(std::memory_order_acquire); }

 private:
  friend class EventLog;
  LogSubscription(EventLog* log, int64_t from, EventHandler handler,
                  size_t batch_size);
  void Run();
  // Stops and joins the delivery thread; leaves registration alone.
  void StopThread();

  EventLog* log_;  // Null once stopped or once the log is closed.
  EventHandler handler_;
  size_t batch_size_;
  std::atomic<int64_t> next_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> done_{false};
  mutable std::mutex status_mu_;
  absl::Status status_;  // Guarded by status_mu_.
  std::thread thread_;
};

// Maps a RocksDB status to the absl::Status code that means the same thing.
absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what);

}  // namespace slate

#endif  // SLATE_LIB_LOG_EVENT_LOG_H_
