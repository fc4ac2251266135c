#include "auth/users.h"

#include <ctime>

#include "absl/strings/str_cat.h"
#include "names.h"
#include "urn/internal/records.pb.h"

namespace urn::auth {

absl::Status CreateUser(storage::MetadataStore& store, const std::string& name,
                        const std::string& plan, bool admin, const ApiKey& key) {
  if (absl::Status s = server::CheckResourceName("name", name, 64); !s.ok()) return s;
  if (absl::Status s = server::CheckResourceName("plan", plan, 64); !s.ok()) return s;
  const std::string user_key = absl::StrCat("user/", name);
  absl::StatusOr<std::optional<std::string>> existing = store.Get(user_key);
  if (!existing.ok()) return existing.status();
  if (existing->has_value()) {
    return absl::AlreadyExistsError(absl::StrCat("name: user '", name, "' already exists"));
  }
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  internal::UserRecord user;
  user.set_name(name);
  user.set_plan(plan);
  user.set_admin(admin);
  user.set_created_unix(now);
  internal::KeyRecord record;
  record.set_key_id(key.key_id);
  record.set_user(name);
  const SecretDigest digest = DigestSecret(key.secret);
  record.set_secret_sha256(std::string(digest.begin(), digest.end()));
  record.set_created_unix(now);
  return store.Write({{user_key, user.SerializeAsString()},
                      {absl::StrCat("key/", key.key_id), record.SerializeAsString()}});
}

}  // namespace urn::auth
