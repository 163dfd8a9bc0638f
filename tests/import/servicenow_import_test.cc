#include "lib/import/servicenow_import.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/api/engine.h"
#include "lib/api/tenant.h"
#include "lib/domain/priority_matrix.h"
#include "lib/import/sla_policies.h"
#include "tests/testing/temp_dir.h"

namespace slate {
namespace {

using ::testing::HasSubstr;

constexpr char kFixture[] = "tests/import/fixtures/servicenow_sample.csv";
constexpr char kMatrix[] = "examples/servicenow/priority_matrix.json";
constexpr char kPolicies[] = "examples/servicenow/policies.json";

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The fixture's lines split into fields (it has no quoted fields), for
// oracles that read the file independently of the importer.
std::vector<std::vector<std::string>> FixtureLines() {
  std::vector<std::vector<std::string>> out;
  for (absl::string_view line :
       absl::StrSplit(ReadText(kFixture), '\n', absl::SkipEmpty())) {
    out.push_back(absl::StrSplit(line, ','));
  }
  return out;
}

absl::Time Utc(int y, int m, int d, int hh, int mm) {
  return absl::FromCivil(absl::CivilMinute(y, m, d, hh, mm),
                         absl::UTCTimeZone());
}

class ImportTest : public ::testing::Test {
 protected:
  std::unique_ptr<Engine> Open(const std::string& dir) {
    Options o;
    o.durability = Durability::kProcessCrash;
    auto e = Engine::Open(o, dir);
    EXPECT_TRUE(e.ok()) << e.status();
    return e.ok() ? std::move(*e) : nullptr;
  }
  ServiceNowImportOptions WithMatrix() {
    ServiceNowImportOptions o;
    auto m = LoadPriorityMatrixJson(ReadText(kMatrix));
    EXPECT_TRUE(m.ok()) << m.status();
    o.matrix = *m;
    return o;
  }
  std::vector<Envelope> Stream(Engine* e, const std::string& s) {
    auto r = e->ReadStream(s, 0, 100000);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : std::vector<Envelope>{};
  }
  testing::TempDir tmp_;
};

TEST_F(ImportTest, FixtureRowsAreImportedOrRejectedWithReasons) {
  auto engine = Open(tmp_.Sub("db"));
  ServiceNowImportOptions opts = WithMatrix();
  opts.rejects_path = tmp_.Sub("rejects.csv");
  auto s = ImportServiceNow(engine.get(), kFixture, opts);
  ASSERT_TRUE(s.ok()) << s.status();
  std::cout << FormatImportSummary(*s, &*opts.matrix);

  const auto lines = FixtureLines();
  EXPECT_EQ(s->rows_read, static_cast<int64_t>(lines.size()) - 1);
  EXPECT_EQ(s->rows_imported + s->rows_rejected, s->rows_read);
  EXPECT_EQ(s->incidents, 30);
  EXPECT_TRUE(s->matrix_recorded);
  EXPECT_EQ(engine->NextPosition(), s->events_appended + 1);  // + matrix.

  // The "-100" rows, found by reading the file directly.
  std::set<int64_t> minus100;
  for (size_t i = 1; i < lines.size(); ++i) {
    if (lines[i][1] == "-100") minus100.insert(static_cast<int64_t>(i) + 1);
  }
  ASSERT_FALSE(minus100.empty());
  EXPECT_EQ(s->rejected_by_reason["unknown state"],
            static_cast<int64_t>(minus100.size()));
  // Closing what was never resolved is allowed by the import's policy
  // (ServiceNowDomainPolicy()): INC0003115 goes New -> Closed; INC0000137
  // goes Resolved -> New (a reopen, to In Progress) -> Closed.
  EXPECT_EQ(s->rejected_by_reason.count("domain refused close in New"), 0u);
  EXPECT_EQ(s->rejected_by_reason.count("domain refused close in In Progress"),
            0u);
  for (const char* inc : {"INC0003115", "INC0000137"}) {
    auto closed = engine->LoadAggregate("incident", inc);
    ASSERT_TRUE(closed.ok()) << inc;
    EXPECT_EQ(closed->incident().status(), INCIDENT_CLOSED) << inc;
  }

  // The rejects file: one line per rejected row, naming line and number.
  std::vector<std::string> rejects =
      absl::StrSplit(ReadText(opts.rejects_path), '\n', absl::SkipEmpty());
  ASSERT_EQ(static_cast<int64_t>(rejects.size()), s->rows_rejected + 1);
  EXPECT_EQ(rejects[0], "line,number,reason,detail");
  std::set<int64_t> rejected_minus100;
  for (size_t i = 1; i < rejects.size(); ++i) {
    std::vector<std::string> f = absl::StrSplit(rejects[i], ',');
    int64_t line = 0;
    ASSERT_TRUE(absl::SimpleAtoi(f[0], &line)) << rejects[i];
    ASSERT_GE(line, 2);
    ASSERT_LE(line, static_cast<int64_t>(lines.size()));
    EXPECT_EQ(f[1], lines[line - 1][0]) << "line " << line;
    if (f[2] == "unknown state") rejected_minus100.insert(line);
  }
  EXPECT_EQ(rejected_minus100, minus100);

  // Priority agreement with the shipped matrix: every parsed row.
  EXPECT_EQ(s->priority_rows_checked,
            s->rows_read - static_cast<int64_t>(minus100.size()));
  EXPECT_EQ(s->priority_rows_agreeing, s->priority_rows_checked);
  EXPECT_TRUE(s->priority_disagreements.empty());
}

TEST_F(ImportTest, RowsBecomeTheLifecycleAtEventTimes) {
  auto engine = Open(tmp_.Sub("db"));
  auto s = ImportServiceNow(engine.get(), kFixture, WithMatrix());
  ASSERT_TRUE(s.ok()) << s.status();

  // INC0000045: New (01:23), Resolved (08:53), Resolved, Closed (5/3 12:00);
  // opened at 01:16.
  auto ev = Stream(engine.get(), "incident/INC0000045");
  ASSERT_GE(ev.size(), 5u);
  EXPECT_TRUE(ev[0].has_incident_opened());
  EXPECT_EQ(absl::FromUnixMicros(ev[0].occurred_at_us()),
            Utc(2016, 2, 29, 1, 16));
  EXPECT_EQ(ev[0].actor(), "Opened by  8");
  EXPECT_EQ(ev[0].incident_opened().contact_type(), "phone");
  EXPECT_EQ(ev[0].incident_opened().category(), "Category 55");
  EXPECT_TRUE(ev[1].has_incident_priority_set());
  EXPECT_EQ(ev[1].incident_priority_set().priority(), 3);
  int resolved = 0, closed = 0;
  for (const Envelope& e : ev) {
    EXPECT_EQ(e.servicenow().number(), "INC0000045");
    EXPECT_TRUE(absl::StartsWith(e.event_id(), "sn:INC0000045:"));
    if (e.has_incident_resolved()) {
      ++resolved;
      EXPECT_EQ(absl::FromUnixMicros(e.occurred_at_us()),
                Utc(2016, 2, 29, 8, 53));
      EXPECT_EQ(e.incident_resolved().resolution_code(), "code 5");
      EXPECT_TRUE(e.servicenow().made_sla());
    }
    if (e.has_incident_closed()) {
      ++closed;
      EXPECT_EQ(absl::FromUnixMicros(e.occurred_at_us()),
                Utc(2016, 3, 5, 12, 0));
      EXPECT_EQ(e.servicenow().incident_state(), "Closed");
    }
  }
  EXPECT_EQ(resolved, 1);
  EXPECT_EQ(closed, 1);
  auto state = engine->LoadAggregate("incident", "INC0000045");
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->incident().status(), INCIDENT_CLOSED);
  EXPECT_EQ(state->incident().assignment_group(), "Group 56");

