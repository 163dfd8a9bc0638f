// Subcommands of the `slate` command-line tool. Each lives in its own
// tools/<name>_cmd.cc and is registered in tools/slate.cc.
//
//   slate calendar add --calendar office.json --start 2026-11-27T16:00:00+01:00
//   --duration 4h
//
// Contract for every subcommand: results on stdout; errors as one line on
// stderr naming the problem; exit code 0 on success, 1 when the operation
// failed, 2 on bad usage or bad input.
#ifndef SLATE_TOOLS_COMMANDS_H_
#define SLATE_TOOLS_COMMANDS_H_

namespace slate::tools {

// argv[0] is the subcommand's name ("calendar", ...); argc counts it.
using CommandFn = int (*)(int argc, char** argv);

struct Command {
  const char* name;
  const char* summary;
  CommandFn run;
};

}  // namespace slate::tools

#endif  // SLATE_TOOLS_COMMANDS_H_
