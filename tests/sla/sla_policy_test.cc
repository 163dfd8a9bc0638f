// Loading SLA policies from JSON, as an administrator would write them.
#include "lib/sla/sla_policy.h"

#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace slate {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kPolicy[] = R"({
  "id": "incident-default",
  "name": "Incidents, office hours",
  "applies_to": {"record_types": ["incident"], "priorities": [1, 2],
                 "services": ["email"]},
  "targets": [
    {"priority": 1, "response": "15m", "resolution": "4h", "update": "1h"},
    {"priority": 2, "response": "1h", "resolution": "14400s"}
  ],
  "calendar_id": "office-hours",
  "response": {"start": {"events": ["incident_opened"]},
               "stop": {"events": ["incident_acknowledged"]}},
  "resolution": {"start": {"events": ["incident_opened"],
                           "states": ["in_progress"]},
                 "pause": {"states": ["on_hold"],
                           "hold_reasons": ["AWAITING_CALLER"]},
                 "stop": {"states": ["resolved", "closed"]},
                 "cancel": {"states": ["cancelled"]}},
  "update": {"start": {"events": ["incident_opened"]},
             "stop": {"events": ["incident_commented"]}},
  "reopen": "SLA_REOPEN_MODE_RESUME"
})";

// The policy with `from` replaced by `to` (must occur).
std::string With(absl::string_view from, absl::string_view to) {
  std::string json = kPolicy;
  EXPECT_NE(json.find(std::string(from)), std::string::npos) << from;
  return absl::StrReplaceAll(json, {{from, to}});
}

TEST(SlaPolicyLoad, LoadsAValidPolicyAndFillsDefaults) {
  absl::StatusOr<SlaPolicy> policy = LoadSlaPolicyJson(kPolicy);
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(policy->id(), "incident-default");
  EXPECT_THAT(policy->warning_thresholds_percent(), ElementsAre(50, 75, 90));
  EXPECT_EQ(policy->reopen(), SLA_REOPEN_MODE_RESUME);
  EXPECT_EQ(SlaTargetFor(*policy, SLA_METRIC_RESOLUTION, 1), absl::Hours(4));
  // "14400s" (protobuf Duration JSON) and "4h" mean the same.
  EXPECT_EQ(SlaTargetFor(*policy, SLA_METRIC_RESOLUTION, 2), absl::Hours(4));
  EXPECT_EQ(SlaTargetFor(*policy, SLA_METRIC_RESPONSE, 1), absl::Minutes(15));
  EXPECT_EQ(SlaTargetFor(*policy, SLA_METRIC_UPDATE, 2), std::nullopt);
  EXPECT_EQ(SlaTargetFor(*policy, SLA_METRIC_RESOLUTION, 3), std::nullopt);
}

TEST(SlaPolicyLoad, ReopenDefaultsToNewCycleAndExplicitThresholdsStay) {
  std::string json = With(R"("reopen": "SLA_REOPEN_MODE_RESUME")",
                          R"("warning_thresholds_percent": [80, 95.5])");
  absl::StatusOr<SlaPolicy> policy = LoadSlaPolicyJson(json);
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(policy->reopen(), SLA_REOPEN_MODE_NEW_CYCLE);
  EXPECT_THAT(policy->warning_thresholds_percent(), ElementsAre(80, 95.5));
}

TEST(SlaPolicyLoad, WarningsBeforeTheDeadlineReplaceThePercentages) {
  std::string json = With(R"("reopen": "SLA_REOPEN_MODE_RESUME")",
                          R"("warningBefore": ["30m", "2h", "1h"])");
  absl::StatusOr<SlaPolicy> policy = LoadSlaPolicyJson(json);
  ASSERT_TRUE(policy.ok()) << policy.status();
  // No percentages filled in beside the offsets.
  EXPECT_EQ(policy->warning_thresholds_percent_size(), 0);
  absl::StatusOr<SlaClockSpec> spec =
      SlaClockSpecFor(*policy, SLA_METRIC_RESOLUTION, 1, "INC1");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_THAT(spec->warning_before,
              ElementsAre(absl::Minutes(30), absl::Hours(2), absl::Hours(1)));
  absl::StatusOr<SlaClock> clock = SlaClock::Create(*spec);
  ASSERT_TRUE(clock.ok()) << clock.status();
  EXPECT_EQ(clock->threshold_count(), 3);
  EXPECT_TRUE(clock->warning_thresholds_percent().empty());

  struct Bad {
    std::string to;
    std::string message;
  };
  for (const Bad& bad : std::vector<Bad>{
           {R"("warningBefore": ["1h"], "warning_thresholds_percent": [50])",
            "warning_before: set either warning_before or "
            "warning_thresholds_percent, not both"},
           {R"("warningBefore": ["1h", "soon"])",
            "warning_before[1]: not a duration"},
           {R"("warningBefore": ["1h", ""])", "warning_before[1]: must not be "
                                               "empty"},
           {R"("warningBefore": ["0s"])", "warning_before[0]: must be > 0"},
           {R"("warningBefore": ["1h", "60m"])",
            "warning_before[1]: lists 60m a second time"},
       }) {
    absl::StatusOr<SlaPolicy> p =
        LoadSlaPolicyJson(With(R"("reopen": "SLA_REOPEN_MODE_RESUME")", bad.to));
    ASSERT_FALSE(p.ok()) << bad.to;
    EXPECT_THAT(p.status().message(), HasSubstr("incident-default")) << bad.to;
    EXPECT_THAT(p.status().message(), HasSubstr(bad.message)) << bad.to;
  }
}

