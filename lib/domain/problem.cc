#include "lib/domain/problem.h"

#include <algorithm>
#include <initializer_list>

#include "absl/strings/str_cat.h"
#include "lib/base/status_macros.h"
#include "lib/domain/common.h"
#include "lib/domain/priority_matrix.h"

namespace slate {
namespace {

std::string What(const ProblemState& s) {
  return absl::StrCat("problem ", s.problem_id());
}

absl::Status Require(const ProblemState& s, absl::string_view command,
                     std::initializer_list<ProblemStatus> from,
                     ProblemStatus to = PROBLEM_STATUS_UNSPECIFIED) {
  if (s.status() == PROBLEM_STATUS_UNSPECIFIED) {
    return absl::NotFoundError(absl::StrCat(What(s), " not found"));
  }
  if (std::find(from.begin(), from.end(), s.status()) != from.end()) {
    return absl::OkStatus();
  }
  return TransitionNotAllowed(
      "problem", s.problem_id(), command, ProblemStatusName(s.status()),
      ProblemStatusName(to == PROBLEM_STATUS_UNSPECIFIED ? s.status() : to));
}

absl::Status Missing(const ProblemState& s, absl::string_view field) {
  return absl::InvalidArgumentError(
      absl::StrCat(What(s), ": field ", field, " is required"));
}

absl::StatusOr<std::vector<Envelope>> Log(const ProblemState& s,
                                          const LogProblem& c,
                                          const ProblemContext& ctx) {
  if (s.status() != PROBLEM_STATUS_UNSPECIFIED) {
    return absl::AlreadyExistsError(
        absl::StrCat(What(s), " already exists (state ",
                     ProblemStatusName(s.status()), ")"));
  }
  if (c.title().empty()) return Missing(s, "title");
  if (!c.service_id().empty() &&
      (ctx.service == nullptr || !ctx.service->defined())) {
    return absl::NotFoundError(
        absl::StrCat(What(s), ": service \"", c.service_id(), "\" not found"));
  }
  int priority = 0;
  if (c.impact() != 0 || c.urgency() != 0) {
    SLATE_ASSIGN_OR_RETURN(priority, ComputePriority(*ctx.matrix, c.impact(),
                                                     c.urgency(), What(s)));
  }
  std::vector<Envelope> out(1);
  ProblemLogged* p = out[0].mutable_problem_logged();
  p->set_problem_id(s.problem_id());
  p->set_title(c.title());
  p->set_description(c.description());
  p->set_service(c.service_id());
  p->set_configuration_item(c.configuration_item());
  p->set_category(c.category());
  p->set_impact(c.impact());
  p->set_urgency(c.urgency());
  p->set_priority(priority);
  return out;
}

}  // namespace

const char* ProblemStatusName(ProblemStatus s) {
  switch (s) {
    case PROBLEM_NEW:
      return "New";
    case PROBLEM_ASSESSED:
      return "Assessed";
    case PROBLEM_ROOT_CAUSE_ANALYSIS:
      return "Root Cause Analysis";
    case PROBLEM_FIX_IN_PROGRESS:
      return "Fix in Progress";
    case PROBLEM_RESOLVED:
      return "Resolved";
    case PROBLEM_CLOSED:
      return "Closed";
    default:
      return "(none)";
  }
}

ProblemState NewProblemState(absl::string_view problem_id) {
  ProblemState s;
  s.set_problem_id(std::string(problem_id));
  s.set_version(-1);
  return s;
}

bool IsProblemCommand(const Command& c, std::string* id) {
  switch (c.command_case()) {
#define SLATE_PROBLEM_CASE(kase, field) \
  case Command::kase:                   \
    *id = c.field().problem_id();       \
    return true;
    SLATE_PROBLEM_CASE(kLogProblem, log_problem)
    SLATE_PROBLEM_CASE(kAssessProblem, assess_problem)
    SLATE_PROBLEM_CASE(kStartProblemRootCauseAnalysis,
                       start_problem_root_cause_analysis)
    SLATE_PROBLEM_CASE(kRecordProblemRootCause, record_problem_root_cause)
    SLATE_PROBLEM_CASE(kRecordKnownError, record_known_error)
    SLATE_PROBLEM_CASE(kStartProblemFix, start_problem_fix)
    SLATE_PROBLEM_CASE(kResolveProblem, resolve_problem)
    SLATE_PROBLEM_CASE(kCloseProblem, close_problem)
#undef SLATE_PROBLEM_CASE
    default:
      return false;
  }
}

absl::StatusOr<std::vector<Envelope>> DecideProblem(const ProblemState& s,
                                                    const Command& command,
                                                    const ProblemContext& ctx) {
  std::vector<Envelope> out(1);
  Envelope& e = out[0];
  switch (command.command_case()) {
    case Command::kLogProblem:
      return Log(s, command.log_problem(), ctx);

    case Command::kAssessProblem: {
      const AssessProblem& c = command.assess_problem();
      SLATE_RETURN_IF_ERROR(
          Require(s, "assess", {PROBLEM_NEW}, PROBLEM_ASSESSED));
      auto* p = e.mutable_problem_assessed();
      p->set_assignment_group(c.assignment_group());
      p->set_assignee(c.assignee());
      p->set_note(c.note());
      return out;
    }

    case Command::kStartProblemRootCauseAnalysis:
      SLATE_RETURN_IF_ERROR(Require(s, "start root cause analysis",
                                    {PROBLEM_ASSESSED},
                                    PROBLEM_ROOT_CAUSE_ANALYSIS));
      e.mutable_problem_root_cause_analysis_started();
      return out;

    case Command::kRecordProblemRootCause: {
      const RecordProblemRootCause& c = command.record_problem_root_cause();
      SLATE_RETURN_IF_ERROR(
          Require(s, "record the root cause",
                  {PROBLEM_ROOT_CAUSE_ANALYSIS, PROBLEM_FIX_IN_PROGRESS}));
      if (c.root_cause().empty()) return Missing(s, "root_cause");
      e.mutable_problem_root_cause_identified()->set_root_cause(c.root_cause());
      return out;
    }

    case Command::kRecordKnownError: {
      const RecordKnownError& c = command.record_known_error();
      SLATE_RETURN_IF_ERROR(
          Require(s, "record a known error",
                  {PROBLEM_ASSESSED, PROBLEM_ROOT_CAUSE_ANALYSIS,
                   PROBLEM_FIX_IN_PROGRESS}));
      if (c.workaround().empty()) return Missing(s, "workaround");
      e.mutable_problem_known_error_recorded()->set_workaround(c.workaround());
      return out;
    }

    case Command::kStartProblemFix: {
      const StartProblemFix& c = command.start_problem_fix();
      SLATE_RETURN_IF_ERROR(Require(s, "start the fix",
                                    {PROBLEM_ROOT_CAUSE_ANALYSIS},
                                    PROBLEM_FIX_IN_PROGRESS));
      if (ctx.policy->require_root_cause_before_fix && s.root_cause().empty()) {
        return absl::FailedPreconditionError(absl::StrCat(
            What(s),
            ": cannot start the fix: Root Cause Analysis -> Fix in "
            "Progress needs a recorded root cause"));
      }
      if (!c.change_id().empty()) {
        SLATE_RETURN_IF_ERROR(ValidateAggregateId("change", c.change_id()));
      }
      e.mutable_problem_fix_started()->set_fix_description(c.fix_description());
      e.mutable_problem_fix_started()->set_change_id(c.change_id());
      return out;
    }

    case Command::kResolveProblem: {
      const ResolveProblem& c = command.resolve_problem();
      SLATE_RETURN_IF_ERROR(
          Require(s, "resolve", {PROBLEM_FIX_IN_PROGRESS}, PROBLEM_RESOLVED));
      if (c.resolution_code().empty()) return Missing(s, "resolution_code");
      auto* p = e.mutable_problem_resolved();
      p->set_resolution_code(c.resolution_code());
      p->set_notes(c.notes());
      p->set_resolve_linked_incidents(c.resolve_linked_incidents());
      return out;
    }

    case Command::kCloseProblem:
      SLATE_RETURN_IF_ERROR(
          Require(s, "close", {PROBLEM_RESOLVED}, PROBLEM_CLOSED));
      e.mutable_problem_closed();
      return out;

    default:
      return absl::InternalError(
          absl::StrCat(What(s), ": not a problem command"));
  }
}

void EvolveProblem(const Envelope& e, ProblemState* s) {
  s->set_version(e.version());
  s->set_last_event_at_us(std::max(s->last_event_at_us(), e.occurred_at_us()));
  switch (e.payload_case()) {
    case Envelope::kProblemLogged: {
      const ProblemLogged& p = e.problem_logged();
      s->set_status(PROBLEM_NEW);
      s->set_logged_at_us(e.occurred_at_us());
      s->set_title(p.title());
      s->set_description(p.description());
      s->set_service_id(p.service());
      s->set_configuration_item(p.configuration_item());
      s->set_category(p.category());
      s->set_impact(p.impact());
      s->set_urgency(p.urgency());
      s->set_priority(p.priority());
      break;
    }
    case Envelope::kProblemAssessed:
      s->set_status(PROBLEM_ASSESSED);
      s->set_assignment_group(e.problem_assessed().assignment_group());
      s->set_assignee(e.problem_assessed().assignee());
      break;
    case Envelope::kProblemRootCauseAnalysisStarted:
      s->set_status(PROBLEM_ROOT_CAUSE_ANALYSIS);
      break;
    case Envelope::kProblemRootCauseIdentified:
      s->set_root_cause(e.problem_root_cause_identified().root_cause());
      break;
    case Envelope::kProblemKnownErrorRecorded:
      s->set_known_error(true);
      s->set_workaround(e.problem_known_error_recorded().workaround());
      break;
    case Envelope::kProblemFixStarted:
      s->set_status(PROBLEM_FIX_IN_PROGRESS);
      s->set_fix_description(e.problem_fix_started().fix_description());
      s->set_fix_change_id(e.problem_fix_started().change_id());
      break;
    case Envelope::kProblemResolved:
      s->set_status(PROBLEM_RESOLVED);
      s->set_resolution_code(e.problem_resolved().resolution_code());
      s->set_resolution_notes(e.problem_resolved().notes());
      s->set_resolved_at_us(e.occurred_at_us());
      break;
    case Envelope::kProblemClosed:
      s->set_status(PROBLEM_CLOSED);
      s->set_closed_at_us(e.occurred_at_us());
      break;
    case Envelope::kProblemIncidentLinked:
      s->add_linked_incidents(e.problem_incident_linked().incident_id());
      break;
    default:
      break;
  }
}

absl::StatusOr<Envelope> DecideProblemIncidentLink(
    const ProblemState& s, absl::string_view incident_id) {
  if (s.status() == PROBLEM_STATUS_UNSPECIFIED) {
    return absl::NotFoundError(absl::StrCat(What(s), " not found"));
  }
  if (s.status() == PROBLEM_CLOSED) {
    return TransitionNotAllowed("problem", s.problem_id(), "link an incident",
                                "Closed", "Closed");
  }
  for (const std::string& linked : s.linked_incidents()) {
    if (linked == incident_id) {
      return absl::FailedPreconditionError(absl::StrCat(
          What(s), ": incident ", incident_id, " is already linked"));
    }
  }
  Envelope e;
  e.mutable_problem_incident_linked()->set_incident_id(
      std::string(incident_id));
  return e;
}

}  // namespace slate
