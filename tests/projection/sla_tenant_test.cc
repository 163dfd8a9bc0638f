// Tenants in the SLA projection and the SLA queries (issue 19).
//
// The isolation property: a log holding the records of the default tenant
// and of tenants "acme" and "beta" (the same record ids in each), the
// default tenant's shared configuration, acme overriding a policy and a
// calendar and later retiring its policy, beta retiring a shared policy,
// and the default tenant redefining a shared policy mid-way, with the
// timers fired at points along the way. For each tenant, every SLA query
// (Clocks, AtRisk, Breached, ExplainClocks, Simulate) and the SLA events
// each AdvanceTo fired equal those of an engine that saw only the shared
// configuration and that tenant's events, written as the default tenant's
// (the oracle). Then the multi-tenant database verifies (a rebuild equals
// the incremental fold) and a restart fires nothing twice.
//
// The same property through commands (Command.tenant_id, executed by the
// engine): random incidents of three tenants, acme and beta overriding
// shared definitions, acme retiring its own policy.
//
// Plus the override cases one by one, and the queries' tenant arguments.
#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "lib/api/engine.h"
#include "lib/api/engine_internal.h"
#include "lib/api/tenant.h"
#include "lib/projection/sla_projection.h"
#include "lib/sla/sla_policy.h"
#include "tests/projection/sla_test_util.h"
#include "tests/testing/temp_dir.h"

namespace slate {
namespace {

using ::slate::testing::AllHoursPolicyJson;
using ::slate::testing::OfficeBerlinJson;
using ::slate::testing::OfficePolicyJson;
using ::slate::testing::T;

constexpr int64_t kMinute = 60'000'000;
constexpr int64_t kHour = 60 * kMinute;

// Events of one stream of one tenant that arrive together.
struct Unit {
  std::string tenant;  // "default", "acme" or "beta".
  std::string local;   // The stream within the tenant.
  int64_t at_us = 0;
  std::vector<Envelope> events;
};

int64_t Us(const std::string& rfc3339) {
  return absl::ToUnixMicros(T(rfc3339));
}

SlaPolicy PolicyFromJson(const std::string& json) {
  SlaPolicy p;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &p).ok())
      << json;
  FillSlaPolicyDefaults(&p);
  return p;
}

Unit PolicyUnit(const std::string& tenant, const SlaPolicy& policy,
                int64_t at_us, bool apply_to_running = false) {
  Unit u{tenant, absl::StrCat("policy/", policy.id()), at_us, {}};
  Envelope& e = u.events.emplace_back();
  e.set_event_id(absl::StrCat(tenant, "-def-", policy.id(), "-", at_us));
  e.set_occurred_at_us(at_us);
  *e.mutable_sla_policy_defined()->mutable_policy() = policy;
  e.mutable_sla_policy_defined()->set_apply_to_running(apply_to_running);
  return u;
}

Unit CalendarUnit(const std::string& tenant, const std::string& json,
                  int64_t at_us) {
  CalendarSpec spec;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &spec).ok())
      << json;
  Unit u{tenant, absl::StrCat("calendar/", spec.name()), at_us, {}};
  Envelope& e = u.events.emplace_back();
  e.set_event_id(absl::StrCat(tenant, "-cal-", spec.name(), "-", at_us));
  e.set_occurred_at_us(at_us);
  *e.mutable_calendar_defined()->mutable_spec() = spec;
  return u;
}

Unit RetireUnit(const std::string& tenant, const std::string& policy_id,
                int64_t at_us) {
  Unit u{tenant, absl::StrCat("policy/", policy_id), at_us, {}};
  Envelope& e = u.events.emplace_back();
  e.set_event_id(absl::StrCat(tenant, "-retire-", policy_id, "-", at_us));
  e.set_occurred_at_us(at_us);
  e.mutable_sla_policy_retired()->set_policy_id(policy_id);
  return u;
}

// "office-berlin" as acme defines it: every day 06:00-20:00 UTC.
std::string AcmeOfficeJson() {
  std::string weekly;
  for (const char* day : {"MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY",
                          "FRIDAY", "SATURDAY", "SUNDAY"}) {
    absl::StrAppend(&weekly, weekly.empty() ? "" : ",", R"({"day":")", day,
                    R"(","start":"06:00","end":"20:00"})");
  }
  return absl::StrCat(R"({"name":"office-berlin","timeZone":"UTC","weekly":[)",
                      weekly, "]}");
}

// p-24x7 as acme defines it: resolution 2h / 5h / 11h.
SlaPolicy AcmeAllHours() {
  SlaPolicy p = PolicyFromJson(AllHoursPolicyJson());
  p.mutable_targets(0)->set_resolution("2h");
  p.mutable_targets(1)->set_resolution("5h");
  p.mutable_targets(2)->set_resolution("11h");
  return p;
}

// Random incidents of one tenant, ids S0.. (the same ids in every tenant).
std::vector<Unit> MakeIncidents(std::mt19937_64& rng, const std::string& tenant,
                                int n) {
  std::vector<Unit> units;
  for (int i = 0; i < n; ++i) {
    const std::string id = absl::StrCat("S", i);
    for (testing::IncidentStep& s : testing::RandomIncidentLife(
             rng, id, absl::StrCat(tenant, "-"), Us("2026-11-23T06:00:00Z"))) {
      units.push_back({tenant, absl::StrCat("incident/", id), s.at_us,
                       std::move(s.events)});
    }
  }
  return units;
}

// Removes tenant prefixes, so a tenant's names read as the oracle's.
std::string Local(absl::string_view s) {
  return absl::StrReplaceAll(s, {{"tenant/acme/", ""}, {"tenant/beta/", ""}});
}

