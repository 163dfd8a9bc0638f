#include "lib/report/svg_chart.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace slate::report {
namespace {

constexpr char kFont[] =
    "font-family=\"system-ui,-apple-system,'Segoe UI',Roboto,sans-serif\"";

bool Present(const std::optional<double>& v) {
  return v.has_value() && std::isfinite(*v);
}

// A coordinate with one decimal.
std::string C(double v) { return FormatNumber(v, 1); }

struct Axis {
  double top = 1;
  double step = 1;
};

// 0..top in about five "nice" steps (1, 2, 5 times a power of ten).
Axis NiceAxis(double max, std::optional<double> fixed, int decimals) {
  Axis a;
  if (fixed.has_value() && std::isfinite(*fixed) && *fixed > 0) {
    a.top = *fixed;
    a.step = *fixed / 5;
    return a;
  }
  if (!std::isfinite(max) || max <= 0) max = 1;
  const double raw = max / 5;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * mag;
    if (step >= raw) break;
  }
  const double min_step = std::pow(10.0, -decimals);
  step = std::max(step, min_step);
  a.step = step;
  a.top = std::ceil(max / step - 1e-9) * step;
  if (a.top <= 0) a.top = step;
  return a;
}

std::string Text(double x, double y, absl::string_view text,
                 absl::string_view extra = "") {
  return absl::StrCat("<text x=\"", C(x), "\" y=\"", C(y), "\"",
                      extra.empty() ? "" : " ", extra, ">", HtmlEscape(text),
                      "</text>\n");
}

std::string Open(absl::string_view aria, int w, int h) {
  return absl::StrCat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 ", w, " ", h,
      "\" width=\"", w, "\" height=\"", h, "\" role=\"img\" aria-label=\"",
      HtmlEscape(aria), "\" ", kFont, " font-size=\"12\">\n<title>",
      HtmlEscape(aria), "</title>\n");
}

std::string NoData(double x0, double y0, double x1, double y1) {
  return absl::StrCat(
      "<rect x=\"", C(x0), "\" y=\"", C(y0), "\" width=\"", C(x1 - x0),
      "\" height=\"", C(y1 - y0), "\" fill=\"#f6f6f6\" stroke=\"#bbb\"/>\n",
      Text((x0 + x1) / 2, (y0 + y1) / 2 + 6, "No data for this period",
           "text-anchor=\"middle\" font-size=\"16\" fill=\"#555\" "
           "class=\"no-data\""));
}

std::string Legend(const std::vector<ChartSeries>& series, double x, double y) {
  std::string out;
  for (const ChartSeries& s : series) {
    absl::StrAppend(&out, "<line x1=\"", C(x), "\" y1=\"", C(y - 4), "\" x2=\"",
                    C(x + 18), "\" y2=\"", C(y - 4), "\" stroke=\"", s.color,
                    "\" stroke-width=\"3\"",
                    s.dashed ? " stroke-dasharray=\"6 3\"" : "", "/>\n",
                    Text(x + 22, y, s.name));
    x += 40 + 7.0 * s.name.size();
  }
  return out;
}

}  // namespace

