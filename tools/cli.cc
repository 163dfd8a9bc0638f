#include "tools/cli.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "lib/api/tenant.h"
#include "tools/duration_parse.h"

namespace slate::tools {
namespace {

std::string Quote(absl::string_view s) {
  return absl::StrCat("\"", absl::CHexEscape(s), "\"");
}

absl::string_view View(const std::string& s) {
  return absl::string_view(s.data(), s.size());
}

std::vector<const CLI::App*> Subcommands(const CLI::App* app) {
  return app->get_subcommands([](const CLI::App*) { return true; });
}

// The options a user can give (not the help flag), in definition order.
std::vector<const CLI::Option*> UserOptions(const CLI::App* app) {
  std::vector<const CLI::Option*> out;
  for (const CLI::Option* opt : app->get_options()) {
    if (opt != app->get_help_ptr()) out.push_back(opt);
  }
  return out;
}

// The synopsis of a command, e.g. "slate kpi --db DIR [--by DIM]...
// [--tz ZONE]": its path, then each argument and flag in definition order,
// [optional] ones in brackets, repeatable ones with "...". Lines start with
// `lead` (then as many spaces) and wrap to at most 80 columns.
std::string Synopsis(const CLI::App* app, absl::string_view lead) {
  constexpr size_t kWidth = 80;
  std::string line = absl::StrCat(lead, CommandPath(app));
  const std::string indent(line.size() + 1, ' ');
  std::string out;
  for (const CLI::Option* opt : UserOptions(app)) {
    std::string item;
    if (opt->get_positional()) {
      item = opt->get_name(true, false);
    } else if (opt->get_type_size() == 0) {
      item = opt->get_name();
    } else {
      item = absl::StrCat(opt->get_name(), " ", opt->get_type_name());
    }
    if (!opt->get_required()) item = absl::StrCat("[", item, "]");
    if (opt->get_expected_max() > 1) item += "...";
    if (line.size() + 1 + item.size() > kWidth && line.size() > indent.size()) {
      absl::StrAppend(&out, line, "\n");
      line = indent + item;
    } else {
      absl::StrAppend(&line, " ", item);
    }
  }
  return absl::StrCat(out, line, "\n");
}

// Help: the usage lines first, then the summary, the arguments and flags
// (each with its one-line description and default), the subcommands, and
// the footer (details) last.
class SlateFormatter : public CLI::Formatter {
 public:
  SlateFormatter() { column_width(38); }

  std::string make_usage(const CLI::App* app, std::string) const override {
    const std::vector<const CLI::App*> subs = Subcommands(app);
    if (app->get_parent() == nullptr) {
      return absl::StrCat("usage: ", app->get_name(), " COMMAND [FLAGS...]\n",
                          "       ", app->get_name(),
                          " COMMAND --help   (that command's flags)\n");
    }
    if (subs.empty()) return Synopsis(app, "usage: ");
    std::string out;
    for (const CLI::App* sub : subs) {
      out += Synopsis(sub, out.empty() ? "usage: " : "       ");
    }
    return out;
  }

