// CommandExecutor with tenants (lib/api/tenant.h): records of one tenant
// never meet another's, configuration falls back to the default tenant's
// and a tenant's own overrides it for that tenant only. The property test
// checks every command's outcome and every record's state for a tenant
// against an executor that only ever saw that tenant's commands (plus the
// shared configuration it does not override), run in the default tenant.
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "lib/api/tenant.h"
#include "lib/domain/executor.h"
#include "lib/domain/priority_matrix.h"
#include "tests/domain/domain_test_util.h"

namespace slate {
namespace {

using ::slate::testing::Cmd;

Command In(const std::string& tenant, const std::string& json) {
  Command c = Cmd(json);
  c.set_tenant_id(tenant);
  return c;
}

class TenantExecutorTest : public ::testing::Test {
 protected:
  ExecuteResult Ok(const Command& c) {
    absl::StatusOr<ExecuteResult> r = exec_.Execute(c);
    EXPECT_TRUE(r.ok()) << c.ShortDebugString() << ": " << r.status();
    return r.ok() ? *r : ExecuteResult();
  }
  void Services() {
    Ok(Cmd(R"({"defineService": {"serviceId": "email", "name": "E-mail"}})"));
    Ok(Cmd(R"({"defineService": {"serviceId": "web", "name": "Web"}})"));
  }
  std::vector<std::string> Ids(absl::string_view stream) {
    std::vector<std::string> ids;
    absl::StatusOr<std::vector<Envelope>> events =
        store_.ReadStream(stream, 0, 100);
    EXPECT_TRUE(events.ok());
    for (const Envelope& e : *events) {
      ids.push_back(e.event_id());
    }
    return ids;
  }

