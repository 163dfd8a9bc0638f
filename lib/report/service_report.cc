#include "lib/report/service_report.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/api/names.h"
#include "lib/report/report_parts.h"
#include "lib/report/svg_chart.h"

namespace slate::report {
namespace {

std::string MonthText(absl::CivilMonth m) { return absl::FormatCivilTime(m); }

std::string InstantText(absl::Time t, const absl::TimeZone& zone) {
  return absl::FormatTime("%Y-%m-%d %H:%M %Z", t, zone);
}

absl::Time MonthStart(absl::CivilMonth m, const absl::TimeZone& zone) {
  return absl::FromCivil(absl::CivilSecond(m), zone);
}

KpiQuery Query(const ServiceReportOptions& o, std::vector<KpiDimension> by,
               KpiBucket bucket, absl::Time from, absl::Time to) {
  KpiQuery q;
  q.by = std::move(by);
  q.bucket = bucket;
  q.zone = o.zone;
  q.from = from;
  q.to = to;
  q.now = o.now;
  q.tenant = o.tenant;
  return q;
}

// Fills `m` from the month-bucket query's rows of `service`.
void FillMonth(const KpiResult& r, const std::string& service,
               ServiceMonth* m) {
  const absl::CivilDay first(m->month);
  for (const KpiResultRow& row : r.rows) {
    if (row.dims.service != service || row.start != first) continue;
    m->flow.Add(row.flow);
    m->backlog_at_end += row.backlog;
  }
  for (const KpiResultAvailabilityRow& a : r.availability) {
    if (a.service != service || a.start != first) continue;
    m->has_availability = true;
    m->agreed_us = a.agreed_us;
    m->downtime_us = a.downtime_us;
    m->failures = a.failures;
    m->target_percent = a.target_percent;
  }
}

bool NamesService(const KpiResult& r, const std::string& service) {
  for (const KpiResultRow& row : r.rows) {
    if (row.dims.service == service) return true;
  }
  return false;
}

std::string PriorityLabel(int p) {
  return p == 0 ? "(no priority)" : absl::StrCat("P", p);
}

std::string Seconds(int64_t us) {
  return FormatDurationSeconds(static_cast<double>(us) / 1e6);
}

std::optional<double> MeanSeconds(int64_t sum_us, int64_t n) {
  if (n <= 0) return std::nullopt;
  return static_cast<double>(sum_us) / static_cast<double>(n) / 1e6;
}

std::optional<double> QuantileSeconds(const KpiDurations& d, double q) {
  if (d.count() <= 0 || !d.IsNonNegative()) return std::nullopt;
  return d.Quantile(q) / 1e6;
}

// A row with the month before and the month reviewed.
std::string Row2(absl::string_view name, absl::string_view previous,
                 absl::string_view current) {
  return absl::StrCat("<tr><th scope=\"row\">", HtmlEscape(name),
                      "</th><td class=\"num\">", HtmlEscape(previous),
                      "</td><td class=\"num\">", HtmlEscape(current),
                      "</td></tr>\n");
}

std::string TwoMonthTable(const ServiceReportData& d, const std::string& rows) {
  return absl::StrCat(
      "<table>\n<tr><th scope=\"col\">measure</th><th scope=\"col\">",
      HtmlEscape(MonthText(d.previous.month)),
      " (month before)</th><th scope=\"col\">",
      HtmlEscape(MonthText(d.month.month)), "</th></tr>\n", rows,
      "</table>\n");
}

std::string Empty(absl::string_view text) {
  return absl::StrCat("<p class=\"empty\">", HtmlEscape(text), "</p>\n");
}

std::string AvailabilityText(const ServiceMonth& m) {
  return PercentTextDecimals(m.availability_percent(), 3);
}

std::string TargetMetText(const ServiceMonth& m) {
  const std::optional<double> a = m.availability_percent();
  if (m.target_percent <= 0 || !a.has_value()) return "-";
  return *a >= m.target_percent ? "yes" : "no";
}

std::string MtbfText(const ServiceMonth& m) {
  if (!m.has_availability || m.failures <= 0) return "-";
  return Seconds((m.agreed_us - m.downtime_us) / m.failures);
}

// The bottom of the availability chart's axis: the largest of a few round
// values below every drawn value and the target, so 99.95 % and 99.5 % do
// not both look like 100 %.
double AvailabilityAxisMin(double lowest) {
  for (double c : {99.9, 99.5, 99.0, 98.0, 95.0, 90.0, 80.0, 50.0}) {
    if (c < lowest) return c;
  }
  return 0;
}

std::string StatusText(IncidentStatus s) {
  ExecuteResult r;
  r.mutable_incident()->set_status(s);
  return AggregateStatusName(r);
}

}  // namespace

std::optional<double> ServiceMonth::availability_percent() const {
  if (!has_availability || agreed_us <= 0) return std::nullopt;
  return Ratio(agreed_us - downtime_us, agreed_us, 100);
}

bool ServiceMonth::HasIncidentData() const {
  return flow.opened != 0 || flow.resolved != 0 || flow.closed != 0 ||
         flow.reopened != 0 || flow.cancelled != 0 || backlog_at_end != 0 ||
         downtime_us != 0;
}

absl::StatusOr<ServiceReportData> CollectServiceReportData(
    const Engine& engine, const ServiceReportOptions& o) {
  if (o.service.empty()) {
    return absl::InvalidArgumentError("service report: service is required");
  }
  ServiceReportData d;
  d.service = o.service;
  d.zone = o.zone.name();
  d.now = o.now;
  absl::StatusOr<ExecuteResult> catalog =
      engine.LoadAggregate("service", o.service, o.tenant);
  if (catalog.ok() && catalog->has_service() && catalog->service().defined()) {
    const ServiceSpec& spec = catalog->service().spec();
    d.defined = true;
    d.name = spec.name();
    d.owner = spec.owner();
    d.calendar_id = spec.support_calendar_id();
    d.target_percent = spec.availability_target_percent();
    d.defined_at = absl::FromUnixMicros(catalog->service().defined_at_us());
  } else if (!catalog.ok() &&
             catalog.status().code() != absl::StatusCode::kNotFound) {
    return catalog.status();
  }

  d.month.month = o.month;
  d.month.start = MonthStart(o.month, o.zone);
  d.month.end = MonthStart(o.month + 1, o.zone);
  d.previous.month = o.month - 1;
  d.previous.start = MonthStart(o.month - 1, o.zone);
  d.previous.end = d.month.start;

  std::vector<KpiQuery> queries = {
      Query(o, {KpiDimension::kService}, KpiBucket::kMonth, d.previous.start,
            d.month.end),
      Query(o, {KpiDimension::kService}, KpiBucket::kDay, d.month.start,
            d.month.end),
      Query(o, {KpiDimension::kService, KpiDimension::kPriority},
            KpiBucket::kAll, d.month.start, d.month.end)};
  if (!d.defined) {
    // Known without a catalog entry when a record names it, at any time:
    // every record's first event makes a KPI cell on or before the last
    // record event.
    absl::StatusOr<std::optional<absl::Time>> last =
        engine.LastRecordEventTime();
    if (!last.ok()) return last.status();
    if (last->has_value()) {
      queries.push_back(Query(o, {KpiDimension::kService}, KpiBucket::kAll,
                              absl::InfinitePast(),
                              std::max(d.month.end,
                                       **last + absl::Microseconds(1))));
    }
  }
  absl::StatusOr<std::vector<KpiResult>> results = engine.Kpis(queries);
  if (!results.ok()) return results.status();
  if (!d.defined &&
      (results->size() < 4 || !NamesService((*results)[3], o.service))) {
    return absl::NotFoundError(absl::StrCat(
        "unknown service \"", o.service,
        "\": it is not defined (DefineService) and no incident or change "
        "names it"));
  }

  const KpiResult& months = (*results)[0];
  FillMonth(months, o.service, &d.previous);
  FillMonth(months, o.service, &d.month);
  std::map<std::string, std::map<std::string, SlaCount>> sla;
  const absl::CivilDay first(o.month);
  for (const KpiResultSlaRow& s : months.sla) {
    if (s.dims.service != o.service || s.start != first) continue;
    SlaCount& c = sla[s.policy_id][s.target_type];
    c.met += s.met;
    c.breached += s.breached;
  }
  for (auto& [policy, by_target] : sla) {
    SlaByTarget row;
    row.label = policy;
    row.by_target = std::move(by_target);
    d.sla_by_policy.push_back(std::move(row));
  }

  for (const KpiResultAvailabilityRow& a : (*results)[1].availability) {
    if (a.service != o.service) continue;
    d.days.push_back({a.start, a.agreed_us, a.downtime_us});
  }

  std::map<int, ServicePriorityCount> prio;
  for (const KpiResultRow& row : (*results)[2].rows) {
    if (row.dims.service != o.service) continue;
    if (row.flow.opened == 0 && row.flow.resolved == 0) continue;
    ServicePriorityCount& p = prio[row.dims.priority];
    p.priority = row.dims.priority;
    p.opened += row.flow.opened;
    p.resolved += row.flow.resolved;
  }
  for (const auto& [p, c] : prio) d.by_priority.push_back(c);

  MajorIncidentQuery mq;
  mq.service = o.service;
  mq.from = d.month.start;
  mq.to = d.month.end;
  mq.now = o.now;
  mq.tenant = o.tenant;
  absl::StatusOr<std::vector<MajorIncident>> major = engine.MajorIncidents(mq);
  if (!major.ok()) return major.status();
  d.major_incidents = *std::move(major);
  return d;
}

std::string RenderServiceReportHtml(const ServiceReportData& d,
                                    const ServiceReportOptions& o) {
  const int w = o.chart_width;
  const std::string month = MonthText(d.month.month);
  const std::string service_name =
      d.name.empty() ? d.service : absl::StrCat(d.name, " (", d.service, ")");
  const std::string title =
      o.title.empty()
          ? absl::StrCat("Service review: ", service_name, ", ", month)
          : o.title;
  const absl::TimeZone& zone = o.zone;
  std::string html = absl::StrCat(PageStart(title, w), "<p class=\"note\">");
  if (!o.source.empty()) {
    absl::StrAppend(&html, "Database: ", HtmlEscape(o.source), ". ");
  }
  absl::StrAppend(
      &html, "Service ", HtmlEscape(service_name),
      d.owner.empty() ? "" : absl::StrCat(", owner ", HtmlEscape(d.owner)),
      d.defined ? "" : " (not in the service catalog: known from its records)",
      ". Month ", HtmlEscape(month), ": ",
      HtmlEscape(InstantText(d.month.start, zone)), " to ",
      HtmlEscape(InstantText(d.month.end, zone)), " (end exclusive, time zone ",
      HtmlEscape(d.zone), "). Generated for ",
      HtmlEscape(absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", d.now,
                                  absl::UTCTimeZone())),
      ".</p>\n");
  if (d.now < d.month.end) {
    absl::StrAppend(
        &html,
        Empty(d.now <= d.month.start
                  ? absl::StrCat("The month had not started at the report's "
                                 "time: there is nothing to review yet.")
                  : absl::StrCat("The month is not over at the report's time: "
                                 "figures run up to ",
                                 InstantText(d.now, zone), ".")));
  }

