// KeyFilter: a Bloom filter over the keys a projection's column family has
// been given since it was empty, so a read of a key never written is
// answered "absent" without asking RocksDB (the runner's state cache stops
// knowing that once it is cleared over its budget; the lookups of new
// records' keys were ~8 % of an SLA rebuild: bench/RESULTS.md).
//
//   slate::KeyFilter seen;
//   seen.Add("rec/incident/1");
//   seen.MayContain("rec/incident/1");  // true, always
//   seen.MayContain("rec/incident/2");  // false, except for ~1 % of keys
//
// Never a false "absent" for an added key. It grows by adding filters of
// twice the size as keys come (about 10 bits and 1 % false "maybe" per
// key); past `max_bytes` (default 64 MiB) it gives up: valid() turns false
// and MayContain answers true for every key. Not thread-safe.
#ifndef SLATE_LIB_PROJECTION_KEY_FILTER_H_
#define SLATE_LIB_PROJECTION_KEY_FILTER_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"

namespace slate {

class KeyFilter {
 public:
  explicit KeyFilter(size_t max_bytes = size_t{64} << 20)
      : max_bytes_(max_bytes) {}

  // False after Invalidate or once the filter passed max_bytes: every key
  // may then be present.
  bool valid() const { return valid_; }
  // Empty and valid (the column family holds no keys).
  void Reset() {
    stages_.clear();
    bytes_ = 0;
    valid_ = true;
  }
  // Keys may now be present that were never added.
  void Invalidate() {
    stages_.clear();
    bytes_ = 0;
    valid_ = false;
  }

  void Add(absl::string_view key) {
    if (!valid_) return;
    if (stages_.empty() || stages_.back().keys == stages_.back().capacity) {
      const size_t capacity = stages_.empty()
                                  ? kFirstCapacity
                                  : stages_.back().capacity * 2;
      const size_t blocks = (capacity * kBitsPerKey + 511) / 512;
      if (bytes_ + blocks * 64 > max_bytes_) {
        Invalidate();
        return;
      }
      stages_.push_back(Stage{std::vector<uint64_t>(blocks * 8), capacity, 0});
      bytes_ += blocks * 64;
    }
    Stage& s = stages_.back();
    const uint64_t h = Hash(key);
    uint64_t* block = &s.words[(Block(h, s) * 8)];
    uint32_t probe = static_cast<uint32_t>(h);
    for (int i = 0; i < kProbes; ++i) {
      block[(probe >> 6) & 7] |= uint64_t{1} << (probe & 63);
      probe = Next(probe, h);
    }
    ++s.keys;
  }

  // False only if `key` was never added since the last Reset (and the
  // filter is valid).
  bool MayContain(absl::string_view key) const {
    if (!valid_) return true;
    const uint64_t h = Hash(key);
    for (const Stage& s : stages_) {
      const uint64_t* block = &s.words[(Block(h, s) * 8)];
      uint32_t probe = static_cast<uint32_t>(h);
      bool all = true;
      for (int i = 0; i < kProbes && all; ++i) {
        all = (block[(probe >> 6) & 7] >> (probe & 63)) & 1;
        probe = Next(probe, h);
      }
      if (all) return true;
    }
    return false;
  }

  size_t bytes() const { return bytes_; }

 private:
  // One Bloom filter of `capacity` keys in 512-bit blocks (a key's probes
  // all fall in one block: one cache line per stage looked up).
  struct Stage {
    std::vector<uint64_t> words;
    size_t capacity = 0;
    size_t keys = 0;
  };
  static constexpr size_t kFirstCapacity = 4096;
  static constexpr size_t kBitsPerKey = 10;
  static constexpr int kProbes = 6;

  static uint64_t Hash(absl::string_view key) {
    return absl::HashOf(key);
  }
  static size_t Block(uint64_t h, const Stage& s) {
    // The high half picks the block (multiply-shift, no division).
    const uint64_t blocks = s.words.size() / 8;
    return static_cast<size_t>(((h >> 32) * blocks) >> 32);
  }
  static uint32_t Next(uint32_t probe, uint64_t h) {
    // Double hashing inside the block: an odd step from a remix of h.
    return probe +
           (static_cast<uint32_t>((h * 0x9E3779B97F4A7C15u) >> 40) | 1u);
  }

  size_t max_bytes_;
  std::vector<Stage> stages_;
  size_t bytes_ = 0;
  bool valid_ = false;
};

}  // namespace slate

#endif  // SLATE_LIB_PROJECTION_KEY_FILTER_H_
