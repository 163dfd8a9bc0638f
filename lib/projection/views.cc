#include "lib/projection/views.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "lib/base/status_macros.h"
#include "lib/domain/change.h"
#include "lib/domain/incident.h"
#include "lib/domain/problem.h"
#include "lib/domain/service.h"

namespace slate {

std::string SerializeDeterministic(const google::protobuf::Message& m) {
  // Sized once: a StringOutputStream grew the string by doubling and
  // trimmed it after (one to several allocations per value written, for
  // every record and clock a projection writes).
  const size_t size = m.ByteSizeLong();
  std::string out(size, '\0');
  google::protobuf::io::ArrayOutputStream stream(out.data(),
                                                 static_cast<int>(size));
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  m.SerializeWithCachedSizes(&coded);
  return out;
}

namespace {

// Loads the stored state (or a new one), evolves it with `e`, stores it.
template <typename State, typename NewFn, typename EvolveFn>
absl::Status Fold(const Envelope& e, absl::string_view id,
                  ProjectionState& state, NewFn make_new, EvolveFn evolve) {
  SLATE_ASSIGN_OR_RETURN(std::optional<std::string> stored,
                         state.Get(e.stream()));
  State s;
  if (stored.has_value()) {
    if (!s.ParseFromString(*stored)) {
      return absl::DataLossError(
          absl::StrCat("view of ", e.stream(), " is undecodable"));
    }
  } else {
    s = make_new(id);
  }
  evolve(e, &s);
  state.Put(e.stream(), SerializeDeterministic(s));
  return absl::OkStatus();
}

}  // namespace

absl::Status ViewsProjection::Apply(const Envelope& e, ProjectionState& state) {
  absl::string_view stream = e.stream();
  const size_t slash = stream.find('/');
  if (slash == absl::string_view::npos) return absl::OkStatus();
  absl::string_view kind = stream.substr(0, slash);
  absl::string_view id = stream.substr(slash + 1);
  if (kind == "incident") {
    return Fold<IncidentState>(e, id, state, NewIncidentState, EvolveIncident);
  }
  if (kind == "problem") {
    return Fold<ProblemState>(e, id, state, NewProblemState, EvolveProblem);
  }
  if (kind == "change") {
    return Fold<ChangeState>(e, id, state, NewChangeState, EvolveChange);
  }
  if (kind == "service") {
    return Fold<ServiceState>(e, id, state, NewServiceState, EvolveService);
  }
  return absl::OkStatus();
}

}  // namespace slate
