// SLA clock scenarios, told the way a service desk would see them.
#include "lib/sla/sla_clock.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/sla/business_time.h"
#include "lib/sla/calendar_business_time.h"
#include "lib/sla/sla_policy.h"
#include "tests/sla/office_berlin.h"
#include "tests/sla/office_hours.h"
#include "tests/sla/sla_test_util.h"

namespace slate {
namespace {

using ::slate::testing::MustApply;
using ::slate::testing::OfficeHours;
using ::slate::testing::SlowOfficeHours;
using ::slate::testing::Utc;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using In = SlaClockInput;
using Fact = SlaClockFact;

constexpr char kOfficePolicy[] = R"({
  "id": "office-incidents",
  "name": "Incidents, Mon-Fri 09:00-17:00",
  "applies_to": {"record_types": ["incident"]},
  "targets": [
    {"priority": 1, "response": "15m", "resolution": "4h"},
    {"priority": 3, "response": "1h", "resolution": "8h"}
  ],
  "calendar_id": "office-hours",
  "response": {"start": {"events": ["incident_opened"]},
               "stop": {"events": ["incident_acknowledged"]}},
  "resolution": {"start": {"events": ["incident_opened"]},
                 "pause": {"states": ["on_hold"]},
                 "stop": {"states": ["resolved", "closed"]},
                 "cancel": {"states": ["cancelled"]}}
})";

SlaClock ClockFor(int priority, absl::string_view record = "INC0001") {
  absl::StatusOr<SlaPolicy> policy = LoadSlaPolicyJson(kOfficePolicy);
  EXPECT_TRUE(policy.ok()) << policy.status();
  absl::StatusOr<SlaClockSpec> spec =
      SlaClockSpecFor(*policy, SLA_METRIC_RESOLUTION, priority, record);
  EXPECT_TRUE(spec.ok()) << spec.status();
  absl::StatusOr<SlaClock> clock = SlaClock::Create(*spec);
  EXPECT_TRUE(clock.ok()) << clock.status();
  return *std::move(clock);
}

// A clock of a spec that must be valid.
SlaClock Made(const SlaClockSpec& spec) {
  absl::StatusOr<SlaClock> clock = SlaClock::Create(spec);
  EXPECT_TRUE(clock.ok()) << clock.status();
  return *std::move(clock);
}

SlaClock Clock(absl::Duration target) {
  SlaClockSpec spec;
  spec.record_id = "INC0042";
  spec.policy_id = "p";
  spec.target = target;
  return Made(spec);
}

std::string Bytes(const SlaClock& clock) {
  std::string out;
  EXPECT_TRUE(clock.ToProto().SerializeToString(&out));
  return out;
}

// --- Escalation thresholds before the deadline (issue 20) --------------------

// A clock on office-berlin (Friday 09:00-13:00 and 14:00-17:00, Europe/Berlin)
// with warnings 2h, 1h, 30m and 5m before a 4h deadline, given out of order.
SlaClock BeforeClock(std::vector<absl::Duration> before) {
  SlaClockSpec spec;
  spec.record_id = "INC1";
  spec.policy_id = "p";
  spec.target = absl::Hours(4);
  spec.warning_before = std::move(before);
  return Made(spec);
}

Fact BeforeFact(absl::Duration before, int index, absl::Time at) {
  Fact f = Fact::WarningReached(0, at);
  f.threshold_index = index;
  f.before = before;
  return f;
}

TEST(SlaClockBeforeDeadline, EachOffsetFiresAtItsExactInstantAcrossTheLunchBreak) {
  auto cal = ::slate::testing::LoadOfficeBerlin();
  ASSERT_TRUE(cal.ok()) << cal.status();
  CalendarBusinessTime berlin(*cal);
  SlaClock clock = BeforeClock(
      {absl::Minutes(30), absl::Hours(2), absl::Minutes(5), absl::Hours(1)});
  EXPECT_THAT(clock.warning_before_us(),
              ElementsAre(absl::ToInt64Microseconds(absl::Hours(2)),
                          absl::ToInt64Microseconds(absl::Hours(1)),
                          absl::ToInt64Microseconds(absl::Minutes(30)),
                          absl::ToInt64Microseconds(absl::Minutes(5))));
  // Friday 2026-11-27 11:00 Berlin (10:00 UTC): 2h to the lunch break,
  // then 2h more from 14:00: deadline 16:00 Berlin (15:00 UTC).
  MustApply(clock, In::Start(Utc("2026-11-27 10:00")), berlin);
  EXPECT_EQ(clock.deadline(), Utc("2026-11-27 15:00"));
  absl::StatusOr<std::optional<absl::Time>> due = clock.NextDue(berlin);
  ASSERT_TRUE(due.ok());
  EXPECT_EQ(*due, Utc("2026-11-27 12:00"));  // 2h before: 13:00 Berlin.
  // Observed once, after the deadline: each fact carries its own instant.
  std::vector<Fact> facts =
      MustApply(clock, In::AdvanceTo(Utc("2026-11-27 16:00")), berlin);
  EXPECT_THAT(
      facts,
      ElementsAre(BeforeFact(absl::Hours(2), 0, Utc("2026-11-27 12:00")),
                  BeforeFact(absl::Hours(1), 1, Utc("2026-11-27 14:00")),
                  BeforeFact(absl::Minutes(30), 2, Utc("2026-11-27 14:30")),
                  BeforeFact(absl::Minutes(5), 3, Utc("2026-11-27 14:55")),
                  Fact::Breached(Utc("2026-11-27 15:00"))));
  ASSERT_EQ(facts.size(), 5u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(facts[i].threshold_index, i);
    EXPECT_EQ(facts[i].before,
              absl::Microseconds(clock.warning_before_us()[i]));
  }
  EXPECT_EQ(clock.warnings_reached(), 4);
}

TEST(SlaClockBeforeDeadline, ARetargetMovesTheOffsetsWithTheDeadline) {
  OfficeHours office;  // Mon-Fri 09:00-17:00 UTC.
  SlaClock clock = BeforeClock({absl::Hours(1)});
  MustApply(clock, In::Start(Utc("2024-03-04 09:00")), office);
  // 4h target: 1h before is 12:00. Raised to 8h at 10:00: 1h before is 16:00.
  EXPECT_THAT(MustApply(clock,
                        In::Retarget(Utc("2024-03-04 10:00"), absl::Hours(8)),
                        office),
              ::testing::IsEmpty());
  EXPECT_THAT(MustApply(clock, In::AdvanceTo(Utc("2024-03-04 16:30")), office),
              ElementsAre(BeforeFact(absl::Hours(1), 0,
                                     Utc("2024-03-04 16:00"))));
  // Lowered to 2h at 16:30 (6.5h used): over the target, breached at once.
  EXPECT_THAT(MustApply(clock,
                        In::Retarget(Utc("2024-03-04 16:30"), absl::Hours(2)),
                        office),
              ElementsAre(Fact::Breached(Utc("2024-03-04 16:30"))));
}

