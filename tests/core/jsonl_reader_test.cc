// JSONL reading through TableBuilder and the JSON line parser.
#include <gtest/gtest.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "core/table_reading.h"
#include "table/json_line.h"
#include "table/table_builder.h"

namespace urn::table {
namespace {

ReadOptions Jsonl() {
  ReadOptions o;
  o.format = Format::kJsonl;
  return o;
}

absl::StatusOr<Table> Read(const std::string& text, ReadOptions options = Jsonl()) {
  return ReadText(text, std::move(options));
}

TEST(JsonlReader, KeysBecomeColumnsAndMissingKeysAreNull) {
  absl::StatusOr<Table> t = Read(
      "{\"id\": 1, \"w\": 0.5, \"ok\": true, \"name\": \"a\"}\n"
      "\n"
      "{\"id\": 2, \"extra\": \"late\", \"w\": 2}\r\n"
      "  {\"name\": \"\", \"id\": -3, \"w\": null}  \n");
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->num_rows(), 3);
  ASSERT_EQ(t->num_columns(), 5);
  EXPECT_EQ(t->column(0).name(), "id");
  EXPECT_EQ(t->column(0).type(), Type::kInt64);
  EXPECT_EQ(t->column(1).type(), Type::kDouble);  // 0.5 and 2 mix into double
  EXPECT_EQ(t->column(1).DoubleData()[1], 2.0);
  EXPECT_TRUE(t->column(1).IsNull(2));
  EXPECT_EQ(t->column(2).type(), Type::kBool);
  EXPECT_TRUE(t->column(2).IsNull(1));
  EXPECT_EQ(t->column(3).type(), Type::kString);
  EXPECT_TRUE(t->column(3).IsNull(1));
  EXPECT_FALSE(t->column(3).IsNull(2));  // "" is a string, not null
  EXPECT_EQ(t->column(4).name(), "extra");
  EXPECT_TRUE(t->column(4).IsNull(0));
  EXPECT_EQ(t->column(4).StringAt(1), "late");
}

// Numbers that are all integers, some past int64, keep their text (as doubles they would be
// rounded, 2^53 + 1 with them); a fraction among them makes the column double.
TEST(JsonlReader, IntegersPastInt64KeepTheirText) {
  absl::StatusOr<Table> t = Read(
      "{\"id\": 9007199254740993, \"w\": 12345678901234567891}\n"
      "{\"id\": 12345678901234567891, \"w\": 0.5}\n");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->column(0).type(), Type::kString);
  EXPECT_EQ(t->column(0).StringAt(0), "9007199254740993");
  EXPECT_EQ(t->column(0).StringAt(1), "12345678901234567891");
  EXPECT_EQ(t->column(1).type(), Type::kDouble);
}

// As in TSV: a number a double cannot hold keeps the column's text instead of becoming inf or 0.
TEST(JsonlReader, NumbersOutOfADoublesRangeKeepTheirText) {
  absl::StatusOr<Table> t = Read("{\"w\": 0.5, \"v\": 2.5}\n{\"w\": 1e-400, \"v\": 1e-310}\n");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->column(0).type(), Type::kString);
  EXPECT_EQ(t->column(0).StringAt(1), "1e-400");
  EXPECT_EQ(t->column(1).type(), Type::kDouble);
  EXPECT_EQ(t->column(1).DoubleData()[1], 1e-310);
}

TEST(JsonlReader, ArraysBecomeLists) {
  absl::StatusOr<Table> t = Read(
      "{\"findings\": [\"Effusion\", \"Mass\"]}\n"
      "{\"findings\": []}\n"
      "{\"findings\": null}\n"
      "{\"findings\": [\"No Finding\", 3, true]}\n");
  ASSERT_TRUE(t.ok()) << t.status();
  const Column& f = t->column(0);
  EXPECT_EQ(f.type(), Type::kStringList);
  EXPECT_EQ(t->At(0, 0), Value::StringList({"Effusion", "Mass"}));
  EXPECT_EQ(f.ListSize(1), 0);
  EXPECT_FALSE(f.IsNull(1));
  EXPECT_TRUE(f.IsNull(2));
  EXPECT_EQ(t->RenderCell(0, 3), "No Finding|3|true");
}

