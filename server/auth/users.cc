#include "auth/users.h"

#include <ctime>

#include "absl/strings/str_cat.h"
#include "urn/internal/records.pb.h"

namespace urn::auth {
namespace {

absl::Status CheckName(const std::string& field, const std::string& name) {
  if (name.empty() || name.size() > 64) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": must be 1 to 64 characters"));
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

}  // namespace

absl::Status CreateUser(storage::MetadataStore& store, const std::string& name,
                        const std::string& plan, bool admin, const ApiKey& key) {
  if (absl::Status s = CheckName("name", name); !s.ok()) return s;
  if (absl::Status s = CheckName("plan", plan); !s.ok()) return s;
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
