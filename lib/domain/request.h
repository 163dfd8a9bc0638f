// The request catalog and the service request aggregate: decide and evolve
// (pure; see incident.h for the pattern).
//
//   slate::CatalogItemState item = slate::NewCatalogItemState("laptop");
//   for (const slate::Envelope& e : item_history)
//     slate::EvolveCatalogItem(e, &item);
//   slate::RequestState s = slate::NewRequestState("REQ1");
//   slate::RequestContext ctx{.at = at, .matrix = &matrix, .items = {&item},
//                             .services = {&service}};
//   auto events = slate::DecideRequest(s, command, ctx);  // payloads only
//
// Catalog items live on their own streams (catalog/<item_id>; see the
// comment above CatalogItemSpec in proto/events.proto for why). Define
// needs a defined, not retired service, a name, a fulfilment group, a
// price >= 0 with a currency (3 letters A-Z) when it is > 0, a parseable
// fulfilment target >= 0 and a quorum >= 0 (0 means 1); a retired item can
// be neither defined nor retired again (kFailedPrecondition).
//
// Requests (anything else is kFailedPrecondition naming both states; a
// command on a request that does not exist is kNotFound, submitting one
// that exists kAlreadyExists):
//   submit              none -> Awaiting Approval when any ordered item needs
//                       approval, else -> In Fulfilment. Items: at least one,
//                       each listed once, defined and not retired, of one
//                       service (defined, not retired) and one currency,
//                       quantity >= 0 (0 means 1); impact and urgency by the
//                       priority matrix in force; requester required.
//   approve             Awaiting Approval; one approval per approver; the
//                       role must count for a line still short of approvals
//                       (like a change's approval rule: quorum distinct
//                       approvers whose role is one of approver_roles). The
//                       approval that completes every line's quorum moves
//                       the request to In Fulfilment.
//   reject              Awaiting Approval -> Rejected (approver, reason).
//   assign-task         Awaiting Approval or In Fulfilment, task not done.
//   complete-task       In Fulfilment, task not done; the last one also
//                       appends RequestFulfilled (-> Fulfilled).
//   close               Fulfilled -> Closed.
//   cancel              Awaiting Approval or In Fulfilment -> Cancelled.
//   survey              Fulfilled or Closed; score 1..5; once per request
//                       (a second is kAlreadyExists, as for incidents).
// Tasks are numbered 1..lines (task n fulfils line n); a task number outside
// that range is kInvalidArgument naming the field `task`.
#ifndef SLATE_LIB_DOMAIN_REQUEST_H_
#define SLATE_LIB_DOMAIN_REQUEST_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "proto/commands.pb.h"
#include "proto/events.pb.h"

namespace slate {

// --- Catalog items ---------------------------------------------------------

CatalogItemState NewCatalogItemState(absl::string_view item_id);

// True for define_catalog_item and retire_catalog_item; the item id in *id.
bool IsCatalogCommand(const Command& c, std::string* id);

// `service`: the state of the service DefineCatalogItem names (null or not
// defined: kNotFound). REQUIRES: IsCatalogCommand(command).
absl::StatusOr<std::vector<Envelope>> DecideCatalogItem(
    const CatalogItemState& state, const Command& command,
    const ServiceState* service);

void EvolveCatalogItem(const Envelope& e, CatalogItemState* state);

// --- Requests ----------------------------------------------------------------

struct RequestContext {
  absl::Time at = absl::UnixEpoch();
  // The priority matrix in force. REQUIRED (not null) for submit.
  const PriorityMatrix* matrix = nullptr;
  // SubmitRequest: the states of the ordered items (missing or not defined:
  // kNotFound) and of their service.
  std::vector<const CatalogItemState*> items;
  std::vector<const ServiceState*> services;
};

// "Awaiting Approval", "In Fulfilment", "Fulfilled", "Closed", "Rejected",
// "Cancelled"; "(none)".
const char* RequestStatusName(RequestStatus s);

RequestState NewRequestState(absl::string_view request_id);

// True for submit_request ... record_request_survey_response; the request
// id in *id.
bool IsRequestCommand(const Command& c, std::string* id);

// Empty when every line needing approval has its quorum; else what is
// missing, line by line, e.g. "line 1 (laptop): 1 more approval(s) from
// manager (have 0 of 1)".
std::string MissingRequestApprovals(const RequestState& state);

// REQUIRES: IsRequestCommand(command).
absl::StatusOr<std::vector<Envelope>> DecideRequest(const RequestState& state,
                                                    const Command& command,
                                                    const RequestContext& ctx);

void EvolveRequest(const Envelope& e, RequestState* state);

}  // namespace slate

#endif  // SLATE_LIB_DOMAIN_REQUEST_H_
