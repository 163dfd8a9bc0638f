// The HTML report on a scripted dataset (tests/report/dataset.jsonl run
// through Engine::Execute) and on an empty database: the figures follow
// from the script (oracles computed from the script's commands, or from the
// SLA clocks independently of the report), the HTML is well-formed enough
// (every <svg> closed, every chart with data has non-empty series paths, no
// NaN or infinity anywhere), and every label is escaped.
#include <algorithm>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "lib/api/clock.h"
#include "lib/api/engine.h"
#include "lib/api/engine_internal.h"
#include "lib/projection/kpi_sla.h"
#include "lib/report/report.h"
#include "lib/report/service_report.h"
#include "proto/commands.pb.h"
#include "tests/report/subprocess.h"
#include "tests/report/svg_checks.h"
#include "tests/testing/temp_dir.h"

namespace slate::report {
namespace {

using ::slate::testing::Count;
using ::slate::testing::NonFiniteTokens;
using ::slate::testing::PathData;
using ::slate::testing::SvgElements;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

absl::Time T(const char* rfc3339) {
  absl::Time t;
  std::string err;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, rfc3339, &t, &err)) << err;
  return t;
}

std::vector<Command> DatasetCommands(
    const char* path = "tests/report/dataset.jsonl") {
  std::ifstream in(slate::testing::Runfile(path));
  EXPECT_TRUE(in.good());
  std::vector<Command> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    Command c;
    auto st = google::protobuf::util::JsonStringToMessage(line, &c);
    EXPECT_TRUE(st.ok()) << line;
    out.push_back(c);
  }
  return out;
}

// A whole document, every section and table closed, `charts` SVG charts
// each with drawn series or bars (paths "M<digit>...") and none saying "No
// data", no NaN or infinity anywhere.
void ExpectWellFormedWithCharts(const std::string& html, size_t charts) {
  EXPECT_TRUE(absl::StartsWith(html, "<!DOCTYPE html>"));
  EXPECT_TRUE(absl::EndsWith(html, "</html>\n"));
  EXPECT_EQ(Count(html, "<section"), Count(html, "</section>"));
  EXPECT_EQ(Count(html, "<table"), Count(html, "</table>"));
  const std::vector<std::string> svgs = SvgElements(html);
  ASSERT_EQ(svgs.size(), charts);
  EXPECT_EQ(Count(html, "<svg"), Count(html, "</svg>"));
  for (size_t i = 0; i < svgs.size(); ++i) {
    SCOPED_TRACE(absl::StrCat("chart ", i));
    std::vector<std::string> d = PathData(svgs[i], "series");
    for (const std::string& b : PathData(svgs[i], "bar")) d.push_back(b);
    ASSERT_FALSE(d.empty()) << svgs[i];
    for (const std::string& p : d) {
      ASSERT_GE(p.size(), 2u);
      EXPECT_EQ(p[0], 'M');
      EXPECT_TRUE(std::isdigit(static_cast<unsigned char>(p[1]))) << p;
    }
    EXPECT_THAT(svgs[i], Not(HasSubstr("No data")));
  }
  EXPECT_THAT(NonFiniteTokens(html), IsEmpty());
}

class ReportHtmlTest : public ::testing::Test {
 protected:
  void Open(bool with_dataset) {
    clock_ = std::make_unique<SimulatedClock>(T("2026-12-31T00:00:00Z"));
    Options options;
    options.clock = clock_.get();
    auto e = Engine::Open(options, dir_.path());
    ASSERT_TRUE(e.ok()) << e.status();
    engine_ = std::move(*e);
    if (with_dataset) {
      commands_ = DatasetCommands();
      ASSERT_EQ(commands_.size(), 34u);
      for (const Command& c : commands_) {
        auto r = engine_->Execute(c);
        ASSERT_TRUE(r.ok()) << r.status() << "\n" << c.DebugString();
      }
    }
    // The oracle of the SLA counts: the SLA projection's final clocks.
    auto clocks = FinalSlaClocks(RunnerOf(*engine_));
    ASSERT_TRUE(clocks.ok()) << clocks.status();
    clocks_ = std::move(*clocks);
    options_.now = T("2026-11-21T00:00:00Z");
  }

