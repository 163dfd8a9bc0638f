// Service request KPIs (issue 21), computed by hand (kpis.md style).
//
// Calendars: service "desk" counts business time Mon-Fri 09:00-17:00 UTC;
// service "shop" has none (24x7: business time = wall time). Monday
// 2026-11-02 is day 0.
//
//   A  desk P3  lines 1 x 900.00 EUR + 2 x 50.00 EUR = 100000 cents
//      submitted Mon 16:00; an approval that does not complete the quorum
//      Mon 17:30 (not counted); the completing approval Tue 10:00;
//      fulfilled Wed 12:00; survey 4.
//        approval   wall Mon 16:00 -> Tue 10:00 = 18h
//                   business Mon 16-17 (1h) + Tue 09-10 (1h) = 2h
//        fulfilment wall Mon 16:00 -> Wed 12:00 = 44h
//                   business 1h (Mon) + 8h (Tue) + 3h (Wed) = 12h
//   B  desk P3  1 x 50.00 EUR = 5000 cents, no approval
//      submitted Tue 09:00, fulfilled Tue 13:00 (4h wall, 4h business);
//      survey 2.
//   C  shop P4  1 x 20.00 USD = 2000 cents; submitted Wed 10:00, fulfilled
//      Wed 22:00 (12h wall = 12h business).
//   D  desk P3  submitted Thu 10:00, rejected Thu 11:00.
//   E  shop P4  submitted Thu 12:00, cancelled Fri 08:00.
//
// Whole period, by service:
//   desk  opened 3 (A B D); approved 1, mean approval 18h wall (64800 s),
//         2h business (7200 s); rejected 1; cancelled 0; fulfilled 2 (A at
//         Wed, B at Tue), mean fulfilment (44h + 4h) / 2 = 24h wall
//         (86400 s), (12h + 4h) / 2 = 8h business (28800 s); cost EUR
//         100000 + 5000 = 105000 cents, USD none; surveys 2, satisfied 1
//         (the 4): CSAT 0.5, mean score (4 + 2) / 2 = 3.
//   shop  opened 2; approved 0 (no mean); rejected 0; cancelled 1;
//         fulfilled 1, mean 12h wall and business (43200 s); cost USD 2000;
//         no survey (no CSAT).
// By priority: P3 opened 3, P4 opened 2. By day (total): opened Mon 1,
// Tue 1, Wed 1, Thu 2; fulfilled Tue 1 (B), Wed 2 (A, C); cancelled Fri 1.
// The incident survey counters stay 0: request answers have their own.
#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "lib/calendar/business_calendar.h"
#include "lib/projection/kpi_projection.h"
#include "lib/projection/kpi_query.h"
#include "lib/projection/kpi_rollup.h"
#include "proto/events.pb.h"
#include "tests/kpi/kpi_test_util.h"

