// SimulateSla: what the SLA clocks would say under other policies and
// calendars, over the whole history; the live database is only read.
//
//   slate::SlaWhatIfQuery q;
//   q.policies.push_back(p1_with_a_6h_target);   // replaces "p1"
//   q.by = "priority";
//   absl::StatusOr<slate::SlaWhatIfReport> r =
//       slate::SimulateSla(runner, log, q);
//   std::cout << slate::FormatSlaWhatIf(*r, "table");
//
// How: a scratch SLA projection (in memory) holds the live projection's
// policies and calendars of the default tenant and of query.tenant, with
// the query's put over them as that tenant's (same id: replaced;
// definitions are retroactive, as in the live projection), and folds every
// incident and change event of that tenant in the log up to its end when
// the call starts, in log order; SLA warning and breach events are left
// out (they are facts of the live definitions). Clocks are matched by key
// (record, policy, metric, cycle) with the tenant's live clocks and judged
// the same way on both sides as of the tenant's watermark (its latest
// record event): met, breached (or running past its deadline), open,
// cancelled. Cost: one fold of the log through the SLA
// projection, in memory (bench/whatif_bench.cc).
#ifndef SLATE_LIB_PROJECTION_SLA_WHATIF_H_
#define SLATE_LIB_PROJECTION_SLA_WHATIF_H_

#include "absl/status/statusor.h"
#include "lib/api/sla_types.h"
#include "lib/log/event_log.h"
#include "lib/projection/runner.h"

namespace slate {

// kInvalidArgument for an invalid policy or calendar (naming it and the
// field), a policy whose calendar is defined nowhere, an invalid tenant,
// or `by` not one of "", priority, service, group, month.
absl::StatusOr<SlaWhatIfReport> SimulateSla(const ProjectionRunner& runner,
                                            const EventLog& log,
                                            const SlaWhatIfQuery& query);

}  // namespace slate

#endif  // SLATE_LIB_PROJECTION_SLA_WHATIF_H_
