#include "remote_sample.h"

#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "exit_codes.h"
#include "field_names.h"
#include "query/parser.h"
#include "table/cell_text.h"
#include "table/field_list.h"

namespace urn::cli {
namespace {

absl::StatusOr<std::vector<std::string>> ColumnNames(const std::string& flag,
                                                     const std::string& spec,
                                                     const v1::Dataset& d) {
  std::vector<std::string_view> names;
  for (const v1::Column& c : d.columns()) names.push_back(c.name());
  absl::StatusOr<table::FieldList> f = table::ParseFieldList(spec, &names);
  if (!f.ok())
    return absl::InvalidArgumentError(absl::StrCat(flag, ": ", std::string(f.status().message())));
  if (f->whole_line) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, ": 0 (the whole line) has no server form; name the columns"));
  }
  std::vector<std::string> out;
  for (int i : f->indices) {
    if (i >= d.columns_size()) {
      return absl::InvalidArgumentError(absl::StrCat(flag, ": dataset '", d.name(), "' has ",
                                                     d.columns_size(), " columns, not ", i + 1));
    }
    out.push_back(d.columns(i).name());
  }
  return out;
}

}  // namespace

std::vector<bool> NullMask(const v1::ColumnValues& c, int rows) {
  std::vector<bool> null(static_cast<size_t>(rows), false);
  for (int n : c.null_rows()) {
    if (n >= 0 && n < rows) null[static_cast<size_t>(n)] = true;
  }
  return null;
}

void AppendColumnValue(const v1::ColumnValues& c, int i, std::string* out) {
  switch (c.values_case()) {
    case v1::ColumnValues::kInt64Values:
      absl::StrAppend(out, c.int64_values().values(i));
      break;
    case v1::ColumnValues::kDoubleValues:
      table::AppendDouble(c.double_values().values(i), out);
      break;
    case v1::ColumnValues::kBoolValues:
      out->append(c.bool_values().values(i) ? "true" : "false");
      break;
    case v1::ColumnValues::kStringValues:
      out->append(c.string_values().values(i));
      break;
    case v1::ColumnValues::kStringListValues: {
      const v1::StringList& l = c.string_list_values().values(i);
      for (int e = 0; e < l.values_size(); ++e) {
        if (e > 0) out->push_back('|');
        out->append(l.values(e));
      }
      break;
    }
    case v1::ColumnValues::VALUES_NOT_SET:
      break;
  }
}

absl::StatusOr<v1::SampleRequest> BuildSampleRequest(const SampleOptions& o, const v1::Dataset& d) {
  if (o.print_random || o.gen_random_inorder) {
    return UsageError(
        absl::InvalidArgumentError("--print-random and --gen-random-inorder are local only"));
  }
  if ((o.mode == SampleMode::kReplace || o.mode == SampleMode::kWeightedReplace) && o.num == 0) {
    return UsageError(absl::InvalidArgumentError("-r/--replace on a dataset needs -n/--num N"));
  }
  v1::SampleRequest r;
  r.set_dataset(d.name());
  r.set_seed(o.seed);
  r.set_compat(o.compat);
  r.set_with_weight(!o.with_weight.empty());
  r.set_inorder(o.inorder);
  r.set_n(static_cast<int64_t>(o.num));
  for (const v1::Column& c : d.columns()) r.add_columns(c.name());
  absl::StatusOr<std::vector<std::string>> weight, keys;
  if (!o.weight_field.empty()) {
    weight = ColumnNames("-w/--weight-field", o.weight_field, d);
    if (!weight.ok()) return weight.status();
  }
  if (!o.key_fields.empty()) {
    keys = ColumnNames("-k/--key-fields", o.key_fields, d);
    if (!keys.ok()) return keys.status();
  }
  switch (o.mode) {
    case SampleMode::kShuffle:
      return UsageError(absl::InvalidArgumentError(
          "a plain shuffle of a dataset is `urn shuffle --dataset NAME` (row ids); give -n, -p, "
          "-w, -k, -r or --query to sample rows"));
    case SampleMode::kSimple:
      r.mutable_uniform();
      break;
    case SampleMode::kReplace:
      r.mutable_uniform()->set_replace(true);
      break;
    case SampleMode::kWeighted:
    case SampleMode::kWeightedShuffle:
    case SampleMode::kWeightedReplace:
      r.mutable_weighted()->set_weight_column((*weight)[0]);
      r.mutable_weighted()->set_replace(o.mode == SampleMode::kWeightedReplace);
      break;
    case SampleMode::kBernoulli:
      r.mutable_bernoulli()->set_p(o.prob);
      break;
    case SampleMode::kUniverse:
      for (const std::string& k : *keys) r.mutable_universe()->add_key_columns(k);
      r.mutable_universe()->set_p(o.prob);
      break;
    case SampleMode::kDistinct:
      for (const std::string& k : *keys) r.mutable_distinct()->add_key_columns(k);
      r.mutable_distinct()->set_p(o.prob);
      r.mutable_distinct()->set_min_rows(static_cast<int64_t>(o.min_per_key));
      break;
    case SampleMode::kQuery:
      r.set_query(o.query);
      break;
  }
  return r;
}

