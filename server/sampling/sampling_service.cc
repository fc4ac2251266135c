#include "sampling/sampling_service.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "call_auth.h"
#include "field_error.h"
#include "parsed_unary.h"
#include "samplers/permutation.h"
#include "sampling/batch_encoder.h"
#include "sampling/spec_sampler.h"

namespace urn::server {
namespace {

// A stream that fails before its first batch.
class FailedStream final : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  explicit FailedStream(const absl::Status& s) { Finish(ToGrpc(s)); }
  void OnDone() override { delete this; }
};

absl::StatusOr<int> BatchSize(int32_t requested) {
  if (requested < 0 || requested > SamplingService::kMaxBatch) {
    return absl::InvalidArgumentError(absl::StrCat("batch_size: must be between 1 and ",
                                                   SamplingService::kMaxBatch, " (0: the default, ",
                                                   SamplingService::kDefaultBatch, ")"));
  }
  return requested == 0 ? SamplingService::kDefaultBatch : requested;
}

// A stream call that may start: its request, the caller (authenticated and admitted for the
// request's feature), one of the caller's concurrent streams, and the batch size.
template <typename Request>
struct Opened {
  Request request;
  auth::Principal who;
  std::string_view feature;  // a static string (auth::kFeature...)
  auth::Admission::StreamToken token;
  int batch;
};

// Parses the request, then enters the gate for feature_of(request) and takes a stream. A
// request that does not parse is judged as feature_of(Request()) for authentication.
template <typename Request, typename FeatureOf>
absl::StatusOr<Opened<Request>> Open(const CallGate& gate,
                                     const grpc::CallbackServerContext& context,
                                     const grpc::ByteBuffer& raw, FeatureOf feature_of) {
  Request request;
  if (absl::Status s = ParseRequest(gate, context, feature_of(Request()), raw, &request); !s.ok()) {
    return s;
  }
  const std::string_view feature = feature_of(request);
  absl::StatusOr<auth::Principal> who = gate.Enter(context, feature);
  if (!who.ok()) return who.status();
  absl::StatusOr<auth::Admission::StreamToken> token = gate.admission().OpenStream(*who);
  if (!token.ok()) return token.status();
  absl::StatusOr<int> batch = BatchSize(request.batch_size());
  if (!batch.ok()) return batch.status();
  return Opened<Request>{std::move(request), *std::move(who), feature, *std::move(token), *batch};
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

// An upper bound on the bytes a row adds to the ColumnValues of `c` in a batch is its entry in
// null_rows if it may be null (a varint of the row's index in the batch, < 2^16: 3 bytes), plus
// its value: for numbers and booleans their widest encoding (packed varint or fixed), the same
// for every row (FixedCellBytes); for strings and lists their tags, lengths and bytes
// (VariableCellBytes, 0 from FixedCellBytes).
bool VariableWidth(table::Type type) {
  return type == table::Type::kString || type == table::Type::kStringList ||
         type == table::Type::kNull;
}
uint64_t FixedCellBytes(const table::Column& c) {
  const uint64_t null = c.has_nulls() ? 3 : 0;
  switch (c.type()) {
    case table::Type::kInt64:
      return null + 10;
    case table::Type::kDouble:
      return null + 8;
    case table::Type::kBool:
      return null + 1;
    default:
      return null;
  }
}
uint64_t VariableCellBytes(const table::Column& c, uint64_t row) {
  if (c.type() != table::Type::kStringList) return 6 + c.StringAt(row).size();
  uint64_t bytes = 6;
  for (int64_t e = 0; e < c.ListSize(row); ++e) bytes += 6 + c.ListElement(row, e).size();
  return bytes;
}

// Cuts Sample batches with columns at SamplingService::kMaxBatchColumnBytes: made once per
// stream from its columns, then asked per batch how many of its rows fit.
class BatchCut {
 public:
  BatchCut(const table::Table& t, const std::vector<int>& cols) {
    for (int c : cols) {
      const table::Column& column = t.column(c);
      fixed_ += FixedCellBytes(column);
      if (VariableWidth(column.type())) variable_.push_back(&column);
    }
  }

  // How many of rows[0, n) a batch holds: all of them, or as many as keep its columns within
  // the limit (at least one). Fewer rows give a prefix of the same cut.
  uint64_t RowsThatFit(const uint64_t* rows, uint64_t n) const {
    constexpr uint64_t kMax = SamplingService::kMaxBatchColumnBytes;
    if (variable_.empty()) {
      return fixed_ == 0 ? n : std::min(n, std::max<uint64_t>(kMax / fixed_, 1));
    }
    uint64_t bytes = 0;
    for (uint64_t i = 0; i < n; ++i) {
      bytes += fixed_;
      for (const table::Column* c : variable_) bytes += VariableCellBytes(*c, rows[i]);
      if (bytes > kMax) return std::max<uint64_t>(i, 1);
    }
    return n;
  }

 private:
  uint64_t fixed_ = 0;                          // per row, the columns of fixed width
  std::vector<const table::Column*> variable_;  // strings and lists, counted row by row
};

// A server stream of batches, double-buffered: while gRPC sends batch k, the stream already
// computes batch k + 1 into a second message, so that drawing and encoding overlap the
// transport (one stream at batch 1024: 18.5 -> 24-26 M ids/s, bench/urn_load.cc).
// A batch is sent only when gRPC has taken the previous one (backpressure), so a stream holds
// at most two batches however slow its reader.
// A batch holds batch_size rows, or fewer where the subclass cuts it short (Fill: a Sample's
// columns past SamplingService::kMaxBatchColumnBytes).
// Every batch is charged to the caller's daily rows when it is sent, not when it is prepared:
// when fewer rows are left than the batch holds, it is prepared again with just those rows
// (batches are pure functions of their offset), and the next one ends the stream with
// RESOURCE_EXHAUSTED. Once gRPC reports the call cancelled (OnCancel), nothing more is charged
// or sent; batches gRPC took before that (up to the HTTP/2 window) stay charged. The stream
// holds one of the plan's concurrent streams while it runs. A
// stream whose key is revoked or whose user is deleted ends UNAUTHENTICATED before its next batch;
// one whose user was moved to a plan without the stream's feature (or to an undefined plan) ends
// PERMISSION_DENIED there, and batches are charged to and limited by the user's plan as it is now.
//
// Threads: gRPC may run OnWriteDone on another thread while Pump() is still preparing the
// next batch; mu_ hands the turn over, so exactly one thread runs Pump() at a time, and the
// reactor is never finished (and deleted) while Pump() runs.
// Batches are encoded messages (batch_encoder.h).
class BatchStream : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  // `feature`: the plan feature the call entered with (a static string).
  BatchStream(const CallGate* gate, auth::Principal who, std::string_view feature,
              auth::Admission::StreamToken token, uint64_t batch_size)
      : gate_(gate),
        who_(std::move(who)),
        feature_(feature),
        token_(std::move(token)),
        batch_size_(batch_size) {}

  void OnWriteDone(bool ok) override {
    {
      absl::MutexLock lock(&mu_);
      if (preparing_) {
        written_ = true;  // Pump() takes it from here when the next batch is ready
        write_ok_ = ok;
        return;
      }
    }
    Pump(ok);
  }
  void OnDone() override { delete this; }
  // The client went away (or its deadline passed): nothing more is charged or sent.
  void OnCancel() override { cancelled_.store(true, std::memory_order_relaxed); }

 protected:
  uint64_t batch_size() const { return batch_size_; }
  // The caller; Pump() refreshes its plan (see who_), so read it before the first batch or for
  // its user only.
  const auth::Principal& principal() const { return who_; }
  // The rows of the whole stream (offsets run from the start offset to this).
  virtual uint64_t size() const = 0;
  // Makes *batch the batch of rows [offset, offset + m), 0 < m <= n, and returns m: n, or
  // fewer when n rows would make too large a batch. Fewer rows from the same offset make a
  // prefix of that batch's rows (batches are pure functions of their offset).
  virtual uint64_t Fill(uint64_t offset, uint64_t n, grpc::ByteBuffer* batch) = 0;
  // Ends the stream with `status` (once, instead of Finish), first giving back what it holds:
  // its slot of the plan's concurrent streams and what FreeHeld() frees. Before, they were
  // given back only when gRPC destroyed the reactor after the client had seen the end, so a
  // client's next stream could find the slot still taken.
  void End(const grpc::Status& status) {
    GiveBack();
    Finish(status);
  }
  // Frees what the subclass holds for sending (called once, just before the stream ends; the
  // last batch is already encoded).
  virtual void FreeHeld() {}
  // Instead of Start(): sends `last` (which holds no rows, so nothing is charged) with the end
  // of the stream, unless the client went away or the caller's key or plan no longer allows it.
  void SendLast(grpc::ByteBuffer last) {
    if (EndedAsGone(/*write_ok=*/true) || EndedAsRefused()) return;
    batches_[0].Swap(&last);
    GiveBack();
    StartWriteAndFinish(&batches_[0], grpc::WriteOptions(), grpc::Status::OK);
  }
  // Called once, when the subclass is ready to send from `offset` (<= size()).
  void Start(uint64_t offset) {
    offset_ = offset;
    Prepare();
    Pump(/*write_ok=*/true);
  }

 private:
  // Ends the stream if the client went away (or the previous write failed: !write_ok); true then.
  bool EndedAsGone(bool write_ok) {
    if (write_ok && !cancelled_.load(std::memory_order_relaxed)) return false;
    End(grpc::Status(grpc::StatusCode::CANCELLED, "the client went away"));
    return true;
  }
  // Ends the stream if the caller's key or plan no longer allows it; true then.
  bool EndedAsRefused() {
    absl::Status s = gate_->StillValid(who_, "stream", feature_);
    if (s.ok()) return false;
    End(ToGrpc(s));
    return true;
  }

  // Prepares batches_[next_] for offset_ (empty at the end of the stream).
  void Prepare() {
    prepared_ = std::min<uint64_t>(batch_size_, size() - offset_);
    if (prepared_ > 0) prepared_ = Fill(offset_, prepared_, &batches_[next_]);
  }

  // Sends the prepared batch and prepares the next, as long as gRPC keeps up; finishes the
  // stream at its end, on a quota error or when the client went away (the previous write
  // failed: !write_ok).
  void Pump(bool write_ok) {
    for (;;) {
      if (EndedAsGone(write_ok)) return;
      if (prepared_ == 0) return End(grpc::Status::OK);
      if (EndedAsRefused()) return;
      absl::StatusOr<int64_t> grant =
          gate_->admission().Charge(who_, static_cast<int64_t>(prepared_));
      if (!grant.ok()) return End(ToGrpc(grant.status()));
      uint64_t n = static_cast<uint64_t>(*grant);
      if (n < prepared_) n = Fill(offset_, n, &batches_[next_]);  // n again: a prefix fits
      offset_ += n;
      if (n == prepared_ && offset_ == size()) {
        // The last batch goes out with the status in one operation: the client gets both in
        // one read, and the stream ends without an OnWriteDone (one thread hand-off less).
        // The reactor may be deleted as soon as this returns.
        GiveBack();
        return StartWriteAndFinish(&batches_[next_], grpc::WriteOptions(), grpc::Status::OK);
      }
      {
        absl::MutexLock lock(&mu_);
        preparing_ = true;  // before StartWrite: its OnWriteDone may come at once
      }
      StartWrite(&batches_[next_]);
      next_ ^= 1;
      Prepare();
      absl::MutexLock lock(&mu_);
      preparing_ = false;
      if (!written_) return;  // OnWriteDone will call Pump()
      written_ = false;
      write_ok = write_ok_;
    }
  }

  void GiveBack() {
    token_.Release();
    FreeHeld();
  }

  const CallGate* const gate_;
  auth::Principal who_;                 // its plan follows the user's (CallGate::StillValid)
  const std::string_view feature_;      // checked against that plan before every batch
  auth::Admission::StreamToken token_;  // released by GiveBack(), before the end
  std::atomic<bool> cancelled_{false};  // set by OnCancel, on any thread
  // Pump()'s state: one thread at a time runs it (see above), so these need no lock.
  uint64_t offset_ = 0;  // of the prepared batch
  const uint64_t batch_size_;
  uint64_t prepared_ = 0;  // rows in batches_[next_]
  int next_ = 0;
  grpc::ByteBuffer batches_[2];

  absl::Mutex mu_;
  bool preparing_ ABSL_GUARDED_BY(mu_) = false;  // Pump() runs between StartWrite and its end
  bool written_ ABSL_GUARDED_BY(mu_) = false;    // OnWriteDone came while preparing_
  bool write_ok_ ABSL_GUARDED_BY(mu_) = true;    // that write's outcome, when written_
};

// Sends nothing until Begin() gives it the sample (or the error that ends it).
class SampleStream final : public BatchStream {
 public:
  SampleStream(const CallGate* gate, auth::Principal who, std::string_view feature,
               auth::Admission::StreamToken token, std::shared_ptr<const DatasetEntry> entry,
               std::vector<int> columns, int batch, bool count_only)
      : BatchStream(gate, std::move(who), feature, std::move(token), static_cast<uint64_t>(batch)),
        count_only_(count_only),
        entry_(std::move(entry)),
        columns_(std::move(columns)),
        cut_(*entry_->table, columns_),
        memory_(gate->memory_budget(), &principal()) {}

