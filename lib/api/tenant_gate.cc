#include "lib/api/tenant_gate.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "lib/api/tenant.h"

namespace slate {

bool CreatesRecord(const Command& c) {
  return c.has_open_incident() || c.has_log_problem() ||
         c.has_request_change() || c.has_submit_request();
}

TenantGate::TenantGate(const Options* options, const Clock* clock)
    : options_(options), clock_(clock != nullptr ? clock : SystemClock()) {}

const TenantLimits& TenantGate::LimitsFor(const std::string& tenant) const {
  auto it = options_->tenant_limits.find(tenant);
  return it != options_->tenant_limits.end() ? it->second
                                             : options_->default_tenant_limits;
}

void TenantGate::Refill(const TenantLimits& limits, Usage& u) {
  const int64_t now_us = absl::ToUnixMicros(clock_->Now());
  const double rate = limits.max_events_per_second;
  if (!u.bucket_started) {
    u.bucket_started = true;
    u.tokens = rate;  // A new bucket is full.
    u.refilled_us = now_us;
    return;
  }
  if (now_us > u.refilled_us) {
    u.tokens = std::min(
        rate, u.tokens + rate * static_cast<double>(now_us - u.refilled_us) /
                             1e6);
    u.refilled_us = now_us;
  }
}

absl::StatusOr<TenantGate::Pass> TenantGate::Admit(
    const Command& command, const CountRecords& count,
    const RecordExists& exists) {
  Pass pass;
  if (!command.tenant_id().empty() &&
      !ValidateTenantId(command.tenant_id()).ok()) {
    return pass;  // Unlimited: the executor refuses it, naming the field.
  }
  pass.tenant = std::string(TenantOrDefault(command.tenant_id()));
  const TenantLimits& limits = LimitsFor(pass.tenant);
  if (limits.max_records <= 0 && limits.max_events_per_second <= 0) {
    return pass;
  }
  pass.limited = true;
  std::lock_guard<std::mutex> l(mu_);
  Usage& u = usage_[pass.tenant];
  if (limits.max_events_per_second > 0) {
    Refill(limits, u);
    if (u.tokens < 1) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "tenant ", pass.tenant, ": over its limit of ",
          limits.max_events_per_second,
          " events per second (TenantLimits.max_events_per_second); nothing "
          "appended, retry later"));
    }
  }
  if (limits.max_records > 0 && CreatesRecord(command)) {
    if (!u.records_loaded) {
      absl::StatusOr<int64_t> n = count(pass.tenant);
      if (!n.ok()) return n.status();
      u.records = *n;
      u.records_loaded = true;
    }
    if (u.records + u.reserved >= limits.max_records) {
      absl::StatusOr<bool> there = exists(command);
      if (!there.ok()) return there.status();
      if (*there) return pass;  // A retry (or kAlreadyExists): no new record.
      return absl::ResourceExhaustedError(absl::StrCat(
          "tenant ", pass.tenant, ": holds ", u.records,
          " records, its limit (TenantLimits.max_records) is ",
          limits.max_records, "; nothing appended"));
    }
    ++u.reserved;
    pass.reserved_record = true;
  }
  return pass;
}

void TenantGate::Done(const Pass& pass,
                      const absl::StatusOr<ExecuteResult>& result) {
  if (!pass.limited) return;
  const TenantLimits& limits = LimitsFor(pass.tenant);
  std::lock_guard<std::mutex> l(mu_);
  Usage& u = usage_[pass.tenant];
  const bool appended = result.ok() && !result->idempotent_replay() &&
                        result->appends_size() > 0;
  if (pass.reserved_record) {
    --u.reserved;
    if (appended && result->appends(0).first_version() == 0) ++u.records;
  }
  if (appended && limits.max_events_per_second > 0) {
    int64_t events = 0;
    for (const StreamAppend& a : result->appends()) {
      events += a.last_position() - a.first_position() + 1;
    }
    Refill(limits, u);
    u.tokens -= static_cast<double>(events);
  }
}

}  // namespace slate
