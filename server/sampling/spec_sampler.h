// RunSampleSpec: a Sample request's spec, run by the core sampler it names over a dataset's
// table. The mapping is the one `urn sample` uses for the equivalent flags, with rows numbered
// as the file's data lines, so the server and the command line give the same rows for a seed:
//
//   uniform (no replacement), reservoir  Algorithm L reservoir (`-n N`); compat: exponential
//                                        keys with unit weights (`-n N --compat`)
//   uniform with replacement             UniformWithReplacement (`-r -n N`)
//   weighted                             exponential keys (`-n N -w F`); n = 0: weighted
//                                        shuffle (`-w F`); replace: alias table (`-r -n N -w F`)
//   bernoulli                            SampleBernoulli (`-p P`, `--compat`)
//   universe / distinct                  keys hashed from the key columns' text (`-k F -p P`)
//   stratified                           SampleStratified on the stratum column's text
//   query                                the query engine (`--query Q`)
//
// Errors are INVALID_ARGUMENT naming the request field. Thread safety: reentrant.
#ifndef URN_SERVER_SAMPLING_SPEC_SAMPLER_H_
#define URN_SERVER_SAMPLING_SPEC_SAMPLER_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "table/table.h"
#include "urn/v1/sampling.pb.h"

namespace urn::server {

struct SpecResult {
  std::vector<uint64_t> rows;   // output order
  std::vector<double> weights;  // HT weights when asked (one per row), else empty
};

// Largest n a request may ask for.
inline constexpr int64_t kMaxSampleSize = int64_t{1} << 31;

absl::StatusOr<SpecResult> RunSampleSpec(const v1::SampleRequest& request,
                                         const table::Table& table, int threads);

}  // namespace urn::server

#endif  // URN_SERVER_SAMPLING_SPEC_SAMPLER_H_