  // Every incident stream: occurred_at never goes backwards, even for
  // INC0000137 whose rows are out of time order in the file.
  for (const char* inc :
       {"INC0000137", "INC0000102", "INC0001349", "INC0000130", "INC0000171"}) {
    auto events = Stream(engine.get(), absl::StrCat("incident/", inc));
    ASSERT_FALSE(events.empty()) << inc;
    for (size_t i = 1; i < events.size(); ++i) {
      EXPECT_LE(events[i - 1].occurred_at_us(), events[i].occurred_at_us())
          << inc << " event " << i;
    }
  }
}

TEST_F(ImportTest, HoldReasonsReopensAndLinks) {
  auto engine = Open(tmp_.Sub("db"));
  auto s = ImportServiceNow(engine.get(), kFixture, WithMatrix());
  ASSERT_TRUE(s.ok()) << s.status();

  // Awaiting User Info -> Awaiting Vendor: resume, then hold for the vendor.
  auto ev = Stream(engine.get(), "incident/INC0001349");
  std::vector<HoldReason> holds;
  bool resume_then_vendor = false;
  for (size_t i = 0; i < ev.size(); ++i) {
    if (ev[i].has_incident_put_on_hold()) {
      holds.push_back(ev[i].incident_put_on_hold().reason());
      if (ev[i].incident_put_on_hold().reason() == AWAITING_VENDOR && i > 0 &&
          ev[i - 1].has_incident_resumed() &&
          ev[i - 1].occurred_at_us() == ev[i].occurred_at_us()) {
        resume_then_vendor = true;
      }
    }
  }
  EXPECT_THAT(holds, ::testing::Contains(AWAITING_CALLER));
  EXPECT_THAT(holds, ::testing::Contains(AWAITING_EVIDENCE));
  EXPECT_TRUE(resume_then_vendor);

  // Resolved -> Active is a reopen.
  auto reopened = engine->LoadAggregate("incident", "INC0000102");
  ASSERT_TRUE(reopened.ok());
  EXPECT_GE(reopened->incident().reopen_count(), 1);

  // Closed -> Active: a reopen within the domain's window, else a reject
  // that says why.
  int closed_reopens = 0;
  for (const char* inc : {"INC0001894", "INC0003300", "INC0006099"}) {
    for (const Envelope& e :
         Stream(engine.get(), absl::StrCat("incident/", inc))) {
      if (e.has_incident_reopened() &&
          absl::StrContains(e.incident_reopened().reason(), "Closed")) {
        ++closed_reopens;
      }
    }
  }
  // Each of the three incidents goes Closed -> open at least once.
  EXPECT_GE(
      closed_reopens + s->rejected_by_reason["domain refused reopen in Closed"],
      3);
  EXPECT_GE(closed_reopens, 1);

  // Problem link: an external reference (the export holds no problem
  // records), so no problem record is created.
  auto inc = engine->LoadAggregate("incident", "INC0000057");
  ASSERT_TRUE(inc.ok());
  const std::string pid = inc->incident().problem_id();
  ASSERT_TRUE(absl::StartsWith(pid, "Problem_ID_")) << pid;
  EXPECT_TRUE(inc->incident().problem_external());
  EXPECT_TRUE(Stream(engine.get(), absl::StrCat("problem/", pid)).empty());
  bool external_link = false;
  for (const Envelope& e : Stream(engine.get(), "incident/INC0000057")) {
    if (e.has_incident_linked_to_problem()) {
      external_link = e.incident_linked_to_problem().external();
    }
  }
  EXPECT_TRUE(external_link);

  // rfc -> FIXED_BY, caused_by -> CAUSED_BY, external references too.
  auto fixed = engine->LoadAggregate("incident", "INC0000074");
  ASSERT_TRUE(fixed.ok());
  ASSERT_FALSE(fixed->incident().fixed_by_change_id().empty());
  EXPECT_TRUE(fixed->incident().fixed_by_change_external());
  auto caused = engine->LoadAggregate("incident", "INC0000388");
  ASSERT_TRUE(caused.ok());
  EXPECT_FALSE(caused->incident().caused_by_change_id().empty());
  EXPECT_TRUE(caused->incident().caused_by_change_external());
  // No problem or change record at all, so the change KPIs count nothing,
  // while the summary still says how many distinct ids the rows name.
  EXPECT_FALSE(*engine->HasStreamWithPrefix("problem/"));
  EXPECT_FALSE(*engine->HasStreamWithPrefix("change/"));
  EXPECT_GE(s->problems, 1);
  EXPECT_GE(s->changes, 2);  // INC0000074's and INC0000388's.
  ASSERT_TRUE(engine->WaitForProjections(engine->NextPosition()).ok());
  KpiQuery q;
  q.bucket = KpiBucket::kMonth;
  q.now = Utc(2017, 3, 1, 0, 0);
  auto kpis = engine->Kpis({q});
  ASSERT_TRUE(kpis.ok()) << kpis.status();
  int64_t requested = 0, causing = 0, opened = 0;
  for (const KpiResultRow& r : (*kpis)[0].rows) {
    requested += r.flow.changes_requested;
    causing += r.flow.changes_causing_incidents;
    opened += r.flow.opened;
  }
  EXPECT_EQ(requested, 0);
  EXPECT_EQ(causing, 0);
  EXPECT_EQ(opened, 30);  // The rollup is there: the zeros are real.
}

TEST_F(ImportTest, SecondImportAppendsNothingAndSaysSo) {
  auto engine = Open(tmp_.Sub("db"));
  auto first = ImportServiceNow(engine.get(), kFixture, WithMatrix());
  ASSERT_TRUE(first.ok()) << first.status();
  const int64_t end = engine->NextPosition();
  auto second = ImportServiceNow(engine.get(), kFixture, WithMatrix());
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->events_appended, 0);
  EXPECT_EQ(second->events_already_present, first->events_appended);
  EXPECT_EQ(second->incidents_appended, 0);
  EXPECT_FALSE(second->matrix_recorded);
  EXPECT_EQ(engine->NextPosition(), end);
  EXPECT_EQ(second->rejected_by_reason, first->rejected_by_reason);
  EXPECT_THAT(FormatImportSummary(*second, nullptr), HasSubstr("nothing new"));
}

