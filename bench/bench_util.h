// Small helpers the benchmark binaries share: scratch directories, reading
// a file, the process's memory counters.
//
//   const std::string dir = slate::bench::TempPath("fold-bench", "log");
//   const int64_t peak_kb = slate::bench::ProcStatusKb("VmHWM:");
#ifndef SLATE_BENCH_BENCH_UTIL_H_
#define SLATE_BENCH_BENCH_UTIL_H_

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"

namespace slate::bench {

// Removes `dir` and everything in it; aborts if that fails.
inline void RemoveDir(const std::string& dir) {
  const std::string cmd = absl::StrCat("rm -rf '", dir, "'");
  if (std::system(cmd.c_str()) != 0) std::abort();
}

// A fresh (removed) path "$TEST_TMPDIR/slate-<bench>-<name>-<pid>" (/tmp
// without TEST_TMPDIR).
inline std::string TempPath(const std::string& bench, const std::string& name) {
  const char* base = std::getenv("TEST_TMPDIR");
  const std::string dir =
      absl::StrCat(base != nullptr ? base : "/tmp", "/slate-", bench, "-", name,
                   "-", getpid());
  RemoveDir(dir);
  return dir;
}

// The shared ServiceNow data set: $SLATE_SHARED_DATA, else ../shared/data
// next to the workspace (bazel run), else ../shared/data.
inline std::string ServiceNowZip() {
  std::string dir;
  if (const char* env = std::getenv("SLATE_SHARED_DATA")) {
    dir = env;
  } else if (const char* ws = std::getenv("BUILD_WORKSPACE_DIRECTORY")) {
    dir = absl::StrCat(ws, "/../shared/data");
  } else {
    dir = "../shared/data";
  }
  return dir + "/incident_event_log.zip";
}

// The whole file; empty if it cannot be read.
inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A field of /proc/self/status in KiB ("VmHWM:", "VmRSS:"); -1 if absent.
inline int64_t ProcStatusKb(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, field.size(), field) == 0) {
      return std::atoll(line.c_str() + field.size());
    }
  }
  return -1;
}

}  // namespace slate::bench

#endif  // SLATE_BENCH_BENCH_UTIL_H_
