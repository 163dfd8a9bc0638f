// Engine::ExplainClocks (lib/projection/sla_explain.h): scenarios with a
// holiday, closed days, an extra window, a DST shift, pauses, a retarget, a
// late attach and a reopen; and a property test on random lifecycles that
// the explanation adds up to the clocks the projection holds and that its
// threshold instants are the ones the engine fired.
#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "lib/api/engine.h"
#include "tests/projection/sla_test_util.h"
#include "tests/testing/temp_dir.h"

namespace slate {
namespace {

using ::slate::testing::AllHoursPolicyJson;
using ::slate::testing::DefineSlaConfig;
using ::slate::testing::Exec;
using ::slate::testing::OfficePolicyJson;
using ::slate::testing::T;

class SlaExplainTest : public slate::testing::SlaEngineTest {
 protected:
  std::vector<SlaClockExplanation> Explain(const std::string& record,
                                           SlaExplainFilter f = {}) {
    auto ex = engine_->ExplainClocks(record, f);
    EXPECT_TRUE(ex.ok()) << ex.status();
    return ex.ok() ? *ex : std::vector<SlaClockExplanation>();
  }
  // The random-lifecycle property (below) under `policy`; returns how many
  // fired thresholds set before the deadline it checked.
  int CheckRandomLifecycles(const std::string& policy, uint32_t seed);
  static std::vector<std::string> Actions(const SlaClockExplanation& x) {
    std::vector<std::string> out;
    for (const SlaClockStep& s : x.steps) out.push_back(s.action);
    return out;
  }
};

// office-berlin: Thu 2026-12-24 closes at 12:00, Fri 25 is a holiday, Sat
// 26 is closed, Sun 27 has an extra window 10:00-14:00. A P2 incident
// (8h resolution) opened Thu 10:00 Berlin runs 2h on Thursday, 4h on
// Sunday and is due Mon 28 11:00 Berlin.
TEST_F(SlaExplainTest, HolidayClosedDaysAndExtraWindowAddUp) {
  DefineSlaConfig(*engine_, OfficePolicyJson());
  OpenIncident("INC1", "2026-12-24T09:00:00Z", 1, 2);
  Exec(*engine_, R"({"resolveIncident":{"incidentId":"INC1",
      "at":"2026-12-28T09:30:00Z","resolutionCode":"fixed"}})");
  SlaExplainFilter f;
  f.target_type = "resolution";
  std::vector<SlaClockExplanation> ex = Explain("INC1", f);
  ASSERT_EQ(ex.size(), 1u);
  const SlaClockExplanation& x = ex[0];
  EXPECT_EQ(x.calendar, "office-berlin");
  EXPECT_EQ(x.time_zone, "Europe/Berlin");
  // The resolve at 7h30m of business time crossed 50%, 75% and 90%.
  EXPECT_EQ(Actions(x), (std::vector<std::string>{"started", "warning",
                                                  "warning", "warning",
                                                  "stopped"}));
  ASSERT_EQ(x.windows.size(), 3u);
  EXPECT_EQ(x.windows[0].start, T("2026-12-24T09:00:00Z"));
  EXPECT_EQ(x.windows[0].end, T("2026-12-24T11:00:00Z"));
  EXPECT_EQ(x.windows[1].start, T("2026-12-27T09:00:00Z"));
  EXPECT_EQ(x.windows[1].counted, absl::Hours(4));
  EXPECT_EQ(x.windows[1].skipped_days,
            (std::vector<std::string>{"2026-12-25 holiday",
                                      "2026-12-26 closed"}));
  EXPECT_EQ(x.windows[2].start, T("2026-12-28T08:00:00Z"));
  EXPECT_EQ(x.windows[2].end, T("2026-12-28T09:30:00Z"));
  EXPECT_TRUE(x.windows[2].skipped_days.empty());
  EXPECT_EQ(x.business_counted, absl::Minutes(450));
  EXPECT_EQ(absl::ToInt64Microseconds(x.business_counted),
            x.clock.state.business_elapsed_us());
  EXPECT_EQ(x.clock.state.status(), SLA_CLOCK_STATUS_MET);
  // Thresholds of 8h: 50% (4h) fell on Sunday 11:00 Berlin, 75% (6h) at
  // the end of Sunday's window; the 90% and the breach were never reached.
  ASSERT_EQ(x.thresholds.size(), 4u);
  EXPECT_TRUE(x.thresholds[0].fired);
  ASSERT_TRUE(x.thresholds[0].due.has_value());
  EXPECT_EQ(*x.thresholds[0].due, T("2026-12-27T11:00:00Z"));
  ASSERT_TRUE(x.thresholds[1].due.has_value());
  EXPECT_EQ(*x.thresholds[1].due, T("2026-12-27T13:00:00Z"));
  EXPECT_FALSE(x.thresholds[3].fired);
  EXPECT_FALSE(x.thresholds[3].due.has_value());
  EXPECT_EQ(x.clock.state.deadline_us(),
            absl::ToUnixMicros(T("2026-12-28T10:00:00Z")));

