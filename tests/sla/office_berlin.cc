#include "tests/sla/office_berlin.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace slate::testing {

absl::StatusOr<std::string> ReadRunfile(const std::string& workspace_path) {
  std::vector<std::string> tried;
  for (const char* env : {"TEST_SRCDIR", "RUNFILES_DIR"}) {
    const char* dir = std::getenv(env);
    if (dir != nullptr && *dir != '\0') {
      tried.push_back(absl::StrCat(dir, "/slate/", workspace_path));
    }
  }
  tried.push_back(workspace_path);
  for (const std::string& path : tried) {
    std::ifstream in(path, std::ios::binary);
    if (!in) continue;
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) return absl::DataLossError(absl::StrCat("reading ", path));
    return text.str();
  }
  return absl::NotFoundError(
      absl::StrCat("runfile not found; tried ", absl::StrJoin(tried, ", ")));
}

absl::StatusOr<std::shared_ptr<const BusinessCalendar>> LoadOfficeBerlin() {
  absl::StatusOr<std::string> json = ReadRunfile(kOfficeBerlinPath);
  if (!json.ok()) return json.status();
  return BusinessCalendar::FromJson(
      absl::string_view(json->data(), json->size()));
}

}  // namespace slate::testing