  // 1. Availability.
  {
    std::string body;
    if (d.defined_at.has_value() && d.month.end <= *d.defined_at) {
      body = Empty(absl::StrCat(
          "No availability data for ", month,
          ": the service was defined later, on ",
          InstantText(*d.defined_at, zone), "."));
    } else if (!d.month.has_availability) {
      body = Empty(
          "Availability is not measured for this service: it has no "
          "availability target (DefineService availability_target_percent) "
          "and no priority-1 incident on it is recorded.");
    } else if (d.month.agreed_us <= 0) {
      body = Empty(absl::StrCat("No availability data for ", month,
                                ": no agreed service time before the "
                                "report's time."));
    }
    std::string rows = absl::StrCat(
        Row2("Availability", AvailabilityText(d.previous),
             AvailabilityText(d.month)),
        Row2("Target",
             d.previous.target_percent > 0
                 ? PercentTextDecimals(d.previous.target_percent, 3)
                 : "none",
             d.month.target_percent > 0
                 ? PercentTextDecimals(d.month.target_percent, 3)
                 : "none"),
        Row2("Target met", TargetMetText(d.previous), TargetMetText(d.month)),
        Row2("Agreed service time", Seconds(d.previous.agreed_us),
             Seconds(d.month.agreed_us)),
        Row2("Downtime (priority-1 incidents open)",
             Seconds(d.previous.downtime_us), Seconds(d.month.downtime_us)),
        Row2("Failures (outages starting in the month)",
             absl::StrCat(d.previous.failures),
             absl::StrCat(d.month.failures)),
        Row2("MTBF (service time between failures)", MtbfText(d.previous),
             MtbfText(d.month)));
    if (body.empty()) {
      absl::StrAppend(&body, TwoMonthTable(d, rows));
    }
    LineChart c;
    c.aria_label = "Availability per day against the target";
    c.x_axis_label = absl::StrCat("day (", d.zone, ")");
    c.y_axis_label = "availability, %";
    c.width = w;
    c.height = 300;
    ChartSeries avail{"availability", "#4c78a8", false, {}};
    ChartSeries target{"target", "#d62728", true, {}};
    double lowest = 100;
    for (const ServiceDay& day : d.days) {
      c.x_labels.push_back(absl::FormatCivilTime(day.day));
      std::optional<double> a;
      const bool before_definition =
          d.defined_at.has_value() &&
          absl::FromCivil(day.day + 1, zone) <= *d.defined_at;
      if (day.agreed_us > 0 && !before_definition) {
        a = Ratio(day.agreed_us - day.downtime_us, day.agreed_us, 100);
        lowest = std::min(lowest, *a);
      }
      avail.values.push_back(a);
      std::optional<double> t;
      if (a.has_value() && d.month.target_percent > 0) {
        t = d.month.target_percent;
        lowest = std::min(lowest, *t);
      }
      target.values.push_back(t);
    }
    c.series = {avail};
    if (d.month.target_percent > 0) c.series.push_back(target);
    c.y_max = 100;
    c.y_min = AvailabilityAxisMin(lowest);
    c.y_decimals = *c.y_min >= 99 ? 2 : *c.y_min >= 90 ? 1 : 0;
    absl::StrAppend(
        &html,
        "<section id=\"availability\">\n<h2>Availability</h2>\n<p "
        "class=\"note\">(Agreed service time - downtime) / agreed service "
        "time, where downtime is the time at least one priority-1 incident "
        "on the service was open, both counted in the service's support "
        "calendar (",
        HtmlEscape(d.calendar_id.empty() ? std::string("24x7")
                                         : d.calendar_id),
        "), up to the report's time. The chart shows each day of the month; "
        "the dashed line is the target.</p>\n",
        body, RenderLineChart(c), "</section>\n");
  }

