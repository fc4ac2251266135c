// RFC 4180 fields for streaming readers: whether the text so far is a whole record (its quotes
// are balanced, so a newline inside it belongs to a quoted field), and one field of a record,
// unquoted.
//
// Cost: O(record length) per call; no allocation unless the field holds doubled quotes.
#ifndef URN_TABLE_CSV_FIELDS_H_
#define URN_TABLE_CSV_FIELDS_H_

#include <string>
#include <string_view>

namespace urn::table {

// True when `text` has an even number of '"' characters, i.e. no quoted field is left open.
bool CsvRecordComplete(std::string_view text);

enum class CsvFieldStatus { kOk, kMissing, kMalformed };

// The 0-based field `index` of `record`, with quotes removed and "" turned into ". `scratch`
// holds the unescaped text when needed. kMissing: fewer fields; kMalformed: a quote in the
// middle of an unquoted field or text after a closing quote.
CsvFieldStatus CsvFieldAt(std::string_view record, char delimiter, int index, std::string* scratch,
                          std::string_view* field);

}  // namespace urn::table

#endif  // URN_TABLE_CSV_FIELDS_H_
