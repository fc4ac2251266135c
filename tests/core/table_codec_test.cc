#include "table/table_codec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/table_reading.h"

namespace urn::table {
namespace {

using ::testing::HasSubstr;

struct Block {
  std::string name;
  std::string bytes;
};

std::vector<Block> Encode(const Table& t, size_t block_bytes = kDefaultBlockBytes) {
  std::vector<Block> blocks;
  const absl::Status s = EncodeTable(t, block_bytes, [&](std::string name, std::string bytes) {
    blocks.push_back({std::move(name), std::move(bytes)});
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
  return blocks;
}

absl::StatusOr<Table> Decode(const std::vector<Block>& blocks) {
  TableDecoder decoder;
  for (const Block& b : blocks) {
    if (absl::Status s = decoder.Add(b.name, b.bytes); !s.ok()) return s;
  }
  return decoder.Finish();
}

// Everything a reader of the table can observe.
std::string Describe(const Table& t) {
  std::string out;
  for (int c = 0; c < t.num_columns(); ++c) {
    const Column& col = t.column(c);
    absl::StrAppend(&out, col.name(), ":", std::string(TypeName(col.type())),
                    " nulls=", col.has_nulls(), "=");
    for (int64_t r = 0; r < t.num_rows(); ++r) {
      absl::StrAppend(&out, col.IsNull(r) ? "<null>" : t.RenderCell(c, r), ";");
    }
    out += "\n";
  }
  absl::StrAppend(&out, "rows=", t.num_rows(),
                  " list_delimiter=", std::string(1, t.list_delimiter()));
  if (t.has_raw_rows()) {
    for (int64_t r = 0; r < t.num_rows(); ++r)
      absl::StrAppend(&out, "\nraw:", std::string(t.RawRow(r)));
  }
  return out;
}

std::string Describe(const absl::StatusOr<Table>& t) {
  return t.ok() ? Describe(*t) : t.status().ToString();
}

Table MustRead(const std::string& text, ReadOptions options) {
  absl::StatusOr<Table> t = ReadText(text, std::move(options));
  EXPECT_TRUE(t.ok()) << t.status();
  return *std::move(t);
}

// Every type, nulls in some columns, empty and null lists, an empty string, raw rows.
Table EveryType() {
  ReadOptions o;
  o.list_delimiter = ';';
  o.keep_raw_rows = true;
  o.column_types = {{"tags", Type::kStringList}};
  return MustRead(
      "id\tx\tname\tok\ttags\tmaybe\n"
      "1\t0.5\talpha\ttrue\ta;b\t7\n"
      "-2\t-1e300\t\tfalse\t\t\n"
      "9223372036854775807\t5e-324\tgamma delta\ttrue\tc\t-1\n"
      "0\tinf\tαβγ\tfalse\t;;x\t\n",
      o);
}

TEST(TableCodec, RoundTripKeepsEveryTypeNullsListsAndRawRows) {
  const Table t = EveryType();
  const std::vector<Block> blocks = Encode(t);
  // A schema block, then one block per column and one for the raw rows.
  ASSERT_EQ(blocks.size(), 1u + 6 + 1);
  EXPECT_EQ(blocks[0].name, SchemaBlockName());
  EXPECT_EQ(blocks[1].name, ColumnBlockName(0, 0));
  EXPECT_EQ(Describe(Decode(blocks)), Describe(t));
}

// A column name of 70,000 bytes (which an older urnd accepted and stored; today's uploads stop
// at kMaxStoredNameBytes) decodes: before, the decoder's bound was 64 KiB, and such a dataset,
// acknowledged and served, was DATA_LOSS after a restart.
TEST(TableCodec, ALongColumnNameRoundTrips) {
  const std::string name(70000, 'n');
  const Table t = MustRead(name + "\tb\n1\t2\n", ReadOptions());
  EXPECT_EQ(Describe(Decode(Encode(t))), Describe(t));
  ReadOptions upload;
  upload.max_name_bytes = kMaxStoredNameBytes;
  absl::StatusOr<Table> refused = ReadText(name + "\tb\n1\t2\n", upload);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(refused.status().message(),
              HasSubstr("a column name of 70000 bytes, longer than max_name_bytes (65536)"));
  upload.format = Format::kJsonl;
  refused = ReadText("{\"" + name + "\": 1}\n", upload);
  EXPECT_THAT(refused.status().message(), HasSubstr("longer than max_name_bytes"));
}

TEST(TableCodec, BlockNamesSortInEncodingOrder) {
  const std::vector<Block> blocks = Encode(EveryType(), 1);
  for (size_t i = 1; i < blocks.size(); ++i) EXPECT_LT(blocks[i - 1].name, blocks[i].name) << i;
}

TEST(TableCodec, SmallBlocksSplitColumnsAndStillRoundTrip) {
  std::string text = "n\ts\tl\n";
  for (int i = 0; i < 3000; ++i) {
    absl::StrAppend(&text, i, "\t", std::string(i % 50, 'a' + i % 26), "\t", i % 3 ? "p|q" : "",
                    "\n");
  }
  ReadOptions o;
  o.list_delimiter = '|';
  o.column_types = {{"l", Type::kStringList}};
  const Table t = MustRead(text, o);
  const std::vector<Block> blocks = Encode(t, 4096);
  EXPECT_GT(blocks.size(), 20u);
  EXPECT_EQ(Describe(Decode(blocks)), Describe(t));
}

TEST(TableCodec, RowsPastOneBlockOfRowsRoundTrip) {
  std::string text = "b\n";
  for (int64_t i = 0; i < kBlockRows + 5; ++i) text += i % 7 == 0 ? "true\n" : "false\n";
  const Table t = MustRead(text, {});
  const std::vector<Block> blocks = Encode(t);
  EXPECT_EQ(blocks.size(), 3u);  // schema, two blocks of bools
  EXPECT_EQ(Describe(Decode(blocks)), Describe(t));
}

TEST(TableCodec, EmptyTableRoundTrips) {
  const Table t = MustRead("a\tb\n", {});
  const std::vector<Block> blocks = Encode(t);
  ASSERT_EQ(blocks.size(), 1u);
  absl::StatusOr<Table> back = Decode(blocks);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->num_rows(), 0);
  EXPECT_EQ(back->num_columns(), 2);
}

TEST(TableCodec, ADamagedByteInAnyBlockIsDataLossNamingTheBlock) {
  const std::vector<Block> good = Encode(EveryType());
  for (size_t b = 0; b < good.size(); ++b) {
    std::vector<Block> bad = good;
    bad[b].bytes[bad[b].bytes.size() / 2] ^= 0x20;
    absl::StatusOr<Table> t = Decode(bad);
    ASSERT_TRUE(absl::IsDataLoss(t.status())) << b << ": " << t.status();
    EXPECT_THAT(t.status().message(), HasSubstr("checksum mismatch")) << b;
    if (b == 0) {
      EXPECT_THAT(t.status().message(), HasSubstr("schema block"));
    } else if (b == 3) {
      EXPECT_THAT(t.status().message(), HasSubstr("column 'name' block 0 of 1"));
    }
  }
}

TEST(TableCodec, EveryTruncationIsDataLossNeverACrash) {
  const std::vector<Block> good = Encode(EveryType());
  for (size_t b = 0; b < good.size(); ++b) {
    for (size_t len = 0; len < good[b].bytes.size(); ++len) {
      std::vector<Block> bad = good;
      bad[b].bytes.resize(len);
      EXPECT_TRUE(absl::IsDataLoss(Decode(bad).status())) << b << " cut at " << len;
    }
  }
}

TEST(TableCodec, MissingRepeatedAndExtraBlocksAreDataLoss) {
  std::string text = "v\n";
  for (int i = 0; i < 1000; ++i) absl::StrAppend(&text, i, "\n");
  const std::vector<Block> good = Encode(MustRead(text, {}), 1024);
  ASSERT_GE(good.size(), 4u);

  std::vector<Block> missing = good;
  missing.erase(missing.begin() + 2);
  EXPECT_THAT(Decode(missing).status().message(), HasSubstr("column 'v': block 1 is missing"));

  std::vector<Block> last_missing = good;
  last_missing.pop_back();
  EXPECT_THAT(
      Decode(last_missing).status().message(),
      HasSubstr("column 'v': 1 of its " + std::to_string(good.size() - 1) + " blocks are missing"));

  std::vector<Block> repeated = good;
  repeated.insert(repeated.begin() + 2, good[1]);
  EXPECT_TRUE(absl::IsDataLoss(Decode(repeated).status()));

  std::vector<Block> extra = good;
  extra.push_back(good[1]);
  EXPECT_THAT(Decode(extra).status().message(), HasSubstr("one too many"));

  std::vector<Block> no_schema(good.begin() + 1, good.end());
  EXPECT_THAT(Decode(no_schema).status().message(), HasSubstr("schema block is missing"));

  // A block renamed into another's place: its header still says where it belongs.
  std::vector<Block> swapped = good;
  swapped[1].bytes = good[2].bytes;
  EXPECT_THAT(Decode(swapped).status().message(), HasSubstr("expected rows from 0"));
}

}  // namespace
}  // namespace urn::table
