#include "lib/domain/request.h"

#include <algorithm>
#include <cstdint>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/base/status_macros.h"
#include "lib/domain/common.h"
#include "lib/domain/incident.h"
#include "lib/domain/priority_matrix.h"

namespace slate {
namespace {

std::string What(const CatalogItemState& s) {
  return absl::StrCat("catalog item ", s.spec().item_id());
}

std::string What(const RequestState& s) {
  return absl::StrCat("request ", s.request_id());
}

template <typename S>
absl::Status Missing(const S& s, absl::string_view field) {
  return absl::InvalidArgumentError(
      absl::StrCat(What(s), ": field ", field, " is required"));
}

// A defined, not retired service named `id`, or the error naming `what`.
absl::Status CheckService(absl::string_view what, const std::string& id,
                          const ServiceState* service) {
  if (service == nullptr || !service->defined() ||
      service->spec().service_id() != id) {
    return absl::NotFoundError(
        absl::StrCat(what, ": service \"", id, "\" not found"));
  }
  if (service->retired()) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, ": service \"", id, "\" is retired"));
  }
  return absl::OkStatus();
}

bool IsCurrencyCode(absl::string_view c) {
  return c.size() == 3 && std::all_of(c.begin(), c.end(), [](char ch) {
           return ch >= 'A' && ch <= 'Z';
         });
}

absl::StatusOr<std::vector<Envelope>> DefineItem(const CatalogItemState& s,
                                                 const DefineCatalogItem& c,
                                                 const ServiceState* service) {
  if (s.retired()) {
    return absl::FailedPreconditionError(absl::StrCat(
        What(s), ": retired; a retired item cannot be defined again (define "
                 "one with another id)"));
  }
  if (c.service_id().empty()) return Missing(s, "service_id");
  SLATE_RETURN_IF_ERROR(ValidateAggregateId("service", c.service_id()));
  SLATE_RETURN_IF_ERROR(CheckService(What(s), c.service_id(), service));
  if (c.name().empty()) return Missing(s, "name");
  if (c.fulfilment_group().empty()) return Missing(s, "fulfilment_group");
  if (c.price_cents() < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        What(s), ": field price_cents must be >= 0, got ", c.price_cents()));
  }
  if (!c.currency().empty() && !IsCurrencyCode(c.currency())) {
    return absl::InvalidArgumentError(
        absl::StrCat(What(s), ": field currency must be 3 letters A-Z, got \"",
                     c.currency(), "\""));
  }
  if (c.price_cents() > 0 && c.currency().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        What(s), ": field currency is required when price_cents > 0"));
  }
  absl::Duration target = absl::ZeroDuration();
  if (!c.fulfilment_target().empty() &&
      (!absl::ParseDuration(c.fulfilment_target(), &target) ||
       target < absl::ZeroDuration() || target == absl::InfiniteDuration())) {
    return absl::InvalidArgumentError(absl::StrCat(
        What(s), ": field fulfilment_target must be a duration >= 0 like "
                 "\"8h\", got \"",
        c.fulfilment_target(), "\""));
  }
  if (c.approval_quorum() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(What(s), ": field approval_quorum must be >= 0, got ",
                     c.approval_quorum()));
  }
  for (int i = 0; i < c.approver_roles_size(); ++i) {
    if (c.approver_roles(i).empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          What(s), ": field approver_roles[", i, "] is empty"));
    }
  }
  CatalogItemSpec spec;
  spec.set_item_id(s.spec().item_id());
  spec.set_service_id(c.service_id());
  spec.set_name(c.name());
  spec.set_description(c.description());
  spec.set_price_cents(c.price_cents());
  spec.set_currency(c.currency());
  spec.set_fulfilment_target_us(absl::ToInt64Microseconds(target));
  spec.set_approval_required(c.approval_required());
  *spec.mutable_approver_roles() = c.approver_roles();
  spec.set_approval_quorum(
      c.approval_required() ? std::max(1, c.approval_quorum()) : 0);
  spec.set_fulfilment_group(c.fulfilment_group());
  if (s.defined() && spec.SerializeAsString() == s.spec().SerializeAsString()) {
    return std::vector<Envelope>{};  // Unchanged: nothing to record.
  }
  std::vector<Envelope> out(1);
  *out[0].mutable_catalog_item_defined()->mutable_spec() = std::move(spec);
  return out;
}

