// Post-implementation review KPIs (issue 21): the share of closed changes
// reviewed and the failed rate of reviewed and of unreviewed changes, per
// bucket and grouping. Hand-checked records first, then a property test: on
// random change histories (reviews before and after the close, changes never
// closed, placeholders, links, arrival order shuffled), every row of the
// query equals a slow oracle that walks the changes one by one, in the
// counters and in the rates `slate kpi --table changes` prints.
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "lib/projection/kpi_projection.h"
#include "lib/projection/kpi_query.h"
#include "lib/projection/kpi_rollup.h"
#include "proto/events.pb.h"
#include "tests/kpi/kpi_test_util.h"

namespace slate {
namespace {

constexpr int64_t kMinuteUs = int64_t{60} * 1000000;
constexpr int64_t kHourUs = 60 * kMinuteUs;
// 2026-11-02T00:00:00Z, a Monday.
constexpr int64_t kStartUs = int64_t{1793577600} * 1000000;

// Events of one change stream, versions in order, times as given.
class History : public testing::StreamEvents {
 public:
  explicit History(std::string id) : StreamEvents("change/" + std::move(id)) {}
  void Requested(int64_t at_us, const std::string& service,
                 bool placeholder = false) {
    Envelope& e = Add(at_us);
    e.mutable_change_requested()->set_type(NORMAL);
    if (!service.empty()) e.mutable_change_requested()->add_services(service);
    if (placeholder) e.mutable_servicenow()->set_placeholder(true);
  }
  void Closed(int64_t at_us, ChangeOutcome outcome) {
    Add(at_us).mutable_change_closed()->set_outcome(outcome);
  }
  void Reviewed(int64_t at_us, ChangeOutcome found) {
    Envelope& e = Add(at_us);
    e.mutable_change_reviewed()->set_reviewer("r");
    e.mutable_change_reviewed()->set_outcome(found);
    e.mutable_change_reviewed()->set_objectives_met(true);
  }
  void Caused(int64_t at_us) {
    Envelope& e = Add(at_us);
    e.mutable_change_incident_linked()->set_incident_id("INC1");
    e.mutable_change_incident_linked()->set_relation(CAUSED_BY);
  }
};

absl::StatusOr<KpiRollup> Fold(const std::vector<Envelope>& events,
                               const KpiOptions& options) {
  return testing::FoldKpiEvents(events, options);
}

KpiReport Query(const KpiRollup& rollup, const KpiOptions& options,
                KpiBucket bucket, std::vector<KpiDimension> by) {
  KpiQuery q;
  q.zone = options.zone;
  q.bucket = bucket;
  q.by = std::move(by);
  q.from = absl::FromUnixMicros(kStartUs);
  q.to = absl::FromUnixMicros(kStartUs + 40 * 24 * kHourUs);
  q.now = q.to;
  auto r = QueryKpis(rollup, q, options, {});
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : KpiReport();
}

KpiRow Total(const std::vector<Envelope>& events) {
  auto rollup = Fold(events, KpiOptions());
  EXPECT_TRUE(rollup.ok()) << rollup.status();
  KpiReport r = Query(*rollup, KpiOptions(), KpiBucket::kAll, {});
  EXPECT_EQ(r.rows.size(), 1u);
  return r.rows.empty() ? KpiRow() : r.rows[0];
}

TEST(ChangeReviewKpiTest, ReviewedChangesAreCountedAtTheirClose) {
  std::vector<Envelope> events;
  auto add = [&events](const History& h) {
    events.insert(events.end(), h.events().begin(), h.events().end());
  };
  // Reviewed in Review, then closed ROLLED_BACK: reviewed and failed.
  History a("A");
  a.Requested(kStartUs, "crm");
  a.Caused(kStartUs + 2 * kHourUs);
  a.Reviewed(kStartUs + 3 * kHourUs, ROLLED_BACK);
  a.Closed(kStartUs + 4 * kHourUs, ROLLED_BACK);
  add(a);
  // Closed SUCCESSFUL, reviewed the next day (finding issues: the close's
  // outcome is what counts).
  History b("B");
  b.Requested(kStartUs, "crm");
  b.Closed(kStartUs + 5 * kHourUs, SUCCESSFUL);
  b.Reviewed(kStartUs + 30 * kHourUs, SUCCESSFUL_WITH_ISSUES);
  add(b);
  // Closed FAILED, never reviewed.
  History c("C");
  c.Requested(kStartUs, "mail");
  c.Closed(kStartUs + 6 * kHourUs, FAILED);
  add(c);
  // Reviewed but never closed: in no measure of closed changes.
  History d("D");
  d.Requested(kStartUs, "mail");
  d.Reviewed(kStartUs + 7 * kHourUs, SUCCESSFUL);
  add(d);
  // An import's placeholder: not counted at all.
  History p("P");
  p.Requested(kStartUs, "mail", /*placeholder=*/true);
  p.Reviewed(kStartUs + 7 * kHourUs, FAILED);
  p.Closed(kStartUs + 8 * kHourUs, FAILED);
  add(p);

  const KpiRow t = Total(events);
  EXPECT_EQ(t.flow.changes_closed, 3);
  EXPECT_EQ(t.flow.changes_reviewed, 2);
  EXPECT_EQ(t.flow.changes_reviewed_failed, 1);
  EXPECT_EQ(t.flow.changes_failed + t.flow.changes_rolled_back, 2);

  // B's review, a day after its close, counts on the close's day.
  auto rollup = Fold(events, KpiOptions());
  ASSERT_TRUE(rollup.ok());
  KpiReport days = Query(*rollup, KpiOptions(), KpiBucket::kDay, {});
  ASSERT_GE(days.rows.size(), 2u);
  EXPECT_EQ(days.rows[0].flow.changes_reviewed, 2);
  EXPECT_EQ(days.rows[1].flow.changes_reviewed, 0);

  KpiTables only;
  only.incidents = only.availability = only.sla = only.satisfaction =
      only.services = false;
  KpiReport all =
      Query(*rollup, KpiOptions(), KpiBucket::kAll, {KpiDimension::kService});
  EXPECT_EQ(FormatKpiReport(all, KpiFormat::kCsv, only),
            "bucket,bucket_end,service,changes_closed,reviewed,review_share,"
            "failed_rate,reviewed_failed,reviewed_failed_rate,unreviewed,"
            "unreviewed_failed,unreviewed_failed_rate\n"
            "2026-11-02,2026-12-12,crm,2,2,1.0000,0.5000,1,0.5000,0,0,\n"
            "2026-11-02,2026-12-12,mail,1,0,0.0000,1.0000,0,,1,1,1.0000\n");
}

TEST(ChangeReviewKpiTest, TheChangesTableIsLeftOutWithoutReviews) {
  History c("C");
  c.Requested(kStartUs, "mail");
  c.Closed(kStartUs + 6 * kHourUs, FAILED);
  auto rollup = Fold(c.events(), KpiOptions());
  ASSERT_TRUE(rollup.ok());
  const KpiReport r = Query(*rollup, KpiOptions(), KpiBucket::kAll, {});
  for (KpiFormat f : {KpiFormat::kTable, KpiFormat::kCsv, KpiFormat::kJson}) {
    const std::string out = FormatKpiReport(r, f);
    EXPECT_EQ(out.find("review"), std::string::npos) << out;
  }
  KpiTables asked;
  asked.hide_changes_without_reviews = false;
  const std::string json = FormatKpiReport(r, KpiFormat::kJson, asked);
  EXPECT_NE(json.find("\"changes\":[{\"bucket\":\"2026-11-02\""),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("\"review_share\":0.0000"), std::string::npos) << json;
  const std::string table = FormatKpiReport(r, KpiFormat::kTable, asked);
  EXPECT_NE(table.find("Changes: post-implementation review"),
            std::string::npos)
      << table;
}

// --- Property test -------------------------------------------------------

struct OracleCounts {
  int64_t closed = 0, reviewed = 0, failed = 0, reviewed_failed = 0;
};

std::string Rate(int64_t num, int64_t den) {
  if (den == 0) return "";
  return absl::StrFormat("%.4f",
                         static_cast<double>(num) / static_cast<double>(den));
}

TEST(ChangeReviewKpiTest, SharesEqualAnOracleOnRandomHistories) {
  constexpr uint32_t kSeed = 2111;
  std::printf("seed %u\n", kSeed);
  std::mt19937 rng(kSeed);
  auto pick = [&rng](int n) {
    return std::uniform_int_distribution<int>(0, n - 1)(rng);
  };
  const std::vector<std::string> services = {"", "crm", "mail", "erp"};
  const std::vector<ChangeOutcome> outcomes = {
      SUCCESSFUL, SUCCESSFUL_WITH_ISSUES, FAILED, ROLLED_BACK};
  absl::TimeZone new_york;
  ASSERT_TRUE(absl::LoadTimeZone("America/New_York", &new_york));
  int rows_checked = 0;
  for (int round = 0; round < 40; ++round) {
    struct Change {
      std::string service;
      bool placeholder = false;
      bool closed = false;
      int64_t closed_at = 0;
      ChangeOutcome outcome = CHANGE_OUTCOME_UNSPECIFIED;
      bool reviewed = false;
    };
    std::vector<Change> changes;
    std::vector<Envelope> events;
    const int n = 1 + pick(60);
    for (int i = 0; i < n; ++i) {
      Change c;
      c.service = services[pick(static_cast<int>(services.size()))];
      c.placeholder = pick(12) == 0;
      History h(absl::StrCat("C", i));
      // Within 30 days; the close and the review up to 3 days later, the
      // review before or after the close, at the same instant sometimes.
      int64_t t = kStartUs + pick(30 * 24) * kHourUs + pick(60) * kMinuteUs;
      h.Requested(t, c.service, c.placeholder);
      const int64_t close_at = t + pick(72) * kHourUs;
      const int64_t review_at =
          pick(5) == 0 ? close_at : t + pick(72) * kHourUs;
      c.closed = pick(4) != 0;
      c.reviewed = pick(2) == 0;
      c.outcome = outcomes[pick(4)];
      const bool review_first = review_at <= close_at;
      if (c.reviewed && review_first) {
        h.Reviewed(review_at, outcomes[pick(4)]);
      }
      if (pick(3) == 0) h.Caused(t + pick(72) * kHourUs);
      if (c.closed) {
        h.Closed(close_at, c.outcome);
        c.closed_at = close_at;
      }
      if (c.reviewed && !review_first) {
        h.Reviewed(review_at, outcomes[pick(4)]);
      }
      // A second review (a log the domain did not write): counted once.
      if (c.reviewed && pick(10) == 0) h.Reviewed(review_at + kHourUs, FAILED);
      // Versions follow the appends; the times are what the fold sorts by.
      events.insert(events.end(), h.events().begin(), h.events().end());
      changes.push_back(c);
    }
    std::shuffle(events.begin(), events.end(), rng);

    for (const absl::TimeZone& zone : {absl::UTCTimeZone(), new_york}) {
      KpiOptions options;
      options.zone = zone;
      auto rollup = Fold(events, options);
      ASSERT_TRUE(rollup.ok()) << rollup.status();
      for (KpiBucket bucket :
           {KpiBucket::kDay, KpiBucket::kWeek, KpiBucket::kAll}) {
        for (const std::vector<KpiDimension>& by :
             std::vector<std::vector<KpiDimension>>{
                 {}, {KpiDimension::kService}, {KpiDimension::kPriority}}) {
          SCOPED_TRACE(absl::StrCat("round ", round, " zone ", zone.name(),
                                    " bucket ", KpiBucketName(bucket), " by ",
                                    by.size()));
          const KpiReport rep = Query(*rollup, options, bucket, by);
          const bool by_service =
              !by.empty() && by[0] == KpiDimension::kService;
          // The oracle: each closed, non-placeholder change in its close
          // bucket and group, one by one.
          std::map<std::pair<absl::CivilDay, std::string>, OracleCounts> oracle;
          for (const Change& c : changes) {
            if (c.placeholder || !c.closed) continue;
            const absl::CivilDay day =
                absl::ToCivilDay(absl::FromUnixMicros(c.closed_at), zone);
            absl::CivilDay start = day;
            for (const KpiRow& row : rep.rows) {
              if (row.start <= day && day < row.end) start = row.start;
            }
            OracleCounts& o =
                oracle[{start, by_service ? c.service : std::string()}];
            const bool failed = c.outcome == FAILED || c.outcome == ROLLED_BACK;
            o.closed += 1;
            o.reviewed += c.reviewed ? 1 : 0;
            o.failed += failed ? 1 : 0;
            o.reviewed_failed += c.reviewed && failed ? 1 : 0;
          }
          // Counters, row by row; every oracle group is in a row.
          size_t matched = 0;
          for (const KpiRow& row : rep.rows) {
            auto it = oracle.find({row.start, row.dims.service});
            OracleCounts o;
            if (it != oracle.end()) {
              o = it->second;
              ++matched;
            }
            ASSERT_EQ(row.flow.changes_closed, o.closed) << row.start;
            ASSERT_EQ(row.flow.changes_reviewed, o.reviewed) << row.start;
            ASSERT_EQ(row.flow.changes_failed + row.flow.changes_rolled_back,
                      o.failed)
                << row.start;
            ASSERT_EQ(row.flow.changes_reviewed_failed, o.reviewed_failed)
                << row.start;
            ++rows_checked;
          }
          ASSERT_EQ(matched, oracle.size());
          // The rates as printed: share reviewed, failed rate overall,
          // reviewed, unreviewed (CSV, one line per row in row order).
          KpiTables only;
          only.incidents = only.availability = only.sla = only.satisfaction =
              only.services = false;
          only.hide_changes_without_reviews = false;
          const std::vector<std::string> lines =
              absl::StrSplit(FormatKpiReport(rep, KpiFormat::kCsv, only), '\n',
                             absl::SkipEmpty());
          ASSERT_EQ(lines.size(), rep.rows.size() + 1);
          const size_t keys = 2 + by.size();  // bucket, bucket_end, dims.
          for (size_t i = 0; i < rep.rows.size(); ++i) {
            const KpiRow& row = rep.rows[i];
            OracleCounts o;
            auto it = oracle.find({row.start, row.dims.service});
            if (it != oracle.end()) o = it->second;
            const std::vector<std::string> f =
                absl::StrSplit(lines[i + 1], ',');
            ASSERT_EQ(f.size(), keys + 9) << lines[i + 1];
            EXPECT_EQ(f[keys + 2], Rate(o.reviewed, o.closed)) << lines[i + 1];
            EXPECT_EQ(f[keys + 3], Rate(o.failed, o.closed)) << lines[i + 1];
            EXPECT_EQ(f[keys + 5], Rate(o.reviewed_failed, o.reviewed))
                << lines[i + 1];
            EXPECT_EQ(f[keys + 8],
                      Rate(o.failed - o.reviewed_failed, o.closed - o.reviewed))
                << lines[i + 1];
          }
        }
      }
    }
  }
  EXPECT_GT(rows_checked, 1000);
}

}  // namespace
}  // namespace slate
