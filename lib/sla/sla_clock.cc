#include "lib/sla/sla_clock.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace slate {
namespace {

constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

absl::Time FromUs(int64_t us) { return absl::FromUnixMicros(us); }

std::string FormatUs(int64_t us) {
  return absl::FormatTime(absl::RFC3339_full, FromUs(us), absl::UTCTimeZone());
}

// Whole, finite microseconds since the epoch, or why not.
bool InstantUs(absl::Time t, int64_t* us, std::string* why) {
  if (t == absl::InfiniteFuture() || t == absl::InfinitePast()) {
    *why = "instant must be finite";
    return false;
  }
  *us = absl::ToUnixMicros(t);
  if (absl::FromUnixMicros(*us) != t) {
    *why = absl::StrCat("instant must be a whole number of microseconds, got ",
                        absl::FormatTime(t));
    return false;
  }
  return true;
}

// A valid target (> 0, finite, whole microseconds) in microseconds, or why
// not.
bool TargetUs(absl::Duration d, int64_t* us, std::string* why) {
  if (d <= absl::ZeroDuration() || d == absl::InfiniteDuration()) {
    *why = absl::StrCat("target must be > 0 and finite, got ",
                        absl::FormatDuration(d));
    return false;
  }
  *us = absl::ToInt64Microseconds(d);
  if (absl::Microseconds(*us) != d) {
    *why = absl::StrCat("target must be a whole number of microseconds, got ",
                        absl::FormatDuration(d));
    return false;
  }
  return true;
}

absl::Status ValidateThresholds(const std::vector<double>& thresholds,
                                absl::string_view what) {
  for (size_t i = 0; i < thresholds.size(); ++i) {
    double p = thresholds[i];
    if (!(p > 0 && p < 100)) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": warning_thresholds_percent[", i,
                       "] must be in (0, 100), got ", p));
    }
    if (i > 0 && !(p > thresholds[i - 1])) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": warning_thresholds_percent[", i,
                       "] must be greater than the previous one, got ", p));
    }
  }
  return absl::OkStatus();
}

int64_t ThresholdUsFor(int64_t target_us, double percent) {
  long double v = static_cast<long double>(target_us) * percent / 100.0L;
  return static_cast<int64_t>(std::ceil(v));
}

int64_t ThresholdBeforeUs(int64_t target_us, int64_t before_us) {
  return std::max<int64_t>(target_us - before_us, 1);
}

// Each offset > 0 and whole microseconds, no two equal. Returns them in
// microseconds, largest first.
absl::StatusOr<std::vector<int64_t>> ValidateBefore(
    const std::vector<absl::Duration>& before, absl::string_view what) {
  std::vector<int64_t> us;
  for (size_t i = 0; i < before.size(); ++i) {
    int64_t v = 0;
    std::string why;
    if (!TargetUs(before[i], &v, &why)) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": warning_before[", i, "]: ", why));
    }
    us.push_back(v);
  }
  std::sort(us.begin(), us.end(), std::greater<>());
  for (size_t i = 1; i < us.size(); ++i) {
    if (us[i] == us[i - 1]) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": warning_before lists ",
                       absl::FormatDuration(absl::Microseconds(us[i])),
                       " twice"));
    }
  }
  return us;
}

// Business time in [a, b) in microseconds.
int64_t BetweenUs(const BusinessTime& business, int64_t a, int64_t b) {
  if (b <= a) return 0;
  return absl::ToInt64Microseconds(business.Between(FromUs(a), FromUs(b)));
}

// The instant d (> 0) of business time after `from`.
absl::StatusOr<int64_t> AddUs(const BusinessTime& business, int64_t from,
                              int64_t d) {
  absl::StatusOr<absl::Time> t =
      business.Add(FromUs(from), absl::Microseconds(d));
  if (!t.ok()) return t.status();
  return absl::ToUnixMicros(*t);
}

// Valid: business_day >= 1, minute_of_day in [0, 1440).
bool RelativeOk(const SlaRelativeTarget& r, std::string* why) {
  if (r.business_day < 1) {
    *why = absl::StrCat("relative target: business day must be >= 1, got ",
                        r.business_day);
    return false;
  }
  if (r.minute_of_day.has_value() &&
      (*r.minute_of_day < 0 || *r.minute_of_day >= 24 * 60)) {
    *why = absl::StrCat("relative target: time of day must be in "
                        "[00:00, 24:00), got minute ",
                        *r.minute_of_day);
    return false;
  }
  return true;
}

// The target a relative target gives a cycle that starts at start_us: the
// business time to the instant it names, at least 1us.
absl::StatusOr<int64_t> ResolveRelativeUs(const SlaRelativeTarget& r,
                                          int64_t start_us,
                                          const BusinessTime& business) {
  absl::StatusOr<absl::Time> d = business.RelativeDeadline(FromUs(start_us), r);
  if (!d.ok()) return d.status();
  return std::max<int64_t>(
      BetweenUs(business, start_us, absl::ToUnixMicros(*d)), 1);
}

}  // namespace

absl::Duration ThresholdDuration(absl::Duration target, double percent) {
  return absl::Microseconds(
      ThresholdUsFor(absl::ToInt64Microseconds(target), percent));
}

absl::Duration ThresholdBefore(absl::Duration target, absl::Duration before) {
  return absl::Microseconds(ThresholdBeforeUs(
      absl::ToInt64Microseconds(target), absl::ToInt64Microseconds(before)));
}