absl::Status Require(const RequestState& s, absl::string_view command,
                     const std::vector<RequestStatus>& from,
                     RequestStatus to = REQUEST_STATUS_UNSPECIFIED) {
  if (s.status() == REQUEST_STATUS_UNSPECIFIED) {
    return absl::NotFoundError(absl::StrCat(What(s), " not found"));
  }
  if (std::find(from.begin(), from.end(), s.status()) != from.end()) {
    return absl::OkStatus();
  }
  return TransitionNotAllowed(
      "request", s.request_id(), command, RequestStatusName(s.status()),
      RequestStatusName(to == REQUEST_STATUS_UNSPECIFIED ? s.status() : to));
}

bool RoleCounts(const RequestLine& line, const std::string& role) {
  return line.approver_roles().empty() ||
         std::find(line.approver_roles().begin(), line.approver_roles().end(),
                   role) != line.approver_roles().end();
}

// Distinct approvers of `approvals` whose role counts for `line`.
int Approvers(const RequestLine& line,
              const google::protobuf::RepeatedPtrField<ChangeApproval>& all) {
  std::set<std::string> approvers;
  for (const ChangeApproval& a : all) {
    if (RoleCounts(line, a.role())) approvers.insert(a.approver());
  }
  return static_cast<int>(approvers.size());
}

absl::StatusOr<std::vector<Envelope>> Submit(const RequestState& s,
                                             const SubmitRequest& c,
                                             const RequestContext& ctx) {
  if (s.status() != REQUEST_STATUS_UNSPECIFIED) {
    return absl::AlreadyExistsError(
        absl::StrCat(What(s), " already exists (state ",
                     RequestStatusName(s.status()), ")"));
  }
  if (c.requester().empty()) return Missing(s, "requester");
  if (c.items().empty()) return Missing(s, "items");
  SLATE_ASSIGN_OR_RETURN(
      int priority,
      ComputePriority(*ctx.matrix, c.impact(), c.urgency(), What(s)));
  RequestSubmitted p;
  p.set_request_id(s.request_id());
  p.set_requester(c.requester());
  p.set_short_description(c.short_description());
  p.set_impact(c.impact());
  p.set_urgency(c.urgency());
  p.set_priority(priority);
  std::set<std::string> seen;
  std::string currency;  // Of the first line that has one.
  for (int i = 0; i < c.items_size(); ++i) {
    const RequestItem& want = c.items(i);
    const std::string field = absl::StrCat("items[", i, "]");
    if (absl::Status id = ValidateAggregateId("catalog item", want.item_id());
        !id.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(What(s), ": field ", field, ": ", id.message()));
    }
    if (!seen.insert(want.item_id()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(What(s), ": field ", field, ": catalog item ",
                       want.item_id(), " is listed twice"));
    }
    if (want.quantity() < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(What(s), ": field ", field, ".quantity must be >= 1, got ",
                       want.quantity()));
    }
    const CatalogItemState* item = nullptr;
    for (const CatalogItemState* candidate : ctx.items) {
      if (candidate != nullptr && candidate->defined() &&
          candidate->spec().item_id() == want.item_id()) {
        item = candidate;
      }
    }
    if (item == nullptr) {
      return absl::NotFoundError(absl::StrCat(What(s), ": field ", field,
                                              ": catalog item ",
                                              want.item_id(), " not found"));
    }
    if (item->retired()) {
      return absl::FailedPreconditionError(
          absl::StrCat(What(s), ": field ", field, ": catalog item ",
                       want.item_id(), " is retired"));
    }
    const CatalogItemSpec& spec = item->spec();
    if (i == 0) {
      p.set_service(spec.service_id());
    } else if (spec.service_id() != p.service()) {
      return absl::InvalidArgumentError(absl::StrCat(
          What(s), ": field ", field, ": catalog item ", want.item_id(),
          " belongs to service ", spec.service_id(), ", not ", p.service(),
          " (a request orders from one service)"));
    }
    if (!spec.currency().empty()) {
      if (currency.empty()) currency = spec.currency();
      if (spec.currency() != currency) {
        return absl::InvalidArgumentError(absl::StrCat(
            What(s), ": field ", field, ": catalog item ", want.item_id(),
            " is priced in ", spec.currency(), ", not ", currency,
            " (a request has one currency)"));
      }
    }
    RequestLine* line = p.add_lines();
    line->set_item_id(spec.item_id());
    line->set_name(spec.name());
    line->set_quantity(std::max(1, want.quantity()));
    line->set_unit_price_cents(spec.price_cents());
    line->set_currency(spec.currency());
    line->set_fulfilment_group(spec.fulfilment_group());
    line->set_fulfilment_target_us(spec.fulfilment_target_us());
    line->set_approval_required(spec.approval_required());
    *line->mutable_approver_roles() = spec.approver_roles();
    line->set_approval_quorum(spec.approval_quorum());
    if (spec.approval_required()) p.set_approval_required(true);
  }
  const ServiceState* service = nullptr;
  for (const ServiceState* candidate : ctx.services) {
    if (candidate != nullptr && candidate->spec().service_id() == p.service()) {
      service = candidate;
    }
  }
  SLATE_RETURN_IF_ERROR(CheckService(What(s), p.service(), service));
  std::vector<Envelope> out(1);
  *out[0].mutable_request_submitted() = std::move(p);
  return out;
}

