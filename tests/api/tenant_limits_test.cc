// Options::tenant_limits through Engine::Execute: records and events per
// second per tenant, kResourceExhausted naming the tenant and the limit,
// nothing appended when refused, other tenants unaffected; the record count
// survives a reopen (read from the log's stream index).
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "lib/api/clock.h"
#include "lib/api/engine.h"
#include "tests/testing/temp_dir.h"

namespace slate {
namespace {

Command Json(const std::string& json) {
  Command c;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &c).ok())
      << json;
  return c;
}

Command Open(const std::string& tenant, const std::string& id) {
  Command c = Json(absl::StrCat(
      R"({"commandId": "open-)", id, R"(", "openIncident": {"incidentId": ")",
      id, R"(", "serviceId": "email", "impact": 2, "urgency": 2}})"));
  c.set_tenant_id(tenant);
  return c;
}

Command Comment(const std::string& tenant, const std::string& id, int n) {
  Command c = Json(absl::StrCat(
      R"({"commandId": "note-)", id, "-", n,
      R"(", "commentIncident": {"incidentId": ")", id, R"(", "text": "x"}})"));
  c.set_tenant_id(tenant);
  return c;
}

class TenantLimitsTest : public ::testing::Test {
 protected:
  std::unique_ptr<Engine> OpenEngine() {
    Options o;
    o.clock = &clock_;
    o.durability = Durability::kProcessCrash;
    o.tenant_limits["acme"].max_records = 2;
    o.tenant_limits["fast"].max_events_per_second = 3;
    auto e = Engine::Open(o, dir_.path());
    EXPECT_TRUE(e.ok()) << e.status();
    return e.ok() ? *std::move(e) : nullptr;
  }
  void Service(Engine& e) {
    ASSERT_TRUE(
        e.Execute(Json(R"({"defineService": {"serviceId": "email", "name": "E"}})"))
            .ok());
  }

  testing::TempDir dir_;
  SimulatedClock clock_{absl::FromUnixSeconds(1793620000)};
};

TEST_F(TenantLimitsTest, RecordsPerTenant) {
  std::unique_ptr<Engine> e = OpenEngine();
  Service(*e);
  ASSERT_TRUE(e->Execute(Open("acme", "INC1")).ok());
  ASSERT_TRUE(e->Execute(Open("acme", "INC2")).ok());
  // A retry of a command that created a record counts it once, and passes
  // at the limit: it creates nothing.
  absl::StatusOr<ExecuteResult> retry = e->Execute(Open("acme", "INC2"));
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_TRUE(retry->idempotent_replay());
  const int64_t before = e->NextPosition();
  absl::StatusOr<ExecuteResult> third = e->Execute(Open("acme", "INC3"));
  ASSERT_EQ(third.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(absl::StrContains(third.status().message(), "tenant acme"));
  EXPECT_TRUE(absl::StrContains(third.status().message(), "max_records"));
  EXPECT_EQ(e->NextPosition(), before);  // Nothing appended.
  // Commands on its existing records still run; other tenants are free.
  EXPECT_TRUE(e->Execute(Comment("acme", "INC1", 1)).ok());
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(e->Execute(Open("beta", absl::StrCat("INC", i))).ok());
    EXPECT_TRUE(e->Execute(Open("", absl::StrCat("INC", i))).ok());
  }
  // The count comes back from the log after a reopen.
  e.reset();
  e = OpenEngine();
  EXPECT_EQ(e->Execute(Open("acme", "INC3")).status().code(),
            absl::StatusCode::kResourceExhausted);
}

int64_t Events(const ExecuteResult& r) {
  int64_t n = 0;
  for (const StreamAppend& a : r.appends()) {
    n += a.last_position() - a.first_position() + 1;
  }
  return n;
}

TEST_F(TenantLimitsTest, EventsPerSecondPerTenant) {
  std::unique_ptr<Engine> e = OpenEngine();
  Service(*e);
  // A bucket of 3 events: commands pass while it holds at least one.
  int64_t used = 0;
  int n = 0;
  absl::StatusOr<ExecuteResult> first = e->Execute(Open("fast", "INC1"));
  ASSERT_TRUE(first.ok()) << first.status();
  used += Events(*first);
  while (used < 3) {
    absl::StatusOr<ExecuteResult> r = e->Execute(Comment("fast", "INC1", n++));
    ASSERT_TRUE(r.ok()) << "after " << used << " events: " << r.status();
    used += Events(*r);
  }
  const int64_t before = e->NextPosition();
  absl::StatusOr<ExecuteResult> r = e->Execute(Comment("fast", "INC1", n));
  ASSERT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(absl::StrContains(r.status().message(), "tenant fast"));
  EXPECT_TRUE(absl::StrContains(r.status().message(), "events per second"));
  EXPECT_EQ(e->NextPosition(), before);
  // Another tenant is not held back.
  EXPECT_TRUE(e->Execute(Open("other", "INC1")).ok());
  // 1/3 s refills one event (3 per second) from where the bucket stands.
  const double missing = static_cast<double>(used - 3) + 1;
  clock_.Advance(absl::Milliseconds(static_cast<int64_t>(missing * 1000 / 3) + 5));
  r = e->Execute(Comment("fast", "INC1", n++));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(e->Execute(Comment("fast", "INC1", n)).status().code(),
            absl::StatusCode::kResourceExhausted);
  // A long pause fills the bucket to its size, not beyond: three one-event
  // comments pass, the fourth does not.
  clock_.Advance(absl::Hours(1));
  for (int k = 0; k < 3; ++k) {
    r = e->Execute(Comment("fast", "INC1", n++));
    ASSERT_TRUE(r.ok()) << k << ": " << r.status();
    ASSERT_EQ(Events(*r), 1);
  }
  EXPECT_EQ(e->Execute(Comment("fast", "INC1", n)).status().code(),
            absl::StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace slate
