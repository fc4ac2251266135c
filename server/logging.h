// Process-wide logging for urnd: spdlog to stderr, as text or one JSON object per line.
#ifndef URN_SERVER_LOGGING_H_
#define URN_SERVER_LOGGING_H_

#include <string>

#include "options.h"

namespace urn::server {

// Installs the default spdlog logger. REQUIRES: `level` was validated by ParseServerOptions.
void ConfigureLogging(const std::string& level, LogFormat format);

// `s` escaped for the inside of a JSON string.
std::string JsonEscape(std::string_view s);

}  // namespace urn::server

#endif  // URN_SERVER_LOGGING_H_