// The same export into the default tenant and into tenant "acme" of one
// database: acme's incidents are the same events on its own streams, with
// its own ids, and neither import sees the other's.
TEST_F(ImportTest, ATenantsImportIsTheSameOnItsOwnStreams) {
  auto engine = Open(tmp_.Sub("db"));
  auto plain = ImportServiceNow(engine.get(), kFixture, WithMatrix());
  ASSERT_TRUE(plain.ok()) << plain.status();
  ServiceNowImportOptions o = WithMatrix();
  o.tenant = "acme";
  auto acme = ImportServiceNow(engine.get(), kFixture, o);
  ASSERT_TRUE(acme.ok()) << acme.status();
  EXPECT_EQ(acme->events_appended, plain->events_appended);  // Not "present".
  EXPECT_EQ(acme->incidents, plain->incidents);
  // The matrix in force for acme is the shared one, equal to --matrix.
  EXPECT_FALSE(acme->matrix_recorded);
  auto streams = engine->ReadAll(0, 1000000);
  ASSERT_TRUE(streams.ok());
  int64_t compared = 0;
  for (const Envelope& e : *streams) {
    if (!absl::StartsWith(e.stream(), "incident/")) continue;
    auto mine =
        engine->ReadStream(TenantStream("acme", e.stream()), e.version(), 1);
    ASSERT_TRUE(mine.ok());
    ASSERT_EQ(mine->size(), 1u) << e.stream();
    EXPECT_EQ(mine->front().event_id(), TenantStream("acme", e.event_id()));
    Envelope a = mine->front();
    Envelope b = e;
    for (Envelope* x : {&a, &b}) {
      x->clear_stream();
      x->clear_event_id();
      x->clear_position();
      x->clear_recorded_at_us();
    }
    EXPECT_EQ(a.SerializeAsString(), b.SerializeAsString()) << e.stream();
    ++compared;
  }
  EXPECT_EQ(compared, plain->events_appended);
  auto inc = engine->LoadAggregate("incident", "INC0000045", "acme");
  ASSERT_TRUE(inc.ok()) << inc.status();
  EXPECT_EQ(inc->incident().SerializeAsString(),
            engine->LoadAggregate("incident", "INC0000045")
                ->incident()
                .SerializeAsString());
  ServiceNowImportOptions bad;
  bad.tenant = "Not A Tenant";
  EXPECT_EQ(ImportServiceNow(engine.get(), kFixture, bad).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ImportTest, InterruptedImportResumesToTheSameLog) {
  auto once = Open(tmp_.Sub("once"));
  auto full = ImportServiceNow(once.get(), kFixture, WithMatrix());
  ASSERT_TRUE(full.ok()) << full.status();

  auto engine = Open(tmp_.Sub("resumed"));
  ServiceNowImportOptions cut = WithMatrix();
  cut.stop_after_incidents = 7;
  auto part = ImportServiceNow(engine.get(), kFixture, cut);
  ASSERT_TRUE(part.ok()) << part.status();
  EXPECT_TRUE(part->interrupted);
  EXPECT_EQ(part->incidents_appended, 7);
  EXPECT_LT(engine->NextPosition(), once->NextPosition());
  auto rest = ImportServiceNow(engine.get(), kFixture, WithMatrix());
  ASSERT_TRUE(rest.ok()) << rest.status();
  EXPECT_EQ(rest->incidents_appended, 23);
  EXPECT_EQ(rest->events_already_present, part->events_appended);

  auto a = once->ReadAll(0, 1 << 20);
  auto b = engine->ReadAll(0, 1 << 20);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a->size(), b->size());
  for (size_t i = 0; i < a->size(); ++i) {
    Envelope x = (*a)[i], y = (*b)[i];
    x.clear_recorded_at_us();
    y.clear_recorded_at_us();
    if (x.has_priority_matrix_set()) {
      // Recorded "now", as the matrix is in force from the import on.
      x.clear_occurred_at_us();
      y.clear_occurred_at_us();
    }
    ASSERT_EQ(x.SerializeAsString(), y.SerializeAsString())
        << "position " << i << ": " << x.event_id() << " vs " << y.event_id();
  }
}

