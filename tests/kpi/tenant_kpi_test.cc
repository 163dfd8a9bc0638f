// Tenants in the KPIs and the record queries (issue 19): a property test
// that every answer for one tenant equals the answer of an engine that saw
// only the shared configuration and that tenant's commands, and that the
// all-tenants answer is the merge of the tenants' answers.
//
// Each round draws a random history per tenant (incidents opened,
// acknowledged, assigned, held, resolved, closed, reopened, cancelled,
// surveyed; changes closed with an outcome) over the same record ids in
// every tenant, and shared configuration in the default tenant (services
// with support calendars and availability targets, calendars), with one
// tenant overriding a service's calendar and another overriding a
// calendar. The oracle of tenant T is a fresh engine fed the shared
// configuration and T's commands in the default tenant. The multi-tenant
// engine is fed everything: either through Engine::Execute with
// Command.tenant_id (the executor scopes the records), or as the events the
// oracle wrote, appended on the tenant's streams (the projections alone).
#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "lib/api/clock.h"
#include "lib/api/engine.h"
#include "lib/api/kpi_merge.h"
#include "lib/api/tenant.h"
#include "lib/domain/executor.h"
#include "proto/commands.pb.h"
#include "tests/testing/temp_dir.h"

namespace slate {
namespace {

constexpr int64_t kMinute = 60;
constexpr int64_t kHour = 3600;
const absl::Time kStart = absl::FromCivil(absl::CivilDay(2026, 11, 2),
                                          absl::UTCTimeZone());  // Monday.
constexpr const char* kServices[] = {"email", "crm", "web"};
constexpr const char* kGroups[] = {"net", "apps", "desk"};
constexpr const char* kPeople[] = {"ann", "bob", "cat"};
constexpr const char* kCategories[] = {"network", "db", "app"};

std::string At(int64_t seconds) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ",
                          kStart + absl::Seconds(seconds),
                          absl::UTCTimeZone());
}

std::string CalendarJson(const std::string& name, int open_hour,
                         int close_hour) {
  std::vector<std::string> days;
  for (const char* d : {"MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY",
                        "FRIDAY"}) {
    days.push_back(absl::StrFormat(
        R"({"day":"%s","start":"%02d:00","end":"%02d:00"})", d, open_hour,
        close_hour));
  }
  return absl::StrCat(R"({"name":")", name,
                      R"(","timeZone":"UTC","weekly":[)",
                      absl::StrJoin(days, ","), "]}");
}

Command FromJson(const std::string& json) {
  Command c;
  auto s = google::protobuf::util::JsonStringToMessage(json, &c);
  EXPECT_TRUE(s.ok()) << s << "\n" << json;
  return c;
}

// How a tenant's history is written: its record ids and service ids get a
// prefix in the merged engine (one tenant holding every tenant's records).
struct Naming {
  std::string ids;       // Prefix of incident and change ids.
  std::string services;  // Prefix of service ids.
};

// One step of a record's history: a command in JSON with "$ID" for the
// record id and "$SVC(x)" for service x.
struct Step {
  int64_t at = 0;
  std::string json;
};

std::string Render(std::string json, const std::string& id,
                   const Naming& naming) {
  for (size_t p; (p = json.find("$ID")) != std::string::npos;) {
    json.replace(p, 3, naming.ids + id);
  }
  for (const char* s : kServices) {
    const std::string token = absl::StrCat("$SVC(", s, ")");
    for (size_t p; (p = json.find(token)) != std::string::npos;) {
      json.replace(p, token.size(), naming.services + s);
    }
  }
  return json;
}

// A tenant's random history: its records' steps, each record's steps in
// time order.
struct History {
  std::vector<std::pair<std::string, std::vector<Step>>> records;
};

