// urn_load: a load generator for urnd. It starts urnd in this process (on 127.0.0.1, with a
// fresh data directory), registers a weighted dataset of --rows rows and a weight store of
// --slots slots, then runs N concurrent streams of each RPC for --seconds and prints ids/s,
// batches/s, p50/p99 latency and acknowledged updates/s. Each scenario runs again against a
// no-op gRPC service with the same message shapes (proto/urn/bench/noop.proto), in the same
// process and on the same loopback, so that the transport's own limit is printed next to it.
//
//   ./build/bench/urn_load                      # the full run (about 2 minutes)
//   ./build/bench/urn_load --seconds 2 --rows 1000000 --streams 1,4
//   ./build/bench/urn_load --scenarios paced --streams 32 --paced-rate 100
//
// Latency: for a stream, the time between consecutive batches at the client; for SampleWeights,
// the call; for UpdatePriorities, from sending a batch to its acknowledgement (a durable write).
// These scenarios saturate the machine (every stream asks again at once), so their latency is
// mostly queueing: N streams sharing 2 cores wait about N / (batches/s) each, transport included.
// The `paced` scenarios instead ask for one 256-row batch per stream --paced-rate times a second
// (as training workers that fetch a batch per step) and time each from when it was due. The
// `heavy` scenario runs the paced Sample again while 4 more clients keep asking for samples that
// take O(rows) time (distinct keys over the whole dataset), which urnd computes on its work pool.
// One weighted Sample request, not measured, runs before the Sample and paced scenarios: it makes
// urnd build and cache the weight column's alias table, a one-time cost per dataset that would
// otherwise be timed in whichever scenario came first.
// Sample and SampleWeights clients use gRPC's callback API (no thread per stream, as an
// asynchronous data loader would); UpdatePriorities clients are one thread per stream.
// cpu_us/b: CPU time of the whole process (urnd or the no-op service, the clients, and the
// kernel's socket work charged to them) per batch: what each batch cost, next to the rate it
// reached (on a shared 2-core VM both swing by 20% and more between runs).
// Everything runs on 127.0.0.1 and stops by itself.
#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "random/counter_rng.h"
#include "urn/bench/noop.grpc.pb.h"
#include "urn/client.h"
#include "urn/v1/sampling.grpc.pb.h"
#include "urn/v1/weight_stores.grpc.pb.h"
#include "urn_server.h"

namespace urn::load {
namespace {

using Clock = std::chrono::steady_clock;

struct Flags {
  int seconds = 5;
  int64_t rows = 10'000'000;
  int64_t slots = 1'000'000;
  std::string streams = "1,32";
  int window = 8;
  std::string data_dir;
  std::string scenarios = "sample,weights,updates,paced,heavy";
  double paced_rate = 100;
};

// ---------------------------------------------------------------------------------------------
// The no-op twin of the services.

class NoopService final : public bench::NoopTransport::CallbackService {
 public:
  grpc::ServerWriteReactor<v1::SampleBatch>* Sample(grpc::CallbackServerContext*,
                                                    const v1::SampleRequest* request) override {
    return new SampleWriter(Batch(request->batch_size()), request->n());
  }

