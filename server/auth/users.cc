#include "auth/users.h"

#include <ctime>
#include <optional>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "names.h"
#include "urn/internal/records.pb.h"

namespace urn::auth {

namespace {

// Each change below reads records and then writes others (a user before a key is added, the
// keys before a user is deleted). One at a time, so that no change acts on what another is
// removing: a key added while its user is deleted, or two creations of one name, both
// succeeding. Changes to users are rare (admin calls), so one lock for all stores is enough.
ABSL_CONST_INIT absl::Mutex changes_mu(absl::kConstInit);

}  // namespace

absl::Status CreateUser(storage::MetadataStore& store, const std::string& name,
                        const std::string& plan, bool admin, const ApiKey& key) {
  absl::MutexLock lock(&changes_mu);
  if (absl::Status s = server::CheckResourceName("name", name, 64); !s.ok()) return s;
  if (absl::Status s = server::CheckResourceName("plan", plan, 64); !s.ok()) return s;
  const std::string user_key = absl::StrCat("user/", name);
  absl::StatusOr<std::optional<std::string>> existing = store.Get(user_key);
  if (!existing.ok()) return existing.status();
  if (existing->has_value()) {
    return absl::AlreadyExistsError(absl::StrCat("name: user '", name, "' already exists"));
  }
  absl::StatusOr<std::optional<std::string>> tombstone = store.Get(absl::StrCat("udel/", name));
  if (!tombstone.ok()) return tombstone.status();
  if (tombstone->has_value()) {
    return absl::FailedPreconditionError(
        absl::StrCat("name: the deletion of an earlier user '", name,
                     "' is unfinished (its data is not all removed); delete the user again to "
                     "finish it"));
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

namespace {

// `field` is the request field that named the user, for the error.
absl::StatusOr<internal::UserRecord> ReadUser(storage::MetadataStore& store, const char* field,
                                              const std::string& name) {
  absl::StatusOr<std::optional<std::string>> bytes = store.Get(absl::StrCat("user/", name));
  if (!bytes.ok()) return bytes.status();
  internal::UserRecord user;
  if (!bytes->has_value()) {
    return absl::NotFoundError(absl::StrCat(field, ": no user named '", name, "'"));
  }
  if (!user.ParseFromString(**bytes)) {
    return absl::DataLossError(absl::StrCat("user record of '", name, "' is damaged"));
  }
  return user;
}

}  // namespace

absl::Status AddKey(storage::MetadataStore& store, const std::string& user, const ApiKey& key) {
  absl::MutexLock lock(&changes_mu);
  absl::StatusOr<internal::UserRecord> existing = ReadUser(store, "user", user);
  if (!existing.ok()) return existing.status();
  internal::KeyRecord record;
  record.set_key_id(key.key_id);
  record.set_user(user);
  const SecretDigest digest = DigestSecret(key.secret);
  record.set_secret_sha256(std::string(digest.begin(), digest.end()));
  record.set_created_unix(static_cast<int64_t>(std::time(nullptr)));
  return store.Put(absl::StrCat("key/", key.key_id), record.SerializeAsString());
}

absl::Status SetUserPlan(storage::MetadataStore& store, const std::string& name,
                         const std::string& plan) {
  absl::MutexLock lock(&changes_mu);
  absl::StatusOr<internal::UserRecord> user = ReadUser(store, "name", name);
  if (!user.ok()) return user.status();
  user->set_plan(plan);
  return store.Put(absl::StrCat("user/", name), user->SerializeAsString());
}

absl::Status RevokeKey(storage::MetadataStore& store, const std::string& key_id) {
  absl::MutexLock lock(&changes_mu);
  const std::string key = absl::StrCat("key/", key_id);
  absl::StatusOr<std::optional<std::string>> bytes = store.Get(key);
  if (!bytes.ok()) return bytes.status();
  internal::KeyRecord record;
  if (!bytes->has_value() || !record.ParseFromString(**bytes)) {
    return absl::NotFoundError(absl::StrCat("key_id: no key '", key_id, "'"));
  }
  record.set_revoked(true);
  return store.Put(key, record.SerializeAsString());
}

absl::StatusOr<std::vector<KeyListing>> ListKeys(storage::MetadataStore& store,
                                                 const std::string& user) {
  std::vector<KeyListing> out;
  absl::Status s = store.Scan("key/", [&](std::string_view, std::string_view value) {
    internal::KeyRecord r;
    if (r.ParseFromArray(value.data(), static_cast<int>(value.size())) &&
        (user.empty() || r.user() == user)) {
      out.push_back({r.key_id(), r.user(), r.created_unix(), r.revoked()});
    }
    return true;
  });
  if (!s.ok()) return s;
  if (!user.empty() && out.empty()) {  // no keys: a user without keys, or no such user
    absl::StatusOr<internal::UserRecord> exists = ReadUser(store, "user", user);
    if (!exists.ok()) return exists.status();
  }
  return out;
}

absl::StatusOr<int> DeleteUser(storage::MetadataStore& store, const std::string& name) {
  absl::MutexLock lock(&changes_mu);
  absl::StatusOr<internal::UserRecord> user = ReadUser(store, "name", name);
  if (absl::IsNotFound(user.status())) {
    absl::StatusOr<std::optional<std::string>> tombstone = store.Get(absl::StrCat("udel/", name));
    if (!tombstone.ok()) return tombstone.status();
    if (tombstone->has_value()) return 0;  // deleted, its data not all removed: finish that
  }
  if (!user.ok()) return user.status();
  if (user->admin()) {
    return absl::FailedPreconditionError(
        absl::StrCat("name: '", name, "' is an admin; admin users cannot be deleted"));
  }
  absl::StatusOr<std::vector<KeyListing>> keys = ListKeys(store, name);
  if (!keys.ok()) return keys.status();
  std::vector<std::pair<std::string, std::optional<std::string>>> ops;
  ops.emplace_back(absl::StrCat("user/", name), std::nullopt);
  ops.emplace_back(absl::StrCat("udel/", name), std::string());
  for (const KeyListing& k : *keys) ops.emplace_back(absl::StrCat("key/", k.key_id), std::nullopt);
  if (absl::Status s = store.Write(ops); !s.ok()) return s;
  return static_cast<int>(keys->size());
}

absl::Status EndUserDeletion(storage::MetadataStore& store, const std::string& name) {
  absl::MutexLock lock(&changes_mu);
  return store.Delete(absl::StrCat("udel/", name));
}

absl::StatusOr<std::vector<std::string>> UnfinishedUserDeletions(storage::MetadataStore& store) {
  std::vector<std::string> names;
  absl::Status s = store.Scan("udel/", [&](std::string_view key, std::string_view) {
    names.emplace_back(key.substr(5));
    return true;
  });
  if (!s.ok()) return s;
  return names;
}

}  // namespace urn::auth