  // Reserves what computing the sample builds (RunSampleSpec) until Begin(), on the thread that
  // then calls Begin().
  MemoryBudget::Reservation* build_memory() { return &memory_; }

  // Starts sending `result` from `start_offset`, or ends the stream with its error. Called once,
  // from any thread.
  void Begin(absl::StatusOr<SpecResult> result, int64_t start_offset) {
    if (!result.ok()) return End(ToGrpc(result.status()));
    if (start_offset < 0 || static_cast<uint64_t>(start_offset) > result->size()) {
      return End(ToGrpc(absl::InvalidArgumentError(absl::StrCat(
          "start_offset: must be between 0 and the sample's ", result->size(), " rows"))));
    }
    if (count_only_) {
      return SendLast(
          EncodeSampleBatch({}, nullptr, {}, start_offset, static_cast<int64_t>(result->size())));
    }
    // A materialized sample (row ids, weights) is held until its stream ends, which a reader
    // that stops reading can put off for ever: it counts against --memory-budget and the
    // user's memory_bytes meanwhile.
    const int64_t held = static_cast<int64_t>(sizeof(uint64_t) * result->rows.capacity() +
                                              sizeof(double) * result->weights.capacity());
    if (absl::Status s = memory_.Resize(held, "this sample's rows while it is streamed"); !s.ok()) {
      return End(ToGrpc(s));
    }
    result_ = *std::move(result);
    if (result_.lazy) {
      lazy_rows_.resize(batch_size());
      if (result_.lazy_weights) lazy_weights_.resize(batch_size());
    }
    Start(static_cast<uint64_t>(start_offset));
  }

