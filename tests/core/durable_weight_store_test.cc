#include "storage/durable_weight_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "random/counter_rng.h"
#include "support/temp_dir.h"
#include "weights/weight_store_codec.h"

namespace urn::storage {
namespace {

using ::testing::HasSubstr;
using weights::WeightStore;
using weights::WeightStoreOptions;

WeightStoreOptions Options(uint64_t capacity) {
  WeightStoreOptions options;
  options.capacity = capacity;
  options.alpha = 0.7;
  return options;
}

// Everything a store holds, as bytes.
std::string Dump(const WeightStore& store) {
  const WeightStore::Position pos = store.position();
  return absl::StrCat(weights::EncodeChunk(store.ExportChunk(0, store.capacity())), "|",
                      pos.next_slot, "|", pos.max_priority, "|", store.size());
}

// Random inserts, slot updates and key updates, applied to both `durable` and `mirror`.
void RandomOps(DurableWeightStore& durable, WeightStore& mirror, uint64_t seed, int count) {
  const random::KeyedStream rng(seed, random::Stream::kSumTree);
  for (int op = 0; op < count; ++op) {
    const uint64_t m = 1 + rng.Bounded(10 * op + 1, 20);
    std::vector<double> p(m);
    for (uint64_t i = 0; i < m; ++i) p[i] = rng.Uniform(10 * op + 2 + i) * 10;
    switch (rng.Bounded(10 * op, 3)) {
      case 0: {
        std::vector<std::string> keys;
        for (uint64_t i = 0; i < m; ++i) keys.push_back(absl::StrCat("s", seed, "o", op, "i", i));
        auto a = durable.Insert(keys, p);
        auto b = mirror.Insert(keys, p);
        ASSERT_TRUE(a.ok()) << a.status();
        ASSERT_EQ(*a, *b);
        break;
      }
      case 1: {
        std::vector<uint64_t> slots(m);
        for (uint64_t i = 0; i < m; ++i) slots[i] = rng.Bounded(1000 * op + i, mirror.capacity());
        ASSERT_TRUE(durable.UpdateSlots(slots, p).ok());
        ASSERT_TRUE(mirror.UpdateSlots(slots, p).ok());
        break;
      }
      default: {
        auto draws = mirror.Sample({.batch_size = 1, .seed = seed, .batch = uint64_t(op)});
        if (!draws.ok() || (*draws)[0].key.empty()) break;
        const std::vector<std::string> keys = {(*draws)[0].key};
        ASSERT_TRUE(durable.UpdateKeys(keys, {p[0]}).ok());
        ASSERT_TRUE(mirror.UpdateKeys(keys, {p[0]}).ok());
      }
    }
  }
}

TEST(DurableWeightStoreTest, RecoverRestoresEveryAcknowledgedChangeAcrossSnapshots) {
  testing::TempDir dir;
  auto mirror = *WeightStore::Create(Options(300));
  const DurableWeightStore::Config config = {.sync_every_write = false, .chunk_slots = 64};
  uint64_t at_snapshot = 0;
  for (int round = 0; round < 4; ++round) {
    auto db = *MetadataStore::Open(dir.Join("db"));
    auto durable = round == 0 ? DurableWeightStore::Create(db.get(), "s1", Options(300), config)
                              : DurableWeightStore::Recover(db.get(), "s1", Options(300), config);
    ASSERT_TRUE(durable.ok()) << durable.status();
    ASSERT_EQ(Dump((*durable)->store()), Dump(*mirror)) << "round " << round;
    RandomOps(**durable, *mirror, 10 + round, 50);
    if (round % 2 == 1) {
      ASSERT_TRUE((*durable)->Snapshot().ok());
      EXPECT_EQ((*durable)->LogBytesSinceSnapshot(), 0u);
      at_snapshot = (*durable)->LogPosition();
    }
    RandomOps(**durable, *mirror, 20 + round, 30);
  }
  auto db = *MetadataStore::Open(dir.Join("db"));
  auto recovered = DurableWeightStore::Recover(db.get(), "s1", Options(300), config);
  ASSERT_TRUE(recovered.ok()) << recovered.status();
  EXPECT_EQ(Dump((*recovered)->store()), Dump(*mirror));
  // The log holds only what came after the last snapshot.
  int log_records = 0;
  ASSERT_TRUE(db->Scan("wlog/s1/", [&](std::string_view, std::string_view) {
                  ++log_records;
                  return true;
                }).ok());
  EXPECT_GT(log_records, 0);
  EXPECT_EQ(static_cast<uint64_t>(log_records), (*recovered)->LogPosition() - at_snapshot);
}

// An empty insert or update is acknowledged without a log record (each was one, and with
// --fsync=always one fsync, and counted towards the next snapshot).
TEST(DurableWeightStoreTest, EmptyBatchesWriteNothing) {
  testing::TempDir dir;
  auto db = *MetadataStore::Open(dir.Join("db"));
  auto durable = DurableWeightStore::Create(db.get(), "s1", Options(10), {});
  ASSERT_TRUE(durable.ok()) << durable.status();
  ASSERT_TRUE((*durable)->Insert(std::vector<std::string>{"a"}, {1.0}).ok());
  const uint64_t at = (*durable)->LogPosition();
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<std::vector<uint64_t>> none = (*durable)->Insert({}, {});
    ASSERT_TRUE(none.ok()) << none.status();
    EXPECT_TRUE(none->empty());
    ASSERT_TRUE((*durable)->UpdateSlots({}, {}).ok());
    ASSERT_TRUE((*durable)->UpdateKeys({}, {}).ok());
  }
  EXPECT_EQ((*durable)->LogPosition(), at);
}

TEST(DurableWeightStoreTest, SnapshotsTakenDuringUpdatesRecoverExactly) {
  testing::TempDir dir;
  const DurableWeightStore::Config config = {.sync_every_write = false, .chunk_slots = 16};
  std::string expected;
  {
    auto db = *MetadataStore::Open(dir.Join("db"));
    auto durable = *DurableWeightStore::Create(db.get(), "s2", Options(500), config);
    auto mirror = *WeightStore::Create(Options(500));
    std::atomic<bool> done = false;
    std::thread snapshots([&] {
      while (!done) ASSERT_TRUE(durable->Snapshot().ok());
    });
    RandomOps(*durable, *mirror, 7, 2000);
    done = true;
    snapshots.join();
    expected = Dump(*mirror);
    ASSERT_EQ(Dump(durable->store()), expected);
  }
  auto db = *MetadataStore::Open(dir.Join("db"));
  auto recovered = DurableWeightStore::Recover(db.get(), "s2", Options(500), config);
  ASSERT_TRUE(recovered.ok()) << recovered.status();
  EXPECT_EQ(Dump((*recovered)->store()), expected);
}

// A store with a snapshot and a log after it: positions 1..10 logged, snapshot at 6.
std::string Prepare(const testing::TempDir& dir, const std::string& id) {
  auto db = *MetadataStore::Open(dir.Join("db"));
  auto durable = *DurableWeightStore::Create(db.get(), id, Options(100),
                                             {.sync_every_write = false, .chunk_slots = 32});
  for (uint64_t i = 0; i < 10; ++i) {
    if (i == 6) {
      EXPECT_TRUE(durable->Snapshot().ok());
    }
    EXPECT_TRUE(durable->UpdateSlots({i, 99 - i}, {1.0 + i, 2.0}).ok());
  }
  return Dump(durable->store());
}

TEST(DurableWeightStoreTest, DamageIsDataLossNamingTheRecord) {
  testing::TempDir dir;
  Prepare(dir, "d");
  auto db = *MetadataStore::Open(dir.Join("db"));
  const auto recover = [&] { return DurableWeightStore::Recover(db.get(), "d", Options(100), {}); };
  ASSERT_TRUE(recover().ok());

  // A flipped byte in a log record.
  const std::string record = "wlog/d/0000000000000009";
  const std::string good = **db->Get(record);
  std::string bad = good;
  bad[20] ^= 4;
  ASSERT_TRUE(db->Put(record, bad).ok());
  absl::Status s = recover().status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(s.message()), HasSubstr(record));
  EXPECT_THAT(std::string(s.message()), HasSubstr("checksum"));
  ASSERT_TRUE(db->Put(record, good).ok());

