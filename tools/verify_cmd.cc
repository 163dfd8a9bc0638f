// slate verify: checks a database end to end.
//
//   $ slate verify --db /tmp/slate
//   log: 42 events at positions 0..41, dense, each decodes ...
//   ...
//   OK: 5 checks passed
//
// Checks the log (dense positions, every record decodes, stream and event-id
// indexes consistent) and that every projection equals a fresh fold from
// position 0. With `--nats URLS` in place of --db: for every partition of
// the cluster, under a "partition N:" line, that its stream is dense and
// every command decodes, then the same checks by the partition's owner on
// its engine. Exit 0 when everything holds, 1 with the first differences
// when anything is off or the database fails, 2 on bad usage or no database
// in DIR (tools/cli.h).
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "lib/api/engine.h"
#include "lib/cluster/partition_log.h"
#include "tools/cli.h"
#include "tools/remote_tool.h"

namespace slate::tools {

namespace {

int RunVerify(const std::string& db) {
  Options options;
  options.create_if_missing = false;
  int code = kExitOk;
  OpenedEngine opened = OpenEngine("verify", options, db, std::nullopt, &code);
  if (opened.engine == nullptr) return code;
  Engine* engine = opened.engine;
  VerifyReport report;
  absl::Status st = engine->Verify(&report);
  FILE* out = ToolOut();
  for (const std::string& line : report.checked) {
    std::fprintf(out, "%s\n", line.c_str());
  }
  if (!st.ok()) {
    return Fail("verify",
                absl::StrCat("the check could not run: ", st.ToString()));
  }
  if (!report.ok()) {
    std::fprintf(out, "FAILED: %zu problem(s); the first:\n",
                 report.problems.size() + report.more_problems);
    for (const std::string& p : report.problems) {
      std::fprintf(out, "  %s\n", p.c_str());
    }
    return kExitFailed;
  }
  std::fprintf(out, "OK: %zu checks passed\n", report.checked.size());
  return kExitOk;
}

// A cluster partition's stream: every batch decodes, positions dense.
int VerifyStream(cluster::Cluster& c, int partition) {
  cluster::PartitionReader reader(c, partition);
  absl::StatusOr<uint64_t> batches = reader.Batches();
  if (!batches.ok()) return Fail("verify", batches.status().ToString());
  absl::StatusOr<std::vector<cluster::PartitionEntry>> entries =
      reader.Read(0, *batches);
  if (!entries.ok()) {
    std::fprintf(ToolOut(), "FAILED: stream of partition %d: %s\n",
                 partition, entries.status().ToString().c_str());
    return kExitFailed;
  }
  uint64_t events = 0;
  for (size_t i = 0; i < entries->size(); ++i) {
    if ((*entries)[i].position != i) {
      std::fprintf(ToolOut(),
                   "FAILED: stream of partition %d: position %llu where %zu "
                   "was expected\n",
                   partition,
                   static_cast<unsigned long long>((*entries)[i].position), i);
      return kExitFailed;
    }
    events += static_cast<uint64_t>((*entries)[i].batch.events_size());
  }
  if (entries->size() != *batches) {
    std::fprintf(ToolOut(),
                 "FAILED: stream of partition %d: %zu of %llu batches read\n",
                 partition, entries->size(),
                 static_cast<unsigned long long>(*batches));
    return kExitFailed;
  }
  std::fprintf(ToolOut(),
               "stream: %llu commands at positions 0..%lld, dense, each "
               "decodes, %llu events\n",
               static_cast<unsigned long long>(*batches),
               static_cast<long long>(*batches) - 1,
               static_cast<unsigned long long>(events));
  return kExitOk;
}

}  // namespace

CommandRun SetUpVerifyCommand(CLI::App* app) {
  struct VerifyFlags {
    std::string db;
    NatsFlags nats;
  };
  auto f = std::make_shared<VerifyFlags>();
  AddDbOrNatsFlags(app, &f->db, &f->nats);
  return [f] {
    if (std::optional<int> remote =
            RunOnClusterIfAsked("verify", f->db, f->nats, "",
                                ClusterRoute::kEvery, VerifyStream)) {
      return *remote;
    }
    return RunVerify(f->db);
  };
}

}  // namespace slate::tools
