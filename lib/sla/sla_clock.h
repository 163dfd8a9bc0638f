// SlaClock: the SLA clock state machine. Pure logic: no I/O, no clock
// reads; the caller passes every instant, and business time comes from a
// BusinessTime (lib/sla/business_time.h).
//
//   slate::AlwaysOpen always;
//   slate::SlaClockSpec spec;
//   spec.record_id = "INC0001";
//   spec.policy_id = "p1";
//   spec.metric = slate::SLA_METRIC_RESOLUTION;
//   spec.target = absl::Hours(4);
//   absl::StatusOr<slate::SlaClock> clock = slate::SlaClock::Create(spec);
//   std::vector<slate::SlaClockFact> facts;
//   absl::Status s = clock->ApplyInPlace(slate::SlaClockInput::Start(t0),
//                                        always, &facts);
//   s = clock->ApplyInPlace(slate::SlaClockInput::AdvanceTo(t0 +
//                           absl::Hours(5)), always, &facts);
//   // facts: WarningReached 50% at t0+2h, 75% at t0+3h, 90% at t0+3h36m,
//   //        Breached at t0+4h. clock->status() == SLA_CLOCK_STATUS_BREACHED.
//   slate::SlaClockState stored = clock->ToProto();
//
// One SlaClock measures one metric of one record under one policy, for one
// cycle. Inputs (SlaClockInput) are folded in time order; each transition is
// a pure function (state, input) -> (new state, facts).
//
// Semantics (the contract the tests check):
//  - Time. Every input carries an instant `at`; an input before the latest
//    accepted one (observed_at) is kInvalidArgument. Instants and durations
//    must be finite whole microseconds (the log's unit): kInvalidArgument
//    otherwise. Before applying an input at t, the clock first advances to t:
//    a running clock adds Between(observed_at, t) of business time and
//    t - observed_at of wall time; a paused clock adds the wall time to
//    paused().
//  - Thresholds. Warning threshold p% of target T is reached when business
//    elapsed >= ThresholdDuration(T, p) (rounded up to a microsecond, so a
//    warning never fires early); the breach is the 100% threshold, reached
//    when business elapsed >= T. A clock's thresholds are either all
//    percentages or all offsets before the deadline (warning_before): offset
//    b is reached when business elapsed >= max(T - b, 1us), that is when b
//    of business time is left (an offset not below the target fires as soon
//    as the clock has run 1us); offsets are kept largest first, so under any
//    target both kinds keep their order. Each threshold fires at most once
//    per cycle, in ascending order, and the breach fires after the warnings.
//    A fact's instant is the exact crossing instant, computed as
//    BusinessTime::Add(observed_at, threshold - elapsed), never the instant
//    the crossing was observed. A retarget that puts elapsed over a
//    threshold fires it at the retarget instant (the clock was within its
//    previous target until then).
//  - The deadline instant itself is breached: an input at exactly the
//    deadline first records Breached{at = deadline}. So Pause(deadline) gives
//    a breached, paused clock; Stop(deadline) gives breached-and-completed;
//    only Stop(t < deadline) is MET. This matches NextDue(): AdvanceTo(the
//    due instant) fires it.
//  - A breach is permanent for the cycle: a breached clock keeps counting
//    overdue time while running, may be paused, resumed and stopped (status
//    stays BREACHED, phase says which), and a later larger target does not
//    undo it.
//  - Retarget keeps business elapsed and moves the deadline; every change is
//    kept in target_history().
//  - Reopen of a stopped clock: SLA_REOPEN_MODE_RESUME runs the same clock
//    again from the reopen instant (elapsed, warnings and breach kept);
//    NEW_CYCLE (and UNSPECIFIED) yields a fresh clock for cycle + 1 running
//    from the reopen instant. The caller keeps the old cycle's final state
//    (the state before the Reopen) if it wants it.
//  - Retroactive attach: a clock attached late is created and fed the
//    record's inputs from its original start (Replay); facts come out with
//    their historical instants, as if attached then.
//  - Invalid sequences leave the clock unchanged and return:
//      kFailedPrecondition: Start when started; Pause when not running;
//        Resume when not paused; Stop when not running or paused; Cancel
//        when stopped; Retarget when stopped; Reopen when not stopped; any
//        input (AdvanceTo too) after Cancel.
//      kInvalidArgument: time going backwards; non-positive or non-whole
//        target; infinite or sub-microsecond instants.
//      Errors from BusinessTime::Add are returned as they are.
#ifndef SLATE_LIB_SLA_SLA_CLOCK_H_
#define SLATE_LIB_SLA_SLA_CLOCK_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "lib/sla/business_time.h"
#include "proto/sla.pb.h"

