#include "lib/projection/projection_verify.h"

#include <map>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lib/base/status_macros.h"
#include "lib/projection/memory_state.h"

namespace slate {
namespace {

std::string Shown(absl::string_view key) {
  std::string s = absl::CEscape(key);
  return s.size() > 80 ? s.substr(0, 80) + "..." : s;
}

}  // namespace

absl::Status VerifyProjections(const EventLog& log, ProjectionRunner& runner,
                               std::vector<std::unique_ptr<Projection>> fresh,
                               VerifyReport* report) {
  SLATE_RETURN_IF_ERROR(runner.CatchUp());
  const int64_t end = log.NextPosition();
  std::vector<MemoryState> states(fresh.size(), MemoryState(&log));
  constexpr size_t kPage = 4096;
  for (int64_t from = 0; from < end;) {
    SLATE_ASSIGN_OR_RETURN(std::vector<Envelope> page,
                           log.ReadAll(from, kPage));
    if (page.empty()) break;
    for (size_t i = 0; i < fresh.size(); ++i) {
      for (const Envelope& e : page) {
        absl::Status st = fresh[i]->Apply(e, states[i]);
        if (!st.ok()) {
          report->Problem(absl::StrCat("projection ", fresh[i]->name(),
                                       ": a fresh fold fails at position ",
                                       e.position(), ": ", st.message()));
          break;
        }
      }
      absl::Status st = fresh[i]->Flush(states[i]);
      if (!st.ok()) {
        report->Problem(absl::StrCat("projection ", fresh[i]->name(),
                                     ": a fresh fold fails to write: ",
                                     st.message()));
      }
    }
    from = page.back().position() + 1;
  }
  for (size_t i = 0; i < fresh.size(); ++i) {
    const std::string name(fresh[i]->name());
    SLATE_ASSIGN_OR_RETURN(int64_t checkpoint, runner.Checkpoint(name));
    SLATE_ASSIGN_OR_RETURN(auto stored, runner.Dump(name));
    const auto& expected = states[i].data();
    auto e = expected.begin();
    size_t user_keys = 0, differences = 0;
    for (const auto& [key, value] : stored) {
      if (!key.empty() && key[0] == '\0') continue;  // Runner metadata.
      ++user_keys;
      while (e != expected.end() && e->first < key) {
        if (differences++ < 3) {
          report->Problem(absl::StrCat("projection ", name, ": key \"",
                                       Shown(e->first),
                                       "\" is missing from the stored state"));
        }
        ++e;
      }
      if (e == expected.end() || e->first != key) {
        if (differences++ < 3) {
          report->Problem(absl::StrCat("projection ", name, ": stored key \"",
                                       Shown(key),
                                       "\" is not in a fresh fold"));
        }
        continue;
      }
      if (e->second != value) {
        if (differences++ < 3) {
          report->Problem(
              absl::StrCat("projection ", name, ": key \"", Shown(key),
                           "\" differs from a fresh "
                           "fold (",
                           value.size(), " vs ", e->second.size(), " bytes)"));
        }
      }
      ++e;
    }
    for (; e != expected.end(); ++e) {
      if (differences++ < 3) {
        report->Problem(absl::StrCat("projection ", name, ": key \"",
                                     Shown(e->first),
                                     "\" is missing from the stored state"));
      }
    }
    if (differences > 3) {
      report->Problem(absl::StrCat("projection ", name, ": ", differences - 3,
                                   " more differences"));
    }
    if (checkpoint != end) {
      report->Problem(absl::StrCat("projection ", name, ": checkpoint ",
                                   checkpoint, ", log end ", end));
    }
    report->checked.push_back(absl::StrCat(
        "projection ", name, " (v", fresh[i]->version(), "): ", user_keys,
        " keys at checkpoint ", checkpoint,
        differences == 0 ? ", equal to a fresh fold from position 0"
                         : ", DIFFERENT from a fresh fold"));
  }
  return absl::OkStatus();
}

}  // namespace slate