History RandomHistory(std::mt19937_64& rng, int incidents, int changes) {
  auto pick = [&rng](int n) {
    return static_cast<int>(std::uniform_int_distribution<int>(0, n - 1)(rng));
  };
  auto chance = [&rng](double p) {
    return std::bernoulli_distribution(p)(rng);
  };
  History h;
  for (int i = 1; i <= incidents; ++i) {
    std::vector<Step> steps;
    int64_t t = pick(10 * 24) * kHour + pick(60) * kMinute;
    const std::string svc =
        chance(0.9) ? absl::StrCat("\"serviceId\":\"$SVC(",
                                   kServices[pick(3)], ")\",")
                    : "";
    steps.push_back(
        {t, absl::StrCat(R"({"openIncident":{"incidentId":"$ID","at":")",
                         At(t), "\",", svc, R"("impact":)", 1 + pick(3),
                         R"(,"urgency":)", 1 + pick(3), R"(,"category":")",
                         kCategories[pick(3)], R"(","configurationItem":"ci)",
                         pick(2), R"(","contactType":"PHONE"}})")});
    auto next = [&](int64_t max_minutes) {
      t += (1 + pick(static_cast<int>(max_minutes))) * kMinute;
      return At(t);
    };
    if (chance(0.2)) {
      steps.push_back({t, absl::StrCat(
                              R"({"cancelIncident":{"incidentId":"$ID","at":")",
                              next(600), R"(","reason":"duplicate"}})")});
      h.records.emplace_back(absl::StrCat("INC", i), std::move(steps));
      continue;
    }
    if (chance(0.7)) {
      steps.push_back(
          {t, absl::StrCat(R"({"acknowledgeIncident":{"incidentId":"$ID","at":")",
                           next(90), R"(","by":"desk"}})")});
    }
    const int assignments = pick(3);
    for (int a = 0; a < assignments; ++a) {
      steps.push_back(
          {t, absl::StrCat(R"({"assignIncident":{"incidentId":"$ID","at":")",
                           next(240), R"(","group":")", kGroups[pick(3)],
                           R"(","person":")", kPeople[pick(3)], "\"}}")});
    }
    if (chance(0.3)) {
      steps.push_back(
          {t, absl::StrCat(R"({"holdIncident":{"incidentId":"$ID","at":")",
                           next(300), R"(","reason":"AWAITING_CALLER"}})")});
      steps.push_back(
          {t, absl::StrCat(R"({"resumeIncident":{"incidentId":"$ID","at":")",
                           next(600), "\"}}")});
    }
    if (chance(0.8)) {
      steps.push_back(
          {t, absl::StrCat(R"({"resolveIncident":{"incidentId":"$ID","at":")",
                           next(48 * 60), R"(","resolutionCode":"fixed"}})")});
      if (chance(0.5)) {
        steps.push_back(
            {t, absl::StrCat(
                    R"({"recordSurveyResponse":{"incidentId":"$ID","at":")",
                    next(600), R"(","score":)", 1 + pick(5), "}}")});
      }
      if (chance(0.25)) {
        steps.push_back(
            {t, absl::StrCat(R"({"reopenIncident":{"incidentId":"$ID","at":")",
                             next(600), R"(","reason":"again"}})")});
        steps.push_back(
            {t, absl::StrCat(R"({"resolveIncident":{"incidentId":"$ID","at":")",
                             next(24 * 60), R"(","resolutionCode":"fixed"}})")});
      }
      if (chance(0.6)) {
        steps.push_back(
            {t, absl::StrCat(R"({"closeIncident":{"incidentId":"$ID","at":")",
                             next(24 * 60), "\"}}")});
      }
    }
    h.records.emplace_back(absl::StrCat("INC", i), std::move(steps));
  }
  constexpr const char* kOutcomes[] = {"SUCCESSFUL", "SUCCESSFUL_WITH_ISSUES",
                                       "FAILED", "ROLLED_BACK"};
  for (int c = 1; c <= changes; ++c) {
    std::vector<Step> steps;
    int64_t t = pick(10 * 24) * kHour;
    const std::string svc = kServices[pick(3)];
    steps.push_back(
        {t, absl::StrCat(R"({"requestChange":{"changeId":"$ID","at":")", At(t),
                         R"x(","type":"STANDARD","title":"t","serviceIds":["$SVC()x",
                         svc, R"x()"],"impact":3}})x")});
    const int64_t start = t + 2 * kHour;
    steps.push_back(
        {t + kMinute,
         absl::StrCat(R"({"scheduleChange":{"changeId":"$ID","at":")",
                      At(t + kMinute), R"(","start":")", At(start),
                      R"(","end":")", At(start + kHour), "\"}}")});
    if (chance(0.8)) {
      steps.push_back(
          {start, absl::StrCat(
                      R"({"startChangeImplementation":{"changeId":"$ID","at":")",
                      At(start), "\"}}")});
      steps.push_back(
          {start + 30 * kMinute,
           absl::StrCat(
               R"({"completeChangeImplementation":{"changeId":"$ID","at":")",
               At(start + 30 * kMinute), "\"}}")});
      steps.push_back(
          {start + kHour,
           absl::StrCat(R"({"closeChange":{"changeId":"$ID","at":")",
                        At(start + kHour), R"(","outcome":")",
                        kOutcomes[pick(4)], "\"}}")});
    }
    h.records.emplace_back(absl::StrCat("CHG", c), std::move(steps));
  }
  return h;
}