std::string ViewText(SlaClockView v) {
  v.state.set_record_id(Local(v.state.record_id()));
  return absl::StrCat(Local(v.record), "|", v.policy_id, "|", v.target_type,
                      "|", v.cycle, "|", v.service, "|", v.group, "|",
                      v.category, "|", v.contact_type, "|", v.priority, "|",
                      v.stay_group, "|", v.policy_version_from_us, "|",
                      v.state.ShortDebugString());
}

std::vector<std::string> ViewTexts(
    const absl::StatusOr<std::vector<SlaClockView>>& views) {
  EXPECT_TRUE(views.ok()) << views.status();
  std::vector<std::string> out;
  if (views.ok()) {
    for (const SlaClockView& v : *views) out.push_back(ViewText(v));
  }
  return out;
}

std::vector<std::string> EventTexts(const std::vector<Envelope>& events,
                                    const std::string& tenant) {
  std::vector<std::string> out;
  for (Envelope e : events) {
    if (!StreamInTenant(e.stream(), tenant)) continue;
    e.clear_position();
    e.clear_version();
    e.clear_recorded_at_us();
    out.push_back(Local(e.ShortDebugString()));
  }
  return out;
}

std::vector<std::string> ExplainTexts(
    const absl::StatusOr<std::vector<SlaClockExplanation>>& ex) {
  EXPECT_TRUE(ex.ok()) << ex.status();
  std::vector<std::string> out;
  if (!ex.ok()) return out;
  for (const SlaClockExplanation& x : *ex) {
    std::string s = absl::StrCat(ViewText(x.clock), " cal ", x.calendar, " ",
                                 x.time_zone, " ", x.target_rule, " counted ",
                                 absl::FormatDuration(x.business_counted), "+",
                                 absl::FormatDuration(x.replayed_unlisted));
    for (const SlaClockStep& st : x.steps) {  // Positions differ: left out.
      absl::StrAppend(&s, "\n step ", absl::FormatTime(st.at), " ", st.event,
                      " ", st.action, " ", st.detail);
    }
    for (const SlaBusinessWindow& w : x.windows) {
      absl::StrAppend(&s, "\n window ", absl::FormatTime(w.start), " ",
                      absl::FormatTime(w.end));
    }
    for (const SlaThresholdDue& d : x.thresholds) {
      absl::StrAppend(&s, "\n threshold ", d.percent, " ", d.fired, " ",
                      d.due.has_value() ? absl::FormatTime(*d.due) : "-");
    }
    out.push_back(s);
  }
  return out;
}

std::vector<std::string> WhatIfTexts(const absl::StatusOr<SlaWhatIfReport>& r) {
  EXPECT_TRUE(r.ok()) << r.status();
  std::vector<std::string> out;
  if (!r.ok()) return out;
  out.push_back(absl::StrCat("as of ", absl::FormatTime(r->as_of), " flipped ",
                             r->flipped));
  for (const SlaWhatIfRow& row : r->rows) {
    out.push_back(absl::StrCat(row.policy_id, " ", row.target_type, " ",
                               row.key, " ", row.before_met, " ",
                               row.before_breached, " ", row.after_met, " ",
                               row.after_breached, " ", row.flips));
  }
  for (const SlaWhatIfFlip& f : r->flips) {
    out.push_back(absl::StrCat(Local(f.record), " ", f.policy_id, " ",
                               f.target_type, " ", f.cycle, " ", f.before, " ",
                               f.after, " ", f.why));
  }
  return out;
}

// Every per-record and per-tenant SLA answer of `tenant` ("" = default) in
// `mine` equals the oracle's (`theirs`, where the tenant's records are the
// default tenant's): Clocks and ExplainClocks of S0..S<records-1> (bare and
// local ids), Breached, and a what-if giving `what_if`. Returns the number
// of breached clocks.
size_t ExpectSameAnswers(Engine& mine, Engine& theirs,
                         const std::string& tenant, int records,
                         const SlaPolicy& what_if) {
  for (int i = 0; i < records; ++i) {
    const std::string id = absl::StrCat("S", i);
    const std::vector<std::string> clocks = ViewTexts(theirs.Clocks(id));
    EXPECT_EQ(ViewTexts(mine.Clocks(id, tenant)), clocks) << id;
    EXPECT_EQ(ViewTexts(mine.Clocks(absl::StrCat("incident/", id), tenant)),
              clocks)
        << id;
    EXPECT_EQ(ExplainTexts(mine.ExplainClocks(id, {}, tenant)),
              ExplainTexts(theirs.ExplainClocks(id, {})))
        << id;
  }
  const std::vector<std::string> breached = ViewTexts(mine.Breached(tenant));
  EXPECT_EQ(breached, ViewTexts(theirs.Breached()));
  SlaWhatIfQuery q;
  q.tenant = tenant;
  q.policies.push_back(what_if);
  q.by = "priority";
  q.list_flips = 5;
  SlaWhatIfQuery q_oracle = q;
  q_oracle.tenant = "";
  EXPECT_EQ(WhatIfTexts(mine.Simulate(q)),
            WhatIfTexts(theirs.Simulate(q_oracle)));
  return breached.size();
}

