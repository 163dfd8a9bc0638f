#include "lib/projection/kpi_rollup.h"

#include <algorithm>
#include <limits>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "lib/api/tenant.h"
#include "lib/base/status_macros.h"
#include "lib/projection/runner.h"

namespace slate {
namespace {

std::string Printable(absl::string_view key) {
  std::string out;
  for (char c : key) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) {
      out += c;
    } else {
      absl::StrAppend(&out, "\\x", absl::Hex(u, absl::kZeroPad2));
    }
  }
  return out;
}

// Sorted, overlapping or touching intervals merged; end 0 = open.
std::vector<KpiInterval> Normalize(std::vector<KpiInterval> v) {
  constexpr int64_t kOpen = std::numeric_limits<int64_t>::max();
  for (auto& i : v) {
    if (i.end_us == 0) i.end_us = kOpen;
  }
  std::sort(v.begin(), v.end(), [](const KpiInterval& a, const KpiInterval& b) {
    return a.start_us < b.start_us ||
           (a.start_us == b.start_us && a.end_us < b.end_us);
  });
  std::vector<KpiInterval> out;
  for (const auto& i : v) {
    if (!out.empty() && i.start_us <= out.back().end_us) {
      out.back().end_us = std::max(out.back().end_us, i.end_us);
    } else {
      out.push_back(i);
    }
  }
  for (auto& i : out) {
    if (i.end_us == kOpen) i.end_us = 0;
  }
  return out;
}

}  // namespace

absl::Status KpiCorrupt(absl::string_view what, absl::string_view key) {
  return absl::DataLossError(absl::StrCat("kpi projection: undecodable ", what,
                                          " at key \"", Printable(key), "\""));
}

void KpiMeasures::Add(const KpiMeasures& o, int sign) {
#define SLATE_KPI_ADD(name) name += sign * o.name;
  SLATE_KPI_COUNTERS(SLATE_KPI_ADD)
#undef SLATE_KPI_ADD
  for (int i = 0; i < kAgingClasses; ++i) {
    aging_delta[i] += sign * o.aging_delta[i];
  }
#define SLATE_KPI_ADD(name)  \
  if (o.name.empty()) {      \
  } else if (sign > 0) {     \
    name.Merge(o.name);      \
  } else {                   \
    name.Subtract(o.name);   \
  }
  SLATE_KPI_SKETCHES(SLATE_KPI_ADD)
#undef SLATE_KPI_ADD
  for (const auto& [currency, cents] : o.request_cost_cents) {
    int64_t& sum = request_cost_cents[currency];
    sum += sign * cents;
    if (sum == 0) request_cost_cents.erase(currency);
  }
}

bool KpiMeasures::IsZero() const {
#define SLATE_KPI_ZERO(name) \
  if (name != 0) return false;
  SLATE_KPI_COUNTERS(SLATE_KPI_ZERO)
#undef SLATE_KPI_ZERO
  for (int64_t a : aging_delta) {
    if (a != 0) return false;
  }
#define SLATE_KPI_ZERO(name) \
  if (!name.empty()) return false;
  SLATE_KPI_SKETCHES(SLATE_KPI_ZERO)
#undef SLATE_KPI_ZERO
  return request_cost_cents.empty();
}

bool operator==(const KpiMeasures& a, const KpiMeasures& b) {
#define SLATE_KPI_EQ(name) \
  if (a.name != b.name) return false;
  SLATE_KPI_COUNTERS(SLATE_KPI_EQ)
  SLATE_KPI_SKETCHES(SLATE_KPI_EQ)
#undef SLATE_KPI_EQ
  return a.aging_delta == b.aging_delta &&
         a.request_cost_cents == b.request_cost_cents;
}

kpi::KpiCell KpiMeasures::ToProto() const {
  kpi::KpiCell c;
#define SLATE_KPI_SET(name) c.set_##name(name);
  SLATE_KPI_COUNTERS(SLATE_KPI_SET)
#undef SLATE_KPI_SET
  if (std::any_of(aging_delta.begin(), aging_delta.end(),
                  [](int64_t a) { return a != 0; })) {
    for (int64_t a : aging_delta) c.add_aging_delta(a);
  }
#define SLATE_KPI_SET(name) \
  if (!name.empty()) c.set_##name(name.Encode());
  SLATE_KPI_SKETCHES(SLATE_KPI_SET)
#undef SLATE_KPI_SET
  for (const auto& [currency, cents] : request_cost_cents) {
    (*c.mutable_request_cost_cents())[currency] = cents;
  }
  return c;
}

