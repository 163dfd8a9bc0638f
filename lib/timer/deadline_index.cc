// DeadlineIndex implementation notes.
//
// Wheel placement (absolute, not relative to a tick counter). Time is a
// 64-bit unsigned tick (microseconds, sign bit flipped). The wheel has a
// reference tick cur_ and 11 levels of 64 slots; level l holds bits
// [6l, 6l+6) of a tick (level 10 only bits 60..63). A node with due d >= cur_
// lives at level l = (highest bit in which d and cur_ differ) / 6 (0 if
// d == cur_), in slot digit_l(d). Consequences used everywhere:
//  - at level l, d agrees with cur_ above level l, and digit_l(d) >
//  digit_l(cur_)
//    (>= at level 0), so occupied slots lie "ahead" of cur_;
//  - every node at level l is earlier than every node at level l + 1, and
//    slots of one level are ordered by digit: visiting levels upwards and
//    slots by ascending digit visits disjoint, increasing tick ranges;
//  - a level-0 slot holds nodes with one exact due tick.
// Advance(target) moves cur_ forward. With H = the level of the highest bit
// in which cur_ and target differ: levels < H and level-H slots with digit
// < digit_H(target) hold only nodes due before target (expired); the level-H
// slot with digit digit_H(target) is re-placed relative to target (its nodes
// go to lower levels, or expire); all other slots stay valid untouched. So a
// node moves down at most 10 times in its life and no work depends on how
// far time jumps.
//
// Side set. A node scheduled with due < cur_ cannot be placed; it goes to a
// btree ordered by (due, key). cur_ only moves forward (PopDue to now + 1,
// NextDue to the start of the earliest occupied slot, Schedule into an empty
// wheel to the new due), except in Rebase, which re-places everything
// relative to the earliest due when the side set outgrows the wheel (more
// than options_.rebase_min_side and more than half of all entries), so the side
// set stays small and the cost amortizes to O(1) per schedule.
#include "lib/timer/deadline_index.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <string>
#include <tuple>

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
  return a.due != b.due ? a.due < b.due : a.key < b.key;
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
    : options_(options) {
  for (auto& level : heads_) level.fill(kNil);
}

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
  heads_ = other.heads_;
  occupied_ = other.occupied_;
  keys_ = std::move(other.keys_);
  side_ = std::move(other.side_);
  other.Clear();
  return *this;
}

