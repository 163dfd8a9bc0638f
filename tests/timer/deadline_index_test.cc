// Unit tests for DeadlineIndex: behaviour on hand-made scenarios. The
// randomized oracle comparison lives in deadline_index_property_test.cc.
#include "lib/timer/deadline_index.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace slate {

// Reaches into a node's generation so the wrap-around path can be tested
// without 2^31 reuses.
class DeadlineIndexTestPeer {
 public:
  static void SetGeneration(DeadlineIndex& index, uint32_t node, uint32_t gen) {
    index.nodes_[node].gen = gen;
  }
  // Handle bits: node index in the high half, generation in the low half.
  static uint32_t NodeIndex(DeadlineHandle h) {
    return static_cast<uint32_t>(h.bits() >> 32);
  }
  static uint32_t Generation(DeadlineHandle h) {
    return static_cast<uint32_t>(h.bits());
  }
};

// gtest printers (found by argument-dependent lookup).
void PrintTo(const DeadlineHandle& h, std::ostream* os) {
  *os << "h" << (h.bits() >> 32) << "." << (h.bits() & 0xffffffffu);
}
void PrintTo(const DueEntry& e, std::ostream* os) {
  *os << "{" << e.key << ", " << absl::FormatTime(e.due) << ", ";
  PrintTo(e.handle, os);
  *os << "}";
}

namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using Peer = DeadlineIndexTestPeer;

const absl::Time kT0 = absl::FromUnixSeconds(1700000000);  // 2023-11-14

class DeadlineIndexTest : public ::testing::Test {
 protected:
  void TearDown() override { EXPECT_TRUE(index_.CheckInvariants().ok()); }
  // Schedules (key, due) and remembers the handle under `key`.
  DeadlineHandle Schedule(uint64_t key, absl::Time due) {
    absl::StatusOr<DeadlineHandle> h = index_.Schedule(key, due);
    EXPECT_TRUE(h.ok()) << key << ": " << h.status();
    if (!h.ok()) return DeadlineHandle();
    EXPECT_FALSE(h->is_null());
    EXPECT_TRUE(index_.CheckInvariants().ok())
        << index_.CheckInvariants().message();
    handles_[key] = *h;
    return *h;
  }
  // The entry the index should return for `key` (its last handle).
  DueEntry E(uint64_t key, absl::Time due) {
    return DueEntry{key, due, handles_.at(key)};
  }
  DeadlineHandle H(uint64_t key) const { return handles_.at(key); }

  DeadlineIndex index_;
  std::map<uint64_t, DeadlineHandle> handles_;
};

