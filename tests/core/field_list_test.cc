#include "table/field_list.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace urn::table {
namespace {

TEST(FieldList, NumbersRangesAndNames) {
  const std::vector<std::string_view> header = {"id", "label", "weight", "user"};
  absl::StatusOr<FieldList> f = ParseFieldList("1,3-4", nullptr);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->indices, (std::vector<int>{0, 2, 3}));
  f = ParseFieldList("user,weight", &header);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->indices, (std::vector<int>{3, 2}));
  f = ParseFieldList("0", nullptr);
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->whole_line);
}

// tsv-utils 2.x syntax: descending ranges, name ranges, '*' wildcards and backslash escapes.
TEST(FieldList, RangesWildcardsAndEscapesAsTsvUtils) {
  const std::vector<std::string_view> header = {"run",         "elapsed_time", "user_time",
                                                "system_time", "max_memory",   "test id",
                                                "time-stamp",  "001",          "a*b"};
  const auto indices = [&](std::string_view spec) {
    absl::StatusOr<FieldList> f = ParseFieldList(spec, &header);
    EXPECT_TRUE(f.ok()) << spec << ": " << f.status();
    return f.ok() ? f->indices : std::vector<int>{};
  };
  EXPECT_EQ(indices("5-2"), (std::vector<int>{4, 3, 2, 1}));
  EXPECT_EQ(indices("run-user_time"), (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(indices("user_time-run"), (std::vector<int>{2, 1, 0}));
  EXPECT_EQ(indices("*_time"), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(indices("*_memory,run"), (std::vector<int>{4, 0}));
  EXPECT_EQ(indices("*"), (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(indices("test\\ id"), (std::vector<int>{5}));
  EXPECT_EQ(indices("time\\-stamp"), (std::vector<int>{6}));
  EXPECT_EQ(indices("time-stamp"), (std::vector<int>{6}));  // unescaped, but a whole name
  EXPECT_EQ(indices("\\001"), (std::vector<int>{7}));       // a name, not field 1
  EXPECT_EQ(indices("001"), (std::vector<int>{0}));         // field 1
  EXPECT_EQ(indices("a\\*b"), (std::vector<int>{8}));       // a literal '*'
  EXPECT_EQ(indices("\\r\\u\\n"), (std::vector<int>{0}));   // any character may be escaped
  EXPECT_EQ(indices(" 2 , 1 "), (std::vector<int>{1, 0}));
}

TEST(FieldList, ErrorsNameTheEntry) {
  const std::vector<std::string_view> header = {"id", "w"};
  EXPECT_NE(
      ParseFieldList("weight", &header).status().message().find("unknown field name 'weight'"),
      std::string::npos);
  EXPECT_NE(ParseFieldList("w", nullptr).status().message().find("-H"), std::string::npos);
  EXPECT_FALSE(ParseFieldList("0-2", nullptr).ok());
  EXPECT_FALSE(ParseFieldList("1-2000000", nullptr).ok());
  EXPECT_FALSE(ParseFieldList("id-2", &header).ok());  // a name and a number
  EXPECT_FALSE(ParseFieldList("x\\", &header).ok());   // a lone backslash
  EXPECT_NE(ParseFieldList("*_time", &header).status().message().find("no name matches"),
            std::string::npos);
  EXPECT_FALSE(ParseFieldList("", nullptr).ok());
  EXPECT_FALSE(ParseFieldList("1,0", nullptr).ok());
}

TEST(FieldList, ExtractsFieldsAndKeys) {
  std::string_view f;
  ASSERT_TRUE(FieldAt("a\tbb\t\tc", '\t', 1, &f));
  EXPECT_EQ(f, "bb");
  ASSERT_TRUE(FieldAt("a\tbb\t\tc", '\t', 2, &f));
  EXPECT_EQ(f, "");
  ASSERT_TRUE(FieldAt("a\tbb\t\tc", '\t', 3, &f));
  EXPECT_EQ(f, "c");
  EXPECT_FALSE(FieldAt("a\tbb", '\t', 2, &f));
}

}  // namespace
}  // namespace urn::table
