// Unary methods whose requests urnd parses itself: served raw (grpc::ByteBuffer in and out)
// and parsed here, around a handler that takes and fills the typed messages.
//
// Why. gRPC's callback API answers a unary request that does not parse before any handler runs,
// with UNIMPLEMENTED and an empty message: the caller learns neither what was wrong nor, without
// a valid key, that it is not authenticated. A method served through ServeParsed answers such a
// request as urnd's streams do (raw_message.h): with the caller's authentication or admission
// error first, if any (every call is authenticated, and checked against its plan and role, before
// anything else is said about it), else INVALID_ARGUMENT "request: not a valid <message type>".
//
// Cost: the same parse and serialization gRPC would do, one std::function call more.
#ifndef URN_SERVER_PARSED_UNARY_H_
#define URN_SERVER_PARSED_UNARY_H_

#include <google/protobuf/descriptor.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/server_callback_handlers.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "call_auth.h"
#include "raw_message.h"

namespace urn::server {

// Whether `raw` parses as a Request, into *request.
template <typename Request>
bool Parses(const grpc::ByteBuffer& raw, Request* request) {
  grpc::ByteBuffer copy(raw);  // Deserialize consumes its buffer; this shares the slices
  return grpc::SerializationTraits<Request>::Deserialize(&copy, request).ok();
}

// The error for a Request that did not parse: `entered`, the caller's error from the checks the
// method makes first (authentication, plan, role), if any; else INVALID_ARGUMENT
// "request: not a valid <type>".
template <typename Request>
absl::Status NotParsed(const absl::Status& entered) {
  if (!entered.ok()) return entered;
  return absl::InvalidArgumentError(
      absl::StrCat("request: not a valid ", Request::descriptor()->full_name()));
}

// Parses a raw request into *request; one that does not parse is refused (NotParsed) with the
// caller's error from gate.Enter(context, feature), if any.
template <typename Request>
absl::Status ParseRequest(const CallGate& gate, const grpc::CallbackServerContext& context,
                          std::string_view feature, const grpc::ByteBuffer& raw, Request* request) {
  if (Parses(raw, request)) return absl::OkStatus();
  return NotParsed<Request>(gate.Enter(context, feature).status());
}

// A base for the service `Outer` (a generated urn.v1 service class, e.g. v1::Usage) whose unary
// methods are served by ServeParsed. `Base` is Outer::Service or a chain of Outer's
// WithRawCallbackMethod_ mixins over it (for the streaming methods).
//
// The handlers are named Handle<Method>, not <Method>: a member of that name would hide the
// base's virtual one (-Woverloaded-virtual).
template <typename Outer, typename Base = typename Outer::Service>
class ParsedUnaryMethods : public Base {
 protected:
  // The checks a call of the method passes before its request is read: OK, or the caller's
  // error (UNAUTHENTICATED, PERMISSION_DENIED, RESOURCE_EXHAUSTED). A request that does not
  // parse gets this error first.
  using Entry = std::function<absl::Status(grpc::CallbackServerContext*)>;

  // The usual Entry: CallGate::Enter with `feature` ("" for none).
  static Entry GateEntry(const CallGate* gate, std::string_view feature) {
    return [gate, feature = std::string(feature)](grpc::CallbackServerContext* context) {
      return gate->Enter(*context, feature).status();
    };
  }

  // Serves unary method `method` of Outer: parses the request (one that does not parse gets
  // NotParsed(entry(context))), calls (self->*handler)(context, &request, &response), and sends
  // the response when it returns OK, or its error (see ToGrpc). The handler makes its own
  // entry checks. Call from the constructor of `self`, which must derive from this class.
  // Aborts at once when Outer has no such unary method with these message types (a programming
  // error).
  template <typename Self, typename Request, typename Response>
  void ServeParsed(Self* self, std::string_view method, Entry entry,
                   absl::Status (Self::*handler)(grpc::CallbackServerContext*, const Request*,
                                                 Response*)) {
    const std::string name = absl::StrCat(Outer::service_full_name(), ".", std::string(method));
    const google::protobuf::MethodDescriptor* const m =
        google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(name);
    if (m == nullptr || m->client_streaming() || m->server_streaming() ||
        m->input_type() != Request::descriptor() || m->output_type() != Response::descriptor()) {
      spdlog::critical("ServeParsed: {} is not a unary method from {} to {}", name,
                       Request::descriptor()->full_name(), Response::descriptor()->full_name());
      std::abort();
    }
    this->MarkMethodRawCallback(
        m->index(), new grpc::internal::CallbackUnaryHandler<grpc::ByteBuffer, grpc::ByteBuffer>(
                        [self, handler, entry = std::move(entry)](
                            grpc::CallbackServerContext* context, const grpc::ByteBuffer* raw,
                            grpc::ByteBuffer* out) {
                          Request request;
                          if (!Parses(*raw, &request)) {
                            return FinishUnary(context, NotParsed<Request>(entry(context)));
                          }
                          Response response;
                          const absl::Status s = (self->*handler)(context, &request, &response);
                          if (s.ok()) *out = SerializeMessage(response);
                          return FinishUnary(context, s);
                        }));
  }
};

}  // namespace urn::server

#endif  // URN_SERVER_PARSED_UNARY_H_
