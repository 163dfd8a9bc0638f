// `slate cluster init` and `slate cluster status` against one nats-server
// started by the test: what they print, that the partition count is fixed,
// and the exit codes for a missing cluster and an unreachable server.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/cluster/cluster.h"
#include "lib/cluster/partition_log.h"
#include "tests/report/subprocess.h"
#include "tests/testing/nats_cluster.h"
#include "tests/testing/temp_dir.h"

namespace slate {
namespace {

using ::slate::testing::ProcessResult;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class SlateClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<testing::NatsCluster>> s =
        testing::NatsCluster::Start(1);
    ASSERT_TRUE(s.ok()) << s.status();
    servers_ = *std::move(s);
    url_ = servers_->ClientUrls()[0];
  }
  ProcessResult Slate(std::vector<std::string> args) {
    args.insert(args.begin(), testing::Runfile("tools/slate"));
    return testing::RunProcess(args, tmp_.Sub(absl::StrCat("run", runs_++)));
  }

  testing::TempDir tmp_;
  int runs_ = 0;
  std::unique_ptr<testing::NatsCluster> servers_;
  std::string url_;
};

TEST_F(SlateClusterTest, InitThenStatusShowsPartitionsOwnersAndPositions) {
  ProcessResult r = Slate({"cluster", "init", "--nats", url_, "--partitions", "3",
                           "--replicas", "1"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_EQ(r.out, "cluster SLATE: 3 partitions, 1 replicas, lease ttl 10s\n");

  // A writer holds partition 1 and appends two batches.
  JetStreamOptions options;
  options.servers = {url_};
  absl::StatusOr<std::unique_ptr<JetStream>> js = JetStream::Connect(options);
  ASSERT_TRUE(js.ok()) << js.status();
  absl::StatusOr<std::unique_ptr<cluster::Cluster>> c = cluster::Cluster::Open(**js);
  ASSERT_TRUE(c.ok()) << c.status();
  cluster::PartitionWriterOptions w;
  w.node = "node-a";
  w.partition = 1;
  absl::StatusOr<std::unique_ptr<cluster::PartitionWriter>> writer =
      cluster::PartitionWriter::Acquire(**c, w);
  ASSERT_TRUE(writer.ok()) << writer.status();
  for (const char* id : {"c1", "c2"}) {
    cluster::PartitionBatch batch;
    batch.set_tenant_id("acme");
    batch.set_command_key(cluster::CommandKey("acme", id));
    batch.add_events()->set_event_id(id);
    ASSERT_TRUE((*writer)->Append(batch).ok());
  }

  r = Slate({"cluster", "status", "--nats", url_});
  ASSERT_EQ(r.code, 0) << r;
  std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 6u) << r;
  EXPECT_EQ(lines[5], "live nodes: none") << r;  // A writer is no node.
  EXPECT_EQ(lines[0], "cluster SLATE: 3 partitions, 1 replicas, lease ttl 10s");
  EXPECT_THAT(lines[1], StartsWith("partition  owner"));
  std::vector<std::string> p0 = absl::StrSplit(lines[2], ' ', absl::SkipEmpty());
  std::vector<std::string> p1 = absl::StrSplit(lines[3], ' ', absl::SkipEmpty());
  EXPECT_EQ(absl::StrJoin(p0, " "), "0 - - 0 - - -") << r;
  ASSERT_EQ(p1.size(), 7u) << r;
  EXPECT_EQ(p1[0], "1");
  EXPECT_EQ(p1[1], "node-a");
  EXPECT_TRUE(absl::EndsWith(p1[2], "s")) << p1[2];  // lease left
  EXPECT_EQ(p1[3], "2");                             // batches
  EXPECT_EQ(p1[4], "1");                             // last position
  writer->reset();

  // The partition count is fixed.
  r = Slate({"cluster", "init", "--nats", url_, "--partitions", "5", "--replicas", "1"});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_THAT(r.err, StartsWith("slate cluster init: cluster SLATE exists with 3 "
                                "partitions"));
  EXPECT_EQ(r.out, "");
}

TEST_F(SlateClusterTest, StatusOfAMissingClusterIsAUsageError) {
  ProcessResult r = Slate({"cluster", "status", "--nats", url_, "--prefix", "NONE"});
  EXPECT_EQ(r.code, 2) << r;
  EXPECT_THAT(r.err, StartsWith("slate cluster status: cluster NONE is not initialised"));
}

TEST_F(SlateClusterTest, NoServerFailsInOneLine) {
  ProcessResult r = Slate({"cluster", "status", "--nats", "nats://127.0.0.1:1"});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_THAT(r.err, StartsWith("slate cluster status: nats: connect to"));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r;
  r = Slate({"cluster", "init", "--nats", url_, "--partitions", "0"});
  EXPECT_EQ(r.code, 2) << r;
}

}  // namespace
}  // namespace slate
