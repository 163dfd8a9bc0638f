// TenantGate: Engine::Execute's per-tenant limits (Options::tenant_limits,
// TenantLimits in lib/api/options.h). Internal to //lib/api:engine.
//
//   TenantGate gate(&options, clock);
//   absl::StatusOr<TenantGate::Pass> pass = gate.Admit(command, count_fn);
//   if (!pass.ok()) return pass.status();   // kResourceExhausted
//   auto r = executor.Execute(command);
//   gate.Done(*pass, r);                     // charges what it appended
//
// Record counts are loaded once per tenant (`count` is asked for the
// tenant's records on first use, e.g. from the log's stream index) and then
// kept in memory: the engine is the only writer of its log. Thread-safe;
// the lock is held only to check and to charge, never while a command runs.
#ifndef SLATE_LIB_API_TENANT_GATE_H_
#define SLATE_LIB_API_TENANT_GATE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "lib/api/clock.h"
#include "lib/api/options.h"
#include "proto/commands.pb.h"

namespace slate {

// Whether `c` creates a record (OpenIncident, LogProblem, RequestChange,
// SubmitRequest).
bool CreatesRecord(const Command& c);

class TenantGate {
 public:
  // Records of `tenant` in the log (its incident, problem, change and
  // request streams).
  using CountRecords =
      std::function<absl::StatusOr<int64_t>(absl::string_view tenant)>;
  // Whether the record `command` would create exists already (then the
  // command is a retry, or kAlreadyExists: it creates nothing).
  using RecordExists = std::function<absl::StatusOr<bool>(const Command&)>;

  // `options` and `clock` (null: SystemClock()) must outlive the gate.
  TenantGate(const Options* options, const Clock* clock);

  // What Admit reserved; hand it back to Done.
  struct Pass {
    std::string tenant;
    bool limited = false;
    bool reserved_record = false;
  };

  // Checks `command`'s tenant against its limits and reserves a record if it
  // creates one. kResourceExhausted over a limit; the error of `count` or
  // `exists`.
  absl::StatusOr<Pass> Admit(const Command& command, const CountRecords& count,
                             const RecordExists& exists);

  // After the command ran: releases the reservation, counts a created
  // record and charges the events appended (none on an error or an
  // idempotent replay).
  void Done(const Pass& pass, const absl::StatusOr<ExecuteResult>& result);

 private:
  struct Usage {
    bool records_loaded = false;
    int64_t records = 0;
    int64_t reserved = 0;   // Record-creating commands running.
    double tokens = 0;      // Events the bucket holds now.
    int64_t refilled_us = 0;  // When `tokens` was last refilled.
    bool bucket_started = false;
  };
  const TenantLimits& LimitsFor(const std::string& tenant) const;
  void Refill(const TenantLimits& limits, Usage& u);

  const Options* options_;
  const Clock* clock_;
  std::mutex mu_;
  std::map<std::string, Usage, std::less<>> usage_;  // Guarded by mu_.
};

}  // namespace slate

#endif  // SLATE_LIB_API_TENANT_GATE_H_
