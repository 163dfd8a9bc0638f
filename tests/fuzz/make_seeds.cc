// Writes the seed corpora of the fuzz targets from the examples. Run once
// when the examples or schemas change; the output is committed (small):
//
//   bazel run //tests/fuzz:make_seeds -- $PWD/tests/fuzz/corpus $PWD/examples
//
// envelope/       every event the examples/domain scripts log (a leading byte
//                 selects "whole envelope"), and each payload type bare once.
// command_exec/   each examples/domain script whole, and each command line.
// business_time/  a few fixed byte strings (the target builds calendars from
//                 bytes; libFuzzer grows these quickly).
// Calendar and policy JSON seeds are files copied by hand (see RESULTS.md).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"
#include "lib/api/clock.h"
#include "lib/domain/event_store.h"
#include "lib/domain/executor.h"
#include "proto/commands.pb.h"
#include "proto/events.pb.h"

namespace fs = std::filesystem;

namespace {

void Write(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

std::string Read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: make_seeds CORPUS_DIR EXAMPLES_DIR\n");
    return 2;
  }
  const fs::path corpus = argv[1];
  const fs::path examples = argv[2];
  const auto* payload =
      slate::Envelope::descriptor()->FindOneofByName("payload");
  const char whole = static_cast<char>(payload->field_count());

  slate::SimulatedClock clock;
  absl::Time now;
  std::string err;
  absl::ParseTime(absl::RFC3339_full, "2026-11-27T16:00:00Z", &now, &err);
  clock.Set(now);
  slate::InMemoryEventStore store(&clock);
  slate::CommandExecutor exec(&store, &clock);
  int commands = 0;
  for (const char* name :
       {"service", "incident", "problem", "change", "change_review",
        "requests"}) {
    const std::string text =
        Read(examples / "domain" / absl::StrCat(name, ".jsonl"));
    std::string script;
    int line_no = 0;
    for (absl::string_view line : absl::StrSplit(text, '\n')) {
      if (line.empty() || line[0] == '#') continue;
      absl::StrAppend(&script, line, "\n");
      Write(corpus / "command_exec" / absl::StrCat(name, "-", line_no++),
            std::string(line));
      slate::Command c;
      if (google::protobuf::util::JsonStringToMessage(std::string(line), &c)
              .ok()) {
        exec.Execute(c).IgnoreError();
        ++commands;
      }
    }
    Write(corpus / "command_exec" / absl::StrCat(name, "-script"), script);
  }
  std::map<int, int> per_payload;
  int envelopes = 0;
  for (const slate::Envelope& e : store.All()) {
    const int field = e.payload_case();
    if (per_payload[field]++ >= 2) continue;  // Two of each kind is plenty.
    Write(corpus / "envelope" / absl::StrCat("event-", envelopes++),
          std::string(1, whole) + e.SerializeAsString());
    for (int i = 0; i < payload->field_count(); ++i) {
      if (payload->field(i)->number() != field || per_payload[field] > 1) {
        continue;
      }
      const auto& msg = e.GetReflection()->GetMessage(e, payload->field(i));
      Write(corpus / "envelope" / absl::StrCat("payload-", field),
            std::string(1, static_cast<char>(i)) + msg.SerializeAsString());
    }
  }
  std::mt19937_64 rng(8);
  for (int i = 0; i < 8; ++i) {
    std::string bytes(96, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    Write(corpus / "business_time" / absl::StrCat("random-", i), bytes);
  }
  std::printf("%d commands, %zu events, %d envelope seeds\n", commands,
              store.All().size(), envelopes);
  return 0;
}
