// The harness itself: it starts servers, restarts a killed one on the same
// ports, and leaves no process behind.
#include "tests/testing/nats_cluster.h"

#include <signal.h>

#include <cerrno>
#include <memory>
#include <vector>

#include "gtest/gtest.h"

namespace slate::testing {
namespace {

bool Alive(pid_t pid) { return kill(pid, 0) == 0; }

TEST(NatsClusterTest, DestructorLeavesNoServerRunning) {
  std::vector<pid_t> pids;
  {
    absl::StatusOr<std::unique_ptr<NatsCluster>> cluster = NatsCluster::Start(3);
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    NatsCluster& c = **cluster;
    ASSERT_EQ(c.size(), 3);
    for (int i = 0; i < 3; ++i) {
      ASSERT_GT(c.pid(i), 0);
      EXPECT_TRUE(Alive(c.pid(i))) << c.Name(i);
    }
    // A killed and restarted server gets a new pid; both are its own.
    const pid_t old = c.pid(1);
    ASSERT_TRUE(c.Kill(1).ok());
    EXPECT_EQ(c.pid(1), -1);
    EXPECT_FALSE(Alive(old));
    const std::vector<std::string> urls = c.ClientUrls();
    absl::Status restarted = c.Restart(1);
    ASSERT_TRUE(restarted.ok()) << restarted;
    EXPECT_NE(c.pid(1), old);
    EXPECT_EQ(c.ClientUrls(), urls);  // the same ports
    EXPECT_TRUE(Alive(c.pid(1)));
    pids = c.started_pids();
  }
  ASSERT_EQ(pids.size(), 4u);
  for (pid_t pid : pids) {
    EXPECT_FALSE(Alive(pid)) << "pid " << pid << " still alive";
    EXPECT_EQ(errno, ESRCH);
  }
}

// A frozen (SIGSTOPped) server is still this harness's to end: the
// destructor kills and reaps it too.
TEST(NatsClusterTest, DestructorEndsAFrozenServer) {
  pid_t pid = -1;
  {
    absl::StatusOr<std::unique_ptr<NatsCluster>> cluster = NatsCluster::Start(1);
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    pid = (*cluster)->pid(0);
    ASSERT_TRUE((*cluster)->Freeze(0).ok());
    EXPECT_TRUE(Alive(pid));
  }
  EXPECT_FALSE(Alive(pid)) << "pid " << pid << " still alive";
  EXPECT_EQ(errno, ESRCH);
}

TEST(NatsClusterTest, FreezeAndThawNeedARunningServer) {
  absl::StatusOr<std::unique_ptr<NatsCluster>> cluster = NatsCluster::Start(1);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  ASSERT_TRUE((*cluster)->Kill(0).ok());
  EXPECT_EQ((*cluster)->Freeze(0).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*cluster)->Thaw(0).code(), absl::StatusCode::kFailedPrecondition);
}

TEST(NatsClusterTest, UrlsAreLoopbackAndDistinct) {
  absl::StatusOr<std::unique_ptr<NatsCluster>> cluster = NatsCluster::Start(1);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  std::vector<std::string> urls = (*cluster)->ClientUrls();
  ASSERT_EQ(urls.size(), 1u);
  EXPECT_EQ(urls[0].rfind("nats://127.0.0.1:", 0), 0u) << urls[0];
  EXPECT_EQ((*cluster)->IndexOf("n0"), 0);
  EXPECT_EQ((*cluster)->IndexOf("n9"), -1);
}

TEST(NatsClusterTest, RefusesOtherSizes) {
  absl::StatusOr<std::unique_ptr<NatsCluster>> cluster = NatsCluster::Start(2);
  EXPECT_EQ(cluster.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace slate::testing
