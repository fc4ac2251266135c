// urn.v1.Datasets over the DatasetRegistry: upload (client streaming), get, list, delete.
// Every handler authenticates first; names are scoped to the caller (another user's dataset
// is NOT_FOUND); an admin lists every user's datasets.
#ifndef URN_SERVER_DATASETS_DATASETS_SERVICE_H_
#define URN_SERVER_DATASETS_DATASETS_SERVICE_H_

#include "call_auth.h"
#include "datasets/dataset_registry.h"
#include "parsed_unary.h"
#include "urn/v1/datasets.grpc.pb.h"
#include "work_pool.h"

namespace urn::server {

// Fills a wire description of a dataset.
void DescribeDataset(const DatasetEntry& entry, v1::Dataset* out);

// CreateDataset is served raw (its messages parsed by urnd, see raw_message.h), so that a
// message that does not parse fails the upload instead of ending it as if complete; the unary
// methods too (parsed_unary.h), so that a request that does not parse is named as such.
class DatasetsService final
    : public ParsedUnaryMethods<
          v1::Datasets, v1::Datasets::WithRawCallbackMethod_CreateDataset<v1::Datasets::Service>> {
 public:
  // Bytes per data message, as the API promises.
  static constexpr size_t kMaxChunkBytes = 1 << 20;

  // An upload's parsing and its end (rows to columnar blocks in storage) run on `pool`.
  // REQUIRES: all three outlive the service, and the pool is idle when it is destroyed (the
  // server shut down).
  DatasetsService(const CallGate* gate, DatasetRegistry* registry, WorkPool* pool)
      : gate_(gate), registry_(registry), pool_(pool) {
    ServeParsed(this, "GetDataset", GateEntry(gate, ""), &DatasetsService::HandleGetDataset);
    ServeParsed(this, "ListDatasets", GateEntry(gate, ""), &DatasetsService::HandleListDatasets);
    ServeParsed(this, "DeleteDataset", GateEntry(gate, ""), &DatasetsService::HandleDeleteDataset);
  }

  grpc::ServerReadReactor<grpc::ByteBuffer>* CreateDataset(grpc::CallbackServerContext* context,
                                                           grpc::ByteBuffer* response) override;
  absl::Status HandleGetDataset(grpc::CallbackServerContext* context,
                                const v1::GetDatasetRequest* request, v1::Dataset* response);
  absl::Status HandleListDatasets(grpc::CallbackServerContext* context,
                                  const v1::ListDatasetsRequest* request,
                                  v1::ListDatasetsResponse* response);
  absl::Status HandleDeleteDataset(grpc::CallbackServerContext* context,
                                   const v1::DeleteDatasetRequest* request,
                                   v1::DeleteDatasetResponse* response);

 private:
  const CallGate* const gate_;
  DatasetRegistry* const registry_;
  WorkPool* const pool_;
};

}  // namespace urn::server

#endif  // URN_SERVER_DATASETS_DATASETS_SERVICE_H_