absl::StatusOr<const RequestTask*> FindTask(const RequestState& s, int task) {
  if (task < 1 || task > s.tasks_size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(What(s), ": field task must be 1..", s.tasks_size(),
                     ", got ", task));
  }
  const RequestTask& t = s.tasks(task - 1);
  if (t.done()) {
    return absl::FailedPreconditionError(absl::StrCat(
        What(s), ": task ", task, " (", t.item_id(), ") is already done (",
        FormatMicros(t.completed_at_us()), ")"));
  }
  return &t;
}

absl::StatusOr<std::vector<Envelope>> Approve(const RequestState& s,
                                              const ApproveRequest& c) {
  SLATE_RETURN_IF_ERROR(Require(s, "approve", {REQUEST_AWAITING_APPROVAL}));
  if (c.approver().empty()) return Missing(s, "approver");
  for (const ChangeApproval& a : s.approvals()) {
    if (a.approver() == c.approver()) {
      return absl::FailedPreconditionError(
          absl::StrCat(What(s), ": ", c.approver(), " already approved it"));
    }
  }
  bool counts = false;
  for (const RequestLine& line : s.lines()) {
    if (line.approval_required() &&
        Approvers(line, s.approvals()) < line.approval_quorum() &&
        RoleCounts(line, c.role())) {
      counts = true;
    }
  }
  if (!counts) {
    return absl::FailedPreconditionError(
        absl::StrCat(What(s), ": role \"", c.role(),
                     "\" approves no line that still needs approval (",
                     MissingRequestApprovals(s), ")"));
  }
  RequestState after = s;
  ChangeApproval* a = after.add_approvals();
  a->set_approver(c.approver());
  a->set_role(c.role());
  std::vector<Envelope> out(1);
  RequestApproved* p = out[0].mutable_request_approved();
  p->set_approver(c.approver());
  p->set_role(c.role());
  p->set_comment(c.comment());
  p->set_complete(MissingRequestApprovals(after).empty());
  return out;
}

