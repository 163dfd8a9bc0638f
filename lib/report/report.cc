#include "lib/report/report.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/api/tenant.h"
#include "lib/report/report_parts.h"
#include "lib/report/svg_chart.h"

namespace slate::report {
namespace {

std::string DayText(absl::CivilDay d) { return absl::FormatCivilTime(d); }

std::string PriorityLabel(int p) {
  return p == 0 ? "(no priority)" : absl::StrCat("P", p);
}

std::string OrNone(const std::string& s, absl::string_view none) {
  return s.empty() ? std::string(none) : s;
}

KpiQuery Query(const ReportOptions& o, std::vector<KpiDimension> by) {
  KpiQuery q;
  q.by = std::move(by);
  q.bucket = o.bucket;
  q.zone = o.zone;
  q.from = o.from;
  q.to = o.to;
  q.now = o.now;
  q.tenant = o.tenant;
  return q;
}

// Final clocks of a report by one dimension value (`key` of the row dims).
template <typename Key>
std::map<Key, std::map<std::string, SlaCount>> SlaBy(
    const KpiResult& r, Key (*key)(const KpiKey&)) {
  std::map<Key, std::map<std::string, SlaCount>> out;
  for (const KpiResultSlaRow& s : r.sla) {
    SlaCount& c = out[key(s.dims)][s.target_type];
    c.met += s.met;
    c.breached += s.breached;
  }
  return out;
}

int PriorityOf(const KpiKey& d) { return d.priority; }
std::string GroupOf(const KpiKey& d) { return d.group; }

const char* BucketWord(KpiBucket b) {
  switch (b) {
    case KpiBucket::kDay:
      return "day";
    case KpiBucket::kWeek:
      return "week starting (Monday)";
    case KpiBucket::kMonth:
      return "month starting";
    case KpiBucket::kAll:
      return "period starting";
  }
  return "bucket";
}

}  // namespace

int64_t SlaByTarget::total() const {
  int64_t n = 0;
  for (const auto& [t, c] : by_target) n += c.met + c.breached;
  return n;
}

std::string FormatDurationSeconds(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) seconds = 0;
  const int64_t s = static_cast<int64_t>(std::llround(seconds));
  if (s < 60) return absl::StrCat(s, "s");
  if (s < 3600) return absl::StrFormat("%dm%02ds", s / 60, s % 60);
  if (s < 86400) return absl::StrFormat("%dh%02dm", s / 3600, s % 3600 / 60);
  return absl::StrFormat("%dd%02dh", s / 86400, s % 86400 / 3600);
}

