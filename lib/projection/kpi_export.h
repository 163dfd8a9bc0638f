// KPI inputs that travel (issue 19): one engine's KPI rollup and final SLA
// clocks as bytes, and their merge. The engines of a cluster's partitions
// hold disjoint tenants, plus each a copy of the default tenant's shared
// configuration; merging their exports gives the rollup of one engine that
// saw every command, because every rollup part is a sum or a union
// (KpiRollup::Merge, QuantileSketch::Merge).
//
//   std::string bytes = slate::EncodeKpiExport(rollup, clocks, zone, last);
//   slate::KpiMergedInputs merged;
//   SLATE_RETURN_IF_ERROR(slate::MergeKpiExport(bytes, &merged));
//   ... QueryKpis(merged.rollup, query, options, merged.clocks)
//
// The bytes are a kpi::KpiExport (lib/projection/kpi.proto), never stored.
#ifndef SLATE_LIB_PROJECTION_KPI_EXPORT_H_
#define SLATE_LIB_PROJECTION_KPI_EXPORT_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "lib/projection/kpi_query.h"
#include "lib/projection/kpi_rollup.h"

namespace slate {

// The rollup (its cells' days in `zone`), the clocks and the last record
// event time, as bytes. Deterministic for equal inputs.
std::string EncodeKpiExport(const KpiRollup& rollup,
                            absl::Span<const KpiSlaClock> clocks,
                            const absl::TimeZone& zone,
                            std::optional<absl::Time> last_record_event);

// What the merged exports hold.
struct KpiMergedInputs {
  std::optional<std::string> zone;  // Unset until the first export.
  KpiRollup rollup;
  std::vector<KpiSlaClock> clocks;
  std::optional<absl::Time> last_record_event;  // The latest of any.
};

// Decodes `bytes` and merges them into *into. kDataLoss naming the part on
// bytes that do not decode; kInvalidArgument when the export's zone differs
// from the ones merged before. *into is unchanged on error.
absl::Status MergeKpiExport(absl::string_view bytes, KpiMergedInputs* into);

}  // namespace slate

#endif  // SLATE_LIB_PROJECTION_KPI_EXPORT_H_
