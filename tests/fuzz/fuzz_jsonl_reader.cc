// libFuzzer target: the JSONL reader (TableBuilder with Format::kJsonl). See fuzz_table_reader.h.
// Build and run: tests/fuzz/build_and_run.sh fuzz_jsonl_reader SECONDS
#include <cstddef>
#include <cstdint>

#include "fuzz_table_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return urn::table::fuzz::FuzzReader(urn::table::Format::kJsonl, data, size);
}
