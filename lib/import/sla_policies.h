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

// Parses, fills defaults and validates every policy (LoadSlaPolicyJson with
// max_priority). kInvalidArgument naming the array index and the field;
// kInvalidArgument for an empty list or two policies with one id.
absl::StatusOr<std::vector<SlaPolicy>> LoadSlaPolicyListJson(
    absl::string_view json, int max_priority);

}  // namespace slate

#endif  // SLATE_LIB_IMPORT_SLA_POLICIES_H_
