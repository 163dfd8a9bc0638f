// Runs the built `slate` binary (//tools:slate) as a user would and checks
// `slate calendar` exactly: stdout, stderr and exit code of each case,
// including every kind of bad input (exit 2, one line on stderr, nothing on
// stdout). Uses examples/calendars/office-berlin.json, the office calendar
// of issue 4.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"

namespace slate {
namespace {

std::string Runfile(const std::string& path) {
  const char* dir = std::getenv("TEST_SRCDIR");
  return absl::StrCat(dir != nullptr ? dir : ".", "/slate/", path);
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  ASSERT_TRUE(out.good()) << path;
}

struct Result {
  int code = -1;
  std::string out;
  std::string err;
};

std::ostream& operator<<(std::ostream& os, const Result& r) {
  return os << "exit " << r.code << "\nstdout: " << r.out
            << "\nstderr: " << r.err;
}

class SlateCalendarTest : public ::testing::Test {
 protected:
  // Runs `slate <args...>` with stdout and stderr captured in files.
  Result Run(const std::vector<std::string>& args) {
    const std::string out_path = dir_.Sub(absl::StrCat("out", runs_));
    const std::string err_path = dir_.Sub(absl::StrCat("err", runs_));
    ++runs_;
    const std::string binary = Runfile("tools/slate");
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(binary.c_str()));
    for (const std::string& a : args)
      argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    const pid_t pid = fork();
    if (pid == 0) {
      const int out =
          open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      const int err =
          open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (out < 0 || err < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
        _exit(127);
      execv(binary.c_str(), argv.data());
      _exit(127);
    }
    Result r;
    int status = 0;
    EXPECT_GT(pid, 0);
    EXPECT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status)) << "status " << status;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = ReadAll(out_path);
    r.err = ReadAll(err_path);
    return r;
  }

  Result Add(const std::string& start, const std::string& duration,
             const std::string& calendar = "") {
    return Run({"calendar", "add", "--calendar",
                calendar.empty() ? office_ : calendar, "--start", start,
                "--duration", duration});
  }
  Result Between(const std::string& from, const std::string& to,
                 const std::string& calendar = "") {
    return Run({"calendar", "between", "--calendar",
                calendar.empty() ? office_ : calendar, "--from", from, "--to",
                to});
  }

  // Writes `json` to a fresh file and returns its path.
  std::string CalendarFile(const std::string& json) {
    const std::string path = dir_.Sub(absl::StrCat("cal", runs_++, ".json"));
    WriteFile(path, json);
    return path;
  }

  static Result Ok(const std::string& out) { return {0, out + "\n", ""}; }
  static Result Bad(const std::string& err) { return {2, "", err + "\n"}; }

  testing::TempDir dir_;
  int runs_ = 0;
  const std::string office_ = Runfile("examples/calendars/office-berlin.json");
};

void ExpectResult(const Result& got, const Result& want) {
  EXPECT_EQ(got.code, want.code) << got;
  EXPECT_EQ(got.out, want.out) << got;
  EXPECT_EQ(got.err, want.err) << got;
}

TEST_F(SlateCalendarTest, FridayAfternoonPlusFourHoursIsMondayNoon) {
  ExpectResult(Add("2026-11-27T16:00:00+01:00", "4h"),
               Ok("2026-11-30T12:00:00+01:00"));
  // The same instant written in UTC prints in the calendar's zone.
  ExpectResult(Add("2026-11-27T15:00:00Z", "4h"),
               Ok("2026-11-30T12:00:00+01:00"));
  ExpectResult(Add("2026-11-27t15:00:00z", "4h"),
               Ok("2026-11-30T12:00:00+01:00"));
  ExpectResult(Run({"calendar", "add", "--calendar=" + office_, "--duration=4h",
                    "--start=2026-11-27T16:00:00+01:00"}),
               Ok("2026-11-30T12:00:00+01:00"));
}

TEST_F(SlateCalendarTest, AddDurations) {
  const std::string fri = "2026-11-27T16:00:00+01:00";
  ExpectResult(Add(fri, "90s"), Ok("2026-11-27T16:01:30+01:00"));
  ExpectResult(Add(fri, "45m"), Ok("2026-11-27T16:45:00+01:00"));
  ExpectResult(Add(fri, "1h"), Ok("2026-11-27T17:00:00+01:00"));  // The end.
  ExpectResult(Add(fri, "1h30m"), Ok("2026-11-30T09:30:00+01:00"));
  // 2d = 48 business hours: Thu 8 + Fri 7 + Mon-Thu 32 + 1 on Fri Dec 4.
  ExpectResult(Add("2026-11-26T09:00:00+01:00", "2d"),
               Ok("2026-12-04T10:00:00+01:00"));
  ExpectResult(Add("2026-11-26T09:00:00+01:00", "1d23h59m59s"),
               Ok("2026-12-04T09:59:59+01:00"));
  // Friday's lunch break 13:00-14:00: landing on 13:00 returns it.
  ExpectResult(Add("2026-11-27T12:00:00+01:00", "1h"),
               Ok("2026-11-27T13:00:00+01:00"));
  ExpectResult(Add("2026-11-27T12:00:00+01:00", "1h1s"),
               Ok("2026-11-27T14:00:01+01:00"));
  // Zero: the next opening.
  ExpectResult(Add("2026-11-28T10:00:00+01:00", "0s"),
               Ok("2026-11-30T09:00:00+01:00"));
}

