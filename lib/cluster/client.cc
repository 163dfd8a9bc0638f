#include "lib/cluster/client.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "lib/api/tenant.h"
#include "lib/base/status_macros.h"
#include "lib/cluster/partition.pb.h"
#include "lib/domain/executor.h"

namespace slate::cluster {

absl::StatusOr<ExecuteResult> RemoteExecute(Cluster& cluster,
                                            const Command& command,
                                            const RemoteOptions& options) {
  Command c = command;
  if (c.command_id().empty()) c.set_command_id(DeriveCommandId(command));
  SLATE_ASSIGN_OR_RETURN(int p,
                         cluster.PartitionOf(TenantOrDefault(c.tenant_id())));
  const std::string subject = cluster.names().ExecSubject(p);
  const std::string bytes = c.SerializeAsString();
  const absl::Time deadline = absl::Now() + options.retry_for;
  while (true) {
    absl::StatusOr<std::string> answer =
        cluster.js().Request(subject, bytes, options.request_timeout);
    absl::Status st = answer.status();
    if (answer.ok()) {
      ExecReply reply;
      if (!reply.ParseFromString(*answer)) {
        return absl::DataLossError(absl::StrCat(
            "command ", c.command_id(), ": the reply from ", subject,
            " does not decode"));
      }
      st = absl::Status(static_cast<absl::StatusCode>(reply.code()),
                        reply.message());
      if (st.ok()) return std::move(*reply.mutable_result());
    }
    const bool moving = absl::IsUnavailable(st) || absl::IsDeadlineExceeded(st);
    if (!moving || absl::Now() >= deadline) return st;
    absl::SleepFor(absl::Milliseconds(100));
  }
}

}  // namespace slate::cluster
