#include "table/table_codec.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "codec/checked_record.h"

namespace urn::table {

// Reads and writes the arrays behind Column and Table (their friend).
class TableCodecAccess {
 public:
  static Column& column(Table& t, size_t i) { return t.columns_[i]; }
  static std::vector<Column>& columns(Table& t) { return t.columns_; }
  static void SetShape(Table& t, int64_t rows, char list_delimiter) {
    t.num_rows_ = rows;
    t.list_delimiter_ = list_delimiter;
  }
  static void SetRaw(Table& t, Column&& raw) {
    t.raw_ = std::move(raw.arena_);
    t.raw_offsets_ = std::move(raw.offsets_);
  }
  static const std::string& raw(const Table& t) { return t.raw_; }
  static const std::vector<uint64_t>& raw_offsets(const Table& t) { return t.raw_offsets_; }

  static int64_t& size(Column& c) { return c.size_; }
  static std::vector<uint8_t>& valid(Column& c) { return c.valid_; }
  static std::vector<int64_t>& ints(Column& c) { return c.ints_; }
  static std::vector<double>& doubles(Column& c) { return c.doubles_; }
  static std::vector<uint8_t>& bools(Column& c) { return c.bools_; }
  static std::string& arena(Column& c) { return c.arena_; }
  static std::vector<uint64_t>& offsets(Column& c) { return c.offsets_; }
  static std::vector<uint64_t>& list_offsets(Column& c) { return c.list_offsets_; }
  static const std::vector<uint8_t>& valid(const Column& c) { return c.valid_; }
  static const std::string& arena(const Column& c) { return c.arena_; }
  static const std::vector<uint64_t>& offsets(const Column& c) { return c.offsets_; }
  static const std::vector<uint64_t>& list_offsets(const Column& c) { return c.list_offsets_; }
};

namespace {

using Access = TableCodecAccess;

constexpr uint32_t kVersion = 1;
constexpr char kSchemaTag[4] = {'u', 't', 's', 'c'};
constexpr char kBlockTag[4] = {'u', 't', 'b', 'k'};
// Bounds that keep a damaged schema from asking for absurd allocations.
constexpr uint32_t kMaxColumns = 1 << 16;
// A JSONL key was bounded only by its line (ReadOptions::max_line_bytes' default), and an older
// urnd stored such names.
constexpr uint32_t kMaxNameBytes = 64 << 20;

using Reader = codec::RecordReader;

class Writer : public codec::RecordWriter {
 public:
  explicit Writer(const char* tag) : RecordWriter(tag, kVersion) {}
};

// Bytes row `r` of a column adds to a block (values, lengths, null flag).
size_t RowBytes(const Column& c, int64_t r) {
  size_t bytes = c.has_nulls() ? 1 : 0;
  switch (c.type()) {
    case Type::kInt64:
    case Type::kDouble:
      return bytes + 8;
    case Type::kBool:
      return bytes + 1;
    case Type::kStringList:
      bytes += 4;
      for (int64_t i = 0; i < c.ListSize(r); ++i) bytes += 4 + c.ListElement(r, i).size();
      return bytes;
    case Type::kString:
    case Type::kNull:
      return bytes + 4 + c.StringAt(r).size();
  }
  return bytes;
}

// The row ranges of a column's blocks.
std::vector<std::pair<int64_t, int64_t>> BlockRanges(const Column& c, int64_t rows,
                                                     size_t block_bytes) {
  std::vector<std::pair<int64_t, int64_t>> ranges;
  const bool fixed =
      c.type() == Type::kInt64 || c.type() == Type::kDouble || c.type() == Type::kBool;
  const int64_t fixed_rows = fixed ? std::clamp<int64_t>(static_cast<int64_t>(block_bytes) /
                                                             static_cast<int64_t>(RowBytes(c, 0)),
                                                         1, kBlockRows)
                                   : 0;
  int64_t first = 0;
  while (first < rows) {
    int64_t end = first;
    if (fixed) {
      end = first + fixed_rows;
    } else {
      size_t bytes = 0;
      while (end < rows && end - first < kBlockRows && (end == first || bytes < block_bytes)) {
        bytes += RowBytes(c, end++);
      }
    }
    end = std::min(end, rows);
    ranges.emplace_back(first, end);
    first = end;
  }
  return ranges;
}

std::string EncodeBlock(const Column& c, uint32_t column, uint32_t block, int64_t first,
                        int64_t end) {
  Writer w(kBlockTag);
  w.Put<uint32_t>(column);
  w.Put<uint32_t>(block);
  w.Put<uint64_t>(static_cast<uint64_t>(first));
  w.Put<uint32_t>(static_cast<uint32_t>(end - first));
  const size_t n = static_cast<size_t>(end - first);
  if (c.has_nulls()) w.PutBytes(Access::valid(c).data() + first, n);
  switch (c.type()) {
    case Type::kInt64:
      w.PutBytes(c.Int64Data() + first, n * 8);
      break;
    case Type::kDouble:
      w.PutBytes(c.DoubleData() + first, n * 8);
      break;
    case Type::kBool:
      w.PutBytes(c.BoolData() + first, n);
      break;
    case Type::kString:
    case Type::kNull: {
      // The rows' text is one contiguous run of the arena.
      for (int64_t r = first; r < end; ++r) w.Put<uint32_t>(c.StringAt(r).size());
      const std::vector<uint64_t>& offsets = Access::offsets(c);
      w.PutBytes(Access::arena(c).data() + offsets[first], offsets[end] - offsets[first]);
      break;
    }
    case Type::kStringList: {
      for (int64_t r = first; r < end; ++r) w.Put<uint32_t>(c.ListSize(r));
      const std::vector<uint64_t>& lists = Access::list_offsets(c);
      const std::vector<uint64_t>& offsets = Access::offsets(c);
      for (uint64_t e = lists[first]; e < lists[end]; ++e) {
        w.Put<uint32_t>(offsets[e + 1] - offsets[e]);
      }
      w.PutBytes(Access::arena(c).data() + offsets[lists[first]],
                 offsets[lists[end]] - offsets[lists[first]]);
      break;
    }
  }
  return w.Finish();
}

uint8_t TypeCode(Type t) { return static_cast<uint8_t>(t); }

// Appends `count` strings whose 4-byte lengths come first in `r`, then their bytes.
bool ReadStrings(Reader& r, size_t count, std::string* arena, std::vector<uint64_t>* offsets) {
  const char* lengths = r.Take(count * 4);
  if (lengths == nullptr) return false;
  uint64_t total = 0;
  for (size_t i = 0; i < count; ++i) {
    uint32_t len;
    std::memcpy(&len, lengths + 4 * i, 4);
    total += len;
  }
  if (total > r.remaining()) return false;
  const char* text = r.Take(total);
  arena->append(text, total);
  uint64_t at = offsets->back();
  for (size_t i = 0; i < count; ++i) {
    uint32_t len;
    std::memcpy(&len, lengths + 4 * i, 4);
    at += len;
    offsets->push_back(at);
  }
  return true;
}

}  // namespace

std::string SchemaBlockName() { return "0-schema"; }

std::string ColumnBlockName(size_t column, uint32_t block) {
  return absl::StrFormat("1-column/%05d/%010d", column, block);
}

absl::Status EncodeTable(
    const Table& table, size_t block_bytes,
    const std::function<absl::Status(std::string name, std::string bytes)>& sink) {
  const int64_t rows = table.num_rows();
  // The raw rows travel as one more string column.
  std::optional<Column> raw;
  if (table.has_raw_rows()) {
    raw.emplace("", Type::kString);
    Access::size(*raw) = rows;
    Access::arena(*raw) = Access::raw(table);
    Access::offsets(*raw) = Access::raw_offsets(table);
  }
  std::vector<const Column*> columns;
  for (const Column& c : table.columns()) columns.push_back(&c);
  if (raw) columns.push_back(&*raw);
  std::vector<std::vector<std::pair<int64_t, int64_t>>> ranges;
  for (const Column* c : columns) ranges.push_back(BlockRanges(*c, rows, block_bytes));

  Writer schema(kSchemaTag);
  schema.Put<uint64_t>(static_cast<uint64_t>(rows));
  schema.Put<char>(table.list_delimiter());
  schema.Put<uint8_t>(raw ? 1 : 0);
  schema.Put<uint32_t>(static_cast<uint32_t>(table.num_columns()));
  for (int i = 0; i < table.num_columns(); ++i) {
    const Column& c = table.column(i);
    schema.Put<uint32_t>(static_cast<uint32_t>(c.name().size()));
    schema.PutBytes(c.name().data(), c.name().size());
    schema.Put<uint8_t>(TypeCode(c.type()));
    schema.Put<uint8_t>(c.has_nulls() ? 1 : 0);
  }
  for (const auto& r : ranges) schema.Put<uint32_t>(static_cast<uint32_t>(r.size()));
  if (absl::Status s = sink(SchemaBlockName(), schema.Finish()); !s.ok()) return s;
  for (size_t i = 0; i < columns.size(); ++i) {
    for (size_t b = 0; b < ranges[i].size(); ++b) {
      const uint32_t block = static_cast<uint32_t>(b);
      std::string bytes = EncodeBlock(*columns[i], static_cast<uint32_t>(i), block,
                                      ranges[i][b].first, ranges[i][b].second);
      if (absl::Status s = sink(ColumnBlockName(i, block), std::move(bytes)); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

absl::Status TableDecoder::Add(std::string_view name, std::string_view bytes) {
  if (!have_schema_) {
    if (name != SchemaBlockName()) {
      return absl::DataLossError(
          absl::StrFormat("the schema block is missing (first block is '%s')", name));
    }
    return AddSchema(bytes);
  }
  return AddColumnBlock(name, bytes);
}

absl::Status TableDecoder::AddSchema(std::string_view bytes) {
  absl::StatusOr<Reader> r = Reader::Open(bytes, kSchemaTag, kVersion, "schema block");
  if (!r.ok()) return r.status();
  uint64_t rows = 0;
  uint8_t raw = 0;
  uint32_t columns = 0;
  if (!r->Get(&rows) || !r->Get(&list_delimiter_) || !r->Get(&raw) || !r->Get(&columns)) {
    return r->Damaged("truncated header");
  }
  if (rows > (uint64_t{1} << 40) || raw > 1 || columns > kMaxColumns) {
    return r->Damaged(absl::StrFormat("impossible header (%d rows, %d columns)", rows, columns));
  }
  num_rows_ = static_cast<int64_t>(rows);
  raw_rows_ = raw == 1;
  for (uint32_t i = 0; i < columns; ++i) {
    ColumnInfo info;
    uint32_t len = 0;
    uint8_t type = 0, nulls = 0;
    const char* text = nullptr;
    if (!r->Get(&len) || len > kMaxNameBytes || (text = r->Take(len)) == nullptr ||
        !r->Get(&type) || !r->Get(&nulls)) {
      return r->Damaged(absl::StrFormat("column %d is truncated", i));
    }
    if (type < TypeCode(Type::kInt64) || type > TypeCode(Type::kStringList) || nulls > 1) {
      return r->Damaged(absl::StrFormat("column %d has type %d, nulls %d", i, type, nulls));
    }
    info.name.assign(text, len);
    info.type = static_cast<Type>(type);
    info.has_nulls = nulls == 1;
    info_.push_back(std::move(info));
  }
  if (raw_rows_) {
    ColumnInfo raw;
    raw.name = "(raw rows)";
    info_.push_back(std::move(raw));
  }
  for (ColumnInfo& info : info_) {
    if (!r->Get(&info.blocks)) return r->Damaged("block counts are truncated");
    if (info.blocks > num_rows_ || (num_rows_ > 0 && info.blocks == 0)) {
      return r->Damaged(absl::StrFormat("column '%s' has %d blocks for %d rows", info.name,
                                        info.blocks, num_rows_));
    }
  }
  if (r->remaining() != 0) return r->Damaged("trailing bytes");
  // Reserved up to a bound only: the arrays grow past it as blocks arrive.
  const size_t hint = static_cast<size_t>(std::min<int64_t>(num_rows_, int64_t{1} << 26));
  std::vector<Column>& out = Access::columns(table_);
  for (size_t i = 0; i < columns; ++i) {
    Column c(info_[i].name, info_[i].type);
    if (info_[i].has_nulls) Access::valid(c).reserve(hint);
    switch (info_[i].type) {
      case Type::kInt64:
        Access::ints(c).reserve(hint);
        break;
      case Type::kDouble:
        Access::doubles(c).reserve(hint);
        break;
      case Type::kBool:
        Access::bools(c).reserve(hint);
        break;
      case Type::kStringList:
        Access::list_offsets(c).reserve(hint + 1);
        Access::list_offsets(c).push_back(0);
        Access::offsets(c).push_back(0);
        break;
      default:
        Access::offsets(c).reserve(hint + 1);
        Access::offsets(c).push_back(0);
        break;
    }
    out.push_back(std::move(c));
  }
  if (raw_rows_) {
    raw_.emplace("", Type::kString);
    Access::offsets(*raw_).reserve(hint + 1);
    Access::offsets(*raw_).push_back(0);
  }
  have_schema_ = true;
  return AdvanceColumn();
}

absl::Status TableDecoder::AdvanceColumn() {
  // Skips columns that are complete (all of them when the table has no rows).
  while (column_ < info_.size() && block_ == info_[column_].blocks) {
    if (rows_done_ != num_rows_) {
      return absl::DataLossError(absl::StrFormat("column '%s': its %d blocks hold %d of %d rows",
                                                 info_[column_].name, block_, rows_done_,
                                                 num_rows_));
    }
    ++column_;
    block_ = 0;
    rows_done_ = 0;
  }
  return absl::OkStatus();
}

absl::Status TableDecoder::AddColumnBlock(std::string_view name, std::string_view bytes) {
  if (column_ >= info_.size()) {
    return absl::DataLossError(absl::StrFormat("block '%s' is one too many", name));
  }
  const ColumnInfo& info = info_[column_];
  const std::string expected = ColumnBlockName(column_, block_);
  if (name != expected) {
    return absl::DataLossError(
        absl::StrFormat("column '%s': block %d is missing (found '%s')", info.name, block_, name));
  }
  absl::StatusOr<Reader> r =
      Reader::Open(bytes, kBlockTag, kVersion,
                   absl::StrFormat("column '%s' block %d of %d", info.name, block_, info.blocks));
  if (!r.ok()) return r.status();
  uint32_t column = 0, block = 0, count = 0;
  uint64_t first = 0;
  if (!r->Get(&column) || !r->Get(&block) || !r->Get(&first) || !r->Get(&count)) {
    return r->Damaged("truncated header");
  }
  if (column != column_ || block != block_ || first != static_cast<uint64_t>(rows_done_) ||
      count == 0 || count > num_rows_ - rows_done_) {
    return r->Damaged(
        absl::StrFormat("holds rows %d..+%d of column %d block %d; expected rows from %d", first,
                        count, column, block, rows_done_));
  }
  Column& c = column_ < Access::columns(table_).size() ? Access::column(table_, column_) : *raw_;
  const size_t n = count;
  if (info.has_nulls) {
    const char* flags = r->Take(n);
    if (flags == nullptr) return r->Damaged("null flags are truncated");
    for (size_t i = 0; i < n; ++i) {
      if (static_cast<uint8_t>(flags[i]) > 1) return r->Damaged("a null flag is not 0 or 1");
    }
    Access::valid(c).insert(Access::valid(c).end(), flags, flags + n);
  }
  const auto fixed = [&](auto& array, size_t width) -> absl::Status {
    const char* p = r->Take(n * width);
    if (p == nullptr) return r->Damaged("values are truncated");
    const size_t old = array.size();
    array.resize(old + n);
    std::memcpy(array.data() + old, p, n * width);
    return absl::OkStatus();
  };
  absl::Status s = absl::OkStatus();
  switch (info.type) {
    case Type::kInt64:
      s = fixed(Access::ints(c), 8);
      break;
    case Type::kDouble:
      s = fixed(Access::doubles(c), 8);
      break;
    case Type::kBool:
      s = fixed(Access::bools(c), 1);
      if (s.ok() && std::any_of(Access::bools(c).end() - n, Access::bools(c).end(),
                                [](uint8_t b) { return b > 1; })) {
        s = r->Damaged("a bool is not 0 or 1");
      }
      break;
    case Type::kString:
    case Type::kNull:
      if (!ReadStrings(*r, n, &Access::arena(c), &Access::offsets(c))) {
        s = r->Damaged("strings are truncated");
      }
      break;
    case Type::kStringList: {
      const char* sizes = r->Take(n * 4);
      if (sizes == nullptr) {
        s = r->Damaged("list sizes are truncated");
        break;
      }
      std::vector<uint64_t>& lists = Access::list_offsets(c);
      uint64_t elements = 0;
      for (size_t i = 0; i < n; ++i) {
        uint32_t size;
        std::memcpy(&size, sizes + 4 * i, 4);
        elements += size;
        lists.push_back(lists.back() + size);
      }
      if (elements > r->remaining() / 4 ||
          !ReadStrings(*r, elements, &Access::arena(c), &Access::offsets(c))) {
        s = r->Damaged("list elements are truncated");
      }
      break;
    }
  }
  if (!s.ok()) return s;
  if (r->remaining() != 0) return r->Damaged("trailing bytes");
  Access::size(c) += count;
  rows_done_ += count;
  ++block_;
  return AdvanceColumn();
}

absl::StatusOr<Table> TableDecoder::Finish() {
  if (!have_schema_) return absl::DataLossError("the schema block is missing");
  if (column_ < info_.size()) {
    return absl::DataLossError(absl::StrFormat("column '%s': %d of its %d blocks are missing",
                                               info_[column_].name, info_[column_].blocks - block_,
                                               info_[column_].blocks));
  }
  Access::SetShape(table_, num_rows_, list_delimiter_);
  if (raw_) Access::SetRaw(table_, *std::move(raw_));
  have_schema_ = false;
  return std::move(table_);
}

}  // namespace urn::table
