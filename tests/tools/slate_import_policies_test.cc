// Runs the built `slate import servicenow --policies FILE` on the fixture
// export (tests/import/fixtures, 288 rows of the UCI data set) and checks
// that the policies become SlaPolicyDefined events once (a second import
// appends nothing at all), that a calendar file next to FILE is defined with
// them, that bad policies write nothing, and that `slate kpi` then shows the
// engine's own SLA verdicts: its SLA table adds up to the final clocks of
// the database (FinalSlaClocks, read directly).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "lib/api/engine.h"
#include "lib/api/engine_internal.h"
#include "lib/import/sla_policies.h"
#include "lib/projection/kpi_sla.h"
#include "tests/report/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace slate {
namespace {

using ::slate::testing::ProcessResult;
using ::slate::testing::ReadFileOrEmpty;
using ::slate::testing::Runfile;
using ::slate::testing::RunProcess;
using ::testing::HasSubstr;
using ::testing::StartsWith;

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  ASSERT_TRUE(out.good()) << path;
}

// Every event of the database at `db` (opened after the tool exited).
std::vector<Envelope> AllEvents(const std::string& db) {
  Options options;
  options.create_if_missing = false;
  auto engine = Engine::Open(options, db);
  EXPECT_TRUE(engine.ok()) << engine.status();
  if (!engine.ok()) return {};
  auto all = (*engine)->ReadAll(0, 1000000);
  EXPECT_TRUE(all.ok()) << all.status();
  return all.ok() ? *all : std::vector<Envelope>();
}

class SlateImportPoliciesTest : public ::testing::Test {
 protected:
  ProcessResult Slate(std::vector<std::string> args) {
    args.insert(args.begin(), Runfile("tools/slate"));
    return RunProcess(args, tmp_.Sub(absl::StrCat("run", runs_++)));
  }

  ProcessResult Import(const std::string& db, const std::string& policies) {
    return Slate({"import", "servicenow", "--db", db, export_, "--matrix",
                  matrix_, "--policies", policies});
  }

  testing::TempDir tmp_;
  int runs_ = 0;
  const std::string export_ =
      Runfile("tests/import/fixtures/servicenow_sample.csv");
  const std::string matrix_ =
      Runfile("examples/servicenow/priority_matrix.json");
  const std::string policies_ = Runfile("examples/servicenow/policies.json");
};

TEST_F(SlateImportPoliciesTest,
       PoliciesAreDefinedOnceAndReimportAppendsNothing) {
  absl::StatusOr<std::vector<SlaPolicy>> want =
      LoadSlaPolicyListJson(ReadFileOrEmpty(policies_), 4);
  ASSERT_TRUE(want.ok()) << want.status();
  ASSERT_FALSE(want->empty());

  const std::string db = tmp_.Sub("db");
  ProcessResult r = Import(db, policies_);
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat("sla policies:     ", want->size(),
                                            " defined, 0 already in force")))
      << r;
  std::vector<Envelope> first = AllEvents(db);
  ASSERT_GT(first.size(), 288u);
  std::map<std::string, int> defined;
  for (const Envelope& e : first) {
    if (!e.has_sla_policy_defined()) continue;
    const SlaPolicy& p = e.sla_policy_defined().policy();
    ++defined[p.id()];
    EXPECT_EQ(e.stream(), absl::StrCat("policy/", p.id()));
    bool in_file = false;
    for (const SlaPolicy& w : *want) {
      in_file =
          in_file || google::protobuf::util::MessageDifferencer::Equals(w, p);
    }
    EXPECT_TRUE(in_file) << p.DebugString();
  }
  ASSERT_EQ(defined.size(), want->size());
  for (const SlaPolicy& w : *want) EXPECT_EQ(defined[w.id()], 1) << w.id();

  r = Import(db, policies_);
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat("sla policies:     0 defined, ",
                                            want->size(), " already in force")))
      << r;
  std::vector<Envelope> second = AllEvents(db);
  ASSERT_EQ(second.size(), first.size());  // Nothing at all appended.
  for (size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(second[i].event_id(), first[i].event_id()) << i;
  }
}

TEST_F(SlateImportPoliciesTest, KpiShowsTheEnginesOwnSlaVerdicts) {
  const std::string db = tmp_.Sub("db");
  ProcessResult r = Import(db, policies_);
  ASSERT_EQ(r.code, 0) << r;
  r = Slate({"kpi", "--db", db, "--table", "sla", "--format", "csv", "--bucket",
             "month", "--from", "2016-01-01", "--to", "2017-01-01", "--now",
             "2017-01-01T00:00:00Z"});
  ASSERT_EQ(r.code, 0) << r;
  const std::vector<std::string> lines =
      absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_GE(lines.size(), 2u) << r;
  const std::vector<std::string> header = absl::StrSplit(lines[0], ',');
  std::map<std::string, size_t> column;
  for (size_t i = 0; i < header.size(); ++i) column[header[i]] = i;
  ASSERT_TRUE(column.count("policy") && column.count("met") &&
              column.count("breached"))
      << lines[0];
  int64_t met = 0, breached = 0;
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::vector<std::string> f = absl::StrSplit(lines[i], ',');
    ASSERT_EQ(f.size(), header.size()) << lines[i];
    EXPECT_EQ(f[column["policy"]], "servicenow-incident-resolution");
    int64_t m = 0, b = 0;
    ASSERT_TRUE(absl::SimpleAtoi(f[column["met"]], &m)) << lines[i];
    ASSERT_TRUE(absl::SimpleAtoi(f[column["breached"]], &b)) << lines[i];
    met += m;
    breached += b;
  }
  // The oracle: the final clocks of the database, read through the engine.
  Options options;
  options.create_if_missing = false;
  auto engine = Engine::Open(options, db);
  ASSERT_TRUE(engine.ok()) << engine.status();
  auto clocks = FinalSlaClocks(RunnerOf(**engine));
  ASSERT_TRUE(clocks.ok()) << clocks.status();
  int64_t want_met = 0, want_breached = 0;
  const int64_t from = absl::ToUnixMicros(
      absl::FromCivil(absl::CivilDay(2016, 1, 1), absl::UTCTimeZone()));
  const int64_t to = absl::ToUnixMicros(
      absl::FromCivil(absl::CivilDay(2017, 1, 1), absl::UTCTimeZone()));
  for (const KpiSlaClock& c : *clocks) {
    if (c.at_us < from || c.at_us >= to) continue;
    (c.met ? want_met : want_breached)++;
  }
  EXPECT_GT(want_met, 0);
  EXPECT_GT(want_breached, 0);
  EXPECT_EQ(met, want_met) << r;
  EXPECT_EQ(breached, want_breached) << r;
}