absl::StatusOr<ReportData> CollectReportData(const Engine& engine,
                                             const ReportOptions& o) {
  ReportData d;
  d.zone = o.zone.name();
  d.bucket = o.bucket;
  d.now = o.now;

  const KpiQuery queries[] = {Query(o, {}), Query(o, {KpiDimension::kPriority}),
                              Query(o, {KpiDimension::kGroup}),
                              Query(o, {KpiDimension::kCategory})};
  absl::StatusOr<std::vector<KpiResult>> results = engine.Kpis(queries);
  if (!results.ok()) return results.status();
  const KpiResult& totals = (*results)[0];
  for (const KpiResultRow& row : totals.rows) {
    BucketPoint p;
    p.start = row.start;
    p.end = row.end;
    p.opened = row.flow.opened;
    p.resolved = row.flow.resolved;
    p.backlog = row.backlog;
    p.resolved_final = row.flow.resolved_final;
    p.reopened_records = row.flow.reopened_records;
    p.survey_responses = row.flow.survey_responses;
    p.survey_satisfied = row.flow.survey_satisfied;
    d.buckets.push_back(p);
    d.total.Add(row.flow);
    d.backlog_at_end = row.backlog;
  }
  for (const KpiResultSlaRow& s : totals.sla) {
    SlaCount& c = d.sla_total[s.target_type];
    c.met += s.met;
    c.breached += s.breached;
  }

  // Per priority: MTTR from the merged sketches, SLA counts.
  const KpiResult& by_priority = (*results)[1];
  std::map<int, KpiFlow> prio_flow;
  for (const KpiResultRow& row : by_priority.rows) {
    prio_flow[row.dims.priority].Add(row.flow);
  }
  auto prio_sla = SlaBy<int>(by_priority, &PriorityOf);
  for (const auto& [p, c] : prio_sla) prio_flow[p];  // Present with clocks.
  for (const auto& [p, m] : prio_flow) {
    PriorityStat ps;
    ps.priority = p;
    ps.resolved_final = m.resolved_final;
    const KpiDurations& sk = m.resolution_wall_sketch;
    if (sk.count() > 0 && sk.IsNonNegative()) {
      ps.mttr_p50_s = sk.Quantile(0.5) / 1e6;
      ps.mttr_p90_s = sk.Quantile(0.9) / 1e6;
    }
    if (m.resolved_final > 0) {
      ps.mttr_mean_s = static_cast<double>(m.resolution_wall_us) /
                       static_cast<double>(m.resolved_final) / 1e6;
    }
    d.priorities.push_back(ps);
    SlaByTarget st;
    st.label = PriorityLabel(p);
    auto it = prio_sla.find(p);
    if (it != prio_sla.end()) st.by_target = it->second;
    d.sla_by_priority.push_back(std::move(st));
  }

  // Per assignment group: SLA counts, top N by number of final clocks.
  const KpiResult& by_group = (*results)[2];
  for (auto& [g, m] : SlaBy<std::string>(by_group, &GroupOf)) {
    SlaByTarget st;
    st.label = OrNone(g, "(unassigned)");
    st.by_target = std::move(m);
    d.sla_by_group.push_back(std::move(st));
  }
  d.groups_with_clocks = static_cast<int64_t>(d.sla_by_group.size());
  std::stable_sort(d.sla_by_group.begin(), d.sla_by_group.end(),
                   [](const SlaByTarget& a, const SlaByTarget& b) {
                     return a.total() > b.total();
                   });
  if (static_cast<int>(d.sla_by_group.size()) > o.top_groups) {
    d.sla_by_group.resize(std::max(0, o.top_groups));
  }

  // Per category: opened and breached clocks.
  const KpiResult& by_category = (*results)[3];
  std::map<std::string, CategoryStat> cats;
  for (const KpiResultRow& row : by_category.rows) {
    cats[row.dims.category].opened += row.flow.opened;
  }
  for (const KpiResultSlaRow& s : by_category.sla) {
    cats[s.dims.category].breached += s.breached;
  }
  for (auto& [name, c] : cats) {
    c.category = name;
    if (c.opened > 0) d.top_by_volume.push_back(c);
    if (c.breached > 0) d.top_by_breaches.push_back(c);
  }
  std::stable_sort(d.top_by_volume.begin(), d.top_by_volume.end(),
                   [](const CategoryStat& a, const CategoryStat& b) {
                     return a.opened > b.opened;
                   });
  std::stable_sort(d.top_by_breaches.begin(), d.top_by_breaches.end(),
                   [](const CategoryStat& a, const CategoryStat& b) {
                     return a.breached > b.breached;
                   });
  const size_t top = static_cast<size_t>(std::max(0, o.top_categories));
  if (d.top_by_volume.size() > top) d.top_by_volume.resize(top);
  if (d.top_by_breaches.size() > top) d.top_by_breaches.resize(top);
  return d;
}