TEST_F(SlateCalendarTest, AddOverHolidaysAndSummerTime) {
  // Dec 24 open 09-12, Dec 25 holiday, Sunday Dec 27 extra 10-14.
  ExpectResult(Add("2026-12-24T10:00:00+01:00", "4h"),
               Ok("2026-12-27T12:00:00+01:00"));
  // Summer: the offset printed is the one at the result.
  ExpectResult(Add("2026-07-03T15:00:00Z", "4h"),
               Ok("2026-07-06T13:00:00+02:00"));
  // Friday 2026-10-23 16:00 CEST + 2h: Monday 10:00 CET.
  ExpectResult(Add("2026-10-23T16:00:00+02:00", "2h"),
               Ok("2026-10-26T10:00:00+01:00"));
}

TEST_F(SlateCalendarTest, BetweenPrintsWholeSeconds) {
  ExpectResult(
      Between("2026-11-27T16:00:00+01:00", "2026-11-30T12:00:00+01:00"),
      Ok("14400"));
  ExpectResult(
      Between("2026-11-30T12:00:00+01:00", "2026-11-27T16:00:00+01:00"),
      Ok("-14400"));
  ExpectResult(
      Between("2026-11-27T16:00:00+01:00", "2026-11-27T16:00:00+01:00"),
      Ok("0"));
  ExpectResult(
      Between("2026-11-27T12:59:59+01:00", "2026-11-27T14:00:01+01:00"),
      Ok("2"));
  // Dec 24 09-12 and Dec 27 10-14: 7 hours.
  ExpectResult(
      Between("2026-12-24T00:00:00+01:00", "2026-12-28T00:00:00+01:00"),
      Ok("25200"));
}

TEST_F(SlateCalendarTest, MissingAndUnknownFlags) {
  const std::string start = "2026-11-27T16:00:00+01:00";
  ExpectResult(
      Run({"calendar", "add", "--calendar", office_, "--start", start}),
      Bad("slate calendar add: missing --duration"));
  ExpectResult(Run({"calendar", "add", "--start", start, "--duration", "4h"}),
               Bad("slate calendar add: missing --calendar"));
  ExpectResult(
      Run({"calendar", "between", "--calendar", office_, "--to", start}),
      Bad("slate calendar between: missing --from"));
  ExpectResult(Run({"calendar", "add", "--calendar", office_, "--start", start,
                    "--duration"}),
               Bad("slate calendar add: flag --duration needs a value"));
  ExpectResult(Run({"calendar", "add", "--calendar", office_, "--start", start,
                    "--duration", "4h", "--duration", "1h"}),
               Bad("slate calendar add: flag --duration given twice"));
  ExpectResult(Run({"calendar", "add", "--calendar", office_, "--start", start,
                    "--duration", "4h", "--from", start}),
               Bad("slate calendar add: unknown flag --from (flags: "
                   "--calendar, --start, --duration)"));
  ExpectResult(Run({"calendar", "add", "--calendar", office_, "--start", start,
                    "--duration", "4h", "extra"}),
               Bad("slate calendar add: unexpected argument \"extra\""));
  ExpectResult(Run({"calendar"}),
               Bad("slate calendar: missing subcommand: add or between (try: "
                   "slate calendar help)"));
  ExpectResult(
      Run({"calendar", "sub"}),
      Bad("slate calendar: unknown subcommand \"sub\" (try: slate calendar "
          "help)"));
}

TEST_F(SlateCalendarTest, HelpGoesToStdout) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"calendar", "help"},
                                             {"calendar", "--help"},
                                             {"calendar", "add", "-h"}}) {
    Result r = Run(args);
    EXPECT_EQ(r.code, 0) << r;
    EXPECT_EQ(r.err, "") << r;
    EXPECT_EQ(r.out.substr(0, r.out.find('\n')),
              "usage: slate calendar add --calendar FILE.json --start TIME "
              "--duration DURATION")
        << r;
  }
}