// The commands of a history, interleaved across records in time order
// (ties: record order), each with an id unique within its tenant.
std::vector<Command> Commands(const History& h, const Naming& naming) {
  struct Item {
    int64_t at;
    size_t record;
    size_t step;
  };
  std::vector<Item> items;
  for (size_t r = 0; r < h.records.size(); ++r) {
    for (size_t s = 0; s < h.records[r].second.size(); ++s) {
      items.push_back({h.records[r].second[s].at, r, s});
    }
  }
  std::stable_sort(items.begin(), items.end(),
                   [](const Item& a, const Item& b) { return a.at < b.at; });
  std::vector<Command> out;
  for (const Item& i : items) {
    const std::string& id = h.records[i.record].first;
    Command c = FromJson(
        Render(h.records[i.record].second[i.step].json, id, naming));
    c.set_command_id(absl::StrCat(naming.ids, id, "-", i.step));
    out.push_back(std::move(c));
  }
  return out;
}

// Configuration: calendars and services of one tenant, in JSON with
// $SVC(x) and $CAL(x) placeholders resolved by the caller.
struct ServiceDef {
  std::string calendar;  // "" = none.
  double target = 0;
};
struct Config {
  std::map<std::string, std::string> calendars;  // id -> spec JSON.
  std::map<std::string, ServiceDef> services;
};

// The shared (default tenant's) configuration, and what each tenant
// overrides: "acme" gives email the "late" calendar, "globex" redefines
// the "office" calendar.
Config SharedConfig() {
  Config c;
  c.calendars["office"] = CalendarJson("office", 9, 17);
  c.calendars["late"] = CalendarJson("late", 12, 20);
  c.services["email"] = {"office", 99.5};
  c.services["crm"] = {"", 0};
  c.services["web"] = {"late", 99.9};
  return c;
}
Config OwnConfig(const std::string& tenant) {
  Config c;
  if (tenant == "acme") c.services["email"] = {"late", 99.0};
  if (tenant == "globex") c.calendars["office"] = CalendarJson("office", 7, 15);
  return c;
}
// What `tenant` sees: the shared configuration overridden by its own.
Config EffectiveConfig(const std::string& tenant) {
  Config c = SharedConfig();
  const Config own = OwnConfig(tenant);
  for (const auto& [id, spec] : own.calendars) c.calendars[id] = spec;
  for (const auto& [id, def] : own.services) c.services[id] = def;
  return c;
}

std::vector<Command> ConfigCommands(const Config& c, const std::string& ids,
                                    bool update_services) {
  std::vector<Command> out;
  for (const auto& [id, spec] : c.calendars) {
    Command cmd = FromJson(absl::StrCat(
        R"({"defineCalendar":{"at":"2026-10-01T00:00:00Z","spec":)",
        spec, "}}"));
    cmd.set_command_id(absl::StrCat(ids, "cal-", id));
    out.push_back(std::move(cmd));
  }
  for (const auto& [id, def] : c.services) {
    Command cmd = FromJson(absl::StrCat(
        "{\"", update_services ? "updateService" : "defineService",
        R"(":{"serviceId":")", ids, id, R"(","at":"2026-10-01T00:00:00Z",)",
        R"("name":")", id, "\"",
        def.calendar.empty()
            ? std::string()
            : absl::StrCat(R"(,"supportCalendarId":")", def.calendar, "\""),
        def.target > 0
            ? absl::StrCat(R"(,"availabilityTargetPercent":)", def.target)
            : std::string(),
        "}}"));
    cmd.set_command_id(absl::StrCat(ids, "svc-", id));
    out.push_back(std::move(cmd));
  }
  return out;
}