TEST(SlaClockBeforeDeadline, AnOffsetNotBelowTheTargetFiresAsSoonAsTheClockRuns) {
  AlwaysOpen always;
  SlaClock clock = BeforeClock({absl::Hours(6), absl::Hours(4), absl::Hours(1)});
  const absl::Time t0 = Utc("2024-03-04 09:00");
  MustApply(clock, In::Start(t0), always);
  absl::StatusOr<std::optional<absl::Time>> due = clock.NextDue(always);
  ASSERT_TRUE(due.ok());
  EXPECT_EQ(*due, t0 + absl::Microseconds(1));
  EXPECT_THAT(MustApply(clock, In::AdvanceTo(t0 + absl::Hours(3)), always),
              ElementsAre(BeforeFact(absl::Hours(6), 0,
                                     t0 + absl::Microseconds(1)),
                          BeforeFact(absl::Hours(4), 1,
                                     t0 + absl::Microseconds(1)),
                          BeforeFact(absl::Hours(1), 2, t0 + absl::Hours(3))));
}

TEST(SlaClockBeforeDeadline, StoredStateKeepsTheOffsetsAndRejectsBothKinds) {
  OfficeHours office;
  SlaClock clock = BeforeClock({absl::Minutes(30), absl::Hours(1)});
  MustApply(clock, In::Start(Utc("2024-03-04 09:00")), office);
  MustApply(clock, In::AdvanceTo(Utc("2024-03-04 12:10")), office);
  SlaClockState state = clock.ToProto();
  EXPECT_THAT(state.warning_before_us(),
              ElementsAre(absl::ToInt64Microseconds(absl::Hours(1)),
                          absl::ToInt64Microseconds(absl::Minutes(30))));
  EXPECT_EQ(state.warning_thresholds_percent_size(), 0);
  EXPECT_EQ(SlaThresholdCount(state), 2);
  EXPECT_EQ(SlaThresholdAt(state, 1), absl::Minutes(210));
  EXPECT_EQ(SlaThresholdLabel(state, 0), "1h before");
  absl::StatusOr<SlaClock> back = SlaClock::FromProto(state);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(Bytes(*back), Bytes(clock));
  EXPECT_EQ(back->warnings_reached(), 1);
  state.add_warning_thresholds_percent(50);
  EXPECT_THAT(SlaClock::FromProto(state).status().message(),
              HasSubstr("both percentage and offset thresholds"));
}

TEST(SlaClockBeforeDeadline, BadOffsetsAreRefusedByName) {
  SlaClockSpec spec;
  spec.record_id = "INC1";
  spec.policy_id = "p";
  spec.target = absl::Hours(4);
  spec.warning_before = {absl::Hours(1), absl::ZeroDuration()};
  EXPECT_THAT(SlaClock::Create(spec).status().message(),
              HasSubstr("warning_before[1]: target must be > 0"));
  spec.warning_before = {absl::Hours(1), absl::Minutes(60)};
  EXPECT_THAT(SlaClock::Create(spec).status().message(),
              HasSubstr("warning_before lists 1h twice"));
}

// --- Relative targets (issue 20) -------------------------------------------

SlaClock RelativeClock(SlaRelativeTarget r) {
  SlaClockSpec spec;
  spec.record_id = "INC1";
  spec.policy_id = "p";
  spec.relative = r;
  return Made(spec);
}

SlaRelativeTarget EndOfDay(int n) {
  SlaRelativeTarget r;
  r.business_day = n;
  return r;
}

SlaRelativeTarget AtOnDay(int hh, int mm, int n) {
  SlaRelativeTarget r;
  r.business_day = n;
  r.minute_of_day = hh * 60 + mm;
  return r;
}

class SlaClockRelative : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cal = ::slate::testing::LoadOfficeBerlin();
    ASSERT_TRUE(cal.ok()) << cal.status();
    berlin_ = std::make_unique<CalendarBusinessTime>(*cal);
  }
  std::unique_ptr<CalendarBusinessTime> berlin_;
};

// Thu 2026-12-24 closes at 12:00 Berlin, Fri 25 is a holiday, Sat 26 is
// closed, Sun 27 has an extra window 10:00-14:00: opened Thu 10:00, the end
// of the next business day is Sun 14:00, 2h + 4h of business time away.
TEST_F(SlaClockRelative, EndOfNextBusinessDaySkipsTheHolidayAndTakesTheExtraWindow) {
  SlaClock clock = RelativeClock(EndOfDay(1));
  EXPECT_EQ(clock.target(), absl::ZeroDuration());
  EXPECT_DOUBLE_EQ(clock.percent_used(), 0);
  ASSERT_TRUE(clock.CheckInvariants().ok()) << clock.CheckInvariants();
  MustApply(clock, In::Start(Utc("2026-12-24 09:00")), *berlin_);
  EXPECT_EQ(clock.target(), absl::Hours(6));
  EXPECT_EQ(clock.deadline(), Utc("2026-12-27 13:00"));  // Sun 14:00 Berlin.
  EXPECT_EQ(SlaRelativeTargetText(*clock.relative_target()),
            "end of next business day");
  EXPECT_TRUE(clock.CheckInvariants().ok()) << clock.CheckInvariants();
}

// "17:00 on business day 2" from Friday 16:00 Berlin: Tuesday 17:00 Berlin,
// 1h + 8h + 8h away; a pause pushes the deadline out, not the target.
TEST_F(SlaClockRelative, ATimeOnTheNthBusinessDayThenAPauseMovesTheDeadline) {
  SlaClock clock = RelativeClock(AtOnDay(17, 0, 2));
  MustApply(clock, In::Start(Utc("2026-11-27 15:00")), *berlin_);
  EXPECT_EQ(clock.target(), absl::Hours(17));
  EXPECT_EQ(clock.deadline(), Utc("2026-12-01 16:00"));
  MustApply(clock, In::Pause(Utc("2026-11-30 08:00"), "AWAITING_CALLER"),
            *berlin_);  // Mon 09:00 Berlin, 1h used.
  MustApply(clock, In::Resume(Utc("2026-11-30 12:00")), *berlin_);
  EXPECT_EQ(clock.target(), absl::Hours(17));
  // 1h used by Friday 17:00; from Mon 13:00 Berlin 16h more: Mon 4h, Tue
  // 8h, Wed 09:00-13:00 Berlin.
  EXPECT_EQ(clock.deadline(), Utc("2026-12-02 12:00"));
}

