// Test helpers: fresh temporary directories under Bazel's TEST_TMPDIR.
//
//   slate::testing::TempDir dir;              // removed when it goes out of
//   scope auto engine = slate::Engine::Open(options, dir.path());
#ifndef SLATE_TESTS_TESTING_TEMP_DIR_H_
#define SLATE_TESTS_TESTING_TEMP_DIR_H_

#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace slate::testing {

class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TEST_TMPDIR");
    std::string tmpl = (std::filesystem::path(base != nullptr ? base : "/tmp") /
                        "slate-test-XXXXXX")
                           .string();
    if (mkdtemp(tmpl.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // A path inside the directory that does not exist yet.
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace slate::testing

#endif  // SLATE_TESTS_TESTING_TEMP_DIR_H_
