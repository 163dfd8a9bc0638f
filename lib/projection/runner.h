// ProjectionRunner: keeps projections folded up to the log, in memory, with
// snapshot checkpoints in RocksDB.
//
//   std::vector<std::unique_ptr<slate::Projection>> ps;
//   ps.push_back(std::make_unique<MyProjection>());
//   auto runner = slate::ProjectionRunner::Open(log, std::move(ps), {});
//   (*runner)->CatchUp();                      // fold everything so far
//   (*runner)->StartFollowing();               // or: fold after each append
//   (*runner)->WaitFor(position, absl::Seconds(5));
//   (*runner)->Snapshot();                     // also done now and then, and
//                                              // when the runner closes
//
// The design (issue 18). The log is the only truth; a projection's working
// state lives in memory: the typed records a projection keeps decoded
// between events (Projection::Flush writes them out only when asked), over
// a write-behind map of its serialized keys, over its last snapshot in its
// column family "p.<name>". A fold never writes RocksDB and never
// serializes per event. A snapshot writes every key changed since the last
// one together with the position folded up to, in one WriteBatch per
// projection, so a crash at any instant leaves the previous snapshot
// usable: a snapshot is a cache of the log at its position. A reset (a
// rebuild) recreates the family empty, and the rebuild's snapshots, when
// big, are SST files ingested into it instead of memtable inserts.
// A snapshot is taken every RunnerOptions::snapshot_events events, when
// the changed keys held in memory pass snapshot_bytes (keys read back leave
// memory first, and all of them after the snapshot: they are read back
// from RocksDB when needed),
// at the end of a fold
// once snapshot_interval has passed since the last one, on Snapshot(), and
// when the runner is destroyed. Opening loads the snapshot's position and
// folds the log's tail. A projection whose stored version or state format
// differs from its code, or whose snapshot lies past the end of the log, is
// dropped and rebuilt from position 0 (RunnerOptions::notice says so).
// Queries (Get, Scan, Dump) see everything folded so far: the projection
// writes its decoded records into the map first. A rebuild reads and
// decodes the log on one thread while the projections fold on others, and
// gives byte-identical snapshots to the incremental fold.
#ifndef SLATE_LIB_PROJECTION_RUNNER_H_
#define SLATE_LIB_PROJECTION_RUNNER_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "lib/log/event_log.h"
#include "lib/projection/projection.h"
#include "rocksdb/db.h"

namespace slate {

struct RunnerOptions {
  // Events read from the log and decoded at a time; the next batch is read
  // on another thread while this one folds. Default: 16384.
  size_t batch_events = 16384;
  // A snapshot is written once this many events were folded since the last
  // one, so a restart after a crash refolds at most this many. Default:
  // 1,048,576 (about 8 s of refolding at the 0.13 M events/s a full
  // rebuild measured, bench/RESULTS.md).
  int64_t snapshot_events = int64_t{1} << 20;
  // Per projection: heap bytes of the serialized keys held in memory
  // (changed since the last snapshot, or read back by the fold), entries'
  // own overhead included. Past it the keys read back leave memory first;
  // if the changed ones alone pass it, a snapshot is written and they
  // leave too, so memory stays bounded however much is folded. Default:
  // 16 MiB (64 MiB held 900 MiB at the peak of 2 M finished + 100 k open
  // incidents: bench/RESULTS.md).
  size_t snapshot_bytes = size_t{16} << 20;
  // At the end of a fold, a snapshot is written if the last one is older
  // than this (wall time). Default: 30 s (chosen, not measured: a live
  // engine's snapshot then writes at most 30 s of changes).
  absl::Duration snapshot_interval = absl::Seconds(30);
  // Threads that fold one batch into different projections at once (each
  // projection folds on one thread at a time). 0: one per projection, at
  // most std::thread::hardware_concurrency(). Default: 0.
  size_t fold_threads = 0;
  // Told when a stored projection is dropped to be rebuilt: its name and
  // why (a phrase, e.g. "stored state has format \"x\", not \"y\"").
  // Default: null (nothing said).
  std::function<void(absl::string_view projection, absl::string_view why)>
      notice;
  // Test hook: runs after a snapshot's batches are built, before any is
  // written.
  std::function<void()> before_commit_for_test;
  // Test hook: asked before a projection's snapshot is written; an error
  // fails that write as a RocksDB error would. May run on fold threads.
  std::function<absl::Status(absl::string_view projection)>
      write_fault_for_test;
  // Test hook: the changed keys from which a snapshot after a reset (until
  // one goes through the memtable) is ingested as an SST file. 0: the
  // built-in 4,096.
  size_t ingest_min_keys_for_test = 0;
};

class ProjectionRunner {
 public:
  // REQUIRES: `log` outlives the runner.
  static absl::StatusOr<std::unique_ptr<ProjectionRunner>> Open(
      EventLog* log, std::vector<std::unique_ptr<Projection>> projections,
      RunnerOptions options);
  // Stops following and writes a last snapshot (its error, if any, is
  // dropped: the log still holds everything).
  ~ProjectionRunner();

