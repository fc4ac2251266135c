// Test helpers for the table readers: read a whole text with TableBuilder in one piece, and
// describe a table (or its error) as text for comparisons.
#ifndef URN_TESTS_CORE_TABLE_READING_H_
#define URN_TESTS_CORE_TABLE_READING_H_

#include <string>
#include <utility>

#include "table/table_builder.h"

namespace urn::table {

inline absl::StatusOr<Table> ReadText(const std::string& text, ReadOptions options) {
  TableBuilder builder(std::move(options));
  if (absl::Status s = builder.Append(text); !s.ok()) return s;
  return builder.Finish();
}

// "name:type=cell;cell;...\n" per column (null as <null>), or the error.
inline std::string DescribeTable(const absl::StatusOr<Table>& t) {
  if (!t.ok()) return t.status().ToString();
  std::string out;
  for (int c = 0; c < t->num_columns(); ++c) {
    out += t->column(c).name() + ":" + std::string(TypeName(t->column(c).type())) + "=";
    for (int64_t r = 0; r < t->num_rows(); ++r) {
      out += t->column(c).IsNull(r) ? "<null>" : t->RenderCell(c, r);
      out += ";";
    }
    out += "\n";
  }
  return out;
}

}  // namespace urn::table

#endif  // URN_TESTS_CORE_TABLE_READING_H_
