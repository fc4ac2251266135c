// CSV reading (RFC 4180) through TableBuilder, including chunks split anywhere.
#include <gtest/gtest.h>

#include <string>

#include "core/table_reading.h"
#include "table/csv_record.h"
#include "table/table_builder.h"

namespace urn::table {
namespace {

ReadOptions Csv() {
  ReadOptions o;
  o.format = Format::kCsv;
  return o;
}

absl::StatusOr<Table> Read(const std::string& text, ReadOptions options = Csv()) {
  return ReadText(text, std::move(options));
}

TEST(CsvReader, QuotedFieldsHoldQuotesDelimitersAndNewlines) {
  absl::StatusOr<Table> t = Read(
      "id,text\n"
      "1,\"say \"\"hi\"\"\"\n"
      "2,\"a,b\"\n"
      "3,\"two\nlines\"\n"
      "4,\"\"\n"
      "5,plain \"bare\" quotes\n");
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->num_rows(), 5);
  const Column& text = t->column(1);
  EXPECT_EQ(text.StringAt(0), "say \"hi\"");
  EXPECT_EQ(text.StringAt(1), "a,b");
  EXPECT_EQ(text.StringAt(2), "two\nlines");
  EXPECT_TRUE(text.IsNull(3));  // a quoted empty field is empty, hence null
  EXPECT_EQ(text.StringAt(4), "plain \"bare\" quotes");
}

TEST(CsvReader, HandlesCrlfAndKeepsCrlfInsideQuotes) {
  ReadOptions o = Csv();
  o.keep_raw_rows = true;
  absl::StatusOr<Table> t = Read("a,b\r\n1,\"x\r\ny\"\r\n2,z\r\n", o);
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->num_rows(), 2);
  EXPECT_EQ(t->column(1).StringAt(0), "x\r\ny");
  EXPECT_EQ(t->column(1).StringAt(1), "z");
  EXPECT_EQ(t->RawRow(0), "1,\"x\r\ny\"");
  EXPECT_EQ(t->column(0).type(), Type::kInt64);
}

TEST(CsvReader, QuotedHeaderNamesAndNoHeader) {
  absl::StatusOr<Table> t = Read("\"a,1\",b\n1,2\n");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->column(0).name(), "a,1");
  ReadOptions o = Csv();
  o.has_header = false;
  t = Read("x,\"1\"\n", o);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->column(1).name(), "2");
  EXPECT_EQ(t->column(1).type(), Type::kInt64);  // quoting does not make a string
}

TEST(CsvReader, ErrorsNameTheStartLineOfTheRecord) {
  EXPECT_EQ(Read("a,b\n1,2\n3,\"open\n\nstill open").status().message(),
            "line 3: unterminated quoted field");
  EXPECT_EQ(Read("a,b\n\"x\ny\",2\n3\n").status().message(),
            "line 4: field 'b': expected 2 fields, got 1");
  EXPECT_EQ(Read("a,b\n1,\"x\"y\n").status().message(),
            "line 2: field 'b': unexpected character after closing quote");
  EXPECT_EQ(Read("a,b\n1,\"x\"y\n").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(CsvReader, TrailingDelimiterMakesAnEmptyField) {
  absl::StatusOr<Table> t = Read("a,b\n1,\n");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_TRUE(t->column(1).IsNull(0));
}

TEST(CsvReader, DropsAByteOrderMarkOnlyAtTheStart) {
  absl::StatusOr<Table> t = Read("\xEF\xBB\xBFid,x\n1,\xEF\xBB\xBF\n");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->FindColumn("id"), 0);
  EXPECT_EQ(t->column(1).StringAt(0), "\xEF\xBB\xBF");
  t = Read("\xEF\xBB");  // shorter than a mark: data
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->column(0).name(), "\xEF\xBB");
}

TEST(CsvReader, RejectsQuoteAsDelimiter) {
  ReadOptions o = Csv();
  o.delimiter = '"';
  EXPECT_FALSE(Read("a\n", o).ok());
}

TEST(CsvReader, LongQuotedRecordHitsTheLineLimit) {
  ReadOptions o = Csv();
  o.max_line_bytes = 10;
  EXPECT_EQ(Read("a\n\"0123\n456789\"\n", o).status().message(),
            "line 2: record longer than max_line_bytes (10)");
}

