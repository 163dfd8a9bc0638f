// DeadlineIndex implementation notes.
//
// Nodes and handles. Entries live in nodes_, a vector of 24-byte nodes; a
// handle is (node index, generation). A node's generation is odd while it is
// live and even while it is free, and goes up by one on every allocation and
// every release, so each (index, generation) pair is issued at most once: a
// handle stays live exactly as long as its entry, and no stale handle can
// match a later entry in the same node. The one exception would be the
// 32-bit generation wrapping after 2^31 reuses of a node; such a node is
// retired instead (never reused again; 24 bytes per 2^31 schedules).
// Released nodes go on a LIFO free list threaded through Node::pos, so a
// schedule right after a cancel reuses the node that is still in cache.
//
// Wheel placement (absolute, not relative to a tick counter). Time is a
// 64-bit unsigned tick (microseconds, sign bit flipped). The wheel has a
// reference tick cur_ and 11 levels of 64 slots; level l holds bits
// [6l, 6l+6) of a tick (level 10 only bits 60..63). A node with due d >= cur_
// lives at level l = (highest bit in which d and cur_ differ) / 6 (0 if
// d == cur_), in slot digit_l(d). Consequences used everywhere:
//  - at level l, d agrees with cur_ above level l, and digit_l(d) >
//    digit_l(cur_) (>= at level 0), so occupied slots lie "ahead" of cur_;
//  - every node at level l is earlier than every node at level l + 1, and
//    slots of one level are ordered by digit: visiting levels upwards and
//    slots by ascending digit visits disjoint, increasing tick ranges;
//  - a level-0 slot holds nodes with one exact due tick.
// A slot is a vector of node indices in no particular order; a wheel node's
// pos is its position there. Linking appends; unlinking moves the slot's last
// index into the hole (updating that node's pos) and pops. Neither touches any
// node but the moved ones, so a schedule writes only its own node and the
// tail of one slot vector: no neighbour in a linked list, no hash map.
// Advance(target) moves cur_ forward. With H = the level of the highest bit
// in which cur_ and target differ: levels < H and level-H slots with digit
// < digit_H(target) hold only nodes due before target (expired); the level-H
// slot with digit digit_H(target) is re-placed relative to target (its nodes
// go to lower levels, or expire); all other slots stay valid untouched. So a
// node moves down at most 10 times in its life and no work depends on how
// far time jumps.
//
// Side set. A node scheduled with due < cur_ cannot be placed; it goes to a
// btree ordered by (due, key, node index). cur_ only moves forward (PopDue to
// now + 1, NextDue to the start of the earliest occupied slot, Schedule or
// Reschedule into an empty wheel to the new due), except in Rebase, which
// re-places everything relative to the earliest due when the side set
// outgrows the wheel (more than options_.rebase_min_side and more than half of
// all entries), so the side set stays small and the cost amortizes to O(1)
// per schedule.
//
// Output order (due, key, handle). Among live entries handles differ in their
// node index (the high half of the bits), so sorting by (due, key, node
// index) is sorting by (due, key, handle).
#include "lib/timer/deadline_index.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <string>

#include "absl/base/optimization.h"
#include "absl/strings/str_cat.h"

