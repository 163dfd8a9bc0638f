#include "lib/domain/executor.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/util/message_differencer.h"
#include "lib/api/tenant.h"
#include "lib/base/status_macros.h"
#include "lib/calendar/business_calendar.h"
#include "lib/domain/change.h"
#include "lib/domain/common.h"
#include "lib/domain/incident.h"
#include "lib/domain/priority_matrix.h"
#include "lib/domain/problem.h"
#include "lib/domain/request.h"
#include "lib/domain/service.h"
#include "lib/sla/sla_policy.h"

namespace slate {
namespace {

enum class Kind {
  kIncident,
  kProblem,
  kChange,
  kService,
  kCatalog,
  kRequest,
  kMatrix,
  kCalendar,
  kSlaPolicy
};

struct Target {
  Kind kind;
  std::string id;
  std::string stream;
};

// `scope`: the tenant's stream prefix (TenantStreamPrefix).
absl::StatusOr<Target> TargetOf(const Command& c, const std::string& scope) {
  if (c.command_case() == Command::kSetPriorityMatrix) {
    return Target{Kind::kMatrix, "", absl::StrCat(scope, kPriorityMatrixStream)};
  }
  std::string id;
  Kind kind;
  const char* name;
  if (IsIncidentCommand(c, &id)) {
    kind = Kind::kIncident;
    name = "incident";
  } else if (IsProblemCommand(c, &id)) {
    kind = Kind::kProblem;
    name = "problem";
  } else if (IsChangeCommand(c, &id)) {
    kind = Kind::kChange;
    name = "change";
  } else if (IsServiceCommand(c, &id)) {
    kind = Kind::kService;
    name = "service";
  } else if (IsCatalogCommand(c, &id)) {
    kind = Kind::kCatalog;
    name = "catalog";
  } else if (IsRequestCommand(c, &id)) {
    kind = Kind::kRequest;
    name = "request";
  } else if (c.has_define_calendar()) {
    kind = Kind::kCalendar;
    name = "calendar";
    id = c.define_calendar().spec().name();
  } else if (c.has_define_sla_policy()) {
    kind = Kind::kSlaPolicy;
    name = "policy";
    id = c.define_sla_policy().policy().id();
  } else if (c.has_retire_sla_policy()) {
    kind = Kind::kSlaPolicy;
    name = "policy";
    id = c.retire_sla_policy().policy_id();
  } else {
    return absl::InvalidArgumentError(
        "command: no command set (or one this build does not know)");
  }
  SLATE_RETURN_IF_ERROR(ValidateAggregateId(name, id));
  return Target{kind, id, absl::StrCat(scope, name, "/", id)};
}

// The tenant of `c` (validated) and its stream prefix.
absl::StatusOr<std::string> CommandScope(const Command& c) {
  if (c.tenant_id().empty()) return std::string();
  SLATE_RETURN_IF_ERROR(ValidateTenantId(
      c.tenant_id(), absl::StrCat("command ", c.command_id(), ": field tenantId")));
  return TenantStreamPrefix(c.tenant_id());
}

// The `at` field every command message has (field 2, a string).
std::string CommandAt(const Command& c) {
  const auto* refl = c.GetReflection();
  const auto* oneof = c.GetDescriptor()->FindOneofByName("command");
  const auto* field = refl->GetOneofFieldDescriptor(c, oneof);
  if (field == nullptr) return "";
  const google::protobuf::Message& m = refl->GetMessage(c, field);
  const auto* at = m.GetDescriptor()->FindFieldByName("at");
  if (at == nullptr) return "";
  return m.GetReflection()->GetString(m, at);
}

uint64_t Fnv1a(const std::string& bytes, uint64_t hash, bool reverse) {
  for (size_t i = 0; i < bytes.size(); ++i) {
    hash ^=
        static_cast<unsigned char>(bytes[reverse ? bytes.size() - 1 - i : i]);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

absl::Status ValidateCommandId(const std::string& id) {
  if (absl::StartsWith(id, kTenantStreamPrefix)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "command: command_id \"", id, "\": ids starting with \"",
        kTenantStreamPrefix, "\" are reserved for tenants' event ids"));
  }
  if (id.size() > kMaxCommandIdBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("command: command_id is ", id.size(),
                     " bytes; the limit is ", kMaxCommandIdBytes));
  }
  for (size_t i = 0; i < id.size(); ++i) {
    unsigned char ch = static_cast<unsigned char>(id[i]);
    if (ch < 0x21 || ch > 0x7e) {
      return absl::InvalidArgumentError(absl::StrCat(
          "command: command_id byte ", i, " is not printable ASCII"));
    }
  }
  return absl::OkStatus();
}

template <typename S, typename New, typename Evolve>
S FoldWith(absl::string_view id, const std::vector<Envelope>& events, New make,
           Evolve evolve) {
  S s = make(id);
  for (const Envelope& e : events) evolve(e, &s);
  return s;
}

IncidentState FoldIncident(absl::string_view id,
                           const std::vector<Envelope>& events) {
  return FoldWith<IncidentState>(id, events, NewIncidentState, EvolveIncident);
}
ProblemState FoldProblem(absl::string_view id,
                         const std::vector<Envelope>& events) {
  return FoldWith<ProblemState>(id, events, NewProblemState, EvolveProblem);
}
ChangeState FoldChange(absl::string_view id,
                       const std::vector<Envelope>& events) {
  return FoldWith<ChangeState>(id, events, NewChangeState, EvolveChange);
}
ServiceState FoldService(absl::string_view id,
                         const std::vector<Envelope>& events) {
  return FoldWith<ServiceState>(id, events, NewServiceState, EvolveService);
}
CatalogItemState FoldCatalogItem(absl::string_view id,
                                 const std::vector<Envelope>& events) {
  return FoldWith<CatalogItemState>(id, events, NewCatalogItemState,
                                    EvolveCatalogItem);
}
RequestState FoldRequest(absl::string_view id,
                         const std::vector<Envelope>& events) {
  return FoldWith<RequestState>(id, events, NewRequestState, EvolveRequest);
}
PriorityMatrix FoldMatrix(const std::vector<Envelope>& events) {
  PriorityMatrix m = DefaultPriorityMatrix();
  for (const Envelope& e : events) {
    if (e.has_priority_matrix_set()) m = e.priority_matrix_set().matrix();
  }
  return m;
}

// Puts the primary aggregate's state after `events` into r.
void SetState(const Target& t, const std::vector<Envelope>& events,
              ExecuteResult* r) {
  switch (t.kind) {
    case Kind::kIncident:
      *r->mutable_incident() = FoldIncident(t.id, events);
      break;
    case Kind::kProblem:
      *r->mutable_problem() = FoldProblem(t.id, events);
      break;
    case Kind::kChange:
      *r->mutable_change() = FoldChange(t.id, events);
      break;
    case Kind::kService:
      *r->mutable_service() = FoldService(t.id, events);
      break;
    case Kind::kCatalog:
      *r->mutable_catalog_item() = FoldCatalogItem(t.id, events);
      break;
    case Kind::kRequest:
      *r->mutable_request() = FoldRequest(t.id, events);
      break;
    case Kind::kMatrix:
      *r->mutable_priority_matrix() = FoldMatrix(events);
      break;
    case Kind::kCalendar:
    case Kind::kSlaPolicy:
      break;  // No state message; the event itself is the definition.
  }
}

ExpectedVersion ExpectedAfter(const std::vector<Envelope>& events) {
  return events.empty()
             ? ExpectedVersion::NoStream()
             : ExpectedVersion::Exact(static_cast<int64_t>(events.size()) - 1);
}

// Where the events with ids starting `prefix` sit in `events` (they are one
// append, so contiguous); nullopt if there are none.
std::optional<StreamAppend> FindAppend(const std::string& stream,
                                       const std::vector<Envelope>& events,
                                       const std::string& first_id,
                                       const std::string& prefix) {
  for (size_t i = 0; i < events.size(); ++i) {
    if (events[i].event_id() != first_id) continue;
    size_t j = i;
    while (j + 1 < events.size() &&
           absl::StartsWith(events[j + 1].event_id(), prefix)) {
      ++j;
    }
    StreamAppend a;
    a.set_stream(stream);
    a.set_first_position(events[i].position());
    a.set_last_position(events[j].position());
    a.set_first_version(events[i].version());
    a.set_last_version(events[j].version());
    return a;
  }
  return std::nullopt;
}

StreamAppend ToStreamAppend(const std::string& stream, const AppendResult& r) {
  StreamAppend a;
  a.set_stream(stream);
  a.set_first_position(r.first_position);
  a.set_last_position(r.last_position);
  a.set_first_version(r.first_version);
  a.set_last_version(r.last_version);
  return a;
}

// Another stream a command appends to, decided against that stream's events.
struct FollowUp {
  std::string stream;
  // Empty result: nothing to append.
  std::function<absl::StatusOr<std::vector<Envelope>>(
      const std::vector<Envelope>& target)>
      decide;
};

std::vector<FollowUp> FollowUpsFor(const Command& c, const Target& t,
                                   const std::vector<Envelope>& before,
                                   const std::string& scope) {
  std::vector<FollowUp> out;
  const std::string self = t.id;
  switch (c.command_case()) {
    case Command::kLinkIncidentToProblem: {
      // An external reference names no record here: nothing to follow up.
      if (c.link_incident_to_problem().external()) break;
      const std::string pid = c.link_incident_to_problem().problem_id();
      out.push_back({absl::StrCat(scope, "problem/", pid),
                     [pid, self](const std::vector<Envelope>& target)
                         -> absl::StatusOr<std::vector<Envelope>> {
                       SLATE_ASSIGN_OR_RETURN(
                           Envelope e, DecideProblemIncidentLink(
                                           FoldProblem(pid, target), self));
                       return std::vector<Envelope>{std::move(e)};
                     }});
      break;
    }
    case Command::kLinkIncidentToChange: {
      if (c.link_incident_to_change().external()) break;
      const std::string cid = c.link_incident_to_change().change_id();
      const ChangeLinkRelation rel = c.link_incident_to_change().relation();
      out.push_back({absl::StrCat(scope, "change/", cid),
                     [cid, self, rel](const std::vector<Envelope>& target)
                         -> absl::StatusOr<std::vector<Envelope>> {
                       SLATE_ASSIGN_OR_RETURN(
                           Envelope e, DecideChangeIncidentLink(
                                           FoldChange(cid, target), self, rel));
                       return std::vector<Envelope>{std::move(e)};
                     }});
      break;
    }
    case Command::kResolveProblem: {
      if (!c.resolve_problem().resolve_linked_incidents()) break;
      const ResolveProblem resolve = c.resolve_problem();
      const ProblemState problem = FoldProblem(self, before);
      for (const std::string& inc : problem.linked_incidents()) {
        out.push_back({absl::StrCat(scope, "incident/", inc),
                       [inc, self, resolve](const std::vector<Envelope>& target)
                           -> absl::StatusOr<std::vector<Envelope>> {
                         std::vector<Envelope> events;
                         std::optional<Envelope> e =
                             IncidentResolutionForProblem(
                                 FoldIncident(inc, target), self, resolve);
                         if (e.has_value()) events.push_back(std::move(*e));
                         return events;
                       }});
      }
      break;
    }
    default:
      break;
  }
  return out;
}

// LogProblem.incident_ids: appends one ProblemIncidentLinked per incident
// to `problem_events` (the decided ProblemLogged first) and puts one write
// per incident stream (its IncidentLinkedToProblem, decided as
// LinkIncidentToProblem would be, against the incident's current events)
// into `incident_writes`. Errors name the problem, the field and the
// incident; nothing is written by this function.
absl::Status DecideProblemLinks(
    const LogProblem& c, const IncidentContext& base,
    const std::function<absl::StatusOr<std::vector<Envelope>>(
        absl::string_view stream)>& read_stream,
    const std::string& scope, std::vector<Envelope>* problem_events,
    std::vector<StreamWrite>* incident_writes) {
  ProblemState problem = FoldProblem(c.problem_id(), *problem_events);
  for (int i = 0; i < c.incident_ids_size(); ++i) {
    const std::string& id = c.incident_ids(i);
    auto field_error = [&](const absl::Status& st) {
      return absl::Status(st.code(), absl::StrCat("problem ", c.problem_id(),
                                                  ": field incident_ids[", i,
                                                  "]: ", st.message()));
    };
    if (absl::Status st = ValidateAggregateId("incident", id); !st.ok()) {
      return field_error(st);
    }
    for (int j = 0; j < i; ++j) {
      if (c.incident_ids(j) == id) {
        return field_error(absl::InvalidArgumentError(absl::StrCat(
            "incident ", id, " is listed twice (also incident_ids[", j, "])")));
      }
    }
    StreamWrite w;
    w.stream = absl::StrCat(scope, "incident/", id);
    SLATE_ASSIGN_OR_RETURN(std::vector<Envelope> events, read_stream(w.stream));
    Command link;
    link.mutable_link_incident_to_problem()->set_incident_id(id);
    link.mutable_link_incident_to_problem()->set_problem_id(c.problem_id());
    IncidentContext ctx = base;
    ctx.problem = &problem;
    absl::StatusOr<std::vector<Envelope>> decided =
        DecideIncident(FoldIncident(id, events), link, ctx);
    if (!decided.ok()) return field_error(decided.status());
    absl::StatusOr<Envelope> linked = DecideProblemIncidentLink(problem, id);
    if (!linked.ok()) return field_error(linked.status());
    EvolveProblem(*linked, &problem);
    problem_events->push_back(*std::move(linked));
    w.expected = ExpectedAfter(events);
    w.events = *std::move(decided);
    incident_writes->push_back(std::move(w));
  }
  return absl::OkStatus();
}

}  // namespace

