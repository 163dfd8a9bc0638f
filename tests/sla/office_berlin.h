// The office-berlin calendar of issue 4
// (examples/calendars/office-berlin.json), loaded from the runfiles, for SLA
// tests and benchmarks.
//
//   absl::StatusOr<std::shared_ptr<const slate::BusinessCalendar>> cal =
//       slate::testing::LoadOfficeBerlin();
//   slate::CalendarBusinessTime business(*cal);
//
// Depend on //tests/sla:office_berlin: it carries the JSON file as data.
#ifndef SLATE_TESTS_SLA_OFFICE_BERLIN_H_
#define SLATE_TESTS_SLA_OFFICE_BERLIN_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "lib/calendar/business_calendar.h"

namespace slate::testing {

// Workspace-relative path of the calendar file.
inline constexpr char kOfficeBerlinPath[] =
    "examples/calendars/office-berlin.json";

// Reads a workspace-relative runfile: under $TEST_SRCDIR/slate (tests),
// $RUNFILES_DIR/slate, or the working directory (`bazel run` starts there).
// kNotFound names every place tried.
absl::StatusOr<std::string> ReadRunfile(const std::string& workspace_path);

// kNotFound if the file is missing; the calendar's errors otherwise.
absl::StatusOr<std::shared_ptr<const BusinessCalendar>> LoadOfficeBerlin();

}  // namespace slate::testing

#endif  // SLATE_TESTS_SLA_OFFICE_BERLIN_H_