absl::StatusOr<std::vector<Envelope>> RecordSurvey(
    const RequestState& s, const RecordRequestSurveyResponse& c) {
  SLATE_RETURN_IF_ERROR(Require(s, "record a survey response",
                                {REQUEST_FULFILLED, REQUEST_CLOSED}));
  if (c.score() < kMinSurveyScore || c.score() > kMaxSurveyScore) {
    return absl::InvalidArgumentError(
        absl::StrCat(What(s), ": field score must be ", kMinSurveyScore, "..",
                     kMaxSurveyScore, ", got ", c.score()));
  }
  if (s.survey_score() != 0) {
    return absl::AlreadyExistsError(absl::StrCat(
        What(s), ": already has a survey response (score ", s.survey_score(),
        ", recorded ", FormatMicros(s.survey_at_us()),
        "); one response per request"));
  }
  std::vector<Envelope> out(1);
  SurveyResponseRecorded* r = out[0].mutable_survey_response_recorded();
  r->set_score(c.score());
  r->set_comment(c.comment());
  r->set_respondent(c.respondent());
  r->set_resolution_cycle(1);
  return out;
}

}  // namespace

// --- Catalog items ---------------------------------------------------------

CatalogItemState NewCatalogItemState(absl::string_view item_id) {
  CatalogItemState s;
  s.mutable_spec()->set_item_id(std::string(item_id));
  s.set_version(-1);
  return s;
}

bool IsCatalogCommand(const Command& c, std::string* id) {
  if (c.has_define_catalog_item()) {
    *id = c.define_catalog_item().item_id();
    return true;
  }
  if (c.has_retire_catalog_item()) {
    *id = c.retire_catalog_item().item_id();
    return true;
  }
  return false;
}

absl::StatusOr<std::vector<Envelope>> DecideCatalogItem(
    const CatalogItemState& s, const Command& command,
    const ServiceState* service) {
  if (command.has_define_catalog_item()) {
    return DefineItem(s, command.define_catalog_item(), service);
  }
  if (!command.has_retire_catalog_item()) {
    return absl::InternalError(
        absl::StrCat(What(s), ": not a catalog command"));
  }
  if (!s.defined()) {
    return absl::NotFoundError(absl::StrCat(What(s), " not found"));
  }
  if (s.retired()) {
    return absl::FailedPreconditionError(
        absl::StrCat(What(s), ": already retired"));
  }
  std::vector<Envelope> out(1);
  out[0].mutable_catalog_item_retired()->set_reason(
      command.retire_catalog_item().reason());
  return out;
}

void EvolveCatalogItem(const Envelope& e, CatalogItemState* s) {
  s->set_version(e.version());
  s->set_last_event_at_us(std::max(s->last_event_at_us(), e.occurred_at_us()));
  if (e.has_catalog_item_defined()) {
    if (!s->defined()) s->set_defined_at_us(e.occurred_at_us());
    *s->mutable_spec() = e.catalog_item_defined().spec();
    s->set_defined(true);
  } else if (e.has_catalog_item_retired()) {
    s->set_retired(true);
  }
}

// --- Requests ----------------------------------------------------------------

const char* RequestStatusName(RequestStatus s) {
  switch (s) {
    case REQUEST_AWAITING_APPROVAL:
      return "Awaiting Approval";
    case REQUEST_IN_FULFILMENT:
      return "In Fulfilment";
    case REQUEST_FULFILLED:
      return "Fulfilled";
    case REQUEST_CLOSED:
      return "Closed";
    case REQUEST_REJECTED:
      return "Rejected";
    case REQUEST_CANCELLED:
      return "Cancelled";
    default:
      return "(none)";
  }
}

RequestState NewRequestState(absl::string_view request_id) {
  RequestState s;
  s.set_request_id(std::string(request_id));
  s.set_version(-1);
  return s;
}

bool IsRequestCommand(const Command& c, std::string* id) {
  switch (c.command_case()) {
#define SLATE_REQUEST_CASE(kase, field) \
  case Command::kase:                   \
    *id = c.field().request_id();       \
    return true;
    SLATE_REQUEST_CASE(kSubmitRequest, submit_request)
    SLATE_REQUEST_CASE(kApproveRequest, approve_request)
    SLATE_REQUEST_CASE(kRejectRequest, reject_request)
    SLATE_REQUEST_CASE(kAssignRequestTask, assign_request_task)
    SLATE_REQUEST_CASE(kCompleteRequestTask, complete_request_task)
    SLATE_REQUEST_CASE(kCloseRequest, close_request)
    SLATE_REQUEST_CASE(kCancelRequest, cancel_request)
    SLATE_REQUEST_CASE(kRecordRequestSurveyResponse,
                       record_request_survey_response)
#undef SLATE_REQUEST_CASE
    default:
      return false;
  }
}

