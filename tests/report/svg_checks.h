// Test helpers: structural checks of the report's HTML and SVG text, shared
// by the report tests.
//
//   EXPECT_EQ(slate::testing::Count(html, "<svg"), 7);
//   EXPECT_THAT(slate::testing::NonFiniteTokens(html), ::testing::IsEmpty());
#ifndef SLATE_TESTS_REPORT_SVG_CHECKS_H_
#define SLATE_TESTS_REPORT_SVG_CHECKS_H_

#include <cctype>
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
  const std::string open = "<path d=\"";
  for (size_t p = svg.find(open); p != std::string::npos;
       p = svg.find(open, p + 1)) {
    const size_t d0 = p + open.size();
    const size_t d1 = svg.find('"', d0);
    const size_t end = svg.find('>', p);
    if (d1 == std::string::npos || end == std::string::npos) break;
    const std::string tag = svg.substr(p, end - p);
    if (cls.empty() || tag.find("class=\"" + cls + "\"") != std::string::npos) {
      out.push_back(svg.substr(d0, d1 - d0));
    }
  }
  return out;
}

// Words "nan", "inf" or "infinity" (any case) standing alone, as printf
// prints non-finite numbers.
inline std::vector<std::string> NonFiniteTokens(const std::string& text) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < text.size()) {
    if (!std::isalpha(static_cast<unsigned char>(text[i]))) {
      ++i;
      continue;
    }
    size_t j = i;
    std::string word;
    while (j < text.size() &&
           std::isalpha(static_cast<unsigned char>(text[j]))) {
      word +=
          static_cast<char>(std::tolower(static_cast<unsigned char>(text[j])));
      ++j;
    }
    if (word == "nan" || word == "inf" || word == "infinity") {
      out.push_back(text.substr(i, j - i));
    }
    i = j;
  }
  return out;
}

}  // namespace slate::testing

#endif  // SLATE_TESTS_REPORT_SVG_CHECKS_H_