TEST_F(SlaClockRelative, ANewCycleResolvesAgainAndARetargetFromTheCycleStart) {
  SlaClock clock = RelativeClock(EndOfDay(1));
  MustApply(clock, In::Start(Utc("2026-11-23 08:00")), *berlin_);  // Mon 09:00.
  EXPECT_EQ(clock.target(), absl::Hours(16));  // Mon 8h + Tue 8h.
  MustApply(clock, In::Stop(Utc("2026-11-23 10:00")), *berlin_);
  MustApply(clock,
            In::Reopen(Utc("2026-11-27 11:00"), SLA_REOPEN_MODE_NEW_CYCLE),
            *berlin_);  // Fri 12:00 Berlin: Fri 4h, then Mon to 17:00.
  EXPECT_EQ(clock.cycle(), 2);
  EXPECT_EQ(clock.target(), absl::Hours(12));
  // Retargeted to "end of business day 2" at Fri 15:00 Berlin: from the
  // cycle's start, Fri 4h + Mon 8h + Tue 8h; the history keeps it.
  MustApply(clock,
            In::RetargetRelative(Utc("2026-11-27 14:00"), EndOfDay(2),
                                 "priority 2 -> 3"),
            *berlin_);
  EXPECT_EQ(clock.target(), absl::Hours(20));
  ASSERT_EQ(clock.target_history().size(), 1u);
  EXPECT_EQ(clock.target_history()[0].old_target_us(),
            absl::ToInt64Microseconds(absl::Hours(12)));
  // A duration retarget ends the relative rule for the next cycles.
  MustApply(clock, In::Retarget(Utc("2026-11-27 14:30"), absl::Hours(4)),
            *berlin_);
  EXPECT_FALSE(clock.relative_target().has_value());
  // Stored and read back, the clock is the same.
  absl::StatusOr<SlaClock> back = SlaClock::FromProto(clock.ToProto());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(Bytes(*back), Bytes(clock));
}

TEST_F(SlaClockRelative, StoredRelativeClocksRoundTripBeforeAndAfterTheStart) {
  SlaClock clock = RelativeClock(AtOnDay(9, 30, 3));
  SlaClockState state = clock.ToProto();
  EXPECT_EQ(state.relative_target().business_day(), 3);
  EXPECT_EQ(state.relative_target().minute_of_day(), 570);
  EXPECT_EQ(state.target_us(), 0);
  absl::StatusOr<SlaClock> back = SlaClock::FromProto(state);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(Bytes(*back), Bytes(clock));
  MustApply(clock, In::Start(Utc("2026-11-23 08:00")), *berlin_);
  back = SlaClock::FromProto(clock.ToProto());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(Bytes(*back), Bytes(clock));
  EXPECT_EQ(back->target(), clock.target());
}

TEST(SlaClockRelativeAllHours, EveryDayIsABusinessDayInUtc) {
  AlwaysOpen always;
  SlaClock clock = RelativeClock(EndOfDay(1));
  MustApply(clock, In::Start(Utc("2026-11-27 10:00")), always);
  EXPECT_EQ(clock.deadline(), Utc("2026-11-29 00:00"));
  EXPECT_EQ(clock.target(), absl::Hours(38));
  SlaClock at = RelativeClock(AtOnDay(17, 0, 1));
  MustApply(at, In::Start(Utc("2026-11-27 10:00")), always);
  EXPECT_EQ(at.deadline(), Utc("2026-11-28 17:00"));
}

TEST(SlaClockRelativeAllHours, BadRelativeTargetsAreRefused) {
  SlaClockSpec spec;
  spec.record_id = "INC1";
  spec.policy_id = "p";
  spec.relative = EndOfDay(0);
  EXPECT_THAT(SlaClock::Create(spec).status().message(),
              HasSubstr("business day must be >= 1"));
  spec.relative = AtOnDay(24, 0, 1);
  EXPECT_THAT(SlaClock::Create(spec).status().message(),
              HasSubstr("time of day"));
}

// --- The office-hours story from the issue -----------------------------------

TEST(SlaClockOfficeHours, P1OpenedFridayAt16IsDueMondayAtNoon) {
  OfficeHours office;
  SlaClock clock = ClockFor(1);
  EXPECT_EQ(clock.status(), SLA_CLOCK_STATUS_NOT_STARTED);
  EXPECT_THAT(MustApply(clock, In::Start(Utc("2024-03-01 16:00")), office),
              ::testing::IsEmpty());
  EXPECT_EQ(clock.status(), SLA_CLOCK_STATUS_RUNNING);
  EXPECT_EQ(clock.deadline(), Utc("2024-03-04 12:00"));
  EXPECT_EQ(clock.target(), absl::Hours(4));

  absl::StatusOr<std::optional<absl::Time>> due = clock.NextDue(office);
  ASSERT_TRUE(due.ok());
  EXPECT_EQ(*due, Utc("2024-03-04 10:00"));  // 50%: 1h Friday + 1h Monday.

  // Over the weekend only Friday's last hour counts.
  EXPECT_THAT(MustApply(clock, In::AdvanceTo(Utc("2024-03-02 12:00")), office),
              ::testing::IsEmpty());
  EXPECT_EQ(clock.business_elapsed(), absl::Hours(1));
  EXPECT_EQ(clock.wall_elapsed(), absl::Hours(20));
  EXPECT_DOUBLE_EQ(clock.percent_used(), 25);

  // Observed late (13:00): every fact carries the instant it happened.
  EXPECT_THAT(MustApply(clock, In::AdvanceTo(Utc("2024-03-04 13:00")), office),
              ElementsAre(Fact::WarningReached(50, Utc("2024-03-04 10:00")),
                          Fact::WarningReached(75, Utc("2024-03-04 11:00")),
                          Fact::WarningReached(90, Utc("2024-03-04 11:36")),
                          Fact::Breached(Utc("2024-03-04 12:00"))));
  EXPECT_EQ(clock.status(), SLA_CLOCK_STATUS_BREACHED);
  EXPECT_EQ(clock.breached_at(), Utc("2024-03-04 12:00"));
  EXPECT_EQ(clock.business_overdue(), absl::Hours(1));
  EXPECT_EQ(clock.wall_overdue(), absl::Hours(1));
  EXPECT_DOUBLE_EQ(clock.percent_used(), 125);
  due = clock.NextDue(office);
  ASSERT_TRUE(due.ok());
  EXPECT_EQ(*due, std::nullopt);
}

TEST(SlaClockOfficeHours, SlowAndFastCalendarsGiveTheSameClock) {
  OfficeHours fast;
  SlowOfficeHours slow;
  SlaClock a = ClockFor(1), b = ClockFor(1);
  for (const In& in : {In::Start(Utc("2024-03-01 16:00")),
                       In::Pause(Utc("2024-03-01 16:20"), "AWAITING_CALLER"),
                       In::Resume(Utc("2024-03-05 08:00")),
                       In::AdvanceTo(Utc("2024-03-06 12:00"))}) {
    EXPECT_EQ(MustApply(a, in, fast), MustApply(b, in, slow));
    EXPECT_EQ(Bytes(a), Bytes(b));
  }
}

