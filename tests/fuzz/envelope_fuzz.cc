// Fuzz target: decoding logged events. The first byte chooses what the rest
// is decoded as: an Envelope (as the log stores it), or one payload message
// of the Envelope's `payload` oneof, picked by reflection so every payload
// type is covered. A decoded message must describe itself (DescribePayload,
// DescribeEvent, JSON) without crashing and re-encode stably: parse(encode)
// gives the same bytes again.
#include <cstddef>
#include <cstdint>
#include <string>

#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/util/json_util.h"
#include "lib/api/describe.h"
#include "proto/events.pb.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  slate::Envelope e;
  const google::protobuf::OneofDescriptor* payload =
      slate::Envelope::descriptor()->FindOneofByName("payload");
  const int choice = data[0] % (payload->field_count() + 1);
  const char* bytes = reinterpret_cast<const char*>(data + 1);
  const int n = static_cast<int>(size - 1);
  google::protobuf::Message* decoded = &e;
  if (choice < payload->field_count()) {
    // A bare payload, placed into the envelope's oneof.
    decoded = e.GetReflection()->MutableMessage(&e, payload->field(choice));
  }
  if (!decoded->ParseFromArray(bytes, n)) return 0;

  // Describing never crashes, whatever the field values.
  const std::string what = slate::DescribePayload(e);
  const std::string line = slate::DescribeEvent(e);
  FUZZ_CHECK(!line.empty(), "DescribeEvent returned nothing");
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(e, &json);

  // Re-encoding is stable: encode, decode, encode gives the same bytes.
  const std::string once = e.SerializeAsString();
  slate::Envelope again;
  FUZZ_CHECK(again.ParseFromString(once),
             "the encoding of a decoded envelope does not decode");
  const std::string twice = again.SerializeAsString();
  FUZZ_CHECK(once == twice, "re-encoding changed the bytes: ", once.size(),
             " vs ", twice.size());
  FUZZ_CHECK(slate::DescribeEvent(again) == line,
             "the re-decoded event describes differently");
  return 0;
}
