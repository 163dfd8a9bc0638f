// The partitioned log on a 3-server loopback JetStream cluster (R3 file
// streams) that the bench starts itself (tests/testing/nats_cluster.h),
// against raw libnats publishes of the same message size in the same run:
//
//   BM_RawJetStream_AsyncPublish  js_PublishAsync, 4,096 in flight: the
//                                 cluster's pipelined ceiling
//   BM_RawJetStream_SyncPublish   js_Publish, one at a time: the floor of
//                                 anything that waits for each ack
//   BM_PartitionWriter_Append     PartitionWriter::Append: a fenced
//                                 (expected last sequence), de-duplicated
//                                 (Nats-Msg-Id) one-command batch
//   BM_PartitionReader_Ordered    reading 10,000 batches back, streamed
//   BM_PartitionReader_Gets       the same with one get request per batch
//
// The node path: 3 Nodes in this process (lib/cluster/node.h, each its own
// connection and one partition of 3), commands (OpenIncident of a new
// incident, tenants round robin over the partitions):
//   BM_RawJetStream_AsyncPublish/1/3  the baseline of the node path: raw
//                                 async publishes of a command's message
//                                 size, round robin to 3 streams
//   BM_Cluster_Execute/W          W requests in flight from one client
//                                 connection, each command routed as
//                                 RemoteExecute routes it (Cluster::
//                                 PartitionOf, then the partition's exec
//                                 subject); counters cpu_us_bench and
//                                 cpu_us_servers: CPU per command of this
//                                 process and of the 3 servers
//   BM_Cluster_ExecuteGroup/G/W   the same with G commands of a partition
//                                 per request (ExecGroupRequest, as
//                                 RemoteExecuteGroup sends them); counter
//                                 commands_per_message: commands over the
//                                 messages the partitions' streams grew by
//   BM_RawJetStream_AsyncPublish/G/3  raw publishes of G commands' size
//   BM_Cluster_ExecuteLatency     one command at a time via RemoteExecute:
//                                 counters p50_us and p99_us
//   BM_Node_Execute               one command at a time via Node::Execute
//                                 on one node (a third of them its own)
//
// Each reports items_per_second (messages, batches or commands). Run:
//   bazel run --config=bench //bench:cluster_bench
// The ratios of interest (Cluster_Execute / AsyncPublish of the same size
// and streams; Append / SyncPublish) are in bench/RESULTS.md. Orientation
// only: servers, nodes and client share 2 cores.
#include <nats/nats.h>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "lib/cluster/client.h"
#include "lib/cluster/cluster.h"
#include "lib/cluster/jetstream.h"
#include "lib/cluster/node.h"
#include "lib/cluster/partition_log.h"
#include "tests/cluster/cluster_fixture.h"
#include "tests/testing/nats_cluster.h"
#include "tests/testing/temp_dir.h"

namespace slate::cluster {
namespace {

constexpr int kReadBatches = 10000;

PartitionBatch OneCommand(int i) {
  return MakeBatch("acme", absl::StrCat("cmd-", i), 1);  // tests/cluster
}

// One cluster for the whole run, stopped at exit (the harness kills its
// servers in its destructor).
struct Env {
  std::unique_ptr<testing::NatsCluster> servers;
  std::unique_ptr<JetStream> js;
  std::unique_ptr<Cluster> cluster;
  natsConnection* nc = nullptr;
  jsCtx* raw = nullptr;
  size_t message_size = 0;

