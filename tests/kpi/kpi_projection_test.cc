// The KPI projection on the hand-computed scenario in scenario.jsonl, driven
// through Engine::Execute with fixed `at` times (a SimulatedClock past them):
// one test per measure, then rebuild, arrival order and mergeability.
//
// The scenario (UTC; 2026-11-02 is a Monday):
//   INC4 crm P3 opened 11-01 08:00, open forever.
//   INC1 email P2 opened 11-02 09:00, ack 09:10, assigned net/ann 09:30,
//        hold 10:00-11:00, resolved 13:00 (by ann), closed 11-03 09:00.
//   INC2 email P1 opened 11-02 10:00, assigned net/bob 10:20, reassigned
//        apps/cat 11:00, resolved 14:00, reopened 11-03 10:00, resolved 12:00.
//   INC3 email P1 opened 11-02 12:00, caused by CHG1, cancelled 15:00.
//   INC5 crm P3 opened 11-03 20:00, open forever.
//   CHG1 standard email requested 11-02 08:00, closed SUCCESSFUL 20:00.
//   CHG2 emergency crm requested 11-03 08:00, closed ROLLED_BACK 11:00.
//   CHG3 standard crm requested 11-03 12:00.
#include "lib/projection/kpi_projection.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "lib/api/engine.h"
#include "lib/api/engine_internal.h"
#include "lib/projection/kpi_query.h"
#include "lib/projection/kpi_rollup.h"
#include "lib/projection/views.h"
#include "tests/kpi/kpi_test_util.h"
#include "tests/testing/temp_dir.h"

namespace slate {
namespace {

constexpr int64_t kMin = 60'000'000;
constexpr int64_t kHour = 60 * kMin;

absl::Time T(const char* s) {
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, s, &t, &err)) std::abort();
  return t;
}

absl::CivilDay Day(int m, int d) { return absl::CivilDay(2026, m, d); }

std::vector<Command> ScenarioCommands() {
  std::ifstream in("tests/kpi/scenario.jsonl");
  EXPECT_TRUE(in.good()) << "tests/kpi/scenario.jsonl not in runfiles";
  std::vector<Command> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    Command c;
    auto s = google::protobuf::util::JsonStringToMessage(line, &c);
    EXPECT_TRUE(s.ok()) << line;
    out.push_back(c);
  }
  return out;
}

class KpiScenarioTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Options options;
    options.clock = &clock_;
    options.durability = Durability::kProcessCrash;
    auto e = Engine::Open(options, dir_.path());
    ASSERT_TRUE(e.ok()) << e.status();
    engine_ = std::move(*e);
    for (const Command& c : ScenarioCommands()) {
      auto r = engine_->Execute(c);
      ASSERT_TRUE(r.ok()) << c.command_id() << ": " << r.status();
    }
    ASSERT_TRUE(engine_->ProjectionStatus().ok());
  }

  KpiRollup Rollup() {
    auto r = LoadKpiRollup(KpiScanOf(RunnerOf(*engine_)), std::nullopt);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : KpiRollup();
  }

  KpiReport Query(KpiBucket bucket, std::vector<KpiDimension> by,
                  const char* from = "2026-11-01T00:00:00Z",
                  const char* to = "2026-11-12T00:00:00Z") {
    KpiQuery q;
    q.bucket = bucket;
    q.by = std::move(by);
    q.from = T(from);
    q.to = T(to);
    q.now = clock_.Now();
    auto r = QueryKpis(Rollup(), q, KpiOptions(), {});
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : KpiReport();
  }

  // The row of `report` for bucket start `day` and dims `dims`.
  // (Returned by value: a reference into a report would dangle once the
  // report is replaced.)
  static KpiRow Row(const KpiReport& report, absl::CivilDay day,
                    const KpiDims& dims = {}) {
    for (const KpiRow& r : report.rows) {
      if (r.start == day && r.dims == dims) return r;
    }
    ADD_FAILURE() << "no row for " << day;
    return KpiRow();
  }

  // A rebuild folds the same bytes, and the incremental fold equals a fresh
  // in-memory fold.
  void ExpectRebuildIsByteIdentical() {
    auto before = RunnerOf(*engine_).Dump("kpi");
    ASSERT_TRUE(before.ok()) << before.status();
    ASSERT_TRUE(engine_->RebuildProjection("kpi").ok());
    auto after = RunnerOf(*engine_).Dump("kpi");
    ASSERT_TRUE(after.ok());
    EXPECT_EQ(*before, *after);
    auto fresh = FoldKpiRollup(
        [this](int64_t from, size_t n) { return engine_->ReadAll(from, n); },
        KpiOptions());
    ASSERT_TRUE(fresh.ok());
    EXPECT_TRUE(*fresh == Rollup());
  }

  KpiRow DayRow(int m, int d) {
    day_report_ = Query(KpiBucket::kDay, {});
    return Row(day_report_, Day(m, d));
  }

  slate::testing::TempDir dir_;
  SimulatedClock clock_{T("2026-12-31T00:00:00Z")};
  std::unique_ptr<Engine> engine_;
  KpiReport day_report_;
};

