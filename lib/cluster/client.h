// Sending commands to a cluster (issue 19): a command goes to its tenant's
// partition's subject (ClusterNames::ExecSubject), where the node owning the
// partition answers (lib/cluster/node.h). While a partition moves (no
// owner, or an owner that just lost it) the request is retried with the
// same command id, so a command is applied once however often it is sent.
//
//   SLATE_ASSIGN_OR_RETURN(slate::ExecuteResult r,
//       slate::cluster::RemoteExecute(*cluster, command));
//   std::vector<absl::StatusOr<slate::ExecuteResult>> rs =
//       slate::cluster::RemoteExecuteGroup(*cluster, commands);
//   SLATE_ASSIGN_OR_RETURN(std::string answer,
//       slate::cluster::RemoteQuery(*cluster, partition, request));
#ifndef SLATE_LIB_CLUSTER_CLIENT_H_
#define SLATE_LIB_CLUSTER_CLIENT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "lib/cluster/cluster.h"
#include "proto/commands.pb.h"

namespace slate::cluster {

// Most commands of one ExecGroupRequest (RemoteExecuteGroup); an owner
// refuses a larger one (kInvalidArgument).
inline constexpr int kMaxGroupCommands = 64;

struct RemoteOptions {
  // How long one request waits for its answer. Default: 5 s.
  absl::Duration request_timeout = absl::Seconds(5);
  // How long to keep retrying while nobody answers for the partition or
  // its owner is moving it. Default: 30 s.
  absl::Duration retry_for = absl::Seconds(30);
};

// Executes `command` on the owner of its tenant's partition; the default
// tenant's configuration (IsConfigurationCommand), which every tenant
// shares, on every partition (the home partition's result is returned; an
// error after some partitions took it says so, and sending the command again
// completes it: the others replay). A command
// without a command_id gets DeriveCommandId's id first, so retries are
// the same command. The owner's error as is; kUnavailable (or
// kDeadlineExceeded) once retry_for has passed without an owner's answer.
absl::StatusOr<ExecuteResult> RemoteExecute(
    Cluster& cluster, const Command& command,
    const RemoteOptions& options = RemoteOptions());

// Executes `commands` as RemoteExecute executes each, several per request:
// the commands of one partition go to its owner together (one
// ExecGroupRequest per kMaxGroupCommands of them, lib/cluster/node.h),
// which runs them concurrently so that its log publishes them as one group
// commit, one message. Results in the order of `commands`, each command's
// own error in its place; a command the owner could not run because its
// partition moved is sent again (same command id: applied once) until
// retry_for has passed. The default tenant's configuration goes through
// RemoteExecute, one command at a time.
std::vector<absl::StatusOr<ExecuteResult>> RemoteExecuteGroup(
    Cluster& cluster, absl::Span<const Command> commands,
    const RemoteOptions& options = RemoteOptions());

// Sends a read query to the owner of `partition` (its NodeOptions::
// query_handler answers) and returns the answer, retrying while the
// partition moves as RemoteExecute does. The handler's error as is;
// kUnavailable when no node answers queries for it within retry_for (no
// owner, or owners without a query handler).
absl::StatusOr<std::string> RemoteQuery(
    Cluster& cluster, int partition, absl::string_view request,
    const RemoteOptions& options = RemoteOptions());

}  // namespace slate::cluster

#endif  // SLATE_LIB_CLUSTER_CLIENT_H_
