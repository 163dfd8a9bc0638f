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
// Not thread-safe: use one NatsCluster from one thread.
#ifndef SLATE_TESTS_TESTING_NATS_CLUSTER_H_
#define SLATE_TESTS_TESTING_NATS_CLUSTER_H_

#include <sys/types.h>

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
  // Starts `servers` (1 or 3) servers and waits until they are ready: for 3,
  // until every server knows the JetStream meta leader (streams with
  // replicas cannot be created before). `timeout` bounds the wait.
  static absl::StatusOr<std::unique_ptr<NatsCluster>> Start(
      int servers, absl::Duration timeout = absl::Seconds(30));

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

 private:
  struct Server {
    std::string name;
    std::string dir;  // store/ and server.log inside
    int client_port = 0;
    int route_port = 0;
    pid_t pid = -1;
  };

  NatsCluster() = default;
  absl::Status Spawn(int i);
  absl::Status Signal(int i, int sig, absl::string_view what);
  // waitpid(options) on server i until done(status).
  absl::Status WaitFor(int i, int options, bool (*done)(int));
  absl::Status WaitReady(int i, size_t log_offset, absl::Time deadline);
  std::string LogPath(int i) const;

  std::string binary_;
  TempDir dir_;
  std::vector<Server> servers_;
  std::vector<pid_t> started_;
};

}  // namespace slate::testing

#endif  // SLATE_TESTS_TESTING_NATS_CLUSTER_H_
