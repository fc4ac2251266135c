// Names and ids of server resources (datasets, weight stores, users).
#ifndef URN_SERVER_NAMES_H_
#define URN_SERVER_NAMES_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"

namespace urn::server {

// OK when `name` is 1 to `max_length` characters of [A-Za-z0-9_.-]; otherwise INVALID_ARGUMENT
// naming `field`.
absl::Status CheckResourceName(const std::string& field, const std::string& name,
                               size_t max_length = 128);

// A fresh id, unique within this process and (by its nanosecond clock prefix) across restarts:
// 24 lowercase hex digits.
std::string NewUniqueId();

}  // namespace urn::server

#endif  // URN_SERVER_NAMES_H_
