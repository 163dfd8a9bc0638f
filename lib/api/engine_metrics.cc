#include "lib/api/engine_metrics.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace slate {

const std::array<LatencyHistogram::Bound, LatencyHistogram::kFiniteBuckets>&
LatencyHistogram::Bounds() {
  static constexpr std::array<Bound, kFiniteBuckets> kBounds = {{
      {"0.0001", 100'000},
      {"0.00025", 250'000},
      {"0.0005", 500'000},
      {"0.001", 1'000'000},
      {"0.0025", 2'500'000},
      {"0.005", 5'000'000},
      {"0.01", 10'000'000},
      {"0.025", 25'000'000},
      {"0.05", 50'000'000},
      {"0.1", 100'000'000},
      {"0.25", 250'000'000},
      {"0.5", 500'000'000},
      {"1.0", 1'000'000'000},
      {"2.5", 2'500'000'000},
      {"5.0", 5'000'000'000},
      {"10.0", 10'000'000'000},
  }};
  return kBounds;
}

void LatencyHistogram::Record(std::chrono::nanoseconds took) {
  const int64_t ns = took.count() < 0 ? 0 : took.count();
  const auto& bounds = Bounds();
  int i = 0;
  while (i < kFiniteBuckets && ns > bounds[i].ns) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(ns, std::memory_order_relaxed);
}

LatencyHistogram::Counts LatencyHistogram::Read() const {
  Counts c;
  int64_t total = 0;
  for (int i = 0; i <= kFiniteBuckets; ++i) {
    total += buckets_[i].load(std::memory_order_relaxed);
    c.cumulative[i] = total;
  }
  c.sum_ns = sum_ns_.load(std::memory_order_relaxed);
  return c;
}

namespace {
int CodeIndex(absl::StatusCode code) {
  const int i = static_cast<int>(code);
  return i >= 0 && i < EngineMetrics::kStatusCodes
             ? i
             : static_cast<int>(absl::StatusCode::kUnknown);
}
}  // namespace

void EngineMetrics::CountCommand(absl::StatusCode code,
                                 std::chrono::nanoseconds took) {
  commands_[CodeIndex(code)].fetch_add(1, std::memory_order_relaxed);
  command_latency.Record(took);
}

int64_t EngineMetrics::Commands(absl::StatusCode code) const {
  return commands_[CodeIndex(code)].load(std::memory_order_relaxed);
}

std::string StatusCodeLabel(absl::StatusCode code) {
  return absl::AsciiStrToLower(absl::StatusCodeToString(code));
}

std::string SecondsText(int64_t ns) {
  const char* sign = ns < 0 ? "-" : "";
  const uint64_t abs_ns = ns < 0 ? -static_cast<uint64_t>(ns) : ns;
  return absl::StrFormat("%s%d.%09d", sign, abs_ns / 1'000'000'000,
                         abs_ns % 1'000'000'000);
}

namespace {

// OpenMetrics escapes in label values and help text: \\, \" and \n.
std::string Escape(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace

void OpenMetricsWriter::Family(absl::string_view name, absl::string_view type,
                               absl::string_view unit, absl::string_view help) {
  absl::StrAppend(out_, "# TYPE ", name, " ", type, "\n");
  if (!unit.empty()) absl::StrAppend(out_, "# UNIT ", name, " ", unit, "\n");
  absl::StrAppend(out_, "# HELP ", name, " ", Escape(help), "\n");
}

void OpenMetricsWriter::Series(
    absl::string_view name, Labels labels,
    std::pair<absl::string_view, absl::string_view> extra) {
  out_->append(name.data(), name.size());
  if (labels.size() == 0 && extra.first.empty()) return;
  out_->push_back('{');
  bool first = true;
  auto label = [&](absl::string_view k, absl::string_view v) {
    if (!first) out_->push_back(',');
    first = false;
    absl::StrAppend(out_, k, "=\"", Escape(v), "\"");
  };
  for (const auto& [k, v] : labels) label(k, v);
  if (!extra.first.empty()) label(extra.first, extra.second);
  out_->push_back('}');
}

void OpenMetricsWriter::Sample(absl::string_view name, Labels labels,
                               int64_t value) {
  Series(name, labels, {});
  absl::StrAppend(out_, " ", value, "\n");
}

void OpenMetricsWriter::Sample(absl::string_view name, Labels labels,
                               absl::string_view value) {
  Series(name, labels, {});
  absl::StrAppend(out_, " ", value, "\n");
}

void OpenMetricsWriter::Histogram(absl::string_view family, Labels labels,
                                  const LatencyHistogram::Counts& counts) {
  const std::string bucket = absl::StrCat(family, "_bucket");
  const auto& bounds = LatencyHistogram::Bounds();
  for (int i = 0; i <= LatencyHistogram::kFiniteBuckets; ++i) {
    Series(
        bucket, labels,
        {"le", i < LatencyHistogram::kFiniteBuckets ? bounds[i].le : "+Inf"});
    absl::StrAppend(out_, " ", counts.cumulative[i], "\n");
  }
  Series(absl::StrCat(family, "_count"), labels, {});
  absl::StrAppend(out_, " ",
                  counts.cumulative[LatencyHistogram::kFiniteBuckets], "\n");
  Series(absl::StrCat(family, "_sum"), labels, {});
  absl::StrAppend(out_, " ", SecondsText(counts.sum_ns), "\n");
}

void OpenMetricsWriter::End() { out_->append("# EOF\n"); }

}  // namespace slate
