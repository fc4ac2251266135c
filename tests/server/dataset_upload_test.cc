// CreateDataset through the real gRPC service: an upload that does not end with the client's
// WritesDone (the client cancels, or urnd shuts down with the upload open) registers nothing,
// not even after a restart: only a complete upload becomes a dataset.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "auth/users.h"
#include "in_process.h"
#include "support/temp_dir.h"
#include "urn/client.h"
#include "urn/v1/datasets.grpc.pb.h"
#include "urn_server.h"

namespace urn::server {
namespace {

constexpr char kPlans[] =
    "plans:\n"
    "  uploader:\n"
    "    datasets: 1\n"
    "    rows_per_dataset: 1000\n"
    "    bytes_per_dataset: 1048576\n"
    "    features: [all]\n"
    "  small:\n"
    "    datasets: 1\n"
    "    rows_per_dataset: 1000\n"
    "    bytes_per_dataset: 1024\n"
    "    features: [all]\n";

class DatasetUploadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = testing::StartInProcess(dir_, kPlans);
    ASSERT_NE(server_, nullptr);
    auto admin = testing::ConnectOnce(server_->port(), testing::AdminKeyIn(dir_.Join("data")));
    key_ = admin->CreateUser("u", "uploader")->key();
  }

  std::unique_ptr<v1::Datasets::Stub> Stub() const {
    return v1::Datasets::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                                     grpc::InsecureChannelCredentials()));
  }

  // One upload call: the stub and context it runs on, its response and its writer.
  struct Sending {
    std::unique_ptr<v1::Datasets::Stub> stub;
    grpc::ClientContext context;
    v1::Dataset response;
    std::unique_ptr<grpc::ClientWriter<v1::CreateDatasetRequest>> writer;
  };

  // Opens an upload of dataset `name` in `format` (with `has_header`) and sends its header.
  std::unique_ptr<Sending> StartUpload(const std::string& name, v1::DataFormat format,
                                       bool has_header = false, bool* written = nullptr) const {
    auto call = std::make_unique<Sending>();
    call->stub = Stub();
    call->context.AddMetadata("authorization", "Bearer " + key_);
    call->writer = call->stub->CreateDataset(&call->context, &call->response);
    v1::CreateDatasetRequest header;
    header.mutable_header()->set_name(name);
    header.mutable_header()->set_format(format);
    header.mutable_header()->set_has_header(has_header);
    const bool ok = call->writer->Write(header);
    if (written != nullptr) {
      *written = ok;
    } else {
      EXPECT_TRUE(ok);
    }
    return call;
  }

  // Opens an upload of TSV dataset `name` (with a header line) and sends its header and one
  // chunk that ends inside a row; `written` says whether both writes were taken.
  std::unique_ptr<Sending> OpenUpload(const std::string& name = "d",
                                      bool* written = nullptr) const {
    bool header_written = false;
    auto call = StartUpload(name, v1::DATA_FORMAT_TSV, true, &header_written);
    v1::CreateDatasetRequest chunk;
    chunk.set_data("x\n1\n2\n3");  // "3" may be the start of "35" in the next chunk
    const bool ok = header_written && call->writer->Write(chunk);
    if (written != nullptr) {
      *written = ok;
    } else {
      EXPECT_TRUE(ok);
    }
    return call;
  }

  // Sends `chunk` as dataset "d" up to `max_chunks` times, until urnd ends the call, and returns
  // how the call ended; expects it ended early.
  grpc::Status SendUntilRefused(const std::string& chunk_data, int max_chunks) const {
    auto call = StartUpload("d", v1::DATA_FORMAT_TSV);
    v1::CreateDatasetRequest chunk;
    chunk.set_data(chunk_data);
    int sent = 0;
    while (sent < max_chunks && call->writer->Write(chunk)) ++sent;
    EXPECT_LT(sent, max_chunks);
    call->writer->WritesDone();  // false when urnd has already ended the call
    return call->writer->Finish();
  }

  // Stops urnd (draining its work pool), starts it again on the same data directory and says
  // whether dataset "d" exists there.
  absl::StatusCode DatasetAfterRestart() {
    server_.reset();
    server_ = testing::StartInProcess(dir_, kPlans);
    EXPECT_NE(server_, nullptr);
    if (server_ == nullptr) return absl::StatusCode::kUnknown;
    return testing::ConnectOnce(server_->port(), key_)->GetDataset("d").status().code();
  }

  // Opens an upload, sends part of it, ends the call with `end` instead of WritesDone, and
  // checks that the call failed and that no dataset exists, then or after a restart.
  void ExpectNothingRegisteredWhenTheUploadEndsBy(
      const std::function<void(grpc::ClientContext&)>& end) {
    auto call = OpenUpload();
    end(call->context);
    EXPECT_FALSE(call->writer->Finish().ok());
    EXPECT_EQ(DatasetAfterRestart(), absl::StatusCode::kNotFound);
  }

  testing::TempDir dir_;
  std::unique_ptr<UrnServer> server_;
  std::string key_;
};