  const std::string text = FormatSlaExplanations(ex, false);
  EXPECT_NE(text.find("(skipped 2026-12-25 holiday)"), std::string::npos)
      << text;
  EXPECT_NE(text.find("Sun 2026-12-27 10:00 CET"), std::string::npos) << text;
  const std::string json = FormatSlaExplanations(ex, true);
  EXPECT_NE(json.find("\"business_elapsed_seconds\":27000.000000"),
            std::string::npos)
      << json;
  EXPECT_EQ(std::count(json.begin(), json.end(), '\n'), 1);
}

// A 24x7 calendar in Berlin: the window over the night of 2027-03-28 says
// the UTC offset changed inside it.
TEST_F(SlaExplainTest, AWindowAcrossTheSpringShiftSaysSo) {
  Exec(*engine_, R"({"defineCalendar":{"at":"2026-11-01T00:00:00Z","spec":{
      "name":"berlin-always","timeZone":"Europe/Berlin","alwaysOpen":true}}})");
  std::string policy = AllHoursPolicyJson("p-berlin");
  policy.replace(policy.find("\"24x7\""), 6, "\"berlin-always\"");
  Exec(*engine_, absl::StrCat(R"({"defineSlaPolicy":{"at":"2026-11-01T00:00:00Z","policy":)",
                              policy, "}}"));
  OpenIncident("INC2", "2027-03-27T12:00:00Z", 1, 1);
  Exec(*engine_, R"({"resolveIncident":{"incidentId":"INC2",
      "at":"2027-03-29T12:00:00Z","resolutionCode":"fixed"}})");
  std::vector<SlaClockExplanation> ex = Explain("incident/INC2");
  ASSERT_EQ(ex.size(), 1u);
  ASSERT_EQ(ex[0].windows.size(), 1u);
  EXPECT_EQ(ex[0].windows[0].counted, absl::Hours(48));
  EXPECT_EQ(ex[0].windows[0].dst_change, "+01:00 -> +02:00");
  EXPECT_EQ(ex[0].time_zone, "Europe/Berlin");
}

