// Loading speed of the TSV, CSV and JSONL readers (TableBuilder fed in 1 MiB chunks, as the
// server receives uploads). Rows look like a labelled, weighted dataset: id (int64),
// label (string), weight (double), user (string). Items are rows; bytes are input bytes.
// BM_TableBlocksDecode restores the same table from its columnar blocks (table/table_codec.h),
// as urnd does on start; BM_TableBlocksEncode is what an upload's commit adds.
//   build/bench/urn_bench --benchmark_filter='BM_Table(Load|Blocks)'
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "table/table_builder.h"
#include "table/table_codec.h"

namespace urn::table {
namespace {

constexpr const char* kLabels[] = {"cat",        "dog",  "cardiomegaly", "effusion",
                                   "no finding", "mass", "nodule",       "pneumonia"};

// The input text of `rows` rows in `format`, made once per (format, rows).
const std::string& Input(Format format, int64_t rows) {
  static std::map<std::pair<int, int64_t>, std::string> cache;
  std::string& text = cache[{static_cast<int>(format), rows}];
  if (!text.empty()) return text;
  uint64_t x = 88172645463325252ull;
  auto next = [&x] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  if (format == Format::kTsv) text = "id\tlabel\tweight\tuser\n";
  if (format == Format::kCsv) text = "id,label,weight,user\n";
  char line[256];
  for (int64_t i = 0; i < rows; ++i) {
    const char* label = kLabels[next() % 8];
    const double weight = static_cast<double>(next() % 1000000) / 1000.0;
    const unsigned user = static_cast<unsigned>(next() % 100000);
    int n = 0;
    switch (format) {
      case Format::kTsv:
        n = std::snprintf(line, sizeof(line), "%lld\t%s\t%.3f\tuser%u\n", static_cast<long long>(i),
                          label, weight, user);
        break;
      case Format::kCsv:
        n = std::snprintf(line, sizeof(line), "%lld,\"%s\",%.3f,user%u\n",
                          static_cast<long long>(i), label, weight, user);
        break;
      case Format::kJsonl:
        n = std::snprintf(line, sizeof(line),
                          "{\"id\": %lld, \"label\": \"%s\", \"weight\": %.3f, \"user\": "
                          "\"user%u\"}\n",
                          static_cast<long long>(i), label, weight, user);
        break;
    }
    text.append(line, static_cast<size_t>(n));
  }
  return text;
}

void Load(benchmark::State& state, Format format) {
  const int64_t rows = state.range(0);
  const std::string& input = Input(format, rows);
  constexpr size_t kChunk = size_t{1} << 20;
  for (auto _ : state) {
    ReadOptions options;
    options.format = format;
    TableBuilder builder(options);
    for (size_t at = 0; at < input.size(); at += kChunk) {
      absl::Status s = builder.Append(std::string_view(input).substr(at, kChunk));
      if (!s.ok()) state.SkipWithError(std::string(s.message()).c_str());
    }
    absl::StatusOr<Table> table = builder.Finish();
    if (!table.ok() || table->num_rows() != rows) state.SkipWithError("load failed");
    benchmark::DoNotOptimize(table);
  }
  state.SetItemsProcessed(state.iterations() * rows);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(input.size()));
  state.counters["input_MB"] = static_cast<double>(input.size()) / 1e6;
}

void BM_TableLoadTsv(benchmark::State& state) { Load(state, Format::kTsv); }
void BM_TableLoadCsv(benchmark::State& state) { Load(state, Format::kCsv); }
void BM_TableLoadJsonl(benchmark::State& state) { Load(state, Format::kJsonl); }

// The TSV input as a table, read once per size.
const Table& Loaded(int64_t rows) {
  static std::map<int64_t, Table> cache;
  auto it = cache.find(rows);
  if (it != cache.end()) return it->second;
  TableBuilder builder(ReadOptions{});
  if (!builder.Append(Input(Format::kTsv, rows)).ok()) std::abort();
  absl::StatusOr<Table> t = builder.Finish();
  if (!t.ok()) std::abort();
  return cache.emplace(rows, *std::move(t)).first->second;
}

struct Block {
  std::string name, bytes;
};

void BM_TableBlocksEncode(benchmark::State& state) {
  const Table& table = Loaded(state.range(0));
  int64_t bytes = 0;
  for (auto _ : state) {
    bytes = 0;
    absl::Status s = EncodeTable(table, kDefaultBlockBytes, [&](std::string, std::string b) {
      bytes += static_cast<int64_t>(b.size());
      benchmark::DoNotOptimize(b.data());
      return absl::OkStatus();
    });
    if (!s.ok()) state.SkipWithError("encode failed");
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetBytesProcessed(state.iterations() * bytes);
  state.counters["blocks_MB"] = static_cast<double>(bytes) / 1e6;
}

void BM_TableBlocksDecode(benchmark::State& state) {
  const int64_t rows = state.range(0);
  std::vector<Block> blocks;
  int64_t bytes = 0;
  absl::Status s = EncodeTable(Loaded(rows), kDefaultBlockBytes, [&](std::string n, std::string b) {
    bytes += static_cast<int64_t>(b.size());
    blocks.push_back({std::move(n), std::move(b)});
    return absl::OkStatus();
  });
  if (!s.ok()) std::abort();
  for (auto _ : state) {
    TableDecoder decoder;
    for (const Block& b : blocks) {
      if (!decoder.Add(b.name, b.bytes).ok()) state.SkipWithError("decode failed");
    }
    absl::StatusOr<Table> table = decoder.Finish();
    if (!table.ok() || table->num_rows() != rows) state.SkipWithError("decode failed");
    benchmark::DoNotOptimize(table);
  }
  state.SetItemsProcessed(state.iterations() * rows);
  state.SetBytesProcessed(state.iterations() * bytes);
}

BENCHMARK(BM_TableLoadTsv)->Arg(1000000)->Arg(10000000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_TableBlocksEncode)->Arg(1000000)->Arg(10000000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_TableBlocksDecode)->Arg(1000000)->Arg(10000000)->Unit(benchmark::kMillisecond);

BENCHMARK(BM_TableLoadCsv)->Arg(1000000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_TableLoadJsonl)->Arg(1000000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace urn::table
