// Service catalog decide/evolve.
#include "lib/domain/service.h"

#include <string>

#include "gtest/gtest.h"
#include "tests/domain/domain_test_util.h"

namespace slate {
namespace {

using ::slate::testing::Cmd;
using ::slate::testing::Fold;
using ::slate::testing::T;

absl::Status Try(const ServiceState& s, const std::string& json) {
  return DecideService(s, Cmd(json), T(0)).status();
}
void Do(ServiceState* s, const std::string& json) {
  auto events = DecideService(*s, Cmd(json), T(1));
  ASSERT_TRUE(events.ok()) << json << ": " << events.status();
  Fold(*events, T(1), s, EvolveService);
}

constexpr char kDefine[] = R"({"defineService": {"serviceId": "email",
    "name": "E-mail", "owner": "it-ops", "supportContacts": ["desk@x"],
    "supportCalendarId": "office", "pricingTier": "gold",
    "unitCostCents": 1250, "currency": "EUR",
    "availabilityTargetPercent": 99.9, "slaPolicyIds": ["p1"],
    "configurationItems": ["mx1", "mx2"]}})";

TEST(ServiceTest, DefineRecordsTheWholeCatalogEntry) {
  ServiceState s = NewServiceState("email");
  Do(&s, kDefine);
  EXPECT_TRUE(s.defined());
  EXPECT_STREQ(ServiceStatusName(s), "Active");
  EXPECT_EQ(s.spec().name(), "E-mail");
  EXPECT_EQ(s.spec().owner(), "it-ops");
  EXPECT_EQ(s.spec().support_contacts(0), "desk@x");
  EXPECT_EQ(s.spec().support_calendar_id(), "office");
  EXPECT_EQ(s.spec().pricing_tier(), "gold");
  EXPECT_EQ(s.spec().unit_cost_cents(), 1250);
  EXPECT_DOUBLE_EQ(s.spec().availability_target_percent(), 99.9);
  EXPECT_EQ(s.spec().sla_policy_ids(0), "p1");
  EXPECT_EQ(s.spec().configuration_items_size(), 2);
  EXPECT_EQ(Try(s, kDefine).code(), absl::StatusCode::kAlreadyExists);
}

TEST(ServiceTest, UnknownServiceIsNotFound) {
  ServiceState none = NewServiceState("email");
  for (
      const char* json :
      {R"({"updateService": {"serviceId": "email", "name": "x"}})",
       R"({"retireService": {"serviceId": "email"}})",
       R"({"removeServiceBlackout": {"serviceId": "email", "windowId": "w"}})",
       R"({"addServiceBlackout": {"serviceId": "email", "windowId": "w", "start": "2026-11-01T00:00:00Z", "end": "2026-11-02T00:00:00Z"}})"}) {
    EXPECT_EQ(Try(none, json).code(), absl::StatusCode::kNotFound) << json;
  }
}

TEST(ServiceTest, DefinitionIsValidated) {
  ServiceState none = NewServiceState("email");
  EXPECT_EQ(Try(none, R"({"defineService": {"serviceId": "email"}})").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      Try(none,
          R"({"defineService": {"serviceId": "email", "name": "e", "availabilityTargetPercent": 101}})")
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      Try(none,
          R"({"defineService": {"serviceId": "email", "name": "e", "unitCostCents": -1}})")
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      Try(none,
          R"({"defineService": {"serviceId": "email", "name": "e", "configurationItems": ["a", "a"]}})")
          .code(),
      absl::StatusCode::kInvalidArgument);
}

TEST(ServiceTest, UpdateReplacesBlackoutsAndRetire) {
  ServiceState s = NewServiceState("email");
  Do(&s, kDefine);
  Do(&s, R"({"updateService": {"serviceId": "email", "name": "Mail"}})");
  EXPECT_EQ(s.spec().name(), "Mail");
  EXPECT_EQ(s.spec().owner(), "");  // An update replaces every field.
  const std::string add =
      R"({"addServiceBlackout": {"serviceId": "email", "windowId": "xmas", "start": "2026-12-24T00:00:00Z", "end": "2026-12-27T00:00:00Z"}})";
  Do(&s, add);
  ASSERT_EQ(s.blackout_windows_size(), 1);
  EXPECT_EQ(Try(s, add).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(
      Try(s,
          R"({"addServiceBlackout": {"serviceId": "email", "windowId": "w2", "start": "2026-12-24T00:00:00Z", "end": "2026-12-24T00:00:00Z"}})")
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      Try(s,
          R"({"removeServiceBlackout": {"serviceId": "email", "windowId": "nope"}})")
          .code(),
      absl::StatusCode::kNotFound);
  Do(&s,
     R"({"removeServiceBlackout": {"serviceId": "email", "windowId": "xmas"}})");
  EXPECT_EQ(s.blackout_windows_size(), 0);
  Do(&s, R"({"retireService": {"serviceId": "email"}})");
  EXPECT_STREQ(ServiceStatusName(s), "Retired");
  for (const char* json :
       {R"({"updateService": {"serviceId": "email", "name": "x"}})",
        R"({"retireService": {"serviceId": "email"}})", add.c_str()}) {
    absl::Status st = Try(s, json);
    EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition) << json;
    EXPECT_NE(st.message().find("Retired -> Retired"), std::string::npos) << st;
  }
}

}  // namespace
}  // namespace slate
