// RunSampleSpec: a Sample request's spec, run by the core sampler it names over a dataset's
// table. The mapping is the one `urn sample` uses for the equivalent flags, with rows numbered
// as the file's data lines, so the server and the command line give the same rows for a seed:
//
//   uniform (no replacement), reservoir  Algorithm L reservoir (`-n N`); compat: exponential
//                                        keys with unit weights (`-n N --compat`)
//   uniform with replacement             UniformWithReplacement (`-r -n N`)
//   weighted                             exponential keys (`-n N -w F`); n = 0: weighted
//                                        shuffle (`-w F`); replace: alias table (`-r -n N -w F`)
//   bernoulli                            SampleBernoulli (`-p P`, `--compat`)
//   universe / distinct                  keys hashed from the key columns' text (`-k F -p P`)
//   stratified                           SampleStratified on the stratum column's text
//   query                                the query engine (`--query Q`)
//
// Errors are INVALID_ARGUMENT naming the request field. Thread safety: reentrant.
#ifndef URN_SERVER_SAMPLING_SPEC_SAMPLER_H_
#define URN_SERVER_SAMPLING_SPEC_SAMPLER_H_

#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "memory_budget.h"
#include "query/evaluator.h"
#include "retired.h"
#include "samplers/alias_table.h"
#include "table/table.h"
#include "urn/v1/sampling.pb.h"

namespace urn::server {

struct SpecResult {
  std::vector<uint64_t> rows;   // output order
  std::vector<double> weights;  // HT weights when asked (one per row), else empty
  // Draws with replacement (uniform, weighted, or a query's REPLACE true) are not materialized:
  // `lazy` writes the rows of draws [first, first + rows.size()) (and their weights when
  // `weights` is not null), so a stream of n draws needs memory for one batch, and its first
  // batch comes at once.
  uint64_t lazy_count = 0;
  std::function<void(uint64_t first, std::span<uint64_t> rows, double* weights)> lazy;
  // Whether batches of `lazy` carry weights: when the request asked for them (with_weight), or
  // for a query, when it names them (WITH WEIGHT AS), as for a materialized result.
  bool lazy_weights = false;

  uint64_t size() const { return lazy ? lazy_count : rows.size(); }
};

// The weights and alias tables of recent draws with replacement, by dataset and weight column
// or query text, so that repeated requests skip the O(rows) evaluation and build. Least recently
// used first out; thread-safe. Requests that miss while an entry is being built wait for that
// build (one build per entry, however many workers start at once); a failed build is not cached.
class AliasCache {
 public:
  // The weights (for HT weights), their total and the alias table; `passed` counts a query's
  // rows passing WHERE.
  using Entry = query::ReplacementWeights;
  explicit AliasCache(size_t capacity = 4) : capacity_(capacity) {}
  // The cached entry, or the one `build` makes (then cached). Errors are not cached. With
  // !may_build, NotCachedError() instead of building (or waiting for another's build). The
  // caller that builds runs `before_build` first (when given): an error from it is returned
  // instead (to those waiting for the build too), and nothing is built.
  absl::StatusOr<std::shared_ptr<const Entry>> Get(
      const std::string& key, const std::function<absl::StatusOr<Entry>()>& build,
      bool may_build = true, const std::function<absl::Status()>& before_build = nullptr);
  // Memory of the cached entries, and of entries dropped from the cache that draws still hold.
  int64_t MemoryBytes() const;
  // The memory budget's shed (MemoryBudget::SetShed): when the entries no draw holds come to
  // at least `need` bytes, drops the least recently used of them until `need` bytes are free,
  // moving them into *freed; otherwise drops nothing (it would not make room).
  void Shed(int64_t need, MemoryBudget::Graveyard* freed);
  // Drops the entries of table `table_id` (a deleted dataset's upload id).
  void DropTable(const std::string& table_id);
  // Memory building an entry for `rows` rows may take at its peak: the weights (8 bytes a row),
  // the alias table (16) and the build's scratch: masses (16) and the two work lists, which
  // grow by doubling and so may hold up to 24 while one is copied (reserving them up front
  // measured 1.3-1.5x slower builds at 10^6 rows, BM_AliasBuild).
  static int64_t BuildBytes(int64_t rows) {
    return rows * (static_cast<int64_t>(sizeof(double)) + samplers::AliasTable::kBytesPerRow + 40);
  }
  // Whether `key` is cached (not being built).
  bool Contains(const std::string& key) const;