 private:
  uint64_t size() const override { return result_.size(); }
  void FreeHeld() override {
    // cut_ keeps Column pointers into the table, read only by Fill(), which is not called after
    // GiveBack().
    entry_.reset();
    result_ = SpecResult();
    lazy_rows_ = {};
    lazy_weights_ = {};
    memory_.Release();
  }

  uint64_t Fill(uint64_t offset, uint64_t n, grpc::ByteBuffer* batch) override {
    const uint64_t* rows = nullptr;
    const double* weights = nullptr;
    if (result_.lazy) {
      result_.lazy(offset, std::span<uint64_t>(lazy_rows_.data(), n),
                   result_.lazy_weights ? lazy_weights_.data() : nullptr);
      rows = lazy_rows_.data();
      if (result_.lazy_weights) weights = lazy_weights_.data();
    } else {
      rows = result_.rows.data() + offset;
      if (!result_.weights.empty()) weights = result_.weights.data() + offset;
    }
    std::string_view columns;
    if (!columns_.empty()) {
      n = cut_.RowsThatFit(rows, n);
      // The columns field, serialized by protobuf from a message that holds only it.
      column_values_.Clear();
      for (int c : columns_) FillColumn(*entry_->table, c, rows, n, column_values_.add_columns());
      columns_bytes_.clear();
      column_values_.AppendToString(&columns_bytes_);
      columns = columns_bytes_;
    }
    grpc::ByteBuffer encoded =
        EncodeSampleBatch(std::span<const uint64_t>(rows, n), weights, columns,
                          static_cast<int64_t>(offset), static_cast<int64_t>(result_.size()));
    batch->Swap(&encoded);
    return n;
  }

