#include "sampling/spec_sampler.h"

#include <algorithm>
#include <numeric>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "query/error.h"
#include "query/evaluator.h"
#include "query/parser.h"
#include "query/planner.h"
#include "samplers/alias_table.h"
#include "samplers/bernoulli.h"
#include "samplers/distinct.h"
#include "samplers/group_key.h"
#include "samplers/reservoir.h"
#include "samplers/stratified.h"
#include "samplers/uniform_with_replacement.h"
#include "samplers/universe.h"
#include "samplers/weighted_shuffle.h"
#include "samplers/weighted_without_replacement.h"
#include "table/cell_text.h"

namespace urn::server {

absl::Status NotCachedError() {
  return absl::UnavailableError("not cached: this sample needs an O(rows) step");
}

bool IsNotCached(const absl::Status& status) { return status == NotCachedError(); }

namespace {

absl::Status Field(const std::string& field, const absl::Status& s) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", std::string(s.message())));
}

absl::StatusOr<int> ColumnIndex(const table::Table& t, const std::string& field,
                                const std::string& name) {
  const int c = t.FindColumn(name);
  if (c < 0) return absl::InvalidArgumentError(absl::StrCat(field, ": no column '", name, "'"));
  return c;
}

absl::StatusOr<std::vector<double>> WeightColumn(const table::Table& t, const std::string& name) {
  absl::StatusOr<int> c = ColumnIndex(t, "weighted.weight_column", name);
  if (!c.ok()) return c.status();
  const table::Column& col = t.column(*c);
  // A dataset of no rows has nothing to weigh (its columns have no values to give them a type),
  // so it samples to nothing, as `urn sample -w` does on a header-only file.
  if (t.num_rows() == 0) return std::vector<double>();
  std::vector<double> w(t.num_rows());
  for (int64_t r = 0; r < t.num_rows(); ++r) {
    if (col.IsNull(r)) {
      return absl::InvalidArgumentError(absl::StrCat("weighted.weight_column: '", name,
                                                     "' is null at row id ", r,
                                                     " (row ids count from 0); every weight "
                                                     "must be a number"));
    }
  }
  if (col.type() == table::Type::kDouble) {
    std::copy(col.DoubleData(), col.DoubleData() + t.num_rows(), w.begin());
  } else if (col.type() == table::Type::kInt64) {
    for (int64_t r = 0; r < t.num_rows(); ++r) w[r] = static_cast<double>(col.Int64Data()[r]);
  } else if (col.type() == table::Type::kString) {
    // Text that spells numbers weighs what it spells, as `urn sample -w` reads a file: a column
    // of integers some of which are past int64 is kept as text, not rounded (ReadOptions).
    for (int64_t r = 0; r < t.num_rows(); ++r) {
      const std::string_view text = col.StringAt(r);
      // Spaces around the number are allowed, as `urn sample -w` allows them in a file.
      const std::string_view number = table::TrimSpaces(text);
      if (!table::ParseDoubleInRange(number, &w[r])) {
        // 1e-400 would be 0 and 1e400 inf: refused as `urn sample -w` refuses them in a file.
        return absl::InvalidArgumentError(absl::StrCat(
            "weighted.weight_column: '", name, "' is ",
            table::IsOutOfDoubleRange(number) ? "out of the range of a double" : "not a number",
            " at row id ", r, " ('", table::TextForMessage(text), "')"));
      }
    }
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("weighted.weight_column: '", name, "' is not numeric"));
  }
  return w;
}

