// `slate metrics`: runs a scripted scenario with the built tool (policies,
// incidents opened, acknowledged, put on hold; `slate tick` fires a
// response breach), prints the metrics, and reads them with a strict
// OpenMetrics parser (openmetrics_check.py, run by python3), then checks
// every family's name, type and unit and the values the scenario implies.
// The parser itself must refuse broken text: a set of malformed samples,
// and the tool's own output broken in a few ways, each fail with the
// reason.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/api/engine.h"
#include "lib/api/version.h"
#include "tests/report/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace slate {
namespace {

using ::slate::testing::ProcessResult;
using ::slate::testing::Runfile;
using ::slate::testing::RunProcess;
using ::testing::HasSubstr;

constexpr char kPython[] = "/usr/bin/python3";

// What the parser read: families (name -> type, unit, help) and samples
// (series as written -> value).
struct Parsed {
  struct Family {
    std::string type, unit, help;
  };
  std::map<std::string, Family> families;
  std::vector<std::string> family_order;
  std::map<std::string, std::string> samples;
  std::map<std::string, std::string> sample_family;
};

class SlateMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(kPython))
        << kPython << " runs the OpenMetrics parser; ./dev.sh setup "
        << "installs it";
  }

  ProcessResult Slate(std::vector<std::string> args) {
    args.insert(args.begin(), Runfile("tools/slate"));
    return RunProcess(args, tmp_.Sub(absl::StrCat("run", runs_++)));
  }

  std::string WriteFile(const std::string& text) {
    const std::string path = tmp_.Sub(absl::StrCat("file", files_++));
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  // Runs the parser on `text`.
  ProcessResult Check(const std::string& text) {
    return RunProcess(
        {kPython, Runfile("tests/tools/openmetrics_check.py"), WriteFile(text)},
        tmp_.Sub(absl::StrCat("check", runs_++)));
  }

  // Parses `text`, which must be valid.
  Parsed MustParse(const std::string& text) {
    ProcessResult r = Check(text);
    EXPECT_EQ(r.code, 0) << r << "\ntext:\n" << text;
    EXPECT_EQ(r.err, "");
    Parsed p;
    for (absl::string_view line :
         absl::StrSplit(r.out, '\n', absl::SkipEmpty())) {
      std::vector<std::string> f = absl::StrSplit(line, '\t');
      if (f[0] == "family" && f.size() == 5) {
        p.families[f[1]] = {f[2], f[3], f[4]};
        p.family_order.push_back(f[1]);
      } else if (f[0] == "sample" && f.size() == 4) {
        p.samples[f[2]] = f[3];
        p.sample_family[f[2]] = f[1];
      } else {
        ADD_FAILURE() << "parser output: " << line;
      }
    }
    return p;
  }

  // The reason the parser gives for refusing `text` ("" if it accepts it).
  std::string Refusal(const std::string& text) {
    ProcessResult r = Check(text);
    if (r.code == 0) return "";
    EXPECT_EQ(r.code, 1) << r;
    EXPECT_TRUE(absl::StartsWith(r.err, "openmetrics_check: line ")) << r;
    return r.err;
  }

  testing::TempDir tmp_;
  int runs_ = 0;
  int files_ = 0;
};

double Value(const Parsed& p, const std::string& series) {
  auto it = p.samples.find(series);
  if (it == p.samples.end()) {
    ADD_FAILURE() << "no sample " << series;
    return -1;
  }
  double v = 0;
  EXPECT_TRUE(absl::SimpleAtod(it->second, &v)) << series;
  return v;
}

