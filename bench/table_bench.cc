// Loading speed of the TSV, CSV and JSONL readers (TableBuilder fed in 1 MiB chunks, as the
// server receives uploads). Rows look like a labelled, weighted dataset: id (int64),
// label (string), weight (double), user (string). Items are rows; bytes are input bytes.
//   build/bench/urn_bench --benchmark_filter=BM_TableLoad
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>

#include "table/table_builder.h"

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

BENCHMARK(BM_TableLoadTsv)->Arg(1000000)->Arg(10000000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_TableLoadCsv)->Arg(1000000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_TableLoadJsonl)->Arg(1000000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace urn::table
