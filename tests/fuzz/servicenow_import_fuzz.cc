// Fuzz target: the ServiceNow import's row-to-domain mapper, end to end, on
// arbitrary CSV bytes imported into a fresh engine. Checks:
//  - the import either succeeds or fails with kInvalidArgument /
//    kFailedPrecondition (a bad export), never another code (kInternal is a
//    bug) and never a crash;
//  - rows it cannot map are rejected, not half-written: Engine::Verify finds
//    the log and every projection consistent;
//  - importing the same bytes again appends nothing (content-derived ids).
// Every run opens a RocksDB directory, so this target is slow per execution.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "lib/api/clock.h"
#include "lib/api/engine.h"
#include "lib/import/csv_reader.h"
#include "lib/import/servicenow_import.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

std::string FreshDir() {
  const char* base = std::getenv("TEST_TMPDIR");
  std::string templ =
      absl::StrCat(base != nullptr ? base : "/tmp", "/sn-import-fuzz-XXXXXX");
  FUZZ_CHECK(mkdtemp(templ.data()) != nullptr, "mkdtemp failed");
  return templ;
}

void RemoveDir(const std::string& dir) {
  const std::string cmd = absl::StrCat("rm -rf '", dir, "'");
  FUZZ_CHECK(std::system(cmd.c_str()) == 0, "rm -rf failed");
}

bool Expected(const absl::Status& s) {
  return s.ok() || s.code() == absl::StatusCode::kInvalidArgument ||
         s.code() == absl::StatusCode::kFailedPrecondition;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::string dir = FreshDir();
  {
    // Far in the future: every row time the parser accepts is in the past.
    slate::SimulatedClock clock(
        absl::FromCivil(absl::CivilSecond(9000, 1, 1), absl::UTCTimeZone()));
    slate::Options options;
    options.clock = &clock;
    options.durability = slate::Durability::kBulkImport;
    auto engine = slate::Engine::Open(options, dir + "/db");
    FUZZ_CHECK(engine.ok(), "open: ", engine.status().ToString());
    slate::ServiceNowImportOptions io;
    auto source = slate::StringSource(text);
    auto first = slate::ImportServiceNowFrom(engine->get(), source.get(), io);
    FUZZ_CHECK(Expected(first.status()), "import failed with ",
               first.status().ToString());
    if (first.ok()) {
      auto again = slate::StringSource(text);
      auto second = slate::ImportServiceNowFrom(engine->get(), again.get(), io);
      FUZZ_CHECK(second.ok(), "re-import failed: ", second.status().ToString());
      FUZZ_CHECK(second->events_appended == 0, "re-import appended ",
                 second->events_appended, " events (first run appended ",
                 first->events_appended, ")");
    }
    slate::VerifyReport report;
    const absl::Status verified = (*engine)->Verify(&report);
    FUZZ_CHECK(verified.ok(), "verify: ", verified.ToString());
    FUZZ_CHECK(report.problems.empty(), "verify found: ",
               report.problems.empty() ? "" : report.problems.front());
  }
  RemoveDir(dir);
  return 0;
}
