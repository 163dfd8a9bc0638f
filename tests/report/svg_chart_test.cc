// SvgChart: escaping, number formatting, and a property test of both chart
// kinds against obvious oracles (which series/bars must be drawn; every
// coordinate finite and inside the viewBox) over random data with gaps,
// NaN, infinities and negatives.
#include "lib/report/svg_chart.h"

#include <cmath>
#include <cstdlib>
#include <limits>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/report/svg_checks.h"

namespace slate::report {
namespace {

using ::slate::testing::Count;
using ::slate::testing::NonFiniteTokens;
using ::slate::testing::PathData;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

TEST(HtmlEscapeTest, EscapesMarkupAndQuotes) {
  EXPECT_EQ(HtmlEscape("a<b>&\"c\"'d'"),
            "a&lt;b&gt;&amp;&quot;c&quot;&#39;d&#39;");
  EXPECT_EQ(HtmlEscape("plain"), "plain");
  EXPECT_EQ(HtmlEscape(""), "");
}

TEST(FormatNumberTest, NeverPrintsNonFinite) {
  EXPECT_EQ(FormatNumber(std::nan(""), 2), "0");
  EXPECT_EQ(FormatNumber(std::numeric_limits<double>::infinity(), 1), "0");
  EXPECT_EQ(FormatNumber(-std::numeric_limits<double>::infinity(), 0), "0");
  EXPECT_EQ(FormatNumber(1.25, 1), "1.2");  // Round half to even in printf.
  EXPECT_EQ(FormatNumber(-0.01, 1), "0.0");
  EXPECT_EQ(FormatNumber(42, 0), "42");
}

TEST(LineChartTest, GapStartsANewSubpath) {
  LineChart c;
  c.x_labels = {"a", "b", "c", "d"};
  c.series = {{"s", "#000", false, {1.0, std::nullopt, 3.0, 4.0}}};
  const std::string svg = RenderLineChart(c);
  const auto d = PathData(svg, "series");
  ASSERT_EQ(d.size(), 1u) << svg;
  EXPECT_EQ(Count(d[0], "M"), 2) << d[0];
  EXPECT_EQ(Count(d[0], "L"), 1) << d[0];
}

TEST(LineChartTest, NoValuesSaysNoDataAndDrawsNoPath) {
  LineChart c;
  c.x_labels = {"a", "b"};
  c.x_axis_label = "week";
  c.series = {{"s",
               "#000",
               false,
               {std::nullopt, std::numeric_limits<double>::quiet_NaN()}}};
  const std::string svg = RenderLineChart(c);
  EXPECT_THAT(svg, HasSubstr("No data for this period"));
  EXPECT_THAT(PathData(svg), IsEmpty());
  EXPECT_THAT(svg, HasSubstr(">week</text>"));  // Axis labels stay.
  EXPECT_THAT(NonFiniteTokens(svg), IsEmpty());
}

TEST(BarChartTest, EscapesLabelsInTextAndTitles) {
  BarChart c;
  c.labels = {"R&D <ops>"};
  c.series = {{"n \"x\"", "#000", false, {2.0}}};
  c.category_axis_label = "<group>";
  const std::string svg = RenderBarChart(c);
  EXPECT_THAT(svg, Not(HasSubstr("<ops>")));
  EXPECT_THAT(svg, Not(HasSubstr("<group>")));
  EXPECT_THAT(svg, HasSubstr("R&amp;D &lt;ops&gt;"));
  EXPECT_THAT(svg, HasSubstr("n &quot;x&quot;"));
  EXPECT_EQ(PathData(svg, "bar").size(), 1u);
}

// Every number in a path's d attribute.
std::vector<double> Numbers(const std::string& d) {
  std::vector<double> out;
  const char* p = d.c_str();
  while (*p != '\0') {
    if (std::isdigit(static_cast<unsigned char>(*p)) || *p == '-') {
      char* end = nullptr;
      out.push_back(std::strtod(p, &end));
      if (end == p) ++end;
      p = end;
    } else {
      ++p;
    }
  }
  return out;
}

std::optional<double> RandomValue(std::mt19937_64& rng) {
  switch (rng() % 10) {
    case 0:
      return std::nullopt;
    case 1:
      return std::numeric_limits<double>::quiet_NaN();
    case 2:
      return (rng() % 2) ? std::numeric_limits<double>::infinity()
                         : -std::numeric_limits<double>::infinity();
    case 3:
      return -static_cast<double>(rng() % 100);
    case 4:
      return 0.0;
    case 5:
      return static_cast<double>(rng() % 1000000000) / 7.0;
    default:
      return static_cast<double>(rng() % 100) / 3.0;
  }
}

bool Finite(const std::optional<double>& v) {
  return v.has_value() && std::isfinite(*v);
}

// Every path's d (a string starting with M): its numbers are inside the box
// [0, w] x [0, h].
void ExpectInside(const std::string& svg, int w, int h) {
  for (const std::string& d : PathData(svg)) {
    ASSERT_FALSE(d.empty());
    EXPECT_EQ(d[0], 'M') << d;
    const std::vector<double> nums = Numbers(d);
    ASSERT_FALSE(nums.empty()) << d;
    for (double v : nums) {
      EXPECT_GE(v, 0) << d;
      EXPECT_LE(v, std::max(w, h)) << d;
    }
  }
}

TEST(SvgChartPropertyTest, RandomChartsMatchOracle) {
  const uint64_t seed = 20261127;
  std::printf("SvgChartPropertyTest seed %llu\n",
              static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  for (int iter = 0; iter < 400; ++iter) {
    SCOPED_TRACE(absl::StrCat("iteration ", iter, " seed ", seed));
    const size_t n = rng() % 40;
    const size_t k = rng() % 4;
    std::vector<ChartSeries> series(k);
    size_t series_with_data = 0, finite_values = 0;
    for (size_t s = 0; s < k; ++s) {
      series[s].name = absl::StrCat("s<", s, ">");
      series[s].color = "#123456";
      series[s].dashed = rng() % 2;
      bool any = false;
      for (size_t i = 0; i < n; ++i) {
        series[s].values.push_back(RandomValue(rng));
        if (Finite(series[s].values.back())) {
          any = true;
          ++finite_values;
        }
      }
      series_with_data += any;
    }
    std::vector<std::string> labels;
    for (size_t i = 0; i < n; ++i) labels.push_back(absl::StrCat("x&", i));

    LineChart lc;
    lc.x_labels = labels;
    lc.series = series;
    if (rng() % 3 == 0) lc.y_max = 100;
    const std::string line = RenderLineChart(lc);
    EXPECT_EQ(Count(line, "<svg"), 1);
    EXPECT_EQ(Count(line, "</svg>"), 1);
    EXPECT_THAT(NonFiniteTokens(line), IsEmpty());
    EXPECT_EQ(Count(line, "x&0"), 0) << "unescaped label";
    EXPECT_EQ(PathData(line, "series").size(), series_with_data);
    EXPECT_EQ(Count(line, "No data for this period"),
              series_with_data == 0 ? 1 : 0);
    ExpectInside(line, lc.width, lc.height);

    BarChart bc;
    bc.labels = labels;
    bc.series = series;
    if (rng() % 3 == 0) bc.x_max = 100;
    const std::string bars = RenderBarChart(bc);
    EXPECT_EQ(Count(bars, "<svg"), 1);
    EXPECT_EQ(Count(bars, "</svg>"), 1);
    EXPECT_THAT(NonFiniteTokens(bars), IsEmpty());
    EXPECT_EQ(PathData(bars, "bar").size(), finite_values);
    const size_t hp = bars.find("height=\"");
    ASSERT_NE(hp, std::string::npos);
    ExpectInside(bars, bc.width, std::atoi(bars.c_str() + hp + 8));
  }
}

}  // namespace
}  // namespace slate::report
