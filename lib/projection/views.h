// ViewsProjection: the current state of every incident, problem, change,
// service, service request and catalog item, folded with the domain's own
// evolve functions.
//
//   auto state = runner->Get("views", "incident/INC1");  // IncidentState bytes
//   slate::IncidentState s;  s.ParseFromString(**state);
//
// Keys are the aggregate's stream ("incident/INC1", a tenant's
// "tenant/acme/incident/INC1"); values are the
// deterministic serialization of its state message (proto/commands.proto).
// The messages stay decoded in memory between events (at most
// cached_records per kind after a flush) and are serialized only when the
// runner snapshots or a query reads.
#ifndef SLATE_LIB_PROJECTION_VIEWS_H_
#define SLATE_LIB_PROJECTION_VIEWS_H_

#include <cstddef>
#include <memory>
#include <string>

#include "google/protobuf/message.h"
#include "lib/projection/projection.h"

namespace slate {

class ViewsProjection final : public Projection {
 public:
  static constexpr absl::string_view kName = "views";
  // cached_records: records kept decoded per kind (incident, problem,
  // change, service, request, catalog item); see Options::projection_cached_records.
  explicit ViewsProjection(size_t cached_records = 4096);
  ~ViewsProjection() override;
  absl::string_view name() const override { return kName; }
  // 2: IncidentDetailsUpdated updates the incident's details. 3: a
  // change's state holds its post-implementation review (ChangeReviewed).
  // Service requests (request/<id>) and catalog items (catalog/<id>) need
  // no new version: no earlier build could write their events, so its
  // snapshots hold everything they would. 4: an incident reopened and
  // resolved again is not a first-contact resolution. 5: the records of
  // every tenant (lib/api/tenant.h), keyed by their stream
  // ("tenant/acme/incident/INC1"); a log appended before could hold such
  // streams, which version 4 ignored.
  int64_t version() const override { return 5; }
  // Evolves the record's state message in memory; Flush serializes the
  // changed ones.
  absl::Status Apply(const Envelope& e, ProjectionState& state) override;
  absl::Status Flush(ProjectionState& state) override;
  void Discard() override;
  bool WantsFlush() const override;

 private:
  struct Caches;
  std::unique_ptr<Caches> caches_;
};

// Byte-stable serialization (deterministic map order), for projection state
// that must be identical across rebuilds.
std::string SerializeDeterministic(const google::protobuf::Message& m);
// The same bytes into *out (replaced; its buffer is reused).
void SerializeDeterministicTo(const google::protobuf::Message& m,
                              std::string* out);

}  // namespace slate

#endif  // SLATE_LIB_PROJECTION_VIEWS_H_
