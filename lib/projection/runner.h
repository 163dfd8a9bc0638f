// ProjectionRunner: keeps projections folded up to the log, crash-safe.
//
//   std::vector<std::unique_ptr<slate::Projection>> ps;
//   ps.push_back(std::make_unique<MyProjection>());
//   auto runner = slate::ProjectionRunner::Open(log, std::move(ps), {});
//   (*runner)->CatchUp();                      // fold everything so far
//   (*runner)->StartFollowing();               // or: fold after each append
//   (*runner)->WaitFor(position, absl::Seconds(5));
//
// Each projection's data and checkpoint (the next position to fold) are
// written in one WriteBatch, so they never disagree. On open, a projection
// whose stored version differs from its code, or whose checkpoint lies past
// the end of the log, is dropped and rebuilt from position 0. Rebuild() gives
// byte-identical state to the incremental fold.
#ifndef SLATE_LIB_PROJECTION_RUNNER_H_
#define SLATE_LIB_PROJECTION_RUNNER_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
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
  // Events read from the log and folded at a time. A projection writes
  // back what it keeps decoded (Projection::Flush) after every batch, so a
  // record that events of many batches touch (a live service's log
  // interleaves thousands of open records) is re-encoded once per batch:
  // bigger batches re-encode less, and keep more decoded between flushes.
  // Default: 16384 (a rebuild of the interleaved fold bench ran 10-30 %
  // faster than with 4096; the 1 M-incident memory peak went from 812 MiB
  // to 826-855 MiB, bench/RESULTS.md).
  size_t batch_events = 16384;
  // A fold commits (each projection's state + checkpoint in one WriteBatch)
  // when it reaches its target position, or earlier once this many bytes of
  // state changes are pending, so a catch-up writes a key overwritten by
  // many events once per commit, not once per event. Default: 32 MiB.
  size_t commit_bytes = size_t{32} << 20;
  // Per projection: bytes of state kept in memory between batches (values
  // read or written by the fold), so hot keys are neither re-read from
  // RocksDB nor re-written per event. Over the budget the cache is dropped
  // after a commit and refills from RocksDB. 0 keeps nothing between
  // batches. Default: 64 MiB.
  size_t cache_bytes = size_t{64} << 20;
  // Threads that fold one batch into different projections at once (each
  // projection folds on one thread at a time). 0: one per projection, at
  // most std::thread::hardware_concurrency(). Default: 0.
  size_t fold_threads = 0;
  // A batch of fewer events folds on the calling thread (starting threads
  // would cost more than it saves, e.g. for the one-append batches of
  // ProjectionMode::kSync). Default: 256.
  size_t parallel_min_events = 256;
  // A commit of fewer changed keys (all projections together) writes every
  // projection in one WriteBatch on the calling thread; a bigger one (a
  // rebuild's, a long catch-up's) sorts, builds and writes each
  // projection's batch on a fold thread of its own. A live follower's
  // commits stay below it: their concurrent writes would contend with the
  // appends. Default: 65536.
  size_t parallel_commit_min_keys = 65536;
  // While following (StartFollowing): when fewer than follow_min_events
  // events are new, the follower waits up to follow_linger for more before
  // folding, so a busy writer's appends fold in a few larger batches, each
  // with one commit, instead of a commit per handful of events (every
  // commit rewrites the hot keys: KPI cells, SLA records). A WaitFor ends
  // the wait at once; only readers that do not wait may see state up to
  // follow_linger older. The wait does not end early when more events
  // arrive (appends would wake it each time). A zero linger folds each
  // append as it lands.
  // Defaults: 4096 events, 3 ms.
  size_t follow_min_events = 4096;
  absl::Duration follow_linger = absl::Milliseconds(3);
  // Test hook: runs after a batch is built and before it is written.
  std::function<void()> before_commit_for_test;
  // Test hook: asked before a projection's state is written; an error
  // fails that write as a RocksDB error would (in a one-batch commit, the
  // whole batch). May run on fold threads.
  std::function<absl::Status(absl::string_view projection)>
      write_fault_for_test;
};