// A sketch quantile within 1 % of `exact_us`.
void ExpectQuantile(const QuantileSketch& s, double q, int64_t exact_us) {
  ASSERT_GT(s.count(), 0);
  EXPECT_NEAR(s.Quantile(q), static_cast<double>(exact_us), exact_us * 0.01)
      << "q=" << q;
}

TEST_F(KpiScenarioTest, OpenedCountsFirstOpenPerDay) {
  EXPECT_EQ(DayRow(11, 1).flow.opened, 1);  // INC4
  EXPECT_EQ(DayRow(11, 2).flow.opened, 3);  // INC1, INC2, INC3
  EXPECT_EQ(DayRow(11, 3).flow.opened, 1);  // INC5
  EXPECT_EQ(DayRow(11, 4).flow.opened, 0);  // empty buckets are reported
}

TEST_F(KpiScenarioTest, ResolvedCountsEveryResolution) {
  EXPECT_EQ(DayRow(11, 2).flow.resolved, 2);  // INC1, INC2 (first time)
  EXPECT_EQ(DayRow(11, 3).flow.resolved, 1);  // INC2 again
  const KpiReport week = Query(KpiBucket::kWeek, {});
  EXPECT_EQ(Row(week, Day(11, 2)).flow.resolved, 3);
}

TEST_F(KpiScenarioTest, ClosedReopenedCancelled) {
  EXPECT_EQ(DayRow(11, 2).flow.closed, 0);
  EXPECT_EQ(DayRow(11, 3).flow.closed, 1);    // INC1
  EXPECT_EQ(DayRow(11, 3).flow.reopened, 1);  // INC2
  EXPECT_EQ(DayRow(11, 2).flow.reopened, 0);
  EXPECT_EQ(DayRow(11, 2).flow.cancelled, 1);  // INC3
}

TEST_F(KpiScenarioTest, BacklogAtBucketEnd) {
  EXPECT_EQ(DayRow(11, 1).backlog, 1);  // INC4
  EXPECT_EQ(DayRow(11, 2).backlog, 1);  // INC1-3 resolved or cancelled
  EXPECT_EQ(DayRow(11, 3).backlog, 2);  // INC4, INC5
  EXPECT_EQ(DayRow(11, 11).backlog, 2);
  // Week of 10-26 ends 11-02 00:00: only INC4.
  const KpiReport week = Query(KpiBucket::kWeek, {});
  EXPECT_EQ(Row(week, Day(10, 26)).backlog, 1);
  EXPECT_EQ(Row(week, Day(11, 2)).backlog, 2);
}

TEST_F(KpiScenarioTest, AgingAtBucketEnd) {
  using A = std::array<int64_t, kAgingClasses>;
  // End of 11-01: INC4 is 16h old.
  EXPECT_EQ(DayRow(11, 1).aging, (A{1, 0, 0, 0, 0}));
  // End of 11-03: INC4 64h (1-3d), INC5 4h (0-1d).
  EXPECT_EQ(DayRow(11, 3).aging, (A{1, 1, 0, 0, 0}));
  // End of 11-04: INC4 88h (3-7d), INC5 28h (1-3d).
  EXPECT_EQ(DayRow(11, 4).aging, (A{0, 1, 1, 0, 0}));
  // End of 11-10: INC4 9d16h, INC5 7d4h: both 7-30d.
  EXPECT_EQ(DayRow(11, 10).aging, (A{0, 0, 0, 2, 0}));
  // End of December: both 30d+.
  const KpiReport month = Query(KpiBucket::kMonth, {}, "2026-12-01T00:00:00Z",
                                "2027-01-01T00:00:00Z");
  EXPECT_EQ(Row(month, Day(12, 1)).aging, (A{0, 0, 0, 0, 2}));
}

TEST_F(KpiScenarioTest, MttaWallAndBusiness) {
  const KpiMeasures& m = DayRow(11, 2).flow;
  // INC1 acknowledged after 10m; INC2's first response is its assignment
  // after 20m; INC3 never responded.
  EXPECT_EQ(m.response_count, 2);
  EXPECT_EQ(m.response_wall_us, 30 * kMin);      // mean 15m
  EXPECT_EQ(m.response_business_us, 30 * kMin);  // 24x7: business = wall
  ExpectQuantile(m.response_wall_sketch, 0.5, 10 * kMin);
  ExpectQuantile(m.response_wall_sketch, 0.99, 10 * kMin);  // rank floor(.99)
  ExpectQuantile(m.response_business_sketch, 0.5, 10 * kMin);
}