  ReportData Collect() {
    auto d = CollectReportData(*engine_, options_);
    EXPECT_TRUE(d.ok()) << d.status();
    return d.ok() ? *d : ReportData();
  }

  slate::testing::TempDir dir_;
  std::unique_ptr<SimulatedClock> clock_;
  std::unique_ptr<Engine> engine_;
  std::vector<Command> commands_;
  std::vector<KpiSlaClock> clocks_;
  ReportOptions options_;
};

TEST_F(ReportHtmlTest, FiguresFollowTheScript) {
  ASSERT_NO_FATAL_FAILURE(Open(true));
  const ReportData d = Collect();
  // Oracle: the script's own commands.
  std::map<std::string, int64_t> opened_by_category;
  int64_t opened = 0, reopened = 0, resolved = 0;
  for (const Command& c : commands_) {
    if (c.has_open_incident()) {
      ++opened;
      ++opened_by_category[c.open_incident().category()];
    }
    reopened += c.has_reopen_incident();
    resolved += c.has_resolve_incident();
  }
  EXPECT_EQ(d.total.opened, opened);
  EXPECT_EQ(d.total.reopened, reopened);
  EXPECT_EQ(d.total.resolved, resolved);
  // Satisfaction: the script's survey responses, one per resolution.
  int64_t responses = 0, satisfied = 0, score_sum = 0;
  for (const Command& c : commands_) {
    if (!c.has_record_survey_response()) continue;
    ++responses;
    satisfied += c.record_survey_response().score() >= 4;
    score_sum += c.record_survey_response().score();
  }
  ASSERT_EQ(responses, 3);
  EXPECT_EQ(d.total.survey_responses, responses);
  EXPECT_EQ(d.total.survey_satisfied, satisfied);
  EXPECT_EQ(d.total.survey_score_sum, score_sum);
  int64_t bucket_responses = 0;
  for (const BucketPoint& p : d.buckets) {
    EXPECT_EQ(p.survey_responses, 1) << p.start;
    bucket_responses += p.survey_responses;
  }
  EXPECT_EQ(bucket_responses, responses);
  const std::string html = RenderReportHtml(d, options_);
  EXPECT_THAT(html, HasSubstr(absl::StrCat(
                        "<th scope=\"row\">CSAT (scores 4-5 / responses)</th>"
                        "<td class=\"num\">",
                        absl::StrFormat("%.1f", 100.0 * satisfied / responses),
                        " %</td>")));
  EXPECT_THAT(html, HasSubstr(absl::StrCat(
                        "<th scope=\"row\">Average score (1-5)</th><td "
                        "class=\"num\">",
                        absl::StrFormat("%.2f", 1.0 * score_sum / responses), "</td>")));
  EXPECT_THAT(html, HasSubstr(absl::StrCat(
                        "<th scope=\"row\">Survey response rate (responses / "
                        "resolutions)</th><td class=\"num\">",
                        absl::StrFormat("%.1f", 100.0 * responses / resolved),
                        " %</td>")));
  // Weeks of 11-02, 11-09, 11-16 up to now (11-21).
  ASSERT_EQ(d.buckets.size(), 3u);
  EXPECT_EQ(d.buckets[0].start, absl::CivilDay(2026, 11, 2));
  int64_t sum = 0;
  for (const BucketPoint& p : d.buckets) sum += p.opened;
  EXPECT_EQ(sum, opened);
  // Open at the end: INC6 only (INC9 was cancelled).
  EXPECT_EQ(d.backlog_at_end, 1);

  // Top categories by volume: count desc, then name.
  std::vector<std::pair<int64_t, std::string>> want;
  for (const auto& [cat, n] : opened_by_category) want.push_back({-n, cat});
  std::sort(want.begin(), want.end());
  ASSERT_EQ(d.top_by_volume.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(d.top_by_volume[i].category, want[i].second) << i;
    EXPECT_EQ(d.top_by_volume[i].opened, -want[i].first) << i;
  }

  // SLA: every final clock in the period is counted once, per priority and
  // per group (oracle: the clocks themselves).
  const int64_t from_us = absl::ToUnixMicros(T("2026-11-02T00:00:00Z"));
  const int64_t to_us = absl::ToUnixMicros(T("2026-11-23T00:00:00Z"));
  int64_t met = 0, breached = 0;
  std::map<std::string, int64_t> breached_by_category;
  for (const KpiSlaClock& c : clocks_) {
    if (c.at_us < from_us || c.at_us >= to_us) continue;
    (c.met ? met : breached) += 1;
    if (!c.met) ++breached_by_category[c.dims.category];
  }
  ASSERT_GT(met, 0);
  ASSERT_GT(breached, 0);
  int64_t got_met = 0, got_breached = 0;
  for (const auto& [type, c] : d.sla_total) {
    got_met += c.met;
    got_breached += c.breached;
  }
  EXPECT_EQ(got_met, met);
  EXPECT_EQ(got_breached, breached);
  int64_t by_priority = 0, by_group = 0;
  for (const auto& s : d.sla_by_priority) by_priority += s.total();
  for (const auto& s : d.sla_by_group) by_group += s.total();
  EXPECT_EQ(by_priority, met + breached);
  EXPECT_EQ(by_group, met + breached);  // 4 groups < top 15.
  for (const CategoryStat& c : d.top_by_breaches) {
    EXPECT_EQ(c.breached, breached_by_category[c.category]) << c.category;
  }

  // MTTR of P1: INC1 2h, INC4 6h, INC7 3h: p50 = 3h, p90 = x[floor(0.9*2)]
  // = 3h, within the sketch's 1 %.
  const auto p1 =
      std::find_if(d.priorities.begin(), d.priorities.end(),
                   [](const PriorityStat& p) { return p.priority == 1; });
  ASSERT_NE(p1, d.priorities.end());
  EXPECT_EQ(p1->resolved_final, 3);
  ASSERT_TRUE(p1->mttr_p50_s.has_value());
  EXPECT_NEAR(*p1->mttr_p50_s, 3 * 3600, 0.01 * 3 * 3600);
  ASSERT_TRUE(p1->mttr_mean_s.has_value());
  EXPECT_NEAR(*p1->mttr_mean_s, 11.0 * 3600 / 3, 1);
}

