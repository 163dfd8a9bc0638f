// DeadlineIndex: the deadline index over running SLA clocks. Answers "when is
// the next deadline", "what is due now" and "what falls due within a horizon".
// Pure logic: no I/O, no clock reads (the caller passes every "now"), no
// callbacks except the AtRisk filter.
//
//   slate::DeadlineIndex index;
//   // key: the caller's 64-bit clock id, returned with the entry.
//   absl::StatusOr<slate::DeadlineHandle> a =
//       index.Schedule(/*key=*/42, t0 + absl::Hours(4));
//   absl::StatusOr<slate::DeadlineHandle> b =
//       index.Schedule(/*key=*/7, t0 + absl::Hours(1));
//   index.Reschedule(*a, t0 + absl::Hours(2));  // moves entry a
//   std::optional<absl::Time> next = index.NextDue();  // t0 + 1h
//   std::vector<slate::DueEntry> due = index.PopDue(t0 + absl::Hours(3));
//   // due == {{7, t0+1h, *b}, {42, t0+2h, *a}}; both are gone from the index.
//   index.Cancel(*a);  // false: a is stale (popped)
//
// Handles and keys. Schedule creates an entry and returns a DeadlineHandle
// naming it; Reschedule, Cancel, DueOf and Contains take that handle. A handle
// is dense (an index into the entry array plus a generation), so none of these
// looks anything up in a hash map. A handle is live from Schedule until its
// entry is cancelled or popped, and stale ever after: the generation makes a
// stale handle (and the null handle) name nothing even when its array slot
// has been reused, so Cancel returns false, Reschedule kNotFound, DueOf
// nullopt. A handle means something only to the index that issued it (and to
// copies of that index); any other value is safe to pass (no undefined
// behaviour) but may equal a live handle by coincidence.
// The key is an opaque 64-bit value the caller attaches to the entry (for
// example a dense id the SLA projection assigns to each (record, policy,
// cycle), in log order). The index never looks keys up and does not require
// them to be distinct; it orders by them and returns them.
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
//  - Order. PopDue and AtRisk return entries sorted by (due, key, handle).
//    With distinct keys the order is fixed by (due, key) alone; equal (due,
//    key) pairs come out in handle order, which is deterministic for a given
//    sequence of calls (handles reuse freed array slots, last freed first).
//  - Nothing here calls back into user code except the AtRisk filter, which
//    runs while the index is unchanged and consistent; it must not modify the
//    index.
//
// Structure and cost (n = entries; measured in bench/RESULTS.md, "Deadline
// index"). An entry array of 24-byte nodes (due, key, generation, position)
// with a free list, and a hierarchical timing wheel over 64-bit microsecond
// instants: 11 levels of 64 slots (6 bits per level); a slot is a vector of
// node indices and each node records its position in it (removal swaps the
// last index into the hole). A sorted side set holds entries scheduled before
// the wheel's reference instant (see deadline_index.cc). Schedule,
// Reschedule, Cancel: O(1) amortized (O(log e) for an entry due before the
// reference instant, e = such entries: NextDue moves that reference up to the
// earliest deadline, so a schedule earlier than every existing deadline takes
// this path until the next PopDue). PopDue: O(k log k) for k popped plus
// O(11 * 64) slot scans, plus cascading, which moves each entry at most 10
// times over its life. NextDue: amortized O(1). AtRisk: O(m log m), m =
// entries in the wheel slots overlapping the horizon, stopping at the first
// slot that completes top_n. Memory: 24 bytes per node (the array grows by
// doubling; Reserve avoids that) plus 4 bytes per entry in slot vectors, each
// with a capacity of at most 4 times its size or 64 entries (see MemoryBytes
// and bench/RESULTS.md for measured bytes per entry).
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
#include <string>
#include <utility>
#include <vector>

#include "absl/container/btree_set.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace slate {

// Names one entry of a DeadlineIndex (see "Handles and keys" above). A value
// type; the default-constructed handle is the null handle, which is never
// live. Handles compare by bits(): array slot index first, then generation.
class DeadlineHandle {
 public:
  constexpr DeadlineHandle() = default;

  // Round trip through 64 bits, for callers that store handles compactly.
  // Any value is safe to pass to the index (see "Handles and keys").
  static constexpr DeadlineHandle FromBits(uint64_t bits) {
    return DeadlineHandle(bits);
  }
  constexpr uint64_t bits() const { return bits_; }
  constexpr bool is_null() const { return bits_ == 0; }

