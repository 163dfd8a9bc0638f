// DeadlineIndex: the deadline index over running SLA clocks. Answers "when is
// the next deadline", "what is due now" and "what falls due within a horizon".
// Pure logic: no I/O, no clock reads (the caller passes every "now"), no
// callbacks except the AtRisk filter.
//
//   slate::DeadlineIndex index;
//   // The caller maps (record, policy, cycle) to a 64-bit clock handle.
//   absl::Status s = index.Schedule(/*key=*/42, t0 + absl::Hours(4));
//   s = index.Schedule(/*key=*/7, t0 + absl::Hours(1));
//   index.Schedule(42, t0 + absl::Hours(2));  // re-scheduling moves key 42
//   std::optional<absl::Time> next = index.NextDue();  // t0 + 1h
//   std::vector<slate::DueEntry> due = index.PopDue(t0 + absl::Hours(3));
//   // due == {{7, t0+1h}, {42, t0+2h}}; both are gone from the index.
//   index.Cancel(42);  // false: no longer scheduled
//
// Keys. A key is an opaque 64-bit handle chosen by the caller (for example a
// dense id the SLA projection assigns to each (record, policy, cycle), or a
// fingerprint of it). A key is scheduled at most once: Schedule on a key that
// is already scheduled moves it. Equal due instants are ordered by key, so
// choose keys whose order is reproducible (for instance ids assigned in log
// order) when events are emitted in PopDue order.
//
// Semantics (the contract the tests check against a std::set oracle):
//  - Instants. A due instant must be finite, a whole number of microseconds
//    and representable as int64 microseconds since the Unix epoch (about
//    +-292,000 years around 1970); anything else is kInvalidArgument and the
//    index is unchanged. "now" may be any absl::Time, including the infinite
//    ones; it is compared exactly (a due instant d is due at now iff
//    d <= now).
//  - Never early, never late: PopDue(now) returns exactly the scheduled
//    entries with due <= now, nothing else, whatever happened before.
//  - Time going backwards is not an error. PopDue(now) with a "now" earlier
//    than a previous call returns only entries scheduled since then whose due
//    is <= now (everything else that old was popped already).
//  - Order. PopDue and AtRisk return entries sorted by (due, key).
//  - Nothing here calls back into user code except the AtRisk filter, which
//    runs while the index is unchanged and consistent; it must not modify the
//    index.
//
// Structure and cost (n = entries; measured in bench/RESULTS.md, "Deadline index"). A
// hierarchical timing wheel over 64-bit microsecond instants: 11 levels of
// 64 slots (6 bits per level), slot lists are intrusive doubly linked lists
// of 24-byte nodes in one vector, a key -> node hash map, and a sorted side
// set for entries scheduled before the wheel's reference instant (see
// deadline_index.cc). Schedule, Cancel: O(1) expected (O(log e) for an
// entry due before the reference instant, e = such entries: NextDue moves
// that reference up to the earliest deadline, so a schedule earlier than
// every existing deadline takes this path until the next PopDue). PopDue: O(k
// log k) for k popped plus O(11 * 64) slot scans, plus cascading, which moves
// each entry at most 10 times over its life. NextDue: amortized O(1).
// AtRisk: O(m log m), m = entries in the wheel slots overlapping the horizon,
// stopping at the first slot that completes top_n. Memory: about 57 bytes per
// entry at 3M entries (24-byte node plus hash map slot, with growth slack).
//
// Thread safety: none. One owner (the SLA projection) uses it from one thread;
// const methods may run concurrently with each other only.
#ifndef SLATE_LIB_TIMER_DEADLINE_INDEX_H_
#define SLATE_LIB_TIMER_DEADLINE_INDEX_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/time/time.h"

namespace slate {

// One scheduled deadline: the caller's clock handle and its due instant.
struct DueEntry {
  uint64_t key = 0;
  absl::Time due;

  friend bool operator==(const DueEntry& a, const DueEntry& b) {
    return a.key == b.key && a.due == b.due;
  }
  friend bool operator!=(const DueEntry& a, const DueEntry& b) {
    return !(a == b);
  }
};

struct DeadlineIndexOptions {
  // Entries scheduled before the wheel's reference instant go to a sorted
  // side set. Once it holds more than this many entries and more than half
  // of all entries, everything is re-placed relative to the earliest due
  // instant (O(n), amortized O(1) per schedule). Small values are for tests
  // that want the wheel exercised. Default: 1024.
  size_t rebase_min_side = 1024;
};

class DeadlineIndex {
 public:
  // AtRisk's top_n for "no limit".
  static constexpr size_t kNoLimit = std::numeric_limits<size_t>::max();

  DeadlineIndex() : DeadlineIndex(DeadlineIndexOptions()) {}
  explicit DeadlineIndex(const DeadlineIndexOptions& options);
  DeadlineIndex(const DeadlineIndex&) = default;
  DeadlineIndex& operator=(const DeadlineIndex&) = default;
  // A moved-from index is empty and usable.
  DeadlineIndex(DeadlineIndex&& other) noexcept;
  DeadlineIndex& operator=(DeadlineIndex&& other) noexcept;

  // OK iff `due` can be scheduled: finite, whole microseconds, within int64
  // microseconds of the Unix epoch. Otherwise kInvalidArgument naming `key`.
  static absl::Status ValidateDue(uint64_t key, absl::Time due);

