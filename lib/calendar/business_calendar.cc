#include "lib/calendar/business_calendar.h"

#include <algorithm>
#include <limits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "google/protobuf/util/json_util.h"
#include "lib/calendar/calendar_rules.h"

namespace slate {

using calendar_internal::CalendarRules;
using calendar_internal::CivilRange;
using calendar_internal::kMinutesPerDay;

namespace {

constexpr int64_t kMicrosPerSecond = 1000000;
// 0001-01-01T00:00:00Z and 10000-01-01T00:00:00Z: the supported range.
constexpr int64_t kOriginUs = -62135596800 * kMicrosPerSecond;
constexpr int64_t kEndUs = 253402300800 * kMicrosPerSecond;
// Chunks of 2^47 us (about 4.46 years) of absolute time from kOriginUs.
constexpr int kChunkShift = 47;
constexpr int64_t kNumChunks = ((kEndUs - kOriginUs) >> kChunkShift) + 1;
// 400 Gregorian years: how far Add and NextOpen look for open time.
constexpr int64_t kGiveUpUs = int64_t{146097} * 86400 * kMicrosPerSecond;

int64_t Clamp(int64_t v, int64_t lo, int64_t hi) {
  return std::min(std::max(v, lo), hi);
}

std::string FormatMicros(int64_t us) {
  return absl::FormatTime(absl::RFC3339_full, absl::FromUnixMicros(us),
                          absl::UTCTimeZone());
}

// The number of elements of sorted a[0, n) that are <= x (or < x when
// kStrict), i.e. std::upper_bound (std::lower_bound) as an index. Branchless:
// the comparisons of a binary search over random queries are unpredictable,
// and conditional moves are several times faster than mispredicted jumps.
template <bool kStrict>
size_t CountBelow(const int64_t* a, size_t n, int64_t x) {
  if (n == 0) return 0;
  const int64_t* base = a;
  while (n > 1) {
    const size_t half = n / 2;
    const bool right = kStrict ? base[half] < x : base[half] <= x;
    base = right ? base + half : base;
    n -= half;
  }
  return static_cast<size_t>(base - a) + (kStrict ? *base < x : *base <= x);
}

}  // namespace

// The open intervals of one chunk, clipped to it: [start[i], end[i]),
// sorted, disjoint and not touching. Immutable once published.
struct BusinessCalendar::Chunk {
  std::vector<int64_t> start;
  std::vector<int64_t> end;
  // Open micros in this chunk up to end[i].
  std::vector<int64_t> cum_end;
  int64_t total = 0;

  // The last interval starting at or before `us`, or -1.
  ptrdiff_t Find(int64_t us) const {
    return static_cast<ptrdiff_t>(
               CountBelow<false>(start.data(), start.size(), us)) -
           1;
  }
  // The first interval whose cum_end is >= target.
  size_t FindCum(int64_t target) const {
    return CountBelow<true>(cum_end.data(), cum_end.size(), target);
  }
  // Open micros in this chunk before `us`.
  // REQUIRES: `us` in [chunk start, chunk end].
  int64_t CumAt(int64_t us) const {
    const ptrdiff_t i = Find(us);
    if (i < 0) return 0;
    return cum_end[i] - (end[i] - std::min(us, end[i]));
  }
};

BusinessCalendar::BusinessCalendar(std::unique_ptr<const CalendarRules> rules)
    : rules_(std::move(rules)),
      name_(rules_->name),
      zone_(rules_->zone),
      chunks_(new std::atomic<const Chunk*>[kNumChunks]) {
  for (int64_t i = 0; i < kNumChunks; ++i) {
    chunks_[i].store(nullptr, std::memory_order_relaxed);
  }
  const CivilRange possible = calendar_internal::PossiblyOpenRange(*rules_);
  if (possible.begin < possible.end) {
    open_lo_ = Clamp(BoundaryMicros(possible.begin), kOriginUs, kEndUs);
    const int64_t hi = BoundaryMicros(possible.end);
    open_hi_ = Clamp(hi, kOriginUs, kEndUs);
    open_beyond_end_ = hi > kEndUs;
  } else {
    open_lo_ = open_hi_ = kOriginUs;
  }
  if (open_lo_ > open_hi_) open_lo_ = open_hi_;
}

BusinessCalendar::~BusinessCalendar() {
  for (int64_t i = 0; i < kNumChunks; ++i) {
    const Chunk* c = chunks_[i].load(std::memory_order_relaxed);
    if (c != EmptyChunk()) delete c;
  }
}

absl::StatusOr<std::shared_ptr<const BusinessCalendar>>
BusinessCalendar::FromSpec(const CalendarSpec& spec) {
  absl::StatusOr<CalendarRules> rules =
      calendar_internal::CompileCalendarSpec(spec);
  if (!rules.ok()) return rules.status();
  return std::shared_ptr<const BusinessCalendar>(new BusinessCalendar(
      std::make_unique<const CalendarRules>(*std::move(rules))));
}

absl::StatusOr<std::shared_ptr<const BusinessCalendar>>
BusinessCalendar::FromJson(absl::string_view json) {
  CalendarSpec spec;
  const std::string text(json.data(), json.size());
  const auto status = google::protobuf::util::JsonStringToMessage(text, &spec);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("calendar JSON: ", status.ToString()));
  }
  return FromSpec(spec);
}

