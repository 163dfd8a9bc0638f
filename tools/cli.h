// The `slate` tool's command line, on CLI11 (Debian's libcli11-dev): how a
// subcommand registers its flags, the help layout, the one-line errors and
// the exit codes every command shares.
//
//   // tools/log_cmd.cc
//   CommandRun SetUpLogCommand(CLI::App* app) {
//     auto f = std::make_shared<LogFlags>();
//     AddDbFlag(app, &f->db);
//     app->add_option("--limit", f->limit, "print at most N events")
//         ->type_name("N")
//         ->check(NonNegativeInteger());
//     return [f] { return RunLog(*f); };
//   }
//
// Exit codes (kExit*), the same for every command:
//   0  success (help included: it goes to stdout);
//   1  the operation failed: a database error, a failed command or check,
//      bad data met while working;
//   2  bad usage: unknown command, subcommand or flag, a flag given twice or
//      without its value, a missing required flag or argument, a value that
//      does not parse, an input file named on the command line that cannot
//      be read or is not valid, a --db directory that holds no database.
// Errors are one line on stderr, "slate <command>: <what is wrong>", with
// nothing on stdout for a usage error.
#ifndef SLATE_TOOLS_CLI_H_
#define SLATE_TOOLS_CLI_H_

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "lib/api/clock.h"
#include "lib/api/engine.h"

namespace slate::tools {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;

// Runs a parsed command; returns its exit code.
using CommandRun = std::function<int()>;
// Registers a command's flags and positionals on `app` (its subcommand of
// the root App; name and summary are set already) and returns what runs it.
// The returned function is called only after a successful parse.
using CommandSetUp = CommandRun (*)(CLI::App* app);

// One `slate` subcommand (the table is tools/registry.inc).
struct CommandSpec {
  const char* name;
  const char* summary;  // One line, for `slate --help`.
  CommandSetUp set_up;
};

// The root App with every command of `commands` registered, in order, and
// what runs each (runs[i] belongs to app->get_subcommands({})[i]).
struct SlateCli {
  std::unique_ptr<CLI::App> app;
  std::vector<std::pair<CLI::App*, CommandRun>> runs;
};
SlateCli BuildSlateCli(absl::Span<const CommandSpec> commands);

// Parses argv and runs the command it names; returns the exit code.
// `slate help`, `slate --help`, `slate CMD --help`/`-h` and, for commands
// with subcommands, `slate CMD help` print help on stdout and return 0.
int RunSlate(int argc, char** argv, absl::Span<const CommandSpec> commands);

// "slate calendar add" for the App of `calendar add`.
std::string CommandPath(const CLI::App* app);

// The one-line usage error for a failed parse of `root`'s command line
// ("slate calendar add: missing --duration"), without the newline.
std::string UsageErrorLine(const CLI::App& root, const CLI::ParseError& e);

// The arguments after the command's name of the command line RunSlate
// runs (`slate kpi --db D` -> {"--db", "D"}): what a command run on a
// cluster's node gets (tools/remote_tool.h).
const std::vector<std::string>& CommandArgs();

// Where commands print: stdout and stderr, or, on this thread, what a
// ToolOutputCapture collects (a node running a client's command).
FILE* ToolOut();
FILE* ToolErr();

// While alive, this thread's ToolOut() and ToolErr() go to memory.
class ToolOutputCapture {
 public:
  ToolOutputCapture();
  ~ToolOutputCapture();
  ToolOutputCapture(const ToolOutputCapture&) = delete;
  ToolOutputCapture& operator=(const ToolOutputCapture&) = delete;
  // What was printed so far (flushes).
  std::string out();
  std::string err();

 private:
  FILE* prev_out_;
  FILE* prev_err_;
  char* out_buf_ = nullptr;
  size_t out_size_ = 0;
  char* err_buf_ = nullptr;
  size_t err_size_ = 0;
  FILE* out_;
  FILE* err_;
};

// While alive, OpenEngine on this thread returns `engine` (not owned)
// whatever the directory: a node runs a client's command on a partition's
// engine.
class BorrowedEngineScope {
 public:
  explicit BorrowedEngineScope(Engine* engine);
  ~BorrowedEngineScope();
  BorrowedEngineScope(const BorrowedEngineScope&) = delete;
  BorrowedEngineScope& operator=(const BorrowedEngineScope&) = delete;