// Every kind of step, in order, on the two cycles of one incident.
TEST_F(SlaExplainTest, TheTimelineNamesEveryTransition) {
  DefineSlaConfig(*engine_, OfficePolicyJson());
  // Monday 2026-11-23, office hours 08:00Z-16:00Z. P2 (8h) at 08:00Z.
  OpenIncident("INC3", "2026-11-23T08:00:00Z", 1, 2);
  Exec(*engine_, R"({"holdIncident":{"incidentId":"INC3",
      "at":"2026-11-23T09:00:00Z","reason":"AWAITING_CALLER"}})");
  Exec(*engine_, R"({"resumeIncident":{"incidentId":"INC3",
      "at":"2026-11-23T10:00:00Z"}})");
  Exec(*engine_, R"({"setIncidentImpactUrgency":{"incidentId":"INC3",
      "at":"2026-11-23T11:00:00Z","impact":1,"urgency":1}})");
  ASSERT_EQ(engine_->AdvanceTo(T("2026-11-23T12:00:00Z")).status(),
            absl::OkStatus());
  Exec(*engine_, R"({"resolveIncident":{"incidentId":"INC3",
      "at":"2026-11-23T12:30:00Z","resolutionCode":"fixed"}})");
  Exec(*engine_, R"({"reopenIncident":{"incidentId":"INC3",
      "at":"2026-11-23T13:00:00Z","reason":"again"}})");
  SlaExplainFilter f;
  f.target_type = "resolution";
  std::vector<SlaClockExplanation> ex = Explain("INC3", f);
  ASSERT_EQ(ex.size(), 2u);
  // Cycle 1: 1h, paused 1h, then 2h30m more, retargeted 8h -> 4h.
  EXPECT_EQ(Actions(ex[0]),
            (std::vector<std::string>{"started", "paused", "resumed",
                                      "retargeted", "warning", "warning",
                                      "stopped"}));
  EXPECT_NE(ex[0].steps[1].detail.find("AWAITING_CALLER"), std::string::npos)
      << ex[0].steps[1].detail;
  EXPECT_NE(ex[0].steps[3].detail.find("8h -> 4h"), std::string::npos)
      << ex[0].steps[3].detail;
  EXPECT_EQ(ex[0].business_counted, absl::Minutes(210));
  ASSERT_EQ(ex[0].windows.size(), 2u);
  // The 50% warning of 4h fell at 2h of business time: 11:00Z.
  ASSERT_TRUE(ex[0].thresholds[0].due.has_value());
  EXPECT_EQ(*ex[0].thresholds[0].due, T("2026-11-23T11:00:00Z"));
  // Cycle 2 runs from the reopen, with the P1 target.
  EXPECT_EQ(ex[1].clock.cycle, 2);
  ASSERT_FALSE(ex[1].steps.empty());
  EXPECT_EQ(ex[1].steps[0].action, "reopened");
  EXPECT_EQ(ex[1].thresholds.back().due,
            absl::FromUnixMicros(ex[1].clock.state.deadline_us()));

  // Filters and an unknown record.
  f.cycle = 2;
  EXPECT_EQ(Explain("INC3", f).size(), 1u);
  f.policy_id = "nope";
  EXPECT_TRUE(Explain("INC3", f).empty());
  EXPECT_EQ(engine_->ExplainClocks("INC404", {}).status().code(),
            absl::StatusCode::kNotFound);
}

// A policy that attaches at a later event with pauses before it: the replay
// is counted, not broken down, and the sums still hold. The replay runs up
// to the last replayed input (the resume at 08:45Z): 30m as of then.
TEST_F(SlaExplainTest, ALateAttachOverPausesIsCountedAsReplayed) {
  DefineSlaConfig(*engine_, OfficePolicyJson());
  OpenIncident("INC4", "2026-11-23T08:00:00Z", 3, 3);  // P5: no policy.
  Exec(*engine_, R"({"holdIncident":{"incidentId":"INC4",
      "at":"2026-11-23T08:30:00Z","reason":"AWAITING_CALLER"}})");
  Exec(*engine_, R"({"resumeIncident":{"incidentId":"INC4",
      "at":"2026-11-23T08:45:00Z"}})");
  Exec(*engine_, R"({"setIncidentImpactUrgency":{"incidentId":"INC4",
      "at":"2026-11-23T09:00:00Z","impact":1,"urgency":2}})");
  SlaExplainFilter f;
  f.target_type = "resolution";
  std::vector<SlaClockExplanation> ex = Explain("INC4", f);
  ASSERT_EQ(ex.size(), 1u);
  ASSERT_FALSE(ex[0].steps.empty());
  EXPECT_EQ(ex[0].steps[0].action, "attached");
  EXPECT_EQ(ex[0].replayed_unlisted, absl::Minutes(30))
      << FormatSlaExplanations(ex, false);
  EXPECT_EQ(absl::ToInt64Microseconds(ex[0].business_counted +
                                      ex[0].replayed_unlisted),
            ex[0].clock.state.business_elapsed_us());
  EXPECT_EQ(ex[0].thresholds.back().due,
            absl::FromUnixMicros(ex[0].clock.state.deadline_us()));
}