class Db {
 public:
  explicit Db(SimulatedClock* clock) : clock_(clock) { Open(); }
  void Open() {
    Options options;
    options.clock = clock_;
    options.durability = Durability::kProcessCrash;
    auto e = Engine::Open(options, dir_.path());
    ASSERT_TRUE(e.ok()) << e.status();
    engine = std::move(*e);
  }
  // Appends a unit to its tenant's stream (`as_default`: to the default
  // tenant's stream of the same local name, as the oracle sees it).
  void Append(const Unit& u, bool as_default = false) {
    const std::string stream =
        as_default ? u.local : TenantStream(u.tenant, u.local);
    auto r = engine->Append(stream, ExpectedVersion::Any(), u.events);
    ASSERT_TRUE(r.ok()) << stream << ": " << r.status();
  }
  std::vector<Envelope> Advance(const std::string& now) {
    auto r = engine->AdvanceTo(T(now));
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : std::vector<Envelope>();
  }
  size_t Cancelled(absl::string_view tenant, absl::string_view reason) {
    size_t n = 0;
    EXPECT_TRUE(ForEachClock(RunnerOf(*engine), [&](const SlaClockView& v) {
                  if (StreamInTenant(v.record, tenant) &&
                      v.state.cancel_reason() == reason) {
                    ++n;
                  }
                }).ok());
    return n;
  }

  SimulatedClock* clock_;
  slate::testing::TempDir dir_;
  std::unique_ptr<Engine> engine;
};

// The shared configuration: calendar office-berlin, p-office on it (P1/P2),
// p-24x7 (P1..P3), all from 2026-11-01.
std::vector<Unit> SharedConfig() {
  const int64_t t0 = Us("2026-11-01T00:00:00Z");
  return {CalendarUnit("default", OfficeBerlinJson(), t0),
          PolicyUnit("default", PolicyFromJson(OfficePolicyJson()), t0),
          PolicyUnit("default", PolicyFromJson(AllHoursPolicyJson()), t0)};
}

