#include "lib/sla/sla_policy.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <functional>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "google/protobuf/util/json_util.h"

namespace slate {
namespace {

constexpr absl::string_view kRecordTypes[] = {"incident", "change",
                                              "request"};
constexpr absl::string_view kIncidentStates[] = {
    "new", "in_progress", "on_hold", "resolved", "closed", "cancelled"};
// Service request states (lib/domain/request.h), known to a policy that
// applies to requests.
constexpr absl::string_view kRequestStates[] = {
    "awaiting_approval", "in_fulfilment", "fulfilled", "rejected"};

bool IsOneOf(absl::string_view s, absl::Span<const absl::string_view> set) {
  return std::find(set.begin(), set.end(), s) != set.end();
}

std::string Known(absl::Span<const absl::string_view> set) {
  std::string out;
  for (absl::string_view s : set) {
    absl::StrAppend(&out, out.empty() ? "" : ", ", "\"", s, "\"");
  }
  return out;
}

// [a-z][a-z0-9_]* or, with upper, [A-Z][A-Z0-9_]*.
bool IsIdentifier(absl::string_view s, bool upper) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char ch = s[i];
    bool letter = upper ? absl::ascii_isupper(ch) : absl::ascii_islower(ch);
    bool ok = letter || (i > 0 && (absl::ascii_isdigit(ch) || ch == '_'));
    if (!ok) return false;
  }
  return true;
}

class Checker {
 public:
  explicit Checker(const SlaPolicy& policy) : policy_(policy) {}

  absl::Status Error(absl::string_view field, absl::string_view what) const {
    return absl::InvalidArgumentError(
        absl::StrCat("sla policy \"", policy_.id(), "\": ", field, ": ", what));
  }

  // The states conditions may name: an incident's, and a request's when the
  // policy applies to requests.
  std::vector<absl::string_view> KnownStates() const {
    std::vector<absl::string_view> out(std::begin(kIncidentStates),
                                       std::end(kIncidentStates));
    const auto& types = policy_.applies_to().record_types();
    if (std::find(types.begin(), types.end(), "request") != types.end()) {
      out.insert(out.end(), std::begin(kRequestStates),
                 std::end(kRequestStates));
    }
    return out;
  }

 private:
  const SlaPolicy& policy_;
};

absl::Status CheckCondition(const Checker& check, const SlaCondition& cond,
                            absl::string_view field) {
  const std::vector<absl::string_view> known = check.KnownStates();
  for (int i = 0; i < cond.states_size(); ++i) {
    if (!IsOneOf(cond.states(i), known)) {
      return check.Error(absl::StrCat(field, ".states[", i, "]"),
                         absl::StrCat("unknown state \"", cond.states(i),
                                      "\"; known: ", Known(known)));
    }
  }
  for (int i = 0; i < cond.events_size(); ++i) {
    if (!IsIdentifier(cond.events(i), /*upper=*/false)) {
      return check.Error(
          absl::StrCat(field, ".events[", i, "]"),
          absl::StrCat("event names are lower_snake_case payload names such "
                       "as \"incident_opened\", got \"",
                       cond.events(i), "\""));
    }
  }
  for (int i = 0; i < cond.hold_reasons_size(); ++i) {
    if (!IsIdentifier(cond.hold_reasons(i), /*upper=*/true)) {
      return check.Error(
          absl::StrCat(field, ".hold_reasons[", i, "]"),
          absl::StrCat("hold reasons are HoldReason names such as "
                       "\"AWAITING_CALLER\", got \"",
                       cond.hold_reasons(i), "\""));
    }
  }
  return absl::OkStatus();
}

bool IsEmpty(const SlaCondition& c) {
  return c.states_size() == 0 && c.events_size() == 0;
}

struct MetricField {
  SlaMetric metric;
  absl::string_view name;
};
constexpr MetricField kMetrics[] = {
    {SLA_METRIC_RESPONSE, "response"},
    {SLA_METRIC_RESOLUTION, "resolution"},
    {SLA_METRIC_UPDATE, "update"},
};

const std::string& TargetText(const SlaPriorityTargets& t, SlaMetric metric) {
  switch (metric) {
    case SLA_METRIC_RESPONSE:
      return t.response();
    case SLA_METRIC_UPDATE:
      return t.update();
    default:
      return t.resolution();
  }
}

}  // namespace

