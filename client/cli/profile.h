// Profiles: named connection settings in a YAML file, so that `urn` needs no flags at a shell.
//
//   # ~/.config/urn/config.yaml (or $XDG_CONFIG_HOME/urn/config.yaml, or --profile-file)
//   profiles:
//     default:
//       server: urn.example.com:443
//       key_file: ~/.config/urn/key
//       tls_ca: /etc/ssl/certs/ca-certificates.crt
//     lab:
//       server: 10.0.0.7:50051
//       key: urn_...
//
// Precedence: flags, then the environment (URN_SERVER, URN_KEY, URN_KEY_FILE, URN_TLS_CA), then
// the profile (--profile NAME or URN_PROFILE, else "default"), then built-in defaults.
#ifndef URN_CLIENT_CLI_PROFILE_H_
#define URN_CLIENT_CLI_PROFILE_H_

#include <string>

#include "absl/status/statusor.h"

namespace urn::cli {

struct Profile {
  std::string server, key, key_file, tls_ca, tls_cert, tls_key;
};

// $URN_PROFILE_FILE, else $XDG_CONFIG_HOME/urn/config.yaml, else $HOME/.config/urn/config.yaml.
std::string DefaultProfilePath();

// Profile `name` of the file at `path`. A missing file, or a missing "default" profile, is an
// empty profile unless `required` (a name or file the user asked for). Errors name file:line.
absl::StatusOr<Profile> LoadProfile(const std::string& path, const std::string& name,
                                    bool required);

}  // namespace urn::cli

#endif  // URN_CLIENT_CLI_PROFILE_H_
