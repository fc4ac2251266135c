// TSV reading through TableBuilder: headers, inference, declared types, errors and limits.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "core/table_reading.h"
#include "table/table_builder.h"

namespace urn::table {
namespace {

absl::StatusOr<Table> Read(const std::string& text, ReadOptions options = {}) {
  return ReadText(text, std::move(options));
}

ReadOptions NoHeader() {
  ReadOptions o;
  o.has_header = false;
  return o;
}

TEST(TsvReader, InfersEachType) {
  ReadOptions o;
  o.list_delimiter = '|';
  absl::StatusOr<Table> t = Read(
      "i\td\tb\ts\tl\tn\tbig\tspecial\n"
      "1\t1.5\ttrue\tx\ta|b\t\t9223372036854775807\tnan\n"
      "-2\t3\tFalse\t2\tc\t\t9223372036854775808\t-inf\n",
      o);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->column(0).type(), Type::kInt64);
  EXPECT_EQ(t->column(1).type(), Type::kDouble);
  EXPECT_EQ(t->column(2).type(), Type::kBool);
  EXPECT_EQ(t->column(3).type(), Type::kString);
  EXPECT_EQ(t->column(4).type(), Type::kStringList);
  EXPECT_EQ(t->column(4).ListSize(0), 2);
  EXPECT_EQ(t->column(4).ListElement(0, 1), "b");
  EXPECT_EQ(t->column(5).type(), Type::kString);  // all null
  EXPECT_TRUE(t->column(5).IsNull(0));
  // Integers, one past int64: as doubles they would be rounded, so the text is kept.
  EXPECT_EQ(t->column(6).type(), Type::kString);
  EXPECT_EQ(t->column(6).StringAt(1), "9223372036854775808");
  EXPECT_EQ(t->column(7).type(), Type::kDouble);
  EXPECT_TRUE(std::isnan(t->column(7).DoubleData()[0]));
}

// A column of integers some of which are past int64 keeps every value's text: as doubles,
// 9007199254740993 (2^53 + 1) came back as ...992 beside 12345678901234567891. One value with
// a fraction still makes the column double.
TEST(TsvReader, IntegersPastInt64KeepTheirTextInsteadOfBeingRounded) {
  absl::StatusOr<Table> t = Read(
      "id\tw\n9007199254740993\t12345678901234567891\n\t-12345678901234567891\n"
      "-5\t1.5\n",
      ReadOptions());
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->column(0).type(), Type::kInt64);
  EXPECT_EQ(t->column(0).Int64Data()[0], 9007199254740993);
  EXPECT_EQ(t->column(1).type(), Type::kDouble);
  t = Read("id\n9007199254740993\n12345678901234567891\n+7\n", ReadOptions());
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->column(0).type(), Type::kString);
  EXPECT_EQ(t->column(0).StringAt(0), "9007199254740993");
  EXPECT_EQ(t->column(0).StringAt(1), "12345678901234567891");
  EXPECT_EQ(t->column(0).StringAt(2), "+7");
}

TEST(TsvReader, ListNeedsTheDelimiterSetAndPresent) {
  absl::StatusOr<Table> t = Read("l\na|b\n");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->column(0).type(), Type::kString);
  ReadOptions o;
  o.list_delimiter = '|';
  t = Read("l\na\nb\n", o);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->column(0).type(), Type::kString);
  o.column_types["l"] = Type::kStringList;
  t = Read("l\na\nb|\n", o);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->column(0).type(), Type::kStringList);
  EXPECT_EQ(t->At(0, 1), Value::StringList({"b", ""}));
}

TEST(TsvReader, WithoutHeaderColumnsAreNumbered) {
  absl::StatusOr<Table> t = Read("a\t1\nb\t2\n", NoHeader());
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->num_rows(), 2);
  EXPECT_EQ(t->column(0).name(), "1");
  EXPECT_EQ(t->column(1).name(), "2");
  EXPECT_EQ(t->FindColumn("2"), 1);
  EXPECT_EQ(t->column(1).type(), Type::kInt64);
}