  grpc::ServerUnaryReactor* SampleWeights(grpc::CallbackServerContext* context,
                                          const v1::SampleWeightsRequest* request,
                                          v1::SampleWeightsResponse* response) override {
    const int n = request->batch_size();
    for (int j = 0; j < n; ++j) {
      response->add_slots(j * 977);
      response->add_keys("");
      response->add_probabilities(1e-6 * (j + 1));
      response->add_importance_weights(0.5);
      response->add_priorities(1.5);
    }
    response->set_seed(request->seed());
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  grpc::ServerBidiReactor<v1::UpdatePrioritiesRequest, v1::UpdatePrioritiesResponse>*
  UpdatePriorities(grpc::CallbackServerContext*) override {
    return new Acker();
  }

 private:
  const v1::SampleBatch& Batch(int size) {
    absl::MutexLock lock(&mu_);
    auto& b = batches_[size];
    if (b == nullptr) {
      b = std::make_unique<v1::SampleBatch>();
      for (int i = 0; i < size; ++i) b->add_row_ids(int64_t{9'999'000} - 7 * i);
    }
    return *b;
  }

  class SampleWriter final : public grpc::ServerWriteReactor<v1::SampleBatch> {
   public:
    SampleWriter(const v1::SampleBatch& batch, int64_t n) : batch_(batch), left_(n) { Next(); }
    void OnWriteDone(bool ok) override {
      if (!ok) return Finish(grpc::Status::CANCELLED);
      Next();
    }
    void OnDone() override { delete this; }

   private:
    // As urnd does, the last batch goes out with the status in one operation.
    void Next() {
      if (left_ <= 0) return Finish(grpc::Status::OK);
      left_ -= batch_.row_ids_size();
      if (left_ <= 0) return StartWriteAndFinish(&batch_, grpc::WriteOptions(), grpc::Status::OK);
      StartWrite(&batch_);
    }
    const v1::SampleBatch& batch_;
    int64_t left_;
  };

  class Acker final
      : public grpc::ServerBidiReactor<v1::UpdatePrioritiesRequest, v1::UpdatePrioritiesResponse> {
   public:
    Acker() { StartRead(&request_); }
    void OnReadDone(bool ok) override {
      absl::MutexLock lock(&mu_);
      if (!ok) {
        done_reading_ = true;
        MaybeFinish();
        return;
      }
      v1::UpdatePrioritiesResponse ack;
      ack.set_acknowledged_sequence(request_.sequence());
      queue_.push_back(ack);
      if (!writing_) {
        writing_ = true;
        StartWrite(&queue_.front());
      }
      StartRead(&request_);
    }
    void OnWriteDone(bool ok) override {
      absl::MutexLock lock(&mu_);
      queue_.pop_front();
      if (ok && !queue_.empty()) {
        StartWrite(&queue_.front());
      } else {
        writing_ = false;
      }
      MaybeFinish();
    }
    void OnDone() override { delete this; }

   private:
    void MaybeFinish() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      if (done_reading_ && !writing_ && !finished_) {
        finished_ = true;
        Finish(grpc::Status::OK);
      }
    }
    v1::UpdatePrioritiesRequest request_;
    absl::Mutex mu_;
    std::deque<v1::UpdatePrioritiesResponse> queue_ ABSL_GUARDED_BY(mu_);
    bool writing_ ABSL_GUARDED_BY(mu_) = false;
    bool done_reading_ ABSL_GUARDED_BY(mu_) = false;
    bool finished_ ABSL_GUARDED_BY(mu_) = false;
  };

  absl::Mutex mu_;
  std::map<int, std::unique_ptr<v1::SampleBatch>> batches_ ABSL_GUARDED_BY(mu_);
};

// ---------------------------------------------------------------------------------------------
// Measurement.

struct Stats {
  uint64_t items = 0;
  uint64_t batches = 0;
  uint64_t errors = 0;
  std::string first_error;
  std::vector<int64_t> latency_ns;
  double cpu_seconds = 0;  // of the whole process (client and server) during the scenario

