#include "lib/log/event_encoding.h"

#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/stubs/common.h"

namespace slate::event_encoding {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

// A field FirstInvalidUtf8 looks into: a string, or a message that may hold
// one.
bool HoldsUtf8(const FieldDescriptor* f) {
  return f->type() == FieldDescriptor::TYPE_STRING ||
         f->type() == FieldDescriptor::TYPE_MESSAGE;
}

// Wire-format reading. Each returns false on bytes that do not parse.
bool ReadVarint(absl::string_view* in, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (in->empty()) return false;
    const uint8_t b = static_cast<uint8_t>((*in)[0]);
    in->remove_prefix(1);
    result |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      *v = result;
      return true;
    }
  }
  return false;
}

bool SkipBytes(absl::string_view* in, uint64_t n) {
  if (n > in->size()) return false;
  in->remove_prefix(n);
  return true;
}

// Skips the value of a field of wire type `wire_type` (not length-delimited).
bool SkipScalar(absl::string_view* in, int wire_type) {
  uint64_t ignored = 0;
  switch (wire_type) {
    case 0:
      return ReadVarint(in, &ignored);
    case 1:
      return SkipBytes(in, 8);
    case 5:
      return SkipBytes(in, 4);
    default:
      return false;  // Groups (3, 4) are not in Slate's protos.
  }
}

// Per message type: the fields FirstInvalidUtf8 looks into, by number.
// Built once per type and thread.
class Plan {
 public:
  explicit Plan(const Descriptor* d) {
    for (int i = 0; i < d->field_count(); ++i) {
      const FieldDescriptor* f = d->field(i);
      if (!HoldsUtf8(f)) continue;
      const uint64_t number = static_cast<uint64_t>(f->number());
      if (number < kDense) {
        if (dense_.size() <= number) dense_.resize(number + 1, nullptr);
        dense_[number] = f;
      } else {
        sparse_[number] = f;
      }
    }
  }
  const FieldDescriptor* Find(uint64_t number) const {
    if (number < dense_.size()) return dense_[number];
    if (number < kDense) return nullptr;
    auto it = sparse_.find(number);
    return it == sparse_.end() ? nullptr : it->second;
  }

 private:
  static constexpr uint64_t kDense = 1024;
  std::vector<const FieldDescriptor*> dense_;
  absl::flat_hash_map<uint64_t, const FieldDescriptor*> sparse_;
};

const Plan& PlanOf(const Descriptor* d) {
  thread_local absl::flat_hash_map<const Descriptor*, std::unique_ptr<Plan>>
      plans;
  std::unique_ptr<Plan>& plan = plans[d];
  if (plan == nullptr) plan = std::make_unique<Plan>(d);
  return *plan;
}

std::string Walk(const Descriptor* type, absl::string_view in) {
  const Plan& plan = PlanOf(type);
  // Elements seen so far of each repeated field, for the path's index.
  absl::flat_hash_map<const FieldDescriptor*, int> seen;
  while (!in.empty()) {
    uint64_t tag = 0;
    if (!ReadVarint(&in, &tag)) return "";
    const int wire_type = static_cast<int>(tag & 7);
    if (wire_type != 2) {
      if (!SkipScalar(&in, wire_type)) return "";
      continue;
    }
    uint64_t len = 0;
    if (!ReadVarint(&in, &len) || len > in.size()) return "";
    const absl::string_view value = in.substr(0, len);
    in.remove_prefix(len);
    const FieldDescriptor* f = plan.Find(tag >> 3);
    if (f == nullptr) continue;  // Unknown, bytes or packed scalars.
    int index = 0;
    if (f->is_repeated()) index = seen[f]++;
    std::string inner;
    if (f->type() == FieldDescriptor::TYPE_STRING) {
      if (google::protobuf::internal::IsStructurallyValidUTF8(
              value.data(), static_cast<int>(value.size()))) {
        continue;
      }
    } else {
      inner = Walk(f->message_type(), value);
      if (inner.empty()) continue;
    }
    std::string path =
        f->is_repeated() ? absl::StrCat(f->name(), "[", index, "]") : f->name();
    if (!inner.empty()) absl::StrAppend(&path, ".", inner);
    return path;
  }
  return "";
}

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

// An int64 field as proto3 encodes it: absent when 0.
void PutInt64Field(std::string* out, int number, int64_t v) {
  if (v == 0) return;
  PutVarint(out, static_cast<uint64_t>(number) << 3);  // Wire type 0.
  PutVarint(out, static_cast<uint64_t>(v));
}

// Envelope's field numbers around the assigned ones (see the header).
constexpr uint64_t kStreamField = 2;
constexpr int kVersionField = 3;
constexpr int kPositionField = 4;
constexpr int kOccurredField = 5;
constexpr int kRecordedField = 6;

}  // namespace

std::string FirstInvalidUtf8(const Descriptor* type, absl::string_view bytes) {
  return Walk(type, bytes);
}

std::string FirstInvalidUtf8ByReflection(const google::protobuf::Message& m) {
  const google::protobuf::Reflection* r = m.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  r->ListFields(m, &fields);  // Set fields, in field-number order.
  std::string scratch;
  for (const FieldDescriptor* f : fields) {
    if (!HoldsUtf8(f)) continue;
    const int n = f->is_repeated() ? r->FieldSize(m, f) : 1;
    for (int i = 0; i < n; ++i) {
      std::string inner;
      if (f->type() == FieldDescriptor::TYPE_STRING) {
        const std::string& v =
            f->is_repeated() ? r->GetRepeatedStringReference(m, f, i, &scratch)
                             : r->GetStringReference(m, f, &scratch);
        if (google::protobuf::internal::IsStructurallyValidUTF8(
                v.data(), static_cast<int>(v.size()))) {
          continue;
        }
      } else {
        inner = FirstInvalidUtf8ByReflection(
            f->is_repeated() ? r->GetRepeatedMessage(m, f, i)
                             : r->GetMessage(m, f));
        if (inner.empty()) continue;
      }
      std::string path =
          f->is_repeated() ? absl::StrCat(f->name(), "[", i, "]") : f->name();
      if (!inner.empty()) absl::StrAppend(&path, ".", inner);
      return path;
    }
  }
  return "";
}

void WithAssignedFields(absl::string_view validated, int64_t version,
                        int64_t position, int64_t occurred_at_us,
                        int64_t recorded_at_us, std::string* out) {
  out->clear();
  out->reserve(validated.size() + 40);
  // The head: fields 1-2 (event_id, stream) are copied; an occurred_at_us
  // already there is dropped and written again with the others.
  absl::string_view in = validated;
  while (!in.empty()) {
    absl::string_view field = in;
    uint64_t tag = 0;
    if (!ReadVarint(&field, &tag)) break;
    const uint64_t number = tag >> 3;
    if (number > static_cast<uint64_t>(kRecordedField)) break;
    const int wire_type = static_cast<int>(tag & 7);
    if (wire_type == 2) {
      uint64_t len = 0;
      if (!ReadVarint(&field, &len) || !SkipBytes(&field, len)) break;
    } else if (!SkipScalar(&field, wire_type)) {
      break;
    }
    const size_t size = in.size() - field.size();
    if (number <= kStreamField) out->append(in.data(), size);
    in.remove_prefix(size);
  }
  PutInt64Field(out, kVersionField, version);
  PutInt64Field(out, kPositionField, position);
  PutInt64Field(out, kOccurredField, occurred_at_us);
  PutInt64Field(out, kRecordedField, recorded_at_us);
  out->append(in.data(), in.size());
}

}  // namespace slate::event_encoding
