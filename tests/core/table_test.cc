#include "table/table.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/table_reading.h"
#include "table/cell_text.h"
#include "table/table_builder.h"
#include "table/value.h"

namespace urn::table {
namespace {

absl::StatusOr<Table> ReadTsv(const std::string& text, ReadOptions options = {}) {
  return ReadText(text, std::move(options));
}

TEST(Value, HoldsEachTypeAndNamesIt) {
  EXPECT_EQ(Value().type(), Type::kNull);
  EXPECT_EQ(Value::Int64(-3).int64(), -3);
  EXPECT_EQ(Value::Double(0.25).dbl(), 0.25);
  EXPECT_EQ(Value::String("x").str(), "x");
  EXPECT_TRUE(Value::Bool(true).boolean());
  EXPECT_EQ(Value::StringList({"a", "b"}).list().size(), 2u);
  EXPECT_EQ(Value::Int64(1).TypeName(), "int64");
  EXPECT_EQ(TypeName(Type::kStringList), "list<string>");
  EXPECT_NE(Value::Int64(1), Value::Double(1.0));
  Type t;
  ASSERT_TRUE(ParseTypeName("list", &t));
  EXPECT_EQ(t, Type::kStringList);
  EXPECT_FALSE(ParseTypeName("object", &t));
}

TEST(CellText, ParsesNumbersAndBoolsStrictly) {
  int64_t i;
  double d;
  bool b;
  EXPECT_TRUE(ParseInt64("+42", &i));
  EXPECT_EQ(i, 42);
  EXPECT_TRUE(ParseInt64("-9223372036854775808", &i));
  EXPECT_EQ(i, std::numeric_limits<int64_t>::min());
  EXPECT_FALSE(ParseInt64("9223372036854775808", &i));
  EXPECT_FALSE(ParseInt64("+-1", &i));
  EXPECT_FALSE(ParseInt64(" 1", &i));
  EXPECT_FALSE(ParseInt64("1.0", &i));
  EXPECT_FALSE(ParseInt64("-", &i));
  EXPECT_TRUE(ParseDouble("1e999", &d));
  EXPECT_TRUE(std::isinf(d));
  // ParseDoubleInRange: only what a double holds (subnormals, zeros, inf spelled out).
  for (const char* out : {"1e999", "-1e400", "1e-400", "2e-324", "1.8e308"}) {
    EXPECT_FALSE(ParseDoubleInRange(out, &d)) << out;
    EXPECT_TRUE(IsOutOfDoubleRange(out)) << out;
  }
  for (const char* in : {"4.9e-324", "1e-310", "0e-999", "-0.0e-500", "1.7976931348623157e308",
                         "inf", "-Infinity", "nan", "2.5"}) {
    EXPECT_TRUE(ParseDoubleInRange(in, &d)) << in;
    EXPECT_FALSE(IsOutOfDoubleRange(in)) << in;
  }
  EXPECT_TRUE(ParseDoubleInRange("4.9e-324", &d));
  EXPECT_EQ(d, std::numeric_limits<double>::denorm_min());
  EXPECT_FALSE(IsOutOfDoubleRange("abc"));
  EXPECT_TRUE(ParseDouble("-Infinity", &d));
  EXPECT_TRUE(ParseDouble("NaN", &d));
  EXPECT_TRUE(std::isnan(d));
  EXPECT_TRUE(ParseDouble(".5", &d));
  EXPECT_EQ(d, 0.5);
  EXPECT_FALSE(ParseDouble("0x10", &d));
  EXPECT_FALSE(ParseDouble("1,5", &d));
  EXPECT_TRUE(ParseBool("TrUe", &b));
  EXPECT_TRUE(b);
  EXPECT_FALSE(ParseBool("yes", &b));
  std::string s;
  AppendDouble(0.1, &s);
  EXPECT_EQ(s, "0.1");
}

TEST(Table, StoresColumnsDenselyWithTypedAccessors) {
  absl::StatusOr<Table> t = ReadTsv(
      "id\tlabel\tweight\tok\n"
      "1\tcat\t0.5\ttrue\n"
      "2\t\t2\tfalse\n"
      "3\tdog\t\t\n");
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->num_columns(), 4);
  ASSERT_EQ(t->num_rows(), 3);
  const Column& id = t->column(0);
  EXPECT_EQ(id.type(), Type::kInt64);
  EXPECT_FALSE(id.has_nulls());
  EXPECT_EQ(id.Int64Data()[2], 3);
  const Column& label = t->column(1);
  EXPECT_EQ(label.type(), Type::kString);
  EXPECT_EQ(label.StringAt(0), "cat");
  EXPECT_TRUE(label.IsNull(1));
  EXPECT_EQ(label.StringAt(1), "");
  const Column& weight = t->column(2);
  EXPECT_EQ(weight.type(), Type::kDouble);
  EXPECT_EQ(weight.DoubleData()[1], 2.0);
  EXPECT_TRUE(weight.IsNull(2));
  EXPECT_EQ(weight.DoubleData()[2], 0.0);
  EXPECT_EQ(t->column(3).type(), Type::kBool);
  EXPECT_EQ(t->column(3).BoolData()[0], 1);
  EXPECT_EQ(t->FindColumn("weight"), 2);
  EXPECT_EQ(t->FindColumn("nope"), -1);
  EXPECT_EQ(t->At(0, 1), Value::Int64(2));
  EXPECT_EQ(t->At(1, 1), Value::Null());
  EXPECT_GT(t->MemoryBytes(), 0);
}

TEST(Table, RendersCellsAsOutputText) {
  ReadOptions o;
  o.list_delimiter = ';';
  absl::StatusOr<Table> t = ReadTsv(
      "n\tx\tb\ttags\n"
      "-12\t0.1\tTRUE\ta;b\n"
      "7\t1e300\tfalse\tc\n"
      "\t\t\t\n",
      o);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->RenderCell(0, 0), "-12");
  EXPECT_EQ(t->RenderCell(1, 0), "0.1");
  EXPECT_EQ(t->RenderCell(1, 1), "1e+300");
  EXPECT_EQ(t->RenderCell(2, 0), "true");
  EXPECT_EQ(t->column(3).type(), Type::kStringList);
  EXPECT_EQ(t->RenderCell(3, 0), "a;b");
  EXPECT_EQ(t->At(3, 1), Value::StringList({"c"}));
  for (int c = 0; c < 4; ++c) EXPECT_EQ(t->RenderCell(c, 2), "") << c;
  EXPECT_EQ(t->list_delimiter(), ';');
}