TEST_F(DatasetUploadTest, CompleteUploadBecomesADataset) {
  auto call = OpenUpload();
  ASSERT_TRUE(call->writer->WritesDone());
  ASSERT_TRUE(call->writer->Finish().ok());
  EXPECT_EQ(call->response.num_rows(), 3);
  EXPECT_EQ(DatasetAfterRestart(), absl::StatusCode::kOk);
}

TEST_F(DatasetUploadTest, UploadTheClientCancelsRegistersNothing) {
  ExpectNothingRegisteredWhenTheUploadEndsBy([](grpc::ClientContext& c) { c.TryCancel(); });
}

TEST_F(DatasetUploadTest, UploadOpenWhenUrndShutsDownRegistersNothing) {
  ExpectNothingRegisteredWhenTheUploadEndsBy(
      [&](grpc::ClientContext&) { server_->Shutdown(std::chrono::milliseconds(0)); });
}

// The plan allows one dataset: of two uploads started together, exactly one may commit, even
// though neither has committed when the other starts.
TEST_F(DatasetUploadTest, UploadsInProgressCountTowardTheDatasetLimit) {
  bool written_a = false, written_b = false;
  auto a = OpenUpload("a", &written_a);
  auto b = OpenUpload("b", &written_b);
  a->writer->WritesDone();
  b->writer->WritesDone();
  const grpc::Status status_a = a->writer->Finish(), status_b = b->writer->Finish();
  EXPECT_NE(status_a.ok(), status_b.ok())
      << status_a.error_message() << " / " << status_b.error_message();
  const grpc::Status& refused = status_a.ok() ? status_b : status_a;
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(refused.error_message().find("datasets"), std::string::npos) << refused.error_message();
  EXPECT_EQ(testing::ConnectOnce(server_->port(), key_)->ListDatasets()->size(), 1u);
}

// The plan allows 1000 rows per dataset: an upload that goes past them is refused while it is
// still sending, not after urnd has parsed (and held) all of it.
TEST_F(DatasetUploadTest, RowsPastThePlanLimitEndTheUploadWhileItSends) {
  std::string rows;
  for (int i = 0; i < 100; ++i) rows.append("1\n");
  const grpc::Status status = SendUntilRefused(rows, 10000);  // up to 10^6 rows
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(status.error_message().find("rows_per_dataset"), std::string::npos)
      << status.error_message();
  EXPECT_EQ(DatasetAfterRestart(), absl::StatusCode::kNotFound);
}

