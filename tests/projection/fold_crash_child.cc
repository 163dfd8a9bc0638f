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
    switch (n % 4) {
      case 0:
        e.mutable_incident_opened()->set_number(stream.substr(9));
        e.mutable_incident_opened()->set_impact(1 + rng() % 3);
        e.mutable_incident_opened()->set_urgency(1 + rng() % 3);
        break;
      case 1:
        e.mutable_incident_assigned()->set_group(
            absl::StrCat("group-", rng() % 5));
        break;
      case 2:
        e.mutable_incident_commented()->set_text(std::string(rng() % 200, 'c'));
        break;
      default:
        e.mutable_incident_acknowledged()->set_by("desk");
        break;
    }
    auto r = (*engine)->Append(stream, slate::ExpectedVersion::Any(), {e});
    if (!r.ok()) {
      std::fprintf(stderr, "fold_crash_child: %s\n",
                   r.status().ToString().c_str());
      return 1;
    }
  }
}
