// lib/cluster/partitioning: the tenant -> partition hash is FNV-1a 64 mod N,
// checked against the published FNV test vectors and against a slow
// implementation that multiplies bit by bit (no 64-bit overflow tricks).
#include "lib/cluster/partitioning.h"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace slate::cluster {
namespace {

// a * b mod 2^64 by shift-and-add over b's bits.
uint64_t SlowMul(uint64_t a, uint64_t b) {
  uint64_t r = 0;
  for (int bit = 0; bit < 64; ++bit) {
    if ((b >> bit) & 1u) r += a << bit;
  }
  return r;
}

uint64_t SlowFnv1a64(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ull;  // offset basis
  const uint64_t prime = (1ull << 40) + (1ull << 8) + 0xb3;  // 2^40 + 2^8 + 0xb3
  for (unsigned char c : s) h = SlowMul(h ^ c, prime);
  return h;
}

TEST(PartitioningTest, Fnv1aMatchesPublishedVectors) {
  // From the FNV reference (isthe.com/chongo/tech/comp/fnv), FNV-1a 64.
  EXPECT_EQ(Fnv1a64(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(Fnv1a64("a"), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(Fnv1a64("foobar"), 0x85944171f73967e8ull);
}

TEST(PartitioningTest, HashPartitionEqualsSlowOracle) {
  std::mt19937_64 rng(19);
  const std::string alphabet = "abcdefghijklmnopqrstuvwxyz0123456789_-";
  for (int i = 0; i < 5000; ++i) {
    std::string tenant;
    const int len = 1 + static_cast<int>(rng() % 32);
    for (int k = 0; k < len; ++k) tenant += alphabet[rng() % alphabet.size()];
    const int n = 1 + static_cast<int>(rng() % 64);
    ASSERT_EQ(Fnv1a64(tenant), SlowFnv1a64(tenant)) << tenant;
    ASSERT_EQ(HashPartition(tenant, n), static_cast<int>(SlowFnv1a64(tenant) % n))
        << tenant << " of " << n;
  }
}

// Stored placement: these must never change (a changed hash would move
// tenants away from their history). Values computed with Python's integers.
TEST(PartitioningTest, GoldenPlacements) {
  struct Case {
    const char* tenant;
    int partitions;
    int want;
  };
  for (const Case& c : std::vector<Case>{{"default", 16, 14},
                                         {"acme", 16, 15},
                                         {"globex", 16, 14},
                                         {"acme", 7, 3},
                                         {"initech", 3, 0},
                                         {"x", 1, 0}}) {
    EXPECT_EQ(HashPartition(c.tenant, c.partitions), c.want)
        << c.tenant << " of " << c.partitions;
  }
}

TEST(PartitioningTest, PositionsFollowTheMarker) {
  EXPECT_EQ(SequenceOf(0), 2u);
  EXPECT_EQ(PositionOf(2), 0u);
  for (uint64_t p : {0ull, 1ull, 41ull, 1ull << 40}) EXPECT_EQ(PositionOf(SequenceOf(p)), p);
}

TEST(PartitioningTest, NamesDeriveFromThePrefix) {
  ClusterNames names("Slate-2");
  EXPECT_EQ(names.Stream(3), "Slate-2_P3");
  EXPECT_EQ(names.Subjects(3), "slate-2.p3.>");
  EXPECT_EQ(names.BatchSubject(3), "slate-2.p3.batch");
  EXPECT_EQ(names.MarkerSubject(3), "slate-2.p3.marker");
  EXPECT_EQ(names.LeaseBucket(), "Slate-2_LEASES");
  EXPECT_EQ(ClusterNames::LeaseKey(12), "p12");
  EXPECT_TRUE(ClusterNames::Validate("SLATE").ok());
  EXPECT_EQ(ClusterNames::Validate("").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ClusterNames::Validate("a.b").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ClusterNames::Validate(std::string(33, 'a')).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CommandKey("acme", "c1"), "acme:c1");
}

}  // namespace
}  // namespace slate::cluster
