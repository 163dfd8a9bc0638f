// slate version: prints the tool version and the log format it writes.
#include <cstdio>

#include "lib/api/engine.h"
#include "lib/api/version.h"
#include "tools/cli.h"

namespace slate::tools {

CommandRun SetUpVersionCommand(CLI::App* /*app*/) {
  return [] {
    std::printf("slate %s (log format %d)\n", SLATE_VERSION,
                Engine::FormatVersion());
    return kExitOk;
  };
}

}  // namespace slate::tools
