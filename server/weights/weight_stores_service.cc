#include "weights/weight_stores_service.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "call_auth.h"
#include "field_error.h"
#include "listing.h"
#include "names.h"
#include "random/counter_rng.h"
#include "raw_message.h"

namespace urn::server {
namespace {

absl::Status Invalid(const std::string& message) { return absl::InvalidArgumentError(message); }

// An error of the store's Insert / Update*: one about the batch's entries names their field;
// any other (the store was deleted, its log cannot be written) is passed on as it is.
absl::Status EntryError(const std::string& field, const absl::Status& s) {
  if (absl::IsInvalidArgument(s) || absl::IsNotFound(s) || absl::IsAlreadyExists(s)) {
    return InField(field, s);
  }
  return s;
}

void Describe(const HostedWeightStore& hosted, v1::WeightStore* out) {
  const internal::WeightStoreRecord& r = hosted.record;
  out->set_name(r.name());
  out->set_owner(r.owner());
  out->set_capacity(r.capacity());
  out->set_alpha(r.alpha());
  out->set_new_item_priority(r.has_initial_priority() ? v1::NEW_ITEM_PRIORITY_DEFAULT
                                                      : v1::NEW_ITEM_PRIORITY_MAX_SEEN);
  out->set_default_priority(r.initial_priority());
  out->set_created_unix(r.created_unix());
  if (hosted.durable) {
    out->set_size(static_cast<int64_t>(hosted.durable->store().size()));
    out->set_total(hosted.durable->store().total());
    out->set_max_priority(hosted.durable->store().position().max_priority);
  }
}

absl::Status CheckPriorities(const google::protobuf::RepeatedField<double>& priorities) {
  for (int i = 0; i < priorities.size(); ++i) {
    const double p = priorities[i];
    if (!(p >= 0) || !std::isfinite(p)) {
      return Invalid(absl::StrFormat("priorities[%d]: %g is not a finite number >= 0", i, p));
    }
  }
  return absl::OkStatus();
}

// A message of an Insert or UpdatePriorities stream is applied whole, under the store's lock,
// which draws wait for: `n` entries of `field` may be at most kMaxBatch.
absl::Status CheckEntries(std::string_view field, int n) {
  if (n <= WeightStoresService::kMaxBatch) return absl::OkStatus();
  return Invalid(absl::StrFormat(
      "%s: %d in one message, at most %d (each message is applied under the store's lock)", field,
      n, WeightStoresService::kMaxBatch));
}

uint64_t FreshSeed() {
  static std::atomic<uint64_t> counter{0};
  const uint64_t now =
      static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  return random::Mix64(now + counter.fetch_add(1) * random::kGolden);
}

// A bidirectional stream that answers each request message with one response, in order:
// Handle() runs on each message as it arrives; responses are written one at a time, and at
// most kMaxQueuedResponses wait before the stream stops reading. The first error ends the
// stream after the responses already queued.
template <typename Request, typename Response>
class BatchStream : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  BatchStream(const CallGate* gate, WeightStoreRegistry* registry,
              absl::StatusOr<auth::Principal> who,
              absl::StatusOr<auth::Admission::StreamToken> token)
      : gate_(gate), registry_(registry) {
    if (!token.ok()) {
      this->Finish(ToGrpc(token.status()));
      return;
    }
    who_ = *std::move(who);
    token_.emplace(*std::move(token));
    this->StartRead(&raw_);
  }