TEST_F(DeadlineIndexTest, EmptyIndexHasNothingDue) {
  EXPECT_EQ(index_.Size(), 0u);
  EXPECT_TRUE(index_.Empty());
  EXPECT_EQ(index_.NextDue(), std::nullopt);
  EXPECT_THAT(index_.PopDue(absl::InfiniteFuture()), IsEmpty());
  EXPECT_THAT(
      index_.AtRisk(kT0, absl::InfiniteDuration(), DeadlineIndex::kNoLimit),
      IsEmpty());
  EXPECT_FALSE(index_.Cancel(DeadlineHandle()));
  EXPECT_FALSE(index_.Cancel(DeadlineHandle::FromBits(uint64_t{1} << 32 | 1)));
  EXPECT_FALSE(index_.Contains(DeadlineHandle()));
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
  EXPECT_FALSE(index_.Contains(H(2)));
  EXPECT_TRUE(index_.Contains(H(1)));
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

TEST_F(DeadlineIndexTest, EqualDueAndKeyComeOutByHandle) {
  // Keys need not be distinct; ties on (due, key) are broken by handle.
  const absl::Time due = kT0 + absl::Hours(1);
  std::vector<DeadlineHandle> hs;
  for (int i = 0; i < 5; ++i) hs.push_back(Schedule(7, due));
  ASSERT_TRUE(index_.Cancel(hs[1]));
  hs[1] = Schedule(7, due);  // reuses the freed node: same index, new gen
  EXPECT_EQ(Peer::NodeIndex(hs[1]), 1u);
  std::vector<DeadlineHandle> sorted = hs;
  std::sort(sorted.begin(), sorted.end());
  std::vector<DeadlineHandle> got;
  for (const DueEntry& e : index_.PopDue(due)) {
    EXPECT_EQ(e.key, 7u);
    got.push_back(e.handle);
  }
  EXPECT_EQ(got, sorted);
}

TEST_F(DeadlineIndexTest, RescheduleMovesTheEntryAndKeepsItsHandle) {
  const DeadlineHandle h = Schedule(1, kT0 + absl::Hours(1));
  ASSERT_TRUE(index_.Reschedule(h, kT0 + absl::Hours(5)).ok());
  EXPECT_EQ(index_.Size(), 1u);
  EXPECT_EQ(index_.DueOf(h), kT0 + absl::Hours(5));
  EXPECT_TRUE(index_.Reschedule(h, kT0 + absl::Hours(5)).ok());  // no change
  EXPECT_THAT(index_.PopDue(kT0 + absl::Hours(2)), IsEmpty());
  // Earlier than the last now: goes to the side set.
  ASSERT_TRUE(index_.Reschedule(h, kT0 + absl::Minutes(30)).ok());
  EXPECT_TRUE(index_.CheckInvariants().ok());
  EXPECT_THAT(index_.PopDue(kT0 + absl::Hours(2)),
              ElementsAre(E(1, kT0 + absl::Minutes(30))));
}

TEST_F(DeadlineIndexTest, CancelRemovesOnlyThatEntry) {
  Schedule(1, kT0 + absl::Hours(1));
  Schedule(2, kT0 + absl::Hours(1));
  EXPECT_TRUE(index_.Cancel(H(1)));
  EXPECT_FALSE(index_.Cancel(H(1)));
  EXPECT_EQ(index_.DueOf(H(1)), std::nullopt);
  EXPECT_THAT(index_.PopDue(absl::InfiniteFuture()),
              ElementsAre(E(2, kT0 + absl::Hours(1))));
}

TEST_F(DeadlineIndexTest, StaleHandlesNameNothingEvenAfterTheirNodeIsReused) {
  const DeadlineHandle cancelled = Schedule(1, kT0 + absl::Hours(1));
  const DeadlineHandle popped = Schedule(2, kT0 + absl::Hours(2));
  ASSERT_TRUE(index_.Cancel(cancelled));
  ASSERT_THAT(index_.PopDue(kT0 + absl::Hours(2)), ::testing::SizeIs(1));
  // Both nodes are reused (last freed first), under new generations.
  const DeadlineHandle a = Schedule(3, kT0 + absl::Hours(3));
  const DeadlineHandle b = Schedule(4, kT0 + absl::Hours(4));
  EXPECT_EQ(Peer::NodeIndex(a), Peer::NodeIndex(popped));
  EXPECT_EQ(Peer::NodeIndex(b), Peer::NodeIndex(cancelled));
  EXPECT_NE(a, popped);
  EXPECT_NE(b, cancelled);
  for (DeadlineHandle stale : {cancelled, popped}) {
    EXPECT_FALSE(index_.Contains(stale));
    EXPECT_EQ(index_.DueOf(stale), std::nullopt);
    EXPECT_FALSE(index_.Cancel(stale));
    absl::Status s = index_.Reschedule(stale, kT0);
    EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
    EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("not live"));
  }
  // Made-up handles: null, a free generation (even), beyond the array.
  const uint64_t idx_a = uint64_t{Peer::NodeIndex(a)} << 32;
  for (uint64_t bits : {uint64_t{0}, idx_a | (Peer::Generation(a) + 1), idx_a,
                        uint64_t{99} << 32 | 1, ~uint64_t{0}}) {
    EXPECT_FALSE(index_.Cancel(DeadlineHandle::FromBits(bits))) << bits;
    EXPECT_EQ(index_.DueOf(DeadlineHandle::FromBits(bits)), std::nullopt);
  }
  EXPECT_EQ(index_.Size(), 2u);
  EXPECT_THAT(
      index_.PopDue(absl::InfiniteFuture()),
      ElementsAre(E(3, kT0 + absl::Hours(3)), E(4, kT0 + absl::Hours(4))));
}

