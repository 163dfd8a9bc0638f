// Unit tests for DeadlineIndex: behaviour on hand-made scenarios. The
// randomized oracle comparison lives in deadline_index_property_test.cc.
#include "lib/timer/deadline_index.h"

#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace slate {

// gtest printer (found by argument-dependent lookup).
void PrintTo(const DueEntry& e, std::ostream* os) {
  *os << "{" << e.key << ", " << absl::FormatTime(e.due) << "}";
}

namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

const absl::Time kT0 = absl::FromUnixSeconds(1700000000);  // 2023-11-14

DueEntry E(uint64_t key, absl::Time due) { return DueEntry{key, due}; }

class DeadlineIndexTest : public ::testing::Test {
 protected:
  void TearDown() override { EXPECT_TRUE(index_.CheckInvariants().ok()); }
  void Schedule(uint64_t key, absl::Time due) {
    ASSERT_TRUE(index_.Schedule(key, due).ok()) << key;
    ASSERT_TRUE(index_.CheckInvariants().ok())
        << index_.CheckInvariants().message();
  }
  DeadlineIndex index_;
};

TEST_F(DeadlineIndexTest, EmptyIndexHasNothingDue) {
  EXPECT_EQ(index_.Size(), 0u);
  EXPECT_TRUE(index_.Empty());
  EXPECT_EQ(index_.NextDue(), std::nullopt);
  EXPECT_THAT(index_.PopDue(absl::InfiniteFuture()), IsEmpty());
  EXPECT_THAT(
      index_.AtRisk(kT0, absl::InfiniteDuration(), DeadlineIndex::kNoLimit),
      IsEmpty());
  EXPECT_FALSE(index_.Cancel(1));
}

TEST_F(DeadlineIndexTest, PopDueReturnsDueEntriesInDueOrderAndRemovesThem) {
  Schedule(1, kT0 + absl::Hours(4));
  Schedule(2, kT0 + absl::Hours(1));
  Schedule(3, kT0 + absl::Minutes(90));
  EXPECT_EQ(index_.Size(), 3u);
  EXPECT_EQ(index_.NextDue(), kT0 + absl::Hours(1));
  EXPECT_THAT(
      index_.PopDue(kT0 + absl::Hours(2)),
      ElementsAre(E(2, kT0 + absl::Hours(1)), E(3, kT0 + absl::Minutes(90))));
  EXPECT_EQ(index_.Size(), 1u);
  EXPECT_FALSE(index_.Contains(2));
  EXPECT_EQ(index_.NextDue(), kT0 + absl::Hours(4));
}

TEST_F(DeadlineIndexTest, DeadlineIsDueAtItsInstantNotOneMicrosecondBefore) {
  const absl::Time due = kT0 + absl::Hours(8);
  Schedule(5, due);
  EXPECT_THAT(index_.PopDue(due - absl::Microseconds(1)), IsEmpty());
  EXPECT_THAT(index_.PopDue(due - absl::Nanoseconds(1)), IsEmpty());
  EXPECT_THAT(index_.PopDue(due), ElementsAre(E(5, due)));
}

TEST_F(DeadlineIndexTest, EqualDueInstantsComeOutByKey) {
  const absl::Time due = kT0 + absl::Hours(72);
  for (uint64_t key : {9u, 3u, 7u, 1u}) Schedule(key, due);
  Schedule(8, due - absl::Microseconds(1));
  EXPECT_THAT(index_.PopDue(due),
              ElementsAre(E(8, due - absl::Microseconds(1)), E(1, due),
                          E(3, due), E(7, due), E(9, due)));
}

TEST_F(DeadlineIndexTest, RescheduleMovesTheKey) {
  Schedule(1, kT0 + absl::Hours(1));
  Schedule(1, kT0 + absl::Hours(5));
  EXPECT_EQ(index_.Size(), 1u);
  EXPECT_EQ(index_.DueOf(1), kT0 + absl::Hours(5));
  EXPECT_THAT(index_.PopDue(kT0 + absl::Hours(2)), IsEmpty());
  Schedule(1, kT0 + absl::Minutes(30));  // earlier than the last now
  EXPECT_THAT(index_.PopDue(kT0 + absl::Hours(2)),
              ElementsAre(E(1, kT0 + absl::Minutes(30))));
}

TEST_F(DeadlineIndexTest, CancelRemovesOnlyThatKey) {
  Schedule(1, kT0 + absl::Hours(1));
  Schedule(2, kT0 + absl::Hours(1));
  EXPECT_TRUE(index_.Cancel(1));
  EXPECT_FALSE(index_.Cancel(1));
  EXPECT_FALSE(index_.Cancel(77));
  EXPECT_EQ(index_.DueOf(1), std::nullopt);
  EXPECT_THAT(index_.PopDue(absl::InfiniteFuture()),
              ElementsAre(E(2, kT0 + absl::Hours(1))));
}