TEST(SlaPolicyLoad, RelativeTargetsNameAnInstantInTheCalendar) {
  std::string json = With(R"("resolution": "4h")",
                          R"("resolution": "End of next business day ")");
  json = absl::StrReplaceAll(
      json, {{R"("response": "1h")", R"("response": "17:00 on business day 3")"}});
  absl::StatusOr<SlaPolicy> policy = LoadSlaPolicyJson(json);
  ASSERT_TRUE(policy.ok()) << policy.status();
  std::optional<SlaTarget> t = SlaTargetOf(*policy, SLA_METRIC_RESOLUTION, 1);
  ASSERT_TRUE(t.has_value());
  ASSERT_TRUE(t->relative.has_value());
  EXPECT_EQ(t->relative->business_day, 1);
  EXPECT_FALSE(t->relative->minute_of_day.has_value());
  // Not a duration: the duration-only accessor says none.
  EXPECT_EQ(SlaTargetFor(*policy, SLA_METRIC_RESOLUTION, 1), std::nullopt);
  t = SlaTargetOf(*policy, SLA_METRIC_RESPONSE, 2);
  ASSERT_TRUE(t.has_value() && t->relative.has_value());
  EXPECT_EQ(t->relative->business_day, 3);
  EXPECT_EQ(t->relative->minute_of_day, 17 * 60);
  EXPECT_EQ(SlaRelativeTargetText(*t->relative), "17:00 on business day 3");
  absl::StatusOr<SlaClockSpec> spec =
      SlaClockSpecFor(*policy, SLA_METRIC_RESPONSE, 2, "INC1");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->relative, t->relative);
  // Durations still parse as before.
  t = SlaTargetOf(*policy, SLA_METRIC_RESPONSE, 1);
  ASSERT_TRUE(t.has_value());
  EXPECT_FALSE(t->relative.has_value());
  EXPECT_EQ(t->duration, absl::Minutes(15));

  for (const auto& [text, message] : std::vector<std::pair<std::string, std::string>>{
           {"end of business day 0", "the business day must be a number from 1"},
           {"end of business day two", "the business day must be a number"},
           {"25:00 on business day 1", "HH:MM between 00:00 and 23:59"},
           {"5pm on business day 1", "HH:MM between"},
           {"tomorrow", "or a relative target such as"},
       }) {
    absl::StatusOr<SlaPolicy> p = LoadSlaPolicyJson(With(
        R"("resolution": "4h")", absl::StrCat(R"("resolution": ")", text, "\"")));
    ASSERT_FALSE(p.ok()) << text;
    EXPECT_THAT(p.status().message(), HasSubstr("targets[0].resolution"))
        << text;
    EXPECT_THAT(p.status().message(), HasSubstr(message)) << text;
  }
}

TEST(SlaPolicyLoad, CamelCaseJsonNamesWorkToo) {
  std::string json = With(R"("calendar_id")", R"("calendarId")");
  absl::StatusOr<SlaPolicy> policy = LoadSlaPolicyJson(json);
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(policy->calendar_id(), "office-hours");
}

struct BadPolicy {
  std::string what;
  std::string json;
  std::string field;  // Must appear in the message.
};

