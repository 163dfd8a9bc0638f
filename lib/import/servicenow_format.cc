#include "lib/import/servicenow_format.h"

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/stubs/common.h"

namespace slate {
namespace {

// Reads 1..max_digits decimal digits at text[*i]; advances *i.
bool Digits(absl::string_view text, size_t* i, int max_digits, int* out) {
  int v = 0;
  int n = 0;
  while (*i < text.size() && text[*i] >= '0' && text[*i] <= '9') {
    if (++n > max_digits) return false;
    v = v * 10 + (text[*i] - '0');
    ++*i;
  }
  *out = v;
  return n > 0;
}

bool Expect(absl::string_view text, size_t* i, char c) {
  if (*i >= text.size() || text[*i] != c) return false;
  ++*i;
  return true;
}

uint64_t Fnv1a(absl::string_view bytes, uint64_t h) {
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::string Opt(const std::string& v) { return v == "?" ? std::string() : v; }

}  // namespace

absl::StatusOr<absl::Time> ParseServiceNowTime(absl::string_view text,
                                               absl::TimeZone tz) {
  size_t i = 0;
  int d, m, y, hh, mm;
  const bool shape = Digits(text, &i, 2, &d) && Expect(text, &i, '/') &&
                     Digits(text, &i, 2, &m) && Expect(text, &i, '/') &&
                     Digits(text, &i, 4, &y) && Expect(text, &i, ' ') &&
                     Digits(text, &i, 2, &hh) && Expect(text, &i, ':') &&
                     Digits(text, &i, 2, &mm) && i == text.size();
  if (!shape) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", text, "\" is not D/M/YYYY HH:MM"));
  }
  if (y < 1970 || m < 1 || m > 12 || d < 1 || hh > 23 || mm > 59) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", text, "\" is out of range"));
  }
  const absl::CivilDay day(y, m, d);
  if (day.day() != d || day.month() != m) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", text, "\" is not a calendar date"));
  }
  return absl::FromCivil(absl::CivilMinute(y, m, d, hh, mm), tz);
}

absl::StatusOr<int> ParseServiceNowLevel(absl::string_view text) {
  size_t i = 0;
  int v = 0;
  if (!Digits(text, &i, 2, &v) || v < 1 ||
      (i != text.size() && text.substr(i, 3) != " - ")) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", text, "\" is not a level like \"2 - Medium\""));
  }
  return v;
}

absl::StatusOr<ServiceNowState> ParseServiceNowState(absl::string_view text) {
  if (text == "New") return ServiceNowState::kNew;
  if (text == "Active") return ServiceNowState::kActive;
  if (text == "Awaiting User Info") return ServiceNowState::kAwaitingUserInfo;
  if (text == "Awaiting Vendor") return ServiceNowState::kAwaitingVendor;
  if (text == "Awaiting Problem") return ServiceNowState::kAwaitingProblem;
  if (text == "Awaiting Evidence") return ServiceNowState::kAwaitingEvidence;
  if (text == "Resolved") return ServiceNowState::kResolved;
  if (text == "Closed") return ServiceNowState::kClosed;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown incident_state \"", text, "\""));
}

const char* const ServiceNowColumns::kNames[kNumCols] = {
    "number",
    "incident_state",
    "active",
    "reassignment_count",
    "reopen_count",
    "sys_mod_count",
    "made_sla",
    "caller_id",
    "opened_by",
    "opened_at",
    "sys_updated_by",
    "sys_updated_at",
    "contact_type",
    "location",
    "category",
    "subcategory",
    "u_symptom",
    "cmdb_ci",
    "impact",
    "urgency",
    "priority",
    "assignment_group",
    "assigned_to",
    "knowledge",
    "u_priority_confirmation",
    "notify",
    "problem_id",
    "rfc",
    "vendor",
    "caused_by",
    "closed_code",
    "resolved_by",
};

absl::StatusOr<ServiceNowColumns> ServiceNowColumns::FromHeader(
    const std::vector<std::string>& header) {
  ServiceNowColumns c;
  c.header_size_ = header.size();
  std::vector<std::string> missing;
  for (int k = 0; k < kNumCols; ++k) {
    bool found = false;
    for (size_t i = 0; i < header.size(); ++i) {
      if (header[i] == kNames[k]) {
        c.index_[k] = i;
        found = true;
        break;
      }
    }
    if (!found) missing.push_back(kNames[k]);
  }
  if (!missing.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("header: missing column(s) ", absl::StrJoin(missing, ", "),
                     " (not a ServiceNow incident export?)"));
  }
  return c;
}

