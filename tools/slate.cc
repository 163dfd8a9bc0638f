// slate: the command-line face of the Slate engine.
//
//   slate <command> [flags...]     slate --help     slate <command> --help
#include "tools/commands.h"

int main(int argc, char** argv) {
  return slate::tools::RunSlate(argc, argv, slate::tools::AllCommands());
}
