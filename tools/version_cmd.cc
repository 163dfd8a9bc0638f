// slate version: prints the tool version and the log format it writes.
#include <cstdio>

#include "lib/log/log_format.h"

namespace slate::tools {

int RunVersionCommand(int argc, char** /*argv*/) {
  if (argc != 1) {
    std::fprintf(stderr, "slate version: takes no arguments\n");
    return 2;
  }
  std::printf("slate 0.1.0 (log format %d)\n", log_format::kFormatVersion);
  return 0;
}

}  // namespace slate::tools