SlaRelativeTarget SlaRelativeTargetOf(const SlaRelativeTargetSpec& spec) {
  SlaRelativeTarget r;
  r.business_day = spec.business_day();
  if (spec.has_minute_of_day()) r.minute_of_day = spec.minute_of_day();
  return r;
}

int SlaThresholdCount(const SlaClockState& state) {
  return state.warning_before_us_size() > 0
             ? state.warning_before_us_size()
             : state.warning_thresholds_percent_size();
}

absl::Duration SlaThresholdAt(const SlaClockState& state, int index) {
  if (state.warning_before_us_size() > 0) {
    return absl::Microseconds(ThresholdBeforeUs(
        state.target_us(), state.warning_before_us(index)));
  }
  return absl::Microseconds(
      ThresholdUsFor(state.target_us(), state.warning_thresholds_percent(index)));
}

std::string SlaThresholdLabel(const SlaClockState& state, int index) {
  if (state.warning_before_us_size() > 0) {
    return absl::StrCat(
        absl::FormatDuration(absl::Microseconds(state.warning_before_us(index))),
        " before");
  }
  return absl::StrFormat("%g%%", state.warning_thresholds_percent(index));
}

absl::string_view SlaClockInputKindName(SlaClockInputKind kind) {
  switch (kind) {
    case SlaClockInputKind::kStart:
      return "Start";
    case SlaClockInputKind::kPause:
      return "Pause";
    case SlaClockInputKind::kResume:
      return "Resume";
    case SlaClockInputKind::kStop:
      return "Stop";
    case SlaClockInputKind::kCancel:
      return "Cancel";
    case SlaClockInputKind::kRetarget:
      return "Retarget";
    case SlaClockInputKind::kReopen:
      return "Reopen";
    case SlaClockInputKind::kAdvanceTo:
      return "AdvanceTo";
  }
  return "?";
}

namespace {
SlaClockInput MakeInput(SlaClockInputKind kind, absl::Time at) {
  SlaClockInput in;
  in.kind = kind;
  in.at = at;
  return in;
}
SlaClockFact MakeFact(SlaClockFact::Kind kind, absl::Time at, int64_t cycle,
                      double threshold_percent = 0) {
  SlaClockFact f;
  f.kind = kind;
  f.at = at;
  f.threshold_percent = threshold_percent;
  f.cycle = cycle;
  return f;
}
}  // namespace

SlaClockInput SlaClockInput::Start(absl::Time at) {
  return MakeInput(SlaClockInputKind::kStart, at);
}
SlaClockInput SlaClockInput::Pause(absl::Time at, std::string reason) {
  SlaClockInput in = MakeInput(SlaClockInputKind::kPause, at);
  in.reason = std::move(reason);
  return in;
}
SlaClockInput SlaClockInput::Resume(absl::Time at) {
  return MakeInput(SlaClockInputKind::kResume, at);
}
SlaClockInput SlaClockInput::Stop(absl::Time at) {
  return MakeInput(SlaClockInputKind::kStop, at);
}
SlaClockInput SlaClockInput::Cancel(absl::Time at, std::string reason) {
  SlaClockInput in = MakeInput(SlaClockInputKind::kCancel, at);
  in.reason = std::move(reason);
  return in;
}
SlaClockInput SlaClockInput::Retarget(absl::Time at, absl::Duration new_target,
                                      std::string reason) {
  SlaClockInput in = MakeInput(SlaClockInputKind::kRetarget, at);
  in.new_target = new_target;
  in.reason = std::move(reason);
  return in;
}
SlaClockInput SlaClockInput::RetargetRelative(absl::Time at,
                                              SlaRelativeTarget new_target,
                                              std::string reason) {
  SlaClockInput in = MakeInput(SlaClockInputKind::kRetarget, at);
  in.new_relative = new_target;
  in.reason = std::move(reason);
  return in;
}
SlaClockInput SlaClockInput::Reopen(absl::Time at, SlaReopenMode mode) {
  SlaClockInput in = MakeInput(SlaClockInputKind::kReopen, at);
  in.reopen_mode = mode;
  return in;
}
SlaClockInput SlaClockInput::AdvanceTo(absl::Time at) {
  return MakeInput(SlaClockInputKind::kAdvanceTo, at);
}

std::string ToString(const SlaClockInput& input) {
  std::string s = absl::StrCat(
      SlaClockInputKindName(input.kind), "(",
      absl::FormatTime(absl::RFC3339_full, input.at, absl::UTCTimeZone()));
  if (input.kind == SlaClockInputKind::kRetarget) {
    absl::StrAppend(&s, ", ",
                    input.new_relative.has_value()
                        ? SlaRelativeTargetText(*input.new_relative)
                        : absl::FormatDuration(input.new_target));
  }
  if (input.kind == SlaClockInputKind::kReopen) {
    absl::StrAppend(&s, ", ", SlaReopenMode_Name(input.reopen_mode));
  }
  if (!input.reason.empty()) absl::StrAppend(&s, ", \"", input.reason, "\"");
  absl::StrAppend(&s, ")");
  return s;
}

