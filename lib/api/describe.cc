#include "lib/api/describe.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"

namespace slate {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

std::string Quoted(const std::string& s) {
  if (s.find_first_of(" \t\"") == std::string::npos) return s;
  return absl::StrCat("\"", absl::StrReplaceAll(s, {{"\"", "\\\""}}), "\"");
}

std::string FieldValue(const Message& m, const Reflection& r,
                       const FieldDescriptor* f, int index) {
  const bool rep = f->is_repeated();
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      return absl::StrCat(rep ? r.GetRepeatedInt32(m, f, index)
                              : r.GetInt32(m, f));
    case FieldDescriptor::CPPTYPE_INT64:
      return absl::StrCat(rep ? r.GetRepeatedInt64(m, f, index)
                              : r.GetInt64(m, f));
    case FieldDescriptor::CPPTYPE_UINT32:
      return absl::StrCat(rep ? r.GetRepeatedUInt32(m, f, index)
                              : r.GetUInt32(m, f));
    case FieldDescriptor::CPPTYPE_UINT64:
      return absl::StrCat(rep ? r.GetRepeatedUInt64(m, f, index)
                              : r.GetUInt64(m, f));
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return absl::StrCat(rep ? r.GetRepeatedDouble(m, f, index)
                              : r.GetDouble(m, f));
    case FieldDescriptor::CPPTYPE_FLOAT:
      return absl::StrCat(rep ? r.GetRepeatedFloat(m, f, index)
                              : r.GetFloat(m, f));
    case FieldDescriptor::CPPTYPE_BOOL:
      return (rep ? r.GetRepeatedBool(m, f, index) : r.GetBool(m, f)) ? "true"
                                                                      : "false";
    case FieldDescriptor::CPPTYPE_ENUM:
      return (rep ? r.GetRepeatedEnum(m, f, index) : r.GetEnum(m, f))->name();
    case FieldDescriptor::CPPTYPE_STRING:
      return Quoted(rep ? r.GetRepeatedString(m, f, index) : r.GetString(m, f));
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return absl::StrCat(
          "{",
          (rep ? r.GetRepeatedMessage(m, f, index) : r.GetMessage(m, f))
              .ShortDebugString(),
          "}");
  }
  return "?";
}

}  // namespace

// Generic over the payload oneof (by reflection), so a new payload type is
// described without touching this file: `<payload name> field=value ...`
// for every field that is set.
std::string DescribePayload(const Envelope& e) {
  const Reflection& refl = *e.GetReflection();
  const auto* oneof = e.GetDescriptor()->FindOneofByName("payload");
  const FieldDescriptor* which =
      oneof == nullptr ? nullptr : refl.GetOneofFieldDescriptor(e, oneof);
  if (which == nullptr) {
    return "(no payload, or a payload type this build does not know)";
  }
  const Message& payload = refl.GetMessage(e, which);
  const Reflection& pr = *payload.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  pr.ListFields(payload, &fields);
  std::vector<std::string> parts;
  parts.push_back(absl::StrReplaceAll(which->name(), {{"_", " "}}));
  for (const FieldDescriptor* f : fields) {
    if (f->is_repeated()) {
      std::vector<std::string> items;
      for (int i = 0; i < pr.FieldSize(payload, f); ++i) {
        items.push_back(FieldValue(payload, pr, f, i));
      }
      parts.push_back(
          absl::StrCat(f->name(), "=[", absl::StrJoin(items, ","), "]"));
    } else {
      parts.push_back(
          absl::StrCat(f->name(), "=", FieldValue(payload, pr, f, 0)));
    }
  }
  return absl::StrJoin(parts, " ");
}

std::string DescribeEvent(const Envelope& e) {
  return absl::StrCat("#", e.position(), " ", e.stream(), " v", e.version(),
                      " ",
                      absl::FormatTime("%Y-%m-%d %H:%M:%S UTC",
                                       absl::FromUnixMicros(e.occurred_at_us()),
                                       absl::UTCTimeZone()),
                      " ", DescribePayload(e));
}

}  // namespace slate
