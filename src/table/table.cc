#include "table/table.h"

#include <charconv>

#include "absl/container/flat_hash_map.h"
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

std::shared_ptr<const StringDictionary> Column::MakeDictionary(int64_t max_entries) const {
  const bool list = type_ == Type::kStringList;
  auto dict = std::make_shared<StringDictionary>();
  Column& values = dict->values;
  values.name_ = name_;
  values.type_ = type_;
  values.offsets_.push_back(0);
  if (list) values.list_offsets_.push_back(0);
  dict->codes.resize(static_cast<size_t>(size_));
  // A row's key: its text, or for a list each element's length (4 bytes) and bytes.
  std::string list_key;
  auto key_of = [&](int64_t r) -> std::string_view {
    if (!list) return StringAt(r);
    list_key.clear();
    for (int64_t e = 0; e < ListSize(r); ++e) {
      const std::string_view element = ListElement(r, e);
      const auto length = static_cast<uint32_t>(element.size());
      list_key.append(reinterpret_cast<const char*>(&length), sizeof(length));
      list_key.append(element);
    }
    return list_key;
  };
  auto append_value = [&](int64_t r) {
    const int64_t elements = list ? ListSize(r) : 1;
    for (int64_t e = 0; e < elements; ++e) {
      values.arena_.append(list ? ListElement(r, e) : StringAt(r));
      values.offsets_.push_back(values.arena_.size());
    }
    if (list) values.list_offsets_.push_back(values.offsets_.size() - 1);
  };
  absl::flat_hash_map<std::string, uint32_t> index;
  std::string last;  // the key of the previous non-null row, whose code is last_code
  uint32_t last_code = 0;
  bool have_last = false;
  for (int64_t r = 0; r < size_; ++r) {
    if (IsNull(r)) continue;  // coded below, once the null code is known
    const std::string_view key = key_of(r);
    if (have_last && key == last) {
      dict->codes[r] = last_code;
      continue;
    }
    auto it = index.find(absl::string_view(key.data(), key.size()));
    if (it == index.end()) {
      if (static_cast<int64_t>(index.size()) >= max_entries) return nullptr;
      it = index.emplace(std::string(key), static_cast<uint32_t>(index.size())).first;
      append_value(r);
    }
    dict->codes[r] = last_code = it->second;
    last.assign(key);
    have_last = true;
  }
  values.size_ = static_cast<int64_t>(index.size());
  if (has_nulls()) {
    const auto null_code = static_cast<uint32_t>(values.size_);
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