TEST_F(ImportTest, AgreementReportListsDisagreementsWithAnotherMatrix) {
  auto engine = Open(tmp_.Sub("db"));
  ServiceNowImportOptions opts;  // The default 5-level matrix in force.
  auto s = ImportServiceNow(engine.get(), kFixture, opts);
  ASSERT_TRUE(s.ok()) << s.status();
  // Oracle: rows with impact 3 and urgency 3 are priority 4 in the export
  // and 5 in the default matrix; every other cell agrees.
  int64_t low_low = 0;
  const auto lines = FixtureLines();
  for (size_t i = 1; i < lines.size(); ++i) {
    if (lines[i][1] != "-100" && lines[i][20] == "3 - Low" &&
        lines[i][21] == "3 - Low") {
      ++low_low;
    }
  }
  ASSERT_GT(low_low, 0);
  ASSERT_EQ(s->priority_disagreements.size(), 1u);
  const PriorityDisagreement& d = s->priority_disagreements[0];
  EXPECT_EQ(d.impact, 3);
  EXPECT_EQ(d.urgency, 3);
  EXPECT_EQ(d.recorded, 4);
  EXPECT_EQ(d.computed, 5);
  EXPECT_EQ(d.rows, low_low);
  EXPECT_FALSE(d.examples.empty());
  EXPECT_EQ(s->priority_rows_checked - s->priority_rows_agreeing, low_low);
  const PriorityMatrix m = DefaultPriorityMatrix();
  EXPECT_THAT(FormatImportSummary(*s, &m),
              HasSubstr("impact 3 urgency 3: recorded 4, matrix 5 Planning"));
}