namespace slate {
namespace {

constexpr uint64_t kSignBit = uint64_t{1} << 63;

// Bits [lo, hi) set; 0 <= lo <= hi <= 63.
inline uint64_t BitRange(int lo, int hi) {
  return ((uint64_t{1} << hi) - 1) & ~((uint64_t{1} << lo) - 1);
}

struct Popped {
  uint64_t due;
  uint64_t key;
  uint32_t node;
};

inline bool PoppedLess(const Popped& a, const Popped& b) {
  if (a.due != b.due) return a.due < b.due;
  if (a.key != b.key) return a.key < b.key;
  return a.node < b.node;
}

// Floor of `t` as a tick; false if t lies before every representable tick
// (nothing is due at such a "now").
inline bool FloorTick(absl::Time t, uint64_t* tick) {
  const int64_t us = absl::ToUnixMicros(t);  // floors and saturates
  if (us == std::numeric_limits<int64_t>::min() &&
      t < absl::FromUnixMicros(us)) {
    return false;
  }
  *tick = static_cast<uint64_t>(us) ^ kSignBit;
  return true;
}

}  // namespace

DeadlineIndex::DeadlineIndex(const DeadlineIndexOptions& options)
    : options_(options) {}

DeadlineIndex::DeadlineIndex(DeadlineIndex&& other) noexcept
    : DeadlineIndex(other.options_) {
  *this = std::move(other);
}

DeadlineIndex& DeadlineIndex::operator=(DeadlineIndex&& other) noexcept {
  if (this == &other) return *this;
  options_ = other.options_;
  cur_ = other.cur_;
  nodes_ = std::move(other.nodes_);
  free_head_ = other.free_head_;
  live_ = other.live_;
  slots_ = std::move(other.slots_);
  occupied_ = other.occupied_;
  side_ = std::move(other.side_);
  other.nodes_.clear();
  other.Clear();
  return *this;
}

absl::Status DeadlineIndex::InvalidDue(const std::string& what,
                                       absl::Time due) {
  return absl::InvalidArgumentError(absl::StrCat(
      "deadline index: ", what, ": due ", absl::FormatTime(due),
      " must be finite, whole microseconds and within int64 microseconds "
      "of the Unix epoch"));
}

absl::Status DeadlineIndex::ValidateDue(uint64_t key, absl::Time due) {
  // Round-tripping through int64 microseconds rejects the infinite instants,
  // sub-microsecond parts and out-of-range instants (ToUnixMicros saturates).
  if (absl::FromUnixMicros(absl::ToUnixMicros(due)) != due) {
    return InvalidDue(absl::StrCat("key ", key), due);
  }
  return absl::OkStatus();
}

DeadlineIndex::Tick DeadlineIndex::ToTick(absl::Time t) {
  return static_cast<uint64_t>(absl::ToUnixMicros(t)) ^ kSignBit;
}

absl::Time DeadlineIndex::FromTick(Tick t) {
  return absl::FromUnixMicros(static_cast<int64_t>(t ^ kSignBit));
}

int DeadlineIndex::LevelFor(Tick due, Tick ref) {
  const uint64_t diff = due ^ ref;
  if (diff == 0) return 0;
  return (63 - std::countl_zero(diff)) / kBitsPerLevel;
}

DeadlineIndex::Tick DeadlineIndex::SlotStart(int level, int slot) const {
  const int above = kBitsPerLevel * (level + 1);
  const Tick prefix = above >= 64 ? 0 : cur_ & ~((Tick{1} << above) - 1);
  return prefix | (static_cast<Tick>(slot) << (kBitsPerLevel * level));
}

uint32_t DeadlineIndex::AllocNode() {
  ++live_;
  if (free_head_ != kNil) {
    const uint32_t n = free_head_;
    Node& node = nodes_[n];
    free_head_ = node.pos;
    ++node.gen;  // even (free) -> odd (live)
    return n;
  }
  nodes_.push_back(Node{0, 0, 1, 0});
  return static_cast<uint32_t>(nodes_.size() - 1);
}

void DeadlineIndex::FreeNode(uint32_t n) {
  --live_;
  Node& node = nodes_[n];
  if (++node.gen == 0) {  // odd (live) -> even (free), unless it wrapped
    node.pos = kRetired;
    return;
  }
  node.pos = free_head_;
  free_head_ = n;
}

void DeadlineIndex::LinkIntoWheel(uint32_t n) {
  Node& node = nodes_[n];
  const int level = LevelFor(node.due, cur_);
  const int slot = DigitAt(node.due, level);
  std::vector<uint32_t>& v = slots_[level][slot];
  node.pos = static_cast<uint32_t>(v.size());
  v.push_back(n);
  occupied_[level] |= uint64_t{1} << slot;
}

void DeadlineIndex::Place(uint32_t n) {
  Node& node = nodes_[n];
  if (node.due < cur_) {
    side_.insert(SideEntry{node.due, node.key, n});
    node.pos = kInSideSet;
  } else {
    LinkIntoWheel(n);
  }
}

void DeadlineIndex::Unplace(uint32_t n) {
  const Node& node = nodes_[n];
  if (node.pos == kInSideSet) {
    side_.erase(SideEntry{node.due, node.key, n});
    return;
  }
  const int level = LevelFor(node.due, cur_);
  const int slot = DigitAt(node.due, level);
  std::vector<uint32_t>& v = slots_[level][slot];
  const uint32_t last = v.back();
  v[node.pos] = last;
  nodes_[last].pos = node.pos;  // n itself when it is the last
  v.pop_back();
  if (v.empty()) occupied_[level] &= ~(uint64_t{1} << slot);
  if (ABSL_PREDICT_FALSE(v.capacity() > kKeepSlotCapacity &&
                         v.size() * 4 < v.capacity())) {
    std::vector<uint32_t>(v.begin(), v.end()).swap(v);
  }
}

void DeadlineIndex::ReleaseSlot(std::vector<uint32_t>& slot) {
  if (slot.capacity() > kKeepSlotCapacity) {
    std::vector<uint32_t>().swap(slot);
  } else {
    slot.clear();
  }
}

void DeadlineIndex::Advance(Tick target, std::vector<uint32_t>* expired) {
  assert(target > cur_);
  const int top = LevelFor(target, cur_);
  auto take_slot = [&](int level, int slot) {
    std::vector<uint32_t>& v = slots_[level][slot];
    expired->insert(expired->end(), v.begin(), v.end());
    ReleaseSlot(v);
  };
  for (int level = 0; level < top; ++level) {
    for (uint64_t bits = occupied_[level]; bits != 0; bits &= bits - 1) {
      take_slot(level, std::countr_zero(bits));
    }
    occupied_[level] = 0;
  }
  const int old_digit = DigitAt(cur_, top);
  const int new_digit = DigitAt(target, top);
  const uint64_t passed = occupied_[top] & BitRange(old_digit, new_digit);
  for (uint64_t bits = passed; bits != 0; bits &= bits - 1) {
    take_slot(top, std::countr_zero(bits));
  }
  occupied_[top] &= ~passed;
  // At level 0 the slot with digit new_digit holds nodes due exactly at
  // target, which stay where they are.
  std::vector<uint32_t> cascade;
  if (top > 0 && (occupied_[top] & (uint64_t{1} << new_digit))) {
    cascade.swap(slots_[top][new_digit]);
    occupied_[top] &= ~(uint64_t{1} << new_digit);
  }
  cur_ = target;
  // The cascaded nodes agree with target at level top and above, so they go
  // to lower levels: slot (top, new_digit) stays empty.
  for (uint32_t n : cascade) {
    if (nodes_[n].due < target) {
      expired->push_back(n);
    } else {
      LinkIntoWheel(n);
    }
  }
  if (cascade.capacity() > 0) {
    ReleaseSlot(cascade);
    cascade.swap(slots_[top][new_digit]);  // keep a small buffer
  }
}

void DeadlineIndex::Rebase() {
  std::vector<uint32_t> all;
  all.reserve(live_);
  for (int level = 0; level < kLevels; ++level) {
    for (uint64_t bits = occupied_[level]; bits != 0; bits &= bits - 1) {
      std::vector<uint32_t>& v = slots_[level][std::countr_zero(bits)];
      all.insert(all.end(), v.begin(), v.end());
      ReleaseSlot(v);
    }
    occupied_[level] = 0;
  }
  if (!side_.empty()) {
    cur_ = side_.begin()->due;  // side entries precede every wheel entry
    for (const SideEntry& e : side_) all.push_back(e.node);
    side_.clear();
  }
  for (uint32_t n : all) LinkIntoWheel(n);
}

absl::StatusOr<DeadlineHandle> DeadlineIndex::Schedule(uint64_t key,
                                                       absl::Time due) {
  const int64_t us = absl::ToUnixMicros(due);
  if (ABSL_PREDICT_FALSE(absl::FromUnixMicros(us) != due)) {
    return InvalidDue(absl::StrCat("key ", key), due);
  }
  if (ABSL_PREDICT_FALSE(free_head_ == kNil && nodes_.size() >= kMaxNodes)) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "deadline index: key ", key, ": more than ", kMaxNodes, " entries"));
  }
  const Tick tick = static_cast<uint64_t>(us) ^ kSignBit;
  const uint32_t n = AllocNode();
  Node& node = nodes_[n];
  node.due = tick;
  node.key = key;
  // An empty wheel can take any reference at or before its first entry:
  // centre it on this one (side-set entries stay before cur_).
  if (tick > cur_ && live_ == side_.size() + 1) cur_ = tick;
  Place(n);
  MaybeRebase();
  return HandleOf(n);
}

