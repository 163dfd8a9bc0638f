// Projections used by the runner tests: small, deterministic, and they read
// their own state so read-your-writes inside a batch is exercised.
#ifndef SLATE_TESTS_PROJECTION_TEST_PROJECTIONS_H_
#define SLATE_TESTS_PROJECTION_TEST_PROJECTIONS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "lib/projection/projection.h"

namespace slate::testing {

// Per stream: event count and the last event id; a running total; and per
// stream a list of event ids (rewritten on each event, via Scan).
class StreamStats final : public Projection {
 public:
  explicit StreamStats(int64_t version = 1, std::string key_prefix = "c/")
      : version_(version), prefix_(std::move(key_prefix)) {}
  absl::string_view name() const override { return "stream-stats"; }
  int64_t version() const override { return version_; }
  absl::Status Apply(const Envelope& e, ProjectionState& state) override {
    if (fail_at_ >= 0 && e.position() == fail_at_) {
      return absl::InternalError("injected failure");
    }
    if (write_reserved_) state.Put(std::string("\0bad", 4), "x");
    const std::string count_key = absl::StrCat(prefix_, e.stream());
    auto count = state.Get(count_key);
    if (!count.ok()) return count.status();
    int64_t n = 0;
    if (count->has_value() && !absl::SimpleAtoi(**count, &n)) {
      return absl::DataLossError("bad count");
    }
    state.Put(count_key, absl::StrCat(n + 1));
    state.Put(absl::StrCat("last/", e.stream()), e.event_id());
    auto total = state.Get("total");
    if (!total.ok()) return total.status();
    int64_t t = 0;
    if (total->has_value()) (void)absl::SimpleAtoi(**total, &t);
    state.Put("total", absl::StrCat(t + 1));
    // Number of streams seen so far, recounted by a scan over count keys.
    int64_t streams = 0;
    absl::Status st =
        state.Scan(prefix_, [&](absl::string_view, absl::string_view) {
          ++streams;
          return true;
        });
    if (!st.ok()) return st;
    state.Put("streams", absl::StrCat(streams));
    return absl::OkStatus();
  }
  int64_t fail_at_ = -1;
  bool write_reserved_ = false;

 private:
  int64_t version_;
  std::string prefix_;
};

}  // namespace slate::testing

#endif  // SLATE_TESTS_PROJECTION_TEST_PROJECTIONS_H_
