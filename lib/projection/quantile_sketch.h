// QuantileSketch: a mergeable quantile sketch of non-negative integers
// (durations in microseconds) with a relative-error guarantee.
//
//   slate::QuantileSketch s;
//   for (int64_t d : durations_us) s.Add(d);
//   double p90 = s.Quantile(0.9);      // within 1 % of the exact p90
//   other.Merge(s);                    // partitions combine exactly
//   std::string bytes = s.Encode();    // deterministic bytes
//
// Which sketch and why: DDSketch (Masson, Rim, Lee, VLDB 2019) with an
// unbounded, sparse set of logarithmic buckets and no bucket collapsing.
// - Bucket i holds the values v with gamma^(i-1) < v <= gamma^i, where
//   gamma = (1 + a) / (1 - a); a quantile is answered with 2 gamma^i /
//   (gamma + 1), which is within a relative error a of every value in the
//   bucket. a = kRelativeAccuracy = 0.8 %: the issue asks for at most 1 %,
//   and the margin absorbs floating-point rounding of log() at bucket edges.
// - Without collapsing, the sketch is a pure function of the multiset of
//   values added: the same values in any order, split into any partitions
//   and merged, give equal sketches and byte-identical Encode() output. That
//   is what a projection needs (rebuilds are byte-identical, partitions
//   merge exactly), and it makes removal exact too: Subtract() of values
//   that were added restores the earlier sketch, which the KPI projection
//   uses when an out-of-order event moves a record's contribution.
//   (KLL / t-digest merges depend on order; GK is not mergeable.)
// - Size: durations from 1 us to 100 years span ln(3.2e15)/ln(gamma) ~ 2200
//   buckets at most; real duration distributions occupy a few hundred.
// Zero is counted separately (log(0) has no bucket).
//
// Quantile definition: for n values sorted ascending x[0..n-1], quantile q
// is x[floor(q * (n - 1))]; the sketch returns a value within
// kRelativeAccuracy of it (relative to it).
#ifndef SLATE_LIB_PROJECTION_QUANTILE_SKETCH_H_
#define SLATE_LIB_PROJECTION_QUANTILE_SKETCH_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace slate {

class QuantileSketch {
 public:
  static constexpr double kRelativeAccuracy = 0.008;

  // Adds `count` copies of `value` (count may be negative: a delta sketch,
  // see Subtract). Negative values are counted as 0.
  void Add(int64_t value, int64_t count = 1);
  // Adds every count of `other` (exact; order-independent).
  void Merge(const QuantileSketch& other);
  // Removes every count of `other`. Removing values that were added gives
  // back exactly the sketch before they were added.
  void Subtract(const QuantileSketch& other);

  // Sum of counts (for a sketch with only non-negative counts: the number
  // of values).
  int64_t count() const { return count_; }
  // No non-zero count.
  bool empty() const { return zero_count_ == 0 && buckets_.empty(); }
  // Whether every count is >= 0 (a sketch of values, not a delta).
  bool IsNonNegative() const;

  // The q-quantile, 0 <= q <= 1 (clamped), within kRelativeAccuracy of the
  // exact one. REQUIRES: count() > 0 and IsNonNegative().
  double Quantile(double q) const;

  // Deterministic bytes: equal sketches give equal bytes.
  std::string Encode() const;
  // Appends Encode()'s bytes to `out`.
  void AppendEncoded(std::string* out) const;
  // kDataLoss on bytes Encode() did not produce.
  static absl::StatusOr<QuantileSketch> Decode(absl::string_view bytes);

  // The bucket of a value > 0, and the value a bucket reports.
  static int32_t BucketOf(int64_t value);
  static double BucketValue(int32_t index);

  friend bool operator==(const QuantileSketch& a, const QuantileSketch& b) {
    return a.zero_count_ == b.zero_count_ && a.buckets_ == b.buckets_;
  }
  friend bool operator!=(const QuantileSketch& a, const QuantileSketch& b) {
    return !(a == b);
  }

 private:
  void AddToBucket(int32_t index, int64_t count);
  // this += sign * other's buckets.
  void MergeBuckets(const QuantileSketch& other, int64_t sign);

  int64_t zero_count_ = 0;
  // (bucket index, count), ascending by index; never holds a zero count.
  // A sorted vector, not a map: a record's contribution holds one bucket
  // per sketch, and the projection copies, merges and drops them per
  // record it flushes.
  std::vector<std::pair<int32_t, int64_t>> buckets_;
  int64_t count_ = 0;
};

}  // namespace slate

#endif  // SLATE_LIB_PROJECTION_QUANTILE_SKETCH_H_
