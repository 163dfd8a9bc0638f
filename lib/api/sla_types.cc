#include "lib/api/sla_types.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "lib/api/types.h"

namespace slate {

// --- Formatting -------------------------------------------------------------

namespace {

std::string Dur(int64_t us) {
  return absl::FormatDuration(absl::Microseconds(us));
}


std::string Local(absl::Time t, const std::string& zone) {
  absl::TimeZone tz;
  if (!absl::LoadTimeZone(zone, &tz)) tz = absl::UTCTimeZone();
  return absl::FormatTime("%a %Y-%m-%d %H:%M %Z", t, tz);
}

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d%ET%H:%M:%E*SZ", t, absl::UTCTimeZone());
}

std::string Seconds(absl::Duration d) {
  return absl::StrFormat("%.6f", absl::ToDoubleSeconds(d));
}

std::string StatusName(const SlaClockState& s) {
  switch (s.status()) {
    case SLA_CLOCK_STATUS_NOT_STARTED:
      return "not started";
    case SLA_CLOCK_STATUS_RUNNING:
      return "running";
    case SLA_CLOCK_STATUS_PAUSED:
      return "paused";
    case SLA_CLOCK_STATUS_MET:
      return "met";
    case SLA_CLOCK_STATUS_BREACHED:
      return s.phase() == SLA_CLOCK_PHASE_RUNNING   ? "breached, running"
             : s.phase() == SLA_CLOCK_PHASE_PAUSED  ? "breached, paused"
             : s.phase() == SLA_CLOCK_PHASE_STOPPED ? "breached, stopped"
                                                    : "breached";
    default:
      return s.phase() == SLA_CLOCK_PHASE_CANCELLED ? "cancelled" : "unknown";
  }
}

void Text(const SlaClockExplanation& x, std::string* out) {
  const SlaClockState& c = x.clock.state;
  const std::string& z = x.time_zone;
  absl::StrAppend(out, x.clock.record, "  policy ", x.clock.policy_id, "  ",
                  x.clock.target_type, "  cycle ", x.clock.cycle,
                  "  calendar ", x.calendar, " (", z, ")\n");
  absl::StrAppend(out, "  ", StatusName(c), "; target ", Dur(c.target_us()),
                  x.target_rule.empty()
                      ? std::string()
                      : absl::StrCat(" (", x.target_rule, " from the start)"),
                  "; business time used ", Dur(c.business_elapsed_us()),
                  absl::StrFormat(" (%.1f%%)", c.percent_used()), "; paused ",
                  Dur(c.paused_us()), " (wall time, not counted)\n");
  if (c.has_deadline_us()) {
    const int64_t rest = c.target_us() - c.business_elapsed_us();
    absl::StrAppend(
        out, "  deadline ", Local(absl::FromUnixMicros(c.deadline_us()), z),
        rest > 0 && c.phase() == SLA_CLOCK_PHASE_RUNNING && c.has_observed_at_us()
            ? absl::StrCat(": target ", Dur(c.target_us()), " - used ",
                           Dur(c.business_elapsed_us()), " = ", Dur(rest),
                           " more business time from ",
                           Local(absl::FromUnixMicros(c.observed_at_us()), z))
            : "",
        "\n");
  }
  absl::StrAppend(out, "  timeline:\n");
  for (const SlaClockStep& s : x.steps) {
    absl::StrAppendFormat(out, "    #%-6d %s  %-24s %-10s %s\n", s.position,
                          Local(s.at, z), s.event, s.action, s.detail);
  }
  absl::StrAppend(out, "  business time (", Dur(absl::ToInt64Microseconds(
                                                 x.business_counted)),
                  " in ", x.windows.size(),
                  x.windows_truncated ? "+ windows, list cut" : " windows",
                  "):\n");
  for (const SlaBusinessWindow& w : x.windows) {
    for (const std::string& d : w.skipped_days) {
      absl::StrAppend(out, "    (skipped ", d, ")\n");
    }
    absl::StrAppend(out, "    ", Local(w.start, z), " - ", Local(w.end, z),
                    "  ", Dur(absl::ToInt64Microseconds(w.counted)),
                    w.dst_change.empty()
                        ? ""
                        : absl::StrCat("  (UTC offset ", w.dst_change, ")"),
                    "\n");
  }
  if (x.replayed_unlisted > absl::ZeroDuration()) {
    absl::StrAppend(out, "    + ",
                    Dur(absl::ToInt64Microseconds(x.replayed_unlisted)),
                    " counted when the policy attached late (replayed over "
                    "pauses)\n");
  }
  absl::StrAppend(out, "  thresholds:\n");
  for (const SlaThresholdDue& d : x.thresholds) {
    absl::StrAppend(
        out, "    ",
        d.percent >= 100 ? std::string("breach")
        : d.before > absl::ZeroDuration()
            ? absl::StrCat("warning ", Dur(absl::ToInt64Microseconds(d.before)),
                           " before the deadline")
            : absl::StrFormat("%g%% warning", d.percent),
        " at ", Dur(absl::ToInt64Microseconds(d.business)),
        " of business time: ", d.fired ? "fired, " : "",
        d.due.has_value() ? absl::StrCat("due ", Local(*d.due, z))
        : c.phase() == SLA_CLOCK_PHASE_PAUSED
            ? std::string("due when the clock runs again")
            : std::string("not reached"),
        "\n");
  }
}

void Json(const SlaClockExplanation& x, std::string* out) {
  const SlaClockState& c = x.clock.state;
  std::vector<std::string> steps, windows, thresholds;
  for (const SlaClockStep& s : x.steps) {
    steps.push_back(absl::StrCat(
        "{\"position\":", s.position, ",\"at\":", JsonQuote(Rfc3339(s.at)),
        ",\"event\":", JsonQuote(s.event), ",\"action\":",
        JsonQuote(s.action), ",\"detail\":", JsonQuote(s.detail), "}"));
  }
  for (const SlaBusinessWindow& w : x.windows) {
    std::vector<std::string> skipped;
    for (const std::string& d : w.skipped_days) skipped.push_back(JsonQuote(d));
    windows.push_back(absl::StrCat(
        "{\"start\":", JsonQuote(Rfc3339(w.start)),
        ",\"end\":", JsonQuote(Rfc3339(w.end)),
        ",\"counted_seconds\":", Seconds(w.counted), ",\"skipped_days\":[",
        absl::StrJoin(skipped, ","), "],\"dst_change\":",
        JsonQuote(w.dst_change), "}"));
  }
  for (const SlaThresholdDue& d : x.thresholds) {
    thresholds.push_back(absl::StrCat(
        "{\"percent\":", absl::StrFormat("%g", d.percent),
        ",\"before_seconds\":", Seconds(d.before),
        ",\"business_seconds\":", Seconds(d.business),
        ",\"fired\":", d.fired ? "true" : "false", ",\"due\":",
        d.due.has_value() ? JsonQuote(Rfc3339(*d.due)) : "null", "}"));
  }
  absl::StrAppend(
      out, "{\"record\":", JsonQuote(x.clock.record),
      ",\"policy\":", JsonQuote(x.clock.policy_id),
      ",\"metric\":", JsonQuote(x.clock.target_type),
      ",\"cycle\":", x.clock.cycle, ",\"calendar\":", JsonQuote(x.calendar),
      ",\"time_zone\":", JsonQuote(x.time_zone),
      ",\"status\":", JsonQuote(StatusName(c)),
      ",\"target_seconds\":", Seconds(absl::Microseconds(c.target_us())),
      ",\"target_rule\":", JsonQuote(x.target_rule),
      ",\"business_elapsed_seconds\":",
      Seconds(absl::Microseconds(c.business_elapsed_us())),
      ",\"paused_seconds\":", Seconds(absl::Microseconds(c.paused_us())),
      ",\"deadline\":",
      c.has_deadline_us()
          ? JsonQuote(Rfc3339(absl::FromUnixMicros(c.deadline_us())))
          : "null",
      ",\"business_counted_seconds\":", Seconds(x.business_counted),
      ",\"replayed_unlisted_seconds\":", Seconds(x.replayed_unlisted),
      ",\"windows_truncated\":", x.windows_truncated ? "true" : "false",
      ",\"steps\":[", absl::StrJoin(steps, ","), "],\"windows\":[",
      absl::StrJoin(windows, ","), "],\"thresholds\":[",
      absl::StrJoin(thresholds, ","), "]}\n");
}

}  // namespace

