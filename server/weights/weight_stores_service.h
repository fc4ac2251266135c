// urn.v1.WeightStores over the WeightStoreRegistry: create, get, list, delete; Insert and
// UpdatePriorities (bidirectional streams, one response per request message, sent once the
// change is durable); SampleWeights; GetPriorities.
//
// Every handler authenticates first; names are scoped to the caller (another user's store is
// NOT_FOUND). Every bad field is INVALID_ARGUMENT naming it ("priorities[3]: ..."). In a stream,
// a message with any invalid entry changes nothing and ends the stream with that error, after
// the responses to the messages before it; so does a message that arrives after the stream's key
// was revoked or its user deleted (UNAUTHENTICATED).
//
// Metrics: the priorities of every acknowledged UpdatePriorities batch are counted in
// urn_priority_updates_total{plan} (metrics/metrics.h).
//
// Backpressure: a stream handles one message at a time in arrival order and keeps at most
// kMaxQueuedResponses responses waiting for a slow reader before it stops reading.
#ifndef URN_SERVER_WEIGHTS_WEIGHT_STORES_SERVICE_H_
#define URN_SERVER_WEIGHTS_WEIGHT_STORES_SERVICE_H_

#include <cstdint>
#include <functional>
#include <string_view>

#include "call_auth.h"
#include "metrics/metrics.h"
#include "parsed_unary.h"
#include "test_hook.h"
#include "urn/v1/weight_stores.grpc.pb.h"
#include "weights/weight_store_registry.h"

namespace urn::server {

// Insert and UpdatePriorities are served raw (their messages parsed by urnd, see
// raw_message.h), so that a message that does not parse ends the stream INVALID_ARGUMENT instead
// of OK as if the client had finished; the unary methods too (parsed_unary.h).
class WeightStoresService final
    : public ParsedUnaryMethods<v1::WeightStores,
                                v1::WeightStores::WithRawCallbackMethod_Insert<
                                    v1::WeightStores::WithRawCallbackMethod_UpdatePriorities<
                                        v1::WeightStores::Service>>> {
 public:
  // SampleWeights draws, GetPriorities slots, entries of one Insert or UpdatePriorities message.
  static constexpr int kMaxBatch = 65536;
  static constexpr int kDefaultBatch = 256;
  static constexpr double kDefaultBeta = 0.4;
  static constexpr size_t kMaxQueuedResponses = 16;

  // REQUIRES: `gate`, `registry` and `metrics` outlive the service.
  WeightStoresService(const CallGate* gate, WeightStoreRegistry* registry, int64_t max_store_slots,
                      metrics::ServerMetrics* metrics)
      : gate_(gate), registry_(registry), max_store_slots_(max_store_slots), metrics_(metrics) {
    constexpr std::string_view kWeights = auth::kFeatureWeights;
    ServeParsed(this, "CreateWeightStore", GateEntry(gate, kWeights),
                &WeightStoresService::HandleCreateWeightStore);
    ServeParsed(this, "GetWeightStore", GateEntry(gate, kWeights),
                &WeightStoresService::HandleGetWeightStore);
    ServeParsed(this, "ListWeightStores", GateEntry(gate, kWeights),
                &WeightStoresService::HandleListWeightStores);
    ServeParsed(this, "DeleteWeightStore", GateEntry(gate, kWeights),
                &WeightStoresService::HandleDeleteWeightStore);
    ServeParsed(this, "SampleWeights", GateEntry(gate, kWeights),
                &WeightStoresService::HandleSampleWeights);
    ServeParsed(this, "GetPriorities", GateEntry(gate, kWeights),
                &WeightStoresService::HandleGetPriorities);
  }

  absl::Status HandleCreateWeightStore(grpc::CallbackServerContext* context,
                                       const v1::CreateWeightStoreRequest* request,
                                       v1::WeightStore* response);
  absl::Status HandleGetWeightStore(grpc::CallbackServerContext* context,
                                    const v1::GetWeightStoreRequest* request,
                                    v1::WeightStore* response);
  absl::Status HandleListWeightStores(grpc::CallbackServerContext* context,
                                      const v1::ListWeightStoresRequest* request,
                                      v1::ListWeightStoresResponse* response);
  absl::Status HandleDeleteWeightStore(grpc::CallbackServerContext* context,
                                       const v1::DeleteWeightStoreRequest* request,
                                       v1::DeleteWeightStoreResponse* response);
  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* Insert(
      grpc::CallbackServerContext* context) override;
  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* UpdatePriorities(
      grpc::CallbackServerContext* context) override;
  absl::Status HandleSampleWeights(grpc::CallbackServerContext* context,
                                   const v1::SampleWeightsRequest* request,
                                   v1::SampleWeightsResponse* response);
  absl::Status HandleGetPriorities(grpc::CallbackServerContext* context,
                                   const v1::GetPrioritiesRequest* request,
                                   v1::GetPrioritiesResponse* response);

  // For tests: SampleWeights runs `hook` after its checks and before its draw, where a
  // concurrent update may fall.
  void SetBeforeDrawForTesting(std::function<void()> hook) { before_draw_.Set(std::move(hook)); }

 private:
  // Authenticates and admits a bidirectional stream, which holds one of the plan's streams.
  // `extra` goes to the stream's constructor after the principal and the token.
  template <typename Stream, typename... Extra>
  Stream* Open(grpc::CallbackServerContext* context, Extra... extra);

  const CallGate* const gate_;
  WeightStoreRegistry* const registry_;
  const int64_t max_store_slots_;
  metrics::ServerMetrics* const metrics_;
  TestHook before_draw_;
};

}  // namespace urn::server

#endif  // URN_SERVER_WEIGHTS_WEIGHT_STORES_SERVICE_H_