TEST(SlaClockOfficeHours, PauseWhileAwaitingTheCallerStopsTheClock) {
  OfficeHours office;
  SlaClock clock = ClockFor(1);
  MustApply(clock, In::Start(Utc("2024-03-01 16:00")), office);
  MustApply(clock, In::Pause(Utc("2024-03-01 16:30"), "AWAITING_CALLER"),
            office);
  EXPECT_EQ(clock.status(), SLA_CLOCK_STATUS_PAUSED);
  EXPECT_EQ(clock.pause_reason(), "AWAITING_CALLER");
  EXPECT_EQ(clock.deadline(), std::nullopt);
  EXPECT_EQ(*clock.NextDue(office), std::nullopt);

  // Nothing fires while paused, however long.
  EXPECT_THAT(MustApply(clock, In::AdvanceTo(Utc("2024-03-04 09:30")), office),
              ::testing::IsEmpty());
  EXPECT_EQ(clock.business_elapsed(), absl::Minutes(30));

  MustApply(clock, In::Resume(Utc("2024-03-04 10:00")), office);
  EXPECT_EQ(clock.pause_reason(), "");
  EXPECT_EQ(clock.paused(), Utc("2024-03-04 10:00") - Utc("2024-03-01 16:30"));
  EXPECT_EQ(clock.deadline(), Utc("2024-03-04 13:30"));  // 3h30m left.

  EXPECT_THAT(MustApply(clock, In::Stop(Utc("2024-03-04 13:00")), office),
              ElementsAre(Fact::WarningReached(50, Utc("2024-03-04 11:30")),
                          Fact::WarningReached(75, Utc("2024-03-04 12:30")),
                          Fact::Met(Utc("2024-03-04 13:00"))));
  EXPECT_EQ(clock.status(), SLA_CLOCK_STATUS_MET);
  EXPECT_EQ(clock.business_elapsed(), absl::Minutes(30 + 180));
  EXPECT_EQ(clock.wall_elapsed(), absl::Minutes(30 + 180));
}

// --- The deadline instant itself
// ----------------------------------------------

TEST(SlaClockDeadline, PauseAtExactlyTheDeadlineIsBreachedAndPaused) {
  AlwaysOpen always;
  SlaClock clock = Clock(absl::Hours(4));
  MustApply(clock, In::Start(Utc("2024-03-05 08:00")), always);
  EXPECT_THAT(MustApply(clock, In::Pause(Utc("2024-03-05 12:00")), always),
              ElementsAre(Fact::WarningReached(50, Utc("2024-03-05 10:00")),
                          Fact::WarningReached(75, Utc("2024-03-05 11:00")),
                          Fact::WarningReached(90, Utc("2024-03-05 11:36")),
                          Fact::Breached(Utc("2024-03-05 12:00"))));
  EXPECT_EQ(clock.status(), SLA_CLOCK_STATUS_BREACHED);
  EXPECT_EQ(clock.phase(), SLA_CLOCK_PHASE_PAUSED);
  EXPECT_EQ(clock.deadline(), Utc("2024-03-05 12:00"));
  EXPECT_EQ(clock.business_overdue(), absl::ZeroDuration());
  EXPECT_DOUBLE_EQ(clock.percent_used(), 100);

  // Overdue time counts only while running.
  MustApply(clock, In::Resume(Utc("2024-03-05 14:00")), always);
  MustApply(clock, In::AdvanceTo(Utc("2024-03-05 15:00")), always);
  EXPECT_EQ(clock.status(), SLA_CLOCK_STATUS_BREACHED);
  EXPECT_EQ(clock.phase(), SLA_CLOCK_PHASE_RUNNING);
  EXPECT_EQ(clock.business_overdue(), absl::Hours(1));
  EXPECT_EQ(clock.wall_overdue(), absl::Hours(1));
  EXPECT_EQ(clock.paused(), absl::Hours(2));
}

TEST(SlaClockDeadline, PauseOneMicrosecondBeforeTheDeadlineIsNotBreached) {
  AlwaysOpen always;
  SlaClock clock = Clock(absl::Hours(4));
  MustApply(clock, In::Start(Utc("2024-03-05 08:00")), always);
  const absl::Time just_before =
      Utc("2024-03-05 12:00") - absl::Microseconds(1);
  EXPECT_EQ(MustApply(clock, In::Pause(just_before), always).size(), 3u);
  EXPECT_EQ(clock.status(), SLA_CLOCK_STATUS_PAUSED);
  MustApply(clock, In::Resume(Utc("2024-03-05 14:00")), always);
  const absl::Time due = Utc("2024-03-05 14:00") + absl::Microseconds(1);
  EXPECT_EQ(clock.deadline(), due);
  EXPECT_THAT(MustApply(clock, In::AdvanceTo(due), always),
              ElementsAre(Fact::Breached(due)));
}

TEST(SlaClockDeadline, StopAtTheDeadlineIsBreachedOneMicrosecondEarlierIsMet) {
  AlwaysOpen always;
  SlaClock on_time = Clock(absl::Hours(4)), at_deadline = Clock(absl::Hours(4));
  MustApply(on_time, In::Start(Utc("2024-03-05 08:00")), always);
  MustApply(at_deadline, In::Start(Utc("2024-03-05 08:00")), always);
  const absl::Time deadline = Utc("2024-03-05 12:00");

  std::vector<Fact> facts =
      MustApply(on_time, In::Stop(deadline - absl::Microseconds(1)), always);
  EXPECT_EQ(facts.back(), Fact::Met(deadline - absl::Microseconds(1)));
  EXPECT_EQ(on_time.status(), SLA_CLOCK_STATUS_MET);

  facts = MustApply(at_deadline, In::Stop(deadline), always);
  ASSERT_EQ(facts.size(), 5u);
  EXPECT_EQ(facts[3], Fact::Breached(deadline));
  EXPECT_EQ(facts[4].kind, Fact::Kind::kCompletedBreached);
  EXPECT_EQ(at_deadline.status(), SLA_CLOCK_STATUS_BREACHED);
  EXPECT_EQ(at_deadline.phase(), SLA_CLOCK_PHASE_STOPPED);
}

TEST(SlaClockDeadline, DeadlineOnAWindowEndBreachesAtThatEnd) {
  OfficeHours office;
  SlaClock clock = Clock(absl::Hours(1));
  MustApply(clock, In::Start(Utc("2024-03-01 16:00")), office);
  EXPECT_EQ(clock.deadline(), Utc("2024-03-01 17:00"));  // Not Monday 09:00.
  std::vector<Fact> facts =
      MustApply(clock, In::Pause(Utc("2024-03-01 17:00")), office);
  EXPECT_EQ(facts.back(), Fact::Breached(Utc("2024-03-01 17:00")));
  EXPECT_EQ(clock.phase(), SLA_CLOCK_PHASE_PAUSED);
}