  SimulatedClock clock_{absl::FromUnixSeconds(1793620000)};
  InMemoryEventStore store_{&clock_};
  CommandExecutor exec_{&store_, &clock_};
};

constexpr char kOpen[] =
    R"({"commandId": "c1", "openIncident": {"incidentId": "INC1", "at": "2026-11-02T09:00:00Z", "serviceId": "email", "impact": 2, "urgency": 2}})";

TEST_F(TenantExecutorTest, TwoTenantsUseTheSameIdsOnTheirOwnStreams) {
  Services();
  ExecuteResult d = Ok(Cmd(kOpen));
  ExecuteResult a = Ok(In("acme", kOpen));
  EXPECT_EQ(d.appends(0).stream(), "incident/INC1");
  EXPECT_EQ(a.appends(0).stream(), "tenant/acme/incident/INC1");
  EXPECT_EQ(d.command_id(), "c1");
  EXPECT_EQ(a.command_id(), "c1");
  EXPECT_EQ(d.tenant_id(), "");
  EXPECT_EQ(a.tenant_id(), "acme");
  const std::vector<std::string> plain = Ids("incident/INC1");
  const std::vector<std::string> acme = Ids("tenant/acme/incident/INC1");
  ASSERT_EQ(plain.size(), acme.size());
  ASSERT_FALSE(plain.empty());
  for (size_t i = 0; i < plain.size(); ++i) {
    EXPECT_EQ(plain[i], absl::StrCat("c1:", i));
    EXPECT_EQ(acme[i], absl::StrCat("tenant/acme/c1:", i));
  }
  // Each tenant's retry is its own replay.
  ExecuteResult again = Ok(In("acme", kOpen));
  EXPECT_TRUE(again.idempotent_replay());
  EXPECT_EQ(again.appends(0).stream(), "tenant/acme/incident/INC1");
  // "default" names the default tenant.
  ExecuteResult named = Ok(In("default", kOpen));
  EXPECT_TRUE(named.idempotent_replay());
  EXPECT_EQ(named.appends(0).stream(), "incident/INC1");
  EXPECT_EQ(PrimaryStream(In("acme", kOpen)).value(),
            "tenant/acme/incident/INC1");
}

TEST_F(TenantExecutorTest, BadTenantsAndReservedCommandIdsAreRefused) {
  Services();
  for (const char* bad : {"Acme", "a/b", "-x", "a b"}) {
    absl::StatusOr<ExecuteResult> r = exec_.Execute(In(bad, kOpen));
    ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_TRUE(absl::StrContains(r.status().message(),
                                  "command c1: field tenantId"))
        << r.status();
  }
  Command reserved = Cmd(kOpen);
  reserved.set_command_id("tenant/acme/c1");
  EXPECT_EQ(exec_.Execute(reserved).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(store_.All().size() == 2);  // The two services only.
  EXPECT_EQ(exec_.Load("incident", "INC1", "Bad!").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(TenantExecutorTest, ConfigurationFallsBackAndOverridesPerTenant) {
  Services();
  // acme has no services of its own: the default tenant's are shared.
  Ok(In("acme", kOpen));
  EXPECT_EQ(exec_.Load("service", "email", "acme")->service().spec().name(),
            "E-mail");
  // Its own "email" overrides the shared one for acme only.
  Ok(In("acme",
        R"({"defineService": {"serviceId": "email", "name": "Acme mail"}})"));
  EXPECT_EQ(exec_.Load("service", "email", "acme")->service().spec().name(),
            "Acme mail");
  EXPECT_EQ(exec_.Load("service", "email")->service().spec().name(), "E-mail");
  EXPECT_EQ(exec_.Load("service", "email", "beta")->service().spec().name(),
            "E-mail");
  // A service nobody defined is not found, in the tenant's words.
  absl::StatusOr<ExecuteResult> none = exec_.Load("service", "fax", "acme");
  EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(none.status().message(), "in tenant acme"));
  // A tenant cannot retire a policy it does not own.
  Ok(Cmd(R"({"defineSlaPolicy": {"policy": {"id": "p1", "name": "P1", "appliesTo": {"recordTypes": ["incident"]}, "targets": [{"priority": 3, "resolution": "4h"}], "calendarId": "24x7", "resolution": {"start": {"events": ["incident_opened"]}, "stop": {"states": ["resolved"]}}}}})"));
  EXPECT_EQ(
      exec_.Execute(In("acme", R"({"retireSlaPolicy": {"policyId": "p1"}})"))
          .status()
          .code(),
      absl::StatusCode::kNotFound);
}

TEST_F(TenantExecutorTest, TheMatrixIsSharedUntilATenantSetsItsOwn) {
  Services();
  const std::string two_levels =
      R"({"setPriorityMatrix": {"at": "2026-11-02T08:00:00Z", "matrix": {"impactLevels": 1, "urgencyLevels": 2, "levelNames": ["Now", "Soon"], "cells": [{"impact": 1, "urgency": 1, "priority": 1}, {"impact": 1, "urgency": 2, "priority": 2}]}}})";
  Ok(Cmd(two_levels));
  EXPECT_EQ(exec_.LoadPriorityMatrix("acme")->level_names(1), "Soon");
  // acme sets the built-in default matrix: recorded although it equals the
  // built-in one, since acme no longer follows the shared matrix.
  Command builtin = In("acme", "{}");
  *builtin.mutable_set_priority_matrix()->mutable_matrix() =
      DefaultPriorityMatrix();
  ExecuteResult set = Ok(builtin);
  ASSERT_EQ(set.appends_size(), 1);
  EXPECT_EQ(set.appends(0).stream(), "tenant/acme/config/priority-matrix");
  EXPECT_EQ(exec_.LoadPriorityMatrix("acme")->cells_size(), 9);
  EXPECT_EQ(exec_.LoadPriorityMatrix()->cells_size(), 2);
  ExecuteResult inc = Ok(In(
      "acme",
      R"({"openIncident": {"incidentId": "INC9", "serviceId": "email", "impact": 3, "urgency": 3}})"));
  EXPECT_EQ(inc.incident().priority(), 5);
}

TEST_F(TenantExecutorTest, RecordsOfAnotherTenantAreNotFound) {
  Services();
  Ok(Cmd(kOpen));
  Ok(Cmd(R"({"logProblem": {"problemId": "PRB1", "title": "t"}})"));
  Ok(Cmd(R"({"requestChange": {"changeId": "CHG1", "type": "STANDARD", "impact": 3}})"));
  Ok(In("acme", kOpen));
  for (const char* json :
       {R"({"linkIncidentToProblem": {"incidentId": "INC1", "problemId": "PRB1"}})",
        R"({"linkIncidentToChange": {"incidentId": "INC1", "changeId": "CHG1", "relation": "CAUSED_BY"}})"}) {
    absl::StatusOr<ExecuteResult> r = exec_.Execute(In("acme", json));
    EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound) << json;
  }
  // Raising a problem from another tenant's incident: not found, nothing
  // written.
  const size_t before = store_.All().size();
  absl::StatusOr<ExecuteResult> r = exec_.Execute(In(
      "beta",
      R"({"logProblem": {"problemId": "PRB1", "title": "t", "incidentIds": ["INC1"]}})"));
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(store_.All().size(), before);
  EXPECT_EQ(exec_.Load("incident", "INC1", "beta").status().code(),
            absl::StatusCode::kNotFound);
}

// --- Property: a tenant's outcomes equal a single-tenant executor's.

struct Step {
  std::string tenant;
  Command command;
};

std::string RandomCommand(std::mt19937& rng, int minute) {
  auto pick = [&](int n) { return static_cast<int>(rng() % n); };
  const std::string inc = absl::StrCat("INC", 1 + pick(4));
  const std::string at = absl::StrCat(
      R"("at": ")",
      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ",
                       absl::FromUnixSeconds(1793610000) + absl::Minutes(minute),
                       absl::UTCTimeZone()),
      R"(")");
  switch (pick(11)) {
    case 0:
    case 1:
      return absl::StrCat(R"({"openIncident": {"incidentId": ")", inc, R"(", )",
                          at, R"(, "serviceId": ")",
                          pick(3) == 0 ? "web" : "email",
                          R"(", "impact": )", 1 + pick(3),
                          R"(, "urgency": )", 1 + pick(3), "}}");
    case 2:
      return absl::StrCat(R"({"acknowledgeIncident": {"incidentId": ")", inc,
                          R"(", )", at, "}}");
    case 3:
      return absl::StrCat(R"({"assignIncident": {"incidentId": ")", inc,
                          R"(", )", at, R"(, "group": "g)", pick(2), R"("}})");
    case 4:
      return absl::StrCat(R"({"resolveIncident": {"incidentId": ")", inc,
                          R"(", )", at, R"(, "resolutionCode": "fixed"}})");
    case 5:
      return absl::StrCat(R"({"closeIncident": {"incidentId": ")", inc,
                          R"(", )", at, "}}");
    case 6:
      return absl::StrCat(R"({"reopenIncident": {"incidentId": ")", inc,
                          R"(", )", at, R"(, "reason": "again"}})");
    case 7:
      return absl::StrCat(
          R"({"logProblem": {"problemId": "PRB)", 1 + pick(2), R"(", )", at,
          R"(, "title": "t", "serviceId": "email", "incidentIds": [")", inc,
          R"("]}})");
    case 8:
      return absl::StrCat(R"({"linkIncidentToProblem": {"incidentId": ")",
                          inc, R"(", )", at, R"(, "problemId": "PRB)",
                          1 + pick(2), R"("}})");
    case 9:
      return absl::StrCat(R"({"requestChange": {"changeId": "CHG)",
                          1 + pick(2), R"(", )", at,
                          R"(, "type": "STANDARD", "serviceIds": ["email"], "impact": 3}})");
    default:
      return absl::StrCat(R"({"linkIncidentToChange": {"incidentId": ")", inc,
                          R"(", )", at, R"(, "changeId": "CHG)", 1 + pick(2),
                          R"(", "relation": "FIXED_BY"}})");
  }
}

