// ReadTableFromFiles: reads TSV, CSV or JSONL files (or standard input, "-") into one Table.
//
// The files are read in order in 4 MiB blocks and fed to one TableBuilder, so they share the
// columns and the type inference; with has_header each file starts with a header and every
// header must equal the first. Errors name the file and line: `data.csv:17: field 'w': ...`
// (standard input shows as "stdin"); a file that cannot be opened is NotFound or
// PermissionDenied. Cost and limits: table/table_builder.h, table/read_options.h.
//
// Thread safety: reentrant.
#ifndef URN_TABLE_READ_TABLE_H_
#define URN_TABLE_READ_TABLE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "table/read_options.h"
#include "table/table.h"

namespace urn::table {

absl::StatusOr<Table> ReadTableFromFiles(const std::vector<std::string>& paths,
                                         const ReadOptions& options);

}  // namespace urn::table

#endif  // URN_TABLE_READ_TABLE_H_