std::string SlaClockVerdict(const SlaClockState& c, absl::Time as_of) {
  const int64_t as_of_us = absl::ToUnixMicros(as_of);
  switch (c.status()) {
    case SLA_CLOCK_STATUS_MET:
      return "met";
    case SLA_CLOCK_STATUS_BREACHED:
      return "breached";
    case SLA_CLOCK_STATUS_RUNNING:
      return c.has_deadline_us() && c.deadline_us() <= as_of_us ? "breached"
                                                                 : "open";
    case SLA_CLOCK_STATUS_PAUSED:
      return "open";
    default:
      return c.phase() == SLA_CLOCK_PHASE_CANCELLED ? "cancelled" : "open";
  }
}

std::string FormatSlaWhatIf(const SlaWhatIfReport& r,
                            absl::string_view format) {
  auto pct = [](int64_t met, int64_t breached) {
    return met + breached == 0
               ? std::string("-")
               : absl::StrFormat("%.1f%%", 100.0 * static_cast<double>(met) /
                                               static_cast<double>(met +
                                                                   breached));
  };
  std::string out;
  if (format == "json") {
    std::vector<std::string> rows, flips;
    for (const SlaWhatIfRow& w : r.rows) {
      rows.push_back(absl::StrCat(
          "{\"policy\":", JsonQuote(w.policy_id), ",\"target\":",
          JsonQuote(w.target_type), ",\"key\":", JsonQuote(w.key),
          ",\"before_met\":", w.before_met, ",\"before_breached\":",
          w.before_breached, ",\"after_met\":", w.after_met,
          ",\"after_breached\":", w.after_breached, ",\"flips\":", w.flips,
          "}"));
    }
    for (const SlaWhatIfFlip& f : r.flips) {
      flips.push_back(absl::StrCat(
          "{\"record\":", JsonQuote(f.record), ",\"policy\":",
          JsonQuote(f.policy_id), ",\"target\":", JsonQuote(f.target_type),
          ",\"cycle\":", f.cycle, ",\"before\":", JsonQuote(f.before),
          ",\"after\":", JsonQuote(f.after), ",\"why\":", JsonQuote(f.why),
          "}"));
    }
    return absl::StrCat("{\"as_of\":", JsonQuote(Rfc3339(r.as_of)),
                        ",\"flipped\":", r.flipped, ",\"rows\":[",
                        absl::StrJoin(rows, ","), "],\"flips\":[",
                        absl::StrJoin(flips, ","), "]}\n");
  }
  const bool csv = format == "csv";
  const char* sep = csv ? "," : "\t";
  absl::StrAppend(&out,
                  absl::StrJoin({"policy", "target", "key", "before_met",
                                 "before_breached", "before_compliance",
                                 "after_met", "after_breached",
                                 "after_compliance", "flips"},
                                sep),
                  "\n");
  for (const SlaWhatIfRow& w : r.rows) {
    absl::StrAppend(
        &out,
        absl::StrJoin({w.policy_id, w.target_type,
                       w.key.empty() ? std::string("-") : w.key,
                       absl::StrCat(w.before_met),
                       absl::StrCat(w.before_breached),
                       pct(w.before_met, w.before_breached),
                       absl::StrCat(w.after_met), absl::StrCat(w.after_breached),
                       pct(w.after_met, w.after_breached),
                       absl::StrCat(w.flips)},
                      sep),
        "\n");
  }
  if (!csv) {
    absl::StrAppend(&out, "as of ", Rfc3339(r.as_of), ": ", r.flipped,
                    " clock(s) change verdict\n");
    for (const SlaWhatIfFlip& f : r.flips) {
      absl::StrAppend(&out, "  ", f.record, " ", f.policy_id, " ",
                      f.target_type, " cycle ", f.cycle, ": ", f.before,
                      " -> ", f.after, " (", f.why, ")\n");
    }
  }
  return out;
}

std::string FormatSlaExplanations(const std::vector<SlaClockExplanation>& ex,
                                  bool json) {
  std::string out;
  for (size_t i = 0; i < ex.size(); ++i) {
    if (json) {
      Json(ex[i], &out);
    } else {
      if (i > 0) out += "\n";
      Text(ex[i], &out);
    }
  }
  return out;
}

}  // namespace slate
