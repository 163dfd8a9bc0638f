// Runs the built `slate` binary (//tools:slate) and checks its command line
// against the registry it is built from (tools/registry.inc, through
// AllCommands() and the CLI11 apps BuildSlateCli makes of it): `slate --help`
// lists every registered command with its summary, `slate CMD --help` every
// flag of the command with its description and default, usage errors are one
// line on stderr with exit code 2, and failures (a database held by another
// process) one line with exit code 1.
#include <fstream>
#include <memory>
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/api/engine.h"
#include "tests/report/subprocess.h"
#include "tests/testing/temp_dir.h"
#include "tools/cli.h"
#include "tools/commands.h"

namespace slate {
namespace {

using ::slate::testing::ProcessResult;
using ::slate::testing::Runfile;
using ::slate::testing::RunProcess;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

// A command (or subcommand) of the registry: its words after "slate" and
// its CLI11 app.
struct Leaf {
  std::vector<std::string> words;
  const CLI::App* app;
};

void CollectLeaves(const CLI::App* app, std::vector<std::string> words,
                   std::vector<Leaf>* out) {
  const std::vector<const CLI::App*> subs =
      app->get_subcommands([](const CLI::App*) { return true; });
  out->push_back({words, app});
  for (const CLI::App* sub : subs) {
    std::vector<std::string> w = words;
    w.push_back(sub->get_name());
    CollectLeaves(sub, w, out);
  }
}

class SlateCliTest : public ::testing::Test {
 protected:
  SlateCliTest() : cli_(tools::BuildSlateCli(tools::AllCommands())) {
    for (const CLI::App* sub :
         cli_.app->get_subcommands([](const CLI::App*) { return true; })) {
      CollectLeaves(sub, {sub->get_name()}, &leaves_);
    }
  }

  ProcessResult Slate(std::vector<std::string> args) {
    args.insert(args.begin(), Runfile("tools/slate"));
    return RunProcess(args, tmp_.Sub(absl::StrCat("run", runs_++)));
  }

  // Exit 2, nothing on stdout, exactly one line on stderr starting with
  // `prefix`; returns the line.
  std::string ExpectUsageError(const std::vector<std::string>& args,
                               const std::string& prefix) {
    ProcessResult r = Slate(args);
    EXPECT_EQ(r.code, 2) << absl::StrJoin(args, " ") << "\n" << r;
    EXPECT_EQ(r.out, "") << r;
    EXPECT_EQ(Lines(r.err).size(), 1u) << r;
    EXPECT_TRUE(absl::EndsWith(r.err, "\n")) << r;
    EXPECT_THAT(r.err, StartsWith(prefix)) << r;
    return r.err.substr(0, r.err.find('\n'));
  }

  testing::TempDir tmp_;
  int runs_ = 0;
  tools::SlateCli cli_;
  std::vector<Leaf> leaves_;
};

TEST_F(SlateCliTest, RegistryHasTheDocumentedCommands) {
  // The derivation below must have something to check.
  ASSERT_GE(tools::AllCommands().size(), 11u);
  ASSERT_GT(leaves_.size(), tools::AllCommands().size());  // calendar add...
}

TEST_F(SlateCliTest, HelpListsEveryRegisteredCommandWithItsSummary) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"--help"}, {"-h"}, {"help"}}) {
    ProcessResult r = Slate(args);
    ASSERT_EQ(r.code, 0) << r;
    EXPECT_EQ(r.err, "");
    EXPECT_THAT(r.out, StartsWith("usage: slate COMMAND")) << r;
    std::vector<std::string> listed;
    bool in_commands = false;
    for (const std::string& line : Lines(r.out)) {
      if (line == "Commands:")
        in_commands = true;
      else if (in_commands && !absl::StartsWith(line, "  "))
        in_commands = false;
      else if (in_commands) {
        listed.push_back(std::string(absl::StripLeadingAsciiWhitespace(line)));
      }
    }
    ASSERT_EQ(listed.size(), tools::AllCommands().size()) << r;
    for (size_t i = 0; i < listed.size(); ++i) {
      const tools::CommandSpec& c = tools::AllCommands()[i];
      EXPECT_THAT(listed[i], StartsWith(absl::StrCat(c.name, " "))) << r;
      EXPECT_THAT(listed[i], HasSubstr(c.summary)) << r;
      EXPECT_EQ(std::string(c.summary).find('\n'), std::string::npos);
    }
  }
}