TEST(SlaClockDeadline, NextDueFiresExactlyAtItsInstantAndNeverBefore) {
  OfficeHours office;
  SlaClock clock = ClockFor(1);
  MustApply(clock, In::Start(Utc("2024-03-01 16:00")), office);
  std::vector<Fact> all;
  for (int i = 0; i < 10; ++i) {
    absl::StatusOr<std::optional<absl::Time>> due = clock.NextDue(office);
    ASSERT_TRUE(due.ok()) << due.status();
    if (!due->has_value()) break;
    EXPECT_THAT(
        MustApply(clock, In::AdvanceTo(**due - absl::Microseconds(1)), office),
        ::testing::IsEmpty());
    std::vector<Fact> facts = MustApply(clock, In::AdvanceTo(**due), office);
    ASSERT_EQ(facts.size(), 1u);
    EXPECT_EQ(facts[0].at, **due);
    all.push_back(facts[0]);
  }
  EXPECT_THAT(all,
              ElementsAre(Fact::WarningReached(50, Utc("2024-03-04 10:00")),
                          Fact::WarningReached(75, Utc("2024-03-04 11:00")),
                          Fact::WarningReached(90, Utc("2024-03-04 11:36")),
                          Fact::Breached(Utc("2024-03-04 12:00"))));
}

TEST(SlaClockDeadline, FractionalThresholdNeverFiresEarly) {
  AlwaysOpen always;
  SlaClockSpec spec;
  spec.record_id = "INC7";
  spec.target = absl::Seconds(7);
  spec.warning_thresholds_percent = {33.3};
  SlaClock clock = *SlaClock::Create(spec);
  const absl::Time t0 = Utc("2024-03-05 08:00");
  MustApply(clock, In::Start(t0), always);
  const absl::Duration thr = ThresholdDuration(absl::Seconds(7), 33.3);
  EXPECT_GE(thr * 100, absl::Seconds(7) * 33.3);
  EXPECT_THAT(
      MustApply(clock, In::AdvanceTo(t0 + thr - absl::Microseconds(1)), always),
      ::testing::IsEmpty());
  EXPECT_THAT(MustApply(clock, In::AdvanceTo(t0 + thr), always),
              ElementsAre(Fact::WarningReached(33.3, t0 + thr)));
}

// --- Priority changes
// ----------------------------------------------------------

TEST(SlaClockRetarget, RaisedPriorityKeepsElapsedAndMovesTheDeadline) {
  OfficeHours office;
  SlaClock clock = ClockFor(3);  // 8h.
  MustApply(clock, In::Start(Utc("2024-03-04 09:00")), office);
  EXPECT_EQ(clock.deadline(), Utc("2024-03-04 17:00"));
  EXPECT_THAT(MustApply(clock,
                        In::Retarget(Utc("2024-03-04 10:00"), absl::Hours(4),
                                     "P3 -> P1: outage widened"),
                        office),
              ::testing::IsEmpty());
  EXPECT_EQ(clock.business_elapsed(), absl::Hours(1));
  EXPECT_EQ(clock.target(), absl::Hours(4));
  EXPECT_EQ(clock.deadline(), Utc("2024-03-04 13:00"));
  ASSERT_EQ(clock.target_history().size(), 1u);
  const SlaTargetChange& change = clock.target_history()[0];
  EXPECT_EQ(change.at_us(), absl::ToUnixMicros(Utc("2024-03-04 10:00")));
  EXPECT_EQ(change.old_target_us(), absl::ToInt64Microseconds(absl::Hours(8)));
  EXPECT_EQ(change.new_target_us(), absl::ToInt64Microseconds(absl::Hours(4)));
  EXPECT_EQ(change.reason(), "P3 -> P1: outage widened");

  // Lowered again: the deadline moves out, into Tuesday.
  MustApply(clock, In::Retarget(Utc("2024-03-04 11:00"), absl::Hours(16), "P4"),
            office);
  EXPECT_EQ(clock.deadline(), Utc("2024-03-05 17:00"));
  EXPECT_EQ(clock.target_history().size(), 2u);
}

TEST(SlaClockRetarget, RaisedPriorityPastTheNewTargetBreachesAtThatMoment) {
  AlwaysOpen always;
  SlaClock clock = Clock(absl::Hours(8));
  MustApply(clock, In::Start(Utc("2024-03-05 08:00")), always);
  const absl::Time raised = Utc("2024-03-05 13:00");  // 5h used.
  EXPECT_THAT(
      MustApply(clock, In::Retarget(raised, absl::Hours(4), "P1"), always),
      ElementsAre(Fact::WarningReached(50, Utc("2024-03-05 12:00")),  // Of 8h.
                  Fact::WarningReached(75, raised),
                  Fact::WarningReached(90, raised), Fact::Breached(raised)));
  EXPECT_EQ(clock.status(), SLA_CLOCK_STATUS_BREACHED);
  EXPECT_EQ(clock.breached_at(), raised);
  EXPECT_EQ(clock.deadline(), raised);
  EXPECT_EQ(clock.business_overdue(), absl::Hours(1));
  // A later, larger target does not undo the breach.
  MustApply(clock, In::Retarget(Utc("2024-03-05 13:30"), absl::Hours(24), "P4"),
            always);
  EXPECT_EQ(clock.status(), SLA_CLOCK_STATUS_BREACHED);
  EXPECT_EQ(clock.deadline(), raised);
}

TEST(SlaClockRetarget, RetargetWhilePausedFiresAtTheRetargetInstant) {
  AlwaysOpen always;
  SlaClock clock = Clock(absl::Hours(8));
  MustApply(clock, In::Start(Utc("2024-03-05 08:00")), always);
  MustApply(clock, In::Pause(Utc("2024-03-05 11:00")), always);  // 3h used.
  EXPECT_THAT(
      MustApply(clock, In::Retarget(Utc("2024-03-05 15:00"), absl::Hours(4)),
                always),
      ElementsAre(Fact::WarningReached(50, Utc("2024-03-05 15:00")),
                  Fact::WarningReached(75, Utc("2024-03-05 15:00"))));
  EXPECT_EQ(clock.status(), SLA_CLOCK_STATUS_PAUSED);
  MustApply(clock, In::Resume(Utc("2024-03-05 16:00")), always);
  EXPECT_EQ(clock.deadline(), Utc("2024-03-05 17:00"));
}

// --- Reopen
// ---------------------------------------------------------------------

