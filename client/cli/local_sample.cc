#include "local_sample.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "exit_codes.h"
#include "query/error.h"
#include "query/evaluator.h"
#include "query/parser.h"
#include "query/planner.h"
#include "random/counter_rng.h"
#include "record_arena.h"
#include "record_source.h"
#include "samplers/alias_table.h"
#include "samplers/bernoulli.h"
#include "samplers/distinct.h"
#include "samplers/exponential_key.h"
#include "samplers/hansen_hurwitz.h"
#include "samplers/parallel_for.h"
#include "samplers/permutation.h"
#include "samplers/reservoir.h"
#include "samplers/uniform_with_replacement.h"
#include "samplers/universe.h"
#include "samplers/weighted_shuffle.h"
#include "samplers/weighted_without_replacement.h"
#include "table/read_table.h"

namespace urn::cli {
namespace {

using samplers::KeyedRow;

// Writes one output record: [random value, delimiter] record [delimiter, HT weight].
class RecordWriter {
 public:
  RecordWriter(const SampleOptions& o, Output& out) : o_(o), out_(out) {}
  // Whether the output is closed (nothing more can be written).
  bool Closed() const { return out_.failed(); }

  void Header(const std::optional<std::string>& header) {
    if (!header) return;
    if (o_.print_random || o_.gen_random_inorder) {
      out_.Write(o_.random_value_header);
      out_.Put(o_.delimiter);
    }
    out_.Write(*header);
    if (!o_.with_weight.empty()) {
      out_.Put(o_.delimiter);
      out_.Write(o_.with_weight);
    }
    out_.Put('\n');
  }

  void Record(std::string_view record, double random_value, double ht_weight) {
    if (o_.print_random || o_.gen_random_inorder) {
      out_.WriteRandomValue(random_value);
      out_.Put(o_.delimiter);
    }
    out_.Write(record);
    if (!o_.with_weight.empty()) {
      out_.Put(o_.delimiter);
      out_.WriteDouble(ht_weight);
    }
    out_.Put('\n');
  }