TEST_F(SlateCliTest, EachCommandsHelpNamesEveryFlagWithDescriptionAndDefault) {
  int flags_checked = 0;
  for (const Leaf& leaf : leaves_) {
    std::vector<std::string> args = leaf.words;
    args.push_back("--help");
    ProcessResult r = Slate(args);
    const std::string path =
        absl::StrCat("slate ", absl::StrJoin(leaf.words, " "));
    ASSERT_EQ(r.code, 0) << path << "\n" << r;
    EXPECT_EQ(r.err, "") << path;
    EXPECT_THAT(r.out, StartsWith(absl::StrCat("usage: ", path))) << r;
    const std::string& summary = leaf.app->get_description();
    EXPECT_FALSE(summary.empty()) << path;
    EXPECT_THAT(r.out, HasSubstr(summary)) << r;
    for (const CLI::Option* opt : leaf.app->get_options()) {
      if (opt == leaf.app->get_help_ptr()) continue;
      const std::string name =
          opt->get_positional() ? opt->get_name(true, false) : opt->get_name();
      const std::string& description = opt->get_description();
      EXPECT_FALSE(description.empty()) << path << " " << name;
      EXPECT_EQ(description.find('\n'), std::string::npos) << name;
      // The flag's entry: "  NAME ..." with the description on that line or
      // the next (when the name column overflows).
      bool found = false;
      const std::vector<std::string> lines = Lines(r.out);
      for (size_t i = 0; i < lines.size() && !found; ++i) {
        if (!absl::StartsWith(lines[i], absl::StrCat("  ", name))) continue;
        const std::string entry =
            lines[i] + (i + 1 < lines.size() ? "\n" + lines[i + 1] : "");
        found = absl::StrContains(entry, description);
        if (found && !opt->get_default_str().empty()) {
          EXPECT_THAT(lines[i], HasSubstr("=" + opt->get_default_str()))
              << path << " " << name;
        }
      }
      EXPECT_TRUE(found) << path << ": no entry for " << name << "\n" << r;
      // And the usage synopsis names it.
      EXPECT_THAT(r.out.substr(0, r.out.find("\n\n")), HasSubstr(name)) << path;
      ++flags_checked;
    }
  }
  EXPECT_GT(flags_checked, 40);
}

