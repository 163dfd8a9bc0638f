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
//   slate::StartSlaTimer(**engine, absl::Seconds(1),
//                        [&] { return still_holds_lease(); });
//
// Open such an engine with Options::sla_timer_interval zero: its timer
// thread would start with Engine::Open and append (locally only) before
// the replicator is set. Start it with StartSlaTimer once the engine
// writes (lib/cluster/partition_engine.h does).
#ifndef SLATE_LIB_API_ENGINE_REPLICATION_H_
#define SLATE_LIB_API_ENGINE_REPLICATION_H_

#include <functional>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
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

// Starts `engine`'s SLA timer thread, as Options::sla_timer_interval does
// at Engine::Open: Engine::AdvanceTo(now) every `interval`, skipped while
// `active` (called on the timer thread; null: always) returns false;
// Engine::TimerStatus gives its first error (not one of a round after
// which `active` turned false: a writer fenced mid-round); it stops when
// the engine closes. Call after SetReplicator. kInvalidArgument for an interval <= 0,
// kFailedPrecondition if the engine's timer runs already.
absl::Status StartSlaTimer(Engine& engine, absl::Duration interval,
                           std::function<bool()> active);

// Writes `events` as a replicated log holds them (EventLog::AppendReplicated)
// and folds the projections as an append does (in kSync mode before it
// returns). Errors as AppendReplicated.
absl::Status ApplyReplicated(Engine& engine, std::vector<Envelope> events);

}  // namespace slate

#endif  // SLATE_LIB_API_ENGINE_REPLICATION_H_
