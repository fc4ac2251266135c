// urn::Client's weight-store calls.
#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "call.h"
#include "table/utf8.h"
#include "urn/client.h"
#include "urn/v1/weight_stores.grpc.pb.h"

namespace urn {
namespace {

using client_internal::FromGrpc;

}  // namespace

absl::StatusOr<v1::WeightStore> Client::CreateWeightStore(
    const v1::CreateWeightStoreRequest& request) const {
  auto stub = v1::WeightStores::NewStub(channel_);
  grpc::ClientContext context;
  Prepare(context);
  v1::WeightStore response;
  grpc::Status s = stub->CreateWeightStore(&context, request, &response);
  if (!s.ok()) return FromGrpc(s);
  return response;
}

absl::StatusOr<v1::WeightStore> Client::GetWeightStore(const std::string& name) const {
  auto stub = v1::WeightStores::NewStub(channel_);
  v1::GetWeightStoreRequest request;
  request.set_name(name);
  return client_internal::Retrying<v1::WeightStore>(
      *this, [&](grpc::ClientContext& c, v1::WeightStore* r) {
        return stub->GetWeightStore(&c, request, r);
      });
}

absl::StatusOr<std::vector<v1::WeightStore>> Client::ListWeightStores() const {
  auto stub = v1::WeightStores::NewStub(channel_);
  std::vector<v1::WeightStore> all;
  v1::ListWeightStoresRequest request;
  request.set_page_size(1000);
  do {
    absl::StatusOr<v1::ListWeightStoresResponse> response =
        client_internal::Retrying<v1::ListWeightStoresResponse>(
            *this, [&](grpc::ClientContext& c, v1::ListWeightStoresResponse* r) {
              return stub->ListWeightStores(&c, request, r);
            });
    if (!response.ok()) return response.status();
    for (auto& w : *response->mutable_weight_stores()) all.push_back(std::move(w));
    request.set_page_token(response->next_page_token());
  } while (!request.page_token().empty());
  return all;
}

absl::Status Client::DeleteWeightStore(const std::string& name) const {
  auto stub = v1::WeightStores::NewStub(channel_);
  grpc::ClientContext context;
  Prepare(context);
  v1::DeleteWeightStoreRequest request;
  request.set_name(name);
  v1::DeleteWeightStoreResponse response;
  return FromGrpc(stub->DeleteWeightStore(&context, request, &response));
}

absl::StatusOr<std::vector<int64_t>> Client::Insert(const std::string& store,
                                                    const std::vector<std::string>& keys,
                                                    const std::vector<double>& priorities,
                                                    std::vector<int64_t>* stored) const {
  if (stored != nullptr) stored->clear();
  if (!priorities.empty() && priorities.size() != keys.size()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("priorities: %d values for %d keys (give none or one per key)",
                        priorities.size(), keys.size()));
  }
  // Messages of at most kMaxMessageKeys keys and kMaxMessageKeyBytes: a key costs its bytes, its
  // tag and length (3) and its priority (8), so that a message stays far below urnd's 4 MiB.
  const size_t per_key = 3 + (priorities.empty() ? 0 : sizeof(double));
  std::vector<size_t> ends;  // message m holds keys [ends[m - 1], ends[m])
  for (size_t at = 0, bytes = 0; at < keys.size(); ++at) {
    // Keys are protobuf strings: urnd could not read a message with one that is no UTF-8.
    if (const size_t valid = table::Utf8Prefix(keys[at]); valid != keys[at].size()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "keys[%d]: not valid UTF-8 at its byte %d; nothing was inserted", at, valid + 1));
    }
    const size_t cost = keys[at].size() + per_key;
    const size_t in_message = at - (ends.empty() ? 0 : ends.back());
    if (bytes > 0 && (bytes + cost > kMaxMessageKeyBytes || in_message == kMaxMessageKeys)) {
      ends.push_back(at);
      bytes = 0;
    }
    bytes += cost;
  }
  ends.push_back(keys.size());  // also the one empty message of no keys
  auto stub = v1::WeightStores::NewStub(channel_);
  grpc::ClientContext context;
  Prepare(context);
  // The timeout once per message: a large insert is not cut off by the deadline of one call.
  context.set_deadline(
      client_internal::DeadlineAfter(options_.timeout, static_cast<int64_t>(ends.size())));
  auto stream = stub->Insert(&context);
  std::vector<int64_t> slots;
  slots.reserve(keys.size());
  bool exchanged = true;
  for (size_t m = 0, at = 0; exchanged && m < ends.size(); at = ends[m++]) {
    v1::InsertRequest request;
    if (m == 0) request.set_weight_store(store);
    request.mutable_keys()->Add(keys.begin() + at, keys.begin() + ends[m]);
    if (!priorities.empty()) {
      request.mutable_priorities()->Add(priorities.begin() + at, priorities.begin() + ends[m]);
    }
    v1::InsertResponse response;
    exchanged = stream->Write(request) && stream->Read(&response);
    if (exchanged) slots.insert(slots.end(), response.slots().begin(), response.slots().end());
  }
  if (exchanged) stream->WritesDone();
  v1::InsertResponse extra;
  while (stream->Read(&extra)) {
  }
  grpc::Status s = stream->Finish();
  if (!s.ok()) {
    if (stored != nullptr) *stored = std::move(slots);
    return FromGrpc(s);
  }
  if (!exchanged || slots.size() != keys.size()) {
    return absl::InternalError(
        absl::StrFormat("Insert: the server sent %d slots for %d keys", slots.size(), keys.size()));
  }
  return slots;
}