TEST_F(DeadlineIndexTest, NowGoingBackwardsReturnsOnlyNewlyScheduledDue) {
  Schedule(1, kT0 + absl::Hours(1));
  Schedule(2, kT0 + absl::Hours(3));
  EXPECT_THAT(index_.PopDue(kT0 + absl::Hours(2)),
              ElementsAre(E(1, kT0 + absl::Hours(1))));
  EXPECT_THAT(index_.PopDue(kT0), IsEmpty());
  Schedule(3, kT0 - absl::Hours(1));
  Schedule(4, kT0 + absl::Minutes(30));
  EXPECT_THAT(index_.PopDue(kT0), ElementsAre(E(3, kT0 - absl::Hours(1))));
  EXPECT_EQ(index_.NextDue(), kT0 + absl::Minutes(30));
  EXPECT_THAT(
      index_.PopDue(kT0 + absl::Hours(5)),
      ElementsAre(E(4, kT0 + absl::Minutes(30)), E(2, kT0 + absl::Hours(3))));
}

TEST_F(DeadlineIndexTest, RejectsUnrepresentableDueAndStaysUnchanged) {
  Schedule(1, kT0);
  const absl::Time bad[] = {
      absl::InfiniteFuture(), absl::InfinitePast(), kT0 + absl::Nanoseconds(1),
      absl::FromUnixMicros(std::numeric_limits<int64_t>::max()) +
          absl::Microseconds(1),
      absl::FromUnixMicros(std::numeric_limits<int64_t>::min()) -
          absl::Microseconds(1)};
  for (absl::Time due : bad) {
    absl::Status s = index_.Schedule(1, due);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << due;
    EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("key 1"));
    s = index_.Schedule(2, due);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << due;
  }
  EXPECT_EQ(index_.Size(), 1u);
  EXPECT_EQ(index_.DueOf(1), kT0);
  EXPECT_FALSE(index_.Contains(2));
}

TEST_F(DeadlineIndexTest, ExtremeInstantsAndInfiniteNow) {
  const absl::Time min =
      absl::FromUnixMicros(std::numeric_limits<int64_t>::min());
  const absl::Time max =
      absl::FromUnixMicros(std::numeric_limits<int64_t>::max());
  Schedule(1, max);
  Schedule(2, min);
  Schedule(3, kT0);
  Schedule(4, max);
  EXPECT_EQ(index_.NextDue(), min);
  EXPECT_THAT(index_.PopDue(absl::InfinitePast()), IsEmpty());
  EXPECT_THAT(index_.PopDue(min - absl::Nanoseconds(1)), IsEmpty());
  EXPECT_THAT(index_.PopDue(min), ElementsAre(E(2, min)));
  EXPECT_THAT(index_.PopDue(max - absl::Microseconds(1)),
              ElementsAre(E(3, kT0)));
  EXPECT_EQ(index_.NextDue(), max);
  EXPECT_THAT(index_.PopDue(absl::InfiniteFuture()),
              ElementsAre(E(1, max), E(4, max)));
  // After time reached the end of the range, earlier deadlines still work.
  Schedule(5, kT0);
  EXPECT_EQ(index_.NextDue(), kT0);
  EXPECT_THAT(index_.PopDue(max), ElementsAre(E(5, kT0)));
}

TEST_F(DeadlineIndexTest, YearsApart) {
  const absl::Time y1 =
      absl::FromCivil(absl::CivilSecond(1, 1, 1, 0, 0, 0), absl::UTCTimeZone());
  const absl::Time y9999 = absl::FromCivil(
      absl::CivilSecond(9999, 12, 31, 23, 59, 59), absl::UTCTimeZone());
  Schedule(1, y9999);
  Schedule(2, y1);
  Schedule(3, kT0);
  EXPECT_THAT(index_.PopDue(kT0), ElementsAre(E(2, y1), E(3, kT0)));
  EXPECT_EQ(index_.NextDue(), y9999);
  EXPECT_THAT(index_.PopDue(y9999 - absl::Microseconds(1)), IsEmpty());
  EXPECT_THAT(index_.PopDue(y9999), ElementsAre(E(1, y9999)));
}

