// slate verify: checks a database end to end.
//
//   $ slate verify --db /tmp/slate
//   log: 42 events at positions 0..41, dense, each decodes ...
//   ...
//   OK: 5 checks passed
//
// Checks the log (dense positions, every record decodes, stream and event-id
// indexes consistent) and that every projection equals a fresh fold from
// position 0. Exit 0 when everything holds, 1 with the first differences
// when anything is off, 2 on bad usage or a database that cannot be opened.
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

#include "lib/api/engine.h"

namespace slate::tools {

int RunVerifyCommand(int argc, char** argv) {
  constexpr char kUsage[] = "usage: slate verify --db DIR\n";
  std::string db;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
      db = argv[++i];
    } else if (std::strncmp(argv[i], "--db=", 5) == 0) {
      db = argv[i] + 5;
    } else if (std::strcmp(argv[i], "--help") == 0) {
      std::cout << kUsage;
      return 0;
    } else {
      std::cerr << "slate verify: unexpected argument \"" << argv[i] << "\"\n"
                << kUsage;
      return 2;
    }
  }
  if (db.empty()) {
    std::cerr << "slate verify: --db DIR is required\n" << kUsage;
    return 2;
  }
  Options options;
  options.create_if_missing = false;
  auto engine = Engine::Open(options, db);
  if (!engine.ok()) {
    std::cerr << "slate verify: " << engine.status() << "\n";
    return 2;
  }
  VerifyReport report;
  absl::Status st = (*engine)->Verify(&report);
  for (const std::string& line : report.checked) std::cout << line << "\n";
  if (!st.ok()) {
    std::cerr << "slate verify: the check could not run: " << st << "\n";
    return 1;
  }
  if (!report.ok()) {
    std::cout << "FAILED: " << report.problems.size() + report.more_problems
              << " problem(s); the first:\n";
    for (const std::string& p : report.problems) std::cout << "  " << p << "\n";
    return 1;
  }
  std::cout << "OK: " << report.checked.size() << " checks passed\n";
  return 0;
}

}  // namespace slate::tools
