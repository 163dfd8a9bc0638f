#include "lib/api/kpi_types.h"

#include "lib/projection/quantile_sketch.h"

namespace slate {

KpiDurations::KpiDurations() : sketch_(std::make_unique<QuantileSketch>()) {}
KpiDurations::KpiDurations(const QuantileSketch& sketch)
    : sketch_(std::make_unique<QuantileSketch>(sketch)) {}
KpiDurations::KpiDurations(const KpiDurations& other)
    : sketch_(std::make_unique<QuantileSketch>(*other.sketch_)) {}
KpiDurations& KpiDurations::operator=(const KpiDurations& other) {
  *sketch_ = *other.sketch_;
  return *this;
}
KpiDurations::~KpiDurations() = default;

int64_t KpiDurations::count() const { return sketch_->count(); }
bool KpiDurations::IsNonNegative() const { return sketch_->IsNonNegative(); }
double KpiDurations::Quantile(double q) const { return sketch_->Quantile(q); }
void KpiDurations::Merge(const KpiDurations& other) {
  sketch_->Merge(*other.sketch_);
}

void KpiFlow::Add(const KpiFlow& o) {
  static constexpr int64_t KpiFlow::*kCounters[] = {
      &KpiFlow::opened,
      &KpiFlow::resolved,
      &KpiFlow::closed,
      &KpiFlow::reopened,
      &KpiFlow::cancelled,
      &KpiFlow::backlog_delta,
      &KpiFlow::response_count,
      &KpiFlow::response_wall_us,
      &KpiFlow::response_business_us,
      &KpiFlow::resolved_final,
      &KpiFlow::resolution_wall_us,
      &KpiFlow::resolution_business_us,
      &KpiFlow::hold_us,
      &KpiFlow::group_changes,
      &KpiFlow::first_contact,
      &KpiFlow::reopened_records,
      &KpiFlow::survey_responses,
      &KpiFlow::survey_satisfied,
      &KpiFlow::survey_score_sum,
      &KpiFlow::changes_requested,
      &KpiFlow::changes_emergency,
      &KpiFlow::changes_closed,
      &KpiFlow::changes_successful,
      &KpiFlow::changes_successful_with_issues,
      &KpiFlow::changes_failed,
      &KpiFlow::changes_rolled_back,
      &KpiFlow::changes_causing_incidents,
      &KpiFlow::changes_reviewed,
      &KpiFlow::changes_reviewed_failed,
      &KpiFlow::requests_opened,
      &KpiFlow::requests_fulfilled,
      &KpiFlow::request_fulfilment_wall_us,
      &KpiFlow::request_fulfilment_business_us,
      &KpiFlow::requests_approved,
      &KpiFlow::request_approval_wall_us,
      &KpiFlow::request_approval_business_us,
      &KpiFlow::requests_rejected,
      &KpiFlow::requests_cancelled,
      &KpiFlow::request_survey_responses,
      &KpiFlow::request_survey_satisfied,
      &KpiFlow::request_survey_score_sum,
  };
  for (int64_t KpiFlow::*c : kCounters) this->*c += o.*c;
  for (int i = 0; i < kKpiAgingClasses; ++i) aging_delta[i] += o.aging_delta[i];
  for (const auto& [currency, cents] : o.request_cost_cents) {
    request_cost_cents[currency] += cents;
  }
  response_wall_sketch.Merge(o.response_wall_sketch);
  response_business_sketch.Merge(o.response_business_sketch);
  resolution_wall_sketch.Merge(o.resolution_wall_sketch);
  resolution_business_sketch.Merge(o.resolution_business_sketch);
}

}  // namespace slate
