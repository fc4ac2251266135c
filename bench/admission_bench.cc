// The per-call cost of the gate in front of every sampler: authenticate the bearer key (hash
// probe, SHA-256 of the secret, constant-time compare) plus plan admission (feature, GCRA rate
// step), and a daily-rows charge (with its metrics). Goal (issue 8): at most 1 us per call.
//   ./build/bench/urn_bench --benchmark_filter=Admission
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "auth/admission.h"
#include "auth/api_key.h"
#include "auth/authenticator.h"
#include "auth/users.h"
#include "storage/metadata_store.h"

namespace urn::auth {
namespace {

struct Fixture {
  std::string dir;
  std::unique_ptr<storage::MetadataStore> db;
  std::unique_ptr<Authenticator> authenticator;
  server::metrics::ServerMetrics metrics;  // recorded into as in urnd
  std::unique_ptr<Admission> admission;
  std::string header;

  Fixture() {
    char tmpl[] = "/tmp/urn-admission-bench-XXXXXX";
    dir = ::mkdtemp(tmpl);
    db = *storage::MetadataStore::Open(dir + "/db");
    const ApiKey key = *GenerateApiKey();
    if (!CreateUser(*db, "user", "metered", false, key).ok()) std::abort();
    authenticator = std::make_unique<Authenticator>(db.get());
    if (!authenticator->Invalidate().ok()) std::abort();
    Plans plans = DefaultPlans();
    Plan metered = plans["pro"];
    metered.name = "metered";
    metered.requests_per_second = 1e12;  // the rate step runs, but never refuses
    metered.burst = 1e12;
    metered.rows_per_day = int64_t{1} << 62;
    plans["metered"] = metered;
    admission = std::make_unique<Admission>(db.get(), plans, absl::Now, &metrics);
    header = "Bearer " + key.ToString();
  }
  ~Fixture() { std::filesystem::remove_all(dir); }
};

Fixture& Shared() {
  static Fixture* f = new Fixture;
  return *f;
}

void BM_AdmissionAuthenticateAndAdmit(benchmark::State& state) {
  Fixture& f = Shared();
  for (auto _ : state) {
    absl::StatusOr<Principal> who = f.authenticator->Authenticate(f.header);
    absl::Status s = f.admission->Admit(*who, kFeatureSample);
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AdmissionAuthenticateAndAdmit)->Threads(1)->Threads(2);

void BM_AdmissionAuthenticateOnly(benchmark::State& state) {
  Fixture& f = Shared();
  for (auto _ : state) benchmark::DoNotOptimize(f.authenticator->Authenticate(f.header));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AdmissionAuthenticateOnly)->Threads(1)->Threads(2);

// A stream's per-batch charge of daily rows (persisted once per lease).
void BM_AdmissionChargeBatch(benchmark::State& state) {
  Fixture& f = Shared();
  const Principal who = *f.authenticator->Authenticate(f.header);
  for (auto _ : state) benchmark::DoNotOptimize(f.admission->Charge(who, 1024));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AdmissionChargeBatch);

}  // namespace
}  // namespace urn::auth
