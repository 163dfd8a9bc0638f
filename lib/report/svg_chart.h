// Static SVG charts for the HTML report (lib/report/report.h): a line chart
// over time buckets and a horizontal grouped bar chart, as inline SVG text
// with every label HTML-escaped. No script, no external resources.
//
//   slate::report::LineChart c;
//   c.aria_label = "Opened vs resolved";
//   c.x_labels = {"2026-11-02", "2026-11-09"};
//   c.series = {{"opened", "#1f77b4", false, {3.0, 5.0}}};
//   c.x_axis_label = "week starting (UTC)";  c.y_axis_label = "incidents";
//   std::string svg = slate::report::RenderLineChart(c);
//
// Contracts:
// - Output is one well-formed <svg>...</svg> element (viewBox 0 0 width
//   height; scales down to the page width).
// - Every drawn series is a <path d="M..."> (lines: one path per series,
//   a new "M" after a gap; bars: one path per bar); every coordinate is a
//   finite number (non-finite values are treated as absent).
// - A chart with no present value draws its axes frame and the text
//   "No data" instead of series, and no <path>.
#ifndef SLATE_LIB_REPORT_SVG_CHART_H_
#define SLATE_LIB_REPORT_SVG_CHART_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace slate::report {

// `s` with &, <, >, " and ' replaced by entities: safe in text and in
// double- or single-quoted attributes.
std::string HtmlEscape(absl::string_view s);

// `v` with `decimals` digits after the point; "0" for a non-finite value
// (never "nan" or "inf").
std::string FormatNumber(double v, int decimals);

struct ChartSeries {
  std::string name;   // Legend text.
  std::string color;  // CSS color, e.g. "#1f77b4" (not escaped: a constant).
  bool dashed = false;
  // One value per x label (line chart) or per bar label (bar chart);
  // nullopt: absent (a gap in a line, no bar).
  std::vector<std::optional<double>> values;
};

struct LineChart {
  std::string aria_label;  // Accessible name of the chart.
  std::string x_axis_label;
  std::string y_axis_label;
  std::vector<std::string> x_labels;
  std::vector<ChartSeries> series;
  // The y axis runs from y_min (default 0) to max(values) rounded up to a
  // tick, or to y_max when set (e.g. 100 for percentages). Default:
  // automatic. y_min must be below y_max and the values (e.g. 99 for an
  // availability near 100 %); a value below it is drawn at the bottom.
  std::optional<double> y_max;
  std::optional<double> y_min;
  // Digits after the point in tick labels. Default: 0.
  int y_decimals = 0;
  int width = 960;   // Default: 960.
  int height = 320;  // Default: 320.
};

std::string RenderLineChart(const LineChart& chart);

// Horizontal bars: one row per label, one bar per series in each row, the
// value printed after the bar (with value_suffix), and an optional note
// per row (e.g. "n=12") after it.
struct BarChart {
  std::string aria_label;
  std::string category_axis_label;  // Names what the rows are.
  std::string value_axis_label;     // Names the value and its unit.
  std::vector<std::string> labels;
  std::vector<ChartSeries> series;
  std::vector<std::string> notes;  // Empty, or one per label.
  std::optional<double> x_max;     // Default: automatic.
  int decimals = 0;                // Of printed values and ticks.
  std::string value_suffix;        // E.g. "%" or " h".
  int width = 960;                 // Default: 960; height follows the rows.
};

std::string RenderBarChart(const BarChart& chart);

}  // namespace slate::report

#endif  // SLATE_LIB_REPORT_SVG_CHART_H_
