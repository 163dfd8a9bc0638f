// Test helpers: structural checks of the report's HTML and SVG text, shared
// by the report tests.
//
//   EXPECT_EQ(slate::testing::Count(html, "<svg"), 7);
//   EXPECT_THAT(slate::testing::NonFiniteTokens(html), ::testing::IsEmpty());
#ifndef SLATE_TESTS_REPORT_SVG_CHECKS_H_
#define SLATE_TESTS_REPORT_SVG_CHECKS_H_

#include <cctype>
#include <regex>
#include <string>
#include <vector>

namespace slate::testing {

// Non-overlapping occurrences of `needle` in `hay`.
inline int Count(const std::string& hay, const std::string& needle) {
  int n = 0;
  for (size_t p = hay.find(needle); p != std::string::npos;
       p = hay.find(needle, p + needle.size())) {
    ++n;
  }
  return n;
}

// The <svg ...>...</svg> elements of `html`, in order (an unclosed one is
// returned up to the end of the text).
inline std::vector<std::string> SvgElements(const std::string& html) {
  std::vector<std::string> out;
  size_t p = 0;
  while ((p = html.find("<svg", p)) != std::string::npos) {
    const size_t e = html.find("</svg>", p);
    out.push_back(
        html.substr(p, e == std::string::npos ? std::string::npos : e + 6 - p));
    if (e == std::string::npos) break;
    p = e + 6;
  }
  return out;
}

// The d attributes of the <path> elements with class `cls` (any class when
// empty).
inline std::vector<std::string> PathData(const std::string& svg,
                                         const std::string& cls = "") {
  std::vector<std::string> out;
  static const std::regex kPath("<path d=\"([^\"]*)\"[^>]*>");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), kPath);
       it != std::sregex_iterator(); ++it) {
    const std::string tag = (*it)[0];
    if (cls.empty() || tag.find("class=\"" + cls + "\"") != std::string::npos) {
      out.push_back((*it)[1]);
    }
  }
  return out;
}

// Words "nan" or "inf"/"infinity" (any case) standing alone, as printf
// prints non-finite numbers.
inline std::vector<std::string> NonFiniteTokens(const std::string& text) {
  std::vector<std::string> out;
  static const std::regex kBad("(^|[^A-Za-z])(nan|inf|infinity)([^A-Za-z]|$)",
                               std::regex::icase);
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kBad);
       it != std::sregex_iterator(); ++it) {
    out.push_back((*it)[0]);
  }
  return out;
}

}  // namespace slate::testing

#endif  // SLATE_TESTS_REPORT_SVG_CHECKS_H_
