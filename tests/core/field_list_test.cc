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

TEST(FieldList, ErrorsNameTheEntry) {
  const std::vector<std::string_view> header = {"id", "w"};
  EXPECT_NE(
      ParseFieldList("weight", &header).status().message().find("unknown field name 'weight'"),
      std::string::npos);
  EXPECT_NE(ParseFieldList("w", nullptr).status().message().find("-H"), std::string::npos);
  EXPECT_FALSE(ParseFieldList("5-2", nullptr).ok());
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