// One 64-bit key per row from the text of `columns`, as `urn sample -k` hashes fields.
absl::StatusOr<std::vector<uint64_t>> KeyHashes(
    const table::Table& t, const std::string& field,
    const google::protobuf::RepeatedPtrField<std::string>& names) {
  if (names.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": no key column"));
  std::vector<int> cols;
  std::vector<bool> used(t.num_columns());
  for (int i = 0; i < names.size(); ++i) {
    absl::StatusOr<int> c = ColumnIndex(t, field, names[i]);
    if (!c.ok()) return c.status();
    // Each column at most once: a repeat changes no key, and the work grows with the list.
    if (used[*c]) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, "[", i, "]: column '", names[i], "' is already a key column"));
    }
    used[*c] = true;
    cols.push_back(*c);
  }
  std::vector<uint64_t> out(t.num_rows());
  std::vector<std::string> text(cols.size());
  std::vector<std::string_view> views(cols.size());
  for (int64_t r = 0; r < t.num_rows(); ++r) {
    for (size_t i = 0; i < cols.size(); ++i) {
      text[i].clear();
      t.AppendCell(cols[i], r, &text[i]);
      views[i] = text[i];
    }
    out[r] = samplers::HashKeyColumns(views);
  }
  return out;
}

// The cache keys of a weight column's and a query's weights and alias table.
std::string ColumnKey(const std::string& table_id, const std::string& column) {
  return absl::StrCat("column:", table_id, "/", column);
}
std::string QueryKey(const std::string& table_id, const std::string& query) {
  return absl::StrCat("query:", table_id, "/", query);
}

SpecResult Materialized(std::vector<uint64_t> rows, std::vector<double> weights) {
  SpecResult out;
  out.rows = std::move(rows);
  out.weights = std::move(weights);
  return out;
}

SpecResult FromSample(samplers::Sample s) {
  return Materialized(std::move(s.rows), std::move(s.ht_weights));
}

// Reserves the estimated memory of an alias table of `t` in `build_memory` (when given).
std::function<absl::Status()> ReserveBuild(const table::Table& t,
                                           MemoryBudget::Reservation* build_memory) {
  if (build_memory == nullptr) return nullptr;
  return [&t, build_memory] {
    return build_memory->Resize(AliasCache::BuildBytes(t.num_rows()),
                                absl::StrCat("an alias table of ", t.num_rows(), " rows"));
  };
}

absl::StatusOr<SpecResult> RunWeightedWithReplacement(const v1::SampleRequest& req,
                                                      const table::Table& t, AliasCache* cache,
                                                      const std::string& table_id, bool may_build,
                                                      MemoryBudget::Reservation* build_memory) {
  const uint64_t n = static_cast<uint64_t>(req.n());
  if (n == 0) return absl::InvalidArgumentError("n: draws with replacement need n > 0");
  const std::string& column = req.weighted().weight_column();
  if (t.num_rows() == 0) {  // no draws, as from an empty table uniformly; the column must exist
    absl::StatusOr<std::vector<double>> w = WeightColumn(t, column);
    if (!w.ok()) return w.status();
    return SpecResult();
  }
  const auto build = [&]() -> absl::StatusOr<AliasCache::Entry> {
    absl::StatusOr<std::vector<double>> w = WeightColumn(t, column);
    if (!w.ok()) return w.status();
    absl::StatusOr<samplers::AliasTable> alias = samplers::AliasTable::Build(*w);
    if (!alias.ok()) return Field("weighted.weight_column", alias.status());
    const samplers::HansenHurwitzTotal total = samplers::HansenHurwitzTotal::Of(*w);
    return AliasCache::Entry{
        .weights = *std::move(w), .total = total, .passed = 0, .alias = *std::move(alias)};
  };
  std::shared_ptr<const AliasCache::Entry> entry;
  if (cache != nullptr && !table_id.empty()) {
    absl::StatusOr<std::shared_ptr<const AliasCache::Entry>> cached =
        cache->Get(ColumnKey(table_id, column), build, may_build, ReserveBuild(t, build_memory));
    if (!cached.ok()) return cached.status();
    entry = *std::move(cached);
  } else {
    if (!may_build) return NotCachedError();
    if (const auto reserve = ReserveBuild(t, build_memory); reserve != nullptr) {
      if (absl::Status s = reserve(); !s.ok()) return s;
    }
    absl::StatusOr<AliasCache::Entry> built = build();
    if (!built.ok()) return built.status();
    entry = std::make_shared<const AliasCache::Entry>(*std::move(built));
  }
  SpecResult out;
  out.lazy_count = n;
  out.lazy_weights = req.with_weight();
  const uint64_t seed = req.seed();
  out.lazy = [entry, seed, n](uint64_t first, std::span<uint64_t> rows, double* weights) {
    entry->Draw(seed, n, first, rows, weights);
  };
  return out;
}

