#include "lib/api/describe.h"

#include "gtest/gtest.h"

namespace slate {
namespace {

TEST(Describe, NamesThePayloadAndEverySetField) {
  Envelope e;
  e.set_position(3);
  e.set_stream("incident/INC1");
  e.set_version(2);
  e.set_occurred_at_us(1795000000000000);  // 2026-11-18 11:06:40 UTC
  auto* o = e.mutable_incident_opened();
  o->set_number("INC1");
  o->set_short_description("mail is \"slow\"");
  o->set_impact(2);
  EXPECT_EQ(DescribeEvent(e),
            "#3 incident/INC1 v2 2026-11-18 11:06:40 UTC incident opened "
            "number=INC1 short_description=\"mail is \\\"slow\\\"\" "
            "impact=2");
}

TEST(Describe, EnumsByNameAndEmptyPayloads) {
  Envelope e;
  e.mutable_incident_put_on_hold()->set_reason(AWAITING_VENDOR);
  EXPECT_EQ(DescribePayload(e), "incident put on hold reason=AWAITING_VENDOR");
  Envelope started;
  started.mutable_incident_started();
  EXPECT_EQ(DescribePayload(started), "incident started");
  EXPECT_EQ(DescribePayload(Envelope()),
            "(no payload, or a payload type this build does not know)");
}

}  // namespace
}  // namespace slate