SlaClockFact SlaClockFact::WarningReached(double threshold_percent,
                                          absl::Time at, int64_t cycle) {
  return MakeFact(Kind::kWarningReached, at, cycle, threshold_percent);
}
SlaClockFact SlaClockFact::Breached(absl::Time at, int64_t cycle) {
  return MakeFact(Kind::kBreached, at, cycle);
}
SlaClockFact SlaClockFact::Met(absl::Time at, int64_t cycle) {
  return MakeFact(Kind::kMet, at, cycle);
}

std::string ToString(const SlaClockFact& fact) {
  std::string when =
      absl::FormatTime(absl::RFC3339_full, fact.at, absl::UTCTimeZone());
  switch (fact.kind) {
    case SlaClockFact::Kind::kWarningReached:
      if (fact.before > absl::ZeroDuration()) {
        return absl::StrCat("WarningReached{",
                            absl::FormatDuration(fact.before), " before, ",
                            when, ", cycle ", fact.cycle, "}");
      }
      return absl::StrCat("WarningReached{", fact.threshold_percent, "%, ",
                          when, ", cycle ", fact.cycle, "}");
    case SlaClockFact::Kind::kBreached:
      return absl::StrCat("Breached{", when, ", cycle ", fact.cycle, "}");
    case SlaClockFact::Kind::kMet:
      return absl::StrCat("Met{", when, ", cycle ", fact.cycle, "}");
    case SlaClockFact::Kind::kCompletedBreached:
      return absl::StrCat("CompletedBreached{", when, ", cycle ", fact.cycle,
                          "}");
    case SlaClockFact::Kind::kCancelled:
      return absl::StrCat("Cancelled{", when, ", cycle ", fact.cycle, "}");
    case SlaClockFact::Kind::kCycleStarted:
      return absl::StrCat("CycleStarted{", when, ", cycle ", fact.cycle, "}");
  }
  return "?";
}

// --- SlaClock ----------------------------------------------------------------

absl::StatusOr<SlaClock> SlaClock::Create(const SlaClockSpec& spec) {
  std::string what =
      absl::StrCat("sla clock ", spec.record_id, "/", spec.policy_id, "/",
                   SlaMetric_Name(spec.metric));
  int64_t target = 0;
  std::string why;
  if (spec.relative.has_value()) {
    if (!RelativeOk(*spec.relative, &why)) {
      return absl::InvalidArgumentError(absl::StrCat(what, ": ", why));
    }
  } else if (!TargetUs(spec.target, &target, &why)) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": ", why));
  }
  SlaClock clock;
  clock.relative_ = spec.relative;
  if (spec.warning_before.empty()) {
    absl::Status s = ValidateThresholds(spec.warning_thresholds_percent, what);
    if (!s.ok()) return s;
    clock.thresholds_ = spec.warning_thresholds_percent;
  } else {
    absl::StatusOr<std::vector<int64_t>> before =
        ValidateBefore(spec.warning_before, what);
    if (!before.ok()) return before.status();
    clock.before_us_ = *std::move(before);
  }
  clock.record_id_ = spec.record_id;
  clock.policy_id_ = spec.policy_id;
  clock.metric_ = spec.metric;
  clock.c_.target_us = target;
  clock.threshold_us_.resize(clock.threshold_count());
  for (int i = 0; i < clock.threshold_count(); ++i) {
    clock.threshold_us_[i] = clock.ThresholdUs(target, i);
  }
  clock.RefreshCache(clock.c_);
  return clock;
}

std::string SlaClock::Name() const {
  return absl::StrCat("sla clock ", record_id_, "/", policy_id_, "/",
                      SlaMetric_Name(metric_), "#", c_.cycle);
}

int64_t SlaClock::ThresholdUs(int64_t target_us, int index) const {
  if (!before_us_.empty()) return ThresholdBeforeUs(target_us, before_us_[index]);
  return ThresholdUsFor(target_us, thresholds_[index]);
}

SlaClockFact SlaClock::WarningFact(int index, absl::Time at,
                                   int64_t cycle) const {
  SlaClockFact f = SlaClockFact::WarningReached(
      before_us_.empty() ? thresholds_[index] : 0, at, cycle);
  f.threshold_index = index;
  if (!before_us_.empty()) f.before = absl::Microseconds(before_us_[index]);
  return f;
}

void SlaClock::RefreshCache(Core& c) const {
  // REQUIRES: threshold_us_ matches c.target_us (callers that change the
  // target refresh it first).
  if (c.has_breached_at) {
    c.next_fire_us = kNever;
  } else if (c.warnings_reached < threshold_count()) {
    c.next_fire_us = threshold_us_[c.warnings_reached];
  } else {
    c.next_fire_us = c.target_us;
  }
}

SlaClockStatus SlaClock::status() const {
  switch (c_.phase) {
    case SLA_CLOCK_PHASE_NOT_STARTED:
      return SLA_CLOCK_STATUS_NOT_STARTED;
    case SLA_CLOCK_PHASE_CANCELLED:
      return SLA_CLOCK_STATUS_CANCELLED;
    default:
      break;
  }
  if (c_.has_breached_at) return SLA_CLOCK_STATUS_BREACHED;
  switch (c_.phase) {
    case SLA_CLOCK_PHASE_RUNNING:
      return SLA_CLOCK_STATUS_RUNNING;
    case SLA_CLOCK_PHASE_PAUSED:
      return SLA_CLOCK_STATUS_PAUSED;
    case SLA_CLOCK_PHASE_STOPPED:
      return SLA_CLOCK_STATUS_MET;
    default:
      return SLA_CLOCK_STATUS_UNSPECIFIED;
  }
}