TEST_F(ReportHtmlTest, HtmlIsWellFormedEscapedAndChartsDrew) {
  ASSERT_NO_FATAL_FAILURE(Open(true));
  const std::string html = RenderReportHtml(Collect(), options_);
  ExpectWellFormedWithCharts(html, 8);
  // Labels from the data are escaped wherever they appear.
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("R&D <ops>")));
  EXPECT_THAT(html, Not(HasSubstr("'billing'")));
  EXPECT_THAT(html, HasSubstr("&lt;script&gt;alert(&quot;x&quot;)"));
  EXPECT_THAT(html, HasSubstr("R&amp;D &lt;ops&gt;"));
  EXPECT_THAT(html, HasSubstr("app &#39;billing&#39;"));
  // Units and axis names are stated.
  EXPECT_THAT(html, HasSubstr("incidents per week"));
  EXPECT_THAT(html, HasSubstr("reopen rate, %"));
  EXPECT_THAT(html, HasSubstr("wall clock, hours"));
  EXPECT_THAT(html, HasSubstr("<section id=\"satisfaction\">"));
}

TEST_F(ReportHtmlTest, EmptyDatabaseSaysNoDataInEveryChart) {
  ASSERT_NO_FATAL_FAILURE(Open(false));
  const ReportData d = Collect();
  EXPECT_EQ(d.total.opened, 0);
  const std::string html = RenderReportHtml(d, options_);
  const std::vector<std::string> svgs = SvgElements(html);
  ASSERT_EQ(svgs.size(), 8u);
  for (const std::string& svg : svgs) {
    EXPECT_THAT(svg, HasSubstr("No data for this period"));
    EXPECT_THAT(PathData(svg, "series"), IsEmpty());
    EXPECT_THAT(PathData(svg, "bar"), IsEmpty());
  }
  EXPECT_EQ(Count(html, "<svg"), Count(html, "</svg>"));
  EXPECT_THAT(NonFiniteTokens(html), IsEmpty());
  EXPECT_THAT(html, HasSubstr("MTTR (mean, wall clock)</th><td "
                              "class=\"num\">-</td>"));
}

