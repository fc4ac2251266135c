// The Sampling streams' own batch encoder writes exactly the bytes protobuf's generated
// serializer writes for the same SampleBatch / ShuffleBatch.
#include "sampling/batch_encoder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "urn/v1/sampling.pb.h"

namespace urn::server {
namespace {

std::string Bytes(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  EXPECT_TRUE(buffer.Dump(&slices).ok());
  std::string out;
  for (const grpc::Slice& s : slices)
    out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

// Ids of every varint length 1..9 (the largest id is 2^63 - 1), each at its boundaries.
std::vector<uint64_t> BoundaryIds() {
  std::vector<uint64_t> ids = {0, 1};
  for (int bits = 7; bits < 63; bits += 7) {
    ids.push_back((uint64_t{1} << bits) - 1);
    ids.push_back(uint64_t{1} << bits);
  }
  ids.push_back(static_cast<uint64_t>(std::numeric_limits<int64_t>::max()));
  return ids;
}

std::string Expected(const std::vector<uint64_t>& rows, const std::vector<double>* weights,
                     const v1::SampleBatch* columns, int64_t offset, int64_t total) {
  v1::SampleBatch batch;
  for (uint64_t r : rows) batch.add_row_ids(static_cast<int64_t>(r));
  if (weights != nullptr) {
    for (double w : *weights) batch.add_weights(w);
  }
  if (columns != nullptr) batch.mutable_columns()->CopyFrom(columns->columns());
  batch.set_offset(offset);
  batch.set_total(total);
  return batch.SerializeAsString();
}

// Every test runs twice: with the vector paths this CPU has, and with the portable ones.
class BatchEncoderTest : public testing::TestWithParam<bool> {
 protected:
  void SetUp() override { UsePortableBatchEncodingForTesting(GetParam()); }
  void TearDown() override { UsePortableBatchEncodingForTesting(false); }
};

TEST_P(BatchEncoderTest, SampleBatchIsProtobufsBytesForEveryVarintLength) {
  const std::vector<uint64_t> ids = BoundaryIds();
  // Every id at every position near the end, where the 8-byte stores must give way.
  for (size_t tail = 0; tail <= ids.size(); ++tail) {
    std::vector<uint64_t> rows(ids.begin(), ids.end());
    rows.insert(rows.end(), ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(tail));
    EXPECT_EQ(Bytes(EncodeSampleBatch(rows, nullptr, "", 5, 1 << 20)),
              Expected(rows, nullptr, nullptr, 5, 1 << 20))
        << "tail " << tail;
  }
}

TEST_P(BatchEncoderTest, SampleBatchIsProtobufsBytesForRandomBatchesWithWeightsAndColumns) {
  std::mt19937_64 rng(20261123);
  for (int round = 0; round < 300; ++round) {
    const size_t n = rng() % 2000;
    std::vector<uint64_t> rows(n);
    std::vector<double> weights(n);
    const int shift = static_cast<int>(rng() % 64);  // ids of 1 to 9 varint bytes
    for (size_t i = 0; i < n; ++i) {
      rows[i] = (rng() >> shift) & static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
      weights[i] = std::ldexp(static_cast<double>(rng() % 1000), static_cast<int>(rng() % 40) - 20);
    }
    const bool with_weights = round % 2 == 0;
    v1::SampleBatch columns;
    if (round % 3 == 0) {
      v1::ColumnValues* c = columns.add_columns();
      c->set_name("label");
      for (size_t i = 0; i < n; ++i) c->mutable_int64_values()->add_values(static_cast<int64_t>(i));
    }
    const int64_t offset = round % 5 == 0 ? 0 : static_cast<int64_t>(rng() >> 2);
    const int64_t total = round % 7 == 0 ? 0 : static_cast<int64_t>(rng() >> 2);
    const std::string column_bytes = columns.SerializeAsString();
    EXPECT_EQ(Bytes(EncodeSampleBatch(rows, with_weights ? weights.data() : nullptr, column_bytes,
                                      offset, total)),
              Expected(rows, with_weights ? &weights : nullptr, &columns, offset, total))
        << "round " << round;
  }
}

TEST_P(BatchEncoderTest, EmptySampleBatchHasNoBytes) {
  EXPECT_EQ(Bytes(EncodeSampleBatch({}, nullptr, "", 0, 0)), "");
}

TEST_P(BatchEncoderTest, ShuffleBatchIsProtobufsBytes) {
  const std::vector<uint64_t> ids = BoundaryIds();
  for (const int64_t next : {int64_t{0}, int64_t{1}, int64_t{1} << 40}) {
    v1::ShuffleBatch batch;
    for (uint64_t r : ids) batch.add_row_ids(static_cast<int64_t>(r));
    batch.set_next_offset(next);
    EXPECT_EQ(Bytes(EncodeShuffleBatch(ids, next)), batch.SerializeAsString()) << next;
  }
}

TEST_P(BatchEncoderTest, ParsesBackToTheSameSampleBatch) {
  const std::vector<uint64_t> rows = {9'999'999, 0, 127, 128, 5'000'000};
  const std::vector<double> weights = {1.5, 2.0, 1e-300, 1e300, 0.25};
  v1::SampleBatch parsed;
  ASSERT_TRUE(parsed.ParseFromString(Bytes(EncodeSampleBatch(rows, weights.data(), "", 3, 10))));
  ASSERT_EQ(parsed.row_ids_size(), 5);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(parsed.row_ids(i), static_cast<int64_t>(rows[i]));
    EXPECT_EQ(parsed.weights(i), weights[i]);
  }
  EXPECT_EQ(parsed.offset(), 3);
  EXPECT_EQ(parsed.total(), 10);
}

INSTANTIATE_TEST_SUITE_P(CpuAndPortable, BatchEncoderTest, testing::Values(false, true),
                         [](const testing::TestParamInfo<bool>& info) {
                           return info.param ? "Portable" : "ThisCpu";
                         });

}  // namespace
}  // namespace urn::server