const std::vector<std::string>& Tenants() {
  static const std::vector<std::string> t = {"default", "acme", "globex"};
  return t;
}

class Db {
 public:
  explicit Db(SimulatedClock* clock) {
    Options options;
    options.clock = clock;
    options.durability = Durability::kProcessCrash;
    auto e = Engine::Open(options, dir_.path());
    EXPECT_TRUE(e.ok()) << e.status();
    engine_ = std::move(*e);
  }
  Engine& operator*() { return *engine_; }
  Engine* operator->() { return engine_.get(); }

  // Executes `c`; false (nothing applied) when the domain refuses it.
  bool Try(const Command& c) {
    auto r = engine_->Execute(c);
    return r.ok();
  }
  void Must(const Command& c) {
    auto r = engine_->Execute(c);
    ASSERT_TRUE(r.ok()) << r.status() << "\n" << c.ShortDebugString();
  }

 private:
  slate::testing::TempDir dir_;
  std::unique_ptr<Engine> engine_;
};

// Appends the events of `from` at positions >= `first` to `to`, each on
// its stream renamed into `tenant` (as the executor writes a tenant's
// commands: the same payloads on tenant/<T>/... streams).
void CopyIntoTenant(Engine& from, int64_t first, const std::string& tenant,
                    Engine& to) {
  auto events = from.ReadAll(first, 1 << 20);
  ASSERT_TRUE(events.ok()) << events.status();
  for (Envelope e : *events) {
    const std::string stream = TenantStream(tenant, e.stream());
    e.set_event_id(absl::StrCat(TenantStreamPrefix(tenant), e.event_id()));
    e.set_stream(stream);
    auto r = to.Append(stream, ExpectedVersion::Any(), {e});
    ASSERT_TRUE(r.ok()) << r.status() << " " << stream;
  }
}

std::string MajorText(const std::vector<MajorIncident>& v) {
  std::string out;
  for (const MajorIncident& m : v) {
    absl::StrAppend(&out, m.incident_id, " opened ",
                    absl::FormatTime(m.opened_at), " status ", m.status,
                    " p", m.priority, " in-window ",
                    absl::FormatDuration(m.priority1_in_window), " [");
    for (const MajorIncidentInterval& i : m.intervals) {
      absl::StrAppend(&out, absl::FormatTime(i.start), "..",
                      i.end ? absl::FormatTime(*i.end) : "open", " ");
    }
    absl::StrAppend(&out, "]\n");
  }
  return out;
}

std::string RecurringText(const std::vector<RecurringCandidate>& v) {
  std::string out;
  for (const RecurringCandidate& c : v) {
    absl::StrAppend(&out, c.service, "/", c.category, "/",
                    c.configuration_item, ":");
    for (const RecurringIncident& i : c.incidents) {
      absl::StrAppend(&out, " ", i.incident_id, "@",
                      absl::FormatTime(i.opened_at), "#", i.status);
    }
    absl::StrAppend(&out, "\n");
  }
  return out;
}

KpiQuery Query(std::vector<KpiDimension> by, KpiBucket bucket) {
  KpiQuery q;
  q.by = std::move(by);
  q.bucket = bucket;
  q.from = kStart - absl::Hours(24);
  q.to = kStart + absl::Hours(24 * 16);
  q.now = kStart + absl::Hours(24 * 15);
  return q;
}

std::vector<KpiQuery> Queries() {
  using D = KpiDimension;
  std::vector<KpiQuery> q = {
      Query({D::kService, D::kPriority}, KpiBucket::kDay),
      Query({D::kService, D::kPriority}, KpiBucket::kAll),
      Query({D::kGroup, D::kCategory}, KpiBucket::kWeek),
      Query({}, KpiBucket::kAll),
  };
  // The default range: from the tenant's first day of data.
  KpiQuery open = Query({D::kService}, KpiBucket::kDay);
  open.from = absl::InfinitePast();
  q.push_back(open);
  return q;
}

