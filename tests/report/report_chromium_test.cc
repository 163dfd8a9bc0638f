// Renders `slate report` output (the KPI report and the service review) in
// headless Chromium (Debian's `chromium`,
// installed by ./dev.sh test) and checks that the charts drew: Chromium
// exits 0, logs no console or JavaScript error, and the DOM after rendering
// still has the SVG series paths. The screenshot goes to
// TEST_UNDECLARED_OUTPUTS_DIR (else TEST_TMPDIR), never into the repo.
// Skips, saying why, when /usr/bin/chromium is absent.
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/report/subprocess.h"
#include "tests/report/svg_checks.h"
#include "tests/testing/temp_dir.h"

namespace slate {
namespace {

using ::slate::testing::Count;
using ::slate::testing::PathData;
using ::slate::testing::ProcessResult;
using ::slate::testing::Runfile;
using ::slate::testing::RunProcess;
using ::testing::HasSubstr;

constexpr char kChromium[] = "/usr/bin/chromium";

std::vector<std::string> ChromiumArgs(const std::string& profile) {
  return {kChromium,
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          "--enable-logging=stderr",
          "--user-data-dir=" + profile};
}

// Lines of Chromium's log that report a page problem (console messages,
// uncaught exceptions, failed loads); dbus and GPU noise is not one.
std::vector<std::string> PageErrors(const std::string& err) {
  std::vector<std::string> out;
  for (absl::string_view line : absl::StrSplit(err, '\n')) {
    if (line.find("CONSOLE") != absl::string_view::npos ||
        line.find("Uncaught") != absl::string_view::npos ||
        line.find("ERR_") != absl::string_view::npos) {
      out.emplace_back(line);
    }
  }
  return out;
}

// Loads `html_path` in headless Chromium: no page error, `svgs` charts and
// as many series and bar paths in the rendered DOM as in the file, none
// saying "No data"; then a screenshot `png_name` (for people, out of the
// repo).
void ExpectDrawsInChromium(const slate::testing::TempDir& tmp,
                           const std::string& html_path, int svgs,
                           const std::string& png_name) {
  const std::string html = slate::testing::ReadFileOrEmpty(html_path);
  const int series_paths = static_cast<int>(PathData(html, "series").size() +
                                            PathData(html, "bar").size());
  ASSERT_GT(series_paths, 0);

  // --dump-dom: the DOM after loading and rendering.
  std::vector<std::string> args =
      ChromiumArgs(tmp.Sub("profile-dom-" + png_name));
  args.push_back("--dump-dom");
  args.push_back("file://" + html_path);
  ProcessResult r = RunProcess(args, tmp.Sub("dom-" + png_name));
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_THAT(PageErrors(r.err), ::testing::IsEmpty()) << r.err;
  const std::string& dom = r.out;
  EXPECT_THAT(dom, HasSubstr("<svg"));
  EXPECT_EQ(Count(dom, "<svg"), svgs) << dom.substr(0, 2000);
  EXPECT_EQ(static_cast<int>(PathData(dom, "series").size() +
                             PathData(dom, "bar").size()),
            series_paths);
  for (const std::string& d : PathData(dom, "series")) {
    ASSERT_FALSE(d.empty());
    EXPECT_EQ(d[0], 'M') << d;
  }
  EXPECT_THAT(dom, ::testing::Not(HasSubstr("No data for this period")));

  const char* out_dir = std::getenv("TEST_UNDECLARED_OUTPUTS_DIR");
  const std::string png =
      absl::StrCat(out_dir != nullptr ? out_dir : tmp.path(), "/", png_name);
  args = ChromiumArgs(tmp.Sub("profile-shot-" + png_name));
  args.push_back("--screenshot=" + png);
  args.push_back("--window-size=1280,2000");
  args.push_back("file://" + html_path);
  r = RunProcess(args, tmp.Sub("shot-" + png_name));
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_THAT(PageErrors(r.err), ::testing::IsEmpty()) << r.err;
  const std::string image = slate::testing::ReadFileOrEmpty(png);
  ASSERT_GT(image.size(), 1000u);
  EXPECT_EQ(image.substr(1, 3), "PNG");
}

// `slate exec` of `dataset` (a runfile) at `exec_now` into tmp/db, then
// `slate report --db tmp/db` with `report_args`.
void WriteReport(const slate::testing::TempDir& tmp, const std::string& dataset,
                 const std::string& exec_now,
                 const std::vector<std::string>& report_args) {
  const std::string slate = Runfile("tools/slate");
  const std::string db = tmp.Sub("db");
  ProcessResult r = RunProcess(
      {slate, "exec", "--db", db, "--now", exec_now, Runfile(dataset)},
      tmp.Sub("exec"));
  ASSERT_EQ(r.code, 0) << r;
  std::vector<std::string> args = {slate, "report", "--db", db};
  args.insert(args.end(), report_args.begin(), report_args.end());
  r = RunProcess(args, tmp.Sub("report"));
  ASSERT_EQ(r.code, 0) << r;
}

bool ChromiumMissing() { return access(kChromium, X_OK) != 0; }

constexpr char kMissing[] =
    " is not installed (apt-get install chromium; ./dev.sh test installs it): "
    "the report was not rendered in a browser";

TEST(ReportChromiumTest, ChartsDrawInHeadlessChromium) {
  if (ChromiumMissing()) GTEST_SKIP() << kChromium << kMissing;
  slate::testing::TempDir tmp;
  const std::string html_path = tmp.Sub("report.html");
  ASSERT_NO_FATAL_FAILURE(WriteReport(
      tmp, "tests/report/dataset.jsonl", "2026-12-31T00:00:00Z",
      {"--out", html_path, "--now", "2026-11-21T00:00:00Z", "--bucket",
       "week"}));
  ExpectDrawsInChromium(tmp, html_path, 8, "report.png");
}

TEST(ReportChromiumTest, ServiceReviewDrawsInHeadlessChromium) {
  if (ChromiumMissing()) GTEST_SKIP() << kChromium << kMissing;
  slate::testing::TempDir tmp;
  const std::string html_path = tmp.Sub("service.html");
  ASSERT_NO_FATAL_FAILURE(WriteReport(
      tmp, "tests/report/service_dataset.jsonl", "2026-12-05T00:00:00Z",
      {"--out", html_path, "--now", "2026-12-05T00:00:00Z", "--service",
       "email", "--month", "2026-11"}));
  ExpectDrawsInChromium(tmp, html_path, 5, "service-review.png");
}

}  // namespace
}  // namespace slate
