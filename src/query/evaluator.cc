#include "query/evaluator.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "query/parser.h"
#include "samplers/alias_table.h"
#include "samplers/bernoulli.h"
#include "samplers/distinct.h"
#include "samplers/exponential_key.h"
#include "samplers/group_key.h"
#include "samplers/parallel_for.h"
#include "samplers/reservoir.h"
#include "samplers/universe.h"
#include "samplers/weighted_without_replacement.h"

namespace urn::query {
namespace {

absl::Status CheckSchema(const Plan& plan, const table::Table& table) {
  const Schema actual = SchemaOf(table);
  if (actual.size() != plan.schema.size()) {
    return absl::FailedPreconditionError(absl::StrCat("the query was planned for a table of ",
                                                      plan.schema.size(), " columns; this one has ",
                                                      actual.size()));
  }
  for (size_t i = 0; i < actual.size(); ++i) {
    if (actual[i].name != plan.schema[i].name || actual[i].type != plan.schema[i].type) {
      return absl::FailedPreconditionError(absl::StrCat(
          "column ", i + 1, " is '", actual[i].name, "' (",
          std::string(table::TypeName(actual[i].type)), "); the query was planned for '",
          plan.schema[i].name, "' (", std::string(table::TypeName(plan.schema[i].type)), ")"));
    }
  }
  return absl::OkStatus();
}

// Filter and weights for every row, evaluated in `threads` ranges.
struct Evaluated {
  std::vector<uint8_t> pass;    // when asked
  std::vector<double> weights;  // when asked
  uint64_t passed = 0;
};

absl::StatusOr<Evaluated> Evaluate(const Program& program, const table::Table& table,
                                   bool want_pass, bool want_weights, int threads) {
  Evaluated ev;
  const int64_t n = table.num_rows();
  if (want_pass) ev.pass.resize(n);
  if (want_weights) ev.weights.resize(n);
  // Ranges of whole blocks; enough ranges that two threads stay busy, few enough that each
  // range's scratch registers are set up rarely.
  const int64_t block = Program::kBlockRows;
  const int64_t per_range =
      std::max<int64_t>(block * 64, (n / (4 * std::max(threads, 1)) / block + 1) * block);
  const uint64_t ranges = static_cast<uint64_t>((n + per_range - 1) / per_range);
  std::vector<absl::Status> status(ranges);
  std::vector<int64_t> passed(ranges, 0);
  const ProgramRunner runner(program, table);
  samplers::ParallelFor(ranges, threads, [&](uint64_t r) {
    const int64_t begin = static_cast<int64_t>(r) * per_range;
    const int64_t end = std::min(n, begin + per_range);
    status[r] =
        runner.NewCursor().Evaluate(begin, end, want_pass ? ev.pass.data() + begin : nullptr,
                                    want_weights ? ev.weights.data() + begin : nullptr, &passed[r]);
  });
  for (uint64_t r = 0; r < ranges; ++r) {
    if (!status[r].ok()) return status[r];
    ev.passed += passed[r];
  }
  return ev;
}

// The text of the key columns of `row`, as the command line's -k hashes it.
class KeyHasher {
 public:
  KeyHasher(const table::Table& table, const std::vector<int>& columns)
      : table_(table), columns_(columns), text_(columns.size()), views_(columns.size()) {}

  uint64_t Hash(int64_t row) {
    for (size_t i = 0; i < columns_.size(); ++i) {
      const table::Column& col = table_.column(columns_[i]);
      if (col.type() == table::Type::kString) {
        views_[i] = col.StringAt(row);
      } else {
        text_[i].clear();
        table_.AppendCell(columns_[i], row, &text_[i]);
        views_[i] = text_[i];
      }
    }
    return samplers::HashKeyColumns(views_);
  }

 private:
  const table::Table& table_;
  const std::vector<int>& columns_;
  std::vector<std::string> text_;
  std::vector<std::string_view> views_;
};

// The weights of a program's rows, computed block by block for the weighted sampler.
class ProgramWeights : public samplers::WeightSource {
 public:
  explicit ProgramWeights(const ProgramRunner& runner) : runner_(runner) {}

  std::unique_ptr<Reader> NewReader() const override {
    return std::make_unique<BlockReader>(runner_.NewCursor(), &passed_);
  }

  int64_t passed() const { return passed_.load(std::memory_order_relaxed); }

 private:
  class BlockReader : public Reader {
   public:
    BlockReader(ProgramRunner::Cursor cursor, std::atomic<int64_t>* passed)
        : cursor_(std::move(cursor)), passed_(passed) {}
    ~BlockReader() override { passed_->fetch_add(count_, std::memory_order_relaxed); }

    absl::Status Read(uint64_t begin, size_t n, double* out) override {
      const auto b = static_cast<int64_t>(begin);
      return cursor_.Evaluate(b, b + static_cast<int64_t>(n), nullptr, out, &count_);
    }

