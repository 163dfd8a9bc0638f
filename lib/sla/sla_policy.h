// SLA policies: loading from JSON, validation, and the questions a policy
// answers (does it apply to a record, what is the target, which clock input
// does a record transition mean).
//
//   absl::StatusOr<slate::SlaPolicy> policy = slate::LoadSlaPolicyJson(R"({
//     "id": "p1", "calendar_id": "24x7",
//     "targets": [{"priority": 1, "resolution": "4h"}],
//     "resolution": {"start": {"events": ["incident_opened"]},
//                    "stop": {"states": ["resolved"]}}
//   })");
//   if (!policy.ok()) return policy.status();  // kInvalidArgument, names field
//   absl::StatusOr<slate::SlaClockSpec> spec = slate::SlaClockSpecFor(
//       *policy, slate::SLA_METRIC_RESOLUTION, /*priority=*/1, "INC0001");
//
// The policy schema and its JSON form are documented in proto/sla.proto.
// Durations are strings for absl::ParseDuration ("4h", "90m", "14400s").
//
// Mid-flight attach (the rule the SLA projection follows). A policy can
// start to apply to a record after the record began: its priority, service
// or category changed (or the policy was defined after the record opened).
// Then the policy's clocks are created at that event and fed the record's
// whole history from its first event, each event through this policy's own
// rules (SlaDecideInput on the record's transitions, its calendar, and the
// target for the record's priority at the attach), as if the policy
// had applied from the start: a clock starts at the event that matches its
// start condition, not at the attach; time the record spent in a state this
// policy pauses on stays paused (whatever the other policies did with it);
// time it spent in a state this policy does not pause on counts; warnings
// and a breach that fall in the past fire at their historical instants (the
// timer appends them when it next runs, with the usual event ids). The
// record's transitions before the attach that the policy would have reacted
// to are therefore never lost, and the same events give the same clocks in
// any arrival order (tests/projection/sla_agreement_test, "MidFlight").
#ifndef SLATE_LIB_SLA_SLA_POLICY_H_
#define SLATE_LIB_SLA_SLA_POLICY_H_

#include <functional>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "lib/sla/sla_clock.h"
#include "proto/sla.pb.h"

