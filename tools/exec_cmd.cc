// slate exec: executes domain commands from a file or stdin, one Command
// (proto/commands.proto, protobuf JSON mapping) per line, and prints one JSON
// result per line.
//
//   $ slate exec --db /tmp/slate --now 2026-11-27T16:00:00Z
//   examples/domain/incident.jsonl
//   {"ok":true,"commandId":"auto-...","appends":[...],"service":{...}}
//   {"ok":false,"code":"FAILED_PRECONDITION","message":"incident INC1: ..."}
//
// - `--db DIR` opens (creating if needed) the database.
// - `--now TIME` (RFC 3339) runs the engine on a fixed simulated clock at
//   TIME instead of the wall clock. The log refuses events more than 5
//   minutes ahead of the engine clock, so commands dated in the future (as
//   scripted examples often are) need it; it also stamps recorded_at and is
//   the `at` of commands that have none. Default: the wall clock.
// - `--change-policy FILE`: the change policy the commands run under
//   (DomainPolicy::change, lib/api/policy.h): a ChangePolicy
//   (proto/commands.proto) in the protobuf JSON mapping, over the default
//   one: each top-level field the file sets replaces the default's (a list
//   as a whole), the others keep DefaultChangePolicy(). E.g. a
//   post-implementation review before close for high-risk and emergency
//   changes: {"reviewRequired": {"minRisk": "RISK_HIGH", "types":
//   ["EMERGENCY"]}}. An unreadable or invalid file is bad usage (exit 2).
//   Every other DomainPolicy option keeps its default. Default: DomainPolicy()
//   (nothing required before close but the default review notes). The policy
//   is decided per command and not stored: give the same file to every run
//   that should follow it.
// - `--domain-rules default|servicenow`: the incident rules the commands
//   run under: `default` is DomainPolicy(); `servicenow` the rules a
//   ServiceNow import runs under (ServiceNowDomainPolicy(),
//   lib/import/servicenow_import.h: assignment while resolved, close without
//   resolve, no reopen window, and Closed incidents may be linked to a
//   problem), for commands on an imported database, e.g. raising a problem
//   from a `slate trends` candidate. --change-policy applies over either.
//   Default: default.
// - `--tenant T`: the tenant (Command.tenantId, lib/api/tenant.h) of every
//   command that names none; a command naming another tenant is refused
//   (INVALID_ARGUMENT). Default: each command's own tenantId, else
//   "default".
// - `--nats URLS [--prefix NAME]` in place of --db: each command goes to
//   the node owning its tenant's partition (lib/cluster/client.h), retried
//   with the same command id while a partition moves between nodes.
//   --now, --change-policy and --domain-rules are for a local database.
// - FILE, or `-` / nothing for stdin. Blank lines and lines starting with #
//   are skipped and print nothing.
// - A result line is {"ok":true,...ExecuteResult fields...} or
//   {"ok":false,"code":"<absl::StatusCode name>","message":"..."}; a line
//   that is not a Command is INVALID_ARGUMENT naming the line.
// Exit codes: 0 every command succeeded; 1 some command failed or the
// database failed; 2 bad usage, an unreadable file or no database in DIR
// (tools/cli.h).
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "lib/api/clock.h"
#include "lib/api/engine.h"
#include "lib/api/policy.h"
#include "lib/api/tenant.h"
#include "lib/domain/policy.h"
#include "lib/import/servicenow_import.h"
#include "lib/cluster/client.h"
#include "tools/cli.h"
#include "tools/nats_flags.h"
#include "tools/remote_tool.h"

