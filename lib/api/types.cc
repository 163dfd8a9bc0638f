#include "lib/api/types.h"

#include "absl/strings/str_cat.h"
#include "lib/api/options.h"

namespace slate {

std::string ExpectedVersion::ToString() const {
  switch (kind_) {
    case Kind::kAny:
      return "any";
    case Kind::kNoStream:
      return "no stream";
    case Kind::kStreamExists:
      return "stream exists";
    case Kind::kExact:
      return absl::StrCat("version ", version_);
  }
  return "unknown";
}

const char* DurabilityName(Durability d) {
  switch (d) {
    case Durability::kProcessCrash:
      return "process-crash";
    case Durability::kPowerLoss:
      return "power-loss";
    case Durability::kBulkImport:
      return "bulk-import";
  }
  return "unknown";
}

const char* LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "unknown";
}

}  // namespace slate
