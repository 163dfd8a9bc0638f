// The harness itself: it starts servers, restarts a killed one on the same
// ports, and leaves no process behind.
#include "tests/testing/nats_cluster.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
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

// A listening socket on a kernel-chosen loopback port; -1 on failure.
int Listen(int* port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(fd, 1) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    return -1;
  }
  *port = ntohs(addr.sin_port);
  return fd;
}

// The flake this guards against: a port picked as free is taken by somebody
// else before the server binds it. Start's first attempt is given ports of
// which one (a route port, or a client port) is held open by this test; the
// server on it exits with "address already in use", and Start tries again
// on new ports.
TEST(NatsClusterTest, StartRetriesAfterAPortClash) {
  for (int taken_index : {1, 2}) {  // n0's route port, n1's client port
    int taken_port = 0;
    const int fd = Listen(&taken_port);
    ASSERT_GE(fd, 0) << strerror(errno);
    int calls = 0;
    std::vector<int> first_ports;
    NatsCluster::PortPicker picker =
        [&](int count) -> absl::StatusOr<std::vector<int>> {
      ++calls;
      std::vector<int> ports;
      std::vector<int> fds;
      for (int i = 0; i < count; ++i) {
        int port = 0;
        const int f = Listen(&port);
        if (f < 0) return absl::InternalError("listen");
        fds.push_back(f);
        ports.push_back(port);
      }
      for (int f : fds) close(f);
      if (calls == 1) {
        ports[taken_index] = taken_port;
        first_ports = ports;
      }
      return ports;
    };
    absl::StatusOr<std::unique_ptr<NatsCluster>> cluster =
        NatsCluster::Start(3, absl::Seconds(30), picker);
    close(fd);
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    EXPECT_EQ((*cluster)->start_attempts(), 2) << "taken index " << taken_index;
    EXPECT_EQ(calls, 2);
    // The cluster runs on the second attempt's ports, not the clashing one.
    for (const std::string& url : (*cluster)->ClientUrls()) {
      EXPECT_NE(url, absl::StrCat("nats://127.0.0.1:", taken_port));
    }
    for (int i = 0; i < 3; ++i) {
      EXPECT_GT((*cluster)->pid(i), 0);
      EXPECT_TRUE(Alive((*cluster)->pid(i)));
    }
    // The first attempt's servers are gone: 3 + 3 started, 3 alive.
    int alive = 0;
    for (pid_t pid : (*cluster)->started_pids()) alive += Alive(pid) ? 1 : 0;
    EXPECT_EQ((*cluster)->started_pids().size(), 6u);
    EXPECT_EQ(alive, 3);
  }
}

// Only clashes are retried: a picker that always hands out a taken port
// makes Start give up after kStartAttempts with the clash in the message.
TEST(NatsClusterTest, StartGivesUpAfterRepeatedClashes) {
  int taken_port = 0;
  const int fd = Listen(&taken_port);
  ASSERT_GE(fd, 0) << strerror(errno);
  int calls = 0;
  absl::StatusOr<std::unique_ptr<NatsCluster>> cluster = NatsCluster::Start(
      1, absl::Seconds(30), [&](int count) -> absl::StatusOr<std::vector<int>> {
        ++calls;
        return std::vector<int>(count, taken_port);
      });
  close(fd);
  ASSERT_FALSE(cluster.ok());
  EXPECT_EQ(calls, NatsCluster::kStartAttempts);
  EXPECT_NE(cluster.status().message().find("address already in use"),
            std::string::npos)
      << cluster.status();
}

TEST(NatsClusterTest, EachClusterHasItsOwnName) {
  absl::StatusOr<std::unique_ptr<NatsCluster>> a = NatsCluster::Start(1);
  ASSERT_TRUE(a.ok()) << a.status();
  absl::StatusOr<std::unique_ptr<NatsCluster>> b = NatsCluster::Start(1);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_NE((*a)->cluster_name(), (*b)->cluster_name());
}

TEST(NatsClusterTest, RefusesOtherSizes) {
  absl::StatusOr<std::unique_ptr<NatsCluster>> cluster = NatsCluster::Start(2);
  EXPECT_EQ(cluster.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace slate::testing