absl::Status DeadlineIndex::Reschedule(DeadlineHandle handle, absl::Time due) {
  const int64_t us = absl::ToUnixMicros(due);
  if (ABSL_PREDICT_FALSE(absl::FromUnixMicros(us) != due)) {
    return InvalidDue(Live(handle)
                          ? absl::StrCat("key ", nodes_[handle.index()].key)
                          : absl::StrCat("handle ", handle.bits()),
                      due);
  }
  if (!Live(handle)) {
    return absl::NotFoundError(
        absl::StrCat("deadline index: handle ", handle.bits(),
                     " is not live (cancelled, popped or never issued)"));
  }
  const Tick tick = static_cast<uint64_t>(us) ^ kSignBit;
  const uint32_t n = handle.index();
  if (nodes_[n].due == tick) return absl::OkStatus();
  Unplace(n);
  nodes_[n].due = tick;
  if (tick > cur_ && live_ == side_.size() + 1) cur_ = tick;  // as Schedule
  Place(n);
  MaybeRebase();
  return absl::OkStatus();
}

bool DeadlineIndex::Cancel(DeadlineHandle handle) {
  if (!Live(handle)) return false;
  const uint32_t n = handle.index();
  Unplace(n);
  FreeNode(n);
  return true;
}

std::optional<absl::Time> DeadlineIndex::DueOf(DeadlineHandle handle) const {
  if (!Live(handle)) return std::nullopt;
  return FromTick(nodes_[handle.index()].due);
}