absl::StatusOr<SpecResult> RunWeighted(const v1::SampleRequest& req, const table::Table& t,
                                       int threads, AliasCache* cache, const std::string& table_id,
                                       bool may_build, MemoryBudget::Reservation* build_memory) {
  if (req.weighted().replace()) {
    return RunWeightedWithReplacement(req, t, cache, table_id, may_build, build_memory);
  }
  if (!may_build) return NotCachedError();
  absl::StatusOr<std::vector<double>> w = WeightColumn(t, req.weighted().weight_column());
  if (!w.ok()) return w.status();
  const uint64_t n = static_cast<uint64_t>(req.n());
  samplers::WeightedOptions o;
  o.seed = req.seed();
  o.threads = threads;
  o.order = req.inorder() ? samplers::SampleOrder::kInput : samplers::SampleOrder::kSelection;
  o.ht_weights = req.with_weight();
  // The first n rows of the weighted shuffle, as `urn sample -n N -w F` gives them.
  o.zero_weight_rows_follow = true;
  absl::StatusOr<samplers::Sample> s = n == 0
                                           ? samplers::WeightedShuffle(*w, o)
                                           : samplers::WeightedSampleWithoutReplacement(*w, n, o);
  if (!s.ok()) return Field("weighted.weight_column", s.status());
  SpecResult out = FromSample(*std::move(s));
  if (n == 0 && req.with_weight()) out.weights.assign(out.rows.size(), 1.0);
  return out;
}

absl::StatusOr<SpecResult> RunUniform(const v1::SampleRequest& req, const table::Table& t,
                                      int threads) {
  const uint64_t rows = static_cast<uint64_t>(t.num_rows());
  const uint64_t n = static_cast<uint64_t>(req.n());
  if (req.has_uniform() && req.uniform().replace()) {
    if (n == 0) return absl::InvalidArgumentError("n: draws with replacement need n > 0");
    // Not materialized, as weighted draws with replacement: n (up to kMaxSampleSize, whatever
    // the table's size) would otherwise cost 8 bytes per draw before the first batch, and
    // the daily-rows quota is charged as batches go out. An empty table gives no draws.
    SpecResult out;
    if (rows == 0) return out;
    const samplers::UniformWithReplacement draws(rows, req.seed());
    const double weight = draws.Weight(n);
    out.lazy_count = n;
    out.lazy_weights = req.with_weight();
    out.lazy = [draws, weight](uint64_t first, std::span<uint64_t> batch, double* weights) {
      draws.Fill(first, batch.size(), batch.data());
      if (weights != nullptr) std::fill_n(weights, batch.size(), weight);
    };
    return out;
  }
  if (n == 0) return absl::InvalidArgumentError("n: a uniform sample needs n > 0");
  if (!req.compat()) {
    return FromSample(samplers::SampleReservoir(
        rows, n, req.seed(),
        req.inorder() ? samplers::OutputOrder::kInput : samplers::OutputOrder::kRandom,
        req.with_weight()));
  }
  std::vector<double> ones(rows, 1.0);
  samplers::WeightedOptions o;
  o.seed = req.seed();
  o.threads = threads;
  o.order = req.inorder() ? samplers::SampleOrder::kInput : samplers::SampleOrder::kSelection;
  absl::StatusOr<samplers::Sample> s = samplers::WeightedSampleWithoutReplacement(ones, n, o);
  if (!s.ok()) return s.status();
  // Every n-subset is equally likely, so each row's weight is rows / n (1 / its inclusion
  // probability), as `urn sample --compat` gives on a file; the rank-conditioning weights of the
  // exponential keys would be unbiased too, but noisier, and differ from the file's.
  if (req.with_weight() && !s->rows.empty()) {
    s->ht_weights.assign(s->rows.size(),
                         static_cast<double>(rows) / static_cast<double>(s->rows.size()));
  }
  return FromSample(*std::move(s));
}