namespace slate::tools {
namespace {

struct ExecFlags {
  std::string db;
  std::string now;
  std::string file;
  std::string change_policy;
  std::string domain_rules = "default";
  std::string tenant;  // Empty: not given.
  NatsFlags nats;      // --nats: a cluster instead of --db.
};

std::string ErrorLine(const absl::Status& s) {
  return absl::StrCat(R"({"ok":false,"code":)",
                      JsonQuote(absl::StatusCodeToString(s.code())),
                      R"(,"message":)", JsonQuote(s.message()), "}");
}

int RunExec(const ExecFlags& f) {
  if (std::optional<int> bad = CheckDbOrNats("exec", f.db, f.nats)) {
    return *bad;
  }
  const bool remote = !f.nats.nats.empty();
  if (remote && (!f.now.empty() || !f.change_policy.empty() ||
                 f.domain_rules != "default")) {
    return Usage("exec",
                 "--now, --change-policy and --domain-rules apply to a local "
                 "database; a cluster's nodes run on their own clocks and "
                 "rules");
  }
  const std::optional<absl::Time> now = FlagInstant(f.now);  // Validated.
  std::ifstream in_file;
  std::istream* in = &std::cin;
  if (!f.file.empty() && f.file != "-") {
    in_file.open(f.file);
    if (!in_file) {
      return Usage("exec", absl::StrCat("cannot read ", f.file));
    }
    in = &in_file;
  }
  DomainPolicy policy;
  if (f.domain_rules == "servicenow") policy = ServiceNowDomainPolicy();
  if (!f.change_policy.empty()) {
    std::ifstream policy_file(f.change_policy);
    if (!policy_file) {
      return Usage("exec", absl::StrCat("--change-policy: cannot read ",
                                        f.change_policy));
    }
    std::stringstream text;
    text << policy_file.rdbuf();
    absl::StatusOr<ChangePolicy> change =
        LoadChangePolicyJsonOver(DefaultChangePolicy(), text.str());
    if (!change.ok()) {
      return Usage("exec", absl::StrCat("--change-policy ", f.change_policy,
                                        ": ", change.status().message()));
    }
    policy.change = *std::move(change);
  }
  int code = kExitOk;
  OpenedEngine db;
  NatsConnection conn;
  if (remote) {
    absl::StatusOr<NatsConnection> c =
        ConnectCluster(f.nats, "slate exec", /*reconnect_forever=*/false);
    if (!c.ok()) {
      return Fail("exec", c.status().ToString(),
                  absl::IsNotFound(c.status()) ? kExitUsage : kExitFailed);
    }
    conn = *std::move(c);
  } else {
    db = OpenEngine("exec", Options(), f.db, now, &code);
    if (db.engine == nullptr) return code;
  }

  google::protobuf::util::JsonParseOptions parse;
  parse.ignore_unknown_fields = false;
  google::protobuf::util::JsonPrintOptions print;
  bool all_ok = true;
  std::string line;
  for (int number = 1; std::getline(*in, line); ++number) {
    size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') continue;
    Command command;
    auto parsed =
        google::protobuf::util::JsonStringToMessage(line, &command, parse);
    if (!parsed.ok()) {
      all_ok = false;
      std::printf("%s\n", ErrorLine(absl::InvalidArgumentError(absl::StrCat(
                                        "line ", number, ": not a Command: ",
                                        std::string(parsed.message()))))
                              .c_str());
      std::fflush(stdout);
      continue;
    }
    if (!f.tenant.empty()) {
      if (!command.tenant_id().empty() &&
          TenantOrDefault(command.tenant_id()) != TenantOrDefault(f.tenant)) {
        all_ok = false;
        std::printf("%s\n",
                    ErrorLine(absl::InvalidArgumentError(absl::StrCat(
                                  "line ", number, ": field tenantId: \"",
                                  command.tenant_id(), "\" but --tenant ",
                                  f.tenant)))
                        .c_str());
        std::fflush(stdout);
        continue;
      }
      command.set_tenant_id(f.tenant);
    }
    absl::StatusOr<ExecuteResult> r =
        remote ? cluster::RemoteExecute(*conn.cluster, command)
               : db.engine->Execute(command, policy);
    if (!r.ok()) {
      all_ok = false;
      absl::Status s = r.status();
      if (s.code() == absl::StatusCode::kInvalidArgument &&
          absl::StrContains(s.message(), "ahead of the engine clock")) {
        s = absl::InvalidArgumentError(absl::StrCat(
            s.message(), " (slate exec --now TIME sets the engine clock)"));
      }
      std::printf("%s\n", ErrorLine(s).c_str());
    } else {
      std::string json;
      google::protobuf::util::MessageToJsonString(*r, &json, print);
      // json is "{...}" (at least "{}"): splice "ok" in front.
      std::printf("{\"ok\":true%s%s\n", json.size() > 2 ? "," : "",
                  json.c_str() + 1);
    }
    std::fflush(stdout);
  }
  return all_ok ? kExitOk : kExitFailed;
}

}  // namespace

CommandRun SetUpExecCommand(CLI::App* app) {
  auto f = std::make_shared<ExecFlags>();
  app->add_option("FILE", f->file,
                  "JSON lines of Command (proto/commands.proto); - or none: "
                  "stdin")
      ->type_name("");
  AddDbOrNatsFlags(app, &f->db, &f->nats);
  app->add_option("--now", f->now,
                  "run on a simulated clock at TIME (default: the wall clock)")
      ->type_name("TIME")
      ->check(Rfc3339Instant());
  app->add_option("--change-policy", f->change_policy,
                  "change policy JSON (ChangePolicy) over the default one, "
                  "e.g. {\"reviewRequired\": {\"minRisk\": \"RISK_HIGH\"}} "
                  "(default: the default change policy)")
      ->type_name("FILE");
  app->add_option("--domain-rules", f->domain_rules,
                  "incident rules: default (DomainPolicy()) or servicenow "
                  "(the import's: assign while resolved, close without "
                  "resolve, no reopen window, link Closed incidents to a "
                  "problem) (default: default)")
      ->type_name("default|servicenow")
      ->check(CLI::IsMember({"default", "servicenow"}));
  AddTenantFlag(app, &f->tenant)
      ->description(
          "the tenant of every command that names none (a command naming "
          "another is refused) (default: each command's tenantId, else "
          "default)");
  return [f] { return RunExec(*f); };
}

}  // namespace slate::tools
