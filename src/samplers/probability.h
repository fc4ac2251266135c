// Argument checks shared by the samplers that take an inclusion probability or fraction.
#ifndef URN_SAMPLERS_PROBABILITY_H_
#define URN_SAMPLERS_PROBABILITY_H_

#include <string_view>

#include "absl/status/status.h"

namespace urn::samplers {

// OK iff p is a number in (0, 1]; otherwise InvalidArgument naming `what` (0, negatives,
// values above 1, NaN and infinities are all rejected).
absl::Status CheckProbability(double p, std::string_view what);

// True iff a draw u in (0, 1] (see random::BitsToUnit) selects at probability p. The test is
// u <= p, so p = 1 selects every draw and P(select) = floor(p * 2^53) / 2^53, within 2^-53 of
// p. Monotone in p: what p selects, every p' > p selects too (the compatibility property).
inline bool Selects(double u, double p) { return u <= p; }

}  // namespace urn::samplers

#endif  // URN_SAMPLERS_PROBABILITY_H_
