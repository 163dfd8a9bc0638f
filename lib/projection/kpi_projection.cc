#include "lib/projection/kpi_projection.h"

#include <algorithm>
#include <deque>
#include <optional>
#include <set>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "absl/strings/str_cat.h"
#include "lib/api/tenant.h"
#include "lib/base/status_macros.h"
#include "lib/projection/decoded_cache.h"
#include "lib/projection/views.h"
#include "proto/calendar.pb.h"

namespace slate {

// service -> the spec bytes of its calendar, for each service with a
// calendar defined: what the services' calendars are built from.
using CalendarSignature = std::map<std::string, std::string>;

// The services' calendars as stored, per tenant, and for change detection
// each calendared service's calendar spec bytes.
struct KpiTenantCalendars {
  // The default tenant's, and those of every tenant that has no service or
  // calendar of its own.
  KpiLogCalendars shared;
  CalendarSignature shared_signature;
  // A tenant with services or calendars of its own -> what it sees (the
  // default tenant's, overridden by its own).
  std::map<std::string, KpiLogCalendars, std::less<>> own;
  std::map<std::string, CalendarSignature, std::less<>> own_signature;

  // `tenant`: "" for the default tenant.
  const KpiLogCalendars& For(absl::string_view tenant) const {
    if (tenant.empty()) return shared;
    auto it = own.find(tenant);
    return it == own.end() ? shared : it->second;
  }
  const CalendarSignature& SignatureFor(absl::string_view tenant) const {
    if (tenant.empty()) return shared_signature;
    auto it = own_signature.find(tenant);
    return it == own_signature.end() ? shared_signature : it->second;
  }
};

namespace {

constexpr int64_t kDayUs = int64_t{86400} * 1000000;
// Survey scores at or above this count as satisfied (CSAT: 4 and 5 of 1..5).
constexpr int32_t kSatisfiedScore = 4;

// Incident status during the replay.
enum Status {
  kNone = 0,
  kOpen = 1,
  kResolved = 2,
  kClosed = 3,
  kCancelled = 4
};

// The fold's texts (services, groups, people, ...) are interned: a record's
// events and the cells' dimensions hold ids, so comparing, hashing and
// copying them costs no string work. Id 0 is "".
using TextId = uint32_t;
constexpr TextId kNoText = 0;

class TextIds {
 public:
  TextIds() { Id(""); }
  TextId Id(absl::string_view s) {
    auto it = ids_.find(s);
    if (it != ids_.end()) return it->second;
    texts_.emplace_back(s);  // A deque: the views below stay valid.
    const auto id = static_cast<TextId>(texts_.size() - 1);
    ids_.emplace(texts_.back(), id);
    return id;
  }
  const std::string& Text(TextId id) const { return texts_[id]; }

 private:
  std::deque<std::string> texts_;
  absl::flat_hash_map<absl::string_view, TextId> ids_;
};

// KpiDims with interned texts (tenant kNoText: the default tenant).
struct DimIds {
  TextId tenant = kNoText;
  TextId service = kNoText;
  int32_t priority = 0;
  TextId group = kNoText;
  TextId category = kNoText;
  TextId contact_type = kNoText;
  friend auto operator<=>(const DimIds&, const DimIds&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const DimIds& d) {
    return H::combine(std::move(h), d.tenant, d.service, d.priority, d.group,
                      d.category, d.contact_type);
  }
};

// A cell: (local day as days since 1970-01-01, dimensions).
struct CellId {
  int64_t day = 0;
  DimIds dims;
  friend auto operator<=>(const CellId&, const CellId&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const CellId& c) {
    return H::combine(std::move(h), c.day, c.dims);
  }
};

const absl::CivilDay kEpochDay(1970, 1, 1);

// One event of a record as kpi::KpiEvent holds it (see kpi.proto), with
// interned texts.
struct KpiEv {
  int64_t at = 0;
  int64_t version = 0;
  int32_t payload = 0;
  int32_t n = 0;
  int32_t m = 0;
  int64_t amount = 0;
  TextId a = kNoText;
  TextId b = kNoText;
  TextId c = kNoText;
};

// What one record contributes: its cells sorted by id (no all-zero one),
// and its priority-1 intervals by service.
struct KpiContribution {
  std::vector<std::pair<CellId, KpiMeasures>> cells;
  std::vector<std::pair<TextId, std::vector<KpiInterval>>> outages;
};

// The contribution of one record of `tenant` (its cells carry it).
class Builder {
 public:
  Builder(const KpiOptions& options, const KpiLogCalendars* from_log,
          const TextIds& texts, bool utc, TextId tenant, KpiContribution* out)
      : options_(options),
        from_log_(from_log),
        texts_(texts),
        utc_(utc),
        tenant_(tenant),
        out_(out) {}

