// The body of the table codec fuzz target (fuzz_table_codec.cc) and of its corpus replay
// (tests/core/fuzz_corpus_test.cc): the blocks urnd stores a dataset as, damaged in every way a
// disk or a bug could, must never crash the decoder nor come back as a table that is not whole.
//
// Input: byte 0 holds the reader flags (OptionsFromFlags), byte 1 the block size (EncodeTable's
// block_bytes = 16 + 8 * byte, small so that a column spans several blocks), then TSV text up to
// the first NUL byte, then damages of 4 bytes each: [op << 6 | block][offset lo][offset hi]
// [value]. The ops: 0 flips the bits `value` of the byte at `offset` in the block's body; 1 cuts
// the body at `offset`; 2 drops the block; 3 repeats it (odd value) or swaps it with the next.
// After the damage every block's checksum is recomputed, so that the decoder's parsing, not only
// its checksum test, meets the damage. Then:
//   - undamaged, the blocks decode to exactly the table they came from;
//   - damaged, decoding fails with DataLoss, or gives a table whose every cell reads back
//     (Describe) and that encodes and decodes to itself again.
// Anything else aborts.
#ifndef URN_TESTS_FUZZ_FUZZ_TABLE_CODEC_H_
#define URN_TESTS_FUZZ_FUZZ_TABLE_CODEC_H_

#include <xxhash.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fuzz_table_reader.h"
#include "table/table_codec.h"

namespace urn::table::fuzz {

using Blocks = std::vector<std::pair<std::string, std::string>>;  // (name, bytes)

inline absl::StatusOr<Blocks> Encode(const Table& table, size_t block_bytes) {
  Blocks blocks;
  absl::Status s = EncodeTable(table, block_bytes, [&](std::string name, std::string bytes) {
    blocks.emplace_back(std::move(name), std::move(bytes));
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return blocks;
}

inline absl::StatusOr<Table> Decode(const Blocks& blocks) {
  TableDecoder decoder;
  for (const auto& [name, bytes] : blocks) {
    if (absl::Status s = decoder.Add(name, bytes); !s.ok()) return s;
  }
  return decoder.Finish();
}

// Applies the 4-byte damages in `ops` to `blocks`, then gives every block a fresh checksum.
inline void Damage(std::string_view ops, Blocks& blocks) {
  constexpr size_t kChecksum = 8;
  for (auto& block : blocks) block.second.resize(block.second.size() - kChecksum);
  for (size_t i = 0; i + 4 <= ops.size() && !blocks.empty(); i += 4) {
    const auto byte = [&](size_t j) { return static_cast<uint8_t>(ops[i + j]); };
    const int op = byte(0) >> 6;
    const size_t b = (byte(0) & 63) % blocks.size();
    const size_t offset = byte(1) | (size_t{byte(2)} << 8);
    const uint8_t value = byte(3);
    std::string& body = blocks[b].second;
    switch (op) {
      case 0:
        if (!body.empty()) body[offset % body.size()] ^= static_cast<char>(value);
        break;
      case 1:
        body.resize(offset % (body.size() + 1));
        break;
      case 2:
        blocks.erase(blocks.begin() + static_cast<std::ptrdiff_t>(b));
        break;
      default:
        if (value & 1) {
          blocks.insert(blocks.begin() + static_cast<std::ptrdiff_t>(b), blocks[b]);
        } else if (b + 1 < blocks.size()) {
          std::swap(blocks[b], blocks[b + 1]);
        }
        break;
    }
  }
  for (auto& block : blocks) {
    const uint64_t sum = XXH3_64bits(block.second.data(), block.second.size());
    char bytes[kChecksum];
    std::memcpy(bytes, &sum, kChecksum);
    block.second.append(bytes, kChecksum);
  }
}

// Empty when the input keeps the promises above; otherwise what went wrong.
inline std::string CodecViolation(const uint8_t* data, size_t size) {
  if (size < 2) return std::string();
  const ReadOptions options = OptionsFromFlags(Format::kTsv, data[0]);
  const size_t block_bytes = 16 + 8 * size_t{data[1]};
  const std::string_view rest(reinterpret_cast<const char*>(data + 2), size - 2);
  const size_t nul = rest.find('\0');
  const std::string_view text = rest.substr(0, nul);
  const std::string_view ops = nul == std::string_view::npos ? "" : rest.substr(nul + 1);

  const absl::StatusOr<Table> table = Build(options, text, text.size(), false);
  if (!table.ok()) return std::string();  // nothing to encode
  absl::StatusOr<Blocks> blocks = Encode(*table, block_bytes);
  if (!blocks.ok()) return "encoding failed: " + blocks.status().ToString();
  Damage(ops, *blocks);
  const absl::StatusOr<Table> decoded = Decode(*blocks);
  if (ops.size() < 4) {
    const std::string want = Describe(table);
    const std::string got = Describe(decoded);
    if (got != want)
      return "undamaged blocks decoded differently\nwant:\n" + want + "\ngot:\n" + got;
    return std::string();
  }
  if (!decoded.ok()) {
    if (absl::IsDataLoss(decoded.status())) return std::string();
    return "damage gave a status other than DataLoss: " + decoded.status().ToString();
  }
  const std::string first = Describe(decoded);  // aborts on a cell that does not read back
  absl::StatusOr<Blocks> again = Encode(*decoded, block_bytes);
  if (!again.ok()) return "a decoded table did not encode: " + again.status().ToString();
  const std::string second = Describe(Decode(*again));
  if (first != second) return "a decoded table changed in a round trip\n" + first + "\n" + second;
  return std::string();
}

inline int FuzzCodec(const uint8_t* data, size_t size) {
  return AbortOnViolation(CodecViolation(data, size));
}

}  // namespace urn::table::fuzz

#endif  // URN_TESTS_FUZZ_FUZZ_TABLE_CODEC_H_
