// ReadOptions: how TableBuilder and ReadTableFromFiles turn TSV, CSV or JSONL bytes into a
// Table, and the limits that bound the memory and time one input may take.
//
// Formats:
//  - kTsv: one row per line, fields split on `delimiter` (default '\t'), no quoting.
//  - kCsv: RFC 4180. A field that starts with '"' is quoted: it may hold the delimiter, '\n'
//    and "\r\n", and "" stands for one '"'; after the closing quote only the delimiter or the
//    end of the record may follow. A '"' inside an unquoted field is an ordinary character.
//  - kJsonl: one JSON object per line; its keys are columns (in order of first appearance),
//    a key missing from a line is null there. Values: numbers, strings, true/false, null, and
//    arrays of strings (numbers and bools inside an array are kept as their text) which become
//    list<string>. A nested object, or null / an array inside an array, is an error naming the
//    line and key. Without a declared type, a key whose values have different JSON kinds
//    (say a number on one line and a string on another) is an error naming both lines; integers
//    and non-integers mix into a double column, integers some of which are past int64 make a
//    string column (their text, exactly). A key repeated within one line is an error.
// A UTF-8 byte order mark at the start of an input is dropped. Lines end with "\n" or "\r\n". Empty
// lines are skipped in every format (so a one-column TSV cannot express a null row by an empty
// line), but they count for line numbers.
//
// Types (TSV and CSV; JSONL takes the type from the JSON kind): an empty field (CSV: quoted or
// not) is null.
// Unless `column_types` declares a column's type, it is inferred from all of its non-null
// values, first match wins: int64 (every value an integer in range), string (every value an
// integer, some past int64: as doubles they would be rounded), double (every value a
// number, including inf/infinity/nan in any case), bool (every value true/false in any case),
// list<string> (list_delimiter is set and some value contains it), else string. A column with
// no non-null value is a string column. Numeric and bool columns keep the value, not the text
// ("007" reads as 7); keep_raw_rows keeps each row's text verbatim.
// A declared type is checked on every value as it is read (errors name the line); kString
// accepts anything, kStringList splits strings on list_delimiter (one element when unset).
// Splitting keeps empty elements: "a||b" is ["a", "", "b"].
//
// Errors are InvalidArgument (malformed input) or ResourceExhausted (a limit), and say
// `line N: field 'name': ...` (N is 1-based and counts the header and empty lines; for a CSV
// record spanning lines, the line it starts on).
#ifndef URN_TABLE_READ_OPTIONS_H_
#define URN_TABLE_READ_OPTIONS_H_

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>

#include "table/value.h"

namespace urn::table {

enum class Format { kTsv, kCsv, kJsonl };

struct ReadOptions {
  Format format = Format::kTsv;

  // TSV and CSV: the first line names the columns (names must be distinct). Without a header
  // the columns are named "1", "2", ... as tsv-utils numbers fields. Ignored for JSONL.
  bool has_header = true;

  // Field delimiter; unset means '\t' for TSV and ',' for CSV. Must not be '\n' or '\r' (nor
  // '"' for CSV).
  std::optional<char> delimiter;

  // When set, string values of list columns are split on it (see the type rules above), and
  // lists render joined by it. Unset: no column is inferred as a list; lists render with '|'.
  std::optional<char> list_delimiter;

  // Declared types by column name (for headerless input, "1", "2", ...). kNull is not a
  // column type. Every name must be a column of the input.
  std::map<std::string, Type> column_types;

  // Keep each row's input text (Table::RawRow), e.g. to print sampled lines verbatim. Costs
  // the input size again.
  bool keep_raw_rows = false;

  // Every record must be well-formed UTF-8 and no column name may hold a control character
  // (U+0000..U+001F, U+007F), else InvalidArgument naming the line. urnd sets it: its names
  // and values travel as protobuf strings, which must be UTF-8 (one bad name made every
  // listing of datasets, the admin's too, fail to decode), and names are printed in headers
  // and terminals. The command line leaves it off and passes any bytes through, as tsv-sample.
  bool require_utf8 = false;

  // Limits. Exceeding one is ResourceExhausted.
  int64_t max_rows = int64_t{1} << 31;          // data rows (not counting the header)
  int max_columns = 4096;                       // fields in a row / distinct JSONL keys
  int64_t max_field_bytes = int64_t{16} << 20;  // one field's bytes (after unquoting)
  // One column name's bytes (a header field or a JSONL key); by default only the field and line
  // limits apply.
  int64_t max_name_bytes = std::numeric_limits<int64_t>::max();
  int64_t max_line_bytes = int64_t{64} << 20;   // one record (line, or CSV record)
  int64_t max_total_bytes = int64_t{64} << 30;  // all input bytes
  // Rows times columns: bounds memory when short JSONL lines meet many keys (each missing key
  // is a null cell, ~9 bytes while reading).
  int64_t max_cells = int64_t{1} << 32;
  // JSONL only, 0 for none: rows times columns at most this many per byte of the lines read so
  // far. A row missing a key still costs a cell, so without it a few bytes per line could make
  // millions of null cells (4096 one-key lines, then a million lines `{"k0":0}`: 8 MB of input,
  // 4e9 cells, ~36 GiB). TSV and CSV need at least a delimiter byte per cell anyway. Counted
  // per line, so the limit and its message do not depend on how the bytes are split. The
  // first kCellsBelowAnyRatio cells are always allowed, so that small sparse files still load.
  int64_t max_cells_per_byte = 0;
  static constexpr int64_t kCellsBelowAnyRatio = int64_t{1} << 20;
};

}  // namespace urn::table

#endif  // URN_TABLE_READ_OPTIONS_H_