TEST_F(SlateCliTest, HelpWordAndSubcommandHelp) {
  ProcessResult r = Slate({"help", "kpi"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_THAT(r.out, StartsWith("usage: slate kpi [--db DIR] [--nats URLS]")) << r;
  r = Slate({"import", "help"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_THAT(r.out, StartsWith("usage: slate import servicenow FILE --db DIR"))
      << r;
  // --help wins over missing required flags.
  r = Slate({"at-risk", "--within", "4h", "-h"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_THAT(r.out, StartsWith("usage: slate at-risk [--db DIR] [--nats URLS]")) << r;
}

TEST_F(SlateCliTest, EveryCommandRefusesAnUnknownFlagInOneLine) {
  for (const Leaf& leaf : leaves_) {
    std::vector<std::string> args = leaf.words;
    args.push_back("--no-such-flag");
    const std::string path =
        absl::StrCat("slate ", absl::StrJoin(leaf.words, " "));
    ExpectUsageError(args, absl::StrCat(path, ": unknown flag --no-such-flag"));
  }
}

TEST_F(SlateCliTest, EveryRequiredFlagIsReportedMissing) {
  int checked = 0;
  for (const Leaf& leaf : leaves_) {
    const std::string path =
        absl::StrCat("slate ", absl::StrJoin(leaf.words, " "));
    if (!leaf.app->get_subcommands([](const CLI::App*) { return true; })
             .empty()) {
      // A command with subcommands needs one.
      EXPECT_THAT(ExpectUsageError(leaf.words, path + ": "),
                  HasSubstr("missing subcommand"));
      ++checked;
      continue;
    }
    const std::vector<const CLI::Option*> options = leaf.app->get_options();
    for (size_t k = 0; k < options.size(); ++k) {
      const CLI::Option* opt = options[k];
      if (!opt->get_required()) continue;
      // A positional followed by another required one cannot be left out
      // alone: the next value would take its place (KIND ID).
      if (opt->get_positional() &&
          std::any_of(options.begin() + k + 1, options.end(),
                      [](const CLI::Option* o) {
                        return o->get_positional() && o->get_required();
                      })) {
        continue;
      }
      // Every other required flag or argument given a plausible value.
      std::vector<std::string> args = leaf.words;
      for (const CLI::Option* other : leaf.app->get_options()) {
        if (other == opt || !other->get_required()) continue;
        if (!other->get_positional()) args.push_back(other->get_name());
        args.push_back(other->get_name() == "--within" ? "4h"
                       : other->get_name() == "--now"  ? "2026-11-27T16:00:00Z"
                       : other->get_name() == "KIND"   ? "incident"
                       : other->get_name() == "--partitions" ? "4"
                                                       : tmp_.Sub("x"));
      }
      const std::string name =
          opt->get_positional() ? opt->get_name(true, false) : opt->get_name();
      EXPECT_EQ(ExpectUsageError(args, path + ": "),
                absl::StrCat(path, ": missing ", name));
      ++checked;
    }
  }
  EXPECT_GE(checked, 12);
}

TEST_F(SlateCliTest, UsageErrorsExitTwoWithOneLine) {
  const std::string none = tmp_.Sub("no-database");
  struct Case {
    std::vector<std::string> args;
    std::string line;
  };
  const std::vector<Case> cases = {
      {{}, "slate: missing command (try: slate help)"},
      {{"frobnicate"},
       "slate: unknown command \"frobnicate\" (try: slate help)"},
      {{"--db", none}, "slate: unknown flag --db (try: slate help)"},
      {{"kpi", "--db"}, "slate kpi: flag --db needs a value"},
      {{"kpi", "--db", none, "--db", none}, "slate kpi: flag --db given twice"},
      {{"kpi", "--db", none, "--bucket", "year"},
       "slate kpi: --bucket: \"year\" is not one of day, week, month, all"},
      {{"kpi", "--db", none, "--by", "priority,colour"},
       "slate kpi: --by: \"colour\" is not one of service, priority, group, "
       "category, contact, tenant"},
      {{"kpi", "--db", none, "--tenant", "acme", "--all-tenants"},
       "slate kpi: --tenant excludes --all-tenants"},
      {{"kpi", "--db", none, "--tenant", "Acme"},
       "slate kpi: --tenant: tenant id \"Acme\" may hold only a-z, 0-9, '_' "
       "and '-'"},
      {{"trends", "--db", none, "--tenant", "a/b"},
       "slate trends: --tenant: tenant id \"a/b\" may hold only a-z, 0-9, "
       "'_' and '-'"},
      {{"report", "--db", none, "--out", "r.html", "--tenant", "_x"},
       "slate report: --tenant: tenant id \"_x\" must start with a letter or "
       "a digit"},
      {{"kpi", "--db", none, "--tz", "Mars/Base"},
       "slate kpi: --tz: \"Mars/Base\" is not a known time zone (e.g. "
       "Europe/Berlin)"},
      {{"log", "--db", none, "--limit", "-3"},
       "slate log: --limit: \"-3\" is not a non-negative integer"},
      {{"tick", "--db", none, "--now", "tomorrow"},
       "slate tick: --now: \"tomorrow\" is not RFC 3339 (e.g. "
       "2026-11-27T16:00:00Z)"},
      {{"at-risk", "--db", none, "--now", "2026-11-27T16:00:00Z", "--within",
        "soon"},
       "slate at-risk: --within: duration \"soon\": expected a number at "
       "\"soon\" (use e.g. 90s, 45m, 4h, 2d, 1h30m)"},
      {{"trends", "--db", none, "--min", "1"},
       "slate trends: --min: must be >= 2"},
      {{"version", "extra"}, "slate version: unexpected argument \"extra\""},
      {{"show", "ticket", "T1", "--db", none},
       "slate show: KIND: \"ticket\" is not one of incident, problem, change, "
       "service, request, catalog, priority-matrix"},
      {{"import", "zendesk"},
       "slate import: unknown subcommand \"zendesk\" (try: slate import help)"},
      {{"calendar", "add", "--calendar", "c.json", "--start",
        "2026-11-27T16:00:00Z", "--duration", "4h", "--duration", "1h"},
       "slate calendar add: flag --duration given twice"},
      // A --db that holds no database is a wrong flag value.
      {{"log", "--db", none},
       absl::StrCat("slate log: NOT_FOUND: no Slate database in ", none,
                    " (and create_if_missing is false)")},
      {{"import", "servicenow", tmp_.Sub("missing.csv"), "--db", none},
       absl::StrCat("slate import servicenow: NOT_FOUND: ",
                    tmp_.Sub("missing.csv"), ": No such file or directory")},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ExpectUsageError(c.args, "slate"), c.line);
  }
}

TEST_F(SlateCliTest, FailuresExitOneWithOneLine) {
  // A database another process holds open (RocksDB's lock): every command
  // that opens it fails, and says so in one line.
  const std::string db = tmp_.Sub("db");
  const std::string commands = tmp_.Sub("commands.jsonl");
  {
    std::ofstream out(commands);
    out << R"({"defineService":{"serviceId":"email","name":"E-mail"}})"
        << "\n"
        << R"({"openIncident":{"incidentId":"INC1","at":"2026-11-27T15:00:00Z",)"
        << R"("serviceId":"email","impact":1,"urgency":2}})"
        << "\n";
    ASSERT_TRUE(out.good());
  }
  {
    ProcessResult r =
        Slate({"exec", "--db", db, "--now", "2026-11-27T16:00:00Z", commands});
    ASSERT_EQ(r.code, 0) << r;
  }
  Options options;
  options.create_if_missing = false;
  absl::StatusOr<std::unique_ptr<Engine>> held = Engine::Open(options, db);
  ASSERT_TRUE(held.ok()) << held.status();
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{
           {"log", "--db", db},
           {"verify", "--db", db},
           {"kpi", "--db", db, "--now", "2026-12-01T00:00:00Z"},
           {"show", "incident", "INC1", "--db", db},
           {"tick", "--db", db, "--now", "2026-11-28T00:00:00Z"}}) {
    ProcessResult r = Slate(args);
    EXPECT_EQ(r.code, 1) << args[0] << "\n" << r;
    EXPECT_EQ(r.out, "") << r;
    EXPECT_EQ(Lines(r.err).size(), 1u) << r;
    EXPECT_THAT(r.err, StartsWith(absl::StrCat("slate ", args[0], ": "))) << r;
    EXPECT_THAT(r.err, HasSubstr("lock")) << r;
  }
  held->reset();
  // Once released, the same commands work: the failure was the database's.
  ProcessResult r = Slate({"log", "--db", db, "--limit", "1"});
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_EQ(Lines(r.out).size(), 1u) << r;
  // A record that does not exist is a failure, not a usage error.
  r = Slate({"show", "incident", "NOPE", "--db", db});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_EQ(Lines(r.err).size(), 1u) << r;
  EXPECT_THAT(r.err, StartsWith("slate show: NOT_FOUND")) << r;
}

}  // namespace
}  // namespace slate
