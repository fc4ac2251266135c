// The body shared by the reader fuzz targets: feeds the input to TableBuilder whole, in two
// chunks split at a position taken from the first byte, and one byte at a time, and aborts
// unless all three give the same table or the same error. Options (header, list delimiter,
// raw rows, a declared type) come from the second byte; limits are small so that the limit
// paths are reached.
#ifndef URN_TESTS_FUZZ_FUZZ_TABLE_READER_H_
#define URN_TESTS_FUZZ_FUZZ_TABLE_READER_H_

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "table/table.h"
#include "table/table_builder.h"

namespace urn::table::fuzz {

inline absl::StatusOr<Table> Build(const ReadOptions& options, std::string_view input, size_t split,
                                   bool bytewise) {
  TableBuilder builder(options);
  absl::Status s;
  if (bytewise) {
    for (size_t i = 0; i < input.size() && s.ok(); ++i) s = builder.Append(input.substr(i, 1));
  } else {
    s = builder.Append(input.substr(0, split));
    if (s.ok()) s = builder.Append(input.substr(split));
  }
  if (!s.ok()) return s;
  return builder.Finish();
}

// A canonical text of the table (or error) for comparing results.
inline std::string Describe(const absl::StatusOr<Table>& t) {
  if (!t.ok()) return "error " + t.status().ToString();
  std::string out = std::to_string(t->num_rows()) + " rows\n";
  for (int c = 0; c < t->num_columns(); ++c) {
    const Column& col = t->column(c);
    out += col.name() + ":" + std::string(TypeName(col.type())) + "\n";
    if (col.size() != t->num_rows()) std::abort();
    for (int64_t r = 0; r < t->num_rows(); ++r) {
      const Value v = t->At(c, r);
      if (v.is_null() != col.IsNull(r)) std::abort();
      out += col.IsNull(r) ? "<null>" : t->RenderCell(c, r);
      out += '\x1f';
    }
    out += '\n';
  }
  if (t->has_raw_rows()) {
    for (int64_t r = 0; r < t->num_rows(); ++r) out += std::string(t->RawRow(r)) + '\x1e';
  }
  if (t->MemoryBytes() <= 0) std::abort();
  return out;
}

// Reader options from one input byte: header, list delimiter, raw rows, a declared type for
// column "1", a space delimiter; small limits, so that the limit paths are reached.
inline ReadOptions OptionsFromFlags(Format format, uint8_t flags) {
  ReadOptions options;
  options.format = format;
  options.has_header = (flags & 1) != 0;
  if (flags & 2) options.list_delimiter = (flags & 64) ? ';' : '|';
  options.keep_raw_rows = (flags & 4) != 0;
  if (flags & 8) options.column_types["1"] = static_cast<Type>(1 + (flags >> 4) % 5);
  if (flags & 128) options.delimiter = ' ';
  options.max_rows = 200;
  options.max_columns = 16;
  options.max_field_bytes = 256;
  options.max_line_bytes = 1024;
  options.max_cells = 1000;
  options.max_total_bytes = 2048;  // below -max_len, so the limit is reached
  return options;
}

// Empty when the three ways of feeding `data` agree; otherwise the three results.
inline std::string ChunkingMismatch(Format format, const uint8_t* data, size_t size) {
  if (size < 2) return std::string();
  const uint8_t split_byte = data[0];
  const uint8_t flags = data[1];
  const std::string_view input(reinterpret_cast<const char*>(data + 2), size - 2);
  const ReadOptions options = OptionsFromFlags(format, flags);
  const size_t split = input.empty() ? 0 : split_byte % (input.size() + 1);

  const std::string whole = Describe(Build(options, input, input.size(), false));
  const std::string two = Describe(Build(options, input, split, false));
  const std::string bytes = Describe(Build(options, input, 0, true));
  if (whole == two && whole == bytes) return std::string();
  return "chunking changed the result\nwhole:\n" + whole + "\nsplit at " + std::to_string(split) +
         ":\n" + two + "\nbyte by byte:\n" + bytes + "\n";
}

// What a fuzz target returns for an input whose check gave `violation`: 0 when it is empty;
// otherwise it prints it and aborts, so that libFuzzer keeps the input as a crash.
inline int AbortOnViolation(const std::string& violation) {
  if (!violation.empty()) {
    std::fputs(violation.c_str(), stderr);
    std::abort();
  }
  return 0;
}

inline int FuzzReader(Format format, const uint8_t* data, size_t size) {
  return AbortOnViolation(ChunkingMismatch(format, data, size));
}

}  // namespace urn::table::fuzz

#endif  // URN_TESTS_FUZZ_FUZZ_TABLE_READER_H_
