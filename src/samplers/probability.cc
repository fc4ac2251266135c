#include "samplers/probability.h"

#include <string>

#include "absl/strings/str_format.h"

namespace urn::samplers {

absl::Status CheckProbability(double p, std::string_view what) {
  if (p > 0.0 && p <= 1.0) return absl::OkStatus();  // false for NaN
  return absl::InvalidArgumentError(
      absl::StrFormat("%s must be in (0, 1], got %g", std::string(what), p));
}

}  // namespace urn::samplers
