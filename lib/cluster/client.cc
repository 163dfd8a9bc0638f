#include "lib/cluster/client.h"

#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "lib/api/tenant.h"
#include "lib/base/status_macros.h"
#include "lib/cluster/partition.pb.h"
#include "lib/domain/executor.h"

namespace slate::cluster {

namespace {

// Calls `attempt` until it succeeds, fails with a status other than
// "moving" (kUnavailable: no owner, or one losing it; kDeadlineExceeded: a
// server slow to answer, or just elected), or retry_for passes.
template <typename T>
absl::StatusOr<T> WhileMoving(const RemoteOptions& options,
                              const std::function<absl::StatusOr<T>()>& attempt) {
  const absl::Time deadline = absl::Now() + options.retry_for;
  while (true) {
    absl::StatusOr<T> r = attempt();
    const absl::Status& st = r.status();
    if (r.ok() || !(absl::IsUnavailable(st) || absl::IsDeadlineExceeded(st)) ||
        absl::Now() >= deadline) {
      return r;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
}

// The status a reply (ExecReply, ExecGroupReply, QueryReply) carries.
template <typename Reply>
absl::Status StatusOf(const Reply& reply) {
  return absl::Status(static_cast<absl::StatusCode>(reply.code()),
                      reply.message());
}

// `st` with the partition it came from named.
absl::Status OnPartition(int p, const absl::Status& st) {
  return absl::Status(st.code(),
                      absl::StrCat("partition ", p, ": ", st.message()));
}

// Sends `bytes` to `subject` (partition `p`'s) until its owner answers
// with a status other than "moving" or retry_for passes. `what` names the
// request in errors. Reply: ExecReply or QueryReply.
template <typename Reply>
absl::StatusOr<Reply> Ask(Cluster& cluster, int p, const std::string& subject,
                          const std::string& bytes, absl::string_view what,
                          const RemoteOptions& options) {
  absl::StatusOr<Reply> r =
      WhileMoving<Reply>(options, [&]() -> absl::StatusOr<Reply> {
        absl::StatusOr<std::string> answer =
            cluster.js().Request(subject, bytes, options.request_timeout);
        if (!answer.ok()) return answer.status();
        Reply reply;
        if (!reply.ParseFromString(*answer)) {
          return absl::DataLossError(absl::StrCat(
              what, ": the reply from ", subject, " does not decode"));
        }
        if (absl::Status st = StatusOf(reply); !st.ok()) return st;
        return reply;
      });
  if (r.ok() || absl::IsDataLoss(r.status())) return r;
  return OnPartition(p, r.status());
}

// The partition of `tenant` (a KV read of its override), retried as a
// request is.
absl::StatusOr<int> HomeOf(Cluster& cluster, absl::string_view tenant,
                           const RemoteOptions& options) {
  return WhileMoving<int>(options,
                          [&] { return cluster.PartitionOf(tenant); });
}

absl::StatusOr<ExecuteResult> SendTo(Cluster& cluster, int p, const Command& c,
                                     const RemoteOptions& options) {
  SLATE_ASSIGN_OR_RETURN(
      ExecReply reply,
      Ask<ExecReply>(cluster, p, cluster.names().ExecSubject(p),
                     c.SerializeAsString(),
                     absl::StrCat("command ", c.command_id()), options));
  return std::move(*reply.mutable_result());
}

}  // namespace

absl::StatusOr<ExecuteResult> RemoteExecute(Cluster& cluster,
                                            const Command& command,
                                            const RemoteOptions& options) {
  Command c = command;
  if (c.command_id().empty()) c.set_command_id(DeriveCommandId(command));
  const absl::string_view tenant = TenantOrDefault(c.tenant_id());
  SLATE_ASSIGN_OR_RETURN(int home, HomeOf(cluster, tenant, options));
  if (tenant != kDefaultTenant || !IsConfigurationCommand(c)) {
    return SendTo(cluster, home, c, options);
  }
  // The default tenant's configuration is every tenant's: every partition
  // holds a copy. The home partition's answer is the result.
  absl::StatusOr<ExecuteResult> result = SendTo(cluster, home, c, options);
  if (!result.ok()) return result;
  for (int p = 0; p < cluster.partitions(); ++p) {
    if (p == home) continue;
    absl::StatusOr<ExecuteResult> copy = SendTo(cluster, p, c, options);
    if (!copy.ok()) {
      return absl::Status(
          copy.status().code(),
          absl::StrCat("shared configuration reached some partitions only (",
                       copy.status().message(),
                       "); send the same command again to complete it"));
    }
  }
  return result;
}

std::vector<absl::StatusOr<ExecuteResult>> RemoteExecuteGroup(
    Cluster& cluster, absl::Span<const Command> commands,
    const RemoteOptions& options) {
  std::vector<absl::StatusOr<ExecuteResult>> out(
      commands.size(), absl::UnknownError("not sent"));
  // Partition -> the indexes of its commands still to send.
  std::map<int, std::vector<size_t>> pending;
  for (size_t i = 0; i < commands.size(); ++i) {
    const Command& c = commands[i];
    const absl::string_view tenant = TenantOrDefault(c.tenant_id());
    if (tenant == kDefaultTenant && IsConfigurationCommand(c)) {
      out[i] = RemoteExecute(cluster, c, options);  // every partition
      continue;
    }
    absl::StatusOr<int> home = HomeOf(cluster, tenant, options);
    if (!home.ok()) {
      out[i] = home.status();
      continue;
    }
    pending[*home].push_back(i);
  }
  const absl::Time deadline = absl::Now() + options.retry_for;
  for (auto& [p, indexes] : pending) {
    const std::string subject = cluster.names().ExecGroupSubject(p);
    while (!indexes.empty()) {
      std::vector<size_t> moving;
      for (size_t from = 0; from < indexes.size(); from += kMaxGroupCommands) {
        const size_t to = std::min(indexes.size(), from + kMaxGroupCommands);
        ExecGroupRequest request;
        for (size_t k = from; k < to; ++k) {
          Command* c = request.add_commands();
          *c = commands[indexes[k]];
          if (c->command_id().empty()) c->set_command_id(DeriveCommandId(*c));
        }
        absl::StatusOr<ExecGroupReply> reply = Ask<ExecGroupReply>(
            cluster, p, subject, request.SerializeAsString(), "command group",
            options);
        if (reply.ok() &&
            reply->replies_size() != static_cast<int>(to - from)) {
          reply = absl::DataLossError(absl::StrCat(
              "command group: ", reply->replies_size(), " replies from ",
              subject, " to ", to - from, " commands"));
        }
        for (size_t k = from; k < to; ++k) {
          const size_t i = indexes[k];
          if (!reply.ok()) {
            out[i] = reply.status();
            continue;
          }
          ExecReply& one = *reply->mutable_replies(static_cast<int>(k - from));
          const absl::Status st = StatusOf(one);
          if (st.ok()) {
            out[i] = std::move(*one.mutable_result());
          } else if (absl::IsUnavailable(st) && absl::Now() < deadline) {
            moving.push_back(i);  // the partition moved under it
          } else {
            out[i] = OnPartition(p, st);
          }
        }
      }
      if (!moving.empty()) absl::SleepFor(absl::Milliseconds(100));
      indexes = std::move(moving);
    }
  }
  return out;
}

absl::StatusOr<std::string> RemoteQuery(Cluster& cluster, int partition,
                                        absl::string_view request,
                                        const RemoteOptions& options) {
  if (partition < 0 || partition >= cluster.partitions()) {
    return absl::InvalidArgumentError(
        absl::StrCat("query: partition ", partition, " is not in [0, ",
                     cluster.partitions(), ")"));
  }
  SLATE_ASSIGN_OR_RETURN(
      QueryReply reply,
      Ask<QueryReply>(cluster, partition,
                      cluster.names().QuerySubject(partition),
                      std::string(request), "query", options));
  return std::move(*reply.mutable_body());
}

}  // namespace slate::cluster
