#include "lib/domain/priority_matrix.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"

namespace slate {
namespace {
constexpr int kMaxLevels = 10;
}  // namespace

PriorityMatrix DefaultPriorityMatrix() {
  PriorityMatrix m;
  m.set_impact_levels(3);
  m.set_urgency_levels(3);
  for (const char* name : {"Critical", "High", "Moderate", "Low", "Planning"}) {
    m.add_level_names(name);
  }
  // Row = impact, column = urgency.
  constexpr int kLevels[3][3] = {{1, 2, 3}, {2, 3, 4}, {3, 4, 5}};
  for (int i = 1; i <= 3; ++i) {
    for (int u = 1; u <= 3; ++u) {
      PriorityMatrix::Cell* c = m.add_cells();
      c->set_impact(i);
      c->set_urgency(u);
      c->set_priority(kLevels[i - 1][u - 1]);
    }
  }
  return m;
}

absl::Status ValidatePriorityMatrix(const PriorityMatrix& m) {
  auto bad = [](auto... parts) {
    return absl::InvalidArgumentError(
        absl::StrCat("priority matrix: ", parts...));
  };
  if (m.impact_levels() < 1 || m.impact_levels() > kMaxLevels) {
    return bad("impact_levels must be 1..", kMaxLevels, ", got ",
               m.impact_levels());
  }
  if (m.urgency_levels() < 1 || m.urgency_levels() > kMaxLevels) {
    return bad("urgency_levels must be 1..", kMaxLevels, ", got ",
               m.urgency_levels());
  }
  const int levels = m.level_names_size();
  if (levels < 1 || levels > kMaxLevels) {
    return bad("level_names must have 1..", kMaxLevels, " entries, got ",
               levels);
  }
  for (int i = 0; i < levels; ++i) {
    if (m.level_names(i).empty()) return bad("level_names[", i, "] is empty");
  }
  std::vector<int> seen(m.impact_levels() * m.urgency_levels(), 0);
  std::vector<bool> used(levels + 1, false);
  for (int k = 0; k < m.cells_size(); ++k) {
    const auto& c = m.cells(k);
    if (c.impact() < 1 || c.impact() > m.impact_levels()) {
      return bad("cells[", k, "].impact must be 1..", m.impact_levels(),
                 ", got ", c.impact());
    }
    if (c.urgency() < 1 || c.urgency() > m.urgency_levels()) {
      return bad("cells[", k, "].urgency must be 1..", m.urgency_levels(),
                 ", got ", c.urgency());
    }
    if (c.priority() < 1 || c.priority() > levels) {
      return bad("cells[", k, "].priority must be 1..", levels, ", got ",
                 c.priority());
    }
    int& s = seen[(c.impact() - 1) * m.urgency_levels() + (c.urgency() - 1)];
    if (s++ != 0) {
      return bad("cells[", k, "]: impact ", c.impact(), " urgency ",
                 c.urgency(), " appears twice");
    }
    used[c.priority()] = true;
  }
  for (int i = 1; i <= m.impact_levels(); ++i) {
    for (int u = 1; u <= m.urgency_levels(); ++u) {
      if (seen[(i - 1) * m.urgency_levels() + (u - 1)] == 0) {
        return bad("cells: no entry for impact ", i, " urgency ", u);
      }
    }
  }
  for (int p = 1; p <= levels; ++p) {
    if (!used[p])
      return bad("level ", p, " (", m.level_names(p - 1),
                 ") is used by no cell");
  }
  return absl::OkStatus();
}

absl::StatusOr<PriorityMatrix> LoadPriorityMatrixJson(absl::string_view json) {
  PriorityMatrix m;
  google::protobuf::util::JsonParseOptions parse;
  parse.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(
      std::string(json.data(), json.size()), &m, parse);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("priority matrix: not a valid PriorityMatrix JSON: ",
                     std::string(status.message())));
  }
  absl::Status s = ValidatePriorityMatrix(m);
  if (!s.ok()) return s;
  return m;
}

absl::StatusOr<int> ComputePriority(const PriorityMatrix& m, int impact,
                                    int urgency, absl::string_view what) {
  if (impact < 1 || impact > m.impact_levels()) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": impact must be 1..", m.impact_levels(), ", got ", impact));
  }
  if (urgency < 1 || urgency > m.urgency_levels()) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": urgency must be 1..", m.urgency_levels(), ", got ", urgency));
  }
  for (const auto& c : m.cells()) {
    if (c.impact() == impact && c.urgency() == urgency) return c.priority();
  }
  return absl::InternalError(
      absl::StrCat(what, ": priority matrix has no cell for impact ", impact,
                   " urgency ", urgency, " (it was not validated)"));
}

std::string PriorityName(const PriorityMatrix& m, int level) {
  if (level >= 1 && level <= m.level_names_size()) {
    return m.level_names(level - 1);
  }
  return absl::StrCat("P", level);
}

}  // namespace slate
