// HttpRequest: one plain HTTP/1.0 request to 127.0.0.1 over a TCP socket, for tests of urnd's
// metrics endpoint without an HTTP client library.
#ifndef URN_TESTS_SUPPORT_HTTP_GET_H_
#define URN_TESTS_SUPPORT_HTTP_GET_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"

namespace urn::testing {

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

// Sends `method path` to 127.0.0.1:`port` and reads the response until the server closes the
// connection (at most 10 s). Unavailable when it cannot connect, Internal for a response that
// does not parse.
absl::StatusOr<HttpResponse> HttpRequest(int port, const std::string& method,
                                         const std::string& path);

}  // namespace urn::testing

#endif  // URN_TESTS_SUPPORT_HTTP_GET_H_
