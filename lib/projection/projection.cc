#include "lib/projection/projection.h"

#include "absl/strings/str_cat.h"
#include "lib/base/status_macros.h"
#include "lib/log/event_log.h"

namespace slate {

absl::Status ProjectionState::ReadStream(
    absl::string_view stream, int64_t through_position,
    const std::function<bool(const Envelope&)>& fn) {
  (void)through_position;
  (void)fn;
  return absl::FailedPreconditionError(absl::StrCat(
      "read of stream ", stream,
      ": this projection state has no event log behind it"));
}

absl::Status ReadStreamThrough(
    const EventLog& log, absl::string_view stream, int64_t through_position,
    const std::function<bool(const Envelope&)>& fn) {
  constexpr size_t kPage = 256;
  for (int64_t version = 0;;) {
    SLATE_ASSIGN_OR_RETURN(std::vector<Envelope> page,
                           log.ReadStream(stream, version, kPage));
    for (const Envelope& e : page) {
      if (e.position() > through_position || !fn(e)) return absl::OkStatus();
    }
    if (page.size() < kPage) return absl::OkStatus();
    version = page.back().version() + 1;
  }
}

absl::Status FoldInto(Projection& projection,
                      const std::vector<Envelope>& events,
                      ProjectionState& state) {
  for (const Envelope& e : events) {
    absl::Status st = projection.Apply(e, state);
    if (!st.ok()) {
      projection.Discard();
      return st;
    }
  }
  return projection.Flush(state);
}

}  // namespace slate
