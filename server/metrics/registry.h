// Registry: counters, histograms and gauges with labels, rendered in the Prometheus text
// exposition format 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/).
// The metrics urnd exports are all defined in metrics/metrics.h; this file is the mechanism.
//
// Recording is lock-free: a family (one metric name) holds its label sets ("series") in a
// fixed open-addressed table of atomic pointers. With() finds an existing series with a hash
// and acquire loads only; the family's mutex is taken once per series, when it is created.
// Counter::Increment is one relaxed atomic add, Histogram::Observe two (a bucket and the sum);
// bench/metrics_bench.cc measures both. Callers may keep the reference With() returns: a
// series lives as long as its registry and is never removed.
//
// Cardinality is bounded: a family holds at most kMaxSeries label sets. Once full, new label
// sets are recorded in one series whose every label value is "overflow" (and a warning is
// logged once), so a caller that labels by something unbounded cannot grow memory without end.
// Label by bounded things only (plan, method, status code), never by user or key.
//
// Rendering (Render) walks families in registration order and series in label order, so the
// output is deterministic. A scrape concurrent with recording sees each value at some moment
// during the scrape; a histogram's _count is the sum of its buckets, so it always equals the
// +Inf bucket.
//
// Thread safety: everything may be called concurrently, also Add* after recording started.
#ifndef URN_SERVER_METRICS_REGISTRY_H_
#define URN_SERVER_METRICS_REGISTRY_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"

namespace urn::server::metrics {

// A monotonically increasing count (one series of a counter family).
class Counter {
 public:
  struct Options {};
  explicit Counter(const Options&) {}

  void Increment(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  // A cache line of its own: series recorded by different threads do not share one.
  alignas(64) std::atomic<uint64_t> value_{0};
};

// Counts of observations at or below each upper bound, plus their sum (one series of a
// histogram family).
class Histogram {
 public:
  struct Options {
    std::vector<double> bounds;  // strictly increasing, finite; +Inf is implicit
  };
  explicit Histogram(const Options& options);

  // O(log bounds): a binary search, one atomic add to the bucket and one to the sum.
  void Observe(double value);

  struct Snapshot {
    std::vector<uint64_t> cumulative;  // per bound, then +Inf
    double sum = 0;
  };
  Snapshot Read() const;

 private:
  const std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // not cumulative; last is +Inf
  alignas(64) std::atomic<double> sum_{0};
};

namespace internal {

// The parts of a family that do not depend on its kind of series.
class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, std::vector<std::string> label_names)
      : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {}
  virtual ~FamilyBase() = default;
  FamilyBase(const FamilyBase&) = delete;
  FamilyBase& operator=(const FamilyBase&) = delete;

  // Appends the HELP and TYPE lines and every series.
  virtual void Render(std::string& out) const = 0;

  const std::string& name() const { return name_; }

 protected:
  void RenderHeader(std::string_view type, std::string& out) const;
  // `name{label="value",...,extra_label="extra_value"}` (no braces without any label).
  void RenderSeriesName(std::string_view suffix, const std::vector<std::string>& values,
                        std::string_view extra_label, std::string_view extra_value,
                        std::string& out) const;

  const std::string name_;
  const std::string help_;
  const std::vector<std::string> label_names_;
};

}  // namespace internal

// All series of one metric name, by label values.
template <typename Series>
class Family final : public internal::FamilyBase {
 public:
  static constexpr size_t kMaxSeries = 1024;

  Family(std::string name, std::string help, std::vector<std::string> label_names,
         typename Series::Options options);
  ~Family() override;

  // The series of `label_values` (one per label name, in order), created on first use.
  // REQUIRES: label_values.size() == the number of label names.
  Series& With(absl::Span<const std::string_view> label_values);

  void Render(std::string& out) const override;

 private:
  static constexpr size_t kSlots = 2 * kMaxSeries;  // a power of two, at most half full
  struct Entry {
    Entry(uint64_t h, std::vector<std::string> v, const typename Series::Options& o)
        : hash(h), values(std::move(v)), series(o) {}
    const uint64_t hash;
    const std::vector<std::string> values;
    Series series;
  };
  // The entry of `values` in the table, or null (stops at the first empty slot).
  Entry* Find(uint64_t hash, absl::Span<const std::string_view> values) const;
  Series& Insert(uint64_t hash, absl::Span<const std::string_view> values);

  const typename Series::Options options_;
  std::unique_ptr<std::atomic<Entry*>[]> slots_;  // kSlots; written under mu_, read lock-free
  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<Entry>> entries_ ABSL_GUARDED_BY(mu_);  // owns the entries
  std::unique_ptr<Entry> overflow_ ABSL_GUARDED_BY(mu_);
};

using CounterFamily = Family<Counter>;
using HistogramFamily = Family<Histogram>;

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Adds a family. Names must match [a-zA-Z_:][a-zA-Z0-9_:]* and be unique (by convention
  // counters end in _total, and every urnd metric starts with urn_); label names must match
  // [a-zA-Z_][a-zA-Z0-9_]*. The family lives as long as the registry.
  CounterFamily& AddCounter(std::string name, std::string help,
                            std::vector<std::string> label_names);
  // REQUIRES: `bounds` strictly increasing and finite.
  HistogramFamily& AddHistogram(std::string name, std::string help,
                                std::vector<std::string> label_names, std::vector<double> bounds);
  // A gauge whose one series (with constant labels, possibly none) is `read()` at each render.
  // `read` is called without any registry lock held and may be called concurrently.
  void AddGauge(std::string name, std::string help,
                std::vector<std::pair<std::string, std::string>> labels,
                std::function<double()> read);

  // The text exposition format, version 0.0.4.
  std::string Render() const;

 private:
  template <typename F>
  F& Add(std::unique_ptr<F> family);

  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<internal::FamilyBase>> families_ ABSL_GUARDED_BY(mu_);
};

// Escapes a label value for the text format: backslash, double quote and newline.
std::string EscapeLabelValue(std::string_view value);

}  // namespace urn::server::metrics

#endif  // URN_SERVER_METRICS_REGISTRY_H_
