// urn::Client: the C++ client library for urnd.
//
//   urn::ClientOptions opts;
//   opts.server = "127.0.0.1:50051";
//   opts.key = "urn_...";              // sent as `authorization: Bearer <key>`
//   absl::StatusOr<urn::Client> client = urn::Client::Connect(opts);
//   absl::StatusOr<bool> serving = client->Healthy();
//
// Every method takes its deadline from ClientOptions::timeout unless stated otherwise and
// returns the server's status unchanged (code and message, and urnd's quota details: see
// urn/errors.h for reading them). Idempotent calls are retried as ClientOptions says. Thread
// safety: a Client may be used from many threads at once; it shares one gRPC channel.
#ifndef URN_CLIENT_CLIENT_H_
#define URN_CLIENT_CLIENT_H_

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "urn/v1/admin.pb.h"
#include "urn/v1/datasets.pb.h"
#include "urn/v1/sampling.pb.h"
#include "urn/v1/usage.pb.h"
#include "urn/v1/weight_stores.pb.h"

namespace grpc {
class Channel;
class ClientContext;
}  // namespace grpc

namespace urn {

namespace client_internal {
class CancelScope;
}  // namespace client_internal

struct ClientOptions {
  // host:port of urnd.
  std::string server = "127.0.0.1:50051";
  // The API key, "urn_<keyid>_<secret>"; empty sends no authorization header.
  std::string key;
  // Path of a PEM CA bundle to verify the server with. With none of the three TLS paths set the
  // channel is plaintext.
  std::string tls_ca;
  // Paths of a PEM client certificate and its key, for mutual TLS (both or neither).
  std::string tls_cert;
  std::string tls_key;
  // Deadline for unary calls; Insert gets it once per message it sends.
  std::chrono::milliseconds timeout{10000};
  // While a call is open, a keepalive ping after this long without traffic; a connection whose
  // ping is not answered within keepalive_timeout fails its calls with UNAVAILABLE (a stream
  // from a server that hangs or vanished ends instead of waiting forever). 0: no pings.
  // urnd accepts pings every 10 s or more.
  std::chrono::milliseconds keepalive_time{30000};
  std::chrono::milliseconds keepalive_timeout{20000};
  // Retries of idempotent unary calls (Get*, List*, GetPriorities, GetUsage, GetServerInfo):
  // UNAVAILABLE with exponential backoff from initial_backoff, RESOURCE_EXHAUSTED after its
  // RetryInfo delay when that is at most max_backoff; at most max_attempts calls in all. Calls
  // that change state or charge rows (Create*, Delete*, streams, SampleWeights) are never retried.
  int max_attempts = 4;
  std::chrono::milliseconds initial_backoff{100};
  std::chrono::milliseconds max_backoff{5000};
};

// How far an upload has come (CreateDataset's progress callback).
struct UploadProgress {
  int64_t bytes_sent = 0;
  int64_t total_bytes = -1;  // -1 when unknown (standard input)
  int64_t lines_sent = 0;    // newlines in the bytes sent: about the rows, for TSV and CSV
};

// Cancels a stream (Sample, Shuffle, UpdatePriorities) from another thread: pass it to the
// call, and Cancel() from anywhere makes the call return CANCELLED soon after (a token already
// cancelled ends the call before it sends anything). One call at a time per token; Cancel()
// stays in force for later calls. Thread-safe.
class StreamCanceller {
 public:
  void Cancel();
  bool cancelled() const;

 private:
  friend class client_internal::CancelScope;
  // The call's context while it runs; Attach cancels it at once when Cancel() came first.
  void Attach(grpc::ClientContext* context);
  void Detach();

  mutable absl::Mutex mu_;
  grpc::ClientContext* context_ ABSL_GUARDED_BY(mu_) = nullptr;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
};

struct ServerInfo {
  std::string version;
  int64_t uptime_seconds = 0;
  bool tls = false;
};

class Client {
 public:
  // The largest message the client receives: 256 MiB (urnd's SampleWeights batches with long
  // keys pass 64 MiB).
  static constexpr int kMaxReceiveBytes = 256 << 20;

  // Creates the channel; does not contact the server. Fails when TLS files cannot be read, when
  // only one of tls_cert and tls_key is given, or when the key has a byte outside printable
  // ASCII (it could not be sent in a header).
  static absl::StatusOr<Client> Connect(const ClientOptions& options);

  // True when grpc.health.v1.Health reports SERVING for `service` ("" = the whole server).
  absl::StatusOr<bool> Healthy(const std::string& service = "") const;

  // Version and uptime of the server.
  absl::StatusOr<ServerInfo> GetServerInfo() const;

  // Uploads the file at `path` ("-" for standard input) as a dataset described by `header`,
  // in chunks of 1 MiB. `progress`, when set, is called after each chunk sent, until the client
  // learns that the server ended the upload (gRPC may take a few MiB more before it does). No
  // deadline (an upload takes as long as its file). Not retried: a failed upload leaves nothing
  // behind on the server, so the caller may retry.
  absl::StatusOr<v1::Dataset> CreateDataset(
      const v1::CreateDatasetHeader& header, const std::string& path,
      const std::function<void(const UploadProgress&)>& progress = nullptr) const;
  absl::StatusOr<v1::Dataset> GetDataset(const std::string& name) const;
  // Every dataset the caller can see (all pages).
  absl::StatusOr<std::vector<v1::Dataset>> ListDatasets() const;
  absl::Status DeleteDataset(const std::string& name) const;

