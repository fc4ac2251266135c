// libFuzzer target: the table block codec (EncodeTable / TableDecoder) under damaged blocks.
// See fuzz_table_codec.h. Build and run: tests/fuzz/build_and_run.sh fuzz_table_codec SECONDS
#include "fuzz_table_codec.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return urn::table::fuzz::FuzzCodec(data, size);
}
