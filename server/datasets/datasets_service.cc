#include "datasets/datasets_service.h"

#include <memory>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "call_auth.h"
#include "field_error.h"
#include "listing.h"
#include "raw_message.h"

namespace urn::server {
namespace {

// The end of an upload's refusals from the authenticator: what became of the data.
constexpr char kNothingKept[] = " while it was sent; nothing was kept";

v1::ColumnType WireType(table::Type t) {
  switch (t) {
    case table::Type::kInt64:
      return v1::COLUMN_TYPE_INT64;
    case table::Type::kDouble:
      return v1::COLUMN_TYPE_DOUBLE;
    case table::Type::kString:
      return v1::COLUMN_TYPE_STRING;
    case table::Type::kBool:
      return v1::COLUMN_TYPE_BOOL;
    case table::Type::kStringList:
      return v1::COLUMN_TYPE_STRING_LIST;
    case table::Type::kNull:
      break;
  }
  return v1::COLUMN_TYPE_UNSPECIFIED;
}

// CreateDataset: the header, then chunks parsed as they arrive (at most 1 MiB each); at the end
// the table is persisted as columnar blocks (DatasetRegistry::Upload::Commit). Parsing and the
// commit run on the work pool, as they take milliseconds per chunk and O(rows) time at the end
// (about a second for 10^7 rows) that gRPC's threads must not spend.
class CreateReactor final : public grpc::ServerReadReactor<grpc::ByteBuffer> {
 public:
  CreateReactor(DatasetRegistry* registry, const CallGate* gate, WorkPool* pool,
                auth::Principal who, grpc::ByteBuffer* response)
      : registry_(registry), gate_(gate), pool_(pool), who_(std::move(who)), response_(response) {
    StartRead(&raw_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      if (!upload_) return Fail(absl::InvalidArgumentError("header: missing (send it first)"));
      // A read fails both when the client has sent everything (WritesDone) and when the call
      // ended before that: the client cancelled or went away, its deadline passed, or urnd is
      // shutting down. The read cannot tell which, and committing a cancelled upload would
      // register a truncated dataset. Sending the initial metadata can: the transport closes the
      // stream for writing before it fails the read of a cancelled call, so the send fails
      // exactly when the call was cancelled (OnSendInitialMetadataDone).
      return StartSendInitialMetadata();
    }
    // Parsing a chunk takes milliseconds (tens when a column grows), which gRPC's few callback
    // threads must not spend: it runs on the pool, and the next read starts after it, so a
    // client cannot send faster than its chunks are parsed.
    pool_->Run([this] {
      absl::Status s = ParseStreamMessage(raw_, ++messages_, &request_, "; nothing was kept");
      if (s.ok()) s = Handle();
      if (!s.ok()) return Fail(s);
      StartRead(&raw_);
    });
  }

  void OnSendInitialMetadataDone(bool ok) override {
    if (!ok) {
      return Fail(absl::CancelledError(
          "CreateDataset: the call ended before the client finished sending; nothing was "
          "registered"));
    }
    // Not finished until Commit() has run, so the reactor lives until then.
    pool_->Run([this] { Commit(); });
  }

  void OnDone() override { delete this; }

 private:
  void Commit() {
    absl::StatusOr<std::shared_ptr<const DatasetEntry>> entry =
        upload_->Commit([this](int64_t rows, int64_t memory_bytes) -> absl::Status {
          // The call was authenticated when it began; an upload whose key was revoked or whose
          // user was deleted since is not kept (and DeleteOwner catches a deletion after this).
          if (absl::Status s = gate_->StillValid(who_, "upload", "", kNothingKept); !s.ok()) {
            return s;
          }
          // The limits of the plan the user has now (StillValid refreshed it).
          if (absl::Status s = gate_->admission().CheckLimit(who_, "bytes_per_dataset", bytes_);
              !s.ok()) {
            return s;
          }
          if (absl::Status s = gate_->admission().CheckLimit(who_, "rows_per_dataset", rows);
              !s.ok()) {
            return s;
          }
          // The typed table itself (list elements and all), in place of the estimate.
          return memory_.Resize(memory_bytes, "this dataset");
        });
    upload_.reset();
    // Before the call ends: a client that uploads and then samples must not find the upload's
    // memory still reserved beside the dataset the registry now counts.
    memory_.Release();
    if (!entry.ok()) return Fail(entry.status());
    v1::Dataset described;
    DescribeDataset(**entry, &described);
    *response_ = SerializeMessage(described);
    Finish(grpc::Status::OK);
  }

  absl::Status Handle() {
    if (request_.has_header()) {
      if (upload_) return absl::InvalidArgumentError("header: sent twice");
      const v1::CreateDatasetHeader& h = request_.header();
      internal::DatasetRecord record;
      record.set_owner(who_.user);
      record.set_name(h.name());
      record.set_format(h.format());
      record.set_has_header(h.has_header());
      record.set_delimiter(h.delimiter());
      record.set_list_delimiter(h.list_delimiter());
      for (const auto& [name, type] : h.column_types())
        (*record.mutable_column_types())[name] = type;
      absl::StatusOr<std::unique_ptr<DatasetRegistry::Upload>> upload =
          registry_->StartUpload(std::move(record), [this](int64_t datasets) {
            return gate_->admission().CheckLimit(who_, "datasets", datasets);
          });
      if (!upload.ok()) return upload.status();
      upload_ = *std::move(upload);
      return absl::OkStatus();
    }
    if (!upload_) return absl::InvalidArgumentError("header: must come before any data");
    if (request_.data().size() > DatasetsService::kMaxChunkBytes) {
      return absl::InvalidArgumentError(absl::StrCat("data: a chunk holds at most 1 MiB, got ",
                                                     request_.data().size(), " bytes"));
    }
    // Each chunk under the key and plan the user has now: a plan set during the upload limits
    // it from the next chunk on.
    if (absl::Status s = gate_->StillValid(who_, "upload", "", kNothingKept); !s.ok()) return s;
    // Before the chunk is parsed: an upload holds at most one chunk past the plan's bytes.
    bytes_ += static_cast<int64_t>(request_.data().size());
    if (absl::Status s = gate_->admission().CheckLimit(who_, "bytes_per_dataset", bytes_);
        !s.ok()) {
      return s;
    }
    if (absl::Status s = ReserveParse(); !s.ok()) return s;
    if (absl::Status s = upload_->Append(request_.data()); !s.ok()) return s;
    if (absl::Status s = ReserveParse(); !s.ok()) return s;
    // Checked as the rows arrive, so an upload past the plan's limit never holds more than one
    // chunk beyond it.
    return gate_->admission().CheckLimit(who_, "rows_per_dataset", upload_->rows());
  }

