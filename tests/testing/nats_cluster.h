// Test harness: 1 or 3 `nats-server` processes with JetStream on loopback,
// started by the test itself on free ports in a temporary directory.
//
//   absl::StatusOr<std::unique_ptr<NatsCluster>> cluster = NatsCluster::Start(3);
//   ASSERT_TRUE(cluster.ok()) << cluster.status();
//   options.servers = (*cluster)->ClientUrls();
//   ...
//   ASSERT_TRUE((*cluster)->Kill(1).ok());      // kill -9
//   ASSERT_TRUE((*cluster)->Restart(1).ok());   // same ports, same store
//   ASSERT_TRUE((*cluster)->Freeze(0).ok());    // SIGSTOP: alive, silent
//   ASSERT_TRUE((*cluster)->Thaw(0).ok());      // SIGCONT
//
// Each server n<i> has its own folder (store/ and server.log) under one
// TempDir. The destructor kills (SIGKILL) and reaps every process this object
// started, whatever state the test is in; it never signals another process,
// and never looks processes up by name. A server also dies with the thread
// that started it (PR_SET_PDEATHSIG), so a test killed by its timeout leaves
// none behind. Start fails with a message naming the cause if nats-server is
// not installed (./dev.sh setup installs it).
//
// Port clashes: the free ports are picked, released, then bound by the
// servers; in between another process (another test's server, or any
// outgoing connection taking an ephemeral port) may take one. A server that
// cannot bind logs "address already in use" and exits; Start then kills
// every server of the attempt, wipes their folders, picks new ports and
// tries again (up to kStartAttempts). Each NatsCluster has its own cluster
// name, so a route that reaches another test's cluster is refused instead
// of merging the two. Restart keeps the ports (clients know them) and
// retries a clash on them after a short pause.
//
// Not thread-safe: use one NatsCluster from one thread.
#ifndef SLATE_TESTS_TESTING_NATS_CLUSTER_H_
#define SLATE_TESTS_TESTING_NATS_CLUSTER_H_

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tests/testing/temp_dir.h"

namespace slate::testing {

class NatsCluster {
 public:
  // How many times Start tries fresh ports after a clash. Default: 5.
  static constexpr int kStartAttempts = 5;

  // Picks `count` distinct loopback ports for an attempt (tests of the
  // harness inject clashes with it). Default: free ports from the kernel.
  using PortPicker = std::function<absl::StatusOr<std::vector<int>>(int count)>;

  // Starts `servers` (1 or 3) servers and waits until they are ready: for 3,
  // until every server knows the JetStream meta leader (streams with
  // replicas cannot be created before): its log says so, or it answers the
  // JetStream account-info request without an error (a follower that never
  // stood for election may not log the leader). `timeout` bounds the wait over all
  // attempts. `pick_ports`: see PortPicker; null for the default.
  static absl::StatusOr<std::unique_ptr<NatsCluster>> Start(
      int servers, absl::Duration timeout = absl::Seconds(30),
      PortPicker pick_ports = nullptr);

  ~NatsCluster();
  NatsCluster(const NatsCluster&) = delete;
  NatsCluster& operator=(const NatsCluster&) = delete;

  int size() const { return static_cast<int>(servers_.size()); }
  // "nats://127.0.0.1:PORT" of every server, in order.
  std::vector<std::string> ClientUrls() const;
  // The server's name ("n0", "n1", ...), as JetStream reports it.
  std::string Name(int i) const;
  // The server's index by name; -1 if none.
  int IndexOf(const std::string& name) const;
  // The pid of server i, or -1 while it is not running.
  pid_t pid(int i) const;
  // Every pid this object has started so far (also the ones it killed).
  const std::vector<pid_t>& started_pids() const { return started_; }

  // kill -9 server i and reap it. REQUIRES: it is running.
  absl::Status Kill(int i);
  // SIGSTOP server i: its sockets stay open but it answers nothing (a
  // hung process or a frozen VM), until Thaw. The destructor and Kill end a
  // frozen server too. REQUIRES: it is running.
  absl::Status Freeze(int i);
  // SIGCONT server i. REQUIRES: it is running.
  absl::Status Thaw(int i);
  // Starts server i again on its ports and store, and waits until it is
  // ready (and, in a cluster, knows the meta leader). REQUIRES: not running.
  absl::Status Restart(int i, absl::Duration timeout = absl::Seconds(30));

  // The tail of server i's log, for failure messages.
  std::string LogTail(int i) const;
  // How many attempts Start needed (1 without a port clash).
  int start_attempts() const { return start_attempts_; }
  // This cluster's name (unique per NatsCluster).
  const std::string& cluster_name() const { return cluster_name_; }

 private:
  struct Server {
    std::string name;
    std::string dir;  // store/ and server.log inside
    int client_port = 0;
    int route_port = 0;
    pid_t pid = -1;
  };

  NatsCluster() = default;
  // One attempt of Start on `ports`: kUnavailable after a port clash (the
  // attempt's servers are gone then), another error for anything else.
  absl::Status TryStart(const std::vector<int>& ports, absl::Time deadline);
  // Kills and reaps every running server of this object.
  void KillAll();
  absl::Status Spawn(int i);
  absl::Status Signal(int i, int sig, absl::string_view what);
  // waitpid(options) on server i until done(status).
  absl::Status WaitFor(int i, int options, bool (*done)(int));
  // Waits until every server in `which` is ready (logs read from the
  // matching `log_offsets`). kUnavailable if one exited after a port clash.
  absl::Status WaitReady(const std::vector<int>& which,
                         const std::vector<size_t>& log_offsets,
                         absl::Time deadline);
  std::string LogPath(int i) const;

  std::string binary_;
  std::string cluster_name_;
  int start_attempts_ = 0;
  TempDir dir_;
  std::vector<Server> servers_;
  std::vector<pid_t> started_;
};

}  // namespace slate::testing

#endif  // SLATE_TESTS_TESTING_NATS_CLUSTER_H_