std::string DeriveCommandId(const Command& command) {
  Command c = command;
  c.clear_command_id();
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream sos(&bytes);
    google::protobuf::io::CodedOutputStream cos(&sos);
    cos.SetSerializationDeterministic(true);
    c.SerializeToCodedStream(&cos);
  }
  const uint64_t a = Fnv1a(bytes, 0xcbf29ce484222325ULL, false);
  const uint64_t b = Fnv1a(bytes, 0x84222325cbf29ce4ULL, true);
  return absl::StrCat("auto-", absl::Hex(a, absl::kZeroPad16),
                      absl::Hex(b, absl::kZeroPad16));
}

bool IsConfigurationCommand(const Command& command) {
  absl::StatusOr<Target> t = TargetOf(command, "");
  if (!t.ok()) return false;
  switch (t->kind) {
    case Kind::kService:
    case Kind::kCatalog:
    case Kind::kMatrix:
    case Kind::kCalendar:
    case Kind::kSlaPolicy:
      return true;
    default:
      return false;
  }
}

absl::StatusOr<std::string> PrimaryStream(const Command& command) {
  SLATE_ASSIGN_OR_RETURN(const std::string scope, CommandScope(command));
  SLATE_ASSIGN_OR_RETURN(Target t, TargetOf(command, scope));
  return t.stream;
}

