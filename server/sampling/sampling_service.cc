#include "sampling/sampling_service.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "call_auth.h"
#include "samplers/permutation.h"
#include "sampling/spec_sampler.h"

namespace urn::server {
namespace {

// A stream that fails before its first batch.
template <typename Batch>
class FailedStream final : public grpc::ServerWriteReactor<Batch> {
 public:
  explicit FailedStream(const absl::Status& s) { this->Finish(ToGrpc(s)); }
  void OnDone() override { delete this; }
};

absl::StatusOr<int> BatchSize(int32_t requested) {
  if (requested < 0 || requested > SamplingService::kMaxBatch) {
    return absl::InvalidArgumentError(
        absl::StrCat("batch_size: must be between 1 and ", SamplingService::kMaxBatch));
  }
  return requested == 0 ? SamplingService::kDefaultBatch : requested;
}

void FillColumn(const table::Table& t, int col, const uint64_t* rows, size_t n,
                v1::ColumnValues* out) {
  const table::Column& c = t.column(col);
  out->set_name(c.name());
  for (size_t i = 0; i < n; ++i) {
    if (c.IsNull(static_cast<int64_t>(rows[i]))) out->add_null_rows(static_cast<int32_t>(i));
  }
  switch (c.type()) {
    case table::Type::kInt64:
      for (size_t i = 0; i < n; ++i)
        out->mutable_int64_values()->add_values(c.Int64Data()[rows[i]]);
      break;
    case table::Type::kDouble:
      for (size_t i = 0; i < n; ++i) {
        out->mutable_double_values()->add_values(c.DoubleData()[rows[i]]);
      }
      break;
    case table::Type::kBool:
      for (size_t i = 0; i < n; ++i) out->mutable_bool_values()->add_values(c.BoolData()[rows[i]]);
      break;
    case table::Type::kStringList:
      for (size_t i = 0; i < n; ++i) {
        v1::StringList* l = out->mutable_string_list_values()->add_values();
        for (int64_t e = 0; e < c.ListSize(rows[i]); ++e) {
          const std::string_view v = c.ListElement(rows[i], e);
          l->add_values(v.data(), v.size());
        }
      }
      break;
    case table::Type::kString:
    case table::Type::kNull:
      for (size_t i = 0; i < n; ++i) {
        const std::string_view v = c.StringAt(rows[i]);
        out->mutable_string_values()->add_values(v.data(), v.size());
      }
      break;
  }
}

// A server stream that writes one batch at a time: Next() writes the next batch or finishes,
// and runs again only when gRPC has taken the previous one (backpressure).
// Every batch is charged to the caller's daily rows before it is sent: when fewer rows are
// left than the batch holds, the batch is cut to them, and the next one ends the stream with
// RESOURCE_EXHAUSTED. The stream holds one of the plan's concurrent streams while it runs.
template <typename Batch>
class BatchStream : public grpc::ServerWriteReactor<Batch> {
 public:
  BatchStream(auth::Admission* admission, auth::Principal who, auth::Admission::StreamToken token)
      : admission_(admission), who_(std::move(who)), token_(std::move(token)) {}

  void OnWriteDone(bool ok) override {
    if (!ok) return this->Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the client went away"));
    Next();
  }
  void OnDone() override { delete this; }

 protected:
  virtual void Next() = 0;
  // The rows of the next batch the caller may still receive today (0 < result <= want), or
  // nothing after finishing the stream with the quota error.
  std::optional<uint64_t> Charge(uint64_t want) {
    absl::StatusOr<int64_t> grant = admission_->Charge(who_, static_cast<int64_t>(want));
    if (!grant.ok()) {
      this->Finish(ToGrpc(grant.status()));
      return std::nullopt;
    }
    return static_cast<uint64_t>(*grant);
  }

