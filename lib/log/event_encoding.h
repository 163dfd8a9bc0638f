// How the event log encodes an appended envelope (internal to lib/log).
//
//   std::string bytes = envelope.SerializeAsString();   // version etc. unset
//   std::string bad = event_encoding::FirstInvalidUtf8(
//       slate::Envelope::descriptor(), bytes);           // "" if all valid
//   std::string stored;
//   event_encoding::WithAssignedFields(bytes, version, position, occurred,
//                                      recorded, &stored);
//   // stored == the envelope with those four fields set, serialized.
//
// An append's envelope is serialized once, when the append is checked
// (outside the writer queue): its strings are checked for UTF-8 on those
// bytes, and the leader only splices in the fields it assigns. Walking the
// message through reflection instead was 11 % of an import's appending
// thread, and serializing it a second time in the leader another 4 %.
#ifndef SLATE_LIB_LOG_EVENT_ENCODING_H_
#define SLATE_LIB_LOG_EVENT_ENCODING_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace slate::event_encoding {

// The path of the first string field (nested messages included) of the
// message of type `type` encoded in `bytes` that is not well-formed UTF-8,
// e.g. "servicenow.priority" or "change_requested.services[1]", or "" if
// there is none. Fields are visited in the order they are encoded (field
// number order for a serialized message), a repeated field's elements
// counted by their order. Bytes that are not a well-formed encoding give
// "" for the part that does not parse (the log encodes them itself).
std::string FirstInvalidUtf8(const google::protobuf::Descriptor* type,
                             absl::string_view bytes);

// The same found through reflection: the slow obvious version, kept as the
// tests' oracle.
std::string FirstInvalidUtf8ByReflection(const google::protobuf::Message& m);

// `validated` is an Envelope serialized with version, position and
// recorded_at_us unset (0), and occurred_at_us as it was. Sets *out to the
// serialization of the same envelope with those four fields set to the
// arguments: what SerializeToString gives once they are set. (Envelope's
// fields 1-2 precede them and every other field follows: checked by
// tests/log/event_encoding_test.)
void WithAssignedFields(absl::string_view validated, int64_t version,
                        int64_t position, int64_t occurred_at_us,
                        int64_t recorded_at_us, std::string* out);

}  // namespace slate::event_encoding

#endif  // SLATE_LIB_LOG_EVENT_ENCODING_H_
