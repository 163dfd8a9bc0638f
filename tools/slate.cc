// slate: the command-line face of the Slate engine.
//
//   slate <command> [args...]     slate help
#include <cstdio>
#include <cstring>

#include "tools/commands.h"
#include "tools/registry.inc"

int main(int argc, char** argv) {
  using slate::tools::kCommands;
  if (argc < 2 || std::strcmp(argv[1], "help") == 0 ||
      std::strcmp(argv[1], "--help") == 0) {
    std::printf("usage: slate <command> [args...]\n\ncommands:\n");
    for (const auto& c : kCommands) {
      std::printf("  %-10s %s\n", c.name, c.summary);
    }
    return argc < 2 ? 2 : 0;
  }
  for (const auto& c : kCommands) {
    if (std::strcmp(argv[1], c.name) == 0) return c.run(argc - 1, argv + 1);
  }
  std::fprintf(stderr, "slate: unknown command \"%s\" (try: slate help)\n",
               argv[1]);
  return 2;
}
