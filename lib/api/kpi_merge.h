// KPIs across engines that hold disjoint tenants (issue 19): a cluster's
// partitions each export their KPI inputs (Engine::ExportKpis), and the
// merge answers as one engine that executed every partition's commands.
// Every input is a sum or a union (cells, durations' quantile sketches,
// outages, SLA outcomes), so the merge is exact; the default tenant's
// shared configuration, which every partition holds a copy of, counts once.
//
//   std::vector<std::string> parts;
//   for (slate::Engine* e : partition_engines) {
//     SLATE_ASSIGN_OR_RETURN(std::string p, e->ExportKpis(query.zone));
//     parts.push_back(std::move(p));
//   }
//   absl::StatusOr<std::string> table =
//       slate::FormatMergedKpis(parts, query, slate::KpiFormat::kTable);
#ifndef SLATE_LIB_API_KPI_MERGE_H_
#define SLATE_LIB_API_KPI_MERGE_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "lib/api/kpi_types.h"
#include "lib/api/options.h"

namespace slate {

// Engine::Kpis of the merged exports for one query. `options` stand for the
// engines' (the calendars business time falls back to; the exporting
// engines should share them). Default: Options(), as `slate node` runs.
// kDataLoss naming the export that does not decode; kInvalidArgument when
// an export's zone is not the query's, or as Engine::Kpis.
absl::StatusOr<KpiResult> MergedKpis(absl::Span<const std::string> exports,
                                     const KpiQuery& query,
                                     const Options& options = Options());

// Engine::FormatKpis of the merged exports; errors as MergedKpis.
absl::StatusOr<std::string> FormatMergedKpis(
    absl::Span<const std::string> exports, const KpiQuery& query,
    KpiFormat format, const KpiTables& tables = KpiTables(),
    const Options& options = Options());

// The latest LastRecordEventTime of the exports (nullopt: none had one).
// kDataLoss naming the export that does not decode.
absl::StatusOr<std::optional<absl::Time>> MergedLastRecordEventTime(
    absl::Span<const std::string> exports);

}  // namespace slate

#endif  // SLATE_LIB_API_KPI_MERGE_H_
