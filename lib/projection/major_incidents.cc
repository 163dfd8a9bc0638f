#include "lib/projection/major_incidents.h"

#include <algorithm>
#include <string>
#include <tuple>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lib/api/tenant.h"
#include "lib/base/status_macros.h"
#include "lib/projection/kpi.pb.h"
#include "lib/projection/kpi_format.h"
#include "lib/projection/kpi_projection.h"
#include "lib/projection/runner.h"
#include "lib/projection/views.h"

namespace slate {

absl::StatusOr<std::vector<MajorIncident>> MajorIncidents(
    const ProjectionRunner& runner, const MajorIncidentQuery& q) {
  if (q.service.empty()) {
    return absl::InvalidArgumentError("major incidents: service is required");
  }
  if (q.from >= q.to) {
    return absl::InvalidArgumentError(
        "major incidents: from must be before to");
  }
  if (!q.tenant.empty()) {
    SLATE_RETURN_IF_ERROR(
        ValidateTenantId(q.tenant, "major incidents: tenant"));
  }
  const absl::Time window_end = std::min(q.to, q.now);
  const std::string prefix = kpi::OutageKey(q.service, "");
  std::vector<MajorIncident> out;
  absl::Status error;
  SLATE_RETURN_IF_ERROR(runner.Scan(
      KpiProjection::kName, prefix,
      [&](absl::string_view key, absl::string_view value) {
        std::string service, stream;
        kpi::KpiOutage outage;
        if (!kpi::ParseOutageKey(key, &service, &stream) ||
            !outage.ParseFromArray(value.data(),
                                   static_cast<int>(value.size()))) {
          error = absl::DataLossError(
              absl::StrCat("kpi state: undecodable outage key ", key));
          return false;
        }
        // The prefix of "o/" lp(service) is exact: lp carries the length.
        // Outages of every tenant share the service's keys: only the
        // tenant's incidents count.
        const TenantStreamParts parts = SplitTenantStream(stream);
        if (service != q.service || parts.tenant != TenantOrDefault(q.tenant) ||
            !absl::StartsWith(parts.local, "incident/")) {
          return true;
        }
        MajorIncident m;
        bool overlaps = false;
        for (const kpi::KpiInterval& i : outage.intervals()) {
          MajorIncidentInterval iv;
          iv.start = absl::FromUnixMicros(i.start_us());
          if (i.end_us() != 0) iv.end = absl::FromUnixMicros(i.end_us());
          const absl::Time end = iv.end.value_or(q.now);
          if (iv.start < window_end && end > q.from) overlaps = true;
          const absl::Time a = std::max(iv.start, q.from);
          const absl::Time b = std::min(end, window_end);
          if (b > a) m.priority1_in_window += b - a;
          m.intervals.push_back(iv);
        }
        if (!overlaps) return true;
        std::sort(m.intervals.begin(), m.intervals.end(),
                  [](const MajorIncidentInterval& a,
                     const MajorIncidentInterval& b) {
                    return a.start < b.start;
                  });
        m.incident_id =
            std::string(parts.local.substr(std::string("incident/").size()));
        absl::StatusOr<std::optional<std::string>> view =
            runner.Get(ViewsProjection::kName, stream);
        if (!view.ok()) {
          error = view.status();
          return false;
        }
        IncidentState s;
        if (view->has_value() &&
            !s.ParseFromArray((*view)->data(),
                              static_cast<int>((*view)->size()))) {
          error = absl::DataLossError(
              absl::StrCat("view of ", stream, " is undecodable"));
          return false;
        }
        m.opened_at = absl::FromUnixMicros(s.opened_at_us());
        m.status = s.status();
        m.priority = s.priority();
        m.short_description = s.short_description();
        if ((s.status() == INCIDENT_RESOLVED ||
             s.status() == INCIDENT_CLOSED) &&
            s.resolved_at_us() != 0) {
          m.resolved_at = absl::FromUnixMicros(s.resolved_at_us());
        }
        if (s.status() == INCIDENT_CANCELLED && s.cancelled_at_us() != 0) {
          m.cancelled_at = absl::FromUnixMicros(s.cancelled_at_us());
        }
        out.push_back(std::move(m));
        return true;
      }));
  SLATE_RETURN_IF_ERROR(error);
  std::sort(out.begin(), out.end(),
            [](const MajorIncident& a, const MajorIncident& b) {
              return std::tie(a.intervals.front().start, a.incident_id) <
                     std::tie(b.intervals.front().start, b.incident_id);
            });
  return out;
}

}  // namespace slate
