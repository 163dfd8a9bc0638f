#include "lib/projection/kpi_query.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <tuple>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "lib/api/tenant.h"
#include "lib/api/types.h"
#include "lib/base/status_macros.h"
#include "lib/projection/memory_state.h"

namespace slate {
namespace {

// --- Buckets
// ------------------------------------------------------------------

absl::CivilDay BucketStart(KpiBucket b, absl::CivilDay d) {
  switch (b) {
    case KpiBucket::kDay:
      return d;
    case KpiBucket::kWeek: {
      const int offset = (static_cast<int>(absl::GetWeekday(d)) -
                          static_cast<int>(absl::Weekday::monday) + 7) %
                         7;
      return d - offset;
    }
    case KpiBucket::kMonth:
      return absl::CivilDay(absl::CivilMonth(d));
    case KpiBucket::kAll:  // One bucket: QueryKpis sets its bounds.
      return d;
  }
  return d;
}

absl::CivilDay BucketEnd(KpiBucket b, absl::CivilDay start) {
  switch (b) {
    case KpiBucket::kDay:
      return start + 1;
    case KpiBucket::kWeek:
      return start + 7;
    case KpiBucket::kMonth:
      return absl::CivilDay(absl::CivilMonth(start) + 1);
    case KpiBucket::kAll:  // One bucket: QueryKpis sets its bounds.
      return start + 1;
  }
  return start + 1;
}

// The tenant id of a stored tenant ("" = the default tenant).
std::string TenantName(absl::string_view stored) {
  return std::string(stored.empty() ? kDefaultTenant : stored);
}

KpiDims Project(const KpiDims& d, const std::vector<KpiDimension>& by) {
  KpiDims out;
  for (KpiDimension k : by) {
    switch (k) {
      case KpiDimension::kTenant:
        out.tenant = TenantName(d.tenant);
        break;
      case KpiDimension::kService:
        out.service = d.service;
        break;
      case KpiDimension::kPriority:
        out.priority = d.priority;
        break;
      case KpiDimension::kGroup:
        out.group = d.group;
        break;
      case KpiDimension::kCategory:
        out.category = d.category;
        break;
      case KpiDimension::kContactType:
        out.contact_type = d.contact_type;
        break;
    }
  }
  return out;
}

int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }

// --- Formatting helpers
// -----------------------------------------------------------

std::optional<double> Ratio(int64_t num, int64_t den) {
  if (den == 0) return std::nullopt;
  return static_cast<double>(num) / static_cast<double>(den);
}

std::optional<double> Quant(const QuantileSketch& s, double q) {
  if (s.count() <= 0 || !s.IsNonNegative()) return std::nullopt;
  return s.Quantile(q);
}

enum class Kind { kCount, kDuration, kRate, kNumber };

struct Value {
  Kind kind = Kind::kCount;
  std::optional<double> v;  // Counts exact in a double up to 2^53.
};

std::string HumanDuration(double us) {
  int64_t s = static_cast<int64_t>(std::llround(us / 1e6));
  if (s < 60) return absl::StrCat(s, "s");
  const int64_t d = s / 86400;
  const int64_t h = s % 86400 / 3600;
  const int64_t m = s % 3600 / 60;
  if (d > 0) return absl::StrFormat("%dd%02dh", d, h);
  if (h > 0) return absl::StrFormat("%dh%02dm", h, m);
  return absl::StrFormat("%dm%02ds", m, s % 60);
}

std::string Human(const Value& v) {
  if (!v.v.has_value()) return "-";
  switch (v.kind) {
    case Kind::kCount:
      return absl::StrCat(static_cast<int64_t>(*v.v));
    case Kind::kDuration:
      return HumanDuration(*v.v);
    case Kind::kRate:
      return absl::StrFormat("%.1f%%", *v.v * 100);
    case Kind::kNumber:
      return absl::StrFormat("%.2f", *v.v);
  }
  return "-";
}

std::string Machine(const Value& v) {
  if (!v.v.has_value()) return "";
  switch (v.kind) {
    case Kind::kCount:
      return absl::StrCat(static_cast<int64_t>(*v.v));
    case Kind::kDuration:
      return absl::StrFormat("%.3f", *v.v / 1e6);
    case Kind::kRate:
    case Kind::kNumber:
      return absl::StrFormat("%.4f", *v.v);
  }
  return "";
}

struct Column {
  std::string name;  // CSV / JSON key and table header.
  Value value;
};

// A named group of columns (a table section).
struct Section {
  std::string title;
  std::vector<std::string> keys;                   // Leading key columns.
  std::vector<std::vector<std::string>> key_rows;  // One per row.
  std::vector<std::vector<Column>> rows;
};

std::string DimValue(const KpiDims& d, KpiDimension k) {
  switch (k) {
    case KpiDimension::kService:
      return d.service;
    case KpiDimension::kPriority:
      return d.priority == 0 ? "" : absl::StrCat(d.priority);
    case KpiDimension::kGroup:
      return d.group;
    case KpiDimension::kCategory:
      return d.category;
    case KpiDimension::kContactType:
      return d.contact_type;
    case KpiDimension::kTenant:
      return d.tenant;
  }
  return "";
}

Value Count(int64_t n) { return {Kind::kCount, static_cast<double>(n)}; }
Value Dur(std::optional<double> us) { return {Kind::kDuration, us}; }
Value Rate(std::optional<double> r) { return {Kind::kRate, r}; }
std::optional<double> Mean(int64_t sum, int64_t n) {
  if (n == 0) return std::nullopt;
  return static_cast<double>(sum) / static_cast<double>(n);
}

std::vector<Column> IncidentColumns(const KpiRow& r) {
  const KpiMeasures& m = r.flow;
  std::vector<Column> c = {
      {"opened", Count(m.opened)},       {"resolved", Count(m.resolved)},
      {"closed", Count(m.closed)},       {"reopened", Count(m.reopened)},
      {"cancelled", Count(m.cancelled)}, {"backlog", Count(r.backlog)},
  };
  for (int k = 0; k < kAgingClasses; ++k) {
    c.push_back({absl::StrCat("age_", kAgingNames[k]), Count(r.aging[k])});
  }
  return c;
}

std::vector<Column> TimeColumns(const KpiRow& r, bool business) {
  const KpiMeasures& m = r.flow;
  const std::string p = business ? "biz_" : "";
  const QuantileSketch& a =
      business ? m.response_business_sketch : m.response_wall_sketch;
  const QuantileSketch& z =
      business ? m.resolution_business_sketch : m.resolution_wall_sketch;
  return {
      {p + "responses", Count(m.response_count)},
      {p + "mtta",
       Dur(Mean(business ? m.response_business_us : m.response_wall_us,
                m.response_count))},
      {p + "mtta_p50", Dur(Quant(a, 0.5))},
      {p + "mtta_p90", Dur(Quant(a, 0.9))},
      {p + "mtta_p99", Dur(Quant(a, 0.99))},
      {p + "resolved_final", Count(m.resolved_final)},
      {p + "mttr",
       Dur(Mean(business ? m.resolution_business_us : m.resolution_wall_us,
                m.resolved_final))},
      {p + "mttr_p50", Dur(Quant(z, 0.5))},
      {p + "mttr_p90", Dur(Quant(z, 0.9))},
      {p + "mttr_p99", Dur(Quant(z, 0.99))},
  };
}

std::vector<Column> QualityColumns(const KpiRow& r) {
  const KpiMeasures& m = r.flow;
  return {
      {"resolved_final", Count(m.resolved_final)},
      {"avg_hold", Dur(Mean(m.hold_us, m.resolved_final))},
      {"avg_reassignments",
       {Kind::kNumber, Mean(m.group_changes, m.resolved_final)}},
      {"first_contact_rate", Rate(Ratio(m.first_contact, m.resolved_final))},
      {"reopen_rate", Rate(Ratio(m.reopened_records, m.resolved_final))},
  };
}

std::vector<Column> ChangeColumns(const KpiRow& r) {
  const KpiMeasures& m = r.flow;
  return {
      {"changes_requested", Count(m.changes_requested)},
      {"emergency", Count(m.changes_emergency)},
      {"emergency_ratio",
       Rate(Ratio(m.changes_emergency, m.changes_requested))},
      {"changes_closed", Count(m.changes_closed)},
      {"successful", Count(m.changes_successful)},
      {"with_issues", Count(m.changes_successful_with_issues)},
      {"failed", Count(m.changes_failed)},
      {"rolled_back", Count(m.changes_rolled_back)},
      {"success_rate", Rate(Ratio(m.changes_successful, m.changes_closed))},
      {"failed_rate",
       Rate(Ratio(m.changes_failed + m.changes_rolled_back, m.changes_closed))},
      {"causing_incidents", Count(m.changes_causing_incidents)},
      {"causing_rate",
       Rate(Ratio(m.changes_causing_incidents, m.changes_closed))},
  };
}

// Post-implementation review of the closed changes (kpi_projection.h):
// reviewed and unreviewed, each with its failed rate, beside the failed rate
// of all of them.
std::vector<Column> ChangeReviewColumns(const KpiRow& r) {
  const KpiMeasures& m = r.flow;
  const int64_t failed = m.changes_failed + m.changes_rolled_back;
  const int64_t unreviewed = m.changes_closed - m.changes_reviewed;
  const int64_t unreviewed_failed = failed - m.changes_reviewed_failed;
  return {
      {"changes_closed", Count(m.changes_closed)},
      {"reviewed", Count(m.changes_reviewed)},
      {"review_share", Rate(Ratio(m.changes_reviewed, m.changes_closed))},
      {"failed_rate", Rate(Ratio(failed, m.changes_closed))},
      {"reviewed_failed", Count(m.changes_reviewed_failed)},
      {"reviewed_failed_rate",
       Rate(Ratio(m.changes_reviewed_failed, m.changes_reviewed))},
      {"unreviewed", Count(unreviewed)},
      {"unreviewed_failed", Count(unreviewed_failed)},
      {"unreviewed_failed_rate", Rate(Ratio(unreviewed_failed, unreviewed))},
  };
}

// Service requests (kpi_projection.h): flows, mean approval and fulfilment
// times, request CSAT, and one cost column per currency of `currencies`
// (minor units: exact, and never a sum across currencies).
std::vector<Column> RequestColumns(const KpiRow& r,
                                   const std::set<std::string>& currencies) {
  const KpiMeasures& m = r.flow;
  std::vector<Column> c = {
      {"requests_opened", Count(m.requests_opened)},
      {"approved", Count(m.requests_approved)},
      {"avg_approval", Dur(Mean(m.request_approval_wall_us,
                                m.requests_approved))},
      {"biz_avg_approval", Dur(Mean(m.request_approval_business_us,
                                    m.requests_approved))},
      {"rejected", Count(m.requests_rejected)},
      {"cancelled", Count(m.requests_cancelled)},
      {"fulfilled", Count(m.requests_fulfilled)},
      {"avg_fulfilment", Dur(Mean(m.request_fulfilment_wall_us,
                                  m.requests_fulfilled))},
      {"biz_avg_fulfilment", Dur(Mean(m.request_fulfilment_business_us,
                                      m.requests_fulfilled))},
  };
  for (const std::string& currency : currencies) {
    auto it = m.request_cost_cents.find(currency);
    c.push_back({absl::StrCat("cost_cents_", currency),
                 Count(it == m.request_cost_cents.end() ? 0 : it->second)});
  }
  c.push_back({"survey_responses", Count(m.request_survey_responses)});
  c.push_back({"csat", Rate(Ratio(m.request_survey_satisfied,
                                  m.request_survey_responses))});
  c.push_back({"avg_score", {Kind::kNumber, Mean(m.request_survey_score_sum,
                                                 m.request_survey_responses)}});
  return c;
}

// Satisfaction of a population: `resolved` resolutions and the survey sums
// at them (kpi_projection.h).
std::vector<Column> SatisfactionColumns(int64_t resolved, int64_t responses,
                                        int64_t satisfied, int64_t score_sum) {
  return {
      {"resolved", Count(resolved)},
      {"survey_responses", Count(responses)},
      {"response_rate", Rate(Ratio(responses, resolved))},
      {"csat", Rate(Ratio(satisfied, responses))},
      {"avg_score", {Kind::kNumber, Mean(score_sum, responses)}},
  };
}

std::vector<Column> RowSatisfactionColumns(const KpiRow& r) {
  return SatisfactionColumns(r.flow.resolved, r.flow.survey_responses,
                             r.flow.survey_satisfied, r.flow.survey_score_sum);
}

// Availability, reliability and satisfaction of one service row; the
// availability columns are absent when the service has no availability row.
std::vector<Column> ServiceColumns(const KpiServiceRow& r) {
  std::optional<double> availability, target, downtime, failures, mtbf;
  if (r.has_availability) {
    availability = Ratio(r.agreed_us - r.downtime_us, r.agreed_us);
    if (r.target_percent > 0) target = r.target_percent / 100;
    downtime = static_cast<double>(r.downtime_us);
    failures = static_cast<double>(r.failures);
    mtbf = Mean(r.agreed_us - r.downtime_us, r.failures);
  }
  std::vector<Column> c = {
      {"availability", Rate(availability)},
      {"target", Rate(target)},
      {"downtime", Dur(downtime)},
      {"failures", {Kind::kCount, failures}},
      {"mtbf", Dur(mtbf)},
  };
  for (Column& s :
       SatisfactionColumns(r.resolved, r.survey_responses, r.survey_satisfied,
                           r.survey_score_sum)) {
    c.push_back(std::move(s));
  }
  return c;
}

std::vector<std::string> RowKeys(const KpiReport& rep, absl::CivilDay start,
                                 const KpiDims& dims) {
  std::vector<std::string> k = {kpi::DayText(start)};
  for (KpiDimension d : rep.by) k.push_back(DimValue(dims, d));
  return k;
}

std::vector<std::string> KeyNames(const KpiReport& rep) {
  std::vector<std::string> k = {"bucket"};
  for (KpiDimension d : rep.by) k.push_back(KpiDimensionName(d));
  return k;
}

std::string Table(const std::vector<std::string>& header,
                  const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(header.size());
  for (size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) {
      width[i] = std::max(width[i], r[i].size());
    }
  }
  auto line = [&](const std::vector<std::string>& r) {
    std::string out;
    for (size_t i = 0; i < r.size(); ++i) {
      if (i > 0) out += "  ";
      out += r[i];
      if (i + 1 < r.size()) out.append(width[i] - r[i].size(), ' ');
    }
    return out + "\n";
  };
  std::string out = line(header);
  for (const auto& r : rows) out += line(r);
  return out;
}