std::string RenderReportHtml(const ReportData& d, const ReportOptions& o) {
  const int w = o.chart_width;
  const std::string zone = HtmlEscape(d.zone);
  std::string html =
      absl::StrCat(PageStart(o.title, w), "<p class=\"note\">");
  if (!o.source.empty()) {
    absl::StrAppend(&html, "Database: ", HtmlEscape(o.source), ". ");
  }
  if (!o.tenant.empty() && o.tenant != kDefaultTenant) {
    absl::StrAppend(&html, "Tenant: ", HtmlEscape(o.tenant), ". ");
  }
  std::string period = "no buckets";
  if (!d.buckets.empty()) {
    period = absl::StrCat(DayText(d.buckets.front().start), " to ",
                          DayText(d.buckets.back().end), " (end exclusive)");
  }
  absl::StrAppend(&html, "Period: ", HtmlEscape(period), "; ",
                  HtmlEscape(KpiBucketName(d.bucket)), " buckets in time zone ",
                  zone, ". Generated for ",
                  HtmlEscape(absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", d.now,
                                              absl::UTCTimeZone())),
                  ".</p>\n");

  // 1. Opened vs resolved, backlog.
  std::vector<std::string> x_labels;
  for (const BucketPoint& p : d.buckets) x_labels.push_back(DayText(p.start));
  const std::string x_axis =
      absl::StrCat(BucketWord(d.bucket), " (", d.zone, ")");
  {
    LineChart c;
    c.aria_label = "Incidents opened and resolved per bucket, backlog";
    c.x_axis_label = x_axis;
    c.y_axis_label = absl::StrCat("incidents per ", KpiBucketName(d.bucket));
    c.x_labels = x_labels;
    c.width = w;
    ChartSeries opened{"opened", "#1f77b4", false, {}};
    ChartSeries resolved{"resolved", "#2ca02c", false, {}};
    ChartSeries backlog{"backlog at bucket end", "#d62728", true, {}};
    bool any = false;
    for (const BucketPoint& p : d.buckets) {
      opened.values.push_back(static_cast<double>(p.opened));
      resolved.values.push_back(static_cast<double>(p.resolved));
      backlog.values.push_back(static_cast<double>(p.backlog));
      any = any || p.opened != 0 || p.resolved != 0 || p.backlog != 0;
    }
    if (any) c.series = {opened, resolved, backlog};
    absl::StrAppend(
        &html,
        "<section id=\"flow\">\n<h2>Opened vs resolved</h2>\n<p "
        "class=\"note\">Incidents opened and resolved (transitions into "
        "Resolved; a reopened incident resolved again counts again) per ",
        HtmlEscape(KpiBucketName(d.bucket)),
        "; the dashed line is the backlog (incidents open) at each bucket's "
        "end. Unit: incidents.</p>\n",
        RenderLineChart(c), "</section>\n");
  }

  // 2. MTTR per priority.
  {
    double max_s = 0;
    for (const PriorityStat& p : d.priorities) {
      if (p.mttr_p90_s) max_s = std::max(max_s, *p.mttr_p90_s);
      if (p.mttr_p50_s) max_s = std::max(max_s, *p.mttr_p50_s);
    }
    double unit = 3600;
    std::string unit_name = "hours";
    if (max_s < 2 * 3600) {
      unit = 60;
      unit_name = "minutes";
    } else if (max_s >= 3 * 86400) {
      unit = 86400;
      unit_name = "days";
    }
    BarChart c;
    c.aria_label = "MTTR p50 and p90 per priority";
    c.category_axis_label = "priority";
    c.value_axis_label = absl::StrCat(
        "time to resolve (open to last resolution), wall clock, ", unit_name);
    c.decimals = 1;
    c.value_suffix = unit_name == "minutes" ? " min"
                     : unit_name == "hours" ? " h"
                                            : " d";
    c.width = w;
    ChartSeries p50{"p50 (median)", "#4c78a8", false, {}};
    ChartSeries p90{"p90", "#f58518", false, {}};
    bool any = false;
    for (const PriorityStat& p : d.priorities) {
      if (p.resolved_final == 0) continue;
      any = true;
      c.labels.push_back(PriorityLabel(p.priority));
      c.notes.push_back(absl::StrCat("n=", p.resolved_final));
      auto scaled = [unit](const std::optional<double>& v) {
        return v.has_value() ? std::optional<double>(*v / unit) : std::nullopt;
      };
      p50.values.push_back(scaled(p.mttr_p50_s));
      p90.values.push_back(scaled(p.mttr_p90_s));
    }
    if (any) c.series = {p50, p90};
    absl::StrAppend(
        &html,
        "<section id=\"mttr\">\n<h2>Time to resolve (MTTR) by priority</h2>\n"
        "<p class=\"note\">Median and 90th percentile of open to last "
        "resolution, per incident resolved in the period (n = incidents), "
        "wall-clock time in ",
        unit_name, ".</p>\n", RenderBarChart(c), "</section>\n");
  }

  // 3. SLA compliance per priority and per group.
  absl::StrAppend(
      &html,
      "<section id=\"sla-priority\">\n<h2>SLA compliance by priority</h2>\n"
      "<p class=\"note\">Share of SLA clocks that reached a final state in "
      "the period and met their target, per target type, all policies; n = "
      "final clocks (met + breached).</p>\n",
      RenderBarChart(SlaChart(d.sla_by_priority, "SLA compliance by priority",
                              "priority", w)),
      "</section>\n");
  absl::StrAppend(
      &html,
      "<section id=\"sla-group\">\n<h2>SLA compliance by assignment group "
      "</h2>\n<p class=\"note\">The ",
      d.sla_by_group.size(), " groups (of ", d.groups_with_clocks,
      ") with the most final SLA clocks in the period; group as the record "
      "has it now. n = final clocks.</p>\n",
      RenderBarChart(SlaChart(d.sla_by_group,
                              "SLA compliance by assignment group",
                              "assignment group", w)),
      "</section>\n");

  // 4. Reopen rate.
  {
    LineChart c;
    c.aria_label = "Reopen rate per bucket";
    c.x_axis_label = x_axis;
    c.y_axis_label = "reopen rate, %";
    c.x_labels = x_labels;
    c.y_max = 100;
    c.width = w;
    c.height = 280;
    ChartSeries rate{"reopen rate", "#9467bd", false, {}};
    for (const BucketPoint& p : d.buckets) {
      rate.values.push_back(Ratio(p.reopened_records, p.resolved_final, 100));
    }
    c.series = {rate};
    absl::StrAppend(
        &html,
        "<section id=\"reopen\">\n<h2>Reopen rate</h2>\n<p "
        "class=\"note\">Incidents reopened at least once / incidents "
        "resolved, by the bucket of their last resolution, in %. A gap: "
        "nothing resolved in that bucket.</p>\n",
        RenderLineChart(c), "</section>\n");
  }

  // 5. Customer satisfaction.
  {
    LineChart c;
    c.aria_label = "CSAT and survey response rate per bucket";
    c.x_axis_label = x_axis;
    c.y_axis_label = "%";
    c.x_labels = x_labels;
    c.y_max = 100;
    c.width = w;
    c.height = 280;
    ChartSeries csat{"CSAT (scores 4-5 / responses)", "#e45756", false, {}};
    ChartSeries rate{"response rate (responses / resolutions)", "#72b7b2",
                     true, {}};
    for (const BucketPoint& p : d.buckets) {
      const Satisfaction st = SatisfactionOf(
          p.survey_responses, p.survey_satisfied, 0, p.resolved);
      csat.values.push_back(st.csat_percent);
      rate.values.push_back(p.survey_responses > 0 ? st.response_rate_percent
                                                   : std::nullopt);
    }
    c.series = {csat, rate};
    absl::StrAppend(
        &html,
        "<section id=\"satisfaction\">\n<h2>Customer satisfaction</h2>\n<p "
        "class=\"note\">Survey responses by the bucket of the resolution "
        "they rate: CSAT = responses scoring 4 or 5 / responses; response "
        "rate = responses / resolutions (transitions into Resolved), in %. "
        "A gap: no response in that bucket.</p>\n",
        RenderLineChart(c), "</section>\n");
  }

  // 6. Top categories.
  {
    BarChart v;
    v.aria_label = "Top categories by incidents opened";
    v.category_axis_label = "category";
    v.value_axis_label = "incidents opened in the period";
    v.width = w;
    ChartSeries s{"opened", "#1f77b4", false, {}};
    for (const CategoryStat& c : d.top_by_volume) {
      v.labels.push_back(OrNone(c.category, "(no category)"));
      s.values.push_back(static_cast<double>(c.opened));
    }
    v.series = {s};
    BarChart b;
    b.aria_label = "Top categories by SLA breaches";
    b.category_axis_label = "category";
    b.value_axis_label = "SLA clocks breached in the period (all target types)";
    b.width = w;
    ChartSeries bs{"breached", "#d62728", false, {}};
    for (const CategoryStat& c : d.top_by_breaches) {
      b.labels.push_back(OrNone(c.category, "(no category)"));
      bs.values.push_back(static_cast<double>(c.breached));
    }
    b.series = {bs};
    absl::StrAppend(
        &html,
        "<section id=\"categories\">\n<h2>Top categories</h2>\n<p "
        "class=\"note\">By incidents opened (category at opening) and by SLA "
        "clocks breached (category as the record has it now); top ",
        o.top_categories, ".</p>\n", RenderBarChart(v), RenderBarChart(b),
        "</section>\n");
  }

  // 7. Summary table.
  {
    const KpiFlow& t = d.total;
    const auto& row = TableRow;
    auto mean = [](int64_t sum_us, int64_t n) -> std::optional<double> {
      if (n <= 0) return std::nullopt;
      return static_cast<double>(sum_us) / static_cast<double>(n) / 1e6;
    };
    std::optional<double> p50, p90;
    if (t.resolution_wall_sketch.count() > 0 &&
        t.resolution_wall_sketch.IsNonNegative()) {
      p50 = t.resolution_wall_sketch.Quantile(0.5) / 1e6;
      p90 = t.resolution_wall_sketch.Quantile(0.9) / 1e6;
    }
    std::string rows;
    absl::StrAppend(
        &rows, row("Incidents opened", absl::StrCat(t.opened)),
        row("Resolved (transitions)", absl::StrCat(t.resolved)),
        row("Incidents resolved (by last resolution)",
            absl::StrCat(t.resolved_final)),
        row("Closed", absl::StrCat(t.closed)),
        row("Reopened (transitions)", absl::StrCat(t.reopened)),
        row("Cancelled", absl::StrCat(t.cancelled)),
        row("Backlog at end of period", absl::StrCat(d.backlog_at_end)),
        row("MTTA (mean, wall clock)",
            DurationText(mean(t.response_wall_us, t.response_count))),
        row("MTTR (mean, wall clock)",
            DurationText(mean(t.resolution_wall_us, t.resolved_final))),
        row("MTTR p50 / p90 (wall clock)",
            absl::StrCat(DurationText(p50), " / ", DurationText(p90))),
        row("Mean time on hold per resolved incident",
            DurationText(mean(t.hold_us, t.resolved_final))),
        row("Reopen rate",
            PercentText(Ratio(t.reopened_records, t.resolved_final, 100))),
        row("First-contact resolution",
            PercentText(Ratio(t.first_contact, t.resolved_final, 100))));
    {
      const Satisfaction st =
          SatisfactionOf(t.survey_responses, t.survey_satisfied,
                         t.survey_score_sum, t.resolved);
      absl::StrAppend(
          &rows, row("Survey responses", absl::StrCat(t.survey_responses)),
          row("CSAT (scores 4-5 / responses)", PercentText(st.csat_percent)),
          row("Average score (1-5)",
              st.average_score.has_value()
                  ? FormatNumber(*st.average_score, 2)
                  : std::string("-")),
          row("Survey response rate (responses / resolutions)",
              PercentText(st.response_rate_percent)));
    }
    for (const auto& [type, c] : d.sla_total) {
      absl::StrAppend(
          &rows,
          row(absl::StrCat("SLA ", type, ": met / breached (compliance)"),
              absl::StrCat(c.met, " / ", c.breached, " (",
                           PercentText(Compliance(c)), ")")));
    }
    if (d.sla_total.empty()) {
      absl::StrAppend(&rows, row("SLA final clocks", "none in the period"));
    }
    absl::StrAppend(
        &rows,
        row("Changes requested (emergency)",
            absl::StrCat(t.changes_requested, " (", t.changes_emergency, ")")),
        row("Changes closed; success rate",
            absl::StrCat(t.changes_closed, "; ",
                         PercentText(Ratio(t.changes_successful,
                                           t.changes_closed, 100)))));
    absl::StrAppend(&html,
                    "<section id=\"summary\">\n<h2>Summary</h2>\n<p "
                    "class=\"note\">The whole period; \"-\" where nothing was "
                    "measured.</p>\n<table>\n<tr><th scope=\"col\">measure"
                    "</th><th scope=\"col\">value</th></tr>\n",
                    rows, "</table>\n");
    // Per priority.
    absl::StrAppend(&html,
                    "<table>\n<tr><th scope=\"col\">priority</th><th "
                    "scope=\"col\">resolved</th><th scope=\"col\">MTTR mean"
                    "</th><th scope=\"col\">p50</th><th scope=\"col\">p90</th>"
                    "<th scope=\"col\">SLA met / breached</th></tr>\n");
    for (size_t i = 0; i < d.priorities.size(); ++i) {
      const PriorityStat& p = d.priorities[i];
      int64_t met = 0, breached = 0;
      for (const auto& [type, c] : d.sla_by_priority[i].by_target) {
        met += c.met;
        breached += c.breached;
      }
      // E.g. changes (priority 0) with no resolution and no clock.
      if (p.resolved_final == 0 && met + breached == 0) continue;
      absl::StrAppend(&html, "<tr><th scope=\"row\">",
                      HtmlEscape(PriorityLabel(p.priority)),
                      "</th><td class=\"num\">", p.resolved_final,
                      "</td><td class=\"num\">", DurationText(p.mttr_mean_s),
                      "</td><td class=\"num\">", DurationText(p.mttr_p50_s),
                      "</td><td class=\"num\">", DurationText(p.mttr_p90_s),
                      "</td><td class=\"num\">", met, " / ", breached,
                      "</td></tr>\n");
    }
    absl::StrAppend(&html, "</table>\n</section>\n");
  }
  absl::StrAppend(&html, PageEnd());
  return html;
}

}  // namespace slate::report