absl::StatusOr<SpecResult> RunKeyed(const v1::SampleRequest& req, const table::Table& t) {
  const bool universe = req.has_universe();
  const std::string field = universe ? "universe.key_columns" : "distinct.key_columns";
  absl::StatusOr<std::vector<uint64_t>> keys =
      KeyHashes(t, field, universe ? req.universe().key_columns() : req.distinct().key_columns());
  if (!keys.ok()) return keys.status();
  SpecResult out;
  if (universe) {
    absl::StatusOr<samplers::UniverseSampler> u =
        samplers::UniverseSampler::Create(req.universe().p(), req.seed());
    if (!u.ok()) return Field("universe.p", u.status());
    for (uint64_t r = 0; r < keys->size(); ++r) {
      if (!u->KeepHash((*keys)[r])) continue;
      out.rows.push_back(r);
      if (req.with_weight()) out.weights.push_back(u->weight());
    }
    return out;
  }
  if (req.distinct().min_rows() < 0) {
    return absl::InvalidArgumentError("distinct.min_rows: must be >= 0");
  }
  absl::StatusOr<samplers::DistinctSampler> d = samplers::DistinctSampler::Create(
      req.distinct().p(), static_cast<uint64_t>(req.distinct().min_rows()), req.seed());
  if (!d.ok()) return Field("distinct.p", d.status());
  for (uint64_t r = 0; r < keys->size(); ++r) {
    const samplers::DistinctSampler::Decision dec = d->OfferHash((*keys)[r]);
    if (!dec.keep) continue;
    out.rows.push_back(r);
    if (req.with_weight()) out.weights.push_back(dec.weight);
  }
  return out;
}

absl::StatusOr<SpecResult> RunBernoulli(const v1::SampleRequest& req, const table::Table& t,
                                        int threads) {
  samplers::BernoulliOptions o;
  o.seed = req.seed();
  o.compatibility_mode = req.compat();
  o.with_weights = req.with_weight();
  o.threads = threads;
  absl::StatusOr<samplers::Sample> s =
      samplers::SampleBernoulli(static_cast<uint64_t>(t.num_rows()), req.bernoulli().p(), o);
  if (!s.ok()) return Field("bernoulli.p", s.status());
  return FromSample(*std::move(s));
}

// Bernoulli, UNIVERSE and DISTINCT decide each row alone, so their size is whatever the coins
// give. n > 0 keeps the first n rows of that sample (input order), as `urn sample -p P -n N`
// and tsv-sample's --num do. Those rows were not kept with the spec's probabilities (a row is
// in them only if few rows before it were kept), so with_weight is refused with n.
absl::StatusOr<SpecResult> RunUnsized(const v1::SampleRequest& req, const table::Table& t,
                                      int threads) {
  if (req.n() > 0 && req.with_weight()) {
    return absl::InvalidArgumentError(
        "with_weight: the first n rows of a bernoulli, universe or distinct sample are not kept "
        "with its probabilities, so its weights would be wrong; leave n or with_weight unset");
  }
  absl::StatusOr<SpecResult> out =
      req.has_bernoulli() ? RunBernoulli(req, t, threads) : RunKeyed(req, t);
  if (out.ok() && req.n() > 0 && out->rows.size() > static_cast<uint64_t>(req.n())) {
    out->rows.resize(static_cast<size_t>(req.n()));
  }
  return out;
}

