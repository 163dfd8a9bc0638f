// slate version: prints the tool version and the log format it writes.
#include <cstdio>

#include "lib/api/engine.h"
#include "tools/cli.h"

namespace slate::tools {

CommandRun SetUpVersionCommand(CLI::App* /*app*/) {
  return [] {
    std::printf("slate 0.1.0 (log format %d)\n", Engine::FormatVersion());
    return kExitOk;
  };
}

}  // namespace slate::tools