// The plan allows 1 MiB per dataset: a few long rows (far below 1000) that go past it end the
// upload at the chunk that crosses the limit, before urnd parses it, and nothing is kept. Before
// the limit, a free user could hold 3 datasets of 20 rows of 15 MiB (reviewed: 679 MB resident).
TEST_F(DatasetUploadTest, BytesPastThePlanLimitEndTheUploadBeforeTheyAreParsed) {
  const std::string row = std::string(400 << 10, 'x') + "\n";  // one row of 400 KiB
  const grpc::Status status = SendUntilRefused(row, 100);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  EXPECT_NE(status.error_message().find("bytes_per_dataset: 1228803 is above plan 'uploader''s "
                                        "limit of 1048576"),
            std::string::npos)
      << status.error_message();
  EXPECT_EQ(DatasetAfterRestart(), absl::StatusCode::kNotFound);
  // Two such rows fit.
  auto two = StartUpload("two", v1::DATA_FORMAT_TSV);
  v1::CreateDatasetRequest chunk;
  chunk.set_data(row);
  ASSERT_TRUE(two->writer->Write(chunk) && two->writer->Write(chunk));
  ASSERT_TRUE(two->writer->WritesDone());
  const grpc::Status kept = two->writer->Finish();
  EXPECT_TRUE(kept.ok()) << kept.error_message();
  EXPECT_EQ(two->response.num_rows(), 2);
}

// A plan set while an upload is open limits it from its next chunk, or its commit: moved from
// 1 MiB to 1 KiB per dataset after 800 bytes, with 800 more to come or already sent, the upload
// is refused and nothing is kept (before, it kept the limits of the plan it began under).
TEST_F(DatasetUploadTest, APlanSetDuringAnUploadLimitsItFromTheNextChunk) {
  auto admin = testing::ConnectOnce(server_->port(), testing::AdminKeyIn(dir_.Join("data")));
  v1::CreateDatasetRequest chunk;
  chunk.set_data(std::string(799, 'x') + "\n");
  for (const bool after_last_chunk : {false, true}) {
    ASSERT_TRUE(admin->SetPlan("u", "uploader").ok());
    auto call = StartUpload("d", v1::DATA_FORMAT_TSV);
    ASSERT_TRUE(call->writer->Write(chunk));
    // Whether urnd reads the second chunk before or after the plan changes, one of the two
    // checks (the chunk's, the commit's) applies the new plan.
    if (after_last_chunk) {
      ASSERT_TRUE(call->writer->Write(chunk));
    }
    ASSERT_TRUE(admin->SetPlan("u", "small").ok());
    if (!after_last_chunk) call->writer->Write(chunk);  // false once urnd ended the call
    call->writer->WritesDone();
    const grpc::Status s = call->writer->Finish();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
        << after_last_chunk << ": " << s.error_message();
    EXPECT_NE(s.error_message().find("bytes_per_dataset: 1600 is above plan 'small''s limit of "
                                     "1024"),
              std::string::npos)
        << s.error_message();
    EXPECT_EQ(testing::ConnectOnce(server_->port(), key_)->GetDataset("d").status().code(),
              absl::StatusCode::kNotFound);
  }
}