absl::StatusOr<std::optional<absl::Duration>> ParseSlaDuration(
    absl::string_view text) {
  if (text.empty()) return std::optional<absl::Duration>();
  absl::Duration d;
  if (!absl::ParseDuration(std::string(text), &d)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "not a duration: \"", text,
        "\" (write e.g. \"4h\", \"1h30m\", \"90m\" or \"14400s\")"));
  }
  if (d == absl::InfiniteDuration() || d == -absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("must be finite, got \"", text, "\""));
  }
  if (d <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("must be > 0, got \"", text, "\""));
  }
  if (absl::Microseconds(absl::ToInt64Microseconds(d)) != d) {
    return absl::InvalidArgumentError(absl::StrCat(
        "must be a whole number of microseconds, got \"", text, "\""));
  }
  return std::optional<absl::Duration>(d);
}

void FillSlaPolicyDefaults(SlaPolicy* policy) {
  if (policy->warning_thresholds_percent_size() == 0 &&
      policy->warning_before_size() == 0) {
    for (double p : kDefaultWarningThresholdsPercent) {
      policy->add_warning_thresholds_percent(p);
    }
  }
  if (policy->reopen() == SLA_REOPEN_MODE_UNSPECIFIED) {
    policy->set_reopen(SLA_REOPEN_MODE_NEW_CYCLE);
  }
  const SlaAgreementKind kind = policy->kind();
  if (kind == SLA_AGREEMENT_KIND_OLA || kind == SLA_AGREEMENT_KIND_UC) {
    if (policy->applies_to().record_types_size() == 0) {
      policy->mutable_applies_to()->add_record_types("incident");
    }
  }
  if (kind == SLA_AGREEMENT_KIND_UC &&
      policy->supplier_hold_reasons_size() == 0) {
    policy->add_supplier_hold_reasons("AWAITING_VENDOR");
  }
}

// The fields of an OLA or UC policy (see SlaAgreementKind).
static absl::Status CheckAgreementKind(const Checker& check,
                                       const SlaPolicy& policy) {
  const SlaAgreementKind kind = policy.kind();
  if (!SlaAgreementKind_IsValid(kind)) {
    return check.Error("kind", absl::StrCat("unknown agreement kind ",
                                            static_cast<int>(kind)));
  }
  const bool ola = kind == SLA_AGREEMENT_KIND_OLA;
  const bool uc = kind == SLA_AGREEMENT_KIND_UC;
  if (!ola && policy.groups_size() > 0) {
    return check.Error("groups", "only an OLA policy names groups");
  }
  if (!uc && policy.supplier_hold_reasons_size() > 0) {
    return check.Error("supplier_hold_reasons",
                       "only a UC policy names supplier hold reasons");
  }
  if (!ola && !uc) return absl::OkStatus();
  const absl::string_view name = ola ? "an OLA" : "a UC";
  if (ola && policy.groups_size() == 0) {
    return check.Error("groups",
                       "required: the assignment groups the OLA is with");
  }
  for (int i = 0; i < policy.groups_size(); ++i) {
    if (policy.groups(i).empty()) {
      return check.Error(absl::StrCat("groups[", i, "]"), "must not be empty");
    }
  }
  for (int i = 0; i < policy.supplier_hold_reasons_size(); ++i) {
    if (!IsIdentifier(policy.supplier_hold_reasons(i), /*upper=*/true)) {
      return check.Error(
          absl::StrCat("supplier_hold_reasons[", i, "]"),
          absl::StrCat("not a hold reason name (e.g. AWAITING_VENDOR): \"",
                       policy.supplier_hold_reasons(i), "\""));
    }
  }
  const SlaAppliesTo& applies = policy.applies_to();
  for (int i = 0; i < applies.record_types_size(); ++i) {
    if (applies.record_types(i) != "incident") {
      return check.Error(
          absl::StrCat("applies_to.record_types[", i, "]"),
          absl::StrCat(name, " policy applies to incidents only"));
    }
  }
  for (int i = 0; i < policy.targets_size(); ++i) {
    const SlaPriorityTargets& t = policy.targets(i);
    if (!t.response().empty() || !t.update().empty()) {
      return check.Error(
          absl::StrCat("targets[", i, "]"),
          absl::StrCat(name, " policy sets resolution targets only"));
    }
  }
  if (!IsEmpty(policy.resolution().start())) {
    return check.Error(
        "resolution.start",
        absl::StrCat("must be empty for ", name, " policy: its clocks start ",
                     ola ? "when the incident is assigned to one of its groups"
                         : "when the incident waits on the supplier"));
  }
  return absl::OkStatus();
}