  void Merge(Stats&& o) {
    items += o.items;
    batches += o.batches;
    errors += o.errors;
    if (first_error.empty()) first_error = std::move(o.first_error);
    latency_ns.insert(latency_ns.end(), o.latency_ns.begin(), o.latency_ns.end());
  }
  double Percentile(double q) {
    if (latency_ns.empty()) return 0;
    const size_t k = std::min(latency_ns.size() - 1, static_cast<size_t>(q * latency_ns.size()));
    std::nth_element(latency_ns.begin(), latency_ns.begin() + k, latency_ns.end());
    return static_cast<double>(latency_ns[k]) / 1000.0;
  }
  void Error(const grpc::Status& s) {
    ++errors;
    if (first_error.empty()) first_error = s.error_message();
  }
};

// User plus system CPU time of this process (server and client threads, and the kernel's work
// for their sockets where it is charged to them).
double ProcessCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  const auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return seconds(u.ru_utime) + seconds(u.ru_stime);
}

// Runs `body(stream index, deadline, stats)` on `streams` threads for `seconds`.
Stats RunFor(int streams, int seconds,
             const std::function<void(int, Clock::time_point, Stats&)>& body, double* elapsed) {
  std::vector<Stats> per(streams);
  std::vector<std::thread> threads;
  const double cpu = ProcessCpuSeconds();
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::seconds(seconds);
  for (int i = 0; i < streams; ++i) {
    threads.emplace_back([&, i] { body(i, deadline, per[i]); });
  }
  for (auto& t : threads) t.join();
  *elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  Stats all;
  for (auto& s : per) all.Merge(std::move(s));
  all.cpu_seconds = ProcessCpuSeconds() - cpu;
  return all;
}

struct Row {
  std::string scenario;
  int streams = 0;
  int batch = 0;
  double ids_per_s = 0;
  double batches_per_s = 0;
  double p50_us = 0;
  double p99_us = 0;
  double cpu_us_per_batch = 0;
  uint64_t errors = 0;
};

Row Summarize(const std::string& scenario, int streams, int batch, Stats& s, double elapsed) {
  Row r{scenario,
        streams,
        batch,
        s.items / elapsed,
        s.batches / elapsed,
        s.Percentile(0.5),
        s.Percentile(0.99),
        s.batches == 0 ? 0 : s.cpu_seconds * 1e6 / s.batches,
        s.errors};
  if (!s.first_error.empty()) {
    std::fprintf(stderr, "  %s: %llu errors, first: %s\n", scenario.c_str(),
                 static_cast<unsigned long long>(s.errors), s.first_error.c_str());
  }
  return r;
}

void Print(const Row& r, const Row* transport) {
  std::printf("%-34s %7d %6d %14.0f %12.0f %9.1f %9.1f %9.1f", r.scenario.c_str(), r.streams,
              r.batch, r.ids_per_s, r.batches_per_s, r.p50_us, r.p99_us, r.cpu_us_per_batch);
  if (transport != nullptr && transport->ids_per_s > 0) {
    std::printf("   %5.1f%% of transport", 100.0 * r.ids_per_s / transport->ids_per_s);
  }
  std::printf("\n");
  std::fflush(stdout);
}

void Authorize(grpc::ClientContext& context, const std::string& key) {
  context.AddMetadata("authorization", "Bearer " + key);
}

// Runs `start(stream index, deadline, stats, done)` for `streams` callback-driven streams; each
// calls `done` once when it has stopped. No thread per stream: gRPC's callback API drives them,
// as an asynchronous training client would.
Stats RunCallbacks(
    int streams, int seconds,
    const std::function<void(int, Clock::time_point, Stats*, std::function<void()>)>& start,
    double* elapsed) {
  std::vector<Stats> per(streams);
  absl::Mutex mu;
  int running = streams;
  const double cpu = ProcessCpuSeconds();
  const auto begin = Clock::now();
  const auto deadline = begin + std::chrono::seconds(seconds);
  for (int i = 0; i < streams; ++i) {
    start(i, deadline, &per[i], [&] {
      absl::MutexLock lock(&mu);
      --running;
    });
  }
  {
    absl::MutexLock lock(&mu);
    mu.Await(absl::Condition(
        +[](int* r) { return *r == 0; }, &running));
  }
  *elapsed = std::chrono::duration<double>(Clock::now() - begin).count();
  Stats all;
  for (auto& st : per) all.Merge(std::move(st));
  all.cpu_seconds = ProcessCpuSeconds() - cpu;
  return all;
}

// One Sample stream read through the callback API; reopened while time is left.
template <typename Stub>
class SampleReader final : public grpc::ClientReadReactor<v1::SampleBatch> {
 public:
  SampleReader(Stub* stub, const v1::SampleRequest& request, const std::string& key,
               Clock::time_point deadline, Stats* stats, std::function<void()> done)
      : stub_(stub),
        request_(request),
        key_(key),
        deadline_(deadline),
        stats_(stats),
        done_(std::move(done)) {
    Authorize(context_, key_);
    stub_->async()->Sample(&context_, &request_, this);
    StartRead(&batch_);
    StartCall();
  }
  void OnReadDone(bool ok) override {
    if (!ok) return;  // OnDone follows
    const auto now = Clock::now();
    if (!first_) stats_->latency_ns.push_back((now - last_).count());
    first_ = false;
    last_ = now;
    stats_->items += batch_.row_ids_size();
    ++stats_->batches;
    if (now >= deadline_) {
      context_.TryCancel();
      return;
    }
    StartRead(&batch_);
  }
  void OnDone(const grpc::Status& s) override {
    if (!s.ok() && s.error_code() != grpc::StatusCode::CANCELLED) {
      stats_->Error(s);
    } else if (Clock::now() < deadline_) {
      new SampleReader(stub_, request_, key_, deadline_, stats_, std::move(done_));
      delete this;
      return;
    }
    done_();
    delete this;
  }