TEST_F(KpiScenarioTest, MttrAtLastResolution) {
  // INC1: 4h on 11-02. INC2: first resolved 11-02 but reopened, so it
  // counts once, at its last resolution on 11-03, with 26h.
  const KpiMeasures& d2 = DayRow(11, 2).flow;
  EXPECT_EQ(d2.resolved_final, 1);
  EXPECT_EQ(d2.resolution_wall_us, 4 * kHour);
  ExpectQuantile(d2.resolution_wall_sketch, 0.9, 4 * kHour);
  const KpiMeasures& d3 = DayRow(11, 3).flow;
  EXPECT_EQ(d3.resolved_final, 1);
  EXPECT_EQ(d3.resolution_wall_us, 26 * kHour);
  EXPECT_EQ(d3.resolution_business_us, 26 * kHour);
  const KpiMeasures& w = Row(Query(KpiBucket::kWeek, {}), Day(11, 2)).flow;
  EXPECT_EQ(w.resolved_final, 2);
  EXPECT_EQ(w.resolution_wall_us, 30 * kHour);  // mean 15h
  ExpectQuantile(w.resolution_wall_sketch, 0.5, 4 * kHour);
  ExpectQuantile(w.resolution_wall_sketch, 0.99, 4 * kHour);
  ExpectQuantile(w.resolution_wall_sketch, 1.0, 26 * kHour);
}

constexpr char kOfficeCalendarJson[] =
    R"({"name":"office","timeZone":"UTC","weekly":[)"
    R"({"day":"MONDAY","start":"09:00","end":"17:00"},)"
    R"({"day":"TUESDAY","start":"09:00","end":"17:00"},)"
    R"({"day":"WEDNESDAY","start":"09:00","end":"17:00"},)"
    R"({"day":"THURSDAY","start":"09:00","end":"17:00"},)"
    R"({"day":"FRIDAY","start":"09:00","end":"17:00"}]})";

Command FromJson(const std::string& json) {
  Command c;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &c).ok())
      << json;
  return c;
}