  friend constexpr bool operator==(DeadlineHandle a, DeadlineHandle b) {
    return a.bits_ == b.bits_;
  }
  friend constexpr bool operator!=(DeadlineHandle a, DeadlineHandle b) {
    return a.bits_ != b.bits_;
  }
  friend constexpr bool operator<(DeadlineHandle a, DeadlineHandle b) {
    return a.bits_ < b.bits_;
  }
  template <typename H>
  friend H AbslHashValue(H h, DeadlineHandle d) {
    return H::combine(std::move(h), d.bits_);
  }

 private:
  friend class DeadlineIndex;
  constexpr explicit DeadlineHandle(uint64_t bits) : bits_(bits) {}
  constexpr DeadlineHandle(uint32_t index, uint32_t generation)
      : bits_(uint64_t{index} << 32 | generation) {}
  constexpr uint32_t index() const {
    return static_cast<uint32_t>(bits_ >> 32);
  }
  constexpr uint32_t generation() const { return static_cast<uint32_t>(bits_); }

  uint64_t bits_ = 0;
};

// One scheduled deadline: the caller's key, its due instant and its handle.
struct DueEntry {
  uint64_t key = 0;
  absl::Time due;
  DeadlineHandle handle;

  friend bool operator==(const DueEntry& a, const DueEntry& b) {
    return a.key == b.key && a.due == b.due && a.handle == b.handle;
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
  // A copy holds the same entries under the same handles.
  DeadlineIndex(const DeadlineIndex&) = default;
  DeadlineIndex& operator=(const DeadlineIndex&) = default;
  // The entries and their handles move; a moved-from index is empty and
  // usable.
  DeadlineIndex(DeadlineIndex&& other) noexcept;
  DeadlineIndex& operator=(DeadlineIndex&& other) noexcept;

  // OK iff `due` can be scheduled: finite, whole microseconds, within int64
  // microseconds of the Unix epoch. Otherwise kInvalidArgument naming `key`.
  static absl::Status ValidateDue(uint64_t key, absl::Time due);

  // Adds a new entry (key, due) and returns its handle, which is live until
  // the entry is cancelled or popped. A due instant in the past is allowed:
  // the next PopDue with now >= due returns it. Errors (index unchanged):
  // kInvalidArgument if ValidateDue fails; kResourceExhausted with about
  // 2^32 entries allocated.
  absl::StatusOr<DeadlineHandle> Schedule(uint64_t key, absl::Time due);

  // Moves the live entry `handle` to `due` (same due: no change); the handle
  // and key stay. Errors (index unchanged): kInvalidArgument if ValidateDue
  // fails (checked first; the message names the key, or the handle if it is
  // not live); kNotFound if `handle` is not live.
  absl::Status Reschedule(DeadlineHandle handle, absl::Time due);

  // Removes the entry `handle`. Returns false (and changes nothing) if the
  // handle is not live: null, cancelled, popped, or never issued.
  bool Cancel(DeadlineHandle handle);

  // The due instant of `handle`, or nullopt if it is not live.
  std::optional<absl::Time> DueOf(DeadlineHandle handle) const;
  // Whether `handle` is live.
  bool Contains(DeadlineHandle handle) const { return Live(handle); }

  // The earliest due instant, or nullopt if the index is empty. Not const:
  // may cascade wheel slots (internal reorganization only; the set of
  // entries and every answer are unchanged). Amortized O(1).
  std::optional<absl::Time> NextDue();

  // Removes every entry with due <= now and appends them to *out in (due,
  // key, handle) order; returns how many were appended. Their handles are
  // stale afterwards. REQUIRES: out != nullptr.
  size_t PopDue(absl::Time now, std::vector<DueEntry>* out);
  // Same, returning a fresh vector.
  std::vector<DueEntry> PopDue(absl::Time now);

  // The entries with due <= now + within (the sum saturates to the infinite
  // instants), in (due, key, handle) order, at most top_n of them (kNoLimit:
  // all). With `filter`, only entries for which filter(entry) is true are
  // returned and counted towards top_n; the filter is called in that order
  // and not after top_n entries were accepted. REQUIRES: the filter does not
  // modify this index. Nothing is removed.
  std::vector<DueEntry> AtRisk(
      absl::Time now, absl::Duration within, size_t top_n,
      absl::FunctionRef<bool(const DueEntry&)> filter) const;
  std::vector<DueEntry> AtRisk(absl::Time now, absl::Duration within,
                               size_t top_n) const;

  // Number of scheduled entries.
  size_t Size() const { return live_; }
  bool Empty() const { return live_ == 0; }

  // Removes everything; every handle issued so far becomes stale. Keeps the
  // node array's capacity. O(allocated nodes).
  void Clear();
  // Pre-allocates room for n entries in the node array.
  void Reserve(size_t n);

  // Bytes held by the index's own allocations (node array, slot vectors,
  // scratch; the side set estimated), for memory reporting.
  size_t MemoryBytes() const;

  // Verifies every internal invariant in O(allocated nodes + 704): node
  // states and generations, the free list, placement of each node in its
  // level and slot and its recorded position there, occupancy bitmaps, the
  // side set and the live count. kInternal describing the first violation.
  absl::Status CheckInvariants() const;

 private:
  friend class DeadlineIndexTestPeer;

  // Internal time: int64 Unix microseconds with the sign bit flipped, so the
  // unsigned order is the time order over the whole int64 range.
  using Tick = uint64_t;

  static constexpr int kBitsPerLevel = 6;
  static constexpr int kSlots = 1 << kBitsPerLevel;  // 64
  static constexpr int kLevels = 11;                 // ceil(64 / 6)
  static constexpr uint32_t kNil = std::numeric_limits<uint32_t>::max();
  // Node::pos markers for live nodes outside the wheel and retired nodes.
  static constexpr uint32_t kInSideSet = kNil - 1;
  static constexpr uint32_t kRetired = kNil - 2;
  // At most this many nodes, so node indices and slot positions never reach
  // the markers.
  static constexpr uint32_t kMaxNodes = kNil - 2;
  // Slot vectors with more capacity than this give it back when emptied by
  // cascading or when their size falls to a quarter of it.
  static constexpr size_t kKeepSlotCapacity = 64;

  // Generations: odd while live, even while free. A node whose generation
  // would wrap is retired (never reused), so no handle is ever reissued.
  struct Node {
    Tick due;
    uint64_t key;
    uint32_t gen;
    // Live: position in its slot vector, or kInSideSet. Free: next node on
    // the free list (kNil at the end). Retired: kRetired.
    uint32_t pos;
  };

  // A side-set entry; ordered by (due, key, node index), i.e. output order.
  struct SideEntry {
    Tick due;
    uint64_t key;
    uint32_t node;
    friend bool operator<(const SideEntry& a, const SideEntry& b) {
      if (a.due != b.due) return a.due < b.due;
      if (a.key != b.key) return a.key < b.key;
      return a.node < b.node;
    }
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

  bool Live(DeadlineHandle h) const {
    const uint32_t i = h.index();
    return i < nodes_.size() && nodes_[i].gen == h.generation() &&
           (h.generation() & 1) != 0;
  }
  DeadlineHandle HandleOf(uint32_t n) const {
    return DeadlineHandle(n, nodes_[n].gen);
  }
  // Takes a node off the free list (or appends one) and makes it live.
  // REQUIRES: free_head_ != kNil || nodes_.size() < kMaxNodes.
  uint32_t AllocNode();
  // Makes live node n free (or retired) and drops it from the live count.
  // REQUIRES: n is not placed.
  void FreeNode(uint32_t n);
  // Puts live node n (with due set) in the wheel or the side set.
  void Place(uint32_t n);
  // Takes node n out of the wheel or the side set (it stays live).
  void Unplace(uint32_t n);
  void LinkIntoWheel(uint32_t n);
  // Empties a slot vector taken by Advance or Rebase, giving back large
  // capacity.
  static void ReleaseSlot(std::vector<uint32_t>& slot);
  // Moves cur_ forward to `target` (> cur_): every wheel node with due <
  // target is unlinked and appended to *expired; the others are re-placed.
  void Advance(Tick target, std::vector<uint32_t>* expired);
  // Re-places everything relative to the earliest due instant (empties the
  // side set). Called when the side set outgrows the wheel.
  void Rebase();
  void MaybeRebase() {
    if (side_.size() > options_.rebase_min_side && side_.size() * 2 > live_) {
      Rebase();
    }
  }
  // kInvalidArgument for `due`, naming `what` ("key 42").
  static absl::Status InvalidDue(const std::string& what, absl::Time due);

  DeadlineIndexOptions options_;
  // Every wheel node has due >= cur_; every side-set node has due < cur_.
  Tick cur_ = 0;
  std::vector<Node> nodes_;
  uint32_t free_head_ = kNil;
  size_t live_ = 0;
  std::array<std::array<std::vector<uint32_t>, kSlots>, kLevels> slots_;
  std::array<uint64_t, kLevels> occupied_{};  // bit s: slots_[l][s] non-empty
  absl::btree_set<SideEntry> side_;           // due < cur_
  // Scratch for PopDue and NextDue (kept to avoid reallocation).
  std::vector<uint32_t> expired_scratch_;
};

}  // namespace slate

#endif  // SLATE_LIB_TIMER_DEADLINE_INDEX_H_