absl::Status ValidateSlaPolicy(const SlaPolicy& policy,
                               const SlaPolicyOptions& options) {
  Checker check(policy);
  if (policy.id().empty()) return check.Error("id", "required");
  if (policy.calendar_id().empty()) {
    return check.Error("calendar_id", "required (\"24x7\" for always)");
  }
  auto priority_ok = [&](int p) { return p >= 1 && p <= options.max_priority; };
  auto unknown_priority = [&](int p) {
    return absl::StrCat("unknown priority ", p, "; priorities are 1..",
                        options.max_priority);
  };

  const SlaAppliesTo& applies = policy.applies_to();
  for (int i = 0; i < applies.record_types_size(); ++i) {
    if (!IsOneOf(applies.record_types(i), kRecordTypes)) {
      return check.Error(
          absl::StrCat("applies_to.record_types[", i, "]"),
          absl::StrCat("unknown record type \"", applies.record_types(i),
                       "\"; known: ", Known(kRecordTypes)));
    }
  }
  for (int i = 0; i < applies.priorities_size(); ++i) {
    if (!priority_ok(applies.priorities(i))) {
      return check.Error(absl::StrCat("applies_to.priorities[", i, "]"),
                         unknown_priority(applies.priorities(i)));
    }
  }
  for (int i = 0; i < applies.services_size(); ++i) {
    if (applies.services(i).empty()) {
      return check.Error(absl::StrCat("applies_to.services[", i, "]"),
                         "must not be empty");
    }
  }
  for (int i = 0; i < applies.categories_size(); ++i) {
    if (applies.categories(i).empty()) {
      return check.Error(absl::StrCat("applies_to.categories[", i, "]"),
                         "must not be empty");
    }
  }

  if (policy.targets_size() == 0) {
    return check.Error("targets", "at least one priority needs a target");
  }
  std::set<int> priorities;
  bool metric_used[4] = {false, false, false, false};
  for (int i = 0; i < policy.targets_size(); ++i) {
    const SlaPriorityTargets& t = policy.targets(i);
    std::string field = absl::StrCat("targets[", i, "]");
    if (!priority_ok(t.priority())) {
      return check.Error(absl::StrCat(field, ".priority"),
                         unknown_priority(t.priority()));
    }
    if (!priorities.insert(t.priority()).second) {
      return check.Error(absl::StrCat(field, ".priority"),
                         absl::StrCat("priority ", t.priority(),
                                      " has more than one targets entry"));
    }
    bool any = false;
    for (const MetricField& m : kMetrics) {
      absl::StatusOr<std::optional<SlaTarget>> d =
          ParseSlaTarget(TargetText(t, m.metric));
      if (!d.ok()) {
        return check.Error(absl::StrCat(field, ".", m.name),
                           d.status().message());
      }
      if (d->has_value()) {
        any = true;
        metric_used[m.metric] = true;
      }
    }
    if (!any) {
      return check.Error(field,
                         "sets no target (response, resolution or update)");
    }
  }
  for (int i = 0; i < applies.priorities_size(); ++i) {
    if (priorities.count(applies.priorities(i)) == 0) {
      return check.Error(absl::StrCat("applies_to.priorities[", i, "]"),
                         absl::StrCat("priority ", applies.priorities(i),
                                      " has no targets entry"));
    }
  }

  if (absl::Status s = CheckAgreementKind(check, policy); !s.ok()) return s;

  for (const MetricField& m : kMetrics) {
    const SlaClockRules& rules = SlaRulesFor(policy, m.metric);
    const std::pair<const SlaCondition*, absl::string_view> conds[] = {
        {&rules.start(), "start"},
        {&rules.pause(), "pause"},
        {&rules.stop(), "stop"},
        {&rules.cancel(), "cancel"}};
    for (const auto& [cond, name] : conds) {
      absl::Status s =
          CheckCondition(check, *cond, absl::StrCat(m.name, ".", name));
      if (!s.ok()) return s;
    }
    const bool implicit_start = policy.kind() == SLA_AGREEMENT_KIND_OLA ||
                                policy.kind() == SLA_AGREEMENT_KIND_UC;
    if (metric_used[m.metric]) {
      if (IsEmpty(rules.start()) && !implicit_start) {
        return check.Error(absl::StrCat(m.name, ".start"),
                           "required: the policy sets a target for this "
                           "measure, so it needs a start condition");
      }
      if (IsEmpty(rules.stop())) {
        return check.Error(absl::StrCat(m.name, ".stop"),
                           "required: the policy sets a target for this "
                           "measure, so it needs a stop condition");
      }
    }
  }

  const auto& th = policy.warning_thresholds_percent();
  for (int i = 0; i < th.size(); ++i) {
    std::string field = absl::StrCat("warning_thresholds_percent[", i, "]");
    if (!(th[i] > 0 && th[i] < 100)) {
      return check.Error(field,
                         absl::StrCat("must be in (0, 100), got ", th[i]));
    }
    if (i > 0 && !(th[i] > th[i - 1])) {
      return check.Error(field,
                         absl::StrCat("must be greater than the previous "
                                      "threshold ",
                                      th[i - 1], ", got ", th[i]));
    }
  }
  if (policy.warning_before_size() > 0 && th.size() > 0) {
    return check.Error("warning_before",
                       "set either warning_before or "
                       "warning_thresholds_percent, not both (the order of a "
                       "percentage and an offset would change with the "
                       "target)");
  }
  std::vector<absl::Duration> before;
  for (int i = 0; i < policy.warning_before_size(); ++i) {
    std::string field = absl::StrCat("warning_before[", i, "]");
    absl::StatusOr<std::optional<absl::Duration>> d =
        ParseSlaDuration(policy.warning_before(i));
    if (!d.ok()) return check.Error(field, d.status().message());
    if (!d->has_value()) return check.Error(field, "must not be empty");
    if (std::find(before.begin(), before.end(), **d) != before.end()) {
      return check.Error(field, absl::StrCat("lists ", policy.warning_before(i),
                                             " a second time"));
    }
    before.push_back(**d);
  }
  if (!SlaReopenMode_IsValid(policy.reopen())) {
    return check.Error("reopen",
                       absl::StrCat("unknown reopen mode ",
                                    static_cast<int>(policy.reopen())));
  }
  return absl::OkStatus();
}