TEST(SlaTenantTest, EachTenantSeesWhatAnEngineWithOnlyItsEventsSees) {
  const uint64_t seed = 20261207;
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  SimulatedClock clock(T("2027-01-31T00:00:00Z"));
  const std::vector<std::string> tenants = {"default", "acme", "beta"};

  // acme overrides p-24x7 and the office-berlin calendar at the shared
  // configuration's instant (in the oracle, the same keys: replaced).
  const int64_t t0 = Us("2026-11-01T00:00:00Z");
  const std::vector<Unit> acme_config = {
      PolicyUnit("acme", AcmeAllHours(), t0),
      CalendarUnit("acme", AcmeOfficeJson(), t0)};
  // Along the way (in time order with the records): the default tenant
  // redefines p-office (resolution 4h -> 3h for P1) for running clocks;
  // beta retires the shared p-office; acme retires its p-24x7.
  SlaPolicy office2 = PolicyFromJson(OfficePolicyJson());
  office2.mutable_targets(0)->set_resolution("3h");
  std::vector<Unit> along = {
      PolicyUnit("default", office2, Us("2026-11-24T10:00:00Z"), true),
      RetireUnit("beta", "p-office", Us("2026-11-25T11:30:00Z")),
      RetireUnit("acme", "p-24x7", Us("2026-11-26T08:15:00Z"))};

  std::vector<Unit> records;
  for (const std::string& t : tenants) {
    std::vector<Unit> u = MakeIncidents(rng, t, 14);
    records.insert(records.end(), u.begin(), u.end());
  }
  std::stable_sort(
      records.begin(), records.end(),
      [](const Unit& a, const Unit& b) { return a.at_us < b.at_us; });
  // The arrival order: records in time order, with the config events
  // where their instant falls, and a few late arrivals (a unit moved
  // later) so recomputes happen too.
  std::vector<Unit> arrival;
  size_t next_along = 0;
  for (const Unit& u : records) {
    while (next_along < along.size() && along[next_along].at_us <= u.at_us) {
      arrival.push_back(along[next_along++]);
    }
    arrival.push_back(u);
  }
  while (next_along < along.size()) arrival.push_back(along[next_along++]);
  for (int i = 0; i < 12; ++i) {
    const size_t from = rng() % (arrival.size() - 10);
    std::swap(arrival[from], arrival[from + 1 + rng() % 8]);
  }
  // Timers fire after these many arrivals, at these instants.
  const std::vector<std::pair<size_t, std::string>> ticks = {
      {arrival.size() / 3, "2026-11-24T12:00:00Z"},
      {2 * arrival.size() / 3, "2026-11-26T09:00:00Z"},
      {arrival.size(), "2026-11-29T00:00:00Z"}};

  Db multi(&clock);
  std::map<std::string, std::unique_ptr<Db>> oracle;
  for (const std::string& t : tenants) {
    oracle[t] = std::make_unique<Db>(&clock);
    for (const Unit& u : SharedConfig()) oracle[t]->Append(u, true);
  }
  for (const Unit& u : SharedConfig()) multi.Append(u);
  for (const Unit& u : acme_config) {
    multi.Append(u);
    oracle["acme"]->Append(u, true);
  }
  // Fired events per tenant, multi and oracle.
  std::map<std::string, std::vector<std::string>> fired, fired_oracle;
  std::map<std::string, size_t> at_risk;  // Clocks listed, per tenant.
  size_t done = 0;
  for (const auto& [until, now] : ticks) {
    for (; done < until; ++done) {
      const Unit& u = arrival[done];
      if (u.tenant == "default" && !absl::StartsWith(u.local, "incident/")) {
        // The default tenant's configuration is everyone's.
        multi.Append(u);
        for (const std::string& t : tenants) oracle[t]->Append(u, true);
      } else {
        multi.Append(u);
        oracle[u.tenant]->Append(u, true);
      }
    }
    // At risk before the timers fire (after, every clock due is
    // breached), and breached after.
    for (const std::string& t : tenants) {
      SCOPED_TRACE(absl::StrCat("tenant ", t, " at ", now));
      Engine& theirs = *oracle[t]->engine;
      SlaAtRiskFilter filter;
      filter.tenant = t == "default" ? "" : t;
      const std::vector<std::string> risky =
          ViewTexts(multi.engine->AtRisk(T(now), absl::Hours(24), filter, 0));
      EXPECT_EQ(risky, ViewTexts(theirs.AtRisk(T(now), absl::Hours(24),
                                               SlaAtRiskFilter(), 0)));
      at_risk[t] += risky.size();
      filter.priority = 1;
      SlaAtRiskFilter p1;
      p1.priority = 1;
      EXPECT_EQ(
          ViewTexts(multi.engine->AtRisk(T(now), absl::Hours(24), filter, 2)),
          ViewTexts(theirs.AtRisk(T(now), absl::Hours(24), p1, 2)));
    }
    const std::vector<Envelope> events = multi.Advance(now);
    for (const std::string& t : tenants) {
      SCOPED_TRACE(absl::StrCat("tenant ", t, " at ", now));
      const std::vector<std::string> mine = EventTexts(events, t);
      const std::vector<std::string> theirs =
          EventTexts(oracle[t]->Advance(now), "default");
      EXPECT_EQ(mine, theirs);
      EXPECT_EQ(ViewTexts(multi.engine->Breached(t == "default" ? "" : t)),
                ViewTexts(oracle[t]->engine->Breached()));
      fired[t].insert(fired[t].end(), mine.begin(), mine.end());
      fired_oracle[t].insert(fired_oracle[t].end(), theirs.begin(),
                             theirs.end());
    }
  }

  // Every query, tenant by tenant.
  SlaPolicy what_if = PolicyFromJson(OfficePolicyJson());
  what_if.mutable_targets(0)->set_resolution("6h");
  what_if.mutable_targets(1)->set_resolution("12h");
  for (const std::string& t : tenants) {
    SCOPED_TRACE(absl::StrCat("tenant ", t));
    Engine& mine = *multi.engine;
    Engine& theirs = *oracle[t]->engine;
    const std::string tenant = t == "default" ? "" : t;
    EXPECT_FALSE(fired[t].empty());
    EXPECT_GT(at_risk[t], 0u);
    EXPECT_GT(ExpectSameAnswers(mine, theirs, tenant, 14, what_if), 0u);
  }
  // The scenario at work: acme's targets differ from the default tenant's,
  // beta's retirement ended its p-office clocks (and nobody else's), acme's
  // ended its p-24x7 clocks.
  EXPECT_NE(ViewTexts(multi.engine->Clocks("S0", "acme")),
            ViewTexts(multi.engine->Clocks("S0")));
  EXPECT_GT(multi.Cancelled("beta", "policy retired"), 0u);
  EXPECT_GT(multi.Cancelled("acme", "policy retired"), 0u);
  EXPECT_EQ(multi.Cancelled("default", "policy retired"), 0u);

  // A rebuild equals the incremental fold; a restart fires nothing again.
  VerifyReport report;
  ASSERT_TRUE(multi.engine->Verify(&report).ok());
  EXPECT_TRUE(report.ok()) << absl::StrJoin(report.problems, "\n");
  const int64_t events = multi.engine->NextPosition();
  multi.engine.reset();
  multi.Open();
  EXPECT_TRUE(multi.Advance("2026-11-29T00:00:00Z").empty());
  EXPECT_EQ(multi.engine->NextPosition(), events);
  ASSERT_TRUE(multi.engine->RebuildProjection(SlaProjection::kName).ok());
  EXPECT_TRUE(multi.Advance("2026-11-29T00:00:00Z").empty());
  EXPECT_EQ(multi.engine->NextPosition(), events);
  for (const std::string& t : tenants) {
    const std::string tenant = t == "default" ? "" : t;
    for (int i = 0; i < 14; ++i) {
      const std::string id = absl::StrCat("S", i);
      EXPECT_EQ(ViewTexts(multi.engine->Clocks(id, tenant)),
                ViewTexts(oracle[t]->engine->Clocks(id)))
          << t << " " << id;
    }
  }
}

// An incident opened at `at` with priority `priority` (impact 1), on the
// e-mail service, as a unit of `tenant`.
Unit OpenUnit(const std::string& tenant, const std::string& id,
              const std::string& at, int priority) {
  Unit u{tenant, absl::StrCat("incident/", id), Us(at), {}};
  Envelope& o = u.events.emplace_back();
  o.set_event_id(absl::StrCat(tenant, "-", id, "-open"));
  o.set_occurred_at_us(u.at_us);
  o.mutable_incident_opened()->set_number(id);
  o.mutable_incident_opened()->set_service("email");
  o.mutable_incident_opened()->set_impact(1);
  o.mutable_incident_opened()->set_urgency(priority);
  Envelope& p = u.events.emplace_back();
  p.set_event_id(absl::StrCat(tenant, "-", id, "-priority"));
  p.set_occurred_at_us(u.at_us);
  p.mutable_incident_priority_set()->set_impact(1);
  p.mutable_incident_priority_set()->set_urgency(priority);
  p.mutable_incident_priority_set()->set_priority(priority);
  return u;
}

