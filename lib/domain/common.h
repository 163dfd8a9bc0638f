// Helpers shared by the aggregates of lib/domain: id and time validation, and
// the kFailedPrecondition message every refused transition uses.
//
//   SLATE_RETURN_IF_ERROR(slate::ValidateAggregateId("incident", id));
//   SLATE_ASSIGN_OR_RETURN(absl::Time start,
//                          slate::ParseCommandTime(cmd.start(), "change CHG1",
//                                                  "start"));
//   return slate::TransitionNotAllowed("incident", "INC1", "resolve",
//                                      "Closed", "Resolved");
#ifndef SLATE_LIB_DOMAIN_COMMON_H_
#define SLATE_LIB_DOMAIN_COMMON_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace slate {

// Longest aggregate id and command id, in bytes.
inline constexpr size_t kMaxAggregateIdBytes = 128;

// OK if `id` is 1..128 bytes of A-Z a-z 0-9 and -_.:@+= (it becomes part of a
// stream name "<kind>/<id>"); otherwise kInvalidArgument naming `kind`.
absl::Status ValidateAggregateId(absl::string_view kind, absl::string_view id);

// Parses an RFC 3339 time ("2026-11-20T09:00:00Z"). `what` names the record
// (e.g. "change CHG1") and `field` the field, for the kInvalidArgument message.
// An empty value is kInvalidArgument too.
absl::StatusOr<absl::Time> ParseCommandTime(absl::string_view value,
                                            absl::string_view what,
                                            absl::string_view field);

// kFailedPrecondition: "<kind> <id>: cannot <command>: <from> -> <to> is not
// allowed". `to` may equal `from` for commands that keep the state.
absl::Status TransitionNotAllowed(absl::string_view kind, absl::string_view id,
                                  absl::string_view command,
                                  absl::string_view from, absl::string_view to);

// "2026-11-20T09:00:00Z" for t; "-" for 0.
std::string FormatMicros(int64_t us);

}  // namespace slate

#endif  // SLATE_LIB_DOMAIN_COMMON_H_
