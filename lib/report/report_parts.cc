#include "lib/report/report_parts.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace slate::report {
namespace {

constexpr const char* kTargetTypes[] = {"response", "resolution", "update"};
constexpr const char* kTargetColors[] = {"#4c78a8", "#54a24b", "#b279a2"};

// Target types that occur in `rows`, in kTargetTypes order (plus unknown
// ones after, alphabetically).
std::vector<std::string> TargetTypesOf(const std::vector<SlaByTarget>& rows) {
  std::vector<std::string> out;
  for (const char* t : kTargetTypes) {
    for (const SlaByTarget& r : rows) {
      if (r.by_target.count(t) > 0) {
        out.push_back(t);
        break;
      }
    }
  }
  for (const SlaByTarget& r : rows) {
    for (const auto& [t, c] : r.by_target) {
      if (std::find(out.begin(), out.end(), t) == out.end()) out.push_back(t);
    }
  }
  return out;
}

std::string ColorOf(const std::string& target_type, size_t index) {
  for (size_t i = 0; i < 3; ++i) {
    if (target_type == kTargetTypes[i]) return kTargetColors[i];
  }
  constexpr const char* kOther[] = {"#e45756", "#72b7b2", "#ff9da6"};
  return kOther[index % 3];
}

}  // namespace

std::optional<double> Ratio(int64_t num, int64_t den, double scale) {
  if (den <= 0) return std::nullopt;
  return scale * static_cast<double>(num) / static_cast<double>(den);
}

std::optional<double> Compliance(const SlaCount& c) {
  return Ratio(c.met, c.met + c.breached, 100);
}

std::string PercentText(const std::optional<double>& v) {
  return PercentTextDecimals(v, 1);
}

std::string PercentTextDecimals(const std::optional<double>& v,
                                int decimals) {
  return v.has_value() ? absl::StrCat(FormatNumber(*v, decimals), " %") : "-";
}

std::string DurationText(const std::optional<double>& s) {
  return s.has_value() ? FormatDurationSeconds(*s) : "-";
}

std::string PageStart(absl::string_view title, int w) {
  return absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, "
      "initial-scale=1\">\n<title>",
      HtmlEscape(title), "</title>\n<style>\n",
      "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;"
      "margin:0;color:#222;background:#fff}\n"
      "main{max-width:",
      w + 40, "px;margin:0 auto;padding:16px 20px}\n",
      "h1{font-size:1.6em;margin:0.4em 0}h2{font-size:1.2em;margin:1.6em 0 "
      "0.3em;border-bottom:1px solid #ddd;padding-bottom:4px}\n"
      "p.note{color:#555;margin:0.2em 0 0.6em;font-size:0.9em}\n"
      "p.empty{font-weight:600;margin:0.4em 0}\n"
      "svg{max-width:100%;height:auto;display:block}\n"
      "table{border-collapse:collapse;margin:0.5em 0}td,th{border:1px solid "
      "#ccc;padding:4px 10px;text-align:left}td.num{text-align:right;"
      "font-variant-numeric:tabular-nums}th{background:#f3f3f3}\n"
      "</style>\n</head>\n<body>\n<main>\n<h1>",
      HtmlEscape(title), "</h1>\n");
}

std::string PageEnd() { return "</main>\n</body>\n</html>\n"; }

std::string TableRow(absl::string_view name, absl::string_view value) {
  return absl::StrCat("<tr><th scope=\"row\">", HtmlEscape(name),
                      "</th><td class=\"num\">", HtmlEscape(value),
                      "</td></tr>\n");
}

BarChart SlaChart(const std::vector<SlaByTarget>& all_rows,
                  absl::string_view aria, absl::string_view rows_name,
                  int width) {
  BarChart c;
  c.aria_label = std::string(aria);
  c.category_axis_label = std::string(rows_name);
  c.value_axis_label =
      "SLA compliance, % of final clocks met (met / (met + breached))";
  c.x_max = 100;
  c.decimals = 1;
  c.value_suffix = "%";
  c.width = width;
  // Rows without a final clock have nothing to show.
  std::vector<SlaByTarget> rows;
  for (const SlaByTarget& r : all_rows) {
    if (r.total() > 0) rows.push_back(r);
  }
  const std::vector<std::string> types = TargetTypesOf(rows);
  for (size_t i = 0; i < types.size(); ++i) {
    ChartSeries s;
    s.name = types[i];
    s.color = ColorOf(types[i], i);
    for (const SlaByTarget& r : rows) {
      auto it = r.by_target.find(types[i]);
      s.values.push_back(it == r.by_target.end() ? std::nullopt
                                                 : Compliance(it->second));
    }
    c.series.push_back(std::move(s));
  }
  for (const SlaByTarget& r : rows) {
    c.labels.push_back(r.label);
    c.notes.push_back(absl::StrCat("n=", r.total()));
  }
  return c;
}

Satisfaction SatisfactionOf(int64_t responses, int64_t satisfied,
                            int64_t score_sum, int64_t resolved) {
  Satisfaction s;
  s.csat_percent = Ratio(satisfied, responses, 100);
  s.average_score = Ratio(score_sum, responses);
  s.response_rate_percent = Ratio(responses, resolved, 100);
  return s;
}

}  // namespace slate::report
