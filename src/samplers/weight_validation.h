// What every weighted sampler accepts as a weight, and the error it gives otherwise.
//
// A weight is valid if it is finite and >= 0 (-0.0 and subnormals included); 0 means "never
// drawn". Anything else (negative, NaN, +-inf) is InvalidArgument naming the row, the lowest
// such row when there are several, so that an error does not depend on the thread count.
#ifndef URN_SAMPLERS_WEIGHT_VALIDATION_H_
#define URN_SAMPLERS_WEIGHT_VALIDATION_H_

#include <cfloat>
#include <cstdint>
#include <span>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace urn::samplers {

inline bool IsValidWeight(double w) { return w >= 0 && w <= DBL_MAX; }

inline absl::Status InvalidWeightError(uint64_t row, double weight) {
  return absl::InvalidArgumentError(
      absl::StrCat("weight of row ", row, " is ", weight, "; weights must be finite and >= 0"));
}

inline absl::Status InvalidWeightError(std::span<const double> weights, uint64_t row) {
  return InvalidWeightError(row, weights[row]);
}

inline absl::Status RowKeyCountError(size_t keys, size_t weights) {
  return absl::InvalidArgumentError(
      absl::StrCat("got ", keys, " row keys for ", weights, " weights; need one per row"));
}

}  // namespace urn::samplers

#endif  // URN_SAMPLERS_WEIGHT_VALIDATION_H_
