// The main of every *_replay_test: runs a fuzz target's
// LLVMFuzzerTestOneInput without libFuzzer, so the default (gcc) test run
// covers each target quickly and deterministically.
//
//   envelope_replay_test --corpus=tests/fuzz/corpus/envelope --runs=3000
//
// 1. Every file under --corpus (seeds, and regressions/ for inputs that once
//    crashed) is run once. An empty or missing corpus fails the test.
// 2. --runs inputs made from the corpus by seeded mutations (bit flips, byte
//    edits, inserts, deletes, truncation, splices of two entries, and a few
//    purely random inputs), at most --max_len bytes. The seed is fixed and
//    printed; --seed=N overrides it.
// A failing input (FUZZ_CHECK, sanitizer, crash) is written to
// $TEST_UNDECLARED_OUTPUTS_DIR/crash-<n> by a signal handler, to be copied
// into corpus/<target>/regressions/.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int* argc,
                                                          char*** argv);

namespace {

std::string g_corpus;
int g_runs = 1000;
size_t g_max_len = 4096;
uint64_t g_seed = 20261127;

// The input being run, for the crash handler.
const std::string* g_current = nullptr;
char g_crash_path[4096];

void OnCrash(int sig) {
  if (g_current != nullptr && g_crash_path[0] != '\0') {
    int fd = ::open(g_crash_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      ssize_t ignored = ::write(fd, g_current->data(), g_current->size());
      (void)ignored;
      ::close(fd);
      const char msg[] = "replay: failing input written to ";
      ignored = ::write(2, msg, sizeof(msg) - 1);
      ignored = ::write(2, g_crash_path, std::strlen(g_crash_path));
      ignored = ::write(2, "\n", 1);
    }
  }
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

void RunOne(const std::string& input, const std::string& label) {
  const char* out = std::getenv("TEST_UNDECLARED_OUTPUTS_DIR");
  std::snprintf(g_crash_path, sizeof(g_crash_path), "%s/crash-%s",
                out != nullptr ? out : "/tmp", label.c_str());
  g_current = &input;
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()),
                         input.size());
  g_current = nullptr;
}

std::vector<std::pair<std::string, std::string>> LoadCorpus() {
  std::vector<std::pair<std::string, std::string>> files;
  std::error_code ec;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(g_corpus, ec)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    files.emplace_back(entry.path().string(), ss.str());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string Mutate(std::mt19937_64& rng,
                   const std::vector<std::pair<std::string, std::string>>& c) {
  auto pick = [&](size_t n) {
    return n == 0 ? size_t{0} : static_cast<size_t>(rng() % n);
  };
  std::string s = c[pick(c.size())].second;
  if (rng() % 64 == 0) {  // Purely random bytes now and then.
    s.resize(pick(256));
    for (char& ch : s) ch = static_cast<char>(rng());
    return s;
  }
  const int edits = 1 + static_cast<int>(rng() % 4);
  for (int e = 0; e < edits; ++e) {
    switch (rng() % 8) {
      case 0:  // Flip a bit.
        if (!s.empty())
          s[pick(s.size())] ^= static_cast<char>(1 << (rng() % 8));
        break;
      case 1:  // Set a byte to an interesting value.
        if (!s.empty()) {
          static const char kVals[] = {0,   1,   0x7f, '\x80', '\xff', '"',
                                       '{', '}', ':',  ',',    '\\',   '9'};
          s[pick(s.size())] = kVals[pick(sizeof(kVals))];
        }
        break;
      case 2:  // Insert a random byte.
        s.insert(s.begin() + static_cast<std::ptrdiff_t>(pick(s.size() + 1)),
                 static_cast<char>(rng()));
        break;
      case 3:  // Delete a range.
        if (!s.empty()) {
          const size_t at = pick(s.size());
          s.erase(at, 1 + pick(std::min<size_t>(16, s.size() - at)));
        }
        break;
      case 4:  // Truncate.
        s.resize(pick(s.size() + 1));
        break;
      case 5: {  // Splice in part of another entry.
        const std::string& o = c[pick(c.size())].second;
        if (!o.empty()) {
          const size_t from = pick(o.size());
          const size_t len = 1 + pick(o.size() - from);
          s.insert(pick(s.size() + 1), o.substr(from, len));
        }
        break;
      }
      case 6:  // Duplicate a range (repeats, deep nesting).
        if (!s.empty()) {
          const size_t at = pick(s.size());
          const size_t len = 1 + pick(std::min<size_t>(64, s.size() - at));
          s.insert(at, s.substr(at, len));
        }
        break;
      default:  // Overwrite a digit run: other numbers, times, sizes.
        for (size_t i = pick(s.size() + 1); i < s.size(); ++i) {
          if (s[i] >= '0' && s[i] <= '9') {
            s[i] = static_cast<char>('0' + rng() % 10);
            break;
          }
        }
    }
  }
  if (s.size() > g_max_len) s.resize(g_max_len);
  return s;
}

TEST(FuzzReplay, CorpusAndMutations) {
  auto corpus = LoadCorpus();
  ASSERT_FALSE(corpus.empty()) << "no corpus files under " << g_corpus;
  for (size_t i = 0; i < corpus.size(); ++i) {
    RunOne(corpus[i].second, absl::StrCat("corpus-", i));
  }
  std::printf("replay: %zu corpus files from %s\n", corpus.size(),
              g_corpus.c_str());
  std::mt19937_64 rng(g_seed);
  for (int i = 0; i < g_runs; ++i) {
    RunOne(Mutate(rng, corpus), absl::StrCat("mutation-", i));
  }
  std::printf("replay: %d mutated inputs, seed %llu\n", g_runs,
              static_cast<unsigned long long>(g_seed));
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  for (int i = 1; i < argc; ++i) {
    absl::string_view a = argv[i];
    if (absl::ConsumePrefix(&a, "--corpus=")) {
      g_corpus = std::string(a);
    } else if (absl::ConsumePrefix(&a, "--runs=")) {
      if (!absl::SimpleAtoi(a, &g_runs)) return 2;
    } else if (absl::ConsumePrefix(&a, "--max_len=")) {
      if (!absl::SimpleAtoi(a, &g_max_len)) return 2;
    } else if (absl::ConsumePrefix(&a, "--seed=")) {
      if (!absl::SimpleAtoi(a, &g_seed)) return 2;
    } else {
      std::fprintf(stderr, "replay: unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  if (LLVMFuzzerInitialize != nullptr) LLVMFuzzerInitialize(&argc, &argv);
  for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL}) {
    ::signal(sig, OnCrash);
  }
  return RUN_ALL_TESTS();
}
