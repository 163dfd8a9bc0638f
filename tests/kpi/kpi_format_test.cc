// The KPI projection's hand-written encodings against the library ones they
// replace: day texts against StrFormat, cell keys against their parser.
#include "lib/projection/kpi_format.h"

#include <string>

#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "gtest/gtest.h"

namespace slate {
namespace {

TEST(KpiFormatTest, DayTextIsWhatStrFormatPrints) {
  for (int64_t y : {0, 1, 9, 10, 99, 100, 999, 1000, 1970, 2026, 9999, 10000,
                    12345, -1, -10, -999, -1000}) {
    for (int m : {1, 9, 10, 12}) {
      for (int d : {1, 9, 10, 28}) {
        const absl::CivilDay day(y, m, d);
        EXPECT_EQ(kpi::DayText(day),
                  absl::StrFormat("%04d-%02d-%02d", day.year(), day.month(),
                                  day.day()));
      }
    }
  }
}

TEST(KpiFormatTest, CellKeysParseBack) {
  KpiDims dims;
  dims.tenant = "acme";
  dims.service = "email";
  dims.priority = 2;
  dims.group = "net";
  dims.category = std::string(200, 'c');
  dims.contact_type = "phone";
  const absl::CivilDay day(2026, 11, 2);
  const std::string key = kpi::CellKey(day, dims);
  EXPECT_EQ(key.substr(0, 13), "c/2026-11-02/");
  EXPECT_EQ(key, kpi::CellKey(day, KpiDimsView{dims.tenant, dims.service,
                                                dims.priority, dims.group,
                                                dims.category,
                                                dims.contact_type}));
  absl::CivilDay parsed_day;
  KpiDims parsed;
  ASSERT_TRUE(kpi::ParseCellKey(key, &parsed_day, &parsed));
  EXPECT_EQ(parsed_day, day);
  EXPECT_EQ(parsed, dims);
}

}  // namespace
}  // namespace slate
