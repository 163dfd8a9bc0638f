// Value types of the log API: expected versions, append results, statistics.
//
//   // Create a stream; fails with kAborted if it already exists.
//   engine->Append("incident/INC1", slate::ExpectedVersion::NoStream(),
//   events);
//   // Continue it only if nobody else wrote since we read version 3.
//   engine->Append("incident/INC1", slate::ExpectedVersion::Exact(3), more);
#ifndef SLATE_LIB_API_TYPES_H_
#define SLATE_LIB_API_TYPES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "proto/events.pb.h"

namespace slate {

// The caller's optimistic-concurrency expectation about a stream. A stream's
// version is the 0-based version of its last event; an empty stream has none.
class ExpectedVersion {
 public:
  enum class Kind { kAny, kNoStream, kStreamExists, kExact };

  // Append whatever the stream's state.
  static ExpectedVersion Any() { return ExpectedVersion(Kind::kAny, -1); }
  // The stream must not exist yet (its first event gets version 0).
  static ExpectedVersion NoStream() {
    return ExpectedVersion(Kind::kNoStream, -1);
  }
  // The stream must have at least one event.
  static ExpectedVersion StreamExists() {
    return ExpectedVersion(Kind::kStreamExists, -1);
  }
  // The stream's last event must have exactly this version (>= 0).
  static ExpectedVersion Exact(int64_t version) {
    return ExpectedVersion(Kind::kExact, version);
  }

  Kind kind() const { return kind_; }
  int64_t version() const { return version_; }
  std::string ToString() const;

 private:
  ExpectedVersion(Kind kind, int64_t version)
      : kind_(kind), version_(version) {}
  Kind kind_;
  int64_t version_;
};

// Where an append's events landed. Events of one append are contiguous, so
// positions first..last and versions first..last cover them all.
struct AppendResult {
  int64_t first_position = 0;
  int64_t last_position = 0;
  int64_t first_version = 0;
  int64_t last_version = 0;
  // True when every event id was already stored with identical content: the
  // append wrote nothing and these are the original positions.
  bool idempotent_replay = false;
};

// One stream's events in an append of several streams at once (all
// written or none; see EventLog::AppendAtomically).
struct StreamWrite {
  std::string stream;
  ExpectedVersion expected = ExpectedVersion::Any();
  std::vector<Envelope> events;
};

// Counters since open.
struct LogStats {
  int64_t appends = 0;         // Append calls that wrote events.
  int64_t events_written = 0;  // Events written.
  int64_t write_batches = 0;   // RocksDB writes (group commits).
  int64_t syncs = 0;           // WAL fsyncs (kPowerLoss only).
  int64_t next_position = 0;   // Position the next event will get.
};

// `s` as a JSON string literal: quoted, with '"', '\\' and control
// characters escaped (\n, \t, \r, else \u00XX); other bytes as they are,
// so `s` should be UTF-8 (event text is: the log checks it).
std::string JsonQuote(absl::string_view s);

// `s` as a CSV field (RFC 4180): as it is, or quoted with '"' doubled when
// it holds a comma, quote or line break.
std::string CsvQuote(absl::string_view s);

}  // namespace slate

#endif  // SLATE_LIB_API_TYPES_H_
