#include "random/counter_rng.h"

#include <xxhash.h>

namespace urn::random {

uint64_t HashKey(std::string_view key) { return XXH3_64bits(key.data(), key.size()); }

}  // namespace urn::random