namespace slate {

struct SlaPolicyOptions {
  // Priorities are 1..max_priority (1 most urgent); a target or filter for
  // any other priority is rejected. Default: 5 (the ITIL 5-level matrix).
  int max_priority = 5;
};

// The default warning thresholds: 50, 75, 90 percent.
inline constexpr double kDefaultWarningThresholdsPercent[] = {50, 75, 90};

// Fills what an absent field means: warning thresholds 50/75/90 when the
// list is empty, reopen NEW_CYCLE when unspecified.
void FillSlaPolicyDefaults(SlaPolicy* policy);

// OK, or kInvalidArgument naming the policy and the field, e.g.
//   sla policy "p1": targets[0].resolution: must be > 0, got "-4h"
// Checks: id and calendar_id present; record types, priorities, states,
// event and hold reason names known or well formed; one targets entry per
// priority, each duration > 0, finite, whole microseconds; every priority in
// applies_to.priorities has a targets entry; a measure with any target has
// start and stop conditions; thresholds in (0, 100), strictly increasing.
// Expects defaults filled (an empty threshold list is fine).
absl::Status ValidateSlaPolicy(const SlaPolicy& policy,
                               const SlaPolicyOptions& options = {});

// Parses JSON (protobuf JSON mapping; unknown fields are an error), fills
// defaults and validates. kInvalidArgument on any problem.
absl::StatusOr<SlaPolicy> LoadSlaPolicyJson(absl::string_view json);
absl::StatusOr<SlaPolicy> LoadSlaPolicyJson(absl::string_view json,
                                            const SlaPolicyOptions& options);

// Parses a policy duration string ("4h", "1h30m", "14400s"). Empty string:
// nullopt (no target). kInvalidArgument if malformed, <= 0, infinite or not
// whole microseconds.
absl::StatusOr<std::optional<absl::Duration>> ParseSlaDuration(
    absl::string_view text);

// A target as a policy writes it: a duration, or a relative target
// ("end of next business day", "end of business day N", "HH:MM on business
// day N"; see proto/sla.proto SlaPriorityTargets).
struct SlaTarget {
  absl::Duration duration = absl::ZeroDuration();  // When not relative.
  std::optional<SlaRelativeTarget> relative;
};

// Parses a target string: a duration (ParseSlaDuration) or a relative
// target (case and surrounding spaces ignored). Empty: nullopt.
// kInvalidArgument naming what is wrong otherwise.
absl::StatusOr<std::optional<SlaTarget>> ParseSlaTarget(absl::string_view text);

// What a record looks like to applies_to. Views: the caller keeps the
// texts alive while it uses them (the SLA fold builds one per event from
// the record it holds, without copying its strings).
struct SlaRecordAttributes {
  absl::string_view record_type;  // "incident", "change" or "request".
  int priority = 0;
  absl::string_view service;
  absl::string_view category;
};

// True if every non-empty applies_to filter contains the record's value.
bool SlaPolicyApplies(const SlaPolicy& policy,
                      const SlaRecordAttributes& record);

// The target for (metric, priority); nullopt if the policy sets none.
// REQUIRES: the policy validated.
// A relative target gives nullopt here: see SlaTargetOf.
std::optional<absl::Duration> SlaTargetFor(const SlaPolicy& policy,
                                           SlaMetric metric, int priority);

// Whether the policy sets a target for (metric, priority): its text is not
// blank. Parses nothing, for the fold's per-event checks.
// REQUIRES: the policy validated.
bool SlaHasTarget(const SlaPolicy& policy, SlaMetric metric, int priority);

// The target for (metric, priority) of either kind; nullopt if none.
// REQUIRES: the policy validated.
std::optional<SlaTarget> SlaTargetOf(const SlaPolicy& policy, SlaMetric metric,
                                     int priority);

// A clock spec for one record under this policy. kNotFound if the policy has
// no target for (metric, priority).
absl::StatusOr<SlaClockSpec> SlaClockSpecFor(const SlaPolicy& policy,
                                             SlaMetric metric, int priority,
                                             absl::string_view record_id);

// The start/pause/stop/cancel rules for one measure.
const SlaClockRules& SlaRulesFor(const SlaPolicy& policy, SlaMetric metric);

// One change of a record, as the conditions see it.
struct SlaRecordTransition {
  std::string event;        // e.g. "incident_put_on_hold".
  std::string state;        // The state after the event, e.g. "on_hold".
  std::string hold_reason;  // e.g. "AWAITING_CALLER"; empty if not on hold.
};

// See SlaCondition in proto/sla.proto.
bool SlaConditionMatches(const SlaCondition& condition,
                         const SlaRecordTransition& transition);

// Which clock input a record transition means for a clock in `phase`, if
// any. Precedence: cancel, then stop, then pause/resume. Not started: start
// (or cancel). Stopped: start matching (and stop not matching) means reopen.
// Paused: resumes as soon as the pause condition no longer matches, so pause
// conditions should be written on states, not events. A clock that starts
// (or reopens) while pause matches is paused at the same instant: the
// caller decides again after a start or reopen. The caller builds the
// input with the event's instant (and, for a reopen, the policy's reopen
// mode).
std::optional<SlaClockInputKind> SlaDecideInput(
    const SlaClockRules& rules, SlaClockPhase phase,
    const SlaRecordTransition& transition);

// The rules compiled for a fold that sees many transitions: every name
// (event, state, hold reason) as the caller's integer id, so a decision
// compares integers, not strings. The caller gives each name it can
// produce a distinct id (ids of different kinds may coincide) and
// describes each transition with the ids of its names:
//
//   slate::SlaNameIds ids;
//   ids.event = [](absl::string_view name) { return ...; };  // -1: never
//   ids.state = ...; ids.hold_reason = ...;
//   slate::SlaCompiledRules rules = slate::SlaCompileRules(
//       slate::SlaRulesFor(policy, metric), ids, ids.state("on_hold"));
//   auto kind = slate::SlaDecideInput(rules, phase, {event, state, hold});
//
// Then SlaDecideInput gives what it gives on the names.
struct SlaNameIds {
  // A name's id, or -1 for a name no transition of the caller has.
  std::function<int(absl::string_view)> event;
  std::function<int(absl::string_view)> state;
  std::function<int(absl::string_view)> hold_reason;
};

// SlaRecordTransition by ids (see SlaNameIds; never -1).
struct SlaTransitionIds {
  int event = 0;
  int state = 0;
  int hold_reason = 0;  // The id of "" when not on hold.
};

struct SlaCompiledCondition {
  std::vector<int> events;        // Names no transition has are left out.
  std::vector<int> states;
  std::vector<int> hold_reasons;
  bool any_hold_reasons = false;  // The condition names hold reasons.
};

struct SlaCompiledRules {
  SlaCompiledCondition start, pause, stop, cancel;
  int on_hold_state = -1;  // The id of the state "on_hold".
};

SlaCompiledCondition SlaCompileCondition(const SlaCondition& condition,
                                         const SlaNameIds& ids);
SlaCompiledRules SlaCompileRules(const SlaClockRules& rules,
                                 const SlaNameIds& ids, int on_hold_state);

// SlaConditionMatches by ids; on_hold_state as in SlaCompiledRules.
bool SlaConditionMatches(const SlaCompiledCondition& condition,
                         const SlaTransitionIds& transition,
                         int on_hold_state);

// SlaDecideInput by ids.
std::optional<SlaClockInputKind> SlaDecideInput(
    const SlaCompiledRules& rules, SlaClockPhase phase,
    const SlaTransitionIds& transition);

}  // namespace slate

#endif  // SLATE_LIB_SLA_SLA_POLICY_H_