  // Folds every projection up to the log's current end.
  absl::Status CatchUp();
  // Folds until every projection has folded position - 1 (or the log's end).
  absl::Status FoldTo(int64_t position);

  // Hands the runner events just appended to the log, as stored (positions
  // set), in position order, so the next fold takes them from memory
  // instead of reading them back. Events that do not follow the last ones
  // offered replace them; at most RunnerOptions::batch_events are held (the
  // oldest are dropped). A fold reads from the log whatever it was not
  // offered. Thread-safe (called by the log's committing thread).
  void Offer(const std::vector<Envelope>& events);

  // Folds on a background thread as events are appended.
  void StartFollowing();
  void StopFollowing();
  // Waits until every projection has folded position - 1.
  // kDeadlineExceeded on timeout; the follower's error if it stopped on one.
  absl::Status WaitFor(int64_t position, absl::Duration timeout);

  // Writes a snapshot of every projection that folded events since its
  // last one (see the banner).
  absl::Status Snapshot();

  // Drops a projection's state and folds it again from position 0.
  absl::Status Rebuild(absl::string_view name);
  // Drops every projection's state and folds them all again from position
  // 0, reading the log once, then writes their snapshots.
  absl::Status RebuildAll();

  // Next position the projection will fold (what it has folded in memory).
  absl::StatusOr<int64_t> Checkpoint(absl::string_view name) const;
  // Position of the projection's last snapshot (what a restart loads).
  absl::StatusOr<int64_t> SnapshotPosition(absl::string_view name) const;
  // When (absl::Now()) this runner wrote the projection's last snapshot, or
  // loaded it while opening (a snapshot of an earlier process counts from
  // then), or reset it for a rebuild.
  absl::StatusOr<absl::Time> SnapshotTime(absl::string_view name) const;
  // Writes the projection's snapshot, then returns every key/value of its
  // column family (metadata included), in key order: for byte comparisons
  // and `slate verify`.
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> Dump(
      absl::string_view name) const;
  // Reads one key of a projection's state (for queries): everything folded
  // so far.
  absl::StatusOr<std::optional<std::string>> Get(absl::string_view name,
                                                 absl::string_view key) const;
  // Scans keys with `prefix` of a projection's state, in key order. `fn`
  // may call Get or Scan again (the runner's lock is re-entrant) but must
  // not fold.
  absl::Status Scan(absl::string_view name, absl::string_view prefix,
                    const std::function<bool(absl::string_view,
                                             absl::string_view)>& fn) const;

  std::vector<std::string> Names() const;

  struct StateCache;  // Internal (runner.cc).
  class FoldPool;     // Internal (runner.cc).