  void OnReadDone(bool ok) override {
    absl::Status error;
    Response response;
    if (ok) {
      // The call was authenticated when it began: a message that comes after its key was
      // revoked or its user deleted ends the stream unapplied (those before it stand).
      error = gate_->StillValid(who_, "stream", auth::kFeatureWeights, "; it was not applied");
      // Parsed here, not by gRPC: a message that does not parse ended the stream OK as if the
      // client had finished (raw_message.h).
      if (error.ok()) {
        error = ParseStreamMessage(raw_, ++messages_, &request_, "; it was not applied");
      }
      if (error.ok()) error = Resolve();
      if (error.ok()) error = Handle(request_, response);
    }
    absl::MutexLock lock(&mu_);
    if (!ok || !error.ok()) {
      reading_done_ = true;
      status_ = error;
      MaybeFinish();
      return;
    }
    queue_.push_back(SerializeMessage(response));
    if (!writing_) {
      writing_ = true;
      this->StartWrite(&queue_.front());
    }
    if (queue_.size() < WeightStoresService::kMaxQueuedResponses) {
      this->StartRead(&raw_);
    } else {
      read_paused_ = true;
    }
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    queue_.pop_front();
    if (!ok) {  // the client is gone
      writing_ = false;
      if (!read_paused_ && !reading_done_) return;  // the pending read will fail and finish
      reading_done_ = true;
      status_ = absl::CancelledError("the client went away");
      MaybeFinish();
      return;
    }
    if (!queue_.empty()) {
      this->StartWrite(&queue_.front());
    } else {
      writing_ = false;
    }
    if (read_paused_ && queue_.size() < WeightStoresService::kMaxQueuedResponses) {
      read_paused_ = false;
      this->StartRead(&raw_);
    }
    MaybeFinish();
  }

  void OnDone() override { delete this; }

 protected:
  virtual absl::Status Handle(const Request& request, Response& response) = 0;
  storage::DurableWeightStore& durable() { return *store_->durable; }
  const CallGate& gate() const { return *gate_; }
  // The caller, with the plan it has now (refreshed before each message).
  const auth::Principal& who() const { return who_; }

 private:
  // The store named by the first message; later messages may repeat it.
  absl::Status Resolve() {
    const std::string& name = request_.weight_store();
    if (store_ != nullptr) {
      if (!name.empty() && name != store_->record.name()) {
        return Invalid("weight_store: a stream serves the one weight store of its first message");
      }
      return absl::OkStatus();
    }
    if (name.empty()) return Invalid("weight_store: required in the first message");
    absl::StatusOr<std::shared_ptr<HostedWeightStore>> store = registry_->Get(who_.user, name);
    if (!store.ok()) return InField("weight_store", store.status());
    store_ = *std::move(store);
    return absl::OkStatus();
  }

  void MaybeFinish() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (reading_done_ && !writing_ && !finished_) {
      finished_ = true;
      token_.reset();  // before the client can see the end and open its next stream
      this->Finish(ToGrpc(status_));
    }
  }

  const CallGate* const gate_;
  WeightStoreRegistry* const registry_;
  auth::Principal who_;
  // One of the plan's concurrent streams: set by the constructor, reset by the one
  // MaybeFinish() that finishes (under mu_), so never touched by two threads at once.
  std::optional<auth::Admission::StreamToken> token_;
  std::shared_ptr<HostedWeightStore> store_;  // set by the first message
  grpc::ByteBuffer raw_;                      // one read at a time
  int64_t messages_ = 0;                      // read so far (by the one read at a time)
  Request request_;                           // raw_, parsed

  absl::Mutex mu_;
  std::deque<grpc::ByteBuffer> queue_ ABSL_GUARDED_BY(mu_);  // Responses; front: being written
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool read_paused_ ABSL_GUARDED_BY(mu_) = false;
  bool reading_done_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
};

class InsertStream final : public BatchStream<v1::InsertRequest, v1::InsertResponse> {
 public:
  using BatchStream::BatchStream;