  // A missing record in the middle of the log.
  const std::string middle = "wlog/d/0000000000000008";
  const std::string kept = **db->Get(middle);
  ASSERT_TRUE(db->Delete(middle).ok());
  s = recover().status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(s.message()), HasSubstr("records are missing"));
  ASSERT_TRUE(db->Put(middle, kept).ok());

  // A missing or damaged snapshot chunk, or head.
  const std::string chunk = "wsnap/d/0000000000000006/0000000000000001";
  const std::string chunk_bytes = **db->Get(chunk);
  ASSERT_TRUE(db->Delete(chunk).ok());
  EXPECT_THAT(std::string(recover().status().message()), HasSubstr("snapshot chunk missing"));
  ASSERT_TRUE(db->Put(chunk, chunk_bytes.substr(0, 10)).ok());
  EXPECT_EQ(recover().status().code(), absl::StatusCode::kDataLoss);
  ASSERT_TRUE(db->Put(chunk, chunk_bytes).ok());
  const std::string head = **db->Get("whead/d");
  ASSERT_TRUE(db->Put("whead/d", "garbage").ok());
  EXPECT_THAT(std::string(recover().status().message()), HasSubstr("snapshot head"));
  ASSERT_TRUE(db->Put("whead/d", head).ok());

  // The head lost after the log it covered was truncated (here the log is gone too): not an
  // empty store, but DATA_LOSS naming the head.
  std::vector<std::pair<std::string, std::string>> log;
  ASSERT_TRUE(db->Scan("wlog/d/", [&](std::string_view k, std::string_view v) {
                  log.emplace_back(std::string(k), std::string(v));
                  return true;
                }).ok());
  ASSERT_FALSE(log.empty());
  for (const auto& [k, v] : log) ASSERT_TRUE(db->Delete(k).ok());
  ASSERT_TRUE(db->Delete("whead/d").ok());
  s = recover().status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(s.message()), HasSubstr("snapshot head"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("log ends at 0"));
  EXPECT_TRUE(db->Get(chunk)->has_value());  // nothing deleted on the way
  for (const auto& [k, v] : log) ASSERT_TRUE(db->Put(k, v).ok());
  ASSERT_TRUE(db->Put("whead/d", head).ok());
  ASSERT_TRUE(recover().ok());
}

