// urn.v1.Sampling: Sample and Shuffle streams over registered datasets.
//
// Backpressure: a stream has at most one batch in flight and one more prepared meanwhile; the
// next is sent only when gRPC has taken the previous one (OnWriteDone), so a slow reader never
// makes the server hold more than two batches beyond HTTP/2 flow control. A sample is computed
// when the stream starts (its row ids: 8 bytes per row), or, for draws with replacement, drawn
// batch by batch as it is sent.
//
// Threads: a sample that may take O(rows) time (SpecRunsAtOnce in spec_sampler.h) is computed
// on the work pool, not on gRPC's callback threads, so that other calls go on meanwhile; the
// stream starts sending when it is done (or ends with CANCELLED without computing it when the
// client left while it waited). Everything else runs at once.
#ifndef URN_SERVER_SAMPLING_SAMPLING_SERVICE_H_
#define URN_SERVER_SAMPLING_SAMPLING_SERVICE_H_

#include <functional>
#include <utility>

#include "call_auth.h"
#include "datasets/dataset_registry.h"
#include "sampling/spec_sampler.h"
#include "test_hook.h"
#include "urn/v1/sampling.grpc.pb.h"
#include "work_pool.h"

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
  // A Sample batch with columns ends before the row that would take its columns past this many
  // bytes (but holds at least one row), so that batches stay well within what clients receive
  // (gRPC's default is 4 MiB; urn's clients take 64 MiB) and urnd never builds a batch of
  // 65536 rows of 16 MiB cells.
  static constexpr uint64_t kMaxBatchColumnBytes = uint64_t{2} << 20;

  // `threads`: of each sampler that runs in parallel. REQUIRES: gate, registry and pool outlive
  // the service, and the pool is idle when the service is destroyed (the server shut down).
  SamplingService(const CallGate* gate, const DatasetRegistry* registry, WorkPool* pool,
                  int threads)
      : gate_(gate), registry_(registry), pool_(pool), threads_(threads) {}

  // A v1::SampleRequest in, v1::SampleBatch messages out.
  grpc::ServerWriteReactor<grpc::ByteBuffer>* Sample(grpc::CallbackServerContext* context,
                                                     const grpc::ByteBuffer* request) override;
  // A v1::ShuffleRequest in, v1::ShuffleBatch messages out.
  grpc::ServerWriteReactor<grpc::ByteBuffer>* Shuffle(grpc::CallbackServerContext* context,
                                                      const grpc::ByteBuffer* request) override;

  // Runs `hook` on the work pool between a sample's computation and its first batch, so that
  // a test can cancel the call there. nullptr removes it.
  void SetBeforeBeginForTesting(std::function<void()> hook) { before_begin_.Set(std::move(hook)); }
  // Memory of the alias tables it keeps (AliasCache::MemoryBytes), for the memory budget.
  int64_t AliasCacheBytes() const { return alias_cache_.MemoryBytes(); }
  // Lets go of cached alias tables (MemoryBudget's shed; see AliasCache::Shed).
  void ShedAliasCache(int64_t need, MemoryBudget::Graveyard* freed) {
    alias_cache_.Shed(need, freed);
  }
  // Drops the cached alias tables of a deleted dataset's table (its upload id).
  void ForgetTable(const std::string& table_id) { alias_cache_.DropTable(table_id); }

 private:
  TestHook before_begin_;
  const CallGate* const gate_;
  const DatasetRegistry* const registry_;
  WorkPool* const pool_;
  const int threads_;
  AliasCache alias_cache_;
};

}  // namespace urn::server

#endif  // URN_SERVER_SAMPLING_SAMPLING_SERVICE_H_