  // 2. SLA compliance per policy and target.
  {
    std::string body;
    if (d.sla_by_policy.empty()) {
      body = Empty(absl::StrCat("No SLA clock of this service reached a final "
                                "state (met or breached) in ",
                                month, "."));
    } else {
      absl::StrAppend(
          &body,
          "<table>\n<tr><th scope=\"col\">policy</th><th scope=\"col\">target"
          "</th><th scope=\"col\">met</th><th scope=\"col\">breached</th>"
          "<th scope=\"col\">compliance</th></tr>\n");
      for (const SlaByTarget& p : d.sla_by_policy) {
        for (const auto& [type, c] : p.by_target) {
          absl::StrAppend(&body, "<tr><th scope=\"row\">",
                          HtmlEscape(p.label), "</th><td>", HtmlEscape(type),
                          "</td><td class=\"num\">", c.met,
                          "</td><td class=\"num\">", c.breached,
                          "</td><td class=\"num\">",
                          PercentText(Compliance(c)), "</td></tr>\n");
        }
      }
      absl::StrAppend(&body, "</table>\n");
    }
    absl::StrAppend(
        &html,
        "<section id=\"sla\">\n<h2>SLA compliance</h2>\n<p class=\"note\">Per "
        "SLA policy and target type: clocks of the service's records that "
        "were met (stopped before the deadline) or breached in the month, by "
        "their stop or breach instant; compliance = met / (met + breached). "
        "Service as the record has it now.</p>\n",
        body,
        RenderBarChart(SlaChart(d.sla_by_policy, "SLA compliance by policy",
                                "SLA policy", w)),
        "</section>\n");
  }

