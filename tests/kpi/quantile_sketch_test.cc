// QuantileSketch against exact quantiles: the relative-error bound for p50,
// p90 and p99 on random data of several shapes, after merging partitions, and
// deterministic bytes (order-independent, exact subtraction, round trip).
#include "lib/projection/quantile_sketch.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace slate {
namespace {

constexpr uint32_t kSeed = 20261127;
constexpr double kBound = 0.01;  // The bound.

// The oracle: sorted values, element floor(q * (n - 1)).
double Exact(std::vector<int64_t> v, double q) {
  std::sort(v.begin(), v.end());
  return static_cast<double>(v[static_cast<size_t>(
      std::floor(q * static_cast<double>(v.size() - 1)))]);
}

void ExpectWithinBound(const QuantileSketch& s, const std::vector<int64_t>& v,
                       const std::string& what) {
  for (double q : {0.0, 0.5, 0.9, 0.99, 1.0}) {
    const double exact = Exact(v, q);
    const double got = s.Quantile(q);
    if (exact == 0) {
      EXPECT_EQ(got, 0) << what << " q=" << q;
    } else {
      EXPECT_LE(std::abs(got - exact) / exact, kBound)
          << what << " q=" << q << " exact=" << exact << " got=" << got;
    }
  }
}

// Durations in microseconds: uniform, log-uniform over 1 us..1 year,
// exponential around 4 hours, and heavy ties.
std::vector<int64_t> Draw(std::mt19937_64& rng, int shape, int n) {
  std::vector<int64_t> v(n);
  std::uniform_real_distribution<double> u(0, 1);
  for (int i = 0; i < n; ++i) {
    switch (shape) {
      case 0:
        v[i] = static_cast<int64_t>(u(rng) * 3.6e9);
        break;
      case 1:
        v[i] = static_cast<int64_t>(std::exp(u(rng) * std::log(3.2e13)));
        break;
      case 2:
        v[i] = static_cast<int64_t>(
            std::exponential_distribution<double>(1 / 1.44e10)(rng));
        break;
      default:
        v[i] = int64_t{60'000'000} * static_cast<int64_t>(u(rng) * 5);
        break;
    }
  }
  return v;
}

TEST(QuantileSketchTest, QuantilesWithinOnePercentOfExact) {
  std::printf("seed %u\n", kSeed);
  std::mt19937_64 rng(kSeed);
  for (int round = 0; round < 40; ++round) {
    const int shape = round % 4;
    const int n = 1 + static_cast<int>(rng() % 3000);
    std::vector<int64_t> v = Draw(rng, shape, n);
    QuantileSketch s;
    for (int64_t x : v) s.Add(x);
    ASSERT_EQ(s.count(), n);
    ExpectWithinBound(s, v, "round " + std::to_string(round));
  }
}

TEST(QuantileSketchTest, MergedPartitionsEqualTheWholeAndKeepTheBound) {
  std::mt19937_64 rng(kSeed + 1);
  for (int round = 0; round < 20; ++round) {
    std::vector<int64_t> v = Draw(rng, round % 4, 2000);
    const int parts = 1 + round % 5;
    std::vector<QuantileSketch> part(parts);
    QuantileSketch whole;
    for (int64_t x : v) {
      whole.Add(x);
      part[rng() % parts].Add(x);
    }
    QuantileSketch merged;
    for (const auto& p : part) merged.Merge(p);
    EXPECT_EQ(merged, whole);
    EXPECT_EQ(merged.Encode(), whole.Encode());
    ExpectWithinBound(merged, v, "merged round " + std::to_string(round));
  }
}

TEST(QuantileSketchTest, BytesDependOnlyOnTheMultiset) {
  std::mt19937_64 rng(kSeed + 2);
  std::vector<int64_t> v = Draw(rng, 1, 1000);
  QuantileSketch a;
  for (int64_t x : v) a.Add(x);
  std::shuffle(v.begin(), v.end(), rng);
  QuantileSketch b;
  for (int64_t x : v) b.Add(x);
  EXPECT_EQ(a.Encode(), b.Encode());
  // Adding then subtracting values restores the bytes exactly.
  QuantileSketch extra;
  for (int i = 0; i < 100; ++i)
    extra.Add(static_cast<int64_t>(rng() % 1000000));
  const std::string before = a.Encode();
  a.Merge(extra);
  EXPECT_NE(a.Encode(), before);
  a.Subtract(extra);
  EXPECT_EQ(a.Encode(), before);
  EXPECT_TRUE(a.IsNonNegative());
}

TEST(QuantileSketchTest, EncodeDecodeRoundTripsAndRejectsGarbage) {
  QuantileSketch s;
  s.Add(0, 3);
  s.Add(1);
  s.Add(7'200'000'000);
  s.Add(5, -2);  // A delta sketch: negative counts survive too.
  auto d = QuantileSketch::Decode(s.Encode());
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(*d, s);
  EXPECT_EQ(d->count(), s.count());
  EXPECT_FALSE(QuantileSketch::Decode("\x02\x05").ok());
  EXPECT_FALSE(QuantileSketch::Decode(s.Encode() + "x").ok());
  EXPECT_EQ(QuantileSketch::Decode("\x02\x05").status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_TRUE(QuantileSketch().Encode() ==
              QuantileSketch::Decode(QuantileSketch().Encode())->Encode());
}

TEST(QuantileSketchTest, BucketValueIsWithinTheAccuracyOfItsValues) {
  for (int64_t v :
       {int64_t{1}, int64_t{2}, int64_t{999}, int64_t{1000}, int64_t{1001},
        int64_t{86'400'000'000}, int64_t{3'155'760'000'000'000}}) {
    const double r = QuantileSketch::BucketValue(QuantileSketch::BucketOf(v));
    EXPECT_LE(std::abs(r - static_cast<double>(v)) / static_cast<double>(v),
              QuantileSketch::kRelativeAccuracy + 1e-12)
        << v;
  }
}

}  // namespace
}  // namespace slate
