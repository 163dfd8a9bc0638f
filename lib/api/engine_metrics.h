// The engine's own instruments and their exposition, for
// Engine::WriteMetrics: latency histograms and counters that the hot path
// (Execute, Append) updates with relaxed atomic increments only, and a
// writer of the OpenMetrics text format
// (https://github.com/OpenMetrics/OpenMetrics, specification/OpenMetrics.md).
// Internal to //lib/api:engine.
//
//   EngineMetrics m;
//   const auto start = std::chrono::steady_clock::now();
//   ...                                             // run the command
//   m.CountCommand(status.code(), std::chrono::steady_clock::now() - start);
//
//   std::string text;
//   OpenMetricsWriter w(&text);
//   w.Family("slate_events_appended", "counter", "", "Events appended.");
//   w.Sample("slate_events_appended_total", {}, 42);
//   w.Histogram("slate_command_duration_seconds", {},
//   m.command_latency.Read()); w.End(); // "# EOF\n"
#ifndef SLATE_LIB_API_ENGINE_METRICS_H_
#define SLATE_LIB_API_ENGINE_METRICS_H_

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace slate {

// A histogram of durations over fixed buckets (100 us .. 10 s, then +Inf).
// Record is lock-free (relaxed atomic increments) and safe from any thread;
// Read may run concurrently and sees each count at some instant between its
// start and end (the +Inf bucket and the count agree by construction: the
// count is the sum of the buckets read).
class LatencyHistogram {
 public:
  // Upper bounds of the finite buckets ("le" as OpenMetrics writes it, and
  // in nanoseconds), ascending.
  struct Bound {
    const char* le;
    int64_t ns;
  };
  static constexpr int kFiniteBuckets = 16;
  static const std::array<Bound, kFiniteBuckets>& Bounds();

  void Record(std::chrono::nanoseconds took);

  struct Counts {
    // cumulative[i]: observations <= Bounds()[i]; cumulative[kFiniteBuckets]
    // (+Inf): all of them.
    std::array<int64_t, kFiniteBuckets + 1> cumulative{};
    int64_t sum_ns = 0;
  };
  Counts Read() const;

 private:
  std::array<std::atomic<int64_t>, kFiniteBuckets + 1> buckets_{};
  std::atomic<int64_t> sum_ns_{0};
};

// What the engine counts as it runs (since it opened).
struct EngineMetrics {
  // absl::StatusCode values 0..16; another code counts as kUnknown.
  static constexpr int kStatusCodes = 17;

  // One Execute: its result code and how long it took.
  void CountCommand(absl::StatusCode code, std::chrono::nanoseconds took);
  int64_t Commands(absl::StatusCode code) const;

  // Every append to the log the engine makes (the host's Append, Execute's,
  // AdvanceTo's), successful or not, from call to return.
  LatencyHistogram append_latency;
  // Every Execute, from call to return (in kSync mode the fold included).
  LatencyHistogram command_latency;

 private:
  std::array<std::atomic<int64_t>, kStatusCodes> commands_{};
};

// "ok", "invalid_argument", ...: absl::StatusCodeToString in lower case.
std::string StatusCodeLabel(absl::StatusCode code);

// Writes OpenMetrics text: per family its metadata (TYPE, UNIT when it has
// one, HELP), then its samples, families one after another, and "# EOF".
// The caller keeps the format's rules the writer does not check: a family's
// samples follow its Family() call, names are [a-zA-Z_:][a-zA-Z0-9_:]*, a
// counter's samples end in _total, a family with a unit ends in _<unit>.
// Label values and help text are escaped here.
class OpenMetricsWriter {
 public:
  using Labels =
      std::initializer_list<std::pair<absl::string_view, absl::string_view>>;

  // REQUIRES: out outlives the writer. Appends to *out.
  explicit OpenMetricsWriter(std::string* out) : out_(out) {}

  // `type`: "counter", "gauge", "histogram", "info"; `unit` "" for none.
  void Family(absl::string_view name, absl::string_view type,
              absl::string_view unit, absl::string_view help);
  void Sample(absl::string_view name, Labels labels, int64_t value);
  // `value` written as is (an OpenMetrics number, e.g. "1.250").
  void Sample(absl::string_view name, Labels labels, absl::string_view value);
  // `family`_bucket{le=...} for every bucket (+Inf last), _count, _sum
  // (seconds, to the nanosecond).
  void Histogram(absl::string_view family, Labels labels,
                 const LatencyHistogram::Counts& counts);
  void End();

 private:
  void Series(absl::string_view name, Labels labels,
              std::pair<absl::string_view, absl::string_view> extra);
  std::string* out_;
};

// Nanoseconds as seconds with nine decimals ("0.000125000"), exact.
std::string SecondsText(int64_t ns);

}  // namespace slate

#endif  // SLATE_LIB_API_ENGINE_METRICS_H_