CommandExecutor::CommandExecutor(EventStore* store, const Clock* clock,
                                 DomainPolicy policy)
    : store_(store),
      clock_(clock != nullptr ? clock : SystemClock()),
      policy_(std::move(policy)) {}

absl::StatusOr<std::vector<Envelope>> CommandExecutor::ReadWhole(
    absl::string_view stream) const {
  constexpr size_t kPage = 1024;
  std::vector<Envelope> all;
  while (true) {
    SLATE_ASSIGN_OR_RETURN(
        std::vector<Envelope> page,
        store_->ReadStream(stream, static_cast<int64_t>(all.size()), kPage));
    const size_t n = page.size();
    for (Envelope& e : page) all.push_back(std::move(e));
    if (n < kPage) return all;
  }
}

absl::StatusOr<std::vector<Envelope>> CommandExecutor::ReadShared(
    absl::string_view scope, absl::string_view local) const {
  SLATE_ASSIGN_OR_RETURN(std::vector<Envelope> own,
                         ReadWhole(absl::StrCat(scope, local)));
  if (!own.empty() || scope.empty()) return own;
  return ReadWhole(local);  // The default tenant's, shared.
}

absl::StatusOr<PriorityMatrix> CommandExecutor::LoadPriorityMatrix(
    absl::string_view tenant) const {
  SLATE_RETURN_IF_ERROR(ValidateLoadTenant(tenant));
  SLATE_ASSIGN_OR_RETURN(
      std::vector<Envelope> events,
      ReadShared(TenantStreamPrefix(tenant), kPriorityMatrixStream));
  return FoldMatrix(events);
}