  // The cell of (the local day of `at_us`, dims, the record's tenant). The
  // reference is valid until the next call.
  KpiMeasures& Cell(int64_t at_us, DimIds dims) {
    dims.tenant = tenant_;
    int64_t day;
    if (utc_) {
      day = at_us / kDayUs;
      if (at_us % kDayUs < 0) --day;
    } else {
      day = absl::ToCivilDay(absl::FromUnixMicros(at_us), options_.zone) -
            kEpochDay;
    }
    const CellId id{day, dims};
    for (auto& [k, m] : out_->cells) {
      if (k == id) return m;
    }
    return out_->cells.emplace_back(id, KpiMeasures()).second;
  }

  std::vector<KpiInterval>& Outage(TextId service) {
    for (auto& [s, v] : out_->outages) {
      if (s == service) return v;
    }
    return out_->outages.emplace_back(service, std::vector<KpiInterval>())
        .second;
  }

  int64_t Business(TextId service, int64_t from_us, int64_t to_us) const {
    if (to_us <= from_us) return 0;
    const BusinessCalendar* cal =
        options_.CalendarFor(texts_.Text(service), from_log_);
    if (cal == nullptr) return to_us - from_us;
    return absl::ToInt64Microseconds(cal->Between(absl::FromUnixMicros(from_us),
                                                  absl::FromUnixMicros(to_us)));
  }

  // A stay in the backlog [a, b) (b = nullopt: still there) under `dims`, of
  // a record first opened at t0.
  void Segment(int64_t t0, int64_t a, std::optional<int64_t> b,
               const DimIds& dims) {
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

  void Incident(const std::vector<KpiEv>& ev);
  void Change(const std::vector<KpiEv>& ev);
  void Request(const std::vector<KpiEv>& ev);

 private:
  const KpiOptions& options_;
  const KpiLogCalendars* from_log_;
  const TextIds& texts_;
  const bool utc_;
  const TextId tenant_;
  KpiContribution* out_;
};

// What an incident's events at one instant add to the cell of that
// instant (a KpiMeasures would cost a construction and a full Add).
struct PendingCounts {
  int64_t opened = 0;
  int64_t resolved = 0;
  int64_t closed = 0;
  int64_t reopened = 0;
  int64_t cancelled = 0;
  bool responded = false;  // The first response, with its durations.
  int64_t response_wall = 0;
  int64_t response_business = 0;