// All incident/change columns of one row, in CSV/JSON order.
std::vector<Column> AllColumns(const KpiRow& r) {
  std::vector<Column> all = IncidentColumns(r);
  for (auto& c : TimeColumns(r, false)) all.push_back(c);
  for (auto& c : TimeColumns(r, true)) all.push_back(c);
  for (auto& c : QualityColumns(r)) {
    if (c.name == "resolved_final") continue;  // Already in the times.
    all.push_back(c);
  }
  for (auto& c : ChangeColumns(r)) all.push_back(c);
  return all;
}

std::optional<double> Availability(const KpiAvailabilityRow& a) {
  if (a.agreed_us <= 0) return std::nullopt;
  return static_cast<double>(a.agreed_us - a.downtime_us) /
         static_cast<double>(a.agreed_us);
}

}  // namespace

const char* KpiDimensionName(KpiDimension d) {
  switch (d) {
    case KpiDimension::kService:
      return "service";
    case KpiDimension::kPriority:
      return "priority";
    case KpiDimension::kGroup:
      return "group";
    case KpiDimension::kCategory:
      return "category";
    case KpiDimension::kContactType:
      return "contact";
    case KpiDimension::kTenant:
      return "tenant";
  }
  return "?";
}

std::optional<KpiDimension> ParseKpiDimension(absl::string_view s) {
  if (s == "service") return KpiDimension::kService;
  if (s == "priority") return KpiDimension::kPriority;
  if (s == "group" || s == "assignment_group") return KpiDimension::kGroup;
  if (s == "category") return KpiDimension::kCategory;
  if (s == "contact" || s == "contact_type") return KpiDimension::kContactType;
  if (s == "tenant") return KpiDimension::kTenant;
  return std::nullopt;
}