 private:
  Stub* const stub_;
  const v1::SampleRequest request_;
  const std::string key_;
  const Clock::time_point deadline_;
  Stats* const stats_;
  std::function<void()> done_;
  grpc::ClientContext context_;
  v1::SampleBatch batch_;
  bool first_ = true;
  Clock::time_point last_;
};

// Paced calls on one stream (thread): call k is due at start + phase + k / rate, and its latency
// counts from when it was due, so a call that waits behind a slow one is charged the wait
// (no coordinated omission). `call` makes one call and returns the items it received, or an
// error. A first call, not measured, warms the stream up.
void PacedStream(double rate, int stream, int streams, Clock::time_point deadline, Stats& stats,
                 const std::function<absl::StatusOr<int>()>& call) {
  // One call first, unmeasured: it connects the channel.
  if (absl::StatusOr<int> warm = call(); !warm.ok()) {
    stats.Error(grpc::Status(grpc::StatusCode::UNKNOWN, std::string(warm.status().message())));
    return;
  }
  const auto period =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1 / rate));
  auto due = Clock::now() + period * stream / streams;  // streams spread over one period
  while (due < deadline) {
    std::this_thread::sleep_until(due);
    absl::StatusOr<int> items = call();
    const auto now = Clock::now();
    if (!items.ok()) {
      stats.Error(grpc::Status(grpc::StatusCode::UNKNOWN, std::string(items.status().message())));
      return;
    }
    stats.latency_ns.push_back((now - due).count());
    stats.items += *items;
    ++stats.batches;
    due += period;
  }
}

// One Sample call of one batch (n = batch size), read to its end.
template <typename Stub>
absl::StatusOr<int> SampleOnce(Stub& stub, const v1::SampleRequest& request,
                               const std::string& key) {
  grpc::ClientContext context;
  Authorize(context, key);
  auto reader = stub.Sample(&context, request);
  v1::SampleBatch batch;
  int items = 0;
  while (reader->Read(&batch)) items += batch.row_ids_size();
  grpc::Status s = reader->Finish();
  if (!s.ok()) return absl::UnknownError(s.error_message());
  return items;
}

template <typename Stub>
absl::StatusOr<int> SampleWeightsOnce(Stub& stub, const v1::SampleWeightsRequest& request,
                                      const std::string& key) {
  grpc::ClientContext context;
  Authorize(context, key);
  v1::SampleWeightsResponse response;
  grpc::Status s = stub.SampleWeights(&context, request, &response);
  if (!s.ok()) return absl::UnknownError(s.error_message());
  return response.slots_size();
}

// Back-to-back SampleWeights calls through the callback API until the deadline.
template <typename Stub>
class WeightsCaller {
 public:
  WeightsCaller(Stub* stub, const v1::SampleWeightsRequest& request, const std::string& key,
                Clock::time_point deadline, Stats* stats, std::function<void()> done)
      : stub_(stub),
        request_(request),
        key_(key),
        deadline_(deadline),
        stats_(stats),
        done_(std::move(done)) {
    Call();
  }

 private:
  void Call() {
    context_ = std::make_unique<grpc::ClientContext>();
    Authorize(*context_, key_);
    request_.set_seed(++calls_);
    response_.Clear();
    start_ = Clock::now();
    stub_->async()->SampleWeights(context_.get(), &request_, &response_,
                                  [this](grpc::Status s) { Done(s); });
  }
  void Done(const grpc::Status& s) {
    stats_->latency_ns.push_back((Clock::now() - start_).count());
    if (!s.ok()) {
      stats_->Error(s);
    } else {
      stats_->items += response_.slots_size();
      ++stats_->batches;
      if (Clock::now() < deadline_) return Call();
    }
    std::function<void()> done = std::move(done_);
    delete this;
    done();
  }

  Stub* const stub_;
  v1::SampleWeightsRequest request_;
  const std::string key_;
  const Clock::time_point deadline_;
  Stats* const stats_;
  std::function<void()> done_;
  std::unique_ptr<grpc::ClientContext> context_;
  v1::SampleWeightsResponse response_;
  Clock::time_point start_;
  uint64_t calls_ = 0;
};

// One UpdatePriorities stream with up to `window` unacknowledged batches, until the deadline.
template <typename Stub>
void UpdateStream(Stub& stub, const std::string& store, int stream, int batch, int64_t slots,
                  int window, const std::string& key, Clock::time_point deadline, Stats& stats) {
  grpc::ClientContext context;
  Authorize(context, key);
  auto rw = stub.UpdatePriorities(&context);
  const random::KeyedStream rng(stream, random::Stream::kSumTree);
  std::deque<Clock::time_point> sent_at;
  v1::UpdatePrioritiesRequest request;
  v1::UpdatePrioritiesResponse ack;
  int64_t sequence = 0;
  const auto read_ack = [&] {
    if (!rw->Read(&ack)) return false;
    stats.latency_ns.push_back((Clock::now() - sent_at.front()).count());
    sent_at.pop_front();
    stats.items += batch;
    ++stats.batches;
    return true;
  };
  bool open = true;
  while (open && Clock::now() < deadline) {
    request.Clear();
    if (sequence == 0) request.set_weight_store(store);
    request.set_sequence(++sequence);
    for (int i = 0; i < batch; ++i) {
      const uint64_t k = static_cast<uint64_t>(sequence) * batch + i;
      request.add_slots(static_cast<int64_t>(rng.Bounded(2 * k, slots)));
      request.add_priorities(rng.Uniform(2 * k + 1) * 10);
    }
    sent_at.push_back(Clock::now());
    if (!rw->Write(request)) break;
    while (open && static_cast<int>(sent_at.size()) >= window) open = read_ack();
  }
  rw->WritesDone();
  while (open && !sent_at.empty()) open = read_ack();
  grpc::Status s = rw->Finish();
  if (!s.ok()) stats.Error(s);
}

