// urnd's memory budget for all users together (--memory-budget): weight stores and uploads that
// would take the datasets and stores held past it are refused, RESOURCE_EXHAUSTED naming the
// flag, and what was deleted makes room again.
#include "memory_budget.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "support/temp_dir.h"
#include "urn/client.h"
#include "urn/errors.h"
#include "urn_server.h"

namespace urn::server {
namespace {

using ::testing::HasSubstr;

TEST(MemoryBudget, PassesUpToTheLimitAndNoneMeansNoLimit) {
  int64_t held = 600;
  const MemoryBudget budget(1000, [&] { return held; });
  EXPECT_TRUE(budget.Check(400, "x").ok());
  const absl::Status s = budget.Check(401, "a weight store of 10 slots");
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("--memory-budget 1000 bytes, for all users together) cannot hold a "
                        "weight store of 10 slots: 600 bytes are held and 401 more were asked"));
  held = 2000;  // over already (a budget lowered at a restart): nothing more
  EXPECT_FALSE(budget.Check(0 + 1, "x").ok());
  EXPECT_TRUE(MemoryBudget(0, [] { return int64_t{1} << 60; }).Check(int64_t{1} << 60, "x").ok());
}

class MemoryBudgetServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.data_dir = dir_.Join("data");
    options.memory_budget = 1 << 20;  // 1 MiB
    server_ = std::make_unique<UrnServer>(options);
    ASSERT_TRUE(server_->Start().ok());
    ClientOptions o;
    o.server = absl::StrCat("127.0.0.1:", server_->port());
    o.key = std::string(
        absl::StripAsciiWhitespace(testing::ReadFileOrEmpty(dir_.Join("data/admin.key"))));
    o.max_attempts = 1;
    client_ = std::make_unique<Client>(*Client::Connect(o));
  }
  absl::Status CreateStore(const std::string& name, int64_t capacity) {
    v1::CreateWeightStoreRequest r;
    r.set_name(name);
    r.set_capacity(capacity);
    return client_->CreateWeightStore(r).status();
  }
  absl::Status Upload(const std::string& name, int rows) {
    std::string text = "id\tv\n";
    for (int i = 0; i < rows; ++i) absl::StrAppend(&text, i, "\t", i % 7, "\n");
    const std::string path = dir_.Join(name + ".tsv");
    testing::WriteFileOrDie(path, text);
    v1::CreateDatasetHeader h;
    h.set_name(name);
    h.set_format(v1::DATA_FORMAT_TSV);
    h.set_has_header(true);
    return client_->CreateDataset(h, path).status();
  }

  testing::TempDir dir_;
  std::unique_ptr<UrnServer> server_;
  std::unique_ptr<Client> client_;
};

TEST_F(MemoryBudgetServerTest, StoresAndUploadsPastTheBudgetAreRefusedUntilRoomIsMade) {
  ASSERT_TRUE(CreateStore("a", 30'000).ok());  // 780,000 bytes of 1 MiB
  absl::Status s = CreateStore("b", 30'000);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("--memory-budget 1048576 bytes"));
  EXPECT_FALSE(GetQuotaDetails(s).has_value());  // not a plan's quota
  EXPECT_EQ(ErrorSentence(s).rfind("resource exhausted: urnd's memory budget", 0), 0u);
  // ~130 KB of text in 1 MiB chunks with 8 bytes a cell: more than the 268 KB left.
  s = Upload("big", 20'000);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("cannot hold this upload"));
  EXPECT_EQ(client_->GetDataset("big").status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(Upload("small", 1'000).ok());

  ASSERT_TRUE(client_->DeleteWeightStore("a").ok());
  EXPECT_TRUE(CreateStore("b", 30'000).ok());
  ASSERT_TRUE(client_->DeleteWeightStore("b").ok());
  EXPECT_TRUE(Upload("big", 20'000).ok());
}

}  // namespace
}  // namespace urn::server