absl::StatusOr<SpecResult> RunStratified(const v1::SampleRequest& req, const table::Table& t) {
  const v1::StratifiedSpec& s = req.stratified();
  google::protobuf::RepeatedPtrField<std::string> cols;
  *cols.Add() = s.stratum_column();
  absl::StatusOr<std::vector<uint64_t>> strata = KeyHashes(t, "stratified.stratum_column", cols);
  if (!strata.ok()) return strata.status();
  if (req.n() != 0) {
    return absl::InvalidArgumentError(
        "n: not used with stratified, which says its size itself (per_stratum or fraction); "
        "leave it unset");
  }
  if (s.per_stratum() < 0) {
    return absl::InvalidArgumentError("stratified.per_stratum: must be >= 0");
  }
  if (!(s.fraction() >= 0)) {
    return absl::InvalidArgumentError("stratified.fraction: must be in (0, 1]");
  }
  if ((s.per_stratum() > 0) == (s.fraction() > 0)) {
    return absl::InvalidArgumentError(
        "stratified: give exactly one of per_stratum (> 0) and fraction (in (0, 1])");
  }
  if (s.fraction() > 1) return absl::InvalidArgumentError("stratified.fraction: must be <= 1");
  const samplers::StratumAllocation a =
      s.per_stratum() > 0 ? samplers::StratumAllocation::Count(s.per_stratum())
                          : samplers::StratumAllocation::Fraction(s.fraction(), /*ceil=*/true);
  absl::StatusOr<samplers::Sample> out =
      samplers::SampleStratified(*strata, a, req.seed(), req.with_weight());
  if (!out.ok()) return Field("stratified", out.status());
  return FromSample(*std::move(out));
}

// A query, with its draws with replacement lazy: their weights and alias table come from the
// cache when it has them (the same query text on the same table), else they are built and kept.
absl::StatusOr<query::QueryResult> RunQueryRequest(const v1::SampleRequest& req,
                                                   const table::Table& t, int threads,
                                                   AliasCache* cache, const std::string& table_id,
                                                   bool may_build,
                                                   MemoryBudget::Reservation* build_memory) {
  absl::StatusOr<query::Query> parsed = query::ParseQuery(req.query());
  if (!parsed.ok()) return parsed.status();
  // A query that names another dataset would silently sample this one. A U-SQL rowset
  // variable (@name) names no dataset, so it stands for the one requested.
  if (parsed->source.has_value() && !req.dataset().empty() &&
      !absl::StartsWith(*parsed->source, "@") && *parsed->source != req.dataset()) {
    return query::QueryError(
        req.query(), parsed->source_span,
        absl::StrCat("FROM names '", *parsed->source, "', but the request samples dataset '",
                     req.dataset(), "'; name that one, or leave FROM out"));
  }
  absl::StatusOr<query::Plan> plan = query::PlanQuery(*parsed, t);
  if (!plan.ok()) return plan.status();
  if (plan->sampler != query::SamplerKind::kWeightedWithReplacement || cache == nullptr ||
      table_id.empty()) {
    if (!may_build) return NotCachedError();
    return query::RunQuery(*plan, t, req.seed(), threads, query::Draws::kLazy);
  }
  absl::StatusOr<std::shared_ptr<const AliasCache::Entry>> entry = cache->Get(
      QueryKey(table_id, req.query()),
      [&] { return query::EvaluateReplacementWeights(*plan, t, threads); }, may_build,
      ReserveBuild(t, build_memory));
  if (!entry.ok()) return entry.status();
  return query::DrawWithReplacement(*plan, static_cast<uint64_t>(t.num_rows()), *entry, req.seed(),
                                    query::Draws::kLazy);
}

int64_t EntryBytes(const AliasCache::Entry& e) {
  return static_cast<int64_t>(e.weights.capacity() * sizeof(double)) +
         (e.alias.has_value() ? e.alias->MemoryBytes() : 0);
}

}  // namespace