TEST(SlaClockReopen, NewCycleStartsAFreshClock) {
  AlwaysOpen always;
  SlaClock clock = Clock(absl::Hours(4));
  MustApply(clock, In::Start(Utc("2024-03-05 08:00")), always);
  MustApply(clock, In::Retarget(Utc("2024-03-05 09:00"), absl::Hours(3)),
            always);
  MustApply(clock, In::Stop(Utc("2024-03-05 10:00")), always);
  const SlaClock first_cycle = clock;
  EXPECT_EQ(first_cycle.status(), SLA_CLOCK_STATUS_MET);

  EXPECT_THAT(
      MustApply(clock,
                In::Reopen(Utc("2024-03-06 15:00"), SLA_REOPEN_MODE_NEW_CYCLE),
                always),
      ElementsAre(
          Fact{Fact::Kind::kCycleStarted, Utc("2024-03-06 15:00"), 0, 2}));
  EXPECT_EQ(clock.cycle(), 2);
  EXPECT_EQ(clock.status(), SLA_CLOCK_STATUS_RUNNING);
  EXPECT_EQ(clock.started_at(), Utc("2024-03-06 15:00"));
  EXPECT_EQ(clock.business_elapsed(), absl::ZeroDuration());
  EXPECT_EQ(clock.warnings_reached(), 0);
  EXPECT_EQ(clock.target(), absl::Hours(3));  // The target in force.
  EXPECT_TRUE(clock.target_history().empty());
  EXPECT_EQ(clock.deadline(), Utc("2024-03-06 18:00"));
  EXPECT_EQ(first_cycle.business_elapsed(), absl::Hours(2));  // Unchanged.
  std::vector<Fact> facts =
      MustApply(clock, In::AdvanceTo(Utc("2024-03-06 19:00")), always);
  EXPECT_EQ(facts.back(), Fact::Breached(Utc("2024-03-06 18:00"), 2));
}

TEST(SlaClockReopen, ResumeContinuesTheSameClock) {
  AlwaysOpen always;
  SlaClock clock = Clock(absl::Hours(4));
  MustApply(clock, In::Start(Utc("2024-03-05 08:00")), always);
  EXPECT_THAT(MustApply(clock, In::Stop(Utc("2024-03-05 10:00")), always),
              ElementsAre(Fact::WarningReached(50, Utc("2024-03-05 10:00")),
                          Fact::Met(Utc("2024-03-05 10:00"))));
  EXPECT_THAT(
      MustApply(clock,
                In::Reopen(Utc("2024-03-05 15:00"), SLA_REOPEN_MODE_RESUME),
                always),
      ::testing::IsEmpty());
  EXPECT_EQ(clock.cycle(), 1);
  EXPECT_EQ(clock.status(), SLA_CLOCK_STATUS_RUNNING);
  EXPECT_EQ(clock.stopped_at(), std::nullopt);
  EXPECT_EQ(clock.business_elapsed(), absl::Hours(2));
  EXPECT_EQ(clock.deadline(), Utc("2024-03-05 17:00"));
  EXPECT_EQ(*clock.NextDue(always), Utc("2024-03-05 16:00"));  // 75%.
  // The stopped hours count neither as running nor as paused.
  MustApply(clock, In::AdvanceTo(Utc("2024-03-05 16:00")), always);
  EXPECT_EQ(clock.wall_elapsed(), absl::Hours(3));
  EXPECT_EQ(clock.paused(), absl::ZeroDuration());
}

TEST(SlaClockReopen, ResumeOfABreachedClockStaysBreached) {
  AlwaysOpen always;
  SlaClock clock = Clock(absl::Hours(1));
  MustApply(clock, In::Start(Utc("2024-03-05 08:00")), always);
  MustApply(clock, In::Stop(Utc("2024-03-05 10:00")), always);
  MustApply(clock, In::Reopen(Utc("2024-03-05 11:00"), SLA_REOPEN_MODE_RESUME),
            always);
  EXPECT_EQ(clock.status(), SLA_CLOCK_STATUS_BREACHED);
  EXPECT_EQ(clock.phase(), SLA_CLOCK_PHASE_RUNNING);
  MustApply(clock, In::AdvanceTo(Utc("2024-03-05 11:30")), always);
  EXPECT_EQ(clock.wall_overdue(), absl::Minutes(90));
}

// --- Breach, then resolve
// --------------------------------------------------------

TEST(SlaClockBreach, ResolvedAfterTheBreachCountsOverdueTime) {
  AlwaysOpen always;
  SlaClock clock = Clock(absl::Hours(4));
  MustApply(clock, In::Start(Utc("2024-03-05 08:00")), always);
  MustApply(clock, In::AdvanceTo(Utc("2024-03-05 12:10")), always);
  EXPECT_EQ(clock.wall_overdue(), absl::Minutes(10));
  MustApply(clock, In::Pause(Utc("2024-03-05 12:30"), "AWAITING_VENDOR"),
            always);
  MustApply(clock, In::Resume(Utc("2024-03-05 13:00")), always);
  std::vector<Fact> facts =
      MustApply(clock, In::Stop(Utc("2024-03-05 13:30")), always);
  EXPECT_THAT(facts, ElementsAre(Fact{Fact::Kind::kCompletedBreached,
                                      Utc("2024-03-05 13:30"), 0, 1}));
  EXPECT_EQ(clock.status(), SLA_CLOCK_STATUS_BREACHED);
  EXPECT_EQ(clock.phase(), SLA_CLOCK_PHASE_STOPPED);
  EXPECT_EQ(clock.stopped_at(), Utc("2024-03-05 13:30"));
  EXPECT_EQ(clock.business_overdue(), absl::Hours(1));
  EXPECT_EQ(clock.wall_overdue(), absl::Hours(1));
  EXPECT_EQ(clock.paused(), absl::Minutes(30));
  EXPECT_EQ(clock.wall_elapsed(), absl::Hours(5));
  // Time after the stop does not count.
  MustApply(clock, In::AdvanceTo(Utc("2024-03-07 00:00")), always);
  EXPECT_EQ(clock.business_overdue(), absl::Hours(1));
}

TEST(SlaClockBreach, CancelledClockTakesNoFurtherInput) {
  AlwaysOpen always;
  SlaClock clock = Clock(absl::Hours(4));
  MustApply(clock, In::Start(Utc("2024-03-05 08:00")), always);
  std::vector<Fact> facts =
      MustApply(clock, In::Cancel(Utc("2024-03-05 09:00")), always);
  EXPECT_EQ(facts.back().kind, Fact::Kind::kCancelled);
  EXPECT_EQ(clock.status(), SLA_CLOCK_STATUS_CANCELLED);
  absl::Status s = clock.ApplyInPlace(In::AdvanceTo(Utc("2024-03-05 10:00")),
                                      always, nullptr);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()), HasSubstr("cancelled"));
}

// --- Invalid sequences
// --------------------------------------------------------------

struct BadInput {
  std::string name;
  std::vector<In> setup;
  In input;
  absl::StatusCode code;
};