const google::protobuf::Message* StateOf(const ExecuteResult& r) {
  const auto* refl = r.GetReflection();
  const auto* field = refl->GetOneofFieldDescriptor(
      r, r.GetDescriptor()->FindOneofByName("state"));
  return field == nullptr ? nullptr : &refl->GetMessage(r, field);
}

TEST(TenantPropertyTest, EachTenantSeesWhatASingleTenantEngineWouldSee) {
  const std::vector<std::string> shared = {
      R"({"commandId": "s1", "defineService": {"serviceId": "email", "name": "E-mail"}})",
      R"({"commandId": "s2", "defineService": {"serviceId": "web", "name": "Web"}})",
  };
  // acme overrides "web" (its own name) and beta sets its own matrix.
  const std::map<std::string, std::vector<std::string>> own_config = {
      {"acme",
       {R"({"commandId": "o1", "defineService": {"serviceId": "web", "name": "Acme web"}})"}},
      {"beta",
       {R"({"commandId": "o2", "setPriorityMatrix": {"at": "2026-11-02T08:00:00Z", "matrix": {"impactLevels": 3, "urgencyLevels": 3, "levelNames": ["A", "B"], "cells": [{"impact": 1, "urgency": 1, "priority": 1}, {"impact": 1, "urgency": 2, "priority": 1}, {"impact": 1, "urgency": 3, "priority": 2}, {"impact": 2, "urgency": 1, "priority": 1}, {"impact": 2, "urgency": 2, "priority": 2}, {"impact": 2, "urgency": 3, "priority": 2}, {"impact": 3, "urgency": 1, "priority": 2}, {"impact": 3, "urgency": 2, "priority": 2}, {"impact": 3, "urgency": 3, "priority": 2}]}}})"}},
      {"default", {}},
  };
  const std::vector<std::string> tenants = {"default", "acme", "beta"};
  int compared = 0;  // Successful commands compared, over all seeds.
  for (uint32_t seed = 1; seed <= 25; ++seed) {
    SCOPED_TRACE(absl::StrCat("seed ", seed));
    std::mt19937 rng(seed);
    std::vector<Step> steps;
    for (const std::string& t : tenants) {
      for (const std::string& json : own_config.at(t)) {
        steps.push_back({t, Cmd(json)});
      }
    }
    for (int i = 0; i < 120; ++i) {
      Step s{tenants[rng() % tenants.size()], Cmd(RandomCommand(rng, i))};
      s.command.set_command_id(absl::StrCat("k", i % 40));  // Reused ids.
      steps.push_back(std::move(s));
    }

    SimulatedClock clock(absl::FromUnixSeconds(1793620000));
    InMemoryEventStore all(&clock);
    CommandExecutor multi(&all, &clock);
    for (const std::string& json : shared) ASSERT_TRUE(multi.Execute(Cmd(json)).ok());
    std::vector<absl::StatusOr<ExecuteResult>> got;
    for (const Step& s : steps) {
      Command c = s.command;
      if (s.tenant != "default") c.set_tenant_id(s.tenant);
      got.push_back(multi.Execute(c));
    }

    for (const std::string& t : tenants) {
      SCOPED_TRACE(absl::StrCat("tenant ", t));
      InMemoryEventStore alone_store(&clock);
      CommandExecutor alone(&alone_store, &clock);
      std::set<std::string> overridden;
      for (const std::string& json : own_config.at(t)) {
        Command c = Cmd(json);
        if (c.has_define_service()) overridden.insert(c.define_service().service_id());
      }
      for (const std::string& json : shared) {
        Command c = Cmd(json);
        if (overridden.count(c.define_service().service_id()) == 0) {
          ASSERT_TRUE(alone.Execute(c).ok());
        }
      }
      for (size_t i = 0; i < steps.size(); ++i) {
        if (steps[i].tenant != t) continue;
        absl::StatusOr<ExecuteResult> want = alone.Execute(steps[i].command);
        const absl::StatusOr<ExecuteResult>& have = got[i];
        ASSERT_EQ(have.status().code(), want.status().code())
            << steps[i].command.ShortDebugString() << "\n"
            << have.status() << "\n" << want.status();
        if (!want.ok()) continue;
        ++compared;
        EXPECT_EQ(have->idempotent_replay(), want->idempotent_replay());
        const google::protobuf::Message* hs = StateOf(*have);
        const google::protobuf::Message* ws = StateOf(*want);
        ASSERT_EQ(hs == nullptr, ws == nullptr);
        if (hs != nullptr) {
          EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*hs, *ws))
              << steps[i].command.ShortDebugString() << "\n"
              << hs->ShortDebugString() << "\n" << ws->ShortDebugString();
        }
        ASSERT_EQ(have->appends_size(), want->appends_size());
        for (int k = 0; k < want->appends_size(); ++k) {
          EXPECT_EQ(have->appends(k).stream(),
                    TenantStream(t, want->appends(k).stream()));
        }
      }
      // Every record ends as the single-tenant one.
      for (const char* kind : {"incident", "problem", "change"}) {
        for (int n = 1; n <= 4; ++n) {
          const std::string id =
              absl::StrCat(std::string(kind) == "incident" ? "INC"
                           : std::string(kind) == "problem" ? "PRB"
                                                            : "CHG",
                           n);
          absl::StatusOr<ExecuteResult> have = multi.Load(kind, id, t);
          absl::StatusOr<ExecuteResult> want = alone.Load(kind, id);
          ASSERT_EQ(have.status().code(), want.status().code()) << kind << id;
          if (want.ok()) {
            EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
                *StateOf(*have), *StateOf(*want)))
                << kind << " " << id;
          }
        }
      }
      // And the streams hold the same events, ids and times aside.
      for (const Envelope& e : alone_store.All()) {
        if (absl::StartsWith(e.event_id(), "s")) continue;  // Shared config.
        absl::StatusOr<std::vector<Envelope>> mine =
            all.ReadStream(TenantStream(t, e.stream()), e.version(), 1);
        ASSERT_TRUE(mine.ok());
        ASSERT_EQ(mine->size(), 1u) << e.stream();
        Envelope a = mine->front();
        Envelope b = e;
        // The id carries the tenant, and so does the stream an event on
        // another stream than the command's names in its id.
        std::string want_id = TenantStream(t, b.event_id());
        if (t != "default") {
          const std::string scope = TenantStreamPrefix(t);
          want_id = absl::StrReplaceAll(
              want_id, {{":incident/", absl::StrCat(":", scope, "incident/")},
                        {":problem/", absl::StrCat(":", scope, "problem/")},
                        {":change/", absl::StrCat(":", scope, "change/")}});
        }
        EXPECT_EQ(a.event_id(), want_id);
        for (Envelope* x : {&a, &b}) {
          x->clear_stream();
          x->clear_event_id();
          x->clear_position();
          x->clear_recorded_at_us();
          x->clear_causation_id();
          x->clear_correlation_id();
        }
        EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(a, b))
            << a.ShortDebugString() << "\n" << b.ShortDebugString();
      }
    }
  }
  // Enough of the random commands succeeded to mean something.
  EXPECT_GT(compared, 25 * 20);
}

}  // namespace
}  // namespace slate
