#include "lib/domain/policy.h"

#include <algorithm>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "lib/domain/common.h"

namespace slate {

absl::Status ValidateChangePolicy(const ChangePolicy& p) {
  auto bad = [](auto... parts) {
    return absl::InvalidArgumentError(
        absl::StrCat("change policy: ", parts...));
  };
  if (p.impact_points_size() != 3) {
    return bad("impact_points must have 3 entries (impact 1..3), got ",
               p.impact_points_size());
  }
  std::set<std::string> ids;
  for (int i = 0; i < p.risk_questions_size(); ++i) {
    const RiskQuestion& q = p.risk_questions(i);
    absl::Status s = ValidateAggregateId("risk question", q.id());
    if (!s.ok()) return bad("risk_questions[", i, "].id: ", s.message());
    if (!ids.insert(q.id()).second) {
      return bad("risk_questions[", i, "].id \"", q.id(), "\" appears twice");
    }
    if (q.weight() < 0) {
      return bad("risk_questions[", i, "].weight must be >= 0, got ",
                 q.weight());
    }
  }
  if (p.moderate_threshold() <= 0 ||
      p.high_threshold() < p.moderate_threshold()) {
    return bad("need 0 < moderate_threshold <= high_threshold, got ",
               p.moderate_threshold(), " and ", p.high_threshold());
  }
  std::set<std::pair<int, int>> keys;
  for (int i = 0; i < p.approval_rules_size(); ++i) {
    const ApprovalRule& r = p.approval_rules(i);
    if (r.type() != NORMAL && r.type() != EMERGENCY) {
      return bad("approval_rules[", i,
                 "].type must be NORMAL or EMERGENCY (standard changes are "
                 "pre-approved)");
    }
    if (r.quorum() < 1) {
      return bad("approval_rules[", i, "].quorum must be >= 1, got ",
                 r.quorum());
    }
    if (!keys.insert({r.type(), r.risk()}).second) {
      return bad("approval_rules[", i, "]: a second rule for ",
                 ChangeType_Name(r.type()), " ", ChangeRisk_Name(r.risk()));
    }
  }
  for (ChangeType t : {NORMAL, EMERGENCY}) {
    for (ChangeRisk k : {RISK_LOW, RISK_MODERATE, RISK_HIGH}) {
      if (!keys.count({t, k}) && !keys.count({t, CHANGE_RISK_UNSPECIFIED})) {
        return bad("approval_rules: no rule for ", ChangeType_Name(t), " ",
                   ChangeRisk_Name(k));
      }
    }
  }
  const ChangeReviewRule& review = p.review_required();
  if (!ChangeRisk_IsValid(review.min_risk())) {
    return bad("review_required.min_risk has unknown value ",
               review.min_risk());
  }
  std::set<int> types;
  for (int i = 0; i < review.types_size(); ++i) {
    const int t = review.types(i);
    if (t != STANDARD && t != NORMAL && t != EMERGENCY) {
      return bad("review_required.types[", i,
                 "] must be STANDARD, NORMAL or EMERGENCY, got ", t);
    }
    if (!types.insert(t).second) {
      return bad("review_required.types[", i, "] ",
                 ChangeType_Name(static_cast<ChangeType>(t)), " appears twice");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ChangePolicy> LoadChangePolicyJson(absl::string_view json) {
  ChangePolicy p;
  google::protobuf::util::JsonParseOptions parse;
  parse.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(
      std::string(json.data(), json.size()), &p, parse);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("change policy: not a valid ChangePolicy JSON: ",
                     std::string(status.message())));
  }
  absl::Status s = ValidateChangePolicy(p);
  if (!s.ok()) return s;
  return p;
}

absl::StatusOr<ChangePolicy> LoadChangePolicyJsonOver(const ChangePolicy& base,
                                                      absl::string_view json) {
  const std::string text(json.data(), json.size());
  // The top-level keys the document sets (an object is required).
  google::protobuf::Struct keys;
  if (!google::protobuf::util::JsonStringToMessage(text, &keys).ok()) {
    return absl::InvalidArgumentError(
        "change policy: not a valid ChangePolicy JSON: not a JSON object");
  }
  ChangePolicy given;
  google::protobuf::util::JsonParseOptions parse;
  parse.ignore_unknown_fields = false;
  auto status =
      google::protobuf::util::JsonStringToMessage(text, &given, parse);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("change policy: not a valid ChangePolicy JSON: ",
                     std::string(status.message())));
  }
  const google::protobuf::Descriptor* d = ChangePolicy::descriptor();
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  for (const auto& [key, value] : keys.fields()) {
    for (int i = 0; i < d->field_count(); ++i) {
      const google::protobuf::FieldDescriptor* f = d->field(i);
      if ((f->json_name() == key || f->name() == key) &&
          std::find(fields.begin(), fields.end(), f) == fields.end()) {
        fields.push_back(f);  // Once, even if named both ways.
      }
    }
  }
  ChangePolicy out = base;
  out.GetReflection()->SwapFields(&out, &given, fields);
  absl::Status s = ValidateChangePolicy(out);
  if (!s.ok()) return s;
  return out;
}

}  // namespace slate