// JSONL: a line without a key is a null cell there. 4096 keys on line 1 and then lines of one
// key (`{"k0":0}`, 9 bytes, 4096 more cells each) pass 8 cells per byte at once, and 2^20 cells
// (always allowed) at line 257: the upload is refused there instead of parsing on (the review's
// trigger, 10^6 such lines, was ~4e9 cells, ~36 GiB). Ten keys and such lines stay below it.
TEST_F(DatasetUploadTest, SparseJsonlPastEightCellsPerByteIsResourceExhausted) {
  auto upload = [&](const std::string& name, int keys) {
    auto call = StartUpload(name, v1::DATA_FORMAT_JSONL);
    v1::CreateDatasetRequest chunk;
    chunk.mutable_data()->append("{");
    for (int k = 0; k < keys; ++k) {
      absl::StrAppend(chunk.mutable_data(), k ? "," : "", "\"k", k, "\":0");
    }
    chunk.mutable_data()->append("}\n");
    for (int i = 0; i < 900; ++i) chunk.mutable_data()->append("{\"k0\":0}\n");
    call->writer->Write(chunk);
    call->writer->WritesDone();
    return call->writer->Finish();
  };
  const grpc::Status sparse = upload("sparse", 4096);
  EXPECT_EQ(sparse.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(
      sparse.error_message().find("line 257: 1052672 cells (rows times keys; a missing key is "
                                  "a null cell) from 42156 bytes of JSONL, more than "
                                  "max_cells_per_byte (8) per byte"),
      std::string::npos)
      << sparse.error_message();
  const grpc::Status narrow = upload("narrow", 10);
  EXPECT_TRUE(narrow.ok()) << narrow.error_message();
  auto client = testing::ConnectOnce(server_->port(), key_);
  EXPECT_EQ(client->GetDataset("sparse").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(client->GetDataset("narrow")->num_rows(), 901);
}

// GetDataset and ListDatasets describe each column's nulls, counted when the dataset is made:
// after the upload, and again after a restart (from the stored blocks).
TEST_F(DatasetUploadTest, NullCountsAreDescribedAfterTheUploadAndAfterARestart) {
  auto call = StartUpload("d", v1::DATA_FORMAT_JSONL);
  v1::CreateDatasetRequest chunk;
  chunk.set_data("{\"a\":1,\"b\":\"x\"}\n{\"a\":2}\n{\"b\":null}\n{\"a\":null}\n");
  ASSERT_TRUE(call->writer->Write(chunk));
  ASSERT_TRUE(call->writer->WritesDone());
  ASSERT_TRUE(call->writer->Finish().ok());
  const auto expect_nulls = [&](const v1::Dataset& d) {
    ASSERT_EQ(d.columns_size(), 2);
    EXPECT_EQ(d.columns(0).name(), "a");
    EXPECT_EQ(d.columns(0).null_count(), 2);  // rows 3 and 4
    EXPECT_EQ(d.columns(1).name(), "b");
    EXPECT_EQ(d.columns(1).null_count(), 3);  // rows 2, 3 and 4
  };
  expect_nulls(call->response);
  ASSERT_EQ(DatasetAfterRestart(), absl::StatusCode::kOk);
  auto client = testing::ConnectOnce(server_->port(), key_);
  absl::StatusOr<v1::Dataset> got = client->GetDataset("d");
  ASSERT_TRUE(got.ok()) << got.status();
  expect_nulls(*got);
  absl::StatusOr<std::vector<v1::Dataset>> listed = client->ListDatasets();
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 1u);
  expect_nulls((*listed)[0]);
}

// A user deleted (and created again under the same name) while an upload of theirs is being sent:
// the upload keeps nothing, and the new user of that name inherits no dataset.
TEST_F(DatasetUploadTest, UploadOfAUserDeletedMeanwhileKeepsNothing) {
  auto call = OpenUpload();
  auto admin = testing::ConnectOnce(server_->port(), testing::AdminKeyIn(dir_.Join("data")));
  ASSERT_TRUE(admin->DeleteUser("u").ok());
  absl::StatusOr<v1::CreateUserResponse> again = admin->CreateUser("u", "uploader");
  ASSERT_TRUE(again.ok()) << again.status();
  call->writer->WritesDone();
  const grpc::Status status = call->writer->Finish();
  EXPECT_FALSE(status.ok());
  key_ = again->key();
  EXPECT_TRUE(testing::ConnectOnce(server_->port(), key_)->ListDatasets()->empty());
  EXPECT_EQ(DatasetAfterRestart(), absl::StatusCode::kNotFound);
}

// A user deleted while their upload commits: paused after the upload is parsed and its blocks
// written, just before the commit takes the registry's lock. The commit is refused, no record is
// left, and a new user of that name inherits nothing. (That no record is ever written, so that
// no crash can leave one, comes from checking and writing under the lock; this test cannot
// crash urnd between the two.)
TEST_F(DatasetUploadTest, AnUploadCommittingWhenItsUserIsDeletedWritesNoRecord) {
  auto reached = std::make_shared<absl::Notification>();
  auto proceed = std::make_shared<absl::Notification>();
  server_->datasets_for_testing().SetBeforeCommitForTesting([reached, proceed] {
    reached->Notify();
    proceed->WaitForNotificationWithTimeout(absl::Seconds(30));
  });
  auto call = OpenUpload();
  grpc::Status status;
  std::thread sender([&] {
    call->writer->WritesDone();
    status = call->writer->Finish();
  });
  const bool paused = reached->WaitForNotificationWithTimeout(absl::Seconds(30));
  auto admin = testing::ConnectOnce(server_->port(), testing::AdminKeyIn(dir_.Join("data")));
  absl::StatusOr<v1::DeleteUserResponse> deleted;
  if (paused) deleted = admin->DeleteUser("u");
  proceed->Notify();
  sender.join();
  server_->datasets_for_testing().SetBeforeCommitForTesting(nullptr);
  ASSERT_TRUE(paused);
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(deleted->datasets_deleted(), 0);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ABORTED) << status.error_message();
  EXPECT_NE(status.error_message().find("its owner was deleted during the upload"),
            std::string::npos)
      << status.error_message();
  server_.reset();
  {
    auto db = storage::MetadataStore::Open(dir_.Join("data/meta"));
    ASSERT_TRUE(db.ok()) << db.status();
    int records = 0;
    ASSERT_TRUE((*db)
                    ->Scan("dataset/",
                           [&](std::string_view, std::string_view) {
                             ++records;
                             return true;
                           })
                    .ok());
    EXPECT_EQ(records, 0);
  }
  server_ = testing::StartInProcess(dir_, kPlans);
  ASSERT_NE(server_, nullptr);
  admin = testing::ConnectOnce(server_->port(), testing::AdminKeyIn(dir_.Join("data")));
  absl::StatusOr<v1::CreateUserResponse> again = admin->CreateUser("u", "uploader");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(testing::ConnectOnce(server_->port(), again->key())->ListDatasets()->empty());
}