// A hand-made export: the fixture's header and first row, varied.
class SyntheticTest : public ImportTest {
 protected:
  void SetUp() override {
    const auto lines = FixtureLines();
    header_ = lines[0];
    base_ = lines[1];  // INC0000045, New, 29/2/2016 01:23.
  }
  std::string Row(const std::map<std::string, std::string>& set) {
    std::vector<std::string> f = base_;
    for (const auto& [name, value] : set) {
      auto it = std::find(header_.begin(), header_.end(), name);
      EXPECT_NE(it, header_.end()) << name;
      f[it - header_.begin()] = value;
    }
    return absl::StrJoin(f, ",");
  }
  // Imports `rows` under `policy` (null: the options' default,
  // ServiceNowDomainPolicy()).
  absl::StatusOr<ServiceNowImportSummary> Import(
      Engine* e, const std::vector<std::string>& rows,
      const DomainPolicy* policy = nullptr) {
    std::string text = absl::StrCat(absl::StrJoin(header_, ","), "\r\n",
                                    absl::StrJoin(rows, "\r\n"), "\r\n");
    auto src = StringSource(text);
    ServiceNowImportOptions o = WithMatrix();
    o.rejects_path = tmp_.Sub("rejects.csv");
    if (policy != nullptr) o.policy = *policy;
    return ImportServiceNowFrom(e, src.get(), o);
  }
  std::vector<std::string> header_, base_;
};

TEST_F(SyntheticTest, QuotedFieldsWithCommasAndNewlinesSurvive) {
  auto engine = Open(tmp_.Sub("db"));
  auto s = Import(engine.get(), {Row({{"number", "INC1"},
                                      {"category", "\"Network, WAN\""},
                                      {"subcategory", "\"two\nlines\""},
                                      {"caller_id", "\"Caller \"\"X\"\"\""}})});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->rows_imported, 1);
  auto ev = Stream(engine.get(), "incident/INC1");
  ASSERT_FALSE(ev.empty());
  EXPECT_EQ(ev[0].incident_opened().category(), "Network, WAN");
  EXPECT_EQ(ev[0].incident_opened().subcategory(), "two\nlines");
  EXPECT_EQ(ev[0].incident_opened().caller(), "Caller \"X\"");
}

TEST_F(SyntheticTest, BadRowsAreRejectedAndTheImportGoesOn) {
  auto engine = Open(tmp_.Sub("db"));
  auto s = Import(
      engine.get(),
      {Row({{"number", "INC1"}}),
       Row({{"number", "INC1"}, {"sys_updated_at", "31/2/2016 01:30"}}),
       Row({{"number", "INC1"},
            {"incident_state", "Active"},
            {"sys_updated_at", "29/2/2016 02:00"}}),
       // Active -> New: the domain has no way back.
       Row({{"number", "INC1"},
            {"incident_state", "New"},
            {"sys_updated_at", "29/2/2016 03:00"}}),
       Row({{"number", "INC2"}}), "INC3,\"broken\"x,",
       Row({{"number", "bad id"}}),
       // INC1 again, after INC2: not contiguous.
       Row({{"number", "INC1"}, {"sys_updated_at", "29/2/2016 04:00"}})});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->rows_read, 8);
  EXPECT_EQ(s->rows_imported, 3);
  std::map<std::string, int64_t> want = {
      {"bad timestamp", 1},
      {"no transition In Progress -> New", 1},
      {"malformed CSV record", 1},
      {"bad incident number", 1},
      {"incident rows not contiguous", 1}};
  EXPECT_EQ(s->rejected_by_reason, want);
  auto state = engine->LoadAggregate("incident", "INC1");
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->incident().status(), INCIDENT_IN_PROGRESS);
  const std::string rejects = ReadText(tmp_.Sub("rejects.csv"));
  EXPECT_THAT(rejects, HasSubstr("3,INC1,bad timestamp,\"sys_updated_at "));
  EXPECT_THAT(rejects, HasSubstr("7,,malformed CSV record,"));
}

