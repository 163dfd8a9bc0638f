#include "lib/projection/sla_projection.h"

#include <algorithm>
#include <array>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "lib/api/tenant.h"
#include "lib/base/status_macros.h"
#include "lib/calendar/business_calendar.h"
#include "lib/domain/change.h"
#include "lib/domain/incident.h"
#include "lib/domain/request.h"
#include "lib/projection/decoded_cache.h"
#include "lib/projection/views.h"
#include "lib/sla/business_time.h"
#include "lib/sla/calendar_business_time.h"
#include "lib/sla/sla_clock.h"
#include "lib/sla/sla_policy.h"
#include "proto/commands.pb.h"
#include "proto/sla_projection.pb.h"

namespace slate {
namespace {

constexpr absl::string_view kPolPrefix = "pol/";
constexpr absl::string_view kCalPrefix = "cal/";
constexpr absl::string_view kRecPrefix = "rec/";
constexpr absl::string_view kClkPrefix = "clk/";
constexpr absl::string_view kDuePrefix = "due/";
constexpr absl::string_view kRetPrefix = "ret/";
constexpr absl::string_view kPovPrefix = "pov/";
constexpr absl::string_view kRetiredReason = "policy retired";
constexpr absl::string_view kUnmatchedReason = "no longer matches the policy";
// Number of configuration (policy/calendar) events folded; the cache of
// parsed policies and calendars is valid while it matches.
constexpr absl::string_view kGenKey = "gen";
// The latest occurred_at of any record event folded (replay watermark).
constexpr absl::string_view kWatermarkKey = "wm";

constexpr SlaMetric kMetrics[] = {SLA_METRIC_RESPONSE, SLA_METRIC_RESOLUTION,
                                  SLA_METRIC_UPDATE};
constexpr int kBreachIndex = -1;

// Instants as 16 hex digits with the sign bit flipped: byte order = time.
std::string TimeHex(int64_t us) {
  return absl::StrCat(absl::Hex(static_cast<uint64_t>(us) ^ (1ULL << 63),
                                absl::kZeroPad16));
}
bool ParseTimeHex(absl::string_view hex, int64_t* us) {
  uint64_t u = 0;
  if (hex.size() != 16 || !absl::SimpleHexAtoi(hex, &u)) return false;
  *us = static_cast<int64_t>(u ^ (1ULL << 63));
  return true;
}

std::string RecKey(absl::string_view stream) {
  return absl::StrCat(kRecPrefix, stream);
}
std::string ClkPrefix(absl::string_view stream) {
  return absl::StrCat(kClkPrefix, stream, "|");
}
// Appends the `digits` low hex digits of v, zero-padded, lower case (as
// absl::Hex with kZeroPad<digits> writes a value that fits them).
void AppendHex(uint64_t v, int digits, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  const size_t at = out->size();
  out->resize(at + static_cast<size_t>(digits));
  char* p = out->data() + at;
  for (int i = digits - 1; i >= 0; --i, v >>= 4) p[i] = kHex[v & 0xf];
}

// DueKey into *out, its buffer reused (a flush builds one or two per
// clock it writes). Appended by hand: absl::StrAppend's formatting was
// ~10 % of SlaProjection::Flush with the clock keys (fold_bench
// FoldOne/sla, callgrind).
void DueKeyTo(int64_t due_us, absl::string_view clock_key, std::string* out) {
  out->clear();
  out->reserve(kDuePrefix.size() + 17 + clock_key.size());
  out->append(kDuePrefix.data(), kDuePrefix.size());
  AppendHex(static_cast<uint64_t>(due_us) ^ (1ULL << 63), 16, out);
  out->push_back('|');
  out->append(clock_key.data(), clock_key.size());
}
std::string DueKey(int64_t due_us, absl::string_view clock_key) {
  std::string key;
  DueKeyTo(due_us, clock_key, &key);
  return key;
}
// SlaClockKey into *out, its buffer reused.
void ClockKeyTo(absl::string_view stream, absl::string_view policy_id,
                SlaMetric metric, int64_t cycle, std::string* out) {
  out->clear();
  const int m = static_cast<int>(metric);
  if (m < 0 || m > 9 || cycle < 0 || cycle > 0xffffffff) {
    absl::StrAppend(out, kClkPrefix, stream, "|", policy_id, "|", m, "|",
                    absl::Hex(cycle, absl::kZeroPad8));
    return;
  }
  out->reserve(kClkPrefix.size() + stream.size() + policy_id.size() + 12);
  out->append(kClkPrefix.data(), kClkPrefix.size());
  out->append(stream.data(), stream.size());
  out->push_back('|');
  out->append(policy_id.data(), policy_id.size());
  out->push_back('|');
  out->push_back(static_cast<char>('0' + m));
  out->push_back('|');
  AppendHex(static_cast<uint64_t>(cycle), 8, out);
}

absl::string_view IncidentStateName(IncidentStatus s) {
  switch (s) {
    case INCIDENT_NEW:
      return "new";
    case INCIDENT_IN_PROGRESS:
      return "in_progress";
    case INCIDENT_ON_HOLD:
      return "on_hold";
    case INCIDENT_RESOLVED:
      return "resolved";
    case INCIDENT_CLOSED:
      return "closed";
    case INCIDENT_CANCELLED:
      return "cancelled";
    default:
      return "";
  }
}

// An enum value's name as SLA conditions write states: `prefix` dropped,
// lower case ("CHANGE_IMPLEMENTED" -> "implemented").
std::string StateName(std::string name, absl::string_view prefix) {
  if (absl::StartsWith(name, prefix)) name.erase(0, prefix.size());
  return absl::AsciiStrToLower(name);
}

std::string ChangeStateName(ChangeStatus s) {
  return StateName(ChangeStatus_Name(s), "CHANGE_");
}

// A request's state name for SLA conditions: "awaiting_approval",
// "in_fulfilment", "fulfilled", "closed", "rejected", "cancelled".
std::string RequestStateName(RequestStatus s) {
  return StateName(RequestStatus_Name(s), "REQUEST_");
}

// --- Transition names as ids (SlaNameIds) ------------------------------------
// An event is its Envelope payload field number (0: none), a state its
// index in StateTable::names, a hold reason its HoldReason value
// (kNoHoldReason: ""). The rules are compiled to these once per policy
// version, and an event's transition is three integers: string compares
// and the names' copies were ~12 % of SlaProjection::Apply (fold_bench
// FoldOne/sla).
constexpr int kNoHoldReason = std::numeric_limits<int>::min();

template <typename Enum>
void AddEnumStates(const google::protobuf::EnumDescriptor* d,
                   std::string (*name)(Enum), std::vector<int>* by_value,
                   const std::function<int(std::string)>& intern) {
  for (int i = 0; i < d->value_count(); ++i) {
    const int v = d->value(i)->number();
    if (v < 0) continue;
    if (static_cast<size_t>(v) >= by_value->size()) {
      by_value->resize(static_cast<size_t>(v) + 1, 0);  // 0: "".
    }
    (*by_value)[static_cast<size_t>(v)] = intern(name(static_cast<Enum>(v)));
  }
}

std::string IncidentStateString(IncidentStatus s) {
  return std::string(IncidentStateName(s));
}

// Every state name a record can be in, and each status value's.
struct StateTable {
  std::vector<std::string> names;  // By id; names[0] = "".
  absl::flat_hash_map<std::string, int> ids;
  std::vector<int> incident, change, request;  // Status value -> id.
  int on_hold = -1;

