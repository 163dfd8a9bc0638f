#include "tools/duration_parse.h"

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace slate::tools {
namespace {

// Seconds per unit, in the order the units must appear.
struct Unit {
  char symbol;
  int64_t seconds;
};
constexpr Unit kUnits[] = {{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};
constexpr int kNumUnits = sizeof(kUnits) / sizeof(kUnits[0]);

// `s` in double quotes, with control and non-ASCII bytes escaped so an
// error stays on one line.
std::string Quote(absl::string_view s) {
  return absl::StrCat("\"", absl::CHexEscape(s), "\"");
}

absl::Status Bad(absl::string_view text, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("duration ", Quote(text), ": ", why,
                   " (use e.g. 90s, 45m, 4h, 2d, 1h30m)"));
}

}  // namespace

absl::StatusOr<absl::Duration> ParseBusinessDuration(absl::string_view text) {
  if (text.empty()) return Bad(text, "is empty");
  int64_t total = 0;  // Seconds, <= kMaxBusinessDurationSeconds.
  int next_unit = 0;  // Index of the first unit still allowed.
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c < '0' || c > '9') {
      if (c == '-' || c == '+') return Bad(text, "must not have a sign");
      return Bad(text,
                 absl::StrCat("expected a number at ", Quote(text.substr(i))));
    }
    int64_t value = 0;
    bool too_large = false;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
      const int digit = text[i] - '0';
      if (value > (kMaxBusinessDurationSeconds - digit) / 10) {
        too_large = true;  // Keep scanning to report the right error.
      } else {
        value = value * 10 + digit;
      }
    }
    if (i == text.size()) {
      return Bad(text, "a number needs a unit (d, h, m or s)");
    }
    const char next = text[i];
    if (next == '.' || next == ',') {
      return Bad(text, "fractions are not supported");
    }
    size_t unit_end = i;
    while (unit_end < text.size() &&
           absl::ascii_isalpha(static_cast<unsigned char>(text[unit_end]))) {
      ++unit_end;
    }
    if (unit_end == i) {
      return Bad(text, absl::StrCat("unexpected character ",
                                    Quote(text.substr(i, 1))));
    }
    const absl::string_view unit_text = text.substr(i, unit_end - i);
    int u = 0;
    while (u < kNumUnits &&
           !(unit_text.size() == 1 && unit_text[0] == kUnits[u].symbol)) {
      ++u;
    }
    if (u == kNumUnits) {
      return Bad(text, absl::StrCat("unknown unit ", Quote(unit_text),
                                    " (units: d, h, m, s)"));
    }
    if (u < next_unit) {
      return Bad(text, "units must appear once each, in the order d, h, m, s");
    }
    i = unit_end;
    next_unit = u + 1;
    if (too_large ||
        value > (kMaxBusinessDurationSeconds - total) / kUnits[u].seconds) {
      return Bad(text, absl::StrCat("is too large (at most ",
                                    kMaxBusinessDurationSeconds, "s)"));
    }
    total += value * kUnits[u].seconds;
  }
  return absl::Seconds(total);
}

}  // namespace slate::tools