TEST(SlaPolicyLoad, InvalidPoliciesNameThePolicyAndTheField) {
  const std::vector<BadPolicy> cases = {
      {"zero target", With(R"("resolution": "4h")", R"("resolution": "0s")"),
       "targets[0].resolution: must be > 0"},
      {"negative target",
       With(R"("resolution": "4h")", R"("resolution": "-4h")"),
       "targets[0].resolution: must be > 0"},
      {"not a duration",
       With(R"("resolution": "4h")", R"("resolution": "4 hours")"),
       "targets[0].resolution: not a duration"},
      {"infinite target",
       With(R"("resolution": "4h")", R"("resolution": "inf")"),
       "targets[0].resolution: must be finite"},
      {"sub-microsecond target",
       With(R"("resolution": "4h")", R"("resolution": "1ns")"),
       "targets[0].resolution: must be a whole number of microseconds"},
      {"unknown priority 0", With(R"({"priority": 2,)", R"({"priority": 0,)"),
       "targets[1].priority: unknown priority 0"},
      {"unknown priority 6", With(R"({"priority": 2,)", R"({"priority": 6,)"),
       "targets[1].priority: unknown priority 6"},
      {"duplicate priority", With(R"({"priority": 2,)", R"({"priority": 1,)"),
       "targets[1].priority: priority 1 has more than one"},
      {"applies to a priority without target",
       With(R"("priorities": [1, 2])", R"("priorities": [1, 3])"),
       "applies_to.priorities[1]: priority 3 has no targets entry"},
      {"applies to an unknown priority",
       With(R"("priorities": [1, 2])", R"("priorities": [1, 9])"),
       "applies_to.priorities[1]: unknown priority 9"},
      {"threshold 0",
       With(R"("reopen")", R"("warning_thresholds_percent": [0], "reopen")"),
       "warning_thresholds_percent[0]: must be in (0, 100)"},
      {"threshold 100",
       With(R"("reopen")",
            R"("warning_thresholds_percent": [50, 100], "reopen")"),
       "warning_thresholds_percent[1]: must be in (0, 100)"},
      {"threshold 150",
       With(R"("reopen")", R"("warning_thresholds_percent": [150], "reopen")"),
       "warning_thresholds_percent[0]: must be in (0, 100)"},
      {"thresholds out of order",
       With(R"("reopen")",
            R"("warning_thresholds_percent": [75, 50], "reopen")"),
       "warning_thresholds_percent[1]: must be greater"},
      {"unknown state",
       With(R"("states": ["on_hold"])", R"("states": ["onhold"])"),
       "resolution.pause.states[0]: unknown state \"onhold\""},
      {"bad event name",
       With(R"("events": ["incident_acknowledged"])", R"("events": ["Ack"])"),
       "response.stop.events[0]"},
      {"bad hold reason", With(R"("AWAITING_CALLER")", R"("awaiting caller")"),
       "resolution.pause.hold_reasons[0]"},
      {"unknown record type",
       With(R"("record_types": ["incident"])",
            R"("record_types": ["problem"])"),
       "applies_to.record_types[0]: unknown record type \"problem\""},
      {"missing calendar", With(R"("calendar_id": "office-hours",)", ""),
       "calendar_id: required"},
      {"measure with target but no stop",
       With(R"("stop": {"events": ["incident_commented"]})", R"("cancel": {})"),
       "update.stop: required"},
      {"priority with no target at all",
       With(R"("response": "1h", "resolution": "14400s")", ""),
       "targets[1]: sets no target"},
  };
  for (const BadPolicy& c : cases) {
    SCOPED_TRACE(c.what);
    absl::StatusOr<SlaPolicy> policy = LoadSlaPolicyJson(c.json);
    ASSERT_FALSE(policy.ok());
    EXPECT_EQ(policy.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(policy.status().message()),
                HasSubstr("sla policy \"incident-default\""));
    EXPECT_THAT(std::string(policy.status().message()), HasSubstr(c.field));
  }
}

TEST(SlaPolicyLoad, MalformedJsonAndUnknownFieldsAreRejected) {
  for (const std::string& json :
       {std::string("{"), std::string(R"({"id": "x", "colour": "red"})"),
        With(R"("reopen": "SLA_REOPEN_MODE_RESUME")",
             R"("reopen": "SOMETIMES")"),
        std::string("[]")}) {
    absl::StatusOr<SlaPolicy> policy = LoadSlaPolicyJson(json);
    EXPECT_EQ(policy.status().code(), absl::StatusCode::kInvalidArgument)
        << json;
  }
  EXPECT_THAT(std::string(LoadSlaPolicyJson("{}").status().message()),
              HasSubstr("id: required"));
}

