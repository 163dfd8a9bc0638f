#include "lib/domain/service.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "lib/base/status_macros.h"
#include "lib/domain/common.h"

namespace slate {
namespace {

std::string What(const ServiceState& s) {
  return absl::StrCat("service ", s.spec().service_id());
}

// Define and Update carry the same fields.
template <typename C>
absl::StatusOr<ServiceSpec> SpecFrom(const ServiceState& s, const C& c) {
  if (c.name().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(What(s), ": field name is required"));
  }
  if (c.unit_cost_cents() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(What(s), ": field unit_cost_cents must be >= 0, got ",
                     c.unit_cost_cents()));
  }
  const double a = c.availability_target_percent();
  if (!(a >= 0 && a <= 100)) {
    return absl::InvalidArgumentError(
        absl::StrCat(What(s),
                     ": field availability_target_percent must be in [0, 100], "
                     "got ",
                     a));
  }
  std::set<std::string> seen;
  for (const std::string& ci : c.configuration_items()) {
    if (ci.empty() || !seen.insert(ci).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          What(s), ": configuration_items has an empty or repeated entry \"",
          ci, "\""));
    }
  }
  for (const std::string& id : c.sla_policy_ids()) {
    if (id.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(What(s), ": sla_policy_ids has an empty entry"));
    }
  }
  ServiceSpec spec;
  spec.set_service_id(s.spec().service_id());
  spec.set_name(c.name());
  spec.set_description(c.description());
  spec.set_owner(c.owner());
  *spec.mutable_support_contacts() = c.support_contacts();
  spec.set_support_calendar_id(c.support_calendar_id());
  spec.set_pricing_tier(c.pricing_tier());
  spec.set_unit_cost_cents(c.unit_cost_cents());
  spec.set_currency(c.currency());
  spec.set_availability_target_percent(a);
  *spec.mutable_sla_policy_ids() = c.sla_policy_ids();
  *spec.mutable_configuration_items() = c.configuration_items();
  return spec;
}

absl::Status RequireActive(const ServiceState& s, absl::string_view command) {
  if (!s.defined()) {
    return absl::NotFoundError(absl::StrCat(What(s), " not found"));
  }
  if (s.retired()) {
    return TransitionNotAllowed("service", s.spec().service_id(), command,
                                "Retired", "Retired");
  }
  return absl::OkStatus();
}

}  // namespace

const char* ServiceStatusName(const ServiceState& s) {
  if (!s.defined()) return "(none)";
  return s.retired() ? "Retired" : "Active";
}

ServiceState NewServiceState(absl::string_view service_id) {
  ServiceState s;
  s.mutable_spec()->set_service_id(std::string(service_id));
  s.set_version(-1);
  return s;
}

bool IsServiceCommand(const Command& c, std::string* id) {
  switch (c.command_case()) {
#define SLATE_SERVICE_CASE(kase, field) \
  case Command::kase:                   \
    *id = c.field().service_id();       \
    return true;
    SLATE_SERVICE_CASE(kDefineService, define_service)
    SLATE_SERVICE_CASE(kUpdateService, update_service)
    SLATE_SERVICE_CASE(kAddServiceBlackout, add_service_blackout)
    SLATE_SERVICE_CASE(kRemoveServiceBlackout, remove_service_blackout)
    SLATE_SERVICE_CASE(kRetireService, retire_service)
#undef SLATE_SERVICE_CASE
    default:
      return false;
  }
}

