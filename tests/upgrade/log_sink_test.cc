// Options::log_sink: the lines Slate logs itself reach the host's sink,
// with their level and fields, instead of stderr; without a sink they go to
// stderr as before. The line there is today: the notice Engine::Open gives
// for each projection whose stored state it drops, which a copy of an old
// database (fixtures/main-ac4bb2b/quickstart, see README.md) triggers for
// every built-in projection on its first open, and never again.
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/api/engine.h"
#include "tests/report/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace slate {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

struct LoggedLine {
  LogLevel level;
  std::string message;
  std::map<std::string, std::string> fields;
};

// A sink that keeps what it is given (thread-safe, as a sink must be).
class Recorder {
 public:
  LogSink Sink() {
    return [this](LogLevel level, absl::string_view message,
                  absl::Span<const LogField> fields) {
      LoggedLine line{level, std::string(message), {}};
      for (const LogField& f : fields) line.fields[f.key] = f.value;
      std::lock_guard<std::mutex> l(mu_);
      lines_.push_back(std::move(line));
    };
  }
  std::vector<LoggedLine> lines() {
    std::lock_guard<std::mutex> l(mu_);
    return lines_;
  }

 private:
  std::mutex mu_;
  std::vector<LoggedLine> lines_;
};

// A copy of the old quickstart database (never opened in place).
std::string CopyOldDatabase(const testing::TempDir& tmp,
                            const std::string& name) {
  const std::string from =
      testing::Runfile("tests/upgrade/fixtures/main-ac4bb2b/quickstart");
  const std::string to = tmp.Sub(name);
  fs::copy(from, to, fs::copy_options::recursive);
  for (const auto& e : fs::recursive_directory_iterator(to)) {
    fs::permissions(e.path(), fs::perms::owner_write, fs::perm_options::add);
  }
  return to;
}

TEST(LogSinkTest, HostSinkReceivesTheDropNoticeWithLevelAndFields) {
  testing::TempDir tmp;
  const std::string db = CopyOldDatabase(tmp, "db");
  Recorder recorder;
  Options options;
  options.create_if_missing = false;
  options.log_sink = recorder.Sink();
  ::testing::internal::CaptureStderr();
  {
    auto engine = Engine::Open(options, db);
    ASSERT_TRUE(engine.ok()) << engine.status();
  }
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(err, "") << "with a sink, nothing goes to stderr";

  const std::vector<LoggedLine> lines = recorder.lines();
  std::vector<std::string> projections;
  for (const LoggedLine& line : lines) {
    EXPECT_EQ(line.level, LogLevel::kWarning) << line.message;
    ASSERT_EQ(line.fields.count("projection"), 1u) << line.message;
    ASSERT_EQ(line.fields.count("reason"), 1u) << line.message;
    EXPECT_EQ(line.fields.size(), 2u) << line.message;
    const std::string& name = line.fields.at("projection");
    const std::string& reason = line.fields.at("reason");
    EXPECT_FALSE(reason.empty()) << line.message;
    // The message is the whole line for people, fields included.
    EXPECT_EQ(line.message,
              absl::StrCat("projection ", name, ": ", reason,
                           "; dropped, rebuilding it from the log"));
    projections.push_back(name);
  }
  EXPECT_THAT(projections, UnorderedElementsAre("views", "sla", "kpi"));

  // Upgraded: the second open logs nothing.
  Recorder again;
  options.log_sink = again.Sink();
  {
    auto engine = Engine::Open(options, db);
    ASSERT_TRUE(engine.ok()) << engine.status();
  }
  EXPECT_TRUE(again.lines().empty()) << again.lines().front().message;
}

TEST(LogSinkTest, WithoutASinkTheNoticeGoesToStderrAsBefore) {
  testing::TempDir tmp;
  const std::string db = CopyOldDatabase(tmp, "db");
  Options options;
  options.create_if_missing = false;
  ASSERT_FALSE(options.log_sink) << "the documented default is null";
  ::testing::internal::CaptureStderr();
  {
    auto engine = Engine::Open(options, db);
    ASSERT_TRUE(engine.ok()) << engine.status();
  }
  const std::string err = ::testing::internal::GetCapturedStderr();
  std::vector<std::string> lines = absl::StrSplit(err, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u) << err;
  for (const std::string& line : lines) {
    EXPECT_TRUE(absl::StartsWith(line, "slate: projection ")) << line;
    EXPECT_TRUE(absl::EndsWith(line, "; dropped, rebuilding it from the log"))
        << line;
  }
  EXPECT_THAT(err, HasSubstr("slate: projection sla: "));
}

TEST(LogSinkTest, LevelNames) {
  EXPECT_STREQ(LogLevelName(LogLevel::kInfo), "info");
  EXPECT_STREQ(LogLevelName(LogLevel::kWarning), "warning");
  EXPECT_STREQ(LogLevelName(LogLevel::kError), "error");
}

}  // namespace
}  // namespace slate
