// Names and ids of server resources (datasets, weight stores, users).
#ifndef URN_SERVER_NAMES_H_
#define URN_SERVER_NAMES_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"

namespace urn::server {

// OK when `name` is 1 to `max_length` characters of [A-Za-z0-9_.-]; otherwise INVALID_ARGUMENT
// naming `field`.
absl::Status CheckResourceName(const std::string& field, const std::string& name,
                               size_t max_length = 128);

// The owner and name in a record key "<prefix><owner>/<name>", or nullopt when it has no '/'
// after the prefix. REQUIRES: key starts with prefix.
std::optional<std::pair<std::string, std::string>> OwnerAndNameOf(std::string_view key,
                                                                  std::string_view prefix);

// A fresh id, unique within this process and (by its nanosecond clock prefix) across restarts:
// 24 lowercase hex digits.
std::string NewUniqueId();

}  // namespace urn::server

#endif  // URN_SERVER_NAMES_H_
