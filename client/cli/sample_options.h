// The options of `urn sample` (local files), spelled as tsv-sample spells them, and the mode
// they select.
#ifndef URN_CLIENT_CLI_SAMPLE_OPTIONS_H_
#define URN_CLIENT_CLI_SAMPLE_OPTIONS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace urn::cli {

enum class SampleMode {
  kShuffle,          // no options
  kWeightedShuffle,  // -w alone
  kSimple,           // -n N
  kWeighted,         // -n N -w F
  kReplace,          // -r -n N
  kWeightedReplace,  // -r -n N -w F
  kBernoulli,        // -p P
  kUniverse,         // -k F -p P
  kDistinct,         // -k F -p P --min-per-key M
  kQuery,            // --query Q
};

struct SampleOptions {
  std::vector<std::string> files;  // "-" is standard input
  SampleMode mode = SampleMode::kShuffle;
  uint64_t num = 0;  // 0: no limit
  double prob = 1.0;
  std::string weight_field;  // empty: unweighted
  std::string key_fields;    // empty: no key
  uint64_t min_per_key = 0;
  bool inorder = false;
  bool header = false;
  bool compat = false;
  bool print_random = false;
  bool gen_random_inorder = false;
  bool line_buffered = false;  // --line-buffered: each kept line written at once
  std::string random_value_header = "random_value";
  std::string with_weight;  // HT weight column name; empty: none
  char delimiter = '\t';
  bool csv = false;
  std::string query;        // --query
  std::string dataset;      // --dataset: sample a dataset on urnd instead of files
  char list_delimiter = 0;  // --list-delimiter; 0: none
  uint64_t seed = 0;
  int threads = 2;
};

// Parses `urn sample` arguments (argv[0] is "sample"). InvalidArgument with a one-line
// message on bad usage; Cancelled with the text to print for -h/--help, --help-verbose,
// --help-fields and -V/--version.
absl::StatusOr<SampleOptions> ParseSampleOptions(int argc, char** argv);

}  // namespace urn::cli

#endif  // URN_CLIENT_CLI_SAMPLE_OPTIONS_H_