TEST(SlaClockInvalid, RejectedInputsLeaveTheClockUnchanged) {
  const absl::Time t0 = Utc("2024-03-05 08:00");
  const absl::Time t1 = t0 + absl::Hours(1);
  const absl::Time t2 = t0 + absl::Hours(2);
  const auto kFailed = absl::StatusCode::kFailedPrecondition;
  const auto kInvalid = absl::StatusCode::kInvalidArgument;
  const std::vector<BadInput> cases = {
      {"resume a running clock", {In::Start(t0)}, In::Resume(t1), kFailed},
      {"resume a clock never started", {}, In::Resume(t1), kFailed},
      {"pause a paused clock",
       {In::Start(t0), In::Pause(t1)},
       In::Pause(t2),
       kFailed},
      {"pause before start", {}, In::Pause(t1), kFailed},
      {"start twice", {In::Start(t0)}, In::Start(t1), kFailed},
      {"stop before start", {}, In::Stop(t1), kFailed},
      {"stop twice", {In::Start(t0), In::Stop(t1)}, In::Stop(t2), kFailed},
      {"reopen a running clock",
       {In::Start(t0)},
       In::Reopen(t1, SLA_REOPEN_MODE_RESUME),
       kFailed},
      {"retarget a stopped clock",
       {In::Start(t0), In::Stop(t1)},
       In::Retarget(t2, absl::Hours(1)),
       kFailed},
      {"cancel a stopped clock",
       {In::Start(t0), In::Stop(t1)},
       In::Cancel(t2),
       kFailed},
      {"resume after cancel",
       {In::Start(t0), In::Pause(t0), In::Cancel(t1)},
       In::Resume(t2),
       kFailed},
      {"advance after cancel", {In::Cancel(t0)}, In::AdvanceTo(t2), kFailed},
      {"time going backwards", {In::Start(t1)}, In::Pause(t0), kInvalid},
      {"advance backwards",
       {In::Start(t0), In::AdvanceTo(t2)},
       In::AdvanceTo(t1),
       kInvalid},
      {"zero target",
       {In::Start(t0)},
       In::Retarget(t1, absl::ZeroDuration()),
       kInvalid},
      {"negative target",
       {In::Start(t0)},
       In::Retarget(t1, -absl::Hours(1)),
       kInvalid},
      {"sub-microsecond instant",
       {In::Start(t0)},
       In::AdvanceTo(t1 + absl::Nanoseconds(1)),
       kInvalid},
      {"infinite instant",
       {In::Start(t0)},
       In::AdvanceTo(absl::InfiniteFuture()),
       kInvalid},
  };
  AlwaysOpen always;
  for (const BadInput& c : cases) {
    SCOPED_TRACE(c.name);
    SlaClock clock = Clock(absl::Hours(4));
    for (const In& in : c.setup) MustApply(clock, in, always);
    const std::string before = Bytes(clock);
    std::vector<Fact> facts = {Fact::Met(t0)};
    absl::Status s = clock.ApplyInPlace(c.input, always, &facts);
    EXPECT_EQ(s.code(), c.code) << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr("INC0042"));
    EXPECT_EQ(Bytes(clock), before);
    EXPECT_EQ(facts.size(), 1u);
    // The pure form says the same.
    EXPECT_EQ(clock.Apply(c.input, always).status().code(), c.code);
  }
}

// A calendar that has no business time after a cut-off.
class EndsAt final : public BusinessTime {
 public:
  explicit EndsAt(absl::Time end) : end_(end) {}
  absl::Duration Between(absl::Time a, absl::Time b) const override {
    return always_.Between(std::min(a, end_), std::min(b, end_));
  }
  absl::StatusOr<absl::Time> Add(absl::Time t,
                                 absl::Duration d) const override {
    if (t + d > end_) return absl::OutOfRangeError("calendar ends");
    return t + d;
  }

 private:
  absl::Time end_;
  AlwaysOpen always_;
};

