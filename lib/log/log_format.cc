#include "lib/log/log_format.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace slate::log_format {

void PutU64BE(std::string* out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((v >> shift) & 0xff));
  }
}

uint64_t GetU64BE(absl::string_view in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) {
    v = (v << 8) | static_cast<unsigned char>(in[i]);
  }
  return v;
}

std::string MetaKey(absl::string_view name) {
  return absl::StrCat(absl::string_view(&kMetaPrefix, 1), name);
}

std::string EventKey(int64_t position) {
  std::string k(1, kEventPrefix);
  PutU64BE(&k, static_cast<uint64_t>(position));
  return k;
}

std::string StreamKey(absl::string_view stream, int64_t version) {
  std::string k;
  k.reserve(stream.size() + 10);
  k.push_back(kStreamPrefix);
  k.append(stream.data(), stream.size());
  k.push_back('\0');
  PutU64BE(&k, static_cast<uint64_t>(version));
  return k;
}

std::string StreamKeyEnd(absl::string_view stream) {
  std::string k(1, kStreamPrefix);
  k.append(stream.data(), stream.size());
  k.push_back('\1');
  return k;
}

std::string IdKey(absl::string_view event_id) {
  return absl::StrCat(absl::string_view(&kIdPrefix, 1), event_id);
}

std::string PositionValue(int64_t position) {
  std::string v;
  PutU64BE(&v, static_cast<uint64_t>(position));
  return v;
}

bool DecodeEventKey(absl::string_view key, int64_t* position) {
  if (key.size() != 9 || key[0] != kEventPrefix) return false;
  uint64_t p = GetU64BE(key.substr(1));
  if (p > static_cast<uint64_t>(INT64_MAX)) return false;
  *position = static_cast<int64_t>(p);
  return true;
}

bool DecodeStreamKey(absl::string_view key, absl::string_view* stream,
                     int64_t* version) {
  if (key.size() < 11 || key[0] != kStreamPrefix ||
      key[key.size() - 9] != '\0') {
    return false;
  }
  uint64_t v = GetU64BE(key.substr(key.size() - 8));
  if (v > static_cast<uint64_t>(INT64_MAX)) return false;
  *stream = key.substr(1, key.size() - 10);
  *version = static_cast<int64_t>(v);
  return true;
}

bool DecodePositionValue(absl::string_view value, int64_t* position) {
  if (value.size() != 8) return false;
  uint64_t p = GetU64BE(value);
  if (p > static_cast<uint64_t>(INT64_MAX)) return false;
  *position = static_cast<int64_t>(p);
  return true;
}

std::string StreamRunValue(int64_t first_position, int64_t count) {
  std::string v;
  v.reserve(16);
  PutU64BE(&v, static_cast<uint64_t>(first_position));
  PutU64BE(&v, static_cast<uint64_t>(count));
  return v;
}

bool DecodeStreamRunValue(absl::string_view value, int64_t* first_position,
                          int64_t* count) {
  if (value.size() != 16) return false;
  uint64_t p = GetU64BE(value);
  uint64_t n = GetU64BE(value.substr(8));
  if (p > static_cast<uint64_t>(INT64_MAX) || n == 0 ||
      n > static_cast<uint64_t>(INT64_MAX)) {
    return false;
  }
  *first_position = static_cast<int64_t>(p);
  *count = static_cast<int64_t>(n);
  return true;
}

namespace {
bool IsStreamChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
      (c >= '0' && c <= '9')) {
    return true;
  }
  switch (c) {
    case '-':
    case '_':
    case '.':
    case ':':
    case '/':
    case '@':
    case '+':
    case '=':
      return true;
    default:
      return false;
  }
}
}  // namespace

absl::Status ValidateStreamId(absl::string_view stream) {
  if (stream.empty()) {
    return absl::InvalidArgumentError("stream id is empty");
  }
  if (stream.size() > kMaxStreamIdBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "stream id \"", stream.substr(0, 40), "...\" is ", stream.size(),
        " bytes; the limit is ", kMaxStreamIdBytes));
  }
  for (size_t i = 0; i < stream.size(); ++i) {
    if (!IsStreamChar(stream[i])) {
      return absl::InvalidArgumentError(absl::StrCat(
          "stream id \"", absl::CEscape(stream), "\": character at offset ", i,
          " is not allowed (use A-Z a-z 0-9 and -_.:/@+=)"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateEventId(absl::string_view event_id) {
  if (event_id.empty()) {
    return absl::InvalidArgumentError("event_id is empty");
  }
  if (event_id.size() > kMaxEventIdBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "event_id \"", event_id.substr(0, 40), "...\" is ", event_id.size(),
        " bytes; the limit is ", kMaxEventIdBytes));
  }
  for (size_t i = 0; i < event_id.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(event_id[i]);
    if (c < 0x21 || c > 0x7e) {
      return absl::InvalidArgumentError(
          absl::StrCat("event_id \"", absl::CEscape(event_id),
                       "\": byte at offset ", i, " is not printable ASCII"));
    }
  }
  return absl::OkStatus();
}

}  // namespace slate::log_format