absl::StatusOr<SlaPolicy> LoadSlaPolicyJson(absl::string_view json) {
  return LoadSlaPolicyJson(json, SlaPolicyOptions());
}

absl::StatusOr<SlaPolicy> LoadSlaPolicyJson(absl::string_view json,
                                            const SlaPolicyOptions& options) {
  SlaPolicy policy;
  google::protobuf::util::JsonParseOptions parse;
  parse.ignore_unknown_fields = false;
  // Debian's Abseil string_view is not protobuf's StringPiece: go through
  // std::string.
  auto status = google::protobuf::util::JsonStringToMessage(std::string(json),
                                                            &policy, parse);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("sla policy: not a valid SlaPolicy JSON: ",
                     std::string(status.message())));
  }
  FillSlaPolicyDefaults(&policy);
  absl::Status s = ValidateSlaPolicy(policy, options);
  if (!s.ok()) return s;
  return policy;
}

bool SlaPolicyApplies(const SlaPolicy& policy,
                      const SlaRecordAttributes& record) {
  const SlaAppliesTo& a = policy.applies_to();
  auto in = [](const auto& list, const auto& v) {
    return list.empty() || std::find(list.begin(), list.end(), v) != list.end();
  };
  return in(a.record_types(), record.record_type) &&
         in(a.priorities(), record.priority) &&
         in(a.services(), record.service) &&
         in(a.categories(), record.category);
}

absl::StatusOr<std::optional<SlaTarget>> ParseSlaTarget(absl::string_view text) {
  const std::string t = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text));
  if (t.empty()) return std::optional<SlaTarget>();
  SlaTarget target;
  SlaRelativeTarget r;
  int day = 0;
  absl::string_view rest = t;
  if (t == "end of next business day") {
    target.relative = r;
    return std::optional<SlaTarget>(target);
  }
  const bool end_of = absl::ConsumePrefix(&rest, "end of business day ");
  int hh = -1, mm = -1;
  if (!end_of) {
    // "HH:MM on business day N".
    std::vector<absl::string_view> parts =
        absl::StrSplit(t, absl::MaxSplits(" on business day ", 1));
    if (parts.size() == 2) {
      std::vector<absl::string_view> hm = absl::StrSplit(parts[0], ':');
      if (hm.size() != 2 || hm[0].size() != 2 || hm[1].size() != 2 ||
          !absl::SimpleAtoi(hm[0], &hh) || !absl::SimpleAtoi(hm[1], &mm) ||
          hh < 0 || hh > 23 || mm < 0 || mm > 59) {
        return absl::InvalidArgumentError(absl::StrCat(
            "relative target \"", text,
            "\": the time of day must be HH:MM between 00:00 and 23:59"));
      }
      rest = parts[1];
    } else {
      absl::StatusOr<std::optional<absl::Duration>> d = ParseSlaDuration(text);
      if (!d.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(
            d.status().message(),
            ", or a relative target such as \"end of next business day\", "
            "\"end of business day 2\" or \"17:00 on business day 1\""));
      }
      target.duration = **d;
      return std::optional<SlaTarget>(target);
    }
  }
  if (!absl::SimpleAtoi(rest, &day) || day < 1 || day > 366) {
    return absl::InvalidArgumentError(
        absl::StrCat("relative target \"", text,
                     "\": the business day must be a number from 1 to 366"));
  }
  r.business_day = day;
  if (!end_of) r.minute_of_day = hh * 60 + mm;
  target.relative = r;
  return std::optional<SlaTarget>(target);
}

