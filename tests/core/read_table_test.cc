#include "table/read_table.h"

#include <gtest/gtest.h>

#include <string>

#include "support/temp_dir.h"

namespace urn::table {
namespace {

using ::urn::testing::TempDir;
using ::urn::testing::WriteFileOrDie;

TEST(ReadTableFromFiles, ConcatenatesFilesWithOneHeaderEach) {
  TempDir dir;
  WriteFileOrDie(dir.Join("a.tsv"), "id\tw\n1\t0.5\n2\t1\n");
  WriteFileOrDie(dir.Join("b.tsv"), "id\tw\n3\t2");
  absl::StatusOr<Table> t = ReadTableFromFiles({dir.Join("a.tsv"), dir.Join("b.tsv")}, {});
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->num_rows(), 3);
  EXPECT_EQ(t->column(0).Int64Data()[2], 3);
  EXPECT_EQ(t->column(1).type(), Type::kDouble);
}

TEST(ReadTableFromFiles, ErrorsStartWithFileAndLine) {
  TempDir dir;
  const std::string path = dir.Join("data.csv");
  WriteFileOrDie(path, "a,weight\n1,2\n3\n");
  ReadOptions o;
  o.format = Format::kCsv;
  absl::StatusOr<Table> t = ReadTableFromFiles({path}, o);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(std::string(t.status().message()),
            path + ":3: field 'weight': expected 2 fields, got 1");
}

TEST(ReadTableFromFiles, MissingFileIsNotFound) {
  TempDir dir;
  absl::StatusOr<Table> t = ReadTableFromFiles({dir.Join("nope.tsv")}, {});
  EXPECT_EQ(t.status().code(), absl::StatusCode::kNotFound);
}

TEST(ReadTableFromFiles, ReadsAFileLargerThanOneBlock) {
  TempDir dir;
  std::string text = "n\tname\n";
  for (int i = 0; i < 300000; ++i) text += std::to_string(i) + "\tname" + std::to_string(i) + "\n";
  ASSERT_GT(text.size(), size_t{4} << 20);
  WriteFileOrDie(dir.Join("big.tsv"), text);
  absl::StatusOr<Table> t = ReadTableFromFiles({dir.Join("big.tsv")}, {});
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->num_rows(), 300000);
  EXPECT_EQ(t->column(0).Int64Data()[299999], 299999);
  EXPECT_EQ(t->column(1).StringAt(123456), "name123456");
}

}  // namespace
}  // namespace urn::table
