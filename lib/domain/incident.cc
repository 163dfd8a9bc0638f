#include "lib/domain/incident.h"

#include <algorithm>
#include <initializer_list>

#include "absl/strings/str_cat.h"
#include "lib/base/status_macros.h"
#include "lib/domain/common.h"
#include "lib/domain/priority_matrix.h"
#include "lib/domain/problem.h"

namespace slate {
namespace {

constexpr IncidentStatus kOpenStates[] = {INCIDENT_NEW, INCIDENT_IN_PROGRESS,
                                          INCIDENT_ON_HOLD};

// The incident must exist and be in one of `from`; `to` is the state the
// command leads to (0: it keeps the current state).
absl::Status Require(const IncidentState& s, absl::string_view command,
                     std::initializer_list<IncidentStatus> from,
                     IncidentStatus to = INCIDENT_STATUS_UNSPECIFIED) {
  if (s.status() == INCIDENT_STATUS_UNSPECIFIED) {
    return absl::NotFoundError(
        absl::StrCat("incident ", s.incident_id(), " not found"));
  }
  if (std::find(from.begin(), from.end(), s.status()) != from.end()) {
    return absl::OkStatus();
  }
  return TransitionNotAllowed(
      "incident", s.incident_id(), command, IncidentStatusName(s.status()),
      IncidentStatusName(to == INCIDENT_STATUS_UNSPECIFIED ? s.status() : to));
}

absl::Status RequireOpen(const IncidentState& s, absl::string_view command,
                         IncidentStatus to = INCIDENT_STATUS_UNSPECIFIED) {
  return Require(s, command,
                 {INCIDENT_NEW, INCIDENT_IN_PROGRESS, INCIDENT_ON_HOLD}, to);
}

absl::Status Missing(const IncidentState& s, absl::string_view field) {
  return absl::InvalidArgumentError(absl::StrCat(
      "incident ", s.incident_id(), ": field ", field, " is required"));
}

std::string What(const IncidentState& s) {
  return absl::StrCat("incident ", s.incident_id());
}

absl::StatusOr<std::string> ContactTypeText(const IncidentState& s,
                                            ContactType t) {
  switch (t) {
    case CONTACT_TYPE_UNSPECIFIED:
      return std::string();
    case PHONE:
      return std::string("phone");
    case EMAIL:
      return std::string("email");
    case SELF_SERVICE:
      return std::string("self-service");
    case WALK_IN:
      return std::string("walk-in");
    case CHAT:
      return std::string("chat");
    case MONITORING:
      return std::string("monitoring");
    default:
      break;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      What(s), ": field contact_type has unknown value ", static_cast<int>(t)));
}

absl::Status CheckService(const IncidentState& s, const std::string& id,
                          const IncidentContext& ctx);

Envelope With(IncidentOpened p) {
  Envelope e;
  *e.mutable_incident_opened() = std::move(p);
  return e;
}

absl::StatusOr<std::vector<Envelope>> Open(const IncidentState& s,
                                           const OpenIncident& c,
                                           const IncidentContext& ctx) {
  if (s.status() != INCIDENT_STATUS_UNSPECIFIED) {
    return absl::AlreadyExistsError(
        absl::StrCat(What(s), " already exists (state ",
                     IncidentStatusName(s.status()), ")"));
  }
  SLATE_RETURN_IF_ERROR(CheckService(s, c.service_id(), ctx));
  absl::StatusOr<int> priority =
      ComputePriority(*ctx.matrix, c.impact(), c.urgency(), What(s));
  if (!priority.ok()) return priority.status();
  absl::StatusOr<std::string> contact = ContactTypeText(s, c.contact_type());
  if (!contact.ok()) return contact.status();

  IncidentOpened o;
  o.set_number(s.incident_id());
  o.set_short_description(c.short_description());
  o.set_caller(c.caller());
  o.set_contact_type(*contact);
  o.set_service(c.service_id());
  o.set_configuration_item(c.configuration_item());
  o.set_category(c.category());
  o.set_subcategory(c.subcategory());
  o.set_impact(c.impact());
  o.set_urgency(c.urgency());
  std::vector<Envelope> out;
  out.push_back(With(std::move(o)));
  Envelope p;
  p.mutable_incident_priority_set()->set_impact(c.impact());
  p.mutable_incident_priority_set()->set_urgency(c.urgency());
  p.mutable_incident_priority_set()->set_priority(*priority);
  out.push_back(std::move(p));
  return out;
}

// The service check OpenIncident and UpdateIncidentDetails share: a named
// service must be defined (kNotFound) and not retired (kFailedPrecondition).
absl::Status CheckService(const IncidentState& s, const std::string& id,
                          const IncidentContext& ctx) {
  if (id.empty()) return absl::OkStatus();
  if (ctx.service == nullptr || !ctx.service->defined()) {
    return absl::NotFoundError(
        absl::StrCat(What(s), ": service \"", id, "\" not found"));
  }
  if (ctx.service->retired()) {
    return absl::FailedPreconditionError(
        absl::StrCat(What(s), ": service \"", id, "\" is retired"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Envelope>> UpdateDetails(
    const IncidentState& s, const UpdateIncidentDetails& c,
    const IncidentContext& ctx) {
  SLATE_RETURN_IF_ERROR(Require(s, "update details",
                                {INCIDENT_NEW, INCIDENT_IN_PROGRESS,
                                 INCIDENT_ON_HOLD, INCIDENT_RESOLVED}));
  if (!c.has_category() && !c.has_subcategory() &&
      !c.has_configuration_item() && !c.has_caller() && !c.has_service_id() &&
      !c.has_contact_type() && !c.has_location()) {
    return absl::InvalidArgumentError(absl::StrCat(
        What(s),
        ": no field to update (category, subcategory, configuration_item, "
        "caller, service_id, contact_type, location)"));
  }
  if (c.has_service_id() && c.service_id() != s.service_id()) {
    SLATE_RETURN_IF_ERROR(CheckService(s, c.service_id(), ctx));
  }
  std::string contact = s.contact_type();
  if (c.has_contact_type()) {
    SLATE_ASSIGN_OR_RETURN(contact, ContactTypeText(s, c.contact_type()));
  }
  // The event carries every descriptive field after the update, as the
  // importer's does, and the service.
  IncidentDetailsUpdated d;
  d.set_category(c.has_category() ? c.category() : s.category());
  d.set_subcategory(c.has_subcategory() ? c.subcategory() : s.subcategory());
  d.set_configuration_item(c.has_configuration_item() ? c.configuration_item()
                                                      : s.configuration_item());
  d.set_contact_type(contact);
  d.set_caller(c.has_caller() ? c.caller() : s.caller());
  d.set_location(c.has_location() ? c.location() : s.location());
  d.set_service(c.has_service_id() ? c.service_id() : s.service_id());
  if (d.category() == s.category() && d.subcategory() == s.subcategory() &&
      d.configuration_item() == s.configuration_item() &&
      d.contact_type() == s.contact_type() && d.caller() == s.caller() &&
      d.location() == s.location() && d.service() == s.service_id()) {
    return absl::FailedPreconditionError(
        absl::StrCat(What(s), ": the update changes no detail"));
  }
  std::vector<Envelope> out(1);
  *out[0].mutable_incident_details_updated() = std::move(d);
  return out;
}

absl::StatusOr<std::vector<Envelope>> RecordSurvey(
    const IncidentState& s, const RecordSurveyResponse& c) {
  SLATE_RETURN_IF_ERROR(Require(s, "record a survey response",
                                {INCIDENT_RESOLVED, INCIDENT_CLOSED}));
  if (s.resolved_at_us() == 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        What(s), ": cannot record a survey response: it was closed without "
                 "a resolution, so there is none to rate"));
  }
  if (c.score() < kMinSurveyScore || c.score() > kMaxSurveyScore) {
    return absl::InvalidArgumentError(
        absl::StrCat(What(s), ": field score must be ", kMinSurveyScore, "..",
                     kMaxSurveyScore, ", got ", c.score()));
  }
  const int32_t cycle = IncidentResolutionCycle(s);
  if (s.survey_resolution_cycle() == cycle) {
    return absl::AlreadyExistsError(absl::StrCat(
        What(s), ": resolution cycle ", cycle,
        " already has a survey response (score ", s.survey_score(),
        ", recorded ", FormatMicros(s.survey_at_us()),
        "); one response per resolution"));
  }
  std::vector<Envelope> out(1);
  SurveyResponseRecorded* r = out[0].mutable_survey_response_recorded();
  r->set_score(c.score());
  r->set_comment(c.comment());
  r->set_respondent(c.respondent());
  r->set_resolution_cycle(cycle);
  return out;
}

}  // namespace

int32_t IncidentResolutionCycle(const IncidentState& s) {
  return s.reopen_count() + 1;
}

const char* IncidentStatusName(IncidentStatus s) {
  switch (s) {
    case INCIDENT_NEW:
      return "New";
    case INCIDENT_IN_PROGRESS:
      return "In Progress";
    case INCIDENT_ON_HOLD:
      return "On Hold";
    case INCIDENT_RESOLVED:
      return "Resolved";
    case INCIDENT_CLOSED:
      return "Closed";
    case INCIDENT_CANCELLED:
      return "Cancelled";
    default:
      return "(none)";
  }
}

IncidentState NewIncidentState(absl::string_view incident_id) {
  IncidentState s;
  s.set_incident_id(std::string(incident_id));
  s.set_version(-1);
  return s;
}

bool IsIncidentCommand(const Command& c, std::string* id) {
  switch (c.command_case()) {
#define SLATE_INCIDENT_CASE(kase, field) \
  case Command::kase:                    \
    *id = c.field().incident_id();       \
    return true;
    SLATE_INCIDENT_CASE(kOpenIncident, open_incident)
    SLATE_INCIDENT_CASE(kAcknowledgeIncident, acknowledge_incident)
    SLATE_INCIDENT_CASE(kAssignIncident, assign_incident)
    SLATE_INCIDENT_CASE(kSetIncidentImpactUrgency, set_incident_impact_urgency)
    SLATE_INCIDENT_CASE(kOverrideIncidentPriority, override_incident_priority)
    SLATE_INCIDENT_CASE(kStartIncident, start_incident)
    SLATE_INCIDENT_CASE(kHoldIncident, hold_incident)
    SLATE_INCIDENT_CASE(kResumeIncident, resume_incident)
    SLATE_INCIDENT_CASE(kResolveIncident, resolve_incident)
    SLATE_INCIDENT_CASE(kCloseIncident, close_incident)
    SLATE_INCIDENT_CASE(kReopenIncident, reopen_incident)
    SLATE_INCIDENT_CASE(kCancelIncident, cancel_incident)
    SLATE_INCIDENT_CASE(kCommentIncident, comment_incident)
    SLATE_INCIDENT_CASE(kLinkIncidentToProblem, link_incident_to_problem)
    SLATE_INCIDENT_CASE(kLinkIncidentToChange, link_incident_to_change)
    SLATE_INCIDENT_CASE(kUpdateIncidentDetails, update_incident_details)
    SLATE_INCIDENT_CASE(kRecordSurveyResponse, record_survey_response)
#undef SLATE_INCIDENT_CASE
    default:
      return false;
  }
}

absl::StatusOr<std::vector<Envelope>> DecideIncident(
    const IncidentState& s, const Command& command,
    const IncidentContext& ctx) {
  std::vector<Envelope> out(1);
  Envelope& e = out[0];
  switch (command.command_case()) {
    case Command::kOpenIncident:
      return Open(s, command.open_incident(), ctx);

    case Command::kAcknowledgeIncident: {
      SLATE_RETURN_IF_ERROR(RequireOpen(s, "acknowledge"));
      if (s.acknowledged_at_us() != 0) {
        return absl::FailedPreconditionError(
            absl::StrCat(What(s), ": already acknowledged at ",
                         FormatMicros(s.acknowledged_at_us())));
      }
      e.mutable_incident_acknowledged()->set_by(
          command.acknowledge_incident().by());
      return out;
    }

    case Command::kAssignIncident: {
      const AssignIncident& c = command.assign_incident();
      if (ctx.policy->allow_assign_when_resolved) {
        SLATE_RETURN_IF_ERROR(
            Require(s, "assign",
                    {INCIDENT_NEW, INCIDENT_IN_PROGRESS, INCIDENT_ON_HOLD,
                     INCIDENT_RESOLVED, INCIDENT_CLOSED}));
      } else {
        SLATE_RETURN_IF_ERROR(RequireOpen(s, "assign"));
      }
      if (c.group().empty()) return Missing(s, "group");
      if (c.group() == s.assignment_group() && c.person() == s.assignee()) {
        return absl::FailedPreconditionError(
            absl::StrCat(What(s), ": already assigned to group ", c.group(),
                         c.person().empty() ? "" : " person ", c.person()));
      }
      e.mutable_incident_assigned()->set_group(c.group());
      e.mutable_incident_assigned()->set_person(c.person());
      return out;
    }

    case Command::kSetIncidentImpactUrgency: {
      const SetIncidentImpactUrgency& c = command.set_incident_impact_urgency();
      SLATE_RETURN_IF_ERROR(RequireOpen(s, "set impact and urgency"));
      SLATE_ASSIGN_OR_RETURN(
          int priority,
          ComputePriority(*ctx.matrix, c.impact(), c.urgency(), What(s)));
      auto* p = e.mutable_incident_priority_set();
      p->set_impact(c.impact());
      p->set_urgency(c.urgency());
      p->set_priority(priority);
      return out;
    }

    case Command::kOverrideIncidentPriority: {
      const OverrideIncidentPriority& c = command.override_incident_priority();
      SLATE_RETURN_IF_ERROR(RequireOpen(s, "override priority"));
      const int levels = ctx.matrix->level_names_size();
      if (c.priority() < 1 || c.priority() > levels) {
        return absl::InvalidArgumentError(absl::StrCat(
            What(s), ": priority must be 1..", levels, ", got ", c.priority()));
      }
      if (c.reason().empty()) return Missing(s, "reason");
      auto* p = e.mutable_incident_priority_set();
      p->set_impact(s.impact());
      p->set_urgency(s.urgency());
      p->set_priority(c.priority());
      p->set_manual_override(true);
      p->set_reason(c.reason());
      return out;
    }

    case Command::kStartIncident:
      SLATE_RETURN_IF_ERROR(
          Require(s, "start", {INCIDENT_NEW}, INCIDENT_IN_PROGRESS));
      e.mutable_incident_started();
      return out;

    case Command::kHoldIncident: {
      const HoldIncident& c = command.hold_incident();
      SLATE_RETURN_IF_ERROR(Require(s, "put on hold",
                                    {INCIDENT_NEW, INCIDENT_IN_PROGRESS},
                                    INCIDENT_ON_HOLD));
      if (c.reason() == HOLD_REASON_UNSPECIFIED ||
          !HoldReason_IsValid(c.reason())) {
        return absl::InvalidArgumentError(
            absl::StrCat(What(s),
                         ": field reason must be one of AWAITING_CALLER, "
                         "AWAITING_VENDOR, AWAITING_PROBLEM, AWAITING_CHANGE, "
                         "AWAITING_EVIDENCE"));
      }
      e.mutable_incident_put_on_hold()->set_reason(c.reason());
      e.mutable_incident_put_on_hold()->set_note(c.note());
      return out;
    }

    case Command::kResumeIncident:
      SLATE_RETURN_IF_ERROR(
          Require(s, "resume", {INCIDENT_ON_HOLD}, INCIDENT_IN_PROGRESS));
      e.mutable_incident_resumed();
      return out;

    case Command::kResolveIncident: {
      const ResolveIncident& c = command.resolve_incident();
      SLATE_RETURN_IF_ERROR(RequireOpen(s, "resolve", INCIDENT_RESOLVED));
      if (c.resolution_code().empty()) return Missing(s, "resolution_code");
      auto* r = e.mutable_incident_resolved();
      r->set_resolution_code(c.resolution_code());
      r->set_notes(c.notes());
      r->set_resolved_by(c.resolved_by().empty() ? s.assignee()
                                                 : c.resolved_by());
      return out;
    }

    case Command::kCloseIncident:
      if (ctx.policy->allow_close_without_resolve) {
        SLATE_RETURN_IF_ERROR(Require(s, "close",
                                      {INCIDENT_NEW, INCIDENT_IN_PROGRESS,
                                       INCIDENT_ON_HOLD, INCIDENT_RESOLVED},
                                      INCIDENT_CLOSED));
      } else {
        SLATE_RETURN_IF_ERROR(
            Require(s, "close", {INCIDENT_RESOLVED}, INCIDENT_CLOSED));
      }
      e.mutable_incident_closed();
      return out;

    case Command::kReopenIncident: {
      SLATE_RETURN_IF_ERROR(Require(s, "reopen",
                                    {INCIDENT_RESOLVED, INCIDENT_CLOSED},
                                    INCIDENT_IN_PROGRESS));
      if (s.status() == INCIDENT_CLOSED) {
        absl::Duration since = ctx.at - absl::FromUnixMicros(s.closed_at_us());
        if (since > ctx.policy->reopen_closed_window) {
          return absl::FailedPreconditionError(absl::StrCat(
              What(s),
              ": cannot reopen: Closed -> In Progress is not allowed "
              "after the reopen window (closed at ",
              FormatMicros(s.closed_at_us()), ", ", absl::FormatDuration(since),
              " before the reopen; window ",
              absl::FormatDuration(ctx.policy->reopen_closed_window), ")"));
        }
      }
      e.mutable_incident_reopened()->set_reason(
          command.reopen_incident().reason());
      return out;
    }

    case Command::kCancelIncident:
      SLATE_RETURN_IF_ERROR(RequireOpen(s, "cancel", INCIDENT_CANCELLED));
      e.mutable_incident_cancelled()->set_reason(
          command.cancel_incident().reason());
      return out;

    case Command::kCommentIncident: {
      const CommentIncident& c = command.comment_incident();
      SLATE_RETURN_IF_ERROR(Require(s, "comment",
                                    {INCIDENT_NEW, INCIDENT_IN_PROGRESS,
                                     INCIDENT_ON_HOLD, INCIDENT_RESOLVED}));
      if (c.text().empty()) return Missing(s, "text");
      e.mutable_incident_commented()->set_text(c.text());
      e.mutable_incident_commented()->set_customer_visible(
          c.customer_visible());
      return out;
    }

    case Command::kLinkIncidentToProblem: {
      const LinkIncidentToProblem& c = command.link_incident_to_problem();
      if (ctx.policy->allow_link_closed_incidents) {
        SLATE_RETURN_IF_ERROR(
            Require(s, "link to a problem",
                    {INCIDENT_NEW, INCIDENT_IN_PROGRESS, INCIDENT_ON_HOLD,
                     INCIDENT_RESOLVED, INCIDENT_CLOSED}));
      } else {
        SLATE_RETURN_IF_ERROR(Require(s, "link to a problem",
                                      {INCIDENT_NEW, INCIDENT_IN_PROGRESS,
                                       INCIDENT_ON_HOLD, INCIDENT_RESOLVED}));
      }
      if (absl::Status id = ValidateAggregateId("problem", c.problem_id());
          !id.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(What(s), ": field problem_id: ", id.message()));
      }
      if (!s.problem_id().empty()) {
        return absl::FailedPreconditionError(absl::StrCat(
            What(s), ": already linked to problem ", s.problem_id()));
      }
      if (c.external()) {
        if (ctx.problem != nullptr &&
            ctx.problem->status() != PROBLEM_STATUS_UNSPECIFIED) {
          return absl::FailedPreconditionError(absl::StrCat(
              What(s), ": problem ", c.problem_id(),
              " is a record of this engine; link it without external"));
        }
        e.mutable_incident_linked_to_problem()->set_problem_id(c.problem_id());
        e.mutable_incident_linked_to_problem()->set_external(true);
        return out;
      }
      if (ctx.problem == nullptr ||
          ctx.problem->status() == PROBLEM_STATUS_UNSPECIFIED) {
        return absl::NotFoundError(
            absl::StrCat(What(s), ": problem ", c.problem_id(), " not found"));
      }
      if (ctx.problem->status() == PROBLEM_CLOSED) {
        return absl::FailedPreconditionError(
            absl::StrCat(What(s), ": problem ", c.problem_id(),
                         " is Closed and takes no new incidents"));
      }
      e.mutable_incident_linked_to_problem()->set_problem_id(c.problem_id());
      return out;
    }

    case Command::kLinkIncidentToChange: {
      const LinkIncidentToChange& c = command.link_incident_to_change();
      SLATE_RETURN_IF_ERROR(
          Require(s, "link to a change",
                  {INCIDENT_NEW, INCIDENT_IN_PROGRESS, INCIDENT_ON_HOLD,
                   INCIDENT_RESOLVED, INCIDENT_CLOSED}));
      if (absl::Status id = ValidateAggregateId("change", c.change_id());
          !id.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(What(s), ": field change_id: ", id.message()));
      }
      if (c.relation() != CAUSED_BY && c.relation() != FIXED_BY) {
        return absl::InvalidArgumentError(absl::StrCat(
            What(s), ": field relation must be CAUSED_BY or FIXED_BY"));
      }
      const std::string& current = c.relation() == CAUSED_BY
                                       ? s.caused_by_change_id()
                                       : s.fixed_by_change_id();
      if (!current.empty()) {
        return absl::FailedPreconditionError(
            absl::StrCat(What(s), ": already ",
                         c.relation() == CAUSED_BY ? "caused by" : "fixed by",
                         " change ", current));
      }
      if (c.external()) {
        if (ctx.change != nullptr &&
            ctx.change->status() != CHANGE_STATUS_UNSPECIFIED) {
          return absl::FailedPreconditionError(absl::StrCat(
              What(s), ": change ", c.change_id(),
              " is a record of this engine; link it without external"));
        }
        e.mutable_incident_linked_to_change()->set_change_id(c.change_id());
        e.mutable_incident_linked_to_change()->set_relation(c.relation());
        e.mutable_incident_linked_to_change()->set_external(true);
        return out;
      }
      if (ctx.change == nullptr ||
          ctx.change->status() == CHANGE_STATUS_UNSPECIFIED) {
        return absl::NotFoundError(
            absl::StrCat(What(s), ": change ", c.change_id(), " not found"));
      }
      e.mutable_incident_linked_to_change()->set_change_id(c.change_id());
      e.mutable_incident_linked_to_change()->set_relation(c.relation());
      return out;
    }

    case Command::kUpdateIncidentDetails:
      return UpdateDetails(s, command.update_incident_details(), ctx);

    case Command::kRecordSurveyResponse:
      return RecordSurvey(s, command.record_survey_response());

    default:
      return absl::InternalError(
          absl::StrCat(What(s), ": not an incident command"));
  }
}

