#include "lib/cluster/node.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "lib/api/tenant.h"
#include "lib/base/status_macros.h"
#include "lib/cluster/partition.pb.h"

namespace slate::cluster {

Node::Node(Cluster& cluster, const NodeOptions& options)
    : cluster_(cluster), options_(options) {}

absl::StatusOr<std::unique_ptr<Node>> Node::Start(Cluster& cluster,
                                                  const NodeOptions& options) {
  if (options.name.empty() || options.dir.empty()) {
    return absl::InvalidArgumentError("node: name and dir are required");
  }
  std::unique_ptr<Node> node(new Node(cluster, options));
  node->Tick().IgnoreError();  // Retried every round.
  if (options.tick > absl::ZeroDuration()) {
    node->thread_ = std::thread([n = node.get()] { n->Loop(); });
  }
  return node;
}

Node::~Node() { Stop(/*release=*/true); }

void Node::Stop(bool release) {
  {
    std::lock_guard<std::mutex> l(stop_mu_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::map<int, OwnedPartition> owned;
  {
    std::lock_guard<std::mutex> l(mu_);
    owned.swap(owned_);
  }
  for (auto& [p, o] : owned) {
    o.responder.reset();  // No new commands; the running ones finish.
    if (release) {
      o.engine->Release().IgnoreError();
    } else {
      // A crash releases nothing: the writer's destructor must not either.
      o.engine->AbandonForTest();
    }
  }
}

void Node::KillForTest() { Stop(/*release=*/false); }

void Node::Loop() {
  std::unique_lock<std::mutex> l(stop_mu_);
  while (!stop_) {
    stop_cv_.wait_for(l, absl::ToChronoNanoseconds(options_.tick));
    if (stop_) break;
    l.unlock();
    Tick().IgnoreError();
    l.lock();
  }
}

absl::Status Node::Tick() {
  std::lock_guard<std::mutex> round(round_mu_);
  absl::Status first;
  auto note = [&first](const absl::Status& s) {
    if (first.ok() && !s.ok()) first = s;
  };
  {
    std::lock_guard<std::mutex> l(mu_);
    for (auto it = owned_.begin(); it != owned_.end();) {
      if (it->second.engine->writing()) {
        ++it;
      } else {
        it = owned_.erase(it);  // Lost: another node writes it now.
      }
    }
  }
  for (int p = 0; p < cluster_.partitions(); ++p) {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (owned_.count(p) != 0) continue;
      if (options_.max_partitions > 0 &&
          static_cast<int>(owned_.size()) >= options_.max_partitions) {
        break;
      }
    }
    absl::StatusOr<std::optional<LeaseInfo>> lease = cluster_.Lease(p);
    if (!lease.ok()) {
      note(lease.status());
      continue;
    }
    if (lease->has_value()) continue;  // Somebody writes it.
    PartitionEngineOptions o;
    o.dir = absl::StrCat(options_.dir, "/p", p);
    o.node = options_.name;
    o.partition = p;
    o.engine = options_.engine;
    absl::StatusOr<std::unique_ptr<PartitionEngine>> engine =
        PartitionEngine::OpenWriter(cluster_, o);
    if (!engine.ok()) {
      // Taken by another node in between: not an error of this round.
      if (!absl::IsFailedPrecondition(engine.status())) {
        note(engine.status());
      }
      continue;
    }
    std::shared_ptr<PartitionEngine> shared(std::move(*engine));
    absl::StatusOr<std::unique_ptr<Responder>> responder = Serve(p, shared);
    if (!responder.ok()) {
      note(responder.status());
      shared->Release().IgnoreError();
      continue;
    }
    std::lock_guard<std::mutex> l(mu_);
    owned_[p] = OwnedPartition{std::move(shared), *std::move(responder)};
  }
  return first;
}

absl::StatusOr<std::unique_ptr<Responder>> Node::Serve(
    int partition, std::shared_ptr<PartitionEngine> engine) {
  const std::string name = options_.name;
  return cluster_.js().Respond(
      cluster_.names().ExecSubject(partition),
      [engine, name, partition](absl::string_view request) {
        ExecReply reply;
        Command command;
        absl::StatusOr<ExecuteResult> r;
        if (!command.ParseFromArray(request.data(),
                                    static_cast<int>(request.size()))) {
          r = absl::InvalidArgumentError("request: not a Command");
        } else if (!engine->writing()) {
          r = absl::UnavailableError(absl::StrCat(
              "node ", name, " no longer owns partition ", partition,
              "; retry"));
        } else {
          r = engine->engine().Execute(command);
          if (!r.ok() && !engine->writing()) {
            // The lease went during the command: the partition is moving.
            r = absl::UnavailableError(absl::StrCat(
                "node ", name, " lost partition ", partition, " (",
                r.status().message(), "); retry"));
          }
        }
        reply.set_code(static_cast<int>(r.status().code()));
        reply.set_message(std::string(r.status().message()));
        if (r.ok()) *reply.mutable_result() = *std::move(r);
        return reply.SerializeAsString();
      },
      RespondOptions{.concurrency = options_.concurrent_commands});
}

std::vector<int> Node::Owned() const {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<int> out;
  for (const auto& [p, o] : owned_) out.push_back(p);
  return out;
}

std::shared_ptr<PartitionEngine> Node::Partition(int partition) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = owned_.find(partition);
  return it == owned_.end() ? nullptr : it->second.engine;
}

absl::StatusOr<ExecuteResult> Node::Execute(const Command& command) {
  const std::string tenant(TenantOrDefault(command.tenant_id()));
  SLATE_ASSIGN_OR_RETURN(int p, cluster_.PartitionOf(tenant));
  std::shared_ptr<PartitionEngine> engine = Partition(p);
  if (engine == nullptr || !engine->writing()) {
    absl::StatusOr<std::optional<LeaseInfo>> lease = cluster_.Lease(p);
    const std::string owner =
        !lease.ok()             ? "unknown"
        : lease->has_value()    ? (*lease)->node
                                : "nobody (being taken over)";
    return absl::UnavailableError(absl::StrCat(
        "node ", options_.name, ": partition ", p, " of tenant ", tenant,
        " is owned by ", owner));
  }
  return engine->engine().Execute(command);
}

}  // namespace slate::cluster
