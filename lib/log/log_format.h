// On-disk format of the Slate event log.
//
// Column families: "default" holds meta, event and stream keys; "ids" holds
// the id keys (a hash-indexed memtable: ids arrive in random order).
//
// Key grammar. Integers are 8-byte big-endian so that byte order is numeric
// order; <stream> never contains 0x00 (see ValidateStreamId).
//
//   meta key    := 'M' <name>                      -> value (see below)
//   event key   := 'E' <position:u64be>            -> slate.Envelope (protobuf)
//   stream key  := 'S' <stream> 0x00 <first_version:u64be>
//                    -> <first_position:u64be> <count:u64be>
//   id key      := 'I' <event_id>                  -> <position:u64be>  ("ids")
//
// Meta entries:
//   'M' "format_version" -> decimal ASCII; this build writes kFormatVersion and
//                           refuses to open a larger one.
//
// Invariants, written in one WriteBatch per group commit:
//   - event positions are dense from 0: keys E0 .. E(n-1) all exist;
//   - one stream key per append (a "run"): the append's events have versions
//     first_version .. first_version+count-1 at positions first_position ..
//     first_position+count-1 (an append's events are contiguous in both);
//     a stream's runs tile its versions densely from 0;
//   - I<id> -> p where the envelope at E<p> has event_id <id>.
// The envelope stored at E<p> carries its own position, stream and version.
//
// Usage:
//   std::string k = log_format::EventKey(42);
//   int64_t p;  bool ok = log_format::DecodeEventKey(k, &p);  // p == 42
#ifndef SLATE_LIB_LOG_LOG_FORMAT_H_
#define SLATE_LIB_LOG_LOG_FORMAT_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace slate::log_format {

inline constexpr int kFormatVersion = 1;

inline constexpr char kMetaPrefix = 'M';
inline constexpr char kEventPrefix = 'E';
inline constexpr char kStreamPrefix = 'S';
inline constexpr char kIdPrefix = 'I';

inline constexpr absl::string_view kFormatVersionName = "format_version";
inline constexpr char kIdsColumnFamily[] = "ids";

// A file present in the database directory only while Open creates a new
// database. Finding it on open means a creation was interrupted: the
// directory holds nothing acknowledged and is created afresh.
inline constexpr char kCreatingMarker[] = "SLATE_CREATING";

// Limits on identifiers.
inline constexpr size_t kMaxStreamIdBytes = 256;
inline constexpr size_t kMaxEventIdBytes = 256;

void PutU64BE(std::string* out, uint64_t v);
// REQUIRES: in.size() >= 8.
uint64_t GetU64BE(absl::string_view in);

std::string MetaKey(absl::string_view name);
std::string EventKey(int64_t position);
std::string StreamKey(absl::string_view stream, int64_t first_version);
// The first key after every key of `stream` (exclusive upper bound).
std::string StreamKeyEnd(absl::string_view stream);
std::string IdKey(absl::string_view event_id);
std::string PositionValue(int64_t position);
std::string StreamRunValue(int64_t first_position, int64_t count);

// Decoders return false if the bytes do not follow the grammar.
bool DecodeEventKey(absl::string_view key, int64_t* position);
bool DecodeStreamKey(absl::string_view key, absl::string_view* stream,
                     int64_t* version);
bool DecodePositionValue(absl::string_view value, int64_t* position);
bool DecodeStreamRunValue(absl::string_view value, int64_t* first_position,
                          int64_t* count);

// Stream ids: 1..256 bytes of [A-Za-z0-9] and "-_.:/@+=". Ids name the
// aggregate, e.g. "incident/INC0001". kInvalidArgument names the problem.
absl::Status ValidateStreamId(absl::string_view stream);
// Event ids: 1..256 bytes, printable ASCII (0x21..0x7e).
absl::Status ValidateEventId(absl::string_view event_id);

}  // namespace slate::log_format

#endif  // SLATE_LIB_LOG_LOG_FORMAT_H_