  std::string make_help(const CLI::App* app, std::string name,
                        CLI::AppFormatMode mode) const override {
    if (mode == CLI::AppFormatMode::Sub) return make_expanded(app);
    std::string out = make_usage(app, name);
    if (!app->get_description().empty()) {
      absl::StrAppend(&out, "\n", app->get_description(), "\n");
    }
    absl::StrAppend(&out, make_positionals(app), make_groups(app, mode),
                    make_subcommands(app, mode));
    if (!app->get_footer().empty()) {
      absl::StrAppend(&out, "\n", app->get_footer(), "\n");
    }
    return out;
  }
};

// What went wrong with an argument nobody took.
std::string UnexpectedArgument(const CLI::App* app, const std::string& arg) {
  const bool root = app->get_parent() == nullptr;
  const std::string help_hint =
      root ? "slate help" : absl::StrCat(CommandPath(app), " help");
  if (arg.size() > 1 && arg[0] == '-') {
    const std::string name = arg.substr(0, arg.find('='));
    std::vector<std::string> flags;
    for (const CLI::Option* opt : UserOptions(app)) {
      if (!opt->get_positional()) flags.push_back(opt->get_name());
    }
    if (flags.empty()) {
      return absl::StrCat("unknown flag ", absl::CHexEscape(name),
                          " (try: ", help_hint, ")");
    }
    return absl::StrCat("unknown flag ", absl::CHexEscape(name),
                        " (flags: ", absl::StrJoin(flags, ", "), ")");
  }
  if (!Subcommands(app).empty()) {
    return absl::StrCat("unknown ", root ? "command " : "subcommand ",
                        Quote(arg), " (try: ", help_hint, ")");
  }
  return absl::StrCat("unexpected argument ", Quote(arg));
}

// The message of a parse error, for the deepest command that was parsed.
std::string ParseErrorMessage(const CLI::App* app, const CLI::ParseError& e) {
  const std::string what = e.what();
  const std::string name = what.substr(0, what.find(':'));
  if (dynamic_cast<const CLI::RequiredError*>(&e) != nullptr) {
    const std::vector<const CLI::App*> subs = Subcommands(app);
    if (!subs.empty()) {
      if (app->get_parent() == nullptr) {
        return "missing command (try: slate help)";
      }
      std::vector<std::string> names;
      for (const CLI::App* sub : subs) names.push_back(sub->get_name());
      std::string list = absl::StrJoin(names, ", ");
      if (names.size() == 2) list = absl::StrJoin(names, " or ");
      return absl::StrCat("missing subcommand: ", list,
                          " (try: ", CommandPath(app), " help)");
    }
    constexpr absl::string_view kIsRequired = " is required";
    if (absl::EndsWith(View(what), kIsRequired)) {
      return absl::StrCat("missing ",
                          what.substr(0, what.size() - kIsRequired.size()));
    }
    return what;
  }
  if (dynamic_cast<const CLI::ArgumentMismatch*>(&e) != nullptr) {
    if (absl::StrContains(View(what), "At Most")) {
      return absl::StrCat("flag ", name, " given twice");
    }
    if (absl::EndsWith(View(what), " missing")) {
      return absl::StrCat("flag ", name, " needs a value");
    }
  }
  return what;
}

}  // namespace

std::string CommandPath(const CLI::App* app) {
  std::vector<std::string> names;
  for (const CLI::App* a = app; a != nullptr; a = a->get_parent()) {
    names.push_back(a->get_name());
  }
  std::reverse(names.begin(), names.end());
  return absl::StrJoin(names, " ");
}

std::string UsageErrorLine(const CLI::App& root, const CLI::ParseError& e) {
  std::vector<const CLI::App*> chain = {&root};
  while (true) {
    const std::vector<CLI::App*> parsed = chain.back()->get_subcommands();
    if (parsed.empty()) break;
    chain.push_back(parsed.front());
  }
  // An argument nobody took explains the rest (a missing subcommand or
  // flag after a typo), so it comes first, deepest command first.
  std::string line;
  for (auto it = chain.rbegin(); it != chain.rend() && line.empty(); ++it) {
    for (const std::string& arg : (*it)->remaining(false)) {
      if (arg == "--") continue;
      line = absl::StrCat(CommandPath(*it), ": ", UnexpectedArgument(*it, arg));
      break;
    }
  }
  if (line.empty()) {
    line = absl::StrCat(CommandPath(chain.back()), ": ",
                        ParseErrorMessage(chain.back(), e));
  }
  for (char& c : line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return line;
}

SlateCli BuildSlateCli(absl::Span<const CommandSpec> commands) {
  SlateCli cli;
  cli.app = std::make_unique<CLI::App>(
      "Slate: an event-sourced SLA and incident engine, from the shell.",
      "slate");
  cli.app->formatter(std::make_shared<SlateFormatter>());
  cli.app->require_subcommand(1);
  cli.app->footer(
      "Exit codes: 0 success; 1 the operation failed (database error, failed "
      "command or check);\n2 bad usage (unknown command or flag, missing or "
      "bad value, unreadable input, no database).");
  for (const CommandSpec& c : commands) {
    CLI::App* sub = cli.app->add_subcommand(c.name, c.summary);
    sub->group("Commands");
    cli.runs.emplace_back(sub, c.set_up(sub));
  }
  return cli;
}

namespace {

std::vector<std::string>* command_args = new std::vector<std::string>();
thread_local FILE* tool_out = nullptr;  // Null: stdout.
thread_local FILE* tool_err = nullptr;  // Null: stderr.
thread_local Engine* borrowed_engine = nullptr;

}  // namespace

const std::vector<std::string>& CommandArgs() { return *command_args; }

FILE* ToolOut() { return tool_out != nullptr ? tool_out : stdout; }
FILE* ToolErr() { return tool_err != nullptr ? tool_err : stderr; }

ToolOutputCapture::ToolOutputCapture()
    : prev_out_(tool_out),
      prev_err_(tool_err),
      out_(open_memstream(&out_buf_, &out_size_)),
      err_(open_memstream(&err_buf_, &err_size_)) {
  tool_out = out_;
  tool_err = err_;
}

ToolOutputCapture::~ToolOutputCapture() {
  tool_out = prev_out_;
  tool_err = prev_err_;
  if (out_ != nullptr) std::fclose(out_);
  if (err_ != nullptr) std::fclose(err_);
  std::free(out_buf_);
  std::free(err_buf_);
}

std::string ToolOutputCapture::out() {
  if (out_ == nullptr) return "";
  std::fflush(out_);
  return std::string(out_buf_, out_size_);
}

std::string ToolOutputCapture::err() {
  if (err_ == nullptr) return "";
  std::fflush(err_);
  return std::string(err_buf_, err_size_);
}

BorrowedEngineScope::BorrowedEngineScope(Engine* engine)
    : prev_(borrowed_engine) {
  borrowed_engine = engine;
}

BorrowedEngineScope::~BorrowedEngineScope() { borrowed_engine = prev_; }

int RunSlate(int argc, char** argv, absl::Span<const CommandSpec> commands) {
  command_args->assign(argv + std::min(argc, 2), argv + argc);
  SlateCli cli = BuildSlateCli(commands);
  // `help` where a command or subcommand is expected: `slate help`,
  // `slate help kpi`, `slate calendar help`.
  const CLI::App* at = cli.app.get();
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const CLI::App* next = nullptr;
    for (const CLI::App* sub : Subcommands(at)) {
      if (sub->get_name() == arg) next = sub;
    }
    if (arg == "help" && !Subcommands(at).empty()) {
      const CLI::App* shown = at;
      if (i + 1 < argc) {
        for (const CLI::App* sub : Subcommands(at)) {
          if (sub->get_name() == argv[i + 1]) shown = sub;
        }
      }
      std::fputs(shown->help().c_str(), stdout);
      return kExitOk;
    }
    if (next == nullptr) break;
    at = next;
  }

  try {
    cli.app->parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::fputs(cli.app->help().c_str(), stdout);
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "%s\n", UsageErrorLine(*cli.app, e).c_str());
    return kExitUsage;
  }
  for (auto& [app, run] : cli.runs) {
    if (app->parsed()) return run();
  }
  std::fprintf(stderr, "slate: missing command (try: slate help)\n");
  return kExitUsage;
}

