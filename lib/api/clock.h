// Clock: where the engine reads "now". Injected so tests control time.
//
//   slate::SimulatedClock clock(absl::FromUnixSeconds(1767225600));
//   slate::Options options;
//   options.clock = &clock;           // default: slate::SystemClock()
//   clock.Advance(absl::Minutes(5));  // the engine sees the new time at once
#ifndef SLATE_LIB_API_CLOCK_H_
#define SLATE_LIB_API_CLOCK_H_

#include <atomic>
#include <cstdint>

#include "absl/time/time.h"

namespace slate {

// Thread-safe source of the current time.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

// The process-wide wall clock (absl::Now()). Never null, never destroyed.
Clock* SystemClock();

// A clock that only moves when told to. Thread-safe; microsecond resolution.
class SimulatedClock final : public Clock {
 public:
  explicit SimulatedClock(absl::Time start = absl::UnixEpoch());
  absl::Time Now() const override;
  void Set(absl::Time t);
  void Advance(absl::Duration d);

 private:
  std::atomic<int64_t> now_us_;
};

}  // namespace slate

#endif  // SLATE_LIB_API_CLOCK_H_
