// CreateDataset through the real gRPC service: an upload that does not end with the client's
// WritesDone (the client cancels, or urnd shuts down with the upload open) registers nothing,
// not even after a restart: only a complete upload becomes a dataset.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
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
    "    datasets: 4\n"
    "    rows_per_dataset: 1000\n";

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

  // Opens an upload of dataset "d" and sends its header and one chunk that ends inside a row.
  std::unique_ptr<grpc::ClientWriter<v1::CreateDatasetRequest>> OpenUpload(
      v1::Datasets::Stub& stub, grpc::ClientContext& context, v1::Dataset& response) const {
    context.AddMetadata("authorization", "Bearer " + key_);
    auto writer = stub.CreateDataset(&context, &response);
    v1::CreateDatasetRequest header;
    header.mutable_header()->set_name("d");
    header.mutable_header()->set_format(v1::DATA_FORMAT_TSV);
    header.mutable_header()->set_has_header(true);
    EXPECT_TRUE(writer->Write(header));
    v1::CreateDatasetRequest chunk;
    chunk.set_data("x\n1\n2\n3");  // "3" may be the start of "35" in the next chunk
    EXPECT_TRUE(writer->Write(chunk));
    return writer;
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
    auto stub = Stub();
    grpc::ClientContext context;
    v1::Dataset response;
    auto writer = OpenUpload(*stub, context, response);
    end(context);
    EXPECT_FALSE(writer->Finish().ok());
    EXPECT_EQ(DatasetAfterRestart(), absl::StatusCode::kNotFound);
  }

  testing::TempDir dir_;
  std::unique_ptr<UrnServer> server_;
  std::string key_;
};

TEST_F(DatasetUploadTest, CompleteUploadBecomesADataset) {
  auto stub = Stub();
  grpc::ClientContext context;
  v1::Dataset response;
  auto writer = OpenUpload(*stub, context, response);
  ASSERT_TRUE(writer->WritesDone());
  ASSERT_TRUE(writer->Finish().ok());
  EXPECT_EQ(response.num_rows(), 3);
  EXPECT_EQ(DatasetAfterRestart(), absl::StatusCode::kOk);
}

TEST_F(DatasetUploadTest, UploadTheClientCancelsRegistersNothing) {
  ExpectNothingRegisteredWhenTheUploadEndsBy([](grpc::ClientContext& c) { c.TryCancel(); });
}

TEST_F(DatasetUploadTest, UploadOpenWhenUrndShutsDownRegistersNothing) {
  ExpectNothingRegisteredWhenTheUploadEndsBy(
      [&](grpc::ClientContext&) { server_->Shutdown(std::chrono::milliseconds(0)); });
}

}  // namespace
}  // namespace urn::server