namespace slate {

// What a new clock measures.
struct SlaClockSpec {
  std::string record_id;  // e.g. "INC0001"; names the clock in errors.
  std::string policy_id;
  SlaMetric metric = SLA_METRIC_RESOLUTION;
  // > 0, whole microseconds.
  absl::Duration target = absl::ZeroDuration();
  // Each in (0, 100), strictly increasing. Default: 50, 75, 90. Ignored
  // when warning_before is not empty.
  std::vector<double> warning_thresholds_percent = {50, 75, 90};
  // Escalation offsets: business time before the deadline, each > 0, whole
  // microseconds, distinct, any order (kept largest first). Not empty:
  // these are the clock's thresholds instead of the percentages. Default:
  // empty.
  std::vector<absl::Duration> warning_before;
  // Set: a relative target (business_time.h). `target` is then ignored;
  // the clock's target is zero until it starts, then the business time
  // from the start to business.RelativeDeadline(start) (at least 1us),
  // fixed again at each new cycle. Default: unset.
  std::optional<SlaRelativeTarget> relative;
};

enum class SlaClockInputKind {
  kStart,
  kPause,
  kResume,
  kStop,
  kCancel,
  kRetarget,
  kReopen,
  kAdvanceTo,
};

absl::string_view SlaClockInputKindName(SlaClockInputKind kind);

// One input to a clock. Build with the factory functions.
struct SlaClockInput {
  SlaClockInputKind kind = SlaClockInputKind::kAdvanceTo;
  absl::Time at = absl::UnixEpoch();
  absl::Duration new_target = absl::ZeroDuration();         // kRetarget only.
  // kRetarget only: set for a relative target (new_target is then ignored;
  // a started clock resolves it from its cycle's start).
  std::optional<SlaRelativeTarget> new_relative;
  SlaReopenMode reopen_mode = SLA_REOPEN_MODE_UNSPECIFIED;  // kReopen only.
  // kPause, kRetarget, kCancel: why (kept in the state: pause_reason,
  // target_history, cancel_reason).
  std::string reason;

  static SlaClockInput Start(absl::Time at);
  static SlaClockInput Pause(absl::Time at, std::string reason = "");
  static SlaClockInput Resume(absl::Time at);
  static SlaClockInput Stop(absl::Time at);
  static SlaClockInput Cancel(absl::Time at, std::string reason = "");
  static SlaClockInput Retarget(absl::Time at, absl::Duration new_target,
                                std::string reason = "");
  static SlaClockInput RetargetRelative(absl::Time at,
                                        SlaRelativeTarget new_target,
                                        std::string reason = "");
  static SlaClockInput Reopen(absl::Time at, SlaReopenMode mode);
  // Only advances time: fires the thresholds crossed up to `at`.
  static SlaClockInput AdvanceTo(absl::Time at);
};

std::string ToString(const SlaClockInput& input);

// Something that happened to a clock, at an exact instant.
struct SlaClockFact {
  enum class Kind {
    kWarningReached,     // threshold_percent of the target used.
    kBreached,           // Business elapsed reached the target.
    kMet,                // Stopped before the deadline.
    kCompletedBreached,  // Stopped after a breach.
    kCancelled,
    kCycleStarted,  // Reopen in NEW_CYCLE mode; `cycle` is the new cycle.
  };
  Kind kind = Kind::kBreached;
  absl::Time at = absl::UnixEpoch();
  double threshold_percent = 0;  // kWarningReached only (0 for an offset).
  int64_t cycle = 0;             // The cycle the fact belongs to.
  // kWarningReached only: the threshold's index in the clock's list
  // (percentages, or offsets largest first), and its offset before the
  // deadline (zero for a percentage).
  int threshold_index = -1;
  absl::Duration before = absl::ZeroDuration();

  static SlaClockFact WarningReached(double threshold_percent, absl::Time at,
                                     int64_t cycle = 1);
  static SlaClockFact Breached(absl::Time at, int64_t cycle = 1);
  static SlaClockFact Met(absl::Time at, int64_t cycle = 1);