TEST(DurableWeightStoreTest, LeftoversOfAnInterruptedSnapshotAreIgnoredAndRemoved) {
  testing::TempDir dir;
  const std::string expected = Prepare(dir, "i");
  auto db = *MetadataStore::Open(dir.Join("db"));
  // A snapshot at position 9 that crashed before its head was written.
  ASSERT_TRUE(db->Put("wsnap/i/0000000000000009/0000000000000000", "partial").ok());
  auto recovered = DurableWeightStore::Recover(db.get(), "i", Options(100), {});
  ASSERT_TRUE(recovered.ok()) << recovered.status();
  EXPECT_EQ(Dump((*recovered)->store()), expected);
  EXPECT_FALSE(db->Get("wsnap/i/0000000000000009/0000000000000000")->has_value());
  EXPECT_TRUE(db->Get("wsnap/i/0000000000000006/0000000000000000")->has_value());
}

TEST(DurableWeightStoreTest, EraseRemovesEveryRecordOfTheStoreOnly) {
  testing::TempDir dir;
  Prepare(dir, "a");
  Prepare(dir, "b");
  auto db = *MetadataStore::Open(dir.Join("db"));
  ASSERT_TRUE(DurableWeightStore::Erase(db.get(), "a").ok());
  for (const char* prefix : {"wlog/a/", "wsnap/a/", "whead/a"}) {
    bool any = false;
    ASSERT_TRUE(db->Scan(prefix, [&](std::string_view, std::string_view) {
                    any = true;
                    return false;
                  }).ok());
    EXPECT_FALSE(any) << prefix;
  }
  auto b = DurableWeightStore::Recover(db.get(), "b", Options(100), {});
  ASSERT_TRUE(b.ok());
  EXPECT_EQ((*b)->LogPosition(), 10u);
}

