// Child of projection_crash_test: appends incident events through an Engine
// (so projections fold) until the parent SIGKILLs it.
//
//   fold_crash_child DB_DIR sync|async SEED
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "lib/api/engine.h"
#include "tests/testing/incident_events.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: fold_crash_child DB sync|async SEED\n");
    return 2;
  }
  slate::Options options;
  options.durability = slate::Durability::kProcessCrash;
  options.projection_mode = std::strcmp(argv[2], "async") == 0
                                ? slate::ProjectionMode::kAsync
                                : slate::ProjectionMode::kSync;
  auto engine = slate::Engine::Open(options, argv[1]);
  if (!engine.ok()) {
    std::fprintf(stderr, "fold_crash_child: %s\n",
                 engine.status().ToString().c_str());
    return 1;
  }
  std::mt19937 rng(static_cast<unsigned>(std::atol(argv[3])));
  const std::string run = argv[3];
  for (long n = 0;; ++n) {
    const std::string stream = absl::StrCat("incident/", run, "-", n / 4);
    slate::Envelope e;
    e.set_event_id(absl::StrCat(run, "-", n));
    e.set_occurred_at_us(1790000000000000 + n * 1000000);
    slate::testing::SetIncidentStep(static_cast<int>(n % 4), stream.substr(9),
                                    rng, &e);
    auto r = (*engine)->Append(stream, slate::ExpectedVersion::Any(), {e});
    if (!r.ok()) {
      std::fprintf(stderr, "fold_crash_child: %s\n",
                   r.status().ToString().c_str());
      return 1;
    }
    if (n == 0) {
      // The parent kills from here on (projection_crash_test).
      std::printf("fold_crash_child: appending\n");
      std::fflush(stdout);
    }
  }
}