absl::StatusOr<std::shared_ptr<const AliasCache::Entry>> AliasCache::Get(
    const std::string& key, const std::function<absl::StatusOr<Entry>()>& build, bool may_build,
    const std::function<absl::Status()>& before_build) {
  std::shared_ptr<Build> pending;
  bool mine = false;
  {
    absl::MutexLock lock(&mu_);
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->first == key) {
        entries_.splice(entries_.begin(), entries_, it);
        return entries_.front().second;
      }
    }
    if (!may_build) return NotCachedError();
    std::shared_ptr<Build>& slot = building_[key];
    if (slot == nullptr) {
      slot = std::make_shared<Build>();
      mine = true;
    }
    pending = slot;
  }
  if (!mine) {
    // Another request builds this table: wait for it rather than build it again.
    pending->done.WaitForNotification();
    return pending->result;
  }
  // Built outside the lock, so that requests for other tables go on meanwhile.
  absl::Status admitted = before_build != nullptr ? before_build() : absl::OkStatus();
  absl::StatusOr<Entry> built = admitted.ok() ? build() : absl::StatusOr<Entry>(admitted);
  if (built.ok()) {
    pending->result = std::make_shared<const Entry>(*std::move(built));
  } else {
    pending->result = built.status();
  }
  std::vector<std::shared_ptr<const Entry>> gone;  // evicted; destroyed after the lock below
  {
    absl::MutexLock lock(&mu_);
    building_.erase(key);
    if (pending->result.ok()) {
      entries_.emplace_front(key, *pending->result);
      while (entries_.size() > capacity_) Drop(std::prev(entries_.end()), &gone);
    }
  }
  pending->done.Notify();
  return pending->result;
}

int64_t AliasCache::MemoryBytes() const {
  absl::MutexLock lock(&mu_);
  int64_t bytes = 0;
  for (const auto& [key, entry] : entries_) bytes += EntryBytes(*entry);
  return bytes + dropped_.Bytes();
}

AliasCache::Entries::iterator AliasCache::Drop(Entries::iterator it,
                                               std::vector<std::shared_ptr<const Entry>>* gone) {
  dropped_.Add(it->second, "", EntryBytes(*it->second));
  gone->push_back(std::move(it->second));
  return entries_.erase(it);
}

void AliasCache::Shed(int64_t need, MemoryBudget::Graveyard* freed) {
  absl::MutexLock lock(&mu_);
  // Only entries held by the cache alone give memory back when dropped.
  const auto alone = [](const auto& kv) { return kv.second.use_count() == 1; };
  int64_t available = 0;
  for (const auto& kv : entries_) available += alone(kv) ? EntryBytes(*kv.second) : 0;
  if (available < need) return;
  for (auto it = entries_.end(); need > 0 && it != entries_.begin();) {
    --it;
    if (!alone(*it)) continue;
    need -= EntryBytes(*it->second);
    freed->push_back(std::move(it->second));
    it = entries_.erase(it);
  }
}

void AliasCache::DropTable(const std::string& table_id) {
  std::vector<std::shared_ptr<const Entry>> gone;  // destroyed after the lock is released
  absl::MutexLock lock(&mu_);
  for (auto it = entries_.begin(); it != entries_.end();) {
    // Keys are "column:<id>/<column>" and "query:<id>/<text>"; ids hold no '/'.
    if (absl::StartsWith(it->first, ColumnKey(table_id, "")) ||
        absl::StartsWith(it->first, QueryKey(table_id, ""))) {
      it = Drop(it, &gone);
    } else {
      ++it;
    }
  }
}

bool AliasCache::Contains(const std::string& key) const {
  absl::MutexLock lock(&mu_);
  for (const auto& [k, entry] : entries_) {
    if (k == key) return true;
  }
  return false;
}

