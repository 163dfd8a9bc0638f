// DecodedCache<T>: a projection's values kept decoded between Apply calls
// and written back once per flush, in key order (see Projection::Flush).
// Without it a projection parses and re-serialises every value it touches
// on every event.
//
//   slate::DecodedCache<MyRecord> records(/*max_entries=*/100000);
//   SLATE_ASSIGN_OR_RETURN(auto* entry, records.Load(state, key,
//       [](absl::string_view bytes, MyRecord* r) {
//         return r->ParseFromArray(bytes.data(), bytes.size())
//                    ? absl::OkStatus() : absl::DataLossError("...");
//       }));
//   entry->value.set_count(entry->value.count() + 1);
//   records.MarkWritten(entry);
//   ...
//   // In Flush(state):
//   return records.Flush([&](const std::string& key, const MyRecord& r,
//                            bool present) {
//     if (present) state.Put(key, r.SerializeAsString());
//     else state.Delete(key);
//     return absl::OkStatus();
//   });
//   // In Discard(): records.Clear();
//
// Not thread-safe (a projection folds on one thread at a time).
#ifndef SLATE_LIB_PROJECTION_DECODED_CACHE_H_
#define SLATE_LIB_PROJECTION_DECODED_CACHE_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/node_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "lib/base/status_macros.h"
#include "lib/projection/key_sort.h"
#include "lib/projection/projection.h"

namespace slate {

// The least of the `keep` greatest `ticks` (max when keep is 0): entries
// used at or after it are the `keep` used last. REQUIRES: keep <=
// ticks.size().
inline uint64_t MinKeptTick(std::vector<uint64_t> ticks, size_t keep) {
  if (keep == 0) return std::numeric_limits<uint64_t>::max();
  const auto first_kept = ticks.end() - static_cast<std::ptrdiff_t>(keep);
  std::nth_element(ticks.begin(), first_kept, ticks.end());
  return *first_kept;
}

template <typename T>
class DecodedCache {
 public:
  struct Entry {
    T value{};
    bool present = false;  // false: the key has (or will have) no value.
    bool dirty = false;    // Changed since the last Flush.
    const std::string* key = nullptr;
    uint64_t used = 0;  // The cache's tick when last returned to a caller.
  };

  // After a Flush, a cache holding more than `max_entries` entries keeps
  // only the max_entries / 2 that Peek, Load or Insert returned last, so
  // the records a fold keeps touching stay decoded. Dropped entries are
  // clean; their memory serves the next keys (a T with a Clear() member is
  // cleared for reuse, any other T is assigned T{}). over_bound() tells
  // when a Flush would drop some (Projection::WantsFlush).
  explicit DecodedCache(size_t max_entries) : max_entries_(max_entries) {}

  // The cached entry of `key`, or nullptr if it is not cached.
  Entry* Peek(absl::string_view key) {
    auto it = map_.find(key);
    if (it == map_.end()) return nullptr;
    it->second.used = ++tick_;
    return &it->second;
  }

  // The entry of `key`, decoded from `state` on a miss with
  // decode(bytes, &value) -> absl::Status. A key the state does not hold
  // gives an entry with present = false. Entries stay valid until Flush or
  // Clear.
  template <typename Decode>
  absl::StatusOr<Entry*> Load(ProjectionState& state, absl::string_view key,
                              Decode&& decode) {
    if (Entry* hit = Peek(key)) return hit;
    SLATE_ASSIGN_OR_RETURN(std::optional<std::string> bytes, state.Get(key));
    Entry* e = Insert(key);
    if (bytes.has_value()) {
      absl::Status st = decode(*bytes, &e->value);
      if (!st.ok()) {
        // No half-decoded entry stays behind.
        spare_.push_back(map_.extract(map_.find(key)));
        return st;
      }
    }
    e->present = bytes.has_value();
    return e;
  }

