#include "auth/authenticator.h"

#include <utility>

#include "absl/status/status.h"
#include "urn/internal/records.pb.h"

namespace urn::auth {

absl::Status Authenticator::Invalidate() {
  absl::MutexLock reload(&reload_mu_);
  absl::flat_hash_map<std::string, KeyEntry> keys;
  absl::flat_hash_map<std::string, UserEntry> users;
  absl::Status bad = absl::OkStatus();
  absl::Status s = store_->Scan("key/", [&](std::string_view k, std::string_view v) {
    internal::KeyRecord r;
    if (!r.ParseFromArray(v.data(), static_cast<int>(v.size())) ||
        r.secret_sha256().size() != sizeof(SecretDigest)) {
      bad = absl::DataLossError("metadata store: damaged key record " + std::string(k));
      return false;
    }
    KeyEntry e;
    std::copy(r.secret_sha256().begin(), r.secret_sha256().end(), e.digest.begin());
    e.user = r.user();
    e.revoked = r.revoked();
    keys.emplace(r.key_id(), std::move(e));
    return true;
  });
  if (!s.ok()) return s;
  if (!bad.ok()) return bad;
  s = store_->Scan("user/", [&](std::string_view k, std::string_view v) {
    internal::UserRecord r;
    if (!r.ParseFromArray(v.data(), static_cast<int>(v.size()))) {
      bad = absl::DataLossError("metadata store: damaged user record " + std::string(k));
      return false;
    }
    users.emplace(r.name(), UserEntry{r.plan(), r.admin()});
    return true;
  });
  if (!s.ok()) return s;
  if (!bad.ok()) return bad;
  absl::MutexLock lock(&mu_);
  keys_ = std::move(keys);
  users_ = std::move(users);
  return absl::OkStatus();
}

absl::StatusOr<Principal> Authenticator::Authenticate(std::string_view authorization) const {
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.empty()) {
    return absl::UnauthenticatedError("missing authorization: send 'authorization: Bearer <key>'");
  }
  if (authorization.substr(0, kBearer.size()) != kBearer) {
    return absl::UnauthenticatedError("authorization must be 'Bearer <key>'");
  }
  absl::StatusOr<ApiKey> key = ParseApiKey(authorization.substr(kBearer.size()));
  if (!key.ok()) return absl::UnauthenticatedError(std::string(key.status().message()));
  const SecretDigest digest = DigestSecret(key->secret);
  absl::ReaderMutexLock lock(&mu_);
  auto k = keys_.find(key->key_id);
  // Unknown, revoked and wrong-secret keys get one message, so a caller learns nothing.
  if (k == keys_.end() || k->second.revoked || !DigestsEqual(k->second.digest, digest)) {
    return absl::UnauthenticatedError("key revoked or unknown");
  }
  auto u = users_.find(k->second.user);
  if (u == users_.end()) return absl::UnauthenticatedError("key revoked or unknown");
  return Principal{k->second.user, u->second.plan, u->second.admin, key->key_id};
}

bool Authenticator::StillValid(Principal& who) const {
  absl::ReaderMutexLock lock(&mu_);
  auto k = keys_.find(who.key_id);
  if (k == keys_.end() || k->second.revoked || k->second.user != who.user) return false;
  auto u = users_.find(who.user);
  if (u == users_.end()) return false;
  // The user as it is now: a plan set since the call began applies from now on (and so would a
  // change of the admin flag, which no call makes today).
  who.plan = u->second.plan;
  who.admin = u->second.admin;
  return true;
}

}  // namespace urn::auth