TEST(TsvReader, HeaderOnlyAndEmptyInputGiveEmptyTables) {
  absl::StatusOr<Table> t = Read("a\tb\n");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->num_columns(), 2);
  EXPECT_EQ(t->num_rows(), 0);
  t = Read("");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->num_columns(), 0);
}

TEST(TsvReader, SkipsEmptyLinesButCountsThem) {
  absl::StatusOr<Table> t = Read("a\tb\n\n1\t2\n\r\n3\n");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message(), "line 5: field 'b': expected 2 fields, got 1");
}

TEST(TsvReader, RaggedRowsAreErrorsWithLineNumbers) {
  absl::StatusOr<Table> t = Read("id\tlabel\tweight\n1\ta\t2\n2\tb\n");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(t.status().message(), "line 3: field 'weight': expected 3 fields, got 2");
  t = Read("a\n1\t2\n");
  EXPECT_EQ(t.status().message(), "line 2: expected 1 fields, got 2");
}

TEST(TsvReader, DeclaredTypesAreCheckedPerValue) {
  ReadOptions o;
  o.column_types["w"] = Type::kDouble;
  o.column_types["id"] = Type::kString;
  absl::StatusOr<Table> t = Read("id\tw\n1\t2\n", o);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->column(0).type(), Type::kString);
  EXPECT_EQ(t->column(1).type(), Type::kDouble);
  t = Read("id\tw\n1\t2\n2\theavy\n", o);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message(), "line 3: field 'w': expected double, got 'heavy'");
  o.column_types["missing"] = Type::kInt64;
  t = Read("id\tw\n1\t2\n", o);
  EXPECT_NE(t.status().message().find("no column named 'missing'"), absl::string_view::npos);
}

// A numeral a double cannot hold (1e400 would be inf, 1e-400 would be 0) keeps its column's text,
// so no value changes silently; a declared double refuses it. Subnormals and zeros written with
// any exponent are doubles.
TEST(TsvReader, NumbersOutOfADoublesRangeKeepTheirText) {
  absl::StatusOr<Table> t =
      Read("tiny\thuge\tsub\n1\t1\t1e-310\n1e-400\t-1e400\t0e-999\n", ReadOptions());
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->column(0).type(), Type::kString);
  EXPECT_EQ(t->column(0).StringAt(1), "1e-400");
  EXPECT_EQ(t->column(1).type(), Type::kString);
  EXPECT_EQ(t->column(1).StringAt(1), "-1e400");
  EXPECT_EQ(t->column(2).type(), Type::kDouble);
  EXPECT_EQ(t->column(2).DoubleData()[0], 1e-310);
  EXPECT_EQ(t->column(2).DoubleData()[1], 0);
  ReadOptions o;
  o.column_types["w"] = Type::kDouble;
  EXPECT_EQ(Read("w\n2\n1e-400\n", o).status().message(),
            "line 3: field 'w': expected double, got '1e-400'");
}

TEST(TsvReader, RejectsDuplicateColumnNamesAndBadOptions) {
  EXPECT_EQ(Read("a\tb\ta\n").status().message(), "line 1: duplicate column name 'a'");
  ReadOptions o;
  o.delimiter = '\n';
  EXPECT_EQ(Read("a\n", o).status().code(), absl::StatusCode::kInvalidArgument);
  ReadOptions n;
  n.column_types["a"] = Type::kNull;
  EXPECT_FALSE(Read("a\n", n).ok());
}

TEST(TsvReader, HonoursAnotherDelimiter) {
  ReadOptions o;
  o.delimiter = ' ';
  absl::StatusOr<Table> t = Read("a b\n1 x\n", o);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->column(1).StringAt(0), "x");
}

