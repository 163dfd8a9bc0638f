#include "lib/cluster/cluster.h"

#include <algorithm>
#include <condition_variable>
#include <thread>
#include <utility>

#include "absl/container/flat_hash_map.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "lib/cluster/partition.pb.h"

namespace slate::cluster {
namespace {

constexpr char kPartitionsKey[] = "partitions";
constexpr char kReplicasKey[] = "replicas";
constexpr char kLeaseTtlKey[] = "lease_ttl_ms";

// Writes `key` = `value` unless it has a value; returns the stored value.
absl::StatusOr<std::string> CreateOrGet(KvBucket& bucket, absl::string_view key,
                                        const std::string& value) {
  absl::StatusOr<uint64_t> created = bucket.Create(key, value);
  if (created.ok()) return value;
  if (!absl::IsAlreadyExists(created.status())) return created.status();
  absl::StatusOr<KvEntry> entry = bucket.Get(key);
  if (!entry.ok()) return entry.status();
  return entry->value;
}

absl::StatusOr<int> ParseCount(const ClusterNames& names, absl::string_view key,
                               absl::string_view value) {
  int n = 0;
  if (!absl::SimpleAtoi(value, &n) || n < 1) {
    return absl::DataLossError(absl::StrCat("kv ", names.ConfigBucket(), ": key ",
                                            key, ": not a positive count: \"",
                                            absl::CHexEscape(value), "\""));
  }
  return n;
}

// Writes the marker at sequence 1 of an empty partition stream. Its Msg-Id
// makes two concurrent inits store it once.
absl::Status EnsureMarker(JetStream& js, const ClusterNames& names, int partition,
                          int partitions) {
  const std::string stream = names.Stream(partition);
  absl::StatusOr<uint64_t> last = js.LastSequence(stream);
  if (!last.ok()) return last.status();
  if (*last == 0) {
    PartitionMarker marker;
    marker.set_partition(partition);
    marker.set_partitions(partitions);
    PublishOptions options;
    options.msg_id = absl::StrCat(stream, ":marker");
    absl::StatusOr<PublishAck> ack = js.Publish(names.MarkerSubject(partition),
                                                marker.SerializeAsString(), options);
    if (!ack.ok()) return ack.status();
  }
  absl::StatusOr<StoredMessage> first = js.Get(stream, kMarkerSequence);
  if (!first.ok()) return first.status();
  PartitionMarker marker;
  if (first->subject != names.MarkerSubject(partition) ||
      !marker.ParseFromString(first->data) || marker.partition() != partition) {
    return absl::DataLossError(absl::StrCat("stream ", stream, ": sequence 1 (subject ",
                                            first->subject,
                                            ") is not this partition's marker"));
  }
  return absl::OkStatus();
}

bool IsKeySafe(absl::string_view key) {
  if (key.empty()) return false;
  for (char c : key) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

}  // namespace

absl::Status InitCluster(JetStream& js, const ClusterOptions& options) {
  if (absl::Status st = ClusterNames::Validate(options.prefix); !st.ok()) return st;
  if (options.partitions < 1 || options.partitions > 4096) {
    return absl::InvalidArgumentError(
        absl::StrCat("partitions must be 1..4096, got ", options.partitions));
  }
  if (options.replicas != 1 && options.replicas != 3 && options.replicas != 5) {
    return absl::InvalidArgumentError(
        absl::StrCat("replicas must be 1, 3 or 5, got ", options.replicas));
  }
  if (options.lease_ttl < absl::Milliseconds(100)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "lease ttl must be >= 100ms, got ", absl::FormatDuration(options.lease_ttl)));
  }
  const ClusterNames names(options.prefix);
  KvConfig config_bucket;
  config_bucket.name = names.ConfigBucket();
  config_bucket.replicas = options.replicas;
  absl::StatusOr<std::unique_ptr<KvBucket>> config = js.EnsureKvBucket(config_bucket);
  if (!config.ok()) return config.status();
  // The partition count first: it decides everything else.
  absl::StatusOr<std::string> stored =
      CreateOrGet(**config, kPartitionsKey, absl::StrCat(options.partitions));
  if (!stored.ok()) return stored.status();
  absl::StatusOr<int> partitions = ParseCount(names, kPartitionsKey, *stored);
  if (!partitions.ok()) return partitions.status();
  if (*partitions != options.partitions) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cluster ", options.prefix, " exists with ", *partitions,
        " partitions; the count is fixed at creation (asked for ",
        options.partitions, ")"));
  }
  stored = CreateOrGet(**config, kReplicasKey, absl::StrCat(options.replicas));
  if (!stored.ok()) return stored.status();
  stored = CreateOrGet(**config, kLeaseTtlKey,
                       absl::StrCat(absl::ToInt64Milliseconds(options.lease_ttl)));
  if (!stored.ok()) return stored.status();

  KvConfig leases;
  leases.name = names.LeaseBucket();
  leases.replicas = options.replicas;
  leases.ttl = options.lease_ttl;
  if (auto b = js.EnsureKvBucket(leases); !b.ok()) return b.status();
  KvConfig tenants;
  tenants.name = names.TenantBucket();
  tenants.replicas = options.replicas;
  if (auto b = js.EnsureKvBucket(tenants); !b.ok()) return b.status();

  for (int p = 0; p < options.partitions; ++p) {
    StreamConfig stream;
    stream.name = names.Stream(p);
    stream.subjects = {names.Subjects(p)};
    stream.replicas = options.replicas;
    stream.duplicate_window = options.duplicate_window;
    if (absl::Status st = js.EnsureStream(stream); !st.ok()) return st;
    if (absl::Status st = EnsureMarker(js, names, p, options.partitions); !st.ok()) {
      return st;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Cluster>> Cluster::Open(JetStream& js,
                                                       absl::string_view prefix) {
  if (absl::Status st = ClusterNames::Validate(prefix); !st.ok()) return st;
  std::unique_ptr<Cluster> cluster(new Cluster(js, ClusterNames(prefix)));
  const ClusterNames& names = cluster->names_;
  absl::StatusOr<std::unique_ptr<KvBucket>> config =
      js.OpenKvBucket(names.ConfigBucket());
  if (absl::IsNotFound(config.status())) {
    return absl::NotFoundError(absl::StrCat(
        "cluster ", prefix, " is not initialised (no bucket ", names.ConfigBucket(),
        "): run `slate cluster init`"));
  }
  if (!config.ok()) return config.status();
  int lease_ttl_ms = 0;
  for (auto [key, out] : {std::pair{kPartitionsKey, &cluster->partitions_},
                          std::pair{kReplicasKey, &cluster->replicas_},
                          std::pair{kLeaseTtlKey, &lease_ttl_ms}}) {
    absl::StatusOr<KvEntry> entry = (*config)->Get(key);
    if (absl::IsNotFound(entry.status())) {
      return absl::NotFoundError(absl::StrCat("cluster ", prefix,
                                              " is half initialised (no ", key,
                                              "): run `slate cluster init` again"));
    }
    if (!entry.ok()) return entry.status();
    absl::StatusOr<int> n = ParseCount(names, key, entry->value);
    if (!n.ok()) return n.status();
    *out = *n;
  }
  cluster->lease_ttl_ = absl::Milliseconds(lease_ttl_ms);
  absl::StatusOr<std::unique_ptr<KvBucket>> leases = js.OpenKvBucket(names.LeaseBucket());
  if (!leases.ok()) return leases.status();
  cluster->leases_ = *std::move(leases);
  absl::StatusOr<std::unique_ptr<KvBucket>> tenants =
      js.OpenKvBucket(names.TenantBucket());
  if (!tenants.ok()) return tenants.status();
  cluster->tenants_ = *std::move(tenants);
  return cluster;
}

absl::Status Cluster::CheckPartition(int partition) const {
  if (partition >= 0 && partition < partitions_) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("partition ", partition,
                                                 ": the cluster has partitions 0..",
                                                 partitions_ - 1));
}

// A copy of the tenants bucket that a watch keeps current: its own thread
// follows the bucket (KvBucket::WatchAll), and starts a new watch when one
// ends (connection lost). Answers only once a watch's initial state is in.
class Cluster::TenantRoutes {
 public:
  explicit TenantRoutes(KvBucket& bucket)
      : bucket_(bucket), thread_([this] { Run(); }) {}
  ~TenantRoutes() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
      if (watcher_ != nullptr) watcher_->Stop();
    }
    cv_.notify_all();
    thread_.join();
  }

  // Whether the copy can answer; if so, *value is the tenant's override
  // (nullopt: none).
  bool Lookup(absl::string_view tenant, std::optional<std::string>* value) {
    std::lock_guard<std::mutex> l(mu_);
    if (!ready_ || untrusted_) return false;
    auto it = routes_.find(tenant);
    if (it == routes_.end() || it->second.deleted) {
      value->reset();
    } else {
      *value = it->second.value;
    }
    return true;
  }

  bool cached() {
    std::lock_guard<std::mutex> l(mu_);
    return ready_ && !untrusted_;
  }

  // Waits until the copy holds a change of `tenant` at `revision` or later
  // (a write of this process): its next Lookup sees it. Not seen within
  // `timeout`: the copy is not trusted again until a new watch's initial
  // state is in (lookups read the bucket meanwhile).
  void AwaitOwnWrite(absl::string_view tenant, uint64_t revision,
                     absl::Duration timeout) {
    std::unique_lock<std::mutex> l(mu_);
    const bool seen = cv_.wait_for(
        l, absl::ToChronoNanoseconds(timeout), [&] {
          if (!ready_ || stop_) return true;  // lookups read the bucket
          auto it = routes_.find(tenant);
          return it != routes_.end() && it->second.revision >= revision;
        });
    if (!seen) untrusted_ = true;
  }

 private:
  struct Route {
    std::string value;
    uint64_t revision = 0;
    bool deleted = false;
  };
  using Routes = absl::flat_hash_map<std::string, Route>;

  static void Apply(Routes& routes, KvChange change) {
    Route& r = routes[change.key];
    if (change.revision < r.revision) return;
    r = Route{std::move(change.value), change.revision, change.deleted};
  }

  void Run() {
    while (true) {
      absl::StatusOr<std::unique_ptr<KvWatcher>> w = bucket_.WatchAll();
      {
        std::unique_lock<std::mutex> l(mu_);
        if (!w.ok()) {
          // No meta leader, no server: lookups read the bucket meanwhile.
          cv_.wait_for(l, std::chrono::seconds(1), [&] { return stop_; });
          if (stop_) return;
          continue;
        }
        if (stop_) return;
        watcher_ = w->get();
      }
      Routes initial;
      bool initial_done = false;
      while (true) {
        absl::StatusOr<std::optional<KvChange>> c =
            (*w)->Next(absl::Seconds(1));
        if (absl::IsDeadlineExceeded(c.status())) continue;  // quiet
        if (!c.ok()) break;  // stopped, or the connection is gone
        std::lock_guard<std::mutex> l(mu_);
        if (!c->has_value()) {
          if (!initial_done) {
            routes_ = std::move(initial);
            ready_ = true;
            untrusted_ = false;
            initial_done = true;
          }
        } else {
          Apply(initial_done ? routes_ : initial, **std::move(c));
        }
        cv_.notify_all();
      }
      std::lock_guard<std::mutex> l(mu_);
      watcher_ = nullptr;
      ready_ = false;  // until the next watch's initial state is in
      cv_.notify_all();
      if (stop_) return;
    }
  }

  KvBucket& bucket_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;       // Guarded by mu_.
  bool ready_ = false;      // Guarded by mu_: routes_ is a watch's copy.
  bool untrusted_ = false;  // Guarded by mu_: an own write was not seen.
  KvWatcher* watcher_ = nullptr;  // Guarded by mu_: the running watch.
  Routes routes_;                 // Guarded by mu_; deletes kept.
  std::thread thread_;            // Last: starts once the rest is built.
};