TEST(SlaPolicyLoad, MaxPriorityIsAnOption) {
  std::string json = With(R"({"priority": 2,)", R"({"priority": 7,)");
  json = absl::StrReplaceAll(
      json, {{R"("priorities": [1, 2])", R"("priorities": [1, 7])"}});
  EXPECT_FALSE(LoadSlaPolicyJson(json).ok());
  SlaPolicyOptions options;
  options.max_priority = 8;
  EXPECT_TRUE(LoadSlaPolicyJson(json, options).ok());
}

TEST(SlaPolicyLoad, RequestStatesAreKnownToRequestPoliciesOnly) {
  // An incident policy does not know a request's states.
  const std::string fulfilled =
      With(R"("stop": {"states": ["resolved", "closed"]})",
           R"("stop": {"states": ["fulfilled", "closed"]})");
  absl::StatusOr<SlaPolicy> incident = LoadSlaPolicyJson(fulfilled);
  ASSERT_FALSE(incident.ok());
  EXPECT_THAT(incident.status().message(),
              HasSubstr("resolution.stop.states[0]: unknown state "
                        "\"fulfilled\""));
  // A policy for requests does, and matches requests by type.
  const std::string for_requests = absl::StrReplaceAll(
      fulfilled, {{R"("record_types": ["incident"])",
                   R"("record_types": ["incident", "request"])"}});
  absl::StatusOr<SlaPolicy> request = LoadSlaPolicyJson(for_requests);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_TRUE(SlaPolicyApplies(*request, {"request", 1, "email", ""}));
  EXPECT_FALSE(SlaPolicyApplies(*request, {"change", 1, "email", ""}));
  const std::string typo = absl::StrReplaceAll(
      for_requests, {{R"("fulfilled", "closed")", R"("fulfiled", "closed")"}});
  absl::StatusOr<SlaPolicy> bad = LoadSlaPolicyJson(typo);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("\"awaiting_approval\""));
}

TEST(SlaPolicyApply, AppliesToFiltersAndEmptyMeansAny) {
  SlaPolicy policy = *LoadSlaPolicyJson(kPolicy);
  EXPECT_TRUE(SlaPolicyApplies(policy, {"incident", 1, "email", "network"}));
  EXPECT_FALSE(SlaPolicyApplies(policy, {"change", 1, "email", "network"}));
  EXPECT_FALSE(SlaPolicyApplies(policy, {"incident", 3, "email", "network"}));
  EXPECT_FALSE(SlaPolicyApplies(policy, {"incident", 1, "vpn", "network"}));
  // No category filter: any category.
  EXPECT_TRUE(SlaPolicyApplies(policy, {"incident", 2, "email", ""}));
}

TEST(SlaPolicyApply, ClockSpecCarriesTargetAndThresholds) {
  SlaPolicy policy = *LoadSlaPolicyJson(kPolicy);
  absl::StatusOr<SlaClockSpec> spec =
      SlaClockSpecFor(policy, SLA_METRIC_RESPONSE, 1, "INC0001");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->target, absl::Minutes(15));
  EXPECT_EQ(spec->record_id, "INC0001");
  EXPECT_EQ(spec->policy_id, "incident-default");
  EXPECT_THAT(spec->warning_thresholds_percent, ElementsAre(50, 75, 90));
  EXPECT_EQ(
      SlaClockSpecFor(policy, SLA_METRIC_UPDATE, 2, "INC0001").status().code(),
      absl::StatusCode::kNotFound);
}

TEST(SlaPolicyApply, RecordTransitionsBecomeClockInputs) {
  SlaPolicy policy = *LoadSlaPolicyJson(kPolicy);
  const SlaClockRules& rules = SlaRulesFor(policy, SLA_METRIC_RESOLUTION);
  using K = SlaClockInputKind;
  auto decide = [&](SlaClockPhase phase, SlaRecordTransition t) {
    return SlaDecideInput(rules, phase, t);
  };
  EXPECT_EQ(decide(SLA_CLOCK_PHASE_NOT_STARTED, {"incident_opened", "new", ""}),
            K::kStart);
  EXPECT_EQ(decide(SLA_CLOCK_PHASE_RUNNING, {"incident_commented", "new", ""}),
            std::nullopt);
  EXPECT_EQ(decide(SLA_CLOCK_PHASE_RUNNING,
                   {"incident_put_on_hold", "on_hold", "AWAITING_CALLER"}),
            K::kPause);
  // Only the listed hold reasons pause.
  EXPECT_EQ(decide(SLA_CLOCK_PHASE_RUNNING,
                   {"incident_put_on_hold", "on_hold", "AWAITING_VENDOR"}),
            std::nullopt);
  EXPECT_EQ(decide(SLA_CLOCK_PHASE_PAUSED,
                   {"incident_commented", "on_hold", "AWAITING_CALLER"}),
            std::nullopt);
  EXPECT_EQ(
      decide(SLA_CLOCK_PHASE_PAUSED, {"incident_resumed", "in_progress", ""}),
      K::kResume);
  EXPECT_EQ(
      decide(SLA_CLOCK_PHASE_PAUSED, {"incident_resolved", "resolved", ""}),
      K::kStop);
  EXPECT_EQ(
      decide(SLA_CLOCK_PHASE_RUNNING, {"incident_cancelled", "cancelled", ""}),
      K::kCancel);
  EXPECT_EQ(decide(SLA_CLOCK_PHASE_STOPPED, {"incident_closed", "closed", ""}),
            std::nullopt);
  EXPECT_EQ(
      decide(SLA_CLOCK_PHASE_STOPPED, {"incident_reopened", "in_progress", ""}),
      K::kReopen);
}

