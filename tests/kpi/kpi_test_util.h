// Test helpers for the KPI projection: one stream's events built in order,
// and a fold of a vector of events (positions set from their index) into a
// fresh in-memory rollup.
//
//   slate::testing::StreamEvents s("change/CHG1");
//   s.Add(at_us).mutable_change_closed()->set_outcome(slate::FAILED);
//   auto rollup = slate::testing::FoldKpiEvents(s.events(),
//                                               slate::KpiOptions());
#ifndef SLATE_TESTS_KPI_KPI_TEST_UTIL_H_
#define SLATE_TESTS_KPI_KPI_TEST_UTIL_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

#include "absl/status/statusor.h"
#include "lib/projection/kpi_projection.h"
#include "lib/projection/kpi_query.h"
#include "lib/projection/kpi_rollup.h"
#include "proto/events.pb.h"

namespace slate::testing {

// Events of one stream: versions 0, 1, ... in the order added, ids
// "<stream>:<version>", occurred_at as given.
class StreamEvents {
 public:
  explicit StreamEvents(std::string stream) : stream_(std::move(stream)) {}
  Envelope& Add(int64_t at_us) {
    Envelope& e = events_.emplace_back();
    e.set_stream(stream_);
    e.set_version(static_cast<int64_t>(events_.size()) - 1);
    e.set_event_id(absl::StrCat(stream_, ":", e.version()));
    e.set_occurred_at_us(at_us);
    return e;
  }
  const std::vector<Envelope>& events() const { return events_; }

 private:
  std::string stream_;
  std::vector<Envelope> events_;
};

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
