// Test harness: a child process (a `slate node`, say) whose output goes to
// a file, signalled and reaped by pid; never looked up by name.
//
//   slate::testing::ChildProcess node({"tools/slate", "node", ...}, out_path);
//   ASSERT_TRUE(node.WaitFor("owns partitions 0 1", absl::Seconds(30)));
//   node.Signal(SIGSTOP);   // frozen; SIGCONT wakes it
//   node.Signal(SIGTERM);
//   EXPECT_EQ(node.Wait(), 0) << node.Output();
//
// The destructor kills (SIGKILL) and reaps the process unless Wait reaped
// it; the process also dies with the thread that started it
// (PR_SET_PDEATHSIG), so a test killed by its timeout leaves none behind.
// argv[0] must be a path (execv, no PATH search); a child that cannot exec
// exits with 127.
#ifndef SLATE_TESTS_TESTING_CHILD_PROCESS_H_
#define SLATE_TESTS_TESTING_CHILD_PROCESS_H_

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace slate::testing {

class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv, const std::string& out)
      : out_(out) {
    const int fd = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<char*> args;
    for (const std::string& a : argv)
      args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_ = fd < 0 ? -1 : fork();
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      dup2(fd, 1);
      dup2(fd, 2);
      execv(args[0], args.data());
      _exit(127);
    }
    if (fd >= 0) close(fd);
  }
  ~ChildProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // -1 if the output file could not be created or fork failed.
  pid_t pid() const { return pid_; }
  bool Signal(int sig) const { return pid_ > 0 && kill(pid_, sig) == 0; }
  // Whether it has not exited yet (reaps it if it has).
  bool Running() {
    if (pid_ <= 0) return false;
    if (waitpid(pid_, nullptr, WNOHANG) == 0) return true;
    pid_ = -1;
    return false;
  }
  // Waits for the exit; the exit code, or -1 if it did not exit normally.
  int Wait() {
    int status = 0;
    const pid_t pid = pid_;
    if (pid <= 0) return -1;
    pid_ = -1;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
    return WEXITSTATUS(status);
  }
  std::string Output() const {
    std::ifstream in(out_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  // Waits up to `timeout` for `text` in the output.
  bool WaitFor(const std::string& text, absl::Duration timeout) const {
    const absl::Time deadline = absl::Now() + timeout;
    while (!absl::StrContains(Output(), text)) {
      if (absl::Now() > deadline) return false;
      absl::SleepFor(absl::Milliseconds(50));
    }
    return true;
  }

 private:
  std::string out_;
  pid_t pid_ = -1;
};

}  // namespace slate::testing

#endif  // SLATE_TESTS_TESTING_CHILD_PROCESS_H_