std::optional<absl::Time> SlaClock::started_at() const {
  if (!c_.has_started_at) return std::nullopt;
  return FromUs(c_.started_at_us);
}
std::optional<absl::Time> SlaClock::observed_at() const {
  if (!c_.has_observed_at) return std::nullopt;
  return FromUs(c_.observed_at_us);
}
std::optional<absl::Time> SlaClock::deadline() const {
  if (!c_.has_deadline) return std::nullopt;
  return FromUs(c_.deadline_us);
}
std::optional<absl::Time> SlaClock::breached_at() const {
  if (!c_.has_breached_at) return std::nullopt;
  return FromUs(c_.breached_at_us);
}
std::optional<absl::Time> SlaClock::stopped_at() const {
  if (!c_.has_stopped_at) return std::nullopt;
  return FromUs(c_.stopped_at_us);
}
std::optional<absl::Time> SlaClock::cancelled_at() const {
  if (!c_.has_cancelled_at) return std::nullopt;
  return FromUs(c_.cancelled_at_us);
}

absl::Duration SlaClock::business_overdue() const {
  return absl::Microseconds(
      std::max<int64_t>(0, c_.business_elapsed_us - c_.target_us));
}

double SlaClock::percent_used() const {
  if (c_.target_us == 0) return 0;  // A relative target before the start.
  return static_cast<double>(c_.business_elapsed_us) * 100.0 /
         static_cast<double>(c_.target_us);
}

absl::Status SlaClock::Precondition(const SlaClockInput& input,
                                    int64_t at_us) const {
  const SlaClockPhase phase = c_.phase;
  auto refuse = [&](absl::string_view why) {
    return absl::FailedPreconditionError(
        absl::StrCat(Name(), ": ", ToString(input), " refused: ", why));
  };
  if (phase == SLA_CLOCK_PHASE_CANCELLED) {
    return refuse(absl::StrCat("the clock was cancelled at ",
                               FormatUs(c_.cancelled_at_us),
                               "; it takes no further input"));
  }
  if (c_.has_observed_at && at_us < c_.observed_at_us) {
    return absl::InvalidArgumentError(absl::StrCat(
        Name(), ": ", ToString(input), " refused: time went backwards (the ",
        "clock has seen ", FormatUs(c_.observed_at_us), ")"));
  }
  switch (input.kind) {
    case SlaClockInputKind::kStart:
      if (phase != SLA_CLOCK_PHASE_NOT_STARTED) {
        return refuse("the clock has already started");
      }
      break;
    case SlaClockInputKind::kPause:
      if (phase != SLA_CLOCK_PHASE_RUNNING) {
        return refuse(absl::StrCat("only a running clock can pause; it is ",
                                   SlaClockPhase_Name(phase)));
      }
      break;
    case SlaClockInputKind::kResume:
      if (phase != SLA_CLOCK_PHASE_PAUSED) {
        return refuse(absl::StrCat("only a paused clock can resume; it is ",
                                   SlaClockPhase_Name(phase)));
      }
      break;
    case SlaClockInputKind::kStop:
      if (phase != SLA_CLOCK_PHASE_RUNNING && phase != SLA_CLOCK_PHASE_PAUSED) {
        return refuse(
            absl::StrCat("only a running or paused clock can stop; it is ",
                         SlaClockPhase_Name(phase)));
      }
      break;
    case SlaClockInputKind::kCancel:
      if (phase == SLA_CLOCK_PHASE_STOPPED) {
        return refuse("the clock has already stopped");
      }
      break;
    case SlaClockInputKind::kRetarget: {
      int64_t target = 0;
      std::string why;
      if (input.new_relative.has_value()
              ? !RelativeOk(*input.new_relative, &why)
              : !TargetUs(input.new_target, &target, &why)) {
        return absl::InvalidArgumentError(
            absl::StrCat(Name(), ": ", ToString(input), " refused: ", why));
      }
      if (phase == SLA_CLOCK_PHASE_STOPPED) {
        return refuse("the clock has already stopped");
      }
      break;
    }
    case SlaClockInputKind::kReopen:
      if (phase != SLA_CLOCK_PHASE_STOPPED) {
        return refuse(absl::StrCat("only a stopped clock can reopen; it is ",
                                   SlaClockPhase_Name(phase)));
      }
      if (!SlaReopenMode_IsValid(input.reopen_mode)) {
        return absl::InvalidArgumentError(
            absl::StrCat(Name(), ": unknown reopen mode ",
                         static_cast<int>(input.reopen_mode)));
      }
      break;
    case SlaClockInputKind::kAdvanceTo:
      break;
  }
  return absl::OkStatus();
}

