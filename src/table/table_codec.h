// TableCodec: a Table as a sequence of self-checking columnar blocks, the form in which urnd
// stores datasets (server/datasets/dataset_registry.h), so that a restart copies arrays back
// into memory instead of parsing the uploaded text again.
//
// Blocks. EncodeTable() gives a schema block (row count, list delimiter, each column's name,
// type, whether it has nulls and how many blocks it has), then, column by column, blocks of at
// most kBlockRows rows and about `block_bytes` bytes each (a longer single row makes a longer
// block). A column block holds its rows' null flags (when the column has nulls) and values:
// int64 and double as 8 little-endian bytes, bool as one byte, a string as a 4-byte length plus
// its bytes (lengths first, then the text), a list of strings as a 4-byte element count per row,
// then the elements' lengths and text. The table's raw rows, when it kept them, follow as one
// more string column. Every block starts with a tag and a version and ends with the XXH3-64 of
// all that precedes it. Block names sort in the order EncodeTable gives them, so a key-ordered
// store returns them ready for the decoder.
//
// Decoding is total: TableDecoder accepts the blocks in order and refuses anything but an
// intact, complete, consistent table with DataLoss naming the block and what is wrong
// (checksum, truncation, a missing or repeated block, a count or row range that does not add
// up, a value a Table cannot hold); it never crashes or reads out of bounds.
//
// Cost: encoding and decoding are O(bytes), mostly memcpy; a block's bytes are its values plus
// 4 bytes per string or list element, 1 per row of a column with nulls, and 40 bytes.
//
// Thread safety: EncodeTable reads a const Table; a TableDecoder belongs to one thread.
#ifndef URN_TABLE_TABLE_CODEC_H_
#define URN_TABLE_TABLE_CODEC_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "table/table.h"

namespace urn::table {

inline constexpr int64_t kBlockRows = 1 << 16;
// Column names longer than this are not accepted for storing: urnd's new uploads set
// ReadOptions::max_name_bytes to it (EncodeTable itself writes any name). The decoder reads
// names up to 64 MiB, which an older urnd accepted and wrote.
inline constexpr int64_t kMaxStoredNameBytes = int64_t{1} << 16;
inline constexpr size_t kDefaultBlockBytes = size_t{1} << 20;

// Calls sink(name, bytes) for every block of `table`, in order; stops at (and returns) the
// first error the sink returns.
absl::Status EncodeTable(
    const Table& table, size_t block_bytes,
    const std::function<absl::Status(std::string name, std::string bytes)>& sink);

class TableDecoder {
 public:
  TableDecoder() = default;
  TableDecoder(const TableDecoder&) = delete;
  TableDecoder& operator=(const TableDecoder&) = delete;

  // The next block, as EncodeTable named and gave it.
  absl::Status Add(std::string_view name, std::string_view bytes);
  // The table, once every block arrived; DataLoss naming what is missing otherwise.
  absl::StatusOr<Table> Finish();

 private:
  struct ColumnInfo {
    std::string name;
    Type type = Type::kString;
    bool has_nulls = false;
    uint32_t blocks = 0;
  };
  absl::Status AddSchema(std::string_view bytes);
  absl::Status AddColumnBlock(std::string_view name, std::string_view bytes);
  // The column (or the raw rows, at index columns_.size()) that blocks fill next.
  absl::Status AdvanceColumn();

  bool have_schema_ = false;
  int64_t num_rows_ = 0;
  char list_delimiter_ = '|';
  bool raw_rows_ = false;
  std::vector<ColumnInfo> info_;
  Table table_;
  size_t column_ = 0;          // the column being filled
  uint32_t block_ = 0;         // the next block of that column
  int64_t rows_done_ = 0;      // rows of that column filled so far
  std::optional<Column> raw_;  // the raw rows, read as a string column
};

// The name of the schema block and of block `block` of column `column` (the raw rows are
// column num_columns()).
std::string SchemaBlockName();
std::string ColumnBlockName(size_t column, uint32_t block);

}  // namespace urn::table

#endif  // URN_TABLE_TABLE_CODEC_H_