TEST_F(DeadlineIndexTest, HandlesRoundTripThroughBits) {
  const DeadlineHandle h = Schedule(1, kT0);
  const DeadlineHandle copy = DeadlineHandle::FromBits(h.bits());
  EXPECT_EQ(copy, h);
  EXPECT_EQ(index_.DueOf(copy), kT0);
  EXPECT_TRUE(index_.Cancel(copy));
  EXPECT_FALSE(index_.Cancel(h));
}

TEST_F(DeadlineIndexTest, NodeWhoseGenerationWouldWrapIsRetired) {
  const DeadlineHandle first = Schedule(1, kT0);
  ASSERT_TRUE(index_.Cancel(first));
  // The node is free (even generation); make its next use the last odd one.
  Peer::SetGeneration(index_, Peer::NodeIndex(first), 0xFFFFFFFEu);
  ASSERT_TRUE(index_.CheckInvariants().ok());
  const DeadlineHandle last = Schedule(2, kT0);
  EXPECT_EQ(Peer::NodeIndex(last), Peer::NodeIndex(first));
  EXPECT_EQ(Peer::Generation(last), 0xFFFFFFFFu);
  ASSERT_TRUE(index_.Cancel(last));
  ASSERT_TRUE(index_.CheckInvariants().ok());
  // The retired node is not reused: no generation is ever issued twice.
  std::set<uint64_t> issued = {first.bits(), last.bits()};
  for (uint64_t k = 0; k < 4; ++k) {
    const DeadlineHandle h = Schedule(10 + k, kT0 + absl::Seconds(k));
    EXPECT_NE(Peer::NodeIndex(h), Peer::NodeIndex(first));
    EXPECT_TRUE(issued.insert(h.bits()).second);
  }
  EXPECT_FALSE(index_.Contains(last));
  EXPECT_FALSE(index_.Contains(first));
  index_.Clear();  // the retired node stays retired
  ASSERT_TRUE(index_.CheckInvariants().ok());
  EXPECT_NE(Peer::NodeIndex(Schedule(20, kT0)), Peer::NodeIndex(first));
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
  const DeadlineHandle h = Schedule(1, kT0);
  const absl::Time bad[] = {
      absl::InfiniteFuture(), absl::InfinitePast(), kT0 + absl::Nanoseconds(1),
      absl::FromUnixMicros(std::numeric_limits<int64_t>::max()) +
          absl::Microseconds(1),
      absl::FromUnixMicros(std::numeric_limits<int64_t>::min()) -
          absl::Microseconds(1)};
  for (absl::Time due : bad) {
    absl::StatusOr<DeadlineHandle> s = index_.Schedule(2, due);
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument) << due;
    EXPECT_THAT(std::string(s.status().message()),
                ::testing::HasSubstr("key 2"));
    absl::Status r = index_.Reschedule(h, due);
    EXPECT_EQ(r.code(), absl::StatusCode::kInvalidArgument) << due;
    EXPECT_THAT(std::string(r.message()), ::testing::HasSubstr("key 1"));
  }
  // A bad due is reported first, naming the handle when it is not live.
  absl::Status r = index_.Reschedule(DeadlineHandle(), absl::InfiniteFuture());
  EXPECT_EQ(r.code(), absl::StatusCode::kInvalidArgument) << r;
  EXPECT_THAT(std::string(r.message()), ::testing::HasSubstr("handle 0"));
  EXPECT_EQ(index_.Size(), 1u);
  EXPECT_EQ(index_.DueOf(h), kT0);
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

