#include "stats.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "remote_sample.h"

namespace urn::cli {
namespace {

// Counts of `by`'s values over the rows `request` streams; for a list column, of its labels.
absl::Status Count(const Client& client, v1::SampleRequest request, const std::string& by,
                   absl::flat_hash_map<std::string, int64_t>& counts) {
  request.clear_columns();
  request.add_columns(by);
  request.set_batch_size(65536);
  std::string value;
  return client.Sample(request, [&](const v1::SampleBatch& batch) {
    if (batch.columns_size() != 1) return true;
    const v1::ColumnValues& column = batch.columns(0);
    const std::vector<bool> null = NullMask(column, batch.row_ids_size());
    if (column.has_string_list_values()) {
      // A multi-label column (e.g. findings "Hernia|Edema"): each label of a row counts once.
      for (int i = 0; i < column.string_list_values().values_size(); ++i) {
        if (i < static_cast<int>(null.size()) && null[i]) {
          ++counts["(null)"];
          continue;
        }
        for (const std::string& label : column.string_list_values().values(i).values()) {
          ++counts[label];
        }
      }
      return true;
    }
    for (int i = 0; i < batch.row_ids_size(); ++i) {
      if (null[i]) {
        ++counts["(null)"];
        continue;
      }
      value.clear();
      AppendColumnValue(column, i, &value);
      ++counts[value.empty() ? "(empty)" : value];  // an empty string is a value, not a null
    }
    return true;
  });
}

std::string Bar(int64_t count, int64_t max, int width) {
  const int n = max > 0 ? static_cast<int>((count * width + max - 1) / max) : 0;
  std::string bar;
  for (int i = 0; i < n; ++i) bar += "\u2588";  // full block
  return absl::StrCat(bar, std::string(static_cast<size_t>(width - n), ' '));
}

}  // namespace

std::string RenderStats(const std::string& column, const std::vector<ClassCount>& counts,
                        bool with_after, int width, size_t max_classes) {
  std::vector<ClassCount> sorted = counts;
  std::sort(sorted.begin(), sorted.end(), [](const ClassCount& a, const ClassCount& b) {
    return a.before != b.before ? a.before > b.before : a.value < b.value;
  });
  int64_t max_before = 0, max_after = 0, total_before = 0, total_after = 0;
  size_t label = column.size();
  for (size_t i = 0; i < sorted.size(); ++i) {
    max_before = std::max(max_before, sorted[i].before);
    max_after = std::max(max_after, sorted[i].after);
    total_before += sorted[i].before;
    total_after += sorted[i].after;
    if (i < max_classes) label = std::max(label, std::min<size_t>(sorted[i].value.size(), 32));
  }
  std::string out;
  if (with_after) {
    absl::StrAppendFormat(&out, "%-*s  %-*s %10s   %-*s %10s\n", label, column, width, "before",
                          "rows", width, "after the query", "rows");
  } else {
    absl::StrAppendFormat(&out, "%-*s  %-*s %10s\n", label, column, width, "", "rows");
  }
  for (size_t i = 0; i < sorted.size() && i < max_classes; ++i) {
    const ClassCount& c = sorted[i];
    const std::string name = c.value.size() > 32 ? c.value.substr(0, 31) + "~" : c.value;
    absl::StrAppendFormat(&out, "%-*s  %s %10d", label, name, Bar(c.before, max_before, width),
                          c.before);
    if (with_after) {
      absl::StrAppendFormat(&out, "   %s %10d", Bar(c.after, max_after, width), c.after);
    }
    out += "\n";
  }
  if (sorted.size() > max_classes) {
    absl::StrAppendFormat(&out, "(%d more classes)\n", sorted.size() - max_classes);
  }
  absl::StrAppendFormat(&out, "%-*s  %*s %10d", label, "total", width, "", total_before);
  if (with_after) absl::StrAppendFormat(&out, "   %*s %10d", width, "", total_after);
  out += "\n";
  return out;
}

absl::Status RunStats(const Client& client, const std::string& dataset, const std::string& by,
                      const std::string& query, std::string* chart) {
  absl::StatusOr<v1::Dataset> d = GetDatasetOfFlag(client, dataset);
  if (!d.ok()) return d.status();
  bool found = false;
  for (const v1::Column& c : d->columns()) found = found || c.name() == by;
  if (!found) {
    return absl::InvalidArgumentError(
        absl::StrCat("--by: dataset '", dataset, "' has no column '", by, "'"));
  }
  absl::flat_hash_map<std::string, int64_t> before, after;
  if (d->num_rows() > 0) {
    // Every row, in input order: a uniform sample of all rows.
    v1::SampleRequest all;
    all.set_dataset(dataset);
    all.mutable_uniform();
    all.set_n(d->num_rows());
    all.set_inorder(true);
    if (absl::Status s = Count(client, all, by, before); !s.ok()) return s;
  }
  if (!query.empty()) {
    v1::SampleRequest q;
    q.set_dataset(dataset);
    q.set_query(query);
    if (absl::Status s = Count(client, q, by, after); !s.ok()) return s;
  }
  std::vector<ClassCount> counts;
  for (const auto& [value, n] : before) {
    auto it = after.find(value);
    counts.push_back({value, n, it == after.end() ? 0 : it->second});
  }
  *chart = RenderStats(by, counts, !query.empty());
  return absl::OkStatus();
}

}  // namespace urn::cli
