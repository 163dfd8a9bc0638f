#include "tests/testing/nats_cluster.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include <nats/nats.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

namespace slate::testing {

namespace {

// nats-server is in /usr/sbin on Debian, which a test's PATH may lack.
std::string FindNatsServer() {
  std::vector<std::string> dirs;
  if (const char* path = std::getenv("PATH"); path != nullptr) {
    dirs = absl::StrSplit(path, ':', absl::SkipEmpty());
  }
  for (const char* d : {"/usr/sbin", "/usr/local/sbin", "/usr/bin"}) {
    dirs.emplace_back(d);
  }
  for (const std::string& d : dirs) {
    std::string candidate = d + "/nats-server";
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

// `count` distinct free loopback ports: each is bound (port 0) before any
// is released, so the kernel cannot hand out one twice.
absl::StatusOr<std::vector<int>> FreePorts(int count) {
  std::vector<int> fds, ports;
  absl::Status status;
  for (int i = 0; i < count && status.ok(); ++i) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
      status = absl::InternalError(absl::StrCat("socket: ", strerror(errno)));
      break;
    }
    fds.push_back(fd);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof(addr);
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      status = absl::InternalError(absl::StrCat("bind 127.0.0.1:0: ", strerror(errno)));
      break;
    }
    ports.push_back(ntohs(addr.sin_port));
  }
  for (int fd : fds) close(fd);
  if (!status.ok()) return status;
  return ports;
}

// Whether the server on `port` answers the JetStream account-info request
// without an error: it knows the meta leader then. A follower that never
// stood for election may not log "new metadata leader", so the log alone
// does not tell.
bool JetStreamAnswers(int port) {
  const std::string url = absl::StrCat("nats://127.0.0.1:", port);
  natsOptions* opts = nullptr;
  natsConnection* nc = nullptr;
  natsMsg* reply = nullptr;
  bool ok = natsOptions_Create(&opts) == NATS_OK &&
            natsOptions_SetURL(opts, url.c_str()) == NATS_OK &&
            natsOptions_SetTimeout(opts, 500) == NATS_OK &&
            natsOptions_SetAllowReconnect(opts, false) == NATS_OK &&
            natsConnection_Connect(&nc, opts) == NATS_OK &&
            natsConnection_RequestString(&reply, nc, "$JS.API.INFO", "", 500) ==
                NATS_OK;
  if (ok) {
    const char* data = natsMsg_GetData(reply);
    const std::string body(data != nullptr ? data : "",
                           static_cast<size_t>(natsMsg_GetDataLength(reply)));
    ok = body.find("\"error\"") == std::string::npos;
  }
  if (reply != nullptr) natsMsg_Destroy(reply);
  if (nc != nullptr) {
    natsConnection_Close(nc);
    natsConnection_Destroy(nc);
  }
  if (opts != nullptr) natsOptions_Destroy(opts);
  return ok;
}

std::string ReadFrom(const std::string& path, size_t offset) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string all = ss.str();
  return offset < all.size() ? all.substr(offset) : "";
}

}  // namespace

absl::StatusOr<std::unique_ptr<NatsCluster>> NatsCluster::Start(
    int servers, absl::Duration timeout, PortPicker pick_ports) {
  if (servers != 1 && servers != 3) {
    return absl::InvalidArgumentError(
        absl::StrCat("NatsCluster: 1 or 3 servers, not ", servers));
  }
  std::unique_ptr<NatsCluster> cluster(new NatsCluster());
  cluster->binary_ = FindNatsServer();
  if (cluster->binary_.empty()) {
    return absl::FailedPreconditionError(
        "nats-server is not installed (looked in PATH and /usr/sbin): run "
        "./dev.sh setup, which installs Debian's nats-server");
  }
  // Unique per object: a route that reaches another test's cluster (its
  // port reused) is refused for the name instead of merging two clusters.
  static std::atomic<int> counter{0};
  cluster->cluster_name_ =
      absl::StrCat("slate-test-", getpid(), "-", counter.fetch_add(1));
  for (int i = 0; i < servers; ++i) {
    Server s;
    s.name = absl::StrCat("n", i);
    s.dir = cluster->dir_.Sub(s.name);
    cluster->servers_.push_back(std::move(s));
  }
  if (pick_ports == nullptr) pick_ports = FreePorts;
  const absl::Time deadline = absl::Now() + timeout;
  absl::Status last;
  for (int attempt = 1; attempt <= kStartAttempts; ++attempt) {
    cluster->start_attempts_ = attempt;
    absl::StatusOr<std::vector<int>> ports = pick_ports(2 * servers);
    if (!ports.ok()) return ports.status();
    if (ports->size() != static_cast<size_t>(2 * servers)) {
      return absl::InternalError(absl::StrCat("NatsCluster: ", ports->size(),
                                              " ports picked, wanted ",
                                              2 * servers));
    }
    last = cluster->TryStart(*ports, deadline);
    if (last.ok()) return cluster;
    if (!absl::IsUnavailable(last)) return last;  // not a clash: give up
  }
  return absl::DeadlineExceededError(
      absl::StrCat("NatsCluster: port clashes in ", kStartAttempts,
                   " attempts; last: ", last.message()));
}