TEST_F(SlateImportPoliciesTest, CalendarFileNextToThePoliciesIsDefinedToo) {
  // The example policy on the office calendar, in a folder with the
  // calendar's file.
  const std::string dir = tmp_.Sub("config");
  std::filesystem::create_directories(dir);
  std::string text = ReadFileOrEmpty(policies_);
  ASSERT_THAT(text, HasSubstr("\"24x7\""));
  text = absl::StrReplaceAll(text, {{"\"24x7\"", "\"office-berlin\""}});
  WriteFile(dir + "/policies.json", text);
  WriteFile(dir + "/office-berlin.json",
            ReadFileOrEmpty(Runfile("examples/calendars/office-berlin.json")));

  const std::string db = tmp_.Sub("db");
  ProcessResult r = Import(db, dir + "/policies.json");
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_THAT(r.out,
              HasSubstr("calendars:        1 defined, 0 already in force"))
      << r;
  std::vector<Envelope> first = AllEvents(db);
  int calendars = 0, policies = 0;
  for (const Envelope& e : first) {
    if (e.has_calendar_defined()) {
      ++calendars;
      EXPECT_EQ(e.stream(), "calendar/office-berlin");
      EXPECT_EQ(e.calendar_defined().spec().name(), "office-berlin");
    }
    if (e.has_sla_policy_defined()) {
      ++policies;
      EXPECT_EQ(e.sla_policy_defined().policy().calendar_id(), "office-berlin");
    }
  }
  EXPECT_EQ(calendars, 1);
  EXPECT_EQ(policies, 1);

  // Again, and from a folder without the calendar's file: the database
  // defines it already. Nothing is appended either time.
  r = Import(db, dir + "/policies.json");
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_THAT(r.out,
              HasSubstr("calendars:        0 defined, 1 already in force"))
      << r;
  const std::string other = tmp_.Sub("other");
  std::filesystem::create_directories(other);
  WriteFile(other + "/policies.json", text);
  r = Import(db, other + "/policies.json");
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_EQ(AllEvents(db).size(), first.size());
}

TEST_F(SlateImportPoliciesTest, BadPoliciesWriteNothing) {
  const std::string dir = tmp_.Sub("bad");
  std::filesystem::create_directories(dir);
  const std::string text = ReadFileOrEmpty(policies_);
  WriteFile(dir + "/policy-nowhere.json",
            absl::StrReplaceAll(text, {{"\"24x7\"", "\"nowhere\""}}));
  WriteFile(
      dir + "/p9.json",
      absl::StrReplaceAll(text, {{"\"priority\": 4", "\"priority\": 9"}}));
  WriteFile(dir + "/broken.json", "[{\"id\": ");
  const std::string misnamed_dir = tmp_.Sub("misnamed");
  std::filesystem::create_directories(misnamed_dir);
  WriteFile(misnamed_dir + "/policies.json",
            absl::StrReplaceAll(text, {{"\"24x7\"", "\"office\""}}));
  WriteFile(misnamed_dir + "/office.json",  // Its name is office-berlin.
            ReadFileOrEmpty(Runfile("examples/calendars/office-berlin.json")));
  struct Case {
    std::string file;
    std::string says;
  };
  const std::vector<Case> cases = {
      {dir + "/policy-nowhere.json",
       "calendar \"nowhere\" is not 24x7, not defined in the database and "
       "not a file " +
           dir + "/nowhere.json"},
      {dir + "/p9.json", "priority"},
      {dir + "/broken.json", dir + "/broken.json: "},
      {misnamed_dir + "/policies.json", "name is \"office-berlin\""},
      {dir + "/missing.json", "cannot read " + dir + "/missing.json"},
  };
  for (const Case& c : cases) {
    const std::string db = tmp_.Sub(absl::StrCat("db", runs_));
    ProcessResult r = Import(db, c.file);
    EXPECT_EQ(r.code, 2) << c.file << "\n" << r;
    EXPECT_EQ(r.out, "") << r;
    EXPECT_THAT(r.err, StartsWith("slate import servicenow: ")) << r;
    EXPECT_THAT(r.err, HasSubstr(c.says)) << r;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r;
    EXPECT_TRUE(AllEvents(db).empty()) << c.file;
  }
}

}  // namespace
}  // namespace slate