  const bool count_only_;  // SampleRequest.count_only: one batch without rows
  // The dataset, until FreeHeld(): a deleted dataset's memory is counted while a stream holds it
  // (server/retired.h), so the stream lets go of it before its client sees the end.
  std::shared_ptr<const DatasetEntry> entry_;
  SpecResult result_;  // set once, by Begin(), before anything is sent
  const std::vector<int> columns_;
  const BatchCut cut_;  // of batches with columns
  std::vector<uint64_t> lazy_rows_;
  std::vector<double> lazy_weights_;
  v1::SampleBatch column_values_;  // reused: only its columns field is ever set
  std::string columns_bytes_;
  MemoryBudget::Reservation memory_;  // of result_, until the stream ends
};

class ShuffleStream final : public BatchStream {
 public:
  ShuffleStream(const CallGate* gate, auth::Principal who, std::string_view feature,
                auth::Admission::StreamToken token,
                std::unique_ptr<samplers::KeyedPermutation> permutation,
                samplers::PermutationShard shard, uint64_t offset, int batch)
      : BatchStream(gate, std::move(who), feature, std::move(token), static_cast<uint64_t>(batch)),
        permutation_(std::move(permutation)),
        shard_(shard),
        buffer_(batch) {
    Start(offset);
  }

 private:
  uint64_t size() const override { return shard_.size(); }