absl::Status NatsCluster::TryStart(const std::vector<int>& ports,
                                   absl::Time deadline) {
  std::vector<int> all;
  for (int i = 0; i < size(); ++i) {
    Server& s = servers_[i];
    s.client_port = ports[2 * i];
    s.route_port = ports[2 * i + 1];
    // A fresh folder: a failed attempt may have left cluster state behind.
    std::error_code ec;
    std::filesystem::remove_all(s.dir, ec);
    std::filesystem::create_directories(s.dir);
    all.push_back(i);
  }
  absl::Status status;
  for (int i = 0; i < size() && status.ok(); ++i) status = Spawn(i);
  if (status.ok()) {
    status = WaitReady(all, std::vector<size_t>(all.size(), 0), deadline);
  }
  if (!status.ok()) KillAll();
  return status;
}

void NatsCluster::KillAll() {
  for (Server& s : servers_) {
    if (s.pid <= 0) continue;
    kill(s.pid, SIGKILL);
    while (waitpid(s.pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    s.pid = -1;
  }
}

NatsCluster::~NatsCluster() { KillAll(); }

std::vector<std::string> NatsCluster::ClientUrls() const {
  std::vector<std::string> urls;
  for (const Server& s : servers_) {
    urls.push_back(absl::StrCat("nats://127.0.0.1:", s.client_port));
  }
  return urls;
}

std::string NatsCluster::Name(int i) const { return servers_.at(i).name; }

int NatsCluster::IndexOf(const std::string& name) const {
  for (int i = 0; i < size(); ++i) {
    if (servers_[i].name == name) return i;
  }
  return -1;
}

pid_t NatsCluster::pid(int i) const { return servers_.at(i).pid; }

std::string NatsCluster::LogPath(int i) const {
  return servers_.at(i).dir + "/server.log";
}

std::string NatsCluster::LogTail(int i) const {
  std::string log = ReadFrom(LogPath(i), 0);
  return log.size() > 2000 ? log.substr(log.size() - 2000) : log;
}

absl::Status NatsCluster::Spawn(int i) {
  Server& s = servers_.at(i);
  std::vector<std::string> args = {
      binary_, "-a", "127.0.0.1", "-p", absl::StrCat(s.client_port),
      "-js", "-sd", s.dir + "/store", "-n", s.name};
  if (size() > 1) {
    std::vector<std::string> routes;
    for (const Server& other : servers_) {
      routes.push_back(absl::StrCat("nats-route://127.0.0.1:", other.route_port));
    }
    args.insert(args.end(),
                {"--cluster_name", cluster_name_, "--cluster",
                 absl::StrCat("nats://127.0.0.1:", s.route_port), "--routes",
                 absl::StrJoin(routes, ",")});
  }
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string log = LogPath(i);
  const pid_t parent = getpid();
  // Between fork and exec only async-signal-safe calls: libnats' threads
  // may hold locks in the parent.
  pid_t pid = fork();
  if (pid < 0) return absl::InternalError(absl::StrCat("fork: ", strerror(errno)));
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);  // the parent died already
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
      close(fd);
    }
    execv(argv[0], argv.data());
    _exit(127);
  }
  s.pid = pid;
  started_.push_back(pid);
  return absl::OkStatus();
}

