// DetectRecurring (lib/projection/recurring.h): edge cases of the window
// and the grouping, and a property test against a slow obvious oracle.
#include "lib/projection/recurring.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"

namespace slate {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1764000000);

RecurringInput In(const std::string& id, absl::Duration after_t0,
                  const std::string& service = "email",
                  const std::string& category = "network",
                  const std::string& ci = "") {
  RecurringInput in;
  in.incident.incident_id = id;
  in.incident.opened_at = kT0 + after_t0;
  in.incident.status = INCIDENT_NEW;
  in.service = service;
  in.category = category;
  in.configuration_item = ci;
  return in;
}

RecurringQuery Query(absl::Duration window, int min) {
  RecurringQuery q;
  q.window = window;
  q.min_incidents = min;
  return q;
}

// "service/category/ci: id id id" per candidate, in order.
std::vector<std::string> Describe(const std::vector<RecurringCandidate>& cs) {
  std::vector<std::string> out;
  for (const RecurringCandidate& c : cs) {
    std::vector<std::string> ids;
    for (const RecurringIncident& i : c.incidents) ids.push_back(i.incident_id);
    out.push_back(absl::StrCat(c.service, "/", c.category, "/",
                               c.configuration_item, ": ",
                               absl::StrJoin(ids, " ")));
  }
  return out;
}

std::vector<std::string> Detect(std::vector<RecurringInput> in,
                                RecurringQuery q) {
  absl::StatusOr<std::vector<RecurringCandidate>> r =
      DetectRecurring(std::move(in), q);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? Describe(*r) : std::vector<std::string>{};
}

TEST(DetectRecurring, ExactlyMinIncidentsWithinTheWindowIsACandidate) {
  const auto h = absl::Hours(1);
  EXPECT_EQ(
      Detect({In("A", 0 * h), In("B", 1 * h), In("C", 2 * h)}, Query(3 * h, 3)),
      std::vector<std::string>{"email/network/: A B C"});
  // One fewer than the minimum: nothing.
  EXPECT_TRUE(
      Detect({In("A", 0 * h), In("B", 1 * h)}, Query(3 * h, 3)).empty());
}

TEST(DetectRecurring, WindowEndIsExclusive) {
  const auto h = absl::Hours(1);
  // A and C exactly W apart never share a window.
  EXPECT_TRUE(
      Detect({In("A", 0 * h), In("B", 1 * h), In("C", 3 * h)}, Query(3 * h, 3))
          .empty());
  // One microsecond less and they do.
  EXPECT_EQ(Detect({In("A", 0 * h), In("B", 1 * h),
                    In("C", 3 * h - absl::Microseconds(1))},
                   Query(3 * h, 3)),
            std::vector<std::string>{"email/network/: A B C"});
}

TEST(DetectRecurring, WindowStartIsInclusiveForTies) {
  const auto h = absl::Hours(1);
  // Three incidents at the same instant are within any window.
  EXPECT_EQ(Detect({In("C", 0 * h), In("A", 0 * h), In("B", 0 * h)},
                   Query(absl::Microseconds(1), 3)),
            std::vector<std::string>{"email/network/: A B C"});
}

TEST(DetectRecurring, OverlappingWindowsMergeSeparateBurstsDoNot) {
  const auto h = absl::Hours(1);
  std::vector<RecurringInput> in = {
      In("A", 0 * h),  In("B", 1 * h),  In("C", 2 * h),  // [A,B,C]
      In("D", 3 * h),                                    // [B,C,D] shares B, C
      In("E", 20 * h), In("F", 21 * h), In("G", 22 * h)};
  EXPECT_EQ(Detect(in, Query(3 * h, 3)),
            (std::vector<std::string>{"email/network/: A B C D",
                                      "email/network/: E F G"}));
  // A lone incident between bursts that reaches no qualifying window is in
  // no candidate.
  in.push_back(In("X", 10 * h));
  EXPECT_EQ(Detect(in, Query(3 * h, 3)).size(), 2u);
}

TEST(DetectRecurring, GroupsByServiceCategoryAndConfigurationItem) {
  const auto h = absl::Hours(1);
  std::vector<RecurringInput> in = {
      In("A", 0 * h, "email", "network", ""),
      In("B", 1 * h, "email", "network", ""),
      In("C", 2 * h, "email", "network", "mx1"),  // Another CI.
      In("D", 2 * h, "email", "storage", ""),     // Another category.
      In("E", 2 * h, "web", "network", ""),       // Another service.
  };
  EXPECT_TRUE(Detect(in, Query(3 * h, 3)).empty());
  in.push_back(In("F", 2 * h, "email", "network", ""));  // No CI: groups.
  EXPECT_EQ(Detect(in, Query(3 * h, 3)),
            std::vector<std::string>{"email/network/: A B F"});
}