  friend bool operator==(const SlaClockFact& a, const SlaClockFact& b) {
    return a.kind == b.kind && a.at == b.at &&
           a.threshold_percent == b.threshold_percent && a.cycle == b.cycle;
  }
  friend bool operator!=(const SlaClockFact& a, const SlaClockFact& b) {
    return !(a == b);
  }
};

std::string ToString(const SlaClockFact& fact);

class SlaClock;

// The result of a pure transition.
struct SlaTransition;

// The business time at which threshold `percent` of `target` is reached:
// ceil(target * percent / 100) in whole microseconds.
absl::Duration ThresholdDuration(absl::Duration target, double percent);

// The business time at which the warning `before` the deadline of `target`
// is reached: max(target - before, 1us).
absl::Duration ThresholdBefore(absl::Duration target, absl::Duration before);

// A stored clock's warning thresholds (its percentages, or its offsets), the
// business time threshold `index` is reached at under the state's target,
// and how people name it ("75%", "1h before").
int SlaThresholdCount(const SlaClockState& state);
// A stored relative target (SlaClockState.relative_target).
SlaRelativeTarget SlaRelativeTargetOf(const SlaRelativeTargetSpec& spec);
absl::Duration SlaThresholdAt(const SlaClockState& state, int index);
std::string SlaThresholdLabel(const SlaClockState& state, int index);

class SlaClock {
 public:
  // A NOT_STARTED clock, cycle 1. kInvalidArgument for a bad spec.
  static absl::StatusOr<SlaClock> Create(const SlaClockSpec& spec);
  // Names the clock's record (spec.record_id): a fold that attaches many
  // clocks of one spec copies one created clock and renames each copy
  // (copying into a recycled clock reuses its buffers).
  void set_record_id(absl::string_view record_id) {
    record_id_.assign(record_id.data(), record_id.size());
  }

  // Decodes a stored state; kInvalidArgument if it breaks an invariant.
  static absl::StatusOr<SlaClock> FromProto(const SlaClockState& state);
  SlaClockState ToProto() const;
  void ToProto(SlaClockState* out) const;

  // The pure transition: (this, input) -> (new clock, facts). *this is not
  // modified.
  absl::StatusOr<SlaTransition> Apply(const SlaClockInput& input,
                                      const BusinessTime& business) const;

  // The same transition in place, for folding many inputs fast. On success
  // appends the facts to *facts (may be null to drop them). On error *this
  // and *facts are unchanged.
  absl::Status ApplyInPlace(const SlaClockInput& input,
                            const BusinessTime& business,
                            std::vector<SlaClockFact>* facts);

  // The instant of the next fact that time alone would produce: the next
  // warning threshold, else the breach; nullopt unless running and not
  // breached. AdvanceTo(*due) fires it; AdvanceTo(*due - 1us) does not.
  absl::StatusOr<std::optional<absl::Time>> NextDue(
      const BusinessTime& business) const;

  // kInternal naming the first broken invariant; OK otherwise. Cheap enough
  // for tests to call after every step.
  absl::Status CheckInvariants() const;

  // --- Accessors ---
  const std::string& record_id() const { return record_id_; }
  const std::string& policy_id() const { return policy_id_; }
  SlaMetric metric() const { return metric_; }
  int64_t cycle() const { return c_.cycle; }
  SlaClockStatus status() const;
  SlaClockPhase phase() const { return c_.phase; }
  bool breached() const { return c_.has_breached_at; }
  absl::Duration target() const { return absl::Microseconds(c_.target_us); }
  const std::vector<double>& warning_thresholds_percent() const {
    return thresholds_;
  }
  // Offsets before the deadline in microseconds, largest first (empty when
  // the thresholds are percentages).
  const std::vector<int64_t>& warning_before_us() const { return before_us_; }
  // The relative target the clock resolves at each cycle's start; nullopt
  // for a duration target.
  const std::optional<SlaRelativeTarget>& relative_target() const {
    return relative_;
  }
  // Warning thresholds of either kind.
  int threshold_count() const {
    return static_cast<int>(thresholds_.size() + before_us_.size());
  }
  int warnings_reached() const { return c_.warnings_reached; }
  std::optional<absl::Time> started_at() const;
  std::optional<absl::Time> observed_at() const;
  // Business time counted while running, this cycle.
  absl::Duration business_elapsed() const {
    return absl::Microseconds(c_.business_elapsed_us);
  }
  // Wall time while running, this cycle.
  absl::Duration wall_elapsed() const {
    return absl::Microseconds(c_.wall_elapsed_us);
  }
  // Wall time while paused, this cycle.
  absl::Duration paused() const { return absl::Microseconds(c_.paused_us); }
  // max(0, business_elapsed - target).
  absl::Duration business_overdue() const;
  // Wall time running since the breach.
  absl::Duration wall_overdue() const {
    return absl::Microseconds(c_.wall_overdue_us);
  }
  // 100 * business_elapsed / target; may exceed 100.
  double percent_used() const;
  // Not breached and running: when the target will be reached if the clock
  // keeps running. Breached: the breach instant. Not breached and paused or
  // not started: nullopt (it moves on resume). Stopped: as it was at the
  // stop.
  std::optional<absl::Time> deadline() const;
  std::optional<absl::Time> breached_at() const;
  std::optional<absl::Time> stopped_at() const;
  std::optional<absl::Time> cancelled_at() const;
  const std::string& pause_reason() const { return pause_reason_; }
  // Why it was cancelled (the Cancel input's reason); empty unless cancelled.
  const std::string& cancel_reason() const { return cancel_reason_; }
  const std::vector<SlaTargetChange>& target_history() const {
    return history_;
  }