 private:
  absl::Status Handle(const v1::InsertRequest& request, v1::InsertResponse& response) override {
    if (absl::Status s = CheckEntries("keys", request.keys_size()); !s.ok()) return s;
    if (request.priorities_size() != 0 && request.priorities_size() != request.keys_size()) {
      return Invalid(absl::StrFormat("priorities: %d values for %d keys (give none or one per key)",
                                     request.priorities_size(), request.keys_size()));
    }
    if (absl::Status s = CheckPriorities(request.priorities()); !s.ok()) return s;
    const std::vector<std::string> keys(request.keys().begin(), request.keys().end());
    // What the keys add to the store's memory, less the keys they evict from a full ring, is
    // reserved until they are stored (then the store counts them), so that inserts at once
    // count against each other. N inserts into one full ring at once may each subtract the same
    // evicted keys: together they can pass by up to N - 1 times those keys' bytes.
    MemoryBudget::Reservation memory(gate().memory_budget(), &who());
    if (absl::Status s =
            memory.Resize(std::max<int64_t>(0, durable().store().InsertKeyGrowth(keys)),
                          absl::StrCat(request.keys_size(), " more keys"));
        !s.ok()) {
      return s;
    }
    absl::StatusOr<std::vector<uint64_t>> slots = durable().Insert(
        keys, absl::MakeConstSpan(request.priorities().data(), request.priorities_size()));
    if (!slots.ok()) {
      const absl::string_view why = slots.status().message();
      const bool about_keys = absl::IsAlreadyExists(slots.status()) ||
                              absl::StartsWith(why, "key") ||
                              absl::StartsWith(why, "cannot insert");
      return EntryError(about_keys ? "keys" : "priorities", slots.status());
    }
    for (uint64_t s : *slots) response.add_slots(static_cast<int64_t>(s));
    return absl::OkStatus();
  }
};

class UpdateStream final
    : public BatchStream<v1::UpdatePrioritiesRequest, v1::UpdatePrioritiesResponse> {
 public:
  UpdateStream(const CallGate* gate, WeightStoreRegistry* registry,
               absl::StatusOr<auth::Principal> who,
               absl::StatusOr<auth::Admission::StreamToken> token, metrics::CounterFamily* updates)
      : BatchStream(gate, registry, who, std::move(token)), updates_(updates) {}

 private:
  absl::Status Handle(const v1::UpdatePrioritiesRequest& request,
                      v1::UpdatePrioritiesResponse& response) override {
    if (request.slots_size() > 0 && request.keys_size() > 0) {
      return Invalid("slots, keys: name the entries by slots or by keys, not both");
    }
    const bool by_key = request.keys_size() > 0;
    int n = by_key ? request.keys_size() : request.slots_size();
    if (absl::Status s = CheckEntries(by_key ? "keys" : "slots", n); !s.ok()) return s;
    if (request.priorities_size() != n) {
      return Invalid(absl::StrFormat("priorities: %d values for %d %s", request.priorities_size(),
                                     n, by_key ? "keys" : "slots"));
    }
    if (absl::Status s = CheckPriorities(request.priorities()); !s.ok()) return s;
    const auto priorities =
        absl::MakeConstSpan(request.priorities().data(), request.priorities_size());
    absl::Status s;
    if (by_key) {
      const std::vector<std::string> keys(request.keys().begin(), request.keys().end());
      absl::StatusOr<std::vector<size_t>> skipped = durable().UpdateKeys(keys, priorities);
      if (!skipped.ok()) return EntryError("priorities", skipped.status());
      for (const size_t i : *skipped) response.add_skipped(static_cast<int32_t>(i));
      n -= static_cast<int>(skipped->size());
    } else {
      const int64_t capacity = static_cast<int64_t>(durable().store().capacity());
      std::vector<uint64_t> slots(n);
      for (int i = 0; i < n; ++i) {
        const int64_t slot = request.slots(i);
        if (slot < 0 || slot >= capacity) {
          return Invalid(absl::StrFormat("slots[%d]: %d is outside [0, %d) (the capacity)", i, slot,
                                         capacity));
        }
        slots[i] = static_cast<uint64_t>(slot);
      }
      s = EntryError("priorities", durable().UpdateSlots(slots, priorities));
    }
    if (!s.ok()) return s;
    updates_->With({who().plan}).Increment(static_cast<uint64_t>(n));
    response.set_acknowledged_sequence(request.sequence());
    return absl::OkStatus();
  }

  // urn_priority_updates_total, counted under the plan the caller has at each message.
  metrics::CounterFamily* const updates_;
};

}  // namespace