 private:
  auth::Admission* const admission_;
  const auth::Principal who_;
  const auth::Admission::StreamToken token_;
};

class SampleStream final : public BatchStream<v1::SampleBatch> {
 public:
  SampleStream(auth::Admission* admission, auth::Principal who, auth::Admission::StreamToken token,
               std::shared_ptr<const DatasetEntry> entry, SpecResult result,
               std::vector<int> columns, int batch, bool with_weight, uint64_t start_offset)
      : BatchStream(admission, std::move(who), std::move(token)),
        entry_(std::move(entry)),
        result_(std::move(result)),
        columns_(std::move(columns)),
        batch_size_(batch),
        with_weight_(with_weight),
        offset_(start_offset) {
    if (result_.lazy) {
      lazy_rows_.resize(batch_size_);
      if (with_weight_) lazy_weights_.resize(batch_size_);
    }
    Next();
  }

 private:
  void Next() override {
    if (offset_ >= result_.size()) return Finish(grpc::Status::OK);
    const std::optional<uint64_t> granted =
        Charge(std::min<uint64_t>(batch_size_, result_.size() - offset_));
    if (!granted) return;
    const size_t n = *granted;
    batch_.Clear();
    batch_.set_offset(static_cast<int64_t>(offset_));
    batch_.set_total(static_cast<int64_t>(result_.size()));
    const uint64_t* rows = nullptr;
    const double* weights = nullptr;
    if (result_.lazy) {
      result_.lazy(offset_, std::span<uint64_t>(lazy_rows_.data(), n),
                   with_weight_ ? lazy_weights_.data() : nullptr);
      rows = lazy_rows_.data();
      if (with_weight_) weights = lazy_weights_.data();
    } else {
      rows = result_.rows.data() + offset_;
      if (!result_.weights.empty()) weights = result_.weights.data() + offset_;
    }
    // Row ids are written into the repeated field's storage directly.
    auto* ids = batch_.mutable_row_ids();
    ids->Resize(static_cast<int>(n), 0);
    std::copy(rows, rows + n, ids->mutable_data());
    if (weights != nullptr) batch_.mutable_weights()->Add(weights, weights + n);
    for (int c : columns_) FillColumn(*entry_->table, c, rows, n, batch_.add_columns());
    offset_ += n;
    StartWrite(&batch_);
  }

  const std::shared_ptr<const DatasetEntry> entry_;
  const SpecResult result_;
  const std::vector<int> columns_;
  const size_t batch_size_;
  const bool with_weight_;
  uint64_t offset_;
  std::vector<uint64_t> lazy_rows_;
  std::vector<double> lazy_weights_;
  v1::SampleBatch batch_;
};

class ShuffleStream final : public BatchStream<v1::ShuffleBatch> {
 public:
  ShuffleStream(auth::Admission* admission, auth::Principal who, auth::Admission::StreamToken token,
                std::unique_ptr<samplers::KeyedPermutation> permutation,
                samplers::PermutationShard shard, uint64_t offset, int batch)
      : BatchStream(admission, std::move(who), std::move(token)),
        permutation_(std::move(permutation)),
        shard_(shard),
        offset_(offset),
        batch_size_(batch),
        buffer_(batch) {
    Next();
  }

 private:
  void Next() override {
    if (offset_ >= shard_.size()) return Finish(grpc::Status::OK);
    const std::optional<uint64_t> granted =
        Charge(std::min<uint64_t>(batch_size_, shard_.size() - offset_));
    if (!granted) return;
    const uint64_t n = *granted;
    shard_.Fill(offset_, n, buffer_.data());
    batch_.Clear();
    batch_.mutable_row_ids()->Reserve(static_cast<int>(n));
    for (uint64_t i = 0; i < n; ++i) batch_.add_row_ids(static_cast<int64_t>(buffer_[i]));
    offset_ += n;
    batch_.set_next_offset(static_cast<int64_t>(offset_));
    StartWrite(&batch_);
  }