  // 3. Incidents opened and resolved.
  {
    std::string body;
    if (!d.month.HasIncidentData()) {
      body = Empty(absl::StrCat("No incident on this service in ", month,
                                ": none opened, resolved or open."));
    }
    const ServiceMonth* ms[] = {&d.previous, &d.month};
    auto both = [&](auto fn) {
      return std::make_pair(fn(*ms[0]), fn(*ms[1]));
    };
    auto row = [&](absl::string_view name, auto fn) {
      const auto [a, b] = both(fn);
      return Row2(name, a, b);
    };
    std::string rows = absl::StrCat(
        row("Opened",
            [](const ServiceMonth& m) { return absl::StrCat(m.flow.opened); }),
        row("Resolved (transitions)",
            [](const ServiceMonth& m) {
              return absl::StrCat(m.flow.resolved);
            }),
        row("Incidents resolved (by last resolution)",
            [](const ServiceMonth& m) {
              return absl::StrCat(m.flow.resolved_final);
            }),
        row("Reopened",
            [](const ServiceMonth& m) {
              return absl::StrCat(m.flow.reopened);
            }),
        row("Cancelled",
            [](const ServiceMonth& m) {
              return absl::StrCat(m.flow.cancelled);
            }),
        row("Open at the month's end",
            [](const ServiceMonth& m) {
              return absl::StrCat(m.backlog_at_end);
            }),
        row("MTTA (mean, wall clock)",
            [](const ServiceMonth& m) {
              return DurationText(
                  MeanSeconds(m.flow.response_wall_us, m.flow.response_count));
            }),
        row("MTTR (mean, wall clock)",
            [](const ServiceMonth& m) {
              return DurationText(MeanSeconds(m.flow.resolution_wall_us,
                                              m.flow.resolved_final));
            }),
        row("MTTR p50 / p90 (wall clock)", [](const ServiceMonth& m) {
          return absl::StrCat(
              DurationText(QuantileSeconds(m.flow.resolution_wall_sketch, 0.5)),
              " / ",
              DurationText(
                  QuantileSeconds(m.flow.resolution_wall_sketch, 0.9)));
        }));
    absl::StrAppend(&body, TwoMonthTable(d, rows));
    if (!d.by_priority.empty()) {
      absl::StrAppend(&body,
                      "<table>\n<tr><th scope=\"col\">priority</th><th "
                      "scope=\"col\">opened in ",
                      HtmlEscape(month),
                      "</th><th scope=\"col\">resolved (transitions)</th>"
                      "</tr>\n");
      for (const ServicePriorityCount& p : d.by_priority) {
        absl::StrAppend(&body, "<tr><th scope=\"row\">",
                        HtmlEscape(PriorityLabel(p.priority)),
                        "</th><td class=\"num\">", p.opened,
                        "</td><td class=\"num\">", p.resolved, "</td></tr>\n");
      }
      absl::StrAppend(&body, "</table>\n");
    }
    BarChart c;
    c.aria_label = "Incidents opened and resolved, this month and the one "
                   "before";
    c.category_axis_label = "month";
    c.value_axis_label = "incidents";
    c.width = w;
    ChartSeries opened{"opened", "#1f77b4", false, {}};
    ChartSeries resolved{"resolved", "#2ca02c", false, {}};
    for (const ServiceMonth* m : ms) {
      c.labels.push_back(MonthText(m->month));
      opened.values.push_back(static_cast<double>(m->flow.opened));
      resolved.values.push_back(static_cast<double>(m->flow.resolved));
    }
    if (d.previous.flow.opened + d.previous.flow.resolved +
            d.month.flow.opened + d.month.flow.resolved >
        0) {
      c.series = {opened, resolved};
    }
    absl::StrAppend(
        &html,
        "<section id=\"incidents\">\n<h2>Incidents</h2>\n<p "
        "class=\"note\">Incidents on the service opened and resolved "
        "(transitions into Resolved; a reopened incident resolved again "
        "counts again) in the month, next to the month before. Unit: "
        "incidents.</p>\n",
        body, RenderBarChart(c), "</section>\n");
  }