 private:
  Engine* prev_;
};

// Prints "slate <command>: <message>" as one line on ToolErr() (newlines
// in the message become spaces) and returns `code`. `command` is the command's
// path without "slate", e.g. "kpi" or "import servicenow".
int Fail(absl::string_view command, absl::string_view message,
         int code = kExitFailed);
inline int Usage(absl::string_view command, absl::string_view message) {
  return Fail(command, message, kExitUsage);
}

// --- Validators (run while parsing; a refusal is a usage error, exit 2) ---

// The value is one of `values`: `--bucket: "year" is not one of day, week,
// month`.
CLI::Validator OneOf(std::vector<std::string> values);
// An RFC 3339 instant (absl::RFC3339_full), e.g. 2026-11-27T16:00:00Z.
CLI::Validator Rfc3339Instant();
// The instant of a value Rfc3339Instant() accepted; nullopt for "" (the
// flag was not given) and for a value it would refuse.
std::optional<absl::Time> FlagInstant(const std::string& value);

// The whole file at `path` into *out; false if it cannot be read.
bool ReadWholeFile(const std::string& path, std::string* out);
// An RFC 3339 instant or a date YYYY-MM-DD.
CLI::Validator InstantOrDate();
// A decimal integer >= 0 that fits in int64.
CLI::Validator NonNegativeInteger();
// An IANA time zone name that loads (absl::LoadTimeZone).
CLI::Validator KnownTimeZone();
// A business duration (tools/duration_parse.h): 90s, 45m, 4h, 2d, 1h30m.
CLI::Validator BusinessDuration();
// A tenant id (ValidateTenantId, lib/api/tenant.h).
CLI::Validator TenantId();

// --- Shared flags and helpers ---

// Adds the required `--db DIR`.
CLI::Option* AddDbFlag(CLI::App* app, std::string* db);
// Adds `--tenant T`: the tenant whose records the command reads or writes
// (lib/api/tenant.h), checked by ValidateTenantId. Not given: *tenant stays
// as it was (empty means the default tenant to every lib/api call).
CLI::Option* AddTenantFlag(CLI::App* app, std::string* tenant);
// Adds `--top N` ("at most N <what>; 0 means all"), default *top.
CLI::Option* AddTopFlag(CLI::App* app, int64_t* top, absl::string_view what);
// Adds `--format table|csv|json` (as slate kpi), default *format.
CLI::Option* AddFormatFlag(CLI::App* app, std::string* format);

// RFC 3339 (absl::RFC3339_full), or a civil date at midnight in `zone`.
bool ParseInstantOrDate(const std::string& s, const absl::TimeZone& zone,
                        absl::Time* out);

// An open database and the simulated clock it runs on. Members are
// destroyed engine first.
struct OpenedEngine {
  std::unique_ptr<SimulatedClock> clock;  // Null: the options' clock.
  std::unique_ptr<Engine> owned;          // Null: borrowed, or failed.
  Engine* engine = nullptr;               // Null: opening failed.
};

// Opens the database in `db` with `options`, on a SimulatedClock at `now`
// when given (`slate exec --now`); within a BorrowedEngineScope, the
// borrowed engine as it is (`db`, `options` and `now` unused). On failure prints the one-line error for
// `command`, sets *exit_code and returns a null engine: 2 when `db` holds no
// (Slate) database (kNotFound, kFailedPrecondition: the --db value is
// wrong), 1 for any other error (corruption, I/O, a lock held elsewhere).
OpenedEngine OpenEngine(absl::string_view command, Options options,
                        const std::string& db, std::optional<absl::Time> now,
                        int* exit_code);

}  // namespace slate::tools

#endif  // SLATE_TOOLS_CLI_H_
