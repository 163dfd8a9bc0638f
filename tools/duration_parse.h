// Business durations as a person types them on the command line:
// "90s", "45m", "4h", "2d", "1h30m", "2d4h30m15s".
//
//   absl::StatusOr<absl::Duration> d =
//   slate::tools::ParseBusinessDuration("1h30m");
//   // *d == absl::Minutes(90)
//
// Grammar (the whole text must match; no spaces, case-sensitive):
//   duration := part { part }
//   part     := digits unit        digits: 0-9, at least one
//   unit     := "d" | "h" | "m" | "s"
// - A day "d" is 24 hours of business time (open time counted by the
//   calendar), not a calendar day: "2d" on a 09:00-17:00 calendar spans six
//   working days.
// - Units appear at most once each and in that order (d, h, m, s): "1h30m"
//   is fine, "30m1h" and "1h1h" are refused, so a typo is not silently
//   summed.
// - Zero is allowed ("0s"); calendar add then yields the next opening.
// - Refused: empty text; a number without a unit ("4"); a unit without a
//   number ("h"); signs ("-1h", "+1h"); fractions ("1.5h": write "1h30m");
//   other units ("1w", "1ms", "1H"); spaces; a total above
//   kMaxBusinessDuration (it must fit in int64 microseconds, the calendar's
//   unit, about 292,000 years).
// Errors are kInvalidArgument and quote the text.
#ifndef SLATE_TOOLS_DURATION_PARSE_H_
#define SLATE_TOOLS_DURATION_PARSE_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace slate::tools {

// The largest accepted duration: INT64_MAX microseconds, rounded down to a
// whole second (9223372036854 s).
inline constexpr int64_t kMaxBusinessDurationSeconds =
    int64_t{9223372036854775807} / 1000000;

absl::StatusOr<absl::Duration> ParseBusinessDuration(absl::string_view text);

}  // namespace slate::tools

#endif  // SLATE_TOOLS_DURATION_PARSE_H_
