#include "lib/projection/sla_explain.h"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "lib/api/tenant.h"
#include "lib/base/status_macros.h"
#include "lib/calendar/business_calendar.h"
#include "lib/projection/memory_state.h"
#include "lib/projection/sla_projection.h"
#include "lib/sla/sla_clock.h"
#include "proto/calendar.pb.h"
#include "proto/sla.pb.h"

namespace slate {
namespace {

// The type of an event's payload ("incident_on_hold").
std::string PayloadName(const Envelope& e) {
  const auto* oneof = e.GetDescriptor()->FindOneofByName("payload");
  const auto* which =
      oneof == nullptr ? nullptr
                       : e.GetReflection()->GetOneofFieldDescriptor(e, oneof);
  return which == nullptr ? std::string("unknown") : which->name();
}

absl::Status ReadWholeStream(const EventLog& log, const std::string& stream,
                             std::vector<Envelope>* out) {
  int64_t from = 0;
  while (true) {
    SLATE_ASSIGN_OR_RETURN(std::vector<Envelope> page,
                           log.ReadStream(stream, from, 4096));
    if (page.empty()) return absl::OkStatus();
    from = page.back().version() + 1;
    for (Envelope& e : page) out->push_back(std::move(e));
  }
}

std::string KeyOf(const SlaClockView& v) {
  return SlaClockKey(v.record, v.policy_id, v.state.metric(), v.cycle);
}

std::string Dur(int64_t us) {
  return absl::FormatDuration(absl::Microseconds(us));
}

// What the fold saw of one clock.
struct Track {
  std::vector<SlaClockStep> steps;
  std::vector<std::pair<absl::Time, absl::Time>> stretches;  // Running.
  absl::Duration unlisted;
  // Warning index -> the instant it was crossed.
  std::map<int, absl::Time> warning_at;
};

// The policy's calendar, null for 24x7.
struct PolicyCalendar {
  std::string id = "24x7";
  std::shared_ptr<const BusinessCalendar> cal;
  CalendarSpec spec;
};

// An instant in the calendar's zone, as the explanation's text shows it.
std::string LocalTime(const PolicyCalendar& pc, absl::Time t) {
  return absl::FormatTime("%a %Y-%m-%d %H:%M %Z", t,
                          pc.cal == nullptr ? absl::UTCTimeZone()
                                            : pc.cal->zone());
}

absl::Duration BetweenIn(const PolicyCalendar& pc, absl::Time a,
                         absl::Time b) {
  return pc.cal == nullptr ? b - a : pc.cal->Between(a, b);
}

// The instant the stretches so far reach `threshold` of business time;
// nullopt if they do not, or if a replay not broken down comes first.
std::optional<absl::Time> Crossing(const PolicyCalendar& pc, const Track& t,
                                   absl::Duration threshold) {
  if (t.unlisted > absl::ZeroDuration()) return std::nullopt;
  absl::Duration cum;
  for (const auto& [a, b] : t.stretches) {
    const absl::Duration counted = BetweenIn(pc, a, b);
    if (threshold > cum && threshold <= cum + counted) {
      if (pc.cal == nullptr) return a + (threshold - cum);
      absl::StatusOr<absl::Time> at = pc.cal->Add(a, threshold - cum);
      if (!at.ok()) return std::nullopt;
      return *at;
    }
    cum += counted;
  }
  return std::nullopt;
}

// A stored clock's relative target as the policy wrote it.
std::string RelativeText(const SlaClockState& c) {
  return SlaRelativeTargetText(SlaRelativeTargetOf(c.relative_target()));
}

void AddStep(Track& t, const Envelope& e, std::string action,
             std::string detail) {
  SlaClockStep s;
  s.position = e.position();
  s.at = absl::FromUnixMicros(e.occurred_at_us());
  s.event = PayloadName(e);
  s.action = std::move(action);
  s.detail = std::move(detail);
  t.steps.push_back(std::move(s));
}

// The warnings from index `from` that `cur` has reached: a step each, and
// the instant the stretches cross it (under the target then in force), or
// the event's own instant for the SLA warning event that fired it.
void Warnings(int from, const SlaClockView& cur, const PolicyCalendar& pc,
              const Envelope& e, Track& t) {
  const SlaClockState& c = cur.state;
  for (int i = from; i < c.warnings_reached(); ++i) {
    if (i >= SlaThresholdCount(c)) break;
    const absl::Duration threshold = SlaThresholdAt(c, i);
    std::optional<absl::Time> at = Crossing(pc, t, threshold);
    if (at.has_value() && c.target_history_size() > 0) {
      // A retarget that put the clock over the threshold fires it then.
      *at = std::max(*at, absl::FromUnixMicros(
                              c.target_history(c.target_history_size() - 1)
                                  .at_us()));
    }
    if (!at.has_value() && e.has_sla_warning() &&
        e.sla_warning().threshold_index() == i) {
      at = absl::FromUnixMicros(e.occurred_at_us());
    }
    if (at.has_value()) t.warning_at[i] = *at;
    AddStep(t, e, "warning",
            absl::StrFormat(
                "%s %s reached (%s of business time)%s",
                SlaThresholdLabel(c, i),
                absl::StrCat(c.warning_before_us_size() > 0
                                 ? "the deadline of "
                                 : "of ",
                             Dur(c.target_us())),
                Dur(absl::ToInt64Microseconds(threshold)),
                at.has_value() ? absl::StrCat(" at ", LocalTime(pc, *at))
                               : std::string()));
  }
}

void CancelledStep(const SlaClockState& c, const PolicyCalendar& pc,
                   const Envelope& e, Track& t) {
  AddStep(t, e, "cancelled",
          c.cancel_reason().empty()
              ? std::string("no verdict for this cycle")
              : absl::StrCat(
                    c.cancel_reason(), " at ",
                    LocalTime(pc, absl::FromUnixMicros(c.cancelled_at_us())),
                    "; no verdict for this cycle"));
}

// The steps and running stretches between two states of one clock.
void Diff(const std::optional<SlaClockView>& prev, const SlaClockView& cur,
          const PolicyCalendar& pc, const Envelope& e, Track& t) {
  const SlaClockState& c = cur.state;
  const absl::Time at = absl::FromUnixMicros(e.occurred_at_us());
  auto started = [](const SlaClockState& s) { return s.has_started_at_us(); };
  if (!prev.has_value() || !started(prev->state)) {
    if (!started(c)) {
      if (!prev.has_value()) {
        AddStep(t, e, "attached", "waiting for its start condition");
      }
      return;
    }
    const absl::Time start = absl::FromUnixMicros(c.started_at_us());
    if (cur.cycle > 1 && !prev.has_value()) {
      AddStep(t, e, "reopened",
              absl::StrCat("cycle ", cur.cycle, ", target ",
                           Dur(c.target_us())));
    } else if (start < at) {
      AddStep(t, e, "attached",
              absl::StrCat("the policy applies from here; counted from its "
                           "start condition at ",
                           LocalTime(pc, start), ", target ",
                           Dur(c.target_us())));
    } else {
      AddStep(t, e, "started",
              absl::StrCat("target ", Dur(c.target_us()), " (",
                           c.has_relative_target()
                               ? absl::StrCat(RelativeText(c), " from ",
                                              LocalTime(pc, start), ", ")
                               : std::string(),
                           "priority ", cur.priority, ")"));
    }
    // Business time counted up to here (a replay when attached late).
    const absl::Time observed = absl::FromUnixMicros(c.observed_at_us());
    const absl::Duration elapsed = absl::Microseconds(c.business_elapsed_us());
    if (c.paused_us() == 0 && BetweenIn(pc, start, observed) == elapsed) {
      if (observed > start) t.stretches.emplace_back(start, observed);
    } else {
      t.unlisted += elapsed;
    }
    Warnings(0, cur, pc, e, t);
    // Ended in the same fold (a retirement after the record's last event).
    if (c.phase() == SLA_CLOCK_PHASE_CANCELLED) CancelledStep(c, pc, e, t);
  } else {
    const SlaClockState& p = prev->state;
    const absl::Duration delta =
        absl::Microseconds(c.business_elapsed_us() - p.business_elapsed_us());
    const absl::Time from = absl::FromUnixMicros(p.observed_at_us());
    const absl::Time to = absl::FromUnixMicros(c.observed_at_us());
    if (p.phase() == SLA_CLOCK_PHASE_RUNNING && to > from &&
        BetweenIn(pc, from, to) == delta) {
      t.stretches.emplace_back(from, to);
    } else if (delta != absl::ZeroDuration()) {
      t.unlisted += delta;
    }
    if (c.target_us() != p.target_us()) {
      std::string why;
      if (c.target_history_size() > 0) {
        why = c.target_history(c.target_history_size() - 1).reason();
      }
      AddStep(t, e, "retargeted",
              absl::StrCat("target ", Dur(p.target_us()), " -> ",
                           Dur(c.target_us()),
                           why.empty() ? "" : absl::StrCat(" (", why, ")"),
                           "; business time used stays ",
                           Dur(c.business_elapsed_us())));
    }
    Warnings(p.warnings_reached(), cur, pc, e, t);
    if (c.has_breached_at_us() && !p.has_breached_at_us()) {
      AddStep(t, e, "breached",
              absl::StrCat("the target ", Dur(c.target_us()),
                           " was used up at ",
                           LocalTime(pc, absl::FromUnixMicros(
                                             c.breached_at_us()))));
    }
    if (c.phase() != p.phase()) {
      switch (c.phase()) {
        case SLA_CLOCK_PHASE_PAUSED:
          AddStep(t, e, "paused",
                  c.pause_reason().empty()
                      ? std::string("the policy's pause condition holds")
                      : absl::StrCat("reason: ", c.pause_reason()));
          break;
        case SLA_CLOCK_PHASE_RUNNING:
          if (p.phase() == SLA_CLOCK_PHASE_PAUSED) {
            AddStep(t, e, "resumed",
                    absl::StrCat("paused ",
                                 Dur(c.paused_us() - p.paused_us()),
                                 " (wall time), not counted"));
          } else {
            AddStep(t, e, "reopened", "the same cycle runs on");
          }
          break;
        case SLA_CLOCK_PHASE_STOPPED:
          AddStep(t, e, "stopped",
                  c.status() == SLA_CLOCK_STATUS_MET
                      ? absl::StrCat("met: ", Dur(c.business_elapsed_us()),
                                     " of ", Dur(c.target_us()), " used")
                      : absl::StrCat("breached and completed: ",
                                     Dur(c.business_elapsed_us()), " of ",
                                     Dur(c.target_us()), " used"));
          break;
        case SLA_CLOCK_PHASE_CANCELLED:
          CancelledStep(c, pc, e, t);
          break;
        default:
          break;
      }
    }
  }
}

// Local days strictly between two instants with no open time.
std::vector<std::string> SkippedDays(const PolicyCalendar& pc, absl::Time a,
                                     absl::Time b) {
  std::vector<std::string> out;
  if (pc.cal == nullptr) return out;
  const absl::TimeZone tz = pc.cal->zone();
  std::set<std::string> holidays;
  for (const auto& h : pc.spec.holidays()) {
    if (h.start().empty() && h.end().empty()) holidays.insert(h.date());
  }
  const absl::CivilDay first = absl::ToCivilDay(a, tz) + 1;
  const absl::CivilDay last = absl::ToCivilDay(b, tz);
  for (absl::CivilDay d = first; d < last && out.size() < 366; ++d) {
    const std::string date = absl::FormatCivilTime(d);
    out.push_back(absl::StrCat(date, holidays.count(date) ? " holiday"
                                                          : " closed"));
  }
  return out;
}

std::string Offset(absl::Time t, const absl::TimeZone& tz) {
  return absl::FormatTime("%Ez", t, tz);
}

void Windows(const PolicyCalendar& pc, const Track& t,
             SlaClockExplanation& x) {
  // Stretches that touch (the clock ran on across an event) are one.
  std::vector<std::pair<absl::Time, absl::Time>> stretches;
  for (const auto& s : t.stretches) {
    if (!stretches.empty() && stretches.back().second == s.first) {
      stretches.back().second = s.second;
    } else {
      stretches.push_back(s);
    }
  }
  absl::Time last_end = absl::InfinitePast();
  for (const auto& [a, b] : stretches) {
    x.business_counted += BetweenIn(pc, a, b);
    if (x.windows.size() >= kMaxExplainWindows) {
      x.windows_truncated = true;
      continue;
    }
    std::vector<std::pair<absl::Time, absl::Time>> open;
    if (pc.cal == nullptr) {
      open.emplace_back(a, b);
    } else {
      open = pc.cal->OpenIntervals(a, b,
                                   kMaxExplainWindows - x.windows.size() + 1);
    }
    for (const auto& [s, e] : open) {
      if (x.windows.size() >= kMaxExplainWindows) {
        x.windows_truncated = true;
        break;
      }
      SlaBusinessWindow w;
      w.start = s;
      w.end = e;
      w.counted = e - s;
      if (last_end != absl::InfinitePast()) {
        w.skipped_days = SkippedDays(pc, last_end, s);
      }
      if (pc.cal != nullptr) {
        const std::string before = Offset(s, pc.cal->zone());
        const std::string after =
            Offset(e - absl::Microseconds(1), pc.cal->zone());
        if (before != after) w.dst_change = absl::StrCat(before, " -> ", after);
      }
      last_end = e;
      x.windows.push_back(std::move(w));
    }
  }
}

void Thresholds(const PolicyCalendar& pc, const Track& t,
                SlaClockExplanation& x) {
  const SlaClockState& c = x.clock.state;
  const int n = SlaThresholdCount(c);
  const absl::Duration target = absl::Microseconds(c.target_us());
  const absl::Duration elapsed = absl::Microseconds(c.business_elapsed_us());
  for (int i = 0; i <= n; ++i) {
    SlaThresholdDue d;
    const bool breach = i == n;
    if (breach) {
      d.percent = 100;
    } else if (c.warning_before_us_size() > 0) {
      d.before = absl::Microseconds(c.warning_before_us(i));
    } else {
      d.percent = c.warning_thresholds_percent(i);
    }
    d.business = breach ? target : SlaThresholdAt(c, i);
    d.fired = breach ? c.has_breached_at_us()
                     : i < c.warnings_reached();
    if (breach && c.has_breached_at_us()) {
      d.due = absl::FromUnixMicros(c.breached_at_us());
    } else if (d.fired) {
      // Crossed under the target in force then (see Warnings).
      auto it = t.warning_at.find(i);
      if (it != t.warning_at.end()) d.due = it->second;
    } else if (c.phase() == SLA_CLOCK_PHASE_RUNNING &&
               c.has_observed_at_us()) {
      const absl::Time observed = absl::FromUnixMicros(c.observed_at_us());
      const absl::Duration rest = d.business - elapsed;
      if (pc.cal == nullptr) {
        d.due = observed + rest;
      } else if (auto due = pc.cal->Add(observed, rest); due.ok()) {
        d.due = *due;
      }
    }
    x.thresholds.push_back(d);
  }
}

// The calendar of the policy version a clock of `record` counts under
// (version_from_us, SlaClockView::policy_version_from_us), else of the
// latest definition, in the record's tenant's configuration (its own
// policy and calendar of the id, else the default tenant's).
absl::StatusOr<PolicyCalendar> CalendarOf(const ProjectionRunner& runner,
                                          absl::string_view record,
                                          const std::string& policy_id,
                                          int64_t version_from_us = 0) {
  PolicyCalendar pc;
  SlaPolicy policy;
  const absl::string_view tenant = StreamTenant(record);
  // Whose policy of this id the tenant counts under.
  std::string owner;
  if (tenant != kDefaultTenant) {
    SLATE_ASSIGN_OR_RETURN(
        std::optional<std::string> own,
        runner.Get(SlaProjection::kName,
                   SlaConfigKey(tenant, absl::StrCat("pol/", policy_id))));
    if (own.has_value()) owner = std::string(tenant);
  }
  std::optional<std::string> version;
  if (version_from_us != 0) {
    SLATE_ASSIGN_OR_RETURN(
        version,
        runner.Get(SlaProjection::kName,
                   SlaConfigKey(owner, SlaPolicyVersionKey(
                                           policy_id, absl::FromUnixMicros(
                                                          version_from_us)))));
  }
  if (version.has_value()) {
    SlaPolicyDefined defined;
    if (!defined.ParseFromString(*version)) {
      return absl::DataLossError(absl::StrCat(
          "sla projection: a version of policy \"", policy_id,
          "\" is undecodable"));
    }
    policy = std::move(*defined.mutable_policy());
  } else {
    SLATE_ASSIGN_OR_RETURN(
        std::optional<std::string> pol,
        runner.Get(SlaProjection::kName,
                   SlaConfigKey(owner, absl::StrCat("pol/", policy_id))));
    if (!pol.has_value()) return pc;
    if (!policy.ParseFromString(*pol)) {
      return absl::DataLossError(absl::StrCat(
          "sla projection: policy \"", policy_id, "\" is undecodable"));
    }
  }
  if (policy.calendar_id().empty() || policy.calendar_id() == "24x7") {
    return pc;
  }
  pc.id = policy.calendar_id();
  const std::string cal_key = absl::StrCat("cal/", pc.id);
  std::optional<std::string> cal;
  if (tenant != kDefaultTenant) {
    SLATE_ASSIGN_OR_RETURN(
        cal, runner.Get(SlaProjection::kName, SlaConfigKey(tenant, cal_key)));
  }
  if (!cal.has_value()) {
    SLATE_ASSIGN_OR_RETURN(cal, runner.Get(SlaProjection::kName, cal_key));
  }
  if (!cal.has_value() || !pc.spec.ParseFromString(*cal)) {
    return absl::DataLossError(absl::StrCat("sla projection: calendar \"",
                                            pc.id, "\" of policy \"",
                                            policy_id, "\" is not stored"));
  }
  SLATE_ASSIGN_OR_RETURN(pc.cal, BusinessCalendar::FromSpec(pc.spec));
  return pc;
}

bool Matches(const SlaClockView& v, const SlaExplainFilter& f) {
  return (f.policy_id.empty() || v.policy_id == f.policy_id) &&
         (f.target_type.empty() || v.target_type == f.target_type) &&
         (f.cycle == 0 || v.cycle == f.cycle);
}

}  // namespace

absl::StatusOr<std::vector<SlaClockExplanation>> ExplainClocks(
    const ProjectionRunner& runner, const EventLog& log,
    absl::string_view record, const SlaExplainFilter& filter,
    absl::string_view tenant) {
  SLATE_ASSIGN_OR_RETURN(std::vector<std::string> candidates,
                         SlaRecordStreams(record, tenant));
  std::string stream;
  for (const std::string& s : candidates) {
    SLATE_ASSIGN_OR_RETURN(int64_t v, log.StreamVersion(s));
    if (v >= 0) {
      stream = s;
      break;
    }
  }
  if (stream.empty()) {
    return absl::NotFoundError(
        absl::StrCat("explain: no record \"", record, "\" in the log"));
  }

  // A scratch SLA projection with the definitions in force: the default
  // tenant's and the record's tenant's.
  MemoryState scratch(&log);
  std::vector<std::string> owners = {""};
  if (StreamTenant(stream) != kDefaultTenant) {
    owners.emplace_back(StreamTenant(stream));
  }
  for (const std::string& owner : owners) {
    for (absl::string_view prefix : {"pol/", "pov/", "cal/", "ret/"}) {
      SLATE_RETURN_IF_ERROR(
          runner.Scan(SlaProjection::kName, SlaConfigKey(owner, prefix),
                      [&](absl::string_view k, absl::string_view v) {
                        scratch.Put(k, v);
                        return true;
                      }));
    }
  }
  SLATE_ASSIGN_OR_RETURN(std::optional<std::string> gen,
                         runner.Get(SlaProjection::kName, "gen"));
  if (gen.has_value()) scratch.Put("gen", *gen);

  std::vector<Envelope> events;
  SLATE_RETURN_IF_ERROR(ReadWholeStream(log, stream, &events));
  SLATE_RETURN_IF_ERROR(
      ReadWholeStream(log, SlaEventStream(stream), &events));
  std::stable_sort(events.begin(), events.end(),
                   [](const Envelope& a, const Envelope& b) {
                     if (a.occurred_at_us() != b.occurred_at_us()) {
                       return a.occurred_at_us() < b.occurred_at_us();
                     }
                     return a.position() < b.position();
                   });

  SlaProjection fold;
  std::map<std::string, SlaClockView> prev;
  std::map<std::string, Track> tracks;
  std::map<std::pair<std::string, int64_t>, PolicyCalendar> calendars;
  auto calendar_of = [&](const SlaClockView& v)
      -> absl::StatusOr<const PolicyCalendar*> {
    const auto key = std::make_pair(v.policy_id, v.policy_version_from_us);
    auto it = calendars.find(key);
    if (it == calendars.end()) {
      SLATE_ASSIGN_OR_RETURN(
          PolicyCalendar pc,
          CalendarOf(runner, v.record, v.policy_id, v.policy_version_from_us));
      it = calendars.emplace(key, std::move(pc)).first;
    }
    return &it->second;
  };
  for (const Envelope& e : events) {
    SLATE_RETURN_IF_ERROR(fold.Apply(e, scratch));
    SLATE_RETURN_IF_ERROR(fold.Flush(scratch));
    SLATE_ASSIGN_OR_RETURN(std::vector<SlaClockView> now,
                           ClocksIn(scratch, stream));
    std::map<std::string, SlaClockView> cur;
    for (SlaClockView& v : now) {
      const std::string key = KeyOf(v);
      SLATE_ASSIGN_OR_RETURN(const PolicyCalendar* pc, calendar_of(v));
      auto p = prev.find(key);
      Diff(p == prev.end() ? std::nullopt
                           : std::optional<SlaClockView>(p->second),
           v, *pc, e, tracks[key]);
      cur.emplace(key, std::move(v));
    }
    prev = std::move(cur);
  }

  SLATE_ASSIGN_OR_RETURN(std::vector<SlaClockView> live,
                         ClocksOf(runner, stream));
  std::vector<SlaClockExplanation> out;
  for (SlaClockView& v : live) {
    if (!Matches(v, filter)) continue;
    SLATE_ASSIGN_OR_RETURN(const PolicyCalendar* pc, calendar_of(v));
    SlaClockExplanation x;
    const std::string key = KeyOf(v);
    x.clock = std::move(v);
    x.calendar = pc->id;
    x.time_zone = pc->cal == nullptr ? "UTC" : pc->cal->zone().name();
    if (x.clock.state.has_relative_target()) {
      x.target_rule = RelativeText(x.clock.state);
    }
    const Track& t = tracks[key];
    x.steps = t.steps;
    x.replayed_unlisted = t.unlisted;
    Windows(*pc, t, x);
    Thresholds(*pc, t, x);
    out.push_back(std::move(x));
  }
  return out;
}

absl::StatusOr<std::string> DescribeSlaEvent(const ProjectionRunner& runner,
                                             const Envelope& e) {
  if (!e.has_sla_warning() && !e.has_sla_breached()) {
    return absl::InvalidArgumentError(
        absl::StrCat("event ", e.event_id(), " is not an SLA warning or breach"));
  }
  const bool warning = e.has_sla_warning();
  const std::string& policy_id =
      warning ? e.sla_warning().policy_id() : e.sla_breached().policy_id();
  // The calendar of the policy version the clock counts under (the latest
  // definition's if the clock is not stored).
  const std::string clock_key =
      warning ? SlaClockKey(e.sla_warning().record(), policy_id,
                            e.sla_warning().metric(), e.sla_warning().cycle())
              : SlaClockKey(e.sla_breached().record(), policy_id,
                            e.sla_breached().metric(),
                            e.sla_breached().cycle());
  absl::StatusOr<std::optional<SlaClockView>> clock =
      ClockByKey(runner, clock_key);
  if (!clock.ok()) return clock.status();
  absl::StatusOr<PolicyCalendar> pc = CalendarOf(
      runner, warning ? e.sla_warning().record() : e.sla_breached().record(),
      policy_id, clock->has_value() ? (*clock)->policy_version_from_us : 0);
  if (!pc.ok()) return pc.status();
  const absl::Time at = absl::FromUnixMicros(e.occurred_at_us());
  if (warning) {
    const SlaWarning& w = e.sla_warning();
    const absl::Duration target = absl::Microseconds(w.target_us());
    if (w.before_us() > 0) {
      return absl::StrFormat(
          "%s warning %s before the deadline on %s (policy %s, cycle %d), due "
          "%s: %s of %s business time",
          SlaTargetTypeName(w.metric()), Dur(w.before_us()), w.record(),
          w.policy_id(), w.cycle(), LocalTime(*pc, at),
          Dur(absl::ToInt64Microseconds(ThresholdBefore(
              target, absl::Microseconds(w.before_us())))),
          Dur(w.target_us()));
    }
    return absl::StrFormat(
        "%s %g%% warning on %s (policy %s, cycle %d), due %s: %s of %s "
        "business time",
        SlaTargetTypeName(w.metric()), w.threshold_percent(), w.record(),
        w.policy_id(), w.cycle(), LocalTime(*pc, at),
        Dur(absl::ToInt64Microseconds(
            ThresholdDuration(target, w.threshold_percent()))),
        Dur(w.target_us()));
  }
  const SlaBreached& b = e.sla_breached();
  return absl::StrFormat(
      "%s breached on %s (policy %s, cycle %d) at %s: the %s of business "
      "time used up",
      SlaTargetTypeName(b.metric()), b.record(), b.policy_id(), b.cycle(),
      LocalTime(*pc, at), Dur(b.target_us()));
}

}  // namespace slate
