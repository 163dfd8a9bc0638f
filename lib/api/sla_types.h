// SLA clock query types: what Engine::Clocks, AtRisk and Breached return.
//
//   slate::SlaAtRiskFilter filter;
//   filter.group = "network";  // empty / zero fields match anything
//   filter.tenant = "acme";    // only tenant acme's clocks (default: the
//                              // default tenant's)
//   auto risky = engine->AtRisk(absl::Now(), absl::Hours(8), filter);
//   for (const slate::SlaClockView& c : *risky) {
//     std::cout << c.record << " " << c.target_type << " due "
//               << absl::FromUnixMicros(c.state.deadline_us()) << "\n";
//   }
#ifndef SLATE_LIB_API_SLA_TYPES_H_
#define SLATE_LIB_API_SLA_TYPES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "proto/calendar.pb.h"
#include "proto/events.pb.h"
#include "proto/sla.pb.h"

namespace slate {

// One SLA clock with the attributes of its record, for queries and KPIs.
// Stable: the KPI rollups code against it.
struct SlaClockView {
  // The record's stream, e.g. "incident/INC1" or "change/CHG1"; a tenant's
  // record has its tenant's stream, "tenant/acme/incident/INC1"
  // (StreamTenant in lib/api/tenant.h gives the tenant).
  std::string record;
  std::string policy_id;
  // "response", "resolution" or "update".
  std::string target_type;
  // 1 for the first cycle; +1 per reopen in NEW_CYCLE mode.
  int64_t cycle = 1;
  // status, phase, deadline_us, started_at_us, stopped_at_us, breached_at_us,
  // business/wall elapsed, target history: see SlaClockState.
  SlaClockState state;
  // The record's attributes as of the latest event folded. For a change:
  // service = its first service id, group and contact_type empty, priority
  // = its impact.
  std::string service;
  std::string group;
  std::string category;
  std::string contact_type;
  int priority = 0;
  // An OLA cycle (SLA_AGREEMENT_KIND_OLA): the assignment group of its
  // stay, which `group` then names too. Empty for other clocks.
  std::string stay_group;
  // The version of the policy the clock counts under: the occurred_at (UTC
  // microseconds) of its SlaPolicyDefined (a redefinition binds only the
  // clocks that attach after it). 0 if not known.
  int64_t policy_version_from_us = 0;
};

// Filters for Engine::AtRisk; an empty/zero field matches anything, except
// `tenant`: the clocks of one tenant only.
struct SlaAtRiskFilter {
  // The tenant whose clocks are listed. Default: "" = the default tenant.
  std::string tenant;
  std::string group;    // The incident's assignment group.
  std::string service;  // The record's service.
  int priority = 0;     // The record's priority (1..N).
};

// Which clocks Engine::ExplainClocks explains; empty / zero fields match
// anything.
struct SlaExplainFilter {
  std::string policy_id;
  std::string target_type;  // "response", "resolution" or "update".
  int64_t cycle = 0;        // 1.. ; 0: every cycle.
};

// One thing an event did to a clock, as the SLA projection folded it.
struct SlaClockStep {
  int64_t position = 0;   // The event's log position.
  absl::Time at;          // The event's occurred_at.
  std::string event;      // The event's type, e.g. "incident_on_hold".
  // What it did: "attached", "started", "paused", "resumed", "retargeted",
  // "warning", "breached", "stopped", "cancelled", "reopened".
  std::string action;
  std::string detail;     // In words, e.g. "target 8h -> 4h (priority 1)".
};

// Open calendar time inside a stretch the clock ran.
struct SlaBusinessWindow {
  absl::Time start;
  absl::Time end;
  absl::Duration counted;  // Business time this window added (end - start).
  // Local dates between the previous window and this one with no open
  // time: "2026-12-25 holiday", "2026-12-26 closed".
  std::vector<std::string> skipped_days;
  // A UTC offset change inside the window, e.g. "+01:00 -> +02:00".
  std::string dst_change;
};

// A warning threshold or the breach (percent 100) of the clock's target.
struct SlaThresholdDue {
  double percent = 0;          // 100: the breach; 0 for an offset.
  // A warning set as business time before the deadline
  // (SlaPolicy.warning_before): that time; zero otherwise.
  absl::Duration before = absl::ZeroDuration();
  // Business time into the cycle it falls at, under the current target.
  absl::Duration business;
  // Fired: the instant it was crossed (under the target in force then; a
  // retarget may have moved it since). Pending: when it falls due if the
  // clock runs on. Unset while paused, or when crossed inside a late
  // attach's replay that is not broken down.
  std::optional<absl::Time> due;
  bool fired = false;          // Reached in this cycle.
};

// Why one clock stands where it does (Engine::ExplainClocks).
struct SlaClockExplanation {
  SlaClockView clock;        // The clock as the projection holds it.
  std::string calendar;      // The policy's calendar id ("24x7" for none).
  std::string time_zone;     // The calendar's zone ("UTC" for 24x7).
  // A relative target as the policy wrote it ("end of next business day");
  // empty for a duration target.
  std::string target_rule;
  std::vector<SlaClockStep> steps;
  // Up to the clock's last observed instant (its stop while stopped).
  std::vector<SlaBusinessWindow> windows;
  // Business time of the stretches broken down into windows (all of them,
  // listed or not).
  absl::Duration business_counted;
  // Business time a late-attached clock counted in its replay over a
  // stretch with pauses, which the windows do not break down.
  // business_counted + replayed_unlisted == state.business_elapsed_us.
  absl::Duration replayed_unlisted;
  bool windows_truncated = false;  // More than kMaxExplainWindows windows.
  std::vector<SlaThresholdDue> thresholds;
};

// Windows listed per clock at most (the rest are summed only).
inline constexpr size_t kMaxExplainWindows = 1000;

// A what-if (Engine::Simulate): the history folded again under other SLA
// policies and calendars, compared with the live clocks.
struct SlaWhatIfQuery {
  // The tenant whose records are folded again and compared, under its
  // configuration (its own definitions over the default tenant's); the
  // policies and calendars below are defined as that tenant's. Default:
  // "" = the default tenant.
  std::string tenant;
  // Replace the definitions in force with the same id, or add to them.
  // Policies are validated (kInvalidArgument naming the policy and field);
  // a policy's calendar must be "24x7", defined in the database or here.
  std::vector<SlaPolicy> policies;
  std::vector<CalendarSpec> calendars;
  // Another priority matrix: every incident's IncidentPrioritySet takes the
  // priority this matrix gives its impact and urgency (validated:
  // kInvalidArgument; an impact or urgency outside it: kInvalidArgument
  // naming the record). Kept as recorded: a manual override, and an event
  // without impact and urgency. Unset: the recorded priorities.
  std::optional<PriorityMatrix> matrix;
  // Only clocks that started in [from, to) (unset: no bound).
  std::optional<absl::Time> from;
  std::optional<absl::Time> to;
  // Rows per policy and target, and per this dimension: "" (none),
  // "priority", "service", "group" or "month" (of the clock's start, UTC).
  std::string by;
  // Flips to list (the first ones in record order); 0: none.
  size_t list_flips = 0;
};

// Compliance of one policy, target and dimension value, before and after.
// A clock is met (stopped in time), breached (its target used up, or a
// deadline at or before the report's as_of instant), open (running or
// paused within its target) or cancelled (not counted).
struct SlaWhatIfRow {
  std::string policy_id;
  std::string target_type;
  std::string key;  // The dimension value ("" without `by`).
  int64_t before_met = 0;
  int64_t before_breached = 0;
  int64_t after_met = 0;
  int64_t after_breached = 0;
  // Clocks whose verdict changed (met <-> breached, or counted on one side
  // only), counted on the after side's row (the before side's when gone).
  int64_t flips = 0;
};

struct SlaWhatIfFlip {
  std::string record;
  std::string policy_id;
  std::string target_type;
  int64_t cycle = 1;
  std::string before;  // "met", "breached", "open", "cancelled", "none".
  std::string after;
  std::string why;     // e.g. "target 4h -> 6h; used 5h12m".
};

struct SlaWhatIfReport {
  // The latest record event of the query's tenant (its watermark).
  absl::Time as_of;
  std::vector<SlaWhatIfRow> rows;  // By policy, target, key.
  int64_t flipped = 0;             // All flips.
  std::vector<SlaWhatIfFlip> flips;  // At most list_flips.
};

// A clock's verdict as of `as_of`, as the what-if judges both sides: "met"
// (stopped in time), "breached" (its target used up, or running with a
// deadline at or before as_of), "cancelled", or "open" (running or paused
// within its target).
std::string SlaClockVerdict(const SlaClockState& c, absl::Time as_of);

// A what-if report as a table, csv or json (one object).
std::string FormatSlaWhatIf(const SlaWhatIfReport& report,
                            absl::string_view format);

// Explanations as text for people (times in each calendar's zone, durations
// as "4h30m"), or with json one JSON object per clock and line with the
// same facts (times RFC 3339 UTC, durations in seconds).
std::string FormatSlaExplanations(const std::vector<SlaClockExplanation>& ex,
                                  bool json);

}  // namespace slate

#endif  // SLATE_LIB_API_SLA_TYPES_H_