TEST_F(ReportHtmlTest, RangeEndingBeforeItStartsIsInvalidArgument) {
  ASSERT_NO_FATAL_FAILURE(Open(true));
  options_.from = T("2026-11-10T00:00:00Z");
  options_.to = T("2026-11-03T00:00:00Z");
  auto d = CollectReportData(*engine_, options_);
  EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
}

// --- The service review (tests/report/service_dataset.jsonl) ---------------

class ServiceReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    clock_ = std::make_unique<SimulatedClock>(T("2026-12-05T00:00:00Z"));
    Options options;
    options.clock = clock_.get();
    auto e = Engine::Open(options, dir_.path());
    ASSERT_TRUE(e.ok()) << e.status();
    engine_ = std::move(*e);
    commands_ = DatasetCommands("tests/report/service_dataset.jsonl");
    ASSERT_EQ(commands_.size(), 62u);
    for (const Command& c : commands_) {
      auto r = engine_->Execute(c);
      ASSERT_TRUE(r.ok()) << r.status() << "\n" << c.DebugString();
    }
    ASSERT_TRUE(engine_->AdvanceTo(T("2026-12-05T00:00:00Z")).ok());
    options_.service = "email";
    options_.month = absl::CivilMonth(2026, 11);
    options_.now = T("2026-12-05T00:00:00Z");
  }

  ServiceReportData Collect() {
    auto d = CollectServiceReportData(*engine_, options_);
    EXPECT_TRUE(d.ok()) << d.status();
    return d.ok() ? *d : ServiceReportData();
  }

  // Oracle from the script: incidents of `service` opened in [from, to).
  int64_t OpenedIn(const std::string& service, absl::Time from,
                   absl::Time to) const {
    int64_t n = 0;
    for (const Command& c : commands_) {
      if (!c.has_open_incident() ||
          c.open_incident().service_id() != service) {
        continue;
      }
      const absl::Time at = T(c.open_incident().at().c_str());
      n += at >= from && at < to;
    }
    return n;
  }

  slate::testing::TempDir dir_;
  std::unique_ptr<SimulatedClock> clock_;
  std::unique_ptr<Engine> engine_;
  std::vector<Command> commands_;
  ServiceReportOptions options_;
};