absl::StatusOr<std::vector<Envelope>> DecideService(const ServiceState& s,
                                                    const Command& command,
                                                    absl::Time /*at*/) {
  std::vector<Envelope> out(1);
  Envelope& e = out[0];
  switch (command.command_case()) {
    case Command::kDefineService: {
      if (s.defined()) {
        return absl::AlreadyExistsError(absl::StrCat(
            What(s), " already exists (", ServiceStatusName(s), ")"));
      }
      SLATE_ASSIGN_OR_RETURN(ServiceSpec spec,
                             SpecFrom(s, command.define_service()));
      *e.mutable_service_defined()->mutable_spec() = std::move(spec);
      return out;
    }
    case Command::kUpdateService: {
      SLATE_RETURN_IF_ERROR(RequireActive(s, "update"));
      SLATE_ASSIGN_OR_RETURN(ServiceSpec spec,
                             SpecFrom(s, command.update_service()));
      *e.mutable_service_updated()->mutable_spec() = std::move(spec);
      return out;
    }
    case Command::kAddServiceBlackout: {
      const AddServiceBlackout& c = command.add_service_blackout();
      SLATE_RETURN_IF_ERROR(RequireActive(s, "add a blackout window"));
      SLATE_RETURN_IF_ERROR(
          ValidateAggregateId("blackout window", c.window_id()));
      for (const BlackoutWindow& w : s.blackout_windows()) {
        if (w.window_id() == c.window_id()) {
          return absl::AlreadyExistsError(absl::StrCat(
              What(s), ": blackout window ", c.window_id(), " exists"));
        }
      }
      SLATE_ASSIGN_OR_RETURN(absl::Time start,
                             ParseCommandTime(c.start(), What(s), "start"));
      SLATE_ASSIGN_OR_RETURN(absl::Time end,
                             ParseCommandTime(c.end(), What(s), "end"));
      if (end <= start) {
        return absl::InvalidArgumentError(
            absl::StrCat(What(s), ": field end ", c.end(),
                         " must be after start ", c.start()));
      }
      BlackoutWindow* w = e.mutable_service_blackout_added()->mutable_window();
      w->set_window_id(c.window_id());
      w->set_start_us(absl::ToUnixMicros(start));
      w->set_end_us(absl::ToUnixMicros(end));
      w->set_reason(c.reason());
      return out;
    }
    case Command::kRemoveServiceBlackout: {
      const RemoveServiceBlackout& c = command.remove_service_blackout();
      SLATE_RETURN_IF_ERROR(RequireActive(s, "remove a blackout window"));
      bool found = false;
      for (const BlackoutWindow& w : s.blackout_windows()) {
        found |= w.window_id() == c.window_id();
      }
      if (!found) {
        return absl::NotFoundError(absl::StrCat(What(s), ": blackout window \"",
                                                c.window_id(), "\" not found"));
      }
      e.mutable_service_blackout_removed()->set_window_id(c.window_id());
      return out;
    }
    case Command::kRetireService:
      if (s.defined() && s.retired()) {
        return TransitionNotAllowed("service", s.spec().service_id(), "retire",
                                    "Retired", "Retired");
      }
      SLATE_RETURN_IF_ERROR(RequireActive(s, "retire"));
      e.mutable_service_retired()->set_reason(
          command.retire_service().reason());
      return out;
    default:
      return absl::InternalError(
          absl::StrCat(What(s), ": not a service command"));
  }
}

void EvolveService(const Envelope& e, ServiceState* s) {
  s->set_version(e.version());
  s->set_last_event_at_us(std::max(s->last_event_at_us(), e.occurred_at_us()));
  switch (e.payload_case()) {
    case Envelope::kServiceDefined:
      *s->mutable_spec() = e.service_defined().spec();
      s->set_defined(true);
      s->set_defined_at_us(e.occurred_at_us());
      break;
    case Envelope::kServiceUpdated:
      *s->mutable_spec() = e.service_updated().spec();
      break;
    case Envelope::kServiceBlackoutAdded:
      *s->add_blackout_windows() = e.service_blackout_added().window();
      break;
    case Envelope::kServiceBlackoutRemoved: {
      auto* windows = s->mutable_blackout_windows();
      const std::string& id = e.service_blackout_removed().window_id();
      for (int i = 0; i < windows->size(); ++i) {
        if (windows->Get(i).window_id() == id) {
          windows->erase(windows->begin() + i);
          break;
        }
      }
      break;
    }
    case Envelope::kServiceRetired:
      s->set_retired(true);
      break;
    default:
      break;
  }
}

}  // namespace slate