// ---------------------------------------------------------------------------------------------
// Setup.

std::string WriteDataset(const std::string& dir, int64_t rows) {
  const std::string path = dir + "/load.tsv";
  std::ofstream out(path);
  out << "id\tw\n";
  std::string buf;
  for (int64_t i = 0; i < rows; ++i) {
    absl::StrAppend(&buf, i, "\t", 1 + (i * 7919) % 1000, "\n");
    if (buf.size() > (1 << 20)) {
      out << buf;
      buf.clear();
    }
  }
  out << buf;
  return path;
}

int Main(int argc, char** argv) {
  // As urnd's main does in a release build (server/main.cc).
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  Flags flags;
  CLI::App app{"urn_load: load generator for urnd (in-process, 127.0.0.1)"};
  app.add_option("--seconds", flags.seconds, "seconds per scenario")->capture_default_str();
  app.add_option("--rows", flags.rows, "rows of the weighted dataset")->capture_default_str();
  app.add_option("--slots", flags.slots, "slots of the weight store")->capture_default_str();
  app.add_option("--streams", flags.streams, "concurrent streams, comma-separated")
      ->capture_default_str();
  app.add_option("--window", flags.window, "unacknowledged update batches per stream")
      ->capture_default_str();
  app.add_option("--data-dir", flags.data_dir, "urnd's data directory (default: a fresh one)");
  app.add_option("--scenarios", flags.scenarios,
                 "which to run, comma-separated: sample, weights, updates, paced, heavy")
      ->capture_default_str();
  app.add_option("--paced-rate", flags.paced_rate,
                 "paced scenarios: calls per second on each stream")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  std::vector<int> stream_counts;
  for (absl::string_view s : absl::StrSplit(flags.streams, ',')) {
    int n = 0;
    if (!absl::SimpleAtoi(s, &n) || n < 1 || n > 256) {
      std::fprintf(stderr, "urn_load: --streams: '%s' is not a count in 1..256\n",
                   std::string(s).c_str());
      return 2;
    }
    stream_counts.push_back(n);
  }
  if (flags.seconds < 1 || flags.rows < 1 || flags.slots < 1 || flags.window < 1) {
    std::fprintf(stderr, "urn_load: --seconds, --rows, --slots and --window must be >= 1\n");
    return 2;
  }
  if (!(flags.paced_rate > 0 && flags.paced_rate <= 100000)) {
    std::fprintf(stderr, "urn_load: --paced-rate must be in (0, 100000]\n");
    return 2;
  }
  std::set<std::string> scenarios;
  for (absl::string_view s : absl::StrSplit(flags.scenarios, ',')) {
    if (s != "sample" && s != "weights" && s != "updates" && s != "paced" && s != "heavy") {
      std::fprintf(stderr, "urn_load: --scenarios: unknown scenario '%s'\n",
                   std::string(s).c_str());
      return 2;
    }
    scenarios.insert(std::string(s));
  }
  bool own_dir = flags.data_dir.empty();
  if (own_dir) {
    char tmpl[] = "/tmp/urn-load-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) return 1;
    flags.data_dir = tmpl;
  }

  spdlog::set_level(spdlog::level::warn);
  server::ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.data_dir = flags.data_dir + "/data";
  options.log_level = "warn";
  server::UrnServer urnd(options);
  if (absl::Status s = urnd.Start(); !s.ok()) {
    std::fprintf(stderr, "urn_load: urnd: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  std::ifstream key_file(options.data_dir + "/admin.key");
  std::string key;
  std::getline(key_file, key);
  const std::string address = absl::StrCat("127.0.0.1:", urnd.port());

  NoopService noop;
  int noop_port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &noop_port);
  builder.RegisterService(&noop);
  std::unique_ptr<grpc::Server> noop_server = builder.BuildAndStart();

  // One channel (one HTTP/2 connection) per stream, as separate training workers would have: a
  // distinct argument keeps gRPC from sharing one connection. Stream threads call this at
  // once, so each call builds its own arguments (a shared ChannelArguments, mutated here, was a
  // data race that crashed the tool now and then).
  std::atomic<int> channels{0};
  const auto channel = [&](const std::string& target) {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(64 << 20);
    args.SetInt("urn_load_channel", channels.fetch_add(1, std::memory_order_relaxed));
    return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
  };

  ClientOptions copts;
  copts.server = address;
  copts.key = key;
  copts.timeout = std::chrono::minutes(10);
  Client client = *Client::Connect(copts);
  std::fprintf(stderr, "urn_load: writing and uploading a %lld-row dataset...\n",
               static_cast<long long>(flags.rows));
  const auto t0 = Clock::now();
  v1::CreateDatasetHeader header;
  header.set_name("load");
  header.set_has_header(true);
  header.set_format(v1::DATA_FORMAT_TSV);
  absl::StatusOr<v1::Dataset> dataset =
      client.CreateDataset(header, WriteDataset(flags.data_dir, flags.rows));
  if (!dataset.ok()) {
    std::fprintf(stderr, "urn_load: dataset: %s\n",
                 std::string(dataset.status().message()).c_str());
    return 1;
  }
  std::filesystem::remove(flags.data_dir + "/load.tsv");
  v1::CreateWeightStoreRequest create;
  create.set_name("load");
  create.set_capacity(flags.slots);
  if (absl::StatusOr<v1::WeightStore> w = client.CreateWeightStore(create); !w.ok()) {
    std::fprintf(stderr, "urn_load: weight store: %s\n", std::string(w.status().message()).c_str());
    return 1;
  }
  int64_t filled = 0;
  absl::Status fill = client.UpdatePriorities("load", [&](v1::UpdatePrioritiesRequest* r) {
    if (filled >= flags.slots) return false;
    for (int i = 0; i < 65536 && filled < flags.slots; ++i, ++filled) {
      r->add_slots(filled);
      r->add_priorities(1 + filled % 100);
    }
    return true;
  });
  if (!fill.ok()) {
    std::fprintf(stderr, "urn_load: fill: %s\n", std::string(fill.message()).c_str());
    return 1;
  }
  std::fprintf(stderr, "urn_load: set up in %.1f s; %d s per scenario\n",
               std::chrono::duration<double>(Clock::now() - t0).count(), flags.seconds);

  std::printf("urn_load on %u cores, %lld-row dataset, %lld-slot store, %d s per scenario\n",
              std::thread::hardware_concurrency(), static_cast<long long>(flags.rows),
              static_cast<long long>(flags.slots), flags.seconds);
  std::printf("%-34s %7s %6s %14s %12s %9s %9s %9s\n", "scenario", "streams", "batch", "ids/s",
              "batches/s", "p50_us", "p99_us", "cpu_us/b");
  double elapsed = 0;

  // Sample (here and in the paced scenarios): weighted draws with replacement over the whole
  // dataset, streamed. The server builds the weight column's alias table on the first such
  // request and keeps it (0.5-1 s for 10M rows): one request first, not measured, so that every
  // scenario measures the steady state rather than the first one also timing the build.
  const auto weighted = [](int64_t n, int batch) {
    v1::SampleRequest request;
    request.set_dataset("load");
    request.mutable_weighted()->set_weight_column("w");
    request.mutable_weighted()->set_replace(true);
    request.set_n(n);
    request.set_batch_size(batch);
    return request;
  };
  const std::string noop_address = absl::StrCat("127.0.0.1:", noop_port);
  if (scenarios.count("sample") || scenarios.count("paced") || scenarios.count("heavy")) {
    auto stub = v1::Sampling::NewStub(channel(address));
    if (absl::StatusOr<int> done = SampleOnce(*stub, weighted(1, 1), key); !done.ok()) {
      std::fprintf(stderr, "urn_load: sample warm-up: %s\n",
                   std::string(done.status().message()).c_str());
      return 1;
    }
  }
  for (int batch : {1024, 256}) {
    for (int streams : stream_counts) {
      if (!scenarios.count("sample")) break;
      const v1::SampleRequest request = weighted(flags.rows, batch);
      std::vector<std::unique_ptr<bench::NoopTransport::Stub>> noop_stubs;
      std::vector<std::unique_ptr<v1::Sampling::Stub>> stubs;
      for (int i = 0; i < streams; ++i) {
        noop_stubs.push_back(bench::NoopTransport::NewStub(channel(noop_address)));
        stubs.push_back(v1::Sampling::NewStub(channel(address)));
      }
      Stats t = RunCallbacks(
          streams, flags.seconds,
          [&](int i, Clock::time_point deadline, Stats* st, std::function<void()> done) {
            new SampleReader<bench::NoopTransport::Stub>(noop_stubs[i].get(), request, key,
                                                         deadline, st, std::move(done));
          },
          &elapsed);
      Row transport = Summarize("transport  Sample (no-op)", streams, batch, t, elapsed);
      Stats u = RunCallbacks(
          streams, flags.seconds,
          [&](int i, Clock::time_point deadline, Stats* st, std::function<void()> done) {
            v1::SampleRequest r = request;
            r.set_seed(1000 + i);
            new SampleReader<v1::Sampling::Stub>(stubs[i].get(), r, key, deadline, st,
                                                 std::move(done));
          },
          &elapsed);
      Print(transport, nullptr);
      Print(Summarize("urnd       Sample weighted", streams, batch, u, elapsed), &transport);
    }
  }

  // SampleWeights: prioritized-replay batches of 256, back to back on each stream.
  for (int streams : stream_counts) {
    if (!scenarios.count("weights")) break;
    v1::SampleWeightsRequest request;
    request.set_weight_store("load");
    request.set_batch_size(256);
    request.set_beta(0.4);
    std::vector<std::unique_ptr<bench::NoopTransport::Stub>> noop_stubs;
    std::vector<std::unique_ptr<v1::WeightStores::Stub>> stubs;
    for (int i = 0; i < streams; ++i) {
      noop_stubs.push_back(bench::NoopTransport::NewStub(channel(noop_address)));
      stubs.push_back(v1::WeightStores::NewStub(channel(address)));
    }
    Stats t = RunCallbacks(
        streams, flags.seconds,
        [&](int i, Clock::time_point deadline, Stats* st, std::function<void()> done) {
          new WeightsCaller<bench::NoopTransport::Stub>(noop_stubs[i].get(), request, key, deadline,
                                                        st, std::move(done));
        },
        &elapsed);
    Row transport = Summarize("transport  SampleWeights (no-op)", streams, 256, t, elapsed);
    Stats u = RunCallbacks(
        streams, flags.seconds,
        [&](int i, Clock::time_point deadline, Stats* st, std::function<void()> done) {
          new WeightsCaller<v1::WeightStores::Stub>(stubs[i].get(), request, key, deadline, st,
                                                    std::move(done));
        },
        &elapsed);
    Print(transport, nullptr);
    Print(Summarize("urnd       SampleWeights", streams, 256, u, elapsed), &transport);
  }

  // UpdatePriorities: batches of 1024 random slots; ids/s = acknowledged (durable) updates/s.
  for (int streams : stream_counts) {
    if (!scenarios.count("updates")) break;
    const int batch = 1024;
    Stats t = RunFor(
        streams, flags.seconds,
        [&](int i, Clock::time_point deadline, Stats& st) {
          auto stub = bench::NoopTransport::NewStub(channel(absl::StrCat("127.0.0.1:", noop_port)));
          UpdateStream(*stub, "load", i, batch, flags.slots, flags.window, key, deadline, st);
        },
        &elapsed);
    Row transport = Summarize("transport  UpdatePriorities (no-op)", streams, batch, t, elapsed);
    Stats u = RunFor(
        streams, flags.seconds,
        [&](int i, Clock::time_point deadline, Stats& st) {
          auto stub = v1::WeightStores::NewStub(channel(address));
          UpdateStream(*stub, "load", i, batch, flags.slots, flags.window, key, deadline, st);
        },
        &elapsed);
    Print(transport, nullptr);
    Print(Summarize("urnd       UpdatePriorities acked", streams, batch, u, elapsed), &transport);
  }

  // Paced: each stream asks for one 256-row batch --paced-rate times a second (a training worker
  // fetching its next batch), below saturation; latency is from when the call was due to the
  // batch's arrival. Sample is a one-batch stream (n = 256, weighted); SampleWeights a call.
  for (int streams : stream_counts) {
    if (!scenarios.count("paced")) break;
    const v1::SampleRequest sample = weighted(256, 256);
    v1::SampleWeightsRequest weights;
    weights.set_weight_store("load");
    weights.set_batch_size(256);
    weights.set_beta(0.4);
    const std::string label = absl::StrFormat("@%g/s", flags.paced_rate);
    const auto run = [&](const std::string& target, auto make_call) {
      return RunFor(
          streams, flags.seconds,
          [&](int i, Clock::time_point deadline, Stats& st) {
            auto call = make_call(channel(target), i);
            PacedStream(flags.paced_rate, i, streams, deadline, st, call);
          },
          &elapsed);
    };
    for (const bool weight_store : {false, true}) {
      const std::string what = weight_store ? "SampleWeights" : "Sample weighted";
      Stats t = run(noop_address, [&](std::shared_ptr<grpc::Channel> ch, int) {
        auto stub = std::shared_ptr<bench::NoopTransport::Stub>(bench::NoopTransport::NewStub(ch));
        return std::function<absl::StatusOr<int>()>([=, &sample, &weights, &key] {
          return weight_store ? SampleWeightsOnce(*stub, weights, key)
                              : SampleOnce(*stub, sample, key);
        });
      });
      Stats u = run(address, [&](std::shared_ptr<grpc::Channel> ch, int i) {
        auto sampling = std::shared_ptr<v1::Sampling::Stub>(v1::Sampling::NewStub(ch));
        auto stores = std::shared_ptr<v1::WeightStores::Stub>(v1::WeightStores::NewStub(ch));
        v1::SampleRequest mine = sample;
        mine.set_seed(5000 + i);
        return std::function<absl::StatusOr<int>()>([=, &weights, &key] {
          return weight_store ? SampleWeightsOnce(*stores, weights, key)
                              : SampleOnce(*sampling, mine, key);
        });
      });
      Row transport = Summarize(absl::StrCat("transport  paced ", what, " (no-op) ", label),
                                streams, 256, t, elapsed);
      Print(transport, nullptr);
      Print(
          Summarize(absl::StrCat("urnd       paced ", what, " ", label), streams, 256, u, elapsed),
          nullptr);
    }
  }

  // Heavy: the paced Sample again, while kHeavyClients other clients keep asking for samples
  // that take O(rows) time (distinct keys over the whole dataset: each row's key text hashed).
  // urnd computes those on its work pool, so the paced calls need not wait behind them on
  // gRPC's few callback threads. (No transport row: the no-op service has no such work.)
  constexpr int kHeavyClients = 4;
  for (int streams : stream_counts) {
    if (!scenarios.count("heavy")) break;
    v1::SampleRequest distinct;
    distinct.set_dataset("load");
    distinct.mutable_distinct()->add_key_columns("w");
    distinct.mutable_distinct()->set_p(0.001);
    std::atomic<bool> stop{false};
    std::atomic<int> heavy_done{0};
    std::vector<std::thread> heavy;
    std::vector<absl::Status> heavy_errors(kHeavyClients);
    for (int i = 0; i < kHeavyClients; ++i) {
      heavy.emplace_back([&, i] {
        auto stub = v1::Sampling::NewStub(channel(address));
        v1::SampleRequest mine = distinct;
        mine.set_seed(900 + i);
        while (!stop.load()) {
          if (absl::StatusOr<int> got = SampleOnce(*stub, mine, key); !got.ok()) {
            heavy_errors[i] = got.status();
            return;
          }
          heavy_done.fetch_add(1);
        }
      });
    }
    const v1::SampleRequest sample = weighted(256, 256);
    Stats u = RunFor(
        streams, flags.seconds,
        [&](int i, Clock::time_point deadline, Stats& st) {
          auto stub = std::shared_ptr<v1::Sampling::Stub>(v1::Sampling::NewStub(channel(address)));
          v1::SampleRequest mine = sample;
          mine.set_seed(7000 + i);
          PacedStream(flags.paced_rate, i, streams, deadline, st,
                      [=, &key] { return SampleOnce(*stub, mine, key); });
        },
        &elapsed);
    const int done_while_paced = heavy_done.load();
    stop = true;
    for (std::thread& t : heavy) t.join();
    Print(Summarize(absl::StrFormat("urnd       paced Sample weighted @%g/s beside %d heavy",
                                    flags.paced_rate, kHeavyClients),
                    streams, 256, u, elapsed),
          nullptr);
    std::printf(
        "           (meanwhile %d distinct-key samples of all %lld rows completed: %.1f/s)\n",
        done_while_paced, static_cast<long long>(flags.rows), done_while_paced / elapsed);
    for (const absl::Status& e : heavy_errors) {
      if (!e.ok())
        std::printf("           heavy client error: %s\n", std::string(e.message()).c_str());
    }
  }

  noop_server->Shutdown(std::chrono::system_clock::now());
  urnd.Shutdown(std::chrono::milliseconds(0));
  urnd.Wait();
  std::error_code ignored;  // best effort: a file RocksDB is still closing may be gone already
  if (own_dir) std::filesystem::remove_all(flags.data_dir, ignored);
  return 0;
}

}  // namespace
}  // namespace urn::load

int main(int argc, char** argv) { return urn::load::Main(argc, argv); }
