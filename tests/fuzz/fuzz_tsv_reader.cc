// libFuzzer target: the TSV reader (TableBuilder with Format::kTsv). See fuzz_table_reader.h.
// Build and run: tests/fuzz/build_and_run.sh fuzz_tsv_reader SECONDS
#include <cstddef>
#include <cstdint>

#include "fuzz_table_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return urn::table::fuzz::FuzzReader(urn::table::Format::kTsv, data, size);
}