  // Schedules `key` at `due`; if `key` is already scheduled it moves to
  // `due` (same due: no change). kInvalidArgument (index unchanged) if
  // ValidateDue fails. A due instant in the past is allowed: the next PopDue
  // with now >= due returns it.
  absl::Status Schedule(uint64_t key, absl::Time due);

  // Removes `key`. Returns false (and changes nothing) if it was not
  // scheduled.
  bool Cancel(uint64_t key);

  // The due instant of `key`, or nullopt if it is not scheduled.
  std::optional<absl::Time> DueOf(uint64_t key) const;
  bool Contains(uint64_t key) const { return keys_.contains(key); }

  // The earliest due instant, or nullopt if the index is empty. Not const:
  // may cascade wheel slots (internal reorganization only; the set of
  // entries and every answer are unchanged). Amortized O(1).
  std::optional<absl::Time> NextDue();

  // Removes every entry with due <= now and appends them to *out in (due,
  // key) order; returns how many were appended. REQUIRES: out != nullptr.
  size_t PopDue(absl::Time now, std::vector<DueEntry>* out);
  // Same, returning a fresh vector.
  std::vector<DueEntry> PopDue(absl::Time now);

  // The entries with due <= now + within (the sum saturates to the infinite
  // instants), in (due, key) order, at most top_n of them (kNoLimit: all).
  // With `filter`, only entries for which filter(entry) is true are returned
  // and counted towards top_n; the filter is called in (due, key) order and
  // not after top_n entries were accepted. REQUIRES: the filter does not
  // modify this index. Nothing is removed.
  std::vector<DueEntry> AtRisk(
      absl::Time now, absl::Duration within, size_t top_n,
      absl::FunctionRef<bool(const DueEntry&)> filter) const;
  std::vector<DueEntry> AtRisk(absl::Time now, absl::Duration within,
                               size_t top_n) const;

  // Number of scheduled entries.
  size_t Size() const { return keys_.size(); }
  bool Empty() const { return keys_.empty(); }

  // Removes everything (keeps allocated capacity).
  void Clear();
  // Pre-allocates room for n entries.
  void Reserve(size_t n);

  // Bytes held by the index's own allocations (node vector, hash map, slot
  // arrays; the side set estimated), for memory reporting.
  size_t MemoryBytes() const;

  // Verifies every internal invariant in O(n + 704): placement of each node
  // in its level and slot, list links, occupancy bitmaps, the key map, the
  // side set and the free list. kInternal describing the first violation.
  absl::Status CheckInvariants() const;

 private:
  // Internal time: int64 Unix microseconds with the sign bit flipped, so the
  // unsigned order is the time order over the whole int64 range.
  using Tick = uint64_t;

  static constexpr int kBitsPerLevel = 6;
  static constexpr int kSlots = 1 << kBitsPerLevel;  // 64
  static constexpr int kLevels = 11;                 // ceil(64 / 6)
  static constexpr uint32_t kNil = std::numeric_limits<uint32_t>::max();
  // Node::prev markers for nodes that are not in a wheel slot list.
  static constexpr uint32_t kInSideSet = kNil - 1;
  static constexpr uint32_t kFree = kNil - 2;

  struct Node {
    Tick due;
    uint64_t key;
    uint32_t next;  // Next node in the slot list, or next free node.
    uint32_t prev;  // Previous node in the slot list, kNil for the head;
                    // kInSideSet / kFree markers otherwise.
  };

  static Tick ToTick(absl::Time t);  // REQUIRES: ValidateDue(t) ok.
  static absl::Time FromTick(Tick t);
  // Level of a due tick relative to reference `ref`: the level holding the
  // highest bit in which they differ (0 if equal). REQUIRES: due >= ref.
  static int LevelFor(Tick due, Tick ref);
  static int DigitAt(Tick t, int level) {
    return static_cast<int>((t >> (kBitsPerLevel * level)) & (kSlots - 1));
  }
  // The first tick of slot `slot` at `level` relative to cur_.
  Tick SlotStart(int level, int slot) const;

  uint32_t AllocNode();
  void FreeNode(uint32_t n);
  // Puts node n (with due set) in the wheel or the side set.
  void Place(uint32_t n);
  // Takes node n out of the wheel or the side set (it stays allocated).
  void Unplace(uint32_t n);
  void LinkIntoWheel(uint32_t n);
  // Moves cur_ forward to `target` (> cur_): every wheel node with due <
  // target is unlinked and appended to *expired; the others are re-placed.
  void Advance(Tick target, std::vector<uint32_t>* expired);
  // Re-places everything relative to the earliest due instant (empties the
  // side set). Called when the side set outgrows the wheel.
  void Rebase();

  DeadlineIndexOptions options_;
  // Every wheel node has due >= cur_; every side-set node has due < cur_.
  Tick cur_ = 0;
  std::vector<Node> nodes_;
  uint32_t free_head_ = kNil;
  std::array<std::array<uint32_t, kSlots>, kLevels> heads_;
  std::array<uint64_t, kLevels> occupied_{};      // bit s: heads_[l][s] != kNil
  absl::flat_hash_map<uint64_t, uint32_t> keys_;  // key -> node
  absl::btree_set<std::pair<Tick, uint64_t>> side_;  // (due, key), due < cur_
  // Scratch for PopDue (kept to avoid reallocation).
  std::vector<uint32_t> expired_scratch_;
};

}  // namespace slate

#endif  // SLATE_LIB_TIMER_DEADLINE_INDEX_H_
