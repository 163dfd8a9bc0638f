// lib/log/event_encoding: the wire-format UTF-8 check against a reflection
// walk of the message, and the leader's splice of the assigned fields
// against serializing the envelope with them set.
#include "lib/log/event_encoding.h"

#include <random>
#include <string>

#include "google/protobuf/stubs/logging.h"
#include "google/protobuf/unknown_field_set.h"
#include "gtest/gtest.h"
#include "proto/events.pb.h"

namespace slate::event_encoding {
namespace {

// A random string: mostly ASCII, sometimes multi-byte UTF-8, and with
// probability `bad` (per mille) a byte sequence that is not UTF-8.
std::string RandomString(std::mt19937_64& rng, int bad) {
  std::string s;
  const int n = static_cast<int>(rng() % 12);
  for (int i = 0; i < n; ++i) {
    switch (rng() % 4) {
      case 0:
        s += "\xc3\xa9";  // é
        break;
      default:
        s.push_back(static_cast<char>('a' + rng() % 26));
    }
  }
  if (static_cast<int>(rng() % 1000) < bad) {
    const char* bads[] = {"\xff", "\xc3", "\xe2\x82", "\xed\xa0\x80",
                          "\xc0\xaf"};
    s.insert(rng() % (s.size() + 1), bads[rng() % 5]);
  }
  return s;
}

int64_t RandomInt(std::mt19937_64& rng) {
  switch (rng() % 4) {
    case 0:
      return 0;
    case 1:
      return static_cast<int64_t>(rng() % 200);
    default:
      return static_cast<int64_t>(rng() >> 1);
  }
}

// A random envelope over payloads with nested, repeated and map fields.
Envelope RandomEnvelope(std::mt19937_64& rng, int bad) {
  Envelope e;
  e.set_event_id(RandomString(rng, bad) + "id");
  if (rng() % 2) e.set_stream(RandomString(rng, bad) + "s");
  e.set_occurred_at_us(RandomInt(rng));
  if (rng() % 2) e.set_actor(RandomString(rng, bad));
  if (rng() % 2) e.set_correlation_id(RandomString(rng, bad));
  if (rng() % 4 == 0) e.set_causation_id(RandomString(rng, bad));
  if (rng() % 2) {
    ServiceNowRowMeta* m = e.mutable_servicenow();
    m->set_number(RandomString(rng, bad));
    m->set_sys_mod_count(static_cast<int>(rng() % 50));
    m->set_priority(RandomString(rng, bad));
    m->set_location(RandomString(rng, bad));
    m->set_made_sla(rng() % 2 == 0);
    m->set_caused_by(RandomString(rng, bad));
  }
  switch (rng() % 5) {
    case 0:
      e.mutable_incident_commented()->set_text(RandomString(rng, bad));
      break;
    case 1: {
      IncidentDetailsUpdated* d = e.mutable_incident_details_updated();
      d->set_category(RandomString(rng, bad));
      d->set_caller(RandomString(rng, bad));
      if (rng() % 2) d->set_service("");
      break;
    }
    case 2: {
      ChangeRequested* c = e.mutable_change_requested();
      c->set_change_id(RandomString(rng, bad));
      const int n = static_cast<int>(rng() % 4);
      for (int i = 0; i < n; ++i) c->add_services(RandomString(rng, bad));
      for (int i = 0; i < n; ++i) {
        c->add_configuration_items(RandomString(rng, bad));
      }
      // No map entries: the reflection oracle would read a map as a
      // repeated field (its own order; and under TSan Debian's libprotobuf
      // crashes there). FirstInvalidUtf8NamesThePath checks a map key.
      break;
    }
    case 3:
      e.mutable_incident_opened()->set_caller(RandomString(rng, bad));
      break;
    default:
      break;  // No payload.
  }
  return e;
}

TEST(EventEncoding, FirstInvalidUtf8MatchesReflection) {
  google::protobuf::LogSilencer quiet;  // Serializing bad strings logs.
  std::mt19937_64 rng(18);
  int bad_found = 0;
  for (int i = 0; i < 20000; ++i) {
    const Envelope e = RandomEnvelope(rng, i % 2 == 0 ? 0 : 60);
    const std::string expected = FirstInvalidUtf8ByReflection(e);
    EXPECT_EQ(FirstInvalidUtf8(Envelope::descriptor(), e.SerializeAsString()),
              expected)
        << e.ShortDebugString();
    if (!expected.empty()) ++bad_found;
  }
  // The property saw both answers many times.
  EXPECT_GT(bad_found, 1000);
  EXPECT_LT(bad_found, 10000);
}

TEST(EventEncoding, FirstInvalidUtf8NamesThePath) {
  google::protobuf::LogSilencer quiet;
  Envelope e;
  e.set_event_id("id");
  e.mutable_change_requested()->add_services("ok");
  e.mutable_change_requested()->add_services("bad\xff");
  EXPECT_EQ(FirstInvalidUtf8(Envelope::descriptor(), e.SerializeAsString()),
            "change_requested.services[1]");
  e.clear_change_requested();
  (*e.mutable_change_requested()->mutable_risk_answers())["ok"] = true;
  EXPECT_EQ(FirstInvalidUtf8(Envelope::descriptor(), e.SerializeAsString()),
            "");
  (*e.mutable_change_requested()->mutable_risk_answers())["\xff"] = true;
  e.mutable_change_requested()->mutable_risk_answers()->erase("ok");
  EXPECT_EQ(FirstInvalidUtf8(Envelope::descriptor(), e.SerializeAsString()),
            "change_requested.risk_answers[0].key");
  e.clear_change_requested();
  e.mutable_servicenow()->set_priority("\xc3");
  EXPECT_EQ(FirstInvalidUtf8(Envelope::descriptor(), e.SerializeAsString()),
            "servicenow.priority");
  e.set_actor("\xff");  // Field 7 comes before servicenow (20).
  EXPECT_EQ(FirstInvalidUtf8(Envelope::descriptor(), e.SerializeAsString()),
            "actor");
  e.clear_actor();
  e.clear_servicenow();
  EXPECT_EQ(FirstInvalidUtf8(Envelope::descriptor(), e.SerializeAsString()),
            "");
  // Truncated bytes do not crash; what parses is checked.
  EXPECT_EQ(FirstInvalidUtf8(Envelope::descriptor(),
                             "\x0a\x05"
                             "ab"),
            "");
}

// The splice relies on Envelope's numbering: fields 1-2 before the four
// assigned ones (3-6), every other field after them.
TEST(EventEncoding, EnvelopeNumberingIsWhatTheSpliceAssumes) {
  const google::protobuf::Descriptor* d = Envelope::descriptor();
  const char* names[] = {"event_id", "stream",         "version",
                         "position", "occurred_at_us", "recorded_at_us"};
  for (int n = 1; n <= 6; ++n) {
    const google::protobuf::FieldDescriptor* f = d->FindFieldByNumber(n);
    ASSERT_NE(f, nullptr) << n;
    EXPECT_EQ(f->name(), names[n - 1]);
  }
  for (int n : {3, 4, 5, 6}) {
    EXPECT_EQ(d->FindFieldByNumber(n)->cpp_type(),
              google::protobuf::FieldDescriptor::CPPTYPE_INT64);
  }
  EXPECT_EQ(d->FindFieldByNumber(0), nullptr);
}

TEST(EventEncoding, WithAssignedFieldsEqualsSerializingThemSet) {
  std::mt19937_64 rng(3);
  std::string out;
  for (int i = 0; i < 20000; ++i) {
    Envelope e = RandomEnvelope(rng, 0);
    if (i % 7 == 0) {
      // Unknown fields (a newer writer's) are serialized last.
      google::protobuf::UnknownFieldSet* unknown =
          e.GetReflection()->MutableUnknownFields(&e);
      unknown->AddVarint(9999, rng() % 1000);
      unknown->AddLengthDelimited(5000, "x");
    }
    const std::string validated = e.SerializeAsString();
    const int64_t version = RandomInt(rng);
    const int64_t position = RandomInt(rng);
    const int64_t occurred =
        rng() % 3 == 0 ? e.occurred_at_us() : RandomInt(rng);
    const int64_t recorded = RandomInt(rng);
    WithAssignedFields(validated, version, position, occurred, recorded, &out);
    e.set_version(version);
    e.set_position(position);
    e.set_occurred_at_us(occurred);
    e.set_recorded_at_us(recorded);
    ASSERT_EQ(out, e.SerializeAsString()) << e.ShortDebugString();
  }
}

}  // namespace
}  // namespace slate::event_encoding
