// Authenticator: turns the `authorization: Bearer urn_<keyid>_<secret>` metadata of a call into
// the Principal making it, before anything else in a handler runs.
//
// Keys and users are loaded from the metadata store and cached in memory; a lookup is a hash
// probe plus one SHA-256 of the secret and a constant-time digest comparison, under a shared
// lock. Invalidate() (after an admin change to keys or users) reloads, so revocation takes
// effect on the next call.
//
// Thread safety: all methods may be called concurrently.
#ifndef URN_SERVER_AUTH_AUTHENTICATOR_H_
#define URN_SERVER_AUTH_AUTHENTICATOR_H_

#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "auth/api_key.h"
#include "storage/metadata_store.h"

namespace urn::auth {

// Who is calling: every resource belongs to a user, and plans are per user.
struct Principal {
  std::string user;
  std::string plan;
  bool admin = false;
  std::string key_id;
};

class Authenticator {
 public:
  // REQUIRES: `store` outlives the authenticator.
  explicit Authenticator(storage::MetadataStore* store) : store_(store) {}

  // Reads every key and user from the store. Call once before serving, and after changes.
  absl::Status Invalidate() ABSL_LOCKS_EXCLUDED(reload_mu_, mu_);

  // The principal for an `authorization` header value. UNAUTHENTICATED (with a message that
  // never contains the secret) when the header is missing or not "Bearer <key>", the key is
  // malformed, unknown, revoked, its secret is wrong, or its user is gone.
  absl::StatusOr<Principal> Authenticate(std::string_view authorization) const;

  // True while the key that authenticated `who` is still known and not revoked, and its user
  // still exists: false once the key was revoked or the user deleted (even if a user of the same
  // name was created since), as of the last Invalidate(). While valid, it also sets who.plan and
  // who.admin to the user's now, so that a call that outlives a plan change (a stream) is
  // charged and limited by the new plan.
  bool StillValid(Principal& who) const;

 private:
  struct KeyEntry {
    SecretDigest digest;
    std::string user;
    bool revoked = false;
  };
  struct UserEntry {
    std::string plan;
    bool admin = false;
  };

  storage::MetadataStore* const store_;
  // Held by Invalidate from its scan to its swap, so reloads install their views in the order
  // they scanned: one that scanned before a change never replaces one that scanned after it.
  absl::Mutex reload_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, KeyEntry> keys_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, UserEntry> users_ ABSL_GUARDED_BY(mu_);
};

}  // namespace urn::auth

#endif  // URN_SERVER_AUTH_AUTHENTICATOR_H_
