// Field lists as tsv-utils (2.x) spells them: numbers "3", "1,4", ranges "2-5" (or "5-2", in
// that order); with a header line, names ("weight", "user,day"), name ranges ("run-user_time":
// every field between them), and '*' wildcards ("*_time": every matching field, in header
// order). A backslash makes the next character literal: "time\-stamp", "test\ id", "\001" (a
// name, not a number), "a\*b". "0" alone means the whole line.
//
// Cost: parsing is O(length of the spec + header fields); extracting a field scans the line
// once with memchr up to that field.
#ifndef URN_TABLE_FIELD_LIST_H_
#define URN_TABLE_FIELD_LIST_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace urn::table {

struct FieldList {
  bool whole_line = false;   // the spec was "0"
  std::vector<int> indices;  // 0-based field indices, in the order given
};

// Parses `spec`. Names are looked up in `header` (the header line's fields); without a header
// only numbers are allowed. Errors name the offending entry: NotFound for a name the header does
// not have, InvalidArgument for the rest (bad syntax, numbers, names without a header).
absl::StatusOr<FieldList> ParseFieldList(std::string_view spec,
                                         const std::vector<std::string_view>* header);

// Splits `line` on `delimiter`.
std::vector<std::string_view> SplitFields(std::string_view line, char delimiter);

// The field at 0-based `index`, or false when the line has fewer fields.
bool FieldAt(std::string_view line, char delimiter, int index, std::string_view* field);

}  // namespace urn::table

#endif  // URN_TABLE_FIELD_LIST_H_
