#include "lib/projection/builtins.h"

#include "lib/projection/kpi_projection.h"
#include "lib/projection/sla_projection.h"
#include "lib/projection/views.h"

namespace slate {

std::vector<std::unique_ptr<Projection>> BuiltinProjections(
    const Options& options) {
  std::vector<std::unique_ptr<Projection>> ps;
  ps.push_back(
      std::make_unique<ViewsProjection>(options.projection_cached_records));
  ps.push_back(
      std::make_unique<SlaProjection>(options.projection_cached_records));
  ps.push_back(std::make_unique<KpiProjection>(BuiltinKpiOptions(options)));
  return ps;
}

}  // namespace slate