  static Env& Get() {
    static Env* env = [] {
      auto* e = new Env();
      absl::StatusOr<std::unique_ptr<testing::NatsCluster>> s =
          testing::NatsCluster::Start(3);
      if (!s.ok()) {
        std::cerr << s.status() << "\n";
        std::abort();
      }
      e->servers = *std::move(s);
      JetStreamOptions o;
      o.servers = e->servers->ClientUrls();
      absl::StatusOr<std::unique_ptr<JetStream>> js = JetStream::Connect(o);
      ClusterOptions c;
      c.partitions = 3;  // 0: writer, 1: reader data, 2: unused
      absl::Status st = js.ok() ? InitCluster(**js, c) : js.status();
      if (!st.ok()) {
        std::cerr << st << "\n";
        std::abort();
      }
      e->js = *std::move(js);
      e->cluster = *Cluster::Open(*e->js);
      StreamConfig raw;
      raw.replicas = 3;
      for (int i = 0; i < 3; ++i) {
        raw.name = i == 0 ? "RAW" : absl::StrCat("RAW", i);
        raw.subjects = {i == 0 ? "raw.>" : absl::StrCat("raw", i, ".>")};
        if (absl::Status r = e->js->EnsureStream(raw); !r.ok()) {
          std::cerr << r << "\n";
          std::abort();
        }
      }
      // A raw libnats connection for the baselines.
      std::vector<const char*> urls;
      static std::vector<std::string> keep = e->servers->ClientUrls();
      for (const std::string& u : keep) urls.push_back(u.c_str());
      natsOptions* opts = nullptr;
      natsOptions_Create(&opts);
      natsOptions_SetServers(opts, urls.data(), static_cast<int>(urls.size()));
      if (natsConnection_Connect(&e->nc, opts) != NATS_OK) std::abort();
      natsOptions_Destroy(opts);
      jsOptions jo;
      jsOptions_Init(&jo);
      jo.PublishAsync.MaxPending = 4096;
      jo.PublishAsync.StallWait = 30000;  // ms: a loaded machine stalls long
      if (natsConnection_JetStream(&e->raw, e->nc, &jo) != NATS_OK) std::abort();
      e->message_size = OneCommand(0).SerializeAsString().size();
      std::atexit([] {
        Env& env = Get();
        jsCtx_Destroy(env.raw);
        natsConnection_Destroy(env.nc);
        env.cluster.reset();
        env.js.reset();
        env.servers.reset();
      });
      return e;
    }();
    return *env;
  }
};

size_t CommandMessageSize();  // below

// range(0): the message size (0: a 65-byte one-event batch; k > 0: the
// node path's message of k commands, k * CommandMessageSize); range(1):
// streams, 1 or 3 (round robin, as commands spread over 3 partitions).
void BM_RawJetStream_AsyncPublish(benchmark::State& state) {
  Env& env = Env::Get();
  const size_t size = state.range(0) == 0
                          ? env.message_size
                          : static_cast<size_t>(state.range(0)) *
                                CommandMessageSize();
  const int streams = static_cast<int>(state.range(1));
  const std::string data(size, 'x');
  const char* subjects[] = {"raw.async", "raw1.async", "raw2.async"};
  int64_t n = 0;
  for (auto _ : state) {
    if (js_PublishAsync(env.raw, subjects[n % streams], data.data(),
                        static_cast<int>(data.size()), nullptr) != NATS_OK) {
      state.SkipWithError("js_PublishAsync failed");
      break;
    }
    ++n;
  }
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = 60000;
  if (js_PublishAsyncComplete(env.raw, &po) != NATS_OK) {
    state.SkipWithError("js_PublishAsyncComplete failed");
  }
  state.SetItemsProcessed(n);
  state.counters["bytes"] = static_cast<double>(size);
  state.counters["streams"] = streams;
}
BENCHMARK(BM_RawJetStream_AsyncPublish)
    ->Args({0, 1})
    ->Args({1, 3})
    ->Args({16, 3})
    ->Args({64, 3})
    ->Iterations(20000)
    ->UseRealTime();

void BM_RawJetStream_SyncPublish(benchmark::State& state) {
  Env& env = Env::Get();
  const std::string data(env.message_size, 'x');
  for (auto _ : state) {
    jsPubAck* ack = nullptr;
    if (js_Publish(&ack, env.raw, "raw.sync", data.data(),
                   static_cast<int>(data.size()), nullptr, nullptr) != NATS_OK) {
      state.SkipWithError("js_Publish failed");
      break;
    }
    jsPubAck_Destroy(ack);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["bytes"] = static_cast<double>(env.message_size);
}
BENCHMARK(BM_RawJetStream_SyncPublish)->Iterations(3000)->UseRealTime();

void BM_PartitionWriter_Append(benchmark::State& state) {
  Env& env = Env::Get();
  PartitionWriterOptions o;
  o.node = "bench";
  o.partition = 0;
  absl::StatusOr<std::unique_ptr<PartitionWriter>> w =
      PartitionWriter::Acquire(*env.cluster, o);
  if (!w.ok()) {
    state.SkipWithError(std::string(w.status().message()).c_str());
    return;
  }
  static int next = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const PartitionBatch batch = OneCommand(next++);
    state.ResumeTiming();
    absl::StatusOr<AppendResult> r = (*w)->Append(batch);
    if (!r.ok()) {
      state.SkipWithError(std::string(r.status().message()).c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["bytes"] = static_cast<double>(env.message_size);
}
BENCHMARK(BM_PartitionWriter_Append)->Iterations(3000)->UseRealTime();

// Fills partition 1 with kReadBatches batches once (raw async publishes
// with the batch subject and encoding: the reader cannot tell).
void FillReadPartition(Env& env) {
  static bool filled = [&env] {
    const std::string subject = env.cluster->names().BatchSubject(1);
    for (int i = 0; i < kReadBatches; ++i) {
      const std::string data = OneCommand(i).SerializeAsString();
      if (js_PublishAsync(env.raw, subject.c_str(), data.data(),
                          static_cast<int>(data.size()), nullptr) != NATS_OK) {
        std::abort();
      }
    }
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = 60000;
    if (js_PublishAsyncComplete(env.raw, &po) != NATS_OK) std::abort();
    return true;
  }();
  (void)filled;
}

void ReadBench(benchmark::State& state, size_t chunk) {
  Env& env = Env::Get();
  FillReadPartition(env);
  PartitionReader reader(*env.cluster, 1);
  int64_t batches = 0;
  for (auto _ : state) {
    // chunk < 32 reads with gets (PartitionReader's threshold).
    for (uint64_t from = 0; from < kReadBatches;) {
      absl::StatusOr<std::vector<PartitionEntry>> got = reader.Read(from, chunk);
      if (!got.ok() || got->empty()) {
        state.SkipWithError("read failed");
        return;
      }
      from += got->size();
      batches += static_cast<int64_t>(got->size());
    }
  }
  state.SetItemsProcessed(batches);
}

void BM_PartitionReader_Ordered(benchmark::State& state) {
  ReadBench(state, kReadBatches);
}
BENCHMARK(BM_PartitionReader_Ordered)->Iterations(3)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_PartitionReader_Gets(benchmark::State& state) {
  ReadBench(state, 31);
}
BENCHMARK(BM_PartitionReader_Gets)->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);

// ---------------------------------------------------------------------------
// The node path. Three Nodes in this process, each with a connection of its
// own and one partition (max_partitions = 1) of a second cluster ("NODES":
// 3 partitions, R3), answer commands sent as NATS requests to the
// partitions' exec subjects; a command is an OpenIncident of a new
// incident, tenants round robin over the partitions.

Command OpenCommand(const std::string& tenant, int64_t n) {
  Command c;
  c.set_command_id(absl::StrCat("open-", n));
  c.set_tenant_id(tenant);
  OpenIncident* o = c.mutable_open_incident();
  o->set_incident_id(absl::StrCat("INC", n));
  o->set_at("2026-11-23T09:00:00Z");
  o->set_impact(2);
  o->set_urgency(2);
  return c;
}

struct NodesEnv {
  std::unique_ptr<testing::TempDir> dir;
  std::vector<std::unique_ptr<JetStream>> node_js;
  std::vector<std::unique_ptr<Cluster>> node_clusters;
  std::vector<std::unique_ptr<Node>> nodes;
  std::unique_ptr<JetStream> client_js;
  std::unique_ptr<Cluster> client;  // the client's view of the cluster
  std::vector<std::string> tenants;  // tenants[p] lives on partition p
  size_t message_size = 0;           // one OpenIncident command's message
  int64_t next_command = 0;

  ~NodesEnv() {
    nodes.clear();  // they release their leases
    client.reset();
    client_js.reset();
    node_clusters.clear();
    node_js.clear();
  }

  static NodesEnv& Get() {
    Env& base = Env::Get();  // first: its servers outlive the nodes
    static std::unique_ptr<NodesEnv> current;
    if (current != nullptr) return *current;
    auto die = [](const absl::Status& st) {
      std::cerr << "nodes: " << st << "\n";
      std::abort();
    };
    auto e = std::make_unique<NodesEnv>();
    ClusterOptions c;
    c.prefix = "NODES";
    c.partitions = 3;
    if (absl::Status st = InitCluster(*base.js, c); !st.ok()) die(st);
    e->dir = std::make_unique<testing::TempDir>();
    JetStreamOptions jo;
    jo.servers = base.servers->ClientUrls();
    for (int i = 0; i < 3; ++i) {
      jo.name = absl::StrCat("node-", i);
      absl::StatusOr<std::unique_ptr<JetStream>> js = JetStream::Connect(jo);
      if (!js.ok()) die(js.status());
      absl::StatusOr<std::unique_ptr<Cluster>> cl = Cluster::Open(**js, c.prefix);
      if (!cl.ok()) die(cl.status());
      NodeOptions o;
      o.name = absl::StrCat("node-", i);
      o.dir = e->dir->Sub(o.name);
      o.engine.durability = Durability::kProcessCrash;
      o.max_partitions = 1;
      absl::StatusOr<std::unique_ptr<Node>> node = Node::Start(**cl, o);
      if (!node.ok()) die(node.status());
      if ((*node)->Owned().size() != 1) {
        die(absl::InternalError(absl::StrCat(o.name, " owns no partition")));
      }
      e->node_js.push_back(*std::move(js));
      e->node_clusters.push_back(*std::move(cl));
      e->nodes.push_back(*std::move(node));
    }
    jo.name = "client";
    absl::StatusOr<std::unique_ptr<JetStream>> js = JetStream::Connect(jo);
    if (!js.ok()) die(js.status());
    e->client_js = *std::move(js);
    e->client = *Cluster::Open(*e->client_js, c.prefix);
    e->tenants.resize(3);
    for (int i = 0, found = 0; found < 3; ++i) {
      const std::string t = absl::StrCat("t", i);
      const int p = HashPartition(t, 3);
      if (e->tenants[p].empty()) {
        e->tenants[p] = t;
        ++found;
      }
    }
    for (int p = 0; p < 3; ++p) {
      // Warm up each partition.
      absl::StatusOr<ExecuteResult> r = RemoteExecute(
          *e->client, OpenCommand(e->tenants[p], e->next_command++));
      if (!r.ok()) die(r.status());
    }
    PartitionReader reader(*e->client, 0);
    absl::StatusOr<std::vector<PartitionEntry>> first = reader.Read(0, 1);
    if (!first.ok() || first->empty()) die(absl::InternalError("no first command"));
    e->message_size = (*first)[0].batch.SerializeAsString().size();
    current = std::move(e);
    // Stop the nodes at exit before the statics their RocksDB logging
    // built (since this registration's) go, and before Env's servers.
    std::atexit([] { current.reset(); });
    return *current;
  }

  // The next command (tenant round robin over the partitions).
  Command Next() {
    const int64_t n = next_command++;
    return OpenCommand(tenants[n % 3], n);
  }
};

size_t CommandMessageSize() { return NodesEnv::Get().message_size; }

// CPU seconds used so far by this process, and by the servers' processes
// (/proc/<pid>/stat utime + stime).
double SelfCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double ServersCpuSeconds(const testing::NatsCluster& servers) {
  double total = 0;
  for (int i = 0; i < servers.size(); ++i) {
    std::ifstream in(absl::StrCat("/proc/", servers.pid(i), "/stat"));
    std::string line;
    std::getline(in, line);
    const size_t paren = line.rfind(')');
    if (paren == std::string::npos) continue;
    std::istringstream fields(line.substr(paren + 2));
    std::string f;
    double ticks = 0;
    // Fields 3.. after the command name; utime and stime are 14 and 15.
    for (int field = 3; field <= 15 && (fields >> f); ++field) {
      if (field >= 14) ticks += std::stod(f);
    }
    total += ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
  }
  return total;
}

// Many requests in flight on one connection: replies (ExecReply, or
// ExecGroupReply when `groups`) come to one wildcard inbox subscription.
struct Pipeline {
  bool groups = false;
  std::mutex mu;
  std::condition_variable cv;
  int in_flight = 0;        // Guarded by mu.
  int64_t failed = 0;       // Guarded by mu.
  std::string first_error;  // Guarded by mu.
};

// The reply's error; empty when it and every command of it are OK.
template <typename Reply>
std::string ReplyError(natsMsg* msg) {
  Reply reply;
  if (!reply.ParseFromArray(natsMsg_GetData(msg), natsMsg_GetDataLength(msg))) {
    return "reply does not decode";
  }
  if (reply.code() != 0) return reply.message();
  if constexpr (std::is_same_v<Reply, ExecGroupReply>) {
    for (const ExecReply& one : reply.replies()) {
      if (one.code() != 0) return one.message();
    }
  }
  return "";
}

void OnReply(natsConnection* /*nc*/, natsSubscription* /*sub*/, natsMsg* msg,
             void* closure) {
  auto* p = static_cast<Pipeline*>(closure);
  const std::string error = p->groups ? ReplyError<ExecGroupReply>(msg)
                                      : ReplyError<ExecReply>(msg);
  natsMsg_Destroy(msg);
  {
    std::lock_guard<std::mutex> l(p->mu);
    --p->in_flight;
    if (!error.empty() && p->failed++ == 0) p->first_error = error;
  }
  p->cv.notify_one();
}

// Messages stored in the node cluster's partitions so far.
uint64_t StoredBatches(Cluster& cluster) {
  uint64_t total = 0;
  for (int p = 0; p < cluster.partitions(); ++p) {
    absl::StatusOr<PartitionStatus> st = cluster.Status(p);
    if (st.ok()) total += st->batches;
  }
  return total;
}

// `commands` commands through the 3 nodes with `window` requests in
// flight, each routed as RemoteExecute routes it (the client's
// Cluster::PartitionOf): one command a request (ExecSubject) when `group`
// is 0, else `group` commands of a partition a request (ExecGroupRequest
// on ExecGroupSubject, as RemoteExecuteGroup sends them).
void RunPipelined(benchmark::State& state, int group, int window,
                  int commands_per_iteration) {
  Env& base = Env::Get();
  NodesEnv& env = NodesEnv::Get();
  Pipeline pipeline;
  pipeline.groups = group > 0;
  natsSubscription* sub = nullptr;
  static int inbox = 0;
  const std::string prefix = absl::StrCat("_INBOX.slatebench", inbox++);
  if (natsConnection_Subscribe(&sub, base.nc, absl::StrCat(prefix, ".*").c_str(),
                               OnReply, &pipeline) != NATS_OK ||
      natsSubscription_SetPendingLimits(sub, -1, -1) != NATS_OK ||
      natsConnection_Flush(base.nc) != NATS_OK) {
    state.SkipWithError("inbox subscription failed");
    return;
  }
  std::vector<Command> commands;
  int64_t sent = 0;
  double self_cpu = 0;
  double servers_cpu = 0;
  uint64_t messages = 0;
  for (auto _ : state) {
    state.PauseTiming();
    commands.clear();
    for (int i = 0; i < commands_per_iteration; ++i) {
      commands.push_back(env.Next());
    }
    const uint64_t batches0 = StoredBatches(*env.client);
    const double self0 = SelfCpuSeconds();
    const double servers0 = ServersCpuSeconds(*base.servers);
    state.ResumeTiming();
    // Per partition, the next group request being filled.
    std::vector<ExecGroupRequest> filling(3);
    for (const Command& c : commands) {
      absl::StatusOr<int> p = env.client->PartitionOf(c.tenant_id());
      if (!p.ok()) {
        state.SkipWithError(std::string(p.status().message()).c_str());
        break;
      }
      std::string bytes;
      std::string subject;
      if (group == 0) {
        bytes = c.SerializeAsString();
        subject = env.client->names().ExecSubject(*p);
      } else {
        *filling[*p].add_commands() = c;
        if (filling[*p].commands_size() < group) continue;
        bytes = filling[*p].SerializeAsString();
        filling[*p].Clear();
        subject = env.client->names().ExecGroupSubject(*p);
      }
      {
        std::unique_lock<std::mutex> l(pipeline.mu);
        pipeline.cv.wait(l, [&] { return pipeline.in_flight < window; });
        ++pipeline.in_flight;
      }
      const std::string reply = absl::StrCat(prefix, ".", sent++);
      if (natsConnection_PublishRequest(base.nc, subject.c_str(), reply.c_str(),
                                        bytes.data(),
                                        static_cast<int>(bytes.size())) != NATS_OK) {
        state.SkipWithError("request publish failed");
        break;
      }
    }
    std::unique_lock<std::mutex> l(pipeline.mu);
    if (!pipeline.cv.wait_for(l, std::chrono::seconds(60),
                              [&] { return pipeline.in_flight == 0; })) {
      state.SkipWithError("replies missing after 60 s");
      break;
    }
    self_cpu += SelfCpuSeconds() - self0;
    servers_cpu += ServersCpuSeconds(*base.servers) - servers0;
    state.PauseTiming();
    messages += StoredBatches(*env.client) - batches0;
    state.ResumeTiming();
  }
  natsSubscription_Unsubscribe(sub);
  natsSubscription_Destroy(sub);
  std::lock_guard<std::mutex> l(pipeline.mu);
  if (pipeline.failed > 0) {
    state.SkipWithError(absl::StrCat(pipeline.failed, " requests failed, first: ",
                                     pipeline.first_error)
                            .c_str());
  }
  const double done = static_cast<double>(state.iterations() * commands_per_iteration);
  state.SetItemsProcessed(state.iterations() * commands_per_iteration);
  state.counters["in_flight"] = window;
  state.counters["cpu_us_bench"] = self_cpu * 1e6 / done;
  state.counters["cpu_us_servers"] = servers_cpu * 1e6 / done;
  state.counters["commands_per_message"] =
      messages == 0 ? 0 : done / static_cast<double>(messages);
}

// One command a request, range(0) requests in flight.
void BM_Cluster_Execute(benchmark::State& state) {
  RunPipelined(state, 0, static_cast<int>(state.range(0)), 6000);
}
BENCHMARK(BM_Cluster_Execute)->Arg(64)->Arg(192)->Iterations(1)->UseRealTime();

// range(0) commands of one partition a request, range(1) requests in
// flight.
void BM_Cluster_ExecuteGroup(benchmark::State& state) {
  const int group = static_cast<int>(state.range(0));
  RunPipelined(state, group, static_cast<int>(state.range(1)), 192 * group);
  state.counters["group"] = group;
}
BENCHMARK(BM_Cluster_ExecuteGroup)
    ->Args({16, 6})
    ->Args({64, 3})
    ->Args({64, 6})
    ->Iterations(1)
    ->UseRealTime();

// One command at a time through RemoteExecute (lib/cluster/client.h):
// the latency of a command on an otherwise idle cluster.
void BM_Cluster_ExecuteLatency(benchmark::State& state) {
  NodesEnv& env = NodesEnv::Get();
  std::vector<double> micros;
  for (auto _ : state) {
    state.PauseTiming();
    const Command c = env.Next();
    state.ResumeTiming();
    const auto start = std::chrono::steady_clock::now();
    absl::StatusOr<ExecuteResult> r = RemoteExecute(*env.client, c);
    micros.push_back(std::chrono::duration<double, std::micro>(
                         std::chrono::steady_clock::now() - start)
                         .count());
    if (!r.ok()) {
      state.SkipWithError(std::string(r.status().message()).c_str());
      break;
    }
  }
  std::sort(micros.begin(), micros.end());
  if (!micros.empty()) {
    state.counters["p50_us"] = micros[micros.size() / 2];
    state.counters["p99_us"] = micros[micros.size() * 99 / 100];
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Cluster_ExecuteLatency)->Iterations(1000)->UseRealTime();

// One command at a time through Node::Execute on node 0: its own
// partition's commands on its engine, the others forwarded.
void BM_Node_Execute(benchmark::State& state) {
  NodesEnv& env = NodesEnv::Get();
  for (auto _ : state) {
    state.PauseTiming();
    const Command c = env.Next();
    state.ResumeTiming();
    absl::StatusOr<ExecuteResult> r = env.nodes[0]->Execute(c);
    if (!r.ok()) {
      state.SkipWithError(std::string(r.status().message()).c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Node_Execute)->Iterations(1000)->UseRealTime();

}  // namespace
}  // namespace slate::cluster
