// slate log: prints events of a database as JSON lines (the protobuf JSON
// mapping of Envelope, proto/events.proto), oldest first.
//
//   $ slate log --db /tmp/slate --limit 2
//   {"eventId":"...","stream":"service/email","position":"0",...}
//   {"eventId":"...","stream":"incident/INC1","position":"1",...}
//   $ slate log --db /tmp/slate --stream incident/INC1 --from 3
//
// - Without --stream: the whole log ("$all") from log position --from.
// - `--stream S`: only stream S, from stream version --from (an unknown
//   stream prints nothing).
// - `--from POS` (default 0): the first position (or version) printed.
// - `--limit N` (default: no limit): at most N events.
// Field names are lowerCamelCase and 64-bit integers are JSON strings, as
// the protobuf JSON mapping has them; one event per line.
// Exit codes: 0 success; 1 reading the log failed; 2 bad usage or no
// database in DIR (tools/cli.h).
#include <cstdint>
#include <cstdio>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "lib/api/engine.h"
#include "tools/cli.h"

namespace slate::tools {
namespace {

constexpr size_t kPage = 1024;

struct LogFlags {
  std::string db;
  std::optional<std::string> stream;
  int64_t from = 0;
  std::optional<int64_t> limit;
};

int RunLog(const LogFlags& f) {
  const bool has_stream = f.stream.has_value();
  if (has_stream && f.stream->empty()) {
    return Usage("log", "--stream must not be empty");
  }
  int64_t position = f.from;
  int64_t remaining = f.limit.value_or(std::numeric_limits<int64_t>::max());
  Options options;
  options.create_if_missing = false;
  int code = kExitOk;
  OpenedEngine opened = OpenEngine("log", options, f.db, std::nullopt, &code);
  if (opened.engine == nullptr) return code;
  Engine* engine = opened.engine;
  google::protobuf::util::JsonPrintOptions json;
  json.add_whitespace = false;
  while (remaining > 0) {
    const size_t n = static_cast<size_t>(std::min<int64_t>(remaining, kPage));
    absl::StatusOr<std::vector<Envelope>> page =
        has_stream ? engine->ReadStream(*f.stream, position, n)
                   : engine->ReadAll(position, n);
    if (!page.ok()) return Fail("log", page.status().ToString());
    for (const Envelope& e : *page) {
      std::string line;
      auto st = google::protobuf::util::MessageToJsonString(e, &line, json);
      if (!st.ok()) {
        return Fail("log", absl::StrCat("event at position ", e.position(),
                                        ": ", st.ToString()));
      }
      line += '\n';
      std::fwrite(line.data(), 1, line.size(), stdout);
      position = (has_stream ? e.version() : e.position()) + 1;
    }
    remaining -= static_cast<int64_t>(page->size());
    if (page->size() < n) break;
  }
  if (std::fflush(stdout) != 0) return Fail("log", "writing stdout failed");
  return kExitOk;
}

}  // namespace

CommandRun SetUpLogCommand(CLI::App* app) {
  auto f = std::make_shared<LogFlags>();
  AddDbFlag(app, &f->db);
  app->add_option(
         "--stream", f->stream,
         "only this stream, e.g. incident/INC1 (default: the whole log)")
      ->type_name("S");
  app->add_option("--from", f->from,
                  "first log position (with --stream: stream version)")
      ->type_name("POS")
      ->check(NonNegativeInteger())
      ->capture_default_str();
  app->add_option("--limit", f->limit, "print at most N events (default: all)")
      ->type_name("N")
      ->check(NonNegativeInteger());
  return [f] { return RunLog(*f); };
}

}  // namespace slate::tools