TEST(DetectRecurring, OrderIsMostIncidentsThenEarliestThenKey) {
  const auto h = absl::Hours(1);
  std::vector<RecurringInput> in;
  for (int i = 0; i < 3; ++i)
    in.push_back(In(absl::StrCat("w", i), i * h, "web"));
  for (int i = 0; i < 4; ++i) {
    in.push_back(In(absl::StrCat("m", i), 100 * h + i * h, "mail"));
  }
  for (int i = 0; i < 3; ++i)
    in.push_back(In(absl::StrCat("d", i), i * h, "db"));
  EXPECT_EQ(Detect(in, Query(5 * h, 3)),
            (std::vector<std::string>{"mail/network/: m0 m1 m2 m3",
                                      "db/network/: d0 d1 d2",
                                      "web/network/: w0 w1 w2"}));
}

TEST(DetectRecurring, RejectsABadQuery) {
  EXPECT_EQ(DetectRecurring({}, Query(absl::ZeroDuration(), 3)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DetectRecurring({}, Query(absl::Hours(1), 1)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// The definition, literally: windows anchored at every incident's opening
// (any qualifying window's incidents lie in the one anchored at its
// earliest), qualifying ones unioned when they share an incident.
std::vector<RecurringCandidate> Oracle(const std::vector<RecurringInput>& in,
                                       const RecurringQuery& q) {
  using Key = std::tuple<std::string, std::string, std::string>;
  const size_t n = in.size();
  std::vector<size_t> parent(n);
  std::iota(parent.begin(), parent.end(), 0);
  auto find = [&](size_t x) {
    while (parent[x] != x) x = parent[x];
    return x;
  };
  std::vector<bool> covered(n, false);
  auto key = [&](size_t i) {
    return Key(in[i].service, in[i].category, in[i].configuration_item);
  };
  for (size_t a = 0; a < n; ++a) {
    std::vector<size_t> window;
    for (size_t b = 0; b < n; ++b) {
      if (key(b) == key(a) &&
          in[b].incident.opened_at >= in[a].incident.opened_at &&
          in[b].incident.opened_at < in[a].incident.opened_at + q.window) {
        window.push_back(b);
      }
    }
    if (window.size() < static_cast<size_t>(q.min_incidents)) continue;
    for (size_t b : window) {
      covered[b] = true;
      parent[find(b)] = find(window[0]);
    }
  }
  std::map<size_t, std::vector<size_t>> components;
  for (size_t i = 0; i < n; ++i) {
    if (covered[i]) components[find(i)].push_back(i);
  }
  std::vector<RecurringCandidate> out;
  for (auto& [root, members] : components) {
    std::sort(members.begin(), members.end(), [&](size_t a, size_t b) {
      return std::tie(in[a].incident.opened_at, in[a].incident.incident_id) <
             std::tie(in[b].incident.opened_at, in[b].incident.incident_id);
    });
    RecurringCandidate c;
    std::tie(c.service, c.category, c.configuration_item) = key(root);
    for (size_t m : members) c.incidents.push_back(in[m].incident);
    c.first_opened = c.incidents.front().opened_at;
    c.last_opened = c.incidents.back().opened_at;
    out.push_back(std::move(c));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return std::make_tuple(-static_cast<int64_t>(a.incidents.size()),
                           a.first_opened, a.service, a.category,
                           a.configuration_item) <
           std::make_tuple(-static_cast<int64_t>(b.incidents.size()),
                           b.first_opened, b.service, b.category,
                           b.configuration_item);
  });
  return out;
}

TEST(DetectRecurring, MatchesTheOracleOnRandomIncidents) {
  std::mt19937_64 rng(20261206);
  const char* services[] = {"email", "web"};
  const char* categories[] = {"network", "storage"};
  const char* cis[] = {"", "mx1"};
  int with_candidates = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    const int n = std::uniform_int_distribution<int>(0, 40)(rng);
    const int span_h = std::uniform_int_distribution<int>(1, 200)(rng);
    std::vector<RecurringInput> in;
    for (int i = 0; i < n; ++i) {
      // Whole hours, so ties and incidents exactly W apart are common.
      const auto at =
          absl::Hours(std::uniform_int_distribution<int>(0, span_h)(rng));
      in.push_back(In(absl::StrCat("INC", i), at, services[rng() % 2],
                      categories[rng() % 2], cis[rng() % 2]));
    }
    const RecurringQuery q =
        Query(absl::Hours(std::uniform_int_distribution<int>(1, 48)(rng)),
              std::uniform_int_distribution<int>(2, 6)(rng));
    const std::vector<RecurringCandidate> want = Oracle(in, q);
    std::shuffle(in.begin(), in.end(), rng);  // Input order is irrelevant.
    absl::StatusOr<std::vector<RecurringCandidate>> got =
        DetectRecurring(in, q);
    ASSERT_TRUE(got.ok()) << got.status();
    ASSERT_EQ(Describe(*got), Describe(want)) << "trial " << trial;
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ((*got)[i].first_opened, want[i].first_opened);
      EXPECT_EQ((*got)[i].last_opened, want[i].last_opened);
    }
    if (!want.empty()) ++with_candidates;
  }
  // The generator must exercise both outcomes.
  EXPECT_GT(with_candidates, 200);
  EXPECT_LT(with_candidates, 1800);
}

}  // namespace
}  // namespace slate