TEST(SlaClockInvalid, CalendarErrorsLeaveTheClockUnchanged) {
  EndsAt calendar(Utc("2024-03-05 10:00"));
  SlaClock clock = Clock(absl::Hours(4));
  const std::string before = Bytes(clock);
  absl::Status s =
      clock.ApplyInPlace(In::Start(Utc("2024-03-05 08:00")), calendar, nullptr);
  EXPECT_EQ(s.code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(Bytes(clock), before);
}

// --- Order, replay, storage
// ---------------------------------------------------------

TEST(SlaClockOrder, EventsArrivingOutOfOrderGiveTheSameClock) {
  OfficeHours office;
  // Two inputs share an instant: the sequence decides (pause, then resume).
  const std::vector<SequencedClockInput> in_order = {
      {In::Start(Utc("2024-03-01 16:00")), 0},
      {In::Pause(Utc("2024-03-01 16:30"), "AWAITING_CALLER"), 1},
      {In::Resume(Utc("2024-03-01 16:30")), 2},
      {In::Retarget(Utc("2024-03-04 09:15"), absl::Hours(2), "P1"), 3},
      {In::Pause(Utc("2024-03-04 10:00")), 4},
      {In::Resume(Utc("2024-03-04 11:00")), 5},
      {In::Stop(Utc("2024-03-04 12:00")), 6},
  };
  SlaClock expected = ClockFor(3);
  std::vector<Fact> expected_facts;
  for (const SequencedClockInput& in : in_order) {
    for (const Fact& f : MustApply(expected, in.input, office)) {
      expected_facts.push_back(f);
    }
  }
  EXPECT_EQ(expected.status(), SLA_CLOCK_STATUS_BREACHED);

  std::vector<SequencedClockInput> shuffled = in_order;
  std::sort(shuffled.begin(), shuffled.end(), [](const auto& a, const auto& b) {
    return a.sequence < b.sequence;
  });
  int permutations = 0;
  do {
    absl::StatusOr<SlaTransition> t = Replay(ClockFor(3), shuffled, office);
    ASSERT_TRUE(t.ok()) << t.status();
    ASSERT_EQ(Bytes(t->clock), Bytes(expected));
    ASSERT_EQ(t->facts, expected_facts);
    ++permutations;
  } while (std::next_permutation(
      shuffled.begin(), shuffled.end(),
      [](const auto& a, const auto& b) { return a.sequence < b.sequence; }));
  EXPECT_EQ(permutations, 5040);
}

TEST(SlaClockOrder, SortClockInputsOrdersByTimeThenSequence) {
  const absl::Time t = Utc("2024-03-05 08:00");
  std::vector<SequencedClockInput> inputs = {{In::Resume(t), 7},
                                             {In::Start(t - absl::Hours(1)), 9},
                                             {In::Pause(t), 3}};
  SortClockInputs(inputs);
  EXPECT_EQ(inputs[0].sequence, 9);
  EXPECT_EQ(inputs[1].sequence, 3);
  EXPECT_EQ(inputs[2].sequence, 7);
}

TEST(SlaClockOrder, ReplayNamesTheRejectedInput) {
  AlwaysOpen always;
  absl::StatusOr<SlaTransition> t =
      Replay(Clock(absl::Hours(1)),
             {{In::Start(Utc("2024-03-05 08:00")), 0},
              {In::Resume(Utc("2024-03-05 09:00")), 1}},
             always);
  EXPECT_EQ(t.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(t.status().message()), HasSubstr("input #1"));
}

TEST(SlaClockRetroactive, AttachedLateItCountsFromTheOriginalStart) {
  OfficeHours office;
  const std::vector<SequencedClockInput> history = {
      {In::Start(Utc("2024-03-01 16:00")), 0},
      {In::Pause(Utc("2024-03-01 16:30"), "AWAITING_CALLER"), 1},
      {In::Resume(Utc("2024-03-04 10:00")), 2},
  };
  // Attached live: saw every input and a timer tick each hour.
  SlaClock live = ClockFor(1);
  std::vector<Fact> live_facts;
  size_t next = 0;
  for (absl::Time t = Utc("2024-03-01 16:00"); t <= Utc("2024-03-04 14:00");
       t += absl::Hours(1)) {
    while (next < history.size() && history[next].input.at <= t) {
      for (const Fact& f : MustApply(live, history[next++].input, office)) {
        live_facts.push_back(f);
      }
    }
    for (const Fact& f : MustApply(live, In::AdvanceTo(t), office)) {
      live_facts.push_back(f);
    }
  }
  // Attached at Monday 14:00 (say the policy was added then).
  std::vector<SequencedClockInput> late = history;
  late.push_back({In::AdvanceTo(Utc("2024-03-04 14:00")), 3});
  absl::StatusOr<SlaTransition> attached = Replay(ClockFor(1), late, office);
  ASSERT_TRUE(attached.ok()) << attached.status();
  EXPECT_EQ(Bytes(attached->clock), Bytes(live));
  EXPECT_EQ(attached->facts, live_facts);
  EXPECT_THAT(attached->facts,
              ElementsAre(Fact::WarningReached(50, Utc("2024-03-04 11:30")),
                          Fact::WarningReached(75, Utc("2024-03-04 12:30")),
                          Fact::WarningReached(90, Utc("2024-03-04 13:06")),
                          Fact::Breached(Utc("2024-03-04 13:30"))));
}

TEST(SlaClockStorage, ProtoRoundTripKeepsEveryByteAndBehaviour) {
  OfficeHours office;
  SlaClock clock = ClockFor(1);
  MustApply(clock, In::Start(Utc("2024-03-01 16:00")), office);
  MustApply(clock, In::Pause(Utc("2024-03-01 16:30"), "AWAITING_CALLER"),
            office);
  MustApply(clock, In::Retarget(Utc("2024-03-04 09:00"), absl::Hours(2)),
            office);
  absl::StatusOr<SlaClock> decoded = SlaClock::FromProto(clock.ToProto());
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(Bytes(*decoded), Bytes(clock));
  const In resume = In::Resume(Utc("2024-03-04 10:00"));
  const In later = In::AdvanceTo(Utc("2024-03-04 15:00"));
  MustApply(clock, resume, office);
  MustApply(*decoded, resume, office);
  EXPECT_EQ(MustApply(clock, later, office),
            MustApply(*decoded, later, office));
  EXPECT_EQ(Bytes(*decoded), Bytes(clock));
}

TEST(SlaClockStorage, CancelReasonIsKeptAndOnlyWhileCancelled) {
  AlwaysOpen always;
  SlaClock clock = Clock(absl::Hours(4));
  MustApply(clock, In::Start(Utc("2024-03-05 08:00")), always);
  // A running clock stores no reason; one set anyway is inconsistent.
  SlaClockState running = clock.ToProto();
  EXPECT_TRUE(running.cancel_reason().empty());
  running.set_cancel_reason("policy retired");
  EXPECT_EQ(SlaClock::FromProto(running).status().code(),
            absl::StatusCode::kInvalidArgument);

  MustApply(clock, In::Cancel(Utc("2024-03-05 09:00"), "policy retired"),
            always);
  EXPECT_EQ(clock.cancel_reason(), "policy retired");
  absl::StatusOr<SlaClock> decoded = SlaClock::FromProto(clock.ToProto());
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->cancel_reason(), "policy retired");
  EXPECT_EQ(Bytes(*decoded), Bytes(clock));
  // The policy's own cancel condition gives no reason.
  SlaClock plain = Clock(absl::Hours(4));
  MustApply(plain, In::Start(Utc("2024-03-05 08:00")), always);
  MustApply(plain, In::Cancel(Utc("2024-03-05 09:00")), always);
  EXPECT_TRUE(plain.cancel_reason().empty());
  EXPECT_EQ(plain.status(), SLA_CLOCK_STATUS_CANCELLED);
}

TEST(SlaClockStorage, InconsistentStoredStateIsRejected) {
  AlwaysOpen always;
  SlaClock clock = Clock(absl::Hours(4));
  MustApply(clock, In::Start(Utc("2024-03-05 08:00")), always);
  MustApply(clock, In::AdvanceTo(Utc("2024-03-05 09:00")), always);
  SlaClockState state = clock.ToProto();

  SlaClockState bad = state;
  bad.set_business_elapsed_us(absl::ToInt64Microseconds(absl::Hours(5)));
  EXPECT_EQ(SlaClock::FromProto(bad).status().code(),
            absl::StatusCode::kInvalidArgument);
  bad = state;
  bad.set_status(SLA_CLOCK_STATUS_MET);
  EXPECT_EQ(SlaClock::FromProto(bad).status().code(),
            absl::StatusCode::kInvalidArgument);
  bad = state;
  bad.set_target_us(0);
  EXPECT_EQ(SlaClock::FromProto(bad).status().code(),
            absl::StatusCode::kInvalidArgument);
  bad = state;
  bad.clear_deadline_us();
  EXPECT_EQ(SlaClock::FromProto(bad).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(SlaClock::FromProto(state).ok());
}

TEST(SlaClockCreate, BadSpecsAreRejected) {
  SlaClockSpec spec;
  spec.record_id = "INC9";
  spec.target = absl::ZeroDuration();
  EXPECT_EQ(SlaClock::Create(spec).status().code(),
            absl::StatusCode::kInvalidArgument);
  spec.target = absl::Hours(1);
  spec.warning_thresholds_percent = {50, 50};
  EXPECT_EQ(SlaClock::Create(spec).status().code(),
            absl::StatusCode::kInvalidArgument);
  spec.warning_thresholds_percent = {100};
  EXPECT_EQ(SlaClock::Create(spec).status().code(),
            absl::StatusCode::kInvalidArgument);
  spec.warning_thresholds_percent = {};
  EXPECT_TRUE(SlaClock::Create(spec).ok());
}

}  // namespace
}  // namespace slate