  StateTable() {
    auto intern = [this](std::string n) {
      auto [it, inserted] = ids.try_emplace(n, static_cast<int>(names.size()));
      if (inserted) names.push_back(std::move(n));
      return it->second;
    };
    intern("");
    AddEnumStates<IncidentStatus>(IncidentStatus_descriptor(),
                                  &IncidentStateString, &incident, intern);
    AddEnumStates<ChangeStatus>(ChangeStatus_descriptor(), &ChangeStateName,
                                &change, intern);
    AddEnumStates<RequestStatus>(RequestStatus_descriptor(), &RequestStateName,
                                 &request, intern);
    auto it = ids.find("on_hold");
    if (it != ids.end()) on_hold = it->second;
  }
  // A status value's state id (a value the enum does not name: "", as its
  // name then is).
  static int Of(const std::vector<int>& by_value, int value) {
    return value >= 0 && static_cast<size_t>(value) < by_value.size()
               ? by_value[static_cast<size_t>(value)]
               : 0;
  }
};

const StateTable& States() {
  static const StateTable* table = new StateTable();
  return *table;
}

const SlaNameIds& NameIds() {
  static const SlaNameIds* ids = [] {
    auto* n = new SlaNameIds();
    n->event = [](absl::string_view name) {
      static const auto* numbers = [] {
        auto* m = new absl::flat_hash_map<std::string, int>();
        const auto* oneof =
            Envelope::descriptor()->FindOneofByName("payload");
        for (int i = 0; i < oneof->field_count(); ++i) {
          (*m)[oneof->field(i)->name()] = oneof->field(i)->number();
        }
        (*m)[""] = 0;  // An event without a payload.
        return m;
      }();
      auto it = numbers->find(name);
      return it == numbers->end() ? -1 : it->second;
    };
    n->state = [](absl::string_view name) {
      auto it = States().ids.find(name);
      return it == States().ids.end() ? -1 : it->second;
    };
    n->hold_reason = [](absl::string_view name) {
      if (name.empty()) return kNoHoldReason;
      HoldReason r;
      return HoldReason_Parse(std::string(name), &r) ? static_cast<int>(r)
                                                      : -1;
    };
    return n;
  }();
  return *ids;
}

// The names of a transition (pause reasons are written with them).
absl::string_view StateNameOf(int state) {
  return States().names[static_cast<size_t>(state)];
}
std::string HoldReasonNameOf(int hold_reason) {
  return hold_reason == kNoHoldReason
             ? std::string()
             : HoldReason_Name(static_cast<HoldReason>(hold_reason));
}

// "incident/INC1" (or "tenant/acme/incident/INC1") -> "incident"
// ("change", "request"); "" for other kinds.
absl::string_view RecordType(absl::string_view stream) {
  stream = SplitTenantStream(stream).local;
  if (absl::StartsWith(stream, "incident/")) return "incident";
  if (absl::StartsWith(stream, "change/")) return "change";
  if (absl::StartsWith(stream, "request/")) return "request";
  return "";
}

// A record type's bit for PolicyEntry::Applies, 0 for any other type.
constexpr uint8_t kIncidentBit = 1;
constexpr uint8_t kChangeBit = 2;
constexpr uint8_t kRequestBit = 4;
uint8_t RecordTypeBit(absl::string_view type) {
  if (type == "incident") return kIncidentBit;
  if (type == "change") return kChangeBit;
  if (type == "request") return kRequestBit;
  return 0;
}

template <typename M>
absl::Status ParseStored(absl::string_view bytes, absl::string_view key,
                         M* m) {
  if (!m->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::DataLossError(
        absl::StrCat("sla projection: value of \"", key, "\" is undecodable"));
  }
  return absl::OkStatus();
}

// --- Configuration ---------------------------------------------------------

// One version of a policy: a SlaPolicyDefined, in force from from_us.
struct PolicyEntry {
  SlaPolicy policy;
  int64_t from_us = 0;
  bool apply_to_running = false;
  // From a SlaPolicyRetired event: the instant it retired.
  std::optional<int64_t> retired_at_us;
  bool RetiredBy(int64_t at_us) const {
    return retired_at_us.has_value() && *retired_at_us <= at_us;
  }
  // Null while the policy's calendar is not defined: it attaches nothing.
  std::shared_ptr<const BusinessTime> business;
  // SlaRulesFor(policy, metric) compiled (NameIds), by metric (see Rules),
  // and the supplier hold reasons of a UC policy as ids.
  std::array<SlaCompiledRules, 3> rules;
  std::vector<int> supplier_holds;
  // SlaHasTarget(policy, metric, priority) for priorities below
  // kTargetPriorities, one bit per RulesIndex(metric): asked for every
  // policy at every event (it was ~4 % of an SLA rebuild, fold_bench
  // FoldOne/sla, with SlaPolicyApplies as much again).
  static constexpr int kTargetPriorities = 32;
  std::array<uint8_t, kTargetPriorities> targets{};
  // applies_to.record_types as bits of RecordTypeBit; 0: any type.
  uint8_t record_type_bits = 0;
  void Compile() {
    const SlaNameIds& ids = NameIds();
    for (int pr = 0; pr < kTargetPriorities; ++pr) {
      uint8_t bits = 0;
      for (SlaMetric m : {SLA_METRIC_RESPONSE, SLA_METRIC_RESOLUTION,
                          SLA_METRIC_UPDATE}) {
        if (SlaHasTarget(policy, m, pr)) bits |= 1 << RulesIndex(m);
      }
      targets[static_cast<size_t>(pr)] = bits;
    }
    record_type_bits = 0;
    for (const std::string& t : policy.applies_to().record_types()) {
      // Validated: one of the three (an unknown one would match nothing,
      // as its bit matches no record).
      record_type_bits |= RecordTypeBit(t) == 0 ? 0x80 : RecordTypeBit(t);
    }
    for (SlaMetric m : {SLA_METRIC_RESPONSE, SLA_METRIC_RESOLUTION,
                        SLA_METRIC_UPDATE}) {
      rules[RulesIndex(m)] =
          SlaCompileRules(SlaRulesFor(policy, m), ids, States().on_hold);
    }
    supplier_holds.clear();
    for (const std::string& r : policy.supplier_hold_reasons()) {
      const int id = ids.hold_reason(r);
      if (id != -1) supplier_holds.push_back(id);
    }
  }
  // As SlaRulesFor: an unknown metric has the resolution's rules.
  static size_t RulesIndex(SlaMetric m) {
    return m == SLA_METRIC_RESPONSE ? 0 : m == SLA_METRIC_UPDATE ? 2 : 1;
  }
  const SlaCompiledRules& Rules(SlaMetric m) const {
    return rules[RulesIndex(m)];
  }
  // SlaHasTarget(policy, m, priority).
  bool HasTarget(SlaMetric m, int priority) const {
    if (priority < 0 || priority >= kTargetPriorities) {
      return SlaHasTarget(policy, m, priority);
    }
    return (targets[static_cast<size_t>(priority)] >> RulesIndex(m)) & 1;
  }
  // Whether the policy has a target for any metric at `priority`.
  bool HasAnyTarget(int priority) const {
    if (priority < 0 || priority >= kTargetPriorities) {
      for (SlaMetric m : kMetrics) {
        if (SlaHasTarget(policy, m, priority)) return true;
      }
      return false;
    }
    return targets[static_cast<size_t>(priority)] != 0;
  }
  // SlaPolicyApplies(policy, a), the record type compared as a bit.
  bool Applies(const SlaRecordAttributes& a) const {
    const SlaAppliesTo& to = policy.applies_to();
    if (record_type_bits != 0 &&
        (record_type_bits & RecordTypeBit(a.record_type)) == 0) {
      return false;
    }
    auto in = [](const auto& list, const auto& v) {
      return list.empty() ||
             std::find(list.begin(), list.end(), v) != list.end();
    };
    return in(to.priorities(), a.priority) && in(to.services(), a.service) &&
           in(to.categories(), a.category);
  }
  // What the members below keep per (metric, priority): made by make()
  // the first time it is asked, then kept for the configuration's life.
  template <typename V>
  using ByMetricPriority = absl::flat_hash_map<std::pair<int, int>, V>;
  template <typename V, typename Make>
  static const V& Memo(ByMetricPriority<V>& map, SlaMetric metric,
                       int priority, Make&& make) {
    const std::pair<int, int> key(static_cast<int>(metric), priority);
    auto it = map.find(key);
    if (it == map.end()) it = map.emplace(key, make()).first;
    return it->second;
  }
  // SlaClockSpecFor(policy, metric, priority, ""): parsing the targets at
  // every attach was ~2 % of an SLA rebuild.
  mutable ByMetricPriority<absl::StatusOr<SlaClockSpec>> specs;
  const absl::StatusOr<SlaClockSpec>& SpecFor(SlaMetric metric,
                                              int priority) const {
    return Memo(specs, metric, priority, [&] {
      return SlaClockSpecFor(policy, metric, priority, "");
    });
  }
  // SlaTargetOf(policy, metric, priority): a priority change asks it for
  // every clock, and parsing the target text each time was ~150
  // instructions per event of FoldOne/sla.
  mutable ByMetricPriority<std::optional<SlaTarget>> target_of;
  const std::optional<SlaTarget>& TargetOf(SlaMetric metric,
                                           int priority) const {
    return Memo(target_of, metric, priority,
                [&] { return SlaTargetOf(policy, metric, priority); });
  }
  // SlaClock::Create(SpecFor(metric, priority)), its record unnamed: an
  // attach copies it (creating each clock from its spec was ~20 % of
  // RecordFold::Step).
  mutable ByMetricPriority<absl::StatusOr<SlaClock>> clocks;
  const absl::StatusOr<SlaClock>& ClockFor(SlaMetric metric,
                                           int priority) const {
    return Memo(clocks, metric, priority, [&] {
      const absl::StatusOr<SlaClockSpec>& spec = SpecFor(metric, priority);
      return spec.ok() ? SlaClock::Create(*spec)
                       : absl::StatusOr<SlaClock>(spec.status());
    });
  }
};

// Every version of one policy, by from_us.
struct PolicyFamily {
  std::string id;
  std::vector<PolicyEntry> versions;  // Not empty.
  // The version in force at `at_us`: the latest defined at or before it,
  // else the first (a first definition is retroactive).
  const PolicyEntry& InForce(int64_t at_us) const {
    const PolicyEntry* p = &versions.front();
    for (const PolicyEntry& v : versions) {
      if (v.from_us <= at_us) p = &v;
    }
    return *p;
  }
  // The version defined at from_us; the latest if none is.
  const PolicyEntry& Version(int64_t from_us) const {
    for (const PolicyEntry& v : versions) {
      if (v.from_us == from_us) return v;
    }
    return versions.back();
  }
};

using CalendarMap =
    std::map<std::string, std::shared_ptr<const BusinessTime>, std::less<>>;

// The configuration in force for one tenant's records: its own policies
// and calendars over the default tenant's (same id: its own; see
// LoadTenantConfig).
struct Config {
  std::string gen = "\xff";  // Never a stored value: not loaded.
  std::vector<PolicyFamily> families;  // By policy id.
  // The calendars policies resolve their calendar_id in, by name.
  CalendarMap calendars;
  // Whether any policy is retired, or has a version past its first that
  // applies to running clocks: without them the per-event passes that
  // apply those are skipped (fold_bench FoldOne/sla, 5 interleaved runs:
  // median 1,135 ms with the passes, 1,058 ms skipped, 991 ms before
  // retirement and rebinding existed).
  bool any_retired = false;
  bool any_rebind = false;
  const PolicyFamily* Family(absl::string_view id) const {
    for (const PolicyFamily& f : families) {
      if (f.id == id) return &f;
    }
    return nullptr;
  }
  // The version an attachment (or a clock) is bound to; null if the
  // policy is not defined (or its definitions are invalid).
  const PolicyEntry* Bound(absl::string_view id, int64_t from_us) const {
    const PolicyFamily* f = Family(id);
    return f == nullptr ? nullptr : &f->Version(from_us);
  }
  // Sets any_retired and any_rebind from the families.
  void Summarize() {
    any_retired = any_rebind = false;
    for (const PolicyFamily& f : families) {
      any_retired |= f.versions.front().retired_at_us.has_value();
      for (size_t i = 1; i < f.versions.size(); ++i) {
        any_rebind |= f.versions[i].apply_to_running;
      }
    }
  }
};

// The calendar a policy version counts on in `calendars` (null while its
// calendar is not defined: it attaches nothing).
void ResolveCalendar(const CalendarMap& calendars, PolicyEntry* p) {
  auto it = calendars.find(p->policy.calendar_id());
  if (it != calendars.end()) {
    p->business = it->second;
  } else if (p->policy.calendar_id() == "24x7") {
    static const auto* always =
        new std::shared_ptr<const BusinessTime>(std::make_shared<AlwaysOpen>());
    p->business = *always;
  } else {
    p->business = nullptr;
  }
}

using Retirements = std::map<std::string, int64_t, std::less<>>;

// The stored definitions of one tenant (keys under `prefix`, see
// SlaConfigKey): its calendars (put over config->calendars; *calendars_put
// counts them) and its policy families (in config->families), each version
// resolved against those calendars, and its retirements (by policy id) in
// *retired.
absl::Status LoadDefinitions(ProjectionState& state, absl::string_view prefix,
                             Config* config, Retirements* retired,
                             size_t* calendars_put) {
  *calendars_put = 0;
  const std::string cal_prefix = absl::StrCat(prefix, kCalPrefix);
  SLATE_RETURN_IF_ERROR(state.Scan(
      cal_prefix, [&](absl::string_view key, absl::string_view value) {
        CalendarSpec spec;
        if (!spec.ParseFromArray(value.data(),
                                 static_cast<int>(value.size()))) {
          return true;  // Validated before it was logged; skip if not.
        }
        auto cal = BusinessCalendar::FromSpec(spec);
        if (cal.ok()) {
          config->calendars[std::string(key.substr(cal_prefix.size()))] =
              std::make_shared<CalendarBusinessTime>(*cal);
          ++*calendars_put;
        }
        return true;
      }));
  const std::string ret_prefix = absl::StrCat(prefix, kRetPrefix);
  SLATE_RETURN_IF_ERROR(state.Scan(
      ret_prefix, [&](absl::string_view key, absl::string_view value) {
        int64_t us = 0;
        if (ParseTimeHex(value, &us)) {
          retired->emplace(std::string(key.substr(ret_prefix.size())), us);
        }
        return true;
      }));
  std::vector<PolicyFamily>& families = config->families;
  absl::Status parse_error;
  SLATE_RETURN_IF_ERROR(state.Scan(
      absl::StrCat(prefix, kPovPrefix),
      [&](absl::string_view key, absl::string_view value) {
        // pov/<id>|<from:16x>
        const size_t bar = key.rfind('|');
        PolicyEntry p;
        SlaPolicyDefined defined;
        if (bar == absl::string_view::npos ||
            !ParseTimeHex(key.substr(bar + 1), &p.from_us)) {
          parse_error = absl::DataLossError(absl::StrCat(
              "sla projection: bad policy version key \"", key, "\""));
          return false;
        }
        parse_error = ParseStored(value, key, &defined);
        if (!parse_error.ok()) return false;
        p.policy = std::move(*defined.mutable_policy());
        p.apply_to_running = defined.apply_to_running();
        FillSlaPolicyDefaults(&p.policy);
        if (!ValidateSlaPolicy(p.policy).ok()) return true;  // Never attaches.
        p.Compile();
        ResolveCalendar(config->calendars, &p);
        if (auto r = retired->find(p.policy.id()); r != retired->end()) {
          p.retired_at_us = r->second;
        }
        // Keys sort by id, then by instant: versions arrive in order.
        if (families.empty() || families.back().id != p.policy.id()) {
          families.push_back({p.policy.id(), {}});
        }
        families.back().versions.push_back(std::move(p));
        return true;
      }));
  return parse_error;
}

// The default tenant's configuration (shared by every tenant).
absl::Status LoadConfig(ProjectionState& state, const std::string& gen,
                        Config* config) {
  Config loaded;
  Retirements retired;
  size_t calendars = 0;
  SLATE_RETURN_IF_ERROR(
      LoadDefinitions(state, "", &loaded, &retired, &calendars));
  loaded.gen = gen;
  loaded.Summarize();
  *config = std::move(loaded);
  return absl::OkStatus();
}

// The configuration in force for a tenant other than the default: its
// own calendars over the default tenant's (by name), its own policies
// over the default tenant's (by id: a policy the tenant defined is the
// tenant's alone, every version and retirement), every policy resolving
// its calendar among those. A retirement of the tenant retires its view
// of a shared policy too (in place of the default tenant's retirement of
// it, if any). `base` is the default tenant's.
absl::Status LoadTenantConfig(ProjectionState& state, absl::string_view tenant,
                              const Config& base, Config* config) {
  Config own;
  own.calendars = base.calendars;
  Retirements retired;
  size_t own_calendars = 0;  // If any, the shared policies resolve again.
  SLATE_RETURN_IF_ERROR(LoadDefinitions(state, TenantStreamPrefix(tenant), &own,
                                        &retired, &own_calendars));
  std::vector<PolicyFamily> families = std::move(own.families);
  const size_t own_count = families.size();
  for (const PolicyFamily& f : base.families) {
    bool overridden = false;
    for (size_t i = 0; i < own_count && !overridden; ++i) {
      overridden = families[i].id == f.id;
    }
    if (overridden) continue;
    families.push_back(f);
    const auto r = retired.find(f.id);
    for (PolicyEntry& v : families.back().versions) {
      if (own_calendars > 0) ResolveCalendar(own.calendars, &v);
      if (r != retired.end()) v.retired_at_us = r->second;
    }
  }
  std::sort(
      families.begin(), families.end(),
      [](const PolicyFamily& a, const PolicyFamily& b) { return a.id < b.id; });
  own.families = std::move(families);
  own.gen = base.gen;
  own.Summarize();
  *config = std::move(own);
  return absl::OkStatus();
}

// --- One record's fold -------------------------------------------------------

// One event of a record with what the clocks see of it. `e` is owned by
// the caller (the event being folded, or a History).
struct Item {
  const Envelope* e = nullptr;
  int64_t at_us = 0;
  bool sla = false;  // An SlaWarning/SlaBreached event.
  SlaTransitionIds transition;  // See NameIds.
  int priority_before = 0;
  int priority_after = 0;
  // An incident's assignment group after an assignment or a reopen (empty
  // for other events), and whether the event changed it (OLA clocks
  // follow it).
  std::string group;
  bool group_changed = false;
};

struct Clk {
  std::optional<SlaClock> clock;
  SlaStoredClock stored;  // fired, logged, due (state filled on write).
  std::optional<int64_t> indexed_due;  // As stored in due/ now.
  bool dirty = false;
};

// The retarget input that moves `clock` to `target` at `at`; nullopt when
// there is no target or the clock already counts under it.
std::optional<SlaClockInput> RetargetTo(const SlaClock& clock,
                                        const std::optional<SlaTarget>& target,
                                        absl::Time at, std::string reason) {
  if (!target.has_value()) return std::nullopt;
  if (target->relative.has_value()) {
    if (clock.relative_target() == target->relative) return std::nullopt;
    return SlaClockInput::RetargetRelative(at, *target->relative,
                                           std::move(reason));
  }
  if (!clock.relative_target().has_value() &&
      target->duration == clock.target()) {
    return std::nullopt;
  }
  return SlaClockInput::Retarget(at, target->duration, std::move(reason));
}

// The record's type as RecordTypeBit (a record of any other type is
// folded as an incident). Compared as a view: std::string == "literal"
// measured the literal for every call.
uint8_t TypeBitOf(const SlaRecordState& rec) {
  return RecordTypeBit(rec.record_type());
}

int PriorityOf(const SlaRecordState& rec, uint8_t type) {
  if (type == kChangeBit) return rec.change().impact();
  if (type == kRequestBit) return rec.request().priority();
  return rec.incident().priority();
}
int PriorityOf(const SlaRecordState& rec) {
  return PriorityOf(rec, TypeBitOf(rec));
}

// Views into `rec`: valid while its type, service and category stay.
SlaRecordAttributes AttributesOf(const SlaRecordState& rec) {
  SlaRecordAttributes a;
  a.record_type = rec.record_type();
  const uint8_t type = TypeBitOf(rec);
  a.priority = PriorityOf(rec, type);
  if (type == kChangeBit) {
    if (rec.change().service_ids_size() > 0) {
      a.service = rec.change().service_ids(0);
    }
  } else if (type == kRequestBit) {
    a.service = rec.request().service_id();
  } else {
    a.service = rec.incident().service_id();
    a.category = rec.incident().category();
  }
  return a;
}

// Evolves the record with a record event; fills the item's transition.
void EvolveRecord(SlaRecordState* rec, Item* item) {
  const uint8_t type = TypeBitOf(*rec);
  item->priority_before = PriorityOf(*rec, type);
  item->transition.event = static_cast<int>(item->e->payload_case());
  item->transition.hold_reason = kNoHoldReason;
  // The stream version is where the event landed in the log, not part of
  // the record: zeroed, so any arrival order gives the same bytes.
  if (type == kChangeBit) {
    EvolveChange(*item->e, rec->mutable_change());
    rec->mutable_change()->clear_version();
    item->transition.state =
        StateTable::Of(States().change, rec->change().status());
  } else if (type == kRequestBit) {
    EvolveRequest(*item->e, rec->mutable_request());
    rec->mutable_request()->clear_version();
    item->transition.state =
        StateTable::Of(States().request, rec->request().status());
  } else {
    const bool assigns = item->e->has_incident_assigned();
    std::string group_before;
    if (assigns) group_before = rec->incident().assignment_group();
    EvolveIncident(*item->e, rec->mutable_incident());
    rec->mutable_incident()->clear_version();
    // Only an assignment or a reopen can start an OLA stay (TransitionOla):
    // the group is not copied for every other event.
    if (assigns || item->e->has_incident_reopened()) {
      item->group = rec->incident().assignment_group();
    }
    item->group_changed = assigns && group_before != item->group;
    item->transition.state =
        StateTable::Of(States().incident, rec->incident().status());
    if (rec->incident().status() == INCIDENT_ON_HOLD) {
      const int reason = rec->incident().hold_reason();
      // HoldReason_Name of a value the enum does not name is "".
      item->transition.hold_reason =
          HoldReason_IsValid(reason) ? reason : kNoHoldReason;
    }
  }
  item->priority_after = PriorityOf(*rec, type);
}

// Makes *rec the new record of `stream` in place: a recycled record's
// strings keep their buffers (SlaRecordState::Clear deletes its incident,
// change and request messages, and destroying them was ~7 % of an SLA
// rebuild: fold_bench FoldOne/sla).
void ResetToNewRecord(absl::string_view stream, SlaRecordState* rec) {
  rec->set_stream(stream.data(), stream.size());
  const absl::string_view type = RecordType(stream);
  rec->set_record_type(type.data(), type.size());
  rec->set_last_at_us(0);
  rec->set_inputs_at_last(0);
  rec->mutable_attachments()->Clear();
  const absl::string_view local = SplitTenantStream(stream).local;
  absl::string_view id = local.substr(local.find('/') + 1);
  // Exactly one of the three is present, as in a fresh message: an empty
  // message left present would add bytes. Copied into the kept message
  // (its buffers stay): moving a new one in destroyed the old one, ~3,500
  // instructions per new record (fold_bench FoldOne/sla, callgrind).
  if (type == "change") {
    rec->clear_incident();
    rec->clear_request();
    rec->mutable_change()->CopyFrom(NewChangeState(id));
  } else if (type == "request") {
    rec->clear_incident();
    rec->clear_change();
    rec->mutable_request()->CopyFrom(NewRequestState(id));
  } else {
    rec->clear_change();
    rec->clear_request();
    rec->mutable_incident()->CopyFrom(NewIncidentState(id));
  }
}

SlaRecordState NewRecord(absl::string_view stream) {
  SlaRecordState rec;
  ResetToNewRecord(stream, &rec);
  return rec;
}

// Empties *rec for reuse, keeping its incident, change or request message
// (cleared, but present) and their strings' buffers. REQUIRES: the next
// use replaces it whole (ResetToNewRecord, or a parse, which clears it).
void ClearKeepingBuffers(SlaRecordState* rec) {
  rec->clear_stream();
  rec->clear_record_type();
  rec->clear_last_at_us();
  rec->clear_inputs_at_last();
  rec->mutable_attachments()->Clear();
  if (rec->has_incident()) rec->mutable_incident()->Clear();
  if (rec->has_change()) rec->mutable_change()->Clear();
  if (rec->has_request()) rec->mutable_request()->Clear();
}

// One clock of a record as the fold keeps it: looked up in the state (or
// created) once, then kept with its record, so an event reaches its clocks
// without building or hashing their keys (a cache of clocks by key was
// ~20 % of an SLA rebuild: fold_bench FoldOne/sla, bench/RESULTS.md).
struct ClockSlot {
  std::string policy_id;
  SlaMetric metric = SLA_METRIC_UNSPECIFIED;
  int64_t cycle = 0;
  Clk value;  // value.clock unset: the state has no such clock.
  // The clock of an earlier record's slot, kept for its buffers: a clock
  // attached in this slot is copied into it (RecordFold::Attach).
  std::optional<SlaClock> spare;

