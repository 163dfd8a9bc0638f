#include "lib/projection/views.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "lib/api/tenant.h"
#include "lib/base/status_macros.h"
#include "lib/domain/change.h"
#include "lib/domain/request.h"
#include "lib/domain/incident.h"
#include "lib/domain/problem.h"
#include "lib/domain/service.h"
#include "lib/projection/decoded_cache.h"

namespace slate {

std::string SerializeDeterministic(const google::protobuf::Message& m) {
  std::string out;
  SerializeDeterministicTo(m, &out);
  return out;
}

void SerializeDeterministicTo(const google::protobuf::Message& m,
                              std::string* out) {
  // Sized once: a StringOutputStream grew the string by doubling and
  // trimmed it after (one to several allocations per value written, for
  // every record and clock a projection writes).
  const size_t size = m.ByteSizeLong();
  out->resize(size);
  google::protobuf::io::ArrayOutputStream stream(out->data(),
                                                 static_cast<int>(size));
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  m.SerializeWithCachedSizes(&coded);
}

namespace {

template <typename State>
using ViewCache = DecodedCache<State>;

// Loads the record (decoded, or from `state`, or new), evolves it with `e`.
template <typename State, typename NewFn, typename EvolveFn>
absl::Status Fold(const Envelope& e, absl::string_view id,
                  ProjectionState& state, ViewCache<State>& cache,
                  NewFn make_new, EvolveFn evolve) {
  SLATE_ASSIGN_OR_RETURN(
      typename ViewCache<State>::Entry * entry,
      cache.Load(state, e.stream(), [&](absl::string_view bytes, State* s) {
        if (!s->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
          return absl::DataLossError(
              absl::StrCat("view of ", e.stream(), " is undecodable"));
        }
        return absl::OkStatus();
      }));
  if (!entry->present) {
    // Into the entry's own message, which keeps the buffers of the record
    // it held before (DecodedCache recycles entries): assigning the new
    // record swapped them into a temporary freed at once, and the evolve
    // below allocated them all again (~2,300 instructions per new record).
    entry->value.Clear();
    entry->value.MergeFrom(make_new(id));
  }
  evolve(e, &entry->value);
  cache.MarkWritten(entry);
  return absl::OkStatus();
}

template <typename State>
absl::Status FlushViews(ViewCache<State>& cache, ProjectionState& state) {
  std::string bytes;  // One buffer for every record written.
  return cache.Flush([&](const std::string& key, const State& s, bool present) {
    if (present) {
      SerializeDeterministicTo(s, &bytes);
      state.Put(key, bytes);
    } else {
      state.Delete(key);
    }
    return absl::OkStatus();
  });
}

}  // namespace

struct ViewsProjection::Caches {
  explicit Caches(size_t n)
      : incidents(n), problems(n), changes(n), services(n), requests(n),
        catalog(n) {}
  ViewCache<IncidentState> incidents;
  ViewCache<ProblemState> problems;
  ViewCache<ChangeState> changes;
  ViewCache<ServiceState> services;
  ViewCache<RequestState> requests;
  ViewCache<CatalogItemState> catalog;
};

ViewsProjection::ViewsProjection(size_t cached_records)
    : caches_(std::make_unique<Caches>(cached_records)) {}
ViewsProjection::~ViewsProjection() = default;

absl::Status ViewsProjection::Flush(ProjectionState& state) {
  Caches& c = *caches_;
  SLATE_RETURN_IF_ERROR(FlushViews(c.incidents, state));
  SLATE_RETURN_IF_ERROR(FlushViews(c.problems, state));
  SLATE_RETURN_IF_ERROR(FlushViews(c.changes, state));
  SLATE_RETURN_IF_ERROR(FlushViews(c.requests, state));
  SLATE_RETURN_IF_ERROR(FlushViews(c.catalog, state));
  return FlushViews(c.services, state);
}

void ViewsProjection::Discard() {
  Caches& c = *caches_;
  c.incidents.Clear();
  c.problems.Clear();
  c.changes.Clear();
  c.services.Clear();
  c.requests.Clear();
  c.catalog.Clear();
}

bool ViewsProjection::WantsFlush() const {
  const Caches& c = *caches_;
  return c.incidents.over_bound() || c.problems.over_bound() ||
         c.changes.over_bound() || c.services.over_bound() ||
         c.requests.over_bound() || c.catalog.over_bound();
}

absl::Status ViewsProjection::Apply(const Envelope& e, ProjectionState& state) {
  // A tenant's records are keyed by their whole stream, named by their
  // local id ("tenant/acme/incident/INC1": an IncidentState of "INC1").
  const absl::string_view local = SplitTenantStream(e.stream()).local;
  const size_t slash = local.find('/');
  if (slash == absl::string_view::npos) return absl::OkStatus();
  absl::string_view kind = local.substr(0, slash);
  absl::string_view id = local.substr(slash + 1);
  Caches& c = *caches_;
  if (kind == "incident") {
    return Fold(e, id, state, c.incidents, NewIncidentState, EvolveIncident);
  }
  if (kind == "problem") {
    return Fold(e, id, state, c.problems, NewProblemState, EvolveProblem);
  }
  if (kind == "change") {
    return Fold(e, id, state, c.changes, NewChangeState, EvolveChange);
  }
  if (kind == "service") {
    return Fold(e, id, state, c.services, NewServiceState, EvolveService);
  }
  if (kind == "request") {
    return Fold(e, id, state, c.requests, NewRequestState, EvolveRequest);
  }
  if (kind == "catalog") {
    return Fold(e, id, state, c.catalog, NewCatalogItemState,
                EvolveCatalogItem);
  }
  return absl::OkStatus();
}

}  // namespace slate