// The three rules real exports break (ServiceNowDomainPolicy()): under the
// strict DomainPolicy() the offending row is rejected with the domain's
// reason; under the import's default it is imported, and the incident ends
// in the state the rows say.
TEST_F(SyntheticTest, RelaxedRulesImportRowsTheStrictPolicyRejects) {
  struct Case {
    std::string name;
    std::vector<std::map<std::string, std::string>> rows;  // INC1's.
    std::string strict_reason;
    IncidentStatus relaxed_status;
    std::string relaxed_group;
    int relaxed_reopens;
  };
  auto at = [](const char* state, const char* when,
               const char* group = "Group 56") {
    return std::map<std::string, std::string>{{"number", "INC1"},
                                              {"incident_state", state},
                                              {"sys_updated_at", when},
                                              {"assignment_group", group}};
  };
  const std::vector<Case> cases = {
      {"assign while Resolved",
       {at("New", "29/2/2016 01:23"), at("Resolved", "29/2/2016 02:00"),
        at("Resolved", "29/2/2016 03:00", "Group 7")},
       "domain refused assign in Resolved",
       INCIDENT_RESOLVED,
       "Group 7",
       0},
      {"assign while Closed",
       {at("New", "29/2/2016 01:23"), at("Resolved", "29/2/2016 02:00"),
        at("Closed", "29/2/2016 03:00"),
        at("Closed", "29/2/2016 04:00", "Group 7")},
       "domain refused assign in Closed",
       INCIDENT_CLOSED,
       "Group 7",
       0},
      {"close without resolve",
       {at("New", "29/2/2016 01:23"), at("Active", "29/2/2016 02:00"),
        at("Closed", "29/2/2016 03:00")},
       "domain refused close in In Progress",
       INCIDENT_CLOSED,
       "Group 56",
       0},
      {"reopen after the 30-day window",
       {at("New", "29/2/2016 01:23"), at("Resolved", "1/3/2016 02:00"),
        at("Closed", "2/3/2016 02:00"), at("Active", "10/4/2016 09:00")},
       "domain refused reopen in Closed",
       INCIDENT_IN_PROGRESS,
       "Group 56",
       1},
  };
  const DomainPolicy strict;
  int n = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<std::string> rows;
    for (const auto& r : c.rows) rows.push_back(Row(r));
    {
      auto engine = Open(tmp_.Sub(absl::StrCat("strict", n)));
      auto s = Import(engine.get(), rows, &strict);
      ASSERT_TRUE(s.ok()) << s.status();
      EXPECT_EQ(s->rows_rejected, 1);
      EXPECT_EQ(s->rejected_by_reason[c.strict_reason], 1);
      EXPECT_THAT(ReadText(tmp_.Sub("rejects.csv")),
                  HasSubstr(absl::StrCat(",INC1,", c.strict_reason, ",")));
      EXPECT_THAT(ReadText(tmp_.Sub("rejects.csv")),
                  HasSubstr("incident INC1: "));
    }
    {
      auto engine = Open(tmp_.Sub(absl::StrCat("relaxed", n)));
      auto s = Import(engine.get(), rows);
      ASSERT_TRUE(s.ok()) << s.status();
      EXPECT_EQ(s->rows_rejected, 0);
      EXPECT_EQ(s->rows_imported, static_cast<int64_t>(rows.size()));
      auto state = engine->LoadAggregate("incident", "INC1");
      ASSERT_TRUE(state.ok()) << state.status();
      EXPECT_EQ(state->incident().status(), c.relaxed_status);
      EXPECT_EQ(state->incident().assignment_group(), c.relaxed_group);
      EXPECT_EQ(state->incident().reopen_count(), c.relaxed_reopens);
      // The log is the truth: a rebuild folds the same answers.
      VerifyReport report;
      ASSERT_TRUE(engine->Verify(&report).ok());
      EXPECT_TRUE(report.ok())
          << (report.problems.empty() ? "" : report.problems[0]);
    }
    ++n;
  }
}

// A row refused half-way (its assignment decided, then its close refused)
// leaves nothing behind: the next row is decided against the incident as
// the accepted rows left it, so assigning back to the group it already has
// appends no assignment.
TEST_F(SyntheticTest, ARowRefusedHalfWayLeavesTheStateAsItWas) {
  auto row = [&](const char* state, const char* when, const char* group) {
    return Row({{"number", "INC1"},
                {"incident_state", state},
                {"sys_updated_at", when},
                {"assignment_group", group}});
  };
  const std::vector<std::string> rows = {
      row("New", "29/2/2016 01:23", "Group 56"),
      row("Closed", "29/2/2016 02:00", "Group 7"),  // Assign, then close: no.
      row("Active", "29/2/2016 03:00", "Group 56"),
  };
  const DomainPolicy strict;
  auto engine = Open(tmp_.Sub("db"));
  auto s = Import(engine.get(), rows, &strict);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->rows_rejected, 1);
  EXPECT_EQ(s->rejected_by_reason["domain refused close in New"], 1);
  auto events = engine->ReadStream("incident/INC1", 0, 100);
  ASSERT_TRUE(events.ok()) << events.status();
  int assigned = 0;
  for (const Envelope& e : *events) {
    if (e.has_incident_assigned()) {
      ++assigned;
      EXPECT_EQ(e.incident_assigned().group(), "Group 56");
    }
  }
  EXPECT_EQ(assigned, 1);
  auto state = engine->LoadAggregate("incident", "INC1");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->incident().status(), INCIDENT_IN_PROGRESS);
  EXPECT_EQ(state->incident().assignment_group(), "Group 56");
}