absl::Status SlaClock::Advance(Core& c, int64_t at_us,
                               const BusinessTime& business,
                               std::vector<SlaClockFact>* facts) const {
  if (!c.has_observed_at || at_us == c.observed_at_us) return absl::OkStatus();
  const int64_t from = c.observed_at_us;
  const int64_t wall = at_us - from;
  if (c.phase == SLA_CLOCK_PHASE_PAUSED) {
    c.paused_us += wall;
    return absl::OkStatus();
  }
  if (c.phase != SLA_CLOCK_PHASE_RUNNING) return absl::OkStatus();

  const int64_t elapsed = c.business_elapsed_us;
  const int64_t new_elapsed = elapsed + BetweenUs(business, from, at_us);
  c.wall_elapsed_us += wall;
  if (c.has_breached_at) c.wall_overdue_us += wall;
  if (new_elapsed >= c.next_fire_us) {
    // Slow path: one or more thresholds crossed in (from, at_us].
    const int n = threshold_count();
    while (c.warnings_reached < n &&
           threshold_us_[c.warnings_reached] <= new_elapsed) {
      absl::StatusOr<int64_t> x =
          AddUs(business, from, threshold_us_[c.warnings_reached] - elapsed);
      if (!x.ok()) return x.status();
      if (facts != nullptr) {
        facts->push_back(WarningFact(c.warnings_reached, FromUs(*x), c.cycle));
      }
      ++c.warnings_reached;
    }
    if (!c.has_breached_at && c.target_us <= new_elapsed) {
      absl::StatusOr<int64_t> x = AddUs(business, from, c.target_us - elapsed);
      if (!x.ok()) return x.status();
      c.has_breached_at = true;
      c.breached_at_us = *x;
      c.has_deadline = true;
      c.deadline_us = *x;
      c.wall_overdue_us = at_us - *x;
      if (facts != nullptr) {
        facts->push_back(SlaClockFact::Breached(FromUs(*x), c.cycle));
      }
    }
    RefreshCache(c);
  }
  c.business_elapsed_us = new_elapsed;
  return absl::OkStatus();
}

void SlaClock::FireReachedAt(Core& c, int64_t at_us,
                             std::vector<SlaClockFact>* facts) const {
  if (c.has_breached_at) return;
  const int n = threshold_count();
  while (c.warnings_reached < n &&
         ThresholdUs(c.target_us, c.warnings_reached) <=
             c.business_elapsed_us) {
    if (facts != nullptr) {
      facts->push_back(WarningFact(c.warnings_reached, FromUs(at_us), c.cycle));
    }
    ++c.warnings_reached;
  }
  if (c.target_us <= c.business_elapsed_us) {
    c.has_breached_at = true;
    c.breached_at_us = at_us;
    c.has_deadline = true;
    c.deadline_us = at_us;
    if (facts != nullptr) {
      facts->push_back(SlaClockFact::Breached(FromUs(at_us), c.cycle));
    }
  }
}

absl::Status SlaClock::SetRunningDeadline(Core& c, int64_t at_us,
                                          const BusinessTime& business) const {
  // REQUIRES: c.phase == RUNNING. A breached clock keeps its breach instant
  // as deadline.
  if (c.has_breached_at) return absl::OkStatus();
  // Not breached, so elapsed < target (invariant): the Add is for d > 0.
  absl::StatusOr<int64_t> d =
      AddUs(business, at_us, c.target_us - c.business_elapsed_us);
  if (!d.ok()) return d.status();
  c.has_deadline = true;
  c.deadline_us = *d;
  return absl::OkStatus();
}

