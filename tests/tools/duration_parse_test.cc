// ParseBusinessDuration: worked examples, every refusal named in
// tools/duration_parse.h, overflow at the edge, and a property test against
// a grammar-and-__int128 oracle on random strings (fixed, printed seed).
#include "tools/duration_parse.h"

#include <cstdint>
#include <iostream>
#include <random>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace slate::tools {
namespace {

absl::Duration Parse(const std::string& text) {
  absl::StatusOr<absl::Duration> d = ParseBusinessDuration(text);
  EXPECT_TRUE(d.ok()) << text << ": " << d.status();
  return d.ok() ? *d : absl::InfiniteDuration();
}

std::string Error(const std::string& text) {
  absl::StatusOr<absl::Duration> d = ParseBusinessDuration(text);
  if (d.ok()) return absl::StrCat("parsed as ", absl::FormatDuration(*d));
  EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(d.status().message());
}

TEST(ParseBusinessDuration, SingleUnits) {
  EXPECT_EQ(Parse("90s"), absl::Seconds(90));
  EXPECT_EQ(Parse("45m"), absl::Minutes(45));
  EXPECT_EQ(Parse("4h"), absl::Hours(4));
  EXPECT_EQ(Parse("2d"), absl::Hours(48));  // A day is 24 business hours.
  EXPECT_EQ(Parse("0s"), absl::ZeroDuration());
  EXPECT_EQ(Parse("007m"), absl::Minutes(7));
}

TEST(ParseBusinessDuration, Combinations) {
  EXPECT_EQ(Parse("1h30m"), absl::Minutes(90));
  EXPECT_EQ(Parse("2d4h"), absl::Hours(52));
  EXPECT_EQ(Parse("1d1s"), absl::Hours(24) + absl::Seconds(1));
  EXPECT_EQ(Parse("2d4h30m15s"),
            absl::Hours(52) + absl::Minutes(30) + absl::Seconds(15));
  // Values need not be normalized.
  EXPECT_EQ(Parse("90m"), absl::Minutes(90));
  EXPECT_EQ(Parse("1h90m"), absl::Minutes(150));
}

TEST(ParseBusinessDuration, RefusesWithAMessageNamingTheProblem) {
  const std::string hint = " (use e.g. 90s, 45m, 4h, 2d, 1h30m)";
  EXPECT_EQ(Error(""), "duration \"\": is empty" + hint);
  EXPECT_EQ(Error("4"),
            "duration \"4\": a number needs a unit (d, h, m or s)" + hint);
  EXPECT_EQ(Error("h"), "duration \"h\": expected a number at \"h\"" + hint);
  EXPECT_EQ(Error("1hm"),
            "duration \"1hm\": unknown unit \"hm\" (units: d, h, m, s)" + hint);
  EXPECT_EQ(Error("1h30"),
            "duration \"1h30\": a number needs a unit (d, h, m or s)" + hint);
  EXPECT_EQ(Error("-1h"), "duration \"-1h\": must not have a sign" + hint);
  EXPECT_EQ(Error("+1h"), "duration \"+1h\": must not have a sign" + hint);
  EXPECT_EQ(Error("1.5h"),
            "duration \"1.5h\": fractions are not supported" + hint);
  EXPECT_EQ(Error("1,5h"),
            "duration \"1,5h\": fractions are not supported" + hint);
  EXPECT_EQ(Error("1w"),
            "duration \"1w\": unknown unit \"w\" (units: d, h, m, s)" + hint);
  EXPECT_EQ(Error("1ms"),
            "duration \"1ms\": unknown unit \"ms\" (units: d, h, m, s)" + hint);
  EXPECT_EQ(Error("1H"),
            "duration \"1H\": unknown unit \"H\" (units: d, h, m, s)" + hint);
  EXPECT_EQ(Error("1 h"),
            "duration \"1 h\": unexpected character \" \"" + hint);
  EXPECT_EQ(Error(" 1h"),
            "duration \" 1h\": expected a number at \" 1h\"" + hint);
  EXPECT_EQ(Error("30m1h"),
            "duration \"30m1h\": units must appear once each, in the order d, "
            "h, m, s" +
                hint);
  EXPECT_EQ(Error("1h1h"),
            "duration \"1h1h\": units must appear once each, in the order d, "
            "h, m, s" +
                hint);
  // Control bytes are escaped, so an error stays on one line.
  EXPECT_EQ(Error("1h\n"),
            "duration \"1h\\n\": expected a number at \"\\n\"" + hint);
}

TEST(ParseBusinessDuration, OverflowIsRefusedAtTheEdge) {
  const int64_t max = kMaxBusinessDurationSeconds;
  EXPECT_EQ(max, 9223372036854);
  EXPECT_EQ(Parse(absl::StrCat(max, "s")), absl::Seconds(max));
  const std::string too_large = " is too large (at most 9223372036854s)";
  const std::string hint = " (use e.g. 90s, 45m, 4h, 2d, 1h30m)";
  EXPECT_EQ(Error(absl::StrCat(max + 1, "s")),
            absl::StrCat("duration \"", max + 1, "s\":", too_large, hint));
  // max = 106751991 days, 4 hours and 54 seconds.
  EXPECT_EQ(Parse("106751991d4h54s"), absl::Seconds(max));
  EXPECT_EQ(Error("106751991d4h55s"),
            absl::StrCat("duration \"106751991d4h55s\":", too_large, hint));
  EXPECT_EQ(Error("106751991d5h"),
            absl::StrCat("duration \"106751991d5h\":", too_large, hint));
  EXPECT_EQ(Error("106751992d"),
            absl::StrCat("duration \"106751992d\":", too_large, hint));
  // Digits beyond int64 do not wrap around.
  EXPECT_EQ(Error("99999999999999999999999999s"),
            absl::StrCat("duration \"99999999999999999999999999s\":", too_large,
                         hint));
  EXPECT_EQ(
      Error("18446744073709551617s"),
      absl::StrCat("duration \"18446744073709551617s\":", too_large, hint));
}

// The obvious model of the regex (\d+d)?(\d+h)?(\d+m)?(\d+s)? (std::regex
// trips a GCC 12 -Wmaybe-uninitialized false positive under ASan), with
// __int128 for the value.
struct OracleResult {
  bool ok;
  int64_t seconds;
};
OracleResult Oracle(const std::string& text) {
  const std::string units = "dhms";
  const int64_t unit_seconds[] = {86400, 3600, 60, 1};
  size_t pos = 0;
  __int128 total = 0;
  for (int u = 0; u < 4; ++u) {
    // The optional group (\d+<unit>) at pos.
    size_t end = pos;
    while (end < text.size() && text[end] >= '0' && text[end] <= '9') ++end;
    if (end == pos || end == text.size() || text[end] != units[u]) continue;
    __int128 v = 0;
    for (size_t k = pos; k < end; ++k) {
      v = v * 10 + (text[k] - '0');
      if (v > (__int128{1} << 100)) v = __int128{1} << 100;  // Saturate.
    }
    total += v * unit_seconds[u];
    pos = end + 1;
  }
  if (text.empty() || pos != text.size()) return {false, 0};
  if (total > kMaxBusinessDurationSeconds) return {false, 0};
  return {true, static_cast<int64_t>(total)};
}

TEST(ParseBusinessDuration, MatchesTheGrammarOracleOnRandomText) {
  constexpr uint64_t kSeed = 4242;
  constexpr int kCases = 200000;
  std::cout << "ParseBusinessDuration.MatchesTheGrammarOracleOnRandomText seed "
            << kSeed << ", " << kCases << " cases\n";
  std::mt19937_64 rng(kSeed);
  auto uniform = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  const std::string alphabet = "0123456789dhmsdhms.-+ wH";
  int accepted = 0;
  for (int i = 0; i < kCases; ++i) {
    std::string text;
    if (i % 2 == 0) {
      // Random characters.
      for (int n = uniform(0, 10); n > 0; --n) {
        text += alphabet[uniform(0, alphabet.size() - 1)];
      }
    } else {
      // Mostly well-formed: random parts, sometimes shuffled or huge.
      const std::string units = "dhms";
      for (char u : units) {
        if (uniform(0, 2) == 0) continue;
        const int digits = uniform(0, 99) < 90 ? uniform(1, 4) : uniform(1, 22);
        for (int k = 0; k < digits; ++k) text += char('0' + uniform(0, 9));
        text += u;
      }
      if (uniform(0, 9) == 0 && text.size() > 1) {
        std::swap(text[uniform(0, text.size() - 1)],
                  text[uniform(0, text.size() - 1)]);
      }
    }
    const OracleResult want = Oracle(text);
    absl::StatusOr<absl::Duration> got = ParseBusinessDuration(text);
    ASSERT_EQ(got.ok(), want.ok) << '"' << text << "\" " << got.status();
    if (want.ok) {
      ++accepted;
      ASSERT_EQ(*got, absl::Seconds(want.seconds)) << text;
    } else {
      ASSERT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
    }
  }
  std::cout << accepted << " accepted\n";
  EXPECT_GT(accepted, kCases / 5);
  EXPECT_LT(accepted, kCases * 4 / 5);
}

}  // namespace
}  // namespace slate::tools
