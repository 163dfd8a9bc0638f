#include "lib/projection/quantile_sketch.h"

#include <algorithm>
#include <cmath>

#include "absl/status/status.h"

namespace slate {
namespace {

// gamma = (1 + a) / (1 - a).
const double kGamma = (1 + QuantileSketch::kRelativeAccuracy) /
                      (1 - QuantileSketch::kRelativeAccuracy);
const double kLogGamma = std::log(kGamma);

uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
int64_t UnZigZag(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

bool GetVarint(absl::string_view* in, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift <= 63 && !in->empty(); shift += 7) {
    const auto byte = static_cast<unsigned char>((*in)[0]);
    in->remove_prefix(1);
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *v = result;
      return true;
    }
  }
  return false;
}

}  // namespace

int32_t QuantileSketch::BucketOf(int64_t value) {
  return static_cast<int32_t>(
      std::ceil(std::log(static_cast<double>(value)) / kLogGamma));
}

double QuantileSketch::BucketValue(int32_t index) {
  return 2 * std::pow(kGamma, index) / (kGamma + 1);
}

void QuantileSketch::AddToBucket(int32_t index, int64_t count) {
  auto it = std::lower_bound(
      buckets_.begin(), buckets_.end(), index,
      [](const std::pair<int32_t, int64_t>& b, int32_t i) { return b.first < i; });
  if (it == buckets_.end() || it->first != index) {
    buckets_.insert(it, {index, count});
    return;
  }
  it->second += count;
  if (it->second == 0) buckets_.erase(it);
}

void QuantileSketch::Add(int64_t value, int64_t count) {
  if (count == 0) return;
  count_ += count;
  if (value <= 0) {
    zero_count_ += count;
    return;
  }
  AddToBucket(BucketOf(value), count);
}

void QuantileSketch::MergeBuckets(const QuantileSketch& other, int64_t sign) {
  if (other.buckets_.size() <= 2) {
    for (const auto& [index, count] : other.buckets_) {
      AddToBucket(index, sign * count);
    }
    return;
  }
  // Both sorted: one pass.
  std::vector<std::pair<int32_t, int64_t>> merged;
  merged.reserve(buckets_.size() + other.buckets_.size());
  auto a = buckets_.begin();
  auto b = other.buckets_.begin();
  while (a != buckets_.end() || b != other.buckets_.end()) {
    if (b == other.buckets_.end() ||
        (a != buckets_.end() && a->first < b->first)) {
      merged.push_back(*a++);
    } else if (a == buckets_.end() || b->first < a->first) {
      merged.emplace_back(b->first, sign * b->second);
      ++b;
    } else {
      const int64_t sum = a->second + sign * b->second;
      if (sum != 0) merged.emplace_back(a->first, sum);
      ++a;
      ++b;
    }
  }
  buckets_ = std::move(merged);
}

void QuantileSketch::Merge(const QuantileSketch& other) {
  zero_count_ += other.zero_count_;
  count_ += other.count_;
  MergeBuckets(other, 1);
}

void QuantileSketch::Subtract(const QuantileSketch& other) {
  zero_count_ -= other.zero_count_;
  count_ -= other.count_;
  MergeBuckets(other, -1);
}

bool QuantileSketch::IsNonNegative() const {
  if (zero_count_ < 0) return false;
  return std::all_of(buckets_.begin(), buckets_.end(),
                     [](const auto& b) { return b.second > 0; });
}

double QuantileSketch::Quantile(double q) const {
  q = std::clamp(q, 0.0, 1.0);
  if (count_ <= 0) return 0;
  // 0-based rank of the wanted value among the count_ values.
  const auto rank =
      static_cast<int64_t>(std::floor(q * static_cast<double>(count_ - 1)));
  int64_t seen = zero_count_;
  if (seen > rank) return 0;
  for (const auto& [index, count] : buckets_) {
    seen += count;
    if (seen > rank) return BucketValue(index);
  }
  return buckets_.empty() ? 0 : BucketValue(buckets_.back().first);
}

std::string QuantileSketch::Encode() const {
  std::string out;
  AppendEncoded(&out);
  return out;
}

void QuantileSketch::AppendEncoded(std::string* out) const {
  // varint(zigzag(zero_count)) varint(buckets) then per bucket, ascending:
  // varint(zigzag(index - previous index)) varint(zigzag(count)).
  PutVarint(out, ZigZag(zero_count_));
  PutVarint(out, buckets_.size());
  int64_t previous = 0;
  for (const auto& [index, count] : buckets_) {
    PutVarint(out, ZigZag(static_cast<int64_t>(index) - previous));
    PutVarint(out, ZigZag(count));
    previous = index;
  }
}

absl::StatusOr<QuantileSketch> QuantileSketch::Decode(absl::string_view in) {
  auto corrupt = [](const char* what) {
    return absl::DataLossError(
        std::string("quantile sketch: undecodable bytes (") + what + ")");
  };
  QuantileSketch s;
  uint64_t v = 0;
  uint64_t n = 0;
  if (!GetVarint(&in, &v)) return corrupt("zero count");
  s.zero_count_ = UnZigZag(v);
  s.count_ = s.zero_count_;
  if (!GetVarint(&in, &n) || n > in.size()) return corrupt("bucket count");
  int64_t index = 0;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t delta = 0;
    uint64_t count = 0;
    if (!GetVarint(&in, &delta) || !GetVarint(&in, &count)) {
      return corrupt("bucket");
    }
    index += UnZigZag(delta);
    const int64_t c = UnZigZag(count);
    if (c == 0 || (i > 0 && UnZigZag(delta) <= 0) || index < INT32_MIN ||
        index > INT32_MAX) {
      return corrupt("bucket order");
    }
    s.buckets_.emplace_back(static_cast<int32_t>(index), c);
    s.count_ += c;
  }
  if (!in.empty()) return corrupt("trailing bytes");
  return s;
}

}  // namespace slate
