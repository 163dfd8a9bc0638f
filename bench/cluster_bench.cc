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
// Each reports items_per_second (messages or batches). Run:
//   bazel run --config=bench //bench:cluster_bench
// The ratios of interest (Append / AsyncPublish, Append / SyncPublish) are
// in bench/RESULTS.md. Orientation only: servers and client share 2 cores.
#include <nats/nats.h>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "lib/cluster/cluster.h"
#include "lib/cluster/jetstream.h"
#include "lib/cluster/partition_log.h"
#include "tests/cluster/cluster_fixture.h"
#include "tests/testing/nats_cluster.h"

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
      if (absl::Status r = e->js->EnsureStream(raw); !r.ok()) {
        std::cerr << r << "\n";
        std::abort();
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

void BM_RawJetStream_AsyncPublish(benchmark::State& state) {
  Env& env = Env::Get();
  const std::string data(env.message_size, 'x');
  int64_t n = 0;
  for (auto _ : state) {
    if (js_PublishAsync(env.raw, "raw.async", data.data(),
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
  state.counters["bytes"] = static_cast<double>(env.message_size);
}
BENCHMARK(BM_RawJetStream_AsyncPublish)->Iterations(20000)->UseRealTime();

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

}  // namespace
}  // namespace slate::cluster