TEST(Table, KeepsRawRowsWhenAsked) {
  ReadOptions o;
  o.keep_raw_rows = true;
  absl::StatusOr<Table> t = ReadTsv("a\tb\n1\t 2 \r\n\n3\tx", o);
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_TRUE(t->has_raw_rows());
  ASSERT_EQ(t->num_rows(), 2);
  EXPECT_EQ(t->RawRow(0), "1\t 2 ");
  EXPECT_EQ(t->RawRow(1), "3\tx");
  EXPECT_FALSE(ReadTsv("a\n1\n")->has_raw_rows());
}

TEST(StringDictionary, CodesEveryRowAndGivesNullsTheLastCode) {
  ReadOptions o;
  o.column_types = {{"s", Type::kString}};
  absl::StatusOr<Table> t = ReadTsv("s\tn\nb\t1\na\t2\n\t3\nb\t4\nlonger value\t5\n", o);
  ASSERT_TRUE(t.ok()) << t.status();
  const int64_t before = t->MemoryBytes();
  EXPECT_EQ(t->column(0).dictionary(), nullptr);
  t->BuildDictionaries();
  const StringDictionary* d = t->column(0).dictionary();
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(t->column(1).dictionary(), nullptr);  // int64
  ASSERT_EQ(d->values.size(), 4);
  EXPECT_EQ(d->values.StringAt(0), "b");
  EXPECT_EQ(d->values.StringAt(1), "a");
  EXPECT_EQ(d->values.StringAt(2), "longer value");
  EXPECT_FALSE(d->values.IsNull(2));
  EXPECT_TRUE(d->values.IsNull(3));
  EXPECT_EQ(d->codes, (std::vector<StringDictionary::Code>{0, 1, 3, 0, 2}));
  EXPECT_GT(t->MemoryBytes(), before);
}

TEST(StringDictionary, ColumnsWithMoreValuesThanTheLimitAreLeftAlone) {
  absl::StatusOr<Table> t = ReadTsv("s\tu\na\tx\nb\tx\nc\tx\na\tx\n");
  ASSERT_TRUE(t.ok()) << t.status();
  t->BuildDictionaries(2);
  EXPECT_EQ(t->column(0).dictionary(), nullptr);  // three values
  ASSERT_NE(t->column(1).dictionary(), nullptr);
  EXPECT_EQ(t->column(1).dictionary()->values.size(), 1);
  EXPECT_EQ(t->column(1).dictionary()->codes, (std::vector<StringDictionary::Code>{0, 0, 0, 0}));
}

TEST(StringDictionary, ListColumnsAreCodedByWholeLists) {
  ReadOptions o;
  o.list_delimiter = '|';
  o.column_types = {{"l", Type::kStringList}};
  // ["ab", "c"] and ["a", "bc"] have the same bytes but are different lists.
  absl::StatusOr<Table> t = ReadTsv("l\tn\nab|c\t1\na|bc\t2\n\t3\nab|c\t4\nx\t5\n", o);
  ASSERT_TRUE(t.ok()) << t.status();
  t->BuildDictionaries();
  const StringDictionary* d = t->column(0).dictionary();
  ASSERT_NE(d, nullptr);
  ASSERT_EQ(d->values.size(), 4);
  EXPECT_EQ(d->codes, (std::vector<StringDictionary::Code>{0, 1, 3, 0, 2}));
  EXPECT_EQ(d->values.At(0), Value::StringList({"ab", "c"}));
  EXPECT_EQ(d->values.At(1), Value::StringList({"a", "bc"}));
  EXPECT_EQ(d->values.At(2), Value::StringList({"x"}));
  EXPECT_TRUE(d->values.IsNull(3));
  EXPECT_EQ(d->values.ListSize(3), 0);
}

}  // namespace
}  // namespace urn::table
