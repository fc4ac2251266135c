#include "auth/api_key.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace urn::auth {
namespace {

TEST(ApiKey, GeneratedKeysRoundTripAndDiffer) {
  absl::StatusOr<ApiKey> a = GenerateApiKey();
  absl::StatusOr<ApiKey> b = GenerateApiKey();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->secret, b->secret);
  EXPECT_EQ(a->secret.size(), 32u);  // 128 bits
  absl::StatusOr<ApiKey> parsed = ParseApiKey(a->ToString());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->key_id, a->key_id);
  EXPECT_EQ(parsed->secret, a->secret);
}

TEST(ApiKey, MalformedKeysAreRejectedWithoutEchoingTheSecret) {
  const std::string secret = "0123456789abcdef0123456789abcdef";
  for (const std::string& bad : std::vector<std::string>{
           "", "urn_", "xyz_0123456789abcdef_" + secret, "urn_0123456789abcde_" + secret,
           "urn_0123456789abcdef-" + secret, "urn_0123456789ABCDEF_" + secret,
           "urn_0123456789abcdef_" + secret + "0"}) {
    absl::StatusOr<ApiKey> k = ParseApiKey(bad);
    EXPECT_FALSE(k.ok()) << bad;
    EXPECT_EQ(k.status().message().find(secret), std::string::npos);
  }
}

TEST(ApiKey, DigestComparison) {
  const SecretDigest a = DigestSecret("s1");
  EXPECT_TRUE(DigestsEqual(a, DigestSecret("s1")));
  EXPECT_FALSE(DigestsEqual(a, DigestSecret("s2")));
}

}  // namespace
}  // namespace urn::auth
