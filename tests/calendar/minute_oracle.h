// MinuteOracle: a slow, obviously right model of a CalendarSpec, for tests.
//
// It shares no code with lib/calendar. It walks the time line minute by
// minute over a bounded horizon of UTC minutes, reads the wall clock of each
// minute with absl::TimeZone::At(absl::Time), and asks whether that reading is
// inside the spec's open time, painted into a 1440-entry array per civil day.
// The wall-clock reading it uses is the running maximum of the readings so
// far: "a boundary at civil time C is passed once the wall clock has read C
// or later", which is the contract of BusinessCalendar.
//
//   MinuteOracle oracle(spec, begin, /*minutes=*/144000);
//   EXPECT_EQ(calendar->IsOpen(t), oracle.IsOpen(t));
//
// REQUIRES: spec is valid (BusinessCalendar::FromSpec accepts it), and the
// zone's offsets are whole minutes over the horizon (whole_minutes()).
#ifndef SLATE_TESTS_CALENDAR_MINUTE_ORACLE_H_
#define SLATE_TESTS_CALENDAR_MINUTE_ORACLE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "proto/calendar.pb.h"

namespace slate {

class MinuteOracle {
 public:
  // Models [begin, begin + minutes). REQUIRES: begin on a whole UTC minute.
  MinuteOracle(const CalendarSpec& spec, absl::Time begin, int64_t minutes);

  absl::Time begin() const { return begin_; }
  absl::Time end() const { return begin_ + absl::Minutes(minutes_); }
  // False if some minute's wall clock reading had seconds (then the oracle
  // cannot model the calendar).
  bool whole_minutes() const { return whole_minutes_; }

  // REQUIRES for all: begin() <= t, a, b < end() (Add's result may be end()).
  bool IsOpen(absl::Time t) const;
  // nullopt: not open again before end().
  std::optional<absl::Time> NextOpen(absl::Time t) const;
  absl::Duration Between(absl::Time a, absl::Time b) const;
  // nullopt: the result would be after end(). d >= 0.
  std::optional<absl::Time> Add(absl::Time t, absl::Duration d) const;

  // Minute indexes i where IsOpen changes between minute i-1 and minute i.
  const std::vector<int64_t>& edges() const { return edges_; }

 private:
  using DayPaint = std::vector<bool>;  // 1440 entries, true = open.
  const DayPaint& Paint(absl::CivilDay day);
  bool OpenAtCivil(absl::CivilMinute m);
  int64_t MinuteIndex(absl::Time t) const;
  // Open microseconds in [begin_, t).
  int64_t Cum(absl::Time t) const;

  const CalendarSpec spec_;
  absl::TimeZone zone_;
  absl::Time begin_;
  int64_t minutes_;
  bool whole_minutes_ = true;
  std::map<absl::CivilDay, DayPaint> paint_;
  absl::CivilDay last_day_;  // Cache of the last Paint() lookup.
  const DayPaint* last_paint_ = nullptr;
  std::vector<bool> open_;            // Per minute.
  std::vector<int64_t> open_before_;  // Open minutes before minute i.
  std::vector<int64_t> next_open_;    // First open minute >= i, or minutes_.
  std::vector<int64_t> edges_;
};

}  // namespace slate

#endif  // SLATE_TESTS_CALENDAR_MINUTE_ORACLE_H_