TEST_F(ServiceReportTest, FiguresEqualTheEngineQueriesAndTheScript) {
  const ServiceReportData d = Collect();
  EXPECT_TRUE(d.defined);
  EXPECT_EQ(d.name, "E-mail <corp>");
  EXPECT_EQ(d.month.start, T("2026-11-01T00:00:00Z"));
  EXPECT_EQ(d.month.end, T("2026-12-01T00:00:00Z"));
  EXPECT_EQ(d.previous.start, T("2026-10-01T00:00:00Z"));

  // Incidents: the script's own openings (crm's INC18 not among them).
  EXPECT_EQ(d.month.flow.opened,
            OpenedIn("email", d.month.start, d.month.end));
  EXPECT_EQ(d.previous.flow.opened,
            OpenedIn("email", d.previous.start, d.previous.end));
  EXPECT_EQ(d.month.flow.opened, 4);     // INC14, 15, 16, 17.
  EXPECT_EQ(d.month.flow.resolved, 5);   // INC12, 13, 14, 15, 17.
  EXPECT_EQ(d.month.backlog_at_end, 1);  // INC16.
  EXPECT_EQ(d.previous.backlog_at_end, 2);  // INC12, INC13.

  // The same figures from a query of the engine's own.
  KpiQuery q;
  q.by = {KpiDimension::kService};
  q.bucket = KpiBucket::kMonth;
  q.from = d.month.start;
  q.to = d.month.end;
  q.now = options_.now;
  auto kpis = engine_->Kpis({q});
  ASSERT_TRUE(kpis.ok()) << kpis.status();
  const KpiResult& r = (*kpis)[0];
  int rows = 0;
  for (const KpiResultRow& row : r.rows) {
    if (row.dims.service != "email") continue;
    ++rows;
    EXPECT_EQ(d.month.flow.opened, row.flow.opened);
    EXPECT_EQ(d.month.flow.resolved, row.flow.resolved);
    EXPECT_EQ(d.month.flow.changes_requested, row.flow.changes_requested);
    EXPECT_EQ(d.month.flow.changes_closed, row.flow.changes_closed);
    EXPECT_EQ(d.month.backlog_at_end, row.backlog);
  }
  EXPECT_EQ(rows, 1);
  int services = 0;
  for (const KpiResultServiceRow& sr : r.services) {
    if (sr.service != "email") continue;
    ++services;
    EXPECT_EQ(d.month.flow.survey_responses, sr.survey_responses);
    EXPECT_EQ(d.month.flow.survey_satisfied, sr.survey_satisfied);
    EXPECT_EQ(d.month.flow.survey_score_sum, sr.survey_score_sum);
    EXPECT_EQ(d.month.flow.resolved, sr.resolved);
    ASSERT_TRUE(sr.has_availability);
    EXPECT_EQ(d.month.agreed_us, sr.agreed_us);
    EXPECT_EQ(d.month.downtime_us, sr.downtime_us);
    EXPECT_EQ(d.month.failures, sr.failures);
  }
  EXPECT_EQ(services, 1);

  // Availability by hand: 30 days, downtime INC12 1h (after midnight) +
  // INC15 3h + INC17 1h (at priority 1) = 5h; two outages start in it.
  EXPECT_EQ(d.month.agreed_us, int64_t{30} * 86400 * 1000000);
  EXPECT_EQ(d.month.downtime_us, int64_t{5} * 3600 * 1000000);
  EXPECT_EQ(d.month.failures, 2);
  EXPECT_DOUBLE_EQ(d.month.target_percent, 99.5);
  ASSERT_TRUE(d.month.availability_percent().has_value());
  EXPECT_NEAR(*d.month.availability_percent(), 100.0 * 715 / 720, 1e-9);
  // October: INC11 2h + INC12 1h of 31 days: above the target.
  EXPECT_EQ(d.previous.downtime_us, int64_t{3} * 3600 * 1000000);
  EXPECT_GT(*d.previous.availability_percent(), 99.5);
  ASSERT_EQ(d.days.size(), 30u);
  int64_t day_downtime = 0;
  for (const ServiceDay& day : d.days) day_downtime += day.downtime_us;
  EXPECT_EQ(day_downtime, d.month.downtime_us);

  // Major incidents: as Engine::MajorIncidents says, and by hand.
  MajorIncidentQuery mq;
  mq.service = "email";
  mq.from = d.month.start;
  mq.to = d.month.end;
  mq.now = options_.now;
  auto major = engine_->MajorIncidents(mq);
  ASSERT_TRUE(major.ok()) << major.status();
  ASSERT_EQ(d.major_incidents.size(), major->size());
  std::vector<std::string> ids;
  for (const MajorIncident& m : d.major_incidents) ids.push_back(m.incident_id);
  EXPECT_EQ(ids, (std::vector<std::string>{"INC12", "INC15", "INC17"}));
  absl::Duration in_month;
  for (const MajorIncident& m : d.major_incidents) {
    in_month += m.priority1_in_window;
  }
  EXPECT_EQ(absl::ToInt64Microseconds(in_month), d.month.downtime_us);
  const MajorIncident& inc17 = d.major_incidents[2];
  EXPECT_EQ(inc17.opened_at, T("2026-11-20T10:00:00Z"));
  ASSERT_TRUE(inc17.resolved_at.has_value());
  EXPECT_EQ(*inc17.resolved_at, T("2026-11-20T12:00:00Z"));
  EXPECT_EQ(inc17.priority1_in_window, absl::Hours(1));
  ASSERT_EQ(inc17.intervals.size(), 1u);
  EXPECT_EQ(inc17.intervals[0].start, T("2026-11-20T11:00:00Z"));

  // SLA per policy and target: the final clocks of email's records in the
  // month, counted from the SLA projection itself.
  auto clocks = FinalSlaClocks(RunnerOf(*engine_));
  ASSERT_TRUE(clocks.ok()) << clocks.status();
  std::map<std::pair<std::string, std::string>, SlaCount> want;
  const int64_t from_us = absl::ToUnixMicros(d.month.start);
  const int64_t to_us = absl::ToUnixMicros(d.month.end);
  for (const KpiSlaClock& c : *clocks) {
    if (c.dims.service != "email" || c.at_us < from_us || c.at_us >= to_us) {
      continue;
    }
    SlaCount& n = want[{c.policy_id, c.target_type}];
    (c.met ? n.met : n.breached) += 1;
  }
  std::map<std::pair<std::string, std::string>, SlaCount> got;
  for (const SlaByTarget& p : d.sla_by_policy) {
    for (const auto& [type, c] : p.by_target) got[{p.label, type}] = c;
  }
  ASSERT_EQ(got.size(), want.size());
  EXPECT_EQ(got.size(), 4u);  // std and email-gold, response and resolution.
  for (const auto& [k, c] : want) {
    EXPECT_EQ(got[k].met, c.met) << k.first << " " << k.second;
    EXPECT_EQ(got[k].breached, c.breached) << k.first << " " << k.second;
  }

  // Changes: CHG1 successful, CHG2 (emergency) failed; crm's CHG3 not here.
  EXPECT_EQ(d.month.flow.changes_requested, 2);
  EXPECT_EQ(d.month.flow.changes_emergency, 1);
  EXPECT_EQ(d.month.flow.changes_closed, 2);
  EXPECT_EQ(d.month.flow.changes_successful, 1);
  EXPECT_EQ(d.month.flow.changes_failed, 1);

  // Satisfaction: INC12 1, INC13 3, INC14 4, INC15 5 rate November's
  // resolutions (5 of them); October: INC10 5, INC11 2 of 2.
  EXPECT_EQ(d.month.flow.survey_responses, 4);
  EXPECT_EQ(d.month.flow.survey_satisfied, 2);
  EXPECT_EQ(d.month.flow.survey_score_sum, 13);
  EXPECT_EQ(d.previous.flow.survey_responses, 2);
  EXPECT_EQ(d.previous.flow.survey_score_sum, 7);
}

