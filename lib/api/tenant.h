// Tenants: every record (incident, problem, change, service request) belongs
// to one tenant, a customer of the provider that runs Slate. A command names
// its tenant in Command.tenant_id (proto/commands.proto; empty = "default").
// Tenants share one log; a tenant's streams carry its name:
//
//   tenant "default":  incident/INC1             (today's names, unchanged)
//   tenant "acme":     tenant/acme/incident/INC1
//
//   std::string s = slate::TenantStream("acme", "incident/INC1");
//   slate::TenantStreamParts p = slate::SplitTenantStream(s);
//   // p.tenant == "acme", p.local == "incident/INC1"
//
// Configuration (services, calendars, SLA policies, the priority matrix,
// catalog items) is per tenant, and the default tenant's is shared: a tenant
// that has not defined a service, calendar, policy, matrix or catalog item
// of some id uses the default tenant's, and defining its own overrides it
// for that tenant only. Records are never shared: no command or query of one
// tenant reads, changes, links to or counts another tenant's records.
#ifndef SLATE_LIB_API_TENANT_H_
#define SLATE_LIB_API_TENANT_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace slate {

// The tenant of commands and queries that name none; its configuration is
// shared with every tenant.
inline constexpr absl::string_view kDefaultTenant = "default";

// Streams of tenants other than the default start with this.
inline constexpr absl::string_view kTenantStreamPrefix = "tenant/";

// Longest tenant id, bytes.
inline constexpr size_t kMaxTenantIdBytes = 32;

// A tenant id is 1 to 32 bytes of [a-z0-9_-], starting with a letter or a
// digit. kInvalidArgument naming `field` (e.g. "command c1: field tenantId";
// empty: the message starts with what is wrong) otherwise.
absl::Status ValidateTenantId(absl::string_view id,
                              absl::string_view field = "tenant");

// "" and "default" -> "default"; anything else as given (not validated).
absl::string_view TenantOrDefault(absl::string_view tenant);

// The prefix of `tenant`'s streams: "" for the default tenant,
// "tenant/<tenant>/" otherwise. `tenant` must be valid.
std::string TenantStreamPrefix(absl::string_view tenant);

// TenantStreamPrefix(tenant) + local.
std::string TenantStream(absl::string_view tenant, absl::string_view local);

struct TenantStreamParts {
  absl::string_view tenant;  // "default" for an unprefixed stream.
  absl::string_view local;   // The stream's name within its tenant.
};

// Splits a stream name into its tenant and its local name. A stream that
// does not start with "tenant/<id>/" belongs to the default tenant. The
// views point into `stream` (and into kDefaultTenant).
TenantStreamParts SplitTenantStream(absl::string_view stream);

// The tenant of `stream` (SplitTenantStream(stream).tenant).
absl::string_view StreamTenant(absl::string_view stream);

// Whether `stream` belongs to `tenant` ("" = default).
bool StreamInTenant(absl::string_view stream, absl::string_view tenant);

}  // namespace slate

#endif  // SLATE_LIB_API_TENANT_H_