TEST(JsonlReader, StringsAreUnescaped) {
  absl::StatusOr<Table> t =
      Read("{\"s\": \"a\\\"b\\\\c\\/\\n\\u00e9\\ud83d\\ude00\", \"k\\u0041\": 1}\n");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->column(0).StringAt(0), "a\"b\\c/\n\xC3\xA9\xF0\x9F\x98\x80");
  EXPECT_EQ(t->column(1).name(), "kA");
  EXPECT_EQ(Read("{\"s\": \"\\ud83d\"}").status().message(),
            "line 1: invalid JSON: high surrogate without a low surrogate at column 8");
}

TEST(JsonlReader, KindConflictsAcrossLinesAreErrors) {
  absl::StatusOr<Table> t = Read("{\"x\": 1}\n{\"x\": null}\n{\"x\": \"1\"}\n");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message(), "line 3: field 'x': expected number (as on line 1), got string");
}

TEST(JsonlReader, DeclaredTypesAcceptCompatibleKinds) {
  ReadOptions o = Jsonl();
  o.column_types["x"] = Type::kString;
  o.column_types["tags"] = Type::kStringList;
  o.list_delimiter = ',';
  absl::StatusOr<Table> t =
      Read("{\"x\": 1, \"tags\": \"a,b\"}\n{\"x\": \"y\", \"tags\": [\"c\"]}\n", o);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->column(0).StringAt(0), "1");
  EXPECT_EQ(t->At(1, 0), Value::StringList({"a", "b"}));
  EXPECT_EQ(t->At(1, 1), Value::StringList({"c"}));
  ReadOptions i = Jsonl();
  i.column_types["n"] = Type::kInt64;
  EXPECT_EQ(Read("{\"n\": 1.5}\n", i).status().message(),
            "line 1: field 'n': expected int64, got number '1.5'");
}

TEST(JsonlReader, ErrorsNameLineColumnAndKey) {
  EXPECT_EQ(Read("{\"a\": 1}\n{\"a\" 2}\n").status().message(),
            "line 2: invalid JSON: expected ':' after key at column 6");
  EXPECT_EQ(Read("{\"a\": {\"b\": 1}}\n").status().message(),
            "line 1: field 'a': nested objects are not supported (column 7)");
  EXPECT_EQ(Read("{\"a\": [[\"b\"]]}\n").status().message(),
            "line 1: field 'a': arrays inside arrays are not supported (column 8)");
  EXPECT_EQ(Read("[1]\n").status().message(),
            "line 1: invalid JSON: expected '{' at the start of the line at column 1");
  EXPECT_EQ(Read("{\"a\": 1} x\n").status().message(),
            "line 1: invalid JSON: unexpected text after the object at column 10");
  EXPECT_EQ(Read("{\"a\": 1, \"a\": 2}\n").status().message(), "line 1: field 'a': duplicate key");
  EXPECT_EQ(Read("{\"a\": 01}\n").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Read("{\"a\": \"x\ty\"}\n").status().message(),
            "line 1: invalid JSON: control character in string at column 9");
  EXPECT_EQ(Read("{\"a\": tru}\n").status().message(),
            "line 1: invalid JSON: expected a value at column 7");
}

TEST(JsonlReader, LimitsOnKeysAndFields) {
  ReadOptions o = Jsonl();
  o.max_columns = 2;
  EXPECT_EQ(Read("{\"a\": 1, \"b\": 2}\n{\"c\": 3}\n", o).status().message(),
            "line 2: more than max_columns (2) keys");
  ReadOptions cells = Jsonl();
  cells.max_cells = 5;
  EXPECT_EQ(Read("{\"a\": 1}\n{}\n{}\n{\"b\": 1}\n", cells).status().message(),
            "line 4: more than max_cells (5) cells (rows times columns)");
  ReadOptions f = Jsonl();
  f.max_field_bytes = 3;
  EXPECT_EQ(Read("{\"a\": [\"ab\", \"cd\"]}\n", f).status().code(),
            absl::StatusCode::kResourceExhausted);
}

// `keys` keys on line 1 ({"k0":1,"k1":1,...}), then `lines` lines {"k0":1} (9 bytes with the
// line feed), each one more row of `keys` cells.
std::string SparseJsonl(int keys, int lines) {
  std::string text = "{";
  for (int k = 0; k < keys; ++k) absl::StrAppend(&text, k ? "," : "", "\"k", k, "\":1");
  text += "}\n";
  for (int i = 0; i < lines; ++i) text += "{\"k0\":1}\n";
  return text;
}