// The clock of `record` (of `tenant`) under `policy`, metric resolution,
// cycle 1; fails the test if there is none.
SlaClockView Resolution(Engine& engine, const std::string& record,
                        const std::string& tenant, const std::string& policy) {
  auto clocks = engine.Clocks(record, tenant);
  EXPECT_TRUE(clocks.ok()) << clocks.status();
  if (clocks.ok()) {
    for (const SlaClockView& v : *clocks) {
      if (v.policy_id == policy && v.target_type == "resolution" &&
          v.cycle == 1) {
        return v;
      }
    }
  }
  ADD_FAILURE() << "no resolution clock of " << policy << " on " << record
                << " of tenant \"" << tenant << "\"";
  return SlaClockView();
}

class SlaTenantOverrideTest : public ::testing::Test {
 protected:
  SlaTenantOverrideTest() : db_(&clock_) {
    for (const Unit& u : SharedConfig()) db_.Append(u);
  }
  // INC1 opened in the three tenants at the same instant, P1.
  void OpenEverywhere(const std::string& at) {
    for (const char* t : {"default", "acme", "beta"}) {
      db_.Append(OpenUnit(t, "INC1", at, 1));
    }
  }
  SimulatedClock clock_{T("2027-01-31T00:00:00Z")};
  Db db_;
};

TEST_F(SlaTenantOverrideTest, ATenantsPolicyOverridesTheSharedOneForItOnly) {
  db_.Append(PolicyUnit("acme", AcmeAllHours(), Us("2026-11-01T00:00:00Z")));
  OpenEverywhere("2026-11-23T10:00:00Z");
  Engine& e = *db_.engine;
  EXPECT_EQ(Resolution(e, "INC1", "acme", "p-24x7").state.target_us(),
            absl::ToInt64Microseconds(absl::Hours(2)));
  EXPECT_EQ(Resolution(e, "INC1", "", "p-24x7").state.target_us(),
            absl::ToInt64Microseconds(absl::Hours(4)));
  EXPECT_EQ(Resolution(e, "INC1", "beta", "p-24x7").state.target_us(),
            absl::ToInt64Microseconds(absl::Hours(4)));
  // Defined after the records: they are recomputed (acme's only).
  SlaPolicy beta = AcmeAllHours();
  beta.mutable_targets(0)->set_resolution("3h");
  db_.Append(PolicyUnit("beta", beta, Us("2026-11-01T00:00:00Z")));
  EXPECT_EQ(Resolution(e, "INC1", "beta", "p-24x7").state.target_us(),
            absl::ToInt64Microseconds(absl::Hours(3)));
  EXPECT_EQ(Resolution(e, "INC1", "", "p-24x7").state.target_us(),
            absl::ToInt64Microseconds(absl::Hours(4)));
  EXPECT_EQ(Resolution(e, "INC1", "acme", "p-24x7").state.target_us(),
            absl::ToInt64Microseconds(absl::Hours(2)));
  // The timers fire each tenant's deadline into its own SLA stream, with
  // ids that name the tenant's record.
  auto fired = e.AdvanceTo(T("2026-11-23T12:00:00Z"));
  ASSERT_TRUE(fired.ok()) << fired.status();
  std::set<std::string> breached_streams;
  for (const Envelope& ev : *fired) {
    if (!ev.has_sla_breached() || ev.sla_breached().policy_id() != "p-24x7") {
      continue;
    }
    breached_streams.insert(ev.stream());
    EXPECT_EQ(ev.event_id(),
              SlaTimerEventId(ev.sla_breached().record(), "p-24x7",
                              SLA_METRIC_RESOLUTION, 1, -1));
  }
  EXPECT_EQ(breached_streams,
            (std::set<std::string>{"tenant/acme/sla/incident/INC1"}));
  // Breached: p-office's 1h response everywhere, acme's p-24x7 too.
  auto policies = [&](const std::string& tenant) {
    std::set<std::string> out;
    auto b = e.Breached(tenant);
    EXPECT_TRUE(b.ok()) << b.status();
    for (const SlaClockView& v : *b) {
      EXPECT_EQ(v.record, TenantStream(tenant, "incident/INC1"));
      out.insert(absl::StrCat(v.policy_id, " ", v.target_type));
    }
    return out;
  };
  EXPECT_EQ(policies("acme"),
            (std::set<std::string>{"p-24x7 resolution", "p-office response"}));
  EXPECT_EQ(policies(""), (std::set<std::string>{"p-office response"}));
  EXPECT_EQ(policies("beta"), (std::set<std::string>{"p-office response"}));
  fired = e.AdvanceTo(T("2026-11-23T13:00:00Z"));
  ASSERT_TRUE(fired.ok()) << fired.status();
  breached_streams.clear();
  for (const Envelope& ev : *fired) {
    if (ev.has_sla_breached() && ev.sla_breached().policy_id() == "p-24x7") {
      breached_streams.insert(ev.stream());
    }
  }
  EXPECT_EQ(breached_streams,
            (std::set<std::string>{"tenant/beta/sla/incident/INC1"}));
}