// SLA events in people's units: in the policy calendar's zone, UTC for a
// 24x7 policy; other events as DescribePayload.
TEST_F(SlaExplainTest, DescribeEventSpeaksInPeoplesUnits) {
  Exec(*engine_, absl::StrCat(R"({"defineSlaPolicy":{"at":"2026-11-01T00:00:00Z","policy":)",
                              AllHoursPolicyJson(), "}}"));
  OpenIncident("INC5", "2026-11-23T08:00:00Z", 1, 1);
  auto fired = engine_->AdvanceTo(T("2026-11-23T12:00:00Z"));
  ASSERT_TRUE(fired.ok()) << fired.status();
  ASSERT_EQ(fired->size(), 4u);
  auto first = engine_->DescribeEvent((*fired)[0]);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(*first,
            "resolution 50% warning on incident/INC5 (policy p-24x7, cycle "
            "1), due Mon 2026-11-23 10:00 UTC: 2h of 4h business time");
  auto last = engine_->DescribeEvent(fired->back());
  ASSERT_TRUE(last.ok()) << last.status();
  EXPECT_EQ(*last,
            "resolution breached on incident/INC5 (policy p-24x7, cycle 1) "
            "at Mon 2026-11-23 12:00 UTC: the 4h of business time used up");
  auto opened = engine_->ReadStream("incident/INC5", 0, 1);
  ASSERT_TRUE(opened.ok() && !opened->empty());
  auto plain = engine_->DescribeEvent(opened->front());
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->rfind("incident opened", 0), 0u) << *plain;
}

// A redefinition binds only the clocks that attach after it: a clock bound
// to the first version is explained in that version's calendar.
TEST_F(SlaExplainTest, AClockIsExplainedInTheCalendarOfItsPolicyVersion) {
  DefineSlaConfig(*engine_, OfficePolicyJson());
  OpenIncident("INC1", "2026-11-23T08:00:00Z", 1, 2);  // Mon 09:00 Berlin.
  Exec(*engine_, absl::StrCat(
                     R"({"defineSlaPolicy":{"at":"2026-11-24T00:00:00Z",)",
                     R"("policy":)", OfficePolicyJson("p-office", "24x7"),
                     "}}"));
  OpenIncident("INC2", "2026-11-25T08:00:00Z", 1, 2);
  SlaExplainFilter f;
  f.target_type = "resolution";
  std::vector<SlaClockExplanation> old = Explain("INC1", f);
  ASSERT_EQ(old.size(), 1u);
  EXPECT_EQ(old[0].calendar, "office-berlin");
  EXPECT_EQ(old[0].time_zone, "Europe/Berlin");
  EXPECT_EQ(old[0].clock.policy_version_from_us,
            absl::ToUnixMicros(T("2026-11-01T00:00:00Z")));
  // Its 8h counted in office hours: Mon 09:00-17:00 Berlin.
  EXPECT_EQ(old[0].clock.state.deadline_us(),
            absl::ToUnixMicros(T("2026-11-23T16:00:00Z")));
  // Its 50% warning (4h of office hours: Mon 13:00 Berlin) is described in
  // that calendar's zone too.
  auto fired = engine_->AdvanceTo(T("2026-11-23T12:00:00Z"));
  ASSERT_TRUE(fired.ok()) << fired.status();
  bool described = false;
  for (const Envelope& e : *fired) {
    if (!e.has_sla_warning() || e.sla_warning().record() != "incident/INC1" ||
        e.sla_warning().metric() != SLA_METRIC_RESOLUTION) {
      continue;
    }
    auto text = engine_->DescribeEvent(e);
    ASSERT_TRUE(text.ok()) << text.status();
    EXPECT_NE(text->find("due Mon 2026-11-23 13:00 CET"), std::string::npos)
        << *text;
    described = true;
  }
  EXPECT_TRUE(described);
  std::vector<SlaClockExplanation> now = Explain("INC2", f);
  ASSERT_EQ(now.size(), 1u);
  EXPECT_EQ(now[0].calendar, "24x7");
  EXPECT_EQ(now[0].time_zone, "UTC");
  EXPECT_EQ(now[0].clock.policy_version_from_us,
            absl::ToUnixMicros(T("2026-11-24T00:00:00Z")));
}

