// JsonLineParser: parses one line of JSONL — a JSON object whose values are scalars or arrays
// of scalars — into (key, kind, text) fields. It is the subset of JSON that maps to a table
// row; nested objects and arrays inside arrays are rejected with the key they appear under.
//
// Strings are unescaped (\uXXXX and surrogate pairs become UTF-8; a lone surrogate is an
// error); bytes >= 0x80 are passed through unchecked. Numbers are checked against the JSON
// grammar and kept as text. Cost: O(line length), no recursion; the parser reuses its buffers,
// so steady-state parsing does not allocate.
//
// Thread safety: none; one parser per thread.
#ifndef URN_TABLE_JSON_LINE_H_
#define URN_TABLE_JSON_LINE_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace urn::table {

enum class JsonKind : unsigned char { kNull, kNumber, kString, kBool, kArray };

// "null", "number", "string", "bool", "array".
std::string_view JsonKindName(JsonKind kind);

struct JsonField {
  std::string_view key;
  JsonKind kind = JsonKind::kNull;
  std::string_view text;      // kString: unescaped; kNumber: as written; kBool: "true"/"false"
  size_t elements_begin = 0;  // kArray: the elements are element(begin .. end-1)
  size_t elements_end = 0;
};

class JsonLineParser {
 public:
  // Parses `line` (without its terminator). Returns false on malformed input; error() then
  // says why, e.g. "invalid JSON: expected ':' after key at column 12" (1-based byte column)
  // or "field 'tags': nested objects are not supported". A line of only whitespace parses to
  // no fields with empty() true. Views in fields() point into `line` or into the parser and
  // are valid until the next Parse().
  bool Parse(std::string_view line);

  bool empty() const { return empty_; }
  const std::vector<JsonField>& fields() const { return fields_; }
  std::string_view element(size_t i) const { return elements_[i]; }
  const std::vector<std::string_view>& elements() const { return elements_; }
  const std::string& error() const { return error_; }

 private:
  bool Fail(const char* what, const char* at);
  void SkipSpace();
  bool ParseString(std::string_view* out);
  bool ParseNumber(std::string_view* out);
  bool ParseScalar(JsonKind* kind, std::string_view* text, std::string_view key, bool in_array);

  const char* begin_ = nullptr;
  const char* p_ = nullptr;
  const char* end_ = nullptr;
  bool empty_ = false;
  std::string scratch_;  // unescaped strings
  std::vector<JsonField> fields_;
  std::vector<std::string_view> elements_;
  std::string error_;
};

}  // namespace urn::table

#endif  // URN_TABLE_JSON_LINE_H_