 private:
  // A build in progress: its result is set before `done` is notified.
  struct Build {
    absl::Notification done;
    absl::StatusOr<std::shared_ptr<const Entry>> result;
  };

  const size_t capacity_;
  mutable absl::Mutex mu_;
  using Entries = std::list<std::pair<std::string, std::shared_ptr<const Entry>>>;
  Entries entries_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::shared_ptr<Build>> building_ ABSL_GUARDED_BY(mu_);
  Retired<const Entry> dropped_ ABSL_GUARDED_BY(mu_);

  // Moves entry `it` to dropped_ and its reference to *gone (to be released once mu_ is);
  // returns the entry after it.
  Entries::iterator Drop(Entries::iterator it, std::vector<std::shared_ptr<const Entry>>* gone)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
};

// Largest n a request may ask for.
inline constexpr int64_t kMaxSampleSize = int64_t{1} << 31;

// Requests that touch at most this many cells are sampled at once whatever the spec (well under
// a millisecond): see SmallEnoughAtOnce.
inline constexpr int64_t kAtOnceRows = int64_t{1} << 16;
// ... and, for the specs that read cells (query, universe, distinct, stratified), whose table
// holds at most this many bytes (a query's contains() or a key's hash reads every byte of a
// string cell, and one row may hold megabytes).
inline constexpr int64_t kAtOnceBytes = int64_t{4} << 20;

// Whether `request` on `table` is cheap to compute whatever it needs: at most kAtOnceRows cells,
// counting each row once per key column that a universe or distinct sample hashes, and once per
// 64 bytes of a query's text (an expression is evaluated on every row), and, where the spec
// reads cells, in a table of at most kAtOnceBytes. So a long key list or query over a small
// table, or a query over a few huge cells, is not computed on gRPC's threads either.
bool SmallEnoughAtOnce(const v1::SampleRequest& request, const table::Table& table);

// What RunSampleSpec returns with may_build = false when the request would need an O(rows)
// step (an alias table not in the cache, say): the caller then runs it where that may take long.
absl::Status NotCachedError();
bool IsNotCached(const absl::Status& status);

// Whether RunSampleSpec returns at once for this request: SmallEnoughAtOnce, uniform draws with
// replacement, or draws with replacement whose weights and alias table `cache` holds. Otherwise it
// may take O(rows) time (10^7 rows: milliseconds to a second), and urnd runs it off gRPC's threads
// (work_pool.h).
bool SpecRunsAtOnce(const v1::SampleRequest& request, const table::Table& table,
                    const AliasCache* cache, const std::string& table_id);

// `cache` (optional) keeps alias tables across requests (weighted draws with replacement, and
// queries' SAMPLE BY ... REPLACE true, by exact query text); `table_id` names the table in it and
// must change whenever the table's contents could (a dataset's upload id). With !may_build,
// NotCachedError() rather than building an alias table or running a weighted sample or a query
// that is not cached: SpecRunsAtOnce is only a check, and the cache may drop an entry between it
// and this call.
// `build_memory` (optional) reserves an alias table's peak memory (AliasCache::BuildBytes) before
// it is built; when it cannot, its error (RESOURCE_EXHAUSTED) is returned.
absl::StatusOr<SpecResult> RunSampleSpec(const v1::SampleRequest& request,
                                         const table::Table& table, int threads,
                                         AliasCache* cache = nullptr,
                                         const std::string& table_id = "", bool may_build = true,
                                         MemoryBudget::Reservation* build_memory = nullptr);

}  // namespace urn::server

#endif  // URN_SERVER_SAMPLING_SPEC_SAMPLER_H_
