// VerifyReport: what Engine::Verify (`slate verify`) checked and found.
//
//   slate::VerifyReport report;
//   absl::Status st = engine->Verify(&report);  // Non-OK: could not run.
//   for (const std::string& line : report.checked) std::cout << line << "\n";
//   if (!report.ok()) ...  // report.problems: the first differences found
#ifndef SLATE_LIB_API_VERIFY_H_
#define SLATE_LIB_API_VERIFY_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace slate {

struct VerifyReport {
  // One line per check that was made, saying what it covered.
  std::vector<std::string> checked;
  // Differences found (at most kMaxProblems; the rest are counted).
  std::vector<std::string> problems;
  int64_t more_problems = 0;
  static constexpr size_t kMaxProblems = 20;

  void Problem(std::string p) {
    if (problems.size() < kMaxProblems) {
      problems.push_back(std::move(p));
    } else {
      ++more_problems;
    }
  }
  bool ok() const { return problems.empty(); }
};

}  // namespace slate

#endif  // SLATE_LIB_API_VERIFY_H_
