// Subscription: a live follower of the event log (Engine::Subscribe).
//
//   std::unique_ptr<slate::Subscription> sub = engine->Subscribe(
//       0, [](const slate::Envelope& e) {
//         std::cout << e.position() << " " << e.stream() << "\n";
//         return absl::OkStatus();  // Non-OK stops the subscription.
//       });
//   ...
//   sub.reset();  // Stops delivery and joins its thread.
#ifndef SLATE_LIB_API_SUBSCRIPTION_H_
#define SLATE_LIB_API_SUBSCRIPTION_H_

#include <cstdint>
#include <functional>

#include "absl/status/status.h"
#include "proto/events.pb.h"

namespace slate {

// Called for each event a subscription delivers, in position order. A non-OK
// return stops the subscription with that status.
using EventHandler = std::function<absl::Status(const Envelope&)>;

// A running subscription. Destroying it stops it.
class Subscription {
 public:
  virtual ~Subscription() = default;
  // Stops delivery and joins the delivery thread. Idempotent.
  // REQUIRES: not called from this subscription's handler.
  virtual void Stop() = 0;
  // Next position this subscription will deliver (its checkpoint).
  virtual int64_t next_position() const = 0;
  // OK while running or after Stop(); the error that ended it otherwise.
  virtual absl::Status status() const = 0;
  // True once delivery ended (stopped, handler error or read error).
  virtual bool done() const = 0;

 protected:
  Subscription() = default;
};

}  // namespace slate

#endif  // SLATE_LIB_API_SUBSCRIPTION_H_
