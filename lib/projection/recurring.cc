#include "lib/projection/recurring.h"

#include <algorithm>
#include <map>
#include <string>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "lib/api/tenant.h"
#include "lib/base/status_macros.h"
#include "lib/projection/runner.h"
#include "lib/projection/views.h"

namespace slate {
namespace {

using GroupKey = std::tuple<std::string, std::string, std::string>;

bool IncidentBefore(const RecurringInput& a, const RecurringInput& b) {
  return std::tie(a.incident.opened_at, a.incident.incident_id) <
         std::tie(b.incident.opened_at, b.incident.incident_id);
}

RecurringCandidate MakeCandidate(const GroupKey& key,
                                 const std::vector<RecurringInput>& sorted,
                                 size_t from, size_t to) {
  RecurringCandidate c;
  std::tie(c.service, c.category, c.configuration_item) = key;
  c.first_opened = sorted[from].incident.opened_at;
  c.last_opened = sorted[to - 1].incident.opened_at;
  c.incidents.reserve(to - from);
  for (size_t i = from; i < to; ++i) c.incidents.push_back(sorted[i].incident);
  return c;
}

}  // namespace

absl::StatusOr<std::vector<RecurringCandidate>> DetectRecurring(
    std::vector<RecurringInput> incidents, const RecurringQuery& query) {
  if (query.window <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("recurring incidents: window must be > 0, got ",
                     absl::FormatDuration(query.window)));
  }
  if (query.min_incidents < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("recurring incidents: min_incidents must be >= 2, got ",
                     query.min_incidents));
  }
  const size_t n_min = static_cast<size_t>(query.min_incidents);
  std::map<GroupKey, std::vector<RecurringInput>> groups;
  for (RecurringInput& in : incidents) {
    GroupKey key(in.service, in.category, in.configuration_item);
    groups[std::move(key)].push_back(std::move(in));
  }
  std::vector<RecurringCandidate> out;
  for (auto& [key, members] : groups) {
    if (members.size() < n_min) continue;
    std::sort(members.begin(), members.end(), IncidentBefore);
    // [run_from, run_to): the candidate being merged; run_to == 0: none.
    size_t run_from = 0, run_to = 0;
    size_t end = 0;
    for (size_t i = 0; i < members.size(); ++i) {
      const absl::Time limit = members[i].incident.opened_at + query.window;
      end = std::max(end, i + 1);
      while (end < members.size() && members[end].incident.opened_at < limit) {
        ++end;
      }
      if (end - i < n_min) continue;  // Window anchored at i: too few.
      if (run_to > i) {
        run_to = end;  // Shares incident i with the run: extend it.
        continue;
      }
      if (run_to > 0)
        out.push_back(MakeCandidate(key, members, run_from, run_to));
      run_from = i;
      run_to = end;
    }
    if (run_to > 0) {
      out.push_back(MakeCandidate(key, members, run_from, run_to));
    }
  }
  std::sort(out.begin(), out.end(),
            [](const RecurringCandidate& a, const RecurringCandidate& b) {
              if (a.incidents.size() != b.incidents.size()) {
                return a.incidents.size() > b.incidents.size();
              }
              return std::tie(a.first_opened, a.service, a.category,
                              a.configuration_item) <
                     std::tie(b.first_opened, b.service, b.category,
                              b.configuration_item);
            });
  return out;
}

bool RecurringEligible(const IncidentState& s,
                       const ProblemState* linked_problem) {
  if (s.status() == INCIDENT_STATUS_UNSPECIFIED ||
      s.status() == INCIDENT_CANCELLED) {
    return false;
  }
  if (s.problem_id().empty()) return true;
  return linked_problem != nullptr &&
         linked_problem->status() == PROBLEM_CLOSED;
}

namespace {

// Calls fn(id, state) for each record of the views with `kind` ("problem",
// "incident"), in key order; kDataLoss for an undecodable one.
template <typename State, typename Fn>
absl::Status ForEachView(const ProjectionRunner& runner,
                         absl::string_view tenant, absl::string_view kind,
                         Fn fn) {
  const std::string prefix = TenantStream(tenant, absl::StrCat(kind, "/"));
  absl::Status parse_error;
  SLATE_RETURN_IF_ERROR(runner.Scan(
      ViewsProjection::kName, prefix,
      [&](absl::string_view key, absl::string_view value) {
        State s;
        if (!s.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          parse_error = absl::DataLossError(
              absl::StrCat("view of ", key, " is undecodable"));
          return false;
        }
        fn(key.substr(prefix.size()), std::move(s));
        return true;
      }));
  return parse_error;
}

}  // namespace

absl::StatusOr<std::vector<RecurringCandidate>> RecurringIncidents(
    const ProjectionRunner& runner, const RecurringQuery& query) {
  if (!query.tenant.empty()) {
    SLATE_RETURN_IF_ERROR(
        ValidateTenantId(query.tenant, "recurring incidents: tenant"));
  }
  // One tenant's problems and incidents: its incidents link only to its
  // problems (ids are per tenant), and no group spans two tenants.
  // Problems first: an incident's eligibility depends on its problem's state.
  std::map<std::string, ProblemState, std::less<>> problems;
  SLATE_RETURN_IF_ERROR(ForEachView<ProblemState>(
      runner, query.tenant, "problem", [&](absl::string_view id, ProblemState p) {
        problems.emplace(std::string(id), std::move(p));
      }));
  std::vector<RecurringInput> inputs;
  SLATE_RETURN_IF_ERROR(ForEachView<IncidentState>(
      runner, query.tenant, "incident", [&](absl::string_view, IncidentState s) {
        const ProblemState* problem = nullptr;
        if (!s.problem_id().empty() && !s.problem_external()) {
          auto it = problems.find(s.problem_id());
          if (it != problems.end()) problem = &it->second;
        }
        if (!RecurringEligible(s, problem)) return;
        RecurringInput in;
        in.incident.incident_id = s.incident_id();
        in.incident.opened_at = absl::FromUnixMicros(s.opened_at_us());
        in.incident.status = s.status();
        in.incident.problem_id = s.problem_id();
        in.service = s.service_id();
        in.category = s.category();
        in.configuration_item = s.configuration_item();
        inputs.push_back(std::move(in));
      }));
  return DetectRecurring(std::move(inputs), query);
}

}  // namespace slate
