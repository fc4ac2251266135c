// urn.v1.Sampling: Sample and Shuffle streams over registered datasets.
//
// Backpressure: a stream has at most one batch in flight and one more prepared meanwhile; the
// next is sent only when gRPC has taken the previous one (OnWriteDone), so a slow reader never
// makes the server hold more than two batches beyond HTTP/2 flow control. A sample is computed
// when the stream starts (its row ids: 8 bytes per row), or, for draws with replacement, drawn
// batch by batch as it is sent.
#ifndef URN_SERVER_SAMPLING_SAMPLING_SERVICE_H_
#define URN_SERVER_SAMPLING_SAMPLING_SERVICE_H_

#include "call_auth.h"
#include "datasets/dataset_registry.h"
#include "sampling/spec_sampler.h"
#include "urn/v1/sampling.grpc.pb.h"

namespace urn::server {

// Both methods are served raw: the service parses the request itself and encodes each batch
// straight into gRPC's byte buffer (batch_encoder.h); the wire bytes are the generated
// messages' exactly.
class SamplingService final
    : public v1::Sampling::WithRawCallbackMethod_Sample<
          v1::Sampling::WithRawCallbackMethod_Shuffle<v1::Sampling::Service>> {
 public:
  static constexpr int kDefaultBatch = 1024;
  static constexpr int kMaxBatch = 65536;

  // REQUIRES: both outlive the service.
  SamplingService(const CallGate* gate, const DatasetRegistry* registry, int threads)
      : gate_(gate), registry_(registry), threads_(threads) {}

  // A v1::SampleRequest in, v1::SampleBatch messages out.
  grpc::ServerWriteReactor<grpc::ByteBuffer>* Sample(grpc::CallbackServerContext* context,
                                                     const grpc::ByteBuffer* request) override;
  // A v1::ShuffleRequest in, v1::ShuffleBatch messages out.
  grpc::ServerWriteReactor<grpc::ByteBuffer>* Shuffle(grpc::CallbackServerContext* context,
                                                      const grpc::ByteBuffer* request) override;

 private:
  const CallGate* const gate_;
  const DatasetRegistry* const registry_;
  const int threads_;
  AliasCache alias_cache_;
};

}  // namespace urn::server

#endif  // URN_SERVER_SAMPLING_SAMPLING_SERVICE_H_