  // As a new slot of (policy_id, metric, cycle) holding no clock, keeping
  // what it can of the buffers.
  void Reuse(absl::string_view policy, SlaMetric m, int64_t c) {
    policy_id.assign(policy.data(), policy.size());
    metric = m;
    cycle = c;
    if (value.clock.has_value()) {
      spare = std::move(value.clock);
      value.clock.reset();
    }
    value.stored.Clear();
    value.indexed_due.reset();
    value.dirty = false;
  }
};

// The clock slots of one record, with stable addresses (a fold keeps
// pointers to slots while it adds others). clear() keeps the slots for
// the next record the cache entry holds: destroying them was ~6 % of
// SlaProjection::Apply (fold_bench FoldOne/sla).
class ClockSlots {
 public:
  using iterator = std::deque<ClockSlot>::iterator;
  iterator begin() { return slots_.begin(); }
  iterator end() {
    return slots_.begin() + static_cast<std::ptrdiff_t>(size_);
  }
  // A new slot holding no clock (ClockSlot::Reuse).
  ClockSlot& Add(absl::string_view policy_id, SlaMetric metric,
                 int64_t cycle) {
    if (size_ == slots_.size()) slots_.emplace_back();
    ClockSlot& s = slots_[size_++];
    s.Reuse(policy_id, metric, cycle);
    return s;
  }
  void pop_back() { --size_; }
  void clear() { size_ = 0; }

 private:
  std::deque<ClockSlot> slots_;
  size_t size_ = 0;  // slots_[size_..] are kept for reuse.
};

// A record as the projection keeps it decoded: its stored state, the
// clocks looked up so far and, while every item of the record went through
// this cache (the record was new when cached), those items, so a policy
// attaching later replays them without reading the log.
struct CachedRecord {
  SlaRecordState rec;
  ClockSlots clocks;
  // The state holds no clock of the record that `clocks` does not: a
  // clock not among them need not be looked up.
  bool fresh = false;
  bool complete = false;
  // The current clocks of every attachment are in `clocks` (loaded once:
  // a clock that becomes current later gets its slot as it does).
  bool clocks_loaded = false;
  // In fold order; `e` is null for record events (a replay needs only their
  // transition) and points into `sla_events` for SLA events.
  std::vector<Item> items;
  std::deque<Envelope> sla_events;

