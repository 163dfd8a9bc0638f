#include "lib/cluster/partitioning.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace slate::cluster {

uint64_t Fnv1a64(absl::string_view s) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

int HashPartition(absl::string_view tenant, int partitions) {
  return static_cast<int>(Fnv1a64(tenant) % static_cast<uint64_t>(partitions));
}

std::string CommandKey(absl::string_view tenant, absl::string_view command_id) {
  return absl::StrCat(tenant, ":", command_id);
}

ClusterNames::ClusterNames(absl::string_view prefix)
    : prefix_(prefix), subject_(absl::AsciiStrToLower(prefix)) {}

absl::Status ClusterNames::Validate(absl::string_view prefix) {
  bool ok = !prefix.empty() && prefix.size() <= 32;
  for (char c : prefix) {
    ok = ok && (absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
                c == '_' || c == '-');
  }
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("cluster prefix \"", prefix,
                   "\": must be 1..32 characters of [A-Za-z0-9_-]"));
}

std::string ClusterNames::Stream(int partition) const {
  return absl::StrCat(prefix_, "_P", partition);
}
std::string ClusterNames::Subjects(int partition) const {
  return absl::StrCat(subject_, ".p", partition, ".>");
}
std::string ClusterNames::BatchSubject(int partition) const {
  return absl::StrCat(subject_, ".p", partition, ".batch");
}
std::string ClusterNames::ExecSubject(int partition) const {
  return absl::StrCat(subject_, ".exec.p", partition);
}
std::string ClusterNames::ExecGroupSubject(int partition) const {
  return absl::StrCat(subject_, ".execgroup.p", partition);
}
std::string ClusterNames::QuerySubject(int partition) const {
  return absl::StrCat(subject_, ".query.p", partition);
}
std::string ClusterNames::MarkerSubject(int partition) const {
  return absl::StrCat(subject_, ".p", partition, ".marker");
}
std::string ClusterNames::ConfigBucket() const {
  return absl::StrCat(prefix_, "_CONFIG");
}
std::string ClusterNames::LeaseBucket() const {
  return absl::StrCat(prefix_, "_LEASES");
}
std::string ClusterNames::TenantBucket() const {
  return absl::StrCat(prefix_, "_TENANTS");
}
std::string ClusterNames::LeaseKey(int partition) {
  return absl::StrCat("p", partition);
}
std::string ClusterNames::NodeKey(absl::string_view node) {
  return absl::StrCat("n-", node);
}

}  // namespace slate::cluster
