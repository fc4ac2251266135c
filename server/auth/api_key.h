// API keys: `urn_<keyid>_<secret>`.
//
// The key id (16 hex digits, 64 bits) names the key in listings, logs and revocation; it is not
// secret. The secret (32 hex digits, 128 bits from OpenSSL's CSPRNG) is shown once, when the
// key is created; only its SHA-256 is ever stored, and checks compare digests in constant time.
#ifndef URN_SERVER_AUTH_API_KEY_H_
#define URN_SERVER_AUTH_API_KEY_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace urn::auth {

using SecretDigest = std::array<uint8_t, 32>;

struct ApiKey {
  std::string key_id;  // 16 lowercase hex digits
  std::string secret;  // 32 lowercase hex digits

  // The full key as given to users: "urn_<keyid>_<secret>".
  std::string ToString() const;
};

// A fresh key from OpenSSL's RAND_bytes. Fails only if the CSPRNG fails.
absl::StatusOr<ApiKey> GenerateApiKey();

// Splits "urn_<keyid>_<secret>"; InvalidArgument when the text is not of that shape (wrong
// prefix, lengths, or non-hex digits). Never echoes the secret in the error.
absl::StatusOr<ApiKey> ParseApiKey(std::string_view text);

// SHA-256 of the secret.
SecretDigest DigestSecret(std::string_view secret);

// Constant-time equality of two digests.
bool DigestsEqual(const SecretDigest& a, const SecretDigest& b);

}  // namespace urn::auth

#endif  // URN_SERVER_AUTH_API_KEY_H_