bool SmallEnoughAtOnce(const v1::SampleRequest& req, const table::Table& t) {
  int64_t per_row = 1;
  bool reads_cells = true;  // hashes or evaluates cells, whose bytes it then reads
  switch (req.spec_case()) {
    case v1::SampleRequest::kUniverse:
      per_row = std::max(1, req.universe().key_columns_size());
      break;
    case v1::SampleRequest::kDistinct:
      per_row = std::max(1, req.distinct().key_columns_size());
      break;
    case v1::SampleRequest::kQuery:
      per_row = 1 + static_cast<int64_t>(req.query().size()) / 64;
      break;
    case v1::SampleRequest::kStratified:
      break;
    default:
      reads_cells = false;
      break;
  }
  if (reads_cells && t.MemoryBytes() > kAtOnceBytes) return false;
  return t.num_rows() <= kAtOnceRows / per_row;
}

bool SpecRunsAtOnce(const v1::SampleRequest& req, const table::Table& t, const AliasCache* cache,
                    const std::string& table_id) {
  if (SmallEnoughAtOnce(req, t)) return true;
  switch (req.spec_case()) {
    case v1::SampleRequest::kUniform:
      return req.uniform().replace();
    case v1::SampleRequest::kWeighted:
      return req.weighted().replace() && cache != nullptr && !table_id.empty() &&
             cache->Contains(ColumnKey(table_id, req.weighted().weight_column()));
    case v1::SampleRequest::kQuery:
      // Only queries that draw with replacement are cached.
      return cache != nullptr && !table_id.empty() &&
             cache->Contains(QueryKey(table_id, req.query()));
    default:
      return false;
  }
}

absl::StatusOr<SpecResult> RunSampleSpec(const v1::SampleRequest& req, const table::Table& t,
                                         int threads, AliasCache* cache,
                                         const std::string& table_id, bool may_build,
                                         MemoryBudget::Reservation* build_memory) {
  if (req.n() < 0 || req.n() > kMaxSampleSize) {
    return absl::InvalidArgumentError(absl::StrCat("n: must be between 0 and ", kMaxSampleSize));
  }
  switch (req.spec_case()) {
    case v1::SampleRequest::kUniform:
    case v1::SampleRequest::kReservoir:
      return RunUniform(req, t, threads);
    case v1::SampleRequest::kWeighted:
      return RunWeighted(req, t, threads, cache, table_id, may_build, build_memory);
    case v1::SampleRequest::kBernoulli:
    case v1::SampleRequest::kUniverse:
    case v1::SampleRequest::kDistinct:
      return RunUnsized(req, t, threads);
    case v1::SampleRequest::kStratified:
      return RunStratified(req, t);
    case v1::SampleRequest::kQuery: {
      // A query says its size (LIMIT), order and weights (WITH WEIGHT AS) itself; a field that
      // would otherwise be ignored is refused.
      for (const auto& [set, field] :
           {std::pair{req.n() != 0, "n"}, std::pair{req.with_weight(), "with_weight"},
            std::pair{req.compat(), "compat"}, std::pair{req.inorder(), "inorder"}}) {
        if (set) {
          return absl::InvalidArgumentError(
              absl::StrCat(field,
                           ": not used with a query, which says it itself (LIMIT, WITH WEIGHT AS); "
                           "leave it unset"));
        }
      }
      absl::StatusOr<query::QueryResult> q =
          RunQueryRequest(req, t, threads, cache, table_id, may_build, build_memory);
      // Not cached, or its alias table does not fit in memory: not the query's fault.
      if (IsNotCached(q.status()) || absl::IsResourceExhausted(q.status())) return q.status();
      if (!q.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("query: ", query::FormatError(req.query(), q.status())));
      }
      if (q->lazy) {
        // Draws with replacement (REPLACE true; LIMIT up to 2^27): batch by batch, with
        // weights only when the query names them (WITH WEIGHT AS), as materialized results.
        SpecResult out;
        out.lazy_count = q->lazy_count;
        out.lazy = std::move(q->lazy);
        out.lazy_weights = q->weight_column.has_value();
        return out;
      }
      return Materialized(std::move(q->rows), std::move(q->weights));
    }
    case v1::SampleRequest::SPEC_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError(
      "spec: one of uniform, weighted, bernoulli, universe, distinct, reservoir, stratified or "
      "query is required");
}

}  // namespace urn::server