TEST_F(SlaTenantOverrideTest, ATenantsCalendarOverridesTheSharedOneForItOnly) {
  // Saturday 10:00 UTC: office-berlin is closed until Monday 09:00 CET;
  // acme's office-berlin (06:00-20:00 UTC every day) is open.
  db_.Append(
      CalendarUnit("acme", AcmeOfficeJson(), Us("2026-11-01T00:00:00Z")));
  OpenEverywhere("2026-11-28T10:00:00Z");
  Engine& e = *db_.engine;
  EXPECT_EQ(Resolution(e, "INC1", "acme", "p-office").state.deadline_us(),
            Us("2026-11-28T14:00:00Z"));
  EXPECT_EQ(Resolution(e, "INC1", "", "p-office").state.deadline_us(),
            Us("2026-11-30T12:00:00Z"));  // Monday 13:00 CET.
  EXPECT_EQ(Resolution(e, "INC1", "beta", "p-office").state.deadline_us(),
            Us("2026-11-30T12:00:00Z"));
  // At risk within 8 hours of Saturday 10:00: acme's clock only, and only
  // for acme.
  SlaAtRiskFilter acme;
  acme.tenant = "acme";
  auto risky = e.AtRisk(T("2026-11-28T10:00:00Z"), absl::Hours(8), acme, 0);
  ASSERT_TRUE(risky.ok()) << risky.status();
  // p-24x7's resolution, p-office's response and resolution.
  ASSERT_EQ(risky->size(), 3u);
  for (const SlaClockView& v : *risky) {
    EXPECT_EQ(v.record, "tenant/acme/incident/INC1");
  }
  risky = e.AtRisk(T("2026-11-28T10:00:00Z"), absl::Hours(8));
  ASSERT_TRUE(risky.ok()) << risky.status();
  ASSERT_EQ(risky->size(), 1u);  // p-24x7 only.
  EXPECT_EQ((*risky)[0].record, "incident/INC1");
  // The explanation counts on acme's calendar.
  auto ex = e.ExplainClocks("INC1", {"p-office", "resolution", 1}, "acme");
  ASSERT_TRUE(ex.ok()) << ex.status();
  ASSERT_EQ(ex->size(), 1u);
  EXPECT_EQ((*ex)[0].time_zone, "UTC");
  ex = e.ExplainClocks("INC1", {"p-office", "resolution", 1});
  ASSERT_TRUE(ex.ok()) << ex.status();
  ASSERT_EQ(ex->size(), 1u);
  EXPECT_EQ((*ex)[0].time_zone, "Europe/Berlin");
}

TEST_F(SlaTenantOverrideTest, ARetirementRetiresWithinItsTenantOnly) {
  db_.Append(PolicyUnit("acme", AcmeAllHours(), Us("2026-11-01T00:00:00Z")));
  OpenEverywhere("2026-11-23T10:00:00Z");
  // acme retires its own p-24x7 and the shared p-office.
  db_.Append(RetireUnit("acme", "p-24x7", Us("2026-11-23T10:30:00Z")));
  db_.Append(RetireUnit("acme", "p-office", Us("2026-11-23T10:30:00Z")));
  Engine& e = *db_.engine;
  for (const char* policy : {"p-24x7", "p-office"}) {
    SCOPED_TRACE(policy);
    EXPECT_EQ(Resolution(e, "INC1", "acme", policy).state.cancel_reason(),
              "policy retired");
    for (const char* other : {"", "beta"}) {
      const SlaClockView v = Resolution(e, "INC1", other, policy);
      EXPECT_EQ(v.state.phase(), SLA_CLOCK_PHASE_RUNNING) << other;
      EXPECT_EQ(v.state.cancel_reason(), "") << other;
    }
  }
  // A record acme opens later gets no clocks; the others' do.
  for (const char* t : {"default", "acme", "beta"}) {
    db_.Append(OpenUnit(t, "INC2", "2026-11-23T11:00:00Z", 1));
  }
  EXPECT_TRUE(e.Clocks("INC2", "acme")->empty());
  EXPECT_EQ(e.Clocks("INC2")->size(), 3u);  // 24x7 + office (2 metrics).
  EXPECT_EQ(e.Clocks("INC2", "beta")->size(), 3u);
  // The default tenant retiring p-office leaves beta's view of it alone
  // only if beta defined its own: here beta shares it, so it retires.
  db_.Append(RetireUnit("default", "p-office", Us("2026-11-23T12:00:00Z")));
  EXPECT_EQ(Resolution(e, "INC1", "beta", "p-office").state.cancel_reason(),
            "policy retired");
  VerifyReport report;
  ASSERT_TRUE(e.Verify(&report).ok());
  EXPECT_TRUE(report.ok()) << absl::StrJoin(report.problems, "\n");
}

