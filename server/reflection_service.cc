#include "reflection_service.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>

#include <set>

#include "raw_message.h"

namespace urn::server {
namespace {

using grpc::reflection::v1alpha::ServerReflectionRequest;
using grpc::reflection::v1alpha::ServerReflectionResponse;

// `file` and everything it imports, each once, dependencies after the files that need them.
void AddFileWithDependencies(const google::protobuf::FileDescriptor* file,
                             std::set<std::string>& seen, ServerReflectionResponse& response) {
  if (!seen.insert(file->name()).second) return;
  google::protobuf::FileDescriptorProto proto;
  file->CopyTo(&proto);
  response.mutable_file_descriptor_response()->add_file_descriptor_proto(proto.SerializeAsString());
  for (int i = 0; i < file->dependency_count(); ++i) {
    AddFileWithDependencies(file->dependency(i), seen, response);
  }
}

void NotFound(const std::string& what, ServerReflectionResponse& response) {
  response.mutable_error_response()->set_error_code(grpc::StatusCode::NOT_FOUND);
  response.mutable_error_response()->set_error_message(what);
}

// Messages are read and written raw (see raw_message.h), so that one that does not parse ends
// the stream INVALID_ARGUMENT instead of OK as if the client had finished.
class Reactor final : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  Reactor(const absl::Status& admitted, const std::vector<std::string>* services)
      : services_(services) {
    if (!admitted.ok()) {
      Finish(ToGrpc(admitted));
      return;
    }
    StartRead(&raw_);
  }
  void OnReadDone(bool ok) override {
    if (!ok) return Finish(grpc::Status::OK);
    if (absl::Status s = ParseStreamMessage(raw_, ++messages_, &request_, ""); !s.ok()) {
      return Finish(ToGrpc(s));
    }
    Answer();
    raw_ = SerializeMessage(response_);
    StartWrite(&raw_);
  }
  void OnWriteDone(bool ok) override {
    if (!ok) return Finish(grpc::Status::CANCELLED);
    StartRead(&raw_);
  }
  void OnDone() override { delete this; }

 private:
  void Answer() {
    const auto* pool = google::protobuf::DescriptorPool::generated_pool();
    response_.Clear();
    response_.set_valid_host(request_.host());
    *response_.mutable_original_request() = request_;
    std::set<std::string> seen;
    switch (request_.message_request_case()) {
      case ServerReflectionRequest::kListServices:
        for (const std::string& name : *services_) {
          response_.mutable_list_services_response()->add_service()->set_name(name);
        }
        return;
      case ServerReflectionRequest::kFileByFilename: {
        const auto* file = pool->FindFileByName(request_.file_by_filename());
        if (file == nullptr) return NotFound("no such file", response_);
        return AddFileWithDependencies(file, seen, response_);
      }
      case ServerReflectionRequest::kFileContainingSymbol: {
        const auto* file = pool->FindFileContainingSymbol(request_.file_containing_symbol());
        if (file == nullptr) return NotFound("no such symbol", response_);
        return AddFileWithDependencies(file, seen, response_);
      }
      default:
        return NotFound("urnd declares no extensions", response_);
    }
  }

  const std::vector<std::string>* const services_;
  grpc::ByteBuffer raw_;  // the message being read, then the answer being written
  int64_t messages_ = 0;
  ServerReflectionRequest request_;
  ServerReflectionResponse response_;
};

}  // namespace

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>*
ReflectionService::ServerReflectionInfo(grpc::CallbackServerContext* context) {
  return new Reactor(gate_->Enter(*context, "").status(), &services_);
}

}  // namespace urn::server