std::optional<absl::Time> DeadlineIndex::NextDue() {
  if (live_ == 0) return std::nullopt;
  std::optional<Tick> best;
  if (!side_.empty()) best = side_.begin()->due;
  if (live_ == side_.size()) return FromTick(*best);
  while (true) {
    int level = 0;
    while (occupied_[level] == 0) ++level;  // the wheel is not empty
    const int slot = std::countr_zero(occupied_[level]);
    const Tick start = SlotStart(level, slot);
    if (best.has_value() && *best < start) break;  // wheel min >= start
    if (level == 0) {
      best = start;  // a level-0 slot holds exactly one due tick
      break;
    }
    // Nothing is due before `start`: moving the reference there only
    // cascades that slot down, and nothing expires.
    expired_scratch_.clear();
    Advance(start, &expired_scratch_);
    assert(expired_scratch_.empty());
  }
  return FromTick(*best);
}

size_t DeadlineIndex::PopDue(absl::Time now, std::vector<DueEntry>* out) {
  Tick t;
  if (live_ == 0 || !FloorTick(now, &t)) return 0;
  std::vector<uint32_t>& nodes = expired_scratch_;
  nodes.clear();
  // Side-set entries precede every wheel entry and come out sorted.
  auto side_end = side_.begin();
  while (side_end != side_.end() && side_end->due <= t) {
    nodes.push_back(side_end->node);
    ++side_end;
  }
  side_.erase(side_.begin(), side_end);
  const size_t from_side = nodes.size();
  if (t >= cur_) {
    constexpr Tick kMaxTick = std::numeric_limits<Tick>::max();
    if (t != kMaxTick) {
      Advance(t + 1, &nodes);
    } else {
      if (cur_ != kMaxTick) Advance(kMaxTick, &nodes);
      // Everything left is due exactly at kMaxTick: level 0, last slot.
      constexpr int kLast = kSlots - 1;
      std::vector<uint32_t>& v = slots_[0][kLast];
      nodes.insert(nodes.end(), v.begin(), v.end());
      ReleaseSlot(v);
      occupied_[0] &= ~(uint64_t{1} << kLast);
    }
  }
  std::vector<Popped> popped;
  popped.reserve(nodes.size());
  for (uint32_t n : nodes) popped.push_back({nodes_[n].due, nodes_[n].key, n});
  std::sort(popped.begin() + from_side, popped.end(), PoppedLess);
  out->reserve(out->size() + popped.size());
  for (const Popped& p : popped) {
    out->push_back(DueEntry{p.key, FromTick(p.due), HandleOf(p.node)});
    FreeNode(p.node);
  }
  return popped.size();
}