// Random lifecycles on the office calendar: every explanation adds up to
// its clock, its windows are ordered, disjoint and open time, a running
// clock's breach is due at its deadline, and every warning or breach the
// engine fired is due, in the explanation, at the instant it fired.
int SlaExplainTest::CheckRandomLifecycles(const std::string& policy,
                                          uint32_t seed) {
  DefineSlaConfig(*engine_, policy);
  std::mt19937 rng(seed);
  int fired_before = 0;
  const absl::Time base = T("2026-12-21T06:00:00Z");  // Monday.
  int clocks_checked = 0, fired_checked = 0;
  absl::Time t = base;
  for (int n = 0; n < 30; ++n) {
    const std::string id = absl::StrCat("R", n);
    auto at = [&] {
      t += absl::Minutes(std::uniform_int_distribution<int>(5, 600)(rng));
      return absl::FormatTime("%Y-%m-%d%ET%H:%M:%SZ", t, absl::UTCTimeZone());
    };
    OpenIncident(id, at(), std::uniform_int_distribution<int>(1, 3)(rng),
                 std::uniform_int_distribution<int>(1, 2)(rng));
    bool held = false, resolved = false;
    const int steps = std::uniform_int_distribution<int>(1, 8)(rng);
    for (int s = 0; s < steps; ++s) {
      const int what = std::uniform_int_distribution<int>(0, 4)(rng);
      if (resolved) {
        Exec(*engine_, absl::StrCat(R"({"reopenIncident":{"incidentId":")",
                                    id, R"(","at":")", at(),
                                    R"(","reason":"again"}})"));
        resolved = false;
      } else if (what == 0 && !held) {
        Exec(*engine_, absl::StrCat(R"({"holdIncident":{"incidentId":")", id,
                                    R"(","at":")", at(),
                                    R"(","reason":"AWAITING_CALLER"}})"));
        held = true;
      } else if (held) {
        Exec(*engine_, absl::StrCat(R"({"resumeIncident":{"incidentId":")",
                                    id, R"(","at":")", at(), R"("}})"));
        held = false;
      } else if (what == 1) {
        Exec(*engine_,
             absl::StrCat(R"({"setIncidentImpactUrgency":{"incidentId":")",
                          id, R"(","at":")", at(), R"(","impact":1,)",
                          R"("urgency":)",
                          std::uniform_int_distribution<int>(1, 3)(rng),
                          "}}"));
      } else if (what == 2) {
        EXPECT_TRUE(engine_->AdvanceTo(t + absl::Hours(3)).ok());
        t += absl::Hours(3);
      } else if (what == 3) {
        Exec(*engine_, absl::StrCat(R"({"resolveIncident":{"incidentId":")",
                                    id, R"(","at":")", at(),
                                    R"(","resolutionCode":"fixed"}})"));
        resolved = true;
      }
    }
  }
  for (int n = 0; n < 30; ++n) {
    const std::string record = absl::StrCat("incident/R", n);
    // The instants the engine fired, per clock and threshold index.
    std::map<std::string, absl::Time> fired;
    auto sla = engine_->ReadStream(absl::StrCat("sla/", record), 0, 1000);
    EXPECT_TRUE(sla.ok()) << sla.status();
    if (!sla.ok()) return fired_before;
    for (const Envelope& e : *sla) {
      const bool warning = e.has_sla_warning();
      const auto& w = e.sla_warning();
      const auto& b = e.sla_breached();
      const std::string key =
          warning ? absl::StrCat(w.policy_id(), "|", w.metric(), "|",
                                 w.cycle(), "|w", w.threshold_index())
                  : absl::StrCat(b.policy_id(), "|", b.metric(), "|",
                                 b.cycle(), "|breach");
      fired[key] = absl::FromUnixMicros(e.occurred_at_us());
    }
    for (const SlaClockExplanation& x : Explain(record)) {
      const SlaClockState& c = x.clock.state;
      const std::string where =
          absl::StrCat(record, " ", x.clock.policy_id, " ",
                       x.clock.target_type, " cycle ", x.clock.cycle);
      ++clocks_checked;
      EXPECT_EQ(absl::ToInt64Microseconds(x.business_counted +
                                          x.replayed_unlisted),
                c.business_elapsed_us())
          << where;
      absl::Duration sum;
      absl::Time last = absl::InfinitePast();
      for (const SlaBusinessWindow& w : x.windows) {
        EXPECT_LT(w.start, w.end) << where;
        EXPECT_GE(w.start, last) << where;
        EXPECT_EQ(w.counted, w.end - w.start) << where;
        last = w.end;
        sum += w.counted;
      }
      EXPECT_FALSE(x.windows_truncated) << where;
      EXPECT_EQ(sum, x.business_counted) << where;
      if (c.phase() == SLA_CLOCK_PHASE_RUNNING && !c.has_breached_at_us()) {
        EXPECT_TRUE(x.thresholds.back().due.has_value()) << where;
        EXPECT_EQ(absl::ToUnixMicros(
                      x.thresholds.back().due.value_or(absl::UnixEpoch())),
                  c.deadline_us())
            << where;
      }
      for (size_t i = 0; i < x.thresholds.size(); ++i) {
        const SlaThresholdDue& d = x.thresholds[i];
        const std::string key = absl::StrCat(
            x.clock.policy_id, "|", c.metric(), "|", x.clock.cycle, "|",
            i + 1 == x.thresholds.size() ? std::string("breach")
                                         : absl::StrCat("w", i));
        auto it = fired.find(key);
        if (it == fired.end()) continue;
        EXPECT_TRUE(d.fired) << where << " " << d.percent;
        if (!d.due.has_value()) continue;  // Crossed inside a replay.
        EXPECT_EQ(*d.due, it->second)
            << where << " " << d.percent << "\n"
            << FormatSlaExplanations({x}, false);
        ++fired_checked;
        if (d.before > absl::ZeroDuration()) ++fired_before;
      }
    }
  }
  EXPECT_GT(clocks_checked, 40);
  EXPECT_GT(fired_checked, 10);
  return fired_before;
}