Cluster::Cluster(JetStream& js, ClusterNames names)
    : js_(js), names_(std::move(names)) {}

Cluster::~Cluster() = default;

Cluster::TenantRoutes& Cluster::Routes() {
  std::call_once(routes_once_,
                 [this] { routes_ = std::make_unique<TenantRoutes>(*tenants_); });
  return *routes_;
}

bool Cluster::RoutesCached() { return Routes().cached(); }

absl::StatusOr<int> Cluster::ParseOverride(absl::string_view tenant,
                                           absl::string_view value) const {
  int p = -1;
  if (!absl::SimpleAtoi(value, &p) || !CheckPartition(p).ok()) {
    return absl::DataLossError(absl::StrCat(
        "kv ", names_.TenantBucket(), ": tenant ", tenant, ": override \"",
        absl::CHexEscape(value), "\" is not a partition of 0..",
        partitions_ - 1));
  }
  return p;
}

absl::StatusOr<int> Cluster::PartitionOf(absl::string_view tenant) {
  if (IsKeySafe(tenant)) {
    std::optional<std::string> value;
    if (Routes().Lookup(tenant, &value)) {
      if (value.has_value()) return ParseOverride(tenant, *value);
      return HashPartition(tenant, partitions_);
    }
    absl::StatusOr<KvEntry> entry = tenants_->Get(tenant);
    if (entry.ok()) return ParseOverride(tenant, entry->value);
    if (!absl::IsNotFound(entry.status())) return entry.status();
  }
  return HashPartition(tenant, partitions_);
}