  // The entry of `key`, inserted absent (present = false, value T{}) if it
  // is not cached, without reading the state: for a value about to be
  // replaced whole.
  Entry* Insert(absl::string_view key) {
    if (spare_.empty()) {
      auto [it, inserted] = map_.try_emplace(key);
      if (inserted) it->second.key = &it->first;
      it->second.used = ++tick_;
      return &it->second;
    }
    // A node kept by an earlier Flush over the bound: its allocation, its
    // key's buffer and what Reset keeps of the value serve the new key.
    typename Map::node_type node = std::move(spare_.back());
    spare_.pop_back();
    node.key().assign(key.data(), key.size());
    auto r = map_.insert(std::move(node));
    if (!r.inserted) {
      spare_.push_back(std::move(r.node));  // Cached already.
      r.position->second.used = ++tick_;
      return &r.position->second;
    }
    Entry& e = r.position->second;
    Reset(e.value);
    e.present = false;
    e.dirty = false;
    e.key = &r.position->first;
    e.used = ++tick_;
    return &e;
  }

  // The entry's value is to be written at the next Flush.
  void MarkWritten(Entry* e) {
    e->present = true;
    MarkDirty(e);
  }
  // The entry's key is to be deleted at the next Flush.
  void MarkDeleted(Entry* e) {
    e->present = false;
    e->value = T{};
    MarkDirty(e);
  }

  bool has_dirty() const { return !dirty_.empty(); }
  // The entries changed since the last Flush, in no particular order.
  const std::vector<Entry*>& dirty_entries() const { return dirty_; }
  size_t size() const { return map_.size(); }
  // More entries than the bound: the next Flush drops some.
  bool over_bound() const { return map_.size() > max_entries_; }

  // Calls write(key, value, present) -> absl::Status for every changed
  // entry in key order, then marks them clean. On an error the remaining
  // entries stay dirty.
  template <typename Write>
  absl::Status Flush(Write&& write) {
    SortByKeyBytes(dirty_,
                   [](const Entry* e) { return absl::string_view(*e->key); });
    for (size_t i = 0; i < dirty_.size(); ++i) {
      Entry* e = dirty_[i];
      absl::Status st = write(*e->key, e->value, e->present);
      if (!st.ok()) {
        dirty_.erase(dirty_.begin(), dirty_.begin() + static_cast<long>(i));
        return st;
      }
      e->dirty = false;
    }
    dirty_.clear();
    if (map_.size() > max_entries_) {
      // Keeps the max_entries / 2 entries used last, so the records a fold
      // keeps touching stay decoded and the next batches have room.
      std::vector<uint64_t> ticks;
      ticks.reserve(map_.size());
      for (const auto& [key, e] : map_) ticks.push_back(e.used);
      Recycle(MinKeptTick(std::move(ticks), max_entries_ / 2));
    }
    return absl::OkStatus();
  }

  // Forgets everything, written or not.
  void Clear() {
    dirty_.clear();
    Recycle(std::numeric_limits<uint64_t>::max());
  }

  // Entries kept for reuse after a Flush over the bound or a Clear (their
  // values still hold the old data until reused): for tests.
  size_t spare_entries() const { return spare_.size(); }

 private:
  void MarkDirty(Entry* e) {
    if (!e->dirty) {
      e->dirty = true;
      dirty_.push_back(e);
    }
  }

  using Map = absl::node_hash_map<std::string, Entry>;

  // Moves the entries last used before `min_kept` from the map into
  // spare_ instead of destroying them: a fold that runs past the bound
  // refills the cache at once, and destroying and allocating every record
  // and clock again was ~20 % of an SLA rebuild (malloc, free and glibc's
  // consolidation of freed chunks). At most the cache's largest size is
  // kept, entries and spares together.
  void Recycle(uint64_t min_kept) {
    spare_.reserve(spare_.size() + map_.size());
    for (auto it = map_.begin(); it != map_.end();) {
      if (it->second.used >= min_kept) {
        ++it;
      } else {
        spare_.push_back(map_.extract(it++));
      }
    }
  }

  // A value as T{} leaves it, keeping what it can of its allocations: a
  // T with Clear() (a protobuf message, or a struct saying so) is cleared.
  static void Reset(T& value) {
    if constexpr (requires { value.Clear(); }) {
      value.Clear();
    } else {
      value = T{};
    }
  }

  size_t max_entries_;
  uint64_t tick_ = 0;  // Entries returned to callers so far.
  Map map_;
  std::vector<Entry*> dirty_;
  std::vector<typename Map::node_type> spare_;
};

}  // namespace slate

#endif  // SLATE_LIB_PROJECTION_DECODED_CACHE_H_