absl::Status Client::UpdatePriorities(
    const std::string& store, const std::function<bool(v1::UpdatePrioritiesRequest*)>& next,
    int window, const std::function<void(const v1::UpdatePrioritiesResponse&)>& on_ack,
    StreamCanceller* cancel) const {
  if (window < 1) return absl::InvalidArgumentError("window: must be at least 1");
  auto stub = v1::WeightStores::NewStub(channel_);
  grpc::ClientContext context;
  Prepare(context);
  context.set_deadline(std::chrono::system_clock::time_point::max());
  const client_internal::CancelScope scope(cancel, &context);
  auto stream = stub->UpdatePriorities(&context);
  int64_t sent = 0, acknowledged = 0;
  v1::UpdatePrioritiesResponse ack;
  absl::Status mismatch;
  const auto read_ack = [&]() -> bool {
    if (!stream->Read(&ack)) return false;
    if (ack.acknowledged_sequence() != acknowledged + 1) {
      mismatch = absl::InternalError(absl::StrFormat(
          "acknowledgement %d where %d was due", ack.acknowledged_sequence(), acknowledged + 1));
      return false;
    }
    ++acknowledged;
    if (on_ack) on_ack(ack);
    return true;
  };
  bool open = true;
  v1::UpdatePrioritiesRequest request;
  while (open) {
    request.Clear();
    if (!next(&request)) break;
    if (sent == 0) request.set_weight_store(store);
    request.set_sequence(sent + 1);
    if (!stream->Write(request)) break;  // the server ended the stream: Finish says why
    ++sent;
    while (open && sent - acknowledged >= window) open = read_ack();
  }
  stream->WritesDone();
  while (open && acknowledged < sent) open = read_ack();
  if (!mismatch.ok()) {
    context.TryCancel();
    stream->Finish();
    return mismatch;
  }
  grpc::Status s = stream->Finish();
  if (!s.ok()) return scope.Status(FromGrpc(s));
  // The store is named in the first batch: with none, nothing has checked that it exists (and
  // is the caller's), so an empty update of a missing store would look acknowledged.
  if (sent == 0) return GetWeightStore(store).status();
  if (acknowledged != sent) {
    return absl::UnavailableError(absl::StrFormat(
        "the server acknowledged %d of %d batches and ended the stream", acknowledged, sent));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::SampleWeightsResponse> Client::SampleWeights(
    const v1::SampleWeightsRequest& request) const {
  auto stub = v1::WeightStores::NewStub(channel_);
  grpc::ClientContext context;
  Prepare(context);
  v1::SampleWeightsResponse response;
  grpc::Status s = stub->SampleWeights(&context, request, &response);
  if (!s.ok()) return FromGrpc(s);
  return response;
}

absl::StatusOr<std::vector<double>> Client::GetPriorities(const std::string& store, int64_t first,
                                                          int64_t count) const {
  if (count < 0) return absl::InvalidArgumentError(absl::StrCat("count: ", count, " is negative"));
  auto stub = v1::WeightStores::NewStub(channel_);
  std::vector<double> all;
  while (count > 0) {
    v1::GetPrioritiesRequest request;
    request.set_weight_store(store);
    request.set_first_slot(first);
    request.set_count(std::min<int64_t>(count, 65536));
    absl::StatusOr<v1::GetPrioritiesResponse> response =
        client_internal::Retrying<v1::GetPrioritiesResponse>(
            *this, [&](grpc::ClientContext& c, v1::GetPrioritiesResponse* r) {
              return stub->GetPriorities(&c, request, r);
            });
    if (!response.ok()) return response.status();
    all.insert(all.end(), response->priorities().begin(), response->priorities().end());
    // Fewer than asked: the range reached the store's capacity.
    if (response->priorities_size() < request.count()) break;
    first += response->priorities_size();
    count -= response->priorities_size();
  }
  return all;
}

}  // namespace urn