absl::StatusOr<v1::Dataset> GetDatasetOfFlag(const Client& client, const std::string& name) {
  absl::StatusOr<v1::Dataset> dataset = client.GetDataset(name);
  if (dataset.ok()) return dataset;
  return RenameField(dataset.status(), "name", "--dataset");
}

absl::Status RunRemoteSample(const SampleOptions& o, const Client& client, Output& out) {
  absl::StatusOr<v1::Dataset> dataset = GetDatasetOfFlag(client, o.dataset);
  if (!dataset.ok()) return dataset.status();
  absl::StatusOr<v1::SampleRequest> request = BuildSampleRequest(o, *dataset);
  if (!request.ok()) return request.status();
  // A query's WITH WEIGHT AS name heads the weights the server sends, as `urn sample --query`
  // prints them for a local file. (The server reports a query's syntax errors itself.)
  std::string weight_name = o.with_weight;
  if (!o.query.empty()) {
    absl::StatusOr<query::Query> q = query::ParseQuery(o.query);
    if (q.ok() && q->weight_column) weight_name = *q->weight_column;
  }
  // The header goes out with the first batch, or at the end of an empty sample: a call the
  // server refuses prints nothing on stdout.
  std::string header;
  if (o.header) {
    for (int c = 0; c < dataset->columns_size(); ++c) {
      if (c > 0) header.push_back('\t');
      header.append(dataset->columns(c).name());
    }
    if (!weight_name.empty()) {
      header.push_back('\t');
      header.append(weight_name);
    }
    header.push_back('\n');
  }
  bool header_written = !o.header;
  const auto write_header = [&] {
    if (!header_written) out.Write(header);
    header_written = true;
  };
  std::string line;
  uint64_t written = 0;
  const bool limit = o.mode == SampleMode::kBernoulli || o.mode == SampleMode::kUniverse ||
                     o.mode == SampleMode::kDistinct;
  bool enough = false;  // -n rows of a sample without a size were written: stopped on purpose
  std::vector<std::vector<bool>> nulls;
  absl::Status s = client.Sample(*request, [&](const v1::SampleBatch& batch) {
    write_header();
    nulls.resize(static_cast<size_t>(batch.columns_size()));
    for (int c = 0; c < batch.columns_size(); ++c) {
      nulls[c] = NullMask(batch.columns(c), batch.row_ids_size());
    }
    for (int i = 0; i < batch.row_ids_size(); ++i) {
      if (limit && o.num > 0 && written >= o.num) {
        enough = true;
        return false;
      }
      line.clear();
      for (int c = 0; c < batch.columns_size(); ++c) {
        if (c > 0) line.push_back('\t');
        if (!nulls[c][i]) AppendColumnValue(batch.columns(c), i, &line);
      }
      if (!weight_name.empty() && i < batch.weights_size()) {
        line.push_back('\t');
        table::AppendDouble(batch.weights(i), &line);
      }
      line.push_back('\n');
      out.Write(line);
      ++written;
    }
    return !out.failed();  // output that cannot be written: stop the download (and its charge)
  });
  if (enough) s = absl::OkStatus();
  if (out.failed()) return out.Flush();  // why the stream was cancelled
  if (s.ok()) write_header();
  return s;
}

}  // namespace urn::cli
