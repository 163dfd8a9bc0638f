// The priority matrix: impact x urgency -> priority level (1 most urgent).
// A matrix is data: loaded from JSON, validated, and recorded in the log as a
// PriorityMatrixSet event (stream config/priority-matrix) when it changes.
//
//   slate::PriorityMatrix m = slate::DefaultPriorityMatrix();
//   absl::StatusOr<int> p = slate::ComputePriority(m, /*impact=*/1,
//                                                  /*urgency=*/2);  // 2
//   auto custom = slate::LoadPriorityMatrixJson(R"({"impactLevels": 2, ...})");
#ifndef SLATE_LIB_DOMAIN_PRIORITY_MATRIX_H_
#define SLATE_LIB_DOMAIN_PRIORITY_MATRIX_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/events.pb.h"

namespace slate {

// The stream that records the matrix in force.
inline constexpr char kPriorityMatrixStream[] = "config/priority-matrix";

// The common ITIL 3x3 matrix with 5 levels (1 Critical, 2 High, 3 Moderate,
// 4 Low, 5 Planning): I1U1=1, I1U2=I2U1=2, I1U3=I2U2=I3U1=3, I2U3=I3U2=4,
// I3U3=5.
PriorityMatrix DefaultPriorityMatrix();

// OK or kInvalidArgument naming the field: 1..10 impact and urgency levels,
// 1..10 level names (none empty), exactly one cell per (impact, urgency),
// each priority within 1..levels, and every level used by some cell.
absl::Status ValidatePriorityMatrix(const PriorityMatrix& m);

// Parses (protobuf JSON mapping, unknown fields an error) and validates.
absl::StatusOr<PriorityMatrix> LoadPriorityMatrixJson(absl::string_view json);

// The level for (impact, urgency). kInvalidArgument (naming `what`, e.g.
// "incident INC1") if impact or urgency is outside the matrix.
// REQUIRES: ValidatePriorityMatrix(m).ok().
absl::StatusOr<int> ComputePriority(const PriorityMatrix& m, int impact,
                                    int urgency,
                                    absl::string_view what = "priority");

// Name of `level` ("High"), or "P<level>" when the matrix has no such level.
std::string PriorityName(const PriorityMatrix& m, int level);

}  // namespace slate

#endif  // SLATE_LIB_DOMAIN_PRIORITY_MATRIX_H_
