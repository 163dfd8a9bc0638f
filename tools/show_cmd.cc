// slate show: prints the current state of an incident, problem, change or
// service (or the priority matrix in force), folded from the log.
//
//   $ slate show incident INC1 --db /tmp/slate
//   incident INC1
//     status: In Progress
//     priority: 2 (High)
//     opened_at: 2026-11-27T15:00:00Z
//     ...
//   $ slate show incident INC1 --db /tmp/slate --format json
//   {"incidentId":"INC1","status":"INCIDENT_IN_PROGRESS","priority":2,...}
//   $ slate show priority-matrix --db /tmp/slate
//
// - `--tenant T`: the record of tenant T (lib/api/tenant.h); a service,
//   catalog item or matrix T has not defined is the default tenant's.
//   Default: default.
// - text (default): one "field: value" line per set field; times (fields
//   ending _us) as RFC 3339 UTC; priority with its level name from the matrix
//   in force; status in words; a sub-record (a change's review) as "name:"
//   and its fields indented below it.
// - json: the state message (proto/commands.proto) in the protobuf JSON
//   mapping, plus "priorityName" for incidents and problems.
// - `--nats URLS [--prefix NAME]` in place of --db: ask the cluster node
//   that owns the tenant's partition (tools/remote_tool.h); the same output.
// Exit codes: 0 found; 1 not found or the database failed; 2 bad usage or a
// directory that holds no database (tools/cli.h).
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"
#include "lib/api/engine.h"
#include "lib/api/names.h"
#include "lib/api/tenant.h"
#include "tools/cli.h"
#include "tools/remote_tool.h"

namespace slate::tools {
namespace {

struct ShowFlags {
  bool clocks = false;
  std::string kind;
  std::string id;
  std::string db;
  std::string format = "text";
  std::string tenant;
  NatsFlags nats;  // --nats: a cluster instead of --db.
};

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

std::string Scalar(const Message& m, const FieldDescriptor* f, int index) {
  const auto* r = m.GetReflection();
  const bool rep = f->is_repeated();
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      return rep ? r->GetRepeatedString(m, f, index) : r->GetString(m, f);
    case FieldDescriptor::CPPTYPE_INT32:
      return absl::StrCat(rep ? r->GetRepeatedInt32(m, f, index)
                              : r->GetInt32(m, f));
    case FieldDescriptor::CPPTYPE_INT64: {
      int64_t v = rep ? r->GetRepeatedInt64(m, f, index) : r->GetInt64(m, f);
      // A duration (a catalog item's fulfilment target), not an instant.
      if (absl::EndsWith(f->name(), "_target_us")) {
        return absl::FormatDuration(absl::Microseconds(v));
      }
      if (absl::EndsWith(f->name(), "_us")) return FormatStateTime(v);
      return absl::StrCat(v);
    }
    case FieldDescriptor::CPPTYPE_BOOL:
      return (rep ? r->GetRepeatedBool(m, f, index) : r->GetBool(m, f))
                 ? "true"
                 : "false";
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return absl::StrCat(rep ? r->GetRepeatedDouble(m, f, index)
                              : r->GetDouble(m, f));
    case FieldDescriptor::CPPTYPE_ENUM:
      return (rep ? r->GetRepeatedEnum(m, f, index) : r->GetEnum(m, f))->name();
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      const Message& sub =
          rep ? r->GetRepeatedMessage(m, f, index) : r->GetMessage(m, f);
      std::string json;
      google::protobuf::util::MessageToJsonString(sub, &json);
      return json;
    }
    default:
      return "?";
  }
}