  // 4. Major incidents.
  {
    std::string body;
    if (d.major_incidents.empty()) {
      body = Empty(absl::StrCat(
          "No major (priority-1) incident on this service in ", month, "."));
    } else {
      absl::StrAppend(
          &body,
          "<table>\n<tr><th scope=\"col\">incident</th><th scope=\"col\">"
          "opened</th><th scope=\"col\">resolved</th><th scope=\"col\">"
          "duration (open to resolution)</th><th scope=\"col\">priority 1 "
          "in the month</th><th scope=\"col\">status now</th><th "
          "scope=\"col\">description</th></tr>\n");
      for (const MajorIncident& m : d.major_incidents) {
        std::string resolved = "-";
        std::string duration;
        if (m.resolved_at.has_value()) {
          resolved = InstantText(*m.resolved_at, zone);
          duration = FormatDurationSeconds(
              absl::ToDoubleSeconds(*m.resolved_at - m.opened_at));
        } else if (m.cancelled_at.has_value()) {
          resolved = absl::StrCat("cancelled ",
                                  InstantText(*m.cancelled_at, zone));
          duration = FormatDurationSeconds(
              absl::ToDoubleSeconds(*m.cancelled_at - m.opened_at));
        } else {
          duration = absl::StrCat(
              "ongoing, ",
              FormatDurationSeconds(absl::ToDoubleSeconds(d.now - m.opened_at)),
              " so far");
        }
        absl::StrAppend(
            &body, "<tr><th scope=\"row\">", HtmlEscape(m.incident_id),
            "</th><td>", HtmlEscape(InstantText(m.opened_at, zone)),
            "</td><td>", HtmlEscape(resolved), "</td><td class=\"num\">",
            HtmlEscape(duration), "</td><td class=\"num\">",
            HtmlEscape(FormatDurationSeconds(
                absl::ToDoubleSeconds(m.priority1_in_window))),
            "</td><td>", HtmlEscape(StatusText(m.status)),
            m.priority != 1
                ? HtmlEscape(absl::StrCat(" (now ", PriorityLabel(m.priority),
                                          ")"))
                : "",
            "</td><td>", HtmlEscape(m.short_description), "</td></tr>\n");
      }
      absl::StrAppend(&body, "</table>\n");
    }
    absl::StrAppend(
        &html,
        "<section id=\"major-incidents\">\n<h2>Major incidents</h2>\n<p "
        "class=\"note\">Incidents that were open with priority 1 on the "
        "service at some time in the month: the outages behind the "
        "downtime. Duration: from opening to the latest resolution (wall "
        "clock); priority 1 in the month: the wall-clock time it was open "
        "at priority 1 within the month.</p>\n",
        body, "</section>\n");
  }

