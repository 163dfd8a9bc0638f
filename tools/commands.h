// The subcommands of the `slate` command-line tool. Each lives in its own
// tools/<name>_cmd.cc, which defines `CommandRun SetUp<Name>Command(
// CLI::App*)`: it registers the command's flags on its CLI11 App and returns
// what runs it (tools/cli.h). The table is tools/registry.inc; add a
// command there and its file to :commands in tools/BUILD.bazel.
//
//   int main(int argc, char** argv) {
//     return slate::tools::RunSlate(argc, argv, slate::tools::AllCommands());
//   }
//
// Contract for every subcommand: results on stdout; errors as one line on
// stderr naming the problem; exit codes as tools/cli.h (0 success, 1 the
// operation failed, 2 bad usage or bad input).
#ifndef SLATE_TOOLS_COMMANDS_H_
#define SLATE_TOOLS_COMMANDS_H_

#include "absl/types/span.h"
#include "tools/cli.h"

namespace slate::tools {

// Every registered command, in the order `slate --help` lists them.
absl::Span<const CommandSpec> AllCommands();

}  // namespace slate::tools

#endif  // SLATE_TOOLS_COMMANDS_H_