absl::Status WeightStoresService::HandleCreateWeightStore(
    grpc::CallbackServerContext* context, const v1::CreateWeightStoreRequest* request,
    v1::WeightStore* response) {
  absl::StatusOr<auth::Principal> who = gate_->Enter(*context, auth::kFeatureWeights);
  if (!who.ok()) return who.status();
  if (absl::Status s = CheckResourceName("name", request->name()); !s.ok()) {
    return s;
  }
  if (absl::Status s =
          gate_->admission().CheckLimit(*who, "capacity_per_store", request->capacity());
      !s.ok()) {
    return s;
  }
  if (request->capacity() < 1 || request->capacity() > max_store_slots_) {
    return Invalid(
        absl::StrFormat("capacity: %d is not between 1 and %d (this "
                        "server's --max-store-slots)",
                        request->capacity(), max_store_slots_));
  }
  // Reserved until the store is registered (then the registry counts it), so that creates at
  // once count against each other.
  MemoryBudget::Reservation memory(gate_->memory_budget(), &*who);
  if (absl::Status s =
          memory.Resize(request->capacity() * MemoryBudget::kStoreBytesPerSlot,
                        absl::StrCat("a weight store of ", request->capacity(), " slots"));
      !s.ok()) {
    return s;
  }
  const double alpha = request->has_alpha() ? request->alpha() : 1.0;
  if (!(alpha >= 0) || !std::isfinite(alpha)) {
    return Invalid(absl::StrFormat("alpha: %g is not a finite number >= 0", alpha));
  }
  internal::WeightStoreRecord record;
  record.set_owner(who->user);
  record.set_name(request->name());
  record.set_capacity(request->capacity());
  record.set_alpha(alpha);
  switch (request->new_item_priority()) {
    case v1::NEW_ITEM_PRIORITY_UNSPECIFIED:
    case v1::NEW_ITEM_PRIORITY_MAX_SEEN:
      if (request->default_priority() != 0) {
        return Invalid(
            "default_priority: only used with "
            "new_item_priority NEW_ITEM_PRIORITY_DEFAULT");
      }
      break;
    case v1::NEW_ITEM_PRIORITY_DEFAULT: {
      const double p = request->default_priority() + 0.0;  // -0 is stored as +0
      if (!(p >= 0) || !std::isfinite(p) || !(std::pow(p, alpha) <= weights::SumTree::kMaxWeight)) {
        return Invalid(
            absl::StrFormat("default_priority: %g is not a finite number >= 0 "
                            "whose alpha-th power is at most 2^990",
                            p));
      }
      if (p > 0 && std::pow(p, alpha) == 0) {  // checked here, before the store is allocated
        return Invalid(absl::StrFormat(
            "default_priority: %g to the power alpha = %g is 0 in double precision (such items "
            "would never be drawn); use 0 or a larger priority",
            p, alpha));
      }
      record.set_has_initial_priority(true);
      record.set_initial_priority(p);
      break;
    }
    default:
      return Invalid(
          absl::StrCat("new_item_priority: unknown value ", request->new_item_priority()));
  }
  absl::StatusOr<std::shared_ptr<HostedWeightStore>> hosted =
      registry_->Create(std::move(record), [&](int64_t stores) -> absl::Status {
        // The call was authenticated when it began. DeleteUser invalidates the user's keys before
        // it lists their stores (under the registry's lock, as this check runs, and after the
        // creates that passed it): so a store is either listed and deleted with its owner, or
        // refused here.
        if (absl::Status s = gate_->StillValid(*who, "call", auth::kFeatureWeights,
                                               " meanwhile; no weight store was created");
            !s.ok()) {
          return s;
        }
        return gate_->admission().CheckLimit(*who, "weight_stores", stores);
      });
  memory.Release();  // the registry counts the store now; before the reply, not after it
  if (!hosted.ok()) return hosted.status();
  Describe(**hosted, response);
  return absl::OkStatus();
}

