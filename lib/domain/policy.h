// Change policy validation and loading; DomainPolicy itself (the policy
// choices of the domain, each with its default) is public: lib/api/policy.h.
//
//   slate::DomainPolicy policy;
//   policy.change = *slate::LoadChangePolicyJson(json);
#ifndef SLATE_LIB_DOMAIN_POLICY_H_
#define SLATE_LIB_DOMAIN_POLICY_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "lib/api/policy.h"
#include "proto/commands.pb.h"

namespace slate {

// OK or kInvalidArgument naming the field: 3 impact points, question ids
// well formed and unique, weights >= 0, 0 < moderate_threshold <=
// high_threshold, every approval rule with a type other than STANDARD, a
// quorum >= 1, and no two rules for the same (type, risk); normal and
// emergency changes of every risk must find a rule; review_required names
// a known risk and distinct STANDARD, NORMAL or EMERGENCY types.
absl::Status ValidateChangePolicy(const ChangePolicy& policy);

// Parses (protobuf JSON mapping, unknown fields an error) and validates.
absl::StatusOr<ChangePolicy> LoadChangePolicyJson(absl::string_view json);

// As LoadChangePolicyJson, but over `base`: each top-level field the JSON
// object names replaces base's (a list as a whole), every other field keeps
// base's value. `slate exec --change-policy FILE` loads its file over
// DefaultChangePolicy(), so
//   {"reviewRequired": {"minRisk": "RISK_HIGH", "types": ["EMERGENCY"]}}
// is the default policy plus that review rule.
absl::StatusOr<ChangePolicy> LoadChangePolicyJsonOver(const ChangePolicy& base,
                                                      absl::string_view json);

}  // namespace slate

#endif  // SLATE_LIB_DOMAIN_POLICY_H_
