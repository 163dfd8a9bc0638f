#include "lib/api/clock.h"

#include "absl/time/clock.h"

namespace slate {
namespace {

class WallClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

}  // namespace

Clock* SystemClock() {
  static WallClock* const clock = new WallClock();
  return clock;
}

SimulatedClock::SimulatedClock(absl::Time start)
    : now_us_(absl::ToUnixMicros(start)) {}

absl::Time SimulatedClock::Now() const {
  return absl::FromUnixMicros(now_us_.load(std::memory_order_acquire));
}

void SimulatedClock::Set(absl::Time t) {
  now_us_.store(absl::ToUnixMicros(t), std::memory_order_release);
}

void SimulatedClock::Advance(absl::Duration d) {
  now_us_.fetch_add(absl::ToInt64Microseconds(d), std::memory_order_acq_rel);
}

}  // namespace slate
