#include "metrics/registry.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <type_traits>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"

namespace urn::server::metrics {
namespace {

// A broken REQUIRES of this file is a programming error in the metric definitions.
[[noreturn]] void Fail(const std::string& message) {
  spdlog::critical("metrics: {}", message);
  std::abort();
}

bool ValidName(std::string_view name, bool colons) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  return std::all_of(name.begin(), name.end(), [&](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           (colons && c == ':');
  });
}

void CheckNames(const std::string& name, const std::vector<std::string>& label_names) {
  if (!ValidName(name, /*colons=*/true)) Fail(absl::StrCat("invalid metric name '", name, "'"));
  for (const std::string& label : label_names) {
    if (!ValidName(label, /*colons=*/false) || label == "le") {
      Fail(absl::StrCat(name, ": invalid label name '", label, "'"));
    }
  }
}

// Shortest text that reads back as the same double; +Inf, -Inf and NaN as Prometheus spells
// them.
void AppendNumber(double v, std::string& out) {
  if (std::isnan(v)) {
    out.append("NaN");
    return;
  }
  if (std::isinf(v)) {
    out.append(v > 0 ? "+Inf" : "-Inf");
    return;
  }
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::general);
  out.append(buf, ec == std::errc() ? end : buf);
}

// HELP text escapes backslash and newline only.
void AppendHelp(std::string_view help, std::string& out) {
  for (char c : help) {
    if (c == '\\') {
      out.append("\\\\");
    } else if (c == '\n') {
      out.append("\\n");
    } else {
      out.push_back(c);
    }
  }
}

// A gauge read at render time; one series with constant labels.
class Gauge final : public internal::FamilyBase {
 public:
  Gauge(std::string name, std::string help, std::vector<std::string> label_names,
        std::vector<std::string> label_values, std::function<double()> read)
      : FamilyBase(std::move(name), std::move(help), std::move(label_names)),
        label_values_(std::move(label_values)),
        read_(std::move(read)) {}

  void Render(std::string& out) const override {
    RenderHeader("gauge", out);
    RenderSeriesName("", label_values_, "", "", out);
    out.push_back(' ');
    AppendNumber(read_(), out);
    out.push_back('\n');
  }