TEST_F(DeadlineIndexTest, AtRiskSortsLimitsAndFilters) {
  for (uint64_t k = 0; k < 20; ++k) {
    Schedule(k, kT0 + absl::Minutes(30 * (20 - k)));  // key 19 first
  }
  Schedule(100, kT0 + absl::Minutes(30));  // ties with key 19
  std::vector<DueEntry> at_risk = index_.AtRisk(kT0, absl::Hours(2), 3);
  EXPECT_THAT(at_risk, ElementsAre(E(19, kT0 + absl::Minutes(30)),
                                   E(100, kT0 + absl::Minutes(30)),
                                   E(18, kT0 + absl::Minutes(60))));
  EXPECT_EQ(index_.AtRisk(kT0, absl::Hours(2), DeadlineIndex::kNoLimit).size(),
            5u);
  EXPECT_THAT(index_.AtRisk(kT0, absl::Hours(2), 0), IsEmpty());
  std::vector<uint64_t> asked;
  at_risk = index_.AtRisk(kT0, absl::Hours(10), 2, [&](const DueEntry& e) {
    asked.push_back(e.key);
    return e.key % 2 == 0;
  });
  EXPECT_THAT(at_risk, ElementsAre(E(100, kT0 + absl::Minutes(30)),
                                   E(18, kT0 + absl::Minutes(60))));
  EXPECT_THAT(asked, ElementsAre(19, 100, 18));  // stops at top_n
  EXPECT_EQ(index_.Size(), 21u);                 // nothing removed
}

TEST_F(DeadlineIndexTest, AtRiskIncludesOverdueEntries) {
  Schedule(1, kT0 + absl::Hours(1));
  EXPECT_THAT(index_.PopDue(kT0 + absl::Hours(3)), ::testing::SizeIs(1));
  Schedule(2, kT0);  // overdue relative to the last now
  Schedule(3, kT0 + absl::Hours(4));
  EXPECT_THAT(index_.AtRisk(kT0 + absl::Hours(3), absl::Hours(1),
                            DeadlineIndex::kNoLimit),
              ElementsAre(E(2, kT0), E(3, kT0 + absl::Hours(4))));
  EXPECT_THAT(index_.AtRisk(kT0 - absl::Hours(1), absl::ZeroDuration(),
                            DeadlineIndex::kNoLimit),
              IsEmpty());
}

TEST_F(DeadlineIndexTest, ManyOverdueSchedulesTriggerRebaseAndStayExact) {
  Schedule(0, kT0 + absl::Hours(1));
  EXPECT_EQ(index_.NextDue(), kT0 + absl::Hours(1));
  // Everything below is before the wheel's reference: side set, then rebase.
  for (uint64_t k = 1; k <= 5000; ++k) {
    Schedule(k, kT0 - absl::Seconds(k));
  }
  EXPECT_EQ(index_.Size(), 5001u);
  EXPECT_EQ(index_.NextDue(), kT0 - absl::Seconds(5000));
  std::vector<DueEntry> popped = index_.PopDue(kT0 - absl::Seconds(2501));
  ASSERT_EQ(popped.size(), 2500u);
  EXPECT_EQ(popped.front(), E(5000, kT0 - absl::Seconds(5000)));
  EXPECT_EQ(popped.back(), E(2501, kT0 - absl::Seconds(2501)));
}

TEST_F(DeadlineIndexTest, ClearEmptiesAndIndexIsReusable) {
  Schedule(1, kT0);
  Schedule(2, kT0 + absl::Hours(1));
  index_.Clear();
  EXPECT_EQ(index_.Size(), 0u);
  EXPECT_EQ(index_.NextDue(), std::nullopt);
  Schedule(2, kT0 + absl::Hours(2));
  EXPECT_THAT(index_.PopDue(absl::InfiniteFuture()),
              ElementsAre(E(2, kT0 + absl::Hours(2))));
}

TEST_F(DeadlineIndexTest, MoveLeavesSourceEmptyAndUsable) {
  Schedule(1, kT0);
  Schedule(2, kT0 + absl::Hours(1));
  DeadlineIndex moved(std::move(index_));
  EXPECT_TRUE(moved.CheckInvariants().ok());
  EXPECT_EQ(moved.Size(), 2u);
  EXPECT_TRUE(index_.Empty());  // NOLINT(bugprone-use-after-move)
  Schedule(3, kT0);
  index_ = std::move(moved);
  EXPECT_TRUE(moved.Empty());  // NOLINT(bugprone-use-after-move)
  EXPECT_TRUE(moved.CheckInvariants().ok());
  EXPECT_THAT(index_.PopDue(absl::InfiniteFuture()),
              ElementsAre(E(1, kT0), E(2, kT0 + absl::Hours(1))));
}

TEST_F(DeadlineIndexTest, PopDueAppendsToOutput) {
  Schedule(1, kT0);
  std::vector<DueEntry> out = {E(42, kT0)};
  EXPECT_EQ(index_.PopDue(kT0, &out), 1u);
  EXPECT_THAT(out, ElementsAre(E(42, kT0), E(1, kT0)));
  EXPECT_EQ(index_.PopDue(kT0, &out), 0u);
}

TEST_F(DeadlineIndexTest, MemoryBytesGrowsWithEntries) {
  const size_t empty = index_.MemoryBytes();
  for (uint64_t k = 0; k < 1000; ++k) Schedule(k, kT0 + absl::Seconds(k));
  EXPECT_GT(index_.MemoryBytes(), empty + 1000 * 24);
}

}  // namespace
}  // namespace slate
