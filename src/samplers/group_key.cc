#include "samplers/group_key.h"

#include "random/counter_rng.h"

namespace urn::samplers {

std::string EncodeKeyColumns(absl::Span<const std::string_view> columns) {
  std::string out;
  size_t total = 0;
  for (std::string_view c : columns) total += c.size() + 10;
  out.reserve(total);
  for (std::string_view c : columns) {
    uint64_t length = c.size();
    do {
      const uint8_t byte = static_cast<uint8_t>(length & 0x7F);
      length >>= 7;
      out.push_back(static_cast<char>(length != 0 ? byte | 0x80 : byte));
    } while (length != 0);
    out.append(c.data(), c.size());
  }
  return out;
}

uint64_t HashKeyColumns(absl::Span<const std::string_view> columns) {
  if (columns.size() == 1) return random::HashKey(columns[0]);
  return random::HashKey(std::string_view(EncodeKeyColumns(columns)));
}

}  // namespace urn::samplers