KpiTables AllTables() {
  KpiTables t;
  t.hide_satisfaction_without_responses = false;
  t.hide_changes_without_reviews = false;
  t.hide_requests_without_requests = false;
  return t;
}

// The tables whose rows are sums over records (no per-service ones).
KpiTables RowTables() {
  KpiTables t = AllTables();
  t.availability = false;
  t.sla = false;
  t.services = false;
  return t;
}

// (seed, through the executor: else the oracle's events copied).
class TenantKpiTest
    : public ::testing::TestWithParam<std::tuple<int, bool>> {
 protected:
  SimulatedClock clock_{absl::FromCivil(absl::CivilDay(2027, 6, 1),
                                        absl::UTCTimeZone())};
};

TEST_P(TenantKpiTest, EveryTenantsAnswerIsThatOfItsOwnEngine) {
  const auto [seed, execute] = GetParam();
  std::mt19937_64 rng(static_cast<uint64_t>(seed) * 7919 + 1);
  Db multi(&clock_);
  std::vector<Command> sent;  // To `multi` through the executor, in order.
  for (const Command& c : ConfigCommands(SharedConfig(), "", false)) {
    multi.Must(c);
    sent.push_back(c);
  }
  // One oracle per tenant: the shared configuration, then the tenant's own
  // (an override of a service is an update in one tenant), then its
  // records; only commands the oracle accepts are kept.
  std::map<std::string, std::unique_ptr<Db>> oracles;
  std::map<std::string, std::vector<Command>> accepted;
  for (const std::string& tenant : Tenants()) {
    auto oracle = std::make_unique<Db>(&clock_);
    for (const Command& c : ConfigCommands(SharedConfig(), "", false)) {
      oracle->Must(c);
    }
    const int64_t first = (*oracle)->NextPosition();
    for (Command c : ConfigCommands(OwnConfig(tenant), "", true)) {
      c.set_command_id(absl::StrCat("own-", c.command_id()));
      oracle->Must(c);
    }
    ASSERT_EQ((*oracle)->NextPosition(),
              first + static_cast<int64_t>(OwnConfig(tenant).calendars.size() +
                                           OwnConfig(tenant).services.size()));
    const History h = RandomHistory(rng, 18, 4);
    for (const Command& c : Commands(h, Naming())) {
      if (oracle->Try(c)) accepted[tenant].push_back(c);
    }
    ASSERT_GT(accepted[tenant].size(), 20u) << tenant;
    ASSERT_TRUE((*oracle)->ProjectionStatus().ok());
    if (execute) {
      // The tenant defines its own service or calendar of a shared id.
      for (Command c : ConfigCommands(OwnConfig(tenant), "", false)) {
        c.set_tenant_id(tenant);
        c.set_command_id(absl::StrCat("own-", c.command_id()));
        multi.Must(c);
        sent.push_back(c);
      }
      for (Command c : accepted[tenant]) {
        c.set_tenant_id(tenant);
        multi.Must(c);
        sent.push_back(c);
      }
    } else {
      CopyIntoTenant(**oracle, first, tenant, *multi);
    }
    oracles[tenant] = std::move(oracle);
  }
  ASSERT_TRUE(multi->ProjectionStatus().ok()) << multi->ProjectionStatus();

  size_t majors = 0, candidates = 0;  // Not vacuous: some to compare.
  for (const std::string& tenant : Tenants()) {
    SCOPED_TRACE(tenant);
    Engine& oracle = **oracles[tenant];
    for (const KpiQuery& q : Queries()) {
      KpiQuery tq = q;
      tq.tenant = tenant;
      auto want = oracle.FormatKpis(q, KpiFormat::kJson, AllTables());
      auto got = multi->FormatKpis(tq, KpiFormat::kJson, AllTables());
      ASSERT_TRUE(want.ok()) << want.status();
      ASSERT_TRUE(got.ok()) << got.status();
      EXPECT_EQ(*got, *want) << KpiBucketName(q.bucket);
    }
    for (const char* service : kServices) {
      MajorIncidentQuery mq;
      mq.service = service;
      mq.from = kStart;
      mq.to = kStart + absl::Hours(24 * 7);
      mq.now = kStart + absl::Hours(24 * 15);
      auto want = oracle.MajorIncidents(mq);
      mq.tenant = tenant;
      auto got = multi->MajorIncidents(mq);
      ASSERT_TRUE(want.ok()) << want.status();
      ASSERT_TRUE(got.ok()) << got.status();
      EXPECT_EQ(MajorText(*got), MajorText(*want)) << service;
      majors += want->size();
    }
    for (int min : {2, 3}) {
      RecurringQuery rq;
      rq.window = absl::Hours(48);
      rq.min_incidents = min;
      auto want = oracle.RecurringIncidents(rq);
      rq.tenant = tenant;
      auto got = multi->RecurringIncidents(rq);
      ASSERT_TRUE(want.ok()) << want.status();
      ASSERT_TRUE(got.ok()) << got.status();
      EXPECT_EQ(RecurringText(*got), RecurringText(*want)) << min;
      candidates += want->size();
    }
  }

  EXPECT_GT(majors, 0u);
  EXPECT_GT(candidates, 0u);

  // All tenants: additive counts are the sums of the tenants' counts, and
  // rows by tenant are the tenants' own rows.
  {
    KpiQuery all = Query({KpiDimension::kService, KpiDimension::kPriority},
                         KpiBucket::kDay);
    all.all_tenants = true;
    KpiQuery by_tenant = all;
    by_tenant.by.insert(by_tenant.by.begin(), KpiDimension::kTenant);
    std::vector<KpiQuery> queries = {all, by_tenant};
    for (const std::string& tenant : Tenants()) {
      KpiQuery q = all;
      q.all_tenants = false;
      q.tenant = tenant;
      queries.push_back(q);
    }
    auto results = multi->Kpis(queries);
    ASSERT_TRUE(results.ok()) << results.status();
    using Key = std::tuple<absl::CivilDay, std::string, int32_t>;
    auto counts = [](const KpiResultRow& r) {
      return std::vector<int64_t>{
          r.flow.opened,           r.flow.resolved,
          r.flow.closed,           r.flow.reopened,
          r.flow.cancelled,        r.backlog,
          r.flow.response_count,   r.flow.response_wall_us,
          r.flow.resolved_final,   r.flow.resolution_business_us,
          r.flow.survey_responses, r.flow.changes_closed,
          r.flow.changes_failed,   r.aging[0]};
    };
    std::map<Key, std::vector<int64_t>> sum, merged;
    std::map<std::tuple<std::string, absl::CivilDay, std::string, int32_t>,
             std::vector<int64_t>>
        per_tenant, tenant_rows;
    for (size_t t = 0; t < Tenants().size(); ++t) {
      for (const KpiResultRow& r : (*results)[2 + t].rows) {
        EXPECT_EQ(r.dims.tenant, "");  // Not grouped by tenant.
        auto& s = sum[{r.start, r.dims.service, r.dims.priority}];
        const std::vector<int64_t> c = counts(r);
        s.resize(c.size());
        for (size_t i = 0; i < c.size(); ++i) s[i] += c[i];
        per_tenant[{Tenants()[t], r.start, r.dims.service, r.dims.priority}] =
            c;
      }
    }
    for (const KpiResultRow& r : (*results)[0].rows) {
      merged[{r.start, r.dims.service, r.dims.priority}] = counts(r);
    }
    EXPECT_EQ(merged, sum);
    for (const KpiResultRow& r : (*results)[1].rows) {
      tenant_rows[{r.dims.tenant, r.start, r.dims.service, r.dims.priority}] =
          counts(r);
    }
    EXPECT_EQ(tenant_rows, per_tenant);
  }

  // All tenants equal one engine that holds every tenant's records renamed
  // apart in one tenant, each on a copy of its tenant's services and
  // calendars (quantiles and business time included).
  Db one(&clock_);
  for (const std::string& tenant : Tenants()) {
    const std::string prefix = absl::StrCat(tenant, "-");
    Config c = EffectiveConfig(tenant);
    Config renamed;
    for (const auto& [id, spec] : c.calendars) {
      std::string s = spec;
      s.replace(s.find(id), id.size(), prefix + id);  // "name":"<id>"
      renamed.calendars[prefix + id] = s;
    }
    for (const auto& [id, def] : c.services) {
      renamed.services[id] = {
          def.calendar.empty() ? "" : prefix + def.calendar, def.target};
    }
    for (Command cmd : ConfigCommands(renamed, prefix, false)) {
      cmd.set_command_id(absl::StrCat(prefix, cmd.command_id()));
      one.Must(cmd);
    }
  }
  for (const std::string& tenant : Tenants()) {
    const std::string prefix = absl::StrCat(tenant, "-");
    // The same commands, ids and services renamed: replay the accepted
    // ones through their JSON.
    for (Command c : accepted[tenant]) {
      std::string json;
      ASSERT_TRUE(google::protobuf::util::MessageToJsonString(c, &json).ok());
      for (const std::string key :
           {"\"incidentId\":\"", "\"changeId\":\"", "\"serviceId\":\"",
            "\"serviceIds\":[\""}) {
        for (size_t p = json.find(key); p != std::string::npos;
             p = json.find(key, p + 1)) {
          json.insert(p + key.size(), prefix);
        }
      }
      Command renamed = FromJson(json);
      renamed.set_command_id(absl::StrCat(prefix, c.command_id()));
      one.Must(renamed);
    }
  }
  for (KpiQuery q : {Query({}, KpiBucket::kDay),
                     Query({KpiDimension::kPriority}, KpiBucket::kAll),
                     Query({KpiDimension::kGroup, KpiDimension::kCategory},
                           KpiBucket::kWeek)}) {
    auto want = one->FormatKpis(q, KpiFormat::kCsv, RowTables());
    q.all_tenants = true;
    auto got = multi->FormatKpis(q, KpiFormat::kCsv, RowTables());
    ASSERT_TRUE(want.ok()) << want.status();
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, *want);
  }

  if (execute) {
    // A cluster of two partitions (default and globex in one, acme in the
    // other) fed as lib/cluster/client.h sends: a tenant's commands to its
    // partition, the default tenant's configuration to both; a shared SLA
    // policy first, so the SLA outcomes are merged too. The merged exports
    // answer as `whole`, which saw everything.
    Db whole(&clock_);
    Db partitions[2] = {Db(&clock_), Db(&clock_)};
    std::vector<Command> cluster_commands = {FromJson(
        R"({"commandId":"pol","defineSlaPolicy":{"at":"2026-10-01T00:00:00Z","policy":{"id":"std","name":"Std","appliesTo":{"recordTypes":["incident"]},"targets":[{"priority":1,"response":"15m","resolution":"4h"},{"priority":2,"response":"30m","resolution":"8h"},{"priority":3,"response":"1h","resolution":"24h"},{"priority":4,"response":"4h","resolution":"72h"},{"priority":5,"response":"8h","resolution":"120h"}],"calendarId":"24x7","response":{"start":{"events":["incident_opened"]},"stop":{"events":["incident_acknowledged","incident_assigned"]}},"resolution":{"start":{"events":["incident_opened"]},"stop":{"states":["resolved","closed"]}}}}})")};
    cluster_commands.insert(cluster_commands.end(), sent.begin(), sent.end());
    for (const Command& c : cluster_commands) {
      whole.Must(c);
      const bool shared =
          TenantOrDefault(c.tenant_id()) == kDefaultTenant &&
          IsConfigurationCommand(c);
      const int home = c.tenant_id() == "acme" ? 1 : 0;
      for (int p = 0; p < 2; ++p) {
        if (shared || p == home) partitions[p].Must(c);
      }
    }
    const absl::Time end = kStart + absl::Hours(24 * 20);
    ASSERT_TRUE(whole->AdvanceTo(end).ok());
    for (Db& p : partitions) ASSERT_TRUE(p->AdvanceTo(end).ok());
    const absl::TimeZone paris = [] {
      absl::TimeZone z;
      EXPECT_TRUE(absl::LoadTimeZone("Europe/Paris", &z));
      return z;
    }();
    std::vector<KpiQuery> queries = Queries();
    for (KpiQuery q : Queries()) {
      q.all_tenants = true;
      queries.push_back(q);
      q.by.insert(q.by.begin(), KpiDimension::kTenant);
      queries.push_back(q);
    }
    KpiQuery acme = Query({KpiDimension::kService}, KpiBucket::kWeek);
    acme.tenant = "acme";
    queries.push_back(acme);
    KpiQuery in_paris = Query({KpiDimension::kPriority}, KpiBucket::kDay);
    in_paris.zone = paris;
    in_paris.all_tenants = true;
    queries.push_back(in_paris);
    for (const KpiQuery& q : queries) {
      SCOPED_TRACE(absl::StrCat(KpiBucketName(q.bucket), " all ",
                                q.all_tenants, " tenant ", q.tenant,
                                " zone ", q.zone.name()));
      std::vector<std::string> exports;
      for (Db& p : partitions) {
        absl::StatusOr<std::string> e = p->ExportKpis(q.zone);
        ASSERT_TRUE(e.ok()) << e.status();
        exports.push_back(*std::move(e));
      }
      auto want = whole->FormatKpis(q, KpiFormat::kJson, AllTables());
      auto got = FormatMergedKpis(exports, q, KpiFormat::kJson, AllTables());
      ASSERT_TRUE(want.ok()) << want.status();
      ASSERT_TRUE(got.ok()) << got.status();
      EXPECT_EQ(*got, *want);
      // One partition alone is not the whole (the test can fail).
      auto part = FormatMergedKpis({exports[0]}, q, KpiFormat::kJson,
                                   AllTables());
      ASSERT_TRUE(part.ok()) << part.status();
      if (q.all_tenants) {
        EXPECT_NE(*part, *want);
      }
    }
    std::vector<std::string> exports;
    for (Db& p : partitions) {
      exports.push_back(*p->ExportKpis(absl::UTCTimeZone()));
    }
    auto last = MergedLastRecordEventTime(exports);
    ASSERT_TRUE(last.ok()) << last.status();
    EXPECT_EQ(*last, *whole->LastRecordEventTime());
    // Not vacuous: SLA outcomes were merged.
    auto sla = whole->Kpis({Query({}, KpiBucket::kAll)});
    ASSERT_TRUE(sla.ok()) << sla.status();
    int64_t met = 0, breached = 0;
    for (const KpiResultSlaRow& r : (*sla)[0].sla) {
      met += r.met;
      breached += r.breached;
    }
    EXPECT_GT(met, 0);
    EXPECT_GT(breached, 0);
    // An export in another zone than the query's is refused.
    EXPECT_EQ(FormatMergedKpis(exports, in_paris, KpiFormat::kJson)
                  .status()
                  .code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(FormatMergedKpis({std::string("\xff\xff")}, acme,
                               KpiFormat::kJson)
                  .status()
                  .code(),
              absl::StatusCode::kDataLoss);
  }

  // A rebuild from the log equals the incremental fold.
  VerifyReport report;
  ASSERT_TRUE(multi->Verify(&report).ok());
  EXPECT_TRUE(report.ok()) << absl::StrJoin(report.problems, "\n");
}

INSTANTIATE_TEST_SUITE_P(Seeds, TenantKpiTest,
                         ::testing::Combine(::testing::Range(0, 4),
                                            ::testing::Bool()));

TEST(TenantKpiQueryTest, TenantAndAllTenantsExcludeEachOther) {
  SimulatedClock clock(absl::FromCivil(absl::CivilDay(2027, 6, 1),
                                       absl::UTCTimeZone()));
  Db db(&clock);
  KpiQuery q = Query({}, KpiBucket::kDay);
  q.tenant = "acme";
  q.all_tenants = true;
  auto r = db->Kpis({q});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("acme"), absl::string_view::npos);
  q.all_tenants = false;
  q.tenant = "Not Valid";
  r = db->Kpis({q});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("tenant"), absl::string_view::npos);
  MajorIncidentQuery mq;
  mq.service = "email";
  mq.tenant = "Bad/Id";
  EXPECT_EQ(db->MajorIncidents(mq).status().code(),
            absl::StatusCode::kInvalidArgument);
  RecurringQuery rq;
  rq.tenant = "Bad/Id";
  EXPECT_EQ(db->RecurringIncidents(rq).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace slate
