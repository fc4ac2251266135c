// Messages of streams that urnd reads and writes as raw bytes (grpc::ByteBuffer).
//
// Why. In gRPC's callback API a message of a client stream that does not parse fails the read
// exactly as the client's end of the stream does (OnReadDone(false)). A typed reactor therefore
// took a malformed message in the middle of an upload for the end, and committed the rows
// before it as the whole dataset; an UpdatePriorities or Insert stream ended OK. Streams whose
// messages urnd parses itself tell the two apart: a message that does not parse ends the call
// INVALID_ARGUMENT, naming the message.
#ifndef URN_SERVER_RAW_MESSAGE_H_
#define URN_SERVER_RAW_MESSAGE_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/impl/codegen/proto_utils.h"
#include "grpcpp/support/byte_buffer.h"

namespace urn::server {

// Parses message number `index` (from 1) of a stream into *out; consumes `raw`.
// INVALID_ARGUMENT "message <index>: not a valid <type><consequence>" when it does not parse.
template <typename Message>
absl::Status ParseStreamMessage(grpc::ByteBuffer& raw, int64_t index, Message* out,
                                const char* consequence) {
  if (grpc::SerializationTraits<Message>::Deserialize(&raw, out).ok()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("message ", index, ": not a valid ",
                                                 Message::descriptor()->full_name(), consequence));
}

// `message` serialized into a ByteBuffer (to write on a raw stream).
template <typename Message>
grpc::ByteBuffer SerializeMessage(const Message& message) {
  grpc::ByteBuffer out;
  bool own = false;
  (void)grpc::SerializationTraits<Message>::Serialize(message, &out, &own);
  return out;
}

}  // namespace urn::server

#endif  // URN_SERVER_RAW_MESSAGE_H_
