// SlaProjection: the live SLA clocks of every incident and change, folded
// from the log, plus the deadlines the timers fire from.
//
//   // Engine keeps it current (it is a built-in projection); read it with
//   absl::Status s = slate::ForEachClock(runner,
//       [](const slate::SlaClockView& c) {
//         if (c.state.status() == slate::SLA_CLOCK_STATUS_BREACHED) ...;
//       });
//   absl::StatusOr<std::vector<slate::SlaClockView>> clocks =
//       slate::ClocksOf(runner, "incident/INC1");
//   auto acme = slate::ClocksOf(runner, "INC1", "acme");  // tenant "acme"
//
// What it folds (design.md, "SLA clocks", "Time", "Timers"):
//  - `policy/<id>` SlaPolicyDefined and `calendar/<id>` CalendarDefined
//    events: the policies and calendars in force. Each definition of a
//    policy is a version in force from its occurred_at; an attachment binds
//    the version in force at the event it attaches on (the first version
//    for events before it: a first definition is retroactive) and keeps
//    it, so a redefinition changes only the clocks that attach after it,
//    unless it says apply_to_running (then, at its instant, the running
//    clocks are re-targeted and count under it). Redefining a calendar is
//    retroactive: every record counts under the calendar in force. Either
//    recomputes every record from the log (clocks are reproducible from
//    the log alone). A policy whose calendar is not defined yet (and is not
//    "24x7") attaches no clocks until it is.
//  - `incident/<id>` and `change/<id>` events: the record's attributes
//    (folded with the domain's EvolveIncident/EvolveChange) and one clock per
//    (record, policy, metric, cycle) for every policy whose applies_to
//    matches the record (SlaPolicyApplies) and that has a target for the
//    record's priority. A change's priority is its impact (1..3) and its
//    service its first service id. The clocks follow the policy's rules
//    (SlaDecideInput) with the event's occurred_at.
//  - Attach: a policy attaches at the first event after which it applies,
//    and its clocks are then replayed from the record's first event (a late
//    attach starts at the original start event, as if attached then).
//  - Unmatch: a record event after which the record no longer matches an
//    attached policy's applies_to (its priority, service or category
//    changed) ends the attachment: its clocks that are not stopped are
//    cancelled at the event's instant (cancel_reason "no longer matches
//    the policy"), unless the policy says keep_when_unmatched. An ended
//    attachment takes no more input and the policy does not attach to
//    the record again.
//  - `policy/<id>` SlaPolicyRetired: from its occurred_at R the policy
//    attaches to no record, and every attachment of it ends at R (clocks
//    cancelled at R, cancel_reason "policy retired"), whether or not the
//    record has events after R; thresholds crossed before R stay fired.
//    Like a definition it recomputes every record; a record whose clocks
//    it ended counts R as its latest instant, so a record event before R
//    arriving later is folded as late (in time order).
//  - Priority change: every running or paused clock whose policy has a
//    target for the new priority is retargeted (elapsed kept, deadline
//    moved, SlaClockState.target_history records it); a new priority without
//    a target keeps the old one.
//  - Reopen: a stopped clock whose start condition matches again reopens in
//    the policy's mode (NEW_CYCLE: a new clock, cycle + 1; the old cycle's
//    state stays stored; RESUME: the same clock runs on).
//  - `sla/<record stream>` SlaWarning / SlaBreached events (appended by
//    Engine::AdvanceTo): the named clock advances to the event's instant, so
//    the threshold counts as fired and the next deadline comes up. Such an
//    event on any other stream is ignored (a recompute would not find it).
//  - Order: a record's events (and its SLA events) are folded in
//    (occurred_at, arrival) order. One older than the latest folded for that
//    record recomputes the record from its events in the log (its stream and
//    its SLA stream, up to the late event's position, through
//    ProjectionState::ReadStream), so any arrival order of the same events
//    gives the same bytes, as long as events sharing one occurred_at arrive
//    in the same relative order. A policy attaching to a record with earlier
//    events replays them from the log the same way. The state therefore
//    needs a log behind it (the runner's does; a MemoryState needs one).
//  - Tenants (lib/api/tenant.h): a record of tenant T ("tenant/T/incident/
//    INC1") counts under T's configuration: T's policies and calendars
//    over the default tenant's. A policy id T defined (in any version) is
//    T's alone: its versions and its retirement are T's, the default
//    tenant's of that id do not apply to T; the default tenant's other
//    policies apply to T as to the default tenant. T retiring a policy
//    (its own or a shared one) retires it for T's records only. Every policy T
//    counts under (its own and the shared ones) resolves its calendar_id to T's
//    calendar of that name, else the default tenant's. A config event on T's
//    streams
//    ("tenant/T/policy/<id>", ...) recomputes T's records only; the
//    default tenant's recompute every record. T's records' SLA events go
//    to "tenant/T/sla/<local stream>" (SlaEventStream).
//  - Clock inputs a clock refuses (an impossible sequence, a calendar without
//    enough open time) are skipped for that clock; they never stop the fold.
//
// Stored keys (all deterministic; instants as 16 hex digits of the int64
// microseconds with the sign bit flipped, so byte order is time order):
//   pol/<policy_id>                              SlaPolicy (latest folded)
//   pov/<policy_id>|<from:16x>                   SlaPolicyDefined (versions)
//   ret/<policy_id>                              retirement instant (16 hex)
//   cal/<calendar_id>                            CalendarSpec
//   tenant/<T>/pol/..., tenant/<T>/pov/..., tenant/<T>/ret/...,
//   tenant/<T>/cal/...                           the same, of tenant T (the
//                                                default tenant's have no
//                                                prefix: SlaConfigKey)
//   rec/<stream>                                 SlaRecordState
//   clk/<stream>|<policy_id>|<metric>|<cycle:8x> SlaClockState
//   due/<due:16x>|<clock key>                    "" (running clocks only:
//                                                the next due instant)
//   gen                                          config events folded
//   wm                                           the watermark (16 hex)
// <stream> is the record's full stream ("tenant/<T>/incident/INC1" for
// tenant T), so records and clocks of tenants never share a key.
// Stream and policy ids never contain '|' (see ValidateAggregateId).
#ifndef SLATE_LIB_PROJECTION_SLA_PROJECTION_H_
#define SLATE_LIB_PROJECTION_SLA_PROJECTION_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "lib/api/sla_types.h"
#include "lib/projection/projection.h"
#include "lib/projection/runner.h"
#include "proto/events.pb.h"
#include "proto/sla.pb.h"

