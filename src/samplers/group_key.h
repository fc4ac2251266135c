// Group keys: how samplers that decide per group (UNIVERSE, DISTINCT) turn the values of one
// or more key columns into one 64-bit hash.
//
// One column: random::HashKey(value), XXH3 of its bytes. Several columns: the hash of their
// encoding as (LEB128 length, bytes) for each column in order. The length prefixes make the
// encoding injective, so ("ab", "c") and ("a", "bc") are different keys, as are ("a\t", "b")
// and ("a", "\tb"); a separator byte could not promise that. Values are compared as bytes:
// numbers must be given in one canonical text form by the caller ("1" and "1.0" differ).
//
// Thread safety: pure functions.
#ifndef URN_SAMPLERS_GROUP_KEY_H_
#define URN_SAMPLERS_GROUP_KEY_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/types/span.h"

namespace urn::samplers {

// The injective encoding of several key columns (for callers that need the joined bytes).
std::string EncodeKeyColumns(absl::Span<const std::string_view> columns);

// HashKey of the single column, or of EncodeKeyColumns of several.
uint64_t HashKeyColumns(absl::Span<const std::string_view> columns);

}  // namespace urn::samplers

#endif  // URN_SAMPLERS_GROUP_KEY_H_