  // As CachedRecord{}, keeping what the members can (DecodedCache); its
  // record is then filled whole (ResetToNewRecord or a parse).
  void Clear() {
    ClearKeepingBuffers(&rec);
    clocks.clear();
    fresh = false;
    complete = false;
    clocks_loaded = false;
    items.clear();
    sla_events.clear();
  }
};
// Past this many items a record's replay reads the log instead.
constexpr size_t kMaxCachedItems = 256;
using RecordCache = DecodedCache<CachedRecord>;

absl::Status DecodeClock(absl::string_view key, absl::string_view bytes,
                         Clk* c) {
  SLATE_RETURN_IF_ERROR(ParseStored(bytes, key, &c->stored));
  SLATE_ASSIGN_OR_RETURN(SlaClock clock, SlaClock::FromProto(c->stored.state()));
  c->clock = std::move(clock);
  if (c->stored.has_due_us()) c->indexed_due = c->stored.due_us();
  c->stored.clear_state();
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::pair<int64_t, int>>> DueOf(
    const Config& config, const Clk& c);

// Writes a clock with its due index entry (see WriteClocks).
// REQUIRES: c.clock is set.
absl::Status WriteClock(ProjectionState& state, const Config& config,
                        absl::string_view key, Clk& c) {
  thread_local std::string due_key;
  std::optional<std::pair<int64_t, int>> due;
  SLATE_ASSIGN_OR_RETURN(due, DueOf(config, c));
  if (due.has_value()) {
    c.stored.set_due_us(due->first);
    c.stored.set_due_threshold_index(due->second);
  } else {
    c.stored.clear_due_us();
    c.stored.clear_due_threshold_index();
  }
  if (c.indexed_due.has_value() &&
      (!due.has_value() || due->first != *c.indexed_due)) {
    DueKeyTo(*c.indexed_due, key, &due_key);
    state.Delete(due_key);
  }
  if (due.has_value() &&
      (!c.indexed_due.has_value() || due->first != *c.indexed_due)) {
    DueKeyTo(due->first, key, &due_key);
    state.Put(due_key, "");
  }
  c.indexed_due = std::nullopt;
  if (due.has_value()) c.indexed_due = due->first;
  // The state is lent to c.stored while it is serialized: c.stored keeps
  // no state between writes (memory), and allocating and deleting one per
  // write showed in the SLA rebuild's profile.
  thread_local SlaClockState clock_state;
  thread_local std::string bytes;
  c.clock->ToProto(&clock_state);
  c.stored.unsafe_arena_set_allocated_state(&clock_state);
  SerializeDeterministicTo(c.stored, &bytes);
  c.stored.unsafe_arena_release_state();
  state.Put(key, bytes);
  c.dirty = false;
  return absl::OkStatus();
}

// Writes the record's clocks that changed since they were last written.
absl::Status WriteClocks(ProjectionState& state, const Config& config,
                         absl::string_view stream, ClockSlots& clocks) {
  for (ClockSlot& slot : clocks) {
    if (!slot.value.dirty || !slot.value.clock.has_value()) {
      continue;
    }
    thread_local std::string key;
    ClockKeyTo(stream, slot.policy_id, slot.metric, slot.cycle, &key);
    SLATE_RETURN_IF_ERROR(WriteClock(state, config, key, slot.value));
  }
  return absl::OkStatus();
}

// The configuration in force for a record stream's tenant.
using ConfigOf =
    std::function<absl::StatusOr<const Config*>(absl::string_view stream)>;

absl::Status FlushRecords(ProjectionState& state, const ConfigOf& config_of,
                          RecordCache& recs) {
  return recs.Flush(
      [&](const std::string& key, CachedRecord& r, bool present) {
        if (present) {
          SLATE_ASSIGN_OR_RETURN(const Config* config,
                                 config_of(r.rec.stream()));
          SLATE_RETURN_IF_ERROR(
              WriteClocks(state, *config, r.rec.stream(), r.clocks));
          thread_local std::string bytes;
          SerializeDeterministicTo(r.rec, &bytes);
          state.Put(key, bytes);
        } else {
          state.Delete(key);
        }
        return absl::OkStatus();
      });
}

// The record being folded: its state (`rec`) and its clocks (`clocks`),
// both owned by the caller, who writes the changed clocks (WriteClocks).
// `fresh`: the state holds no clock of the record beyond `clocks`.
class RecordFold {
 public:
  RecordFold(ProjectionState& state, const Config& config, SlaRecordState& rec,
             ClockSlots& clocks, bool fresh)
      : state_(state),
        config_(config),
        rec_(rec),
        clocks_(clocks),
        fresh_(fresh) {}

  SlaRecordState& rec() { return rec_; }

  // Loads the stored current-cycle clocks of the attachments.
  absl::Status LoadCurrentClocks() {
    for (const SlaAttachment& a : rec_.attachments()) {
      for (const SlaAttachedClock& c : a.clocks()) {
        SLATE_RETURN_IF_ERROR(
            Load(a.policy_id(), c.metric(), c.cycle()).status());
      }
    }
    return absl::OkStatus();
  }

  // Folds one item. `history` gives the record's items up to and including
  // this one, owned by the caller and alive until the fold ends (called
  // only when a clock attaches).
  absl::Status Step(
      Item& item,
      absl::FunctionRef<absl::StatusOr<const std::vector<Item>*>()> history) {
    // Redefinitions that apply to running clocks, then retirements, at or
    // before this item come first.
    SLATE_RETURN_IF_ERROR(Rebind(item.at_us).status());
    SLATE_RETURN_IF_ERROR(EndRetired(item.at_us).status());
    if (item.sla) return StepSla(item);
    EvolveRecord(&rec_, &item);
    const int priority = item.priority_after;
    const SlaRecordAttributes attrs = AttributesOf(rec_);
    // Existing clocks: an attachment the record no longer matches ends;
    // the others retarget on a priority change, then take the transition.
    for (SlaAttachment& a : *rec_.mutable_attachments()) {
      if (a.has_ended_at_us()) continue;
      const PolicyEntry* p = config_.Bound(a.policy_id(), a.version_from_us());
      if (p == nullptr || p->business == nullptr) continue;
      if (!p->policy.keep_when_unmatched() && !p->Applies(attrs)) {
        SLATE_RETURN_IF_ERROR(End(a, *p, item.at_us, kUnmatchedReason));
        continue;
      }
      for (SlaAttachedClock& slot : *a.mutable_clocks()) {
        SLATE_ASSIGN_OR_RETURN(Clk * c, Current(a, slot));
        if (c == nullptr) continue;
        if (item.priority_before != priority) {
          const SlaClockPhase phase = c->clock->phase();
          std::optional<SlaClockInput> retarget = RetargetTo(
              *c->clock, p->TargetOf(slot.metric(), priority),
              absl::FromUnixMicros(item.at_us),
              absl::StrCat("priority ", item.priority_before, " -> ",
                           priority));
          if (retarget.has_value() && phase != SLA_CLOCK_PHASE_STOPPED &&
              phase != SLA_CLOCK_PHASE_CANCELLED) {
            Feed(*c, *p, *retarget);
          }
        }
        SLATE_RETURN_IF_ERROR(Transition(a, slot, *p, item, c));
      }
    }
    // Metrics an attached policy now has a target for, and new policies.
    const std::vector<Item>* hist = nullptr;
    auto get_history = [&]() -> absl::StatusOr<const std::vector<Item>*> {
      if (hist == nullptr) {
        SLATE_ASSIGN_OR_RETURN(hist, history());
      }
      return hist;
    };
    for (const PolicyFamily& family : config_.families) {
      SlaAttachment* a = nullptr;
      for (SlaAttachment& x : *rec_.mutable_attachments()) {
        if (x.policy_id() == family.id) a = &x;
      }
      if (a != nullptr && a->has_ended_at_us()) continue;
      // An attachment keeps its version; a new one binds the version in
      // force at this event.
      const PolicyEntry& p = a != nullptr ? family.Version(a->version_from_us())
                                          : family.InForce(item.at_us);
      if (p.business == nullptr || p.RetiredBy(item.at_us)) continue;
      if (a == nullptr) {
        if (!p.Applies(attrs) || !p.HasAnyTarget(priority)) continue;
        a = InsertAttachment(p.policy.id());
        a->set_version_from_us(p.from_us);
      }
      for (SlaMetric m : kMetrics) {
        bool has = false;
        for (const SlaAttachedClock& c : a->clocks()) {
          has = has || c.metric() == m;
        }
        // No target for this metric at this priority: no clock. Asked first
        // because this runs for every event, and SlaClockSpecFor reports a
        // missing target as an error with a formatted message.
        if (has || !p.HasTarget(m, priority)) continue;
        const absl::StatusOr<SlaClockSpec>& spec = p.SpecFor(m, priority);
        if (!spec.ok()) continue;
        SLATE_ASSIGN_OR_RETURN(const std::vector<Item>* h, get_history());
        SLATE_RETURN_IF_ERROR(
            Attach(*a, m, *spec, p.ClockFor(m, priority), p, *h));
      }
    }
    return absl::OkStatus();
  }

  // Ends the attachments of every retired policy not ended yet at its
  // retirement instant, whenever that is (after the record's last item
  // too): a retirement cancels every clock of the policy, whether or not
  // the record has events after it. Returns the latest retirement applied
  // (nullopt: none), which the caller makes the record's last_at_us, so an
  // event before it is folded as late (recomputed in time order).
  absl::StatusOr<std::optional<int64_t>> EndAllRetired() {
    if (!config_.any_rebind && !config_.any_retired) return std::nullopt;
    constexpr int64_t kAll = std::numeric_limits<int64_t>::max();
    SLATE_ASSIGN_OR_RETURN(std::optional<int64_t> rebound, Rebind(kAll));
    SLATE_ASSIGN_OR_RETURN(std::optional<int64_t> retired, EndRetired(kAll));
    if (!rebound.has_value()) return retired;
    if (!retired.has_value()) return rebound;
    return std::max(*rebound, *retired);
  }

 private:
  // Calls fn(metric, clock) for the attachment's current clocks that are
  // not stopped or cancelled (not started, running or paused).
  template <typename Fn>
  absl::Status ForEachCountingClock(SlaAttachment& a, Fn&& fn) {
    for (SlaAttachedClock& slot : *a.mutable_clocks()) {
      SLATE_ASSIGN_OR_RETURN(Clk * c, Current(a, slot));
      if (c == nullptr) continue;
      const SlaClockPhase phase = c->clock->phase();
      if (phase != SLA_CLOCK_PHASE_STOPPED &&
          phase != SLA_CLOCK_PHASE_CANCELLED) {
        fn(slot.metric(), *c);
      }
    }
    return absl::OkStatus();
  }

  // The version the record's attachment of `policy_id` is bound to (the
  // latest if the record has none).
  const PolicyEntry* BoundOf(absl::string_view policy_id) const {
    for (const SlaAttachment& a : rec_.attachments()) {
      if (a.policy_id() == policy_id) {
        return config_.Bound(policy_id, a.version_from_us());
      }
    }
    const PolicyFamily* f = config_.Family(policy_id);
    return f == nullptr ? nullptr : &f->versions.back();
  }

  // Moves every attachment to the latest version of its policy defined
  // with apply_to_running after the one it is bound to, at or before
  // at_us (and not after the policy's retirement): at that version's
  // instant its current clocks still counting are advanced under the old
  // version, re-targeted to the new target for the record's priority, and
  // count under the new version from then on. Returns the latest instant
  // applied (nullopt: none).
  absl::StatusOr<std::optional<int64_t>> Rebind(int64_t at_us) {
    std::optional<int64_t> latest;
    if (!config_.any_rebind) return latest;
    const int priority = PriorityOf(rec_);
    for (SlaAttachment& a : *rec_.mutable_attachments()) {
      if (a.has_ended_at_us()) continue;
      const PolicyFamily* family = config_.Family(a.policy_id());
      if (family == nullptr) continue;
      const PolicyEntry& old = family->Version(a.version_from_us());
      const int64_t limit = std::min(
          at_us, old.retired_at_us.value_or(std::numeric_limits<int64_t>::max()));
      const PolicyEntry* next = nullptr;
      for (const PolicyEntry& v : family->versions) {
        if (v.apply_to_running && v.from_us > a.version_from_us() &&
            v.from_us <= limit) {
          next = &v;
        }
      }
      if (next == nullptr) continue;
      const absl::Time when = absl::FromUnixMicros(next->from_us);
      SLATE_RETURN_IF_ERROR(ForEachCountingClock(a, [&](SlaMetric metric,
                                                        Clk& c) {
        if (old.business != nullptr &&
            c.clock->phase() != SLA_CLOCK_PHASE_NOT_STARTED) {
          Feed(c, old, SlaClockInput::AdvanceTo(when));
        }
        std::optional<SlaClockInput> retarget =
            RetargetTo(*c.clock, next->TargetOf(metric, priority),
                       when, "policy redefined");
        if (next->business != nullptr && retarget.has_value()) {
          Feed(c, *next, *retarget);
        }
        c.stored.set_version_from_us(next->from_us);
        c.dirty = true;
      }));
      a.set_version_from_us(next->from_us);
      latest = std::max(latest.value_or(next->from_us), next->from_us);
    }
    return latest;
  }

  // Ends the attachments whose policy retired at or before at_us, each at
  // its retirement instant. Returns the latest instant applied (nullopt:
  // none).
  absl::StatusOr<std::optional<int64_t>> EndRetired(int64_t at_us) {
    std::optional<int64_t> latest;
    if (!config_.any_retired) return latest;
    for (SlaAttachment& a : *rec_.mutable_attachments()) {
      if (a.has_ended_at_us()) continue;
      const PolicyEntry* p = config_.Bound(a.policy_id(), a.version_from_us());
      if (p == nullptr || p->business == nullptr || !p->RetiredBy(at_us)) {
        continue;
      }
      SLATE_RETURN_IF_ERROR(End(a, *p, *p->retired_at_us, kRetiredReason));
      latest = std::max(latest.value_or(*p->retired_at_us),
                        *p->retired_at_us);
    }
    return latest;
  }

  // Ends an attachment at `at_us`: its current clocks that are not stopped
  // or cancelled are cancelled then (a clock that refuses the input, one
  // observed after at_us, stays as it is), and nothing more happens under
  // it.
  absl::Status End(SlaAttachment& a, const PolicyEntry& p, int64_t at_us,
                   absl::string_view reason) {
    SLATE_RETURN_IF_ERROR(ForEachCountingClock(a, [&](SlaMetric, Clk& c) {
      Feed(c, p,
           SlaClockInput::Cancel(absl::FromUnixMicros(at_us),
                                 std::string(reason)));
    }));
    a.set_ended_at_us(at_us);
    a.set_ended_reason(std::string(reason));
    return absl::OkStatus();
  }

  // The record's slot of (policy, metric, cycle), or nullptr if it has
  // none yet.
  ClockSlot* Find(absl::string_view policy_id, SlaMetric metric,
                  int64_t cycle) {
    for (ClockSlot& s : clocks_) {
      if (s.metric == metric && s.cycle == cycle && s.policy_id == policy_id) {
        return &s;
      }
    }
    return nullptr;
  }
  // A new slot of (policy, metric, cycle), holding no clock.
  ClockSlot* AddSlot(absl::string_view policy_id, SlaMetric metric,
                     int64_t cycle) {
    return &clocks_.Add(policy_id, metric, cycle);
  }

  // The stored clock of the record's (policy, metric, cycle), or nullptr
  // if none. Read from the state at most once, then kept in the record's
  // slots.
  absl::StatusOr<Clk*> Load(absl::string_view policy_id, SlaMetric metric,
                            int64_t cycle) {
    ClockSlot* s = Find(policy_id, metric, cycle);
    if (s == nullptr) {
      s = AddSlot(policy_id, metric, cycle);
      if (!fresh_) {
        const std::string key =
            SlaClockKey(rec_.stream(), policy_id, metric, cycle);
        absl::StatusOr<std::optional<std::string>> bytes = state_.Get(key);
        absl::Status st = bytes.status();
        if (st.ok() && bytes->has_value()) {
          st = DecodeClock(key, **bytes, &s->value);
        }
        if (!st.ok()) {
          clocks_.pop_back();  // No half-read slot stays behind.
          return st;
        }
      }
    }
    return s->value.clock.has_value() ? &s->value : nullptr;
  }

  // Puts `c` in place of the record's clock of (policy, metric, cycle),
  // whatever is stored there.
  Clk* Replace(absl::string_view policy_id, SlaMetric metric, int64_t cycle,
               Clk c) {
    ClockSlot* s = Find(policy_id, metric, cycle);
    if (s == nullptr) {
      s = AddSlot(policy_id, metric, cycle);
    } else if (s->value.indexed_due.has_value() &&
               !c.indexed_due.has_value()) {
      c.indexed_due = s->value.indexed_due;  // Still in due/: move it.
    }
    s->value = std::move(c);
    return &s->value;
  }

  absl::StatusOr<Clk*> Current(const SlaAttachment& a,
                               const SlaAttachedClock& slot) {
    return Load(a.policy_id(), slot.metric(), slot.cycle());
  }

  SlaAttachment* InsertAttachment(const std::string& policy_id) {
    auto* list = rec_.mutable_attachments();
    int pos = list->size();
    for (int i = 0; i < list->size(); ++i) {
      if (list->Get(i).policy_id() > policy_id) {
        pos = i;
        break;
      }
    }
    // Filled in place (a cleared attachment the list kept is reused):
    // moving a new one in destroyed the one it replaced.
    list->Add()->set_policy_id(policy_id);
    for (int i = list->size() - 1; i > pos; --i) list->SwapElements(i, i - 1);
    return list->Mutable(pos);
  }

  // Applies an input; records the thresholds it crossed. A refused input
  // changes nothing.
  bool Feed(Clk& c, const PolicyEntry& p, const SlaClockInput& input) {
    // Reused: a vector per input allocated and freed for every input that
    // produced a fact.
    thread_local std::vector<SlaClockFact> facts;
    facts.clear();
    if (!c.clock->ApplyInPlace(input, *p.business, &facts).ok()) return false;
    c.dirty = true;
    for (const SlaClockFact& f : facts) {
      int index;
      if (f.kind == SlaClockFact::Kind::kBreached) {
        index = kBreachIndex;
      } else if (f.kind == SlaClockFact::Kind::kWarningReached) {
        index = f.threshold_index;
      } else {
        continue;
      }
      SlaFiredThreshold* fired = c.stored.add_fired();
      fired->set_threshold_index(index);
      fired->set_at_us(absl::ToUnixMicros(f.at));
    }
    return true;
  }

  // The record transition for one clock slot (may start a new cycle); `c`
  // is the slot's current clock (Current(a, slot), not null).
  absl::Status Transition(SlaAttachment& a, SlaAttachedClock& slot,
                          const PolicyEntry& p, const Item& item, Clk* c) {
    if (p.policy.kind() == SLA_AGREEMENT_KIND_OLA) {
      return TransitionOla(a, slot, p, item, c);
    }
    if (p.policy.kind() == SLA_AGREEMENT_KIND_UC) {
      return TransitionUc(a, slot, p, item, c);
    }
    const SlaCompiledRules& rules = p.Rules(slot.metric());
    std::optional<SlaClockInputKind> kind =
        SlaDecideInput(rules, c->clock->phase(), item.transition);
    if (!kind.has_value()) return absl::OkStatus();
    const SlaClockInput input = InputFor(*kind, p, item);
    Clk* fed = c;
    if (*kind != SlaClockInputKind::kReopen ||
        p.policy.reopen() == SLA_REOPEN_MODE_RESUME) {
      if (!Feed(*c, p, input)) return absl::OkStatus();
    } else {
      fed = NewCycle(a, slot, p, *c, input);
      if (fed == nullptr) return absl::OkStatus();
    }
    // A clock that starts (or starts again) while its pause condition
    // holds is paused at the same instant: time in a state the policy
    // pauses on never counts, also when the clock starts in it.
    if ((*kind == SlaClockInputKind::kStart ||
         *kind == SlaClockInputKind::kReopen) &&
        SlaDecideInput(rules, fed->clock->phase(), item.transition) ==
            SlaClockInputKind::kPause) {
      Feed(*fed, p, InputFor(SlaClockInputKind::kPause, p, item));
    }
    return absl::OkStatus();
  }

  // The clock input a decided kind means at the item's instant.
  static SlaClockInput InputFor(SlaClockInputKind kind, const PolicyEntry& p,
                                const Item& item) {
    const absl::Time at = absl::FromUnixMicros(item.at_us);
    SlaClockInput input;
    switch (kind) {
      case SlaClockInputKind::kStart:
        input = SlaClockInput::Start(at);
        break;
      case SlaClockInputKind::kPause:
        input = SlaClockInput::Pause(
            at, item.transition.hold_reason == kNoHoldReason
                    ? std::string(StateNameOf(item.transition.state))
                    : HoldReasonNameOf(item.transition.hold_reason));
        break;
      case SlaClockInputKind::kResume:
        input = SlaClockInput::Resume(at);
        break;
      case SlaClockInputKind::kStop:
        input = SlaClockInput::Stop(at);
        break;
      case SlaClockInputKind::kCancel:
        input = SlaClockInput::Cancel(at);
        break;
      case SlaClockInputKind::kReopen:
        input = SlaClockInput::Reopen(at, p.policy.reopen());
        break;
      default:
        input = SlaClockInput::AdvanceTo(at);
        break;
    }
    return input;
  }

  // NEW_CYCLE: the old cycle keeps its state; a new clock (cycle + 1, from
  // `input`, a Reopen) takes the slot. Returns it, or nullptr if the clock
  // refused the input.
  Clk* NewCycle(SlaAttachment& a, SlaAttachedClock& slot, const PolicyEntry& p,
                const Clk& c, const SlaClockInput& input) {
    Clk next;
    next.clock = *c.clock;
    if (!Feed(next, p, input)) return nullptr;
    next.stored.clear_fired();  // Facts of the new cycle only.
    next.stored.set_version_from_us(a.version_from_us());
    slot.set_cycle(next.clock->cycle());
    next.dirty = true;
    next.indexed_due = std::nullopt;  // A new key: nothing indexed yet.
    return Replace(a.policy_id(), slot.metric(), slot.cycle(), std::move(next));
  }

  static bool Contains(const google::protobuf::RepeatedPtrField<std::string>& l,
                       const std::string& v) {
    return std::find(l.begin(), l.end(), v) != l.end();
  }
  static bool Matches(const SlaCompiledRules& rules,
                      const SlaCompiledCondition& condition, const Item& item) {
    return SlaConditionMatches(condition, item.transition, rules.on_hold_state);
  }

  // An OLA clock (SlaAgreementKind): one cycle per stay of the incident in
  // one of the policy's groups.
  absl::Status TransitionOla(SlaAttachment& a, SlaAttachedClock& slot,
                             const PolicyEntry& p, const Item& item, Clk* c) {
    const SlaCompiledRules& rules = p.Rules(slot.metric());
    const absl::Time at = absl::FromUnixMicros(item.at_us);
    SlaClockPhase phase = c->clock->phase();
    if (phase == SLA_CLOCK_PHASE_RUNNING || phase == SLA_CLOCK_PHASE_PAUSED) {
      if (item.group_changed) {
        // Reassigned: the stay in the old group ends here (a new one may
        // start below).
        Feed(*c, p, SlaClockInput::Stop(at));
        phase = c->clock->phase();
      } else {
        std::optional<SlaClockInputKind> kind =
            SlaDecideInput(rules, phase, item.transition);
        if (kind.has_value() && *kind != SlaClockInputKind::kStart &&
            *kind != SlaClockInputKind::kReopen) {
          Feed(*c, p, InputFor(*kind, p, item));
        }
        return absl::OkStatus();
      }
    }
    const bool enters =
        Contains(p.policy.groups(), item.group) &&
        (item.group_changed ||
         item.transition.event == Envelope::kIncidentReopened);
    if (!enters || Matches(rules, rules.stop, item) ||
        Matches(rules, rules.cancel, item)) {
      return absl::OkStatus();
    }
    Clk* stay = nullptr;
    if (phase == SLA_CLOCK_PHASE_NOT_STARTED) {
      if (Feed(*c, p, SlaClockInput::Start(at))) stay = c;
    } else if (phase == SLA_CLOCK_PHASE_STOPPED) {
      stay = NewCycle(a, slot, p, *c,
                      SlaClockInput::Reopen(at, SLA_REOPEN_MODE_NEW_CYCLE));
    }
    if (stay == nullptr) return absl::OkStatus();
    stay->stored.set_group(item.group);
    if (Matches(rules, rules.pause, item)) {
      // Assigned while on hold: the stay starts paused.
      Feed(*stay, p, InputFor(SlaClockInputKind::kPause, p, item));
    }
    return absl::OkStatus();
  }

  // A UC clock (SlaAgreementKind): runs while the incident waits on the
  // supplier, paused otherwise, until the policy's stop or cancel rule.
  absl::Status TransitionUc(SlaAttachment& a, SlaAttachedClock& slot,
                            const PolicyEntry& p, const Item& item, Clk* c) {
    const SlaCompiledRules& rules = p.Rules(slot.metric());
    const absl::Time at = absl::FromUnixMicros(item.at_us);
    const bool waiting =
        item.transition.state == States().on_hold &&
        std::find(p.supplier_holds.begin(), p.supplier_holds.end(),
                  item.transition.hold_reason) != p.supplier_holds.end();
    const SlaClockPhase phase = c->clock->phase();
    if (phase == SLA_CLOCK_PHASE_RUNNING || phase == SLA_CLOCK_PHASE_PAUSED) {
      if (Matches(rules, rules.cancel, item)) {
        Feed(*c, p, SlaClockInput::Cancel(at));
      } else if (Matches(rules, rules.stop, item)) {
        Feed(*c, p, SlaClockInput::Stop(at));
      } else if (phase == SLA_CLOCK_PHASE_RUNNING && !waiting) {
        Feed(*c, p, SlaClockInput::Pause(at, "not waiting on the supplier"));
      } else if (phase == SLA_CLOCK_PHASE_PAUSED && waiting) {
        Feed(*c, p, SlaClockInput::Resume(at));
      }
      return absl::OkStatus();
    }
    if (!waiting) return absl::OkStatus();
    if (phase == SLA_CLOCK_PHASE_NOT_STARTED) {
      Feed(*c, p, SlaClockInput::Start(at));
    } else if (phase == SLA_CLOCK_PHASE_STOPPED) {
      const SlaClockInput reopen = SlaClockInput::Reopen(at, p.policy.reopen());
      if (p.policy.reopen() == SLA_REOPEN_MODE_RESUME) {
        Feed(*c, p, reopen);
      } else {
        NewCycle(a, slot, p, *c, reopen);
      }
    }
    return absl::OkStatus();
  }

  // A folded SlaWarning/SlaBreached: the threshold counts as logged, and the
  // named clock (if it is still counting) advances to the event's instant.
  absl::Status StepSla(const Item& item) {
    const bool warning = item.e->has_sla_warning();
    const std::string& policy_id = warning ? item.e->sla_warning().policy_id()
                                           : item.e->sla_breached().policy_id();
    const SlaMetric metric = warning ? item.e->sla_warning().metric()
                                     : item.e->sla_breached().metric();
    const int64_t cycle = warning ? item.e->sla_warning().cycle()
                                  : item.e->sla_breached().cycle();
    const int index =
        warning ? item.e->sla_warning().threshold_index() : kBreachIndex;
    SLATE_ASSIGN_OR_RETURN(Clk * c, Load(policy_id, metric, cycle));
    if (c == nullptr) return absl::OkStatus();
    const PolicyEntry* p = BoundOf(policy_id);
    const SlaClockPhase phase = c->clock->phase();
    if (p != nullptr && p->business != nullptr &&
        (phase == SLA_CLOCK_PHASE_RUNNING || phase == SLA_CLOCK_PHASE_PAUSED)) {
      Feed(*c, *p, SlaClockInput::AdvanceTo(absl::FromUnixMicros(item.at_us)));
    }
    auto* logged = c->stored.mutable_logged();
    if (std::find(logged->begin(), logged->end(), index) == logged->end()) {
      logged->Add(index);
      std::sort(logged->begin(), logged->end());
      c->dirty = true;
    }
    return absl::OkStatus();
  }

  // Creates the slot's first clock and replays the record's history into it
  // (retroactive attach).
  // `created`: SlaClock::Create(spec) (PolicyEntry::ClockFor).
  absl::Status Attach(SlaAttachment& a, SlaMetric metric,
                      const SlaClockSpec& spec,
                      const absl::StatusOr<SlaClock>& created,
                      const PolicyEntry& p, const std::vector<Item>& history) {
    if (!created.ok()) {
      // The error naming the record, as creating it for the record says.
      SlaClockSpec named = spec;
      named.record_id = rec_.stream();
      absl::Status st = SlaClock::Create(named).status();
      return st.ok() ? created.status() : st;
    }
    SlaAttachedClock* slot = a.add_clocks();
    slot->set_metric(metric);
    slot->set_cycle(1);
    // Keep slots in metric order.
    std::sort(a.mutable_clocks()->begin(), a.mutable_clocks()->end(),
              [](const SlaAttachedClock& x, const SlaAttachedClock& y) {
                return x.metric() < y.metric();
              });
    for (SlaAttachedClock& s : *a.mutable_clocks()) {
      if (s.metric() == metric) slot = &s;
    }
    // A clock of this key may be stored from an earlier fold (recompute
    // deleted it; incremental attach never finds one): its slot's due
    // index entry stays known, so it moves.
    ClockSlot* s = Find(a.policy_id(), metric, 1);
    if (s == nullptr) s = AddSlot(a.policy_id(), metric, 1);
    Clk& c = s->value;
    if (!c.clock.has_value() && s->spare.has_value()) {
      c.clock = std::move(s->spare);
      s->spare.reset();
    }
    if (c.clock.has_value()) {
      *c.clock = *created;  // Into the old clock's buffers.
    } else {
      c.clock.emplace(*created);
    }
    c.clock->set_record_id(rec_.stream());
    c.stored.Clear();
    c.stored.set_version_from_us(a.version_from_us());
    c.dirty = true;
    for (const Item& h : history) {
      if (h.sla) {
        const bool w = h.e->has_sla_warning();
        if ((w ? h.e->sla_warning().policy_id()
               : h.e->sla_breached().policy_id()) != a.policy_id() ||
            (w ? h.e->sla_warning().metric() : h.e->sla_breached().metric()) !=
                metric) {
          continue;
        }
        SLATE_RETURN_IF_ERROR(StepSla(h));
      } else {
        // Current again for each item: a new cycle replaces the slot's clock.
        SLATE_ASSIGN_OR_RETURN(Clk * c, Current(a, *slot));
        if (c != nullptr) SLATE_RETURN_IF_ERROR(Transition(a, *slot, p, h, c));
      }
    }
    return absl::OkStatus();
  }

  ProjectionState& state_;
  const Config& config_;
  SlaRecordState& rec_;
  ClockSlots& clocks_;
  const bool fresh_;
};

// Where a clock goes in the due index: its earliest crossed threshold
// whose event is not folded yet, else (running, not breached) the next
// threshold whose event is not folded yet.
absl::StatusOr<std::optional<std::pair<int64_t, int>>> DueOf(
    const Config& config, const Clk& c) {
  auto logged = [&](int index) {
    const auto& l = c.stored.logged();
    return std::find(l.begin(), l.end(), index) != l.end();
  };
  for (const SlaFiredThreshold& f : c.stored.fired()) {
    if (!logged(f.threshold_index())) {
      return std::optional(std::make_pair(f.at_us(), f.threshold_index()));
    }
  }
  if (c.clock->phase() != SLA_CLOCK_PHASE_RUNNING || c.clock->breached()) {
    return std::nullopt;
  }
  const PolicyEntry* p =
      config.Bound(c.clock->policy_id(), c.stored.version_from_us());
  if (p == nullptr || p->business == nullptr) return std::nullopt;
  // The clock itself answers first; a copy steps over thresholds whose
  // events are logged already (rare: copying every clock on every flush
  // showed in the SLA rebuild's profile).
  std::optional<SlaClock> probe;
  const SlaClock* clock = &*c.clock;
  const int n = clock->threshold_count();
  for (int guard = 0; guard <= n + 1; ++guard) {
    auto next = clock->NextDue(*p->business);
    if (!next.ok() || !next->has_value()) return std::nullopt;
    const int index =
        clock->warnings_reached() < n ? clock->warnings_reached() : kBreachIndex;
    if (!logged(index)) {
      return std::optional(
          std::make_pair(absl::ToUnixMicros(**next), index));
    }
    // Its event is already in the log (folded before a late event moved
    // the crossing): step over it without a second event.
    if (!probe.has_value()) {
      probe = *c.clock;
      clock = &*probe;
    }
    if (!probe->ApplyInPlace(SlaClockInput::AdvanceTo(**next), *p->business,
                             nullptr)
             .ok()) {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

// Whether the SLA projection folds `e` as an item of the record `stream`:
// the record's own events, and the SlaWarning/SlaBreached events of its
// clocks on SlaEventStream(stream). Policy and calendar definitions are
// never items.
bool IsItemOf(const Envelope& e, absl::string_view stream) {
  if (e.has_sla_policy_defined() || e.has_calendar_defined() ||
      e.has_sla_policy_retired()) {
    return false;
  }
  if (e.has_sla_warning() || e.has_sla_breached()) {
    const std::string& record = e.has_sla_warning() ? e.sla_warning().record()
                                                    : e.sla_breached().record();
    return record == stream && e.stream() == SlaEventStream(record);
  }
  return e.stream() == stream;
}

// A record's items read back from the log: the events of its stream and of
// its SLA stream up to a position, in (occurred_at, position) order.
struct History {
  std::deque<Envelope> events;  // Stable addresses for the items.
  std::vector<Item> items;
};

absl::Status LoadItems(ProjectionState& state, absl::string_view stream,
                       int64_t through_position, History* h) {
  for (const std::string& s : {std::string(stream), SlaEventStream(stream)}) {
    SLATE_RETURN_IF_ERROR(
        state.ReadStream(s, through_position, [&](const Envelope& e) {
          if (IsItemOf(e, stream)) h->events.push_back(e);
          return true;
        }));
  }
  h->items.reserve(h->events.size());
  for (const Envelope& e : h->events) {
    Item item;
    item.e = &e;
    item.at_us = e.occurred_at_us();
    item.sla = e.has_sla_warning() || e.has_sla_breached();
    h->items.push_back(std::move(item));
  }
  std::sort(h->items.begin(), h->items.end(),
            [](const Item& a, const Item& b) {
              return std::make_pair(a.at_us, a.e->position()) <
                     std::make_pair(b.at_us, b.e->position());
            });
  return absl::OkStatus();
}

// Items with transitions, evolved from a fresh record.
absl::Status LoadHistory(ProjectionState& state, absl::string_view stream,
                         int64_t through_position, History* h) {
  SLATE_RETURN_IF_ERROR(LoadItems(state, stream, through_position, h));
  SlaRecordState rec = NewRecord(stream);
  for (Item& item : h->items) {
    if (!item.sla) EvolveRecord(&rec, &item);
  }
  return absl::OkStatus();
}

// Drops the record's clocks and folds its items up to `through_position`
// again, from the log.
absl::Status Recompute(ProjectionState& state, const Config& config,
                       absl::string_view stream, int64_t through_position) {
  std::vector<std::string> dead;
  absl::Status error;
  SLATE_RETURN_IF_ERROR(state.Scan(
      ClkPrefix(stream), [&](absl::string_view key, absl::string_view value) {
        SlaStoredClock stored;
        error = ParseStored(value, key, &stored);
        if (!error.ok()) return false;
        if (stored.has_due_us()) dead.push_back(DueKey(stored.due_us(), key));
        dead.emplace_back(key);
        return true;
      }));
  SLATE_RETURN_IF_ERROR(error);
  for (const std::string& k : dead) state.Delete(k);
  History h;
  SLATE_RETURN_IF_ERROR(LoadItems(state, stream, through_position, &h));
  SlaRecordState rec = NewRecord(stream);
  ClockSlots clocks;
  RecordFold fold(state, config, rec, clocks, /*fresh=*/true);
  std::vector<Item> done;  // Items folded so far, with transitions.
  done.reserve(h.items.size());
  for (const Item& item : h.items) {
    done.push_back(item);
    SLATE_RETURN_IF_ERROR(fold.Step(
        done.back(), [&]() -> absl::StatusOr<const std::vector<Item>*> {
          return &done;
        }));
  }
  if (!h.items.empty()) rec.set_last_at_us(h.items.back().at_us);
  SLATE_ASSIGN_OR_RETURN(std::optional<int64_t> retired, fold.EndAllRetired());
  if (retired.has_value() && *retired > rec.last_at_us()) {
    rec.set_last_at_us(*retired);
  }
  SLATE_RETURN_IF_ERROR(WriteClocks(state, config, stream, clocks));
  state.Put(RecKey(stream), SerializeDeterministic(rec));
  return absl::OkStatus();
}

absl::StatusOr<SlaClockView> MakeView(const SlaStoredClock& stored,
                                      const SlaRecordState* rec) {
  SlaClockView v;
  v.state = stored.state();
  v.record = v.state.record_id();
  v.policy_id = v.state.policy_id();
  v.target_type = std::string(SlaTargetTypeName(v.state.metric()));
  v.cycle = v.state.cycle();
  if (rec != nullptr) {
    SlaRecordAttributes a = AttributesOf(*rec);
    v.service = std::string(a.service);
    v.category = std::string(a.category);
    v.priority = a.priority;
    if (rec->record_type() == "incident") {
      v.group = rec->incident().assignment_group();
      v.contact_type = rec->incident().contact_type();
    }
  }
  // An OLA cycle belongs to the group of its stay.
  if (!stored.group().empty()) v.group = v.stay_group = stored.group();
  v.policy_version_from_us = stored.version_from_us();
  return v;
}

// Where ScanViews reads: a runner's SLA projection or a ProjectionState.
struct ViewSource {
  std::function<absl::Status(
      absl::string_view,
      const std::function<bool(absl::string_view, absl::string_view)>&)>
      scan;
  std::function<absl::StatusOr<std::optional<std::string>>(absl::string_view)>
      get;
};

absl::Status ScanViewsIn(const ViewSource& source, absl::string_view prefix,
                         const std::function<void(const SlaClockView&)>& fn);

absl::Status ScanViews(const ProjectionRunner& runner, absl::string_view prefix,
                       const std::function<void(const SlaClockView&)>& fn) {
  ViewSource source;
  source.scan = [&](absl::string_view p,
                    const std::function<bool(absl::string_view,
                                             absl::string_view)>& f) {
    return runner.Scan(SlaProjection::kName, p, f);
  };
  source.get = [&](absl::string_view key) {
    return runner.Get(SlaProjection::kName, key);
  };
  return ScanViewsIn(source, prefix, fn);
}

absl::Status ScanViewsIn(const ViewSource& source, absl::string_view prefix,
                         const std::function<void(const SlaClockView&)>& fn) {
  std::string rec_stream;
  std::optional<SlaRecordState> rec;
  absl::Status error;
  SLATE_RETURN_IF_ERROR(source.scan(
      prefix,
      [&](absl::string_view key, absl::string_view value) {
        SlaStoredClock stored;
        error = ParseStored(value, key, &stored);
        if (!error.ok()) return false;
        const std::string& stream = stored.state().record_id();
        if (!rec.has_value() || rec_stream != stream) {
          rec_stream = stream;
          rec.reset();
          auto r = source.get(RecKey(stream));
          if (!r.ok()) {
            error = r.status();
            return false;
          }
          if (r->has_value()) {
            rec.emplace();
            error = ParseStored(**r, RecKey(stream), &*rec);
            if (!error.ok()) return false;
          }
        }
        auto v = MakeView(stored, rec.has_value() ? &*rec : nullptr);
        if (!v.ok()) {
          error = v.status();
          return false;
        }
        fn(*v);
        return true;
      }));
  return error;
}

}  // namespace

// --- Public helpers -------------------------------------------------------------

absl::string_view SlaTargetTypeName(SlaMetric metric) {
  switch (metric) {
    case SLA_METRIC_RESPONSE:
      return "response";
    case SLA_METRIC_RESOLUTION:
      return "resolution";
    case SLA_METRIC_UPDATE:
      return "update";
    default:
      return "";
  }
}

std::string SlaClockKey(absl::string_view stream, absl::string_view policy_id,
                        SlaMetric metric, int64_t cycle) {
  std::string key;
  ClockKeyTo(stream, policy_id, metric, cycle, &key);
  return key;
}

std::string SlaPolicyVersionKey(absl::string_view policy_id, absl::Time from) {
  const int64_t us = from == absl::InfinitePast()
                         ? std::numeric_limits<int64_t>::min()
                         : absl::ToUnixMicros(from);
  return absl::StrCat(kPovPrefix, policy_id, "|", TimeHex(us));
}

std::string SlaEventStream(absl::string_view record_stream) {
  const TenantStreamParts parts = SplitTenantStream(record_stream);
  // The record's own tenant prefix, as written ("" for the default's).
  const absl::string_view prefix =
      record_stream.substr(0, record_stream.size() - parts.local.size());
  return absl::StrCat(prefix, "sla/", parts.local);
}

std::string SlaConfigKey(absl::string_view tenant, absl::string_view key) {
  return absl::StrCat(TenantStreamPrefix(tenant), key);
}

absl::StatusOr<std::vector<std::string>> SlaRecordStreams(
    absl::string_view record, absl::string_view tenant) {
  if (!tenant.empty()) {
    SLATE_RETURN_IF_ERROR(ValidateTenantId(tenant, "tenant"));
  }
  std::vector<std::string> streams;
  if (absl::StartsWith(record, kTenantStreamPrefix)) {
    const absl::string_view owner = StreamTenant(record);
    if (!tenant.empty() && owner != tenant) {
      return absl::InvalidArgumentError(
          absl::StrCat("record \"", record, "\" belongs to tenant \"", owner,
                       "\", not \"", tenant, "\""));
    }
    streams.emplace_back(record);
  } else if (record.find('/') != absl::string_view::npos) {
    streams.push_back(TenantStream(tenant, record));
  } else {
    streams.push_back(TenantStream(tenant, absl::StrCat("incident/", record)));
    streams.push_back(TenantStream(tenant, absl::StrCat("change/", record)));
  }
  return streams;
}

std::string SlaTimerEventId(absl::string_view stream,
                            absl::string_view policy_id, SlaMetric metric,
                            int64_t cycle, int threshold_index) {
  return absl::StrCat("sla:", stream, ":", policy_id, ":",
                      SlaTargetTypeName(metric), ":", cycle, ":",
                      threshold_index < 0
                          ? std::string("breach")
                          : absl::StrCat("w", threshold_index));
}

absl::Status ForEachClock(const ProjectionRunner& runner,
                          const std::function<void(const SlaClockView&)>& fn) {
  return ScanViews(runner, kClkPrefix, fn);
}

absl::StatusOr<std::vector<SlaClockView>> ClocksOf(
    const ProjectionRunner& runner, absl::string_view record,
    absl::string_view tenant) {
  SLATE_ASSIGN_OR_RETURN(std::vector<std::string> streams,
                         SlaRecordStreams(record, tenant));
  std::vector<SlaClockView> out;
  for (const std::string& s : streams) {
    SLATE_RETURN_IF_ERROR(ScanViews(runner, ClkPrefix(s),
                                    [&](const SlaClockView& v) {
                                      out.push_back(v);
                                    }));
    if (!out.empty()) break;
  }
  return out;
}

absl::Status ForEachClockIn(ProjectionState& state,
                            const std::function<void(const SlaClockView&)>& fn) {
  ViewSource source;
  source.scan = [&](absl::string_view p,
                    const std::function<bool(absl::string_view,
                                             absl::string_view)>& f) {
    return state.Scan(p, f);
  };
  source.get = [&](absl::string_view key) { return state.Get(key); };
  return ScanViewsIn(source, kClkPrefix, fn);
}

absl::StatusOr<std::vector<SlaClockView>> ClocksIn(
    ProjectionState& state, absl::string_view record_stream) {
  ViewSource source;
  source.scan = [&](absl::string_view p,
                    const std::function<bool(absl::string_view,
                                             absl::string_view)>& f) {
    return state.Scan(p, f);
  };
  source.get = [&](absl::string_view key) { return state.Get(key); };
  std::vector<SlaClockView> out;
  SLATE_RETURN_IF_ERROR(ScanViewsIn(source, ClkPrefix(record_stream),
                                    [&](const SlaClockView& v) {
                                      out.push_back(v);
                                    }));
  return out;
}

absl::StatusOr<std::optional<SlaClockView>> ClockByKey(
    const ProjectionRunner& runner, absl::string_view clock_key) {
  SLATE_ASSIGN_OR_RETURN(std::optional<std::string> v,
                         runner.Get(SlaProjection::kName, clock_key));
  if (!v.has_value()) return std::nullopt;
  SlaStoredClock stored;
  SLATE_RETURN_IF_ERROR(ParseStored(*v, clock_key, &stored));
  const std::string rec_key = RecKey(stored.state().record_id());
  SLATE_ASSIGN_OR_RETURN(std::optional<std::string> r,
                         runner.Get(SlaProjection::kName, rec_key));
  std::optional<SlaRecordState> rec;
  if (r.has_value()) {
    rec.emplace();
    SLATE_RETURN_IF_ERROR(ParseStored(*r, rec_key, &*rec));
  }
  SLATE_ASSIGN_OR_RETURN(SlaClockView view,
                         MakeView(stored, rec.has_value() ? &*rec : nullptr));
  return view;
}

absl::StatusOr<std::vector<SlaDue>> DueClocks(const ProjectionRunner& runner,
                                              absl::Time now, size_t limit) {
  std::vector<SlaDue> out;
  absl::Status error;
  const int64_t now_us = absl::ToUnixMicros(now);
  SLATE_RETURN_IF_ERROR(runner.Scan(
      SlaProjection::kName, kDuePrefix,
      [&](absl::string_view key, absl::string_view) {
        if (out.size() >= limit) return false;
        absl::string_view rest = key.substr(kDuePrefix.size());
        int64_t due_us = 0;
        if (rest.size() < 17 || !ParseTimeHex(rest.substr(0, 16), &due_us)) {
          error = absl::DataLossError(
              absl::StrCat("sla projection: bad due key \"", key, "\""));
          return false;
        }
        if (due_us > now_us) return false;
        const std::string clock_key(rest.substr(17));
        auto v = runner.Get(SlaProjection::kName, clock_key);
        if (!v.ok()) {
          error = v.status();
          return false;
        }
        if (!v->has_value()) return true;  // Should not happen; skip.
        SlaStoredClock stored;
        error = ParseStored(**v, clock_key, &stored);
        if (!error.ok()) return false;
        if (!stored.has_due_us()) return true;
        const SlaClockState& s = stored.state();
        const int index = stored.due_threshold_index();
        SlaDue d;
        d.clock_key = clock_key;
        d.due = absl::FromUnixMicros(stored.due_us());
        Envelope& e = d.event;
        e.set_event_id(SlaTimerEventId(s.record_id(), s.policy_id(),
                                       s.metric(), s.cycle(), index));
        e.set_occurred_at_us(stored.due_us());
        e.set_actor("slate-timer");
        if (index == kBreachIndex) {
          SlaBreached* b = e.mutable_sla_breached();
          b->set_record(s.record_id());
          b->set_policy_id(s.policy_id());
          b->set_metric(s.metric());
          b->set_cycle(s.cycle());
          b->set_target_us(s.target_us());
        } else {
          SlaWarning* w = e.mutable_sla_warning();
          w->set_record(s.record_id());
          w->set_policy_id(s.policy_id());
          w->set_metric(s.metric());
          w->set_cycle(s.cycle());
          w->set_threshold_index(index);
          if (index < s.warning_before_us_size()) {
            w->set_before_us(s.warning_before_us(index));
          } else if (index < s.warning_thresholds_percent_size()) {
            w->set_threshold_percent(s.warning_thresholds_percent(index));
          }
          w->set_target_us(s.target_us());
          if (s.has_deadline_us()) w->set_deadline_us(s.deadline_us());
        }
        out.push_back(std::move(d));
        return true;
      }));
  SLATE_RETURN_IF_ERROR(error);
  return out;
}

namespace {

bool ViewLess(const SlaClockView& a, const SlaClockView& b, int64_t ka,
              int64_t kb) {
  if (ka != kb) return ka < kb;
  if (a.record != b.record) return a.record < b.record;
  if (a.policy_id != b.policy_id) return a.policy_id < b.policy_id;
  if (a.state.metric() != b.state.metric()) {
    return a.state.metric() < b.state.metric();
  }
  return a.cycle < b.cycle;
}

}  // namespace

absl::StatusOr<std::vector<SlaClockView>> AtRiskClocks(
    const ProjectionRunner& runner, absl::Time now, absl::Duration within,
    const SlaAtRiskFilter& filter, size_t top_n, bool all_tenants) {
  if (!filter.tenant.empty()) {
    SLATE_RETURN_IF_ERROR(ValidateTenantId(filter.tenant, "at-risk: tenant"));
  }
  const absl::string_view tenant = TenantOrDefault(filter.tenant);
  const absl::Time horizon_time = now + within;
  int64_t horizon = std::numeric_limits<int64_t>::max();
  if (horizon_time == absl::InfinitePast()) {
    horizon = std::numeric_limits<int64_t>::min();
  } else if (horizon_time != absl::InfiniteFuture()) {
    horizon = absl::ToUnixMicros(horizon_time);
  }
  auto less = [](const SlaClockView& a, const SlaClockView& b) {
    return ViewLess(a, b, a.state.deadline_us(), b.state.deadline_us());
  };
  // With top_n, `out` is a max-heap of the best top_n so far. The due index
  // is in due order and a clock's due instant (its next warning or breach)
  // is never after its deadline, so once top_n clocks are held, a due
  // instant past the worst deadline held ends the scan: O(top_n + clocks
  // due before it) instead of every clock inside the horizon.
  std::vector<SlaClockView> out;
  absl::Status error;
  SLATE_RETURN_IF_ERROR(runner.Scan(
      SlaProjection::kName, kDuePrefix,
      [&](absl::string_view key, absl::string_view) {
        absl::string_view rest = key.substr(kDuePrefix.size());
        int64_t due_us = 0;
        if (rest.size() < 17 || !ParseTimeHex(rest.substr(0, 16), &due_us)) {
          error = absl::DataLossError(
              absl::StrCat("sla projection: bad due key \"", key, "\""));
          return false;
        }
        if (due_us > horizon) return false;
        if (top_n != 0 && out.size() >= top_n &&
            due_us > out.front().state.deadline_us()) {
          return false;
        }
        // The clock key names its record ("clk/<stream>|..."): another
        // tenant's clock is not read.
        const absl::string_view clock_key = rest.substr(17);
        if (!all_tenants &&
            !StreamInTenant(clock_key.substr(kClkPrefix.size()), tenant)) {
          return true;
        }
        absl::StatusOr<std::optional<SlaClockView>> v =
            ClockByKey(runner, clock_key);
        if (!v.ok()) {
          error = v.status();
          return false;
        }
        if (!v->has_value()) return true;
        const SlaClockState& st = (*v)->state;
        if (st.status() != SLA_CLOCK_STATUS_RUNNING || !st.has_deadline_us() ||
            st.deadline_us() > horizon) {
          return true;
        }
        if (!filter.group.empty() && (*v)->group != filter.group) return true;
        if (!filter.service.empty() && (*v)->service != filter.service) {
          return true;
        }
        if (filter.priority != 0 && (*v)->priority != filter.priority) {
          return true;
        }
        out.push_back(std::move(**v));
        if (top_n != 0) {
          std::push_heap(out.begin(), out.end(), less);
          if (out.size() > top_n) {
            std::pop_heap(out.begin(), out.end(), less);
            out.pop_back();
          }
        }
        return true;
      }));
  SLATE_RETURN_IF_ERROR(error);
  std::sort(out.begin(), out.end(), less);
  if (top_n != 0 && out.size() > top_n) out.resize(top_n);
  return out;
}

absl::StatusOr<std::vector<SlaClockView>> BreachedOpenClocks(
    const ProjectionRunner& runner, absl::string_view tenant) {
  if (!tenant.empty()) {
    SLATE_RETURN_IF_ERROR(ValidateTenantId(tenant, "breached: tenant"));
  }
  tenant = TenantOrDefault(tenant);
  std::vector<SlaClockView> out;
  // A tenant's clocks are under "clk/tenant/<id>/"; the default tenant's
  // are the rest.
  const std::string prefix =
      absl::StrCat(kClkPrefix, TenantStreamPrefix(tenant));
  SLATE_RETURN_IF_ERROR(ScanViews(runner, prefix, [&](const SlaClockView& v) {
    if (tenant == kDefaultTenant && !StreamInTenant(v.record, tenant)) return;
    if (v.state.status() == SLA_CLOCK_STATUS_BREACHED &&
        (v.state.phase() == SLA_CLOCK_PHASE_RUNNING ||
         v.state.phase() == SLA_CLOCK_PHASE_PAUSED)) {
      out.push_back(v);
    }
  }));
  std::sort(out.begin(), out.end(),
            [](const SlaClockView& a, const SlaClockView& b) {
              return ViewLess(a, b, a.state.breached_at_us(),
                              b.state.breached_at_us());
            });
  return out;
}

namespace {

absl::StatusOr<std::optional<absl::Time>> ParseWatermark(
    const std::optional<std::string>& wm) {
  if (!wm.has_value()) return std::nullopt;
  int64_t us = 0;
  if (!ParseTimeHex(*wm, &us)) {
    return absl::DataLossError("sla projection: bad watermark");
  }
  return absl::FromUnixMicros(us);
}

}  // namespace

absl::StatusOr<std::optional<absl::Time>> SlaWatermarkIn(
    ProjectionState& state) {
  SLATE_ASSIGN_OR_RETURN(std::optional<std::string> wm,
                         state.Get(kWatermarkKey));
  return ParseWatermark(wm);
}

absl::StatusOr<std::optional<absl::Time>> SlaWatermark(
    const ProjectionRunner& runner) {
  SLATE_ASSIGN_OR_RETURN(std::optional<std::string> wm,
                         runner.Get(SlaProjection::kName, kWatermarkKey));
  return ParseWatermark(wm);
}

// --- The projection -------------------------------------------------------------

// Decoded state kept between Apply calls (see Projection::Flush): the
// records and clocks folded lately, the watermark, and whether `config`
// matches the state's configuration generation. Bounded by entry counts;
// a flush over the bound drops what the last batch did not touch (see
// DecodedCache), and dropped entries are re-read when needed.
struct SlaProjection::Caches {
  explicit Caches(size_t records) : recs(records) {}
  Config config;                // The default tenant's.
  bool config_current = false;  // config.gen is the state's "gen".
  // The configuration of every other tenant folded since `config` was
  // loaded (built from it and the tenant's definitions when first needed).
  absl::flat_hash_map<std::string, std::unique_ptr<Config>> tenant_configs;
  RecordCache recs;  // With their clocks.
  std::string rec_key;  // Apply's buffer for a record's key.
  std::optional<int64_t> watermark;  // Loaded; nullopt: not loaded.
  bool watermark_stored = false;     // The state holds a watermark.
  bool watermark_dirty = false;

  // (Re)loads the default tenant's configuration as of `gen`; forgets the
  // other tenants'.
  absl::Status Reload(ProjectionState& state, const std::string& gen) {
    tenant_configs.clear();
    return LoadConfig(state, gen, &config);
  }

  // The configuration in force for the records of `stream`'s tenant.
  // REQUIRES: `config` is current.
  absl::StatusOr<const Config*> For(ProjectionState& state,
                                    absl::string_view stream) {
    const absl::string_view tenant = StreamTenant(stream);
    if (tenant == kDefaultTenant) return &config;
    auto it = tenant_configs.find(tenant);
    if (it == tenant_configs.end()) {
      auto loaded = std::make_unique<Config>();
      SLATE_RETURN_IF_ERROR(
          LoadTenantConfig(state, tenant, config, loaded.get()));
      it = tenant_configs.emplace(std::string(tenant), std::move(loaded)).first;
    }
    return it->second.get();
  }

  void Clear() {
    config_current = false;
    tenant_configs.clear();
    recs.Clear();
    watermark.reset();
    watermark_stored = false;
    watermark_dirty = false;
  }
};

SlaProjection::SlaProjection(size_t cached_records)
    : caches_(std::make_unique<Caches>(cached_records)) {}
SlaProjection::~SlaProjection() = default;

void SlaProjection::Discard() { caches_->Clear(); }

bool SlaProjection::WantsFlush() const {
  return caches_->recs.over_bound();
}

absl::Status SlaProjection::WriteBackRecords(ProjectionState& state) {
  SLATE_RETURN_IF_ERROR(Flush(state));
  caches_->recs.Clear();
  return absl::OkStatus();
}

absl::Status SlaProjection::Flush(ProjectionState& state) {
  Caches& c = *caches_;
  SLATE_RETURN_IF_ERROR(FlushRecords(
      state, [&](absl::string_view stream) { return c.For(state, stream); },
      c.recs));
  if (c.watermark_dirty) {
    state.Put(kWatermarkKey, TimeHex(*c.watermark));
    c.watermark_dirty = false;
  }
  return absl::OkStatus();
}

absl::Status SlaProjection::Apply(const Envelope& e, ProjectionState& state) {
  const bool config_event = e.has_sla_policy_defined() ||
                            e.has_calendar_defined() ||
                            e.has_sla_policy_retired();
  const bool sla_event = e.has_sla_warning() || e.has_sla_breached();
  absl::string_view stream;  // Into `e`.
  if (sla_event) {
    stream = e.has_sla_warning() ? e.sla_warning().record()
                                 : e.sla_breached().record();
    // Only from the record's SLA stream, where a recompute reads them.
    if (e.stream() != SlaEventStream(stream)) return absl::OkStatus();
  } else if (!config_event) {
    stream = e.stream();
  }
  if (!config_event && RecordType(stream).empty()) return absl::OkStatus();

  // The configuration in force (reloaded when a config event was folded).
  Caches& caches = *caches_;
  Config& config = caches.config;
  if (!caches.config_current) {
    SLATE_ASSIGN_OR_RETURN(std::optional<std::string> gen, state.Get(kGenKey));
    const std::string gen_value = gen.value_or("");
    if (config.gen != gen_value) {
      SLATE_RETURN_IF_ERROR(caches.Reload(state, gen_value));
    }
    caches.config_current = true;
  }

  if (config_event) {
    // Recomputes every record of the event's tenant (of every tenant for
    // the default tenant's: they all share it) from the bytes.
    SLATE_RETURN_IF_ERROR(WriteBackRecords(state));
    // The tenant's keys (SlaConfigKey): "" for the default tenant.
    const std::string tenant_prefix =
        TenantStreamPrefix(StreamTenant(e.stream()));
    if (e.has_sla_policy_defined()) {
      const SlaPolicy& p = e.sla_policy_defined().policy();
      if (p.id().empty()) return absl::OkStatus();
      state.Put(absl::StrCat(tenant_prefix, kPolPrefix, p.id()),
                SerializeDeterministic(p));
      state.Put(
          absl::StrCat(tenant_prefix,
                       SlaPolicyVersionKey(
                           p.id(), absl::FromUnixMicros(e.occurred_at_us()))),
          SerializeDeterministic(e.sla_policy_defined()));
    } else if (e.has_sla_policy_retired()) {
      const std::string& id = e.sla_policy_retired().policy_id();
      if (id.empty()) return absl::OkStatus();
      state.Put(absl::StrCat(tenant_prefix, kRetPrefix, id),
                TimeHex(e.occurred_at_us()));
    } else {
      const CalendarSpec& c = e.calendar_defined().spec();
      if (c.name().empty()) return absl::OkStatus();
      state.Put(absl::StrCat(tenant_prefix, kCalPrefix, c.name()),
                SerializeDeterministic(c));
    }
    int64_t n = 0;
    if (!config.gen.empty() && !absl::SimpleAtoi(config.gen, &n)) n = 0;
    const std::string next = absl::StrCat(n + 1);
    state.Put(kGenKey, next);
    SLATE_RETURN_IF_ERROR(caches.Reload(state, next));
    // The records under the new definitions.
    std::vector<std::string> streams;
    const std::string rec_prefix = absl::StrCat(kRecPrefix, tenant_prefix);
    SLATE_RETURN_IF_ERROR(
        state.Scan(rec_prefix, [&](absl::string_view key, absl::string_view) {
          streams.emplace_back(key.substr(kRecPrefix.size()));
          return true;
        }));
    for (const std::string& s : streams) {
      SLATE_ASSIGN_OR_RETURN(const Config* in_force, caches.For(state, s));
      SLATE_RETURN_IF_ERROR(Recompute(state, *in_force, s, e.position()));
    }
    return absl::OkStatus();
  }

  const int64_t at_us = e.occurred_at_us();
  if (!sla_event) {
    if (!caches.watermark.has_value()) {
      SLATE_ASSIGN_OR_RETURN(std::optional<std::string> wm,
                             state.Get(kWatermarkKey));
      int64_t wm_us = std::numeric_limits<int64_t>::min();
      caches.watermark_stored = wm.has_value() && ParseTimeHex(*wm, &wm_us);
      caches.watermark = wm_us;
    }
    if (!caches.watermark_stored || at_us > *caches.watermark) {
      caches.watermark = at_us;
      caches.watermark_stored = true;
      caches.watermark_dirty = true;
    }
  }

  std::string& rec_key = caches.rec_key;
  rec_key.assign(kRecPrefix.data(), kRecPrefix.size());
  rec_key.append(stream.data(), stream.size());
  SLATE_ASSIGN_OR_RETURN(
      RecordCache::Entry * entry,
      caches.recs.Load(state, rec_key,
                       [&](absl::string_view bytes, CachedRecord* r) {
                         return ParseStored(bytes, rec_key, &r->rec);
                       }));
  const bool stored = entry->present;
  CachedRecord& cached = entry->value;
  if (!stored) {
    ResetToNewRecord(stream, &cached.rec);
    cached.fresh = true;
    cached.complete = true;
  }
  SlaRecordState& rec = cached.rec;

  SLATE_ASSIGN_OR_RETURN(const Config* in_force, caches.For(state, stream));
  if (stored && at_us < rec.last_at_us()) {
    // Late: recompute the record from its events in the log, this one
    // included.
    SLATE_RETURN_IF_ERROR(WriteBackRecords(state));
    return Recompute(state, *in_force, stream, e.position());
  }
  rec.set_last_at_us(at_us);

  RecordFold fold(state, *in_force, rec, cached.clocks, cached.fresh);
  if (!cached.clocks_loaded) {
    SLATE_RETURN_IF_ERROR(fold.LoadCurrentClocks());
    cached.clocks_loaded = true;
  }
  Item item;
  item.e = &e;
  item.at_us = at_us;
  item.sla = sla_event;
  // A clock attaching replays the record's history: the cached items and
  // this one, else read from the log.
  std::vector<Item> replay;
  std::optional<History> history;  // Built only when a clock attaches.
  absl::Status st = fold.Step(
      item, [&]() -> absl::StatusOr<const std::vector<Item>*> {
        if (cached.complete) {
          replay = cached.items;
          replay.push_back(item);
          return &replay;
        }
        SLATE_RETURN_IF_ERROR(
            LoadHistory(state, stream, e.position(), &history.emplace()));
        return &history->items;
      });
  std::optional<int64_t> retired;
  if (st.ok()) {
    absl::StatusOr<std::optional<int64_t>> r = fold.EndAllRetired();
    if (r.ok()) {
      retired = *r;
    } else {
      st = r.status();
    }
  }
  if (!st.ok()) {
    // The cached record and clocks may be half-changed.
    caches.Clear();
    return st;
  }
  if (retired.has_value() && *retired > rec.last_at_us()) {
    rec.set_last_at_us(*retired);
  }
  if (cached.complete && cached.items.size() >= kMaxCachedItems) {
    cached.complete = false;
    cached.items = {};
    cached.sla_events = {};
  }
  if (cached.complete) {
    Item& kept = cached.items.emplace_back(std::move(item));
    kept.e = nullptr;
    if (kept.sla) kept.e = &cached.sla_events.emplace_back(e);
  }
  caches.recs.MarkWritten(entry);
  return absl::OkStatus();
}

}  // namespace slate
