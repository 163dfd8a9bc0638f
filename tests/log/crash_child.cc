// Child process of crash_test: appends batches forever and reports every
// acknowledged batch on stdout as "<batch> <size> <first_position>\n", until
// the parent kills it with SIGKILL.
//
//   crash_child DB_DIR power-loss|process-crash FIRST_BATCH SEED
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "lib/api/engine.h"

namespace {

bool WriteAll(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = write(fd, s.data() + off, s.size() - off);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: crash_child DB MODE FIRST_BATCH SEED\n");
    return 2;
  }
  slate::Options options;
  options.durability = std::strcmp(argv[2], "power-loss") == 0
                           ? slate::Durability::kPowerLoss
                           : slate::Durability::kProcessCrash;
  auto engine = slate::Engine::Open(options, argv[1]);
  if (!engine.ok()) {
    std::fprintf(stderr, "crash_child: %s\n",
                 engine.status().ToString().c_str());
    return 1;
  }
  long batch = std::atol(argv[3]);
  std::mt19937 rng(static_cast<unsigned>(std::atol(argv[4])));
  for (;; ++batch) {
    const int size = 1 + static_cast<int>(rng() % 20);
    std::vector<slate::Envelope> events;
    for (int i = 0; i < size; ++i) {
      slate::Envelope e;
      e.set_event_id(absl::StrCat("b", batch, "-", i));
      e.mutable_incident_commented()->set_text(
          absl::StrCat("batch=", batch, " size=", size, " index=", i, " ",
                       std::string(rng() % 300, 'x')));
      events.push_back(std::move(e));
    }
    auto r =
        (*engine)->Append(absl::StrCat("incident/", rng() % 16),
                          slate::ExpectedVersion::Any(), std::move(events));
    if (!r.ok()) {
      std::fprintf(stderr, "crash_child: %s\n", r.status().ToString().c_str());
      return 1;
    }
    if (!WriteAll(
            1, absl::StrCat(batch, " ", size, " ", r->first_position, "\n"))) {
      return 1;
    }
  }
}