TEST(TsvReader, EnforcesLimits) {
  ReadOptions o;
  o.max_rows = 2;
  absl::StatusOr<Table> t = Read("a\n1\n2\n3\n", o);
  EXPECT_EQ(t.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(t.status().message(), "line 4: more than max_rows (2) rows");
  ReadOptions c;
  c.max_columns = 2;
  EXPECT_EQ(Read("a\tb\tc\n", c).status().code(), absl::StatusCode::kResourceExhausted);
  ReadOptions f;
  f.max_field_bytes = 3;
  t = Read("a\tb\n1\t1234\n", f);
  EXPECT_EQ(t.status().message(), "line 2: field 'b': field longer than max_field_bytes (3)");
  ReadOptions l;
  l.max_line_bytes = 8;
  t = Read("a\n1\n123456789\n", l);
  EXPECT_EQ(t.status().message(), "line 3: record longer than max_line_bytes (8)");
  t = Read("a\n1\n123456789", l);  // the unterminated last line too
  EXPECT_EQ(t.status().message(), "line 3: record longer than max_line_bytes (8)");
  ReadOptions total;
  total.max_total_bytes = 6;
  t = Read("a\n1\n2\n3\n", total);
  EXPECT_EQ(t.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(t.status().message(), "line 4: input longer than max_total_bytes (6)");
}

TEST(TsvReader, ErrorsAreStickyAndFinishIsOnce) {
  TableBuilder b(ReadOptions{});
  ASSERT_FALSE(b.Append("a\tb\n1\n").ok());
  EXPECT_FALSE(b.Append("1\t2\n").ok());
  EXPECT_EQ(b.Finish().status().message(), "line 2: field 'b': expected 2 fields, got 1");
  TableBuilder ok(ReadOptions{});
  ASSERT_TRUE(ok.Finish().ok());
  EXPECT_EQ(ok.Finish().status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(TsvReader, StartInputRestartsLinesAndChecksHeaders) {
  TableBuilder b(ReadOptions{});
  ASSERT_TRUE(b.StartInput("x.tsv").ok());
  ASSERT_TRUE(b.Append("a\tb\n1\t2").ok());
  ASSERT_TRUE(b.StartInput("y.tsv").ok());
  ASSERT_TRUE(b.Append("a\tb\n3\t4\n").ok());
  absl::StatusOr<Table> t = b.Finish();
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->num_rows(), 2);
  TableBuilder bad(ReadOptions{});
  ASSERT_TRUE(bad.StartInput("x.tsv").ok());
  ASSERT_TRUE(bad.Append("a\tb\n1\t2\n").ok());
  ASSERT_TRUE(bad.StartInput("y.tsv").ok());
  EXPECT_EQ(bad.Append("a\tc\n").message(),
            "y.tsv:1: header differs from the first input's header");
}

TEST(TsvReader, EveryChunkSplitGivesTheSameTable) {
  ReadOptions o;
  o.list_delimiter = '|';
  o.keep_raw_rows = true;
  const std::string input = "id\ttags\tw\r\n1\tcaf\xC3\xA9|\xE2\x82\xAC\t0.5\n\n2\t\t1e3\r\n3\tx\t";
  absl::StatusOr<Table> expected = Read(input, o);
  ASSERT_TRUE(expected.ok()) << expected.status();
  ASSERT_EQ(expected->num_rows(), 3);
  EXPECT_EQ(expected->column(1).type(), Type::kStringList);
  for (size_t i = 0; i <= input.size(); ++i) {
    TableBuilder b(o);
    ASSERT_TRUE(b.Append(input.substr(0, i)).ok());
    ASSERT_TRUE(b.Append(input.substr(i)).ok());
    absl::StatusOr<Table> t = b.Finish();
    ASSERT_TRUE(t.ok()) << t.status();
    ASSERT_EQ(t->num_rows(), 3);
    for (int64_t r = 0; r < 3; ++r) {
      EXPECT_EQ(t->RawRow(r), expected->RawRow(r)) << i;
      for (int c = 0; c < 3; ++c) EXPECT_EQ(t->At(c, r), expected->At(c, r)) << i;
    }
  }
}

}  // namespace
}  // namespace urn::table