absl::Status SlaClock::ApplyInPlace(const SlaClockInput& input,
                                    const BusinessTime& business,
                                    std::vector<SlaClockFact>* facts) {
  int64_t at_us = 0;
  std::string why;
  if (!InstantUs(input.at, &at_us, &why)) {
    return absl::InvalidArgumentError(absl::StrCat(
        Name(), ": ", SlaClockInputKindName(input.kind), ": ", why));
  }
  absl::Status s = Precondition(input, at_us);
  if (!s.ok()) return s;

  const size_t facts_before = facts != nullptr ? facts->size() : 0;
  auto fail = [&](absl::Status status) {
    if (facts != nullptr) facts->resize(facts_before);
    return status;
  };

  Core c = c_;
  std::optional<SlaRelativeTarget> relative = relative_;
  s = Advance(c, at_us, business, facts);
  if (!s.ok()) return fail(std::move(s));
  c.has_observed_at = true;
  c.observed_at_us = at_us;

  switch (input.kind) {
    case SlaClockInputKind::kAdvanceTo:
      break;
    case SlaClockInputKind::kStart:
      c.phase = SLA_CLOCK_PHASE_RUNNING;
      c.has_started_at = true;
      c.started_at_us = at_us;
      if (relative.has_value()) {
        absl::StatusOr<int64_t> t = ResolveRelativeUs(*relative, at_us, business);
        if (!t.ok()) return fail(t.status());
        c.target_us = *t;
      }
      s = SetRunningDeadline(c, at_us, business);
      if (!s.ok()) return fail(std::move(s));
      break;
    case SlaClockInputKind::kPause:
      c.phase = SLA_CLOCK_PHASE_PAUSED;
      if (!c.has_breached_at) c.has_deadline = false;
      break;
    case SlaClockInputKind::kResume:
      c.phase = SLA_CLOCK_PHASE_RUNNING;
      s = SetRunningDeadline(c, at_us, business);
      if (!s.ok()) return fail(std::move(s));
      break;
    case SlaClockInputKind::kStop:
      c.phase = SLA_CLOCK_PHASE_STOPPED;
      c.has_stopped_at = true;
      c.stopped_at_us = at_us;
      if (facts != nullptr) {
        facts->push_back(MakeFact(c.has_breached_at
                                      ? SlaClockFact::Kind::kCompletedBreached
                                      : SlaClockFact::Kind::kMet,
                                  input.at, c.cycle));
      }
      break;
    case SlaClockInputKind::kCancel:
      c.phase = SLA_CLOCK_PHASE_CANCELLED;
      c.has_cancelled_at = true;
      c.cancelled_at_us = at_us;
      if (facts != nullptr) {
        facts->push_back(
            MakeFact(SlaClockFact::Kind::kCancelled, input.at, c.cycle));
      }
      break;
    case SlaClockInputKind::kRetarget: {
      relative = input.new_relative;
      if (!relative.has_value()) {
        c.target_us = absl::ToInt64Microseconds(input.new_target);
      } else if (c.has_started_at) {
        absl::StatusOr<int64_t> t =
            ResolveRelativeUs(*relative, c.started_at_us, business);
        if (!t.ok()) return fail(t.status());
        c.target_us = *t;
      } else {
        c.target_us = 0;  // Resolved when it starts.
      }
      if (c.phase != SLA_CLOCK_PHASE_NOT_STARTED) {
        FireReachedAt(c, at_us, facts);
        if (c.phase == SLA_CLOCK_PHASE_RUNNING) {
          s = SetRunningDeadline(c, at_us, business);
          if (!s.ok()) return fail(std::move(s));
        }
      }
      break;
    }
    case SlaClockInputKind::kReopen:
      if (input.reopen_mode == SLA_REOPEN_MODE_RESUME) {
        c.phase = SLA_CLOCK_PHASE_RUNNING;
        c.has_stopped_at = false;
        c.stopped_at_us = 0;
      } else {
        Core fresh;
        fresh.cycle = c.cycle + 1;
        fresh.target_us = c.target_us;
        if (relative.has_value()) {
          absl::StatusOr<int64_t> t =
              ResolveRelativeUs(*relative, at_us, business);
          if (!t.ok()) return fail(t.status());
          fresh.target_us = *t;
        }
        fresh.phase = SLA_CLOCK_PHASE_RUNNING;
        fresh.has_started_at = true;
        fresh.started_at_us = at_us;
        fresh.has_observed_at = true;
        fresh.observed_at_us = at_us;
        c = fresh;
        if (facts != nullptr) {
          facts->push_back(
              MakeFact(SlaClockFact::Kind::kCycleStarted, input.at, c.cycle));
        }
      }
      s = SetRunningDeadline(c, at_us, business);
      if (!s.ok()) return fail(std::move(s));
      break;
  }

  // Commit. Nothing below can fail.
  const bool target_changed = c.target_us != c_.target_us;
  if (input.kind == SlaClockInputKind::kRetarget) {
    SlaTargetChange change;
    change.set_at_us(at_us);
    change.set_old_target_us(c_.target_us);
    change.set_new_target_us(c.target_us);
    change.set_reason(input.reason);
    history_.push_back(std::move(change));
  } else if (input.kind == SlaClockInputKind::kReopen && c.cycle != c_.cycle) {
    history_.clear();
  }
  if (input.kind == SlaClockInputKind::kPause) {
    pause_reason_ = input.reason;
  } else if (c.phase != SLA_CLOCK_PHASE_PAUSED && !pause_reason_.empty()) {
    pause_reason_.clear();
  }
  if (input.kind == SlaClockInputKind::kCancel) {
    cancel_reason_ = input.reason;
  } else if (c.phase != SLA_CLOCK_PHASE_CANCELLED && !cancel_reason_.empty()) {
    cancel_reason_.clear();
  }
  c_ = c;
  relative_ = relative;
  if (target_changed) {
    for (int i = 0; i < threshold_count(); ++i) {
      threshold_us_[i] = ThresholdUs(c_.target_us, i);
    }
  }
  RefreshCache(c_);
  return absl::OkStatus();
}

absl::StatusOr<SlaTransition> SlaClock::Apply(
    const SlaClockInput& input, const BusinessTime& business) const {
  SlaTransition t{*this, {}};
  absl::Status s = t.clock.ApplyInPlace(input, business, &t.facts);
  if (!s.ok()) return s;
  return t;
}

absl::StatusOr<std::optional<absl::Time>> SlaClock::NextDue(
    const BusinessTime& business) const {
  if (c_.phase != SLA_CLOCK_PHASE_RUNNING || c_.has_breached_at) {
    return std::optional<absl::Time>();
  }
  absl::StatusOr<int64_t> x = AddUs(business, c_.observed_at_us,
                                    c_.next_fire_us - c_.business_elapsed_us);
  if (!x.ok()) return x.status();
  return std::optional<absl::Time>(FromUs(*x));
}

// --- Proto -------------------------------------------------------------------