std::vector<DueEntry> DeadlineIndex::PopDue(absl::Time now) {
  std::vector<DueEntry> out;
  PopDue(now, &out);
  return out;
}

std::vector<DueEntry> DeadlineIndex::AtRisk(
    absl::Time now, absl::Duration within, size_t top_n,
    absl::FunctionRef<bool(const DueEntry&)> filter) const {
  std::vector<DueEntry> result;
  Tick limit;
  if (top_n == 0 || !FloorTick(now + within, &limit)) return result;
  // Offers one entry; true when top_n is reached.
  auto offer = [&](const SideEntry& s) {
    DueEntry e{s.key, FromTick(s.due), HandleOf(s.node)};
    if (!filter(e)) return false;
    result.push_back(e);
    return result.size() == top_n;
  };
  for (const SideEntry& s : side_) {
    if (s.due > limit) return result;
    if (offer(s)) return result;
  }
  std::vector<SideEntry> slot_entries;
  for (int level = 0; level < kLevels; ++level) {
    for (uint64_t bits = occupied_[level]; bits != 0; bits &= bits - 1) {
      const int slot = std::countr_zero(bits);
      if (SlotStart(level, slot) > limit) return result;
      slot_entries.clear();
      for (uint32_t n : slots_[level][slot]) {
        if (nodes_[n].due <= limit) {
          slot_entries.push_back(SideEntry{nodes_[n].due, nodes_[n].key, n});
        }
      }
      std::sort(slot_entries.begin(), slot_entries.end());
      for (const SideEntry& s : slot_entries) {
        if (offer(s)) return result;
      }
    }
  }
  return result;
}

std::vector<DueEntry> DeadlineIndex::AtRisk(absl::Time now,
                                            absl::Duration within,
                                            size_t top_n) const {
  return AtRisk(now, within, top_n, [](const DueEntry&) { return true; });
}

void DeadlineIndex::Clear() {
  cur_ = 0;
  live_ = 0;
  free_head_ = kNil;
  // Release every live node (so its handles go stale) and rebuild the free
  // list in index order.
  for (size_t i = nodes_.size(); i-- > 0;) {
    Node& node = nodes_[i];
    if (node.pos == kRetired) continue;
    if ((node.gen & 1) != 0 && ++node.gen == 0) {
      node.pos = kRetired;
      continue;
    }
    node.pos = free_head_;
    free_head_ = static_cast<uint32_t>(i);
  }
  for (auto& level : slots_) {
    for (std::vector<uint32_t>& v : level) ReleaseSlot(v);
  }
  occupied_.fill(0);
  side_.clear();
}

void DeadlineIndex::Reserve(size_t n) { nodes_.reserve(n); }

size_t DeadlineIndex::MemoryBytes() const {
  size_t slot_bytes = 0;
  for (const auto& level : slots_) {
    for (const std::vector<uint32_t>& v : level) {
      slot_bytes += v.capacity() * sizeof(uint32_t);
    }
  }
  // btree nodes: estimated at 1.5x the payload.
  const size_t side_bytes = side_.size() * sizeof(SideEntry) * 3 / 2;
  return sizeof(*this) + nodes_.capacity() * sizeof(Node) + slot_bytes +
         side_bytes + expired_scratch_.capacity() * sizeof(uint32_t);
}

