#include "lib/domain/common.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace slate {

absl::Status ValidateAggregateId(absl::string_view kind, absl::string_view id) {
  if (id.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(kind, " id is empty"));
  }
  if (id.size() > kMaxAggregateIdBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(kind, " id \"", id.substr(0, 40), "...\" is ", id.size(),
                     " bytes; the limit is ", kMaxAggregateIdBytes));
  }
  for (size_t i = 0; i < id.size(); ++i) {
    char c = id[i];
    bool ok = absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' ||
              c == ':' || c == '@' || c == '+' || c == '=';
    if (!ok) {
      return absl::InvalidArgumentError(absl::StrCat(
          kind, " id \"", absl::CEscape(id), "\": character at offset ", i,
          " is not allowed (use A-Z a-z 0-9 and -_.:@+=)"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<absl::Time> ParseCommandTime(absl::string_view value,
                                            absl::string_view what,
                                            absl::string_view field) {
  if (value.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": field ", field, " is required"));
  }
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, value, &t, &err)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": field ", field, " \"", value,
                     "\" is not an RFC 3339 time: ", err));
  }
  if (t < absl::UnixEpoch()) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": field ", field, " \"", value, "\" is before 1970"));
  }
  return t;
}

absl::Status TransitionNotAllowed(absl::string_view kind, absl::string_view id,
                                  absl::string_view command,
                                  absl::string_view from,
                                  absl::string_view to) {
  return absl::FailedPreconditionError(absl::StrCat(kind, " ", id, ": cannot ",
                                                    command, ": ", from, " -> ",
                                                    to, " is not allowed"));
}

std::string FormatMicros(int64_t us) {
  if (us == 0) return "-";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixMicros(us),
                          absl::UTCTimeZone());
}

}  // namespace slate