// The scenario, as `slate exec` lines: two policies (one for changes only,
// so it attaches to nothing), a service, three P1 incidents opened at 09:00,
// INC1 and INC2 acknowledged at 09:10, INC2 on hold from 09:15.
constexpr char kScenario[] =
    R"({"defineSlaPolicy":{"at":"2026-11-27T08:00:00Z","policy":{"id":"p-fast","name":"P1 around the clock","appliesTo":{"recordTypes":["incident"]},"targets":[{"priority":1,"response":"30m","resolution":"4h"}],"calendarId":"24x7","response":{"start":{"events":["incident_opened"]},"stop":{"events":["incident_acknowledged"]},"cancel":{"states":["cancelled"]}},"resolution":{"start":{"events":["incident_opened"]},"pause":{"states":["on_hold"]},"stop":{"states":["resolved","closed"]},"cancel":{"states":["cancelled"]}}}}}
{"defineSlaPolicy":{"at":"2026-11-27T08:00:00Z","policy":{"id":"p-idle","name":"changes","appliesTo":{"recordTypes":["change"]},"targets":[{"priority":1,"resolution":"8h"}],"calendarId":"24x7","resolution":{"start":{"events":["change_requested"]},"stop":{"states":["closed"]}}}}}
{"defineService":{"serviceId":"email","at":"2026-11-27T08:00:00Z","name":"E-mail"}}
{"openIncident":{"incidentId":"INC1","at":"2026-11-27T09:00:00Z","serviceId":"email","impact":1,"urgency":1}}
{"openIncident":{"incidentId":"INC2","at":"2026-11-27T09:00:00Z","serviceId":"email","impact":1,"urgency":1}}
{"openIncident":{"incidentId":"INC3","at":"2026-11-27T09:00:00Z","serviceId":"email","impact":1,"urgency":1}}
{"acknowledgeIncident":{"incidentId":"INC1","at":"2026-11-27T09:10:00Z","by":"desk"}}
{"acknowledgeIncident":{"incidentId":"INC2","at":"2026-11-27T09:10:00Z","by":"desk"}}
{"assignIncident":{"incidentId":"INC2","at":"2026-11-27T09:11:00Z","group":"mail","person":"ann"}}
{"startIncident":{"incidentId":"INC2","at":"2026-11-27T09:12:00Z"}}
{"holdIncident":{"incidentId":"INC2","at":"2026-11-27T09:15:00Z","reason":"AWAITING_VENDOR"}}
)";