  // Reserves what the parse holds, the text so far and ~8 bytes a cell (before and after each
  // chunk: uploads at once count against each other).
  absl::Status ReserveParse() {
    return memory_.Resize(bytes_ + 8 * upload_->cells(), "this upload");
  }

  void Fail(const absl::Status& s) {
    upload_.reset();
    memory_.Release();
    Finish(ToGrpc(s));
  }

  DatasetRegistry* const registry_;
  const CallGate* const gate_;
  WorkPool* const pool_;
  auth::Principal who_;               // its plan follows the user's (CallGate::StillValid)
  grpc::ByteBuffer* const response_;  // a v1::Dataset
  grpc::ByteBuffer raw_;              // one read at a time
  int64_t messages_ = 0;              // read so far
  v1::CreateDatasetRequest request_;
  std::unique_ptr<DatasetRegistry::Upload> upload_;
  int64_t bytes_ = 0;  // data received, for the plan's bytes_per_dataset
  // Until the upload is committed or refused: then the registry counts the dataset instead.
  MemoryBudget::Reservation memory_{gate_->memory_budget(), &who_};
};

// Rejects every message; used when authentication fails before the stream is read.
class RejectReactor final : public grpc::ServerReadReactor<grpc::ByteBuffer> {
 public:
  explicit RejectReactor(const absl::Status& s) { Finish(ToGrpc(s)); }
  void OnDone() override { delete this; }
};

}  // namespace

void DescribeDataset(const DatasetEntry& entry, v1::Dataset* out) {
  out->set_name(entry.record.name());
  out->set_owner(entry.record.owner());
  out->set_created_unix(entry.record.created_unix());
  out->set_format(static_cast<v1::DataFormat>(entry.record.format()));
  if (entry.table == nullptr) return;  // damaged: listed by name, with nothing to describe
  out->set_num_rows(entry.table->num_rows());
  out->set_memory_bytes(entry.table->MemoryBytes());
  for (size_t i = 0; i < entry.table->columns().size(); ++i) {
    const table::Column& c = entry.table->columns()[i];
    v1::Column* col = out->add_columns();
    col->set_name(c.name());
    col->set_type(WireType(c.type()));
    col->set_null_count(entry.null_counts[i]);
  }
}

grpc::ServerReadReactor<grpc::ByteBuffer>* DatasetsService::CreateDataset(
    grpc::CallbackServerContext* context, grpc::ByteBuffer* response) {
  absl::StatusOr<auth::Principal> who = gate_->Enter(*context, "");
  if (!who.ok()) return new RejectReactor(who.status());
  return new CreateReactor(registry_, gate_, pool_, *std::move(who), response);
}

absl::Status DatasetsService::HandleGetDataset(grpc::CallbackServerContext* context,
                                               const v1::GetDatasetRequest* request,
                                               v1::Dataset* response) {
  absl::StatusOr<auth::Principal> who = gate_->Enter(*context, "");
  if (!who.ok()) return who.status();
  absl::StatusOr<std::shared_ptr<const DatasetEntry>> e =
      registry_->Get(who->user, request->name());
  if (!e.ok()) return InField("name", e.status());
  DescribeDataset(**e, response);
  return absl::OkStatus();
}

absl::Status DatasetsService::HandleListDatasets(grpc::CallbackServerContext* context,
                                                 const v1::ListDatasetsRequest* request,
                                                 v1::ListDatasetsResponse* response) {
  absl::StatusOr<auth::Principal> who = gate_->Enter(*context, "");
  if (!who.ok()) return who.status();
  absl::StatusOr<ListPage> page = ParseListPage(*who, request->page_size(), request->page_token());
  if (!page.ok()) return page.status();
  std::vector<std::shared_ptr<const DatasetEntry>> entries =
      registry_->List(page->owner, page->after_owner, page->after_name, page->size + 1);
  for (size_t i = 0; i < entries.size() && i < page->size; ++i) {
    DescribeDataset(*entries[i], response->add_datasets());
  }
  if (entries.size() > page->size) {
    const DatasetEntry& last = *entries[page->size - 1];
    response->set_next_page_token(PageToken(last.record.owner(), last.record.name()));
  }
  return absl::OkStatus();
}

absl::Status DatasetsService::HandleDeleteDataset(grpc::CallbackServerContext* context,
                                                  const v1::DeleteDatasetRequest* request,
                                                  v1::DeleteDatasetResponse*) {
  absl::StatusOr<auth::Principal> who = gate_->Enter(*context, "");
  if (!who.ok()) return who.status();
  return NamedIn("name", registry_->Delete(who->user, request->name()));
}

}  // namespace urn::server
