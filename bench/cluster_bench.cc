// The partitioned log and the node path on a 3-server loopback JetStream
// cluster (R3 file streams) that the bench starts itself
// (tests/testing/nats_cluster.h), against raw libnats publishes of the same
// message sizes in the same run:
//
//   BM_RawJetStream_AsyncPublish/S/N  js_PublishAsync, 4,096 in flight, to
//                                 N streams (1, or 3 round robin as the
//                                 commands over 3 partitions); S = 0: the
//                                 65-byte one-event batch, S = 1: the size
//                                 of a command's message on the node path
//   BM_RawJetStream_SyncPublish   js_Publish, one at a time: the floor of
//                                 anything that waits for each ack
//   BM_PartitionWriter_Append     PartitionWriter::Append: a fenced
//                                 (expected last sequence), de-duplicated
//                                 (Nats-Msg-Id) one-command batch
//   BM_PartitionWriter_AppendPipelined/G  groups of G batches through
//                                 AppendPipelined (one round trip a group)
//   BM_PartitionReader_Ordered    reading 10,000 batches back, streamed
//   BM_PartitionReader_Gets       the same with one get request per batch
//
// Where one command's time goes, one at a time:
//   BM_Engine_ExecuteLocal        Engine::Execute of a local engine
//   BM_PartitionEngine_Execute    the same engine writing through a
//                                 partition (publish, ack, then RocksDB)
//   BM_Nats_RequestReply          a core NATS request to an echo responder
//
// The node path: 3 Nodes in this process (lib/cluster/node.h, each its own
// connection and one partition of 3), commands (OpenIncident of a new
// incident, tenants spread over the partitions) sent as NATS requests to
// the partitions' exec subjects, as RemoteExecute sends them:
//   BM_Cluster_Execute/K/W        node setup K (kSetups: 0 serial, as
//                                 before pipelining; 1 pipelined; ...) with
//                                 W requests in flight from one client
//                                 connection (a wildcard reply inbox)
//   BM_Cluster_ExecuteLatency/K   one command at a time via RemoteExecute:
//                                 counters p50_us and p99_us
//
// Each reports items_per_second (messages, batches or commands). Run:
//   bazel run --config=bench //bench:cluster_bench
// The ratios of interest (Cluster_Execute / AsyncPublish of the same size
// and streams; Append / SyncPublish) are in bench/RESULTS.md. Orientation
// only: servers, nodes and client share 2 cores.
#include <nats/nats.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "lib/cluster/client.h"
#include "lib/cluster/cluster.h"
#include "lib/cluster/jetstream.h"
#include "lib/cluster/node.h"
#include "lib/cluster/partition_engine.h"
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
      raw.name = "RAW";
      raw.subjects = {"raw.>"};
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

