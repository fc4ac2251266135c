#include "table/column_builder.h"

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "table/cell_text.h"

namespace urn::table {
namespace {

// The value quoted for an error message, cut to a readable length.
std::string Quoted(std::string_view text) {
  constexpr size_t kMax = 40;
  if (text.size() <= kMax) return absl::StrCat("'", std::string(text), "'");
  return absl::StrCat("'", std::string(text.substr(0, kMax)), "...'");
}

bool FitsDeclared(Type type, std::string_view text) {
  int64_t i;
  double d;
  bool b;
  switch (type) {
    case Type::kInt64:
      return ParseInt64(text, &i);
    case Type::kDouble:
      return ParseDoubleInRange(text, &d);
    case Type::kBool:
      return ParseBool(text, &b);
    default:
      return true;
  }
}

template <typename T>
void Release(T* v) {
  T().swap(*v);
}

}  // namespace

ColumnBuilder::ColumnBuilder(std::string name, std::optional<Type> declared, bool json)
    : name_(std::move(name)), declared_(declared), json_(json) {
  offsets_.push_back(0);
}

void ColumnBuilder::AppendNull() {
  offsets_.push_back(bytes_.size());
  if (json_) kinds_.push_back(static_cast<uint8_t>(JsonKind::kNull));
}

bool ColumnBuilder::AppendText(std::string_view text, std::string* error) {
  if (declared_ && !text.empty() && !FitsDeclared(*declared_, text)) {
    *error = absl::StrCat("expected ", std::string(TypeName(*declared_)), ", got ", Quoted(text));
    return false;
  }
  bytes_.append(text);
  offsets_.push_back(bytes_.size());
  return true;
}

bool ColumnBuilder::AppendJson(const JsonField& field,
                               const std::vector<std::string_view>& elements, int64_t line,
                               std::string* error) {
  const JsonKind kind = field.kind;
  if (kind == JsonKind::kNull) {
    AppendNull();
    return true;
  }
  if (declared_) {
    bool ok = false;
    switch (*declared_) {
      case Type::kInt64:
      case Type::kDouble:
        ok = kind == JsonKind::kNumber && FitsDeclared(*declared_, field.text);
        break;
      case Type::kBool:
        ok = kind == JsonKind::kBool;
        break;
      case Type::kString:
        ok = kind != JsonKind::kArray;
        break;
      case Type::kStringList:
        ok = kind == JsonKind::kArray || kind == JsonKind::kString;
        break;
      case Type::kNull:
        break;
    }
    if (!ok) {
      *error = absl::StrCat("expected ", std::string(TypeName(*declared_)), ", got ",
                            std::string(JsonKindName(kind)));
      if (kind != JsonKind::kArray) absl::StrAppend(error, " ", Quoted(field.text));
      return false;
    }
  } else if (json_kind_ == JsonKind::kNull) {
    json_kind_ = kind;
    json_kind_line_ = line;
  } else if (kind != json_kind_) {
    *error = absl::StrCat("expected ", std::string(JsonKindName(json_kind_)), " (as on line ",
                          json_kind_line_, "), got ", std::string(JsonKindName(kind)));
    return false;
  }
  if (kind == JsonKind::kNumber && all_int_) {
    int64_t v;
    all_int_ = ParseInt64(field.text, &v);
  }
  if (kind == JsonKind::kNumber && all_integer_text_) {
    all_integer_text_ = IsIntegerText(field.text);
  }
  kinds_.push_back(static_cast<uint8_t>(kind));
  if (kind == JsonKind::kArray) {
    for (size_t e = field.elements_begin; e < field.elements_end; ++e) {
      bytes_.append(elements[e]);
      elem_ends_.push_back(bytes_.size());
    }
    array_sizes_.push_back(static_cast<uint32_t>(field.elements_end - field.elements_begin));
  } else {
    bytes_.append(field.text);
  }
  offsets_.push_back(bytes_.size());
  return true;
}

Type ColumnBuilder::InferJsonType() const {
  switch (json_kind_) {
    case JsonKind::kNumber:
      // Integers past int64 as doubles would be rounded, and their neighbours with them
      // (9007199254740993 beside 12345678901234567891): such a column keeps its text.
      if (all_int_) return Type::kInt64;
      return all_integer_text_ ? Type::kString : Type::kDouble;
    case JsonKind::kBool:
      return Type::kBool;
    case JsonKind::kArray:
      return Type::kStringList;
    case JsonKind::kNull:
    case JsonKind::kString:
      return Type::kString;
  }
  return Type::kString;
}

template <typename T, typename Parse>
bool ColumnBuilder::TryFill(Parse parse, std::vector<T>* out) const {
  const size_t n = static_cast<size_t>(size());
  out->assign(n, T());
  for (size_t i = 0; i < n; ++i) {
    if (!IsNullCell(i) && !parse(Cell(i), &(*out)[i])) {
      std::vector<T>().swap(*out);
      return false;
    }
  }
  return true;
}

Type ColumnBuilder::FillInferredText(std::optional<char> list_delimiter, Column* c) const {
  const size_t n = static_cast<size_t>(size());
  size_t first = 0;
  while (first < n && IsNullCell(first)) ++first;
  if (first == n) return Type::kString;
  // Only types that the first value fits are tried on the whole column.
  const std::string_view sample = Cell(first);
  int64_t iv;
  double dv;
  bool bv;
  if (ParseInt64(sample, &iv) && TryFill(ParseInt64, &c->ints_)) return Type::kInt64;
  if (IsIntegerText(sample)) {
    // Integers that do not all fit int64 keep their text (see InferJsonType).
    bool all_integers = true;
    for (size_t i = first; all_integers && i < n; ++i) {
      all_integers = IsNullCell(i) || IsIntegerText(Cell(i));
    }
    if (all_integers) return Type::kString;
  }
  // A numeral out of a double's range (1e400, 1e-400) keeps the column's text: its value
  // would change silently otherwise.
  if (ParseDoubleInRange(sample, &dv) && TryFill(ParseDoubleInRange, &c->doubles_)) {
    return Type::kDouble;
  }
  if (ParseBool(sample, &bv)) {
    auto parse = [](std::string_view text, uint8_t* out) {
      bool b;
      if (!ParseBool(text, &b)) return false;
      *out = b ? 1 : 0;
      return true;
    };
    if (TryFill(parse, &c->bools_)) return Type::kBool;
  }
  if (list_delimiter && !bytes_.empty() &&
      std::memchr(bytes_.data(), *list_delimiter, bytes_.size()) != nullptr) {
    return Type::kStringList;
  }
  return Type::kString;
}

void ColumnBuilder::FillValidity(Column* c) const {
  const size_t n = static_cast<size_t>(size());
  size_t i = 0;
  while (i < n && !IsNullCell(i)) ++i;
  if (i == n) return;  // no nulls: no validity bytes
  c->valid_.assign(n, 1);
  for (; i < n; ++i) c->valid_[i] = IsNullCell(i) ? 0 : 1;
}

void ColumnBuilder::BuildList(std::optional<char> list_delimiter, Column* c) {
  const size_t n = static_cast<size_t>(size());
  c->arena_.reserve(bytes_.size());
  c->offsets_.assign(1, 0);
  c->list_offsets_.reserve(n + 1);
  c->list_offsets_.push_back(0);
  size_t array_index = 0, elem_index = 0;
  auto add_element = [c](std::string_view e) {
    c->arena_.append(e);
    c->offsets_.push_back(c->arena_.size());
  };
  for (size_t i = 0; i < n; ++i) {
    if (!IsNullCell(i)) {
      const std::string_view cell = Cell(i);
      if (json_ && kinds_[i] == static_cast<uint8_t>(JsonKind::kArray)) {
        uint64_t begin = offsets_[i];
        const uint32_t count = array_sizes_[array_index++];
        for (uint32_t k = 0; k < count; ++k) {
          const uint64_t end = elem_ends_[elem_index++];
          add_element(std::string_view(bytes_.data() + begin, end - begin));
          begin = end;
        }
      } else if (list_delimiter) {
        size_t start = 0;
        for (;;) {
          const size_t d = cell.find(*list_delimiter, start);
          if (d == std::string_view::npos) {
            add_element(cell.substr(start));
            break;
          }
          add_element(cell.substr(start, d - start));
          start = d + 1;
        }
      } else {
        add_element(cell);
      }
    }
    c->list_offsets_.push_back(c->offsets_.size() - 1);
  }
}

Column ColumnBuilder::Finish(std::optional<char> list_delimiter) {
  Column c(name_, Type::kString);
  const size_t n = static_cast<size_t>(size());
  c.size_ = static_cast<int64_t>(n);
  FillValidity(&c);
  Type type;
  bool filled = false;  // the typed array is already built
  if (declared_) {
    type = *declared_;
  } else if (json_) {
    type = InferJsonType();
    if (type == Type::kDouble) {  // numbers out of a double's range keep their text, as above
      filled = TryFill(ParseDoubleInRange, &c.doubles_);
      if (!filled) type = Type::kString;
    }
  } else {
    type = FillInferredText(list_delimiter, &c);
    filled = true;
  }
  c.type_ = type;
  switch (type) {
    case Type::kInt64:
      if (!filled) TryFill(ParseInt64, &c.ints_);  // values were checked when appended
      break;
    case Type::kDouble:
      if (!filled) TryFill(ParseDouble, &c.doubles_);
      break;
    case Type::kBool:
      if (!filled) {
        c.bools_.assign(n, 0);
        for (size_t i = 0; i < n; ++i) {
          bool b = false;
          if (!IsNullCell(i) && ParseBool(Cell(i), &b)) c.bools_[i] = b ? 1 : 0;
        }
      }
      break;
    case Type::kString:
    case Type::kNull:
      c.type_ = Type::kString;
      c.arena_ = std::move(bytes_);
      c.offsets_ = std::move(offsets_);
      break;
    case Type::kStringList:
      BuildList(list_delimiter, &c);
      break;
  }
  Release(&bytes_);
  Release(&offsets_);
  offsets_.push_back(0);
  Release(&kinds_);
  Release(&elem_ends_);
  Release(&array_sizes_);
  return c;
}

}  // namespace urn::table