// "field: value" for every set field of m.
void PrintFields(const Message& m, const std::string& indent,
                 const PriorityMatrix& matrix) {
  std::vector<const FieldDescriptor*> fields;
  m.GetReflection()->ListFields(m, &fields);
  for (const FieldDescriptor* f : fields) {
    std::string name = f->name();
    if (absl::EndsWith(name, "_us")) name = name.substr(0, name.size() - 3);
    if (f->name() == "spec") {
      PrintFields(m.GetReflection()->GetMessage(m, f), indent, matrix);
      continue;
    }
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
        !f->is_repeated()) {
      // A sub-record (a change's review): its fields, indented below.
      std::fprintf(ToolOut(), "%s%s:\n", indent.c_str(), name.c_str());
      PrintFields(m.GetReflection()->GetMessage(m, f), indent + "  ", matrix);
      continue;
    }
    std::string value;
    if (f->is_map()) {
      std::string json;
      google::protobuf::util::MessageToJsonString(m, &json);
      std::vector<std::string> parts;
      for (int i = 0; i < m.GetReflection()->FieldSize(m, f); ++i) {
        const Message& entry = m.GetReflection()->GetRepeatedMessage(m, f, i);
        const auto* d = entry.GetDescriptor();
        parts.push_back(absl::StrCat(Scalar(entry, d->field(0), 0), "=",
                                     Scalar(entry, d->field(1), 0)));
      }
      value = absl::StrJoin(parts, ", ");
    } else if (f->is_repeated()) {
      std::vector<std::string> parts;
      for (int i = 0; i < m.GetReflection()->FieldSize(m, f); ++i) {
        parts.push_back(Scalar(m, f, i));
      }
      value = absl::StrJoin(parts, ", ");
    } else {
      value = Scalar(m, f, 0);
    }
    if (name == "priority" && f->cpp_type() == FieldDescriptor::CPPTYPE_INT32) {
      int p = m.GetReflection()->GetInt32(m, f);
      value = absl::StrCat(p, " (", PriorityLevelName(matrix, p), ")");
    }
    std::fprintf(ToolOut(), "%s%s: %s\n", indent.c_str(), name.c_str(), value.c_str());
  }
}

std::string Utc(int64_t us) {
  return absl::FormatTime("%Y-%m-%d%ET%H:%M:%SZ", absl::FromUnixMicros(us),
                          absl::UTCTimeZone());
}

// One clock (any cycle, met and breached included) in one line.
std::string ClockLine(const SlaClockView& c) {
  const SlaClockState& s = c.state;
  auto dur = [](int64_t us) {
    return absl::FormatDuration(absl::Microseconds(us));
  };
  std::string line = absl::StrCat(
      c.policy_id, " ", c.target_type, " cycle ", c.cycle,
      c.stay_group.empty() ? "" : absl::StrCat(" (group ", c.stay_group, ")"),
      ": ",
      SlaClockStatus_Name(s.status()).substr(17), " (",
      SlaClockPhase_Name(s.phase()).substr(16), "), target ",
      dur(s.target_us()), ", used ", dur(s.business_elapsed_us()),
      absl::StrFormat(" (%.1f%%)", s.percent_used()), ", paused ",
      dur(s.paused_us()));
  if (s.has_deadline_us()) {
    absl::StrAppend(&line, ", deadline ", Utc(s.deadline_us()));
  }
  if (s.has_breached_at_us()) {
    absl::StrAppend(&line, ", breached ", Utc(s.breached_at_us()));
  }
  if (s.has_stopped_at_us()) {
    absl::StrAppend(&line, ", stopped ", Utc(s.stopped_at_us()));
  }
  return line;
}