namespace slate {
namespace {

constexpr int64_t kHourUs = int64_t{3600} * 1000000;
constexpr int64_t kDayUs = 24 * kHourUs;
// 2026-11-02T00:00:00Z, a Monday.
constexpr int64_t kMondayUs = int64_t{1793577600} * 1000000;
int64_t At(int day, double hour) {
  return kMondayUs + day * kDayUs + static_cast<int64_t>(hour * kHourUs);
}

class Request : public testing::StreamEvents {
 public:
  explicit Request(const std::string& id) : StreamEvents("request/" + id) {}
  Request& Submitted(int64_t at, const std::string& service, int priority,
                     const std::string& currency,
                     std::vector<std::pair<int, int64_t>> lines) {
    RequestSubmitted* p = Add(at).mutable_request_submitted();
    p->set_service(service);
    p->set_priority(priority);
    for (const auto& [quantity, price] : lines) {
      RequestLine* l = p->add_lines();
      l->set_quantity(quantity);
      l->set_unit_price_cents(price);
      l->set_currency(currency);
    }
    return *this;
  }
  Request& Approved(int64_t at, bool complete) {
    Add(at).mutable_request_approved()->set_complete(complete);
    return *this;
  }
  Request& Fulfilled(int64_t at) {
    Add(at).mutable_request_fulfilled();
    return *this;
  }
  Request& Rejected(int64_t at) {
    Add(at).mutable_request_rejected()->set_reason("no");
    return *this;
  }
  Request& Cancelled(int64_t at) {
    Add(at).mutable_request_cancelled();
    return *this;
  }
  Request& Survey(int64_t at, int score) {
    SurveyResponseRecorded* s = Add(at).mutable_survey_response_recorded();
    s->set_score(score);
    s->set_resolution_cycle(1);
    return *this;
  }
};

std::vector<Envelope> Histories() {
  std::vector<Request> all;
  all.push_back(Request("A")
                    .Submitted(At(0, 16), "desk", 3, "EUR",
                               {{1, 90000}, {2, 5000}})
                    .Approved(At(0, 17.5), false)
                    .Approved(At(1, 10), true)
                    .Fulfilled(At(2, 12))
                    .Survey(At(2, 13), 4));
  all.push_back(Request("B")
                    .Submitted(At(1, 9), "desk", 3, "EUR", {{1, 5000}})
                    .Fulfilled(At(1, 13))
                    .Survey(At(3, 9), 2));
  all.push_back(Request("C")
                    .Submitted(At(2, 10), "shop", 4, "USD", {{1, 2000}})
                    .Fulfilled(At(2, 22)));
  all.push_back(Request("D")
                    .Submitted(At(3, 10), "desk", 3, "EUR", {{1, 90000}})
                    .Rejected(At(3, 11)));
  all.push_back(Request("E")
                    .Submitted(At(3, 12), "shop", 4, "USD", {{1, 2000}})
                    .Cancelled(At(4, 8)));
  std::vector<Envelope> events;
  for (const Request& r : all) {
    events.insert(events.end(), r.events().begin(), r.events().end());
  }
  return events;
}

KpiOptions Options() {
  KpiOptions o;
  auto office = BusinessCalendar::FromJson(
      R"({"name": "office", "timeZone": "UTC", "weekly": [
          {"day": "MONDAY", "start": "09:00", "end": "17:00"},
          {"day": "TUESDAY", "start": "09:00", "end": "17:00"},
          {"day": "WEDNESDAY", "start": "09:00", "end": "17:00"},
          {"day": "THURSDAY", "start": "09:00", "end": "17:00"},
          {"day": "FRIDAY", "start": "09:00", "end": "17:00"}]})");
  EXPECT_TRUE(office.ok()) << office.status();
  if (office.ok()) o.service_calendars["desk"] = *office;
  return o;
}

absl::StatusOr<KpiRollup> Fold(const std::vector<Envelope>& events) {
  return testing::FoldKpiEvents(events, Options());
}

KpiReport Query(const KpiRollup& rollup, KpiBucket bucket,
                std::vector<KpiDimension> by) {
  KpiQuery q;
  q.bucket = bucket;
  q.by = std::move(by);
  q.from = absl::FromUnixMicros(kMondayUs);
  q.to = absl::FromUnixMicros(kMondayUs + 7 * kDayUs);
  q.now = q.to;
  auto r = QueryKpis(rollup, q, Options(), {});
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : KpiReport();
}