absl::Status CommandExecutor::ValidateLoadTenant(absl::string_view tenant) {
  if (tenant.empty()) return absl::OkStatus();
  return ValidateTenantId(tenant, "tenant");
}

absl::StatusOr<ExecuteResult> CommandExecutor::Load(
    absl::string_view kind, absl::string_view id,
    absl::string_view tenant) const {
  SLATE_RETURN_IF_ERROR(ValidateLoadTenant(tenant));
  const std::string scope = TenantStreamPrefix(tenant);
  Target t;
  bool shared = true;  // Configuration: the tenant's, else the default's.
  if (kind == "priority-matrix") {
    t = {Kind::kMatrix, "", kPriorityMatrixStream};
  } else {
    if (kind == "incident") {
      t.kind = Kind::kIncident;
    } else if (kind == "problem") {
      t.kind = Kind::kProblem;
    } else if (kind == "change") {
      t.kind = Kind::kChange;
    } else if (kind == "service") {
      t.kind = Kind::kService;
    } else if (kind == "request") {
      t.kind = Kind::kRequest;
    } else if (kind == "catalog") {
      t.kind = Kind::kCatalog;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown kind \"", kind,
          "\" (incident, problem, change, service, request, catalog, "
          "priority-matrix)"));
    }
    SLATE_RETURN_IF_ERROR(ValidateAggregateId(kind, id));
    t.id = std::string(id);
    t.stream = absl::StrCat(kind, "/", id);
    shared = t.kind == Kind::kService || t.kind == Kind::kCatalog;
  }
  std::vector<Envelope> events;
  if (shared) {
    SLATE_ASSIGN_OR_RETURN(events, ReadShared(scope, t.stream));
  } else {
    SLATE_ASSIGN_OR_RETURN(events, ReadWhole(absl::StrCat(scope, t.stream)));
  }
  if (events.empty() && t.kind != Kind::kMatrix) {
    return absl::NotFoundError(
        absl::StrCat(kind, " ", id, " not found",
                     scope.empty() ? "" : absl::StrCat(" in tenant ", tenant)));
  }
  ExecuteResult r;
  if (!scope.empty()) r.set_tenant_id(std::string(tenant));
  SetState(t, events, &r);
  return r;
}