namespace {

// A field of KpiCell and where KpiMeasures keeps it.
struct CellField {
  enum Kind { kCounter, kAging, kSketch, kCost };
  int number = 0;
  Kind kind = kCounter;
  int64_t KpiMeasures::*counter = nullptr;
  QuantileSketch KpiMeasures::*sketch = nullptr;
};

// KpiCell's fields in field-number order (the order protobuf serializes
// them in), numbered by its descriptor.
const std::vector<CellField>& CellLayout() {
  static const std::vector<CellField>* const layout = [] {
    const google::protobuf::Descriptor* d = kpi::KpiCell::descriptor();
    auto number = [d](const char* name) {
      return d->FindFieldByName(name)->number();
    };
    auto* v = new std::vector<CellField>;
#define SLATE_KPI_LAYOUT(name) \
  v->push_back({number(#name), CellField::kCounter, &KpiMeasures::name, nullptr});
    SLATE_KPI_COUNTERS(SLATE_KPI_LAYOUT)
#undef SLATE_KPI_LAYOUT
#define SLATE_KPI_LAYOUT(name) \
  v->push_back({number(#name), CellField::kSketch, nullptr, &KpiMeasures::name});
    SLATE_KPI_SKETCHES(SLATE_KPI_LAYOUT)
#undef SLATE_KPI_LAYOUT
    v->push_back({number("aging_delta"), CellField::kAging, nullptr, nullptr});
    v->push_back(
        {number("request_cost_cents"), CellField::kCost, nullptr, nullptr});
    std::sort(v->begin(), v->end(),
              [](const CellField& a, const CellField& b) {
                return a.number < b.number;
              });
    return v;
  }();
  return *layout;
}

size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

}  // namespace

void KpiMeasures::EncodeTo(std::string* out) const {
  out->clear();
  for (const CellField& f : CellLayout()) {
    switch (f.kind) {
      case CellField::kCounter:
        if (this->*f.counter != 0) {
          kpi::PutVarintField(out, f.number,
                              static_cast<uint64_t>(this->*f.counter));
        }
        break;
      case CellField::kAging: {
        // Packed, all classes or none (as ToProto).
        if (std::none_of(aging_delta.begin(), aging_delta.end(),
                         [](int64_t a) { return a != 0; })) {
          break;
        }
        size_t size = 0;
        for (int64_t a : aging_delta) size += VarintSize(static_cast<uint64_t>(a));
        kpi::PutTag(out, f.number, 2);
        kpi::PutVarint(out, size);
        for (int64_t a : aging_delta) kpi::PutVarint(out, static_cast<uint64_t>(a));
        break;
      }
      case CellField::kSketch: {
        const QuantileSketch& s = this->*f.sketch;
        if (s.empty()) break;
        // The bytes after the tag, then their length put before them.
        kpi::PutTag(out, f.number, 2);
        const size_t at = out->size();
        s.AppendEncoded(out);
        std::string length;
        kpi::PutVarint(&length, out->size() - at);
        out->insert(at, length);
        break;
      }
      case CellField::kCost:
        // Map entries in key order (deterministic), each an embedded
        // message with its key (1) and value (2) always written.
        for (const auto& [currency, cents] : request_cost_cents) {
          kpi::PutTag(out, f.number, 2);
          kpi::PutVarint(out, 1 + VarintSize(currency.size()) +
                                  currency.size() + 1 +
                                  VarintSize(static_cast<uint64_t>(cents)));
          kpi::PutBytesField(out, 1, currency);
          kpi::PutVarintField(out, 2, static_cast<uint64_t>(cents));
        }
        break;
    }
  }
}

absl::StatusOr<KpiMeasures> KpiMeasures::FromProto(const kpi::KpiCell& c) {
  KpiMeasures m;
#define SLATE_KPI_GET(name) m.name = c.name();
  SLATE_KPI_COUNTERS(SLATE_KPI_GET)
#undef SLATE_KPI_GET
  for (const auto& [currency, cents] : c.request_cost_cents()) {
    if (cents != 0) m.request_cost_cents[currency] = cents;
  }
  if (c.aging_delta_size() != 0) {
    if (c.aging_delta_size() != kAgingClasses) {
      return absl::DataLossError("kpi cell: aging_delta has the wrong size");
    }
    for (int i = 0; i < kAgingClasses; ++i) m.aging_delta[i] = c.aging_delta(i);
  }
#define SLATE_KPI_GET(name)                                           \
  if (!c.name().empty()) {                                            \
    SLATE_ASSIGN_OR_RETURN(m.name, QuantileSketch::Decode(c.name())); \
  }
  SLATE_KPI_SKETCHES(SLATE_KPI_GET)
#undef SLATE_KPI_GET
  return m;
}

absl::string_view KpiTenantOf(absl::string_view stream) {
  if (!absl::StartsWith(stream, kTenantStreamPrefix)) return "";
  const absl::string_view tenant = StreamTenant(stream);
  return tenant == kDefaultTenant ? "" : tenant;
}

namespace {

// Merges services: a service in both keeps the later target.
void MergeServices(const std::map<std::string, KpiServiceTarget>& from,
                   std::map<std::string, KpiServiceTarget>* into) {
  for (const auto& [service, target] : from) {
    auto [it, inserted] = into->emplace(service, target);
    if (!inserted && std::make_pair(target.at_us, target.version) >
                         std::make_pair(it->second.at_us, it->second.version)) {
      it->second = target;
    }
  }
}

// The default tenant's map with `tenant`'s own entries put over it.
template <typename V>
std::map<std::string, V> Overlay(
    const std::map<std::string, V>& shared,
    const std::map<std::string, std::map<std::string, V>>& own,
    absl::string_view tenant) {
  std::map<std::string, V> out = shared;
  if (tenant.empty() || tenant == kDefaultTenant) return out;
  auto it = own.find(std::string(tenant));
  if (it == own.end()) return out;
  for (const auto& [id, v] : it->second) out[id] = v;
  return out;
}

}  // namespace

std::map<std::string, KpiServiceTarget> KpiRollup::ServicesOf(
    absl::string_view tenant) const {
  return Overlay(services, tenant_services, tenant);
}

std::map<std::string, std::string> KpiRollup::CalendarSpecsOf(
    absl::string_view tenant) const {
  return Overlay(calendar_specs, tenant_calendar_specs, tenant);
}

std::vector<std::string> KpiRollup::Tenants() const {
  std::set<std::string> t = {""};
  for (const auto& [key, m] : cells) t.insert(key.second.tenant);
  for (const auto& [service, records] : outages) {
    for (const auto& [stream, v] : records) {
      t.insert(std::string(KpiTenantOf(stream)));
    }
  }
  for (const auto& [tenant, s] : tenant_services) t.insert(tenant);
  for (const auto& [tenant, s] : tenant_calendar_specs) t.insert(tenant);
  return std::vector<std::string>(t.begin(), t.end());
}

void KpiRollup::Merge(const KpiRollup& other) {
  for (const auto& [key, m] : other.cells) {
    KpiMeasures& mine = cells[key];
    mine.Add(m);
    if (mine.IsZero()) cells.erase(key);
  }
  for (const auto& [service, records] : other.outages) {
    auto& mine = outages[service];
    for (const auto& [record, intervals] : records) {
      auto& v = mine[record];
      v.insert(v.end(), intervals.begin(), intervals.end());
      v = Normalize(std::move(v));
    }
  }
  MergeServices(other.services, &services);
  for (const auto& [tenant, s] : other.tenant_services) {
    MergeServices(s, &tenant_services[tenant]);
  }
  // Calendars: both sides folded the same definitions of an id or the
  // later fold has the later one; keep ours on a tie.
  for (const auto& [id, spec] : other.calendar_specs) {
    calendar_specs.emplace(id, spec);
  }
  for (const auto& [tenant, specs] : other.tenant_calendar_specs) {
    for (const auto& [id, spec] : specs) {
      tenant_calendar_specs[tenant].emplace(id, spec);
    }
  }
}

KpiScanFn KpiScanOf(const ProjectionRunner& runner, absl::string_view name) {
  std::string n(name);
  return
      [&runner, n](
          absl::string_view prefix,
          const std::function<bool(absl::string_view, absl::string_view)>& fn) {
        return runner.Scan(n, prefix, fn);
      };
}

absl::Status LoadKpiConfig(const KpiScanFn& scan, KpiRollup* out) {
  KpiRollup& r = *out;
  absl::Status error;
  auto fail = [&error](absl::string_view what, absl::string_view key) {
    error = KpiCorrupt(what, key);
    return false;
  };
  SLATE_RETURN_IF_ERROR(scan(
      kpi::kServicePrefix, [&](absl::string_view key, absl::string_view value) {
        kpi::KpiService s;
        if (!s.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          return fail("service", key);
        }
        r.services[std::string(key.substr(kpi::kServicePrefix.size()))] = {
            s.availability_target_percent(), s.at_us(), s.version(),
            s.calendar_id()};
        return true;
      }));
  SLATE_RETURN_IF_ERROR(error);
  SLATE_RETURN_IF_ERROR(scan(kpi::kCalendarPrefix, [&](absl::string_view key,
                                                       absl::string_view value) {
    r.calendar_specs[std::string(key.substr(kpi::kCalendarPrefix.size()))] =
        std::string(value);
    return true;
  }));
  SLATE_RETURN_IF_ERROR(scan(
      kpi::kTenantServicePrefix,
      [&](absl::string_view key, absl::string_view value) {
        std::string tenant, id;
        kpi::KpiService s;
        if (!kpi::ParseTenantConfigKey(
                key.substr(kpi::kTenantServicePrefix.size()), &tenant, &id) ||
            !s.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          return fail("tenant service", key);
        }
        r.tenant_services[tenant][id] = {s.availability_target_percent(),
                                         s.at_us(), s.version(),
                                         s.calendar_id()};
        return true;
      }));
  SLATE_RETURN_IF_ERROR(error);
  SLATE_RETURN_IF_ERROR(scan(
      kpi::kTenantCalendarPrefix,
      [&](absl::string_view key, absl::string_view value) {
        std::string tenant, id;
        if (!kpi::ParseTenantConfigKey(
                key.substr(kpi::kTenantCalendarPrefix.size()), &tenant, &id)) {
          return fail("tenant calendar key", key);
        }
        r.tenant_calendar_specs[tenant][id] = std::string(value);
        return true;
      }));
  SLATE_RETURN_IF_ERROR(error);
  return absl::OkStatus();
}

absl::StatusOr<KpiRollup> LoadKpiRollup(const KpiScanFn& scan,
                                        std::optional<absl::CivilDay> until) {
  KpiRollup r;
  absl::Status error;
  auto fail = [&error](absl::string_view what, absl::string_view key) {
    error = KpiCorrupt(what, key);
    return false;
  };
  SLATE_RETURN_IF_ERROR(scan(kpi::kCellPrefix, [&](absl::string_view key,
                                                   absl::string_view value) {
    absl::CivilDay day;
    KpiDims dims;
    if (!kpi::ParseCellKey(key, &day, &dims)) return fail("cell key", key);
    if (until.has_value() && day >= *until) return false;  // Sorted.
    kpi::KpiCell cell;
    if (!cell.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      return fail("cell", key);
    }
    auto m = KpiMeasures::FromProto(cell);
    if (!m.ok()) return fail("cell sketch", key);
    r.cells.emplace(std::make_pair(day, std::move(dims)), std::move(*m));
    return true;
  }));
  SLATE_RETURN_IF_ERROR(error);
  SLATE_RETURN_IF_ERROR(scan(kpi::kOutagePrefix, [&](absl::string_view key,
                                                     absl::string_view value) {
    std::string service;
    std::string stream;
    kpi::KpiOutage outage;
    if (!kpi::ParseOutageKey(key, &service, &stream) ||
        !outage.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      return fail("outage", key);
    }
    auto& v = r.outages[service][stream];
    for (const auto& i : outage.intervals()) {
      v.push_back({i.start_us(), i.end_us()});
    }
    return true;
  }));
  SLATE_RETURN_IF_ERROR(error);
  SLATE_RETURN_IF_ERROR(LoadKpiConfig(scan, &r));
  return r;
}

}  // namespace slate
