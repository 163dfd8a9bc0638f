// FakeReplica: an in-memory replicated log for tests of lib/log/replicator.h
// and the engines of a cluster node: it keeps every batch it was given, in
// order, checks the positions are dense, and fails on demand.
//
//   slate::testing::FakeReplica replica;
//   log->SetReplicator(&replica);
//   ... appends ...
//   for (const auto& batch : replica.Batches()) follower->AppendReplicated(batch);
#ifndef SLATE_TESTS_TESTING_FAKE_REPLICA_H_
#define SLATE_TESTS_TESTING_FAKE_REPLICA_H_

#include <cstdint>
#include <mutex>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "lib/log/replicator.h"
#include "proto/events.pb.h"

namespace slate::testing {

class FakeReplica final : public LogReplicator {
 public:
  // `next`: the position the replicated log expects next (a writer taking
  // over a partition starts where the partition ends).
  explicit FakeReplica(int64_t next = 0) : next_(next) {}

  absl::Status Replicate(int64_t first_position,
                         absl::Span<const Envelope* const> events) override {
    std::lock_guard<std::mutex> l(mu_);
    if (!fail_.ok()) return fail_;
    if (first_position != next_) {
      return absl::FailedPreconditionError(absl::StrCat(
          "fake replica: batch at ", first_position, ", expected ", next_));
    }
    std::vector<Envelope> batch;
    for (const Envelope* e : events) {
      if (e->position() != next_) {
        return absl::InternalError(absl::StrCat("fake replica: event at ",
                                                e->position(), ", expected ",
                                                next_));
      }
      ++next_;
      batch.push_back(*e);
    }
    batches_.push_back(std::move(batch));
    return absl::OkStatus();
  }

  // Every later Replicate fails with `s` (OK: succeeds again).
  void Fail(absl::Status s) {
    std::lock_guard<std::mutex> l(mu_);
    fail_ = std::move(s);
  }
  std::vector<std::vector<Envelope>> Batches() const {
    std::lock_guard<std::mutex> l(mu_);
    return batches_;
  }
  int64_t next() const {
    std::lock_guard<std::mutex> l(mu_);
    return next_;
  }

 private:
  mutable std::mutex mu_;
  absl::Status fail_;
  int64_t next_;
  std::vector<std::vector<Envelope>> batches_;
};

}  // namespace slate::testing

#endif  // SLATE_TESTS_TESTING_FAKE_REPLICA_H_