void EvolveIncident(const Envelope& e, IncidentState* s) {
  s->set_version(e.version());
  s->set_last_event_at_us(std::max(s->last_event_at_us(), e.occurred_at_us()));
  switch (e.payload_case()) {
    case Envelope::kIncidentOpened: {
      const IncidentOpened& p = e.incident_opened();
      s->set_status(INCIDENT_NEW);
      s->set_opened_at_us(e.occurred_at_us());
      s->set_short_description(p.short_description());
      s->set_caller(p.caller());
      s->set_contact_type(p.contact_type());
      s->set_service_id(p.service());
      s->set_configuration_item(p.configuration_item());
      s->set_category(p.category());
      s->set_subcategory(p.subcategory());
      s->set_impact(p.impact());
      s->set_urgency(p.urgency());
      break;
    }
    case Envelope::kIncidentAcknowledged:
      s->set_acknowledged_at_us(e.occurred_at_us());
      s->set_acknowledged_by(e.incident_acknowledged().by());
      break;
    case Envelope::kIncidentAssigned: {
      const IncidentAssigned& p = e.incident_assigned();
      const bool group_changed =
          !s->assignment_group().empty() && p.group() != s->assignment_group();
      const bool person_changed =
          !s->assignee().empty() && p.person() != s->assignee();
      if (group_changed || person_changed) {
        s->set_reassignment_count(s->reassignment_count() + 1);
      }
      s->set_assignment_count(s->assignment_count() + 1);
      if (s->first_assignee().empty() && !p.person().empty()) {
        s->set_first_assignee(p.person());
      }
      s->set_assignment_group(p.group());
      s->set_assignee(p.person());
      break;
    }
    case Envelope::kIncidentPrioritySet: {
      const IncidentPrioritySet& p = e.incident_priority_set();
      s->set_impact(p.impact());
      s->set_urgency(p.urgency());
      s->set_priority(p.priority());
      s->set_priority_overridden(p.manual_override());
      s->set_priority_override_reason(p.manual_override() ? p.reason() : "");
      break;
    }
    case Envelope::kIncidentDetailsUpdated: {
      // The event carries the record's full current details (as the
      // importer writes it): each field replaces the stored one.
      const IncidentDetailsUpdated& p = e.incident_details_updated();
      s->set_category(p.category());
      s->set_subcategory(p.subcategory());
      s->set_configuration_item(p.configuration_item());
      s->set_contact_type(p.contact_type());
      s->set_caller(p.caller());
      s->set_location(p.location());
      // Unset: the service did not change (imports never set it).
      if (p.has_service()) s->set_service_id(p.service());
      break;
    }
    case Envelope::kSurveyResponseRecorded: {
      const SurveyResponseRecorded& p = e.survey_response_recorded();
      s->set_survey_score(p.score());
      s->set_survey_resolution_cycle(p.resolution_cycle());
      s->set_survey_at_us(e.occurred_at_us());
      break;
    }
    case Envelope::kIncidentStarted:
      s->set_status(INCIDENT_IN_PROGRESS);
      break;
    case Envelope::kIncidentPutOnHold:
      s->set_status(INCIDENT_ON_HOLD);
      s->set_hold_reason(e.incident_put_on_hold().reason());
      break;
    case Envelope::kIncidentResumed:
      s->set_status(INCIDENT_IN_PROGRESS);
      s->set_hold_reason(HOLD_REASON_UNSPECIFIED);
      break;
    case Envelope::kIncidentResolved: {
      const IncidentResolved& p = e.incident_resolved();
      s->set_status(INCIDENT_RESOLVED);
      s->set_hold_reason(HOLD_REASON_UNSPECIFIED);
      s->set_resolution_code(p.resolution_code());
      s->set_resolution_notes(p.notes());
      s->set_resolved_by(p.resolved_by());
      s->set_resolved_by_problem(p.resolved_by_problem());
      s->set_resolved_at_us(e.occurred_at_us());
      // A reopened incident was not resolved at first contact, however
      // it is resolved later (as the KPI projection counts it).
      s->set_first_contact_resolution(s->reopen_count() == 0 &&
                                      s->reassignment_count() == 0 &&
                                      p.resolved_by_problem().empty() &&
                                      p.resolved_by() == s->first_assignee());
      break;
    }
    case Envelope::kIncidentClosed:
      // Also from an open state (DomainPolicy::allow_close_without_resolve):
      // a hold ends with the close.
      s->set_status(INCIDENT_CLOSED);
      s->set_hold_reason(HOLD_REASON_UNSPECIFIED);
      s->set_closed_at_us(e.occurred_at_us());
      break;
    case Envelope::kIncidentReopened:
      s->set_status(INCIDENT_IN_PROGRESS);
      s->set_reopen_count(s->reopen_count() + 1);
      s->clear_resolution_code();
      s->clear_resolution_notes();
      s->clear_resolved_by();
      s->clear_resolved_by_problem();
      s->clear_resolved_at_us();
      s->clear_closed_at_us();
      s->set_first_contact_resolution(false);
      break;
    case Envelope::kIncidentCancelled:
      s->set_status(INCIDENT_CANCELLED);
      s->set_hold_reason(HOLD_REASON_UNSPECIFIED);
      s->set_cancelled_at_us(e.occurred_at_us());
      break;
    case Envelope::kIncidentCommented:
      s->set_comment_count(s->comment_count() + 1);
      break;
    case Envelope::kIncidentLinkedToProblem:
      s->set_problem_id(e.incident_linked_to_problem().problem_id());
      s->set_problem_external(e.incident_linked_to_problem().external());
      break;
    case Envelope::kIncidentLinkedToChange: {
      const auto& p = e.incident_linked_to_change();
      if (p.relation() == CAUSED_BY) {
        s->set_caused_by_change_id(p.change_id());
        s->set_caused_by_change_external(p.external());
      }
      if (p.relation() == FIXED_BY) {
        s->set_fixed_by_change_id(p.change_id());
        s->set_fixed_by_change_external(p.external());
      }
      break;
    }
    default:
      break;
  }
}

std::optional<Envelope> IncidentResolutionForProblem(
    const IncidentState& incident, absl::string_view problem_id,
    const ResolveProblem& resolve) {
  if (std::find(std::begin(kOpenStates), std::end(kOpenStates),
                incident.status()) == std::end(kOpenStates)) {
    return std::nullopt;
  }
  Envelope e;
  auto* r = e.mutable_incident_resolved();
  r->set_resolution_code(resolve.resolution_code());
  r->set_notes(resolve.notes());
  r->set_resolved_by(incident.assignee());
  r->set_resolved_by_problem(std::string(problem_id));
  return e;
}

}  // namespace slate
