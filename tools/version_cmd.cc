// slate version: prints the tool version and the log format it writes.
#include <cstdio>

#include "lib/log/log_format.h"
#include "tools/cli.h"

namespace slate::tools {

CommandRun SetUpVersionCommand(CLI::App* /*app*/) {
  return [] {
    std::printf("slate 0.1.0 (log format %d)\n", log_format::kFormatVersion);
    return kExitOk;
  };
}

}  // namespace slate::tools
