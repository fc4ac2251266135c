#include "table/csv_fields.h"

#include <algorithm>

namespace urn::table {

bool CsvRecordComplete(std::string_view text) {
  return std::count(text.begin(), text.end(), '"') % 2 == 0;
}

CsvFieldStatus CsvFieldAt(std::string_view record, char delimiter, int index, std::string* scratch,
                          std::string_view* field) {
  size_t pos = 0;
  int current = 0;
  for (;;) {
    const bool quoted = pos < record.size() && record[pos] == '"';
    size_t end;
    bool needs_unescape = false;
    if (quoted) {
      size_t i = pos + 1;
      for (;;) {
        if (i >= record.size()) return CsvFieldStatus::kMalformed;  // unterminated
        if (record[i] == '"') {
          if (i + 1 < record.size() && record[i + 1] == '"') {
            needs_unescape = true;
            i += 2;
            continue;
          }
          break;
        }
        ++i;
      }
      end = i + 1;  // just past the closing quote
      if (end < record.size() && record[end] != delimiter) return CsvFieldStatus::kMalformed;
    } else {
      end = record.find(delimiter, pos);
      if (end == std::string_view::npos) end = record.size();
      if (record.substr(pos, end - pos).find('"') != std::string_view::npos) {
        return CsvFieldStatus::kMalformed;
      }
    }
    if (current == index) {
      if (!quoted) {
        *field = record.substr(pos, end - pos);
      } else if (!needs_unescape) {
        *field = record.substr(pos + 1, end - pos - 2);
      } else {
        scratch->clear();
        for (size_t i = pos + 1; i + 1 < end; ++i) {
          scratch->push_back(record[i]);
          if (record[i] == '"') ++i;  // skip the second quote of a pair
        }
        *field = *scratch;
      }
      return CsvFieldStatus::kOk;
    }
    if (end >= record.size()) return CsvFieldStatus::kMissing;
    pos = end + 1;
    ++current;
  }
}

}  // namespace urn::table