TEST(RequestKpiTest, HandComputedByService) {
  auto rollup = Fold(Histories());
  ASSERT_TRUE(rollup.ok()) << rollup.status();
  KpiReport r = Query(*rollup, KpiBucket::kAll, {KpiDimension::kService});
  ASSERT_EQ(r.rows.size(), 2u);
  const KpiMeasures& desk = r.rows[0].flow;
  const KpiMeasures& shop = r.rows[1].flow;
  ASSERT_EQ(r.rows[0].dims.service, "desk");
  ASSERT_EQ(r.rows[1].dims.service, "shop");

  EXPECT_EQ(desk.requests_opened, 3);
  EXPECT_EQ(desk.requests_approved, 1);
  EXPECT_EQ(desk.request_approval_wall_us, 18 * kHourUs);
  EXPECT_EQ(desk.request_approval_business_us, 2 * kHourUs);
  EXPECT_EQ(desk.requests_rejected, 1);
  EXPECT_EQ(desk.requests_cancelled, 0);
  EXPECT_EQ(desk.requests_fulfilled, 2);
  EXPECT_EQ(desk.request_fulfilment_wall_us, (44 + 4) * kHourUs);
  EXPECT_EQ(desk.request_fulfilment_business_us, (12 + 4) * kHourUs);
  EXPECT_EQ(desk.request_cost_cents,
            (std::map<std::string, int64_t>{{"EUR", 105000}}));
  EXPECT_EQ(desk.request_survey_responses, 2);
  EXPECT_EQ(desk.request_survey_satisfied, 1);
  EXPECT_EQ(desk.request_survey_score_sum, 6);
  EXPECT_EQ(desk.survey_responses, 0);  // The incidents' own counters.

  EXPECT_EQ(shop.requests_opened, 2);
  EXPECT_EQ(shop.requests_approved, 0);
  EXPECT_EQ(shop.requests_cancelled, 1);
  EXPECT_EQ(shop.requests_fulfilled, 1);
  EXPECT_EQ(shop.request_fulfilment_wall_us, 12 * kHourUs);
  EXPECT_EQ(shop.request_fulfilment_business_us, 12 * kHourUs);
  EXPECT_EQ(shop.request_cost_cents,
            (std::map<std::string, int64_t>{{"USD", 2000}}));
  EXPECT_EQ(shop.request_survey_responses, 0);

  // What `slate kpi --table requests --format csv` prints: means in
  // seconds, one cost column per currency, absent means empty.
  KpiTables tables;
  tables.incidents = tables.availability = tables.sla = false;
  tables.satisfaction = tables.services = tables.changes = false;
  EXPECT_EQ(FormatKpiReport(r, KpiFormat::kCsv, tables),
            "bucket,bucket_end,service,requests_opened,approved,avg_approval,"
            "biz_avg_approval,rejected,cancelled,fulfilled,avg_fulfilment,"
            "biz_avg_fulfilment,cost_cents_EUR,cost_cents_USD,"
            "survey_responses,csat,avg_score\n"
            "2026-11-02,2026-11-09,desk,3,1,64800.000,7200.000,1,0,2,"
            "86400.000,28800.000,105000,0,2,0.5000,3.0000\n"
            "2026-11-02,2026-11-09,shop,2,0,,,0,1,1,43200.000,43200.000,0,"
            "2000,0,,\n");
}

TEST(RequestKpiTest, HandComputedByPriorityAndDay) {
  auto rollup = Fold(Histories());
  ASSERT_TRUE(rollup.ok()) << rollup.status();
  KpiReport p = Query(*rollup, KpiBucket::kAll, {KpiDimension::kPriority});
  ASSERT_EQ(p.rows.size(), 2u);
  EXPECT_EQ(p.rows[0].dims.priority, 3);
  EXPECT_EQ(p.rows[0].flow.requests_opened, 3);
  EXPECT_EQ(p.rows[1].dims.priority, 4);
  EXPECT_EQ(p.rows[1].flow.requests_opened, 2);

  KpiReport d = Query(*rollup, KpiBucket::kDay, {});
  ASSERT_EQ(d.rows.size(), 7u);
  std::vector<int64_t> opened, fulfilled, cancelled;
  for (const KpiRow& row : d.rows) {
    opened.push_back(row.flow.requests_opened);
    fulfilled.push_back(row.flow.requests_fulfilled);
    cancelled.push_back(row.flow.requests_cancelled);
  }
  EXPECT_EQ(opened, (std::vector<int64_t>{1, 1, 1, 2, 0, 0, 0}));
  EXPECT_EQ(fulfilled, (std::vector<int64_t>{0, 1, 2, 0, 0, 0, 0}));
  EXPECT_EQ(cancelled, (std::vector<int64_t>{0, 0, 0, 0, 1, 0, 0}));
  // Wednesday's cost: A's EUR and C's USD, never added together.
  EXPECT_EQ(d.rows[2].flow.request_cost_cents,
            (std::map<std::string, int64_t>{{"EUR", 100000}, {"USD", 2000}}));
}

TEST(RequestKpiTest, ArrivalOrderDoesNotMatter) {
  const std::vector<Envelope> in_order = Histories();
  auto expected = Fold(in_order);
  ASSERT_TRUE(expected.ok());
  std::mt19937 rng(21);
  for (int round = 0; round < 20; ++round) {
    std::vector<Envelope> shuffled = in_order;
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    auto got = Fold(shuffled);
    ASSERT_TRUE(got.ok());
    EXPECT_TRUE(*got == *expected) << "round " << round;
  }
}

}  // namespace
}  // namespace slate