const char* KpiBucketName(KpiBucket b) {
  switch (b) {
    case KpiBucket::kDay:
      return "day";
    case KpiBucket::kWeek:
      return "week";
    case KpiBucket::kMonth:
      return "month";
    case KpiBucket::kAll:
      return "all";
  }
  return "?";
}

absl::StatusOr<KpiReport> QueryKpis(const KpiRollup& rollup, const KpiQuery& q,
                                    const KpiOptions& options,
                                    absl::Span<const KpiSlaClock> sla_clocks) {
  if (q.zone.name() != options.zone.name()) {
    return absl::InvalidArgumentError(
        absl::StrCat("kpi query: zone ", q.zone.name(),
                     " is not the zone the rollup was "
                     "folded in (",
                     options.zone.name(), "); fold it again in that zone"));
  }
  if (q.all_tenants && !q.tenant.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("kpi query: tenant \"", q.tenant,
                     "\" and all tenants exclude each other"));
  }
  if (!q.tenant.empty()) {
    SLATE_RETURN_IF_ERROR(ValidateTenantId(q.tenant, "kpi query: tenant"));
  }
  // The stored name of the tenant asked for ("" = default).
  const std::string tenant =
      TenantOrDefault(q.tenant) == kDefaultTenant ? "" : q.tenant;
  auto in_scope = [&](absl::string_view stored_tenant) {
    return q.all_tenants || stored_tenant == tenant;
  };
  const absl::TimeZone& zone = options.zone;
  KpiReport rep;
  rep.all_tenants = q.all_tenants;
  if (!q.all_tenants) rep.tenant = TenantName(tenant);
  rep.by = q.by;
  rep.bucket = q.bucket;
  rep.zone = zone.name();
  const absl::Time to = q.to == absl::InfiniteFuture() ? q.now : q.to;
  absl::CivilDay from_day;
  if (q.from == absl::InfinitePast()) {
    auto first = std::find_if(
        rollup.cells.begin(), rollup.cells.end(),
        [&](const auto& cell) { return in_scope(cell.first.second.tenant); });
    from_day = first == rollup.cells.end()
                   ? absl::ToCivilDay(to - absl::Microseconds(1), zone)
                   : first->first.first;
  } else {
    from_day = absl::ToCivilDay(q.from, zone);
  }
  if (q.from != absl::InfinitePast() && q.from >= to) {
    return absl::InvalidArgumentError("kpi query: --from must be before --to");
  }
  from_day = BucketStart(q.bucket, from_day);
  const absl::CivilDay last_day =
      absl::ToCivilDay(to - absl::Microseconds(1), zone);
  std::vector<std::pair<absl::CivilDay, absl::CivilDay>> buckets;
  if (q.bucket == KpiBucket::kAll) {
    if (from_day <= last_day) buckets.emplace_back(from_day, last_day + 1);
  } else {
    for (absl::CivilDay s = from_day; s <= last_day;
         s = BucketEnd(q.bucket, s)) {
      buckets.emplace_back(s, BucketEnd(q.bucket, s));
    }
  }
  if (buckets.empty()) return rep;
  const absl::CivilDay end_day = buckets.back().second;

  // Groups present before the end.
  std::set<KpiDims> groups;
  for (const auto& [key, m] : rollup.cells) {
    if (key.first >= end_day) break;
    if (in_scope(key.second.tenant)) groups.insert(Project(key.second, q.by));
  }
  if (q.by.empty()) groups.insert(KpiDims());

  struct Running {
    int64_t backlog = 0;
    std::array<int64_t, kAgingClasses> aging{};
  };
  std::map<KpiDims, Running> running;
  // (stored tenant, named service): a service of one tenant.
  using TenantService = std::pair<std::string, std::string>;
  // Per bucket: named service -> its resolutions and survey sums.
  std::vector<std::map<TenantService, KpiServiceRow>> service_flow(
      buckets.size());
  auto cell = rollup.cells.begin();
  for (size_t b = 0; b < buckets.size(); ++b) {
    const auto& [bs, be] = buckets[b];
    std::map<KpiDims, KpiMeasures> flow;
    for (; cell != rollup.cells.end() && cell->first.first < be; ++cell) {
      if (!in_scope(cell->first.second.tenant)) continue;
      const KpiDims g = Project(cell->first.second, q.by);
      const KpiMeasures& m = cell->second;
      Running& run = running[g];
      run.backlog += m.backlog_delta;
      for (int k = 0; k < kAgingClasses; ++k) run.aging[k] += m.aging_delta[k];
      if (cell->first.first < bs) continue;
      flow[g].Add(m);
      const std::string& service = cell->first.second.service;
      if (!service.empty() && (m.resolved != 0 || m.survey_responses != 0)) {
        KpiServiceRow& sr =
            service_flow[b][{cell->first.second.tenant, service}];
        sr.resolved += m.resolved;
        sr.survey_responses += m.survey_responses;
        sr.survey_satisfied += m.survey_satisfied;
        sr.survey_score_sum += m.survey_score_sum;
      }
    }
    for (const KpiDims& g : groups) {
      KpiRow row;
      row.start = bs;
      row.end = be;
      row.dims = g;
      auto f = flow.find(g);
      if (f != flow.end()) row.flow = std::move(f->second);
      auto r = running.find(g);
      if (r != running.end()) {
        row.backlog = r->second.backlog;
        row.aging = r->second.aging;
      }
      rep.rows.push_back(std::move(row));
    }
  }

  // Availability per service of each tenant in scope (in the service's
  // calendar in its tenant, as business time).
  std::vector<std::string> tenants = {tenant};
  if (q.all_tenants) tenants = rollup.Tenants();
  std::set<TenantService> services;
  const int64_t now_us = Micros(q.now);
  for (const std::string& t : tenants) {
    const std::map<std::string, KpiServiceTarget> targets =
        rollup.ServicesOf(t);
    const KpiLogCalendars log_calendars =
        KpiCalendarsOf(targets, rollup.CalendarSpecsOf(t));
    // service -> the intervals of the tenant's records.
    std::map<std::string, std::vector<std::pair<int64_t, int64_t>>> outages;
    for (const auto& [s, recs] : rollup.outages) {
      for (const auto& [rec, v] : recs) {
        if (KpiTenantOf(rec) != t) continue;
        auto& iv = outages[s];
        for (const KpiInterval& i : v) {
          iv.emplace_back(i.start_us, i.end_us == 0 ? now_us : i.end_us);
        }
      }
    }
    std::set<std::string> available;
    for (const auto& [s, iv] : outages) available.insert(s);
    for (const auto& [s, target] : targets) {
      if (target.availability_target_percent > 0) available.insert(s);
    }
    for (const std::string& s : available) {
      std::vector<std::pair<int64_t, int64_t>> iv = std::move(outages[s]);
      std::sort(iv.begin(), iv.end());
      std::vector<std::pair<int64_t, int64_t>> merged;
      for (const auto& i : iv) {
        if (i.second <= i.first) continue;
        if (!merged.empty() && i.first <= merged.back().second) {
          merged.back().second = std::max(merged.back().second, i.second);
        } else {
          merged.push_back(i);
        }
      }
      const BusinessCalendar* cal = options.CalendarFor(s, &log_calendars);
      auto open_time = [cal](int64_t a, int64_t b) -> int64_t {
        if (b <= a) return 0;
        if (cal == nullptr) return b - a;
        return absl::ToInt64Microseconds(
            cal->Between(absl::FromUnixMicros(a), absl::FromUnixMicros(b)));
      };
      auto target = targets.find(s);
      for (const auto& [bs, be] : buckets) {
        KpiAvailabilityRow a;
        a.start = bs;
        a.end = be;
        a.tenant = TenantName(t);
        a.service = s;
        a.target_percent = target == targets.end()
                               ? 0
                               : target->second.availability_target_percent;
        const int64_t ws = Micros(zone.At(absl::CivilSecond(bs)).pre);
        const int64_t we =
            std::min(Micros(zone.At(absl::CivilSecond(be)).pre), now_us);
        a.agreed_us = open_time(ws, we);
        for (const auto& [x, y] : merged) {
          a.downtime_us += open_time(std::max(x, ws), std::min(y, we));
          if (x >= ws && x < we) ++a.failures;
        }
        rep.availability.push_back(std::move(a));
      }
    }
  }

  // Per service: availability and reliability next to satisfaction.
  std::map<std::pair<absl::CivilDay, TenantService>, const KpiAvailabilityRow*>
      availability_of;
  for (const KpiAvailabilityRow& a : rep.availability) {
    const TenantService ts(a.tenant == kDefaultTenant ? "" : a.tenant,
                           a.service);
    availability_of[{a.start, ts}] = &a;
    services.insert(ts);
  }
  for (const auto& per_bucket : service_flow) {
    for (const auto& [ts, sr] : per_bucket) services.insert(ts);
  }
  for (size_t b = 0; b < buckets.size(); ++b) {
    for (const TenantService& ts : services) {
      KpiServiceRow r;
      auto f = service_flow[b].find(ts);
      if (f != service_flow[b].end()) r = f->second;
      r.start = buckets[b].first;
      r.end = buckets[b].second;
      r.tenant = TenantName(ts.first);
      r.service = ts.second;
      auto a = availability_of.find({r.start, ts});
      if (a != availability_of.end()) {
        r.has_availability = true;
        r.agreed_us = a->second->agreed_us;
        r.downtime_us = a->second->downtime_us;
        r.failures = a->second->failures;
        r.target_percent = a->second->target_percent;
      }
      rep.services.push_back(std::move(r));
    }
  }

  // SLA compliance per bucket, group, policy and target type.
  std::map<std::tuple<absl::CivilDay, KpiDims, std::string, std::string>,
           std::pair<int64_t, int64_t>>
      sla;
  for (const KpiSlaClock& c : sla_clocks) {
    if (!in_scope(c.dims.tenant)) continue;
    const absl::CivilDay d =
        absl::ToCivilDay(absl::FromUnixMicros(c.at_us), zone);
    if (d < from_day || d >= end_day) continue;
    auto& mb =
        sla[{q.bucket == KpiBucket::kAll ? from_day : BucketStart(q.bucket, d),
             Project(c.dims, q.by), c.policy_id, c.target_type}];
    (c.met ? mb.first : mb.second) += 1;
  }
  for (const auto& [k, mb] : sla) {
    KpiSlaRow r;
    r.start = std::get<0>(k);
    r.end =
        q.bucket == KpiBucket::kAll ? end_day : BucketEnd(q.bucket, r.start);
    r.dims = std::get<1>(k);
    r.policy_id = std::get<2>(k);
    r.target_type = std::get<3>(k);
    r.met = mb.first;
    r.breached = mb.second;
    rep.sla.push_back(std::move(r));
  }
  return rep;
}