 private:
  const SampleOptions& o_;
  Output& out_;
};

// u^(1/w) of an exponential key, the value tsv-sample prints for weighted modes: in [0, 1],
// larger values are drawn first.
double KeyToUnitValue(uint64_t key) {
  return key == 0 ? 1.0 : std::exp(-samplers::ExponentialKeyUpperBound(key));
}

struct Loaded {
  RecordArena records;
  std::vector<double> weights;  // empty when unweighted
};

absl::Status LoadAll(RecordSource& src, const table::FieldList* weight_field, Loaded& loaded) {
  loaded.records.Reserve(src.InputBytesHint());
  // One weight per 16 input bytes to start with (it grows as needed): reserving for the worst
  // case, a record per 2 bytes, would ask 4 bytes of memory per input byte up front.
  if (weight_field != nullptr) loaded.weights.reserve(src.InputBytesHint() / 16 + 1);
  std::string_view record;
  while (src.Next(&record)) {
    if (weight_field != nullptr) {
      double w = 0;
      if (absl::Status s = src.Weight(record, weight_field->indices[0], &w); !s.ok()) return s;
      loaded.weights.push_back(w);
    }
    loaded.records.Add(record);
  }
  return src.status();
}

// Shuffle: a keyed permutation of all rows (compat: rows by descending u, i.e. ascending
// exponential key with unit weights, so the random values can be printed).
absl::Status RunShuffle(const SampleOptions& o, RecordSource& src, RecordWriter& w) {
  Loaded all;
  if (absl::Status s = LoadAll(src, nullptr, all); !s.ok()) return s;
  const uint64_t n = all.records.size();
  if (!o.compat) {
    samplers::KeyedPermutation perm(n, o.seed, 0);
    constexpr uint64_t kBatch = 4096;
    std::vector<uint64_t> order(kBatch);
    for (uint64_t first = 0; first < n; first += kBatch) {
      const uint64_t count = std::min(kBatch, n - first);
      perm.Fill(first, count, order.data());
      // Each record is a random read: prefetch its offset and then its bytes ahead of use.
      constexpr uint64_t kAhead = 16;
      for (uint64_t j = 0; j < std::min(count, kAhead); ++j) all.records.PrefetchOffsets(order[j]);
      for (uint64_t j = 0; j < count; ++j) {
        if (j + kAhead < count) all.records.PrefetchOffsets(order[j + kAhead]);
        if (j + kAhead / 2 < count) all.records.Prefetch(order[j + kAhead / 2]);
        w.Record(all.records.at(order[j]), 0, 1.0);
      }
    }
    return absl::OkStatus();
  }
  std::vector<double> ones(n, 1.0);
  absl::StatusOr<std::vector<KeyedRow>> keys =
      samplers::SmallestExponentialKeys(ones, {}, n, o.seed, o.threads);
  if (!keys.ok()) return keys.status();
  for (const KeyedRow& k : *keys) w.Record(all.records.at(k.row), KeyToUnitValue(k.key), 1.0);
  return absl::OkStatus();
}

// Weighted shuffle (samplers/weighted_shuffle.h): rows of positive weight in the order of
// successive weighted draws, then rows of weight 0 in input order.
absl::Status RunWeightedShuffle(const SampleOptions& o, RecordSource& src,
                                const table::FieldList& wf, RecordWriter& w) {
  Loaded all;
  if (absl::Status s = LoadAll(src, &wf, all); !s.ok()) return s;
  samplers::WeightedOptions options;
  options.seed = o.seed;
  options.threads = o.threads;
  absl::StatusOr<samplers::Sample> shuffle = samplers::WeightedShuffle(all.weights, options);
  if (!shuffle.ok()) return shuffle.status();
  const random::KeyedStream stream(o.seed, random::Stream::kWeighted, 0);
  const bool values = o.print_random;
  for (uint64_t row : shuffle->rows) {
    const double weight = all.weights[row];
    const double value = values && weight > 0
                             ? KeyToUnitValue(samplers::ExponentialKey(stream.Bits(row), weight))
                             : 0.0;
    w.Record(all.records.at(row), value, 1.0);
  }
  return absl::OkStatus();
}

// -n N: Algorithm L over the stream; only the N reservoir lines are kept.
absl::Status RunSimple(const SampleOptions& o, RecordSource& src, RecordWriter& w) {
  samplers::ReservoirSampler reservoir(o.num, o.seed);
  // Grown as slots fill: N may be far larger than the input (tsv-sample then prints every line).
  SlotRecords slots;
  std::string_view record;
  for (;;) {
    if (const uint64_t skip = reservoir.RowsToSkip(); skip > 0) {
      const uint64_t skipped = src.Skip(skip);
      reservoir.Skip(skipped);
      if (skipped < skip) break;
    }
    if (!src.Next(&record)) break;
    const int64_t slot = reservoir.Offer();
    if (slot != samplers::ReservoirSampler::kDrop) slots.Put(slot, record);
  }
  if (!src.status().ok()) return src.status();
  const std::vector<uint64_t> order = reservoir.SlotOrder(
      o.inorder ? samplers::OutputOrder::kInput : samplers::OutputOrder::kRandom);
  const double ht_weight = reservoir.HtWeight();
  for (const uint64_t slot : order) w.Record(slots.at(slot), 0, ht_weight);
  return absl::OkStatus();
}

// Parses one value per record of a batch on `threads` threads (fixed chunks, so errors and
// results do not depend on the thread count). On error returns the first failing record's
// error, located at file:line.
template <typename T, typename ParseFn>
absl::Status ParseBatch(const RecordSource& src, const std::vector<std::string_view>& batch,
                        int threads, std::vector<T>& out, const ParseFn& parse) {
  constexpr size_t kPiece = 4096;
  out.resize(batch.size());
  const size_t pieces = (batch.size() + kPiece - 1) / kPiece;
  std::vector<std::pair<size_t, absl::Status>> errors(pieces, {0, absl::OkStatus()});
  samplers::ParallelFor(pieces, threads, [&](uint64_t piece) {
    const size_t end = std::min(batch.size(), (piece + 1) * kPiece);
    for (size_t i = piece * kPiece; i < end; ++i) {
      absl::Status s = parse(batch[i], &out[i]);
      if (!s.ok()) {
        errors[piece] = {i, std::move(s)};
        return;
      }
    }
  });
  for (const auto& [i, s] : errors) {
    if (!s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(src.WhereInBatch(i), ": ", std::string(s.message())));
    }
  }
  return absl::OkStatus();
}

// -n N -w F, and -n N in compatibility mode (unit weights): the N+1 smallest exponential keys
// of each batch of rows, selected exactly with the running N+1 smallest; only those records are
// copied. The (N+1)-th key gives the HT weights.
absl::Status RunWeighted(const SampleOptions& o, RecordSource& src, const table::FieldList* wf,
                         RecordWriter& w) {
  constexpr size_t kBatch = 1 << 16;
  // N + 1, saturating: N = 2^64 - 1 must not wrap to 0.
  const uint64_t want = o.num + (o.num < std::numeric_limits<uint64_t>::max());
  struct Kept {
    KeyedRow key;
    double weight;
    std::string record;
  };
  // The `want` smallest keys so far among candidates, unordered: a batch's keys below the
  // cutoff are appended, and when that leaves `slack` more than `want` the smallest `want` are
  // kept (nth_element) and the cutoff lowered to the largest of them. Each selection is
  // O(size) and removes at least `slack` entries, so the work is amortized O(1) per candidate
  // (a sorted merge per batch was O(want) per batch: quadratic in N for N near the input size).
  // Memory: up to want + slack + a batch's candidates, about 1.5 N + 2^17 lines.
  std::vector<Kept> best;
  const uint64_t slack = std::max<uint64_t>(want / 2, kBatch);
  std::optional<KeyedRow> cutoff;  // set by the first selection
  const auto by_key = [](const Kept& x, const Kept& y) { return x.key < y.key; };
  const auto keep_smallest = [&] {
    std::nth_element(best.begin(), best.begin() + (want - 1), best.end(), by_key);
    best.erase(best.begin() + want, best.end());
    cutoff = best.back().key;  // nth_element put the largest kept one last
  };
  // The first N lines of weight 0, in input order: they follow the positive ones when fewer
  // than N lines have positive weight (as in the weighted shuffle, and as tsv-sample does).
  std::vector<Kept> zeros;
  std::vector<std::string_view> batch;
  std::vector<double> weights;
  std::vector<uint64_t> row_keys;
  uint64_t base = 0;
  while (src.NextBatch(kBatch, &batch)) {
    if (wf != nullptr) {
      const int field = wf->indices[0];
      absl::Status s =
          ParseBatch(src, batch, o.threads, weights,
                     [&](std::string_view r, double* x) { return src.ParseWeight(r, field, x); });
      if (!s.ok()) return s;
    } else {
      weights.assign(batch.size(), 1.0);
    }
    row_keys.resize(batch.size());
    for (size_t i = 0; i < batch.size(); ++i) row_keys[i] = base + i;
    absl::StatusOr<std::vector<KeyedRow>> top =
        samplers::SmallestExponentialKeys(weights, row_keys, want, o.seed, o.threads);
    if (!top.ok()) return top.status();
    for (size_t i = 0; i < batch.size() && zeros.size() < o.num; ++i) {
      if (weights[i] == 0) zeros.push_back(Kept{KeyedRow{0, base + i}, 0.0, std::string(batch[i])});
    }
    for (const KeyedRow& local : *top) {  // ascending by key
      const KeyedRow key{local.key, local.row + base};
      if (cutoff.has_value() && !(key < *cutoff)) break;
      best.push_back(Kept{key, weights[local.row], std::string(batch[local.row])});
    }
    if (best.size() > want && best.size() - want >= slack)
      keep_smallest();  // (want may be 2^64 - 1)
    base += batch.size();
  }
  if (!src.status().ok()) return src.status();
  if (best.size() > want) keep_smallest();
  std::sort(best.begin(), best.end(), by_key);
  const bool have_tau = best.size() == want;
  const uint64_t tau = have_tau ? best.back().key.key : 0;
  if (have_tau) best.pop_back();
  const size_t positive = best.size();
  for (size_t i = 0; i < zeros.size() && best.size() < o.num; ++i) {
    best.push_back(std::move(zeros[i]));
  }
  std::vector<size_t> order(best.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  if (o.inorder) {
    std::sort(order.begin(), order.end(),
              [&](size_t x, size_t y) { return best[x].key.row < best[y].key.row; });
  }
  // Without -w (--compat's simple sample) every N-subset is equally likely, so the weight is
  // N_total / N as in RunSimple: the rank-conditioning weight would be unbiased too, but noisier.
  const double simple_ht =
      best.empty() ? 1.0 : static_cast<double>(base) / static_cast<double>(best.size());
  for (size_t i : order) {
    const Kept& k = best[i];
    const double ht = wf == nullptr ? simple_ht
                      : have_tau    ? 1.0 / -std::expm1(-samplers::WeightTimesKey(k.weight, tau))
                                    : 1.0;
    // A line of weight 0 has the random value 0, as in --gen-random-inorder.
    w.Record(k.record, i < positive ? KeyToUnitValue(k.key.key) : 0.0, ht);
  }
  return absl::OkStatus();
}

// -k F -p P (UNIVERSE) without random values: key hashes of each batch computed in parallel,
// decisions and output in input order.
absl::Status RunUniverseBatched(const SampleOptions& o, RecordSource& src,
                                const table::FieldList& kf, RecordWriter& w) {
  absl::StatusOr<samplers::UniverseSampler> universe =
      samplers::UniverseSampler::Create(o.prob, o.seed);
  if (!universe.ok()) return universe.status();
  constexpr size_t kBatch = 1 << 16;
  std::vector<std::string_view> batch;
  std::vector<uint64_t> hashes;
  uint64_t written = 0;
  while (src.NextBatch(kBatch, &batch)) {
    absl::Status s =
        ParseBatch(src, batch, o.threads, hashes,
                   [&](std::string_view r, uint64_t* h) { return src.ParseKeyHash(r, kf, h); });
    if (!s.ok()) return s;
    for (size_t i = 0; i < batch.size(); ++i) {
      if (!universe->KeepHash(hashes[i])) continue;
      w.Record(batch[i], 0, universe->weight());
      if (++written == o.num) return absl::OkStatus();
    }
  }
  return src.status();
}

constexpr uint64_t kDrawBatch = 4096;

// How many draws with replacement come next, from draw `first`: up to kDrawBatch, none once N
// are drawn or the output is closed. N = 0: no end.
uint64_t DrawBatch(uint64_t num, uint64_t first, const RecordWriter& w) {
  if (w.Closed()) return 0;
  return num == 0 ? kDrawBatch : std::min(kDrawBatch, num - first);
}

// -r -n N: draws with replacement (uniform, or alias table with -w), in draw order, with
// Hansen-Hurwitz weights n/N (uniform) or W/(N w_i) (weighted). Without -n (N = 0), draws until
// the output is closed, as tsv-sample (`urn sample -r file | head -n 1000`).
absl::Status RunReplace(const SampleOptions& o, RecordSource& src, const table::FieldList* wf,
                        RecordWriter& w) {
  Loaded all;
  if (absl::Status s = LoadAll(src, wf, all); !s.ok()) return s;
  const uint64_t n = all.records.size();
  if (n == 0) return absl::OkStatus();
  std::vector<uint64_t> rows(kDrawBatch);
  if (wf == nullptr) {
    samplers::UniformWithReplacement draws(n, o.seed);
    const double ht = static_cast<double>(n) / static_cast<double>(o.num);
    for (uint64_t first = 0, count; (count = DrawBatch(o.num, first, w)) > 0; first += count) {
      draws.Fill(first, count, rows.data());
      for (uint64_t j = 0; j < count; ++j) w.Record(all.records.at(rows[j]), 0, ht);
    }
    return absl::OkStatus();
  }
  absl::StatusOr<samplers::AliasTable> table = samplers::AliasTable::Build(all.weights);
  if (!table.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("-w/--weight-field: ", std::string(table.status().message())));
  }
  const samplers::HansenHurwitzTotal total = samplers::HansenHurwitzTotal::Of(all.weights);
  for (uint64_t first = 0, count; (count = DrawBatch(o.num, first, w)) > 0; first += count) {
    table->Draw(o.seed, first, std::span<uint64_t>(rows.data(), count));
    for (uint64_t j = 0; j < count; ++j) {
      w.Record(all.records.at(rows[j]), 0, total.Weight(o.num, all.weights[rows[j]]));
    }
  }
  return absl::OkStatus();
}

// -p P, -k F -p P, -k F -p P --min-per-key M: one decision per line as it is read.
absl::Status RunStreaming(const SampleOptions& o, RecordSource& src, const table::FieldList* kf,
                          RecordWriter& w) {
  samplers::BernoulliOptions bo;
  bo.seed = o.seed;
  bo.compatibility_mode = o.compat;
  absl::StatusOr<samplers::BernoulliFilter> bernoulli =
      samplers::BernoulliFilter::Create(o.prob, bo);
  absl::StatusOr<samplers::UniverseSampler> universe =
      samplers::UniverseSampler::Create(o.prob, o.seed);
  absl::StatusOr<samplers::DistinctSampler> distinct =
      samplers::DistinctSampler::Create(o.prob, o.min_per_key, o.seed);
  if (!bernoulli.ok()) return bernoulli.status();
  if (!universe.ok()) return universe.status();
  if (!distinct.ok()) return distinct.status();
  const random::KeyedStream bernoulli_u(o.seed, random::Stream::kBernoulli, 0);
  const random::KeyedStream universe_u(o.seed, random::Stream::kUniverse, 0);
  const bool all_lines = o.gen_random_inorder;
  const bool values = o.print_random || o.gen_random_inorder;
  // Bernoulli in skip mode jumps from one kept line to the next without looking at the rest.
  const bool jump = o.mode == SampleMode::kBernoulli && !o.compat && !all_lines;
  uint64_t row = 0, written = 0;
  std::string_view record;
  while (o.num == 0 || written < o.num) {
    if (jump) {
      // At most 2^20 rows ahead: the input may end long before the next kept row (~1/p rows
      // away), and the row at the limit is then read and refused by Keep like any other.
      constexpr uint64_t kAhead = uint64_t{1} << 20;
      const uint64_t limit =
          row < std::numeric_limits<uint64_t>::max() - kAhead ? row + kAhead : row;
      const uint64_t next = bernoulli->NextKeptAtOrAfter(row, limit);
      const uint64_t skipped = src.Skip(next - row);
      row += skipped;
      if (row < next) break;
    }
    if (!src.Next(&record)) break;
    bool keep = false;
    double ht = 1.0 / o.prob, value = 0;
    if (o.mode == SampleMode::kBernoulli) {
      keep = bernoulli->Keep(row);
      if (values) value = bernoulli_u.Uniform(row);
    } else {
      uint64_t hash = 0;
      if (absl::Status s = src.KeyHash(record, *kf, &hash); !s.ok()) return s;
      if (o.mode == SampleMode::kUniverse) {
        keep = universe->KeepHash(hash);
        // As tsv-sample: the key's selection group ("bucket"), an integer from 0; the selected
        // keys are group 0, and group j holds the keys whose uniform value u (a function of the
        // seed and the key) has floor(u / P) = j.
        if (values)
          value = keep ? 0.0 : std::max(1.0, std::floor(universe_u.Uniform(hash) / o.prob));
      } else {
        const samplers::DistinctSampler::Decision d = distinct->OfferHash(hash);
        keep = d.keep;
        ht = d.weight;
      }
    }
    ++row;
    if (keep || all_lines) {
      // A line outside the sample (printed for its random value) weighs 0: summing the weight
      // column still estimates the total.
      w.Record(record, value, keep ? ht : 0.0);
      ++written;
    }
  }
  return src.status();
}

// --gen-random-inorder for the modes without a key: every line with the random value its
// mode uses (u of the exponential key; u^(1/w) with weights).
absl::Status RunRandomInorder(const SampleOptions& o, RecordSource& src, const table::FieldList* wf,
                              RecordWriter& w) {
  const random::KeyedStream stream(o.seed, random::Stream::kWeighted, 0);
  uint64_t row = 0;
  std::string_view record;
  while ((o.num == 0 || row < o.num) && src.Next(&record)) {  // -n: at most N lines, as tsv-sample
    double weight = 1.0;
    if (wf != nullptr) {
      if (absl::Status s = src.Weight(record, wf->indices[0], &weight); !s.ok()) return s;
    }
    const double value =
        weight > 0 ? KeyToUnitValue(samplers::ExponentialKey(stream.Bits(row), weight)) : 0.0;
    w.Record(record, value, 1.0);
    ++row;
  }
  return src.status();
}

// One name of a header line: as it is, or for CSV quoted ("" for a quote) when it holds the
// delimiter, a quote or a line break, as a CSV reader expects. (A TSV name never holds the
// delimiter or a line break: input names are split at them, and ParseSampleOptions refuses such
// a WITH WEIGHT AS name.)
void WriteHeaderName(const SampleOptions& o, std::string_view name, Output& out) {
  if (!o.csv ||
      name.find_first_of(std::string{o.delimiter, '"', '\r', '\n'}) == std::string_view::npos) {
    out.Write(name);
    return;
  }
  out.Put('"');
  for (char ch : name) {
    if (ch == '"') out.Put('"');
    out.Put(ch);
  }
  out.Put('"');
}

// A query's data error names its row ("data row N: ..."); on files (not standard input, which
// cannot be read twice) the row's record is found again so that the message names file:line.
absl::Status WithFileAndLine(const SampleOptions& o, const absl::Status& status) {
  const std::string kPrefix = "data row ";
  const std::string message(status.message());
  const size_t colon = message.find(':');
  uint64_t row = 0;
  if (!absl::StartsWith(message, kPrefix) || colon == std::string::npos ||
      !absl::SimpleAtoi(message.substr(kPrefix.size(), colon - kPrefix.size()), &row) || row == 0 ||
      std::find(o.files.begin(), o.files.end(), "-") != o.files.end()) {
    return status;
  }
  RecordSource again(o.files, o.header, o.csv, o.delimiter);
  std::string_view record;
  if (again.Skip(row - 1) != row - 1 || !again.Next(&record)) return status;
  return absl::Status(status.code(), absl::StrCat(again.Where(), message.substr(colon)));
}

// --query: the query is parsed first (a malformed query is refused before any input is read),
// then the input is loaded into a typed table, planned (type errors) and run.
absl::Status RunQueryMode(const SampleOptions& o, Output& out) {
  absl::StatusOr<query::Query> parsed = query::ParseQuery(o.query);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(query::FormatError(o.query, parsed.status()));
  }
  table::ReadOptions read;
  read.format = o.csv ? table::Format::kCsv : table::Format::kTsv;
  read.has_header = o.header;
  read.delimiter = o.delimiter;
  if (o.list_delimiter != 0) read.list_delimiter = o.list_delimiter;
  read.keep_raw_rows = true;
  absl::StatusOr<table::Table> data = table::ReadTableFromFiles(o.files, read);
  if (!data.ok()) return data.status();
  absl::StatusOr<query::Plan> plan = query::PlanQuery(*parsed, *data);
  if (!plan.ok()) return absl::InvalidArgumentError(query::FormatError(o.query, plan.status()));
  absl::StatusOr<query::QueryResult> result = query::RunQuery(*plan, *data, o.seed, o.threads);
  if (!result.ok()) return WithFileAndLine(o, result.status());
  if (o.header && data->num_columns() > 0) {  // no header line for an empty input
    std::vector<std::string_view> names;
    for (int c = 0; c < data->num_columns(); ++c) names.push_back(data->column(c).name());
    if (result->weight_column) names.push_back(*result->weight_column);
    for (size_t c = 0; c < names.size(); ++c) {
      if (c > 0) out.Put(o.delimiter);
      WriteHeaderName(o, names[c], out);
    }
    out.Put('\n');
  }
  for (size_t i = 0; i < result->rows.size(); ++i) {
    out.Write(data->RawRow(static_cast<int64_t>(result->rows[i])));
    if (result->weight_column) {
      out.Put(o.delimiter);
      out.WriteDouble(result->weights[i]);
    }
    out.Put('\n');
  }
  return absl::OkStatus();
}

