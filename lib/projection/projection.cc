#include "lib/projection/projection.h"

#include "lib/base/status_macros.h"

namespace slate {

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
