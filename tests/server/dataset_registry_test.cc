// DatasetRegistry's storage: datasets kept as columnar blocks, restored by copying them back,
// damage reported by name, and data directories from before the blocks converted on load.
#include "datasets/dataset_registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "storage/metadata_store.h"
#include "support/temp_dir.h"

namespace urn::server {
namespace {

using ::testing::HasSubstr;

constexpr char kText[] =
    "id\tscore\tname\ttags\n"
    "1\t0.5\talpha\ta|b\n"
    "2\t\tbeta\t\n"
    "3\t-2.25\t\tc\n";

internal::DatasetRecord Record(const std::string& owner, const std::string& name) {
  internal::DatasetRecord r;
  r.set_owner(owner);
  r.set_name(name);
  r.set_format(1);  // TSV
  r.set_has_header(true);
  r.set_list_delimiter("|");
  r.mutable_column_types()->insert({"tags", 5});  // list<string>
  return r;
}

std::string Describe(const table::Table& t) {
  std::string out = absl::StrCat(t.num_rows(), " rows\n");
  for (int c = 0; c < t.num_columns(); ++c) {
    absl::StrAppend(&out, t.column(c).name(), ":",
                    std::string(table::TypeName(t.column(c).type())));
    for (int64_t r = 0; r < t.num_rows(); ++r) {
      absl::StrAppend(&out, " ", t.column(c).IsNull(r) ? "<null>" : t.RenderCell(c, r));
    }
    out += "\n";
  }
  return out;
}

// Every key under `prefix`.
std::vector<std::string> Keys(const storage::MetadataStore& store, const std::string& prefix) {
  std::vector<std::string> keys;
  EXPECT_TRUE(store
                  .Scan(prefix,
                        [&](std::string_view k, std::string_view) {
                          keys.emplace_back(k);
                          return true;
                        })
                  .ok());
  return keys;
}

// A list delimiter must differ from the field delimiter in use, given or the format's default
// (before, only a given one was compared: `--list-delimiter $'\t'` on TSV was accepted, and
// the list column came out as plain strings).
TEST(DatasetReadOptions, AListDelimiterEqualToTheFieldDelimiterInUseIsRefused) {
  const auto options = [](int format, const std::string& delimiter, const std::string& list) {
    internal::DatasetRecord r = Record("ann", "d");
    r.set_format(format);
    r.set_delimiter(delimiter);
    r.set_list_delimiter(list);
    return DatasetRegistry::ReadOptionsOf(r, /*for_new_upload=*/true).status();
  };
  constexpr int kTsv = 1, kCsv = 2, kJsonl = 3;
  EXPECT_THAT(std::string(options(kTsv, "", "\t").message()),
              HasSubstr("header.list_delimiter: must be one character other than the field "
                        "delimiter"));
  EXPECT_EQ(options(kCsv, "", ",").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(options(kTsv, ";", ";").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(options(kTsv, "", "||").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(options(kTsv, ",", "\t").ok());
  EXPECT_TRUE(options(kCsv, "", "|").ok());
  EXPECT_TRUE(options(kCsv, ";", ",").ok());
  EXPECT_TRUE(options(kJsonl, "", ",").ok());
  // A dataset stored by an older urnd with such a record still loads.
  internal::DatasetRecord old = Record("ann", "old");
  old.set_list_delimiter("\t");
  EXPECT_TRUE(DatasetRegistry::ReadOptionsOf(old).ok());
}

class DatasetRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = storage::MetadataStore::Open(dir_.Join("meta"));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  std::string Upload(DatasetRegistry& registry, const std::string& name,
                     const std::string& text = kText) {
    auto upload = registry.StartUpload(Record("ann", name));
    EXPECT_TRUE(upload.ok()) << upload.status();
    // In two pieces, split inside a row, as a client's chunks may be.
    EXPECT_TRUE((*upload)->Append(text.substr(0, 20)).ok());
    EXPECT_TRUE((*upload)->Append(text.substr(20)).ok());
    auto entry = (*upload)->Commit();
    EXPECT_TRUE(entry.ok()) << entry.status();
    return Describe(*(*entry)->table);
  }

  absl::StatusOr<std::string> Reload(const std::string& name) {
    DatasetRegistry registry(store_.get());
    if (absl::Status s = registry.Load(); !s.ok()) return s;
    auto entry = registry.Get("ann", name);
    if (!entry.ok()) return entry.status();
    EXPECT_EQ((*entry)->record.storage(), 1);
    return Describe(*(*entry)->table);
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::MetadataStore> store_;
};

TEST_F(DatasetRegistryTest, CommittedDatasetIsStoredAsBlocksAndRestoredEqual) {
  DatasetRegistry registry(store_.get());
  ASSERT_TRUE(registry.Load().ok());
  const std::string uploaded = Upload(registry, "people");
  EXPECT_THAT(uploaded, HasSubstr("score:double 0.5 <null> -2.25"));
  // No text chunks; a schema block and one block per column.
  EXPECT_TRUE(Keys(*store_, "dsdata/").empty());
  EXPECT_EQ(Keys(*store_, "dsblk/").size(), 5u);
  const absl::StatusOr<std::string> restored = Reload("people");
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ(*restored, uploaded);
}

TEST_F(DatasetRegistryTest, DamagedBlockIsDataLossNamingDatasetColumnAndBlock) {
  DatasetRegistry registry(store_.get());
  ASSERT_TRUE(registry.Load().ok());
  Upload(registry, "people");
  const std::vector<std::string> keys = Keys(*store_, "dsblk/");
  ASSERT_EQ(keys.size(), 5u);
  // keys[3] is column 2, "name".
  std::string bytes = **store_->Get(keys[3]);
  bytes[bytes.size() / 2] ^= 1;
  ASSERT_TRUE(store_->Put(keys[3], bytes).ok());
  const absl::StatusOr<std::string> restored = Reload("people");
  ASSERT_TRUE(absl::IsDataLoss(restored.status())) << restored.status();
  EXPECT_THAT(restored.status().message(),
              HasSubstr("dataset 'people' of user 'ann' is damaged: column 'name' block 0 of 1: "
                        "checksum mismatch"));
}

// One damaged dataset does not stop the others from loading (nor urnd from starting): it is
// listed, refused with DataLoss, keeps its name, and its owner can delete it with its blocks.
// A record that does not parse is listed the same way, and no block is swept as an orphan then
// (the record's upload is unknown).
TEST_F(DatasetRegistryTest, ADamagedDatasetIsListedAndDeletableWhileTheOthersLoad) {
  {
    DatasetRegistry registry(store_.get());
    ASSERT_TRUE(registry.Load().ok());
    Upload(registry, "people");
    Upload(registry, "intact");
  }
  ASSERT_EQ(Keys(*store_, "dsblk/").size(), 10u);
  internal::DatasetRecord people;
  ASSERT_TRUE(people.ParseFromString(**store_->Get("dataset/ann/people")));
  const std::vector<std::string> keys =
      Keys(*store_, absl::StrCat("dsblk/", people.upload_id(), "/"));
  ASSERT_EQ(keys.size(), 5u);
  std::string bytes = **store_->Get(keys[3]);
  bytes[bytes.size() / 2] ^= 1;
  ASSERT_TRUE(store_->Put(keys[3], bytes).ok());
  ASSERT_TRUE(store_->Put("dataset/ann/garbled", "\xff\xff not a record").ok());
  DatasetRegistry registry(store_.get());
  ASSERT_TRUE(registry.Load().ok());
  EXPECT_TRUE(registry.Get("ann", "intact").ok());
  std::vector<std::string> listed;
  for (const auto& e : registry.List("ann", "ann", "", 10)) listed.push_back(e->record.name());
  EXPECT_EQ(listed, (std::vector<std::string>{"garbled", "intact", "people"}));
  EXPECT_EQ(Keys(*store_, "dsblk/").size(), 10u);  // nothing swept
  for (const std::string name : {"garbled", "people"}) {
    EXPECT_EQ(registry.Get("ann", name).status().code(), absl::StatusCode::kDataLoss) << name;
    EXPECT_TRUE(registry.Delete("ann", name).ok()) << name;
  }
  EXPECT_EQ(Keys(*store_, "dsblk/").size(), 5u);  // the damaged dataset's blocks went with it
  EXPECT_TRUE(registry.Get("ann", "intact").ok());
}

// A block damaged on disk (a bit flip inside RocksDB's table file, below urn's own checksums)
// fails the dataset that owns it, not the start: before, the sweep for unfinished uploads read
// every block and its Corruption stopped Load, so urnd could not start and the owner could not
// delete the dataset.
TEST_F(DatasetRegistryTest, ABlockDamagedOnDiskFailsItsDatasetButNotTheStart) {
  {
    DatasetRegistry registry(store_.get());
    ASSERT_TRUE(registry.Load().ok());
    // Numbers that hardly compress (~1.8 MB stored), so that the table file is mostly blocks.
    std::string text = "a\tb\tc\n";
    uint64_t x = 88172645463325252u;
    for (int i = 0; i < 100000; ++i) {
      for (int c = 0; c < 3; ++c) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        absl::StrAppend(&text, x % 1000000000, c < 2 ? "\t" : "\n");
      }
    }
    internal::DatasetRecord record = Record("ann", "big");
    record.clear_column_types();
    auto upload = registry.StartUpload(record);
    ASSERT_TRUE(upload.ok()) << upload.status();
    ASSERT_TRUE((*upload)->Append(text).ok());
    auto committed = (*upload)->Commit();
    ASSERT_TRUE(committed.ok()) << committed.status();
  }
  // Reopened once, the log is flushed into a table file; then a byte in its middle flips.
  store_.reset();
  ASSERT_TRUE(storage::MetadataStore::Open(dir_.Join("meta")).ok());
  std::string largest;
  uintmax_t size = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir_.Join("meta"))) {
    if (f.path().extension() == ".sst" && f.file_size() > size) {
      size = f.file_size();
      largest = f.path();
    }
  }
  ASSERT_GT(size, 1u << 20) << largest;
  {
    std::fstream file(largest, std::ios::in | std::ios::out | std::ios::binary);
    file.seekg(static_cast<std::streamoff>(size / 2));
    char byte = 0;
    file.read(&byte, 1);
    byte ^= 0x10;
    file.seekp(static_cast<std::streamoff>(size / 2));
    file.write(&byte, 1);
    ASSERT_TRUE(file.good());
  }
  auto reopened = storage::MetadataStore::Open(dir_.Join("meta"));
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  store_ = *std::move(reopened);
  DatasetRegistry registry(store_.get());
  const absl::Status loaded = registry.Load();
  ASSERT_TRUE(loaded.ok()) << loaded;
  EXPECT_EQ(registry.Get("ann", "big").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(registry.Delete("ann", "big").ok());
  Upload(registry, "after");
  EXPECT_TRUE(registry.Get("ann", "after").ok());
}

// An upload's column names are refused past what the store keeps (table::kMaxStoredNameBytes).
TEST_F(DatasetRegistryTest, AColumnNameLongerThanTheStoreKeepsIsRefusedAtUpload) {
  DatasetRegistry registry(store_.get());
  ASSERT_TRUE(registry.Load().ok());
  internal::DatasetRecord record = Record("ann", "long");
  record.clear_column_types();
  auto upload = registry.StartUpload(record);
  ASSERT_TRUE(upload.ok()) << upload.status();
  absl::Status s = (*upload)->Append(std::string(70000, 'n') + "\tb\n1\t2\n");
  if (s.ok()) s = (*upload)->Commit().status();
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  EXPECT_THAT(s.message(), HasSubstr("longer than max_name_bytes (65536)"));
  upload->reset();
  EXPECT_TRUE(absl::IsNotFound(registry.Get("ann", "long").status()));
}

// A delete whose synced write fails changes nothing: the dataset is still served and listed, as
// a restart would find it (before, it left memory first and came back only after a restart).
TEST_F(DatasetRegistryTest, AFailedDeleteLeavesTheDatasetServed) {
  DatasetRegistry registry(store_.get());
  ASSERT_TRUE(registry.Load().ok());
  Upload(registry, "kept");
  store_->FailWritesForTesting(absl::UnavailableError("injected: no space left on device"));
  const absl::Status failed = registry.Delete("ann", "kept");
  store_->FailWritesForTesting(absl::OkStatus());
  EXPECT_TRUE(absl::IsUnavailable(failed)) << failed;
  EXPECT_TRUE(registry.Get("ann", "kept").ok());
  EXPECT_EQ(registry.Count("ann"), 1u);
  ASSERT_TRUE(Reload("kept").ok());
  EXPECT_TRUE(registry.Delete("ann", "kept").ok());
  EXPECT_TRUE(absl::IsNotFound(registry.Get("ann", "kept").status()));
  EXPECT_TRUE(absl::IsNotFound(Reload("kept").status()));
  EXPECT_TRUE(Keys(*store_, "dsblk/").empty());
}

TEST_F(DatasetRegistryTest, MissingBlockIsDataLoss) {
  DatasetRegistry registry(store_.get());
  ASSERT_TRUE(registry.Load().ok());
  Upload(registry, "people");
  const std::vector<std::string> keys = Keys(*store_, "dsblk/");
  ASSERT_TRUE(store_->Delete(keys[2]).ok());
  const absl::StatusOr<std::string> restored = Reload("people");
  ASSERT_TRUE(absl::IsDataLoss(restored.status())) << restored.status();
  EXPECT_THAT(restored.status().message(), HasSubstr("column 'score': block 0 is missing"));
}

TEST_F(DatasetRegistryTest, BlocksOfAnUploadThatNeverCommittedAreRemovedOnLoad) {
  DatasetRegistry registry(store_.get());
  ASSERT_TRUE(registry.Load().ok());
  Upload(registry, "kept");
  // What a crash between the blocks and the record leaves behind.
  ASSERT_TRUE(store_->Put("dsblk/orphan-upload/0-schema", "x").ok());
  ASSERT_TRUE(store_->Put("dsdata/orphan-chunks/00000000", "y").ok());
  ASSERT_TRUE(Reload("kept").ok());
  EXPECT_EQ(Keys(*store_, "dsblk/orphan-upload/").size(), 0u);
  EXPECT_EQ(Keys(*store_, "dsdata/").size(), 0u);
  EXPECT_EQ(Keys(*store_, "dsblk/").size(), 5u);
}

// The sweep is best effort: a delete of an orphan that fails without breaking the store (a
// transient error) leaves the orphan for a later start, and the start goes on. One that breaks
// the store (a full disk: RocksDB refuses every later write) stops the start, since urnd would
// otherwise serve while refusing every write.
TEST_F(DatasetRegistryTest, AFailedSweepDeleteStopsTheStartOnlyWhenItBrokeTheStore) {
  {
    DatasetRegistry registry(store_.get());
    ASSERT_TRUE(registry.Load().ok());
    Upload(registry, "kept");
  }
  ASSERT_TRUE(store_->Put("dsblk/orphan-upload/0-schema", "x").ok());
  store_->FailWritesForTesting(absl::UnavailableError("injected: transient"));
  {
    DatasetRegistry registry(store_.get());
    EXPECT_TRUE(registry.Load().ok());
    EXPECT_TRUE(registry.Get("ann", "kept").ok());
  }
  store_->FailWritesForTesting(absl::OkStatus());
  EXPECT_EQ(Keys(*store_, "dsblk/orphan-upload/").size(), 1u);

  store_->FailWritesForTesting(absl::UnavailableError("injected: no space left on device"),
                               /*breaks=*/true);
  DatasetRegistry registry(store_.get());
  const absl::Status loaded = registry.Load();
  store_->FailWritesForTesting(absl::OkStatus());
  EXPECT_EQ(loaded.code(), absl::StatusCode::kUnavailable) << loaded;
  EXPECT_THAT(std::string(loaded.message()), HasSubstr("refuses writes since one failed"));
  EXPECT_THAT(std::string(loaded.message()), HasSubstr("no space left on device"));
  EXPECT_EQ(Keys(*store_, "dsblk/orphan-upload/").size(), 1u);
}

TEST_F(DatasetRegistryTest, DeleteRemovesEveryBlock) {
  DatasetRegistry registry(store_.get());
  ASSERT_TRUE(registry.Load().ok());
  Upload(registry, "a");
  Upload(registry, "b");
  ASSERT_EQ(Keys(*store_, "dsblk/").size(), 10u);
  ASSERT_TRUE(registry.Delete("ann", "a").ok());
  EXPECT_EQ(Keys(*store_, "dsblk/").size(), 5u);
  ASSERT_TRUE(Reload("b").ok());
}

// DeleteOwner (a user deleted) removes the owner's datasets and fails the owner's uploads in
// progress at Commit, leaving neither a record nor blocks; other owners are untouched.
TEST_F(DatasetRegistryTest, DeleteOwnerRemovesDatasetsAndAbandonsUploadsInProgress) {
  DatasetRegistry registry(store_.get());
  ASSERT_TRUE(registry.Load().ok());
  Upload(registry, "a");
  auto pending = registry.StartUpload(Record("ann", "pending"));
  ASSERT_TRUE(pending.ok()) << pending.status();
  ASSERT_TRUE((*pending)->Append(kText).ok());
  auto other = registry.StartUpload(Record("bob", "pending"));
  ASSERT_TRUE(other.ok()) << other.status();
  ASSERT_TRUE((*other)->Append(kText).ok());
  EXPECT_EQ(registry.DeleteOwner("ann").value_or(-1), 1);
  auto abandoned = (*pending)->Commit();
  EXPECT_TRUE(absl::IsAborted(abandoned.status())) << abandoned.status();
  pending->reset();
  EXPECT_TRUE((*other)->Commit().ok());
  EXPECT_EQ(registry.Count("ann"), 0u);
  EXPECT_EQ(registry.Count("bob"), 1u);
  EXPECT_TRUE(absl::IsNotFound(Reload("pending").status()));
  EXPECT_TRUE(Keys(*store_, "dataset/ann/").empty());
  EXPECT_EQ(Keys(*store_, "dsblk/").size(), 5u);  // bob's dataset only
}

// A commit's synced write is outside the registry's lock: while it is paused there, other
// calls go on. A DeleteOwner that starts then waits for the commit to register, and deletes the
// new dataset with the owner's others, leaving no record behind.
TEST_F(DatasetRegistryTest, CallsGoOnDuringACommitsWriteAndDeleteOwnerWaitsForIt) {
  DatasetRegistry registry(store_.get());
  ASSERT_TRUE(registry.Load().ok());
  Upload(registry, "a");
  absl::Notification reached, proceed;
  registry.SetCommittingForTesting([&] {
    reached.Notify();
    proceed.WaitForNotificationWithTimeout(absl::Seconds(30));
  });
  auto pending = registry.StartUpload(Record("ann", "pending"));
  ASSERT_TRUE(pending.ok()) << pending.status();
  ASSERT_TRUE((*pending)->Append(kText).ok());
  absl::StatusOr<std::shared_ptr<const DatasetEntry>> committed;
  std::thread committer([&] { committed = (*pending)->Commit(); });
  ASSERT_TRUE(reached.WaitForNotificationWithTimeout(absl::Seconds(30)));

  // Before, Get waited for the write, here for ever (the hook holds it).
  absl::Notification got;
  std::thread getter([&] {
    EXPECT_TRUE(registry.Get("ann", "a").ok());
    EXPECT_EQ(registry.List("ann", "", "", 10).size(), 1u);
    got.Notify();
  });
  EXPECT_TRUE(got.WaitForNotificationWithTimeout(absl::Seconds(30)));

  absl::StatusOr<int> deleted;
  absl::Notification owner_deleted;
  std::thread deleter([&] {
    deleted = registry.DeleteOwner("ann");
    owner_deleted.Notify();
  });
  // It must wait for the commit (if it did not, it would be done well within this time).
  EXPECT_FALSE(owner_deleted.WaitForNotificationWithTimeout(absl::Milliseconds(300)));
  proceed.Notify();
  committer.join();
  deleter.join();
  getter.join();
  registry.SetCommittingForTesting(nullptr);
  EXPECT_TRUE(committed.ok()) << committed.status();
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(*deleted, 2);
  pending->reset();
  EXPECT_EQ(registry.Count("ann"), 0u);
  EXPECT_TRUE(Keys(*store_, "dataset/ann/").empty());
  EXPECT_TRUE(Keys(*store_, "dsblk/").empty());
}

// A data directory written before the blocks: the record (storage 0) and the uploaded text in
// chunks. Load parses it once, rewrites it as blocks and drops the chunks.
TEST_F(DatasetRegistryTest, TextChunksOfAnOlderDataDirectoryAreConvertedToBlocks) {
  std::string expected;
  {
    testing::TempDir other;
    auto fresh = storage::MetadataStore::Open(other.Join("meta"));
    ASSERT_TRUE(fresh.ok());
    DatasetRegistry registry(fresh->get());
    ASSERT_TRUE(registry.Load().ok());
    expected = Upload(registry, "old");
  }
  internal::DatasetRecord r = Record("ann", "old");
  r.set_upload_id("u1");
  r.set_chunks(2);
  r.set_num_rows(3);
  const std::string text = kText;
  ASSERT_TRUE(store_->Put("dsdata/u1/00000000", text.substr(0, 30)).ok());
  ASSERT_TRUE(store_->Put("dsdata/u1/00000001", text.substr(30)).ok());
  ASSERT_TRUE(store_->Put("dataset/ann/old", r.SerializeAsString()).ok());

  const absl::StatusOr<std::string> converted = Reload("old");
  ASSERT_TRUE(converted.ok()) << converted.status();
  EXPECT_EQ(*converted, expected);
  EXPECT_TRUE(Keys(*store_, "dsdata/").empty());
  EXPECT_EQ(Keys(*store_, "dsblk/u1/").size(), 5u);
  // And the next start reads the blocks.
  const absl::StatusOr<std::string> again = Reload("old");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, expected);
}

TEST_F(DatasetRegistryTest, RecordFromANewerUrndIsRefused) {
  internal::DatasetRecord r = Record("ann", "future");
  r.set_upload_id("u2");
  r.set_storage(7);
  ASSERT_TRUE(store_->Put("dataset/ann/future", r.SerializeAsString()).ok());
  const absl::StatusOr<std::string> restored = Reload("future");
  ASSERT_TRUE(absl::IsDataLoss(restored.status())) << restored.status();
  EXPECT_THAT(restored.status().message(), HasSubstr("unknown storage 7"));
}

// An upload may not start on a name that is taken, nor on one being deleted (the delete may yet
// fail): both errors name the request's field. Once the delete is done the name is free.
TEST_F(DatasetRegistryTest, AnUploadOnANameTakenOrBeingDeletedNamesTheHeadersField) {
  DatasetRegistry registry(store_.get());
  ASSERT_TRUE(registry.Load().ok());
  Upload(registry, "a");
  const absl::Status taken = registry.StartUpload(Record("ann", "a")).status();
  EXPECT_EQ(taken.code(), absl::StatusCode::kAlreadyExists) << taken;
  EXPECT_EQ(taken.message(), "header.name: dataset 'a' already exists");

  absl::Notification reached, proceed;
  registry.SetDeletingForTesting([&] {
    reached.Notify();
    proceed.WaitForNotificationWithTimeout(absl::Seconds(30));
  });
  absl::Status deleted;
  std::thread deleter([&] { deleted = registry.Delete("ann", "a"); });
  ASSERT_TRUE(reached.WaitForNotificationWithTimeout(absl::Seconds(30)));
  const absl::Status busy = registry.StartUpload(Record("ann", "a")).status();
  EXPECT_EQ(busy.code(), absl::StatusCode::kAborted) << busy;
  EXPECT_EQ(busy.message(), "header.name: dataset 'a' is being deleted; try again");
  proceed.Notify();
  deleter.join();
  registry.SetDeletingForTesting(nullptr);
  ASSERT_TRUE(deleted.ok()) << deleted;
  Upload(registry, "a");
  EXPECT_EQ(registry.Count("ann"), 1u);
}

}  // namespace
}  // namespace urn::server
