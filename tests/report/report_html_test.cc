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
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "lib/api/clock.h"
#include "lib/api/engine.h"
#include "lib/api/engine_internal.h"
#include "lib/projection/kpi_sla.h"
#include "lib/report/report.h"
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

std::vector<Command> DatasetCommands() {
  std::ifstream in(slate::testing::Runfile("tests/report/dataset.jsonl"));
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
      ASSERT_EQ(commands_.size(), 31u);
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
  EXPECT_TRUE(absl::StartsWith(html, "<!DOCTYPE html>"));
  EXPECT_TRUE(absl::EndsWith(html, "</html>\n"));
  EXPECT_EQ(Count(html, "<section"), Count(html, "</section>"));
  EXPECT_EQ(Count(html, "<table"), Count(html, "</table>"));
  const std::vector<std::string> svgs = SvgElements(html);
  ASSERT_EQ(svgs.size(), 7u);
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
}

TEST_F(ReportHtmlTest, EmptyDatabaseSaysNoDataInEveryChart) {
  ASSERT_NO_FATAL_FAILURE(Open(false));
  const ReportData d = Collect();
  EXPECT_EQ(d.total.opened, 0);
  const std::string html = RenderReportHtml(d, options_);
  const std::vector<std::string> svgs = SvgElements(html);
  ASSERT_EQ(svgs.size(), 7u);
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

}  // namespace
}  // namespace slate::report