TEST(JsonlReader, SparseLinesAreRefusedBeyondMaxCellsPerByte) {
  ReadOptions o = Jsonl();
  o.max_cells_per_byte = 4;
  // 4096 keys: line L holds 4096L cells from first + 9(L - 1) bytes. Refused at the first line
  // past both 2^20 cells (always allowed) and 4 cells per byte.
  const std::string wide = SparseJsonl(4096, 400);
  const int64_t first = static_cast<int64_t>(SparseJsonl(4096, 0).size());
  int64_t line = 1;
  while (4096 * line <= (int64_t{1} << 20) || 4096 * line <= 4 * (first + 9 * (line - 1))) ++line;
  ASSERT_EQ(line, 257);  // 2^20 / 4096 + 1: the ratio was passed long before
  EXPECT_EQ(
      Read(wide, o).status().message(),
      absl::StrCat("line 257: ", 4096 * 257,
                   " cells (rows times keys; a missing key is a null cell) from ", first + 9 * 256,
                   " bytes of JSONL, more than max_cells_per_byte (4) per byte"));
  EXPECT_EQ(Read(wide, o).status().code(), absl::StatusCode::kResourceExhausted);
  // Past 2^20 cells but under 4 per byte: 16 * 70001 cells from ~630,000 bytes.
  absl::StatusOr<Table> t = Read(SparseJsonl(16, 70000), o);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->num_rows(), 70001);
  // Far past 4 per byte but under 2^20 cells: 256 * 257 cells.
  EXPECT_TRUE(Read(SparseJsonl(256, 256), o).ok());
  // 0 is no limit, and the limit is for JSONL only.
  EXPECT_TRUE(Read(wide).ok());
  ReadOptions tsv;
  tsv.max_cells_per_byte = 1;
  EXPECT_TRUE(ReadText("a\tb\n\t\n\t\n", tsv).ok());
}

TEST(JsonlReader, EveryChunkSplitGivesTheSameTable) {
  const std::string input =
      "{\"id\": 1, \"t\": [\"caf\xC3\xA9\", \"\\u20ac\"]}\r\n{\"id\": 2.5, \"t\": []}\n{}";
  TableBuilder whole(Jsonl());
  ASSERT_TRUE(whole.Append(input).ok());
  absl::StatusOr<Table> expected = whole.Finish();
  ASSERT_TRUE(expected.ok()) << expected.status();
  ASSERT_EQ(expected->num_rows(), 3);
  for (size_t i = 0; i <= input.size(); ++i) {
    TableBuilder b(Jsonl());
    ASSERT_TRUE(b.Append(input.substr(0, i)).ok());
    ASSERT_TRUE(b.Append(input.substr(i)).ok());
    absl::StatusOr<Table> t = b.Finish();
    ASSERT_TRUE(t.ok()) << t.status();
    for (int c = 0; c < 2; ++c) {
      for (int64_t r = 0; r < 3; ++r) EXPECT_EQ(t->At(c, r), expected->At(c, r)) << i;
    }
  }
  EXPECT_EQ(expected->RenderCell(1, 0), "caf\xC3\xA9|\xE2\x82\xAC");
}

TEST(JsonLineParser, ReportsFieldsKindsAndText) {
  JsonLineParser p;
  ASSERT_TRUE(p.Parse("{\"a\":-1.5e3,\"b\":false,\"c\":[\"x\",\"y\"]}"));
  ASSERT_EQ(p.fields().size(), 3u);
  EXPECT_EQ(p.fields()[0].kind, JsonKind::kNumber);
  EXPECT_EQ(p.fields()[0].text, "-1.5e3");
  EXPECT_EQ(p.fields()[1].text, "false");
  EXPECT_EQ(p.fields()[2].elements_end - p.fields()[2].elements_begin, 2u);
  EXPECT_EQ(p.element(1), "y");
  ASSERT_TRUE(p.Parse(" \t"));
  EXPECT_TRUE(p.empty());
  EXPECT_FALSE(p.Parse("{\"a\":1.}"));
  EXPECT_FALSE(p.Parse("{\"a\":\"\\x\"}"));
  EXPECT_FALSE(p.Parse("{\"a\":1,}"));
}

}  // namespace
}  // namespace urn::table
