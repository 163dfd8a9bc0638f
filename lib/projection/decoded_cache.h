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
#include <optional>
#include <string>
#include <vector>

#include "absl/container/node_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "lib/base/status_macros.h"
#include "lib/projection/projection.h"

namespace slate {

template <typename T>
class DecodedCache {
 public:
  struct Entry {
    T value{};
    bool present = false;  // false: the key has (or will have) no value.
    bool dirty = false;    // Changed since the last Flush.
    const std::string* key = nullptr;
  };

  // After a Flush, a cache holding more than `max_entries` entries drops
  // them all (they are clean then) and refills from the state.
  explicit DecodedCache(size_t max_entries) : max_entries_(max_entries) {}

  // The cached entry of `key`, or nullptr if it is not cached.
  Entry* Peek(absl::string_view key) {
    auto it = map_.find(key);
    return it == map_.end() ? nullptr : &it->second;
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
    T value{};
    if (bytes.has_value()) SLATE_RETURN_IF_ERROR(decode(*bytes, &value));
    Entry* e = Insert(key);
    e->value = std::move(value);
    e->present = bytes.has_value();
    return e;
  }

  // The entry of `key`, inserted absent (present = false, value T{}) if it
  // is not cached, without reading the state: for a value about to be
  // replaced whole.
  Entry* Insert(absl::string_view key) {
    auto [it, inserted] = map_.try_emplace(key);
    if (inserted) it->second.key = &it->first;
    return &it->second;
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

  // Calls write(key, value, present) -> absl::Status for every changed
  // entry in key order, then marks them clean. On an error the remaining
  // entries stay dirty.
  template <typename Write>
  absl::Status Flush(Write&& write) {
    std::sort(dirty_.begin(), dirty_.end(),
              [](const Entry* a, const Entry* b) { return *a->key < *b->key; });
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
    if (map_.size() > max_entries_) map_.clear();
    return absl::OkStatus();
  }

  // Forgets everything, written or not.
  void Clear() {
    dirty_.clear();
    map_.clear();
  }

 private:
  void MarkDirty(Entry* e) {
    if (!e->dirty) {
      e->dirty = true;
      dirty_.push_back(e);
    }
  }

  size_t max_entries_;
  absl::node_hash_map<std::string, Entry> map_;
  std::vector<Entry*> dirty_;
};

}  // namespace slate

#endif  // SLATE_LIB_PROJECTION_DECODED_CACHE_H_