   private:
    ProgramRunner::Cursor cursor_;
    std::atomic<int64_t>* passed_;
    int64_t count_ = 0;
  };

  const ProgramRunner& runner_;
  mutable std::atomic<int64_t> passed_{0};
};

// Weighted sampling without replacement fused with evaluation: the sampler asks for each
// block's weights as it scans (they stay in L1), so the result is exactly
// WeightedSampleWithoutReplacement over the full weight array without materializing it.
absl::Status FusedWeightedWithoutReplacement(const Plan& plan, const table::Table& table,
                                             uint64_t seed, int threads, bool ht,
                                             QueryResult& result) {
  const auto n = static_cast<uint64_t>(table.num_rows());
  const ProgramRunner runner(*plan.program, table);
  const ProgramWeights weights(runner);
  // One key more than the sample: the (k+1)-th is the Horvitz–Thompson threshold.
  const uint64_t keep = plan.count ? *plan.count + 1 : ~uint64_t{0};
  absl::StatusOr<std::vector<samplers::WeightedKeyedRow>> all =
      samplers::SmallestExponentialKeys(n, weights, keep, seed, threads);
  if (!all.ok()) return all.status();
  const auto total_passed = static_cast<uint64_t>(weights.passed());
  result.rows_passed = total_passed;
  const uint64_t k = std::min<uint64_t>(plan.count.value_or(total_passed), n);
  const uint64_t tau = all->size() > k ? (*all)[k].keyed.key : samplers::kInfiniteExponentialKey;
  if (all->size() > k) all->resize(k);
  result.rows.reserve(all->size());
  for (const samplers::WeightedKeyedRow& c : *all) result.rows.push_back(c.keyed.row);
  if (ht) {
    result.weights.reserve(all->size());
    for (const samplers::WeightedKeyedRow& c : *all) {
      result.weights.push_back(1 / -std::expm1(-samplers::WeightTimesKey(c.weight, tau)));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<QueryResult> RunQuery(const Plan& plan, const table::Table& table, uint64_t seed,
                                     int threads, Draws draws_mode) {
  if (absl::Status s = CheckSchema(plan, table); !s.ok()) return s;
  if (plan.seed) seed = *plan.seed;
  QueryResult result;
  result.weight_column = plan.weight_column;
  const bool ht = plan.weight_column.has_value();
  const auto n = static_cast<uint64_t>(table.num_rows());
  result.rows_scanned = n;
  const bool weighted = plan.sampler == SamplerKind::kWeightedWithReplacement ||
                        plan.sampler == SamplerKind::kWeightedWithoutReplacement;
  const bool need_pass = !weighted && plan.program->has_filter();
  if (plan.sampler == SamplerKind::kWeightedWithoutReplacement) {
    if (absl::Status s = FusedWeightedWithoutReplacement(plan, table, seed, threads, ht, result);
        !s.ok()) {
      return s;
    }
    return result;
  }
  if (plan.sampler == SamplerKind::kWeightedWithReplacement) {
    absl::StatusOr<ReplacementWeights> w = EvaluateReplacementWeights(plan, table, threads);
    if (!w.ok()) return w.status();
    return DrawWithReplacement(plan, n, std::make_shared<const ReplacementWeights>(*std::move(w)),
                               seed, draws_mode);
  }
  absl::StatusOr<Evaluated> ev = Evaluate(*plan.program, table, need_pass, weighted, threads);
  if (!ev.ok()) return ev.status();
  result.rows_passed = ev->passed;
  auto passes = [&](uint64_t row) { return !need_pass || ev->pass[row] != 0; };

  switch (plan.sampler) {
    case SamplerKind::kAll:
      for (uint64_t r = 0; r < n; ++r) {
        if (passes(r)) result.rows.push_back(r);
      }
      if (ht) result.weights.assign(result.rows.size(), 1.0);
      break;

    case SamplerKind::kWeightedWithoutReplacement:
    case SamplerKind::kWeightedWithReplacement:
      break;  // handled above

    case SamplerKind::kBernoulli: {
      if (plan.fraction <= 0 || n == 0) break;
      samplers::BernoulliOptions o;
      o.seed = seed;
      o.threads = threads;
      o.with_weights = false;
      absl::StatusOr<samplers::Sample> s = samplers::SampleBernoulli(n, plan.fraction, o);
      if (!s.ok()) return s.status();
      for (uint64_t row : s->rows) {
        if (passes(row)) result.rows.push_back(row);
      }
      if (ht) result.weights.assign(result.rows.size(), 1.0 / plan.fraction);
      break;
    }

    case SamplerKind::kReservoir: {
      std::vector<uint64_t> passing;
      if (need_pass) {
        passing.reserve(ev->passed);
        for (uint64_t r = 0; r < n; ++r) {
          if (ev->pass[r]) passing.push_back(r);
        }
      }
      const uint64_t m = need_pass ? passing.size() : n;
      const uint64_t k =
          plan.count ? *plan.count
                     : static_cast<uint64_t>(std::llround(plan.fraction * static_cast<double>(m)));
      samplers::Sample s =
          samplers::SampleReservoir(m, k, seed, samplers::OutputOrder::kRandom, ht);
      result.rows.reserve(s.rows.size());
      for (uint64_t i : s.rows) result.rows.push_back(need_pass ? passing[i] : i);
      result.weights = std::move(s.ht_weights);
      break;
    }

    case SamplerKind::kUniverse: {
      absl::StatusOr<samplers::UniverseSampler> u =
          samplers::UniverseSampler::Create(plan.fraction, seed);
      if (!u.ok()) return u.status();
      KeyHasher keys(table, plan.key_columns);
      for (uint64_t r = 0; r < n; ++r) {
        if (passes(r) && u->KeepHash(keys.Hash(static_cast<int64_t>(r)))) result.rows.push_back(r);
      }
      if (ht) result.weights.assign(result.rows.size(), u->weight());
      break;
    }

    case SamplerKind::kDistinct: {
      absl::StatusOr<samplers::DistinctSampler> d =
          samplers::DistinctSampler::Create(plan.fraction, plan.min_rows, seed);
      if (!d.ok()) return d.status();
      KeyHasher keys(table, plan.key_columns);
      for (uint64_t r = 0; r < n; ++r) {
        if (!passes(r)) continue;
        const samplers::DistinctSampler::Decision dec =
            d->OfferHash(keys.Hash(static_cast<int64_t>(r)));
        if (!dec.keep) continue;
        result.rows.push_back(r);
        if (ht) result.weights.push_back(dec.weight);
      }
      break;
    }
  }
  if (!ht) result.weights.clear();
  return result;
}

absl::StatusOr<ReplacementWeights> EvaluateReplacementWeights(const Plan& plan,
                                                              const table::Table& table,
                                                              int threads) {
  if (plan.sampler != SamplerKind::kWeightedWithReplacement) {
    return absl::InvalidArgumentError("not a SAMPLE BY ... REPLACE true plan");
  }
  if (absl::Status s = CheckSchema(plan, table); !s.ok()) return s;
  absl::StatusOr<Evaluated> ev = Evaluate(*plan.program, table, false, true, threads);
  if (!ev.ok()) return ev.status();
  ReplacementWeights w;
  w.weights = std::move(ev->weights);
  w.total = samplers::HansenHurwitzTotal::Of(w.weights);
  w.passed = ev->passed;
  if (w.total.total > 0) {
    absl::StatusOr<samplers::AliasTable> alias = samplers::AliasTable::Build(w.weights);
    if (!alias.ok()) return alias.status();
    w.alias = *std::move(alias);
  }
  return w;
}

QueryResult DrawWithReplacement(const Plan& plan, uint64_t rows_scanned,
                                std::shared_ptr<const ReplacementWeights> w, uint64_t seed,
                                Draws mode) {
  if (plan.seed) seed = *plan.seed;
  QueryResult result;
  result.weight_column = plan.weight_column;
  result.rows_scanned = rows_scanned;
  result.rows_passed = w->passed;
  const bool ht = plan.weight_column.has_value();
  const uint64_t draws = plan.count.value_or(w->passed);
  if (draws == 0 || !w->alias) return result;
  if (mode == Draws::kLazy) {
    result.lazy_count = draws;
    result.lazy = [w, seed, draws, ht](uint64_t first, std::span<uint64_t> out, double* hh) {
      w->Draw(seed, draws, first, out, ht ? hh : nullptr);
    };
    return result;
  }
  result.rows.resize(draws);
  if (ht) result.weights.resize(draws);
  w->Draw(seed, draws, 0, std::span<uint64_t>(result.rows), ht ? result.weights.data() : nullptr);
  return result;
}

void ReplacementWeights::Draw(uint64_t seed, uint64_t draws, uint64_t first,
                              std::span<uint64_t> out, double* hh) const {
  alias->Draw(seed, first, out);
  if (hh == nullptr) return;
  for (size_t i = 0; i < out.size(); ++i) {
    hh[i] = total.Weight(draws, weights[out[i]]);
  }
}

absl::StatusOr<QueryResult> RunQueryText(std::string_view text, const table::Table& table,
                                         uint64_t seed, int threads, const QueryLimits& limits,
                                         Draws draws) {
  absl::StatusOr<Query> q = ParseQuery(text, limits);
  if (!q.ok()) return q.status();
  absl::StatusOr<Plan> p = PlanQuery(*q, table, limits);
  if (!p.ok()) return p.status();
  return RunQuery(*p, table, seed, threads, draws);
}

}  // namespace urn::query
