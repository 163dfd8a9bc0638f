// Test helpers for the KPI projection: fold a vector of events (positions
// set from their index) into a fresh in-memory rollup.
//
//   auto rollup = slate::testing::FoldKpiEvents(events, slate::KpiOptions());
#ifndef SLATE_TESTS_KPI_KPI_TEST_UTIL_H_
#define SLATE_TESTS_KPI_KPI_TEST_UTIL_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/projection/kpi_projection.h"
#include "lib/projection/kpi_query.h"
#include "lib/projection/kpi_rollup.h"
#include "proto/events.pb.h"

namespace slate::testing {

// FoldKpiRollup over `events` in the given order; event i gets position i.
inline absl::StatusOr<KpiRollup> FoldKpiEvents(
    const std::vector<Envelope>& events, const KpiOptions& options) {
  return FoldKpiRollup(
      [&events](int64_t from,
                size_t n) -> absl::StatusOr<std::vector<Envelope>> {
        std::vector<Envelope> out;
        for (size_t i = static_cast<size_t>(from);
             i < events.size() && out.size() < n; ++i) {
          out.push_back(events[i]);
          out.back().set_position(static_cast<int64_t>(i));
        }
        return out;
      },
      options);
}

}  // namespace slate::testing

#endif  // SLATE_TESTS_KPI_KPI_TEST_UTIL_H_
