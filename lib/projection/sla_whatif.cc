#include "lib/projection/sla_whatif.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/arena.h"
#include "lib/api/tenant.h"
#include "lib/base/status_macros.h"
#include "lib/calendar/business_calendar.h"
#include "lib/domain/priority_matrix.h"
#include "lib/projection/memory_state.h"
#include "lib/projection/sla_projection.h"
#include "lib/projection/views.h"
#include "lib/sla/sla_policy.h"

namespace slate {
namespace {

// What one side says of one clock.
struct Judged {
  SlaClockView view;
  std::string verdict;  // met, breached, open, cancelled.
};

std::string KeyOf(const SlaClockView& v) {
  return SlaClockKey(v.record, v.policy_id, v.state.metric(), v.cycle);
}

std::string DimensionOf(const SlaClockView& v, const std::string& by) {
  if (by == "priority") return absl::StrCat("P", v.priority);
  if (by == "service") return v.service.empty() ? "-" : v.service;
  if (by == "group") return v.group.empty() ? "-" : v.group;
  if (by == "month") {
    if (!v.state.has_started_at_us()) return "-";
    return absl::FormatTime("%Y-%m",
                            absl::FromUnixMicros(v.state.started_at_us()),
                            absl::UTCTimeZone());
  }
  return "";
}

bool InRange(const SlaClockView& v, const SlaWhatIfQuery& q) {
  if (!q.from.has_value() && !q.to.has_value()) return true;
  if (!v.state.has_started_at_us()) return false;
  const absl::Time t = absl::FromUnixMicros(v.state.started_at_us());
  return (!q.from.has_value() || t >= *q.from) &&
         (!q.to.has_value() || t < *q.to);
}

std::string Why(const std::optional<Judged>& b, const std::optional<Judged>& a) {
  auto used = [](const SlaClockState& c) {
    return absl::FormatDuration(absl::Microseconds(c.business_elapsed_us()));
  };
  auto target = [](const SlaClockState& c) {
    return absl::FormatDuration(absl::Microseconds(c.target_us()));
  };
  if (!b.has_value()) return "the policy applies now";
  if (!a.has_value()) return "the policy no longer applies";
  const SlaClockState& x = b->view.state;
  const SlaClockState& y = a->view.state;
  std::string why;
  if (x.target_us() != y.target_us()) {
    why = absl::StrCat("target ", target(x), " -> ", target(y), "; ");
  }
  if (x.business_elapsed_us() != y.business_elapsed_us()) {
    absl::StrAppend(&why, "business time used ", used(x), " -> ", used(y));
  } else {
    absl::StrAppend(&why, "business time used ", used(y));
  }
  return why;
}

}  // namespace

absl::StatusOr<SlaWhatIfReport> SimulateSla(const ProjectionRunner& runner,
                                            const EventLog& log,
                                            const SlaWhatIfQuery& query) {
  static const std::set<std::string> kBy = {"", "priority", "service", "group",
                                            "month"};
  if (!kBy.count(query.by)) {
    return absl::InvalidArgumentError(
        absl::StrCat("what-if: by \"", query.by,
                     "\" is not one of priority, service, group, month"));
  }
  if (!query.tenant.empty()) {
    SLATE_RETURN_IF_ERROR(ValidateTenantId(query.tenant, "what-if: tenant"));
  }
  const std::string tenant(TenantOrDefault(query.tenant));
  const int64_t end = log.NextPosition();
  if (query.matrix.has_value()) {
    SLATE_RETURN_IF_ERROR(ValidatePriorityMatrix(*query.matrix));
  }
  // The query's definitions are the tenant's (SlaConfigKey).
  auto key = [&](absl::string_view k) { return SlaConfigKey(tenant, k); };

  // The definitions: the live ones (the default tenant's and the
  // tenant's) with the query's over them.
  MemoryState scratch(&log);
  std::set<std::string> calendars = {"24x7"};
  std::vector<std::string> owners = {""};
  if (tenant != kDefaultTenant) owners.push_back(tenant);
  for (const std::string& owner : owners) {
    for (absl::string_view prefix : {"pol/", "pov/", "ret/"}) {
      SLATE_RETURN_IF_ERROR(
          runner.Scan(SlaProjection::kName, SlaConfigKey(owner, prefix),
                      [&](absl::string_view k, absl::string_view v) {
                        scratch.Put(k, v);
                        return true;
                      }));
    }
    const std::string cal_prefix = SlaConfigKey(owner, "cal/");
    SLATE_RETURN_IF_ERROR(
        runner.Scan(SlaProjection::kName, cal_prefix,
                    [&](absl::string_view k, absl::string_view v) {
                      scratch.Put(k, v);
                      calendars.emplace(k.substr(cal_prefix.size()));
                      return true;
                    }));
  }
  for (const CalendarSpec& spec : query.calendars) {
    SLATE_RETURN_IF_ERROR(BusinessCalendar::FromSpec(spec).status());
    scratch.Put(key(absl::StrCat("cal/", spec.name())),
                SerializeDeterministic(spec));
    calendars.insert(spec.name());
  }
  // Retirements stand, except for the policies the query defines: a
  // what-if that gives a retired policy previews it as if in force.
  for (const SlaPolicy& p : query.policies) {
    scratch.Delete(key(absl::StrCat("ret/", p.id())));
  }
  for (const SlaPolicy& p : query.policies) {
    SLATE_RETURN_IF_ERROR(ValidateSlaPolicy(p));
    if (!calendars.count(p.calendar_id())) {
      return absl::InvalidArgumentError(absl::StrCat(
          "what-if: policy \"", p.id(), "\": calendar \"", p.calendar_id(),
          "\" is not 24x7, not defined in the database and not given"));
    }
    scratch.Put(key(absl::StrCat("pol/", p.id())), SerializeDeterministic(p));
    // One version, in force throughout: every version of the live policy
    // goes.
    std::vector<std::string> versions;
    SLATE_RETURN_IF_ERROR(
        scratch.Scan(key(absl::StrCat("pov/", p.id(), "|")),
                     [&](absl::string_view k, absl::string_view) {
                       versions.emplace_back(k);
                       return true;
                     }));
    for (const std::string& k : versions) scratch.Delete(k);
    SlaPolicyDefined defined;
    *defined.mutable_policy() = p;
    scratch.Put(key(SlaPolicyVersionKey(p.id(), absl::InfinitePast())),
                SerializeDeterministic(defined));
  }
  scratch.Put("gen", "what-if");

  // The records' history, folded again.
  const PriorityMatrix* matrix =
      query.matrix.has_value() ? &*query.matrix : nullptr;
  SlaProjection fold;
  for (int64_t from = 0; from < end;) {
    google::protobuf::Arena arena;
    std::vector<const Envelope*> batch;
    SLATE_RETURN_IF_ERROR(log.ReadAll(
        from, static_cast<size_t>(std::min<int64_t>(end - from, 16384)),
        &arena, &batch));
    if (batch.empty()) break;
    for (const Envelope* e : batch) {
      if (e->has_sla_policy_defined() || e->has_calendar_defined() ||
          e->has_sla_policy_retired() || e->has_sla_warning() ||
          e->has_sla_breached() || !StreamInTenant(e->stream(), tenant)) {
        continue;
      }
      if (matrix != nullptr && e->has_incident_priority_set() &&
          !e->incident_priority_set().manual_override() &&
          e->incident_priority_set().impact() > 0 &&
          e->incident_priority_set().urgency() > 0) {
        Envelope again = *e;
        IncidentPrioritySet* p = again.mutable_incident_priority_set();
        SLATE_ASSIGN_OR_RETURN(
            int priority,
            ComputePriority(*matrix, p->impact(), p->urgency(), e->stream()));
        p->set_priority(priority);
        SLATE_RETURN_IF_ERROR(fold.Apply(again, scratch));
      } else {
        SLATE_RETURN_IF_ERROR(fold.Apply(*e, scratch));
      }
      if (fold.WantsFlush()) SLATE_RETURN_IF_ERROR(fold.Flush(scratch));
    }
    from = batch.back()->position() + 1;
  }
  SLATE_RETURN_IF_ERROR(fold.Flush(scratch));
  // The tenant's watermark: the scratch fold saw its record events only.
  SLATE_ASSIGN_OR_RETURN(std::optional<absl::Time> wm, SlaWatermarkIn(scratch));
  SlaWhatIfReport report;
  report.as_of = wm.value_or(absl::UnixEpoch());

  std::map<std::string, Judged> before, after;
  SLATE_RETURN_IF_ERROR(ForEachClock(runner, [&](const SlaClockView& v) {
    if (StreamInTenant(v.record, tenant) && InRange(v, query)) {
      before.emplace(KeyOf(v), Judged{v, SlaClockVerdict(v.state, report.as_of)});
    }
  }));
  SLATE_RETURN_IF_ERROR(ForEachClockIn(scratch, [&](const SlaClockView& v) {
    if (InRange(v, query)) {
      after.emplace(KeyOf(v), Judged{v, SlaClockVerdict(v.state, report.as_of)});
    }
  }));

  std::map<std::tuple<std::string, std::string, std::string>, SlaWhatIfRow>
      rows;
  auto row = [&](const SlaClockView& v) -> SlaWhatIfRow& {
    SlaWhatIfRow& r =
        rows[{v.policy_id, v.target_type, DimensionOf(v, query.by)}];
    r.policy_id = v.policy_id;
    r.target_type = v.target_type;
    r.key = DimensionOf(v, query.by);
    return r;
  };
  std::set<std::string> keys;
  for (const auto& [k, j] : before) keys.insert(k);
  for (const auto& [k, j] : after) keys.insert(k);
  auto counted = [](const std::string& v) {
    return v == "met" || v == "breached";
  };
  for (const std::string& k : keys) {
    auto b = before.find(k);
    auto a = after.find(k);
    std::optional<Judged> jb, ja;
    if (b != before.end()) jb = b->second;
    if (a != after.end()) ja = a->second;
    if (jb.has_value()) {
      SlaWhatIfRow& r = row(jb->view);
      r.before_met += jb->verdict == "met";
      r.before_breached += jb->verdict == "breached";
    }
    if (ja.has_value()) {
      SlaWhatIfRow& r = row(ja->view);
      r.after_met += ja->verdict == "met";
      r.after_breached += ja->verdict == "breached";
    }
    const std::string vb = jb.has_value() ? jb->verdict : "none";
    const std::string va = ja.has_value() ? ja->verdict : "none";
    if (vb == va || (!counted(vb) && !counted(va))) continue;
    ++report.flipped;
    ++row(ja.has_value() ? ja->view : jb->view).flips;
    if (report.flips.size() < query.list_flips) {
      const SlaClockView& v = ja.has_value() ? ja->view : jb->view;
      SlaWhatIfFlip f;
      f.record = v.record;
      f.policy_id = v.policy_id;
      f.target_type = v.target_type;
      f.cycle = v.cycle;
      f.before = vb;
      f.after = va;
      f.why = Why(jb, ja);
      report.flips.push_back(std::move(f));
    }
  }
  for (auto& [k, r] : rows) report.rows.push_back(std::move(r));
  return report;
}

}  // namespace slate