 private:
  const std::vector<std::string> label_values_;
  const std::function<double()> read_;
};

}  // namespace

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out.append("\\\\");
    } else if (c == '"') {
      out.append("\\\"");
    } else if (c == '\n') {
      out.append("\\n");
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Histogram::Histogram(const Options& options)
    : bounds_(options.bounds),
      buckets_(std::make_unique<std::atomic<uint64_t>[]>(options.bounds.size() + 1)) {}

void Histogram::Observe(double value) {
  // The first bound >= value: buckets are "less than or equal" (le).
  const size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::Read() const {
  Snapshot s;
  s.cumulative.resize(bounds_.size() + 1);
  uint64_t total = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    total += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative[i] = total;
  }
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

namespace internal {

void FamilyBase::RenderHeader(std::string_view type, std::string& out) const {
  absl::StrAppend(&out, "# HELP ", name_, " ");
  AppendHelp(help_, out);
  absl::StrAppend(&out, "\n# TYPE ", name_, " ", std::string(type), "\n");
}

void FamilyBase::RenderSeriesName(std::string_view suffix, const std::vector<std::string>& values,
                                  std::string_view extra_label, std::string_view extra_value,
                                  std::string& out) const {
  out.append(name_);
  out.append(suffix);
  if (label_names_.empty() && extra_label.empty()) return;
  out.push_back('{');
  for (size_t i = 0; i < label_names_.size(); ++i) {
    if (i > 0) out.push_back(',');
    absl::StrAppend(&out, label_names_[i], "=\"", EscapeLabelValue(values[i]), "\"");
  }
  if (!extra_label.empty()) {
    if (!label_names_.empty()) out.push_back(',');
    out.append(extra_label);
    out.append("=\"");
    out.append(EscapeLabelValue(extra_value));
    out.push_back('"');
  }
  out.push_back('}');
}

}  // namespace internal

template <typename Series>
Family<Series>::Family(std::string name, std::string help, std::vector<std::string> label_names,
                       typename Series::Options options)
    : FamilyBase(std::move(name), std::move(help), std::move(label_names)),
      options_(std::move(options)),
      slots_(std::make_unique<std::atomic<Entry*>[]>(kSlots)) {}

template <typename Series>
Family<Series>::~Family() = default;

template <typename Series>
typename Family<Series>::Entry* Family<Series>::Find(
    uint64_t hash, absl::Span<const std::string_view> values) const {
  for (size_t i = hash;; ++i) {
    Entry* e = slots_[i & (kSlots - 1)].load(std::memory_order_acquire);
    if (e == nullptr) return nullptr;
    if (e->hash == hash && std::equal(e->values.begin(), e->values.end(), values.begin())) {
      return e;
    }
  }
}

template <typename Series>
Series& Family<Series>::With(absl::Span<const std::string_view> label_values) {
  if (label_values.size() != label_names_.size()) {
    Fail(absl::StrCat(name_, ": ", label_values.size(), " label values for ", label_names_.size(),
                      " labels"));
  }
  const uint64_t hash = absl::Hash<absl::Span<const std::string_view>>()(label_values);
  if (Entry* e = Find(hash, label_values)) return e->series;
  return Insert(hash, label_values);
}

template <typename Series>
Series& Family<Series>::Insert(uint64_t hash, absl::Span<const std::string_view> values) {
  absl::MutexLock lock(&mu_);
  if (Entry* e = Find(hash, values)) return e->series;  // another thread was first
  if (entries_.size() >= kMaxSeries) {
    if (overflow_ == nullptr) {
      spdlog::warn("metrics: {} has {} label sets; more are counted as \"overflow\"", name_,
                   kMaxSeries);
      overflow_ = std::make_unique<Entry>(
          0, std::vector<std::string>(label_names_.size(), "overflow"), options_);
    }
    return overflow_->series;
  }
  entries_.push_back(std::make_unique<Entry>(
      hash, std::vector<std::string>(values.begin(), values.end()), options_));
  Entry* entry = entries_.back().get();
  size_t i = hash;
  while (slots_[i & (kSlots - 1)].load(std::memory_order_relaxed) != nullptr) ++i;
  slots_[i & (kSlots - 1)].store(entry, std::memory_order_release);
  return entry->series;
}

template <typename Series>
void Family<Series>::Render(std::string& out) const {
  std::vector<const Entry*> sorted;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& e : entries_) sorted.push_back(e.get());
    if (overflow_ != nullptr) sorted.push_back(overflow_.get());
  }
  std::sort(sorted.begin(), sorted.end(),
            [](const Entry* a, const Entry* b) { return a->values < b->values; });
  if constexpr (std::is_same_v<Series, Counter>) {
    RenderHeader("counter", out);
    for (const Entry* e : sorted) {
      RenderSeriesName("", e->values, "", "", out);
      absl::StrAppend(&out, " ", e->series.value(), "\n");
    }
  } else {
    RenderHeader("histogram", out);
    std::string le;
    for (const Entry* e : sorted) {
      const Histogram::Snapshot s = e->series.Read();
      for (size_t i = 0; i < s.cumulative.size(); ++i) {
        le.clear();
        AppendNumber(i < options_.bounds.size() ? options_.bounds[i] : INFINITY, le);
        RenderSeriesName("_bucket", e->values, "le", le, out);
        absl::StrAppend(&out, " ", s.cumulative[i], "\n");
      }
      RenderSeriesName("_sum", e->values, "", "", out);
      out.push_back(' ');
      AppendNumber(s.sum, out);
      out.push_back('\n');
      RenderSeriesName("_count", e->values, "", "", out);
      absl::StrAppend(&out, " ", s.cumulative.back(), "\n");
    }
  }
}

template class Family<Counter>;
template class Family<Histogram>;

template <typename F>
F& Registry::Add(std::unique_ptr<F> family) {
  F& ref = *family;
  absl::MutexLock lock(&mu_);
  for (const auto& f : families_) {
    if (f->name() == family->name()) Fail(absl::StrCat("metric ", f->name(), " added twice"));
  }
  families_.push_back(std::move(family));
  return ref;
}

CounterFamily& Registry::AddCounter(std::string name, std::string help,
                                    std::vector<std::string> label_names) {
  CheckNames(name, label_names);
  return Add(std::make_unique<CounterFamily>(std::move(name), std::move(help),
                                             std::move(label_names), Counter::Options{}));
}

HistogramFamily& Registry::AddHistogram(std::string name, std::string help,
                                        std::vector<std::string> label_names,
                                        std::vector<double> bounds) {
  CheckNames(name, label_names);
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i]) || (i > 0 && !(bounds[i - 1] < bounds[i]))) {
      Fail(absl::StrCat(name, ": bounds must be finite and strictly increasing"));
    }
  }
  return Add(std::make_unique<HistogramFamily>(std::move(name), std::move(help),
                                               std::move(label_names),
                                               Histogram::Options{std::move(bounds)}));
}

void Registry::AddGauge(std::string name, std::string help,
                        std::vector<std::pair<std::string, std::string>> labels,
                        std::function<double()> read) {
  std::vector<std::string> names, values;
  for (auto& [label, value] : labels) {
    names.push_back(std::move(label));
    values.push_back(std::move(value));
  }
  CheckNames(name, names);
  Add(std::make_unique<Gauge>(std::move(name), std::move(help), std::move(names), std::move(values),
                              std::move(read)));
}

std::string Registry::Render() const {
  std::vector<const internal::FamilyBase*> families;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& f : families_) families.push_back(f.get());
  }
  std::string out;
  for (const internal::FamilyBase* f : families) f->Render(out);
  return out;
}

}  // namespace urn::server::metrics