void SlaClock::ToProto(SlaClockState* out) const {
  out->Clear();
  out->set_record_id(record_id_);
  out->set_policy_id(policy_id_);
  out->set_metric(metric_);
  out->set_cycle(c_.cycle);
  out->set_status(status());
  out->set_phase(c_.phase);
  out->set_target_us(c_.target_us);
  for (double p : thresholds_) out->add_warning_thresholds_percent(p);
  for (int64_t b : before_us_) out->add_warning_before_us(b);
  if (relative_.has_value()) {
    SlaRelativeTargetSpec* r = out->mutable_relative_target();
    r->set_business_day(relative_->business_day);
    if (relative_->minute_of_day.has_value()) {
      r->set_minute_of_day(*relative_->minute_of_day);
    }
  }
  out->set_warnings_reached(c_.warnings_reached);
  if (c_.has_started_at) out->set_started_at_us(c_.started_at_us);
  if (c_.has_observed_at) out->set_observed_at_us(c_.observed_at_us);
  out->set_business_elapsed_us(c_.business_elapsed_us);
  out->set_wall_elapsed_us(c_.wall_elapsed_us);
  out->set_paused_us(c_.paused_us);
  out->set_wall_overdue_us(c_.wall_overdue_us);
  out->set_percent_used(percent_used());
  if (c_.has_deadline) out->set_deadline_us(c_.deadline_us);
  if (c_.has_breached_at) out->set_breached_at_us(c_.breached_at_us);
  if (c_.has_stopped_at) out->set_stopped_at_us(c_.stopped_at_us);
  if (c_.has_cancelled_at) out->set_cancelled_at_us(c_.cancelled_at_us);
  out->set_pause_reason(pause_reason_);
  out->set_cancel_reason(cancel_reason_);
  for (const SlaTargetChange& change : history_) {
    *out->add_target_history() = change;
  }
}

SlaClockState SlaClock::ToProto() const {
  SlaClockState state;
  ToProto(&state);
  return state;
}

absl::StatusOr<SlaClock> SlaClock::FromProto(const SlaClockState& state) {
  SlaClockSpec spec;
  spec.record_id = state.record_id();
  spec.policy_id = state.policy_id();
  spec.metric = state.metric();
  spec.target = absl::Microseconds(state.target_us());
  spec.warning_thresholds_percent.assign(
      state.warning_thresholds_percent().begin(),
      state.warning_thresholds_percent().end());
  for (int64_t b : state.warning_before_us()) {
    spec.warning_before.push_back(absl::Microseconds(b));
  }
  if (state.has_relative_target()) {
    spec.relative = SlaRelativeTargetOf(state.relative_target());
  }
  if (!spec.warning_before.empty() && !spec.warning_thresholds_percent.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "stored clock state of ", state.record_id(), "/", state.policy_id(),
        " has both percentage and offset thresholds"));
  }
  absl::StatusOr<SlaClock> clock = Create(spec);
  if (!clock.ok()) return clock.status();
  Core& c = clock->c_;
  if (spec.relative.has_value()) {
    // Create left it zero; a started cycle stored the resolved target.
    c.target_us = state.target_us();
    for (int i = 0; i < clock->threshold_count(); ++i) {
      clock->threshold_us_[i] = clock->ThresholdUs(c.target_us, i);
    }
  }
  c.cycle = state.cycle();
  c.phase = state.phase();
  c.warnings_reached = state.warnings_reached();
  c.has_started_at = state.has_started_at_us();
  c.started_at_us = state.started_at_us();
  c.has_observed_at = state.has_observed_at_us();
  c.observed_at_us = state.observed_at_us();
  c.business_elapsed_us = state.business_elapsed_us();
  c.wall_elapsed_us = state.wall_elapsed_us();
  c.paused_us = state.paused_us();
  c.wall_overdue_us = state.wall_overdue_us();
  c.has_deadline = state.has_deadline_us();
  c.deadline_us = state.deadline_us();
  c.has_breached_at = state.has_breached_at_us();
  c.breached_at_us = state.breached_at_us();
  c.has_stopped_at = state.has_stopped_at_us();
  c.stopped_at_us = state.stopped_at_us();
  c.has_cancelled_at = state.has_cancelled_at_us();
  c.cancelled_at_us = state.cancelled_at_us();
  clock->pause_reason_ = state.pause_reason();
  clock->cancel_reason_ = state.cancel_reason();
  clock->history_.assign(state.target_history().begin(),
                         state.target_history().end());
  clock->RefreshCache(c);
  absl::Status s = clock->CheckInvariants();
  if (!s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("stored clock state is inconsistent: ", s.message()));
  }
  if (state.status() != clock->status()) {
    return absl::InvalidArgumentError(absl::StrCat(
        clock->Name(), ": stored status ", SlaClockStatus_Name(state.status()),
        " does not match the state (", SlaClockStatus_Name(clock->status()),
        ")"));
  }
  return clock;
}

