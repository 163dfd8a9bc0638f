#include "lib/projection/kpi_projection.h"

#include <algorithm>
#include <optional>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "lib/base/status_macros.h"
#include "lib/projection/decoded_cache.h"
#include "lib/projection/views.h"
#include "proto/calendar.pb.h"

namespace slate {
namespace {

constexpr int64_t kDayUs = int64_t{86400} * 1000000;
// Survey scores at or above this count as satisfied (CSAT: 4 and 5 of 1..5).
constexpr int32_t kSatisfiedScore = 4;

bool IsOpenStatus(int s) { return s == 1; }

// Incident status during the replay.
enum Status {
  kNone = 0,
  kOpen = 1,
  kResolved = 2,
  kClosed = 3,
  kCancelled = 4
};

class Builder {
 public:
  Builder(const KpiOptions& options, const KpiLogCalendars* from_log,
          KpiContribution* out)
      : options_(options), from_log_(from_log), out_(out) {}

  KpiMeasures& Cell(int64_t at_us, const KpiDims& dims) {
    const absl::CivilDay day =
        absl::ToCivilDay(absl::FromUnixMicros(at_us), options_.zone);
    return out_->cells[{day, dims}];
  }

  int64_t Business(const std::string& service, int64_t from_us,
                   int64_t to_us) const {
    if (to_us <= from_us) return 0;
    const BusinessCalendar* cal = options_.CalendarFor(service, from_log_);
    if (cal == nullptr) return to_us - from_us;
    return absl::ToInt64Microseconds(cal->Between(absl::FromUnixMicros(from_us),
                                                  absl::FromUnixMicros(to_us)));
  }

  // A stay in the backlog [a, b) (b = nullopt: still there) under `dims`, of
  // a record first opened at t0.
  void Segment(int64_t t0, int64_t a, std::optional<int64_t> b,
               const KpiDims& dims) {
    if (b.has_value() && *b <= a) return;
    Cell(a, dims).backlog_delta += 1;
    if (b.has_value()) Cell(*b, dims).backlog_delta -= 1;
    for (int k = 0; k < kAgingClasses; ++k) {
      const int64_t lo = t0 + kAgingBoundsDays[k] * kDayUs;
      std::optional<int64_t> hi;
      if (kAgingBoundsDays[k + 1] >= 0) {
        hi = t0 + kAgingBoundsDays[k + 1] * kDayUs;
      }
      const int64_t s = std::max(a, lo);
      std::optional<int64_t> e = b;
      if (hi.has_value() && (!e.has_value() || *hi < *e)) e = hi;
      if (e.has_value() && *e <= s) continue;
      Cell(s, dims).aging_delta[k] += 1;
      if (e.has_value()) Cell(*e, dims).aging_delta[k] -= 1;
    }
  }

  void Incident(const kpi::KpiRecord& r);
  void Change(const kpi::KpiRecord& r);
  void Request(const kpi::KpiRecord& r);