// range(0): the message size (0: a 65-byte one-event batch; 1: the node
// path's command message, CommandMessageSize); range(1): streams, 1 or 3
// (round robin, as commands spread over 3 partitions).
void BM_RawJetStream_AsyncPublish(benchmark::State& state) {
  Env& env = Env::Get();
  const size_t size = state.range(0) == 0 ? env.message_size : CommandMessageSize();
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
    ->Args({1, 1})
    ->Args({1, 3})
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

// The writer of partition 0 (the lease), or null after SkipWithError.
std::unique_ptr<PartitionWriter> AcquirePartition0(Env& env, benchmark::State& state) {
  PartitionWriterOptions o;
  o.node = "bench";
  o.partition = 0;
  absl::StatusOr<std::unique_ptr<PartitionWriter>> w =
      PartitionWriter::Acquire(*env.cluster, o);
  if (!w.ok()) {
    state.SkipWithError(std::string(w.status().message()).c_str());
    return nullptr;
  }
  return *std::move(w);
}

void BM_PartitionWriter_Append(benchmark::State& state) {
  Env& env = Env::Get();
  std::unique_ptr<PartitionWriter> w = AcquirePartition0(env, state);
  if (w == nullptr) return;
  static int next = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const PartitionBatch batch = OneCommand(next++);
    state.ResumeTiming();
    absl::StatusOr<AppendResult> r = w->Append(batch);
    if (!r.ok()) {
      state.SkipWithError(std::string(r.status().message()).c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["bytes"] = static_cast<double>(env.message_size);
}
BENCHMARK(BM_PartitionWriter_Append)->Iterations(3000)->UseRealTime();

// PartitionWriter::AppendPipelined, groups of range(0) one-command
// batches: the fenced, de-duplicated writer without waiting per message.
void BM_PartitionWriter_AppendPipelined(benchmark::State& state) {
  Env& env = Env::Get();
  std::unique_ptr<PartitionWriter> w = AcquirePartition0(env, state);
  if (w == nullptr) return;
  static int next = 1000000;
  const size_t group = static_cast<size_t>(state.range(0));
  std::vector<PartitionBatch> batches(group);
  for (auto _ : state) {
    state.PauseTiming();
    for (PartitionBatch& b : batches) b = OneCommand(next++);
    state.ResumeTiming();
    if (w->AppendPipelined(batches).size() != group) {
      state.SkipWithError("a pipelined group did not go through whole");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(group));
  state.counters["bytes"] = static_cast<double>(env.message_size);
}
BENCHMARK(BM_PartitionWriter_AppendPipelined)->Arg(16)->Arg(256)->Iterations(100)->UseRealTime();

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
// partitions' exec subjects (ClusterNames::ExecSubject), as RemoteExecute
// sends them; a command is an OpenIncident of a new incident, tenants spread
// evenly over the partitions.

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

// How the nodes run. kSerial is the node path as it was before pipelining:
// one command at a time per partition, one round trip each.
struct NodeSetup {
  const char* name;
  int concurrent_commands;         // NodeOptions::concurrent_commands
  size_t max_group_commit_events;  // of the engines' Options
  bool send_asap;                  // JetStreamOptions of the nodes' connections
};
constexpr NodeSetup kSetups[] = {
    {"serial", 1, 1, false},
    {"pipelined", 64, 1024, true},
    {"pipelined_buffered", 64, 1024, false},
    {"pipelined_16", 16, 1024, true},
};
constexpr int kPipelined = 1;

// One setup's nodes at a time (a new one stops the last first), each on
// a cluster of its own ("NODES<setup>").
struct NodesEnv {
  int setup = 0;
  std::unique_ptr<testing::TempDir> dir;
  std::vector<std::unique_ptr<JetStream>> node_js;
  std::vector<std::unique_ptr<Cluster>> node_clusters;
  std::vector<std::unique_ptr<Node>> nodes;
  std::unique_ptr<JetStream> client_js;
  std::unique_ptr<Cluster> client;  // the client's view of the cluster
  std::vector<std::string> tenants;   // tenants[p] lives on partition p
  std::vector<std::string> subjects;  // exec subject of partition p
  size_t message_size = 0;            // one OpenIncident command's message
  static inline int64_t next_command = 0;

  ~NodesEnv() {
    nodes.clear();  // they release their leases
    client.reset();
    client_js.reset();
    node_clusters.clear();
    node_js.clear();
  }

  static NodesEnv& Get(int setup) {
    Env& base = Env::Get();  // first: its servers outlive the nodes
    static std::unique_ptr<NodesEnv> current;
    if (current != nullptr && current->setup == setup) return *current;
    current.reset();
    auto die = [](const absl::Status& st) {
      std::cerr << "nodes: " << st << "\n";
      std::abort();
    };
    auto e = std::make_unique<NodesEnv>();
    e->setup = setup;
    const NodeSetup& how = kSetups[setup];
    const std::string prefix = absl::StrCat("NODES", setup);
    ClusterOptions c;
    c.prefix = prefix;
    c.partitions = 3;
    if (absl::Status st = InitCluster(*base.js, c); !st.ok()) die(st);
    e->dir = std::make_unique<testing::TempDir>();
    JetStreamOptions jo;
    jo.servers = base.servers->ClientUrls();
    for (int i = 0; i < 3; ++i) {
      jo.name = absl::StrCat("node-", i);
      jo.send_asap = how.send_asap;
      absl::StatusOr<std::unique_ptr<JetStream>> js = JetStream::Connect(jo);
      if (!js.ok()) die(js.status());
      absl::StatusOr<std::unique_ptr<Cluster>> cl = Cluster::Open(**js, prefix);
      if (!cl.ok()) die(cl.status());
      NodeOptions o;
      o.name = absl::StrCat("node-", i);
      o.dir = e->dir->Sub(o.name);
      o.engine.durability = Durability::kProcessCrash;
      o.max_partitions = 1;
      o.concurrent_commands = how.concurrent_commands;
      o.engine.max_group_commit_events = how.max_group_commit_events;
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
    jo.send_asap = false;
    absl::StatusOr<std::unique_ptr<JetStream>> js = JetStream::Connect(jo);
    if (!js.ok()) die(js.status());
    e->client_js = *std::move(js);
    e->client = *Cluster::Open(*e->client_js, prefix);
    e->tenants.resize(3);
    for (int i = 0, found = 0; found < 3; ++i) {
      const std::string t = absl::StrCat("t", i);
      const int p = *e->client->PartitionOf(t);
      if (e->tenants[p].empty()) {
        e->tenants[p] = t;
        ++found;
      }
    }
    for (int p = 0; p < 3; ++p) {
      e->subjects.push_back(e->client->names().ExecSubject(p));
      // Warm up each partition, and take the size of a command's message.
      absl::StatusOr<ExecuteResult> r =
          RemoteExecute(*e->client, OpenCommand(e->tenants[p], next_command++));
      if (!r.ok()) die(r.status());
    }
    PartitionReader reader(*e->client, 0);
    absl::StatusOr<std::vector<PartitionEntry>> first = reader.Read(0, 1);
    if (!first.ok() || first->empty()) die(absl::InternalError("no first command"));
    e->message_size = (*first)[0].batch.SerializeAsString().size();
    current = std::move(e);
    // Stop the nodes at exit before the statics their RocksDB logging
    // built (since this registration's) go, and before Env's servers.
    static const bool stops_at_exit = [] {
      std::atexit([] { current.reset(); });
      return true;
    }();
    (void)stops_at_exit;
    return *current;
  }

  // The bytes of the next command (tenant round robin over the partitions)
  // and its partition.
  std::pair<std::string, int> Next() {
    const int64_t n = next_command++;
    const int p = static_cast<int>(n % 3);
    return {OpenCommand(tenants[p], n).SerializeAsString(), p};
  }
};

size_t CommandMessageSize() { return NodesEnv::Get(kPipelined).message_size; }

// Where a command's time goes, one at a time: the local engine alone, then
// the same engine writing through the partition (PartitionEngine::OpenWriter:
// every append published, fenced, and acknowledged first), no request/reply.
void BM_Engine_ExecuteLocal(benchmark::State& state) {
  testing::TempDir dir;
  slate::Options o;
  o.durability = Durability::kProcessCrash;
  absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Open(o, dir.Sub("local"));
  if (!engine.ok()) {
    state.SkipWithError(std::string(engine.status().message()).c_str());
    return;
  }
  int64_t n = 0;
  for (auto _ : state) {
    absl::StatusOr<ExecuteResult> r = (*engine)->Execute(OpenCommand("acme", n++));
    if (!r.ok()) {
      state.SkipWithError(std::string(r.status().message()).c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Engine_ExecuteLocal)->Iterations(3000)->UseRealTime();

void BM_PartitionEngine_Execute(benchmark::State& state) {
  Env& env = Env::Get();
  testing::TempDir dir;
  PartitionEngineOptions o;
  o.dir = dir.Sub("p2");
  o.node = "bench";
  o.partition = 2;
  o.engine.durability = Durability::kProcessCrash;
  absl::StatusOr<std::unique_ptr<PartitionEngine>> p =
      PartitionEngine::OpenWriter(*env.cluster, o);
  if (!p.ok()) {
    state.SkipWithError(std::string(p.status().message()).c_str());
    return;
  }
  static int64_t n = 0;
  for (auto _ : state) {
    absl::StatusOr<ExecuteResult> r = (*p)->engine().Execute(OpenCommand("acme", n++));
    if (!r.ok()) {
      state.SkipWithError(std::string(r.status().message()).c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PartitionEngine_Execute)->Iterations(2000)->UseRealTime();

// Core NATS request/reply alone: a responder (JetStream::Respond) that
// echoes, one request at a time.
void BM_Nats_RequestReply(benchmark::State& state) {
  Env& env = Env::Get();
  absl::StatusOr<std::unique_ptr<Responder>> echo = env.js->Respond(
      "bench.echo", [](absl::string_view r) { return std::string(r); });
  if (!echo.ok()) {
    state.SkipWithError("respond failed");
    return;
  }
  const std::string data(200, 'x');
  for (auto _ : state) {
    absl::StatusOr<std::string> r = env.js->Request("bench.echo", data, absl::Seconds(5));
    if (!r.ok()) {
      state.SkipWithError(std::string(r.status().message()).c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Nats_RequestReply)->Iterations(2000)->UseRealTime();

// Many requests in flight on one connection: replies come to one wildcard
// inbox subscription.
struct Pipeline {
  std::mutex mu;
  std::condition_variable cv;
  int in_flight = 0;   // Guarded by mu.
  int64_t failed = 0;  // Guarded by mu.
  std::string first_error;  // Guarded by mu.
};

void OnReply(natsConnection* /*nc*/, natsSubscription* /*sub*/, natsMsg* msg,
             void* closure) {
  auto* p = static_cast<Pipeline*>(closure);
  ExecReply reply;
  const bool ok = reply.ParseFromArray(natsMsg_GetData(msg), natsMsg_GetDataLength(msg)) &&
                  reply.code() == 0;
  natsMsg_Destroy(msg);
  {
    std::lock_guard<std::mutex> l(p->mu);
    --p->in_flight;
    if (!ok) {
      if (p->failed++ == 0) p->first_error = reply.message();
    }
  }
  p->cv.notify_one();
}

// Commands through the 3 nodes (setup range(0)) with range(1) requests in
// flight.
void BM_Cluster_Execute(benchmark::State& state) {
  Env& base = Env::Get();
  NodesEnv& env = NodesEnv::Get(static_cast<int>(state.range(0)));
  state.SetLabel(kSetups[state.range(0)].name);
  const int window = static_cast<int>(state.range(1));
  const int kCommands = window == 1 ? 2000 : 12000;
  Pipeline pipeline;
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
  std::vector<std::pair<std::string, int>> commands;
  int64_t sent = 0;
  for (auto _ : state) {
    state.PauseTiming();
    commands.clear();
    for (int i = 0; i < kCommands; ++i) commands.push_back(env.Next());
    state.ResumeTiming();
    for (int i = 0; i < kCommands; ++i) {
      {
        std::unique_lock<std::mutex> l(pipeline.mu);
        pipeline.cv.wait(l, [&] { return pipeline.in_flight < window; });
        ++pipeline.in_flight;
      }
      const std::string reply = absl::StrCat(prefix, ".", sent++);
      const auto& [bytes, p] = commands[i];
      if (natsConnection_PublishRequest(base.nc, env.subjects[p].c_str(), reply.c_str(),
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
  }
  natsSubscription_Unsubscribe(sub);
  natsSubscription_Destroy(sub);
  std::lock_guard<std::mutex> l(pipeline.mu);
  if (pipeline.failed > 0) {
    state.SkipWithError(absl::StrCat(pipeline.failed, " commands failed, first: ",
                                     pipeline.first_error)
                            .c_str());
  }
  state.SetItemsProcessed(state.iterations() * kCommands);
  state.counters["in_flight"] = window;
}
BENCHMARK(BM_Cluster_Execute)
    ->Args({0, 1})
    ->Args({0, 64})
    ->Args({1, 1})
    ->Args({1, 16})
    ->Args({1, 64})
    ->Args({1, 192})
    ->Args({1, 512})
    ->Args({2, 192})
    ->Args({3, 48})
    ->Args({3, 192})
    ->Iterations(1)
    ->UseRealTime();

// One command at a time through RemoteExecute (lib/cluster/client.h):
// the latency of a command on an otherwise idle cluster.
void BM_Cluster_ExecuteLatency(benchmark::State& state) {
  NodesEnv& env = NodesEnv::Get(static_cast<int>(state.range(0)));
  state.SetLabel(kSetups[state.range(0)].name);
  std::vector<double> micros;
  for (auto _ : state) {
    state.PauseTiming();
    const int64_t n = NodesEnv::next_command++;
    const Command c = OpenCommand(env.tenants[n % 3], n);
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
BENCHMARK(BM_Cluster_ExecuteLatency)
    ->Arg(0)
    ->Arg(1)
    ->Arg(2)
    ->Iterations(1000)
    ->UseRealTime();

}  // namespace
}  // namespace slate::cluster
