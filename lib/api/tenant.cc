#include "lib/api/tenant.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace slate {

namespace {

bool TenantChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

}  // namespace

absl::Status ValidateTenantId(absl::string_view id, absl::string_view field) {
  const std::string where = field.empty() ? "" : absl::StrCat(field, ": ");
  if (id.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(where, "tenant id is empty"));
  }
  if (id.size() > kMaxTenantIdBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, "tenant id is ", id.size(), " bytes; at most ",
                     kMaxTenantIdBytes));
  }
  for (char c : id) {
    if (!TenantChar(c)) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, "tenant id \"", id,
          "\" may hold only a-z, 0-9, '_' and '-'"));
    }
  }
  if (id[0] == '_' || id[0] == '-') {
    return absl::InvalidArgumentError(
        absl::StrCat(where, "tenant id \"", id,
                     "\" must start with a letter or a digit"));
  }
  return absl::OkStatus();
}

absl::string_view TenantOrDefault(absl::string_view tenant) {
  return tenant.empty() ? kDefaultTenant : tenant;
}

std::string TenantStreamPrefix(absl::string_view tenant) {
  tenant = TenantOrDefault(tenant);
  if (tenant == kDefaultTenant) return "";
  return absl::StrCat(kTenantStreamPrefix, tenant, "/");
}

std::string TenantStream(absl::string_view tenant, absl::string_view local) {
  return absl::StrCat(TenantStreamPrefix(tenant), local);
}

TenantStreamParts SplitTenantStream(absl::string_view stream) {
  if (absl::StartsWith(stream, kTenantStreamPrefix)) {
    absl::string_view rest = stream.substr(kTenantStreamPrefix.size());
    size_t slash = rest.find('/');
    if (slash != absl::string_view::npos && slash > 0) {
      return {rest.substr(0, slash), rest.substr(slash + 1)};
    }
  }
  return {kDefaultTenant, stream};
}

absl::string_view StreamTenant(absl::string_view stream) {
  return SplitTenantStream(stream).tenant;
}

bool StreamInTenant(absl::string_view stream, absl::string_view tenant) {
  return StreamTenant(stream) == TenantOrDefault(tenant);
}

}  // namespace slate
