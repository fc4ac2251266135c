// `urn sample --dataset NAME [flags]` and `urn shuffle`: the local sample's flags mapped onto a
// Sample request of urnd, and the streamed rows written as TSV.
#ifndef URN_CLIENT_CLI_REMOTE_SAMPLE_H_
#define URN_CLIENT_CLI_REMOTE_SAMPLE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "output.h"
#include "sample_options.h"
#include "urn/client.h"

namespace urn::cli {

// The request the flags describe for `dataset` (whose columns resolve field names and
// numbers). InvalidArgument for flags that have no server form.
absl::StatusOr<v1::SampleRequest> BuildSampleRequest(const SampleOptions& o,
                                                     const v1::Dataset& dataset);

// Which of a batch's `rows` rows are null in column `c` (its null_rows as a mask): O(rows),
// so that a batch of mostly nulls costs no more than one without.
std::vector<bool> NullMask(const v1::ColumnValues& c, int rows);

// Appends value `i` of a column of a batch as text (list elements joined by '|'); for a row that
// is not null (see NullMask).
void AppendColumnValue(const v1::ColumnValues& c, int i, std::string* out);

// The dataset `--dataset` names (urn sample, urn stats). urnd's error about it names the field
// of GetDataset, `name: ...`; here it names the flag the user typed, `--dataset: ...`.
absl::StatusOr<v1::Dataset> GetDatasetOfFlag(const Client& client, const std::string& name);

// Runs the sample on the server and writes every row as TSV (all columns, then the HT weight
// with --with-weight), with a header line for -H.
absl::Status RunRemoteSample(const SampleOptions& o, const Client& client, Output& out);

}  // namespace urn::cli

#endif  // URN_CLIENT_CLI_REMOTE_SAMPLE_H_
