// Plans: what each user may do (features) and how much (rate, daily rows, resources).
//
// The defaults (free, pro, enterprise) hold when the config file has no `plans:` section; a
// `plans:` section replaces them. Its shape, every key optional except the plan names:
//
//   plans:
//     free:
//       requests_per_second: 10      # token bucket rate; "unlimited" or a number
//       burst: 20                    # bucket size
//       rows_per_day: 1000000        # rows or slots returned by Sample, Shuffle, SampleWeights
//       datasets: 3
//       rows_per_dataset: 1000000
//       bytes_per_dataset: 134217728   # bytes of data an upload may send
//       weight_stores: 3
//       capacity_per_store: 1000000
//       concurrent_streams: 4
//       memory_bytes: 1073741824     # what the user's datasets, weight stores (slots and keys)
//                                    # and samples being streamed may hold together in urnd
//       features: [sample, shuffle, weights]   # or [all]; query is the fourth feature
//
// An unknown plan key, feature or a bad value is an error naming file:line.
#ifndef URN_SERVER_AUTH_PLANS_H_
#define URN_SERVER_AUTH_PLANS_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace urn::auth {

inline constexpr int64_t kUnlimited = -1;

// Features a plan can include.
inline constexpr char kFeatureSample[] = "sample";
inline constexpr char kFeatureShuffle[] = "shuffle";
inline constexpr char kFeatureWeights[] = "weights";
inline constexpr char kFeatureQuery[] = "query";

struct Plan {
  std::string name;
  double requests_per_second = kUnlimited;  // < 0: unlimited
  double burst = kUnlimited;
  int64_t rows_per_day = kUnlimited;
  int64_t datasets = kUnlimited;
  int64_t rows_per_dataset = kUnlimited;
  int64_t bytes_per_dataset = kUnlimited;
  int64_t weight_stores = kUnlimited;
  int64_t capacity_per_store = kUnlimited;
  int64_t concurrent_streams = kUnlimited;
  int64_t memory_bytes = kUnlimited;
  std::set<std::string> features;  // "all" includes every feature

  bool Has(std::string_view feature) const {
    return features.count("all") > 0 || features.count(std::string(feature)) > 0;
  }
};

using Plans = std::map<std::string, Plan>;

// free, pro and enterprise as documented in the README.
Plans DefaultPlans();

// The plans of a config file: its `plans:` section, or the defaults when it has none (or when
// `config_path` is empty). InvalidArgument naming file:line for anything malformed.
absl::StatusOr<Plans> LoadPlans(const std::string& config_path);

}  // namespace urn::auth

#endif  // URN_SERVER_AUTH_PLANS_H_