// The compiled rules decide as the rules on names, for random conditions
// (names the caller never produces and "" included) and transitions.
TEST(SlaPolicyApply, CompiledRulesDecideAsTheNames) {
  const std::vector<std::string> events = {"incident_opened", "incident_resolved",
                                           "incident_put_on_hold", ""};
  const std::vector<std::string> states = {"new", "on_hold", "resolved", ""};
  const std::vector<std::string> reasons = {"AWAITING_CALLER", "AWAITING_VENDOR",
                                            ""};
  // Names conditions may use that no transition has.
  const std::vector<std::string> unknown = {"never_seen", "ON_HOLD"};
  auto id_in = [](const std::vector<std::string>& names) {
    return [names](absl::string_view n) {
      for (size_t i = 0; i < names.size(); ++i) {
        if (names[i] == n) return static_cast<int>(i) * 7 + 3;
      }
      return -1;
    };
  };
  SlaNameIds ids;
  ids.event = id_in(events);
  ids.state = id_in(states);
  ids.hold_reason = id_in(reasons);
  std::mt19937_64 rng(20261207);
  auto pick = [&](const std::vector<std::string>& names) -> const std::string& {
    if (rng() % 6 == 0) return unknown[rng() % unknown.size()];
    return names[rng() % names.size()];
  };
  auto condition = [&] {
    SlaCondition c;
    for (int n = static_cast<int>(rng() % 3); n > 0; --n) {
      c.add_events(pick(events));
    }
    for (int n = static_cast<int>(rng() % 3); n > 0; --n) {
      c.add_states(pick(states));
    }
    for (int n = static_cast<int>(rng() % 3); n > 0; --n) {
      c.add_hold_reasons(pick(reasons));
    }
    return c;
  };
  int decided = 0;
  for (int round = 0; round < 2000; ++round) {
    SlaClockRules rules;
    *rules.mutable_start() = condition();
    *rules.mutable_pause() = condition();
    *rules.mutable_stop() = condition();
    *rules.mutable_cancel() = condition();
    const SlaCompiledRules compiled =
        SlaCompileRules(rules, ids, ids.state("on_hold"));
    for (int t = 0; t < 8; ++t) {
      SlaRecordTransition names;
      names.event = events[rng() % events.size()];
      names.state = states[rng() % states.size()];
      names.hold_reason =
          names.state == "on_hold" ? reasons[rng() % reasons.size()] : "";
      const SlaTransitionIds by_id = {ids.event(names.event),
                                      ids.state(names.state),
                                      ids.hold_reason(names.hold_reason)};
      for (SlaClockPhase phase :
           {SLA_CLOCK_PHASE_NOT_STARTED, SLA_CLOCK_PHASE_RUNNING,
            SLA_CLOCK_PHASE_PAUSED, SLA_CLOCK_PHASE_STOPPED,
            SLA_CLOCK_PHASE_CANCELLED}) {
        const auto want = SlaDecideInput(rules, phase, names);
        ASSERT_EQ(SlaDecideInput(compiled, phase, by_id), want)
            << rules.ShortDebugString() << " phase " << phase << " event \""
            << names.event << "\" state \"" << names.state << "\" hold \""
            << names.hold_reason << "\"";
        decided += want.has_value();
      }
      EXPECT_EQ(SlaConditionMatches(compiled.pause, by_id,
                                    compiled.on_hold_state),
                SlaConditionMatches(rules.pause(), names));
    }
  }
  EXPECT_GT(decided, 1000);  // Not only "no input".
}

}  // namespace
}  // namespace slate