TEST_F(ServiceReportTest, HtmlHasEverySectionEscapedAndChartsDrew) {
  const std::string html = RenderServiceReportHtml(Collect(), options_);
  for (const char* id : {"availability", "sla", "incidents", "major-incidents",
                         "changes", "satisfaction", "requests"}) {
    EXPECT_THAT(html, HasSubstr(absl::StrCat("<section id=\"", id, "\">")))
        << id;
  }
  ExpectWellFormedWithCharts(html, 5);
  // Every section has data: none says it is empty.
  EXPECT_EQ(Count(html, "class=\"empty\""), 0);
  // Nothing external: no script, no link, no remote URL but the SVG
  // namespace.
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("<link")));
  EXPECT_EQ(Count(html, "http"), Count(html, "http://www.w3.org/2000/svg"));
  // Texts from the data are escaped.
  EXPECT_THAT(html, Not(HasSubstr("E-mail <corp>")));
  EXPECT_THAT(html, HasSubstr("Service review: E-mail &lt;corp&gt; (email), "
                              "2026-11</h1>"));
  EXPECT_THAT(html, HasSubstr("owner Mail &amp; Co"));
  EXPECT_THAT(html, HasSubstr("MX &lt;unreachable&gt;"));
  // The figures as printed.
  EXPECT_THAT(html, HasSubstr("<th scope=\"row\">Availability</th><td "
                              "class=\"num\">99.597 %</td><td "
                              "class=\"num\">99.306 %</td>"));
  EXPECT_THAT(html, HasSubstr("<th scope=\"row\">Target met</th><td "
                              "class=\"num\">yes</td><td "
                              "class=\"num\">no</td>"));
  EXPECT_THAT(html, HasSubstr("<th scope=\"row\">INC17</th><td>2026-11-20 "
                              "10:00 UTC</td><td>2026-11-20 12:00 UTC</td>"
                              "<td class=\"num\">2h00m</td><td "
                              "class=\"num\">1h00m</td>"));
  EXPECT_THAT(html, HasSubstr("<th scope=\"row\">CSAT (scores 4-5 / "
                              "responses)</th><td class=\"num\">50.0 %</td>"
                              "<td class=\"num\">50.0 %</td>"));
  // Requests (the dataset's comment has the hand computation): October
  // REQ10; November REQ11 and REQ12 fulfilled (24h and 2h), REQ13 rejected.
  const size_t req = html.find("<section id=\"requests\">");
  ASSERT_NE(req, std::string::npos);
  const std::string requests =
      html.substr(req, html.find("</section>", req) - req);
  auto row = [](const char* name, const char* oct, const char* nov) {
    return absl::StrCat("<th scope=\"row\">", name,
                        "</th><td class=\"num\">", oct,
                        "</td><td class=\"num\">", nov, "</td>");
  };
  EXPECT_THAT(requests, HasSubstr(row("Submitted", "1", "3")));
  EXPECT_THAT(requests, HasSubstr(row("Approved (approval complete)", "1",
                                      "1")));
  EXPECT_THAT(requests, HasSubstr(row("Mean approval time (wall clock)",
                                      "1h00m", "4h00m")));
  EXPECT_THAT(requests, HasSubstr(row("Rejected", "0", "1")));
  EXPECT_THAT(requests, HasSubstr(row("Fulfilled", "1", "2")));
  EXPECT_THAT(requests, HasSubstr(row("Mean fulfilment time (wall clock)",
                                      "1d00h", "13h00m")));
  EXPECT_THAT(requests, HasSubstr(row("Cost of the fulfilled requests",
                                      "EUR 30.00", "EUR 15.00")));
  EXPECT_THAT(requests, HasSubstr(row("Request CSAT (scores 4-5 / "
                                      "responses)",
                                      "-", "50.0 %")));
  EXPECT_THAT(requests, Not(HasSubstr("Not available")));
}