// The records are read and parsed on a thread of their own and handed over
// in chunks of 512: an export of many chunks (with rejected records among
// them) comes out as it would row by row, with progress in row order.
class ManyRowsTest : public SyntheticTest {
 protected:
  // `incidents` incidents of 3 rows each; every 97th record is malformed.
  std::string Text(int incidents, std::vector<int64_t>* bad_lines) {
    std::string text = absl::StrCat(absl::StrJoin(header_, ","), "\n");
    int64_t line = 2;
    for (int i = 0; i < incidents; ++i) {
      const std::string number = absl::StrCat("INC", 100000 + i);
      const char* states[] = {"New", "Active", "Resolved"};
      for (int k = 0; k < 3; ++k, ++line) {
        if (line % 97 == 0) {
          absl::StrAppend(&text, "not,a,row\n");
          bad_lines->push_back(line);
          continue;
        }
        absl::StrAppend(&text,
                        Row({{"number", number},
                             {"incident_state", states[k]},
                             {"sys_updated_at",
                              absl::StrCat("29/2/2016 0", k + 1, ":00")}}),
                        "\n");
      }
    }
    return text;
  }
};

TEST_F(ManyRowsTest, ChunksOfRecordsComeOutInOrder) {
  std::vector<int64_t> bad_lines;
  const std::string text = Text(1000, &bad_lines);  // 3,000 records.
  auto engine = Open(tmp_.Sub("db"));
  auto src = StringSource(text);
  ServiceNowImportOptions o = WithMatrix();
  o.rejects_path = tmp_.Sub("rejects.csv");
  o.progress_every_rows = 100;
  std::vector<ImportProgress> seen;
  o.progress = [&](const ImportProgress& p) { seen.push_back(p); };
  auto s = ImportServiceNowFrom(engine.get(), src.get(), o);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->rows_read, 3000);
  EXPECT_EQ(s->rows_rejected, static_cast<int64_t>(bad_lines.size()));
  EXPECT_EQ(s->rows_imported, 3000 - s->rows_rejected);
  EXPECT_EQ(s->incidents, 1000);
  // The rejects file lists the malformed records by line, in input order.
  std::vector<std::string> rejects =
      absl::StrSplit(ReadText(o.rejects_path), '\n', absl::SkipEmpty());
  ASSERT_EQ(rejects.size(), bad_lines.size() + 1);
  for (size_t i = 0; i < bad_lines.size(); ++i) {
    EXPECT_THAT(rejects[i + 1],
                ::testing::StartsWith(absl::StrCat(bad_lines[i], ",")));
  }
  // Progress every 100 rows read, then once at the end with every byte
  // (bytes as read from the source: in blocks, so not one more per row).
  ASSERT_EQ(seen.size(), 31u);
  for (size_t i = 0; i + 1 < seen.size(); ++i) {
    EXPECT_EQ(seen[i].rows_read, static_cast<int64_t>(100 * (i + 1)));
    EXPECT_GT(seen[i].bytes_read, 0);
    if (i > 0) {
      EXPECT_GE(seen[i].bytes_read, seen[i - 1].bytes_read);
    }
    EXPECT_LE(seen[i].bytes_read, static_cast<int64_t>(text.size()));
    EXPECT_EQ(seen[i].total_bytes, static_cast<int64_t>(text.size()));
  }
  EXPECT_EQ(seen.back().rows_read, 3000);
  EXPECT_EQ(seen.back().bytes_read, static_cast<int64_t>(text.size()));
  // Each incident's events are those of its rows, as one at a time gives.
  auto one = Stream(engine.get(), "incident/INC100500");
  EXPECT_GE(one.size(), 3u);
  EXPECT_TRUE(one.front().has_incident_opened());
}

TEST_F(ManyRowsTest, AnInterruptedImportStopsTheReader) {
  std::vector<int64_t> bad_lines;
  // Far more records than the reader may hold: it waits on a full queue
  // when the import stops.
  const std::string text = Text(3000, &bad_lines);
  auto engine = Open(tmp_.Sub("db"));
  auto src = StringSource(text);
  ServiceNowImportOptions o = WithMatrix();
  o.stop_after_incidents = 2;
  auto s = ImportServiceNowFrom(engine.get(), src.get(), o);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(s->interrupted);
  EXPECT_EQ(s->incidents_appended, 2);
  EXPECT_LE(s->rows_read, 9);  // The third incident's first row, at most.
}

// A source whose reads fail after `fail_after` bytes.
class FailingSource : public ByteSource {
 public:
  FailingSource(std::string text, size_t fail_after)
      : text_(std::move(text)), fail_after_(fail_after) {}
  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    if (pos_ >= fail_after_) return absl::DataLossError("disk says no");
    n = std::min({n, fail_after_ - pos_, size_t{4096}});
    std::memcpy(buf, text_.data() + pos_, n);
    pos_ += n;
    return n;
  }
  int64_t TotalBytes() const override {
    return static_cast<int64_t>(text_.size());
  }
  std::string Name() const override { return "failing"; }

 private:
  std::string text_;
  size_t fail_after_;
  size_t pos_ = 0;
};

