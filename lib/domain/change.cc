#include "lib/domain/change.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/base/status_macros.h"
#include "lib/domain/common.h"

namespace slate {
namespace {

std::string What(const ChangeState& s) {
  return absl::StrCat("change ", s.change_id());
}

const char* TypeName(ChangeType t) {
  switch (t) {
    case STANDARD:
      return "standard";
    case NORMAL:
      return "normal";
    case EMERGENCY:
      return "emergency";
    default:
      return "unspecified";
  }
}

absl::Status Require(const ChangeState& s, absl::string_view command,
                     const std::vector<ChangeStatus>& from,
                     ChangeStatus to = CHANGE_STATUS_UNSPECIFIED) {
  if (s.status() == CHANGE_STATUS_UNSPECIFIED) {
    return absl::NotFoundError(absl::StrCat(What(s), " not found"));
  }
  if (std::find(from.begin(), from.end(), s.status()) != from.end()) {
    return absl::OkStatus();
  }
  return TransitionNotAllowed(
      "change", s.change_id(),
      absl::StrCat(command, " (", TypeName(s.type()), " change)"),
      ChangeStatusName(s.status()),
      ChangeStatusName(to == CHANGE_STATUS_UNSPECIFIED ? s.status() : to));
}

absl::Status Missing(const ChangeState& s, absl::string_view field) {
  return absl::InvalidArgumentError(
      absl::StrCat(What(s), ": field ", field, " is required"));
}

absl::Status CheckOutcome(const ChangeState& s, ChangeOutcome outcome) {
  if (outcome == CHANGE_OUTCOME_UNSPECIFIED ||
      !ChangeOutcome_IsValid(outcome)) {
    return absl::InvalidArgumentError(
        absl::StrCat(What(s),
                     ": field outcome must be SUCCESSFUL, "
                     "SUCCESSFUL_WITH_ISSUES, FAILED or ROLLED_BACK"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Envelope>> Review(const ChangeState& s,
                                             const ReviewChange& c) {
  SLATE_RETURN_IF_ERROR(Require(s, "review", {CHANGE_REVIEW, CHANGE_CLOSED}));
  if (s.has_review()) {
    return absl::FailedPreconditionError(
        absl::StrCat(What(s), ": already reviewed by ", s.review().reviewer(),
                     " at ", FormatMicros(s.review().reviewed_at_us()),
                     " (a change has one post-implementation review)"));
  }
  if (c.reviewer().empty()) return Missing(s, "reviewer");
  SLATE_RETURN_IF_ERROR(CheckOutcome(s, c.outcome()));
  if (!c.has_objectives_met()) return Missing(s, "objectives_met");
  std::vector<Envelope> out(1);
  ChangeReviewed* p = out[0].mutable_change_reviewed();
  p->set_reviewer(c.reviewer());
  p->set_outcome(c.outcome());
  p->set_objectives_met(c.objectives_met());
  p->set_lessons(c.lessons());
  *p->mutable_caused_incidents() = s.caused_incidents();
  return out;
}

std::string Window(int64_t start_us, int64_t end_us) {
  return absl::StrCat("[", FormatMicros(start_us), ", ", FormatMicros(end_us),
                      ")");
}

absl::Status CheckServices(
    const ChangeState& s,
    const google::protobuf::RepeatedPtrField<std::string>& ids,
    const ChangeContext& ctx) {
  std::set<std::string> seen;
  for (const std::string& id : ids) {
    SLATE_RETURN_IF_ERROR(ValidateAggregateId("service", id));
    if (!seen.insert(id).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(What(s), ": service ", id, " is listed twice"));
    }
    bool found = false;
    for (const ServiceState* svc : ctx.services) {
      if (svc != nullptr && svc->defined() && svc->spec().service_id() == id) {
        found = true;
        if (svc->retired()) {
          return absl::FailedPreconditionError(
              absl::StrCat(What(s), ": service \"", id, "\" is retired"));
        }
      }
    }
    if (!found) {
      return absl::NotFoundError(
          absl::StrCat(What(s), ": service \"", id, "\" not found"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Envelope>> Request(const ChangeState& s,
                                              const RequestChange& c,
                                              const ChangeContext& ctx) {
  if (s.status() != CHANGE_STATUS_UNSPECIFIED) {
    return absl::AlreadyExistsError(absl::StrCat(
        What(s), " already exists (state ", ChangeStatusName(s.status()), ")"));
  }
  if (c.type() != STANDARD && c.type() != NORMAL && c.type() != EMERGENCY) {
    return absl::InvalidArgumentError(absl::StrCat(
        What(s), ": field type must be STANDARD, NORMAL or EMERGENCY"));
  }
  SLATE_ASSIGN_OR_RETURN(RiskScore risk,
                         ScoreChangeRisk(ctx.policy->change, c.impact(),
                                         c.risk_answers(), What(s)));
  SLATE_RETURN_IF_ERROR(CheckServices(s, c.service_ids(), ctx));
  for (const std::string& ci : c.configuration_items()) {
    if (ci.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(What(s), ": an entry of configuration_items is empty"));
    }
  }
  std::vector<Envelope> out(1);
  ChangeRequested* p = out[0].mutable_change_requested();
  p->set_change_id(s.change_id());
  p->set_type(c.type());
  p->set_title(c.title());
  p->set_description(c.description());
  p->set_requested_by(c.requested_by());
  *p->mutable_services() = c.service_ids();
  *p->mutable_configuration_items() = c.configuration_items();
  p->set_impact(c.impact());
  *p->mutable_risk_answers() = c.risk_answers();
  p->set_risk(risk.risk);
  p->set_risk_score(risk.score);
  return out;
}

absl::StatusOr<std::vector<Envelope>> Schedule(const ChangeState& s,
                                               const ScheduleChange& c,
                                               const ChangeContext& ctx) {
  if (s.type() == STANDARD) {
    SLATE_RETURN_IF_ERROR(Require(s, "schedule", {CHANGE_NEW, CHANGE_SCHEDULED},
                                  CHANGE_SCHEDULED));
  } else {
    SLATE_RETURN_IF_ERROR(Require(
        s, "schedule", {CHANGE_AUTHORIZE, CHANGE_SCHEDULED}, CHANGE_SCHEDULED));
    if (s.status() == CHANGE_AUTHORIZE) {
      std::string missing = MissingApprovals(ctx.policy->change, s);
      if (!missing.empty()) {
        return absl::FailedPreconditionError(absl::StrCat(
            What(s), ": cannot schedule: Authorize -> Scheduled needs ",
            missing));
      }
    }
  }
  SLATE_ASSIGN_OR_RETURN(absl::Time start,
                         ParseCommandTime(c.start(), What(s), "start"));
  SLATE_ASSIGN_OR_RETURN(absl::Time end,
                         ParseCommandTime(c.end(), What(s), "end"));
  if (end <= start) {
    return absl::InvalidArgumentError(absl::StrCat(
        What(s), ": field end ", c.end(), " must be after start ", c.start()));
  }
  for (const std::string& id : s.service_ids()) {
    bool found = false;
    for (const ServiceState* svc : ctx.services) {
      found |=
          svc != nullptr && svc->defined() && svc->spec().service_id() == id;
    }
    if (!found) {
      return absl::NotFoundError(
          absl::StrCat(What(s), ": service \"", id, "\" not found"));
    }
  }
  ScheduleConflicts conflicts =
      FindScheduleConflicts(s, start, end, ctx.services, ctx.other_changes);
  std::vector<std::string> all = conflicts.blackouts;
  all.insert(all.end(), conflicts.changes.begin(), conflicts.changes.end());
  if (!all.empty()) {
    const std::string window =
        Window(absl::ToUnixMicros(start), absl::ToUnixMicros(end));
    if (c.override_reason().empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat(What(s), ": cannot schedule ", window, ": ", all.size(),
                       " conflict(s): ", absl::StrJoin(all, "; "),
                       " (an override_reason schedules anyway)"));
    }
    const auto& types = ctx.policy->change.blackout_override_types();
    if (!conflicts.blackouts.empty() &&
        std::find(types.begin(), types.end(), s.type()) == types.end()) {
      return absl::FailedPreconditionError(absl::StrCat(
          What(s), ": cannot schedule ", window, ": ", all.size(),
          " conflict(s): ", absl::StrJoin(all, "; "), " (a ",
          TypeName(s.type()),
          " change cannot override a blackout window, even with a reason)"));
    }
  }
  std::vector<Envelope> out(1);
  ChangeScheduled* p = out[0].mutable_change_scheduled();
  p->set_start_us(absl::ToUnixMicros(start));
  p->set_end_us(absl::ToUnixMicros(end));
  if (!all.empty()) {
    p->set_override_reason(c.override_reason());
    for (std::string& line : all) p->add_overridden_conflicts(std::move(line));
  }
  return out;
}

bool Overlaps(int64_t a0, int64_t a1, int64_t b0, int64_t b1) {
  return a0 < b1 && b0 < a1;
}

}  // namespace

const char* ChangeStatusName(ChangeStatus s) {
  switch (s) {
    case CHANGE_NEW:
      return "New";
    case CHANGE_ASSESS:
      return "Assess";
    case CHANGE_AUTHORIZE:
      return "Authorize";
    case CHANGE_SCHEDULED:
      return "Scheduled";
    case CHANGE_IMPLEMENT:
      return "Implement";
    case CHANGE_REVIEW:
      return "Review";
    case CHANGE_CLOSED:
      return "Closed";
    case CHANGE_REJECTED:
      return "Rejected";
    case CHANGE_CANCELLED:
      return "Cancelled";
    default:
      return "(none)";
  }
}

ChangeState NewChangeState(absl::string_view change_id) {
  ChangeState s;
  s.set_change_id(std::string(change_id));
  s.set_version(-1);
  return s;
}

bool IsChangeCommand(const Command& c, std::string* id) {
  switch (c.command_case()) {
#define SLATE_CHANGE_CASE(kase, field) \
  case Command::kase:                  \
    *id = c.field().change_id();       \
    return true;
    SLATE_CHANGE_CASE(kRequestChange, request_change)
    SLATE_CHANGE_CASE(kStartChangeAssessment, start_change_assessment)
    SLATE_CHANGE_CASE(kAssessChangeRisk, assess_change_risk)
    SLATE_CHANGE_CASE(kRequestChangeAuthorization, request_change_authorization)
    SLATE_CHANGE_CASE(kApproveChange, approve_change)
    SLATE_CHANGE_CASE(kRejectChange, reject_change)
    SLATE_CHANGE_CASE(kScheduleChange, schedule_change)
    SLATE_CHANGE_CASE(kStartChangeImplementation, start_change_implementation)
    SLATE_CHANGE_CASE(kCompleteChangeImplementation,
                      complete_change_implementation)
    SLATE_CHANGE_CASE(kCloseChange, close_change)
    SLATE_CHANGE_CASE(kCancelChange, cancel_change)
    SLATE_CHANGE_CASE(kReviewChange, review_change)
#undef SLATE_CHANGE_CASE
    default:
      return false;
  }
}

absl::StatusOr<RiskScore> ScoreChangeRisk(
    const ChangePolicy& policy, int impact,
    const google::protobuf::Map<std::string, bool>& answers,
    absl::string_view what) {
  if (impact < 1 || impact > policy.impact_points_size()) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": impact must be 1..",
                                                   policy.impact_points_size(),
                                                   ", got ", impact));
  }
  RiskScore r;
  r.score = policy.impact_points(impact - 1);
  // Sorted, so the first unknown id reported does not depend on hashing.
  std::set<std::string> ids;
  for (const auto& [id, yes] : answers) ids.insert(id);
  for (const std::string& id : ids) {
    const RiskQuestion* q = nullptr;
    for (const RiskQuestion& candidate : policy.risk_questions()) {
      if (candidate.id() == id) q = &candidate;
    }
    if (q == nullptr) {
      std::vector<std::string> known;
      for (const RiskQuestion& k : policy.risk_questions()) {
        known.push_back(k.id());
      }
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": unknown risk question \"", id,
                       "\" (known: ", absl::StrJoin(known, ", "), ")"));
    }
    if (answers.at(id)) r.score += q->weight();
  }
  r.risk = r.score >= policy.high_threshold()       ? RISK_HIGH
           : r.score >= policy.moderate_threshold() ? RISK_MODERATE
                                                    : RISK_LOW;
  return r;
}

std::string ChangeReviewRequirement(const ChangePolicy& policy,
                                    const ChangeState& change) {
  if (!policy.has_review_required()) return "";
  const ChangeReviewRule& rule = policy.review_required();
  const auto& types = rule.types();
  if (std::find(types.begin(), types.end(), change.type()) != types.end()) {
    return absl::StrCat(TypeName(change.type()),
                        " changes (review_required.types)");
  }
  if (rule.min_risk() != CHANGE_RISK_UNSPECIFIED &&
      change.risk() != CHANGE_RISK_UNSPECIFIED &&
      change.risk() >= rule.min_risk()) {
    return absl::StrCat("changes of risk ", ChangeRisk_Name(rule.min_risk()),
                        " or above (review_required.min_risk; this one is ",
                        ChangeRisk_Name(change.risk()), ")");
  }
  return "";
}

const ApprovalRule* FindApprovalRule(const ChangePolicy& policy,
                                     ChangeType type, ChangeRisk risk) {
  const ApprovalRule* any = nullptr;
  for (const ApprovalRule& r : policy.approval_rules()) {
    if (r.type() != type) continue;
    if (r.risk() == risk) return &r;
    if (r.risk() == CHANGE_RISK_UNSPECIFIED) any = &r;
  }
  return any;
}

namespace {
bool RoleCounts(const ApprovalRule& rule, const std::string& role) {
  return rule.roles().empty() ||
         std::find(rule.roles().begin(), rule.roles().end(), role) !=
             rule.roles().end();
}
}  // namespace

std::string MissingApprovals(const ChangePolicy& policy,
                             const ChangeState& change) {
  if (change.type() == STANDARD) return "";
  const ApprovalRule* rule =
      FindApprovalRule(policy, change.type(), change.risk());
  if (rule == nullptr) return "";
  std::set<std::string> approvers;
  for (const ChangeApproval& a : change.approvals()) {
    if (RoleCounts(*rule, a.role())) approvers.insert(a.approver());
  }
  const int have = static_cast<int>(approvers.size());
  if (have >= rule->quorum()) return "";
  return absl::StrCat(
      rule->quorum() - have, " more approval(s) from ",
      rule->roles().empty() ? std::string("any role")
                            : absl::StrJoin(rule->roles(), " or "),
      " (have ", have, " of ", rule->quorum(), " for a ",
      TypeName(change.type()), " ", ChangeRisk_Name(change.risk()), " change)");
}

ScheduleConflicts FindScheduleConflicts(
    const ChangeState& change, absl::Time start, absl::Time end,
    const std::vector<const ServiceState*>& services,
    const std::vector<const ChangeState*>& other_changes) {
  const int64_t s0 = absl::ToUnixMicros(start);
  const int64_t s1 = absl::ToUnixMicros(end);
  ScheduleConflicts out;
  for (const std::string& id : change.service_ids()) {
    for (const ServiceState* svc : services) {
      if (svc == nullptr || svc->spec().service_id() != id) continue;
      for (const BlackoutWindow& w : svc->blackout_windows()) {
        if (Overlaps(s0, s1, w.start_us(), w.end_us())) {
          out.blackouts.push_back(
              absl::StrCat("blackout ", w.window_id(), " of service ", id, " ",
                           Window(w.start_us(), w.end_us())));
        }
      }
    }
  }
  std::vector<const ChangeState*> sorted = other_changes;
  std::sort(sorted.begin(), sorted.end(),
            [](const ChangeState* a, const ChangeState* b) {
              return a->change_id() < b->change_id();
            });
  for (const ChangeState* other : sorted) {
    if (other == nullptr || other->change_id() == change.change_id()) continue;
    if (other->status() != CHANGE_SCHEDULED &&
        other->status() != CHANGE_IMPLEMENT) {
      continue;
    }
    if (!Overlaps(s0, s1, other->planned_start_us(), other->planned_end_us())) {
      continue;
    }
    for (const std::string& ci : change.configuration_items()) {
      const auto& theirs = other->configuration_items();
      if (std::find(theirs.begin(), theirs.end(), ci) != theirs.end()) {
        out.changes.push_back(absl::StrCat(
            "change ", other->change_id(), " on configuration item ", ci, " ",
            Window(other->planned_start_us(), other->planned_end_us())));
      }
    }
  }
  return out;
}

absl::StatusOr<std::vector<Envelope>> DecideChange(const ChangeState& s,
                                                   const Command& command,
                                                   const ChangeContext& ctx) {
  std::vector<Envelope> out(1);
  Envelope& e = out[0];
  const ChangePolicy& policy = ctx.policy->change;
  switch (command.command_case()) {
    case Command::kRequestChange:
      return Request(s, command.request_change(), ctx);

    case Command::kStartChangeAssessment: {
      std::vector<ChangeStatus> from;
      if (s.type() == NORMAL) from = {CHANGE_NEW};
      SLATE_RETURN_IF_ERROR(
          Require(s, "start assessment", from, CHANGE_ASSESS));
      e.mutable_change_assessment_started();
      return out;
    }

    case Command::kAssessChangeRisk: {
      const AssessChangeRisk& c = command.assess_change_risk();
      SLATE_RETURN_IF_ERROR(
          Require(s, "assess risk", {CHANGE_NEW, CHANGE_ASSESS}));
      const int impact = c.impact() == 0 ? s.impact() : c.impact();
      SLATE_ASSIGN_OR_RETURN(
          RiskScore risk,
          ScoreChangeRisk(policy, impact, c.risk_answers(), What(s)));
      auto* p = e.mutable_change_risk_assessed();
      p->set_impact(impact);
      *p->mutable_risk_answers() = c.risk_answers();
      p->set_risk(risk.risk);
      p->set_risk_score(risk.score);
      return out;
    }

    case Command::kRequestChangeAuthorization: {
      std::vector<ChangeStatus> from;
      if (s.type() == NORMAL) from = {CHANGE_ASSESS};
      if (s.type() == EMERGENCY) from = {CHANGE_NEW};
      SLATE_RETURN_IF_ERROR(
          Require(s, "request authorization", from, CHANGE_AUTHORIZE));
      e.mutable_change_authorization_requested();
      return out;
    }

    case Command::kApproveChange: {
      const ApproveChange& c = command.approve_change();
      SLATE_RETURN_IF_ERROR(Require(s, "approve", {CHANGE_AUTHORIZE}));
      if (c.approver().empty()) return Missing(s, "approver");
      for (const ChangeApproval& a : s.approvals()) {
        if (a.approver() == c.approver()) {
          return absl::FailedPreconditionError(absl::StrCat(
              What(s), ": ", c.approver(), " already approved it"));
        }
      }
      const ApprovalRule* rule = FindApprovalRule(policy, s.type(), s.risk());
      if (rule != nullptr && !RoleCounts(*rule, c.role())) {
        return absl::FailedPreconditionError(absl::StrCat(
            What(s), ": role \"", c.role(), "\" does not approve a ",
            TypeName(s.type()), " ", ChangeRisk_Name(s.risk()),
            " change (needs ", absl::StrJoin(rule->roles(), " or "), ")"));
      }
      auto* p = e.mutable_change_approved();
      p->set_approver(c.approver());
      p->set_role(c.role());
      p->set_comment(c.comment());
      return out;
    }

    case Command::kRejectChange: {
      const RejectChange& c = command.reject_change();
      SLATE_RETURN_IF_ERROR(Require(
          s, "reject", {CHANGE_ASSESS, CHANGE_AUTHORIZE}, CHANGE_REJECTED));
      if (c.approver().empty()) return Missing(s, "approver");
      if (c.reason().empty()) return Missing(s, "reason");
      auto* p = e.mutable_change_rejected();
      p->set_approver(c.approver());
      p->set_role(c.role());
      p->set_reason(c.reason());
      return out;
    }

    case Command::kScheduleChange:
      return Schedule(s, command.schedule_change(), ctx);

    case Command::kStartChangeImplementation:
      SLATE_RETURN_IF_ERROR(Require(s, "start implementation",
                                    {CHANGE_SCHEDULED}, CHANGE_IMPLEMENT));
      e.mutable_change_implementation_started();
      return out;

    case Command::kCompleteChangeImplementation:
      SLATE_RETURN_IF_ERROR(Require(s, "complete implementation",
                                    {CHANGE_IMPLEMENT}, CHANGE_REVIEW));
      e.mutable_change_implemented()->set_notes(
          command.complete_change_implementation().notes());
      return out;

    case Command::kCloseChange: {
      const CloseChange& c = command.close_change();
      SLATE_RETURN_IF_ERROR(
          Require(s, "close", {CHANGE_REVIEW}, CHANGE_CLOSED));
      if (!s.has_review()) {
        const std::string rule = ChangeReviewRequirement(policy, s);
        if (!rule.empty()) {
          return absl::FailedPreconditionError(absl::StrCat(
              What(s),
              ": cannot close before its post-implementation review: the "
              "change policy requires one for ",
              rule, " (reviewChange first)"));
        }
      }
      SLATE_RETURN_IF_ERROR(CheckOutcome(s, c.outcome()));
      if (policy.require_review_notes_unless_successful() &&
          c.outcome() != SUCCESSFUL && c.review_notes().empty()) {
        return absl::InvalidArgumentError(absl::StrCat(
            What(s), ": field review_notes is required when the outcome is ",
            ChangeOutcome_Name(c.outcome())));
      }
      e.mutable_change_closed()->set_outcome(c.outcome());
      e.mutable_change_closed()->set_review_notes(c.review_notes());
      return out;
    }

    case Command::kReviewChange:
      return Review(s, command.review_change());

    case Command::kCancelChange:
      SLATE_RETURN_IF_ERROR(Require(
          s, "cancel",
          {CHANGE_NEW, CHANGE_ASSESS, CHANGE_AUTHORIZE, CHANGE_SCHEDULED},
          CHANGE_CANCELLED));
      e.mutable_change_cancelled()->set_reason(
          command.cancel_change().reason());
      return out;

    default:
      return absl::InternalError(
          absl::StrCat(What(s), ": not a change command"));
  }
}

void EvolveChange(const Envelope& e, ChangeState* s) {
  s->set_version(e.version());
  s->set_last_event_at_us(std::max(s->last_event_at_us(), e.occurred_at_us()));
  switch (e.payload_case()) {
    case Envelope::kChangeRequested: {
      const ChangeRequested& p = e.change_requested();
      s->set_status(CHANGE_NEW);
      s->set_requested_at_us(e.occurred_at_us());
      s->set_type(p.type());
      s->set_title(p.title());
      s->set_description(p.description());
      s->set_requested_by(p.requested_by());
      *s->mutable_service_ids() = p.services();
      *s->mutable_configuration_items() = p.configuration_items();
      s->set_impact(p.impact());
      *s->mutable_risk_answers() = p.risk_answers();
      s->set_risk(p.risk());
      s->set_risk_score(p.risk_score());
      break;
    }
    case Envelope::kChangeAssessmentStarted:
      s->set_status(CHANGE_ASSESS);
      break;
    case Envelope::kChangeRiskAssessed: {
      const ChangeRiskAssessed& p = e.change_risk_assessed();
      s->set_impact(p.impact());
      *s->mutable_risk_answers() = p.risk_answers();
      s->set_risk(p.risk());
      s->set_risk_score(p.risk_score());
      break;
    }
    case Envelope::kChangeAuthorizationRequested:
      s->set_status(CHANGE_AUTHORIZE);
      break;
    case Envelope::kChangeApproved: {
      ChangeApproval* a = s->add_approvals();
      a->set_approver(e.change_approved().approver());
      a->set_role(e.change_approved().role());
      a->set_comment(e.change_approved().comment());
      a->set_at_us(e.occurred_at_us());
      break;
    }
    case Envelope::kChangeRejected:
      s->set_status(CHANGE_REJECTED);
      s->set_rejected_by(e.change_rejected().approver());
      s->set_rejection_reason(e.change_rejected().reason());
      break;
    case Envelope::kChangeScheduled: {
      const ChangeScheduled& p = e.change_scheduled();
      s->set_status(CHANGE_SCHEDULED);
      s->set_planned_start_us(p.start_us());
      s->set_planned_end_us(p.end_us());
      s->set_schedule_override_reason(p.override_reason());
      *s->mutable_overridden_conflicts() = p.overridden_conflicts();
      break;
    }
    case Envelope::kChangeImplementationStarted:
      s->set_status(CHANGE_IMPLEMENT);
      s->set_implementation_started_at_us(e.occurred_at_us());
      break;
    case Envelope::kChangeImplemented:
      s->set_status(CHANGE_REVIEW);
      s->set_implemented_at_us(e.occurred_at_us());
      s->set_implementation_notes(e.change_implemented().notes());
      break;
    case Envelope::kChangeClosed:
      s->set_status(CHANGE_CLOSED);
      s->set_outcome(e.change_closed().outcome());
      s->set_review_notes(e.change_closed().review_notes());
      s->set_closed_at_us(e.occurred_at_us());
      if (s->has_review()) {
        s->mutable_review()->set_outcome_confirmed(s->review().outcome() ==
                                                   s->outcome());
      }
      break;
    case Envelope::kChangeReviewed: {
      if (s->has_review()) break;  // The first review stands.
      const ChangeReviewed& p = e.change_reviewed();
      ChangeReview* r = s->mutable_review();
      r->set_reviewed_at_us(e.occurred_at_us());
      r->set_reviewer(p.reviewer());
      r->set_outcome(p.outcome());
      r->set_objectives_met(p.objectives_met());
      r->set_lessons(p.lessons());
      *r->mutable_caused_incidents() = p.caused_incidents();
      r->set_reviewed_in(s->status());
      if (s->status() == CHANGE_CLOSED) {
        r->set_outcome_confirmed(p.outcome() == s->outcome());
      }
      break;
    }
    case Envelope::kChangeCancelled:
      s->set_status(CHANGE_CANCELLED);
      s->set_cancel_reason(e.change_cancelled().reason());
      break;
    case Envelope::kChangeIncidentLinked: {
      const auto& p = e.change_incident_linked();
      if (p.relation() == CAUSED_BY) s->add_caused_incidents(p.incident_id());
      if (p.relation() == FIXED_BY) s->add_fixed_incidents(p.incident_id());
      break;
    }
    default:
      break;
  }
}

absl::StatusOr<Envelope> DecideChangeIncidentLink(const ChangeState& s,
                                                  absl::string_view incident_id,
                                                  ChangeLinkRelation relation) {
  if (s.status() == CHANGE_STATUS_UNSPECIFIED) {
    return absl::NotFoundError(absl::StrCat(What(s), " not found"));
  }
  Envelope e;
  e.mutable_change_incident_linked()->set_incident_id(std::string(incident_id));
  e.mutable_change_incident_linked()->set_relation(relation);
  return e;
}

}  // namespace slate
