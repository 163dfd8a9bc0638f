// `slate report --service S --month YYYY-MM` through the built binary, on
// tests/report/service_dataset.jsonl: the review is written whole with its
// one-line summary, an unknown service fails naming it and writes nothing,
// and the service review's flag errors are usage errors (exit 2, one line
// on stderr, nothing on stdout).
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/report/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace slate {
namespace {

using ::slate::testing::ProcessResult;
using ::slate::testing::ReadFileOrEmpty;
using ::slate::testing::Runfile;
using ::slate::testing::RunProcess;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class ServiceReportCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ProcessResult r =
        Slate({"exec", "--db", db_, "--now", "2026-12-05T00:00:00Z",
               Runfile("tests/report/service_dataset.jsonl")});
    ASSERT_EQ(r.code, 0) << r;
  }

  ProcessResult Slate(std::vector<std::string> args) {
    args.insert(args.begin(), Runfile("tools/slate"));
    return RunProcess(args, tmp_.Sub(absl::StrCat("run", ++runs_)));
  }

  // Exit 2, nothing on stdout, one line on stderr; returns that line.
  std::string UsageError(const std::vector<std::string>& args) {
    ProcessResult r = Slate(args);
    EXPECT_EQ(r.code, 2) << r;
    EXPECT_EQ(r.out, "") << r;
    std::vector<std::string> lines =
        absl::StrSplit(r.err, '\n', absl::SkipEmpty());
    EXPECT_EQ(lines.size(), 1u) << r;
    return lines.empty() ? "" : lines[0];
  }

  slate::testing::TempDir tmp_;
  const std::string db_ = tmp_.Sub("db");
  const std::string out_ = tmp_.Sub("review.html");
  int runs_ = 0;
};

TEST_F(ServiceReportCliTest, WritesTheReviewAndSaysWhatItHolds) {
  ProcessResult r =
      Slate({"report", "--db", db_, "--service", "email", "--month", "2026-11",
             "--now", "2026-12-05T00:00:00Z", "--out", out_});
  ASSERT_EQ(r.code, 0) << r;
  const std::string html = ReadFileOrEmpty(out_);
  EXPECT_THAT(r.out, StartsWith(absl::StrCat("wrote ", out_, " (", html.size(),
                                             " bytes; service email, 2026-11: "
                                             "4 incidents opened, 3 major, "
                                             "availability 99.306 %)")));
  EXPECT_TRUE(absl::StartsWith(html, "<!DOCTYPE html>"));
  EXPECT_THAT(html, HasSubstr("<h1>Service review: E-mail &lt;corp&gt; "
                              "(email), 2026-11</h1>"));
  EXPECT_THAT(html, HasSubstr(absl::StrCat("Database: ", db_)));
  EXPECT_FALSE(std::filesystem::exists(out_ + ".tmp"));

  // --title replaces the heading; --tz moves the month's boundaries.
  r = Slate({"report", "--db", db_, "--service", "email", "--month", "2026-11",
             "--now", "2026-12-05T00:00:00Z", "--out", out_, "--title",
             "Mail, November", "--tz", "Europe/Berlin"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("6 incidents opened")) << r;
  EXPECT_THAT(ReadFileOrEmpty(out_), HasSubstr("<h1>Mail, November</h1>"));
}

TEST_F(ServiceReportCliTest, UnknownServiceFailsNamingItAndWritesNothing) {
  ProcessResult r =
      Slate({"report", "--db", db_, "--service", "nope", "--month", "2026-11",
             "--out", out_});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_EQ(r.out, "") << r;
  EXPECT_EQ(r.err,
            "slate report: unknown service \"nope\": it is not defined "
            "(DefineService) and no incident or change names it\n");
  EXPECT_FALSE(std::filesystem::exists(out_));
  EXPECT_FALSE(std::filesystem::exists(out_ + ".tmp"));
}

TEST_F(ServiceReportCliTest, FlagErrorsAreUsageErrors) {
  EXPECT_EQ(UsageError({"report", "--db", db_, "--out", out_, "--service",
                        "email"}),
            "slate report: --service and --month go together (the review of "
            "one service in one calendar month)");
  EXPECT_EQ(UsageError({"report", "--db", db_, "--out", out_, "--month",
                        "2026-11"}),
            "slate report: --service and --month go together (the review of "
            "one service in one calendar month)");
  for (const char* bad : {"2026-13", "2026-1", "november", "2026-11-01"}) {
    EXPECT_EQ(UsageError({"report", "--db", db_, "--out", out_, "--service",
                          "email", "--month", bad}),
              absl::StrCat("slate report: --month: \"", bad,
                           "\" is not a month YYYY-MM (e.g. 2026-11)"));
  }
  for (const std::vector<std::string>& extra :
       std::vector<std::vector<std::string>>{{"--bucket", "day"},
                                             {"--from", "2026-11-01"},
                                             {"--to", "2026-12-01"}}) {
    std::vector<std::string> args = {"report",  "--db",    db_,
                                     "--out",   out_,      "--service",
                                     "email",   "--month", "2026-11"};
    args.insert(args.end(), extra.begin(), extra.end());
    EXPECT_EQ(UsageError(args),
              "slate report: --bucket, --from and --to do not apply to a "
              "service review (--service, --month): it covers one calendar "
              "month");
  }
  EXPECT_FALSE(std::filesystem::exists(out_));
}

}  // namespace
}  // namespace slate