TEST_F(ServiceReportTest, MonthBoundariesFollowTheZone) {
  // UTC: INC12 (23:00) and INC13 (23:30) open on October 31.
  ServiceReportData utc = Collect();
  EXPECT_EQ(utc.previous.flow.opened, 4);
  EXPECT_EQ(utc.month.flow.opened, 4);
  // Europe/Berlin (CET, UTC+1 after October 25): both open in November;
  // the month runs from 2026-10-31T23:00Z to 2026-11-30T23:00Z.
  ASSERT_TRUE(absl::LoadTimeZone("Europe/Berlin", &options_.zone));
  const ServiceReportData berlin = Collect();
  EXPECT_EQ(berlin.zone, "Europe/Berlin");
  EXPECT_EQ(berlin.month.start, T("2026-10-31T23:00:00Z"));
  EXPECT_EQ(berlin.month.end, T("2026-11-30T23:00:00Z"));
  EXPECT_EQ(berlin.month.flow.opened,
            OpenedIn("email", berlin.month.start, berlin.month.end));
  EXPECT_EQ(berlin.month.flow.opened, 6);
  EXPECT_EQ(berlin.previous.flow.opened, 2);
  // INC12's whole outage is November's now.
  ASSERT_FALSE(berlin.major_incidents.empty());
  EXPECT_EQ(berlin.major_incidents[0].incident_id, "INC12");
  EXPECT_EQ(berlin.major_incidents[0].priority1_in_window, absl::Hours(2));
  EXPECT_EQ(berlin.month.downtime_us, int64_t{6} * 3600 * 1000000);
  const std::string html = RenderServiceReportHtml(berlin, options_);
  EXPECT_THAT(html, HasSubstr("2026-11-01 00:00 CET to 2026-12-01 00:00 CET "
                              "(end exclusive, time zone Europe/Berlin)"));
}

