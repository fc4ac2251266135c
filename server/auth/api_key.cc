#include "auth/api_key.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <memory>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace urn::auth {
namespace {

constexpr std::string_view kPrefix = "urn_";
constexpr size_t kKeyIdHex = 16;
constexpr size_t kSecretHex = 32;

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

absl::StatusOr<std::string> RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) {
    return absl::InternalError("OpenSSL RAND_bytes failed");
  }
  return absl::BytesToHexString(raw);
}

}  // namespace

std::string ApiKey::ToString() const { return std::string(kPrefix) + key_id + "_" + secret; }

absl::StatusOr<ApiKey> GenerateApiKey() {
  absl::StatusOr<std::string> id = RandomHex(kKeyIdHex / 2);
  if (!id.ok()) return id.status();
  absl::StatusOr<std::string> secret = RandomHex(kSecretHex / 2);
  if (!secret.ok()) return secret.status();
  return ApiKey{*std::move(id), *std::move(secret)};
}

absl::StatusOr<ApiKey> ParseApiKey(std::string_view text) {
  const size_t want = kPrefix.size() + kKeyIdHex + 1 + kSecretHex;
  if (text.size() != want || text.substr(0, kPrefix.size()) != kPrefix ||
      text[kPrefix.size() + kKeyIdHex] != '_') {
    return absl::InvalidArgumentError("malformed key: expected urn_<16 hex>_<32 hex>");
  }
  std::string_view id = text.substr(kPrefix.size(), kKeyIdHex);
  std::string_view secret = text.substr(kPrefix.size() + kKeyIdHex + 1);
  if (!IsLowerHex(id) || !IsLowerHex(secret)) {
    return absl::InvalidArgumentError("malformed key: expected lowercase hex digits");
  }
  return ApiKey{std::string(id), std::string(secret)};
}

SecretDigest DigestSecret(std::string_view secret) {
  // OpenSSL 3's one-shot SHA256() looks the algorithm up on every call (about half a
  // microsecond); the algorithm is fetched once and each thread keeps its own context.
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  thread_local std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(),
                                                                               &EVP_MD_CTX_free);
  SecretDigest out;
  unsigned int length = 0;
  if (sha256 == nullptr || context == nullptr ||
      EVP_DigestInit_ex2(context.get(), sha256, nullptr) != 1 ||
      EVP_DigestUpdate(context.get(), secret.data(), secret.size()) != 1 ||
      EVP_DigestFinal_ex(context.get(), out.data(), &length) != 1 || length != out.size()) {
    SHA256(reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), out.data());
  }
  return out;
}

bool DigestsEqual(const SecretDigest& a, const SecretDigest& b) {
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace urn::auth
