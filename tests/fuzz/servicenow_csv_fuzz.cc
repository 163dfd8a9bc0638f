// Fuzz target: the ServiceNow import's CSV reader and row parser on arbitrary
// bytes. Reading must not depend on the reader's buffer size (the same
// records, fields, lines and errors with a 1 MiB buffer and a 3-byte one);
// when the first record is a usable header, every later record parses or is
// refused with a reason; the field parsers refuse bad text with
// kInvalidArgument only.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "lib/import/csv_reader.h"
#include "lib/import/servicenow_format.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

std::vector<slate::CsvRecord> ReadAll(const std::string& text, size_t buffer) {
  auto source = slate::StringSource(text);
  slate::CsvReader reader(source.get(), buffer);
  std::vector<slate::CsvRecord> out;
  slate::CsvRecord r;
  while (true) {
    auto more = reader.Next(&r);
    FUZZ_CHECK(more.ok(), "string source read error: ",
               more.status().ToString());
    if (!*more) break;
    out.push_back(r);
  }
  return out;
}

void CheckInvalidOnly(const absl::Status& s, const char* what) {
  FUZZ_CHECK(s.ok() || s.code() == absl::StatusCode::kInvalidArgument, what,
             " failed with ", s.ToString());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::vector<slate::CsvRecord> big = ReadAll(text, 1 << 20);
  const std::vector<slate::CsvRecord> small = ReadAll(text, 3);
  FUZZ_CHECK(big.size() == small.size(), "record count depends on buffer: ",
             big.size(), " vs ", small.size());
  for (size_t i = 0; i < big.size(); ++i) {
    FUZZ_CHECK(big[i].fields == small[i].fields && big[i].line == small[i].line &&
                   big[i].error == small[i].error,
               "record ", i, " depends on the buffer size");
    if (i > 0) FUZZ_CHECK(big[i].line > big[i - 1].line, "lines go back");
  }
  for (const slate::CsvRecord& r : big) {
    for (const std::string& f : r.fields) {
      CheckInvalidOnly(
          slate::ParseServiceNowTime(f, absl::UTCTimeZone()).status(),
          "ParseServiceNowTime");
      CheckInvalidOnly(slate::ParseServiceNowLevel(f).status(),
                       "ParseServiceNowLevel");
      CheckInvalidOnly(slate::ParseServiceNowState(f).status(),
                       "ParseServiceNowState");
    }
  }
  if (big.empty() || !big[0].error.empty()) return 0;
  auto columns = slate::ServiceNowColumns::FromHeader(big[0].fields);
  if (!columns.ok()) {
    CheckInvalidOnly(columns.status(), "FromHeader");
    return 0;
  }
  for (size_t i = 1; i < big.size(); ++i) {
    if (!big[i].error.empty()) continue;
    slate::ServiceNowRow row;
    slate::RowError error;
    if (!columns->Parse(big[i].fields, absl::UTCTimeZone(), &row, &error)) {
      FUZZ_CHECK(!error.reason.empty(), "a refused row has no reason");
    }
  }
  return 0;
}
