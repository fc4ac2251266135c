#include "names.h"

#include <atomic>
#include <chrono>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace urn::server {

absl::Status CheckResourceName(const std::string& field, const std::string& name,
                               size_t max_length) {
  if (name.empty() || name.size() > max_length) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": must be 1 to ", max_length, " characters"));
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    if (!ok) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": '", name, "' may only use letters, digits, '_', '.' and '-'"));
    }
  }
  return absl::OkStatus();
}

std::string NewUniqueId() {
  static std::atomic<uint64_t> counter{0};
  const uint64_t now =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count());
  return absl::StrFormat("%016x%08x", now, counter.fetch_add(1));
}

std::optional<std::pair<std::string, std::string>> OwnerAndNameOf(std::string_view key,
                                                                  std::string_view prefix) {
  const std::string_view owner_name = key.substr(prefix.size());
  const size_t slash = owner_name.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  return std::make_pair(std::string(owner_name.substr(0, slash)),
                        std::string(owner_name.substr(slash + 1)));
}

}  // namespace urn::server