  // 5. Changes.
  {
    const KpiFlow& f = d.month.flow;
    std::string body;
    if (f.changes_requested == 0 && f.changes_closed == 0) {
      body = Empty(absl::StrCat("No change on this service was requested or "
                                "closed in ",
                                month, "."));
    }
    const KpiFlow& p = d.previous.flow;
    absl::StrAppend(
        &body,
        TwoMonthTable(
            d,
            absl::StrCat(
                Row2("Requested (of them emergency)",
                     absl::StrCat(p.changes_requested, " (",
                                  p.changes_emergency, ")"),
                     absl::StrCat(f.changes_requested, " (",
                                  f.changes_emergency, ")")),
                Row2("Closed", absl::StrCat(p.changes_closed),
                     absl::StrCat(f.changes_closed)),
                Row2("Successful", absl::StrCat(p.changes_successful),
                     absl::StrCat(f.changes_successful)),
                Row2("Successful with issues",
                     absl::StrCat(p.changes_successful_with_issues),
                     absl::StrCat(f.changes_successful_with_issues)),
                Row2("Failed", absl::StrCat(p.changes_failed),
                     absl::StrCat(f.changes_failed)),
                Row2("Rolled back", absl::StrCat(p.changes_rolled_back),
                     absl::StrCat(f.changes_rolled_back)),
                Row2("Success rate (successful / closed)",
                     PercentText(Ratio(p.changes_successful, p.changes_closed,
                                       100)),
                     PercentText(Ratio(f.changes_successful, f.changes_closed,
                                       100))),
                Row2("Causing incidents (of closed)",
                     absl::StrCat(p.changes_causing_incidents),
                     absl::StrCat(f.changes_causing_incidents)))));
    BarChart c;
    c.aria_label = "Outcomes of the changes closed in the month";
    c.category_axis_label = "outcome";
    c.value_axis_label = "changes closed in the month";
    c.width = w;
    ChartSeries s{"closed", "#4c78a8", false, {}};
    const std::pair<const char*, int64_t> outcomes[] = {
        {"successful", f.changes_successful},
        {"successful with issues", f.changes_successful_with_issues},
        {"failed", f.changes_failed},
        {"rolled back", f.changes_rolled_back}};
    for (const auto& [label, n] : outcomes) {
      c.labels.push_back(label);
      s.values.push_back(static_cast<double>(n));
    }
    if (f.changes_closed > 0) c.series = {s};
    absl::StrAppend(
        &html,
        "<section id=\"changes\">\n<h2>Changes</h2>\n<p class=\"note\">Changes "
        "whose first listed service is this one: requested in the month (by "
        "request time) and closed in the month with an outcome (by close "
        "time).</p>\n",
        body, RenderBarChart(c), "</section>\n");
  }