bool SlaHasTarget(const SlaPolicy& policy, SlaMetric metric, int priority) {
  for (const SlaPriorityTargets& t : policy.targets()) {
    if (t.priority() == priority) {
      return !absl::StripAsciiWhitespace(TargetText(t, metric)).empty();
    }
  }
  return false;
}

std::optional<SlaTarget> SlaTargetOf(const SlaPolicy& policy, SlaMetric metric,
                                     int priority) {
  for (const SlaPriorityTargets& t : policy.targets()) {
    if (t.priority() != priority) continue;
    absl::StatusOr<std::optional<SlaTarget>> d =
        ParseSlaTarget(TargetText(t, metric));
    if (!d.ok()) return std::nullopt;
    return *d;
  }
  return std::nullopt;
}

std::optional<absl::Duration> SlaTargetFor(const SlaPolicy& policy,
                                           SlaMetric metric, int priority) {
  for (const SlaPriorityTargets& t : policy.targets()) {
    if (t.priority() != priority) continue;
    absl::StatusOr<std::optional<absl::Duration>> d =
        ParseSlaDuration(TargetText(t, metric));
    if (!d.ok()) return std::nullopt;
    return *d;
  }
  return std::nullopt;
}

absl::StatusOr<SlaClockSpec> SlaClockSpecFor(const SlaPolicy& policy,
                                             SlaMetric metric, int priority,
                                             absl::string_view record_id) {
  std::optional<SlaTarget> target = SlaTargetOf(policy, metric, priority);
  if (!target.has_value()) {
    return absl::NotFoundError(absl::StrCat("sla policy \"", policy.id(),
                                            "\": no ", SlaMetric_Name(metric),
                                            " target for priority ", priority));
  }
  SlaClockSpec spec;
  spec.record_id = std::string(record_id);
  spec.policy_id = policy.id();
  spec.metric = metric;
  spec.target = target->duration;
  spec.relative = target->relative;
  for (const std::string& b : policy.warning_before()) {
    absl::StatusOr<std::optional<absl::Duration>> d = ParseSlaDuration(b);
    if (!d.ok() || !d->has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat("sla policy \"", policy.id(), "\": warning_before \"",
                       b, "\" is not a duration"));
    }
    spec.warning_before.push_back(**d);
  }
  if (policy.warning_thresholds_percent_size() > 0) {
    spec.warning_thresholds_percent.assign(
        policy.warning_thresholds_percent().begin(),
        policy.warning_thresholds_percent().end());
  }
  return spec;
}

const SlaClockRules& SlaRulesFor(const SlaPolicy& policy, SlaMetric metric) {
  switch (metric) {
    case SLA_METRIC_RESPONSE:
      return policy.response();
    case SLA_METRIC_UPDATE:
      return policy.update();
    default:
      return policy.resolution();
  }
}

bool SlaConditionMatches(const SlaCondition& condition,
                         const SlaRecordTransition& transition) {
  const auto& events = condition.events();
  if (std::find(events.begin(), events.end(), transition.event) !=
      events.end()) {
    return true;
  }
  const auto& states = condition.states();
  if (std::find(states.begin(), states.end(), transition.state) ==
      states.end()) {
    return false;
  }
  if (transition.state != "on_hold" || condition.hold_reasons_size() == 0) {
    return true;
  }
  const auto& reasons = condition.hold_reasons();
  return std::find(reasons.begin(), reasons.end(), transition.hold_reason) !=
         reasons.end();
}

