#include "lib/log/log_format.h"

#include <random>

#include "gtest/gtest.h"

namespace slate::log_format {
namespace {

TEST(LogFormat, EventKeysSortByPosition) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 10000; ++i) {
    int64_t a = static_cast<int64_t>(rng() >> 1);
    int64_t b = static_cast<int64_t>(rng() >> 1);
    if (i % 3 == 0) b = a + 1;
    EXPECT_EQ(a < b, EventKey(a) < EventKey(b)) << a << " " << b;
    int64_t back = -1;
    ASSERT_TRUE(DecodeEventKey(EventKey(a), &back));
    EXPECT_EQ(back, a);
  }
}

TEST(LogFormat, StreamKeysGroupByStreamThenVersion) {
  // A stream's keys all sort before those of a longer stream sharing its
  // prefix, so a range scan of "incident/1" never sees "incident/10".
  EXPECT_LT(StreamKey("incident/1", 999999), StreamKey("incident/10", 0));
  EXPECT_LT(StreamKey("incident/1", 999999), StreamKeyEnd("incident/1"));
  EXPECT_LT(StreamKeyEnd("incident/1"), StreamKey("incident/10", 0));
  EXPECT_LT(StreamKey("a", 1), StreamKey("a", 256));
  absl::string_view s;
  int64_t v = -1;
  const std::string key = StreamKey("change/CHG7", 42);
  ASSERT_TRUE(DecodeStreamKey(key, &s, &v));
  EXPECT_EQ(s, "change/CHG7");
  EXPECT_EQ(v, 42);
}

TEST(LogFormat, DecodersRejectMalformedBytes) {
  int64_t p = 0;
  absl::string_view s;
  EXPECT_FALSE(DecodeEventKey("E123", &p));
  EXPECT_FALSE(DecodeEventKey(StreamKey("a", 1), &p));
  EXPECT_FALSE(
      DecodeEventKey(std::string("E\xff\xff\xff\xff\xff\xff\xff\xff", 9), &p));
  EXPECT_FALSE(DecodeStreamKey("Sabc", &s, &p));
  EXPECT_FALSE(DecodeStreamKey(EventKey(5), &s, &p));
  EXPECT_FALSE(DecodePositionValue("1234567", &p));
  ASSERT_TRUE(DecodePositionValue(PositionValue(77), &p));
  EXPECT_EQ(p, 77);
}

TEST(LogFormat, StreamIdValidationNamesTheProblem) {
  EXPECT_TRUE(ValidateStreamId("incident/INC0001").ok());
  EXPECT_TRUE(ValidateStreamId("policy/p1-v2_x.y:z@w+q=").ok());
  EXPECT_EQ(ValidateStreamId("").code(), absl::StatusCode::kInvalidArgument);
  absl::Status bad = ValidateStreamId("incident/a b");
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("offset 10"), absl::string_view::npos) << bad;
  EXPECT_FALSE(ValidateStreamId(std::string("a\0b", 3)).ok());
  EXPECT_TRUE(ValidateStreamId(std::string(kMaxStreamIdBytes, 'x')).ok());
  EXPECT_FALSE(ValidateStreamId(std::string(kMaxStreamIdBytes + 1, 'x')).ok());
}

TEST(LogFormat, EventIdValidation) {
  EXPECT_TRUE(ValidateEventId("INC1/opened#3").ok());
  EXPECT_FALSE(ValidateEventId("").ok());
  EXPECT_FALSE(ValidateEventId("has space").ok());
  EXPECT_FALSE(ValidateEventId("tab\t").ok());
  EXPECT_TRUE(ValidateEventId(std::string(kMaxEventIdBytes, 'e')).ok());
  EXPECT_FALSE(ValidateEventId(std::string(kMaxEventIdBytes + 1, 'e')).ok());
}

}  // namespace
}  // namespace slate::log_format