// The scenario's figures with email on office hours: MTTR 30h wall, 14h
// business; MTTA INC1 09:00->09:10 = 10m + INC2 10:00->10:20 = 20m (all
// open time); availability of email on 11-02: 8h agreed, the P1 outage
// 10:00-15:00 = 5h inside them.
void ExpectOfficeHoursFigures(const KpiRollup& rollup,
                              const KpiOptions& options, absl::Time now) {
  KpiQuery q;
  q.bucket = KpiBucket::kWeek;
  q.from = T("2026-11-02T00:00:00Z");
  q.to = T("2026-11-09T00:00:00Z");
  q.now = now;
  auto r = QueryKpis(rollup, q, options, {});
  ASSERT_TRUE(r.ok()) << r.status();
  bool row = false;
  for (const KpiRow& w : r->rows) {
    if (w.start != Day(11, 2) || w.dims != KpiDims()) continue;
    row = true;
    EXPECT_EQ(w.flow.resolution_wall_us, 30 * kHour);
    EXPECT_EQ(w.flow.resolution_business_us, 14 * kHour);
    EXPECT_EQ(w.flow.response_business_us, 30 * kMin);
  }
  EXPECT_TRUE(row);
  q.bucket = KpiBucket::kDay;
  r = QueryKpis(rollup, q, options, {});
  ASSERT_TRUE(r.ok()) << r.status();
  bool found = false;
  for (const auto& a : r->availability) {
    if (a.service == "email" && a.start == Day(11, 2)) {
      found = true;
      EXPECT_EQ(a.agreed_us, 8 * kHour);
      EXPECT_EQ(a.downtime_us, 5 * kHour);
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(KpiScenarioTest, BusinessTimeUsesTheServiceCalendar) {
  // The same log folded with an office-hours calendar for email
  // (Mon-Fri 09:00-17:00 UTC): INC1 09:00->13:00 is 4h of business time,
  // INC2 11-02 10:00 -> 11-03 12:00 is 7h + 3h = 10h.
  auto cal = BusinessCalendar::FromJson(kOfficeCalendarJson);
  ASSERT_TRUE(cal.ok()) << cal.status();
  KpiOptions options;
  options.service_calendars["email"] = *cal;
  auto rollup = FoldKpiRollup(
      [this](int64_t from, size_t n) { return engine_->ReadAll(from, n); },
      options);
  ASSERT_TRUE(rollup.ok()) << rollup.status();
  ExpectOfficeHoursFigures(*rollup, options, clock_.Now());
}

TEST_F(KpiScenarioTest, BusinessTimeFromTheLogsServiceCalendar) {
  // Before: no calendar anywhere, business time = wall time.
  {
    const KpiRow w = Row(Query(KpiBucket::kWeek, {}, "2026-11-02T00:00:00Z",
                               "2026-11-09T00:00:00Z"),
                         Day(11, 2));
    EXPECT_EQ(w.flow.resolution_business_us, 30 * kHour);
  }
  // The calendar and the service's support calendar arrive after the
  // incidents: every record is recomputed under them.
  for (const std::string& json :
       {absl::StrCat(R"({"commandId":"cal-office","defineCalendar":{)"
                     R"("at":"2026-12-01T00:00:00Z","spec":)",
                     kOfficeCalendarJson, "}}"),
        std::string(
            R"({"commandId":"svc-email-cal","updateService":{"serviceId":"email",)"
            R"("at":"2026-12-01T00:00:00Z","name":"E-mail",)"
            R"("availabilityTargetPercent":99.5,"supportCalendarId":"office"}})")}) {
    auto res = engine_->Execute(FromJson(json));
    ASSERT_TRUE(res.ok()) << res.status();
  }
  ASSERT_TRUE(engine_->ProjectionStatus().ok());
  ExpectOfficeHoursFigures(Rollup(), KpiOptions(), clock_.Now());
  ExpectRebuildIsByteIdentical();

  // The same definitions given before the incidents give the same figures.
  slate::testing::TempDir dir;
  Options options;
  options.clock = &clock_;
  options.durability = Durability::kProcessCrash;
  auto early = Engine::Open(options, dir.path());
  ASSERT_TRUE(early.ok()) << early.status();
  ASSERT_TRUE((*early)
                  ->Execute(FromJson(absl::StrCat(
                      R"({"commandId":"cal-office","defineCalendar":{)"
                      R"("at":"2026-10-01T00:00:00Z","spec":)",
                      kOfficeCalendarJson, "}}")))
                  .ok());
  for (Command c : ScenarioCommands()) {
    if (c.has_define_service() && c.define_service().service_id() == "email") {
      c.mutable_define_service()->set_support_calendar_id("office");
    }
    auto res = (*early)->Execute(c);
    ASSERT_TRUE(res.ok()) << c.command_id() << ": " << res.status();
  }
  ASSERT_TRUE((*early)->ProjectionStatus().ok());
  auto early_rollup = LoadKpiRollup(KpiScanOf(RunnerOf(**early)), std::nullopt);
  ASSERT_TRUE(early_rollup.ok()) << early_rollup.status();
  ExpectOfficeHoursFigures(*early_rollup, KpiOptions(), clock_.Now());

  // KpiOptions::service_calendars still override the log: 24x7 given
  // explicitly makes business time wall time again.
  auto rollup = LoadKpiRollup(KpiScanOf(RunnerOf(*engine_)), std::nullopt);
  ASSERT_TRUE(rollup.ok());
  KpiOptions override_options;
  auto always = BusinessCalendar::FromJson(
      R"({"name":"always","timeZone":"UTC","weekly":[)"
      R"({"day":"MONDAY","start":"00:00","end":"24:00"}]})");
  ASSERT_TRUE(always.ok()) << always.status();
  override_options.service_calendars["email"] = *always;
  KpiQuery q;
  q.bucket = KpiBucket::kDay;
  q.from = T("2026-11-02T00:00:00Z");
  q.to = T("2026-11-03T00:00:00Z");
  q.now = clock_.Now();
  auto r = QueryKpis(*rollup, q, override_options, {});
  ASSERT_TRUE(r.ok()) << r.status();
  bool found = false;
  for (const auto& a : r->availability) {
    if (a.service == "email" && a.start == Day(11, 2)) {
      found = true;
      EXPECT_EQ(a.agreed_us, 24 * kHour);  // 2026-11-02 is a Monday.
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(KpiScenarioTest, HoldReassignmentsFirstContactAndReopenRate) {
  const KpiMeasures& d2 = DayRow(11, 2).flow;  // INC1
  EXPECT_EQ(d2.hold_us, 1 * kHour);
  EXPECT_EQ(d2.group_changes, 0);
  EXPECT_EQ(d2.first_contact, 1);  // resolved by ann, its first assignee
  EXPECT_EQ(d2.reopened_records, 0);
  const KpiMeasures& d3 = DayRow(11, 3).flow;  // INC2
  EXPECT_EQ(d3.group_changes, 1);              // net -> apps
  EXPECT_EQ(d3.first_contact, 0);              // reassigned and reopened
  EXPECT_EQ(d3.reopened_records, 1);
}

TEST_F(KpiScenarioTest, ChangeMeasures) {
  const KpiMeasures& d2 = DayRow(11, 2).flow;
  EXPECT_EQ(d2.changes_requested, 1);
  EXPECT_EQ(d2.changes_emergency, 0);
  EXPECT_EQ(d2.changes_closed, 1);
  EXPECT_EQ(d2.changes_successful, 1);
  EXPECT_EQ(d2.changes_causing_incidents, 1);  // INC3 caused by CHG1
  const KpiMeasures& d3 = DayRow(11, 3).flow;
  EXPECT_EQ(d3.changes_requested, 2);  // CHG2, CHG3
  EXPECT_EQ(d3.changes_emergency, 1);  // CHG2
  EXPECT_EQ(d3.changes_closed, 1);
  EXPECT_EQ(d3.changes_rolled_back, 1);
  EXPECT_EQ(d3.changes_failed, 0);
  EXPECT_EQ(d3.changes_successful, 0);
  EXPECT_EQ(d3.changes_causing_incidents, 0);
}

// A change an import created as a placeholder (the export refers to it but
// holds no record of it) is not a request: it changes no change measure.
TEST_F(KpiScenarioTest, ImportPlaceholderChangesAreNotCounted) {
  Envelope e;
  e.set_event_id("placeholder-chg9");
  e.set_occurred_at_us(absl::ToUnixMicros(T("2026-11-03T09:00:00Z")));
  e.mutable_change_requested()->set_change_id("CHG9");
  e.mutable_change_requested()->set_type(EMERGENCY);
  e.mutable_change_requested()->add_services("crm");
  e.mutable_servicenow()->set_placeholder(true);
  Envelope real = e;  // The same request, not a placeholder, counts.
  real.set_event_id("real-chg10");
  real.mutable_change_requested()->set_change_id("CHG10");
  real.clear_servicenow();
  ASSERT_TRUE(engine_->Append("change/CHG9", ExpectedVersion::NoStream(), {e})
                  .ok());
  ASSERT_TRUE(
      engine_->Append("change/CHG10", ExpectedVersion::NoStream(), {real})
          .ok());
  const KpiMeasures& d3 = DayRow(11, 3).flow;
  EXPECT_EQ(d3.changes_requested, 3);  // CHG2, CHG3, CHG10; not CHG9.
  EXPECT_EQ(d3.changes_emergency, 2);  // CHG2, CHG10.
}

// Records as a source system keeps them, accepted under a relaxed
// DomainPolicy (lib/api/policy.h). INC9 (no service, the only such record):
//   11-05 09:00 opened; 10:00 on hold; 12:00 closed without a resolve;
//   13:00 assigned ops/eve while Closed; 11-07 10:00 reopened (no window);
//   12:00 resolved.
// Hand-computed: 11-05 opened 1, closed 1, resolved 0, no response (the
// assignment came after the record left the open states), backlog 0 at the
// day's end. 11-07: reopened 1, resolved 1, resolved_final 1, MTTR wall
// 11-05 09:00 -> 11-07 12:00 = 51h, time on hold 2h (10:00-12:00; the hold
// ended with the close, not at the resolution two days later).
TEST_F(KpiScenarioTest, CloseWithoutResolveLateAssignAndReopenFoldSanely) {
  DomainPolicy relaxed;
  relaxed.allow_assign_when_resolved = true;
  relaxed.allow_close_without_resolve = true;
  relaxed.reopen_closed_window = absl::InfiniteDuration();
  const char* lines[] = {
      R"({"openIncident":{"incidentId":"INC9","at":"2026-11-05T09:00:00Z","impact":3,"urgency":3}})",
      R"({"holdIncident":{"incidentId":"INC9","at":"2026-11-05T10:00:00Z","reason":"AWAITING_VENDOR"}})",
      R"({"closeIncident":{"incidentId":"INC9","at":"2026-11-05T12:00:00Z"}})",
      R"({"assignIncident":{"incidentId":"INC9","at":"2026-11-05T13:00:00Z","group":"ops","person":"eve"}})",
      R"({"reopenIncident":{"incidentId":"INC9","at":"2026-11-07T10:00:00Z"}})",
      R"({"resolveIncident":{"incidentId":"INC9","at":"2026-11-07T12:00:00Z","resolutionCode":"fixed"}})",
  };
  for (const char* line : lines) {
    Command c;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(line, &c).ok());
    // The strict default refuses all but open, hold and resolve.
    auto r = engine_->Execute(c, relaxed);
    ASSERT_TRUE(r.ok()) << line << ": " << r.status();
  }
  ASSERT_TRUE(engine_->ProjectionStatus().ok());
  KpiDims none;  // INC9 has no service.
  const KpiReport r = Query(KpiBucket::kDay, {KpiDimension::kService});
  const KpiRow d5 = Row(r, Day(11, 5), none);
  EXPECT_EQ(d5.flow.opened, 1);
  EXPECT_EQ(d5.flow.closed, 1);
  EXPECT_EQ(d5.flow.resolved, 0);
  EXPECT_EQ(d5.flow.response_count, 0);
  EXPECT_EQ(d5.backlog, 0);
  const KpiRow d7 = Row(r, Day(11, 7), none);
  EXPECT_EQ(d7.flow.reopened, 1);
  EXPECT_EQ(d7.flow.resolved, 1);
  EXPECT_EQ(d7.flow.resolved_final, 1);
  EXPECT_EQ(d7.flow.resolution_wall_us, 51 * kHour);
  EXPECT_EQ(d7.flow.hold_us, 2 * kHour);
  EXPECT_EQ(d7.flow.response_count, 0);
  EXPECT_EQ(d7.backlog, 0);
  EXPECT_EQ(Row(r, Day(11, 6), none).backlog, 0);  // Closed all day.
  ExpectRebuildIsByteIdentical();
}

// --bucket all: one row per dimension group for the whole period, by hand
// from the scenario (11-01 .. 11-12): opened INC1-INC5 = 5; resolved INC1,
// INC2, INC2 again = 3; closed INC1 = 1; reopened INC2 = 1; cancelled INC3 =
// 1; backlog at 11-12 INC4, INC5 = 2; changes requested CHG1-3 = 3, closed
// CHG1, CHG2 = 2. By priority: P1 INC2, INC3 (opened 2, resolved 2); P2
// INC1 (1, 1); P3 INC4, INC5 (opened 2, resolved 0, backlog 2); the changes
// (no priority) make group 0.
TEST_F(KpiScenarioTest, BucketAllIsOneRowPerGroupForThePeriod) {
  const KpiReport all = Query(KpiBucket::kAll, {});
  ASSERT_EQ(all.rows.size(), 1u);
  const KpiRow& t = all.rows[0];
  EXPECT_EQ(t.start, Day(11, 1));
  EXPECT_EQ(t.end, Day(11, 12));
  EXPECT_EQ(t.flow.opened, 5);
  EXPECT_EQ(t.flow.resolved, 3);
  EXPECT_EQ(t.flow.closed, 1);
  EXPECT_EQ(t.flow.reopened, 1);
  EXPECT_EQ(t.flow.cancelled, 1);
  EXPECT_EQ(t.backlog, 2);
  EXPECT_EQ(t.flow.changes_requested, 3);
  EXPECT_EQ(t.flow.changes_closed, 2);
  // The same as the sum of the day buckets, measure by measure.
  KpiMeasures days;
  for (const KpiRow& r : Query(KpiBucket::kDay, {}).rows) days.Add(r.flow);
  EXPECT_EQ(days.opened, t.flow.opened);
  EXPECT_EQ(days.resolved_final, t.flow.resolved_final);
  EXPECT_EQ(days.response_wall_us, t.flow.response_wall_us);
  EXPECT_EQ(days.resolution_wall_us, t.flow.resolution_wall_us);
  EXPECT_EQ(days.hold_us, t.flow.hold_us);

  const KpiReport by = Query(KpiBucket::kAll, {KpiDimension::kPriority});
  std::map<int, KpiRow> p;
  for (const KpiRow& r : by.rows) {
    EXPECT_EQ(r.start, Day(11, 1));
    EXPECT_EQ(r.end, Day(11, 12));
    EXPECT_TRUE(p.emplace(r.dims.priority, r).second) << r.dims.priority;
  }
  ASSERT_EQ(p.size(), 4u);  // Changes have no priority: group 0.
  EXPECT_EQ(p[0].flow.opened, 0);
  EXPECT_EQ(p[0].flow.changes_requested, 3);
  EXPECT_EQ(p[1].flow.opened, 2);
  EXPECT_EQ(p[1].flow.resolved, 2);
  EXPECT_EQ(p[2].flow.opened, 1);
  EXPECT_EQ(p[2].flow.resolved, 1);
  EXPECT_EQ(p[3].flow.opened, 2);
  EXPECT_EQ(p[3].flow.resolved, 0);
  EXPECT_EQ(p[3].backlog, 2);
  // The table says what the one bucket covers.
  EXPECT_NE(FormatKpiReport(all, KpiFormat::kTable, KpiTables())
                .find("KPIs by total; one bucket for the whole period, "
                      "2026-11-01 to 2026-11-12 (end exclusive) in UTC\n"),
            std::string::npos);
}

// The default end of `slate kpi` and `slate report`: the last incident or
// change event (INC5 opened 11-03 20:00), not the engine clock (12-31).
TEST_F(KpiScenarioTest, LastRecordEventTimeIsTheLatestIncidentOrChangeEvent) {
  auto last = engine_->LastRecordEventTime();
  ASSERT_TRUE(last.ok()) << last.status();
  ASSERT_TRUE(last->has_value());
  EXPECT_EQ(**last, T("2026-11-03T20:00:00Z"));
}

TEST_F(KpiScenarioTest, AvailabilityMergesOverlappingOutages) {
  const KpiReport r = Query(KpiBucket::kDay, {});
  std::map<absl::CivilDay, KpiAvailabilityRow> email;
  for (const auto& a : r.availability) {
    EXPECT_NE(a.service, "crm");  // No target, no P1 incident.
    if (a.service == "email") email[a.start] = a;
  }
  ASSERT_EQ(email.count(Day(11, 2)), 1u);
  // INC2 P1 10:00-14:00 and INC3 P1 12:00-15:00: 5h, not 7h.
  EXPECT_EQ(email[Day(11, 2)].agreed_us, 24 * kHour);
  EXPECT_EQ(email[Day(11, 2)].downtime_us, 5 * kHour);
  EXPECT_EQ(email[Day(11, 2)].target_percent, 99.5);
  // INC2 reopened 11-03 10:00-12:00.
  EXPECT_EQ(email[Day(11, 3)].downtime_us, 2 * kHour);
  EXPECT_EQ(email[Day(11, 4)].downtime_us, 0);
}

TEST_F(KpiScenarioTest, DimensionsAttributeAtTheMeasuresInstant) {
  const KpiReport r = Query(KpiBucket::kDay, {KpiDimension::kPriority});
  KpiDims p1, p2, p3;
  p1.priority = 1;
  p2.priority = 2;
  p3.priority = 3;
  EXPECT_EQ(Row(r, Day(11, 2), p1).flow.opened, 2);  // INC2, INC3
  EXPECT_EQ(Row(r, Day(11, 2), p2).flow.opened, 1);  // INC1
  EXPECT_EQ(Row(r, Day(11, 2), p3).backlog, 1);      // INC4
  EXPECT_EQ(Row(r, Day(11, 3), p3).backlog, 2);
  const KpiReport g = Query(KpiBucket::kDay, {KpiDimension::kGroup});
  KpiDims apps, net, none;
  apps.group = "apps";
  net.group = "net";
  EXPECT_EQ(Row(g, Day(11, 3), apps).flow.resolved_final, 1);  // INC2
  EXPECT_EQ(Row(g, Day(11, 3), net).flow.closed, 1);           // INC1
  EXPECT_EQ(Row(g, Day(11, 3), none).backlog, 2);  // unassigned INC4, INC5
  // Totals equal the sum over any grouping.
  const KpiReport s =
      Query(KpiBucket::kDay, {KpiDimension::kService, KpiDimension::kCategory,
                              KpiDimension::kContactType});
  const KpiReport t = Query(KpiBucket::kDay, {});
  for (const KpiRow& total : t.rows) {
    KpiMeasures sum;
    int64_t backlog = 0;
    for (const KpiRow& row : s.rows) {
      if (row.start != total.start) continue;
      sum.Add(row.flow);
      backlog += row.backlog;
    }
    EXPECT_EQ(sum, total.flow) << total.start;
    EXPECT_EQ(backlog, total.backlog) << total.start;
  }
}

TEST_F(KpiScenarioTest, SlaComplianceFromFinalClocks) {
  // Two met and one breached resolution clock of policy p on 11-02 for P1,
  // one met response clock on 11-03.
  std::vector<KpiSlaClock> clocks(4);
  for (auto& c : clocks) {
    c.policy_id = "p";
    c.target_type = "resolution";
    c.dims.priority = 1;
    c.met = true;
    c.at_us = absl::ToUnixMicros(T("2026-11-02T12:00:00Z"));
  }
  clocks[2].met = false;
  clocks[3].target_type = "response";
  clocks[3].at_us = absl::ToUnixMicros(T("2026-11-03T01:00:00Z"));
  KpiQuery q;
  q.by = {KpiDimension::kPriority};
  q.from = T("2026-11-02T00:00:00Z");
  q.to = T("2026-11-04T00:00:00Z");
  q.now = clock_.Now();
  auto r = QueryKpis(Rollup(), q, KpiOptions(), clocks);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->sla.size(), 2u);
  EXPECT_EQ(r->sla[0].start, Day(11, 2));
  EXPECT_EQ(r->sla[0].target_type, "resolution");
  EXPECT_EQ(r->sla[0].met, 2);
  EXPECT_EQ(r->sla[0].breached, 1);
  EXPECT_EQ(r->sla[0].dims.priority, 1);
  EXPECT_EQ(r->sla[1].start, Day(11, 3));
  EXPECT_EQ(r->sla[1].met, 1);
}

TEST_F(KpiScenarioTest, OtherZoneIsRefusedNotMisreported) {
  KpiQuery q;
  q.zone = absl::FixedTimeZone(3600);
  q.now = clock_.Now();
  auto r = QueryKpis(Rollup(), q, KpiOptions(), {});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(KpiScenarioTest, RebuildIsByteIdentical) {
  ExpectRebuildIsByteIdentical();
}

// The projection writes records and cells by hand (no message built): each
// stored value is the deterministic serialization of what it parses to.
TEST_F(KpiScenarioTest, StoredRecordsAndCellsAreDeterministicProtoBytes) {
  auto dump = RunnerOf(*engine_).Dump("kpi");
  ASSERT_TRUE(dump.ok()) << dump.status();
  int records = 0;
  int cells = 0;
  for (const auto& [key, value] : *dump) {
    if (absl::StartsWith(key, kpi::kRecordPrefix)) {
      kpi::KpiRecord r;
      ASSERT_TRUE(r.ParseFromString(value)) << key;
      EXPECT_EQ(value, SerializeDeterministic(r)) << key;
      ++records;
    } else if (absl::StartsWith(key, kpi::kCellPrefix)) {
      kpi::KpiCell c;
      ASSERT_TRUE(c.ParseFromString(value)) << key;
      EXPECT_EQ(value, SerializeDeterministic(c)) << key;
      ++cells;
    }
  }
  EXPECT_EQ(records, 8);
  EXPECT_GT(cells, 10);
}

// Every event of the log, for the in-memory folds below.
std::vector<Envelope> AllEvents(Engine& engine) {
  auto all = engine.ReadAll(0, 1 << 20);
  EXPECT_TRUE(all.ok());
  return all.ok() ? *all : std::vector<Envelope>();
}

absl::StatusOr<KpiRollup> FoldEvents(const std::vector<Envelope>& events,
                                     const KpiOptions& options = {}) {
  return testing::FoldKpiEvents(events, options);
}

// The fold finds UTC days by division and other zones' days through the
// time zone library: a zone 10 h west of UTC puts every event on the day
// UTC gives the same event 10 h earlier.
TEST_F(KpiScenarioTest, CellDaysInAnotherZoneAreTheUtcDaysOfShiftedEvents) {
  const std::vector<Envelope> events = AllEvents(*engine_);
  KpiOptions west;
  west.zone = absl::FixedTimeZone(-10 * 3600);
  auto in_west = FoldEvents(events, west);
  ASSERT_TRUE(in_west.ok()) << in_west.status();
  std::vector<Envelope> shifted = events;
  for (Envelope& e : shifted) {
    e.set_occurred_at_us(e.occurred_at_us() - 10 * kHour);
  }
  auto in_utc = FoldEvents(shifted);
  ASSERT_TRUE(in_utc.ok()) << in_utc.status();
  EXPECT_FALSE(in_west->cells.empty());
  EXPECT_TRUE(in_west->cells == in_utc->cells);
  // INC4, opened 11-01 08:00Z, is 10-31 in the west; unshifted UTC differs.
  auto unshifted = FoldEvents(events);
  ASSERT_TRUE(unshifted.ok());
  EXPECT_FALSE(in_west->cells == unshifted->cells);
  int64_t opened_oct31 = 0;
  for (const auto& [key, m] : in_west->cells) {
    if (key.first == absl::CivilDay(2026, 10, 31)) opened_oct31 += m.opened;
  }
  EXPECT_EQ(opened_oct31, 1);
}

TEST_F(KpiScenarioTest, AnyArrivalOrderGivesTheSameRollup) {
  const std::vector<Envelope> events = AllEvents(*engine_);
  auto expected = FoldEvents(events);
  ASSERT_TRUE(expected.ok());
  constexpr uint32_t kSeed = 61;
  std::printf("seed %u\n", kSeed);
  std::mt19937 rng(kSeed);
  for (int round = 0; round < 20; ++round) {
    std::vector<Envelope> shuffled = events;
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    auto got = FoldEvents(shuffled);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_TRUE(*got == *expected) << "round " << round;
  }
}

TEST_F(KpiScenarioTest, MergedPartitionRollupsEqualTheRollupOfTheUnion) {
  const std::vector<Envelope> events = AllEvents(*engine_);
  auto whole = FoldEvents(events);
  ASSERT_TRUE(whole.ok());
  for (int parts = 2; parts <= 4; ++parts) {
    // Partition by record (service definitions go to every partition, as
    // the catalog would be replicated).
    std::vector<std::vector<Envelope>> p(parts);
    for (const Envelope& e : events) {
      if (e.stream().rfind("service/", 0) == 0) {
        for (auto& v : p) v.push_back(e);
      } else {
        p[std::hash<std::string>()(e.stream()) % parts].push_back(e);
      }
    }
    KpiRollup merged;
    for (const auto& v : p) {
      auto r = FoldEvents(v);
      ASSERT_TRUE(r.ok());
      merged.Merge(*r);
    }
    EXPECT_TRUE(merged == *whole) << parts << " partitions";
    KpiQuery q;
    q.by = {KpiDimension::kService};
    q.bucket = KpiBucket::kWeek;
    q.from = T("2026-11-01T00:00:00Z");
    q.to = T("2026-12-01T00:00:00Z");
    q.now = clock_.Now();
    auto a = QueryKpis(merged, q, KpiOptions(), {});
    auto b = QueryKpis(*whole, q, KpiOptions(), {});
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(FormatKpiReport(*a, KpiFormat::kJson),
              FormatKpiReport(*b, KpiFormat::kJson));
  }
  // Time ranges: the rollup of days before 11-03 merged with the rest.
  auto early = LoadKpiRollup(KpiScanOf(RunnerOf(*engine_)), Day(11, 3));
  ASSERT_TRUE(early.ok());
  KpiRollup late = *whole;
  for (auto it = late.cells.begin(); it != late.cells.end();) {
    it = it->first.first < Day(11, 3) ? late.cells.erase(it) : std::next(it);
  }
  late.outages.clear();
  late.services.clear();
  EXPECT_FALSE(*early == *whole);
  early->Merge(late);
  EXPECT_TRUE(*early == *whole);
}

// KpiFlow::Add lists its counters by hand: every counter the rollup keeps
// (SLATE_KPI_COUNTERS, whose names are KpiFlow's) must be among them. The
// survey counters were once missing, so reports that summed rows showed
// no survey response at all.
TEST(KpiFlowTest, AddSumsEveryCounter) {
  KpiFlow one;
  int64_t v = 1;
#define SLATE_SET(name) one.name = v++;
  SLATE_KPI_COUNTERS(SLATE_SET)
#undef SLATE_SET
  KpiFlow sum;
  sum.Add(one);
  sum.Add(one);
#define SLATE_CHECK(name) EXPECT_EQ(sum.name, 2 * one.name) << #name;
  SLATE_KPI_COUNTERS(SLATE_CHECK)
#undef SLATE_CHECK
}

}  // namespace
}  // namespace slate
