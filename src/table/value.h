// Cell types and one cell's value for urn's columnar tables (table/table.h).
//
// Value is the slow, owning form of a cell, for tests, planning and error messages; hot loops
// read a Column's typed arrays directly. A Value holds at most one string or list, so copying
// it costs the size of that text.
//
// Thread safety: a const Value may be read from many threads.
#ifndef URN_TABLE_VALUE_H_
#define URN_TABLE_VALUE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace urn::table {

// The type of a column (and of a cell). kNull is only a cell's type: a column whose every
// value is null is read as kString.
enum class Type { kNull, kInt64, kDouble, kString, kBool, kStringList };

// "null", "int64", "double", "string", "bool", "list<string>".
std::string_view TypeName(Type type);

// Parses a TypeName() (also "int", "float", "str", "list"); false when unknown.
bool ParseTypeName(std::string_view name, Type* type);

class Value {
 public:
  Value() = default;  // null
  static Value Null() { return Value(); }
  static Value Int64(int64_t v) { return Value(Storage(std::in_place_index<1>, v)); }
  static Value Double(double v) { return Value(Storage(std::in_place_index<2>, v)); }
  static Value String(std::string v) {
    return Value(Storage(std::in_place_index<3>, std::move(v)));
  }
  static Value Bool(bool v) { return Value(Storage(std::in_place_index<4>, v)); }
  static Value StringList(std::vector<std::string> v) {
    return Value(Storage(std::in_place_index<5>, std::move(v)));
  }

  // The index of the variant follows the order of Type.
  Type type() const { return static_cast<Type>(v_.index()); }
  std::string_view TypeName() const { return table::TypeName(type()); }
  bool is_null() const { return v_.index() == 0; }

  // REQUIRES: type() is the matching type.
  int64_t int64() const { return std::get<1>(v_); }
  double dbl() const { return std::get<2>(v_); }
  const std::string& str() const { return std::get<3>(v_); }
  bool boolean() const { return std::get<4>(v_); }
  const std::vector<std::string>& list() const { return std::get<5>(v_); }

  friend bool operator==(const Value& a, const Value& b) { return a.v_ == b.v_; }

 private:
  using Storage =
      std::variant<std::monostate, int64_t, double, std::string, bool, std::vector<std::string>>;
  explicit Value(Storage v) : v_(std::move(v)) {}
  Storage v_;
};

}  // namespace urn::table

#endif  // URN_TABLE_VALUE_H_
