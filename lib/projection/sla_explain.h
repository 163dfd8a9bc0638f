// ExplainClocks: why each SLA clock of a record stands where it does.
//
//   absl::StatusOr<std::vector<slate::SlaClockExplanation>> ex =
//       slate::ExplainClocks(runner, log, "incident/INC1", {});
//   for (const auto& c : *ex) {
//     for (const slate::SlaClockStep& s : c.steps) ...   // the timeline
//     for (const slate::SlaBusinessWindow& w : c.windows) ...  // the time
//   }
//   std::string text = slate::FormatSlaExplanations(*ex, /*json=*/false);
//
// How it works: the record's events and its SLA events are folded again,
// one at a time in (occurred_at, position) order, into a scratch SLA
// projection holding the live projection's policies and calendars (the
// definitions in force; they apply retroactively, as in the projection),
// and the record's clocks are compared after each event: what changed is
// the step. The clocks reported are the live projection's. Business time
// is broken down into the calendar's open intervals over every stretch
// the clock ran between two events; the stretch a clock attached late was
// replayed over is broken down when it ran without a pause, and otherwise
// counted in `replayed_unlisted` (see SlaClockExplanation). So
// business_counted + replayed_unlisted == state.business_elapsed_us.
// Thresholds are those of the clock's current target: a fired one is due
// where the windows cross it, a pending one at Add(observed_at, rest) on
// the calendar (the breach of a running clock is its deadline).
#ifndef SLATE_LIB_PROJECTION_SLA_EXPLAIN_H_
#define SLATE_LIB_PROJECTION_SLA_EXPLAIN_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "lib/api/sla_types.h"
#include "lib/log/event_log.h"
#include "lib/projection/runner.h"

namespace slate {

// `record`: "incident/INC1", "change/CHG1", or a bare id (an incident,
// then a change), of `tenant` ("" = the default tenant; see
// SlaRecordStreams). The scratch fold holds the default tenant's and the
// record's tenant's definitions. kNotFound if the log holds no such
// record; kInvalidArgument for an invalid tenant, or a tenant stream of
// another tenant.
absl::StatusOr<std::vector<SlaClockExplanation>> ExplainClocks(
    const ProjectionRunner& runner, const EventLog& log,
    absl::string_view record, const SlaExplainFilter& filter,
    absl::string_view tenant = "");

// An SLA warning or breach event in people's units, times in the zone of
// its policy's calendar (UTC for 24x7 or an unknown policy):
//   "resolution 75% warning on incident/INC1 (policy p1-office, cycle 1),
//    due Mon 2026-11-30 14:30 CET: 3h of 4h business time"
//   "resolution breached on incident/INC1 (policy p1-office, cycle 1) at
//    Mon 2026-11-30 15:30 CET: the 4h of business time used up"
// kInvalidArgument for any other event.
absl::StatusOr<std::string> DescribeSlaEvent(const ProjectionRunner& runner,
                                             const Envelope& e);

}  // namespace slate

#endif  // SLATE_LIB_PROJECTION_SLA_EXPLAIN_H_