std::string FormatKpiReport(const KpiReport& rep, KpiFormat format,
                            KpiTables tables) {
  const std::vector<std::string> keys = KeyNames(rep);
  const bool any_response =
      std::any_of(rep.rows.begin(), rep.rows.end(), [](const KpiRow& r) {
        return r.flow.survey_responses != 0;
      });
  const bool shown_if_any =
      !tables.hide_satisfaction_without_responses || any_response;
  const bool show_satisfaction = tables.satisfaction && shown_if_any;
  const bool show_services = tables.services && shown_if_any;
  const bool show_changes =
      tables.changes &&
      (!tables.hide_changes_without_reviews ||
       std::any_of(rep.rows.begin(), rep.rows.end(), [](const KpiRow& r) {
         return r.flow.changes_reviewed != 0;
       }));
  const bool show_requests =
      tables.requests &&
      (!tables.hide_requests_without_requests ||
       std::any_of(rep.rows.begin(), rep.rows.end(), [](const KpiRow& r) {
         return r.flow.requests_opened != 0;
       }));
  std::set<std::string> currencies;
  for (const KpiRow& r : rep.rows) {
    for (const auto& [currency, cents] : r.flow.request_cost_cents) {
      currencies.insert(currency);
    }
  }
  auto request_columns = [&currencies](const KpiRow& r) {
    return RequestColumns(r, currencies);
  };
  std::string out;
  if (format == KpiFormat::kTable) {
    std::vector<std::string> by;
    for (KpiDimension d : rep.by) by.push_back(KpiDimensionName(d));
    absl::StrAppend(
        &out, "KPIs by ", by.empty() ? "total" : absl::StrJoin(by, ", "), "; ",
        rep.bucket != KpiBucket::kAll
            ? absl::StrCat(KpiBucketName(rep.bucket), " buckets")
        : rep.rows.empty()
            ? std::string("one bucket for the whole period")
            : absl::StrCat("one bucket for the whole period, ",
                           kpi::DayText(rep.rows[0].start), " to ",
                           kpi::DayText(rep.rows[0].end), " (end exclusive)"),
        " in ", rep.zone,
        rep.all_tenants ? "; all tenants"
        : rep.tenant.empty() || rep.tenant == kDefaultTenant
            ? ""
            : absl::StrCat("; tenant ", rep.tenant),
        "\n");
    auto section =
        [&](const std::string& title,
            const std::function<std::vector<Column>(const KpiRow&)>& cols) {
          std::vector<std::string> header = keys;
          std::vector<std::vector<std::string>> rows;
          for (const KpiRow& r : rep.rows) {
            std::vector<std::string> line = RowKeys(rep, r.start, r.dims);
            for (std::string& k : line) {
              if (k.empty()) k = "(none)";
            }
            const std::vector<Column> c = cols(r);
            if (rows.empty() && header.size() == keys.size()) {
              for (const Column& col : c) header.push_back(col.name);
            }
            for (const Column& col : c) line.push_back(Human(col.value));
            rows.push_back(std::move(line));
          }
          if (rows.empty()) return;
          absl::StrAppend(&out, "\n", title, "\n", Table(header, rows));
        };
    if (tables.incidents) {
      section("Incidents (backlog and ages at bucket end)", IncidentColumns);
      section("Response and resolution, wall time",
              [](const KpiRow& r) { return TimeColumns(r, false); });
      section("Response and resolution, business time",
              [](const KpiRow& r) { return TimeColumns(r, true); });
      section("Resolution quality (at last resolution)", QualityColumns);
      section("Changes", ChangeColumns);
    }
    if (show_changes) {
      section(
          "Changes: post-implementation review (closed changes, at close; "
          "failed = FAILED or ROLLED_BACK)",
          ChangeReviewColumns);
    }
    if (show_requests) {
      section(
          "Service requests (opened at submission, approval at the "
          "completing approval, fulfilment and cost at fulfilment)",
          request_columns);
    }
    if (tables.availability && !rep.availability.empty()) {
      std::vector<std::vector<std::string>> rows;
      for (const auto& a : rep.availability) {
        auto av = Availability(a);
        rows.push_back(
            {kpi::DayText(a.start), a.tenant, a.service, Human(Dur(a.agreed_us)),
             Human(Dur(a.downtime_us)), Human(Rate(av)),
             a.target_percent > 0 ? absl::StrFormat("%.2f%%", a.target_percent)
                                  : "-",
             a.target_percent > 0 && av.has_value()
                 ? (*av * 100 >= a.target_percent ? "yes" : "no")
                 : "-"});
      }
      std::vector<std::string> header = {"bucket",   "tenant",
                                         "service",  "agreed",
                                         "downtime", "availability",
                                         "target",   "met"};
      if (!rep.all_tenants) {
        header.erase(header.begin() + 1);
        for (auto& r : rows) r.erase(r.begin() + 1);
      }
      absl::StrAppend(&out, "\nAvailability (priority-1 outages)\n",
                      Table(header, rows));
    }
    if (tables.sla) {
      std::vector<std::vector<std::string>> rows;
      for (const auto& s : rep.sla) {
        std::vector<std::string> line = RowKeys(rep, s.start, s.dims);
        for (std::string& k : line) {
          if (k.empty()) k = "(none)";
        }
        line.push_back(s.policy_id);
        line.push_back(s.target_type);
        line.push_back(absl::StrCat(s.met));
        line.push_back(absl::StrCat(s.breached));
        line.push_back(Human(Rate(Ratio(s.met, s.met + s.breached))));
        rows.push_back(std::move(line));
      }
      std::vector<std::string> header = keys;
      for (const char* h :
           {"policy", "target", "met", "breached", "compliance"}) {
        header.push_back(h);
      }
      absl::StrAppend(
          &out, "\nSLA\n",
          rows.empty() ? "(no final SLA clocks)\n" : Table(header, rows));
    }
    if (show_satisfaction) {
      section("Satisfaction (surveys at the resolution they rate)",
              RowSatisfactionColumns);
    }
    if (show_services && !rep.services.empty()) {
      std::vector<std::string> header = {"bucket", "service"};
      if (rep.all_tenants) header.insert(header.begin() + 1, "tenant");
      for (const Column& c : ServiceColumns(KpiServiceRow())) {
        header.push_back(c.name);
      }
      std::vector<std::vector<std::string>> rows;
      for (const KpiServiceRow& r : rep.services) {
        std::vector<std::string> line = {kpi::DayText(r.start), r.service};
        if (rep.all_tenants) line.insert(line.begin() + 1, r.tenant);
        for (const Column& c : ServiceColumns(r)) {
          line.push_back(Human(c.value));
        }
        rows.push_back(std::move(line));
      }
      absl::StrAppend(&out,
                      "\nServices: availability, reliability (priority-1 "
                      "failures, MTBF) and satisfaction\n",
                      Table(header, rows));
    }
    return out;
  }

  auto all_columns = [](const KpiRow& r) { return AllColumns(r); };
  using RowColumns = std::function<std::vector<Column>(const KpiRow&)>;
  if (format == KpiFormat::kCsv) {
    // One line per row: keys, bucket_end, then `cols`.
    auto row_block = [&](const RowColumns& cols) {
      std::string b;
      std::vector<std::string> header = keys;
      header.insert(header.begin() + 1, "bucket_end");
      KpiRow empty;
      for (const Column& c : cols(empty)) header.push_back(c.name);
      absl::StrAppend(&b, absl::StrJoin(header, ","), "\n");
      for (const KpiRow& r : rep.rows) {
        std::vector<std::string> line;
        for (const std::string& k : RowKeys(rep, r.start, r.dims)) {
          line.push_back(CsvQuote(k));
        }
        line.insert(line.begin() + 1, kpi::DayText(r.end));
        for (const Column& c : cols(r)) {
          line.push_back(Machine(c.value));
        }
        absl::StrAppend(&b, absl::StrJoin(line, ","), "\n");
      }
      return b;
    };
    std::vector<std::string> blocks;
    if (tables.incidents) blocks.push_back(row_block(all_columns));
    if (show_changes) blocks.push_back(row_block(ChangeReviewColumns));
    if (show_requests) blocks.push_back(row_block(request_columns));
    if (tables.availability) {
      std::string b = absl::StrCat(
          "bucket,bucket_end,", rep.all_tenants ? "tenant," : "",
          "service,agreed,downtime,availability,target\n");
      for (const auto& a : rep.availability) {
        std::vector<std::string> line = {
            kpi::DayText(a.start), kpi::DayText(a.end),
            CsvQuote(a.service), Machine(Dur(a.agreed_us)),
            Machine(Dur(a.downtime_us)), Machine(Rate(Availability(a))),
            a.target_percent > 0
                ? absl::StrFormat("%.4f", a.target_percent / 100)
                : ""};
        if (rep.all_tenants) line.insert(line.begin() + 2, CsvQuote(a.tenant));
        absl::StrAppend(&b, absl::StrJoin(line, ","), "\n");
      }
      blocks.push_back(std::move(b));
    }
    if (tables.sla) {
      std::vector<std::string> header = keys;
      header.insert(header.begin() + 1, "bucket_end");
      for (const char* h :
           {"policy", "target", "met", "breached", "compliance"}) {
        header.push_back(h);
      }
      std::string b = absl::StrCat(absl::StrJoin(header, ","), "\n");
      for (const auto& s : rep.sla) {
        std::vector<std::string> line;
        for (const std::string& k : RowKeys(rep, s.start, s.dims)) {
          line.push_back(CsvQuote(k));
        }
        line.insert(line.begin() + 1, kpi::DayText(s.end));
        line.push_back(CsvQuote(s.policy_id));
        line.push_back(CsvQuote(s.target_type));
        line.push_back(absl::StrCat(s.met));
        line.push_back(absl::StrCat(s.breached));
        line.push_back(Machine(Rate(Ratio(s.met, s.met + s.breached))));
        absl::StrAppend(&b, absl::StrJoin(line, ","), "\n");
      }
      blocks.push_back(std::move(b));
    }
    if (show_satisfaction) blocks.push_back(row_block(RowSatisfactionColumns));
    if (show_services) {
      std::vector<std::string> header = {"bucket", "bucket_end", "service"};
      if (rep.all_tenants) header.insert(header.begin() + 2, "tenant");
      for (const Column& c : ServiceColumns(KpiServiceRow())) {
        header.push_back(c.name);
      }
      std::string b = absl::StrCat(absl::StrJoin(header, ","), "\n");
      for (const KpiServiceRow& r : rep.services) {
        std::vector<std::string> line = {kpi::DayText(r.start),
                                         kpi::DayText(r.end),
                                         CsvQuote(r.service)};
        if (rep.all_tenants) line.insert(line.begin() + 2, CsvQuote(r.tenant));
        for (const Column& c : ServiceColumns(r)) {
          line.push_back(Machine(c.value));
        }
        absl::StrAppend(&b, absl::StrJoin(line, ","), "\n");
      }
      blocks.push_back(std::move(b));
    }
    return absl::StrJoin(blocks, "\n");
  }

  // JSON.
  auto json_value = [](const Value& v) -> std::string {
    switch (v.kind) {
      case Kind::kCount:
        return absl::StrCat(static_cast<int64_t>(*v.v));
      case Kind::kDuration:
        return absl::StrFormat("%.3f", *v.v / 1e6);
      case Kind::kRate:
      case Kind::kNumber:
        return absl::StrFormat("%.4f", *v.v);
    }
    return "null";
  };
  auto dims_json = [&rep](const KpiDims& d) {
    std::vector<std::string> f;
    for (KpiDimension k : rep.by) {
      f.push_back(absl::StrCat(JsonQuote(KpiDimensionName(k)), ":",
                               k == KpiDimension::kPriority
                                   ? absl::StrCat(d.priority)
                                   : JsonQuote(DimValue(d, k))));
    }
    return absl::StrCat("{", absl::StrJoin(f, ","), "}");
  };
  // {"a":1,...} of the columns that have a value.
  auto measures_json = [&](const std::vector<Column>& cols) {
    std::vector<std::string> f;
    for (const Column& c : cols) {
      if (!c.value.v.has_value()) continue;
      f.push_back(absl::StrCat(JsonQuote(c.name), ":", json_value(c.value)));
    }
    return absl::StrCat("{", absl::StrJoin(f, ","), "}");
  };
  // One object per row: bucket, bucket_end, dims, measures = `cols`.
  auto row_objects = [&](const RowColumns& cols) {
    std::vector<std::string> out;
    for (const KpiRow& r : rep.rows) {
      out.push_back(absl::StrCat(
          "{\"bucket\":", JsonQuote(kpi::DayText(r.start)), ",\"bucket_end\":",
          JsonQuote(kpi::DayText(r.end)), ",\"dims\":", dims_json(r.dims),
          ",\"measures\":", measures_json(cols(r)), "}"));
    }
    return out;
  };
  std::vector<std::string> rows;
  if (tables.incidents) rows = row_objects(all_columns);
  std::vector<std::string> avail;
  if (tables.availability) {
    for (const auto& a : rep.availability) {
      std::string s =
          absl::StrCat("{\"bucket\":", JsonQuote(kpi::DayText(a.start)),
                       ",\"bucket_end\":", JsonQuote(kpi::DayText(a.end)),
                       rep.all_tenants
                           ? absl::StrCat(",\"tenant\":", JsonQuote(a.tenant))
                           : "",
                       ",\"service\":", JsonQuote(a.service),
                       ",\"agreed\":", json_value(Dur(a.agreed_us)),
                       ",\"downtime\":", json_value(Dur(a.downtime_us)));
      if (auto av = Availability(a)) {
        absl::StrAppend(&s, ",\"availability\":", json_value(Rate(av)));
      }
      if (a.target_percent > 0) {
        absl::StrAppend(&s, ",\"target\":",
                        absl::StrFormat("%.4f", a.target_percent / 100));
      }
      avail.push_back(s + "}");
    }
  }
  std::vector<std::string> sla;
  if (tables.sla) {
    for (const auto& s : rep.sla) {
      sla.push_back(absl::StrCat(
          "{\"bucket\":", JsonQuote(kpi::DayText(s.start)), ",\"bucket_end\":",
          JsonQuote(kpi::DayText(s.end)), ",\"dims\":", dims_json(s.dims),
          ",\"policy\":", JsonQuote(s.policy_id),
          ",\"target\":", JsonQuote(s.target_type), ",\"met\":", s.met,
          ",\"breached\":", s.breached, ",\"compliance\":",
          json_value(Rate(Ratio(s.met, s.met + s.breached))), "}"));
    }
  }
  std::string extra;
  if (show_changes) {
    absl::StrAppend(&extra, ",\"changes\":[",
                    absl::StrJoin(row_objects(ChangeReviewColumns), ","), "]");
  }
  if (show_requests) {
    absl::StrAppend(&extra, ",\"requests\":[",
                    absl::StrJoin(row_objects(request_columns), ","), "]");
  }
  if (show_satisfaction) {
    absl::StrAppend(&extra, ",\"satisfaction\":[",
                    absl::StrJoin(row_objects(RowSatisfactionColumns), ","),
                    "]");
  }
  if (show_services) {
    std::vector<std::string> svc;
    for (const KpiServiceRow& r : rep.services) {
      svc.push_back(absl::StrCat(
          "{\"bucket\":", JsonQuote(kpi::DayText(r.start)), ",\"bucket_end\":",
          JsonQuote(kpi::DayText(r.end)),
          rep.all_tenants ? absl::StrCat(",\"tenant\":", JsonQuote(r.tenant))
                          : "",
          ",\"service\":", JsonQuote(r.service),
          ",\"measures\":", measures_json(ServiceColumns(r)), "}"));
    }
    absl::StrAppend(&extra, ",\"services\":[", absl::StrJoin(svc, ","), "]");
  }
  std::vector<std::string> by;
  for (KpiDimension d : rep.by) by.push_back(JsonQuote(KpiDimensionName(d)));
  return absl::StrCat("{", rep.all_tenants ? "\"all_tenants\":true," : "",
                      "\"zone\":", JsonQuote(rep.zone),
                      ",\"bucket\":", JsonQuote(KpiBucketName(rep.bucket)),
                      ",\"by\":[", absl::StrJoin(by, ","), "],\"rows\":[",
                      absl::StrJoin(rows, ","), "],\"availability\":[",
                      absl::StrJoin(avail, ","), "],\"sla\":[",
                      absl::StrJoin(sla, ","), "]", extra, "}\n");
}

absl::StatusOr<KpiRollup> FoldKpiRollup(
    const std::function<absl::StatusOr<std::vector<Envelope>>(int64_t, size_t)>&
        read_all,
    const KpiOptions& options) {
  KpiProjection projection(options);
  MemoryState state;
  constexpr size_t kChunk = 4096;
  for (int64_t position = 0;;) {
    SLATE_ASSIGN_OR_RETURN(std::vector<Envelope> events,
                           read_all(position, kChunk));
    SLATE_RETURN_IF_ERROR(FoldInto(projection, events, state));
    if (events.size() < kChunk) break;
    position += static_cast<int64_t>(events.size());
  }
  return LoadKpiRollup(
      [&state](
          absl::string_view prefix,
          const std::function<bool(absl::string_view, absl::string_view)>& fn) {
        return state.Scan(prefix, fn);
      },
      std::nullopt);
}

}  // namespace slate
