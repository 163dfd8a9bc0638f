#include "lib/base/crash_point.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace slate::crash_point {
namespace internal {
// Starts non-zero: the first hit (or the static initializer below) reads the
// environment, then this says whether anything is armed.
std::atomic<int> g_active{1};
}  // namespace internal

namespace {

constexpr size_t kCount = std::size(kCrashPoints);
constexpr char kEnvironmentVariable[] = "SLATE_CRASH_POINT";

// Hits left before the abort (0: not armed), and the N it was armed with.
std::atomic<int64_t> g_remaining[kCount];
std::atomic<int64_t> g_armed_at[kCount];
std::mutex g_arm_mu;  // Serialises arming so g_active is recomputed in order.
std::once_flag g_environment_once;

int IndexOf(std::string_view name) {
  for (size_t i = 0; i < kCount; ++i) {
    if (kCrashPoints[i] == name) return static_cast<int>(i);
  }
  return -1;
}

std::string_view Std(absl::string_view s) {
  return std::string_view(s.data(), s.size());
}

absl::string_view Absl(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}

absl::Status Unknown(absl::string_view name) {
  std::vector<std::string> known;
  for (std::string_view k : kCrashPoints) known.emplace_back(k);
  return absl::InvalidArgumentError(absl::StrCat(
      "crash point \"", name,
      "\" is unknown; known points: ", absl::StrJoin(known, ", ")));
}

// REQUIRES: g_arm_mu held and the environment read.
void RecomputeActiveLocked() {
  bool any = false;
  for (size_t i = 0; i < kCount; ++i) {
    any |= g_remaining[i].load(std::memory_order_relaxed) > 0;
  }
  internal::g_active.store(any ? 1 : 0, std::memory_order_relaxed);
}

// REQUIRES: g_arm_mu held.
void ArmLocked(int index, int64_t hit) {
  g_armed_at[index].store(hit, std::memory_order_relaxed);
  g_remaining[index].store(hit, std::memory_order_release);
}

struct Entry {
  int index;
  int64_t hit;
};

// Parses "name[:N][,name[:N]...]" without arming anything.
absl::StatusOr<std::vector<Entry>> ParseSpec(absl::string_view spec) {
  std::vector<Entry> entries;
  for (absl::string_view item : absl::StrSplit(spec, ',')) {
    absl::string_view name = item;
    int64_t hit = 1;
    if (const size_t colon = item.find(':'); colon != absl::string_view::npos) {
      name = item.substr(0, colon);
      const absl::string_view count = item.substr(colon + 1);
      if (!absl::SimpleAtoi(count, &hit) || hit < 1) {
        return absl::InvalidArgumentError(absl::StrCat(
            "crash point spec \"", spec, "\": entry \"", item,
            "\": the hit count must be an integer >= 1, got \"", count, "\""));
      }
    }
    const int index = IndexOf(Std(name));
    if (index < 0) {
      absl::Status unknown = Unknown(name);
      return absl::InvalidArgumentError(
          absl::StrCat("crash point spec \"", spec, "\": ", unknown.message()));
    }
    entries.push_back({index, hit});
  }
  return entries;
}

void ReadEnvironment() {
  const char* spec = std::getenv(kEnvironmentVariable);
  std::lock_guard<std::mutex> l(g_arm_mu);
  if (spec != nullptr && *spec != '\0') {
    absl::StatusOr<std::vector<Entry>> entries = ParseSpec(spec);
    if (!entries.ok()) {
      // A test that means to crash a child must not silently run it unarmed.
      std::fprintf(stderr, "slate: %s: %s\n", kEnvironmentVariable,
                   std::string(entries.status().message()).c_str());
      std::fflush(stderr);
      _exit(2);
    }
    for (const Entry& e : *entries) ArmLocked(e.index, e.hit);
  }
  RecomputeActiveLocked();
}

void EnsureEnvironment() {
  std::call_once(g_environment_once, ReadEnvironment);
}

// Reads the environment at start-up, so a bad spec fails the process at once
// rather than at the first hit.
[[maybe_unused]] const bool g_environment_read_at_start =
    (EnsureEnvironment(), true);

[[noreturn]] void Crash(int index) {
  const std::string msg = absl::StrCat(
      "slate: crash point ", Absl(kCrashPoints[index]), ": abort at hit ",
      g_armed_at[index].load(std::memory_order_relaxed), "\n");
  // write(2), not stdio: nothing buffered, safe from any thread.
  size_t off = 0;
  while (off < msg.size()) {
    const ssize_t n = ::write(2, msg.data() + off, msg.size() - off);
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  std::abort();
}

}  // namespace

namespace internal {

void Hit(std::string_view name) {
  EnsureEnvironment();
  const int i = IndexOf(name);
  if (i < 0) return;  // Unreachable: SLATE_CRASH_POINT checks at compile time.
  int64_t left = g_remaining[i].load(std::memory_order_acquire);
  while (left > 0) {
    if (g_remaining[i].compare_exchange_weak(left, left - 1,
                                             std::memory_order_acq_rel)) {
      if (left == 1) Crash(i);
      return;
    }
  }
}

}  // namespace internal

absl::Status Arm(absl::string_view name, int64_t hit) {
  EnsureEnvironment();
  const int index = IndexOf(Std(name));
  if (index < 0) return Unknown(name);
  if (hit < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "crash point ", name, ": the hit count must be >= 1, got ", hit));
  }
  std::lock_guard<std::mutex> l(g_arm_mu);
  ArmLocked(index, hit);
  RecomputeActiveLocked();
  return absl::OkStatus();
}

absl::Status ArmFromSpec(absl::string_view spec) {
  EnsureEnvironment();
  absl::StatusOr<std::vector<Entry>> entries = ParseSpec(spec);
  if (!entries.ok()) return entries.status();
  std::lock_guard<std::mutex> l(g_arm_mu);
  for (const Entry& e : *entries) ArmLocked(e.index, e.hit);
  RecomputeActiveLocked();
  return absl::OkStatus();
}

absl::Status Disarm(absl::string_view name) {
  EnsureEnvironment();
  const int index = IndexOf(Std(name));
  if (index < 0) return Unknown(name);
  std::lock_guard<std::mutex> l(g_arm_mu);
  g_remaining[index].store(0, std::memory_order_release);
  RecomputeActiveLocked();
  return absl::OkStatus();
}

void DisarmAll() {
  EnsureEnvironment();
  std::lock_guard<std::mutex> l(g_arm_mu);
  for (size_t i = 0; i < kCount; ++i) {
    g_remaining[i].store(0, std::memory_order_release);
  }
  RecomputeActiveLocked();
}

absl::StatusOr<int64_t> Remaining(absl::string_view name) {
  EnsureEnvironment();
  const int index = IndexOf(Std(name));
  if (index < 0) return Unknown(name);
  return g_remaining[index].load(std::memory_order_acquire);
}

}  // namespace slate::crash_point