std::string HtmlEscape(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string FormatNumber(double v, int decimals) {
  if (!std::isfinite(v)) return "0";
  std::string s = absl::StrFormat("%.*f", std::max(0, decimals), v);
  if (s == "-0" || s == "-0.0" || s == "-0.00") s.erase(0, 1);
  return s;
}

std::string RenderLineChart(const LineChart& c) {
  const int w = c.width, h = c.height;
  const double l = 72, r = w - 48, t = 40, b = h - 56;
  std::string out = Open(c.aria_label, w, h);
  double max = 0;
  bool any = false;
  for (const ChartSeries& s : c.series) {
    for (const auto& v : s.values) {
      if (Present(v)) {
        any = true;
        max = std::max(max, *v);
      }
    }
  }
  // Axis labels are drawn with or without data.
  absl::StrAppend(
      &out, Text((l + r) / 2, h - 10, c.x_axis_label, "text-anchor=\"middle\""),
      "<text transform=\"translate(18,", C((t + b) / 2),
      ") rotate(-90)\" text-anchor=\"middle\">", HtmlEscape(c.y_axis_label),
      "</text>\n");
  const size_t n = c.x_labels.size();
  if (!any || n == 0) {
    absl::StrAppend(&out, NoData(l, t, r, b), "</svg>\n");
    return out;
  }
  // The axis is [lo, lo + axis.top]; lo is y_min when it lies below the
  // top, else 0.
  double lo = 0;
  if (c.y_min.has_value() && std::isfinite(*c.y_min) &&
      *c.y_min < (c.y_max.has_value() ? *c.y_max : max)) {
    lo = *c.y_min;
  }
  std::optional<double> span;
  if (c.y_max.has_value()) span = *c.y_max - lo;
  const Axis axis = NiceAxis(max - lo, span, c.y_decimals);
  auto x_of = [&](size_t i) {
    return n == 1 ? (l + r) / 2
                  : l + (r - l) * static_cast<double>(i) / (n - 1);
  };
  auto y_of = [&](double v) {
    return b - (b - t) * std::clamp((v - lo) / axis.top, -0.05, 1.05);
  };
  // Grid and y ticks.
  for (double v = 0; v <= axis.top + axis.step / 2; v += axis.step) {
    const double y = y_of(lo + v);
    absl::StrAppend(&out, "<line x1=\"", C(l), "\" y1=\"", C(y), "\" x2=\"",
                    C(r), "\" y2=\"", C(y), "\" stroke=\"#e3e3e3\"/>\n",
                    Text(l - 6, y + 4, FormatNumber(lo + v, c.y_decimals),
                         "text-anchor=\"end\""));
  }
  // X labels, thinned to what fits (about 90 px each).
  const size_t fit = std::max<size_t>(1, static_cast<size_t>((r - l) / 90));
  const size_t stride = (n + fit - 1) / fit;
  for (size_t i = 0; i < n; i += stride) {
    const double x = x_of(i);
    absl::StrAppend(&out, "<line x1=\"", C(x), "\" y1=\"", C(b), "\" x2=\"",
                    C(x), "\" y2=\"", C(b + 5), "\" stroke=\"#333\"/>\n",
                    Text(x, b + 20, c.x_labels[i], "text-anchor=\"middle\""));
  }
  absl::StrAppend(&out, "<path d=\"M", C(l), " ", C(t), "V", C(b), "H", C(r),
                  "\" fill=\"none\" stroke=\"#333\" class=\"axis\"/>\n");
  for (const ChartSeries& s : c.series) {
    std::string d;
    bool pen_down = false;
    std::string dots;
    for (size_t i = 0; i < n && i < s.values.size(); ++i) {
      if (!Present(s.values[i])) {
        pen_down = false;
        continue;
      }
      const double x = x_of(i), y = y_of(*s.values[i]);
      absl::StrAppend(&d, pen_down ? "L" : "M", C(x), " ", C(y));
      pen_down = true;
      if (n <= 60) {
        absl::StrAppend(&dots, "<circle cx=\"", C(x), "\" cy=\"", C(y),
                        "\" r=\"3\" fill=\"", s.color, "\"><title>",
                        HtmlEscape(s.name), " ", HtmlEscape(c.x_labels[i]),
                        ": ", FormatNumber(*s.values[i], c.y_decimals + 1),
                        "</title></circle>\n");
      }
    }
    if (d.empty()) continue;
    absl::StrAppend(&out, "<path d=\"", d, "\" fill=\"none\" stroke=\"",
                    s.color, "\" stroke-width=\"2\"",
                    s.dashed ? " stroke-dasharray=\"6 3\"" : "",
                    " class=\"series\"><title>", HtmlEscape(s.name),
                    "</title></path>\n", dots);
  }
  absl::StrAppend(&out, Legend(c.series, l, 20), "</svg>\n");
  return out;
}

std::string RenderBarChart(const BarChart& c) {
  const int w = c.width;
  const size_t rows = c.labels.size();
  const size_t per_row = std::max<size_t>(1, c.series.size());
  const double bar_h = 14, row_gap = 10;
  const double row_h = bar_h * per_row + row_gap;
  const double l = 230, r = w - 130, t = 40;
  const double b = t + std::max(1.0, static_cast<double>(rows)) * row_h;
  const int h = static_cast<int>(std::max(b, t + 60) + 48);
  std::string out = Open(c.aria_label, w, h);
  double max = 0;
  bool any = false;
  for (const ChartSeries& s : c.series) {
    for (const auto& v : s.values) {
      if (Present(v)) {
        any = true;
        max = std::max(max, *v);
      }
    }
  }
  absl::StrAppend(
      &out,
      Text((l + r) / 2, h - 10, c.value_axis_label, "text-anchor=\"middle\""),
      Text(8, t - 14, c.category_axis_label, "font-weight=\"600\""));
  if (!any || rows == 0) {
    absl::StrAppend(&out, NoData(l, t, r, std::max(b, t + 60)), "</svg>\n");
    return out;
  }
  const Axis axis = NiceAxis(max, c.x_max, c.decimals);
  auto x_of = [&](double v) {
    return l + (r - l) * std::clamp(v / axis.top, 0.0, 1.0);
  };
  for (double v = 0; v <= axis.top + axis.step / 2; v += axis.step) {
    const double x = x_of(v);
    absl::StrAppend(
        &out, "<line x1=\"", C(x), "\" y1=\"", C(t), "\" x2=\"", C(x),
        "\" y2=\"", C(b + 5), "\" stroke=\"#e3e3e3\"/>\n",
        Text(x, b + 20, FormatNumber(v, axis.step >= 1 ? 0 : c.decimals),
             "text-anchor=\"middle\""));
  }
  for (size_t i = 0; i < rows; ++i) {
    const double y0 = t + i * row_h + row_gap / 2;
    std::string label = c.labels[i];
    if (label.size() > 32) label = label.substr(0, 30) + "...";
    absl::StrAppend(&out, "<text x=\"", C(l - 8), "\" y=\"",
                    C(y0 + row_h / 2 - row_gap / 2 + 4),
                    "\" text-anchor=\"end\"><title>", HtmlEscape(c.labels[i]),
                    "</title>", HtmlEscape(label), "</text>\n");
    double note_x = l;
    for (size_t k = 0; k < c.series.size(); ++k) {
      const ChartSeries& s = c.series[k];
      const double y = y0 + k * bar_h;
      if (i >= s.values.size() || !Present(s.values[i])) {
        absl::StrAppend(&out, Text(l + 4, y + bar_h - 3, "n/a",
                                   "fill=\"#777\" font-size=\"11\""));
        note_x = std::max(note_x, l + 30);
        continue;
      }
      const double v = *s.values[i];
      const double x1 = std::max(x_of(v), l + 1);
      absl::StrAppend(
          &out, "<path d=\"M", C(l), " ", C(y + 1), "H", C(x1), "V",
          C(y + bar_h - 1), "H", C(l), "Z\" fill=\"", s.color,
          "\" class=\"bar\"><title>", HtmlEscape(c.labels[i]), " ",
          HtmlEscape(s.name), ": ", FormatNumber(v, c.decimals),
          HtmlEscape(c.value_suffix), "</title></path>\n",
          Text(x1 + 4, y + bar_h - 3,
               absl::StrCat(FormatNumber(v, c.decimals), c.value_suffix),
               "font-size=\"11\""));
      note_x = std::max(note_x, x1 + 50);
    }
    if (i < c.notes.size() && !c.notes[i].empty()) {
      absl::StrAppend(&out, Text(std::min(note_x, r + 60.0),
                                 y0 + row_h / 2 - row_gap / 2 + 4, c.notes[i],
                                 "fill=\"#555\" font-size=\"11\""));
    }
  }
  absl::StrAppend(&out, "<path d=\"M", C(l), " ", C(t), "V", C(b), "H", C(r),
                  "\" fill=\"none\" stroke=\"#333\" class=\"axis\"/>\n");
  if (c.series.size() > 1) absl::StrAppend(&out, Legend(c.series, l, 20));
  absl::StrAppend(&out, "</svg>\n");
  return out;
}

}  // namespace slate::report