  // 6. Satisfaction.
  {
    auto sat = [](const ServiceMonth& m) {
      return SatisfactionOf(m.flow.survey_responses, m.flow.survey_satisfied,
                            m.flow.survey_score_sum, m.flow.resolved);
    };
    const Satisfaction a = sat(d.previous), b = sat(d.month);
    std::string body;
    if (d.month.flow.survey_responses == 0) {
      body = Empty(absl::StrCat("No survey response rated a resolution of "
                                "this service in ",
                                month, "."));
    }
    auto score = [](const std::optional<double>& v) {
      return v.has_value() ? FormatNumber(*v, 2) : std::string("-");
    };
    absl::StrAppend(
        &body,
        TwoMonthTable(
            d, absl::StrCat(
                   Row2("Survey responses",
                        absl::StrCat(d.previous.flow.survey_responses),
                        absl::StrCat(d.month.flow.survey_responses)),
                   Row2("CSAT (scores 4-5 / responses)",
                        PercentText(a.csat_percent),
                        PercentText(b.csat_percent)),
                   Row2("Average score (1-5)", score(a.average_score),
                        score(b.average_score)),
                   Row2("Response rate (responses / resolutions)",
                        PercentText(a.response_rate_percent),
                        PercentText(b.response_rate_percent)))));
    BarChart c;
    c.aria_label = "CSAT and survey response rate, this month and the one "
                   "before";
    c.category_axis_label = "month";
    c.value_axis_label = "%";
    c.x_max = 100;
    c.decimals = 1;
    c.value_suffix = "%";
    c.width = w;
    ChartSeries csat{"CSAT", "#e45756", false, {}};
    ChartSeries rate{"response rate", "#72b7b2", false, {}};
    const ServiceMonth* ms[] = {&d.previous, &d.month};
    for (const ServiceMonth* m : ms) {
      const Satisfaction s = sat(*m);
      c.labels.push_back(MonthText(m->month));
      csat.values.push_back(s.csat_percent);
      rate.values.push_back(m->flow.survey_responses > 0
                                ? s.response_rate_percent
                                : std::nullopt);
    }
    c.series = {csat, rate};
    absl::StrAppend(
        &html,
        "<section id=\"satisfaction\">\n<h2>Customer satisfaction</h2>\n<p "
        "class=\"note\">Survey responses (scores 1 to 5) by the month of the "
        "resolution they rate. CSAT = responses scoring 4 or 5 / responses; "
        "response rate = responses / resolutions.</p>\n",
        body, RenderBarChart(c), "</section>\n");
  }