int Fail(absl::string_view command, absl::string_view message, int code) {
  std::string line(message.data(), message.size());
  for (char& c : line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  std::fprintf(ToolErr(), "slate %.*s: %s\n", static_cast<int>(command.size()),
               command.data(), line.c_str());
  return code;
}

CLI::Validator OneOf(std::vector<std::string> values) {
  return CLI::Validator(
      [values](std::string& v) -> std::string {
        for (const std::string& x : values) {
          if (v == x) return "";
        }
        return absl::StrCat(Quote(v), " is not one of ",
                            absl::StrJoin(values, ", "));
      },
      "");
}

CLI::Validator Rfc3339Instant() {
  return CLI::Validator(
      [](std::string& v) -> std::string {
        absl::Time t;
        std::string err;
        if (absl::ParseTime(absl::RFC3339_full, v, &t, &err)) return "";
        return absl::StrCat(Quote(v),
                            " is not RFC 3339 (e.g. 2026-11-27T16:00:00Z)");
      },
      "");
}

std::optional<absl::Time> FlagInstant(const std::string& value) {
  absl::Time t;
  std::string err;
  if (value.empty() || !absl::ParseTime(absl::RFC3339_full, value, &t, &err)) {
    return std::nullopt;
  }
  return t;
}

CLI::Validator InstantOrDate() {
  return CLI::Validator(
      [](std::string& v) -> std::string {
        absl::Time t;
        if (ParseInstantOrDate(v, absl::UTCTimeZone(), &t)) return "";
        return absl::StrCat(Quote(v),
                            " is not RFC 3339 (2026-11-27T16:00:00Z) or a "
                            "date (2026-11-27)");
      },
      "");
}

CLI::Validator NonNegativeInteger() {
  return CLI::Validator(
      [](std::string& v) -> std::string {
        int64_t n = 0;
        if (absl::SimpleAtoi(View(v), &n) && n >= 0) return "";
        return absl::StrCat(Quote(v), " is not a non-negative integer");
      },
      "");
}

CLI::Validator TenantId() {
  return CLI::Validator(
      [](std::string& v) -> std::string {
        absl::Status st = ValidateTenantId(View(v), "");
        if (st.ok()) return "";
        return std::string(st.message());
      },
      "", "tenant id");
}

CLI::Validator KnownTimeZone() {
  return CLI::Validator(
      [](std::string& v) -> std::string {
        absl::TimeZone zone;
        if (absl::LoadTimeZone(v, &zone)) return "";
        return absl::StrCat(Quote(v),
                            " is not a known time zone (e.g. Europe/Berlin)");
      },
      "");
}

CLI::Validator BusinessDuration() {
  return CLI::Validator(
      [](std::string& v) -> std::string {
        absl::StatusOr<absl::Duration> d = ParseBusinessDuration(View(v));
        if (d.ok()) return "";
        return std::string(d.status().message());
      },
      "");
}

CLI::Option* AddDbFlag(CLI::App* app, std::string* db) {
  return app->add_option("--db", *db, "the database directory")
      ->required()
      ->type_name("DIR");
}

CLI::Option* AddTenantFlag(CLI::App* app, std::string* tenant) {
  return app
      ->add_option("--tenant", *tenant,
                   "the tenant whose records to use (default: default)")
      ->type_name("T")
      ->check(TenantId());
}

bool ParseInstantOrDate(const std::string& s, const absl::TimeZone& zone,
                        absl::Time* out) {
  std::string err;
  if (absl::ParseTime(absl::RFC3339_full, s, out, &err)) return true;
  absl::CivilDay day;
  if (absl::ParseCivilTime(s, &day)) {
    *out = zone.At(absl::CivilSecond(day)).pre;
    return true;
  }
  return false;
}

OpenedEngine OpenEngine(absl::string_view command, Options options,
                        const std::string& db, std::optional<absl::Time> now,
                        int* exit_code) {
  OpenedEngine opened;
  if (borrowed_engine != nullptr) {
    opened.engine = borrowed_engine;
    return opened;
  }
  if (now.has_value()) {
    opened.clock = std::make_unique<SimulatedClock>(*now);
    options.clock = opened.clock.get();
  }
  absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Open(options, db);
  if (engine.ok()) {
    opened.owned = *std::move(engine);
    opened.engine = opened.owned.get();
    return opened;
  }
  const absl::StatusCode code = engine.status().code();
  *exit_code = Fail(command, engine.status().ToString(),
                    code == absl::StatusCode::kNotFound ||
                            code == absl::StatusCode::kFailedPrecondition
                        ? kExitUsage
                        : kExitFailed);
  return OpenedEngine();
}

bool ReadWholeFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return in.good() || in.eof();
}

CLI::Option* AddTopFlag(CLI::App* app, int64_t* top, absl::string_view what) {
  return app
      ->add_option("--top", *top,
                   absl::StrCat("at most N ", what, "; 0 means all"))
      ->type_name("N")
      ->check(NonNegativeInteger())
      ->capture_default_str();
}

CLI::Option* AddFormatFlag(CLI::App* app, std::string* format) {
  return app->add_option("--format", *format, "output format (as slate kpi)")
      ->type_name("table|csv|json")
      ->check(OneOf({"table", "csv", "json"}))
      ->capture_default_str();
}

}  // namespace slate::tools
