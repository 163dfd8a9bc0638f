// Pieces both HTML reports share (lib/report/report.h, the KPI report, and
// lib/report/service_report.h, the service review): the page head and
// style, number and duration texts, and the SLA compliance chart. Internal
// to lib/report.
//
//   std::string html = slate::report::PageStart("Slate report", 960);
//   absl::StrAppend(&html, "<p>", PercentText(Ratio(3, 4, 100)), "</p>");
//   absl::StrAppend(&html, PageEnd());
#ifndef SLATE_LIB_REPORT_REPORT_PARTS_H_
#define SLATE_LIB_REPORT_REPORT_PARTS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "lib/report/report.h"
#include "lib/report/svg_chart.h"

namespace slate::report {

// scale * num / den; nullopt when den <= 0 (a rate over nothing is absent).
std::optional<double> Ratio(int64_t num, int64_t den, double scale = 1);
// met / (met + breached) in %; nullopt without a final clock.
std::optional<double> Compliance(const SlaCount& c);
// "97.5 %", or "-" when absent.
std::string PercentText(const std::optional<double>& v);
// The same with `decimals` digits after the point ("99.950 %").
std::string PercentTextDecimals(const std::optional<double>& v, int decimals);
// FormatDurationSeconds, or "-" when absent.
std::string DurationText(const std::optional<double>& seconds);

// "<!DOCTYPE html>...<main>\n<h1>title</h1>\n": the document up to the
// heading, with the shared inline style (no external resource). `width`:
// the charts' width in CSS pixels.
std::string PageStart(absl::string_view title, int width);
// "</main></body></html>\n".
std::string PageEnd();
// One table row "<tr><th scope=row>name</th><td class=num>value</td></tr>",
// both escaped.
std::string TableRow(absl::string_view name, absl::string_view value);

// Horizontal bars of SLA compliance (%), one row per `rows` entry with a
// final clock, one bar per target type (response, resolution, update, then
// any other); n = final clocks as the row's note.
BarChart SlaChart(const std::vector<SlaByTarget>& rows, absl::string_view aria,
                  absl::string_view rows_name, int width);

// Satisfaction of one population: CSAT, average score and response rate
// (kpi_projection.h, "Satisfaction"); each absent without a response (the
// rate: without a resolution).
struct Satisfaction {
  std::optional<double> csat_percent;
  std::optional<double> average_score;
  std::optional<double> response_rate_percent;
};
Satisfaction SatisfactionOf(int64_t responses, int64_t satisfied,
                            int64_t score_sum, int64_t resolved);

}  // namespace slate::report

#endif  // SLATE_LIB_REPORT_REPORT_PARTS_H_