  // 7. Requests.
  {
    const KpiFlow& f = d.month.flow;
    std::string body;
    if (f.requests_opened == 0 && f.requests_fulfilled == 0) {
      body = Empty(absl::StrCat("No service request on this service was "
                                "submitted or fulfilled in ",
                                month, "."));
    }
    const ServiceMonth* ms[] = {&d.previous, &d.month};
    auto row = [&](absl::string_view name, auto fn) {
      return Row2(name, fn(*ms[0]), fn(*ms[1]));
    };
    auto count = [](int64_t KpiFlow::*field) {
      return [field](const ServiceMonth& m) {
        return absl::StrCat(m.flow.*field);
      };
    };
    // "EUR 1700.00; USD 20.00" (minor units / 100); "-" for none.
    auto cost = [](const ServiceMonth& m) {
      std::vector<std::string> parts;
      for (const auto& [currency, cents] : m.flow.request_cost_cents) {
        parts.push_back(absl::StrCat(
            currency.empty() ? "(no currency)" : currency, " ",
            FormatNumber(static_cast<double>(cents) / 100, 2)));
      }
      return parts.empty() ? std::string("-") : absl::StrJoin(parts, "; ");
    };
    absl::StrAppend(
        &body,
        TwoMonthTable(
            d,
            absl::StrCat(
                row("Submitted", count(&KpiFlow::requests_opened)),
                row("Approved (approval complete)",
                    count(&KpiFlow::requests_approved)),
                row("Mean approval time (wall clock)",
                    [](const ServiceMonth& m) {
                      return DurationText(
                          MeanSeconds(m.flow.request_approval_wall_us,
                                      m.flow.requests_approved));
                    }),
                row("Rejected", count(&KpiFlow::requests_rejected)),
                row("Cancelled", count(&KpiFlow::requests_cancelled)),
                row("Fulfilled", count(&KpiFlow::requests_fulfilled)),
                row("Mean fulfilment time (wall clock)",
                    [](const ServiceMonth& m) {
                      return DurationText(
                          MeanSeconds(m.flow.request_fulfilment_wall_us,
                                      m.flow.requests_fulfilled));
                    }),
                row("Mean fulfilment time (business time)",
                    [](const ServiceMonth& m) {
                      return DurationText(
                          MeanSeconds(m.flow.request_fulfilment_business_us,
                                      m.flow.requests_fulfilled));
                    }),
                row("Cost of the fulfilled requests", cost),
                row("Request CSAT (scores 4-5 / responses)",
                    [](const ServiceMonth& m) {
                      return PercentText(
                          Ratio(m.flow.request_survey_satisfied,
                                m.flow.request_survey_responses, 100));
                    }))));
    absl::StrAppend(
        &html,
        "<section id=\"requests\">\n<h2>Service requests</h2>\n<p "
        "class=\"note\">Requests ordering this service's catalog items: "
        "submitted in the month (by submission), approved by the approval "
        "that completed them, fulfilled in the month with their cost (the "
        "catalog prices they were ordered at, per currency) and the survey "
        "responses rating them (by fulfilment).</p>\n",
        body, "</section>\n", PageEnd());
  }
  return html;
}

}  // namespace slate::report
