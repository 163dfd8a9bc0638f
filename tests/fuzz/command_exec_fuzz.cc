// Fuzz target: the `slate exec` input. Each line of the input is read as a
// Command in the protobuf JSON mapping (as `slate exec` does) and executed
// in order against a fresh CommandExecutor on an InMemoryEventStore with a
// fixed simulated clock. Beyond not crashing:
//  - a failed command appends nothing (the executor's contract: every stream
//    is decided before the first append; kAborted is excluded, it may be
//    partial by contract but cannot happen with one writer);
//  - executing a succeeded command again appends nothing and succeeds;
//  - a loaded aggregate equals the state a fresh (not replayed) execution
//    returned.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "lib/api/clock.h"
#include "lib/domain/event_store.h"
#include "lib/domain/executor.h"
#include "proto/commands.pb.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

constexpr int kMaxCommands = 24;

// The kind and id of the aggregate a result describes, for Load.
bool Aggregate(const slate::ExecuteResult& r, std::string* kind,
               std::string* id) {
  switch (r.state_case()) {
    case slate::ExecuteResult::kIncident:
      *kind = "incident";
      *id = r.incident().incident_id();
      return true;
    case slate::ExecuteResult::kProblem:
      *kind = "problem";
      *id = r.problem().problem_id();
      return true;
    case slate::ExecuteResult::kChange:
      *kind = "change";
      *id = r.change().change_id();
      return true;
    case slate::ExecuteResult::kService:
      *kind = "service";
      *id = r.service().spec().service_id();
      return true;
    default:
      return false;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  slate::SimulatedClock clock(absl::FromUnixSeconds(1795881600));  // 11-28
  slate::InMemoryEventStore store(&clock);
  slate::CommandExecutor exec(&store, &clock);
  google::protobuf::util::JsonParseOptions parse;
  parse.ignore_unknown_fields = false;
  int executed = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (executed == kMaxCommands) break;
    slate::Command command;
    if (!google::protobuf::util::JsonStringToMessage(
             std::string(line.data(), line.size()), &command, parse)
             .ok()) {
      continue;
    }
    ++executed;
    const size_t before = store.All().size();
    absl::StatusOr<slate::ExecuteResult> r = exec.Execute(command);
    if (!r.ok()) {
      FUZZ_CHECK(r.status().code() != absl::StatusCode::kAborted &&
                     r.status().code() != absl::StatusCode::kInternal &&
                     r.status().code() != absl::StatusCode::kUnknown,
                 "single writer got ", r.status().ToString());
      FUZZ_CHECK(store.All().size() == before, "failed command (",
                 r.status().ToString(), ") appended ",
                 store.All().size() - before, " events");
      continue;
    }
    const size_t after = store.All().size();
    absl::StatusOr<slate::ExecuteResult> again = exec.Execute(command);
    FUZZ_CHECK(again.ok(), "re-executing a succeeded command failed: ",
               again.status().ToString());
    FUZZ_CHECK(store.All().size() == after, "re-executing appended ",
               store.All().size() - after, " events");
    // A replayed command returns the state right after its original events
    // (not the current one), so only a fresh execution is compared.
    std::string kind, id;
    if (!r->idempotent_replay() && Aggregate(*r, &kind, &id)) {
      absl::StatusOr<slate::ExecuteResult> loaded = exec.Load(kind, id);
      FUZZ_CHECK(loaded.ok(), "Load(", kind, ", ", id,
                 ") after a successful command: ", loaded.status().ToString());
      slate::ExecuteResult a = *r;
      slate::ExecuteResult b = *loaded;
      a.clear_appends();
      a.clear_command_id();
      a.clear_idempotent_replay();
      b.clear_appends();
      b.clear_command_id();
      b.clear_idempotent_replay();
      // Commands that touch a second aggregate may change the primary one
      // again only through that aggregate's own stream; the primary state
      // must be what Load folds.
      FUZZ_CHECK(google::protobuf::util::MessageDifferencer::Equals(a, b),
                 "returned state differs from loaded state for ", kind, " ", id,
                 ":\n", a.DebugString(), "---\n", b.DebugString());
    }
  }
  return 0;
}
