// The priority matrix: the default is exactly the issue's table; JSON loading
// and validation; change policy loading.
#include "lib/domain/priority_matrix.h"

#include <string>

#include "gtest/gtest.h"
#include "lib/domain/policy.h"

namespace slate {
namespace {

TEST(PriorityMatrixTest, DefaultIsTheItilTable) {
  const PriorityMatrix m = DefaultPriorityMatrix();
  ASSERT_TRUE(ValidatePriorityMatrix(m).ok());
  // I1U1=1, I1U2=I2U1=2, I1U3=I2U2=I3U1=3, I2U3=I3U2=4, I3U3=5.
  const int expected[3][3] = {{1, 2, 3}, {2, 3, 4}, {3, 4, 5}};
  for (int i = 1; i <= 3; ++i) {
    for (int u = 1; u <= 3; ++u) {
      EXPECT_EQ(*ComputePriority(m, i, u), expected[i - 1][u - 1])
          << "I" << i << "U" << u;
    }
  }
  EXPECT_EQ(PriorityName(m, 1), "Critical");
  EXPECT_EQ(PriorityName(m, 2), "High");
  EXPECT_EQ(PriorityName(m, 3), "Moderate");
  EXPECT_EQ(PriorityName(m, 4), "Low");
  EXPECT_EQ(PriorityName(m, 5), "Planning");
}

TEST(PriorityMatrixTest, BadImpactOrUrgencyIsInvalidArgument) {
  const PriorityMatrix m = DefaultPriorityMatrix();
  for (auto [i, u] : {std::pair{0, 1}, {4, 1}, {1, 0}, {1, 4}, {-1, -1}}) {
    auto p = ComputePriority(m, i, u, "incident INC1");
    EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(p.status().message().find("incident INC1"), std::string::npos);
  }
}

TEST(PriorityMatrixTest, LoadsFromJson) {
  auto m = LoadPriorityMatrixJson(R"({"impactLevels": 2, "urgencyLevels": 1,
      "levelNames": ["Urgent", "Later"],
      "cells": [{"impact": 1, "urgency": 1, "priority": 1},
                {"impact": 2, "urgency": 1, "priority": 2}]})");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(*ComputePriority(*m, 2, 1), 2);
  EXPECT_EQ(ComputePriority(*m, 1, 2).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(PriorityMatrixTest, RejectsBadMatrices) {
  const char* bad[] = {
      "not json",
      R"({"impactLevels": 1, "urgencyLevels": 1, "levelNames": ["a"], "cells": [{"impact": 1, "urgency": 1, "priority": 1}], "extra": 1})",
      // Missing cell.
      R"({"impactLevels": 2, "urgencyLevels": 1, "levelNames": ["a"], "cells": [{"impact": 1, "urgency": 1, "priority": 1}]})",
      // Twice.
      R"({"impactLevels": 1, "urgencyLevels": 1, "levelNames": ["a"], "cells": [{"impact": 1, "urgency": 1, "priority": 1}, {"impact": 1, "urgency": 1, "priority": 1}]})",
      // Priority beyond the levels.
      R"({"impactLevels": 1, "urgencyLevels": 1, "levelNames": ["a"], "cells": [{"impact": 1, "urgency": 1, "priority": 2}]})",
      // Level used by no cell.
      R"({"impactLevels": 1, "urgencyLevels": 1, "levelNames": ["a", "b"], "cells": [{"impact": 1, "urgency": 1, "priority": 1}]})",
      // No levels.
      R"({"impactLevels": 1, "urgencyLevels": 1, "cells": [{"impact": 1, "urgency": 1, "priority": 1}]})",
      R"({"impactLevels": 0, "urgencyLevels": 1, "levelNames": ["a"]})",
  };
  for (const char* json : bad) {
    EXPECT_EQ(LoadPriorityMatrixJson(json).status().code(),
              absl::StatusCode::kInvalidArgument)
        << json;
  }
}

TEST(ChangePolicyTest, DefaultIsValidAndJsonLoads) {
  EXPECT_TRUE(ValidateChangePolicy(DefaultChangePolicy()).ok());
  auto p = LoadChangePolicyJson(R"({"impactPoints": [1, 1, 1],
      "moderateThreshold": 1, "highThreshold": 2,
      "approvalRules": [{"type": "NORMAL", "quorum": 1},
                        {"type": "EMERGENCY", "quorum": 1}]})");
  ASSERT_TRUE(p.ok()) << p.status();
  // No rule for normal changes of every risk: invalid.
  EXPECT_EQ(LoadChangePolicyJson(R"({"impactPoints": [1, 1, 1],
      "moderateThreshold": 1, "highThreshold": 2,
      "approvalRules": [{"type": "NORMAL", "risk": "RISK_LOW", "quorum": 1},
                        {"type": "EMERGENCY", "quorum": 1}]})")
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LoadChangePolicyJson(R"({"impactPoints": [1, 1]})").status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace slate