absl::Status NatsCluster::WaitReady(const std::vector<int>& which,
                                    const std::vector<size_t>& log_offsets,
                                    absl::Time deadline) {
  std::vector<bool> ready(which.size(), false);
  std::vector<absl::Time> asked(which.size(), absl::InfinitePast());
  size_t remaining = which.size();
  while (true) {
    // Every server each round: a clash on any one is found at once.
    for (size_t k = 0; k < which.size(); ++k) {
      if (ready[k]) continue;
      const int i = which[k];
      const Server& s = servers_.at(i);
      std::string log = ReadFrom(LogPath(i), log_offsets[k]);
      bool up = log.find("Server is ready") != std::string::npos;
      if (up && size() > 1) {
        up = log.find("JetStream cluster new metadata leader") !=
                 std::string::npos ||
             log.find("Self is new JetStream cluster metadata leader") !=
                 std::string::npos;
        // Ask the server itself, at most every 250 ms.
        if (!up && absl::Now() - asked[k] > absl::Milliseconds(250)) {
          asked[k] = absl::Now();
          up = JetStreamAnswers(s.client_port);
        }
      }
      if (up) {
        ready[k] = true;
        --remaining;
        continue;
      }
      int wstatus = 0;
      if (waitpid(s.pid, &wstatus, WNOHANG) == s.pid) {
        servers_[i].pid = -1;
        log = ReadFrom(LogPath(i), log_offsets[k]);
        const std::string what = absl::StrCat(
            "nats-server ", s.name, " (client port ", s.client_port,
            ", route port ", s.route_port, ") exited (status ", wstatus,
            "); log:\n", LogTail(i));
        if (log.find("address already in use") != std::string::npos) {
          return absl::UnavailableError(absl::StrCat("port clash: ", what));
        }
        return absl::InternalError(what);
      }
    }
    if (remaining == 0) return absl::OkStatus();
    if (absl::Now() > deadline) {
      std::string names;
      for (size_t k = 0; k < which.size(); ++k) {
        if (!ready[k]) absl::StrAppend(&names, " ", servers_[which[k]].name);
      }
      const int first = which[std::find(ready.begin(), ready.end(), false) -
                              ready.begin()];
      return absl::DeadlineExceededError(
          absl::StrCat("nats-server not ready in time:", names, "; log of ",
                       servers_[first].name, ":\n", LogTail(first)));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
}

absl::Status NatsCluster::Kill(int i) {
  if (absl::Status st = Signal(i, SIGKILL, "SIGKILL"); !st.ok()) return st;
  Server& s = servers_.at(i);
  while (waitpid(s.pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  s.pid = -1;
  return absl::OkStatus();
}

absl::Status NatsCluster::Signal(int i, int sig, absl::string_view what) {
  Server& s = servers_.at(i);
  if (s.pid <= 0) {
    return absl::FailedPreconditionError(absl::StrCat(s.name, " is not running"));
  }
  if (kill(s.pid, sig) != 0) {
    return absl::InternalError(
        absl::StrCat(what, " ", s.name, " (pid ", s.pid, "): ", strerror(errno)));
  }
  return absl::OkStatus();
}

// kill() only queues the signal: waits until the server has stopped (or
// runs again), so the caller's next request meets the state it asked for.
absl::Status NatsCluster::Freeze(int i) {
  if (absl::Status st = Signal(i, SIGSTOP, "SIGSTOP"); !st.ok()) return st;
  return WaitFor(i, WUNTRACED, [](int status) { return WIFSTOPPED(status); });
}

absl::Status NatsCluster::Thaw(int i) {
  if (absl::Status st = Signal(i, SIGCONT, "SIGCONT"); !st.ok()) return st;
  return WaitFor(i, WCONTINUED,
                 [](int status) { return WIFCONTINUED(status); });
}

absl::Status NatsCluster::WaitFor(int i, int options, bool (*done)(int)) {
  const Server& s = servers_.at(i);
  while (true) {
    int status = 0;
    const pid_t r = waitpid(s.pid, &status, options);
    if (r < 0 && errno == EINTR) continue;
    if (r != s.pid) {
      return absl::InternalError(absl::StrCat("waitpid ", s.name, " (pid ",
                                              s.pid, "): ", strerror(errno)));
    }
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      return absl::InternalError(absl::StrCat(s.name, " ended: ", LogTail(i)));
    }
    if (done(status)) return absl::OkStatus();
  }
}

absl::Status NatsCluster::Restart(int i, absl::Duration timeout) {
  Server& s = servers_.at(i);
  if (s.pid > 0) {
    return absl::FailedPreconditionError(absl::StrCat(s.name, " is still running"));
  }
  const absl::Time deadline = absl::Now() + timeout;
  absl::Status status;
  for (int attempt = 1; attempt <= kStartAttempts; ++attempt) {
    std::error_code ec;
    const auto size_before = std::filesystem::file_size(LogPath(i), ec);
    const size_t offset = ec ? 0 : static_cast<size_t>(size_before);
    if (status = Spawn(i); !status.ok()) return status;
    status = WaitReady({i}, {offset}, deadline);
    // The same ports are needed: a clash (an ephemeral port of some
    // outgoing connection, usually short-lived) is waited out.
    if (!absl::IsUnavailable(status)) return status;
    absl::SleepFor(absl::Milliseconds(200));
  }
  return status;
}

}  // namespace slate::testing