 private:
  struct Slot {
    Slot();
    Slot(Slot&&) noexcept;
    ~Slot();
    std::unique_ptr<Projection> projection;
    rocksdb::ColumnFamilyHandle* cf = nullptr;
    int64_t folded = 0;      // Next position to fold. Guarded by fold_mu_.
    int64_t checkpoint = 0;  // Of the last snapshot. Guarded by fold_mu_.
    absl::Time checkpoint_at;  // See SnapshotTime. Guarded by fold_mu_.
    // The projection holds decoded state not written to `cache` yet.
    bool unflushed = false;  // Guarded by fold_mu_.
    // Reset recreated the column family and nothing was written to it
    // since: the next snapshot writes the runner's metadata keys too, and
    // a big one is ingested as an SST file. Guarded by fold_mu_.
    bool fresh = false;
    // Nothing went through the column family's memtable since Reset
    // recreated it: a big snapshot is then ingested as an SST file (its
    // deletions in it too), which cannot overlap the memtable. Every
    // snapshot of a rebuild big enough, not only its first. Guarded by
    // fold_mu_.
    bool memtable_empty = false;
    std::unique_ptr<StateCache> cache;  // Guarded by fold_mu_.
  };
  ProjectionRunner(EventLog* log, RunnerOptions options);
  absl::Status Load(Slot& slot);
  absl::Status Reset(Slot& slot);
  // Drops what the slot holds in memory beyond its snapshot (its state
  // cache and the projection's decoded state): it folds again from there.
  void Forget(Slot& slot);
  // Writes the slot's changed keys and its position (its snapshot).
  // REQUIRES: fold_mu_ held, the projection flushed.
  absl::Status WriteSnapshot(Slot& slot) const;
  // Writes what the projection keeps decoded into the slot's cache.
  absl::Status FlushProjection(Slot& slot) const;
  // Writes the snapshots of the slots that folded past them.
  // REQUIRES: fold_mu_ held.
  absl::Status SnapshotLocked();
  // After Reset of one or more slots: folds them from position 0.
  absl::Status FoldAfterResetLocked();
  absl::Status FoldLocked(int64_t position);
  // Publishes the minimum folded position to WaitFor.
  void PublishFolded();
  // Calls share(t) for t in [0, threads) on threads of the pool (t = 0 on
  // the caller). REQUIRES: fold_mu_ held; threads <= fold_threads_.
  void RunShares(size_t threads, const std::function<void(size_t)>& share);
  const Slot* Find(absl::string_view name) const;
  // The slot of `name`, or kNotFound naming it.
  absl::StatusOr<Slot*> SlotNamed(absl::string_view name) const;
  void FollowLoop();
  // Removes and returns the offered events from position `from` on (at
  // most *want); empty when `from` was not offered, and then *want is cut
  // to end where the offered events begin.
  std::vector<Envelope> TakeOffered(int64_t from, size_t* want);

  EventLog* const log_;
  const RunnerOptions options_;
  const size_t fold_threads_;  // Resolved options_.fold_threads, >= 1.
  // Mutable: queries (const) write a projection's decoded state into its
  // cache before they read.
  mutable std::vector<Slot> slots_;
  // Helper threads of parallel folds and snapshots, started by the first
  // one. Used under fold_mu_.
  std::unique_ptr<FoldPool> pool_;

  // Serialises folds, snapshots, rebuilds and reads of the state.
  // Recursive: a query's Scan callback may read again.
  mutable std::recursive_mutex fold_mu_;
  int64_t events_since_snapshot_ = 0;  // Guarded by fold_mu_.
  absl::Time last_snapshot_;           // Guarded by fold_mu_.
  std::atomic<int64_t> min_folded_{0};

  // Offer()ed events not folded yet, positions dense.
  std::mutex offer_mu_;
  std::deque<Envelope> offered_;  // Guarded by offer_mu_.

  std::mutex wait_mu_;
  std::condition_variable wait_cv_;
  absl::Status follow_error_;  // Guarded by wait_mu_.

  std::atomic<bool> stop_{false};
  std::thread follower_;
};

// Column family of a projection.
std::string ProjectionColumnFamily(absl::string_view name);

}  // namespace slate

#endif  // SLATE_LIB_PROJECTION_RUNNER_H_
