// KeyFilter against a std::set (the obvious oracle): it never answers
// "absent" for a key added since the last Reset, at any size (through
// several of its growth stages), and it answers "absent" for most keys
// never added; invalid (before Reset, after Invalidate or past its byte
// bound) it answers "maybe" for every key.
#include "lib/projection/key_filter.h"

#include <random>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace slate {
namespace {

std::string RandomKey(std::mt19937_64& rng) {
  static const char* kPrefixes[] = {"clk/incident/INC", "rec/change/CHG",
                                    "due/", "t/acme/rec/incident/INC", ""};
  std::string key = kPrefixes[rng() % 5];
  absl::StrAppend(&key, rng() % 200000);
  if (rng() % 3 == 0) absl::StrAppend(&key, "|p", rng() % 3, "|", rng() % 4);
  if (rng() % 17 == 0) key.push_back('\0');
  return key;
}

TEST(KeyFilterTest, NeverForgetsAnAddedKeyAndRejectsMostOthers) {
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    std::mt19937_64 rng(seed);
    KeyFilter filter;
    filter.Reset();
    std::set<std::string> added;
    size_t absent_asked = 0, false_maybe = 0;
    // 4096 keys fill the first stage: 60000 go through four stages.
    for (int step = 0; step < 60000; ++step) {
      const std::string key = RandomKey(rng);
      if (rng() % 2 == 0) {
        filter.Add(key);
        added.insert(key);
      } else if (added.count(key) != 0) {
        ASSERT_TRUE(filter.MayContain(key)) << "seed " << seed << " " << key;
      } else {
        ++absent_asked;
        if (filter.MayContain(key)) ++false_maybe;
      }
    }
    ASSERT_TRUE(filter.valid());
    for (const std::string& key : added) {
      ASSERT_TRUE(filter.MayContain(key)) << "seed " << seed << " " << key;
    }
    // ~1 % expected per stage asked; 5 % leaves room for four stages.
    ASSERT_GT(absent_asked, 10000u);
    EXPECT_LT(false_maybe * 20, absent_asked)
        << false_maybe << " of " << absent_asked;
    filter.Reset();
    size_t still = 0;
    for (const std::string& key : added) still += filter.MayContain(key);
    EXPECT_EQ(still, 0u) << "Reset empties the filter";
  }
}

TEST(KeyFilterTest, InvalidAnswersMaybeForEveryKey) {
  KeyFilter filter;
  EXPECT_FALSE(filter.valid());
  EXPECT_TRUE(filter.MayContain("never added"));
  filter.Reset();
  EXPECT_FALSE(filter.MayContain("never added"));
  filter.Add("a");
  filter.Invalidate();
  EXPECT_FALSE(filter.valid());
  EXPECT_TRUE(filter.MayContain("never added"));
  filter.Add("b");  // Ignored: stays invalid.
  EXPECT_TRUE(filter.MayContain("never added"));

  // Past its byte bound it gives up instead of answering wrongly.
  KeyFilter small(/*max_bytes=*/8 << 10);
  small.Reset();
  std::set<std::string> added;
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000 && small.valid(); ++i) {
    const std::string key = RandomKey(rng);
    small.Add(key);
    added.insert(key);
  }
  EXPECT_FALSE(small.valid());
  EXPECT_LE(small.bytes(), size_t{8} << 10);
  for (const std::string& key : added) ASSERT_TRUE(small.MayContain(key));
  EXPECT_TRUE(small.MayContain("never added"));
}

}  // namespace
}  // namespace slate
