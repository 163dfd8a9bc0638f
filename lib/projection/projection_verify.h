// VerifyProjections: every stored projection equals a fresh fold of the log.
//
//   slate::VerifyReport report;
//   SLATE_RETURN_IF_ERROR(slate::VerifyProjections(
//       log, runner, slate::BuiltinProjections(options), &report));
//
// Each projection in `fresh` (new instances, same names as the runner's) is
// folded from position 0 into memory and compared key by key with the
// runner's stored state after the runner caught up. Differences name the
// projection and the first keys that differ.
#ifndef SLATE_LIB_PROJECTION_PROJECTION_VERIFY_H_
#define SLATE_LIB_PROJECTION_PROJECTION_VERIFY_H_

#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "lib/log/event_log.h"
#include "lib/log/log_verify.h"
#include "lib/projection/projection.h"
#include "lib/projection/runner.h"

namespace slate {

absl::Status VerifyProjections(const EventLog& log, ProjectionRunner& runner,
                               std::vector<std::unique_ptr<Projection>> fresh,
                               VerifyReport* report);

}  // namespace slate

#endif  // SLATE_LIB_PROJECTION_PROJECTION_VERIFY_H_