absl::Status SlaClock::CheckInvariants() const {
  auto broken = [&](absl::string_view what) {
    return absl::InternalError(
        absl::StrCat(Name(), ": invariant broken: ", what));
  };
  const Core& c = c_;
  const int n = threshold_count();
  if (!SlaClockPhase_IsValid(c.phase) ||
      c.phase == SLA_CLOCK_PHASE_UNSPECIFIED) {
    return broken("phase is not valid");
  }
  if (c.cycle < 1) return broken("cycle >= 1");
  // A relative target not resolved yet (the cycle has not started).
  const bool unresolved = relative_.has_value() && !c.has_started_at;
  if (unresolved) {
    if (c.target_us != 0) return broken("a relative target is 0 until it starts");
  } else if (c.target_us <= 0) {
    return broken("target > 0");
  }
  if (c.warnings_reached < 0 || c.warnings_reached > n) {
    return broken("0 <= warnings_reached <= thresholds");
  }
  if (static_cast<int>(threshold_us_.size()) != n) {
    return broken("threshold cache size");
  }
  for (int i = 0; i < n; ++i) {
    if (threshold_us_[i] != ThresholdUs(c.target_us, i)) {
      return broken("threshold cache matches the target");
    }
  }
  if (c.business_elapsed_us < 0 || c.wall_elapsed_us < 0 || c.paused_us < 0 ||
      c.wall_overdue_us < 0) {
    return broken("durations >= 0");
  }
  if (c.business_elapsed_us > c.wall_elapsed_us) {
    return broken("business elapsed <= wall elapsed");
  }
  if (c.wall_overdue_us > c.wall_elapsed_us) {
    return broken("wall overdue <= wall elapsed");
  }
  if (c.phase == SLA_CLOCK_PHASE_NOT_STARTED) {
    if (c.has_started_at || c.has_deadline || c.has_breached_at ||
        c.has_stopped_at || c.has_cancelled_at || c.business_elapsed_us != 0 ||
        c.wall_elapsed_us != 0 || c.paused_us != 0 || c.warnings_reached != 0) {
      return broken("a clock that has not started has counted nothing");
    }
  } else if (c.phase == SLA_CLOCK_PHASE_CANCELLED && !c.has_started_at) {
    if (c.has_deadline || c.has_breached_at || c.business_elapsed_us != 0 ||
        c.wall_elapsed_us != 0 || c.paused_us != 0 || c.warnings_reached != 0) {
      return broken("a clock cancelled before it started has counted nothing");
    }
  } else {
    if (!c.has_started_at || !c.has_observed_at) {
      return broken("a started clock has started_at and observed_at");
    }
    if (c.started_at_us > c.observed_at_us) {
      return broken("started_at <= observed_at");
    }
    if (c.wall_elapsed_us + c.paused_us > c.observed_at_us - c.started_at_us) {
      return broken("wall elapsed + paused <= observed_at - started_at");
    }
  }
  for (int i = c.warnings_reached; i < n && !unresolved; ++i) {
    if (threshold_us_[i] <= c.business_elapsed_us) {
      return broken("every threshold already reached has fired");
    }
  }
  if (c.has_breached_at) {
    if (c.warnings_reached != n) return broken("a breach follows all warnings");
    if (!c.has_deadline || c.deadline_us != c.breached_at_us) {
      return broken("a breached clock's deadline is its breach instant");
    }
    if (c.breached_at_us > c.observed_at_us) {
      return broken("breached_at <= observed_at");
    }
  } else {
    if (c.business_elapsed_us >= c.target_us && !unresolved) {
      return broken("not breached means business elapsed < target");
    }
    if (c.wall_overdue_us != 0) return broken("no overdue before a breach");
    if (c.phase == SLA_CLOCK_PHASE_RUNNING &&
        (!c.has_deadline || c.deadline_us <= c.observed_at_us)) {
      return broken("a running clock's deadline is after observed_at");
    }
    if (c.phase == SLA_CLOCK_PHASE_PAUSED && c.has_deadline) {
      return broken("a paused clock has no deadline");
    }
  }
  if ((c.phase == SLA_CLOCK_PHASE_STOPPED) != c.has_stopped_at) {
    return broken("stopped_at is set exactly when stopped");
  }
  if ((c.phase == SLA_CLOCK_PHASE_CANCELLED) != c.has_cancelled_at) {
    return broken("cancelled_at is set exactly when cancelled");
  }
  if (c.phase != SLA_CLOCK_PHASE_PAUSED && !pause_reason_.empty()) {
    return broken("pause_reason is empty unless paused");
  }
  if (c.phase != SLA_CLOCK_PHASE_CANCELLED && !cancel_reason_.empty()) {
    return broken("cancel_reason is empty unless cancelled");
  }
  int64_t target = c.target_us;
  for (size_t i = history_.size(); i-- > 0;) {
    const SlaTargetChange& h = history_[i];
    if (h.new_target_us() != target) {
      return broken("target history chains to the current target");
    }
    target = h.old_target_us();
    if (c.has_observed_at && h.at_us() > c.observed_at_us) {
      return broken("target changes are not in the future");
    }
    if (i > 0 && history_[i - 1].at_us() > h.at_us()) {
      return broken("target history is in time order");
    }
  }
  if (c.next_fire_us != (c.has_breached_at ? kNever
                         : c.warnings_reached < n
                             ? ThresholdUs(c.target_us, c.warnings_reached)
                             : c.target_us)) {
    return broken("next_fire cache");
  }
  return absl::OkStatus();
}

// --- Ordering and replay
// -------------------------------------------------------

void SortClockInputs(std::vector<SequencedClockInput>& inputs) {
  std::stable_sort(
      inputs.begin(), inputs.end(),
      [](const SequencedClockInput& a, const SequencedClockInput& b) {
        if (a.input.at != b.input.at) return a.input.at < b.input.at;
        return a.sequence < b.sequence;
      });
}

absl::StatusOr<SlaTransition> Replay(SlaClock clock,
                                     std::vector<SequencedClockInput> inputs,
                                     const BusinessTime& business) {
  SortClockInputs(inputs);
  SlaTransition t{std::move(clock), {}};
  for (const SequencedClockInput& in : inputs) {
    absl::Status s = t.clock.ApplyInPlace(in.input, business, &t.facts);
    if (!s.ok()) {
      return absl::Status(s.code(), absl::StrCat("replay: input #", in.sequence,
                                                 ": ", s.message()));
    }
  }
  return t;
}

}  // namespace slate