TEST_F(ServiceReportTest, UnknownServiceIsNotFoundNamingIt) {
  options_.service = "no-such-svc";
  auto d = CollectServiceReportData(*engine_, options_);
  ASSERT_EQ(d.status().code(), absl::StatusCode::kNotFound) << d.status();
  EXPECT_THAT(d.status().message(),
              HasSubstr("unknown service \"no-such-svc\""));
  options_.service = "";
  EXPECT_EQ(CollectServiceReportData(*engine_, options_).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ServiceReportTest, ServiceKnownOnlyFromItsRecordsIsReviewed) {
  // As an import writes it: the record names a service the catalog lacks
  // (Execute would refuse an undefined service).
  Envelope e;
  e.set_event_id("legacy-open");
  e.set_occurred_at_us(absl::ToUnixMicros(T("2026-11-07T10:00:00Z")));
  e.mutable_incident_opened()->set_number("INC90");
  e.mutable_incident_opened()->set_service("legacy");
  auto appended =
      engine_->Append("incident/INC90", ExpectedVersion::NoStream(), {e});
  ASSERT_TRUE(appended.ok()) << appended.status();
  ASSERT_TRUE(
      engine_->WaitForProjections(appended->last_position + 1).ok());
  options_.service = "legacy";
  // Known from INC90 even for a month before it.
  options_.month = absl::CivilMonth(2026, 9);
  EXPECT_TRUE(CollectServiceReportData(*engine_, options_).ok());
  options_.month = absl::CivilMonth(2026, 11);
  const ServiceReportData d = Collect();
  EXPECT_FALSE(d.defined);
  EXPECT_EQ(d.month.flow.opened, 1);
  const std::string html = RenderServiceReportHtml(d, options_);
  EXPECT_THAT(html, HasSubstr("not in the service catalog"));
  EXPECT_THAT(html, HasSubstr("Availability is not measured for this service"));
}

TEST_F(ServiceReportTest, EmptyMonthSaysSoInEverySection) {
  options_.month = absl::CivilMonth(2026, 8);  // Before the service existed.
  const ServiceReportData d = Collect();
  EXPECT_EQ(d.month.flow.opened, 0);
  EXPECT_TRUE(d.major_incidents.empty());
  const std::string html = RenderServiceReportHtml(d, options_);
  for (const char* text :
       {"No availability data for 2026-08: the service was defined later",
        "No SLA clock of this service reached a final state (met or "
        "breached) in 2026-08.",
        "No incident on this service in 2026-08",
        "No major (priority-1) incident on this service in 2026-08.",
        "No change on this service was requested or closed in 2026-08.",
        "No survey response rated a resolution of this service in 2026-08.",
        "No service request on this service was submitted or fulfilled in "
        "2026-08."}) {
    EXPECT_THAT(html, HasSubstr(text)) << text;
  }
  const std::vector<std::string> svgs = SvgElements(html);
  ASSERT_EQ(svgs.size(), 5u);
  for (const std::string& svg : svgs) {
    EXPECT_THAT(svg, HasSubstr("No data for this period"));
    EXPECT_THAT(PathData(svg, "series"), IsEmpty());
    EXPECT_THAT(PathData(svg, "bar"), IsEmpty());
  }
  EXPECT_THAT(NonFiniteTokens(html), IsEmpty());
}

TEST_F(ServiceReportTest, MonthNotOverIsSaidAndMeasuredToNow) {
  options_.now = T("2026-11-16T00:00:00Z");
  const ServiceReportData d = Collect();
  EXPECT_EQ(d.month.agreed_us, int64_t{15} * 86400 * 1000000);
  // INC17 (November 20) is after now: not a major incident of this review.
  for (const MajorIncident& m : d.major_incidents) {
    EXPECT_NE(m.incident_id, "INC17");
  }
  const std::string html = RenderServiceReportHtml(d, options_);
  EXPECT_THAT(html, HasSubstr("The month is not over at the report&#39;s "
                              "time: figures run up to 2026-11-16 00:00 UTC."));
}

}  // namespace
}  // namespace slate::report