TEST_F(DeadlineIndexTest, LargeSlotsShrinkWhenCancelled) {
  // 10,000 entries in one far level-2+ slot, then cancel all but 10: the
  // slot vector gives its capacity back.
  std::vector<DeadlineHandle> hs;
  Schedule(0, kT0);
  for (uint64_t k = 1; k <= 10'000; ++k) {  // (no invariant check per step)
    absl::StatusOr<DeadlineHandle> h =
        index_.Schedule(k, kT0 + absl::Hours(100) + absl::Microseconds(k));
    ASSERT_TRUE(h.ok()) << h.status();
    hs.push_back(*h);
  }
  ASSERT_TRUE(index_.CheckInvariants().ok());
  const size_t full = index_.MemoryBytes();
  for (size_t i = 10; i < hs.size(); ++i) ASSERT_TRUE(index_.Cancel(hs[i]));
  EXPECT_LT(index_.MemoryBytes() + 30'000, full);
  EXPECT_EQ(index_.Size(), 11u);
}

TEST_F(DeadlineIndexTest, ClearEmptiesMakesHandlesStaleAndIndexIsReusable) {
  const DeadlineHandle h1 = Schedule(1, kT0);
  const DeadlineHandle h2 = Schedule(2, kT0 + absl::Hours(1));
  index_.Clear();
  EXPECT_EQ(index_.Size(), 0u);
  EXPECT_EQ(index_.NextDue(), std::nullopt);
  EXPECT_FALSE(index_.Contains(h1));
  EXPECT_FALSE(index_.Contains(h2));
  const DeadlineHandle h3 = Schedule(2, kT0 + absl::Hours(2));
  EXPECT_NE(h3, h1);
  EXPECT_NE(h3, h2);
  EXPECT_FALSE(index_.Cancel(h1));
  EXPECT_FALSE(index_.Cancel(h2));
  EXPECT_THAT(index_.PopDue(absl::InfiniteFuture()),
              ElementsAre(E(2, kT0 + absl::Hours(2))));
}

TEST_F(DeadlineIndexTest, MoveCarriesHandlesAndLeavesSourceEmptyAndUsable) {
  Schedule(1, kT0);
  Schedule(2, kT0 + absl::Hours(1));
  DeadlineIndex moved(std::move(index_));
  EXPECT_TRUE(moved.CheckInvariants().ok());
  EXPECT_EQ(moved.Size(), 2u);
  EXPECT_EQ(moved.DueOf(H(2)), kT0 + absl::Hours(1));
  EXPECT_TRUE(index_.Empty());  // NOLINT(bugprone-use-after-move)
  EXPECT_TRUE(index_.CheckInvariants().ok());
  Schedule(3, kT0);
  index_ = std::move(moved);
  EXPECT_TRUE(moved.Empty());  // NOLINT(bugprone-use-after-move)
  EXPECT_TRUE(moved.CheckInvariants().ok());
  EXPECT_THAT(index_.PopDue(absl::InfiniteFuture()),
              ElementsAre(E(1, kT0), E(2, kT0 + absl::Hours(1))));
}

TEST_F(DeadlineIndexTest, CopyHoldsTheSameEntriesUnderTheSameHandles) {
  const DeadlineHandle h = Schedule(1, kT0);
  DeadlineIndex copy = index_;
  EXPECT_TRUE(copy.CheckInvariants().ok());
  EXPECT_TRUE(copy.Cancel(h));
  EXPECT_TRUE(index_.Contains(h));
  EXPECT_THAT(index_.PopDue(kT0), ElementsAre(E(1, kT0)));
}

TEST_F(DeadlineIndexTest, PopDueAppendsToOutput) {
  Schedule(1, kT0);
  std::vector<DueEntry> out = {DueEntry{42, kT0, DeadlineHandle()}};
  EXPECT_EQ(index_.PopDue(kT0, &out), 1u);
  EXPECT_THAT(out, ElementsAre(DueEntry{42, kT0, DeadlineHandle()}, E(1, kT0)));
  EXPECT_EQ(index_.PopDue(kT0, &out), 0u);
}

TEST_F(DeadlineIndexTest, MemoryBytesGrowsWithEntries) {
  const size_t empty = index_.MemoryBytes();
  for (uint64_t k = 0; k < 1000; ++k) Schedule(k, kT0 + absl::Seconds(k));
  EXPECT_GT(index_.MemoryBytes(), empty + 1000 * 24);
}

}  // namespace
}  // namespace slate
