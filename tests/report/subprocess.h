// Test helper: runs a program with stdout and stderr captured in files, and
// finds runfiles of the test (the built //tools:slate, data files).
//
//   slate::testing::ProcessResult r = slate::testing::RunProcess(
//       {slate::testing::Runfile("tools/slate"), "log", "--db", dir},
//       tmp.Sub("run1"));
//   EXPECT_EQ(r.code, 0) << r;
#ifndef SLATE_TESTS_REPORT_SUBPROCESS_H_
#define SLATE_TESTS_REPORT_SUBPROCESS_H_

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

namespace slate::testing {

// `path` relative to the workspace root, inside the test's runfiles.
inline std::string Runfile(const std::string& path) {
  const char* dir = std::getenv("TEST_SRCDIR");
  return std::string(dir != nullptr ? dir : ".") + "/slate/" + path;
}

inline std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

struct ProcessResult {
  // Exit code; -1 if the program did not exit normally (e.g. a signal).
  int code = -1;
  std::string out;
  std::string err;
};

inline std::ostream& operator<<(std::ostream& os, const ProcessResult& r) {
  return os << "exit " << r.code << "\nstdout: " << r.out.substr(0, 4000)
            << "\nstderr: " << r.err.substr(0, 4000);
}

// Runs argv[0] with `argv` (no shell); stdout and stderr go to
// `prefix`.out and `prefix`.err and are returned. With `merge_stderr`, both
// go to `prefix`.out (as the shell's `> FILE 2>&1`), returned in `out`.
// Exit code 127: exec failed.
inline ProcessResult RunProcess(const std::vector<std::string>& args,
                                const std::string& prefix,
                                bool merge_stderr = false) {
  const std::string out_path = prefix + ".out";
  const std::string err_path = prefix + ".err";
  std::vector<char*> argv;
  for (const std::string& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  ProcessResult r;
  const pid_t pid = fork();
  if (pid == 0) {
    const int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int err =
        merge_stderr
            ? out
            : open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (out < 0 || err < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) _exit(127);
    execv(argv[0], argv.data());
    _exit(127);
  }
  if (pid < 0) return r;
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return r;
  if (WIFEXITED(status)) r.code = WEXITSTATUS(status);
  r.out = ReadFileOrEmpty(out_path);
  if (!merge_stderr) r.err = ReadFileOrEmpty(err_path);
  return r;
}

}  // namespace slate::testing

#endif  // SLATE_TESTS_REPORT_SUBPROCESS_H_