 private:
  // Every scalar of the state, so a transition can work on a copy and
  // commit it only on success.
  struct Core {
    int64_t cycle = 1;
    SlaClockPhase phase = SLA_CLOCK_PHASE_NOT_STARTED;
    int64_t target_us = 0;
    int32_t warnings_reached = 0;
    bool has_started_at = false;
    bool has_observed_at = false;
    bool has_deadline = false;
    bool has_breached_at = false;
    bool has_stopped_at = false;
    bool has_cancelled_at = false;
    int64_t started_at_us = 0;
    int64_t observed_at_us = 0;
    int64_t business_elapsed_us = 0;
    int64_t wall_elapsed_us = 0;
    int64_t paused_us = 0;
    int64_t wall_overdue_us = 0;
    int64_t deadline_us = 0;
    int64_t breached_at_us = 0;
    int64_t stopped_at_us = 0;
    int64_t cancelled_at_us = 0;
    // Cache, not stored: business elapsed at which the next fact fires
    // (next unfired threshold, else the target; INT64_MAX once breached).
    int64_t next_fire_us = 0;
  };

  SlaClock() = default;

  std::string Name() const;
  absl::Status Precondition(const SlaClockInput& input, int64_t at_us) const;
  // Counts time from observed_at to at_us and fires the crossings.
  absl::Status Advance(Core& c, int64_t at_us, const BusinessTime& business,
                       std::vector<SlaClockFact>* facts) const;
  // Fires, at instant at_us, every threshold that business elapsed already
  // reached under c.target_us (used after a retarget).
  void FireReachedAt(Core& c, int64_t at_us,
                     std::vector<SlaClockFact>* facts) const;
  absl::Status SetRunningDeadline(Core& c, int64_t at_us,
                                  const BusinessTime& business) const;
  int64_t ThresholdUs(int64_t target_us, int index) const;
  // The fact of warning threshold `index` reached at `at`.
  SlaClockFact WarningFact(int index, absl::Time at, int64_t cycle) const;
  void RefreshCache(Core& c) const;

  std::string record_id_;
  std::string policy_id_;
  SlaMetric metric_ = SLA_METRIC_UNSPECIFIED;
  std::vector<double> thresholds_;
  std::vector<int64_t> before_us_;  // Offsets, largest first.
  std::optional<SlaRelativeTarget> relative_;
  // ThresholdUs for the current target; refreshed with the target.
  std::vector<int64_t> threshold_us_;
  std::string pause_reason_;
  std::string cancel_reason_;
  std::vector<SlaTargetChange> history_;
  Core c_;
};

struct SlaTransition {
  SlaClock clock;
  std::vector<SlaClockFact> facts;
};

// An input with its position in the record's stream, for ordering inputs
// that arrive late or out of order.
struct SequencedClockInput {
  SlaClockInput input;
  int64_t sequence = 0;  // e.g. the event's stream version.
};

// Sorts by (input.at, sequence): the order in which a clock must see them.
void SortClockInputs(std::vector<SequencedClockInput>& inputs);

// Folds `inputs` into `clock` in (at, sequence) order, whatever order they
// are given in. Stops at the first rejected input and returns its error,
// prefixed with its sequence number. Use it to recompute a clock from a
// record's stream and to attach a clock retroactively.
absl::StatusOr<SlaTransition> Replay(SlaClock clock,
                                     std::vector<SequencedClockInput> inputs,
                                     const BusinessTime& business);

}  // namespace slate

#endif  // SLATE_LIB_SLA_SLA_CLOCK_H_