// A crash in the middle of DeleteUser (here: only its first write made, the user and keys
// deleted) does not hand the user's datasets and weight stores to a new user of that name:
// urnd finishes the deletion when it starts, and until then the name cannot be taken.
TEST_F(DatasetUploadTest, AUserDeletionCutShortByACrashIsFinishedAtTheNextStart) {
  auto call = OpenUpload();
  ASSERT_TRUE(call->writer->WritesDone());
  ASSERT_TRUE(call->writer->Finish().ok());
  v1::CreateWeightStoreRequest store;
  store.set_name("w");
  store.set_capacity(4);
  const absl::StatusOr<v1::WeightStore> made =
      testing::ConnectOnce(server_->port(), key_)->CreateWeightStore(store);
  ASSERT_TRUE(made.ok()) << made.status();
  server_.reset();
  {
    auto db = storage::MetadataStore::Open(dir_.Join("data/meta"));
    ASSERT_TRUE(db.ok()) << db.status();
    ASSERT_TRUE(auth::DeleteUser(**db, "u").ok());
    // Before the deletion is finished the name is not free.
    const absl::Status taken =
        auth::CreateUser(**db, "u", "uploader", false, *auth::GenerateApiKey());
    EXPECT_EQ(taken.code(), absl::StatusCode::kFailedPrecondition) << taken;
    EXPECT_EQ(auth::UnfinishedUserDeletions(**db)->size(), 1u);
  }
  server_ = testing::StartInProcess(dir_, kPlans);
  ASSERT_NE(server_, nullptr);
  auto admin = testing::ConnectOnce(server_->port(), testing::AdminKeyIn(dir_.Join("data")));
  absl::StatusOr<v1::CreateUserResponse> again = admin->CreateUser("u", "uploader");
  ASSERT_TRUE(again.ok()) << again.status();
  auto client = testing::ConnectOnce(server_->port(), again->key());
  EXPECT_TRUE(client->ListDatasets()->empty());
  EXPECT_TRUE(client->ListWeightStores()->empty());
}

}  // namespace
}  // namespace urn::server