absl::Status Cluster::SetOverride(absl::string_view tenant, int partition) {
  if (!IsKeySafe(tenant)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tenant \"", absl::CHexEscape(tenant),
        "\": an override needs an id of [A-Za-z0-9_-]"));
  }
  if (absl::Status st = CheckPartition(partition); !st.ok()) return st;
  TenantRoutes& routes = Routes();
  absl::StatusOr<KvEntry> current = tenants_->Get(tenant);
  absl::StatusOr<uint64_t> rev;
  if (current.ok()) {
    rev = tenants_->Update(tenant, absl::StrCat(partition), current->revision);
  } else if (absl::IsNotFound(current.status())) {
    rev = tenants_->Create(tenant, absl::StrCat(partition));
  } else {
    return current.status();
  }
  if (!rev.ok()) return rev.status();
  routes.AwaitOwnWrite(tenant, *rev, js_.request_timeout());
  return absl::OkStatus();
}

absl::Status Cluster::ClearOverride(absl::string_view tenant) {
  if (!IsKeySafe(tenant)) return absl::OkStatus();  // cannot have one
  TenantRoutes& routes = Routes();
  absl::StatusOr<KvEntry> current = tenants_->Get(tenant);
  if (absl::IsNotFound(current.status())) return absl::OkStatus();
  if (!current.ok()) return current.status();
  if (absl::Status st = tenants_->Delete(tenant); !st.ok()) return st;
  // The delete's marker comes after the value read.
  routes.AwaitOwnWrite(tenant, current->revision + 1, js_.request_timeout());
  return absl::OkStatus();
}