 private:
  const KpiOptions& options_;
  const KpiLogCalendars* from_log_;
  KpiContribution* out_;
};

void Builder::Incident(const kpi::KpiRecord& r) {
  bool opened = false;
  int64_t t0 = 0;
  Status status = kNone;
  KpiDims cur;
  bool on_hold = false;
  int64_t hold_start = 0;
  int64_t hold_total = 0;
  bool responded = false;
  bool assigned = false;
  std::string person;
  std::string first_person;
  int64_t group_changes = 0;
  bool reassigned = false;
  int64_t reopens = 0;
  // The latest resolution, while it is final.
  bool has_res = false;
  int64_t res_at = 0;
  KpiDims res_dims;
  bool res_fcr = false;
  int64_t res_hold = 0;
  int64_t res_group_changes = 0;
  // The latest resolution, final or not (a survey rates it), its cycle (1 +
  // reopens before it) and the last cycle a survey response was counted for.
  std::optional<int64_t> last_res_at;
  KpiDims last_res_dims;
  int32_t last_res_cycle = 0;
  int32_t surveyed_cycle = 0;
  std::vector<const kpi::KpiEvent*> surveys;  // Of the current instant.
  // Backlog stay and priority-1 interval in progress.
  bool in_backlog = false;
  int64_t seg_start = 0;
  KpiDims seg_dims;
  bool p1_on = false;
  int64_t p1_start = 0;
  std::string p1_service;

  const auto& ev = r.events();
  for (int i = 0; i < ev.size();) {
    const int64_t at = ev[i].at_us();
    KpiMeasures pending;
    bool resolved_here = false;
    for (; i < ev.size() && ev[i].at_us() == at; ++i) {
      const kpi::KpiEvent& e = ev[i];
      if (e.payload() == Envelope::kIncidentPrioritySet) {
        cur.priority = e.n();
        continue;
      }
      if (e.payload() == Envelope::kIncidentOpened) {
        if (opened) continue;
        opened = true;
        t0 = at;
        status = kOpen;
        cur.service = e.a();
        cur.category = e.b();
        cur.contact_type = e.c();
        pending.opened += 1;
        continue;
      }
      if (!opened) continue;  // Nothing counts before the record exists.
      switch (e.payload()) {
        case Envelope::kIncidentAcknowledged:
        case Envelope::kIncidentAssigned:
          // An assignment after the record left the open states
          // (DomainPolicy::allow_assign_when_resolved) is no response.
          if (!responded && status == kOpen) {
            responded = true;
            const int64_t wall = std::max<int64_t>(0, at - t0);
            pending.response_count += 1;
            pending.response_wall_us += wall;
            pending.response_wall_sketch.Add(wall);
            const int64_t biz = Business(cur.service, t0, at);
            pending.response_business_us += biz;
            pending.response_business_sketch.Add(biz);
          }
          if (e.payload() == Envelope::kIncidentAssigned) {
            if (assigned) {
              if (e.a() != cur.group) {
                ++group_changes;
                reassigned = true;
              }
              if (!person.empty() && e.b() != person) reassigned = true;
            }
            assigned = true;
            if (first_person.empty()) first_person = e.b();
            cur.group = e.a();
            person = e.b();
          }
          break;
        case Envelope::kIncidentDetailsUpdated:
          cur.category = e.b();
          cur.contact_type = e.c();
          if (e.n() == 1) cur.service = e.a();
          break;
        case Envelope::kSurveyResponseRecorded:
          surveys.push_back(&e);  // After this instant's resolution, below.
          break;
        case Envelope::kIncidentPutOnHold:
          if (status == kOpen && !on_hold) {
            on_hold = true;
            hold_start = at;
          }
          break;
        case Envelope::kIncidentResumed:
          if (on_hold) {
            hold_total += at - hold_start;
            on_hold = false;
          }
          break;
        case Envelope::kIncidentResolved:
          if (on_hold) {
            hold_total += at - hold_start;
            on_hold = false;
          }
          status = kResolved;
          pending.resolved += 1;
          has_res = true;
          resolved_here = true;
          res_at = at;
          res_hold = hold_total;
          res_group_changes = group_changes;
          res_fcr =
              reopens == 0 && !reassigned && e.b().empty() &&
              (first_person.empty() || e.a().empty() || e.a() == first_person);
          break;
        case Envelope::kIncidentClosed:
          // Also from an open state (DomainPolicy::
          // allow_close_without_resolve): the hold ends; no resolution.
          if (on_hold) {
            hold_total += at - hold_start;
            on_hold = false;
          }
          status = kClosed;
          pending.closed += 1;
          break;
        case Envelope::kIncidentReopened:
          if (status == kResolved || status == kClosed) {
            status = kOpen;
            ++reopens;
            pending.reopened += 1;
            has_res = false;
          }
          break;
        case Envelope::kIncidentCancelled:
          if (on_hold) {
            hold_total += at - hold_start;
            on_hold = false;
          }
          status = kCancelled;
          pending.cancelled += 1;
          has_res = false;
          break;
        default:
          break;
      }
    }
    if (!opened) continue;
    if (!pending.IsZero()) Cell(at, cur).Add(pending);
    if (resolved_here) {
      res_dims = cur;
      last_res_at = res_at;
      last_res_dims = cur;
      last_res_cycle = static_cast<int32_t>(reopens) + 1;
    }
    // Survey responses: at the resolution they rate (that of their cycle),
    // once per cycle; none if that resolution is not in the timeline.
    for (const kpi::KpiEvent* e : surveys) {
      if (!last_res_at.has_value() || e->m() != last_res_cycle ||
          surveyed_cycle == last_res_cycle) {
        continue;
      }
      surveyed_cycle = last_res_cycle;
      KpiMeasures& m = Cell(*last_res_at, last_res_dims);
      m.survey_responses += 1;
      m.survey_satisfied += e->n() >= kSatisfiedScore ? 1 : 0;
      m.survey_score_sum += e->n();
    }
    surveys.clear();
    // Backlog stays and age classes.
    const bool now_open = IsOpenStatus(status);
    if (in_backlog && (!now_open || seg_dims != cur)) {
      Segment(t0, seg_start, at, seg_dims);
      in_backlog = false;
    }
    if (now_open && !in_backlog) {
      in_backlog = true;
      seg_start = at;
      seg_dims = cur;
    }
    // Priority-1 intervals on the service.
    const bool now_p1 = now_open && cur.priority == 1;
    if (p1_on && (!now_p1 || p1_service != cur.service)) {
      if (at > p1_start) out_->outages[p1_service].push_back({p1_start, at});
      p1_on = false;
    }
    if (now_p1 && !p1_on) {
      p1_on = true;
      p1_start = at;
      p1_service = cur.service;
    }
  }
  if (in_backlog) Segment(t0, seg_start, std::nullopt, seg_dims);
  if (p1_on) out_->outages[p1_service].push_back({p1_start, 0});
  if (has_res) {
    KpiMeasures& m = Cell(res_at, res_dims);
    const int64_t wall = std::max<int64_t>(0, res_at - t0);
    const int64_t biz = Business(res_dims.service, t0, res_at);
    m.resolved_final += 1;
    m.resolution_wall_us += wall;
    m.resolution_wall_sketch.Add(wall);
    m.resolution_business_us += biz;
    m.resolution_business_sketch.Add(biz);
    m.hold_us += res_hold;
    m.group_changes += res_group_changes;
    m.first_contact += res_fcr ? 1 : 0;
    m.reopened_records += reopens > 0 ? 1 : 0;
  }
}

void Builder::Change(const kpi::KpiRecord& r) {
  bool requested = false;
  KpiDims dims;
  bool closed = false;
  int64_t closed_at = 0;
  int outcome = 0;
  bool caused = false;
  bool reviewed = false;
  for (const kpi::KpiEvent& e : r.events()) {
    switch (e.payload()) {
      case Envelope::kChangeRequested: {
        if (requested) break;
        requested = true;
        dims.service = e.a();
        KpiMeasures& m = Cell(e.at_us(), dims);
        m.changes_requested += 1;
        m.changes_emergency += e.n() == EMERGENCY ? 1 : 0;
        break;
      }
      case Envelope::kChangeClosed:
        closed = true;
        closed_at = e.at_us();
        outcome = e.n();
        break;
      case Envelope::kChangeIncidentLinked:
        if (e.n() == CAUSED_BY) caused = true;
        break;
      case Envelope::kChangeReviewed:
        reviewed = true;
        break;
      default:
        break;
    }
  }
  if (!requested || !closed) return;
  KpiMeasures& m = Cell(closed_at, dims);
  m.changes_closed += 1;
  m.changes_successful += outcome == SUCCESSFUL ? 1 : 0;
  m.changes_successful_with_issues += outcome == SUCCESSFUL_WITH_ISSUES ? 1 : 0;
  m.changes_failed += outcome == FAILED ? 1 : 0;
  m.changes_rolled_back += outcome == ROLLED_BACK ? 1 : 0;
  m.changes_causing_incidents += caused ? 1 : 0;
  m.changes_reviewed += reviewed ? 1 : 0;
  m.changes_reviewed_failed +=
      reviewed && (outcome == FAILED || outcome == ROLLED_BACK) ? 1 : 0;
}

void Builder::Request(const kpi::KpiRecord& r) {
  bool submitted = false;
  int64_t t0 = 0;
  KpiDims dims;
  std::string currency;
  int64_t total = 0;
  std::optional<int64_t> approved_at;
  std::optional<int64_t> fulfilled_at;
  std::optional<int32_t> score;  // The first survey response.
  for (const kpi::KpiEvent& e : r.events()) {
    if (e.payload() == Envelope::kRequestSubmitted) {
      if (submitted) continue;
      submitted = true;
      t0 = e.at_us();
      dims.service = e.a();
      dims.priority = e.n();
      currency = e.b();
      total = e.amount();
      Cell(t0, dims).requests_opened += 1;
      continue;
    }
    if (!submitted) continue;  // Nothing counts before the record exists.
    switch (e.payload()) {
      case Envelope::kRequestApproved:
        if (e.n() == 1 && !approved_at.has_value()) approved_at = e.at_us();
        break;
      case Envelope::kRequestRejected:
        Cell(e.at_us(), dims).requests_rejected += 1;
        break;
      case Envelope::kRequestCancelled:
        Cell(e.at_us(), dims).requests_cancelled += 1;
        break;
      case Envelope::kRequestFulfilled:
        if (!fulfilled_at.has_value()) fulfilled_at = e.at_us();
        break;
      case Envelope::kSurveyResponseRecorded:
        if (!score.has_value()) score = e.n();
        break;
      default:
        break;
    }
  }
  if (approved_at.has_value()) {
    KpiMeasures& m = Cell(*approved_at, dims);
    m.requests_approved += 1;
    m.request_approval_wall_us += std::max<int64_t>(0, *approved_at - t0);
    m.request_approval_business_us += Business(dims.service, t0, *approved_at);
  }
  if (!fulfilled_at.has_value()) return;
  KpiMeasures& m = Cell(*fulfilled_at, dims);
  m.requests_fulfilled += 1;
  m.request_fulfilment_wall_us += std::max<int64_t>(0, *fulfilled_at - t0);
  m.request_fulfilment_business_us +=
      Business(dims.service, t0, *fulfilled_at);
  if (total != 0) m.request_cost_cents[currency] += total;
  if (score.has_value()) {
    m.request_survey_responses += 1;
    m.request_survey_satisfied += *score >= kSatisfiedScore ? 1 : 0;
    m.request_survey_score_sum += *score;
  }
}

// The KPI-relevant part of an incident, change or request event; nullopt
// for events no definition reads.
std::optional<kpi::KpiEvent> ToKpiEvent(const Envelope& e) {
  kpi::KpiEvent k;
  k.set_at_us(e.occurred_at_us());
  k.set_version(e.version());
  k.set_payload(static_cast<int32_t>(e.payload_case()));
  switch (e.payload_case()) {
    case Envelope::kIncidentOpened:
      k.set_a(e.incident_opened().service());
      k.set_b(e.incident_opened().category());
      k.set_c(e.incident_opened().contact_type());
      break;
    case Envelope::kIncidentAssigned:
      k.set_a(e.incident_assigned().group());
      k.set_b(e.incident_assigned().person());
      break;
    case Envelope::kIncidentPrioritySet:
      k.set_n(e.incident_priority_set().priority());
      break;
    case Envelope::kIncidentResolved:
      k.set_a(e.incident_resolved().resolved_by());
      k.set_b(e.incident_resolved().resolved_by_problem());
      break;
    case Envelope::kIncidentDetailsUpdated:
      k.set_b(e.incident_details_updated().category());
      k.set_c(e.incident_details_updated().contact_type());
      if (e.incident_details_updated().has_service()) {
        k.set_a(e.incident_details_updated().service());
        k.set_n(1);
      }
      break;
    case Envelope::kSurveyResponseRecorded:
      k.set_n(e.survey_response_recorded().score());
      k.set_m(e.survey_response_recorded().resolution_cycle());
      break;
    case Envelope::kIncidentAcknowledged:
    case Envelope::kIncidentPutOnHold:
    case Envelope::kIncidentResumed:
    case Envelope::kIncidentStarted:
    case Envelope::kIncidentClosed:
    case Envelope::kIncidentReopened:
    case Envelope::kIncidentCancelled:
      break;
    case Envelope::kChangeRequested:
      // A placeholder an import created for a change its rows refer to but
      // the export does not hold: no one requested it; not counted.
      if (e.servicenow().placeholder()) return std::nullopt;
      if (e.change_requested().services_size() > 0) {
        k.set_a(e.change_requested().services(0));
      }
      k.set_n(e.change_requested().type());
      break;
    case Envelope::kChangeClosed:
      k.set_n(e.change_closed().outcome());
      break;
    case Envelope::kChangeIncidentLinked:
      k.set_n(e.change_incident_linked().relation());
      break;
    case Envelope::kChangeReviewed:
      break;
    case Envelope::kRequestSubmitted: {
      const RequestSubmitted& p = e.request_submitted();
      k.set_a(p.service());
      k.set_n(p.priority());
      int64_t total = 0;
      for (const RequestLine& line : p.lines()) {
        total += line.unit_price_cents() * line.quantity();
        if (k.b().empty()) k.set_b(line.currency());
      }
      k.set_amount(total);
      break;
    }
    case Envelope::kRequestApproved:
      k.set_n(e.request_approved().complete() ? 1 : 0);
      break;
    case Envelope::kRequestRejected:
    case Envelope::kRequestCancelled:
    case Envelope::kRequestFulfilled:
      break;
    default:
      return std::nullopt;
  }
  return k;
}

absl::Status Corrupt(absl::string_view what, absl::string_view key) {
  return absl::DataLossError(
      absl::StrCat("kpi projection: undecodable ", what, " at key ", key));
}

using CellCache = DecodedCache<KpiMeasures>;

// A record with its contribution (computed when first needed).
struct CachedRecord {
  kpi::KpiRecord record;
  // What the cells hold of this record (nullopt: that of `record` as
  // loaded, not computed yet).
  // A record marked written has changed since: Flush moves its cells.
  std::optional<KpiContribution> contribution;