namespace slate {

// Calls fn for every clock of every record (every cycle), in key order
// (record stream, policy id, metric, cycle). kDataLoss if stored state does
// not decode; kNotFound if the runner has no "sla" projection.
absl::Status ForEachClock(const ProjectionRunner& runner,
                          const std::function<void(const SlaClockView&)>& fn);

// The streams a query for `record` of `tenant` ("" = the default tenant)
// looks at, in order: a bare id "INC1" -> the tenant's incident, then its
// change; "incident/INC1" -> the tenant's stream of it; a full tenant
// stream "tenant/acme/incident/INC1" as is (kInvalidArgument if `tenant`
// is given and is not its tenant). kInvalidArgument for an invalid tenant.
absl::StatusOr<std::vector<std::string>> SlaRecordStreams(
    absl::string_view record, absl::string_view tenant);

// The clocks of one record of `tenant` (record and tenant as
// SlaRecordStreams; the first stream with clocks), in the order of
// ForEachClock. Empty if the record has none.
absl::StatusOr<std::vector<SlaClockView>> ClocksOf(
    const ProjectionRunner& runner, absl::string_view record,
    absl::string_view tenant = "");

// ForEachClock over a state the SLA projection folded into (a MemoryState),
// after SlaProjection::Flush.
absl::Status ForEachClockIn(ProjectionState& state,
                            const std::function<void(const SlaClockView&)>& fn);

// The clocks of one record stream in a state the SLA projection folded
// into (a MemoryState), as ClocksOf; after SlaProjection::Flush.
absl::StatusOr<std::vector<SlaClockView>> ClocksIn(
    ProjectionState& state, absl::string_view record_stream);

// The view of one clock by its key (see SlaClockKey); nullopt if absent.
absl::StatusOr<std::optional<SlaClockView>> ClockByKey(
    const ProjectionRunner& runner, absl::string_view clock_key);

// "response", "resolution", "update" ("" for unspecified).
absl::string_view SlaTargetTypeName(SlaMetric metric);

// Key of a clock's state: "clk/<stream>|<policy_id>|<metric>|<cycle:8x>".
std::string SlaClockKey(absl::string_view stream, absl::string_view policy_id,
                        SlaMetric metric, int64_t cycle);

// Key of one version of a policy in the projection's state:
// "pov/<policy_id>|<from:16x>" (InfinitePast: in force throughout, for
// scratch states such as the what-if's).
std::string SlaPolicyVersionKey(absl::string_view policy_id, absl::Time from);

// The stream SLA events of a record go to: "sla/<record stream>" for the
// default tenant ("sla/incident/INC1"), "tenant/<T>/sla/<local stream>"
// for tenant T ("tenant/acme/sla/incident/INC1").
std::string SlaEventStream(absl::string_view record_stream);

// The key of a configuration entry (`key` as the default tenant stores
// it: "pol/<id>", "pov/<id>|<from>", "ret/<id>", "cal/<id>") of `tenant`:
// `key` itself for the default tenant (or ""), "tenant/<T>/" + key for T.
std::string SlaConfigKey(absl::string_view tenant, absl::string_view key);

// The event id of the warning (threshold_index 0..) or breach
// (threshold_index = -1) of one clock cycle:
//   "sla:<stream>:<policy_id>:<metric>:<cycle>:w<index>" / ":breach".
// Deterministic, so appending it twice is an idempotent retry.
std::string SlaTimerEventId(absl::string_view stream,
                            absl::string_view policy_id, SlaMetric metric,
                            int64_t cycle, int threshold_index);

// Something a running clock will do by itself at `due` (a warning or the
// breach), as Engine::AdvanceTo finds it.
struct SlaDue {
  std::string clock_key;
  absl::Time due;
  // The event to append: sla_warning or sla_breached set, occurred_at = due,
  // event_id = SlaTimerEventId(...), stream left for the caller
  // (SlaEventStream(record)).
  Envelope event;
};

// The facts every running clock produces by itself up to and including
// `now` (due <= now), read from the projection's committed due index, in
// (due, clock key) order, at most `limit`. A clock produces at most its next
// fact here; the next one comes once that fact's event is folded.
absl::StatusOr<std::vector<SlaDue>> DueClocks(const ProjectionRunner& runner,
                                              absl::Time now, size_t limit);

// Running clocks that are not breached yet (status RUNNING) whose deadline
// is <= now + within (a deadline already past but not yet fired counts),
// of the filter's tenant (every tenant's if all_tenants) and matching the
// rest of `filter`, sorted by (deadline, record, policy, metric, cycle),
// at most top_n (0: no limit). Reads the due index: O(clocks due within the
// horizon). kInvalidArgument for an invalid filter.tenant.
absl::StatusOr<std::vector<SlaClockView>> AtRiskClocks(
    const ProjectionRunner& runner, absl::Time now, absl::Duration within,
    const SlaAtRiskFilter& filter, size_t top_n, bool all_tenants = false);

// Breached clocks of `tenant` ("" = the default tenant) that are still
// counting or paused (their record is not resolved, closed or cancelled
// under the policy's stop/cancel rules), sorted by (breached_at, record,
// policy, metric, cycle). O(the tenant's clocks; the default tenant's:
// all clocks). kInvalidArgument for an invalid tenant.
absl::StatusOr<std::vector<SlaClockView>> BreachedOpenClocks(
    const ProjectionRunner& runner, absl::string_view tenant = "");

// The replay watermark: the latest occurred_at of any incident, change or
// request event folded; nullopt before the first one.
absl::StatusOr<std::optional<absl::Time>> SlaWatermark(
    const ProjectionRunner& runner);

// SlaWatermark of a state the SLA projection folded into (a MemoryState),
// after SlaProjection::Flush.
absl::StatusOr<std::optional<absl::Time>> SlaWatermarkIn(
    ProjectionState& state);

class SlaProjection final : public Projection {
 public:
  static constexpr absl::string_view kName = "sla";
  // cached_records: see Options::projection_cached_records (clocks: 3 per
  // record).
  explicit SlaProjection(size_t cached_records = 4096);
  ~SlaProjection() override;
  absl::string_view name() const override { return kName; }
  // 2: IncidentDetailsUpdated updates the incident's details.
  // 3: a record's events are read back from the log, not stored (no in/
  //    keys); SLA events count only on the record's SLA stream.
  // 4: policies retire (ret/ keys) and a record that stops matching a
  //    policy ends its clocks (SlaAttachment.ended_at_us,
  //    SlaClockState.cancel_reason).
  // 5: the incident state a record keeps says first_contact_resolution
  //    false once the incident was reopened.
  // 6: a clock that starts (or starts a new cycle) while its pause
  //    condition holds starts paused, at the same instant.
  int64_t version() const override { return 6; }
  absl::Status Apply(const Envelope& e, ProjectionState& state) override;
  // Records and clocks stay decoded between events (after a flush at most
  // cached_records records and 3 x cached_records clocks); Flush writes the
  // changed ones.
  absl::Status Flush(ProjectionState& state) override;
  void Discard() override;
  bool WantsFlush() const override;

 private:
  struct Caches;
  // Before a recompute from the stored bytes: writes the cached records
  // and clocks and forgets them, so they are read back afterwards.
  absl::Status WriteBackRecords(ProjectionState& state);
  std::unique_ptr<Caches> caches_;
};

}  // namespace slate

#endif  // SLATE_LIB_PROJECTION_SLA_PROJECTION_H_
