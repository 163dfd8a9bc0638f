#include "lib/import/csv_reader.h"

#include <zip.h>

#include <cstdio>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"

namespace slate {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::vector<CsvRecord> ReadAll(const std::string& text,
                               size_t buffer_bytes = 1 << 20) {
  auto src = StringSource(text);
  CsvReader csv(src.get(), buffer_bytes);
  std::vector<CsvRecord> out;
  CsvRecord r;
  while (true) {
    absl::StatusOr<bool> more = csv.Next(&r);
    EXPECT_TRUE(more.ok()) << more.status();
    if (!more.ok() || !*more) break;
    out.push_back(r);
  }
  return out;
}

TEST(CsvReader, PlainRecordsWithLf) {
  auto recs = ReadAll("a,b,c\n1,2,3\n");
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_THAT(recs[0].fields, ElementsAre("a", "b", "c"));
  EXPECT_THAT(recs[1].fields, ElementsAre("1", "2", "3"));
  EXPECT_EQ(recs[0].line, 1);
  EXPECT_EQ(recs[1].line, 2);
}

TEST(CsvReader, CrLfEndsRecordsAndLoneCrIsData) {
  auto recs = ReadAll("a,b\r\nx\ry,z\r\n");
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_THAT(recs[0].fields, ElementsAre("a", "b"));
  EXPECT_THAT(recs[1].fields, ElementsAre("x\ry", "z"));
}

TEST(CsvReader, LastRecordWithoutNewline) {
  auto recs = ReadAll("a,b\nc,d");
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_THAT(recs[1].fields, ElementsAre("c", "d"));
}

TEST(CsvReader, EmptyFields) {
  auto recs = ReadAll(",a,,\n\n");
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_THAT(recs[0].fields, ElementsAre("", "a", "", ""));
  EXPECT_THAT(recs[1].fields, ElementsAre(""));  // An empty line.
}

TEST(CsvReader, QuotedFieldsWithCommasQuotesAndNewlines) {
  auto recs = ReadAll(
      "\"a,b\",\"say \"\"hi\"\"\",\"line1\nline2\",\"\"\r\nnext,\"x\r\ny\"\n");
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_THAT(recs[0].fields,
              ElementsAre("a,b", "say \"hi\"", "line1\nline2", ""));
  EXPECT_TRUE(recs[0].error.empty());
  EXPECT_THAT(recs[1].fields, ElementsAre("next", "x\r\ny"));
  EXPECT_EQ(recs[1].line, 3);  // The record after a quoted newline.
}

TEST(CsvReader, QuoteInsideUnquotedFieldIsMalformedAndReaderResyncs) {
  auto recs = ReadAll("a,b\"c,d\ne,f\n");
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_THAT(recs[0].error, HasSubstr("inside an unquoted field"));
  EXPECT_EQ(recs[0].line, 1);
  EXPECT_THAT(recs[1].fields, ElementsAre("e", "f"));
  EXPECT_TRUE(recs[1].error.empty());
  EXPECT_EQ(recs[1].line, 2);
}

TEST(CsvReader, TextAfterClosingQuoteIsMalformed) {
  auto recs = ReadAll("\"a\"b,c\nd\n");
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_THAT(recs[0].error, HasSubstr("after the closing quote"));
  EXPECT_THAT(recs[1].fields, ElementsAre("d"));
}

TEST(CsvReader, UnterminatedQuoteIsMalformedAtEnd) {
  auto recs = ReadAll("ok\n\"never closed,\nmore\n");
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_THAT(recs[0].fields, ElementsAre("ok"));
  EXPECT_THAT(recs[1].error, HasSubstr("opened at line 2 is not closed"));
}

TEST(CsvReader, EmptyInputHasNoRecords) { EXPECT_THAT(ReadAll(""), IsEmpty()); }

// The writer every CSV producer uses: quote a field when it needs it.
std::string Encode(const std::vector<std::vector<std::string>>& records,
                   bool crlf, std::mt19937* rng) {
  std::string out;
  for (const auto& rec : records) {
    for (size_t i = 0; i < rec.size(); ++i) {
      if (i > 0) out += ',';
      const std::string& f = rec[i];
      const bool must = f.find_first_of(",\"\r\n") != std::string::npos ||
                        (rec.size() == 1 && f.empty());
      if (must || (*rng)() % 4 == 0) {
        out += '"';
        for (char c : f) {
          if (c == '"') out += '"';
          out += c;
        }
        out += '"';
      } else {
        out += f;
      }
    }
    out += crlf ? "\r\n" : "\n";
  }
  return out;
}

// Property: any records, encoded, read back equal at any buffer size.
TEST(CsvReader, RoundTripsRandomRecordsAtAnyBufferSize) {
  const unsigned seed = 20161129;
  std::cout << "seed " << seed << "\n";
  std::mt19937 rng(seed);
  const std::string alphabet = "ab,\"\n\r x";
  for (int round = 0; round < 300; ++round) {
    std::vector<std::vector<std::string>> records(1 + rng() % 6);
    for (auto& rec : records) {
      rec.resize(1 + rng() % 5);
      for (auto& f : rec) {
        const int len = rng() % 7;
        for (int i = 0; i < len; ++i) f += alphabet[rng() % alphabet.size()];
      }
    }
    const bool crlf = rng() % 2 == 0;
    const std::string text = Encode(records, crlf, &rng);
    for (size_t buf : {16, 17, 64, 1 << 20}) {
      auto got = ReadAll(text, buf);
      ASSERT_EQ(got.size(), records.size())
          << "round " << round << " buffer " << buf << " text " << text;
      for (size_t i = 0; i < got.size(); ++i) {
        EXPECT_TRUE(got[i].error.empty()) << got[i].error;
        EXPECT_EQ(got[i].fields, records[i])
            << "round " << round << " record " << i;
      }
    }
  }
}

TEST(CsvReader, FileSourceAndMissingFile) {
  testing::TempDir dir;
  const std::string path = dir.Sub("x.csv");
  FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs("h1,h2\nv1,v2\n", f);
  std::fclose(f);
  auto src = OpenImportSource(path);
  ASSERT_TRUE(src.ok()) << src.status();
  EXPECT_EQ((*src)->TotalBytes(), 12);
  CsvReader csv(src->get());
  CsvRecord r;
  ASSERT_TRUE(*csv.Next(&r));
  ASSERT_TRUE(*csv.Next(&r));
  EXPECT_THAT(r.fields, ElementsAre("v1", "v2"));
  EXPECT_EQ(OpenImportSource(dir.Sub("none.csv")).status().code(),
            absl::StatusCode::kNotFound);
}

void WriteZip(const std::string& path,
              const std::vector<std::pair<std::string, std::string>>& files) {
  int err = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  ASSERT_NE(z, nullptr);
  for (const auto& [name, content] : files) {
    zip_source_t* s =
        zip_source_buffer(z, content.data(), content.size(), /*freep=*/0);
    ASSERT_NE(s, nullptr);
    ASSERT_GE(zip_file_add(z, name.c_str(), s, ZIP_FL_OVERWRITE), 0);
  }
  ASSERT_EQ(zip_close(z), 0);
}

TEST(CsvReader, ZipSourceStreamsTheCsvEntry) {
  testing::TempDir dir;
  const std::string path = dir.Sub("data.zip");
  std::string big = "n,v\n";
  for (int i = 0; i < 50000; ++i) absl::StrAppend(&big, "INC", i, ",", i, "\n");
  WriteZip(path, {{"readme.txt", "hello"}, {"data.csv", big}});
  auto src = OpenImportSource(path);
  ASSERT_TRUE(src.ok()) << src.status();
  EXPECT_EQ((*src)->TotalBytes(), static_cast<int64_t>(big.size()));
  EXPECT_THAT((*src)->Name(), HasSubstr("data.zip:data.csv"));
  CsvReader csv(src->get(), 4096);
  CsvRecord r;
  int n = 0;
  while (*csv.Next(&r)) ++n;
  EXPECT_EQ(n, 50001);
  EXPECT_THAT(r.fields, ElementsAre("INC49999", "49999"));
  EXPECT_EQ(csv.BytesRead(), static_cast<int64_t>(big.size()));
}

TEST(CsvReader, ZipWithoutOrWithSeveralCsvEntriesIsRefused) {
  testing::TempDir dir;
  WriteZip(dir.Sub("none.zip"), {{"a.txt", "x"}});
  WriteZip(dir.Sub("two.zip"), {{"a.csv", "x"}, {"b.CSV", "y"}});
  auto none = OpenImportSource(dir.Sub("none.zip"));
  EXPECT_EQ(none.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(none.status().message(), HasSubstr("no .csv entry"));
  auto two = OpenImportSource(dir.Sub("two.zip"));
  EXPECT_EQ(two.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(two.status().message(), HasSubstr("several"));
  FILE* f = std::fopen(dir.Sub("fake.zip").c_str(), "w");
  std::fputs("not a zip", f);
  std::fclose(f);
  EXPECT_EQ(OpenImportSource(dir.Sub("fake.zip")).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace slate