int RunShow(const ShowFlags& f) {
  const bool matrix_kind = f.kind == "priority-matrix";
  if (matrix_kind && !f.id.empty()) {
    return Usage("show", absl::StrCat("priority-matrix takes no ID, got \"",
                                      f.id, "\""));
  }
  if (!matrix_kind && f.id.empty()) {
    return Usage("show", absl::StrCat("missing the ", f.kind, "'s ID"));
  }
  if (f.clocks && f.kind != "incident" && f.kind != "change" &&
      f.kind != "request") {
    return Usage("show", absl::StrCat("--clocks: a ", f.kind,
                                      " has no SLA clocks (incident, "
                                      "change or request only)"));
  }
  const std::string& kind = f.kind;
  const std::string& id = f.id;
  if (std::optional<int> remote = RunOnClusterIfAsked(
          "show", f.db, f.nats, f.tenant, ClusterRoute::kTenant)) {
    return *remote;
  }
  Options options;
  options.create_if_missing = false;
  int code = kExitOk;
  OpenedEngine opened = OpenEngine("show", options, f.db, std::nullopt, &code);
  if (opened.engine == nullptr) return code;
  Engine* engine = opened.engine;
  absl::StatusOr<ExecuteResult> r = engine->LoadAggregate(kind, id, f.tenant);
  if (!r.ok()) {
    return Fail("show", r.status().ToString(),
                r.status().code() == absl::StatusCode::kInvalidArgument
                    ? kExitUsage
                    : kExitFailed);
  }
  absl::StatusOr<ExecuteResult> m =
      engine->LoadAggregate("priority-matrix", "", f.tenant);
  if (!m.ok()) return Fail("show", m.status().ToString());
  const PriorityMatrix& matrix = m->priority_matrix();
  const auto* refl = r->GetReflection();
  const auto* field = refl->GetOneofFieldDescriptor(
      *r, r->GetDescriptor()->FindOneofByName("state"));
  const Message& state = refl->GetMessage(*r, field);
  absl::StatusOr<std::vector<SlaClockView>> clocks =
      std::vector<SlaClockView>();
  if (f.clocks) {
    clocks =
        engine->Clocks(TenantStream(f.tenant, absl::StrCat(kind, "/", id)));
    if (!clocks.ok()) return Fail("show", clocks.status().ToString());
  }

  if (f.format == "json") {
    std::string json;
    google::protobuf::util::MessageToJsonString(state, &json);
    int priority = r->has_incident()  ? r->incident().priority()
                   : r->has_problem() ? r->problem().priority()
                   : r->has_request() ? r->request().priority()
                                      : 0;
    if (priority != 0 && json.size() > 2) {
      json.insert(json.size() - 1,
                  absl::StrCat(",\"priorityName\":\"",
                               PriorityLevelName(matrix, priority), "\""));
    }
    if (f.clocks && json.size() > 2) {
      std::vector<std::string> items;
      for (const SlaClockView& c : *clocks) {
        std::string one;
        google::protobuf::util::MessageToJsonString(c.state, &one);
        items.push_back(one);
      }
      json.insert(json.size() - 1, absl::StrCat(",\"slaClocks\":[",
                                                absl::StrJoin(items, ","), "]"));
    }
    std::fprintf(ToolOut(), "%s\n", json.c_str());
    return kExitOk;
  }
  const std::string status = AggregateStatusName(*r);
  std::fprintf(ToolOut(), "%s%s%s%s\n", kind.c_str(), id.empty() ? "" : " ", id.c_str(),
              TenantOrDefault(f.tenant) == kDefaultTenant
                  ? ""
                  : absl::StrCat(" (tenant ", f.tenant, ")").c_str());
  if (!status.empty()) std::fprintf(ToolOut(), "  state: %s\n", status.c_str());
  PrintFields(state, "  ", matrix);
  if (f.clocks) {
    std::fprintf(ToolOut(), "  sla clocks:%s\n", clocks->empty() ? " none" : "");
    for (const SlaClockView& c : *clocks) {
      std::fprintf(ToolOut(), "    %s\n", ClockLine(c).c_str());
    }
  }
  return kExitOk;
}

}  // namespace

CommandRun SetUpShowCommand(CLI::App* app) {
  auto f = std::make_shared<ShowFlags>();
  app->add_option("KIND", f->kind, "what to show")
      ->required()
      ->type_name(
          "incident|problem|change|service|request|catalog|priority-matrix")
      ->check(OneOf({"incident", "problem", "change", "service", "request",
                     "catalog", "priority-matrix"}));
  app->add_option("ID", f->id, "the record's id (none for priority-matrix)")
      ->type_name("");
  AddDbOrNatsFlags(app, &f->db, &f->nats);
  AddTenantFlag(app, &f->tenant);
  app->add_flag("--clocks", f->clocks,
                "also list the record's SLA clocks, every cycle (incident, "
                "change or request)");
  app->add_option("--format", f->format,
                  "text: one field a line; json: the state message")
      ->type_name("text|json")
      ->check(OneOf({"text", "json"}))
      ->capture_default_str();
  return [f] { return RunShow(*f); };
}

}  // namespace slate::tools