  // Streams a sample: `on_batch` is called for every batch as it arrives, on the calling thread,
  // never after Sample returns; returning false cancels the stream. Flow control is gRPC's:
  // urnd sends ahead of the callback up to the HTTP/2 window (a few MiB), and is charged for
  // what it sent. No deadline (a sample may be long); not retried.
  // `cancel`, when given, ends the stream from another thread (StreamCanceller).
  absl::Status Sample(const v1::SampleRequest& request,
                      const std::function<bool(const v1::SampleBatch&)>& on_batch,
                      StreamCanceller* cancel = nullptr) const;
  // Streams an epoch shuffle, as Sample. Each batch carries the offset to resume from.
  absl::Status Shuffle(const v1::ShuffleRequest& request,
                       const std::function<bool(const v1::ShuffleBatch&)>& on_batch,
                       StreamCanceller* cancel = nullptr) const;

  // Weight stores.
  absl::StatusOr<v1::WeightStore> CreateWeightStore(
      const v1::CreateWeightStoreRequest& request) const;
  absl::StatusOr<v1::WeightStore> GetWeightStore(const std::string& name) const;
  // Every weight store the caller can see (all pages).
  absl::StatusOr<std::vector<v1::WeightStore>> ListWeightStores() const;
  absl::Status DeleteWeightStore(const std::string& name) const;
  // Bytes of keys that one Insert or UpdatePriorities message carries at most, counting each
  // key's framing and priority (urnd takes messages of up to 4 MiB).
  static constexpr size_t kMaxMessageKeyBytes = size_t{2} << 20;
  // Keys that one Insert message carries at most (urnd's limit per message).
  static constexpr size_t kMaxMessageKeys = 65536;
  // Inserts keys (priorities empty or one per key) and returns their slots. Keys go in messages
  // of at most kMaxMessageKeys keys and kMaxMessageKeyBytes, each inserted whole or not at all,
  // with the timeout once per message. On an error, the keys of the messages before it are stored:
  // their slots, for keys[0, stored->size()), go to `stored` when given.
  absl::StatusOr<std::vector<int64_t>> Insert(const std::string& store,
                                              const std::vector<std::string>& keys,
                                              const std::vector<double>& priorities = {},
                                              std::vector<int64_t>* stored = nullptr) const;
  // Streams priority updates to `store`: `next` fills each batch's slots or keys and priorities
  // (at most kMaxMessageKeys entries a batch; urnd refuses more, INVALID_ARGUMENT) and returns
  // false when there are no more. Sequence numbers are set here (1, 2, ...); at most
  // `window` batches are unacknowledged at once; `on_ack` sees each acknowledgement, in order
  // (its sequence, and by keys the indexes of keys that are not stored, which were skipped).
  // Returns OK only when every batch was acknowledged (durable); otherwise the server's error,
  // and the batches acknowledged before it are durable. No deadline; not retried. With no batch
  // at all, the store is looked up (NotFound when it does not exist). `cancel` as for Sample.
  absl::Status UpdatePriorities(
      const std::string& store, const std::function<bool(v1::UpdatePrioritiesRequest*)>& next,
      int window = 8,
      const std::function<void(const v1::UpdatePrioritiesResponse&)>& on_ack = nullptr,
      StreamCanceller* cancel = nullptr) const;
  absl::StatusOr<v1::SampleWeightsResponse> SampleWeights(
      const v1::SampleWeightsRequest& request) const;
  // Priorities of slots [first, first + count), fetched in pages; fewer when the range passes
  // the store's last slot. With count 0 nothing is asked of the server (an empty vector, even
  // for a store that does not exist).
  absl::StatusOr<std::vector<double>> GetPriorities(const std::string& store, int64_t first,
                                                    int64_t count) const;

  // Administration (admin keys only).
  absl::StatusOr<v1::CreateUserResponse> CreateUser(const std::string& name,
                                                    const std::string& plan) const;
  absl::StatusOr<v1::DeleteUserResponse> DeleteUser(const std::string& name) const;
  absl::Status SetPlan(const std::string& name, const std::string& plan) const;
  absl::StatusOr<v1::CreateKeyResponse> CreateKey(const std::string& user) const;
  // Every key (of `user` when not empty); never secrets.
  absl::StatusOr<std::vector<v1::KeyInfo>> ListKeys(const std::string& user = "") const;
  absl::Status RevokeKey(const std::string& key_id) const;

  // The caller's usage today and plan limits.
  absl::StatusOr<v1::GetUsageResponse> GetUsage() const;

  const ClientOptions& options() const { return options_; }
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }

  // Sets the deadline and authorization metadata on `context`.
  void Prepare(grpc::ClientContext& context) const;

 private:
  Client(ClientOptions options, std::shared_ptr<grpc::Channel> channel);

  ClientOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
};

}  // namespace urn

#endif  // URN_CLIENT_CLIENT_H_