class ProjectionRunner {
 public:
  // REQUIRES: `log` outlives the runner.
  static absl::StatusOr<std::unique_ptr<ProjectionRunner>> Open(
      EventLog* log, std::vector<std::unique_ptr<Projection>> projections,
      RunnerOptions options);
  ~ProjectionRunner();  // Stops following.

  // Folds every projection up to the log's current end.
  absl::Status CatchUp();
  // Folds until every checkpoint is >= position (or the log's end).
  absl::Status FoldTo(int64_t position);

  // Folds on a background thread as events are appended.
  void StartFollowing();
  void StopFollowing();
  // Waits until every checkpoint is >= position. kDeadlineExceeded on
  // timeout; the follower's error if it stopped on one.
  absl::Status WaitFor(int64_t position, absl::Duration timeout);

  // Drops a projection's state and folds it again from position 0.
  absl::Status Rebuild(absl::string_view name);
  // Drops every projection's state and folds them all again from position
  // 0, reading the log once.
  absl::Status RebuildAll();

  // Next position the projection will fold.
  absl::StatusOr<int64_t> Checkpoint(absl::string_view name) const;
  // Every key/value of the projection's column family (metadata included),
  // in key order: for byte comparisons and `slate verify`.
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> Dump(
      absl::string_view name) const;
  // Reads one key of a projection's state (for queries).
  absl::StatusOr<std::optional<std::string>> Get(absl::string_view name,
                                                 absl::string_view key) const;
  // Scans keys with `prefix` of a projection's committed state.
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
    int64_t checkpoint = 0;             // Guarded by fold_mu_ (writes).
    std::unique_ptr<StateCache> cache;  // Guarded by fold_mu_.
  };
  ProjectionRunner(EventLog* log, RunnerOptions options);
  absl::Status Load(Slot& slot);
  absl::Status Reset(Slot& slot);
  // Drops what the slot holds in memory but has not committed (its state
  // cache and the projection's deferred state).
  void Forget(Slot& slot);
  // After Reset of one or more slots: folds them from position 0.
  absl::Status FoldAfterResetLocked();
  absl::Status FoldLocked(int64_t position);
  // Calls share(t) for t in [0, threads) on threads of the pool (t = 0 on
  // the caller). REQUIRES: fold_mu_ held; threads <= fold_threads_.
  void RunShares(size_t threads, const std::function<void(size_t)>& share);
  const Slot* Find(absl::string_view name) const;
  // The slot of `name`, or kNotFound naming it.
  absl::StatusOr<Slot*> SlotNamed(absl::string_view name);
  absl::StatusOr<const Slot*> SlotNamed(absl::string_view name) const;
  void FollowLoop();
  // Ends the follower's current linger, if any.
  void CutLinger();
  // WaitFor without ending the follower's linger.
  absl::Status AwaitCheckpoint(int64_t position, absl::Duration timeout);

  EventLog* const log_;
  const RunnerOptions options_;
  const size_t fold_threads_;  // Resolved options_.fold_threads, >= 1.
  std::vector<Slot> slots_;
  // Helper threads of parallel folds and commits, started by the first
  // one. Used under fold_mu_.
  std::unique_ptr<FoldPool> pool_;

  std::mutex fold_mu_;  // Serialises folds, rebuilds and slot changes.
  std::atomic<int64_t> min_checkpoint_{0};

  std::mutex wait_mu_;
  std::condition_variable wait_cv_;
  absl::Status follow_error_;  // Guarded by wait_mu_.

  std::atomic<bool> stop_{false};
  // The follower's linger (RunnerOptions::follow_linger) waits on
  // linger_cv_ until cut_linger_ (set by WaitFor and StopFollowing) or its
  // deadline; appends do not wake it. waiters_ counts WaitFor calls that
  // wait.
  std::mutex linger_mu_;
  std::condition_variable linger_cv_;
  bool cut_linger_ = false;  // Guarded by linger_mu_.
  std::atomic<int> waiters_{0};
  std::thread follower_;
};

// Column family of a projection.
std::string ProjectionColumnFamily(absl::string_view name);

}  // namespace slate

#endif  // SLATE_LIB_PROJECTION_RUNNER_H_
