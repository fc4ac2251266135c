#include "table/table.h"

#include <algorithm>
#include <charconv>
#include <utility>

#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"
#include "table/cell_text.h"

namespace urn::table {
namespace {

template <typename T>
int64_t VectorBytes(const std::vector<T>& v) {
  return static_cast<int64_t>(v.capacity() * sizeof(T));
}

}  // namespace

Value Column::At(int64_t row) const {
  if (IsNull(row)) return Value::Null();
  switch (type_) {
    case Type::kNull:
      return Value::Null();
    case Type::kInt64:
      return Value::Int64(ints_[row]);
    case Type::kDouble:
      return Value::Double(doubles_[row]);
    case Type::kBool:
      return Value::Bool(bools_[row] != 0);
    case Type::kString:
      return Value::String(std::string(StringAt(row)));
    case Type::kStringList: {
      std::vector<std::string> list;
      const int64_t n = ListSize(row);
      list.reserve(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) list.emplace_back(ListElement(row, i));
      return Value::StringList(std::move(list));
    }
  }
  return Value::Null();
}

int64_t Column::MemoryBytes() const {
  int64_t bytes = static_cast<int64_t>(sizeof(Column) + name_.capacity() + arena_.capacity()) +
                  VectorBytes(valid_) + VectorBytes(ints_) + VectorBytes(doubles_) +
                  VectorBytes(bools_) + VectorBytes(offsets_) + VectorBytes(list_offsets_);
  if (dictionary_ != nullptr) {
    bytes += dictionary_->values.MemoryBytes() + VectorBytes(dictionary_->codes);
  }
  return bytes;
}

std::string_view Column::CellBytes(int64_t row) const {
  if (type_ == Type::kString) return StringAt(row);
  const uint64_t first = offsets_[list_offsets_[row]], last = offsets_[list_offsets_[row + 1]];
  return std::string_view(arena_.data() + first, last - first);
}

bool Column::SameCell(int64_t row, const Column& other, int64_t other_row) const {
  if (CellBytes(row) != other.CellBytes(other_row)) return false;
  if (type_ == Type::kString) return true;
  // The same bytes: the same list if the element boundaries agree.
  const int64_t n = ListSize(row);
  if (n != other.ListSize(other_row)) return false;
  for (int64_t e = 0; e < n; ++e) {
    if (ListElement(row, e).size() != other.ListElement(other_row, e).size()) return false;
  }
  return true;
}

std::shared_ptr<const StringDictionary> Column::MakeDictionary(int64_t max_entries) const {
  const bool list = type_ == Type::kStringList;
  auto dict = std::make_shared<StringDictionary>();
  Column& values = dict->values;
  values.name_ = name_;
  values.type_ = type_;
  values.offsets_.push_back(0);
  if (list) values.list_offsets_.push_back(0);
  dict->codes.resize(static_cast<size_t>(size_));
  auto append_value = [&](int64_t r) {
    const int64_t elements = list ? ListSize(r) : 1;
    for (int64_t e = 0; e < elements; ++e) {
      values.arena_.append(list ? ListElement(r, e) : StringAt(r));
      values.offsets_.push_back(values.arena_.size());
    }
    if (list) values.list_offsets_.push_back(values.offsets_.size() - 1);
    ++values.size_;
  };
  // Open addressing on the hash of a cell's bytes (and a list's length), each hit verified
  // against the value itself: no key is copied or built per row. Slots hold code + 1.
  // (absl::flat_hash_map keyed by the first row of each value, with the same hash and check,
  // measured 1.3-1.5x slower here: BM_BuildDictionaries 11-13 against 16.5-17.6 M rows/s.)
  std::vector<uint32_t> slots(64, 0);
  std::vector<uint64_t> hashes(64, 0);
  auto hash_of = [&](int64_t r) {
    const std::string_view bytes = CellBytes(r);
    return absl::Hash<std::pair<absl::string_view, int64_t>>{}(
        {absl::string_view(bytes.data(), bytes.size()), list ? ListSize(r) : 0});
  };
  auto grow = [&] {
    const std::vector<uint32_t> old_slots =
        std::exchange(slots, std::vector<uint32_t>(2 * slots.size(), 0));
    const std::vector<uint64_t> old_hashes =
        std::exchange(hashes, std::vector<uint64_t>(2 * hashes.size(), 0));
    const size_t mask = slots.size() - 1;
    for (size_t i = 0; i < old_slots.size(); ++i) {
      if (old_slots[i] == 0) continue;
      size_t j = old_hashes[i] & mask;
      while (slots[j] != 0) j = (j + 1) & mask;
      slots[j] = old_slots[i];
      hashes[j] = old_hashes[i];
    }
  };
  for (int64_t r = 0; r < size_; ++r) {
    if (IsNull(r)) continue;  // coded below, once the null code is known
    const uint64_t h = hash_of(r);
    const size_t mask = slots.size() - 1;
    size_t i = h & mask;
    while (slots[i] != 0 && !(hashes[i] == h && SameCell(r, values, slots[i] - 1))) {
      i = (i + 1) & mask;
    }
    if (slots[i] == 0) {
      if (values.size_ >= max_entries) return nullptr;
      append_value(r);
      slots[i] = static_cast<uint32_t>(values.size_);
      hashes[i] = h;
      dict->codes[r] = static_cast<StringDictionary::Code>(slots[i] - 1);
      if (static_cast<size_t>(values.size_) * 2 > slots.size()) grow();
      continue;
    }
    dict->codes[r] = static_cast<StringDictionary::Code>(slots[i] - 1);
  }
  if (has_nulls()) {
    const auto null_code = static_cast<StringDictionary::Code>(values.size_);
    for (int64_t r = 0; r < size_; ++r) {
      if (IsNull(r)) dict->codes[r] = null_code;
    }
    if (list) {
      values.list_offsets_.push_back(values.offsets_.size() - 1);  // an empty list
    } else {
      values.offsets_.push_back(values.arena_.size());  // ""
    }
    values.valid_.assign(static_cast<size_t>(values.size_) + 1, 1);
    values.valid_.back() = 0;
    ++values.size_;
  }
  return dict;
}

void Table::BuildDictionaries(int64_t max_entries) {
  max_entries = std::min(max_entries, kDefaultDictionaryEntries);
  for (Column& c : columns_) {
    const bool strings = c.type() == Type::kString || c.type() == Type::kStringList;
    if (strings && c.dictionary_ == nullptr) c.dictionary_ = c.MakeDictionary(max_entries);
  }
}

int Table::FindColumn(std::string_view name) const {
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (columns_[i].name() == name) return static_cast<int>(i);
  }
  return -1;
}

