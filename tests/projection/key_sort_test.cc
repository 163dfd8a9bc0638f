// SortByKeyBytes against std::sort (the obvious oracle) on keys shaped like
// a projection's: long shared prefixes, prefixes of other keys, empty keys,
// duplicates, and bytes 0x00 and 0xff.
#include "lib/projection/key_sort.h"

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace slate {
namespace {

std::vector<std::string> SortedByOracle(std::vector<std::string> keys) {
  std::sort(keys.begin(), keys.end());
  return keys;
}

std::vector<std::string> SortedByRadix(const std::vector<std::string>& keys) {
  std::vector<const std::string*> ptrs;
  for (const std::string& k : keys) ptrs.push_back(&k);
  SortByKeyBytes(ptrs, [](const std::string* k) { return absl::string_view(*k); });
  std::vector<std::string> out;
  for (const std::string* k : ptrs) out.push_back(*k);
  return out;
}

std::string RandomKey(std::mt19937_64& rng) {
  static const char* kPrefixes[] = {"clk/incident/INC", "clk/change/CHG",
                                    "due/", "rec/incident/INC", "", "c"};
  std::string key = kPrefixes[rng() % 6];
  // Numbers of varying width, so some keys are prefixes of others.
  absl::StrAppend(&key, rng() % 5000);
  if (rng() % 3 == 0) absl::StrAppend(&key, "|p", rng() % 3, "|", rng() % 4);
  if (rng() % 17 == 0) key.push_back('\0');
  if (rng() % 19 == 0) key.push_back('\xff');
  if (rng() % 23 == 0) key.clear();
  return key;
}

TEST(KeySortTest, AgreesWithStdSortOnProjectionShapedKeys) {
  std::mt19937_64 rng(20261207);
  for (size_t n : {0, 1, 2, 47, 48, 49, 300, 5000, 40000}) {
    std::vector<std::string> keys;
    for (size_t i = 0; i < n; ++i) keys.push_back(RandomKey(rng));
    EXPECT_EQ(SortedByRadix(keys), SortedByOracle(keys)) << "n=" << n;
  }
}

TEST(KeySortTest, AgreesWithStdSortOnRandomBytes) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 50; ++round) {
    std::vector<std::string> keys;
    const size_t n = rng() % 2000;
    for (size_t i = 0; i < n; ++i) {
      std::string k(rng() % 6, '\0');
      // A small alphabet with the extremes makes ties and prefixes common.
      for (char& c : k) c = "\x00\x01\x7f\x80\xff"[rng() % 5];
      keys.push_back(k);
    }
    EXPECT_EQ(SortedByRadix(keys), SortedByOracle(keys)) << "round " << round;
  }
}

TEST(KeySortTest, AllKeysEqualOrSharingEverything) {
  std::vector<std::string> same(500, "clk/incident/INC1|p|2|00000001");
  EXPECT_EQ(SortedByRadix(same), same);
  std::vector<std::string> chain;
  for (int i = 200; i >= 0; --i) chain.push_back(std::string(i, 'a'));
  EXPECT_EQ(SortedByRadix(chain), SortedByOracle(chain));
}

}  // namespace
}  // namespace slate
