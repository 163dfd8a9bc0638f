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
// database in DIR.
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "lib/api/engine.h"

namespace slate::tools {
namespace {

constexpr char kUsage[] =
    "usage: slate log --db DIR [--stream S] [--from POS] [--limit N]\n";

int Usage(const std::string& message) {
  std::fprintf(stderr, "slate log: %s\n%s", message.c_str(), kUsage);
  return 2;
}

constexpr size_t kPage = 1024;

}  // namespace

int RunLogCommand(int argc, char** argv) {
  std::string db, stream, from = "0", limit;
  bool has_stream = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    std::string name = a, value;
    bool has_inline = false;
    if (absl::StartsWith(a, "--") && a.find('=') != std::string::npos) {
      name = a.substr(0, a.find('='));
      value = a.substr(a.find('=') + 1);
      has_inline = true;
    }
    if (name == "--help" || name == "-h") {
      std::printf("%s", kUsage);
      return 0;
    }
    std::string* target = name == "--db"       ? &db
                          : name == "--stream" ? &stream
                          : name == "--from"   ? &from
                          : name == "--limit"  ? &limit
                                               : nullptr;
    if (target == nullptr) return Usage(absl::StrCat("unknown argument ", a));
    if (has_inline) {
      *target = value;
    } else if (i + 1 < argc) {
      *target = argv[++i];
    } else {
      return Usage(absl::StrCat(name, " needs a value"));
    }
    if (target == &stream) has_stream = true;
  }
  if (db.empty()) return Usage("--db DIR is required");
  if (has_stream && stream.empty()) return Usage("--stream must not be empty");
  int64_t position = 0;
  if (!absl::SimpleAtoi(from, &position) || position < 0) {
    return Usage(
        absl::StrCat("--from \"", from, "\" is not a non-negative integer"));
  }
  int64_t remaining = std::numeric_limits<int64_t>::max();
  if (!limit.empty() &&
      (!absl::SimpleAtoi(limit, &remaining) || remaining < 0)) {
    return Usage(
        absl::StrCat("--limit \"", limit, "\" is not a non-negative integer"));
  }

  Options options;
  options.create_if_missing = false;
  auto engine = Engine::Open(options, db);
  if (!engine.ok()) {
    return Usage(std::string(engine.status().ToString()));
  }
  google::protobuf::util::JsonPrintOptions json;
  json.add_whitespace = false;
  while (remaining > 0) {
    const size_t n = static_cast<size_t>(std::min<int64_t>(remaining, kPage));
    absl::StatusOr<std::vector<Envelope>> page =
        has_stream ? (*engine)->ReadStream(stream, position, n)
                   : (*engine)->ReadAll(position, n);
    if (!page.ok()) {
      std::fprintf(stderr, "slate log: %s\n",
                   std::string(page.status().ToString()).c_str());
      return 1;
    }
    for (const Envelope& e : *page) {
      std::string line;
      auto st = google::protobuf::util::MessageToJsonString(e, &line, json);
      if (!st.ok()) {
        std::fprintf(stderr, "slate log: event at position %lld: %s\n",
                     static_cast<long long>(e.position()),
                     std::string(st.ToString()).c_str());
        return 1;
      }
      line += '\n';
      std::fwrite(line.data(), 1, line.size(), stdout);
      position = (has_stream ? e.version() : e.position()) + 1;
    }
    remaining -= static_cast<int64_t>(page->size());
    if (page->size() < n) break;
  }
  if (std::fflush(stdout) != 0) {
    std::fprintf(stderr, "slate log: writing stdout failed\n");
    return 1;
  }
  return 0;
}

}  // namespace slate::tools