TEST(DurableWeightStoreTest, AClosedStoreRefusesWritesAndSnapshots) {
  testing::TempDir dir;
  auto db = *MetadataStore::Open(dir.Join("db"));
  auto durable = *DurableWeightStore::Create(db.get(), "c", Options(10), {});
  ASSERT_TRUE(durable->UpdateSlots({1}, {3}).ok());
  durable->Close(absl::FailedPreconditionError("weight store 'c' was deleted"));
  absl::Status s = durable->UpdateSlots({2}, {1});
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), "weight store 'c' was deleted");
  EXPECT_EQ(durable->Insert({"k"}, {}).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(durable->Snapshot().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(durable->LogPosition(), 1u);
}

TEST(DurableWeightStoreTest, InvalidBatchesChangeNothingAndLogNothing) {
  testing::TempDir dir;
  auto db = *MetadataStore::Open(dir.Join("db"));
  auto durable = *DurableWeightStore::Create(db.get(), "v", Options(10), {});
  ASSERT_TRUE(durable->UpdateSlots({1}, {3}).ok());
  EXPECT_EQ(durable->UpdateSlots({1, 10}, {1, 1}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(durable->UpdateSlots({1, 2}, {1, -1}).code(), absl::StatusCode::kInvalidArgument);
  // A key that is not stored is skipped; with no stored key at all nothing is logged.
  EXPECT_EQ(*durable->UpdateKeys({"nope"}, {1}), std::vector<size_t>{0});
  EXPECT_EQ(durable->Insert({"a", "a"}, {}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(durable->LogPosition(), 1u);
  EXPECT_EQ(*durable->store().Priorities(1, 1), std::vector<double>{3});
}

// The change is logged before it is made in memory: when the log write fails, no draw or read
// ever sees it, the call fails, the store refuses every later mutation (the failed write might
// still reach the disk), and a restart recovers the state before it.
TEST(DurableWeightStoreTest, AChangeWhoseLogWriteFailsIsNeverMadeInMemory) {
  testing::TempDir dir;
  auto db = *MetadataStore::Open(dir.Join("db"));
  const std::vector<std::function<absl::Status(DurableWeightStore&)>> mutations = {
      [](DurableWeightStore& d) {
        return d.Insert({"c", "d"}, {7, 0}).status();
      },
      [](DurableWeightStore& d) {
        return d.UpdateSlots({0, 3}, {9, 0});
      },
      [](DurableWeightStore& d) { return d.UpdateKeys({"a"}, {0.5}).status(); },
  };
  for (size_t m = 0; m < mutations.size(); ++m) {
    SCOPED_TRACE(m);
    const std::string id = absl::StrCat("f", m);
    auto durable = *DurableWeightStore::Create(db.get(), id, Options(4), {});
    ASSERT_TRUE(durable->Insert({"a", "b"}, {}).ok());
    ASSERT_TRUE(durable->UpdateSlots({2}, {2}).ok());
    const std::string before = Dump(durable->store());
    const double total_before = durable->store().total();

    db->FailWritesForTesting(absl::UnavailableError("injected: no space left on device"));
    absl::Status s = mutations[m](*durable);
    EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
    EXPECT_EQ(Dump(durable->store()), before);
    EXPECT_EQ(durable->store().total(), total_before);
    EXPECT_EQ(durable->LogPosition(), 2u);

    db->FailWritesForTesting(absl::OkStatus());
    s = durable->UpdateSlots({3}, {1});
    EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
    EXPECT_THAT(s.message(), HasSubstr("refuses writes after a failed log write"));
    EXPECT_EQ(Dump(durable->store()), before);

    durable.reset();
    auto recovered = DurableWeightStore::Recover(db.get(), id, Options(4), {});
    ASSERT_TRUE(recovered.ok()) << recovered.status();
    EXPECT_EQ(Dump((*recovered)->store()), before);
  }
}

}  // namespace
}  // namespace urn::storage
