// SortByKeyBytes: sorts items by a string key in byte order (as RocksDB's
// default comparator and std::string's operator< order them), faster than
// std::sort when the keys share long prefixes, as a projection's keys do
// ("clk/incident/INC0001|...", "clk/incident/INC0002|..."): a comparison
// sort compares those prefixes O(n log n) times; this most-significant-byte
// radix sort reads each key byte about once.
//
//   std::vector<const Entry*> dirty = ...;
//   slate::SortByKeyBytes(dirty, [](const Entry* e) {
//     return absl::string_view(*e->key);
//   });
//
// Not stable: items with equal keys end in no particular order.
#ifndef SLATE_LIB_PROJECTION_KEY_SORT_H_
#define SLATE_LIB_PROJECTION_KEY_SORT_H_

#include <algorithm>
#include <array>
#include <cstddef>
#include <vector>

#include "absl/strings/string_view.h"

namespace slate {
namespace key_sort_internal {

// Ranges this small go to std::sort (comparing from `depth` on).
inline constexpr size_t kSmallRange = 32;

// A key with its item: the sort reads key bytes through `key` directly,
// not through the item (one pointer less to follow per byte read).
template <typename T>
struct Keyed {
  absl::string_view key;
  T item;
};

// The bucket of a key at `depth`: 0 when the key ends before it (it sorts
// first), else 1 + the byte.
inline size_t Bucket(absl::string_view key, size_t depth) {
  return depth < key.size() ? 1 + static_cast<unsigned char>(key[depth]) : 0;
}

// The length of the prefix every key of [begin, end) shares from `depth`
// on (0 if the range is empty).
template <typename T>
size_t SharedPrefix(const Keyed<T>* begin, const Keyed<T>* end, size_t depth) {
  if (begin == end || begin->key.size() <= depth) return 0;
  absl::string_view first = begin->key.substr(depth);
  size_t shared = first.size();
  for (const Keyed<T>* p = begin + 1; p != end && shared > 0; ++p) {
    absl::string_view k =
        p->key.size() > depth ? p->key.substr(depth) : absl::string_view();
    size_t i = 0;
    const size_t limit = std::min(shared, k.size());
    while (i < limit && k[i] == first[i]) ++i;
    shared = i;
  }
  return shared;
}

template <typename T>
void Sort(Keyed<T>* begin, Keyed<T>* end, size_t depth,
          std::vector<Keyed<T>>& scratch) {
  while (static_cast<size_t>(end - begin) > kSmallRange) {
    // Skip the bytes every key shares in one pass.
    depth += SharedPrefix(begin, end, depth);
    std::array<size_t, 257> counts{};
    for (Keyed<T>* p = begin; p != end; ++p) ++counts[Bucket(p->key, depth)];
    const size_t n = static_cast<size_t>(end - begin);
    if (counts[0] == n) return;  // Every key ended here: all equal.
    std::array<size_t, 257> starts{};
    size_t at = 0;
    for (size_t b = 0; b < 257; ++b) {
      starts[b] = at;
      at += counts[b];
    }
    scratch.resize(n);
    std::array<size_t, 257> next = starts;
    for (Keyed<T>* p = begin; p != end; ++p) {
      scratch[next[Bucket(p->key, depth)]++] = std::move(*p);
    }
    std::move(scratch.begin(), scratch.begin() + static_cast<long>(n), begin);
    // Bucket 0 holds the keys that ended here: equal, in place. Recurse
    // into the others; the largest is handled by the loop (bounded stack).
    size_t largest = 1;
    for (size_t b = 2; b < 257; ++b) {
      if (counts[b] > counts[largest]) largest = b;
    }
    for (size_t b = 1; b < 257; ++b) {
      if (b == largest || counts[b] < 2) continue;
      Sort(begin + starts[b], begin + starts[b] + counts[b], depth + 1,
           scratch);
    }
    end = begin + starts[largest] + counts[largest];
    begin = begin + starts[largest];
    ++depth;
  }
  std::sort(begin, end, [depth](const Keyed<T>& a, const Keyed<T>& b) {
    absl::string_view ka = a.key, kb = b.key;
    ka.remove_prefix(std::min(depth, ka.size()));
    kb.remove_prefix(std::min(depth, kb.size()));
    return ka < kb;
  });
}

}  // namespace key_sort_internal

// KeyOf: (const T&) -> absl::string_view, valid while the sort runs.
template <typename T, typename KeyOf>
void SortByKeyBytes(std::vector<T>& items, const KeyOf& key_of) {
  using key_sort_internal::Keyed;
  std::vector<Keyed<T>> keyed;
  keyed.reserve(items.size());
  for (T& item : items) keyed.push_back({key_of(item), std::move(item)});
  std::vector<Keyed<T>> scratch;
  key_sort_internal::Sort(keyed.data(), keyed.data() + keyed.size(), 0,
                          scratch);
  for (size_t i = 0; i < items.size(); ++i) items[i] = std::move(keyed[i].item);
}

}  // namespace slate

#endif  // SLATE_LIB_PROJECTION_KEY_SORT_H_
