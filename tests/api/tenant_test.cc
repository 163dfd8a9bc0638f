// Tenant ids and tenant stream names (lib/api/tenant.h).
#include "lib/api/tenant.h"

#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace slate {
namespace {

TEST(TenantTest, ValidIds) {
  for (const char* id :
       {"acme", "a", "0", "acme-eu_2", "abcdefghijklmnopqrstuvwxyz012345"}) {
    EXPECT_TRUE(ValidateTenantId(id).ok()) << id;
  }
}

TEST(TenantTest, InvalidIdsNameTheField) {
  for (const char* id : {"", "Acme", "a/b", "a b", "-a", "_a", "a.b", "ü",
                         "abcdefghijklmnopqrstuvwxyz0123456"}) {
    absl::Status s = ValidateTenantId(id, "command c1: field tenantId");
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << id;
    EXPECT_TRUE(absl::StartsWith(s.message(), "command c1: field tenantId: "))
        << s.message();
  }
}

TEST(TenantTest, DefaultTenantKeepsTodaysNames) {
  EXPECT_EQ(TenantStream("", "incident/INC1"), "incident/INC1");
  EXPECT_EQ(TenantStream("default", "incident/INC1"), "incident/INC1");
  EXPECT_EQ(TenantStreamPrefix("default"), "");
  EXPECT_EQ(TenantOrDefault(""), "default");
  EXPECT_EQ(TenantOrDefault("acme"), "acme");
}

TEST(TenantTest, OtherTenantsArePrefixed) {
  EXPECT_EQ(TenantStream("acme", "incident/INC1"),
            "tenant/acme/incident/INC1");
  EXPECT_EQ(TenantStreamPrefix("acme"), "tenant/acme/");
}

TEST(TenantTest, SplitRoundTrips) {
  for (const char* tenant : {"default", "acme", "b-2"}) {
    for (const char* local :
         {"incident/INC1", "service/email", "priority-matrix",
          "sla/incident/INC1", "tenant/x"}) {
      const std::string s = TenantStream(tenant, local);
      TenantStreamParts p = SplitTenantStream(s);
      if (std::string(tenant) == "default" &&
          absl::StartsWith(local, "tenant/")) {
        // An unprefixed stream named like a tenant's is read as one: the
        // executor never writes such a default-tenant stream.
        continue;
      }
      EXPECT_EQ(p.tenant, tenant) << s;
      EXPECT_EQ(p.local, local) << s;
      EXPECT_TRUE(StreamInTenant(s, tenant)) << s;
      EXPECT_FALSE(StreamInTenant(s, "other")) << s;
    }
  }
}

TEST(TenantTest, MalformedPrefixIsDefault) {
  EXPECT_EQ(SplitTenantStream("tenant/").tenant, "default");
  EXPECT_EQ(SplitTenantStream("tenant//incident/X").tenant, "default");
  EXPECT_EQ(SplitTenantStream("tenantx/incident").tenant, "default");
  EXPECT_EQ(StreamTenant("incident/INC1"), "default");
  EXPECT_TRUE(StreamInTenant("incident/INC1", ""));
}

}  // namespace
}  // namespace slate