bool ServiceNowColumns::Parse(const std::vector<std::string>& f,
                              absl::TimeZone tz, ServiceNowRow* r,
                              RowError* error) const {
  r->number.clear();
  if (f.size() != header_size_) {
    if (!f.empty() && index_[kNumber] < f.size())
      r->number = f[index_[kNumber]];
    *error = {"wrong number of fields",
              absl::StrCat(f.size(), " fields; the header has ", header_size_)};
    return false;
  }
  auto at = [&](Col c) -> const std::string& { return f[index_[c]]; };
  uint64_t h = 0xcbf29ce484222325ULL;
  for (const std::string& v : f) {
    // "<size>:" then the bytes, without a string per field.
    char size[absl::numbers_internal::kFastToBufferSize + 1];
    char* end = absl::numbers_internal::FastIntToBuffer(
        static_cast<uint64_t>(v.size()), size);
    *end++ = ':';
    h = Fnv1a(absl::string_view(size, static_cast<size_t>(end - size)), h);
    h = Fnv1a(v, h);
  }
  r->content_hash = h;
  r->number = at(kNumber);
  for (size_t i = 0; i < f.size(); ++i) {
    // protobuf's own check: the one Append applies to every string field.
    if (!google::protobuf::internal::IsStructurallyValidUTF8(f[i])) {
      if (!google::protobuf::internal::IsStructurallyValidUTF8(r->number)) {
        r->number = absl::CEscape(r->number);
      }
      *error = {"invalid UTF-8",
                absl::StrCat("field ", i + 1, " is not valid UTF-8")};
      return false;
    }
  }

  auto fail = [&](const char* reason, std::string detail) {
    *error = {reason, std::move(detail)};
    return false;
  };
  auto boolean = [&](Col c, bool* out) {
    const std::string& v = at(c);
    if (v == "true") {
      *out = true;
    } else if (v == "false") {
      *out = false;
    } else {
      return fail("bad field",
                  absl::StrCat(kNames[c], " \"", v, "\" is not true or false"));
    }
    return true;
  };
  auto count = [&](Col c, int* out) {
    if (!absl::SimpleAtoi(at(c), out) || *out < 0) {
      return fail("bad field",
                  absl::StrCat(kNames[c], " \"", at(c), "\" is not a count"));
    }
    return true;
  };
  auto level = [&](Col c, int* out) {
    absl::StatusOr<int> v = ParseServiceNowLevel(at(c));
    if (!v.ok()) {
      return fail("bad field",
                  absl::StrCat(kNames[c], ": ", v.status().message()));
    }
    *out = *v;
    return true;
  };

  absl::StatusOr<ServiceNowState> state =
      ParseServiceNowState(at(kIncidentState));
  if (!state.ok()) {
    return fail("unknown state",
                absl::StrCat("incident_state \"", at(kIncidentState), "\""));
  }
  r->state = *state;
  r->state_text = at(kIncidentState);
  absl::StatusOr<absl::Time> updated =
      ParseServiceNowTime(at(kSysUpdatedAt), tz);
  if (!updated.ok()) {
    return fail("bad timestamp",
                absl::StrCat("sys_updated_at ", updated.status().message()));
  }
  r->updated_at = *updated;
  r->opened_at = absl::InfinitePast();
  if (at(kOpenedAt) != "?") {
    absl::StatusOr<absl::Time> opened = ParseServiceNowTime(at(kOpenedAt), tz);
    if (!opened.ok()) {
      return fail("bad timestamp",
                  absl::StrCat("opened_at ", opened.status().message()));
    }
    r->opened_at = *opened;
  }
  if (!boolean(kActive, &r->active) || !boolean(kMadeSla, &r->made_sla) ||
      !boolean(kKnowledge, &r->knowledge) ||
      !boolean(kPriorityConfirmation, &r->priority_confirmation) ||
      !count(kReassignmentCount, &r->reassignment_count) ||
      !count(kReopenCount, &r->reopen_count) ||
      !count(kSysModCount, &r->sys_mod_count) || !level(kImpact, &r->impact) ||
      !level(kUrgency, &r->urgency) || !level(kPriority, &r->priority)) {
    return false;
  }
  r->priority_text = at(kPriority);
  r->caller = Opt(at(kCallerId));
  r->opened_by = Opt(at(kOpenedBy));
  r->updated_by = Opt(at(kSysUpdatedBy));
  r->contact_type = Opt(at(kContactType));
  r->location = Opt(at(kLocation));
  r->category = Opt(at(kCategory));
  r->subcategory = Opt(at(kSubcategory));
  r->symptom = Opt(at(kSymptom));
  r->configuration_item = Opt(at(kCmdbCi));
  r->assignment_group = Opt(at(kAssignmentGroup));
  r->assigned_to = Opt(at(kAssignedTo));
  r->notify = Opt(at(kNotify));
  r->problem_id = Opt(at(kProblemId));
  r->rfc = Opt(at(kRfc));
  r->vendor = Opt(at(kVendor));
  r->caused_by = Opt(at(kCausedBy));
  r->closed_code = Opt(at(kClosedCode));
  r->resolved_by = Opt(at(kResolvedBy));
  return true;
}

}  // namespace slate
