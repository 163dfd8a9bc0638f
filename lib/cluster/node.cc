#include "lib/cluster/node.h"

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <functional>
#include <iterator>
#include <utility>

#include "absl/strings/str_cat.h"
#include "lib/api/tenant.h"
#include "lib/base/status_macros.h"
#include "lib/cluster/client.h"
#include "lib/cluster/partition.pb.h"
#include "lib/domain/executor.h"

namespace slate::cluster {

// Runs tasks on threads started as needed (at most kMaxGroupCommands - 1),
// kept until the node goes.
class Node::GroupPool {
 public:
  ~GroupPool() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (std::thread& t : threads_) t.join();
  }

  // Runs every task, the first on the calling thread, the others on the
  // pool's, and returns when all have finished.
  void RunAll(std::vector<std::function<void()>>& tasks) {
    if (tasks.empty()) return;
    std::mutex done_mu;
    std::condition_variable done_cv;
    size_t left = tasks.size() - 1;  // Guarded by done_mu.
    {
      std::lock_guard<std::mutex> l(mu_);
      for (size_t i = 1; i < tasks.size(); ++i) {
        queue_.push_back([&, task = &tasks[i]] {
          (*task)();
          std::lock_guard<std::mutex> d(done_mu);
          --left;
          done_cv.notify_one();  // Under done_mu: the waiter's frame lives.
        });
      }
      while (queue_.size() > idle_ &&
             threads_.size() < static_cast<size_t>(kMaxGroupCommands - 1)) {
        threads_.emplace_back([this] { Loop(); });
        ++idle_;  // Counted idle until it takes its first task.
      }
    }
    cv_.notify_all();
    tasks[0]();
    std::unique_lock<std::mutex> d(done_mu);
    done_cv.wait(d, [&] { return left == 0; });
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> l(mu_);
    while (true) {
      cv_.wait(l, [this] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // Stopped.
      std::function<void()> task = std::move(queue_.front());
      queue_.pop_front();
      --idle_;
      l.unlock();
      task();
      l.lock();
      ++idle_;
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;  // Guarded by mu_.
  size_t idle_ = 0;                          // Guarded by mu_.
  bool stop_ = false;                        // Guarded by mu_.
  std::vector<std::thread> threads_;         // Guarded by mu_.
};

namespace {

// What a node answers for a partition it no longer owns (clients retry).
absl::Status NotOwner(const std::string& node, int partition) {
  return absl::UnavailableError(absl::StrCat(
      "node ", node, " no longer owns partition ", partition, "; retry"));
}

// A reply (ExecReply, ExecGroupReply, QueryReply) carrying `status`.
template <typename Reply>
Reply StatusReply(const absl::Status& status) {
  Reply reply;
  reply.set_code(static_cast<int>(status.code()));
  reply.set_message(std::string(status.message()));
  return reply;
}

// Executes `command` on an owned partition's engine; the reply to send.
ExecReply ExecuteOwned(PartitionEngine& engine, const std::string& node,
                       int partition, const Command& command) {
  absl::StatusOr<ExecuteResult> r;
  if (!engine.writing()) {
    r = NotOwner(node, partition);
  } else {
    r = engine.engine().Execute(command);
    if (!r.ok() && !engine.writing()) {
      // The lease went during the command: the partition is moving.
      r = absl::UnavailableError(absl::StrCat(
          "node ", node, " lost partition ", partition, " (",
          r.status().message(), "); retry"));
    }
  }
  ExecReply reply = StatusReply<ExecReply>(r.status());
  if (r.ok()) *reply.mutable_result() = *std::move(r);
  return reply;
}

}  // namespace

Node::Node(Cluster& cluster, const NodeOptions& options)
    : cluster_(cluster),
      options_(options),
      pool_(std::make_unique<GroupPool>()) {}

absl::StatusOr<std::unique_ptr<Node>> Node::Start(Cluster& cluster,
                                                  const NodeOptions& options) {
  if (options.name.empty() || options.dir.empty()) {
    return absl::InvalidArgumentError("node: name and dir are required");
  }
  if (absl::Status s = cluster.Heartbeat(options.name);
      absl::IsInvalidArgument(s)) {
    return s;  // Not a name the cluster can list.
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
    o.queries.reset();
    o.responders.clear();  // No new commands; the running ones finish.
    if (release) {
      o.engine->Release().IgnoreError();
    } else {
      // A crash releases nothing: the writer's destructor must not either.
      o.engine->AbandonForTest();
    }
  }
  // The others count one node less at their next round.
  if (release) cluster_.Leave(options_.name).IgnoreError();
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

int Node::FairShare(size_t live_nodes) const {
  const int n = static_cast<int>(std::max<size_t>(live_nodes, 1));
  int share = (cluster_.partitions() + n - 1) / n;
  if (options_.max_partitions > 0) {
    share = std::min(share, options_.max_partitions);
  }
  return share;
}

absl::Status Node::Tick() {
  std::lock_guard<std::mutex> round(round_mu_);
  absl::Status first;
  auto note = [&first](const absl::Status& s) {
    if (first.ok() && !s.ok()) first = s;
  };
  // This node's share of the partitions over the live nodes (itself
  // included once its heartbeat is in); every partition when the members
  // cannot be read, so no partition is left without an owner for that.
  note(cluster_.Heartbeat(options_.name));
  absl::StatusOr<std::vector<std::string>> live = cluster_.LiveNodes();
  note(live.status());
  const int share = live.ok() ? FairShare(live->size()) : FairShare(1);
  std::vector<OwnedPartition> handed_over;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (auto it = owned_.begin(); it != owned_.end();) {
      if (it->second.engine->writing()) {
        ++it;
      } else {
        it = owned_.erase(it);  // Lost: another node writes it now.
      }
    }
    // Above the share (nodes joined): hand the highest partitions over.
    while (live.ok() && static_cast<int>(owned_.size()) > share) {
      auto last = std::prev(owned_.end());
      handed_over.push_back(std::move(last->second));
      owned_.erase(last);
    }
  }
  for (OwnedPartition& o : handed_over) {
    o.queries.reset();
    o.responders.clear();  // The running commands finish first.
    note(o.engine->Release());
  }
  for (int p = 0; p < cluster_.partitions(); ++p) {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (owned_.count(p) != 0) continue;
      if (static_cast<int>(owned_.size()) >= share) break;
    }
    absl::StatusOr<std::optional<LeaseInfo>> lease = cluster_.Lease(p);
    if (!lease.ok()) {
      note(lease.status());
      continue;
    }
    if (lease->has_value()) {
      // Somebody writes it, unless the lease outlived its holder's own
      // expiry by a whole TTL: its holder stopped renewing long ago (its
      // writes are fenced anyway), yet the servers did not expire it (seen
      // after a leader change of the leases bucket). Deleted only at that
      // revision, so a renewal in between wins.
      const LeaseInfo& held = **lease;
      if (held.expires_at + cluster_.lease_ttl() > absl::Now()) continue;
      absl::Status broken = cluster_.leases().Delete(
          ClusterNames::LeaseKey(p), held.revision);
      if (!broken.ok()) {
        note(broken);
        continue;
      }
      Log(absl::StrCat("partition ", p, ": lease of ", held.node,
                       " expired at ", absl::FormatTime(held.expires_at),
                       " and still stored; removed"));
    }
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
    absl::StatusOr<std::vector<std::unique_ptr<Responder>>> responder =
        Serve(p, shared);
    if (!responder.ok()) {
      note(responder.status());
      shared->Release().IgnoreError();
      continue;
    }
    absl::StatusOr<std::unique_ptr<Responder>> queries =
        ServeQueries(p, shared);
    if (!queries.ok()) {
      note(queries.status());
      responder->clear();
      shared->Release().IgnoreError();
      continue;
    }
    std::lock_guard<std::mutex> l(mu_);
    owned_[p] = OwnedPartition{std::move(shared), *std::move(responder),
                               *std::move(queries)};
  }
  if (!first.ok() && first.ToString() != last_round_error_) {
    Log(absl::StrCat("round: ", first.ToString()));
  }
  last_round_error_ = first.ok() ? "" : first.ToString();
  return first;
}

void Node::Log(absl::string_view message) const {
  const std::string line = absl::StrCat("node ", options_.name, ": ", message);
  if (options_.engine.log_sink) {
    options_.engine.log_sink(LogLevel::kWarning, line, {});
  } else {
    std::fprintf(stderr, "slate: %s\n", line.c_str());
  }
}

absl::StatusOr<std::vector<std::unique_ptr<Responder>>> Node::Serve(
    int partition, std::shared_ptr<PartitionEngine> engine) {
  const std::string name = options_.name;
  std::vector<std::unique_ptr<Responder>> out;
  absl::StatusOr<std::unique_ptr<Responder>> one = cluster_.js().Respond(
      cluster_.names().ExecSubject(partition),
      [engine, name, partition](absl::string_view request) {
        Command command;
        if (!command.ParseFromArray(request.data(),
                                    static_cast<int>(request.size()))) {
          return StatusReply<ExecReply>(
                     absl::InvalidArgumentError("request: not a Command"))
              .SerializeAsString();
        }
        return ExecuteOwned(*engine, name, partition, command)
            .SerializeAsString();
      });
  if (!one.ok()) return one.status();
  out.push_back(*std::move(one));
  GroupPool* pool = pool_.get();
  absl::StatusOr<std::unique_ptr<Responder>> group = cluster_.js().Respond(
      cluster_.names().ExecGroupSubject(partition),
      [engine, name, partition, pool](absl::string_view request) {
        ExecGroupRequest commands;
        absl::Status refused;
        if (!commands.ParseFromArray(request.data(),
                                     static_cast<int>(request.size()))) {
          refused = absl::InvalidArgumentError(
              "request: not an ExecGroupRequest");
        } else if (commands.commands_size() > kMaxGroupCommands) {
          refused = absl::InvalidArgumentError(
              absl::StrCat("group of ", commands.commands_size(),
                           " commands; at most ", kMaxGroupCommands,
                           " a request"));
        } else if (!engine->writing()) {
          refused = NotOwner(name, partition);
        }
        if (!refused.ok()) {
          return StatusReply<ExecGroupReply>(refused).SerializeAsString();
        }
        const int n = commands.commands_size();
        ExecGroupReply reply;
        for (int i = 0; i < n; ++i) reply.add_replies();
        std::vector<std::function<void()>> tasks;
        tasks.reserve(n);
        for (int i = 0; i < n; ++i) {
          tasks.push_back([&, i] {
            *reply.mutable_replies(i) =
                ExecuteOwned(*engine, name, partition, commands.commands(i));
          });
        }
        pool->RunAll(tasks);
        return reply.SerializeAsString();
      });
  if (!group.ok()) return group.status();
  out.push_back(*std::move(group));
  return out;
}

absl::StatusOr<std::unique_ptr<Responder>> Node::ServeQueries(
    int partition, std::shared_ptr<PartitionEngine> engine) {
  if (!options_.query_handler) return std::unique_ptr<Responder>();
  const QueryHandler handler = options_.query_handler;
  return cluster_.js().Respond(
      cluster_.names().QuerySubject(partition),
      [engine, handler, name = options_.name,
       partition](absl::string_view request) {
        absl::StatusOr<std::string> r =
            engine->writing() ? handler(engine->engine(), partition, request)
                              : NotOwner(name, partition);
        QueryReply reply = StatusReply<QueryReply>(r.status());
        if (r.ok()) reply.set_body(*std::move(r));
        return reply.SerializeAsString();
      });
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
  const bool shared =
      tenant == kDefaultTenant && IsConfigurationCommand(command);
  if (engine != nullptr && engine->writing() && !shared) {
    absl::StatusOr<ExecuteResult> r = engine->engine().Execute(command);
    // Lost during the command: the new owner decides (the same command id
    // is applied once).
    if (r.ok() || engine->writing()) return r;
  }
  // Another node's partition, or the shared configuration that goes to
  // every partition: the owners decide, through NATS.
  return RemoteExecute(cluster_, command, options_.forward);
}

}  // namespace slate::cluster
