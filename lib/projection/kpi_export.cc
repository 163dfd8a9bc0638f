#include "lib/projection/kpi_export.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "lib/base/status_macros.h"
#include "lib/projection/kpi.pb.h"
#include "lib/projection/views.h"

namespace slate {
namespace {

void DimsToProto(const KpiDims& d, kpi::KpiExportDims* p) {
  p->set_tenant(d.tenant);
  p->set_service(d.service);
  p->set_priority(d.priority);
  p->set_group(d.group);
  p->set_category(d.category);
  p->set_contact_type(d.contact_type);
}

KpiDims DimsFromProto(const kpi::KpiExportDims& p) {
  KpiDims d;
  d.tenant = p.tenant();
  d.service = p.service();
  d.priority = p.priority();
  d.group = p.group();
  d.category = p.category();
  d.contact_type = p.contact_type();
  return d;
}

void ServiceToProto(const KpiServiceTarget& t, kpi::KpiService* p) {
  p->set_availability_target_percent(t.availability_target_percent);
  p->set_at_us(t.at_us);
  p->set_version(t.version);
  p->set_calendar_id(t.calendar_id);
}

KpiServiceTarget ServiceFromProto(const kpi::KpiService& p) {
  return {p.availability_target_percent(), p.at_us(), p.version(),
          p.calendar_id()};
}

absl::Status Corrupt(absl::string_view what, int index) {
  return absl::DataLossError(
      absl::StrCat("KPI export: ", what, " ", index, " does not decode"));
}

}  // namespace

std::string EncodeKpiExport(const KpiRollup& rollup,
                            absl::Span<const KpiSlaClock> clocks,
                            const absl::TimeZone& zone,
                            std::optional<absl::Time> last_record_event) {
  kpi::KpiExport e;
  e.set_zone(zone.name());
  const absl::CivilDay epoch(1970, 1, 1);
  for (const auto& [key, measures] : rollup.cells) {
    kpi::KpiExport::Cell* c = e.add_cells();
    c->set_day(key.first - epoch);
    DimsToProto(key.second, c->mutable_dims());
    *c->mutable_measures() = measures.ToProto();
  }
  for (const auto& [service, streams] : rollup.outages) {
    for (const auto& [stream, intervals] : streams) {
      kpi::KpiExport::Outage* o = e.add_outages();
      o->set_service(service);
      o->set_stream(stream);
      for (const KpiInterval& i : intervals) {
        kpi::KpiInterval* p = o->add_intervals();
        p->set_start_us(i.start_us);
        p->set_end_us(i.end_us);
      }
    }
  }
  auto add_services = [&e](const std::string& tenant,
                           const std::map<std::string, KpiServiceTarget>& m) {
    for (const auto& [id, target] : m) {
      kpi::KpiExport::Service* s = e.add_services();
      s->set_tenant(tenant);
      s->set_id(id);
      ServiceToProto(target, s->mutable_target());
    }
  };
  auto add_calendars = [&e](const std::string& tenant,
                            const std::map<std::string, std::string>& m) {
    for (const auto& [id, spec] : m) {
      kpi::KpiExport::Calendar* c = e.add_calendars();
      c->set_tenant(tenant);
      c->set_id(id);
      c->set_spec(spec);
    }
  };
  add_services("", rollup.services);
  for (const auto& [tenant, m] : rollup.tenant_services) {
    add_services(tenant, m);
  }
  add_calendars("", rollup.calendar_specs);
  for (const auto& [tenant, m] : rollup.tenant_calendar_specs) {
    add_calendars(tenant, m);
  }
  for (const KpiSlaClock& k : clocks) {
    kpi::KpiExport::Clock* c = e.add_clocks();
    c->set_policy_id(k.policy_id);
    c->set_target_type(k.target_type);
    c->set_met(k.met);
    c->set_at_us(k.at_us);
    DimsToProto(k.dims, c->mutable_dims());
  }
  if (last_record_event.has_value()) {
    e.set_has_last_record_event(true);
    e.set_last_record_event_us(absl::ToUnixMicros(*last_record_event));
  }
  return SerializeDeterministic(e);
}

absl::Status MergeKpiExport(absl::string_view bytes, KpiMergedInputs* into) {
  kpi::KpiExport e;
  if (!e.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::DataLossError("KPI export: the bytes do not decode");
  }
  if (into->zone.has_value() && *into->zone != e.zone()) {
    return absl::InvalidArgumentError(
        absl::StrCat("KPI export: zone ", e.zone(), " differs from ",
                     *into->zone, " of the exports merged before"));
  }
  KpiRollup r;
  const absl::CivilDay epoch(1970, 1, 1);
  for (int i = 0; i < e.cells_size(); ++i) {
    const kpi::KpiExport::Cell& c = e.cells(i);
    absl::StatusOr<KpiMeasures> m = KpiMeasures::FromProto(c.measures());
    if (!m.ok()) return Corrupt("cell", i);
    KpiMeasures& cell = r.cells[{epoch + c.day(), DimsFromProto(c.dims())}];
    cell.Add(*m);
  }
  for (const kpi::KpiExport::Outage& o : e.outages()) {
    std::vector<KpiInterval>& intervals = r.outages[o.service()][o.stream()];
    for (const kpi::KpiInterval& i : o.intervals()) {
      intervals.push_back({i.start_us(), i.end_us()});
    }
  }
  for (const kpi::KpiExport::Service& s : e.services()) {
    (s.tenant().empty() ? r.services : r.tenant_services[s.tenant()])[s.id()] =
        ServiceFromProto(s.target());
  }
  for (const kpi::KpiExport::Calendar& c : e.calendars()) {
    (c.tenant().empty() ? r.calendar_specs
                        : r.tenant_calendar_specs[c.tenant()])[c.id()] =
        c.spec();
  }
  std::vector<KpiSlaClock> clocks;
  clocks.reserve(e.clocks_size());
  for (const kpi::KpiExport::Clock& c : e.clocks()) {
    clocks.push_back({c.policy_id(), c.target_type(), c.met(), c.at_us(),
                      DimsFromProto(c.dims())});
  }
  // Nothing can fail past this point.
  into->zone = e.zone();
  into->rollup.Merge(r);
  into->clocks.insert(into->clocks.end(),
                      std::make_move_iterator(clocks.begin()),
                      std::make_move_iterator(clocks.end()));
  if (e.has_last_record_event()) {
    const absl::Time t = absl::FromUnixMicros(e.last_record_event_us());
    if (!into->last_record_event.has_value() || *into->last_record_event < t) {
      into->last_record_event = t;
    }
  }
  return absl::OkStatus();
}

}  // namespace slate
