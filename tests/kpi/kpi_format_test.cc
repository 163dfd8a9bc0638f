// The KPI projection's hand-written encodings against the library ones they
// replace: day texts against StrFormat, cell keys against their parser,
// KpiMeasures::EncodeTo against protobuf's deterministic serialization.
#include "lib/projection/kpi_format.h"

#include <random>
#include <string>

#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "gtest/gtest.h"
#include "lib/projection/kpi_rollup.h"
#include "lib/projection/views.h"

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

// Random cells (every field set or not, negative deltas, sketches with
// several buckets, costs with an empty currency) encode to the bytes of
// SerializeDeterministic(ToProto()).
TEST(KpiFormatTest, CellEncodingIsTheDeterministicProtoBytes) {
  std::mt19937_64 rng(7);
  auto value = [&rng]() -> int64_t {
    switch (rng() % 5) {
      case 0:
        return 0;
      case 1:
        return -static_cast<int64_t>(rng() % 1000);
      case 2:
        return static_cast<int64_t>(rng() >> 1);
      default:
        return static_cast<int64_t>(rng() % 300);
    }
  };
  std::string encoded;
  for (int round = 0; round < 500; ++round) {
    KpiMeasures m;
#define SLATE_SET(name) m.name = value();
    SLATE_KPI_COUNTERS(SLATE_SET)
#undef SLATE_SET
    if (rng() % 2 == 0) {
      for (int64_t& a : m.aging_delta) a = value();
    }
#define SLATE_SET(name)                                      \
  for (int i = static_cast<int>(rng() % 4); i > 0; --i) {    \
    m.name.Add(static_cast<int64_t>(rng() % 10'000'000'000), \
               rng() % 3 == 0 ? -1 : 1);                     \
  }
    SLATE_KPI_SKETCHES(SLATE_SET)
#undef SLATE_SET
    for (int i = static_cast<int>(rng() % 3); i > 0; --i) {
      const int64_t cents = value();
      if (cents != 0) m.request_cost_cents[rng() % 2 ? "EUR" : ""] = cents;
    }
    m.EncodeTo(&encoded);
    ASSERT_EQ(encoded, SerializeDeterministic(m.ToProto())) << round;
  }
  KpiMeasures empty;
  empty.EncodeTo(&encoded);
  EXPECT_EQ(encoded, "");
}

}  // namespace
}  // namespace slate
