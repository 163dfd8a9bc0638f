// SerializeDeterministic: the bytes every projection stores. They must be a
// pure function of the message's content (map order included), or a rebuild
// would not give the stored bytes back.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "gtest/gtest.h"
#include "lib/projection/views.h"
#include "proto/events.pb.h"

namespace slate {
namespace {

// The plain way: a growing string through a deterministic coded stream.
std::string Reference(const google::protobuf::Message& m) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    m.SerializeToCodedStream(&coded);
  }
  return out;
}

Envelope WithAnswers(const std::vector<int>& order) {
  Envelope e;
  e.set_event_id("ev-1");
  e.set_stream("change/CHG1");
  e.set_occurred_at_us(1795420800LL * 1000000);
  auto* r = e.mutable_change_risk_assessed();
  r->set_impact(2);
  r->set_risk_score(17);
  for (int i : order) {
    (*r->mutable_risk_answers())[absl::StrCat("question-", i)] = i % 2 == 0;
  }
  return e;
}

TEST(SerializeDeterministicTest, SameContentSameBytesAsTheReference) {
  std::vector<int> up, down;
  for (int i = 0; i < 40; ++i) up.push_back(i);
  for (int i = 39; i >= 0; --i) down.push_back(i);
  const Envelope a = WithAnswers(up);
  const Envelope b = WithAnswers(down);
  const std::string bytes = SerializeDeterministic(a);
  EXPECT_EQ(bytes, Reference(a));
  EXPECT_EQ(bytes, SerializeDeterministic(b));  // Map order is not content.
  EXPECT_EQ(bytes.size(), a.ByteSizeLong());
  Envelope back;
  ASSERT_TRUE(back.ParseFromString(bytes));
  EXPECT_EQ(SerializeDeterministic(back), bytes);
  EXPECT_EQ(back.change_risk_assessed().risk_answers().size(), 40u);
}

TEST(SerializeDeterministicTest, EmptyAndNestedMessages) {
  EXPECT_EQ(SerializeDeterministic(Envelope()), "");
  Envelope e;
  e.mutable_incident_opened()->set_number("INC1");
  e.mutable_incident_opened()->set_short_description(std::string(300, 'x'));
  EXPECT_EQ(SerializeDeterministic(e), Reference(e));
  EXPECT_EQ(SerializeDeterministic(e), e.SerializeAsString());
}

}  // namespace
}  // namespace slate
