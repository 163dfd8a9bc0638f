// The service aggregate (the catalog): decide and evolve, pure.
//
//   slate::ServiceState s = slate::NewServiceState("email");
//   for (const slate::Envelope& e : history) slate::EvolveService(e, &s);
//   auto events = slate::DecideService(s, command, absl::Now());
//
// A service is Active once defined, Retired once retired. define on an
// existing service is kAlreadyExists; every other command on an unknown
// service is kNotFound; update, blackout changes and retire on a Retired
// service are kFailedPrecondition. A blackout window id is unique within its
// service (kAlreadyExists); removing an unknown one is kNotFound.
#ifndef SLATE_LIB_DOMAIN_SERVICE_H_
#define SLATE_LIB_DOMAIN_SERVICE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "proto/commands.pb.h"
#include "proto/events.pb.h"

namespace slate {

// "Active", "Retired", "(none)".
const char* ServiceStatusName(const ServiceState& s);

ServiceState NewServiceState(absl::string_view service_id);

// True for define_service ... retire_service; the service id in *id.
bool IsServiceCommand(const Command& c, std::string* id);

// REQUIRES: IsServiceCommand(command).
absl::StatusOr<std::vector<Envelope>> DecideService(const ServiceState& state,
                                                    const Command& command,
                                                    absl::Time at);

void EvolveService(const Envelope& e, ServiceState* state);

}  // namespace slate

#endif  // SLATE_LIB_DOMAIN_SERVICE_H_