int64_t BusinessCalendar::ChunkIndex(int64_t us) {
  return (us - kOriginUs) >> kChunkShift;
}

int64_t BusinessCalendar::ChunkStart(int64_t index) {
  return kOriginUs + (index << kChunkShift);
}

int64_t BusinessCalendar::BoundaryMicros(int64_t civil_minutes) const {
  const absl::TimeZone::TimeInfo info = zone_.At(
      absl::CivilSecond(calendar_internal::FromCivilMinutes(civil_minutes)));
  // The first instant at which the wall clock reads civil_minutes or later.
  const absl::Time t =
      info.kind == absl::TimeZone::TimeInfo::SKIPPED ? info.trans : info.pre;
  return absl::ToUnixMicros(t);
}

const BusinessCalendar::Chunk* BusinessCalendar::EmptyChunk() {
  static const Chunk* const kEmpty = new Chunk();
  return kEmpty;
}

std::unique_ptr<BusinessCalendar::Chunk> BusinessCalendar::MakeChunk(
    int64_t index) const {
  auto chunk = std::make_unique<Chunk>();
  const int64_t lo = std::max(ChunkStart(index), open_lo_);
  const int64_t hi = std::min(ChunkStart(index + 1), open_hi_);
  if (lo >= hi) return chunk;
  auto civil_minutes = [this](int64_t us) {
    return calendar_internal::ToCivilMinutes(
        absl::CivilMinute(zone_.At(absl::FromUnixMicros(us)).cs));
  };
  // Any civil time whose boundary lies in [lo, hi) is within a day of the
  // wall-clock readings at lo and hi (offsets change by less than a day).
  const std::vector<CivilRange> ranges = calendar_internal::OpenCivilRanges(
      *rules_, civil_minutes(lo) - 2 * kMinutesPerDay,
      civil_minutes(hi) + 2 * kMinutesPerDay);
  for (const CivilRange& r : ranges) {
    const int64_t s = std::max(lo, BoundaryMicros(r.begin));
    const int64_t e = std::min(hi, BoundaryMicros(r.end));
    if (s >= e) continue;  // Empty, e.g. inside a skipped hour.
    if (!chunk->end.empty() && s <= chunk->end.back()) {
      chunk->end.back() = std::max(chunk->end.back(), e);
    } else {
      chunk->start.push_back(s);
      chunk->end.push_back(e);
    }
  }
  int64_t sum = 0;
  chunk->cum_end.reserve(chunk->start.size());
  for (size_t i = 0; i < chunk->start.size(); ++i) {
    sum += chunk->end[i] - chunk->start[i];
    chunk->cum_end.push_back(sum);
  }
  chunk->total = sum;
  return chunk;
}

const BusinessCalendar::Chunk& BusinessCalendar::GetChunk(int64_t index) const {
  const Chunk* c = chunks_[index].load(std::memory_order_acquire);
  if (c != nullptr) return *c;
  return BuildChunk(index);
}

const BusinessCalendar::Chunk& BusinessCalendar::BuildChunk(
    int64_t index) const {
  absl::MutexLock lock(&build_mu_);
  const Chunk* c = chunks_[index].load(std::memory_order_acquire);
  if (c != nullptr) return *c;
  std::unique_ptr<Chunk> built = MakeChunk(index);
  c = built->start.empty() ? EmptyChunk() : built.release();
  chunks_[index].store(c, std::memory_order_release);
  return *c;
}

absl::Status BusinessCalendar::NoOpenTimeFrom(int64_t us) const {
  if (us >= open_hi_ && open_beyond_end_) {
    return absl::OutOfRangeError(absl::StrCat(
        "calendar ", name_,
        ": no open time before year 10000, the end of the supported range"));
  }
  if (us >= open_hi_) {
    return absl::FailedPreconditionError(
        absl::StrCat("calendar ", name_, ": never open at or after ",
                     FormatMicros(std::min(us, open_hi_))));
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "calendar ", name_, ": no open time in the 400 years before ",
      FormatMicros(us)));
}

bool BusinessCalendar::IsOpen(absl::Time t) const {
  const int64_t us = absl::ToUnixMicros(t);
  if (us < open_lo_ || us >= open_hi_) return false;
  const Chunk& c = GetChunk(ChunkIndex(us));
  const ptrdiff_t i = c.Find(us);
  return i >= 0 && us < c.end[i];
}

