// FUZZ_CHECK: a property check inside a fuzz target. A failed check prints
// what broke and aborts, which libFuzzer records as a crash (and saves the
// input) and the replay test reports as a failure.
//
//   FUZZ_CHECK(cal->Between(t, *r) == d, "Between(t, Add(t, d)) != d: ",
//              absl::FormatDuration(cal->Between(t, *r)));
//
// FuzzInput: reads typed values from the fuzzer's bytes, front to back; past
// the end every read returns zero (or the low end of its range), so any
// input, even an empty one, is a valid program.
#ifndef SLATE_TESTS_FUZZ_FUZZ_CHECK_H_
#define SLATE_TESTS_FUZZ_FUZZ_CHECK_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"

#define FUZZ_CHECK(cond, ...)                                              \
  do {                                                                     \
    if (!(cond)) {                                                         \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK(%s) failed: %s\n", __FILE__, \
                   __LINE__, #cond, absl::StrCat(__VA_ARGS__).c_str());    \
      std::abort();                                                        \
    }                                                                      \
  } while (0)

namespace slate::fuzz {

class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  size_t remaining() const { return size_ - pos_; }

  uint8_t Byte() { return pos_ < size_ ? data_[pos_++] : 0; }

  // Little-endian, missing bytes are zero.
  uint64_t U64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= uint64_t{Byte()} << (8 * i);
    return v;
  }

  // Uniform-ish in [lo, hi]. REQUIRES: lo <= hi.
  int64_t Range(int64_t lo, int64_t hi) {
    const uint64_t span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
    if (span == UINT64_MAX) return static_cast<int64_t>(U64());
    return lo + static_cast<int64_t>(U64() % (span + 1));
  }

  bool Bool() { return (Byte() & 1) != 0; }

  // The rest of the input as a string.
  std::string Rest() {
    std::string s(reinterpret_cast<const char*>(data_ + pos_), size_ - pos_);
    pos_ = size_;
    return s;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

}  // namespace slate::fuzz

#endif  // SLATE_TESTS_FUZZ_FUZZ_CHECK_H_
