#include "lib/import/sla_policies.h"

#include <set>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "lib/sla/sla_policy.h"

namespace slate {

absl::StatusOr<std::vector<SlaPolicy>> LoadSlaPolicyListJson(
    absl::string_view json, int max_priority) {
  SlaPolicyOptions options;
  options.max_priority = max_priority;
  std::vector<SlaPolicy> out;
  const absl::string_view trimmed = absl::StripLeadingAsciiWhitespace(json);
  if (!trimmed.empty() && trimmed.front() == '[') {
    google::protobuf::ListValue list;
    auto parsed = google::protobuf::util::JsonStringToMessage(
        std::string(json.data(), json.size()), &list);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "policies: not a JSON array: ", std::string(parsed.message())));
    }
    if (list.values_size() > kMaxSlaPoliciesPerFile) {
      return absl::InvalidArgumentError(absl::StrCat(
          "policies: ", list.values_size(), " policies; the limit is ",
          kMaxSlaPoliciesPerFile));
    }
    for (int i = 0; i < list.values_size(); ++i) {
      std::string one;
      auto printed =
          google::protobuf::util::MessageToJsonString(list.values(i), &one);
      if (!printed.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "policies[", i, "]: ", std::string(printed.message())));
      }
      absl::StatusOr<SlaPolicy> p = LoadSlaPolicyJson(one, options);
      if (!p.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("policies[", i, "]: ", p.status().message()));
      }
      out.push_back(*std::move(p));
    }
  } else {
    absl::StatusOr<SlaPolicy> p = LoadSlaPolicyJson(json, options);
    if (!p.ok()) return p.status();
    out.push_back(*std::move(p));
  }
  if (out.empty()) {
    return absl::InvalidArgumentError("policies: the list is empty");
  }
  std::set<std::string> ids;
  for (const SlaPolicy& p : out) {
    if (!ids.insert(p.id()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("policies: two policies have id \"", p.id(), "\""));
    }
  }
  return out;
}

}  // namespace slate
