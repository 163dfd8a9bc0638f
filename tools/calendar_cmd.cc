// slate calendar: business-time arithmetic on a calendar file from the shell.
//
//   $ cd examples/calendars
//   $ slate calendar add --calendar office-berlin.json
//         --start 2026-11-27T16:00:00+01:00 --duration 4h
//   2026-11-30T12:00:00+01:00
//   $ slate calendar between --calendar office-berlin.json
//         --from 2026-11-27T16:00:00+01:00 --to 2026-11-30T12:00:00+01:00
//   14400
//
// - The calendar file is CalendarSpec JSON (proto/calendar.proto), loaded
//   with BusinessCalendar::FromJson.
// - Instants are RFC 3339 with whole seconds and an explicit offset ("Z" or
//   "+01:00"): 2026-11-27T16:00:00+01:00. Fractional seconds are refused, so
//   every printed result is exact; so are spaces, a missing offset and
//   "+0100". A leap second ":60" reads as the next minute's ":00".
// - Durations: tools/duration_parse.h ("90s", "45m", "4h", "2d" = 48 hours
//   of open time, "1h30m").
// - add prints BusinessCalendar::Add(start, duration) as RFC 3339 in the
//   calendar's time zone (its offset at that instant), whole seconds. A zero
//   duration prints the next opening. Where the zone's offset is not whole
//   minutes (local mean time, before ~1900) it prints UTC with "Z" instead.
// - between prints BusinessCalendar::Between(from, to) in whole seconds;
//   negative when --to is before --from.
// - Flags are --name VALUE or --name=VALUE, each exactly once (CLI11,
//   tools/cli.h). `slate calendar help` (or --help, -h anywhere) prints the
//   usage on stdout.
// Exit codes (tools/cli.h): 0 success; 2 bad usage or bad input,
// including a calendar that has too little open time left after the start
// (it never opens again, its validTo comes first, or the result would be
// after year 9999), with one line on stderr naming the problem; 1 for any
// other failure.
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "lib/api/calendar.h"
#include "tools/cli.h"
#include "tools/duration_parse.h"

namespace slate::tools {
namespace {

// The details under `slate calendar --help` (the flags list themselves).
constexpr char kDetails[] =
    "FILE.json  a CalendarSpec (proto/calendar.proto), e.g.\n"
    "           examples/calendars/office-berlin.json\n"
    "TIME       RFC 3339 with whole seconds and an offset, e.g.\n"
    "           2026-11-27T16:00:00+01:00 or 2026-11-27T15:00:00Z\n"
    "DURATION   business time: 90s, 45m, 4h, 2d (a day is 24 business\n"
    "           hours), 1h30m; units once each, in the order d h m s\n"
    "\n"
    "add prints the instant when DURATION of open time has passed since\n"
    "TIME, in the calendar's time zone; between prints the open time from\n"
    "--from to --to in seconds.";

std::string Quote(absl::string_view s) {
  return absl::StrCat("\"", absl::CHexEscape(s), "\"");
}

// Prints "slate calendar <sub>: <message>" as one line on stderr.
int FailIn(absl::string_view sub, absl::string_view message,
           int code = kExitUsage) {
  return Fail(absl::StrCat("calendar ", sub), message, code);
}

struct CalendarFlags {
  std::string calendar;
  std::string start;
  std::string duration;
  std::string from;
  std::string to;
};

// Whether `s` has RFC 3339's date-time shape: "YYYY-MM-DDTHH:MM:SS", an
// optional ".fraction", then "Z" or "+HH:MM"/"-HH:MM" ("T" and "Z" in either
// case). The values are checked by absl::ParseTime.
bool HasRfc3339Shape(absl::string_view s) {
  auto digits = [&s](size_t pos, size_t n) {
    if (pos + n > s.size()) return false;
    for (size_t i = pos; i < pos + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
    }
    return true;
  };
  auto is = [&s](size_t pos, absl::string_view chars) {
    return pos < s.size() && chars.find(s[pos]) != absl::string_view::npos;
  };
  if (!(digits(0, 4) && is(4, "-") && digits(5, 2) && is(7, "-") &&
        digits(8, 2) && is(10, "Tt") && digits(11, 2) && is(13, ":") &&
        digits(14, 2) && is(16, ":") && digits(17, 2))) {
    return false;
  }
  size_t pos = 19;
  if (is(pos, ".")) {
    ++pos;
    if (!digits(pos, 1)) return false;
    while (digits(pos, 1)) ++pos;
  }
  if (is(pos, "Zz")) return pos + 1 == s.size();
  return is(pos, "+-") && digits(pos + 1, 2) && is(pos + 3, ":") &&
         digits(pos + 4, 2) && pos + 6 == s.size();
}

// An RFC 3339 instant with whole seconds and an explicit offset. A leap
// second (":60") is the first second of the next minute, as absl does it.
absl::StatusOr<absl::Time> ParseInstant(absl::string_view flag,
                                        const std::string& text) {
  absl::Time t;
  std::string err;
  // %E*S takes optional fractional seconds so they get their own error.
  if (!HasRfc3339Shape(text) ||
      !absl::ParseTime("%Y-%m-%d%ET%H:%M:%E*S%Ez", text, absl::UTCTimeZone(),
                       &t, &err)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, " ", Quote(text),
                     ": not an RFC 3339 time like 2026-11-27T16:00:00+01:00"));
  }
  if (absl::FromUnixSeconds(absl::ToUnixSeconds(t)) != t) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, " ", Quote(text),
                     ": fractional seconds are not supported"));
  }
  return t;
}