namespace {

enum class Rule { kStart, kPause, kStop, kCancel };

// The decision of SlaDecideInput, given whether each rule matches.
template <typename Matches>
std::optional<SlaClockInputKind> DecideWith(SlaClockPhase phase,
                                            Matches&& matches) {
  switch (phase) {
    case SLA_CLOCK_PHASE_NOT_STARTED:
      if (matches(Rule::kCancel)) return SlaClockInputKind::kCancel;
      if (matches(Rule::kStart)) return SlaClockInputKind::kStart;
      return std::nullopt;
    case SLA_CLOCK_PHASE_RUNNING:
    case SLA_CLOCK_PHASE_PAUSED:
      if (matches(Rule::kCancel)) return SlaClockInputKind::kCancel;
      if (matches(Rule::kStop)) return SlaClockInputKind::kStop;
      if (phase == SLA_CLOCK_PHASE_RUNNING && matches(Rule::kPause)) {
        return SlaClockInputKind::kPause;
      }
      if (phase == SLA_CLOCK_PHASE_PAUSED && !matches(Rule::kPause)) {
        return SlaClockInputKind::kResume;
      }
      return std::nullopt;
    case SLA_CLOCK_PHASE_STOPPED:
      if (matches(Rule::kStart) && !matches(Rule::kStop)) {
        return SlaClockInputKind::kReopen;
      }
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

template <typename Rules>
const auto& RuleOf(const Rules& rules, Rule rule) {
  if constexpr (std::is_same_v<Rules, SlaCompiledRules>) {
    switch (rule) {
      case Rule::kStart:
        return rules.start;
      case Rule::kPause:
        return rules.pause;
      case Rule::kStop:
        return rules.stop;
      default:
        return rules.cancel;
    }
  } else {
    switch (rule) {
      case Rule::kStart:
        return rules.start();
      case Rule::kPause:
        return rules.pause();
      case Rule::kStop:
        return rules.stop();
      default:
        return rules.cancel();
    }
  }
}

std::vector<int> CompileNames(
    const google::protobuf::RepeatedPtrField<std::string>& names,
    const std::function<int(absl::string_view)>& id) {
  std::vector<int> out;
  out.reserve(names.size());
  for (const std::string& n : names) {
    const int i = id(n);
    if (i != -1) out.push_back(i);
  }
  return out;
}

bool Has(const std::vector<int>& ids, int id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

}  // namespace

std::optional<SlaClockInputKind> SlaDecideInput(
    const SlaClockRules& rules, SlaClockPhase phase,
    const SlaRecordTransition& transition) {
  return DecideWith(phase, [&](Rule r) {
    return SlaConditionMatches(RuleOf(rules, r), transition);
  });
}

SlaCompiledCondition SlaCompileCondition(const SlaCondition& condition,
                                         const SlaNameIds& ids) {
  SlaCompiledCondition c;
  c.events = CompileNames(condition.events(), ids.event);
  c.states = CompileNames(condition.states(), ids.state);
  c.hold_reasons = CompileNames(condition.hold_reasons(), ids.hold_reason);
  c.any_hold_reasons = condition.hold_reasons_size() > 0;
  return c;
}

SlaCompiledRules SlaCompileRules(const SlaClockRules& rules,
                                 const SlaNameIds& ids, int on_hold_state) {
  SlaCompiledRules c;
  c.start = SlaCompileCondition(rules.start(), ids);
  c.pause = SlaCompileCondition(rules.pause(), ids);
  c.stop = SlaCompileCondition(rules.stop(), ids);
  c.cancel = SlaCompileCondition(rules.cancel(), ids);
  c.on_hold_state = on_hold_state;
  return c;
}

bool SlaConditionMatches(const SlaCompiledCondition& condition,
                         const SlaTransitionIds& transition,
                         int on_hold_state) {
  if (Has(condition.events, transition.event)) return true;
  if (!Has(condition.states, transition.state)) return false;
  if (transition.state != on_hold_state || !condition.any_hold_reasons) {
    return true;
  }
  return Has(condition.hold_reasons, transition.hold_reason);
}

std::optional<SlaClockInputKind> SlaDecideInput(
    const SlaCompiledRules& rules, SlaClockPhase phase,
    const SlaTransitionIds& transition) {
  return DecideWith(phase, [&](Rule r) {
    return SlaConditionMatches(RuleOf(rules, r), transition,
                               rules.on_hold_state);
  });
}

}  // namespace slate