absl::Status WeightStoresService::HandleGetWeightStore(grpc::CallbackServerContext* context,
                                                       const v1::GetWeightStoreRequest* request,
                                                       v1::WeightStore* response) {
  absl::StatusOr<auth::Principal> who = gate_->Enter(*context, auth::kFeatureWeights);
  if (!who.ok()) return who.status();
  absl::StatusOr<std::shared_ptr<HostedWeightStore>> hosted =
      registry_->Get(who->user, request->name());
  if (!hosted.ok()) return InField("name", hosted.status());
  Describe(**hosted, response);
  return absl::OkStatus();
}

absl::Status WeightStoresService::HandleListWeightStores(grpc::CallbackServerContext* context,
                                                         const v1::ListWeightStoresRequest* request,
                                                         v1::ListWeightStoresResponse* response) {
  absl::StatusOr<auth::Principal> who = gate_->Enter(*context, auth::kFeatureWeights);
  if (!who.ok()) return who.status();
  absl::StatusOr<ListPage> page = ParseListPage(*who, request->page_size(), request->page_token());
  if (!page.ok()) return page.status();
  std::vector<std::shared_ptr<HostedWeightStore>> stores =
      registry_->List(page->owner, page->after_owner, page->after_name, page->size + 1);
  for (size_t i = 0; i < stores.size() && i < page->size; ++i) {
    Describe(*stores[i], response->add_weight_stores());
  }
  if (stores.size() > page->size) {
    const internal::WeightStoreRecord& last = stores[page->size - 1]->record;
    response->set_next_page_token(PageToken(last.owner(), last.name()));
  }
  return absl::OkStatus();
}

absl::Status WeightStoresService::HandleDeleteWeightStore(
    grpc::CallbackServerContext* context, const v1::DeleteWeightStoreRequest* request,
    v1::DeleteWeightStoreResponse*) {
  absl::StatusOr<auth::Principal> who = gate_->Enter(*context, auth::kFeatureWeights);
  if (!who.ok()) return who.status();
  return NamedIn("name", registry_->Delete(who->user, request->name()));
}

template <typename Stream, typename... Extra>
Stream* WeightStoresService::Open(grpc::CallbackServerContext* context, Extra... extra) {
  absl::StatusOr<auth::Principal> who = gate_->Enter(*context, auth::kFeatureWeights);
  absl::StatusOr<auth::Admission::StreamToken> token =
      who.ok() ? gate_->admission().OpenStream(*who)
               : absl::StatusOr<auth::Admission::StreamToken>(who.status());
  return new Stream(gate_, registry_, std::move(who), std::move(token), extra...);
}

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* WeightStoresService::Insert(
    grpc::CallbackServerContext* context) {
  return Open<InsertStream>(context);
}

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* WeightStoresService::UpdatePriorities(
    grpc::CallbackServerContext* context) {
  return Open<UpdateStream>(context, &metrics_->priority_updates);
}