TEST_F(SlateMetricsTest, ScenarioMetricsParseStrictlyWithTheExpectedValues) {
  const std::string db = tmp_.Sub("db");
  ProcessResult r = Slate({"exec", "--db", db, "--now", "2026-11-27T09:20:00Z",
                           WriteFile(kScenario)});
  ASSERT_EQ(r.code, 0) << r;
  // INC3's response (30 min) warns at 50/75/90 % and breaches at 09:30.
  r = Slate({"tick", "--db", db, "--now", "2026-11-27T09:45:00Z"});
  ASSERT_EQ(r.code, 0) << r;
  ASSERT_THAT(r.out, HasSubstr("response breached on incident/INC3 (policy p-fast, cycle 1)"));
  r = Slate({"log", "--db", db});
  ASSERT_EQ(r.code, 0) << r;
  const int64_t events = std::count(r.out.begin(), r.out.end(), '\n');
  // 11 commands, 14 events (an open also sets the priority), and 4 SLA
  // events.
  ASSERT_EQ(events, 18) << r.out;

  r = Slate({"metrics", "--db", db, "--now", "2026-11-27T09:45:00Z", "--within",
             "4h"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_EQ(r.err, "");
  const std::string text = r.out;
  Parsed p = MustParse(text);
  SCOPED_TRACE(text);

  // Every family: its type and unit, in this order; a help text each.
  const std::vector<std::pair<std::string, std::pair<std::string, std::string>>>
      want = {
          {"slate_build", {"info", ""}},
          {"slate_events_appended", {"counter", ""}},
          {"slate_log_events", {"gauge", ""}},
          {"slate_commands", {"counter", ""}},
          {"slate_command_duration_seconds", {"histogram", "seconds"}},
          {"slate_append_duration_seconds", {"histogram", "seconds"}},
          {"slate_projection_lag_events", {"gauge", ""}},
          {"slate_projection_snapshot_lag_events", {"gauge", ""}},
          {"slate_projection_snapshot_age_seconds", {"gauge", "seconds"}},
          {"slate_sla_open_clocks", {"gauge", ""}},
          {"slate_sla_at_risk_clocks", {"gauge", ""}},
          {"slate_sla_at_risk_horizon_seconds", {"gauge", "seconds"}},
          {"slate_sla_breached_open_clocks", {"gauge", ""}},
      };
  std::vector<std::string> want_order;
  for (const auto& [name, type_unit] : want) {
    want_order.push_back(name);
    ASSERT_EQ(p.families.count(name), 1u) << name;
    EXPECT_EQ(p.families[name].type, type_unit.first) << name;
    EXPECT_EQ(p.families[name].unit, type_unit.second) << name;
    EXPECT_FALSE(p.families[name].help.empty()) << name;
    // A name carries its unit, and a unit-like suffix declares it.
    EXPECT_EQ(absl::EndsWith(name, "_seconds"), type_unit.second == "seconds")
        << name;
    EXPECT_TRUE(absl::StartsWith(name, "slate_")) << name;
  }
  EXPECT_EQ(p.family_order, want_order);

  EXPECT_EQ(Value(p, absl::StrCat("slate_build_info{version=\"", SLATE_VERSION,
                                  "\",log_format=\"", Engine::FormatVersion(),
                                  "\"}")),
            1);
  EXPECT_EQ(Value(p, "slate_log_events"), events);
  // Counters count what this process did: it only read.
  EXPECT_EQ(Value(p, "slate_events_appended_total"), 0);
  EXPECT_EQ(Value(p, "slate_commands_total{code=\"ok\"}"), 0);
  EXPECT_EQ(Value(p, "slate_commands_total{code=\"failed_precondition\"}"), 0);
  int codes = 0;
  for (const auto& [series, family] : p.sample_family) {
    if (family == "slate_commands") ++codes;
  }
  EXPECT_EQ(codes, 17) << "one series per absl::StatusCode";
  EXPECT_EQ(Value(p, "slate_command_duration_seconds_count"), 0);
  EXPECT_EQ(Value(p, "slate_append_duration_seconds_bucket{le=\"+Inf\"}"), 0);
  EXPECT_EQ(Value(p, "slate_append_duration_seconds_sum"), 0);
  for (const char* proj : {"views", "sla", "kpi"}) {
    const std::string l = absl::StrCat("{projection=\"", proj, "\"}");
    EXPECT_EQ(Value(p, "slate_projection_lag_events" + l), 0) << proj;
    // The last process snapshotted as it closed.
    EXPECT_EQ(Value(p, "slate_projection_snapshot_lag_events" + l), 0) << proj;
    const double age = Value(p, "slate_projection_snapshot_age_seconds" + l);
    EXPECT_GE(age, 0) << proj;
    EXPECT_LT(age, 600) << proj;
  }
  // INC1 and INC3 resolution running, INC2 resolution paused, INC3 response
  // breached and still running (INC1's and INC2's responses are met).
  EXPECT_EQ(Value(p, "slate_sla_open_clocks{state=\"running\"}"), 2);
  EXPECT_EQ(Value(p, "slate_sla_open_clocks{state=\"paused\"}"), 1);
  EXPECT_EQ(Value(p, "slate_sla_open_clocks{state=\"breached\"}"), 1);
  EXPECT_EQ(Value(p, "slate_sla_breached_open_clocks{policy=\"p-fast\"}"), 1);
  EXPECT_EQ(Value(p, "slate_sla_breached_open_clocks{policy=\"p-idle\"}"), 0);
  // Due 13:00, within 4 h of 09:45: INC1's and INC3's resolutions.
  EXPECT_EQ(Value(p, "slate_sla_at_risk_clocks{policy=\"p-fast\"}"), 2);
  EXPECT_EQ(Value(p, "slate_sla_at_risk_clocks{policy=\"p-idle\"}"), 0);
  EXPECT_EQ(Value(p, "slate_sla_at_risk_horizon_seconds"), 4 * 3600);

  // The default horizon (1 h) reaches no deadline.
  r = Slate({"metrics", "--db", db, "--now", "2026-11-27T09:45:00Z"});
  ASSERT_EQ(r.code, 0) << r;
  Parsed p1 = MustParse(r.out);
  EXPECT_EQ(Value(p1, "slate_sla_at_risk_clocks{policy=\"p-fast\"}"), 0);
  EXPECT_EQ(Value(p1, "slate_sla_at_risk_horizon_seconds"), 3600);

  // The tool's own output, broken: each is refused.
  EXPECT_THAT(Refusal(absl::StrReplaceAll(text, {{"# EOF\n", ""}})),
              HasSubstr("does not end with # EOF"));
  EXPECT_THAT(Refusal(absl::StrReplaceAll(text, {{"slate_events_appended_total",
                                                  "slate_events_appended"}})),
              HasSubstr("belongs to no family"));
  EXPECT_THAT(
      Refusal(absl::StrReplaceAll(
          text,
          {{"slate_command_duration_seconds_bucket{le=\"+Inf\"} 0\n", ""}})),
      HasSubstr("+Inf"));
  EXPECT_THAT(Refusal(absl::StrReplaceAll(
                  text, {{"# UNIT slate_sla_at_risk_horizon_seconds seconds",
                          "# UNIT slate_sla_at_risk_horizon_seconds hours"}})),
              HasSubstr("does not end with its unit"));
  EXPECT_THAT(Refusal(absl::StrCat(text, "slate_log_events 1\n")),
              HasSubstr("does not end with # EOF"));
}

TEST_F(SlateMetricsTest, ParserAcceptsAValidSampleOfEveryKindUsed) {
  Parsed p = MustParse(
      "# TYPE a info\n# HELP a Build.\na_info{version=\"1\"} 1\n"
      "# TYPE b counter\n# HELP b With \\\"escapes\\\" \\\\ and \\n.\n"
      "b_total{code=\"ok\"} 3\nb_total{code=\"x\\\"y\"} 0\n"
      "# TYPE c_seconds histogram\n# UNIT c_seconds seconds\n"
      "c_seconds_bucket{le=\"0.5\"} 1\nc_seconds_bucket{le=\"1.0\"} 2\n"
      "c_seconds_bucket{le=\"+Inf\"} 2\nc_seconds_count 2\n"
      "c_seconds_sum 1.250000000\n"
      "# TYPE d gauge\nd -1.5e3\n"
      "# TYPE e gauge\n"
      "# EOF\n");
  EXPECT_EQ(p.families["a"].type, "info");
  EXPECT_EQ(p.families["b"].help, "With \"escapes\" \\ and \\n.");
  EXPECT_EQ(p.families["c_seconds"].unit, "seconds");
  EXPECT_EQ(Value(p, "c_seconds_sum"), 1.25);
  EXPECT_EQ(Value(p, "d"), -1500);
  EXPECT_EQ(Value(p, "b_total{code=\"x\\\"y\"}"), 0);
  EXPECT_EQ(p.families.count("e"), 1u);
}

TEST_F(SlateMetricsTest, ParserRefusesMalformedText) {
  const std::string g = "# TYPE g gauge\n";
  const std::string eof = "# EOF\n";
  // (text, what the refusal says)
  const std::vector<std::pair<std::string, std::string>> broken = {
      {g + "g 1\n", "does not end with # EOF"},
      {g + "g 1\n" + eof + "g 2\n", "does not end with # EOF"},
      {g + "g 1\n" + eof + "\n", "does not end with # EOF"},
      {g + "\ng 1\n" + eof, "blank line"},
      {"# TYPE g gauge\r\ng 1\r\n# EOF\r\n", "CR"},
      {"g 1\n" + eof, "belongs to no family"},
      {"# HELP g no type\ng 1\n" + eof, "belongs to no family"},
      {"# TYPE c counter\nc 1\n" + eof, "belongs to no family"},
      {"# TYPE c counter\nc_total -1\n" + eof, "counter must be >= 0"},
      {"# TYPE c counter\nc_created 1\n" + eof, "no _total"},
      {"# TYPE g gauges\ng 1\n" + eof, "unknown type"},
      {g + "# TYPE g gauge\ng 1\n" + eof, "# TYPE of g twice"},
      {g + "g 1\n# HELP g late\n" + eof, "after its samples"},
      {g + "g 1\n# TYPE f gauge\nf 1\n# TYPE g gauge\n" + eof,
       "again after another family"},
      {"# TYPE g_seconds gauge\n# UNIT g_seconds milliseconds\ng_seconds 1\n" +
           eof,
       "does not end with its unit"},
      {"# COMMENT g\n" + g + "g 1\n" + eof, "not a # TYPE"},
      {g + "g{a=\"1\",} 1\n" + eof, "trailing comma"},
      {g + "g{a=\"1\",a=\"2\"} 1\n" + eof, "label a twice"},
      {g + "g{a=\"x\\ty\"} 1\n" + eof, "bad escape"},
      {g + "g{a=\"x} 1\n" + eof, "unterminated"},
      {g + "g{a=1} 1\n" + eof, "expected =\""},
      {g + "g{1a=\"1\"} 1\n" + eof, "bad label name"},
      {g + "g{__a=\"1\"} 1\n" + eof, "reserved"},
      {g + "g{le=\"1\"} 1\n" + eof, "le outside"},
      {g + "g  1\n" + eof, "one space apart"},
      {g + "g 1 \n" + eof, "one space apart"},
      {g + "g\n" + eof, "expected one space"},
      {g + "g 1,5\n" + eof, "not an OpenMetrics number"},
      {g + "g one\n" + eof, "not an OpenMetrics number"},
      {g + "g 1\ng 2\n" + eof, "twice"},
      {g + "g{a=\"1\"} 1\ng{a=\"2\"} 1\ng{a=\"1\",b=\"1\"} 1\n" + eof, ""},
      {g + "g 1 # {a=\"1\"} 1\n" + eof, "exemplars"},
      {"# TYPE i info\ni_info 2\n" + eof, "value must be 1"},
      {"# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_count 1\n" + eof, "+Inf"},
      {"# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\n"
       "h_count 1\n" +
           eof,
       "cumulative"},
      {"# TYPE h histogram\nh_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\n"
       "h_bucket{le=\"+Inf\"} 1\nh_count 1\n" +
           eof,
       "increasing"},
      {"# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 3\n" + eof,
       "must equal the +Inf bucket"},
      {"# TYPE h histogram\nh_bucket{le=\"+Inf\"} 0.5\nh_count 0.5\n" + eof,
       "cumulative integers"},
      {"# TYPE h histogram\nh_count 0\nh_bucket{le=\"+Inf\"} 0\n" + eof,
       "buckets after"},
      {"# TYPE h histogram\nh_bucket{le=\"+Inf\",x=\"1\"} 0\nh_count{x=\"1\"} "
       "0\nh_bucket{le=\"+Inf\",x=\"2\"} 0\nh_count{x=\"2\"} 0\n"
       "h_sum{x=\"1\"} 0\n" +
           eof,
       "not together"},
      {g + "g 1\n# EOF\n# EOF\n", "before the end"},
      {"# TYPE 1g gauge\n" + eof, "bad metric name"},
  };
  for (const auto& [text, reason] : broken) {
    const std::string refusal = Refusal(text);
    if (reason.empty()) {
      // Control: different label sets of one gauge are fine.
      EXPECT_EQ(refusal, "") << text;
      continue;
    }
    EXPECT_THAT(refusal, HasSubstr(reason)) << "text:\n" << text;
  }
}

TEST_F(SlateMetricsTest, UsageErrors) {
  ProcessResult r = Slate({"metrics", "--db", tmp_.Sub("none")});
  EXPECT_EQ(r.code, 2) << r;
  EXPECT_EQ(r.out, "");
  EXPECT_FALSE(std::filesystem::exists(tmp_.Sub("none")))
      << "metrics must not create a database";
  r = Slate({"metrics", "--db", tmp_.path(), "--within", "soon"});
  EXPECT_EQ(r.code, 2) << r;
  EXPECT_THAT(r.err, HasSubstr("--within"));
  r = Slate({"metrics"});
  EXPECT_EQ(r.code, 2) << r;
}

}  // namespace
}  // namespace slate
