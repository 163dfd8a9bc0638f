// Names of domain values for people, and the priority matrix's JSON form:
// what `slate show`, `slate tick` and `slate import` print and read.
//
//   auto matrix = engine->LoadAggregate("priority-matrix", "");
//   std::string p = slate::PriorityLevelName(matrix->priority_matrix(), 1);
//   // "Critical" (or "P1" when the matrix has no level 1)
//   auto inc = engine->LoadAggregate("incident", "INC1");
//   std::string s = slate::AggregateStatusName(*inc);  // "In Progress"
#ifndef SLATE_LIB_API_NAMES_H_
#define SLATE_LIB_API_NAMES_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/commands.pb.h"
#include "proto/events.pb.h"
#include "proto/sla.pb.h"

namespace slate {

// Name of `level` ("High"), or "P<level>" when the matrix has no such level.
std::string PriorityLevelName(const PriorityMatrix& matrix, int level);

// The status of the aggregate in `state` (an incident's, a problem's, a
// change's, a service's, a request's; a catalog item is "Offered" or
// "Retired") as people read it; "" for a priority matrix.
std::string AggregateStatusName(const ExecuteResult& state);

// An instant field of a state message (`*_us`, microseconds since the Unix
// epoch) as `slate show` prints it: "2026-11-20T09:00:00Z"; "-" for 0.
std::string FormatStateTime(int64_t us);

// "response", "resolution", "update" ("" for unspecified): the target type
// of SlaClockView and of the KPI SLA rows.
absl::string_view SlaMetricName(SlaMetric metric);

// Parses a priority matrix (protobuf JSON mapping, unknown fields an error)
// and validates it: kInvalidArgument naming what is wrong.
absl::StatusOr<PriorityMatrix> ParsePriorityMatrixJson(absl::string_view json);

}  // namespace slate

#endif  // SLATE_LIB_API_NAMES_H_
