// Options for slate::Engine::Open. Every field says its default.
//
//   slate::Options options;                               // safe defaults
//   options.durability = slate::Durability::kProcessCrash;  // faster, no fsync
//   options.log_sink = [](slate::LogLevel level, absl::string_view message,
//                         absl::Span<const slate::LogField> fields) {
//     host_log.Write(slate::LogLevelName(level), message, fields);
//   };
//   auto engine = slate::Engine::Open(options, "/var/lib/slate");
#ifndef SLATE_LIB_API_OPTIONS_H_
#define SLATE_LIB_API_OPTIONS_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "lib/api/clock.h"

namespace slate {

// What an acknowledged append survives.
enum class Durability {
  // Survives a crash of this process (RocksDB WAL, no fsync). An OS crash or
  // power loss may lose the most recent appends, never older ones.
  kProcessCrash,
  // Survives power loss: the WAL is fsynced before Append returns.
  // Concurrent appenders share one fsync (group commit).
  kPowerLoss,
  // Bulk import: no WAL; data is flushed to SST files by Engine::Flush() and
  // on close. A crash before that loses the import (a suffix of the log),
  // never data acknowledged by an earlier, non-bulk session.
  kBulkImport,
};

const char* DurabilityName(Durability d);

// How the built-in projections (views, SLA clocks, KPIs) follow the log.
enum class ProjectionMode {
  // Every Append/Execute folds the projections before it returns, so a
  // query sees an append as soon as it returns.
  kSync,
  // A background thread folds; appends return sooner. A query may lag: call
  // Engine::WaitForProjections(position) to see a given append.
  kAsync,
};

// How much a line of Slate's own log matters.
enum class LogLevel {
  kInfo,     // Worth knowing; nothing to do.
  kWarning,  // Something unusual the engine dealt with (e.g. it dropped a
             // projection's stored state and rebuilds it: a slow open).
  kError,    // Something failed.
};

// "info", "warning", "error".
const char* LogLevelName(LogLevel level);

// One key/value pair of a log line, e.g. {"projection", "sla"}.
struct LogField {
  std::string key;
  std::string value;
};

// Receives Slate's own log lines. `message` is a complete line for people
// (what `slate` prints after "slate: "); `fields` repeat its parts for
// machines. The views are valid only during the call. Called on whichever
// engine thread logs (today only Engine::Open's caller logs: the lines it
// writes while it opens), possibly from several at once, so it must be
// thread-safe; it must not call back into the engine.
// Lines today: level kWarning, "projection NAME: WHY; dropped, rebuilding
// it from the log", fields "projection" (NAME) and "reason" (WHY), once per
// projection whose stored state Engine::Open drops (lib/projection/runner.h).
using LogSink = std::function<void(LogLevel level, absl::string_view message,
                                   absl::Span<const LogField> fields)>;

// Limits on one tenant's commands (Engine::Execute; lib/api/tenant.h). A
// command over a limit is kResourceExhausted naming the tenant and the
// limit, and appends nothing. Raw Engine::Append is not limited. Zero: no
// limit.
struct TenantLimits {
  // Records (incidents, problems, changes, service requests) the tenant may
  // hold: a command that would create one more is refused. Default: 0.
  int64_t max_records = 0;
  // Events the tenant's commands may append per second on the engine's
  // clock: a bucket of this many events, refilled continuously, so a burst
  // of up to one second's worth passes. A command that arrives while the
  // bucket is empty is refused (retry later); a command's events are
  // charged after it ran, so one command may take the bucket below zero.
  // Default: 0.
  double max_events_per_second = 0;
};

struct Options {
  // Where "now" comes from (recorded_at, the clock-skew check).
  // Not owned; must outlive the engine. Default: SystemClock().
  Clock* clock = nullptr;

  // What an acknowledged append survives. Default: kPowerLoss (nothing
  // acknowledged is ever lost; concurrent appenders share fsyncs).
  Durability durability = Durability::kPowerLoss;

  // Create the database if the directory holds none. Default: true.
  bool create_if_missing = true;

  // An event whose occurred_at lies further ahead of clock->Now() than this
  // is rejected with kInvalidArgument: the future is not a fact.
  // Default: 5 minutes.
  absl::Duration max_clock_skew = absl::Minutes(5);

  // Limits; past them Append is kInvalidArgument.
  // Events in one Append. Default: 10,000.
  size_t max_events_per_append = 10000;
  // Encoded size of one event. Default: 1 MiB.
  size_t max_event_bytes = 1 << 20;

  // Upper bound on the events one group commit writes in one WriteBatch.
  // Default: 20,000.
  size_t max_group_commit_events = 20000;

  // How built-in projections follow the log. Default: kSync.
  ProjectionMode projection_mode = ProjectionMode::kSync;

  // RocksDB block cache for the log, bytes. Default: 64 MiB.
  size_t block_cache_bytes = 64 << 20;

  // All column families' memtables together (the log, its indexes and every
  // projection; RocksDB's db_write_buffer_size): past it the largest is
  // flushed, so memory stays bounded however much is folded. 0 picks by
  // durability: 128 MiB, or 32 MiB under kBulkImport, where the memtables
  // hold the only copy of the import until its final flush: flushing them
  // in smaller pieces as the import goes bounds what a crash loses and
  // shortens that final flush, and a bulk load's peak memory is what
  // limits it (32 instead of 64 MiB: the ServiceNow import's CPU time
  // unchanged; bench/RESULTS.md, ServiceNow import and memory of 2 M
  // finished + 100 k open).
  // Default: 0.
  size_t memtable_bytes = 0;

  // Per built-in projection (views, SLA, KPI): records kept decoded in
  // memory (an SLA record with its clocks). Past it, after a batch of
  // events, the projection writes its changed records (serialized) into
  // its state and keeps the half it used last; the others are read back
  // when needed. The KPI projection drops finished records first, open
  // ones only past 4x this, and its day cells past 16x. More makes folds
  // of interleaved records decode less (a bound of 1,048,576: SLA 1.2x
  // faster on fold_bench's interleaved log, bench/RESULTS.md), at about
  // 2 KiB a record. Default: 4096.
  size_t projection_cached_records = 4096;

  // SLA timers, live mode: when > 0, a background thread calls
  // Engine::AdvanceTo(clock->Now()) this often, so warnings and breaches
  // are appended without a caller driving time. Zero: off (the caller
  // advances time with AdvanceTo, or AdvanceToWatermark in replay).
  // Default: zero (off).
  absl::Duration sla_timer_interval = absl::ZeroDuration();

  // Where Slate's own log lines go (see LogSink). Default: null: each line
  // goes to stderr as "slate: MESSAGE\n" (the fields are not printed; the
  // message holds them).
  LogSink log_sink;

  // Engine::WriteMetrics: the horizon of the at-risk gauge (running clocks
  // not breached yet whose deadline is <= now + this, as Engine::AtRisk).
  // Default: 1 hour.
  absl::Duration metrics_at_risk_within = absl::Hours(1);

  // Limits per tenant id ("default" for the default tenant); a tenant not
  // listed gets default_tenant_limits. Default: empty.
  std::map<std::string, TenantLimits> tenant_limits;
  // Default: no limits (TenantLimits()).
  TenantLimits default_tenant_limits;
};

}  // namespace slate

#endif  // SLATE_LIB_API_OPTIONS_H_