std::string MissingRequestApprovals(const RequestState& s) {
  std::vector<std::string> missing;
  for (int i = 0; i < s.lines_size(); ++i) {
    const RequestLine& line = s.lines(i);
    if (!line.approval_required()) continue;
    const int have = Approvers(line, s.approvals());
    if (have >= line.approval_quorum()) continue;
    missing.push_back(absl::StrCat(
        "line ", i + 1, " (", line.item_id(), "): ",
        line.approval_quorum() - have, " more approval(s) from ",
        line.approver_roles().empty()
            ? std::string("any role")
            : absl::StrJoin(line.approver_roles(), " or "),
        " (have ", have, " of ", line.approval_quorum(), ")"));
  }
  return absl::StrJoin(missing, "; ");
}

absl::StatusOr<std::vector<Envelope>> DecideRequest(const RequestState& s,
                                                    const Command& command,
                                                    const RequestContext& ctx) {
  std::vector<Envelope> out(1);
  Envelope& e = out[0];
  switch (command.command_case()) {
    case Command::kSubmitRequest:
      return Submit(s, command.submit_request(), ctx);

    case Command::kApproveRequest:
      return Approve(s, command.approve_request());

    case Command::kRejectRequest: {
      const RejectRequest& c = command.reject_request();
      SLATE_RETURN_IF_ERROR(Require(s, "reject", {REQUEST_AWAITING_APPROVAL},
                                    REQUEST_REJECTED));
      if (c.approver().empty()) return Missing(s, "approver");
      if (c.reason().empty()) return Missing(s, "reason");
      auto* p = e.mutable_request_rejected();
      p->set_approver(c.approver());
      p->set_role(c.role());
      p->set_reason(c.reason());
      return out;
    }

    case Command::kAssignRequestTask: {
      const AssignRequestTask& c = command.assign_request_task();
      SLATE_RETURN_IF_ERROR(
          Require(s, "assign a task",
                  {REQUEST_AWAITING_APPROVAL, REQUEST_IN_FULFILMENT}));
      SLATE_RETURN_IF_ERROR(FindTask(s, c.task()).status());
      if (c.group().empty()) return Missing(s, "group");
      auto* p = e.mutable_request_task_assigned();
      p->set_task(c.task());
      p->set_group(c.group());
      p->set_person(c.person());
      return out;
    }

    case Command::kCompleteRequestTask: {
      const CompleteRequestTask& c = command.complete_request_task();
      SLATE_RETURN_IF_ERROR(
          Require(s, "complete a task", {REQUEST_IN_FULFILMENT}));
      SLATE_ASSIGN_OR_RETURN(const RequestTask* task, FindTask(s, c.task()));
      auto* p = e.mutable_request_task_completed();
      p->set_task(c.task());
      p->set_completed_by(c.completed_by().empty() ? task->person()
                                                   : c.completed_by());
      p->set_notes(c.notes());
      int open = 0;
      for (const RequestTask& t : s.tasks()) open += t.done() ? 0 : 1;
      if (open == 1) out.emplace_back().mutable_request_fulfilled();
      return out;
    }

    case Command::kCloseRequest:
      SLATE_RETURN_IF_ERROR(
          Require(s, "close", {REQUEST_FULFILLED}, REQUEST_CLOSED));
      e.mutable_request_closed();
      return out;

    case Command::kCancelRequest:
      SLATE_RETURN_IF_ERROR(
          Require(s, "cancel",
                  {REQUEST_AWAITING_APPROVAL, REQUEST_IN_FULFILMENT},
                  REQUEST_CANCELLED));
      e.mutable_request_cancelled()->set_reason(
          command.cancel_request().reason());
      return out;

    case Command::kRecordRequestSurveyResponse:
      return RecordSurvey(s, command.record_request_survey_response());

    default:
      return absl::InternalError(
          absl::StrCat(What(s), ": not a request command"));
  }
}

