// libFuzzer target: a weight store's snapshot and log (weights/weight_store_codec.h), restored
// after damage. See fuzz_weight_store_codec.h.
// Build and run: tests/fuzz/build_and_run.sh fuzz_weight_store_codec SECONDS
#include "fuzz_weight_store_codec.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return urn::weights::fuzz::FuzzDurability(data, size);
}