absl::StatusOr<LeaseInfo> DecodeLease(int partition, const KvEntry& entry) {
  PartitionLease lease;
  if (!lease.ParseFromString(entry.value)) {
    return absl::DataLossError(absl::StrCat("lease of partition ", partition,
                                            " (revision ", entry.revision,
                                            "): does not decode"));
  }
  LeaseInfo info;
  info.node = lease.node();
  info.revision = entry.revision;
  info.acquired_at = absl::FromUnixMicros(lease.acquired_at_us());
  info.expires_at = absl::FromUnixMicros(lease.expires_at_us());
  return info;
}

absl::StatusOr<std::optional<LeaseInfo>> Cluster::Lease(int partition) {
  if (absl::Status st = CheckPartition(partition); !st.ok()) return st;
  absl::StatusOr<KvEntry> entry = leases_->Get(ClusterNames::LeaseKey(partition));
  if (absl::IsNotFound(entry.status())) return std::optional<LeaseInfo>();
  if (!entry.ok()) return entry.status();
  absl::StatusOr<LeaseInfo> info = DecodeLease(partition, *entry);
  if (!info.ok()) return info.status();
  return std::optional<LeaseInfo>(*std::move(info));
}

absl::StatusOr<PartitionStatus> Cluster::Status(int partition) {
  absl::StatusOr<std::optional<LeaseInfo>> lease = Lease(partition);
  if (!lease.ok()) return lease.status();
  PartitionStatus out;
  out.partition = partition;
  out.stream = names_.Stream(partition);
  out.lease = *std::move(lease);
  absl::StatusOr<StreamState> state = js_.GetStreamState(out.stream);
  if (!state.ok()) return state.status();
  out.stream_state = *std::move(state);
  const uint64_t last = out.stream_state.last_sequence;
  out.batches = last >= kFirstBatchSequence ? PositionOf(last) + 1 : 0;
  return out;
}

absl::Status Cluster::Heartbeat(absl::string_view node) {
  if (node.empty() || node.size() > 64 ||
      !std::all_of(node.begin(), node.end(), [](char c) {
        return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
               c == '_' || c == '-';
      })) {
    return absl::InvalidArgumentError(absl::StrCat(
        "node name \"", node, "\": 1-64 characters of [A-Za-z0-9_-]"));
  }
  const std::string key = ClusterNames::NodeKey(node);
  absl::StatusOr<KvEntry> entry = leases_->Get(key);
  if (absl::IsNotFound(entry.status())) {
    absl::StatusOr<uint64_t> rev = leases_->Create(key, node);
    // Written in between by the same name's other round: live either way.
    if (rev.ok() || absl::IsAlreadyExists(rev.status())) {
      return absl::OkStatus();
    }
    return rev.status();
  }
  if (!entry.ok()) return entry.status();
  absl::StatusOr<uint64_t> rev = leases_->Update(key, node, entry->revision);
  if (rev.ok() || absl::IsFailedPrecondition(rev.status())) {
    return absl::OkStatus();
  }
  return rev.status();
}

absl::Status Cluster::Leave(absl::string_view node) {
  return leases_->Delete(ClusterNames::NodeKey(node));
}

absl::StatusOr<std::vector<std::string>> Cluster::LiveNodes() {
  const std::string prefix = ClusterNames::NodeKey("");
  absl::StatusOr<std::vector<std::string>> keys = leases_->Keys(prefix);
  if (!keys.ok()) return keys.status();
  std::vector<std::string> out;
  for (const std::string& k : *keys) out.push_back(k.substr(prefix.size()));
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace slate::cluster