TEST_F(SlaExplainTest, ExplanationsAddUpOnRandomLifecycles) {
  EXPECT_EQ(CheckRandomLifecycles(OfficePolicyJson(), 20261206), 0);
}

// The same with escalations as business time before the deadline (3h is
// above the 1h response target of P1: it fires as soon as that clock runs).
TEST_F(SlaExplainTest, ExplanationsAddUpWithWarningsBeforeTheDeadline) {
  const std::string policy = absl::StrReplaceAll(
      OfficePolicyJson(),
      {{R"("reopen":)", R"("warningBefore":["20m","3h","90m"],"reopen":)"}});
  ASSERT_NE(policy, OfficePolicyJson());
  EXPECT_GT(CheckRandomLifecycles(policy, 20261207), 10);
}

// The same with relative resolution targets (resolved in office-berlin when
// each cycle starts, re-resolved on a priority change).
TEST_F(SlaExplainTest, ExplanationsAddUpWithRelativeTargets) {
  const std::string policy = absl::StrReplaceAll(
      OfficePolicyJson(),
      {{R"("resolution":"4h")", R"("resolution":"end of next business day")"},
       {R"("resolution":"8h")",
        R"("resolution":"12:00 on business day 2")"}});
  ASSERT_EQ(policy.find(R"("resolution":"4h")"), std::string::npos);
  ASSERT_EQ(policy.find(R"("resolution":"8h")"), std::string::npos);
  CheckRandomLifecycles(policy, 20261208);
}

}  // namespace
}  // namespace slate
