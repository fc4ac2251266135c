#include "record_arena.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "random/counter_rng.h"

namespace urn::cli {
namespace {

using random::KeyedStream;
using random::Stream;

// A reservoir's pattern: slots filled, then overwritten at random with records of random
// lengths (0 to 300 bytes, each byte naming its slot and write). Every slot reads back the last
// record put there, across many compactions, and the buffer stays within its bound.
TEST(SlotRecordsTest, EverySlotReadsItsLastRecordAcrossCompactions) {
  constexpr size_t kSlots = 500;
  constexpr size_t kMin = 4096;
  SlotRecords records(kMin);
  std::vector<std::string> model(kSlots);
  const KeyedStream rng(1, Stream::kReservoir, 77);
  size_t appended = 0;
  for (uint64_t write = 0; write < 20000; ++write) {
    const size_t slot = write < kSlots ? write : rng.Bounded(2 * write, kSlots);
    const size_t length = rng.Bounded(2 * write + 1, 301);
    std::string r(length, static_cast<char>('a' + write % 26));
    if (length > 0) r[0] = static_cast<char>(slot % 251);
    records.Put(slot, r);
    model[slot] = r;
    appended += length;
    size_t live = 0;
    for (const std::string& m : model) live += m.size();
    ASSERT_EQ(records.live_bytes(), live);
    ASSERT_LE(records.buffer_bytes(), std::max(2 * live, kMin)) << "after write " << write;
    if (write % 997 == 0 || write + 1 == 20000) {
      for (size_t s = 0; s < kSlots; ++s) ASSERT_EQ(records.at(s), model[s]) << "slot " << s;
    }
  }
  // The buffer was compacted: it holds far less than everything appended.
  EXPECT_LT(records.buffer_bytes(), appended / 10);
}

TEST(SlotRecordsTest, SlotsNeverPutReadEmptyAndAreCountedAsNothing) {
  SlotRecords records(64);
  records.Put(3, "abc");
  EXPECT_EQ(records.at(0), "");
  EXPECT_EQ(records.at(3), "abc");
  EXPECT_EQ(records.live_bytes(), 3u);
  records.Put(3, "");
  EXPECT_EQ(records.at(3), "");
  EXPECT_EQ(records.live_bytes(), 0u);
}

}  // namespace
}  // namespace urn::cli
