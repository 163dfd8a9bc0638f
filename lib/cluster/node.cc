#include "lib/cluster/node.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "lib/api/tenant.h"
#include "lib/base/status_macros.h"

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
  std::map<int, std::shared_ptr<PartitionEngine>> owned;
  {
    std::lock_guard<std::mutex> l(mu_);
    owned.swap(owned_);
  }
  for (auto& [p, engine] : owned) {
    if (release) engine->Release().IgnoreError();
  }
  // A crash releases nothing: the writers' destructors must not either.
  if (!release) {
    for (auto& [p, engine] : owned) engine->AbandonForTest();
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
      if (it->second->writing()) {
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
    std::lock_guard<std::mutex> l(mu_);
    owned_[p] = std::shared_ptr<PartitionEngine>(std::move(*engine));
  }
  return first;
}

std::vector<int> Node::Owned() const {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<int> out;
  for (const auto& [p, engine] : owned_) out.push_back(p);
  return out;
}

std::shared_ptr<PartitionEngine> Node::Partition(int partition) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = owned_.find(partition);
  return it == owned_.end() ? nullptr : it->second;
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