absl::Status DeadlineIndex::ValidateDue(uint64_t key, absl::Time due) {
  // Round-tripping through int64 microseconds rejects the infinite instants,
  // sub-microsecond parts and out-of-range instants (ToUnixMicros saturates).
  if (absl::FromUnixMicros(absl::ToUnixMicros(due)) != due) {
    return absl::InvalidArgumentError(absl::StrCat(
        "deadline index: key ", key, ": due ", absl::FormatTime(due),
        " must be finite, whole microseconds and within int64 microseconds "
        "of the Unix epoch"));
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
  if (free_head_ != kNil) {
    const uint32_t n = free_head_;
    free_head_ = nodes_[n].next;
    return n;
  }
  nodes_.push_back(Node{});
  return static_cast<uint32_t>(nodes_.size() - 1);
}

void DeadlineIndex::FreeNode(uint32_t n) {
  nodes_[n].prev = kFree;
  nodes_[n].next = free_head_;
  free_head_ = n;
}

void DeadlineIndex::LinkIntoWheel(uint32_t n) {
  Node& node = nodes_[n];
  const int level = LevelFor(node.due, cur_);
  const int slot = DigitAt(node.due, level);
  uint32_t& head = heads_[level][slot];
  node.prev = kNil;
  node.next = head;
  if (head != kNil) nodes_[head].prev = n;
  head = n;
  occupied_[level] |= uint64_t{1} << slot;
}

void DeadlineIndex::Place(uint32_t n) {
  Node& node = nodes_[n];
  if (node.due < cur_) {
    side_.insert({node.due, node.key});
    node.prev = kInSideSet;
    node.next = kNil;
  } else {
    LinkIntoWheel(n);
  }
}

void DeadlineIndex::Unplace(uint32_t n) {
  Node& node = nodes_[n];
  if (node.prev == kInSideSet) {
    side_.erase({node.due, node.key});
    return;
  }
  if (node.prev == kNil) {
    const int level = LevelFor(node.due, cur_);
    const int slot = DigitAt(node.due, level);
    heads_[level][slot] = node.next;
    if (node.next == kNil) occupied_[level] &= ~(uint64_t{1} << slot);
  } else {
    nodes_[node.prev].next = node.next;
  }
  if (node.next != kNil) nodes_[node.next].prev = node.prev;
}

void DeadlineIndex::Advance(Tick target, std::vector<uint32_t>* expired) {
  assert(target > cur_);
  const int top = LevelFor(target, cur_);
  auto take_slot = [&](int level, int slot) {
    for (uint32_t n = heads_[level][slot]; n != kNil; n = nodes_[n].next) {
      expired->push_back(n);
    }
    heads_[level][slot] = kNil;
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
  uint32_t cascade = kNil;
  if (occupied_[top] & (uint64_t{1} << new_digit)) {
    cascade = heads_[top][new_digit];
    heads_[top][new_digit] = kNil;
    occupied_[top] &= ~(uint64_t{1} << new_digit);
  }
  cur_ = target;
  while (cascade != kNil) {
    const uint32_t n = cascade;
    cascade = nodes_[n].next;
    if (nodes_[n].due < target) {
      expired->push_back(n);
    } else {
      LinkIntoWheel(n);
    }
  }
}

void DeadlineIndex::Rebase() {
  std::vector<uint32_t> all;
  all.reserve(keys_.size());
  for (int level = 0; level < kLevels; ++level) {
    for (uint64_t bits = occupied_[level]; bits != 0; bits &= bits - 1) {
      const int slot = std::countr_zero(bits);
      for (uint32_t n = heads_[level][slot]; n != kNil; n = nodes_[n].next) {
        all.push_back(n);
      }
      heads_[level][slot] = kNil;
    }
    occupied_[level] = 0;
  }
  if (!side_.empty()) {
    cur_ = side_.begin()->first;  // side entries precede every wheel entry
    for (const auto& [due, key] : side_) all.push_back(keys_.at(key));
    side_.clear();
  }
  for (uint32_t n : all) LinkIntoWheel(n);
}

absl::Status DeadlineIndex::Schedule(uint64_t key, absl::Time due) {
  if (absl::Status s = ValidateDue(key, due); !s.ok()) return s;
  const Tick tick = ToTick(due);
  auto [it, inserted] = keys_.try_emplace(key, kNil);
  if (!inserted) {
    const uint32_t n = it->second;
    if (nodes_[n].due == tick) return absl::OkStatus();
    Unplace(n);
    nodes_[n].due = tick;
    Place(n);
  } else {
    if (free_head_ == kNil && nodes_.size() >= kFree) {
      keys_.erase(it);
      return absl::ResourceExhaustedError(absl::StrCat(
          "deadline index: key ", key, ": more than ", kFree, " entries"));
    }
    const uint32_t n = AllocNode();
    it->second = n;
    nodes_[n] = Node{tick, key, kNil, kNil};
    // An empty wheel can take any reference at or before its first entry:
    // centre it on this one (side-set entries stay before cur_).
    if (tick > cur_ && keys_.size() == side_.size() + 1) cur_ = tick;
    Place(n);
  }
  if (side_.size() > options_.rebase_min_side &&
      side_.size() * 2 > keys_.size()) {
    Rebase();
  }
  return absl::OkStatus();
}

bool DeadlineIndex::Cancel(uint64_t key) {
  auto it = keys_.find(key);
  if (it == keys_.end()) return false;
  const uint32_t n = it->second;
  keys_.erase(it);
  Unplace(n);
  FreeNode(n);
  return true;
}

std::optional<absl::Time> DeadlineIndex::DueOf(uint64_t key) const {
  auto it = keys_.find(key);
  if (it == keys_.end()) return std::nullopt;
  return FromTick(nodes_[it->second].due);
}

std::optional<absl::Time> DeadlineIndex::NextDue() {
  if (keys_.empty()) return std::nullopt;
  std::optional<Tick> best;
  if (!side_.empty()) best = side_.begin()->first;
  if (keys_.size() == side_.size()) return FromTick(*best);
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
  if (keys_.empty() || !FloorTick(now, &t)) return 0;
  std::vector<uint32_t>& nodes = expired_scratch_;
  nodes.clear();
  // Side-set entries precede every wheel entry and come out sorted.
  auto side_end = side_.begin();
  while (side_end != side_.end() && side_end->first <= t) {
    nodes.push_back(keys_.at(side_end->second));
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
      const int slot = kSlots - 1;
      for (uint32_t n = heads_[0][slot]; n != kNil; n = nodes_[n].next) {
        nodes.push_back(n);
      }
      heads_[0][slot] = kNil;
      occupied_[0] &= ~(uint64_t{1} << slot);
    }
  }
  std::vector<Popped> popped;
  popped.reserve(nodes.size());
  for (uint32_t n : nodes) popped.push_back({nodes_[n].due, nodes_[n].key, n});
  std::sort(popped.begin() + from_side, popped.end(), PoppedLess);
  out->reserve(out->size() + popped.size());
  for (const Popped& p : popped) {
    out->push_back(DueEntry{p.key, FromTick(p.due)});
    keys_.erase(p.key);
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
  for (const auto& [due, key] : side_) {
    if (due > limit) return result;
    DueEntry e{key, FromTick(due)};
    if (filter(e)) {
      result.push_back(e);
      if (result.size() == top_n) return result;
    }
  }
  std::vector<std::pair<Tick, uint64_t>> slot_entries;
  for (int level = 0; level < kLevels; ++level) {
    for (uint64_t bits = occupied_[level]; bits != 0; bits &= bits - 1) {
      const int slot = std::countr_zero(bits);
      if (SlotStart(level, slot) > limit) return result;
      slot_entries.clear();
      for (uint32_t n = heads_[level][slot]; n != kNil; n = nodes_[n].next) {
        if (nodes_[n].due <= limit) {
          slot_entries.emplace_back(nodes_[n].due, nodes_[n].key);
        }
      }
      std::sort(slot_entries.begin(), slot_entries.end());
      for (const auto& [due, key] : slot_entries) {
        DueEntry e{key, FromTick(due)};
        if (filter(e)) {
          result.push_back(e);
          if (result.size() == top_n) return result;
        }
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
  nodes_.clear();
  free_head_ = kNil;
  for (auto& level : heads_) level.fill(kNil);
  occupied_.fill(0);
  keys_.clear();
  side_.clear();
}

void DeadlineIndex::Reserve(size_t n) {
  nodes_.reserve(n);
  keys_.reserve(n);
}

size_t DeadlineIndex::MemoryBytes() const {
  // flat_hash_map: one slot plus one control byte per bucket.
  const size_t map_bytes =
      keys_.bucket_count() * (sizeof(std::pair<const uint64_t, uint32_t>) + 1);
  // btree nodes: estimated at 1.5x the payload.
  const size_t side_bytes =
      side_.size() * sizeof(std::pair<Tick, uint64_t>) * 3 / 2;
  return sizeof(*this) + nodes_.capacity() * sizeof(Node) + map_bytes +
         side_bytes + expired_scratch_.capacity() * sizeof(uint32_t);
}

absl::Status DeadlineIndex::CheckInvariants() const {
  auto fail = [](auto&&... parts) {
    return absl::InternalError(
        absl::StrCat("deadline index invariant: ", parts...));
  };
  // Free list: every node on it is marked free, no cycles.
  size_t free_count = 0;
  for (uint32_t n = free_head_; n != kNil; n = nodes_[n].next) {
    if (n >= nodes_.size() || nodes_[n].prev != kFree) {
      return fail("free list node ", n, " not marked free");
    }
    if (++free_count > nodes_.size()) return fail("cycle in free list");
  }
  size_t marked_free = 0, marked_side = 0;
  for (const Node& node : nodes_) {
    marked_free += node.prev == kFree;
    marked_side += node.prev == kInSideSet;
  }
  if (marked_free != free_count || free_count + keys_.size() != nodes_.size()) {
    return fail(free_count, " on the free list, ", marked_free,
                " marked free, ", keys_.size(), " live, ", nodes_.size(),
                " nodes");
  }
  // Key map: each key names a distinct live node holding that key, so the
  // live nodes are exactly the mapped ones.
  for (const auto& [key, n] : keys_) {
    if (n >= nodes_.size() || nodes_[n].key != key || nodes_[n].prev == kFree) {
      return fail("key ", key, " maps to node ", n, " which does not hold it");
    }
  }
  // Wheel: bitmaps match heads, links are consistent, every node is placed
  // at the level and slot its due tick and cur_ determine.
  size_t in_wheel = 0;
  for (int level = 0; level < kLevels; ++level) {
    const int cur_digit = DigitAt(cur_, level);
    for (int slot = 0; slot < kSlots; ++slot) {
      const bool bit = (occupied_[level] >> slot) & 1;
      const uint32_t head = heads_[level][slot];
      if (bit != (head != kNil)) {
        return fail("level ", level, " slot ", slot, ": bitmap ", bit,
                    " but head ", head);
      }
      if (head != kNil && (level > 0 ? slot <= cur_digit : slot < cur_digit)) {
        return fail("level ", level, " slot ", slot, " behind cur digit ",
                    cur_digit);
      }
      uint32_t prev = kNil;
      for (uint32_t n = head; n != kNil; n = nodes_[n].next) {
        if (n >= nodes_.size()) return fail("node index ", n, " out of range");
        const Node& node = nodes_[n];
        if (node.prev != prev) {
          return fail("node ", n, ": prev ", node.prev, ", expected ", prev);
        }
        if (node.due < cur_) {
          return fail("node ", n, " in wheel due ", node.due, " < cur ", cur_);
        }
        if (LevelFor(node.due, cur_) != level ||
            DigitAt(node.due, level) != slot) {
          return fail("node ", n, " due ", node.due, " misplaced at level ",
                      level, " slot ", slot, " (cur ", cur_, ")");
        }
        prev = n;
        if (++in_wheel > nodes_.size()) return fail("cycle in slot list");
      }
    }
  }
  // Side set: entries before cur_, each matching its node.
  if (marked_side != side_.size()) {
    return fail(marked_side, " nodes marked side, side set has ", side_.size());
  }
  for (const auto& [due, key] : side_) {
    if (due >= cur_) return fail("side entry ", key, " due ", due, " >= cur");
    auto it = keys_.find(key);
    if (it == keys_.end()) return fail("side entry ", key, " not in key map");
    const Node& node = nodes_[it->second];
    if (node.due != due || node.prev != kInSideSet) {
      return fail("side entry ", key, " disagrees with its node");
    }
  }
  if (in_wheel + side_.size() != keys_.size()) {
    return fail(in_wheel, " wheel + ", side_.size(), " side entries but ",
                keys_.size(), " keys");
  }
  return absl::OkStatus();
}

}  // namespace slate