void EvolveRequest(const Envelope& e, RequestState* s) {
  s->set_version(e.version());
  s->set_last_event_at_us(std::max(s->last_event_at_us(), e.occurred_at_us()));
  const int64_t at = e.occurred_at_us();
  switch (e.payload_case()) {
    case Envelope::kRequestSubmitted: {
      if (s->status() != REQUEST_STATUS_UNSPECIFIED) break;
      const RequestSubmitted& p = e.request_submitted();
      s->set_status(p.approval_required() ? REQUEST_AWAITING_APPROVAL
                                          : REQUEST_IN_FULFILMENT);
      s->set_submitted_at_us(at);
      s->set_requester(p.requester());
      s->set_short_description(p.short_description());
      s->set_service_id(p.service());
      s->set_impact(p.impact());
      s->set_urgency(p.urgency());
      s->set_priority(p.priority());
      s->set_approval_required(p.approval_required());
      *s->mutable_lines() = p.lines();
      int64_t total = 0;
      int64_t longest = 0;
      for (int i = 0; i < p.lines_size(); ++i) {
        const RequestLine& line = p.lines(i);
        total += line.unit_price_cents() * line.quantity();
        longest = std::max(longest, line.fulfilment_target_us());
        RequestTask* t = s->add_tasks();
        t->set_task(i + 1);
        t->set_item_id(line.item_id());
        t->set_group(line.fulfilment_group());
      }
      s->set_total_cents(total);
      for (const RequestLine& line : p.lines()) {
        if (s->currency().empty()) s->set_currency(line.currency());
      }
      s->set_due_at_us(longest > 0 ? at + longest : 0);
      break;
    }
    case Envelope::kRequestApproved: {
      const RequestApproved& p = e.request_approved();
      ChangeApproval* a = s->add_approvals();
      a->set_approver(p.approver());
      a->set_role(p.role());
      a->set_comment(p.comment());
      a->set_at_us(at);
      if (p.complete() && s->status() == REQUEST_AWAITING_APPROVAL) {
        s->set_status(REQUEST_IN_FULFILMENT);
        s->set_approved_at_us(at);
      }
      break;
    }
    case Envelope::kRequestRejected:
      s->set_status(REQUEST_REJECTED);
      s->set_rejected_by(e.request_rejected().approver());
      s->set_rejection_reason(e.request_rejected().reason());
      break;
    case Envelope::kRequestTaskAssigned: {
      const RequestTaskAssigned& p = e.request_task_assigned();
      if (p.task() < 1 || p.task() > s->tasks_size()) break;
      RequestTask* t = s->mutable_tasks(p.task() - 1);
      t->set_group(p.group());
      t->set_person(p.person());
      break;
    }
    case Envelope::kRequestTaskCompleted: {
      const RequestTaskCompleted& p = e.request_task_completed();
      if (p.task() < 1 || p.task() > s->tasks_size()) break;
      RequestTask* t = s->mutable_tasks(p.task() - 1);
      t->set_done(true);
      t->set_completed_at_us(at);
      t->set_completed_by(p.completed_by());
      t->set_notes(p.notes());
      break;
    }
    case Envelope::kRequestFulfilled:
      s->set_status(REQUEST_FULFILLED);
      s->set_fulfilled_at_us(at);
      break;
    case Envelope::kRequestClosed:
      s->set_status(REQUEST_CLOSED);
      s->set_closed_at_us(at);
      break;
    case Envelope::kRequestCancelled:
      s->set_status(REQUEST_CANCELLED);
      s->set_cancelled_at_us(at);
      s->set_cancel_reason(e.request_cancelled().reason());
      break;
    case Envelope::kSurveyResponseRecorded:
      if (s->survey_score() != 0) break;  // The first answer stands.
      s->set_survey_score(e.survey_response_recorded().score());
      s->set_survey_at_us(at);
      break;
    default:
      break;
  }
}

}  // namespace slate
