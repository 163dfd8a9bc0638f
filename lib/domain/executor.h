// CommandExecutor: runs a Command (proto/commands.proto) against an
// EventStore. Loading an aggregate = ReadStream + evolve; the decided events
// are appended with the stream's expected version (NoStream or the exact
// version loaded), so two writers never interleave a lifecycle.
//
//   slate::InMemoryEventStore store;
//   slate::CommandExecutor exec(&store, slate::SystemClock());
//   absl::StatusOr<slate::ExecuteResult> r = exec.Execute(command);
//   // r->appends(): where the events landed; r->incident(): the new state.
//
// Contract:
//  - Event ids: the primary stream's events are "<command_id>:<n>", events
//    a command appends to other streams "<command_id>:<stream>:<n>"
//    (n = 0, 1, ...). Every event gets occurred_at = the command's `at`
//    (empty: the clock's now), actor and correlation_id from the command
//    (correlation_id defaults to the command id), causation_id = the command
//    id, or for events on other streams the id of the primary stream's first
//    event of the command.
//  - Idempotency: when the primary stream already holds "<command_id>:0" the
//    command ran before: nothing is decided again and the original positions
//    come back with idempotent_replay = true (appends to other streams a crash
//    interrupted are completed). A command id names one command: reusing it
//    for another command on the same aggregate returns the first one's result;
//    on another aggregate the log refuses the reused ids (kAlreadyExists).
//  - A command without command_id gets DeriveCommandId(command): a hash of
//    the command as given. Identical commands without `at` are therefore one
//    command; give repeated commands an `at` or a command_id.
//  - Errors: kInvalidArgument (bad input, named), kNotFound (unknown
//    aggregate, service, problem, change), kAlreadyExists (creating one that
//    exists), kFailedPrecondition (not allowed in the current state). Nothing
//    is appended on any of them: every stream the command touches is decided
//    before the first append.
//  - A version conflict (another writer appended in between) re-loads and
//    re-decides, at most `max_attempts` times, then kAborted.
//  - Cross-aggregate commands (linking an incident to a problem or change,
//    resolving a problem with resolve_linked_incidents, LogProblem with
//    incident_ids) decide every stream they touch, then write them all in
//    one EventStore::AppendAtomically: all or nothing, one batch of the log
//    (one message of a replicated log). A conflict on any stream re-decides
//    them all. Earlier builds wrote the second stream separately; a
//    command a crash left half-written there is completed by executing it
//    again (the idempotent replay finishes the missing stream).
//  - SLA configuration: DefineCalendar appends CalendarDefined to
//    calendar/<spec.name> after BusinessCalendar::FromSpec accepts the spec;
//    DefineSlaPolicy fills the policy's defaults, validates it
//    (ValidateSlaPolicy) and appends SlaPolicyDefined to policy/<id>. Either
//    appends nothing when the definition in force is identical.
//  - Tenants (lib/api/tenant.h): a command with tenant_id T reads and writes
//    T's streams ("tenant/T/incident/INC1"; the default tenant's are
//    unprefixed) and its event ids start "tenant/T/", so two tenants may use
//    the same record and command ids. Records it refers to (problems,
//    changes, incidents) are T's only: another tenant's are "not found".
//    Configuration it refers to (services, catalog items, the priority
//    matrix) is T's, else the default tenant's (shared); configuration it
//    defines is T's own and overrides the default tenant's of that id for
//    T only; retiring a shared policy retires it for T only. Command ids
//    starting with "tenant/" are kInvalidArgument.
//  - The change calendar for schedule conflicts is a scan of every change
//    stream (EventStore::ListStreams("change/")); fine for thousands of
//    changes, to be replaced by a projection.
#ifndef SLATE_LIB_DOMAIN_EXECUTOR_H_
#define SLATE_LIB_DOMAIN_EXECUTOR_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "lib/api/clock.h"
#include "lib/domain/event_store.h"
#include "lib/domain/policy.h"
#include "proto/commands.pb.h"
#include "proto/events.pb.h"

namespace slate {

// Longest command id, bytes (printable ASCII).
inline constexpr size_t kMaxCommandIdBytes = 64;

// Largest encoded Command (protobuf bytes) Execute accepts; larger commands
// are kInvalidArgument before anything is decided. The events a command
// produces must also fit the log's per-event limit (Options::max_event_bytes,
// 1 MiB by default); this bound keeps a command well inside it.
inline constexpr size_t kMaxCommandBytes = 256 * 1024;

// "auto-" + 32 hex digits: two 64-bit FNV-1a hashes of the command's
// deterministic serialization (command_id empty). Stable for one build of
// the schema; not cryptographic.
std::string DeriveCommandId(const Command& command);

// Whether `command` defines configuration (a service, a catalog item, the
// priority matrix, a calendar, an SLA policy) rather than a record.
bool IsConfigurationCommand(const Command& command);

// The stream a command is decided against, e.g. "incident/INC1" (for
// tenant "acme": "tenant/acme/incident/INC1"); kInvalidArgument when no
// command is set or the id or tenant is malformed.
absl::StatusOr<std::string> PrimaryStream(const Command& command);

class CommandExecutor {
 public:
  // `store` and `clock` are not owned and must outlive the executor; a null
  // clock means SystemClock().
  CommandExecutor(EventStore* store, const Clock* clock,
                  DomainPolicy policy = DomainPolicy());

  // Thread-safe if the store is.
  absl::StatusOr<ExecuteResult> Execute(const Command& command);

  // The current state of `kind` ("incident", "problem", "change", "service",
  // "request", "catalog" (a catalog item), "priority-matrix"; id ignored for
  // the matrix) in `tenant` ("" = default) with no appends. A service,
  // catalog item or matrix the tenant has not defined is the default
  // tenant's. kNotFound for an aggregate that does not exist;
  // kInvalidArgument for an unknown kind, a malformed id or tenant.
  absl::StatusOr<ExecuteResult> Load(absl::string_view kind,
                                     absl::string_view id,
                                     absl::string_view tenant = "") const;

  // The matrix in force for `tenant` ("" = default): its last
  // PriorityMatrixSet, else the default tenant's, else the built-in one.
  absl::StatusOr<PriorityMatrix> LoadPriorityMatrix(
      absl::string_view tenant = "") const;

  // Re-decide attempts on a version conflict. Default: 5.
  int max_attempts = 5;

 private:
  struct Attempt;
  absl::StatusOr<std::vector<Envelope>> ReadWhole(
      absl::string_view stream) const;
  // Stream `local` of the tenant with prefix `scope`; when the tenant has
  // no event there, the default tenant's (shared configuration).
  absl::StatusOr<std::vector<Envelope>> ReadShared(
      absl::string_view scope, absl::string_view local) const;
  static absl::Status ValidateLoadTenant(absl::string_view tenant);

  EventStore* store_;
  const Clock* clock_;
  DomainPolicy policy_;
};

}  // namespace slate

#endif  // SLATE_LIB_DOMAIN_EXECUTOR_H_