  uint64_t Fill(uint64_t offset, uint64_t n, grpc::ByteBuffer* batch) override {
    shard_.Fill(offset, n, buffer_.data());
    grpc::ByteBuffer encoded = EncodeShuffleBatch(std::span<const uint64_t>(buffer_.data(), n),
                                                  static_cast<int64_t>(offset + n));
    batch->Swap(&encoded);
    return n;
  }

  // The shard points into the permutation, so it is owned here and never moves.
  const std::unique_ptr<samplers::KeyedPermutation> permutation_;
  const samplers::PermutationShard shard_;
  std::vector<uint64_t> buffer_;
};

}  // namespace

grpc::ServerWriteReactor<grpc::ByteBuffer>* SamplingService::Sample(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* raw) {
  absl::StatusOr<Opened<v1::SampleRequest>> open =
      Open<v1::SampleRequest>(*gate_, *context, *raw, [](const v1::SampleRequest& r) {
        return r.has_query() ? auth::kFeatureQuery : auth::kFeatureSample;
      });
  if (!open.ok()) return new FailedStream(open.status());
  const v1::SampleRequest* const request = &open->request;
  // Refused before any work; an offset past the end is known only once the sample is (Begin).
  if (request->start_offset() < 0) {
    return new FailedStream(absl::InvalidArgumentError(
        absl::StrCat("start_offset: must be >= 0, got ", request->start_offset())));
  }
  // A caller with no rows left today is refused before the sampler runs (rows are charged
  // batch by batch as they are sent). A sample of n rows asks for those past the offset (none
  // when the offset is past n), a sample without a size (n = 0) for at least one.
  // (n is checked with the spec; compared first, so that no n can overflow the difference.)
  const int64_t asked = request->n() == 0 ? 1
                        : request->n() > request->start_offset()
                            ? request->n() - request->start_offset()
                            : 0;
  if (absl::Status s =
          asked > 0 ? gate_->admission().RequireRowsLeft(open->who, asked) : absl::OkStatus();
      !s.ok()) {
    return new FailedStream(s);
  }
  absl::StatusOr<std::shared_ptr<const DatasetEntry>> entry =
      registry_->Get(open->who.user, request->dataset());
  if (!entry.ok()) return new FailedStream(InField("dataset", entry.status()));
  std::vector<int> columns;
  std::vector<bool> requested((*entry)->table->num_columns());
  for (int i = 0; i < request->columns_size(); ++i) {
    const std::string& name = request->columns(i);
    const int c = (*entry)->table->FindColumn(name);
    if (c < 0) {
      return new FailedStream(
          absl::InvalidArgumentError(absl::StrCat("columns[", i, "]: no column '", name, "'")));
    }
    // Each column at most once, so that a request's size bounds the batches it asks for.
    if (requested[c]) {
      return new FailedStream(absl::InvalidArgumentError(
          absl::StrCat("columns[", i, "]: column '", name, "' is already requested")));
    }
    requested[c] = true;
    columns.push_back(c);
  }
  std::shared_ptr<const DatasetEntry> dataset = *std::move(entry);
  auto* stream =
      new SampleStream(gate_, std::move(open->who), open->feature, std::move(open->token), dataset,
                       std::move(columns), open->batch, request->count_only());
  // Computes the sample (or NotCachedError() when !may_build and it would need to build).
  // An alias table it builds is reserved in the stream's memory until Begin() (then the cache
  // counts it, and the stream reserves its result instead).
  // The stream holds the dataset until Begin() (run is called before it, or not at all).
  const auto run = [this, dataset = dataset.get(), stream](const v1::SampleRequest& r,
                                                           bool may_build) {
    return RunSampleSpec(r, *dataset->table, threads_, &alias_cache_, dataset->record.upload_id(),
                         may_build, stream->build_memory());
  };
  if (SpecRunsAtOnce(*request, *dataset->table, &alias_cache_, dataset->record.upload_id())) {
    // Only if the alias table is still cached (another tenant's sample may have evicted it since
    // the check); otherwise on the pool, below. Small tables are sampled here in any case.
    absl::StatusOr<SpecResult> result = run(*request, SmallEnoughAtOnce(*request, *dataset->table));
    if (!IsNotCached(result.status())) {
      stream->Begin(std::move(result), request->start_offset());
      return stream;
    }
  }
  // The stream is not finished before Begin(), so gRPC keeps the context until then.
  pool_->Run([this, run, stream, context, request = std::move(open->request)] {
    if (context->IsCancelled()) {
      return stream->Begin(absl::CancelledError("the client went away"), 0);
    }
    absl::StatusOr<SpecResult> result = run(request, /*may_build=*/true);
    before_begin_.Run();
    stream->Begin(std::move(result), request.start_offset());
  });
  return stream;
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* SamplingService::Shuffle(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* raw) {
  absl::StatusOr<Opened<v1::ShuffleRequest>> open = Open<v1::ShuffleRequest>(
      *gate_, *context, *raw, [](const v1::ShuffleRequest&) { return auth::kFeatureShuffle; });
  if (!open.ok()) return new FailedStream(open.status());
  const v1::ShuffleRequest* const request = &open->request;
  uint64_t n = 0;
  if (request->source_case() == v1::ShuffleRequest::SOURCE_NOT_SET) {
    return new FailedStream(
        absl::InvalidArgumentError("source: set either dataset (its rows) or n (indices [0, n))"));
  }
  if (request->has_n()) {
    if (request->n() < 0) return new FailedStream(absl::InvalidArgumentError("n: must be >= 0"));
    n = static_cast<uint64_t>(request->n());
  } else {
    absl::StatusOr<std::shared_ptr<const DatasetEntry>> entry =
        registry_->Get(open->who.user, request->dataset());
    if (!entry.ok()) return new FailedStream(InField("dataset", entry.status()));
    n = static_cast<uint64_t>((*entry)->table->num_rows());
  }
  const int64_t world = request->world_size() == 0 ? 1 : request->world_size();
  if (world < 1) return new FailedStream(absl::InvalidArgumentError("world_size: must be >= 1"));
  if (request->rank() < 0 || request->rank() >= world) {
    return new FailedStream(absl::InvalidArgumentError(
        absl::StrCat("rank: must be in [0, world_size), got ", request->rank())));
  }
  auto permutation =
      std::make_unique<samplers::KeyedPermutation>(n, request->seed(), request->epoch());
  absl::StatusOr<samplers::PermutationShard> shard = samplers::PermutationShard::Create(
      permutation.get(), static_cast<uint64_t>(request->rank()), static_cast<uint64_t>(world),
      request->drop_last() ? samplers::ShardTail::kDropLast : samplers::ShardTail::kPad);
  if (!shard.ok()) return new FailedStream(shard.status());
  if (request->start_offset() < 0 ||
      static_cast<uint64_t>(request->start_offset()) > shard->size()) {
    return new FailedStream(absl::InvalidArgumentError(
        absl::StrCat("start_offset: must be between 0 and this rank's ", shard->size(), " rows")));
  }
  return new ShuffleStream(gate_, std::move(open->who), open->feature, std::move(open->token),
                           std::move(permutation), *shard,
                           static_cast<uint64_t>(request->start_offset()), open->batch);
}

}  // namespace urn::server
