// grpc.reflection.v1alpha.ServerReflection, as grpcurl and grpc_cli use it, but behind a key
// like every other urnd service (gRPC's own reflection plugin cannot authenticate callers).
// Answers list_services, file_by_filename and file_containing_symbol from the generated
// descriptor pool (a file with all its dependencies); extension queries get NOT_FOUND, as urnd's
// protos declare no extensions. A message that does not parse ends the stream INVALID_ARGUMENT
// (its messages are read raw, see raw_message.h).
#ifndef URN_SERVER_REFLECTION_SERVICE_H_
#define URN_SERVER_REFLECTION_SERVICE_H_

#include <string>
#include <vector>

#include "call_auth.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"

namespace urn::server {

class ReflectionService final : public grpc::reflection::v1alpha::ServerReflection::
                                    WithRawCallbackMethod_ServerReflectionInfo<
                                        grpc::reflection::v1alpha::ServerReflection::Service> {
 public:
  // REQUIRES: `gate` outlives the service. `services`: full names of the services served.
  ReflectionService(const CallGate* gate, std::vector<std::string> services)
      : gate_(gate), services_(std::move(services)) {}

  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* ServerReflectionInfo(
      grpc::CallbackServerContext* context) override;

 private:
  const CallGate* const gate_;
  const std::vector<std::string> services_;
};

}  // namespace urn::server

#endif  // URN_SERVER_REFLECTION_SERVICE_H_
