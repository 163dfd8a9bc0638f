// VerifyLog: a full consistency check of the event log, for `slate verify`.
//
//   slate::VerifyReport report;
//   absl::Status st = slate::VerifyLog(*log, &report);
//   for (const auto& line : report.checked) std::cout << line << "\n";
//   if (!report.problems.empty()) ...  // the first differences found
//
// Checks: positions are dense from 0 and every record decodes with its own
// position; per stream, versions are dense from 0 in position order; the
// stream index's runs tile every stream's versions and point at the right
// events; every event id appears once and the id index maps exactly the
// stored ids to their positions. Reads everything; memory grows with the
// number of streams and event ids.
#ifndef SLATE_LIB_LOG_LOG_VERIFY_H_
#define SLATE_LIB_LOG_LOG_VERIFY_H_

#include "absl/status/status.h"
#include "lib/api/verify.h"
#include "lib/log/event_log.h"

namespace slate {

// Adds what it checked and every problem found to `report`. Returns non-OK
// only when the check itself could not run (I/O error).
absl::Status VerifyLog(const EventLog& log, VerifyReport* report);

}  // namespace slate

#endif  // SLATE_LIB_LOG_LOG_VERIFY_H_