  // As CachedRecord{}, keeping the record's allocations (DecodedCache).
  void Clear() {
    record.Clear();
    contribution.reset();
  }
};
using RecordCache = DecodedCache<CachedRecord>;

// Adds `delta` to the cell `key` (deleted when it becomes zero).
absl::Status AddToCell(const std::string& key, const KpiMeasures& delta,
                       ProjectionState& state, CellCache& cells) {
  SLATE_ASSIGN_OR_RETURN(
      CellCache::Entry * entry,
      cells.Load(state, key, [&](absl::string_view bytes, KpiMeasures* m) {
        kpi::KpiCell cell;
        if (!cell.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
          return Corrupt("cell", key);
        }
        auto parsed = KpiMeasures::FromProto(cell);
        if (!parsed.ok()) return Corrupt("cell sketch", key);
        *m = std::move(*parsed);
        return absl::OkStatus();
      }));
  entry->value.Add(delta);
  if (entry->value.IsZero()) {
    cells.MarkDeleted(entry);
  } else {
    cells.MarkWritten(entry);
  }
  return absl::OkStatus();
}

absl::Status ApplyDiff(absl::string_view stream, const KpiContribution& old_c,
                       const KpiContribution& new_c, ProjectionState& state,
                       CellCache& cells) {
  auto o = old_c.cells.begin();
  auto n = new_c.cells.begin();
  while (o != old_c.cells.end() || n != new_c.cells.end()) {
    KpiMeasures delta;
    const std::pair<absl::CivilDay, KpiDims>* key;
    if (n == new_c.cells.end() ||
        (o != old_c.cells.end() && o->first < n->first)) {
      key = &o->first;
      delta.Add(o->second, -1);
      ++o;
    } else if (o == old_c.cells.end() || n->first < o->first) {
      key = &n->first;
      delta = n->second;
      ++n;
    } else {
      key = &n->first;
      delta = n->second;
      delta.Add(o->second, -1);
      ++o;
      ++n;
    }
    if (delta.IsZero()) continue;
    SLATE_RETURN_IF_ERROR(AddToCell(kpi::CellKey(key->first, key->second),
                                    delta, state, cells));
  }
  // Outage intervals: one key per (service, record).
  static const std::vector<KpiInterval> kNone;
  auto Of = [](const KpiContribution& c,
               const std::string& s) -> const std::vector<KpiInterval>& {
    auto it = c.outages.find(s);
    return it == c.outages.end() ? kNone : it->second;
  };
  std::set<std::string> services;
  for (const auto& [s, v] : old_c.outages) services.insert(s);
  for (const auto& [s, v] : new_c.outages) services.insert(s);
  for (const std::string& s : services) {
    const auto& before = Of(old_c, s);
    const auto& after = Of(new_c, s);
    if (before == after) continue;
    const std::string key = kpi::OutageKey(s, stream);
    if (after.empty()) {
      state.Delete(key);
      continue;
    }
    kpi::KpiOutage outage;
    for (const auto& i : after) {
      auto* p = outage.add_intervals();
      p->set_start_us(i.start_us);
      p->set_end_us(i.end_us);
    }
    state.Put(key, SerializeDeterministic(outage));
  }
  return absl::OkStatus();
}

absl::Status ApplyService(const Envelope& e, absl::string_view id,
                          ProjectionState& state) {
  const ServiceSpec* spec = nullptr;
  if (e.has_service_defined()) spec = &e.service_defined().spec();
  if (e.has_service_updated()) spec = &e.service_updated().spec();
  if (spec == nullptr) return absl::OkStatus();
  const std::string key = kpi::ServiceKey(id);
  SLATE_ASSIGN_OR_RETURN(std::optional<std::string> stored, state.Get(key));
  if (stored.has_value()) {
    kpi::KpiService s;
    if (!s.ParseFromString(*stored)) return Corrupt("service", key);
    if (std::make_pair(s.at_us(), s.version()) >
        std::make_pair(e.occurred_at_us(), e.version())) {
      return absl::OkStatus();  // A later definition is already stored.
    }
  }
  kpi::KpiService s;
  s.set_availability_target_percent(spec->availability_target_percent());
  s.set_at_us(e.occurred_at_us());
  s.set_version(e.version());
  s.set_calendar_id(spec->support_calendar_id());
  state.Put(key, SerializeDeterministic(s));
  return absl::OkStatus();
}

// The services' calendars as stored, and for change detection each
// calendared service's calendar spec bytes.
struct LogCalendars {
  KpiLogCalendars calendars;
  std::map<std::string, std::string> signature;
};

absl::StatusOr<LogCalendars> LoadLogCalendars(ProjectionState& state) {
  std::map<std::string, KpiServiceTarget> services;
  std::map<std::string, std::string> specs;
  absl::Status error;
  SLATE_RETURN_IF_ERROR(state.Scan(
      kpi::kServicePrefix, [&](absl::string_view key, absl::string_view value) {
        kpi::KpiService s;
        if (!s.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          error = Corrupt("service", key);
          return false;
        }
        services[std::string(key.substr(kpi::kServicePrefix.size()))]
            .calendar_id = s.calendar_id();
        return true;
      }));
  SLATE_RETURN_IF_ERROR(error);
  SLATE_RETURN_IF_ERROR(state.Scan(
      kpi::kCalendarPrefix,
      [&](absl::string_view key, absl::string_view value) {
        specs[std::string(key.substr(kpi::kCalendarPrefix.size()))] =
            std::string(value);
        return true;
      }));
  LogCalendars out;
  out.calendars = KpiCalendarsOf(services, specs);
  for (const auto& [service, target] : services) {
    auto it = specs.find(target.calendar_id);
    if (it != specs.end()) out.signature[service] = it->second;
  }
  return out;
}

}  // namespace

const BusinessCalendar* KpiOptions::CalendarFor(
    const std::string& service, const KpiLogCalendars* from_log) const {
  auto it = service_calendars.find(service);
  if (it != service_calendars.end()) return it->second.get();
  if (from_log != nullptr) {
    auto log_it = from_log->find(service);
    if (log_it != from_log->end()) return log_it->second.get();
  }
  return default_calendar.get();
}

KpiLogCalendars KpiCalendarsOf(
    const std::map<std::string, KpiServiceTarget>& services,
    const std::map<std::string, std::string>& calendar_specs) {
  std::map<std::string, std::shared_ptr<const BusinessCalendar>> built;
  KpiLogCalendars out;
  for (const auto& [service, target] : services) {
    if (target.calendar_id.empty()) continue;
    auto b = built.find(target.calendar_id);
    if (b == built.end()) {
      std::shared_ptr<const BusinessCalendar> cal;
      auto spec_it = calendar_specs.find(target.calendar_id);
      CalendarSpec spec;
      if (spec_it != calendar_specs.end() &&
          spec.ParseFromString(spec_it->second)) {
        auto c = BusinessCalendar::FromSpec(spec);
        if (c.ok()) cal = *c;
      }
      b = built.emplace(target.calendar_id, std::move(cal)).first;
    }
    if (b->second != nullptr) out[service] = b->second;
  }
  return out;
}

KpiOptions BuiltinKpiOptions(const Options& options) {
  KpiOptions k;
  k.cached_records = options.projection_cached_records;
  return k;
}

KpiContribution ContributeKpiRecord(absl::string_view kind,
                                    const kpi::KpiRecord& record,
                                    const KpiOptions& options,
                                    const KpiLogCalendars* from_log) {
  KpiContribution c;
  Builder b(options, from_log, &c);
  if (kind == "incident") b.Incident(record);
  if (kind == "change") b.Change(record);
  if (kind == "request") b.Request(record);
  for (auto it = c.cells.begin(); it != c.cells.end();) {
    it = it->second.IsZero() ? c.cells.erase(it) : std::next(it);
  }
  return c;
}

struct KpiProjection::Caches {
  explicit Caches(size_t records) : records(records), cells(4 * records) {}
  RecordCache records;
  CellCache cells;
  std::optional<KpiLogCalendars> calendars;  // nullopt: not loaded.
};

KpiProjection::KpiProjection(KpiOptions options)
    : options_(std::move(options)),
      caches_(std::make_unique<Caches>(options_.cached_records)) {}
KpiProjection::~KpiProjection() = default;

bool KpiProjection::WantsFlush() const {
  return caches_->records.over_bound() || caches_->cells.over_bound();
}

void KpiProjection::Discard() {
  caches_->records.Clear();
  caches_->cells.Clear();
  caches_->calendars.reset();
}

absl::Status KpiProjection::ApplyConfig(const Envelope& e,
                                        absl::string_view kind,
                                        absl::string_view id,
                                        ProjectionState& state) {
  if (kind == "calendar" && !e.has_calendar_defined()) return absl::OkStatus();
  if (kind == "service" && !e.has_service_defined() &&
      !e.has_service_updated()) {
    return absl::OkStatus();
  }
  // Records are recomputed from the stored bytes below: write the cached
  // state first and read it back afterwards.
  SLATE_RETURN_IF_ERROR(Flush(state));
  Discard();
  SLATE_ASSIGN_OR_RETURN(LogCalendars before, LoadLogCalendars(state));
  if (kind == "service") {
    SLATE_RETURN_IF_ERROR(ApplyService(e, id, state));
  } else {
    const CalendarSpec& spec = e.calendar_defined().spec();
    const std::string name = spec.name().empty() ? std::string(id) : spec.name();
    state.Put(kpi::CalendarKey(name), SerializeDeterministic(spec));
  }
  SLATE_ASSIGN_OR_RETURN(LogCalendars after, LoadLogCalendars(state));
  if (before.signature != after.signature) {
    SLATE_RETURN_IF_ERROR(RecomputeRecords(before.calendars, after.calendars,
                                           state));
  }
  caches_->calendars = std::move(after.calendars);
  return absl::OkStatus();
}

absl::Status KpiProjection::RecomputeRecords(const KpiLogCalendars& before,
                                             const KpiLogCalendars& after,
                                             ProjectionState& state) {
  std::vector<std::pair<std::string, std::string>> records;
  SLATE_RETURN_IF_ERROR(state.Scan(
      kpi::kRecordPrefix, [&](absl::string_view key, absl::string_view value) {
        records.emplace_back(std::string(key), std::string(value));
        return true;
      }));
  for (const auto& [key, value] : records) {
    kpi::KpiRecord record;
    if (!record.ParseFromString(value)) return Corrupt("record", key);
    const absl::string_view stream =
        absl::string_view(key).substr(kpi::kRecordPrefix.size());
    const absl::string_view record_kind = stream.substr(0, stream.find('/'));
    const KpiContribution old_c =
        ContributeKpiRecord(record_kind, record, options_, &before);
    const KpiContribution new_c =
        ContributeKpiRecord(record_kind, record, options_, &after);
    SLATE_RETURN_IF_ERROR(
        ApplyDiff(stream, old_c, new_c, state, caches_->cells));
  }
  return Flush(state);  // The records cache stays empty: nothing stale.
}

absl::Status KpiProjection::Flush(ProjectionState& state) {
  // The changed records' cells, each from its contribution before the batch
  // to its contribution now, once per batch (integer sums: the order does
  // not matter). A record is changed only by Apply, which marks it written.
  for (RecordCache::Entry* entry : caches_->records.dirty_entries()) {
    CachedRecord& r = entry->value;
    const absl::string_view stream =
        absl::string_view(*entry->key).substr(kpi::kRecordPrefix.size());
    const absl::string_view kind = stream.substr(0, stream.find('/'));
    KpiContribution now =
        ContributeKpiRecord(kind, r.record, options_, &*caches_->calendars);
    absl::Status st = ApplyDiff(stream, *r.contribution, now, state,
                                caches_->cells);
    if (!st.ok()) {
      Discard();  // The cells may be half-changed.
      return st;
    }
    r.contribution = std::move(now);
  }
  SLATE_RETURN_IF_ERROR(caches_->cells.Flush(
      [&](const std::string& key, const KpiMeasures& m, bool present) {
        if (present) {
          state.Put(key, SerializeDeterministic(m.ToProto()));
        } else {
          state.Delete(key);
        }
        return absl::OkStatus();
      }));
  return caches_->records.Flush(
      [&](const std::string& key, const CachedRecord& r, bool present) {
        if (present) {
          state.Put(key, SerializeDeterministic(r.record));
        } else {
          state.Delete(key);
        }
        return absl::OkStatus();
      });
}

absl::Status KpiProjection::Apply(const Envelope& e, ProjectionState& state) {
  absl::string_view stream = e.stream();
  const size_t slash = stream.find('/');
  if (slash == absl::string_view::npos) return absl::OkStatus();
  const absl::string_view kind = stream.substr(0, slash);
  if (kind == "service" || kind == "calendar") {
    return ApplyConfig(e, kind, stream.substr(slash + 1), state);
  }
  if (kind != "incident" && kind != "change" && kind != "request") {
    return absl::OkStatus();
  }
  std::optional<kpi::KpiEvent> event = ToKpiEvent(e);
  if (!event.has_value()) return absl::OkStatus();

  const std::string key = kpi::RecordKey(stream);
  SLATE_ASSIGN_OR_RETURN(
      RecordCache::Entry * entry,
      caches_->records.Load(
          state, key, [&](absl::string_view bytes, CachedRecord* r) {
            if (!r->record.ParseFromArray(bytes.data(),
                                          static_cast<int>(bytes.size()))) {
              return Corrupt("record", key);
            }
            return absl::OkStatus();
          }));
  kpi::KpiRecord& record = entry->value.record;
  auto* events = record.mutable_events();
  auto before = [](const kpi::KpiEvent& a, const kpi::KpiEvent& b) {
    return std::make_pair(a.at_us(), a.version()) <
           std::make_pair(b.at_us(), b.version());
  };
  const auto index =
      std::upper_bound(events->begin(), events->end(), *event, before) -
      events->begin();
  for (const auto& existing : *events) {
    if (existing.version() == event->version()) return absl::OkStatus();
  }
  if (!caches_->calendars.has_value()) {
    SLATE_ASSIGN_OR_RETURN(LogCalendars loaded, LoadLogCalendars(state));
    caches_->calendars = std::move(loaded.calendars);
  }
  const KpiLogCalendars* calendars = &*caches_->calendars;
  std::optional<KpiContribution>& cached = entry->value.contribution;
  if (!cached.has_value()) {
    cached = ContributeKpiRecord(kind, record, options_, calendars);
  }
  events->Add(std::move(*event));
  // Move the new event (now last) into place.
  std::rotate(events->begin() + index, events->end() - 1, events->end());
  caches_->records.MarkWritten(entry);
  return absl::OkStatus();
}

}  // namespace slate