// RFC 3339 in `zone`, whole seconds (floored), numeric offset ("+00:00" for
// UTC). RFC 3339 offsets are whole minutes: at an instant where the zone's
// offset has seconds (local mean time, before ~1900) the result is printed
// in UTC with "Z" instead, so it always names the exact instant.
std::string FormatInstant(absl::Time t, const absl::TimeZone& zone) {
  absl::TimeZone::CivilInfo info = zone.At(t);
  const bool whole_minutes = info.offset % 60 == 0;
  if (!whole_minutes) info = absl::UTCTimeZone().At(t);
  const absl::CivilSecond c = info.cs;
  std::string out =
      absl::StrFormat("%04d-%02d-%02dT%02d:%02d:%02d", c.year(), c.month(),
                      c.day(), c.hour(), c.minute(), c.second());
  if (!whole_minutes) return out + "Z";
  int offset = info.offset;
  const char sign = offset < 0 ? '-' : '+';
  if (offset < 0) offset = -offset;
  absl::StrAppendFormat(&out, "%c%02d:%02d", sign, offset / 3600,
                        offset / 60 % 60);
  return out;
}

// The whole file at `path`, or kInvalidArgument with strerror.
absl::StatusOr<std::string> ReadFile(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("calendar file ", Quote(path),
                     ": cannot open: ", std::strerror(errno)));
  }
  std::string text;
  char buf[1 << 14];
  while (true) {
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      close(fd);
      return absl::InvalidArgumentError(absl::StrCat(
          "calendar file ", Quote(path), ": cannot read: ", std::strerror(e)));
    }
    text.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return text;
}

absl::StatusOr<Calendar> LoadCalendar(const std::string& path) {
  absl::StatusOr<std::string> json = ReadFile(path);
  if (!json.ok()) return json.status();
  absl::StatusOr<Calendar> calendar =
      Calendar::FromJson(absl::string_view(json->data(), json->size()));
  if (!calendar.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "calendar file ", Quote(path), ": ", calendar.status().message()));
  }
  return calendar;
}

// Exit code for a failed calendar operation: the inputs determine it, so
// the usual errors are bad input.
int CodeFor(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
      return kExitUsage;
    default:
      return kExitFailed;
  }
}

int RunAdd(const CalendarFlags& f) {
  absl::StatusOr<absl::Time> start = ParseInstant("start", f.start);
  if (!start.ok()) return FailIn("add", start.status().message());
  absl::StatusOr<absl::Duration> duration = ParseBusinessDuration(
      absl::string_view(f.duration.data(), f.duration.size()));
  if (!duration.ok()) return FailIn("add", duration.status().message());
  auto calendar = LoadCalendar(f.calendar);
  if (!calendar.ok()) return FailIn("add", calendar.status().message());

  absl::StatusOr<absl::Time> due = calendar->Add(*start, *duration);
  if (!due.ok()) {
    return FailIn("add", due.status().message(), CodeFor(due.status()));
  }
  std::printf("%s\n", FormatInstant(*due, calendar->zone()).c_str());
  return kExitOk;
}

int RunBetween(const CalendarFlags& f) {
  absl::StatusOr<absl::Time> from = ParseInstant("from", f.from);
  if (!from.ok()) return FailIn("between", from.status().message());
  absl::StatusOr<absl::Time> to = ParseInstant("to", f.to);
  if (!to.ok()) return FailIn("between", to.status().message());
  auto calendar = LoadCalendar(f.calendar);
  if (!calendar.ok()) return FailIn("between", calendar.status().message());

  const absl::Duration d = calendar->Between(*from, *to);
  std::printf("%lld\n", static_cast<long long>(absl::ToInt64Seconds(d)));
  return kExitOk;
}

void AddCalendarFlag(CLI::App* app, std::string* calendar) {
  app->add_option("--calendar", *calendar,
                  "the calendar: CalendarSpec JSON (proto/calendar.proto)")
      ->required()
      ->type_name("FILE.json");
}

void AddTimeFlag(CLI::App* app, const std::string& name, std::string* time,
                 const std::string& description) {
  app->add_option(name, *time, description)->required()->type_name("TIME");
}

}  // namespace

CommandRun SetUpCalendarCommand(CLI::App* app) {
  auto f = std::make_shared<CalendarFlags>();
  app->require_subcommand(1);
  app->footer(kDetails);
  CLI::App* add = app->add_subcommand(
      "add", "print when DURATION of open time has passed since --start");
  AddCalendarFlag(add, &f->calendar);
  AddTimeFlag(add, "--start", &f->start,
              "count from this instant (RFC 3339, whole seconds, offset)");
  add->add_option("--duration", f->duration,
                  "business time to add: 90s, 45m, 4h, 2d, 1h30m")
      ->required()
      ->type_name("DURATION");
  add->footer(kDetails);
  CLI::App* between = app->add_subcommand(
      "between", "print the open time from --from to --to, in seconds");
  AddCalendarFlag(between, &f->calendar);
  AddTimeFlag(between, "--from", &f->from,
              "the first instant (RFC 3339, whole seconds, offset)");
  AddTimeFlag(between, "--to", &f->to,
              "the last instant, exclusive; before --from counts negative");
  between->footer(kDetails);
  return [f, add] { return add->parsed() ? RunAdd(*f) : RunBetween(*f); };
}

}  // namespace slate::tools
