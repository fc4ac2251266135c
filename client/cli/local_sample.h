// `urn sample` on local files: reads lines (TSV or CSV records), runs the core sampler the
// options select, and writes the chosen lines verbatim.
//
// Every mode calls the same urn_core sampler, with the same row numbering (0-based data lines
// across all files, headers excluded), as urnd does for a dataset, so a file sampled here and
// the same data sampled on a server give the same rows for the same seed.
#ifndef URN_CLIENT_CLI_LOCAL_SAMPLE_H_
#define URN_CLIENT_CLI_LOCAL_SAMPLE_H_

#include "absl/status/status.h"
#include "output.h"
#include "sample_options.h"

namespace urn::cli {

// Runs the sample. Errors in the data name `file:line`; InvalidArgument for bad data or
// fields, NotFound for a missing file.
absl::Status RunLocalSample(const SampleOptions& options, Output& out);

}  // namespace urn::cli

#endif  // URN_CLIENT_CLI_LOCAL_SAMPLE_H_
