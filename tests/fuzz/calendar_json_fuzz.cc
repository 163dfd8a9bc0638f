// Fuzz target: BusinessCalendar::FromJson on arbitrary text. A calendar that
// loads must answer queries without crashing, and its answers must agree:
// Between(t, Add(t, d)) == d, IsOpen(t) == (NextOpen(t) == t).
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "lib/calendar/business_calendar.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view json(reinterpret_cast<const char*>(data), size);
  auto cal = slate::BusinessCalendar::FromJson(json);
  if (!cal.ok()) {
    FUZZ_CHECK(cal.status().code() == absl::StatusCode::kInvalidArgument,
               "FromJson failed with ", cal.status().ToString());
    return 0;
  }
  const absl::Time t = absl::FromUnixSeconds(1795000000);  // 2026-11-18.
  const bool open = (*cal)->IsOpen(t);
  auto next = (*cal)->NextOpen(t);
  if (next.ok()) {
    FUZZ_CHECK(*next >= t, "NextOpen went back");
    FUZZ_CHECK(open == (*next == t), "IsOpen disagrees with NextOpen");
  }
  for (absl::Duration d :
       {absl::Minutes(1), absl::Hours(8), absl::Hours(200)}) {
    auto r = (*cal)->Add(t, d);
    if (!r.ok()) {
      FUZZ_CHECK(r.status().code() == absl::StatusCode::kFailedPrecondition ||
                     r.status().code() == absl::StatusCode::kOutOfRange,
                 "Add failed with ", r.status().ToString());
      continue;
    }
    FUZZ_CHECK((*cal)->Between(t, *r) == d, "Between(t, Add(t, d)) = ",
               absl::FormatDuration((*cal)->Between(t, *r)),
               ", d = ", absl::FormatDuration(d));
  }
  return 0;
}