TEST_F(ManyRowsTest, AReadErrorMidWayEndsTheImportWithIt) {
  std::vector<int64_t> bad_lines;
  const std::string text = Text(2000, &bad_lines);
  auto engine = Open(tmp_.Sub("db"));
  FailingSource src(text, text.size() / 2);
  auto s = ImportServiceNowFrom(engine.get(), &src, WithMatrix());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(s.status().message(), HasSubstr("disk says no"));
  // What was appended before the error stays: a rerun completes it.
  EXPECT_GT(engine->NextPosition(), 0);
  auto src2 = StringSource(text);
  auto again = ImportServiceNowFrom(engine.get(), src2.get(), WithMatrix());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->incidents, 2000);
  EXPECT_GT(again->events_already_present, 0);
}

TEST_F(SyntheticTest, NotAnExportIsRefusedBeforeAnythingIsWritten) {
  auto engine = Open(tmp_.Sub("db"));
  auto src = StringSource("a,b,c\n1,2,3\n");
  auto s = ImportServiceNowFrom(engine.get(), src.get(), WithMatrix());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.status().message(), HasSubstr("missing column"));
  EXPECT_EQ(engine->NextPosition(), 0);
}

TEST_F(SyntheticTest, AStreamHoldingOtherEventsIsLeftAlone) {
  auto engine = Open(tmp_.Sub("db"));
  Envelope foreign;
  foreign.set_event_id("someone-else");
  foreign.set_occurred_at_us(absl::ToUnixMicros(Utc(2016, 1, 1, 0, 0)));
  foreign.mutable_incident_opened()->set_number("INC1");
  ASSERT_TRUE(
      engine->Append("incident/INC1", ExpectedVersion::NoStream(), {foreign})
          .ok());
  auto s = Import(engine.get(),
                  {Row({{"number", "INC1"}}), Row({{"number", "INC2"}})});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->rejected_by_reason["incident stream differs"], 1);
  EXPECT_EQ(s->rows_imported, 1);
  EXPECT_EQ(Stream(engine.get(), "incident/INC1").size(), 1u);
  EXPECT_FALSE(Stream(engine.get(), "incident/INC2").empty());
}

TEST(SanitizeServiceNowId, RunsOfOtherCharactersBecomeOneUnderscore) {
  EXPECT_EQ(SanitizeServiceNowId("Problem ID  14"), "Problem_ID_14");
  EXPECT_EQ(SanitizeServiceNowId("CHG0000132"), "CHG0000132");
  EXPECT_EQ(SanitizeServiceNowId("a/b c"), "a_b_c");
}

TEST(SlaPolicies, ShippedExampleLoadsForFourLevels) {
  auto p = LoadSlaPolicyListJson(ReadText(kPolicies), 4);
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(p->size(), 1u);
  EXPECT_EQ((*p)[0].targets_size(), 4);
  // A fifth priority does not exist in the 4-level matrix.
  auto bad = LoadSlaPolicyListJson(
      R"([{"id": "a", "calendarId": "24x7",
           "targets": [{"priority": 5, "resolution": "1h"}],
           "resolution": {"start": {"events": ["incident_opened"]},
                          "stop": {"states": ["resolved"]}}}])",
      4);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("policies[0]"));
  EXPECT_FALSE(LoadSlaPolicyListJson("[]", 4).ok());
}

// The tool's timing line: a rate per 100,000 rows only from
// kImportRateMinRows rows on (a tiny file's rate is start-up cost).
TEST(ImportTiming, RatePer100kRowsOnlyForEnoughRows) {
  ServiceNowImportSummary s;
  s.elapsed = absl::Milliseconds(1500);
  s.rows_read = 150000;
  EXPECT_EQ(FormatImportTiming(s, absl::Milliseconds(500)),
            "projections:      current after 0.50 s more; import + fold "
            "2.00 s = 1.33 s per 100,000 rows\n");
  s.rows_read = kImportRateMinRows;
  EXPECT_THAT(FormatImportTiming(s, absl::ZeroDuration()),
              HasSubstr("import + fold 1.50 s = 15.00 s per 100,000 rows"));
  s.rows_read = kImportRateMinRows - 1;
  EXPECT_EQ(FormatImportTiming(s, absl::ZeroDuration()),
            "projections:      current after 0.00 s more; import + fold "
            "1.50 s (9999 rows: too few for a rate)\n");
  s.rows_read = 0;
  EXPECT_THAT(FormatImportTiming(s, absl::ZeroDuration()),
              HasSubstr("(0 rows: too few for a rate)"));
}

}  // namespace
}  // namespace slate