// Feeding the same bytes in any two (and three) pieces gives the same table or error.
void ExpectSameForEverySplit(const std::string& input, const ReadOptions& options) {
  const std::string whole = DescribeTable(Read(input, options));
  for (size_t i = 0; i <= input.size(); ++i) {
    for (size_t j = i; j <= input.size(); ++j) {
      TableBuilder b(options);
      absl::Status s = b.Append(input.substr(0, i));
      if (s.ok()) s = b.Append(input.substr(i, j - i));
      if (s.ok()) s = b.Append(input.substr(j));
      const std::string got = s.ok() ? DescribeTable(b.Finish()) : s.ToString();
      ASSERT_EQ(got, whole) << "split at " << i << "," << j;
    }
  }
}

TEST(CsvReader, EveryChunkSplitGivesTheSameTable) {
  const std::string input =
      "\xEF\xBB\xBFid,name,note\r\n"
      "1,\"caf\xC3\xA9, \"\"bar\"\"\",\"multi\r\nline\"\r\n"
      "2,\xE2\x82\xAC,x\r\n"
      "3,,\"\"\n";
  const std::string expected =
      "id:int64=1;2;3;\n"
      "name:string=caf\xC3\xA9, \"bar\";\xE2\x82\xAC;<null>;\n"
      "note:string=multi\r\nline;x;<null>;\n";
  EXPECT_EQ(DescribeTable(Read(input)), expected);
  ExpectSameForEverySplit(input, Csv());
}

TEST(CsvReader, EveryChunkSplitGivesTheSameError) {
  ExpectSameForEverySplit("a,b\n1,\"x\ny\"\n2,\"z\"q\n", Csv());
  ExpectSameForEverySplit("a,b\n1,\"never closed\n,,\n", Csv());
  ReadOptions o = Csv();
  o.max_line_bytes = 7;
  o.max_total_bytes = 20;
  ExpectSameForEverySplit("a,b\n\"1\n\",2\n3,4567890\n5,6\n", o);
}

TEST(CsvRecord, ScannerFindsRecordEndsAcrossPieces) {
  CsvRecordScanner s(',');
  EXPECT_EQ(s.FindEnd("a,\"b\n"), std::string_view::npos);
  EXPECT_TRUE(s.in_quotes());
  EXPECT_EQ(s.FindEnd("c\"\"d\",e\nnext"), 7u);
  EXPECT_EQ(s.newlines(), 1);
  EXPECT_FALSE(s.in_quotes());
}

// The scanner names the field SplitCsvRecord would refuse for a byte after a closing quote, so
// a record can be checked without splitting it; "" inside quotes and a CR LF end are fine.
TEST(CsvRecord, ScannerNamesTheFieldWithAByteAfterItsClosingQuote) {
  std::string scratch;
  std::vector<std::string_view> fields;
  CsvSplitError error;
  for (const std::string record : {"\"x\"y,1", "a,\"b\"\"c\"d", "a,,\"b\" ,c", "a,\"b\"\r"}) {
    CsvRecordScanner s(',');
    s.FindEnd(record);
    ASSERT_FALSE(SplitCsvRecord(record, ',', &scratch, &fields, &error)) << record;
    EXPECT_EQ(s.malformed_field(), error.field) << record;
  }
  for (const std::string record : {"\"x\",\"y\"\"z\",1", "a,b,", "\"\"", "a,\"b\""}) {
    CsvRecordScanner s(',');
    s.FindEnd(record);
    ASSERT_TRUE(SplitCsvRecord(record, ',', &scratch, &fields, &error)) << record;
    EXPECT_EQ(s.malformed_field(), -1) << record;
  }
  CsvRecordScanner s(',');
  EXPECT_EQ(s.FindEnd("\"a\"\r\nb"), 4u);  // a CR LF after the closing quote ends the record
  EXPECT_EQ(s.malformed_field(), -1);
  s.Reset();
  s.FindEnd("\"a\"b");
  EXPECT_EQ(s.malformed_field(), 0);
  s.Reset();
  EXPECT_EQ(s.malformed_field(), -1);
}

TEST(CsvRecord, SplitUnescapesOnlyWhenNeeded) {
  std::string scratch;
  std::vector<std::string_view> fields;
  CsvSplitError error;
  const std::string record = "\"a\"\"b\",\"c\",d,";
  ASSERT_TRUE(SplitCsvRecord(record, ',', &scratch, &fields, &error));
  ASSERT_EQ(fields.size(), 4u);
  EXPECT_EQ(fields[0], "a\"b");
  EXPECT_EQ(fields[1], "c");
  EXPECT_EQ(fields[1].data(), record.data() + 8);  // a view into the record
  EXPECT_EQ(fields[3], "");
  EXPECT_FALSE(SplitCsvRecord("\"a", ',', &scratch, &fields, &error));
  EXPECT_EQ(error.message, "unterminated quoted field");
}

}  // namespace
}  // namespace urn::table