absl::StatusOr<table::FieldList> SingleField(RecordSource& src, const std::string& flag,
                                             const std::string& spec) {
  absl::StatusOr<table::FieldList> f = src.ResolveFields(flag, spec);
  if (!f.ok()) return f.status();
  if (f->whole_line || f->indices.size() != 1) {
    // Which fields it named: a header may hold one name twice ("w\tw"), which a number resolves.
    std::string which;
    for (size_t i = 0; i < f->indices.size() && i < 5; ++i) {
      absl::StrAppend(&which, i == 0 ? " (fields " : ", ", f->indices[i] + 1);
    }
    if (!which.empty()) absl::StrAppend(&which, f->indices.size() > 5 ? ", ...)" : ")");
    return UsageError(absl::InvalidArgumentError(
        absl::StrCat(flag, ": exactly one field, got '", spec, "'", which)));
  }
  return f;
}

}  // namespace

absl::Status RunLocalSample(const SampleOptions& o, Output& out) {
  if (o.mode == SampleMode::kQuery) return RunQueryMode(o, out);
  RecordSource src(o.files, o.header, o.csv, o.delimiter);
  if (absl::Status s = src.Start(); !s.ok()) return s;
  std::optional<table::FieldList> weight_field, key_fields;
  if (!o.weight_field.empty()) {
    absl::StatusOr<table::FieldList> f = SingleField(src, "-w/--weight-field", o.weight_field);
    if (!f.ok()) return f.status();
    weight_field = *f;
  }
  if (!o.key_fields.empty()) {
    absl::StatusOr<table::FieldList> f = src.ResolveFields("-k/--key-fields", o.key_fields);
    if (!f.ok()) return f.status();
    key_fields = *f;
  }
  const table::FieldList* wf = weight_field ? &*weight_field : nullptr;
  const table::FieldList* kf = key_fields ? &*key_fields : nullptr;
  RecordWriter writer(o, out);
  writer.Header(src.header());

  if (o.gen_random_inorder && kf == nullptr && o.mode != SampleMode::kBernoulli) {
    return RunRandomInorder(o, src, wf, writer);
  }
  switch (o.mode) {
    case SampleMode::kShuffle:
      return RunShuffle(o, src, writer);
    case SampleMode::kWeightedShuffle:
      return RunWeightedShuffle(o, src, *wf, writer);
    case SampleMode::kSimple:
      return o.compat ? RunWeighted(o, src, nullptr, writer) : RunSimple(o, src, writer);
    case SampleMode::kWeighted:
      return RunWeighted(o, src, wf, writer);
    case SampleMode::kReplace:
    case SampleMode::kWeightedReplace:
      return RunReplace(o, src, wf, writer);
    case SampleMode::kUniverse:
      if (!o.print_random && !o.gen_random_inorder) {
        return RunUniverseBatched(o, src, *kf, writer);
      }
      return RunStreaming(o, src, kf, writer);
    case SampleMode::kQuery:
      break;  // handled above
    case SampleMode::kBernoulli:
    case SampleMode::kDistinct:
      return RunStreaming(o, src, kf, writer);
  }
  return absl::InternalError("unknown sample mode");
}

}  // namespace urn::cli
