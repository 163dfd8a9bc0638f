// Runs the built `slate` binary: `slate exec` defines a calendar, a policy
// and a P1 incident; `slate tick` prints the warnings and breaches it
// appended (and nothing the second time); `slate at-risk` lists, filters
// and limits by deadline; --tenant answers for one tenant; bad usage exits
// 2.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
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

struct Result {
  int code = -1;
  std::string out;
  std::string err;
};

std::ostream& operator<<(std::ostream& os, const Result& r) {
  return os << "exit " << r.code << "\nstdout: " << r.out
            << "\nstderr: " << r.err;
}

class SlaToolsTest : public ::testing::Test {
 protected:
  Result Run(const std::vector<std::string>& args,
             const std::string& stdin_path = "") {
    const std::string out_path = dir_.Sub(absl::StrCat("out", runs_));
    const std::string err_path = dir_.Sub(absl::StrCat("err", runs_));
    ++runs_;
    const std::string binary = Runfile("tools/slate");
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(binary.c_str()));
    for (const std::string& a : args) {
      argv.push_back(const_cast<char*>(a.c_str()));
    }
    argv.push_back(nullptr);
    const pid_t pid = fork();
    if (pid == 0) {
      const int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      const int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (out < 0 || err < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) {
        _exit(127);
      }
      if (!stdin_path.empty()) {
        const int in = open(stdin_path.c_str(), O_RDONLY);
        if (in < 0 || dup2(in, 0) < 0) _exit(127);
      }
      execv(binary.c_str(), argv.data());
      _exit(127);
    }
    Result r;
    int status = 0;
    EXPECT_GT(pid, 0);
    EXPECT_EQ(waitpid(pid, &status, 0), pid);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = ReadAll(out_path);
    r.err = ReadAll(err_path);
    return r;
  }

  void SetUp() override {
    db_ = dir_.Sub("db");
    const std::string calendar =
        ReadAll(Runfile("examples/calendars/office-berlin.json"));
    std::string cal_line;
    for (char c : calendar) cal_line += (c == '\n' ? ' ' : c);
    const std::string script = absl::StrCat(
        R"({"defineCalendar":{"at":"2026-11-01T00:00:00Z","spec":)", cal_line,
        "}}\n",
        R"({"defineSlaPolicy":{"at":"2026-11-01T00:00:00Z","policy":{"id":"p1","calendarId":"office-berlin","appliesTo":{"recordTypes":["incident"]},"targets":[{"priority":1,"resolution":"4h"},{"priority":2,"resolution":"8h"}],"resolution":{"start":{"events":["incident_opened"]},"stop":{"states":["resolved","closed"]}}}}})",
        "\n",
        R"({"defineService":{"serviceId":"email","name":"E-mail","at":"2026-11-01T00:00:00Z"}})",
        "\n",
        R"({"defineService":{"serviceId":"vpn","name":"VPN","at":"2026-11-01T00:00:00Z"}})",
        "\n",
        // Monday 09:00 Berlin: P1, due 13:00 Berlin (12:00Z).
        R"({"openIncident":{"incidentId":"INC1","at":"2026-11-23T08:00:00Z","serviceId":"email","impact":1,"urgency":1}})",
        "\n",
        R"({"assignIncident":{"incidentId":"INC1","at":"2026-11-23T08:00:00Z","group":"net"}})",
        "\n",
        // Monday 10:00 Berlin: P2, due 18:00 Berlin = Tuesday 10:00 Berlin.
        R"({"openIncident":{"incidentId":"INC2","at":"2026-11-23T09:00:00Z","serviceId":"vpn","impact":1,"urgency":2}})",
        "\n");
    const std::string path = dir_.Sub("script.jsonl");
    std::ofstream(path) << script;
    Result r = Run({"exec", "--db", db_, "--now", "2026-11-23T09:00:00Z",
                    path});
    ASSERT_EQ(r.code, 0) << r;
  }

  slate::testing::TempDir dir_;
  std::string db_;
  int runs_ = 0;
};