  // The shard points into the permutation, so it is owned here and never moves.
  const std::unique_ptr<samplers::KeyedPermutation> permutation_;
  const samplers::PermutationShard shard_;
  uint64_t offset_;
  const uint64_t batch_size_;
  std::vector<uint64_t> buffer_;
  v1::ShuffleBatch batch_;
};

}  // namespace

grpc::ServerWriteReactor<v1::SampleBatch>* SamplingService::Sample(
    grpc::CallbackServerContext* context, const v1::SampleRequest* request) {
  using Failed = FailedStream<v1::SampleBatch>;
  absl::StatusOr<auth::Principal> who =
      gate_->Enter(*context, request->has_query() ? auth::kFeatureQuery : auth::kFeatureSample);
  if (!who.ok()) return new Failed(who.status());
  absl::StatusOr<auth::Admission::StreamToken> token = gate_->admission().OpenStream(*who);
  if (!token.ok()) return new Failed(token.status());
  absl::StatusOr<int> batch = BatchSize(request->batch_size());
  if (!batch.ok()) return new Failed(batch.status());
  absl::StatusOr<std::shared_ptr<const DatasetEntry>> entry =
      registry_->Get(who->user, request->dataset());
  if (!entry.ok()) return new Failed(entry.status());
  std::vector<int> columns;
  for (const std::string& name : request->columns()) {
    const int c = (*entry)->table->FindColumn(name);
    if (c < 0) {
      return new Failed(
          absl::InvalidArgumentError(absl::StrCat("columns: no column '", name, "'")));
    }
    columns.push_back(c);
  }
  absl::StatusOr<SpecResult> result = RunSampleSpec(*request, *(*entry)->table, threads_,
                                                    &alias_cache_, (*entry)->record.upload_id());
  if (!result.ok()) return new Failed(result.status());
  if (request->start_offset() < 0 ||
      static_cast<uint64_t>(request->start_offset()) > result->size()) {
    return new Failed(absl::InvalidArgumentError(absl::StrCat(
        "start_offset: must be between 0 and the sample's ", result->size(), " rows")));
  }
  return new SampleStream(&gate_->admission(), *std::move(who), *std::move(token),
                          *std::move(entry), *std::move(result), std::move(columns), *batch,
                          request->with_weight(), static_cast<uint64_t>(request->start_offset()));
}

grpc::ServerWriteReactor<v1::ShuffleBatch>* SamplingService::Shuffle(
    grpc::CallbackServerContext* context, const v1::ShuffleRequest* request) {
  using Failed = FailedStream<v1::ShuffleBatch>;
  absl::StatusOr<auth::Principal> who = gate_->Enter(*context, auth::kFeatureShuffle);
  if (!who.ok()) return new Failed(who.status());
  absl::StatusOr<auth::Admission::StreamToken> token = gate_->admission().OpenStream(*who);
  if (!token.ok()) return new Failed(token.status());
  absl::StatusOr<int> batch = BatchSize(request->batch_size());
  if (!batch.ok()) return new Failed(batch.status());
  uint64_t n = 0;
  if (request->has_n()) {
    if (request->n() < 0) return new Failed(absl::InvalidArgumentError("n: must be >= 0"));
    n = static_cast<uint64_t>(request->n());
  } else {
    absl::StatusOr<std::shared_ptr<const DatasetEntry>> entry =
        registry_->Get(who->user, request->dataset());
    if (!entry.ok()) return new Failed(entry.status());
    n = static_cast<uint64_t>((*entry)->table->num_rows());
  }
  const int64_t world = request->world_size() == 0 ? 1 : request->world_size();
  if (world < 1) return new Failed(absl::InvalidArgumentError("world_size: must be >= 1"));
  if (request->rank() < 0 || request->rank() >= world) {
    return new Failed(absl::InvalidArgumentError(
        absl::StrCat("rank: must be in [0, world_size), got ", request->rank())));
  }
  auto permutation =
      std::make_unique<samplers::KeyedPermutation>(n, request->seed(), request->epoch());
  absl::StatusOr<samplers::PermutationShard> shard = samplers::PermutationShard::Create(
      permutation.get(), static_cast<uint64_t>(request->rank()), static_cast<uint64_t>(world),
      request->drop_last() ? samplers::ShardTail::kDropLast : samplers::ShardTail::kPad);
  if (!shard.ok()) return new Failed(shard.status());
  if (request->start_offset() < 0 ||
      static_cast<uint64_t>(request->start_offset()) > shard->size()) {
    return new Failed(absl::InvalidArgumentError(
        absl::StrCat("start_offset: must be between 0 and this rank's ", shard->size(), " rows")));
  }
  return new ShuffleStream(&gate_->admission(), *std::move(who), *std::move(token),
                           std::move(permutation), *shard,
                           static_cast<uint64_t>(request->start_offset()), *batch);
}

}  // namespace urn::server