TEST_F(SlaTenantOverrideTest, QueriesNameTheirTenant) {
  OpenEverywhere("2026-11-23T10:00:00Z");
  Engine& e = *db_.engine;
  // A bare id, a local stream and the full stream find acme's record.
  const std::string acme_record = "tenant/acme/incident/INC1";
  for (const std::string& r :
       {std::string("INC1"), std::string("incident/INC1")}) {
    auto clocks = e.Clocks(r, "acme");
    ASSERT_TRUE(clocks.ok()) << clocks.status();
    ASSERT_FALSE(clocks->empty());
    for (const SlaClockView& v : *clocks) EXPECT_EQ(v.record, acme_record);
  }
  auto full = e.Clocks(acme_record);
  ASSERT_TRUE(full.ok()) << full.status();
  EXPECT_FALSE(full->empty());
  EXPECT_TRUE(e.Clocks(acme_record, "acme").ok());
  // Another tenant's stream, or an invalid tenant: kInvalidArgument.
  EXPECT_EQ(e.Clocks(acme_record, "beta").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(e.Clocks(acme_record, "default").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(e.ExplainClocks(acme_record, {}, "beta").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(e.Clocks("INC1", "Bad Tenant").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(e.Breached("Bad Tenant").status().code(),
            absl::StatusCode::kInvalidArgument);
  SlaAtRiskFilter bad;
  bad.tenant = "/";
  EXPECT_EQ(
      e.AtRisk(T("2026-11-23T10:00:00Z"), absl::Hours(8), bad).status().code(),
      absl::StatusCode::kInvalidArgument);
  SlaWhatIfQuery q;
  q.tenant = "Nope!";
  EXPECT_EQ(e.Simulate(q).status().code(), absl::StatusCode::kInvalidArgument);
  // A tenant with no records has no clocks; a record id of no tenant
  // explains as not found.
  EXPECT_TRUE(e.Clocks("INC1", "gamma")->empty());
  EXPECT_EQ(e.ExplainClocks("INC1", {}, "gamma").status().code(),
            absl::StatusCode::kNotFound);
  // The what-if of one tenant counts its records only, with its policies:
  // a 1h p-24x7 for acme breaches acme's INC1 alone.
  SlaPolicy tight = PolicyFromJson(AllHoursPolicyJson());
  tight.mutable_targets(0)->set_resolution("1h");
  // acme's history goes on to 12:00 (its as-of instant); the others' ends
  // at 10:00.
  Unit ack{"acme", "incident/INC1", Us("2026-11-23T12:00:00Z"), {}};
  ack.events.emplace_back().set_event_id("acme-INC1-ack");
  ack.events.back().set_occurred_at_us(ack.at_us);
  ack.events.back().mutable_incident_acknowledged()->set_by("desk");
  db_.Append(ack);
  q.tenant = "acme";
  q.policies = {tight};
  q.list_flips = 10;
  auto r = e.Simulate(q);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->as_of, T("2026-11-23T12:00:00Z"));
  size_t p24 = 0;
  for (const SlaWhatIfRow& row : r->rows) {
    if (row.policy_id != "p-24x7") continue;
    ++p24;
    EXPECT_EQ(row.before_breached, 0);
    EXPECT_EQ(row.after_breached, 1);  // acme's INC1 only.
    EXPECT_EQ(row.flips, 1);
  }
  EXPECT_EQ(p24, 1u);
  ASSERT_EQ(r->flips.size(), 1u);
  EXPECT_EQ(r->flips[0].record, "tenant/acme/incident/INC1");
  q.tenant = "";
  r = e.Simulate(q);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->as_of, T("2026-11-23T10:00:00Z"));
  EXPECT_EQ(r->flipped, 0);
  // The live p-24x7 stays as it is for everyone.
  EXPECT_EQ(Resolution(e, "INC1", "acme", "p-24x7").state.target_us(),
            absl::ToInt64Microseconds(absl::Hours(4)));
}

// --- The same through commands (Command.tenant_id) ------------------------

// One command of one tenant: `body` is the command's JSON without its id
// and tenant.
struct TimedCommand {
  std::string tenant;
  int64_t at_us = 0;
  std::string id;
  std::string body;
};

std::string At(int64_t us) {
  return absl::FormatTime("%Y-%m-%d%ET%H:%M:%SZ", absl::FromUnixMicros(us),
                          absl::UTCTimeZone());
}

// Random incidents of one tenant as commands, ids S0.. in every tenant.
std::vector<TimedCommand> IncidentCommands(std::mt19937_64& rng,
                                           const std::string& tenant, int n) {
  const int64_t base = Us("2026-11-23T06:00:00Z");
  auto minutes = [&](int lo, int hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng) * kMinute;
  };
  std::vector<TimedCommand> out;
  for (int i = 0; i < n; ++i) {
    const std::string id = absl::StrCat("S", i);
    int seq = 0;
    int64_t t = base + minutes(0, 60 * 24 * 3);
    auto add = [&](absl::string_view kind, const std::string& fields) {
      out.push_back({tenant, t, absl::StrCat(tenant, "-", id, "-", seq++),
                     absl::StrCat("\"", kind, R"(":{"incidentId":")", id,
                                  R"(","at":")", At(t), "\"", fields, "}")});
    };
    add("openIncident",
        absl::StrCat(R"(,"serviceId":"email","impact":)", 1 + rng() % 2,
                     R"(,"urgency":)", 1 + rng() % 3));
    t += minutes(1, 90);
    add("acknowledgeIncident", R"(,"by":"desk")");
    t += minutes(1, 60);
    add("assignIncident", absl::StrCat(R"(,"group":"g)", rng() % 3, "\""));
    if (rng() % 2 == 0) {
      t += minutes(1, 240);
      add("holdIncident", R"(,"reason":"AWAITING_CALLER")");
      t += minutes(1, 240);
      add("resumeIncident", "");
    }
    if (rng() % 2 == 0) {
      t += minutes(1, 120);
      add("overrideIncidentPriority",
          absl::StrCat(R"(,"priority":)", 1 + rng() % 3,
                       R"(,"reason":"test")"));
    }
    if (rng() % 3 != 0) {
      t += minutes(1, 60 * 30);
      add("resolveIncident", R"(,"resolutionCode":"fixed")");
      if (rng() % 3 == 0) {
        t += minutes(1, 600);
        add("reopenIncident", R"(,"reason":"again")");
      }
    }
  }
  return out;
}

// Executes a command as `tenant`'s (as_default: without a tenant, as the
// oracle does); fails the test on error.
void RunCommand(Engine& engine, const TimedCommand& c, bool as_default) {
  const std::string tenant =
      as_default || c.tenant == "default"
          ? ""
          : absl::StrCat(R"("tenantId":")", c.tenant, R"(",)");
  const std::string json =
      absl::StrCat(R"({"commandId":")", c.id, R"(",)", tenant, c.body, "}");
  absl::StatusOr<ExecuteResult> r = engine.Execute(testing::Cmd(json));
  EXPECT_TRUE(r.ok()) << json << ": " << r.status();
}

std::string JsonOf(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions o;
  EXPECT_TRUE(google::protobuf::util::MessageToJsonString(m, &out, o).ok());
  return out;
}

TEST(SlaTenantCommandsTest, EachTenantSeesWhatAnEngineWithOnlyItsCommandsSees) {
  const uint64_t seed = 20261208;
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  SimulatedClock clock(T("2027-01-31T00:00:00Z"));
  const std::vector<std::string> tenants = {"default", "acme", "beta"};
  const std::string t0 = "2026-11-01T00:00:00Z";
  auto define_policy = [&](const std::string& tenant, const SlaPolicy& p,
                           const std::string& at, const std::string& id) {
    return TimedCommand{tenant, Us(at), id,
                        absl::StrCat(R"("defineSlaPolicy":{"at":")", at,
                                     R"(","policy":)", JsonOf(p), "}")};
  };
  const std::vector<TimedCommand> shared = {
      {"default", Us(t0), "svc",
       R"("defineService":{"serviceId":"email","name":"E-mail","at":"2026-11-01T00:00:00Z"})"},
      {"default", Us(t0), "cal",
       absl::StrCat(R"("defineCalendar":{"at":")", t0, R"(","spec":)",
                    OfficeBerlinJson(), "}")},
      define_policy("default", PolicyFromJson(OfficePolicyJson()), t0, "pol1"),
      define_policy("default", PolicyFromJson(AllHoursPolicyJson()), t0,
                    "pol2")};
  // acme: its own p-24x7 and office-berlin from the same instant, and
  // later retires its p-24x7; beta: its own p-office (P1 resolution 2h).
  SlaPolicy beta_office = PolicyFromJson(OfficePolicyJson());
  beta_office.mutable_targets(0)->set_resolution("2h");
  const std::vector<TimedCommand> own = {
      define_policy("acme", AcmeAllHours(), t0, "acme-pol"),
      {"acme", Us(t0), "acme-cal",
       absl::StrCat(R"("defineCalendar":{"at":")", t0, R"(","spec":)",
                    AcmeOfficeJson(), "}")},
      define_policy("beta", beta_office, t0, "beta-pol")};
  std::vector<TimedCommand> along;
  for (const std::string& t : tenants) {
    std::vector<TimedCommand> c = IncidentCommands(rng, t, 12);
    along.insert(along.end(), c.begin(), c.end());
  }
  along.push_back(
      {"acme", Us("2026-11-25T08:15:00Z"), "acme-retire",
       R"("retireSlaPolicy":{"policyId":"p-24x7","at":"2026-11-25T08:15:00Z"})"});
  std::stable_sort(along.begin(), along.end(),
                   [](const TimedCommand& a, const TimedCommand& b) {
                     return a.at_us < b.at_us;
                   });

  Db multi(&clock);
  std::map<std::string, std::unique_ptr<Db>> oracle;
  for (const std::string& t : tenants) {
    oracle[t] = std::make_unique<Db>(&clock);
    for (const TimedCommand& c : shared)
      RunCommand(*oracle[t]->engine, c, true);
  }
  for (const TimedCommand& c : shared) RunCommand(*multi.engine, c, false);
  for (const TimedCommand& c : own) {
    RunCommand(*multi.engine, c, false);
    RunCommand(*oracle[c.tenant]->engine, c, true);
  }
  const std::vector<std::pair<size_t, std::string>> ticks = {
      {along.size() / 2, "2026-11-24T18:00:00Z"},
      {along.size(), "2026-11-28T00:00:00Z"}};
  std::map<std::string, size_t> fired;
  size_t done = 0;
  for (const auto& [until, now] : ticks) {
    for (; done < until; ++done) {
      RunCommand(*multi.engine, along[done], false);
      RunCommand(*oracle[along[done].tenant]->engine, along[done], true);
    }
    const std::vector<Envelope> events = multi.Advance(now);
    for (const std::string& t : tenants) {
      SCOPED_TRACE(absl::StrCat("tenant ", t, " at ", now));
      const std::vector<std::string> mine = EventTexts(events, t);
      EXPECT_EQ(mine, EventTexts(oracle[t]->Advance(now), "default"));
      fired[t] += mine.size();
    }
  }
  for (const std::string& t : tenants) {
    SCOPED_TRACE(absl::StrCat("tenant ", t));
    const std::string tenant = t == "default" ? "" : t;
    Engine& mine = *multi.engine;
    Engine& theirs = *oracle[t]->engine;
    EXPECT_GT(fired[t], 0u);
    SlaPolicy what_if = PolicyFromJson(OfficePolicyJson());
    what_if.mutable_targets(0)->set_resolution("5h");
    ExpectSameAnswers(mine, theirs, tenant, 12, what_if);
    SlaAtRiskFilter filter;
    filter.tenant = tenant;
    EXPECT_EQ(ViewTexts(mine.AtRisk(T("2026-11-25T00:00:00Z"),
                                    absl::Hours(24 * 30), filter, 0)),
              ViewTexts(theirs.AtRisk(T("2026-11-25T00:00:00Z"),
                                      absl::Hours(24 * 30), {}, 0)));
  }
  EXPECT_GT(multi.Cancelled("acme", "policy retired"), 0u);
  EXPECT_EQ(multi.Cancelled("default", "policy retired"), 0u);
  EXPECT_EQ(multi.Cancelled("beta", "policy retired"), 0u);
  VerifyReport report;
  ASSERT_TRUE(multi.engine->Verify(&report).ok());
  EXPECT_TRUE(report.ok()) << absl::StrJoin(report.problems, "\n");
}

}  // namespace
}  // namespace slate
