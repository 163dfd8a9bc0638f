// Loading a file of SLA policies for an import (`slate import servicenow
// --policies FILE`): one policy object, or a JSON array of them, each in the
// SlaPolicy JSON form of proto/sla.proto.
//
//   absl::StatusOr<std::vector<slate::SlaPolicy>> policies =
//       slate::LoadSlaPolicyListJson(text, /*max_priority=*/4);
#ifndef SLATE_LIB_IMPORT_SLA_POLICIES_H_
#define SLATE_LIB_IMPORT_SLA_POLICIES_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/sla.pb.h"

namespace slate {

// Most policies one file may hold; more is kInvalidArgument (each policy
// attaches clocks to every matching record, so the count bounds fold cost).
inline constexpr int kMaxSlaPoliciesPerFile = 1000;

// Parses, fills defaults and validates every policy (LoadSlaPolicyJson with
// max_priority). kInvalidArgument naming the array index and the field;
// kInvalidArgument for an empty list, two policies with one id, or more than
// kMaxSlaPoliciesPerFile policies.
absl::StatusOr<std::vector<SlaPolicy>> LoadSlaPolicyListJson(
    absl::string_view json, int max_priority);

}  // namespace slate

#endif  // SLATE_LIB_IMPORT_SLA_POLICIES_H_