TEST_F(SlateCalendarTest, BadCalendarFiles) {
  const std::string start = "2026-11-27T16:00:00+01:00";
  const std::string missing = dir_.Sub("missing.json");
  ExpectResult(Add(start, "4h", missing),
               Bad("slate calendar add: calendar file \"" + missing +
                   "\": cannot open: No such file or directory"));
  ExpectResult(Add(start, "4h", dir_.path()),
               Bad("slate calendar add: calendar file \"" + dir_.path() +
                   "\": cannot read: Is a directory"));
  const std::string bad_json = CalendarFile("{\"name\": \"x\", ");
  ExpectResult(Add(start, "4h", bad_json),
               Bad("slate calendar add: calendar file \"" + bad_json +
                   "\": calendar JSON: INVALID_ARGUMENT:Unexpected end of "
                   "string. Expected an object key or }.  ^"));
  const std::string unknown_field = CalendarFile(
      R"({"name":"x","timeZone":"UTC","alwaysOpen":true,"color":"red"})");
  ExpectResult(Add(start, "4h", unknown_field),
               Bad("slate calendar add: calendar file \"" + unknown_field +
                   "\": calendar JSON: INVALID_ARGUMENT:color: Cannot find "
                   "field."));
  const std::string bad_end = CalendarFile(
      R"({"name":"x","timeZone":"Europe/Berlin",
          "weekly":[{"day":"MONDAY","start":"09:00","end":"25:00"}]})");
  ExpectResult(Add(start, "4h", bad_end),
               Bad("slate calendar add: calendar file \"" + bad_end +
                   "\": calendar x: weekly[0].end \"25:00\" is not HH:MM"));
  const std::string bad_zone =
      CalendarFile(R"({"name":"x","timeZone":"Mars/Base","alwaysOpen":true})");
  ExpectResult(Between(start, start, bad_zone),
               Bad("slate calendar between: calendar file \"" + bad_zone +
                   "\": calendar x: timeZone \"Mars/Base\" is not a known "
                   "IANA time zone"));
}

TEST_F(SlateCalendarTest, CalendarNeverOpenAgain) {
  const std::string ended = CalendarFile(
      R"({"name":"ended","timeZone":"Europe/Berlin","alwaysOpen":true,
          "validTo":"2020-12-31"})");
  ExpectResult(Add("2026-11-27T16:00:00+01:00", "1s", ended),
               Bad("slate calendar add: calendar ended: never open at or "
                   "after 2020-12-31T23:00:00+00:00"));
  // Between has nothing to refuse: no open time is 0.
  ExpectResult(
      Between("2026-11-27T16:00:00+01:00", "2026-11-30T12:00:00+01:00", ended),
      Ok("0"));
}

TEST_F(SlateCalendarTest, BadTimes) {
  const std::string like =
      ": not an RFC 3339 time like 2026-11-27T16:00:00+01:00";
  for (const std::string& t : {std::string(""), std::string("tomorrow"),
                               std::string("2026-11-27 16:00:00+01:00"),
                               std::string("2026-11-27T16:00:00"),
                               std::string("2026-11-27T16:00+01:00"),
                               std::string("2026-11-27T16:00:00+0100"),
                               std::string(" 2026-11-27T16:00:00Z"),
                               std::string("2026-02-30T16:00:00Z"),
                               std::string("2026-11-27T16:00:00+24:00"),
                               std::string("infinite-future")}) {
    ExpectResult(Add(t, "4h"),
                 Bad("slate calendar add: --start \"" + t + "\"" + like));
  }
  ExpectResult(Add("2026-11-27T16:00:00.5+01:00", "4h"),
               Bad("slate calendar add: --start "
                   "\"2026-11-27T16:00:00.5+01:00\": fractional seconds are "
                   "not supported"));
  ExpectResult(Between("2026-11-27T16:00:00+01:00", "x"),
               Bad("slate calendar between: --to \"x\"" + like));
  ExpectResult(Add("2026-11-27T16:00:00\n+01:00", "4h"),
               Bad("slate calendar add: --start "
                   "\"2026-11-27T16:00:00\\n+01:00\"" +
                   like));
}

TEST_F(SlateCalendarTest, BadDurations) {
  const std::string hint = " (use e.g. 90s, 45m, 4h, 2d, 1h30m)";
  const std::string start = "2026-11-27T16:00:00+01:00";
  ExpectResult(Add(start, ""),
               Bad("slate calendar add: duration \"\": is empty" + hint));
  ExpectResult(Add(start, "4"),
               Bad("slate calendar add: duration \"4\": a number needs a unit "
                   "(d, h, m or s)" +
                   hint));
  ExpectResult(Add(start, "-1h"),
               Bad("slate calendar add: duration \"-1h\": must not have a "
                   "sign" +
                   hint));
  ExpectResult(Add(start, "1.5h"),
               Bad("slate calendar add: duration \"1.5h\": fractions are not "
                   "supported" +
                   hint));
  ExpectResult(Add(start, "99999999999999d"),
               Bad("slate calendar add: duration \"99999999999999d\": is too "
                   "large (at most 9223372036854s)" +
                   hint));
  // Parsed, but beyond the calendar's supported range (year 9999).
  ExpectResult(Add("9999-12-31T00:00:00Z", "400d"),
               Bad("slate calendar add: calendar office-berlin: no open time "
                   "before year 10000, the end of the supported range"));
}

}  // namespace
}  // namespace slate