absl::StatusOr<ExecuteResult> CommandExecutor::Execute(const Command& command) {
  if (const size_t size = command.ByteSizeLong(); size > kMaxCommandBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("command ", command.command_id(), ": ", size,
                     " bytes encoded; the limit is ", kMaxCommandBytes));
  }
  SLATE_RETURN_IF_ERROR(ValidateCommandId(command.command_id()));
  // The tenant's stream prefix ("" for the default tenant): its records'
  // streams and its event ids carry it, so tenants never share a record or
  // an idempotency key.
  SLATE_ASSIGN_OR_RETURN(const std::string scope, CommandScope(command));
  SLATE_ASSIGN_OR_RETURN(Target t, TargetOf(command, scope));
  const std::string given_cid = command.command_id().empty()
                                    ? DeriveCommandId(command)
                                    : command.command_id();
  const std::string cid = absl::StrCat(scope, given_cid);
  // Configuration the command refers to: the tenant's, else the default's.
  auto read_shared = [&](absl::string_view local) {
    return ReadShared(scope, local);
  };
  auto load_matrix = [&]() -> absl::StatusOr<PriorityMatrix> {
    SLATE_ASSIGN_OR_RETURN(std::vector<Envelope> events,
                           read_shared(kPriorityMatrixStream));
    return FoldMatrix(events);
  };
  auto new_result = [&]() {
    ExecuteResult r;
    r.set_command_id(given_cid);
    if (!scope.empty()) r.set_tenant_id(command.tenant_id());
    return r;
  };
  const std::string at_text = CommandAt(command);
  absl::Time at;
  if (at_text.empty()) {
    at = absl::FromUnixMicros(absl::ToUnixMicros(clock_->Now()));
  } else {
    SLATE_ASSIGN_OR_RETURN(
        at, ParseCommandTime(at_text, absl::StrCat("command ", given_cid), "at"));
  }
  const int64_t at_us = absl::ToUnixMicros(at);
  const std::string first_id = absl::StrCat(cid, ":0");
  const std::string correlation =
      command.correlation_id().empty() ? cid : command.correlation_id();

  // Ids, times and metadata on decided payloads.
  auto stamp = [&](std::vector<Envelope>* events, const std::string& prefix,
                   const std::string& causation) {
    for (size_t i = 0; i < events->size(); ++i) {
      Envelope& e = (*events)[i];
      e.set_event_id(absl::StrCat(prefix, i));
      e.set_occurred_at_us(at_us);
      e.set_actor(command.actor());
      e.set_correlation_id(correlation);
      e.set_causation_id(causation);
    }
  };

  // Appends a follow-up's events, re-deciding on a version conflict: only to
  // complete a command an earlier build left half-written (it wrote other
  // streams after the primary one; today they are one atomic append).
  auto append_follow_up = [&](const FollowUp& f, std::vector<Envelope> target,
                              std::vector<Envelope> decided,
                              ExecuteResult* r) -> absl::Status {
    const std::string prefix = absl::StrCat(cid, ":", f.stream, ":");
    for (int attempt = 0;; ++attempt) {
      if (decided.empty()) return absl::OkStatus();
      stamp(&decided, prefix, first_id);
      absl::StatusOr<AppendResult> a =
          store_->Append(f.stream, ExpectedAfter(target), decided);
      if (a.ok()) {
        *r->add_appends() = ToStreamAppend(f.stream, *a);
        return absl::OkStatus();
      }
      if (a.status().code() != absl::StatusCode::kAborted ||
          attempt + 1 >= max_attempts) {
        return absl::AbortedError(
            absl::StrCat("command ", given_cid, " is partially applied (", t.stream,
                         " written, ", f.stream, " not: ", a.status().message(),
                         "); execute the same command again to complete it"));
      }
      SLATE_ASSIGN_OR_RETURN(target, ReadWhole(f.stream));
      std::optional<StreamAppend> done =
          FindAppend(f.stream, target, absl::StrCat(prefix, 0), prefix);
      if (done.has_value()) {
        *r->add_appends() = *done;
        return absl::OkStatus();
      }
      absl::StatusOr<std::vector<Envelope>> again = f.decide(target);
      if (!again.ok()) {
        return absl::AbortedError(absl::StrCat(
            "command ", given_cid, " is partially applied (", t.stream, " written): ",
            f.stream, " changed meanwhile: ", again.status().message()));
      }
      decided = std::move(*again);
    }
  };

  for (int attempt = 0; attempt < max_attempts; ++attempt) {
    SLATE_ASSIGN_OR_RETURN(std::vector<Envelope> events, ReadWhole(t.stream));

    // Idempotent replay.
    std::optional<StreamAppend> original =
        FindAppend(t.stream, events, first_id, absl::StrCat(cid, ":"));
    if (original.has_value()) {
      ExecuteResult r = new_result();
      r.set_idempotent_replay(true);
      *r.add_appends() = *original;
      std::vector<Envelope> before(events.begin(),
                                   events.begin() + original->first_version());
      std::vector<Envelope> through(
          events.begin(), events.begin() + original->last_version() + 1);
      SetState(t, through, &r);
      if (command.has_log_problem()) {  // Written with the problem, or not.
        for (const std::string& id : command.log_problem().incident_ids()) {
          const std::string stream = absl::StrCat(scope, "incident/", id);
          const std::string prefix = absl::StrCat(cid, ":", stream, ":");
          SLATE_ASSIGN_OR_RETURN(std::vector<Envelope> target,
                                 ReadWhole(stream));
          std::optional<StreamAppend> done =
              FindAppend(stream, target, absl::StrCat(prefix, 0), prefix);
          if (done.has_value()) *r.add_appends() = *done;
        }
      }
      for (const FollowUp& f : FollowUpsFor(command, t, before, scope)) {
        SLATE_ASSIGN_OR_RETURN(std::vector<Envelope> target,
                               ReadWhole(f.stream));
        const std::string prefix = absl::StrCat(cid, ":", f.stream, ":");
        std::optional<StreamAppend> done =
            FindAppend(f.stream, target, absl::StrCat(prefix, 0), prefix);
        if (done.has_value()) {
          *r.add_appends() = *done;
          continue;
        }
        SLATE_ASSIGN_OR_RETURN(std::vector<Envelope> decided, f.decide(target));
        SLATE_RETURN_IF_ERROR(
            append_follow_up(f, std::move(target), std::move(decided), &r));
      }
      return r;
    }

    // Decide the primary stream, loading what the decision needs.
    std::vector<Envelope> decided;
    // Other streams written in the same atomic append as the primary one.
    std::vector<StreamWrite> atomic_writes;
    switch (t.kind) {
      case Kind::kIncident: {
        IncidentState s = FoldIncident(t.id, events);
        SLATE_ASSIGN_OR_RETURN(PriorityMatrix matrix, load_matrix());
        IncidentContext ctx;
        ctx.at = at;
        ctx.matrix = &matrix;
        ctx.policy = &policy_;
        ServiceState service;
        ProblemState problem;
        ChangeState change;
        const std::string* service_id = nullptr;
        if (command.has_open_incident()) {
          service_id = &command.open_incident().service_id();
        } else if (command.has_update_incident_details() &&
                   command.update_incident_details().has_service_id()) {
          service_id = &command.update_incident_details().service_id();
        }
        if (service_id != nullptr && !service_id->empty()) {
          const std::string& id = *service_id;
          SLATE_RETURN_IF_ERROR(ValidateAggregateId("service", id));
          SLATE_ASSIGN_OR_RETURN(auto ev,
                                 read_shared(absl::StrCat("service/", id)));
          service = FoldService(id, ev);
          ctx.service = &service;
        }
        if (command.has_link_incident_to_problem()) {
          const std::string& id =
              command.link_incident_to_problem().problem_id();
          SLATE_RETURN_IF_ERROR(ValidateAggregateId("problem", id));
          SLATE_ASSIGN_OR_RETURN(auto ev,
                                 ReadWhole(absl::StrCat(scope, "problem/", id)));
          problem = FoldProblem(id, ev);
          ctx.problem = &problem;
        }
        if (command.has_link_incident_to_change()) {
          const std::string& id = command.link_incident_to_change().change_id();
          SLATE_RETURN_IF_ERROR(ValidateAggregateId("change", id));
          SLATE_ASSIGN_OR_RETURN(auto ev,
                                 ReadWhole(absl::StrCat(scope, "change/", id)));
          change = FoldChange(id, ev);
          ctx.change = &change;
        }
        SLATE_ASSIGN_OR_RETURN(decided, DecideIncident(s, command, ctx));
        break;
      }
      case Kind::kProblem: {
        ProblemState s = FoldProblem(t.id, events);
        SLATE_ASSIGN_OR_RETURN(PriorityMatrix matrix, load_matrix());
        ProblemContext ctx;
        ctx.at = at;
        ctx.matrix = &matrix;
        ctx.policy = &policy_;
        ServiceState service;
        if (command.has_log_problem() &&
            !command.log_problem().service_id().empty()) {
          const std::string& id = command.log_problem().service_id();
          SLATE_RETURN_IF_ERROR(ValidateAggregateId("service", id));
          SLATE_ASSIGN_OR_RETURN(auto ev,
                                 read_shared(absl::StrCat("service/", id)));
          service = FoldService(id, ev);
          ctx.service = &service;
        }
        SLATE_ASSIGN_OR_RETURN(decided, DecideProblem(s, command, ctx));
        if (command.has_log_problem() &&
            command.log_problem().incident_ids_size() > 0) {
          IncidentContext link_ctx;
          link_ctx.at = at;
          link_ctx.matrix = &matrix;
          link_ctx.policy = &policy_;
          SLATE_RETURN_IF_ERROR(DecideProblemLinks(
              command.log_problem(), link_ctx,
              [this](absl::string_view stream) { return ReadWhole(stream); },
              scope, &decided, &atomic_writes));
        }
        break;
      }
      case Kind::kChange: {
        ChangeState s = FoldChange(t.id, events);
        ChangeContext ctx;
        ctx.at = at;
        ctx.policy = &policy_;
        std::vector<ServiceState> services;
        std::vector<ChangeState> others;
        std::vector<std::string> service_ids;
        if (command.has_request_change()) {
          service_ids.assign(command.request_change().service_ids().begin(),
                             command.request_change().service_ids().end());
        } else if (command.has_schedule_change()) {
          service_ids.assign(s.service_ids().begin(), s.service_ids().end());
          const std::string change_prefix = absl::StrCat(scope, "change/");
          SLATE_ASSIGN_OR_RETURN(std::vector<std::string> streams,
                                 store_->ListStreams(change_prefix));
          for (const std::string& stream : streams) {
            if (stream == t.stream) continue;
            SLATE_ASSIGN_OR_RETURN(auto ev, ReadWhole(stream));
            others.push_back(FoldChange(
                absl::string_view(stream).substr(change_prefix.size()), ev));
          }
        }
        for (const std::string& id : service_ids) {
          if (!ValidateAggregateId("service", id).ok())
            continue;  // Decide says.
          SLATE_ASSIGN_OR_RETURN(auto ev,
                                 read_shared(absl::StrCat("service/", id)));
          services.push_back(FoldService(id, ev));
        }
        for (const ServiceState& svc : services) ctx.services.push_back(&svc);
        for (const ChangeState& c : others) ctx.other_changes.push_back(&c);
        SLATE_ASSIGN_OR_RETURN(decided, DecideChange(s, command, ctx));
        break;
      }
      case Kind::kService: {
        SLATE_ASSIGN_OR_RETURN(
            decided, DecideService(FoldService(t.id, events), command, at));
        break;
      }
      case Kind::kCatalog: {
        const CatalogItemState s = FoldCatalogItem(t.id, events);
        ServiceState service;
        const ServiceState* service_ptr = nullptr;
        if (command.has_define_catalog_item() &&
            ValidateAggregateId("service",
                                command.define_catalog_item().service_id())
                .ok()) {
          const std::string& id = command.define_catalog_item().service_id();
          SLATE_ASSIGN_OR_RETURN(auto ev,
                                 read_shared(absl::StrCat("service/", id)));
          service = FoldService(id, ev);
          service_ptr = &service;
        }
        SLATE_ASSIGN_OR_RETURN(decided,
                               DecideCatalogItem(s, command, service_ptr));
        if (decided.empty()) {
          ExecuteResult r = new_result();  // Unchanged: nothing to record.
          *r.mutable_catalog_item() = s;
          return r;
        }
        break;
      }
      case Kind::kRequest: {
        const RequestState s = FoldRequest(t.id, events);
        SLATE_ASSIGN_OR_RETURN(PriorityMatrix matrix, load_matrix());
        RequestContext ctx;
        ctx.at = at;
        ctx.matrix = &matrix;
        std::vector<CatalogItemState> items;
        ServiceState service;
        if (command.has_submit_request()) {
          for (const RequestItem& want : command.submit_request().items()) {
            if (!ValidateAggregateId("catalog item", want.item_id()).ok()) {
              continue;  // Decide says.
            }
            SLATE_ASSIGN_OR_RETURN(
                auto ev, read_shared(absl::StrCat("catalog/", want.item_id())));
            items.push_back(FoldCatalogItem(want.item_id(), ev));
          }
          if (!items.empty() && items.front().defined()) {
            const std::string& id = items.front().spec().service_id();
            SLATE_ASSIGN_OR_RETURN(auto ev,
                                   read_shared(absl::StrCat("service/", id)));
            service = FoldService(id, ev);
            ctx.services.push_back(&service);
          }
        }
        for (const CatalogItemState& item : items) ctx.items.push_back(&item);
        SLATE_ASSIGN_OR_RETURN(decided, DecideRequest(s, command, ctx));
        break;
      }
      case Kind::kMatrix: {
        const PriorityMatrix& m = command.set_priority_matrix().matrix();
        SLATE_RETURN_IF_ERROR(ValidatePriorityMatrix(m));
        // A tenant without a matrix of its own that sets one records it,
        // even one equal to the default: it no longer follows the shared.
        if ((scope.empty() || !events.empty()) &&
            google::protobuf::util::MessageDifferencer::Equals(
                FoldMatrix(events), m)) {
          ExecuteResult r = new_result();  // Unchanged: nothing to record.
          *r.mutable_priority_matrix() = m;
          return r;
        }
        Envelope e;
        *e.mutable_priority_matrix_set()->mutable_matrix() = m;
        decided.push_back(std::move(e));
        break;
      }
      case Kind::kCalendar: {
        const CalendarSpec& spec = command.define_calendar().spec();
        SLATE_RETURN_IF_ERROR(BusinessCalendar::FromSpec(spec).status());
        if (!events.empty() && events.back().has_calendar_defined() &&
            google::protobuf::util::MessageDifferencer::Equals(
                events.back().calendar_defined().spec(), spec)) {
          ExecuteResult r = new_result();  // Unchanged: nothing to record.
          return r;
        }
        Envelope e;
        *e.mutable_calendar_defined()->mutable_spec() = spec;
        decided.push_back(std::move(e));
        break;
      }
      case Kind::kSlaPolicy: {
        const Envelope* retired = nullptr;
        for (const Envelope& x : events) {
          if (x.has_sla_policy_retired()) retired = &x;
        }
        if (retired != nullptr) {
          return absl::FailedPreconditionError(absl::StrCat(
              "policy ", t.id, ": retired at ",
              absl::FormatTime("%Y-%m-%dT%H:%M:%SZ",
                               absl::FromUnixMicros(retired->occurred_at_us()),
                               absl::UTCTimeZone()),
              "; a retired policy cannot be ",
              command.has_retire_sla_policy()
                  ? "retired again"
                  : "defined again (define one with another id)"));
        }
        if (command.has_retire_sla_policy()) {
          // A tenant may retire a shared policy for itself (the SLA
          // projection then stops applying it to the tenant's records).
          bool defined = !events.empty();
          if (!defined && !scope.empty()) {
            SLATE_ASSIGN_OR_RETURN(
                std::vector<Envelope> shared,
                ReadWhole(absl::StrCat("policy/", t.id)));
            defined = !shared.empty();
          }
          if (!defined) {
            return absl::NotFoundError(
                absl::StrCat("policy ", t.id, ": not defined"));
          }
          Envelope e;
          SlaPolicyRetired* r = e.mutable_sla_policy_retired();
          r->set_policy_id(t.id);
          r->set_reason(command.retire_sla_policy().reason());
          decided.push_back(std::move(e));
          break;
        }
        SlaPolicy policy = command.define_sla_policy().policy();
        FillSlaPolicyDefaults(&policy);
        SLATE_RETURN_IF_ERROR(ValidateSlaPolicy(policy));
        if (!events.empty() && events.back().has_sla_policy_defined() &&
            google::protobuf::util::MessageDifferencer::Equals(
                events.back().sla_policy_defined().policy(), policy)) {
          ExecuteResult r = new_result();  // Unchanged: nothing to record.
          return r;
        }
        Envelope e;
        *e.mutable_sla_policy_defined()->mutable_policy() = policy;
        e.mutable_sla_policy_defined()->set_apply_to_running(
            command.define_sla_policy().apply_to_running());
        decided.push_back(std::move(e));
        break;
      }
    }

    // Decide every other stream before writing anything; they are written
    // with the primary one in one atomic append (one batch of the log, one
    // message of a replicated log), so a command is all or nothing.
    for (FollowUp& f : FollowUpsFor(command, t, events, scope)) {
      SLATE_ASSIGN_OR_RETURN(std::vector<Envelope> target, ReadWhole(f.stream));
      SLATE_ASSIGN_OR_RETURN(std::vector<Envelope> d, f.decide(target));
      if (d.empty()) continue;
      atomic_writes.push_back({f.stream, ExpectedAfter(target), std::move(d)});
    }

    stamp(&decided, absl::StrCat(cid, ":"), cid);
    absl::StatusOr<AppendResult> a;
    std::vector<StreamAppend> atomic_appends;
    if (atomic_writes.empty()) {
      a = store_->Append(t.stream, ExpectedAfter(events), decided);
    } else {
      std::vector<StreamWrite> writes;
      writes.push_back({t.stream, ExpectedAfter(events), decided});
      for (StreamWrite& w : atomic_writes) {
        stamp(&w.events, absl::StrCat(cid, ":", w.stream, ":"), first_id);
        writes.push_back(std::move(w));
      }
      std::vector<std::string> streams;
      for (const StreamWrite& w : writes) streams.push_back(w.stream);
      absl::StatusOr<std::vector<AppendResult>> all =
          store_->AppendAtomically(std::move(writes));
      if (all.ok()) {
        a = all->front();
        for (size_t i = 1; i < all->size(); ++i) {
          atomic_appends.push_back(ToStreamAppend(streams[i], (*all)[i]));
        }
      } else {
        a = all.status();
      }
    }
    if (!a.ok()) {
      if (a.status().code() == absl::StatusCode::kAborted) continue;
      return a.status();
    }
    ExecuteResult r = new_result();
    r.set_idempotent_replay(a->idempotent_replay);
    *r.add_appends() = ToStreamAppend(t.stream, *a);
    for (const StreamAppend& sa : atomic_appends) *r.add_appends() = sa;
    for (size_t i = 0; i < decided.size(); ++i) {
      decided[i].set_stream(t.stream);
      decided[i].set_version(a->first_version + static_cast<int64_t>(i));
      decided[i].set_position(a->first_position + static_cast<int64_t>(i));
      events.push_back(decided[i]);
    }
    SetState(t, events, &r);
    return r;
  }
  return absl::AbortedError(absl::StrCat("command ", given_cid, ": ", t.stream,
                                         " kept changing; gave up after ",
                                         max_attempts, " attempts"));
}

}  // namespace slate