  bool Any() const {
    return opened != 0 || resolved != 0 || closed != 0 || reopened != 0 ||
           cancelled != 0 || responded;
  }
  void AddTo(KpiMeasures& m) const {
    m.opened += opened;
    m.resolved += resolved;
    m.closed += closed;
    m.reopened += reopened;
    m.cancelled += cancelled;
    if (!responded) return;
    m.response_count += 1;
    m.response_wall_us += response_wall;
    m.response_wall_sketch.Add(response_wall);
    m.response_business_us += response_business;
    m.response_business_sketch.Add(response_business);
  }
};

void Builder::Incident(const std::vector<KpiEv>& ev) {
  bool opened = false;
  int64_t t0 = 0;
  Status status = kNone;
  DimIds cur;
  bool on_hold = false;
  int64_t hold_start = 0;
  int64_t hold_total = 0;
  bool responded = false;
  bool assigned = false;
  TextId person = kNoText;
  TextId first_person = kNoText;
  int64_t group_changes = 0;
  bool reassigned = false;
  int64_t reopens = 0;
  // The latest resolution, while it is final.
  bool has_res = false;
  int64_t res_at = 0;
  DimIds res_dims;
  bool res_fcr = false;
  int64_t res_hold = 0;
  int64_t res_group_changes = 0;
  // The latest resolution, final or not (a survey rates it), its cycle (1 +
  // reopens before it) and the last cycle a survey response was counted for.
  std::optional<int64_t> last_res_at;
  DimIds last_res_dims;
  int32_t last_res_cycle = 0;
  int32_t surveyed_cycle = 0;
  std::vector<const KpiEv*> surveys;  // Of the current instant.
  // Backlog stay and priority-1 interval in progress.
  bool in_backlog = false;
  int64_t seg_start = 0;
  DimIds seg_dims;
  bool p1_on = false;
  int64_t p1_start = 0;
  TextId p1_service = kNoText;

  for (size_t i = 0; i < ev.size();) {
    const int64_t at = ev[i].at;
    PendingCounts pending;
    bool resolved_here = false;
    for (; i < ev.size() && ev[i].at == at; ++i) {
      const KpiEv& e = ev[i];
      if (e.payload == Envelope::kIncidentPrioritySet) {
        cur.priority = e.n;
        continue;
      }
      if (e.payload == Envelope::kIncidentOpened) {
        if (opened) continue;
        opened = true;
        t0 = at;
        status = kOpen;
        cur.service = e.a;
        cur.category = e.b;
        cur.contact_type = e.c;
        pending.opened += 1;
        continue;
      }
      if (!opened) continue;  // Nothing counts before the record exists.
      switch (e.payload) {
        case Envelope::kIncidentAcknowledged:
        case Envelope::kIncidentAssigned:
          // An assignment after the record left the open states
          // (DomainPolicy::allow_assign_when_resolved) is no response.
          if (!responded && status == kOpen) {
            responded = true;
            pending.responded = true;
            pending.response_wall = std::max<int64_t>(0, at - t0);
            pending.response_business = Business(cur.service, t0, at);
          }
          if (e.payload == Envelope::kIncidentAssigned) {
            if (assigned) {
              if (e.a != cur.group) {
                ++group_changes;
                reassigned = true;
              }
              if (person != kNoText && e.b != person) reassigned = true;
            }
            assigned = true;
            if (first_person == kNoText) first_person = e.b;
            cur.group = e.a;
            person = e.b;
          }
          break;
        case Envelope::kIncidentDetailsUpdated:
          cur.category = e.b;
          cur.contact_type = e.c;
          if (e.n == 1) cur.service = e.a;
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
              reopens == 0 && !reassigned && e.b == kNoText &&
              (first_person == kNoText || e.a == kNoText ||
               e.a == first_person);
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
    if (pending.Any()) pending.AddTo(Cell(at, cur));
    if (resolved_here) {
      res_dims = cur;
      last_res_at = res_at;
      last_res_dims = cur;
      last_res_cycle = static_cast<int32_t>(reopens) + 1;
    }
    // Survey responses: at the resolution they rate (that of their cycle),
    // once per cycle; none if that resolution is not in the timeline.
    for (const KpiEv* e : surveys) {
      if (!last_res_at.has_value() || e->m != last_res_cycle ||
          surveyed_cycle == last_res_cycle) {
        continue;
      }
      surveyed_cycle = last_res_cycle;
      KpiMeasures& m = Cell(*last_res_at, last_res_dims);
      m.survey_responses += 1;
      m.survey_satisfied += e->n >= kSatisfiedScore ? 1 : 0;
      m.survey_score_sum += e->n;
    }
    surveys.clear();
    // Backlog stays and age classes.
    const bool now_open = status == kOpen;
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
      if (at > p1_start) Outage(p1_service).push_back({p1_start, at});
      p1_on = false;
    }
    if (now_p1 && !p1_on) {
      p1_on = true;
      p1_start = at;
      p1_service = cur.service;
    }
  }
  if (in_backlog) Segment(t0, seg_start, std::nullopt, seg_dims);
  if (p1_on) Outage(p1_service).push_back({p1_start, 0});
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

void Builder::Change(const std::vector<KpiEv>& ev) {
  bool requested = false;
  DimIds dims;
  bool closed = false;
  int64_t closed_at = 0;
  int outcome = 0;
  bool caused = false;
  bool reviewed = false;
  for (const KpiEv& e : ev) {
    switch (e.payload) {
      case Envelope::kChangeRequested: {
        if (requested) break;
        requested = true;
        dims.service = e.a;
        KpiMeasures& m = Cell(e.at, dims);
        m.changes_requested += 1;
        m.changes_emergency += e.n == EMERGENCY ? 1 : 0;
        break;
      }
      case Envelope::kChangeClosed:
        closed = true;
        closed_at = e.at;
        outcome = e.n;
        break;
      case Envelope::kChangeIncidentLinked:
        if (e.n == CAUSED_BY) caused = true;
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

void Builder::Request(const std::vector<KpiEv>& ev) {
  bool submitted = false;
  int64_t t0 = 0;
  DimIds dims;
  TextId currency = kNoText;
  int64_t total = 0;
  std::optional<int64_t> approved_at;
  std::optional<int64_t> fulfilled_at;
  std::optional<int32_t> score;  // The first survey response.
  for (const KpiEv& e : ev) {
    if (e.payload == Envelope::kRequestSubmitted) {
      if (submitted) continue;
      submitted = true;
      t0 = e.at;
      dims.service = e.a;
      dims.priority = e.n;
      currency = e.b;
      total = e.amount;
      Cell(t0, dims).requests_opened += 1;
      continue;
    }
    if (!submitted) continue;  // Nothing counts before the record exists.
    switch (e.payload) {
      case Envelope::kRequestApproved:
        if (e.n == 1 && !approved_at.has_value()) approved_at = e.at;
        break;
      case Envelope::kRequestRejected:
        Cell(e.at, dims).requests_rejected += 1;
        break;
      case Envelope::kRequestCancelled:
        Cell(e.at, dims).requests_cancelled += 1;
        break;
      case Envelope::kRequestFulfilled:
        if (!fulfilled_at.has_value()) fulfilled_at = e.at;
        break;
      case Envelope::kSurveyResponseRecorded:
        if (!score.has_value()) score = e.n;
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
  if (total != 0) m.request_cost_cents[texts_.Text(currency)] += total;
  if (score.has_value()) {
    m.request_survey_responses += 1;
    m.request_survey_satisfied += *score >= kSatisfiedScore ? 1 : 0;
    m.request_survey_score_sum += *score;
  }
}

// The KPI-relevant part of an incident, change or request event; nullopt
// for events no definition reads.
std::optional<KpiEv> ToKpiEv(const Envelope& e, TextIds& texts) {
  KpiEv k;
  k.at = e.occurred_at_us();
  k.version = e.version();
  k.payload = static_cast<int32_t>(e.payload_case());
  switch (e.payload_case()) {
    case Envelope::kIncidentOpened:
      k.a = texts.Id(e.incident_opened().service());
      k.b = texts.Id(e.incident_opened().category());
      k.c = texts.Id(e.incident_opened().contact_type());
      break;
    case Envelope::kIncidentAssigned:
      k.a = texts.Id(e.incident_assigned().group());
      k.b = texts.Id(e.incident_assigned().person());
      break;
    case Envelope::kIncidentPrioritySet:
      k.n = e.incident_priority_set().priority();
      break;
    case Envelope::kIncidentResolved:
      k.a = texts.Id(e.incident_resolved().resolved_by());
      k.b = texts.Id(e.incident_resolved().resolved_by_problem());
      break;
    case Envelope::kIncidentDetailsUpdated:
      k.b = texts.Id(e.incident_details_updated().category());
      k.c = texts.Id(e.incident_details_updated().contact_type());
      if (e.incident_details_updated().has_service()) {
        k.a = texts.Id(e.incident_details_updated().service());
        k.n = 1;
      }
      break;
    case Envelope::kSurveyResponseRecorded:
      k.n = e.survey_response_recorded().score();
      k.m = e.survey_response_recorded().resolution_cycle();
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
        k.a = texts.Id(e.change_requested().services(0));
      }
      k.n = e.change_requested().type();
      break;
    case Envelope::kChangeClosed:
      k.n = e.change_closed().outcome();
      break;
    case Envelope::kChangeIncidentLinked:
      k.n = e.change_incident_linked().relation();
      break;
    case Envelope::kChangeReviewed:
      break;
    case Envelope::kRequestSubmitted: {
      const RequestSubmitted& p = e.request_submitted();
      k.a = texts.Id(p.service());
      k.n = p.priority();
      int64_t total = 0;
      for (const RequestLine& line : p.lines()) {
        total += line.unit_price_cents() * line.quantity();
        if (k.b == kNoText) k.b = texts.Id(line.currency());
      }
      k.amount = total;
      break;
    }
    case Envelope::kRequestApproved:
      k.n = e.request_approved().complete() ? 1 : 0;
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

// Closed or cancelled (an incident whose last status event closed or
// cancelled it; a closed change; a fulfilled, rejected or cancelled
// request): few events follow, so such a record is the first to leave
// memory.
bool Finished(const std::vector<KpiEv>& events) {
  for (auto it = events.rbegin(); it != events.rend(); ++it) {
    switch (it->payload) {
      case Envelope::kIncidentClosed:
      case Envelope::kIncidentCancelled:
      case Envelope::kChangeClosed:
      case Envelope::kRequestFulfilled:
      case Envelope::kRequestRejected:
      case Envelope::kRequestCancelled:
        return true;
      case Envelope::kIncidentOpened:
      case Envelope::kIncidentResolved:
      case Envelope::kIncidentReopened:
        return false;
      default:
        break;
    }
  }
  return false;
}

// "incident", "change", "request", ... of a record stream, in any tenant.
absl::string_view KindOf(absl::string_view stream) {
  const absl::string_view local = SplitTenantStream(stream).local;
  return local.substr(0, local.find('/'));
}

absl::Status Corrupt(absl::string_view what, absl::string_view key) {
  return absl::DataLossError(
      absl::StrCat("kpi projection: undecodable ", what, " at key ", key));
}

// A day cell kept decoded (CellMap) between flushes.
struct CellEntry {
  KpiMeasures value;
  bool present = false;  // The state holds it, or will after the flush.
  bool dirty = false;    // Changed since the last flush.
  uint64_t used = 0;     // Caches::tick when last changed.
};
using CellMap = absl::node_hash_map<CellId, CellEntry>;

// A record kept decoded between flushes, by stream.
struct RecordEntry {
  std::vector<KpiEv> events;  // Sorted by (at, version).
  // While dirty: the record's contribution as the cells hold it, computed
  // when the first event since the last flush arrived.
  std::optional<KpiContribution> before;
  bool dirty = false;
  uint64_t used = 0;  // Caches::tick when last folded into.
};
using RecordMap = absl::node_hash_map<std::string, RecordEntry>;

// Keeps the `max / 2` entries used last of a map of clean entries holding
// more than `max`.
template <typename Map>
void Trim(Map& map, size_t max) {
  if (map.size() <= max) return;
  std::vector<uint64_t> ticks;
  ticks.reserve(map.size());
  for (const auto& [key, e] : map) ticks.push_back(e.used);
  const uint64_t min_kept = MinKeptTick(std::move(ticks), max / 2);
  for (auto it = map.begin(); it != map.end();) {
    if (it->second.used < min_kept) {
      map.erase(it++);
    } else {
      ++it;
    }
  }
}

absl::Status ApplyService(const Envelope& e, absl::string_view tenant,
                          absl::string_view id, ProjectionState& state) {
  const ServiceSpec* spec = nullptr;
  if (e.has_service_defined()) spec = &e.service_defined().spec();
  if (e.has_service_updated()) spec = &e.service_updated().spec();
  if (spec == nullptr) return absl::OkStatus();
  const std::string key = kpi::ServiceKey(id, tenant);
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

CalendarSignature SignatureOf(
    const std::map<std::string, KpiServiceTarget>& services,
    const std::map<std::string, std::string>& specs) {
  CalendarSignature out;
  for (const auto& [service, target] : services) {
    auto it = specs.find(target.calendar_id);
    if (it != specs.end()) out[service] = it->second;
  }
  return out;
}

absl::StatusOr<KpiTenantCalendars> LoadLogCalendars(ProjectionState& state) {
  KpiRollup config;  // Only the services and calendars.
  SLATE_RETURN_IF_ERROR(LoadKpiConfig(
      [&state](absl::string_view prefix,
               const std::function<bool(absl::string_view, absl::string_view)>&
                   fn) { return state.Scan(prefix, fn); },
      &config));
  KpiTenantCalendars out;
  out.shared = KpiCalendarsOf(config.services, config.calendar_specs);
  out.shared_signature = SignatureOf(config.services, config.calendar_specs);
  std::set<std::string> tenants;
  for (const auto& [t, v] : config.tenant_services) tenants.insert(t);
  for (const auto& [t, v] : config.tenant_calendar_specs) tenants.insert(t);
  for (const std::string& t : tenants) {
    const auto services = config.ServicesOf(t);
    const auto specs = config.CalendarSpecsOf(t);
    out.own[t] = KpiCalendarsOf(services, specs);
    out.own_signature[t] = SignatureOf(services, specs);
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


// Everything the projection keeps in memory between events: the records
// and day cells folded since they were last read from the state, typed and
// decoded (serialized only in Flush), and the interned texts they use.
struct KpiProjection::Caches {
  explicit Caches(const KpiOptions& options)
      : options(options),
        utc(options.zone == absl::UTCTimeZone()),
        max_records(4 * options.cached_records),
        max_cells(16 * options.cached_records) {}

  // The contribution of the record `stream` (an incident, change or
  // request of any tenant) with these events, sorted by (at, version),
  // under the calendars of its tenant in `calendars`.
  KpiContribution Contribute(absl::string_view stream,
                             const std::vector<KpiEv>& events,
                             const KpiTenantCalendars& calendars) {
    KpiContribution c;
    c.cells.reserve(8);  // An incident's usually fit.
    const absl::string_view tenant = KpiTenantOf(stream);
    const absl::string_view kind = KindOf(stream);
    Builder b(options, &calendars.For(tenant), texts, utc,
              tenant.empty() ? kNoText : texts.Id(tenant), &c);
    if (kind == "incident") b.Incident(events);
    if (kind == "change") b.Change(events);
    if (kind == "request") b.Request(events);
    std::erase_if(c.cells, [](const auto& cell) { return cell.second.IsZero(); });
    std::sort(c.cells.begin(), c.cells.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    return c;
  }

  std::string CellKeyOf(const CellId& id) const {
    return kpi::CellKey(
        kEpochDay + id.day,
        KpiDimsView{texts.Text(id.dims.tenant), texts.Text(id.dims.service),
                    id.dims.priority, texts.Text(id.dims.group),
                    texts.Text(id.dims.category),
                    texts.Text(id.dims.contact_type)});
  }

  // Adds sign * m to the cell `id`, read from `state` on first use.
  absl::Status AddToCell(const CellId& id, const KpiMeasures& m, int sign,
                         ProjectionState& state) {
    auto [it, inserted] = cells.try_emplace(id);
    CellEntry& cell = it->second;
    if (inserted) {
      const std::string key = CellKeyOf(id);
      absl::StatusOr<std::optional<std::string>> bytes = state.Get(key);
      absl::Status st = bytes.status();
      if (st.ok() && bytes->has_value()) {
        kpi::KpiCell proto;
        if (!proto.ParseFromString(**bytes)) {
          st = Corrupt("cell", key);
        } else if (auto parsed = KpiMeasures::FromProto(proto); !parsed.ok()) {
          st = Corrupt("cell sketch", key);
        } else {
          cell.value = std::move(*parsed);
        }
      }
      if (!st.ok()) {
        cells.erase(it);  // No half-read cell stays behind.
        return st;
      }
    }
    cell.used = ++tick;
    cell.value.Add(m, sign);
    cell.present = !cell.value.IsZero();
    if (!cell.dirty) {
      cell.dirty = true;
      dirty_cells.push_back(&*it);
    }
    return absl::OkStatus();
  }

  // Moves the cells from a record's contribution `old_c` to `new_c`, and
  // writes its outage intervals that changed.
  absl::Status ApplyDiff(absl::string_view stream,
                         const KpiContribution& old_c,
                         const KpiContribution& new_c,
                         ProjectionState& state) {
    auto o = old_c.cells.begin();
    auto n = new_c.cells.begin();
    while (o != old_c.cells.end() || n != new_c.cells.end()) {
      if (n == new_c.cells.end() ||
          (o != old_c.cells.end() && o->first < n->first)) {
        SLATE_RETURN_IF_ERROR(AddToCell(o->first, o->second, -1, state));
        ++o;
      } else if (o == old_c.cells.end() || n->first < o->first) {
        SLATE_RETURN_IF_ERROR(AddToCell(n->first, n->second, 1, state));
        ++n;
      } else {
        if (n->second != o->second) {
          KpiMeasures delta = n->second;
          delta.Add(o->second, -1);
          SLATE_RETURN_IF_ERROR(AddToCell(n->first, delta, 1, state));
        }
        ++o;
        ++n;
      }
    }
    // Outage intervals: one key per (service, record).
    static const std::vector<KpiInterval> kNone;
    auto of = [](const KpiContribution& c,
                 TextId s) -> const std::vector<KpiInterval>& {
      for (const auto& [service, v] : c.outages) {
        if (service == s) return v;
      }
      return kNone;
    };
    std::vector<TextId> services;
    for (const auto& [s, v] : old_c.outages) services.push_back(s);
    for (const auto& [s, v] : new_c.outages) services.push_back(s);
    std::sort(services.begin(), services.end());
    services.erase(std::unique(services.begin(), services.end()),
                   services.end());
    for (TextId s : services) {
      const auto& before = of(old_c, s);
      const auto& after = of(new_c, s);
      if (before == after) continue;
      const std::string key = kpi::OutageKey(texts.Text(s), stream);
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

  // A stored kpi::KpiRecord's events.
  absl::Status ParseRecord(absl::string_view bytes, absl::string_view key,
                           std::vector<KpiEv>* events) {
    if (!scratch.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      return Corrupt("record", key);
    }
    events->clear();
    events->reserve(static_cast<size_t>(scratch.events_size()));
    for (const kpi::KpiEvent& p : scratch.events()) {
      KpiEv& e = events->emplace_back();
      e.at = p.at_us();
      e.version = p.version();
      e.payload = p.payload();
      e.n = p.n();
      e.m = p.m();
      e.amount = p.amount();
      e.a = texts.Id(p.a());
      e.b = texts.Id(p.b());
      e.c = texts.Id(p.c());
    }
    return absl::OkStatus();
  }

  // The bytes ParseRecord reads: the deterministic serialization of the
  // kpi::KpiRecord, written by hand (fields in number order, defaults
  // omitted, int32s sign-extended) into `out`.
  void SerializeRecord(const std::vector<KpiEv>& events, std::string* out) {
    out->clear();
    for (const KpiEv& e : events) {
      std::string& ev = event_bytes;
      ev.clear();
      auto varint = [&ev](int field, int64_t v) {
        if (v != 0) kpi::PutVarintField(&ev, field, static_cast<uint64_t>(v));
      };
      auto text = [&](int field, TextId id) {
        if (id != kNoText) kpi::PutBytesField(&ev, field, texts.Text(id));
      };
      varint(kpi::KpiEvent::kAtUsFieldNumber, e.at);
      varint(kpi::KpiEvent::kVersionFieldNumber, e.version);
      varint(kpi::KpiEvent::kPayloadFieldNumber, e.payload);
      text(kpi::KpiEvent::kAFieldNumber, e.a);
      text(kpi::KpiEvent::kBFieldNumber, e.b);
      text(kpi::KpiEvent::kCFieldNumber, e.c);
      varint(kpi::KpiEvent::kNFieldNumber, e.n);
      varint(kpi::KpiEvent::kMFieldNumber, e.m);
      varint(kpi::KpiEvent::kAmountFieldNumber, e.amount);
      kpi::PutBytesField(out, kpi::KpiRecord::kEventsFieldNumber, ev);
    }
  }

  // After a flush (everything clean): finished records leave memory, then
  // the records and cells used longest ago while over their bounds.
  void Evict() {
    for (auto it = records.begin(); it != records.end();) {
      if (Finished(it->second.events)) {
        records.erase(it++);
      } else {
        ++it;
      }
    }
    Trim(records, max_records);
    Trim(cells, max_cells);
  }

  void Clear() {
    records.clear();
    dirty_records.clear();
    cells.clear();
    dirty_cells.clear();
    calendars.reset();
  }

  const KpiOptions& options;
  const bool utc;  // options.zone is UTC: days by division.
  const size_t max_records;
  const size_t max_cells;
  TextIds texts;  // Kept by Clear: ids are only compared.
  RecordMap records;
  std::vector<RecordMap::value_type*> dirty_records;
  CellMap cells;
  std::vector<CellMap::value_type*> dirty_cells;
  uint64_t tick = 0;
  std::optional<KpiTenantCalendars> calendars;  // nullopt: not loaded.
  kpi::KpiRecord scratch;   // Reused by ParseRecord.
  std::string event_bytes;  // Reused by SerializeRecord.
  std::string value;        // Reused by Flush: the bytes of one value.
};

KpiProjection::KpiProjection(KpiOptions options)
    : options_(std::move(options)),
      caches_(std::make_unique<Caches>(options_)) {}
KpiProjection::~KpiProjection() = default;

bool KpiProjection::WantsFlush() const {
  return caches_->records.size() > caches_->max_records ||
         caches_->cells.size() > caches_->max_cells;
}

void KpiProjection::Discard() { caches_->Clear(); }

absl::Status KpiProjection::ApplyConfig(const Envelope& e,
                                        absl::string_view kind,
                                        absl::string_view tenant,
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
  SLATE_ASSIGN_OR_RETURN(KpiTenantCalendars before, LoadLogCalendars(state));
  if (kind == "service") {
    SLATE_RETURN_IF_ERROR(ApplyService(e, tenant, id, state));
  } else {
    const CalendarSpec& spec = e.calendar_defined().spec();
    const std::string name = spec.name().empty() ? std::string(id) : spec.name();
    state.Put(kpi::CalendarKey(name, tenant), SerializeDeterministic(spec));
  }
  SLATE_ASSIGN_OR_RETURN(KpiTenantCalendars after, LoadLogCalendars(state));
  SLATE_RETURN_IF_ERROR(RecomputeRecords(before, after, state));
  caches_->calendars = std::move(after);
  return absl::OkStatus();
}


absl::Status KpiProjection::RecomputeRecords(const KpiTenantCalendars& before,
                                             const KpiTenantCalendars& after,
                                             ProjectionState& state) {
  // Only the records of tenants whose calendars changed move.
  auto changed = [&](absl::string_view tenant) {
    return before.SignatureFor(tenant) != after.SignatureFor(tenant);
  };
  if (!changed("") &&
      std::none_of(after.own_signature.begin(), after.own_signature.end(),
                   [&](const auto& t) { return changed(t.first); }) &&
      std::none_of(before.own_signature.begin(), before.own_signature.end(),
                   [&](const auto& t) { return changed(t.first); })) {
    return absl::OkStatus();
  }
  std::vector<std::pair<std::string, std::string>> records;
  SLATE_RETURN_IF_ERROR(state.Scan(
      kpi::kRecordPrefix, [&](absl::string_view key, absl::string_view value) {
        if (changed(KpiTenantOf(key.substr(kpi::kRecordPrefix.size())))) {
          records.emplace_back(std::string(key), std::string(value));
        }
        return true;
      }));
  Caches& c = *caches_;
  std::vector<KpiEv> events;
  for (const auto& [key, value] : records) {
    SLATE_RETURN_IF_ERROR(c.ParseRecord(value, key, &events));
    const absl::string_view stream =
        absl::string_view(key).substr(kpi::kRecordPrefix.size());
    SLATE_RETURN_IF_ERROR(c.ApplyDiff(stream,
                                      c.Contribute(stream, events, before),
                                      c.Contribute(stream, events, after),
                                      state));
  }
  return Flush(state);  // No record is cached: nothing stale.
}

absl::Status KpiProjection::Flush(ProjectionState& state) {
  Caches& c = *caches_;
  // The changed records' cells, each from its contribution before its
  // first event since the last flush to its contribution now (integer sums
  // and exact sketches: the order does not matter).
  for (RecordMap::value_type* entry : c.dirty_records) {
    const absl::string_view stream = entry->first;
    RecordEntry& r = entry->second;
    absl::Status st = c.ApplyDiff(
        stream, *r.before,
        c.Contribute(stream, r.events, *c.calendars), state);
    if (!st.ok()) {
      Discard();  // The cells may be half-changed.
      return st;
    }
    r.before.reset();
  }
  for (CellMap::value_type* entry : c.dirty_cells) {
    CellEntry& cell = entry->second;
    const std::string key = c.CellKeyOf(entry->first);
    if (cell.present) {
      cell.value.EncodeTo(&c.value);
      state.Put(key, c.value);
    } else {
      state.Delete(key);
    }
    cell.dirty = false;
  }
  c.dirty_cells.clear();
  for (RecordMap::value_type* entry : c.dirty_records) {
    c.SerializeRecord(entry->second.events, &c.value);
    state.Put(kpi::RecordKey(entry->first), c.value);
    entry->second.dirty = false;
  }
  c.dirty_records.clear();
  c.Evict();
  return absl::OkStatus();
}

absl::Status KpiProjection::Apply(const Envelope& e, ProjectionState& state) {
  const absl::string_view stream = e.stream();
  const TenantStreamParts parts = SplitTenantStream(stream);
  const size_t slash = parts.local.find('/');
  if (slash == absl::string_view::npos) return absl::OkStatus();
  const absl::string_view kind = parts.local.substr(0, slash);
  if (kind == "service" || kind == "calendar") {
    return ApplyConfig(e, kind, KpiTenantOf(stream),
                       parts.local.substr(slash + 1), state);
  }
  if (kind != "incident" && kind != "change" && kind != "request") {
    return absl::OkStatus();
  }
  Caches& c = *caches_;
  std::optional<KpiEv> event = ToKpiEv(e, c.texts);
  if (!event.has_value()) return absl::OkStatus();

  auto it = c.records.find(stream);
  if (it == c.records.end()) {
    const std::string key = kpi::RecordKey(stream);
    SLATE_ASSIGN_OR_RETURN(std::optional<std::string> bytes, state.Get(key));
    std::vector<KpiEv> events;
    if (bytes.has_value()) {
      SLATE_RETURN_IF_ERROR(c.ParseRecord(*bytes, key, &events));
    }
    it = c.records.try_emplace(std::string(stream)).first;
    it->second.events = std::move(events);
  }
  RecordEntry& r = it->second;
  r.used = ++c.tick;
  std::vector<KpiEv>& events = r.events;
  for (const KpiEv& existing : events) {
    if (existing.version == event->version) return absl::OkStatus();
  }
  if (!c.calendars.has_value()) {
    SLATE_ASSIGN_OR_RETURN(KpiTenantCalendars loaded, LoadLogCalendars(state));
    c.calendars = std::move(loaded);
  }
  if (!r.before.has_value()) {
    r.before = events.empty() ? KpiContribution()
                              : c.Contribute(stream, events, *c.calendars);
  }
  const auto at = std::upper_bound(
      events.begin(), events.end(), *event, [](const KpiEv& a, const KpiEv& b) {
        return std::make_pair(a.at, a.version) <
               std::make_pair(b.at, b.version);
      });
  events.insert(at, *event);
  if (!r.dirty) {
    r.dirty = true;
    c.dirty_records.push_back(&*it);
  }
  return absl::OkStatus();
}

}  // namespace slate
