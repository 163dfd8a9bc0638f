// Replication of an engine's log, for a cluster node (lib/cluster): the node
// owns one engine per partition and makes it either the partition's writer
// (every group commit goes to the partition's replicated log first, see
// lib/log/replicator.h) or a follower that applies what the replicated log
// holds. Not part of the public API.
//
//   #include "lib/api/engine_replication.h"
//   auto engine = slate::Engine::Open(options, "/var/lib/slate/p3");
//   // Catch up: everything the partition holds past the local log.
//   for (auto& batch : partition_batches_from((*engine)->NextPosition()))
//     SLATE_RETURN_IF_ERROR(slate::ApplyReplicated(**engine, batch));
//   slate::SetReplicator(**engine, &replicator);  // now the writer
//
// Open such an engine with Options::sla_timer_interval zero: its timer
// thread starts with Engine::Open and would append (locally only) before
// the replicator is set; the owner drives AdvanceTo once it writes
// (lib/cluster/partition_engine.h does).
#ifndef SLATE_LIB_API_ENGINE_REPLICATION_H_
#define SLATE_LIB_API_ENGINE_REPLICATION_H_

#include <vector>

#include "absl/status/status.h"
#include "lib/api/engine.h"
#include "lib/log/replicator.h"
#include "proto/events.pb.h"

namespace slate {

// Sets the replicator of `engine`'s log (EventLog::SetReplicator): every
// later append (commands, SLA timers, imports) is replicated before it is
// written. Call before the engine appends anything as the writer; not
// thread-safe with appends (nor with the engine's own SLA timer: see
// above). Null: none.
void SetReplicator(Engine& engine, LogReplicator* replicator);

// Writes `events` as a replicated log holds them (EventLog::AppendReplicated)
// and folds the projections as an append does (in kSync mode before it
// returns). Errors as AppendReplicated.
absl::Status ApplyReplicated(Engine& engine, std::vector<Envelope> events);

}  // namespace slate

#endif  // SLATE_LIB_API_ENGINE_REPLICATION_H_