absl::StatusOr<int64_t> BusinessCalendar::NextOpenMicros(int64_t us) const {
  us = std::max(us, open_lo_);
  if (us >= open_hi_) return NoOpenTimeFrom(us);
  const int64_t give_up = us + kGiveUpUs;
  for (int64_t k = ChunkIndex(us);;) {
    const Chunk& c = GetChunk(k);
    const ptrdiff_t i = c.Find(us);
    if (i >= 0 && us < c.end[i]) return us;
    if (i + 1 < static_cast<ptrdiff_t>(c.start.size())) return c.start[i + 1];
    us = ChunkStart(++k);
    if (us >= open_hi_ || us >= give_up) return NoOpenTimeFrom(us);
  }
}

absl::StatusOr<absl::Time> BusinessCalendar::NextOpen(absl::Time t) const {
  absl::StatusOr<int64_t> us = NextOpenMicros(absl::ToUnixMicros(t));
  if (!us.ok()) return us.status();
  return absl::FromUnixMicros(*us);
}

absl::StatusOr<absl::Time> BusinessCalendar::Add(absl::Time t,
                                                 absl::Duration d) const {
  if (d < absl::ZeroDuration() || d == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("calendar ", name_,
                     ": Add needs a finite duration >= 0, "
                     "got ",
                     absl::FormatDuration(d)));
  }
  int64_t rem = absl::ToInt64Microseconds(d);
  if (rem == 0) return NextOpen(t);
  int64_t us = std::max(absl::ToUnixMicros(t), open_lo_);
  if (us >= open_hi_) return NoOpenTimeFrom(us);
  int64_t last_open = us;  // Latest open time seen, for giving up.
  for (int64_t k = ChunkIndex(us);;) {
    const Chunk& c = GetChunk(k);
    const int64_t before = c.CumAt(us);
    const int64_t available = c.total - before;
    if (available >= rem) {
      const int64_t target = before + rem;
      const size_t j = c.FindCum(target);
      return absl::FromUnixMicros(c.end[j] - (c.cum_end[j] - target));
    }
    if (available > 0) last_open = c.end.back();
    rem -= available;
    us = ChunkStart(++k);
    if (us >= open_hi_ || us - last_open >= kGiveUpUs) {
      return NoOpenTimeFrom(us);
    }
  }
}

absl::Duration BusinessCalendar::Between(absl::Time a, absl::Time b) const {
  if (b < a) return -Between(b, a);
  const int64_t ua = Clamp(absl::ToUnixMicros(a), open_lo_, open_hi_);
  const int64_t ub = Clamp(absl::ToUnixMicros(b), open_lo_, open_hi_);
  if (ua >= ub) return absl::ZeroDuration();
  const int64_t ka = ChunkIndex(ua);
  const int64_t kb = ChunkIndex(ub - 1);
  const Chunk& ca = GetChunk(ka);
  if (ka == kb) return absl::Microseconds(ca.CumAt(ub) - ca.CumAt(ua));
  int64_t sum = ca.total - ca.CumAt(ua);
  for (int64_t k = ka + 1; k < kb; ++k) sum += GetChunk(k).total;
  sum += GetChunk(kb).CumAt(ub);
  return absl::Microseconds(sum);
}

std::vector<std::pair<absl::Time, absl::Time>> BusinessCalendar::OpenIntervals(
    absl::Time a, absl::Time b, size_t limit) const {
  std::vector<std::pair<absl::Time, absl::Time>> out;
  const int64_t ua = Clamp(absl::ToUnixMicros(a), open_lo_, open_hi_);
  const int64_t ub = Clamp(absl::ToUnixMicros(b), open_lo_, open_hi_);
  if (ua >= ub || limit == 0) return out;
  std::vector<std::pair<int64_t, int64_t>> us;
  for (int64_t k = ChunkIndex(ua); k <= ChunkIndex(ub - 1); ++k) {
    const Chunk& c = GetChunk(k);
    ptrdiff_t i = k == ChunkIndex(ua) ? std::max<ptrdiff_t>(c.Find(ua), 0) : 0;
    for (; i < static_cast<ptrdiff_t>(c.start.size()); ++i) {
      const int64_t s = std::max(c.start[i], ua);
      const int64_t e = std::min(c.end[i], ub);
      if (c.start[i] >= ub) break;
      if (s >= e) continue;
      if (!us.empty() && us.back().second == s) {
        us.back().second = e;  // Touching (a chunk's edge): one interval.
        continue;
      }
      if (us.size() == limit) break;
      us.emplace_back(s, e);
    }
    if (us.size() == limit && k < ChunkIndex(ub - 1)) break;
  }
  out.reserve(us.size());
  for (const auto& [s, e] : us) {
    out.emplace_back(absl::FromUnixMicros(s), absl::FromUnixMicros(e));
  }
  return out;
}

}  // namespace slate