void Table::AppendCell(int col, int64_t row, std::string* out) const {
  const Column& c = columns_[col];
  if (c.IsNull(row)) return;
  switch (c.type()) {
    case Type::kNull:
      return;
    case Type::kInt64: {
      char buf[24];
      const std::to_chars_result r = std::to_chars(buf, buf + sizeof(buf), c.Int64Data()[row]);
      out->append(buf, r.ptr);
      return;
    }
    case Type::kDouble:
      AppendDouble(c.DoubleData()[row], out);
      return;
    case Type::kBool:
      out->append(c.BoolData()[row] ? "true" : "false");
      return;
    case Type::kString:
      out->append(c.StringAt(row));
      return;
    case Type::kStringList: {
      const int64_t n = c.ListSize(row);
      for (int64_t i = 0; i < n; ++i) {
        if (i > 0) out->push_back(list_delimiter_);
        out->append(c.ListElement(row, i));
      }
      return;
    }
  }
}

std::string Table::RenderCell(int col, int64_t row) const {
  std::string out;
  AppendCell(col, row, &out);
  return out;
}

int64_t Table::MemoryBytes() const {
  int64_t bytes = static_cast<int64_t>(sizeof(Table) + raw_.capacity()) + VectorBytes(raw_offsets_);
  for (const Column& c : columns_) bytes += c.MemoryBytes();
  return bytes;
}

}  // namespace urn::table