TEST_F(SlaToolsTest, TickPrintsWhatItAppendedOnce) {
  Result r = Run({"tick", "--db", db_, "--now", "2026-11-23T11:59:59Z"});
  ASSERT_EQ(r.code, 0) << r;
  // In people's units, times in the policy calendar's zone (Berlin).
  EXPECT_EQ(r.out,
            "2026-11-23T10:00:00Z  resolution 50% warning on incident/INC1 "
            "(policy p1, cycle 1), due Mon 2026-11-23 11:00 CET: 2h of 4h "
            "business time\n"
            "2026-11-23T11:00:00Z  resolution 75% warning on incident/INC1 "
            "(policy p1, cycle 1), due Mon 2026-11-23 12:00 CET: 3h of 4h "
            "business time\n"
            "2026-11-23T11:36:00Z  resolution 90% warning on incident/INC1 "
            "(policy p1, cycle 1), due Mon 2026-11-23 12:36 CET: 3h36m of 4h "
            "business time\n")
      << r;
  r = Run({"tick", "--db", db_, "--now", "2026-11-23T12:00:00Z"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_EQ(r.out,
            "2026-11-23T12:00:00Z  resolution breached on incident/INC1 "
            "(policy p1, cycle 1) at Mon 2026-11-23 13:00 CET: the 4h of "
            "business time used up\n")
      << r;
  r = Run({"tick", "--db", db_, "--now", "2026-11-23T12:00:00Z"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_EQ(r.out, "");
}

TEST_F(SlaToolsTest, AtRiskListsSoonestFirstWithFilters) {
  Result r = Run({"at-risk", "--db", db_, "--now", "2026-11-23T09:00:00Z",
                  "--within", "2d"});
  ASSERT_EQ(r.code, 0) << r;
  std::vector<std::string> lines =
      absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u) << r;
  EXPECT_TRUE(absl::StartsWith(lines[0], "deadline\trecord"));
  EXPECT_TRUE(absl::StartsWith(lines[1],
                               "2026-11-23T12:00:00Z\tincident/INC1\tp1\t"
                               "resolution\t1\t1\tnet\temail\t"))
      << lines[1];
  EXPECT_TRUE(absl::StartsWith(lines[2],
                               "2026-11-24T09:00:00Z\tincident/INC2\tp1\t"
                               "resolution\t1\t2\t-\tvpn\t"))
      << lines[2];

  r = Run({"at-risk", "--db", db_, "--now", "2026-11-23T09:00:00Z",
           "--within", "8h"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_EQ(std::vector<std::string>(absl::StrSplit(r.out, '\n',
                                                    absl::SkipEmpty()))
                .size(),
            2u)
      << r;
  r = Run({"at-risk", "--db", db_, "--now", "2026-11-23T09:00:00Z",
           "--within", "2d", "--service", "vpn"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_NE(r.out.find("incident/INC2"), std::string::npos) << r;
  EXPECT_EQ(r.out.find("incident/INC1"), std::string::npos) << r;
  r = Run({"at-risk", "--db", db_, "--now", "2026-11-23T09:00:00Z",
           "--within", "2d", "--top", "1"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_NE(r.out.find("incident/INC1"), std::string::npos) << r;
  EXPECT_EQ(r.out.find("incident/INC2"), std::string::npos) << r;
  r = Run({"at-risk", "--db", db_, "--now", "2026-11-23T09:00:00Z",
           "--within", "2d", "--group", "net"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_EQ(r.out.find("incident/INC2"), std::string::npos) << r;
}

TEST_F(SlaToolsTest, ExplainPrintsTheTimelineWindowsAndThresholds) {
  // INC1 (P1, 4h from Monday 09:00 Berlin) ticked to its 50% warning.
  ASSERT_EQ(Run({"tick", "--db", db_, "--now", "2026-11-23T10:00:00Z"}).code,
            0);
  Result r = Run({"explain", "--db", db_, "incident", "INC1"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_TRUE(absl::StrContains(
      r.out, "incident/INC1  policy p1  resolution  cycle 1  calendar "
             "office-berlin (Europe/Berlin)"))
      << r;
  EXPECT_TRUE(absl::StrContains(r.out, "started    target 4h (priority 1)"))
      << r;
  EXPECT_TRUE(absl::StrContains(
      r.out, "Mon 2026-11-23 09:00 CET - Mon 2026-11-23 11:00 CET  2h"))
      << r;
  EXPECT_TRUE(absl::StrContains(
      r.out, "50% warning at 2h of business time: fired, due Mon 2026-11-23 "
             "11:00 CET"))
      << r;
  EXPECT_TRUE(absl::StrContains(
      r.out, "breach at 4h of business time: due Mon 2026-11-23 13:00 CET"))
      << r;
  r = Run({"explain", "--db", db_, "incident", "INC1", "--format", "json"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_TRUE(absl::StrContains(r.out, "\"deadline\":\"2026-11-23T12:00:00Z\""))
      << r;
  r = Run({"explain", "--db", db_, "incident", "INC1", "--metric",
           "response"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_TRUE(absl::StrContains(
      r.out, "incident/INC1 has no SLA clocks matching the filters"))
      << r;
  EXPECT_EQ(Run({"explain", "--db", db_, "incident", "NOPE"}).code, 1);
  EXPECT_EQ(Run({"explain", "--db", db_, "problem", "INC1"}).code, 2);
  EXPECT_EQ(Run({"explain", "--db", db_, "incident", "INC1", "--metric",
                 "speed"})
                .code,
            2);
}

TEST_F(SlaToolsTest, WhatIfComparesCompliance) {
  // INC1 (P1, 4h) resolved after 5h of business time: breached; with a 6h
  // P1 target it would be met.
  const std::string resolve = dir_.Sub("resolve.jsonl");
  std::ofstream(resolve)
      << R"({"resolveIncident":{"incidentId":"INC1","at":"2026-11-23T13:00:00Z","resolutionCode":"fixed"}})"
      << "\n";
  ASSERT_EQ(Run({"exec", "--db", db_, "--now", "2026-11-23T13:00:00Z",
                 resolve})
                .code,
            0);
  const std::string policies = dir_.Sub("p1-6h.json");
  std::ofstream(policies)
      << R"([{"id":"p1","calendarId":"office-berlin","appliesTo":{"recordTypes":["incident"]},"targets":[{"priority":1,"resolution":"6h"},{"priority":2,"resolution":"8h"}],"resolution":{"start":{"events":["incident_opened"]},"stop":{"states":["resolved","closed"]}}}])";
  Result r = Run({"whatif", "--db", db_, "--policies", policies,
                  "--list-flips", "3"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_TRUE(absl::StrContains(
      r.out, "p1\tresolution\t-\t0\t1\t0.0%\t1\t0\t100.0%\t1\n"))
      << r;
  EXPECT_TRUE(absl::StrContains(
      r.out, "incident/INC1 p1 resolution cycle 1: breached -> met (target "
             "4h -> 6h; business time used 5h)"))
      << r;
  r = Run({"whatif", "--db", db_, "--policies", policies, "--format",
           "json", "--by", "service"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_TRUE(absl::StrContains(r.out, "\"key\":\"email\"")) << r;
  // A policy naming a calendar defined nowhere, and a file that is not one.
  std::ofstream(policies)
      << R"({"id":"p9","calendarId":"mars","appliesTo":{"recordTypes":["incident"]},"targets":[{"priority":1,"resolution":"6h"}],"resolution":{"start":{"events":["incident_opened"]},"stop":{"states":["resolved","closed"]}}})";
  r = Run({"whatif", "--db", db_, "--policies", policies});
  EXPECT_EQ(r.code, 2) << r;
  EXPECT_TRUE(absl::StrContains(r.err, "mars")) << r;
  EXPECT_EQ(Run({"whatif", "--db", db_, "--policies", dir_.Sub("none")}).code,
            2);
}

// show --clocks lists stopped clocks too (at-risk shows running ones only).
TEST_F(SlaToolsTest, ShowClocksListsMetAndBreachedClocks) {
  const std::string resolve = dir_.Sub("resolve2.jsonl");
  std::ofstream(resolve)
      << R"({"resolveIncident":{"incidentId":"INC2","at":"2026-11-23T10:00:00Z","resolutionCode":"fixed"}})"
      << "\n";
  ASSERT_EQ(Run({"exec", "--db", db_, "--now", "2026-11-23T10:00:00Z",
                 resolve})
                .code,
            0);
  Result r = Run({"show", "incident", "INC2", "--db", db_, "--clocks"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_TRUE(absl::StrContains(
      r.out, "  sla clocks:\n    p1 resolution cycle 1: MET (STOPPED), "
             "target 8h, used 1h (12.5%), paused 0, deadline "
             "2026-11-24T09:00:00Z, stopped 2026-11-23T10:00:00Z\n"))
      << r;
  r = Run({"show", "incident", "INC2", "--db", db_, "--clocks", "--format",
           "json"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_TRUE(absl::StrContains(r.out, "\"slaClocks\":[{")) << r;
  EXPECT_TRUE(absl::StrContains(r.out, "SLA_CLOCK_STATUS_MET")) << r;
  EXPECT_EQ(Run({"show", "service", "email", "--db", db_, "--clocks"}).code,
            2);
}

TEST_F(SlaToolsTest, BadUsageExitsTwo) {
  EXPECT_EQ(Run({"tick", "--db", db_}).code, 2);
  EXPECT_EQ(Run({"tick", "--db", db_, "--now", "yesterday"}).code, 2);
  EXPECT_EQ(Run({"at-risk", "--db", db_, "--now", "2026-11-23T09:00:00Z"})
                .code,
            2);
  EXPECT_EQ(Run({"at-risk", "--db", db_, "--now", "2026-11-23T09:00:00Z",
                 "--within", "soon"})
                .code,
            2);
}

// --tenant on at-risk, tick, explain and whatif: tenant acme has its own
// p1 (P1 resolution 2h) and its own INC1, opened as the default tenant's.
TEST_F(SlaToolsTest, TenantFlagAnswersForOneTenant) {
  const std::string script = dir_.Sub("acme.jsonl");
  std::ofstream(script)
      << R"({"defineSlaPolicy":{"at":"2026-11-01T00:00:00Z","policy":{"id":"p1","calendarId":"office-berlin","appliesTo":{"recordTypes":["incident"]},"targets":[{"priority":1,"resolution":"2h"},{"priority":2,"resolution":"8h"}],"resolution":{"start":{"events":["incident_opened"]},"stop":{"states":["resolved","closed"]}}}}})"
      << "\n"
      << R"({"openIncident":{"incidentId":"INC1","at":"2026-11-23T08:00:00Z","serviceId":"email","impact":1,"urgency":1}})"
      << "\n";
  Result r = Run({"exec", "--db", db_, "--now", "2026-11-23T09:00:00Z",
                  "--tenant", "acme", script});
  ASSERT_EQ(r.code, 0) << r;

  r = Run({"at-risk", "--db", db_, "--now", "2026-11-23T09:00:00Z", "--within",
           "2d", "--tenant", "acme"});
  ASSERT_EQ(r.code, 0) << r;
  std::vector<std::string> lines =
      absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << r;
  EXPECT_TRUE(absl::StartsWith(lines[1],
                               "2026-11-23T10:00:00Z\ttenant/acme/incident/"
                               "INC1\tp1\tresolution\t1\t1\t-\temail\t"))
      << lines[1];
  r = Run({"at-risk", "--db", db_, "--now", "2026-11-23T09:00:00Z", "--within",
           "2d"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_EQ(r.out.find("tenant/"), std::string::npos) << r;
  EXPECT_NE(r.out.find("2026-11-23T12:00:00Z\tincident/INC1"),
            std::string::npos)
      << r;

  r = Run({"explain", "--db", db_, "incident", "INC1", "--tenant", "acme"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_TRUE(absl::StrContains(
      r.out, "tenant/acme/incident/INC1  policy p1  resolution  cycle 1"))
      << r;
  EXPECT_TRUE(absl::StrContains(r.out, "started    target 2h (priority 1)"))
      << r;
  EXPECT_EQ(
      Run({"explain", "--db", db_, "incident", "INC2", "--tenant", "acme"})
          .code,
      1);

  // tick --tenant prints acme's events only; every tenant's fired.
  r = Run({"tick", "--db", db_, "--now", "2026-11-23T12:00:00Z", "--tenant",
           "acme"});
  ASSERT_EQ(r.code, 0) << r;
  lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 4u) << r;  // 3 warnings and the breach.
  for (const std::string& line : lines) {
    EXPECT_TRUE(absl::StrContains(line, " on tenant/acme/incident/INC1 "))
        << line;
  }
  EXPECT_TRUE(absl::StartsWith(lines[3],
                               "2026-11-23T10:00:00Z  resolution "
                               "breached on tenant/acme/incident/"
                               "INC1 (policy p1, cycle 1)"))
      << lines[3];
  r = Run({"tick", "--db", db_, "--now", "2026-11-23T12:00:00Z"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_EQ(r.out, "");

  // whatif --tenant: acme's records, as of acme's last record event (the
  // default tenant's history ends at 09:00).
  const std::string policies = dir_.Sub("p1-1h.json");
  std::ofstream(policies)
      << R"([{"id":"p1","calendarId":"office-berlin","appliesTo":{"recordTypes":["incident"]},"targets":[{"priority":1,"resolution":"1h"}],"resolution":{"start":{"events":["incident_opened"]},"stop":{"states":["resolved","closed"]}}}])";
  r = Run({"whatif", "--db", db_, "--policies", policies, "--tenant", "acme",
           "--format", "json"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_TRUE(absl::StartsWith(r.out, "{\"as_of\":\"2026-11-23T08:00:00Z\""))
      << r;
  r = Run({"whatif", "--db", db_, "--policies", policies, "--format", "json"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_TRUE(absl::StartsWith(r.out, "{\"as_of\":\"2026-11-23T09:00:00Z\""))
      << r;

  EXPECT_EQ(Run({"at-risk", "--db", db_, "--now", "2026-11-23T09:00:00Z",
                 "--within", "2d", "--tenant", "Bad!"})
                .code,
            2);
  EXPECT_EQ(Run({"tick", "--db", db_, "--now", "2026-11-23T12:00:00Z",
                 "--tenant", "-x"})
                .code,
            2);
}

}  // namespace
}  // namespace slate
