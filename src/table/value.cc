#include "table/value.h"

namespace urn::table {

std::string_view TypeName(Type type) {
  switch (type) {
    case Type::kNull:
      return "null";
    case Type::kInt64:
      return "int64";
    case Type::kDouble:
      return "double";
    case Type::kString:
      return "string";
    case Type::kBool:
      return "bool";
    case Type::kStringList:
      return "list<string>";
  }
  return "unknown";
}

bool ParseTypeName(std::string_view name, Type* type) {
  if (name == "int64" || name == "int") {
    *type = Type::kInt64;
  } else if (name == "double" || name == "float") {
    *type = Type::kDouble;
  } else if (name == "string" || name == "str") {
    *type = Type::kString;
  } else if (name == "bool") {
    *type = Type::kBool;
  } else if (name == "list<string>" || name == "list") {
    *type = Type::kStringList;
  } else {
    return false;
  }
  return true;
}

}  // namespace urn::table
