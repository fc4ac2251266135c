// Replays the committed fuzz corpora (seeds and crash reproducers, tests/fuzz/corpus/<target>/)
// through the fuzz targets' checks: for the readers, the whole input, two chunks and single
// bytes must give the same table or the same error; for the block codec, undamaged blocks must
// decode to their table, and damaged ones to DataLoss or a whole table (fuzz_table_codec.h); for
// weight stores, an undamaged snapshot and log must restore the store exactly, and damaged ones
// be refused or give a consistent store (fuzz_weight_store_codec.h).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "fuzz/fuzz_table_codec.h"
#include "fuzz/fuzz_table_reader.h"
#include "fuzz/fuzz_weight_store_codec.h"
#include "support/temp_dir.h"

namespace urn::table {
namespace {

// Runs `check` (empty when the input passes) on every file of the target's corpus; returns how
// many there were.
template <typename Check>
int ReplayCorpus(const std::string& target, const Check& check) {
  const std::filesystem::path dir =
      std::filesystem::path(URN_SOURCE_DIR) / "tests" / "fuzz" / "corpus" / target;
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string bytes = ::urn::testing::ReadFileOrEmpty(entry.path().string());
    const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
    EXPECT_EQ(check(data, bytes.size()), "") << entry.path();
    ++files;
  }
  return files;
}

int ReplayCorpus(const std::string& target, Format format) {
  return ReplayCorpus(target, [format](const uint8_t* data, size_t size) {
    return fuzz::ChunkingMismatch(format, data, size);
  });
}

TEST(FuzzCorpus, TsvInputsReadTheSameInEveryChunking) {
  EXPECT_GT(ReplayCorpus("fuzz_tsv_reader", Format::kTsv), 0);
}

TEST(FuzzCorpus, CsvInputsReadTheSameInEveryChunking) {
  EXPECT_GT(ReplayCorpus("fuzz_csv_reader", Format::kCsv), 0);
}

TEST(FuzzCorpus, JsonlInputsReadTheSameInEveryChunking) {
  EXPECT_GT(ReplayCorpus("fuzz_jsonl_reader", Format::kJsonl), 0);
}

TEST(FuzzCorpus, DamagedTableBlocksGiveDataLossOrAWholeTable) {
  EXPECT_GT(ReplayCorpus("fuzz_table_codec", fuzz::CodecViolation), 0);
}

TEST(FuzzCorpus, WeightStoreSnapshotsAndLogsRestoreExactlyOrAreRefused) {
  EXPECT_GT(ReplayCorpus("fuzz_weight_store_codec", weights::fuzz::DurabilityViolation), 0);
}

}  // namespace
}  // namespace urn::table
