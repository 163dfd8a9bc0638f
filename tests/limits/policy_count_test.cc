// Policy-count limit of a policies file (kMaxSlaPoliciesPerFile): at, just
// under and just over.
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/import/sla_policies.h"

namespace slate {
namespace {

std::string PolicyList(int n) {
  std::string json = "[";
  for (int i = 0; i < n; ++i) {
    absl::StrAppend(&json, i == 0 ? "" : ",", R"({"id":"p)", i,
                    R"(","calendarId":"24x7","appliesTo":{"recordTypes":["incident"]},)",
                    R"("targets":[{"priority":1,"resolution":"4h"}],)",
                    R"("resolution":{"start":{"events":["incident_opened"]},"stop":{"states":["resolved"]}}})");
  }
  return json + "]";
}

TEST(PolicyCount, AtUnderAndOverTheLimit) {
  auto under = LoadSlaPolicyListJson(PolicyList(kMaxSlaPoliciesPerFile - 1), 5);
  ASSERT_TRUE(under.ok()) << under.status();
  EXPECT_EQ(under->size(), static_cast<size_t>(kMaxSlaPoliciesPerFile - 1));
  auto at = LoadSlaPolicyListJson(PolicyList(kMaxSlaPoliciesPerFile), 5);
  ASSERT_TRUE(at.ok()) << at.status();
  auto over = LoadSlaPolicyListJson(PolicyList(kMaxSlaPoliciesPerFile + 1), 5);
  EXPECT_EQ(over.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(over.status().message().find("the limit is"),
            absl::string_view::npos)
      << over.status();
}

}  // namespace
}  // namespace slate
