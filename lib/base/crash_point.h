// Crash points: named places in the append and fold paths that a test can
// turn into a process abort, to check what a crash at exactly that moment
// leaves on disk (tests/crash/crash_points_test.cc).
//
//   // In library code (costs one relaxed atomic load when nothing is armed):
//   SLATE_CRASH_POINT("log.after_wal_write");
//
//   // In a test process: abort on the 3rd hit from now on.
//   absl::Status armed = slate::crash_point::Arm("log.after_wal_write", 3);
//
//   // Or arm a child process through its environment (read once, at start):
//   //   SLATE_CRASH_POINT=log.after_wal_write:3 ./child ...
//   //   SLATE_CRASH_POINT=runner.mid_rebuild        (N defaults to 1)
//   //   SLATE_CRASH_POINT=import.mid_batch:2,log.after_wal_write:9
//
// An armed point counts its hits (from the moment it was armed, across all
// threads) and on the Nth one writes "slate: crash point <name>: abort at hit
// <N>" to stderr and calls std::abort(): no destructor, atexit handler or
// buffered write runs, as in a crash. Points not armed are not counted.
//
// Every point is named in kCrashPoints below; SLATE_CRASH_POINT with another
// name does not compile, and arming another name is kInvalidArgument (from
// the environment: a message on stderr and exit status 2 at start-up, so a
// misspelt name in a test can never silently arm nothing).
#ifndef SLATE_LIB_BASE_CRASH_POINT_H_
#define SLATE_LIB_BASE_CRASH_POINT_H_

#include <atomic>
#include <cstdint>
#include <string_view>

#include "absl/base/optimization.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace slate::crash_point {

// Every crash point, with where it sits and what a crash there leaves on
// disk. "Acknowledged" means the call returned OK to its caller.
inline constexpr std::string_view kCrashPoints[] = {
    // lib/log/event_log.cc, EventLog::Append (the group leader): the group's
    // RocksDB write returned OK (WAL written; fsynced in kPowerLoss), but
    // NextPosition() is not advanced and no appender of the group has been
    // answered. On disk: every event of the group, complete (a WriteBatch is
    // atomic); none acknowledged; projections have not folded them.
    "log.after_wal_write",
    // lib/api/engine.cc, Engine::AfterAppend in ProjectionMode::kSync: the
    // append is in the log and durable, the projections have not folded it,
    // and Engine::Append has not returned. On disk: the log holds the events;
    // every projection's checkpoint is below the log's end. Reopening folds
    // them (Engine::Open catches up in kSync).
    "engine.between_log_and_projections",
    // lib/projection/runner.cc, ProjectionRunner::SnapshotLocked: a
    // snapshot's batches are built and none is written yet (snapshots are
    // taken every RunnerOptions::snapshot_events, past snapshot_bytes, on
    // Snapshot(), after a rebuild and as the runner closes). On disk:
    // projections exactly as after the previous snapshot.
    "runner.before_batch_commit",
    // lib/projection/runner.cc, ProjectionRunner::SnapshotLocked: the
    // snapshot is written (every batch of it). On disk: projections up to
    // the new snapshot positions, consistent with them. (A crash between
    // its batches: runner.between_projection_commits.)
    "runner.after_batch_commit",
    // lib/projection/runner.cc, ProjectionRunner::SnapshotLocked: one
    // projection's batch is written and another's is still to write. On
    // disk: the projections written at the new position, the others at
    // their previous snapshot, each consistent with its own position;
    // reopening folds the ones behind.
    "runner.between_projection_commits",
    // lib/log/event_log.cc, EventLog::IngestDerived: a snapshot's SST file
    // is written and synced under ingest.tmp, not ingested yet (a rebuild's
    // big first snapshot into its recreated family). On disk: that
    // projection's family empty, as Reset left it; the file, which the
    // next open removes.
    "log.mid_ingest",
    // lib/projection/runner.cc, ProjectionRunner::Rebuild: Reset recreated
    // the projection's family, empty; the refold has not begun.
    // On disk: that projection empty at checkpoint 0, the others untouched.
    // (A crash inside the refold: arm runner.*_batch_commit during Rebuild.)
    "runner.mid_rebuild",
    // lib/import/servicenow_import.cc, AppendMissing: one Append of a
    // record's events succeeded and more of that record's events remain
    // (a record split over several appends by max_events_per_append). On
    // disk: that stream holds a prefix of what the import produces for it.
    "import.mid_batch",
    // lib/import/servicenow_import.cc, AppendMissing: all of one record's
    // (incident, problem or change) missing events are appended, before the
    // next record. On disk: complete records only, in import order.
    "import.after_batch",
};

// True if `name` is one of kCrashPoints. Usable at compile time.
constexpr bool IsKnown(std::string_view name) {
  for (std::string_view known : kCrashPoints) {
    if (known == name) return true;
  }
  return false;
}

// Aborts the process on the `hit`th hit of `name` from now on (1: the next
// one). Re-arming a point restarts its count. kInvalidArgument for an
// unknown name or hit < 1 (nothing is armed then). Thread-safe.
absl::Status Arm(absl::string_view name, int64_t hit = 1);

// Arms from a spec as in SLATE_CRASH_POINT: "name[:N][,name[:N]...]", N >= 1
// (default 1). All or nothing: kInvalidArgument naming the bad entry, and
// nothing armed, if any entry is malformed or unknown.
absl::Status ArmFromSpec(absl::string_view spec);

// Disarms one point (kInvalidArgument if unknown), or all of them.
absl::Status Disarm(absl::string_view name);
void DisarmAll();

// Hits an armed point still needs before it aborts; 0 when not armed.
// kInvalidArgument for an unknown name.
absl::StatusOr<int64_t> Remaining(absl::string_view name);

namespace internal {
// Non-zero while any point is armed or the environment is not read yet.
extern std::atomic<int> g_active;
// The slow path: reads the environment once, counts, aborts on the Nth hit.
void Hit(std::string_view name);
}  // namespace internal

}  // namespace slate::crash_point

// Marks a crash point. `name` must be a string literal listed in
// slate::crash_point::kCrashPoints.
#define SLATE_CRASH_POINT(name)                                           \
  do {                                                                    \
    static_assert(::slate::crash_point::IsKnown(name),                    \
                  "unknown crash point " name                             \
                  ": add it to kCrashPoints in lib/base/crash_point.h");  \
    if (ABSL_PREDICT_FALSE(::slate::crash_point::internal::g_active.load( \
                               std::memory_order_relaxed) != 0)) {        \
      ::slate::crash_point::internal::Hit(name);                          \
    }                                                                     \
  } while (0)

#endif  // SLATE_LIB_BASE_CRASH_POINT_H_
