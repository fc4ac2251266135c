// Replays the committed fuzz corpora (seeds and crash reproducers, tests/fuzz/corpus/<target>/)
// through the fuzz targets' check: the whole input, two chunks and single bytes must give the
// same table or the same error.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "fuzz/fuzz_table_reader.h"
#include "support/temp_dir.h"

namespace urn::table {
namespace {

int ReplayCorpus(const std::string& target, Format format) {
  const std::filesystem::path dir =
      std::filesystem::path(URN_SOURCE_DIR) / "tests" / "fuzz" / "corpus" / target;
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string bytes = ::urn::testing::ReadFileOrEmpty(entry.path().string());
    const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
    EXPECT_EQ(fuzz::ChunkingMismatch(format, data, bytes.size()), "") << entry.path();
    ++files;
  }
  return files;
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

}  // namespace
}  // namespace urn::table
