// An embedding service's view of Slate: compiled by engine_header_test.sh
// with only the public headers and the generated proto headers available.
#include <iostream>
#include <memory>
#include <string>

#include "lib/api/calendar.h"
#include "lib/api/describe.h"
#include "lib/api/engine.h"
#include "lib/api/names.h"

absl::Status Embed(const std::string& dir) {
  slate::Options options;
  options.log_sink = [](slate::LogLevel level, absl::string_view message,
                        absl::Span<const slate::LogField> fields) {
    std::cerr << slate::LogLevelName(level) << ": " << message << " ("
              << fields.size() << " fields)\n";
  };
  absl::StatusOr<std::unique_ptr<slate::Engine>> engine =
      slate::Engine::Open(options, dir);
  if (!engine.ok()) return engine.status();
  slate::Command cmd;
  cmd.mutable_open_incident()->set_incident_id("INC1");
  absl::StatusOr<slate::ExecuteResult> r = (*engine)->Execute(cmd);
  if (!r.ok()) return r.status();
  std::cout << slate::AggregateStatusName(*r) << "\n";
  std::unique_ptr<slate::Subscription> sub =
      (*engine)->Subscribe(0, [](const slate::Envelope& e) {
        std::cout << slate::DescribeEvent(e) << "\n";
        return absl::OkStatus();
      });
  auto fired = (*engine)->AdvanceTo(absl::Now());
  auto risky = (*engine)->AtRisk(absl::Now(), absl::Hours(8));
  if (risky.ok() && !risky->empty()) std::cout << risky->front().record;
  slate::KpiQuery q;
  q.now = absl::Now();
  auto kpis = (*engine)->Kpis({q});
  if (kpis.ok() && !kpis->empty() && !(*kpis)[0].rows.empty()) {
    const slate::KpiFlow& f = (*kpis)[0].rows[0].flow;
    if (f.resolution_wall_sketch.count() > 0) {
      std::cout << f.resolution_wall_sketch.Quantile(0.5) << "\n";
    }
  }
  auto text = (*engine)->FormatKpis(q, slate::KpiFormat::kCsv);
  slate::VerifyReport report;
  absl::Status st = (*engine)->Verify(&report);
  auto calendar = slate::Calendar::FromJson("{}");
  std::string metrics;  // OpenMetrics text
  if ((*engine)->WriteMetrics(&metrics).ok()) std::cout << metrics;
  sub.reset();
  return st;
}
