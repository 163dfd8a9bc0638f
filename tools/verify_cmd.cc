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
// when anything is off or the database fails, 2 on bad usage or no database
// in DIR (tools/cli.h).
#include <iostream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "lib/api/engine.h"
#include "tools/cli.h"

namespace slate::tools {

namespace {

int RunVerify(const std::string& db) {
  Options options;
  options.create_if_missing = false;
  int code = kExitOk;
  OpenedEngine opened = OpenEngine("verify", options, db, std::nullopt, &code);
  if (opened.engine == nullptr) return code;
  Engine* engine = opened.engine.get();
  VerifyReport report;
  absl::Status st = engine->Verify(&report);
  for (const std::string& line : report.checked) std::cout << line << "\n";
  if (!st.ok()) {
    return Fail("verify",
                absl::StrCat("the check could not run: ", st.ToString()));
  }
  if (!report.ok()) {
    std::cout << "FAILED: " << report.problems.size() + report.more_problems
              << " problem(s); the first:\n";
    for (const std::string& p : report.problems) std::cout << "  " << p << "\n";
    return kExitFailed;
  }
  std::cout << "OK: " << report.checked.size() << " checks passed\n";
  return kExitOk;
}

}  // namespace

CommandRun SetUpVerifyCommand(CLI::App* app) {
  auto db = std::make_shared<std::string>();
  AddDbFlag(app, db.get());
  return [db] { return RunVerify(*db); };
}

}  // namespace slate::tools