absl::Status WeightStoresService::HandleSampleWeights(grpc::CallbackServerContext* context,
                                                      const v1::SampleWeightsRequest* request,
                                                      v1::SampleWeightsResponse* response) {
  absl::StatusOr<auth::Principal> who = gate_->Enter(*context, auth::kFeatureWeights);
  if (!who.ok()) return who.status();
  absl::StatusOr<std::shared_ptr<HostedWeightStore>> hosted =
      registry_->Get(who->user, request->weight_store());
  if (!hosted.ok()) return InField("weight_store", hosted.status());
  const int batch = request->batch_size() == 0 ? kDefaultBatch : request->batch_size();
  if (batch < 1 || batch > kMaxBatch) {
    return Invalid(absl::StrFormat("batch_size: %d is not between 1 and %d", batch, kMaxBatch));
  }
  const double beta = request->has_beta() ? request->beta() : kDefaultBeta;
  if (!(beta >= 0 && beta <= 1)) {
    return Invalid(absl::StrFormat("beta: %g is not in [0, 1]", beta));
  }
  if (request->stratified() && request->without_replacement()) {
    return Invalid(
        "stratified: stratified draws are with replacement "
        "(unset without_replacement)");
  }
  // A batch that cannot be drawn is refused at once, and so is a caller with no rows left today.
  // The rows are charged only after the draw succeeded: an update that zeroes priorities between
  // this check and the draw fails the draw, and then nothing is charged. (A caller with fewer rows
  // left than the batch has the draw done and refused; a batch is at most kMaxBatch draws.)
  weights::WeightStore& store = (*hosted)->durable->store();
  const uint64_t positive = store.positive_slots();
  if (positive == 0 ||
      (request->without_replacement() && positive < static_cast<uint64_t>(batch))) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "weight_store: cannot draw %d slots%s: %d of its slots have positive priority", batch,
        request->without_replacement() ? " without replacement" : "", positive));
  }
  if (absl::Status s = gate_->admission().RequireRowsLeft(*who, batch); !s.ok()) {
    return s;
  }
  before_draw_.Run();
  const uint64_t seed = request->has_seed() ? request->seed() : FreshSeed();
  weights::WeightStore::SampleRequest r;
  r.batch_size = static_cast<uint64_t>(batch);
  r.seed = seed;
  r.batch = 0;
  r.beta = beta;
  r.replacement = !request->without_replacement();
  r.stratified = request->stratified();
  absl::StatusOr<std::vector<weights::WeightStore::Draw>> draws = store.Sample(r);
  if (!draws.ok()) return InField("weight_store", draws.status());
  if (absl::StatusOr<int64_t> granted =
          gate_->admission().Charge(*who, batch, /*all_or_nothing=*/true);
      !granted.ok()) {
    return granted.status();
  }
  response->set_seed(seed);
  response->mutable_slots()->Reserve(batch);
  response->mutable_probabilities()->Reserve(batch);
  response->mutable_importance_weights()->Reserve(batch);
  response->mutable_priorities()->Reserve(batch);
  for (const weights::WeightStore::Draw& d : *draws) {
    response->add_slots(static_cast<int64_t>(d.slot));
    response->add_keys(d.key);
    response->add_probabilities(d.probability);
    response->add_importance_weights(d.importance_weight);
    response->add_priorities(d.priority);
  }
  return absl::OkStatus();
}

absl::Status WeightStoresService::HandleGetPriorities(grpc::CallbackServerContext* context,
                                                      const v1::GetPrioritiesRequest* request,
                                                      v1::GetPrioritiesResponse* response) {
  absl::StatusOr<auth::Principal> who = gate_->Enter(*context, auth::kFeatureWeights);
  if (!who.ok()) return who.status();
  absl::StatusOr<std::shared_ptr<HostedWeightStore>> hosted =
      registry_->Get(who->user, request->weight_store());
  if (!hosted.ok()) return InField("weight_store", hosted.status());
  const int64_t capacity = (*hosted)->record.capacity();
  if (request->first_slot() < 0 || request->first_slot() >= capacity) {
    return Invalid(
        absl::StrFormat("first_slot: %d is outside [0, %d)", request->first_slot(), capacity));
  }
  if (request->count() < 1 || request->count() > kMaxBatch) {
    return Invalid(
        absl::StrFormat("count: %d is not between 1 and %d", request->count(), kMaxBatch));
  }
  const int64_t count = std::min(request->count(), capacity - request->first_slot());
  absl::StatusOr<std::vector<double>> priorities =
      (*hosted)->durable->store().Priorities(request->first_slot(), count);
  if (!priorities.ok()) return priorities.status();
  response->set_first_slot(request->first_slot());
  response->mutable_priorities()->Add(priorities->begin(), priorities->end());
  return absl::OkStatus();
}

}  // namespace urn::server
