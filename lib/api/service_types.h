// Major incidents of a service: the query and result types of
// Engine::MajorIncidents, as the service review (`slate report --service`)
// lists them.
//
//   slate::MajorIncidentQuery q;
//   q.service = "email";
//   q.from = absl::FromCivil(absl::CivilDay(2026, 11, 1), absl::UTCTimeZone());
//   q.to = absl::FromCivil(absl::CivilDay(2026, 12, 1), absl::UTCTimeZone());
//   q.now = absl::Now();
//   auto major = engine->MajorIncidents(q);
//   for (const slate::MajorIncident& m : *major) {
//     // m.incident_id, m.opened_at, m.resolved_at, m.priority1_in_window
//   }
//
// Semantics: a major incident is one with priority 1. Exactly the
// priority-1 intervals behind a service's availability and its failures
// (lib/projection/kpi_projection.h, "Availability") decide what is listed:
// an interval is a time during which the incident was open (New, In
// Progress, On Hold) with priority 1 on the service, from reaching that
// state to leaving it (resolved, closed, cancelled, or a lower priority); a
// reopen at priority 1 starts another. An incident is listed when one of
// its intervals on the service overlaps [from, min(to, now)) (an interval
// still open runs to `now`; one that starts after `now` is not there yet),
// so an outage that spans a month boundary appears in both months, as its
// downtime does. The service is the one the KPIs
// attribute (the incident's service at the time); an incident moved to
// another service mid-outage has intervals on both.
// Order: by the start of the first interval, then incident id.
#ifndef SLATE_LIB_API_SERVICE_TYPES_H_
#define SLATE_LIB_API_SERVICE_TYPES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "proto/commands.pb.h"

namespace slate {

struct MajorIncidentQuery {
  // The service id (as KpiKey::service). Required: kInvalidArgument if
  // empty.
  std::string service;
  // Incidents with a priority-1 interval overlapping [from, min(to, now)).
  // Default: all time. kInvalidArgument when from >= to.
  absl::Time from = absl::InfinitePast();
  absl::Time to = absl::InfiniteFuture();
  // Where an interval still open ends. Default: the Unix epoch (set it).
  absl::Time now = absl::UnixEpoch();
  // The tenant whose incidents are listed (lib/api/tenant.h); the service
  // id is looked up in it. Default: "" = the default tenant.
  // kInvalidArgument for an invalid id.
  std::string tenant;
};

// One priority-1 interval on the service.
struct MajorIncidentInterval {
  absl::Time start;
  std::optional<absl::Time> end;  // nullopt: still open (runs to `now`).
};

struct MajorIncident {
  std::string incident_id;
  // From the incident's current view (lib/projection/views.h).
  absl::Time opened_at;  // The first IncidentOpened.
  IncidentStatus status = INCIDENT_STATUS_UNSPECIFIED;
  int32_t priority = 0;  // Now; may be lower than 1 after a downgrade.
  std::string short_description;
  // The latest resolution, when the incident is Resolved or Closed now;
  // nullopt while it is open (a reopen clears it) or when cancelled.
  std::optional<absl::Time> resolved_at;
  std::optional<absl::Time> cancelled_at;
  // Every priority-1 interval of the incident on the service, in time
  // order (also those outside the window).
  std::vector<MajorIncidentInterval> intervals;
  // Wall-clock time of those intervals within [from, min(to, now)).
  absl::Duration priority1_in_window;
};

}  // namespace slate

#endif  // SLATE_LIB_API_SERVICE_TYPES_H_