absl::Status DeadlineIndex::CheckInvariants() const {
  auto fail = [](auto&&... parts) {
    return absl::InternalError(
        absl::StrCat("deadline index invariant: ", parts...));
  };
  if (nodes_.size() > kMaxNodes) return fail(nodes_.size(), " nodes");
  // Node states: live (odd generation), retired (generation 0, kRetired),
  // or free (even generation, on the free list).
  size_t live = 0, retired = 0, marked_side = 0, in_wheel_nodes = 0;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const Node& node = nodes_[i];
    if ((node.gen & 1) != 0) {
      ++live;
      if (node.pos == kInSideSet) {
        ++marked_side;
        continue;
      }
      ++in_wheel_nodes;
      if (node.due < cur_) {
        return fail("node ", i, " in wheel due ", node.due, " < cur ", cur_);
      }
      const int level = LevelFor(node.due, cur_);
      const std::vector<uint32_t>& v = slots_[level][DigitAt(node.due, level)];
      if (node.pos >= v.size() || v[node.pos] != i) {
        return fail("node ", i, " due ", node.due, " not at its position ",
                    node.pos, " in level ", level, " slot ",
                    DigitAt(node.due, level), " (cur ", cur_, ")");
      }
    } else if (node.pos == kRetired) {
      if (node.gen != 0) return fail("retired node ", i, " gen ", node.gen);
      ++retired;
    }
  }
  // Free list: every node on it is free and not retired, no cycles.
  size_t free_count = 0;
  for (uint32_t n = free_head_; n != kNil; n = nodes_[n].pos) {
    if (n >= nodes_.size() || (nodes_[n].gen & 1) != 0 ||
        nodes_[n].pos == kRetired) {
      return fail("free list node ", n, " is not a free node");
    }
    if (++free_count > nodes_.size()) return fail("cycle in free list");
  }
  if (live != live_ || live + retired + free_count != nodes_.size()) {
    return fail(live, " live nodes (count says ", live_, "), ", retired,
                " retired, ", free_count, " on the free list, ", nodes_.size(),
                " nodes");
  }
  // Wheel: bitmaps match slot contents, occupied slots lie ahead of cur_,
  // every entry is a live wheel node recording that position. With the
  // per-node check above and equal totals, slot entries and live wheel
  // nodes correspond one to one.
  size_t in_wheel = 0;
  for (int level = 0; level < kLevels; ++level) {
    const int cur_digit = DigitAt(cur_, level);
    // (Few calls per slot: this runs after every step of the property test,
    // unoptimized.)
    const uint64_t occupied = occupied_[level];
    const std::vector<uint32_t>* level_slots = slots_[level].data();
    for (int slot = 0; slot < kSlots; ++slot) {
      const bool bit = (occupied >> slot) & 1;
      const std::vector<uint32_t>& v = level_slots[slot];
      const size_t size = v.size();
      if (bit != (size != 0)) {
        return fail("level ", level, " slot ", slot, ": bitmap ", bit,
                    " but size ", size);
      }
      if (size == 0) continue;
      if (level > 0 ? slot <= cur_digit : slot < cur_digit) {
        return fail("level ", level, " slot ", slot, " behind cur digit ",
                    cur_digit);
      }
      if (v.capacity() > std::max(kKeepSlotCapacity, 4 * size)) {
        return fail("level ", level, " slot ", slot, ": capacity ",
                    v.capacity(), " for ", size, " entries");
      }
      const uint32_t* entries = v.data();
      for (size_t p = 0; p < size; ++p) {
        const uint32_t n = entries[p];
        if (n >= nodes_.size() || (nodes_[n].gen & 1) == 0 ||
            nodes_[n].pos != p) {
          return fail("level ", level, " slot ", slot, " position ", p,
                      " holds node ", n, " which is not live there");
        }
      }
      in_wheel += size;
    }
  }
  if (in_wheel != in_wheel_nodes) {
    return fail(in_wheel, " slot entries but ", in_wheel_nodes,
                " live wheel nodes");
  }
  // Side set: entries before cur_, each matching its live node.
  if (marked_side != side_.size()) {
    return fail(marked_side, " nodes marked side, side set has ", side_.size());
  }
  for (const SideEntry& e : side_) {
    if (e.due >= cur_) return fail("side entry ", e.node, " due >= cur");
    if (e.node >= nodes_.size()) return fail("side node ", e.node, " range");
    const Node& node = nodes_[e.node];
    if ((node.gen & 1) == 0 || node.pos != kInSideSet || node.due != e.due ||
        node.key != e.key) {
      return fail("side entry ", e.node, " disagrees with its node");
    }
  }
  return absl::OkStatus();
}

}  // namespace slate
