#include "profile.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace urn::cli {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::string(v) : std::string();
}

// ~/x -> $HOME/x
std::string ExpandHome(const std::string& path) {
  if (path.rfind("~/", 0) == 0 && !Env("HOME").empty()) return Env("HOME") + path.substr(1);
  return path;
}

}  // namespace

std::string DefaultProfilePath() {
  if (!Env("URN_PROFILE_FILE").empty()) return Env("URN_PROFILE_FILE");
  if (!Env("XDG_CONFIG_HOME").empty()) return Env("XDG_CONFIG_HOME") + "/urn/config.yaml";
  if (!Env("HOME").empty()) return Env("HOME") + "/.config/urn/config.yaml";
  return "";
}

absl::StatusOr<Profile> LoadProfile(const std::string& path, const std::string& name,
                                    bool required) {
  Profile p;
  std::error_code ec;
  const bool exists = !path.empty() && std::filesystem::exists(path, ec);
  if (ec) {  // e.g. a directory on the way that may not be searched
    return absl::InvalidArgumentError(
        absl::StrCat("profile file ", path, ": cannot read it (", ec.message(), ")"));
  }
  if (exists && std::filesystem::is_directory(path, ec)) {
    return absl::InvalidArgumentError(
        absl::StrCat("profile file ", path, ": is a directory, not a file"));
  }
  if (!exists) {
    if (required) {
      return absl::NotFoundError(
          absl::StrCat("no profile file ", path,
                       " (a profile was asked for by --profile, --profile-file or "
                       "URN_PROFILE)"));
    }
    return p;
  }
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return absl::InvalidArgumentError(
        absl::StrCat("profile file ", path, ": cannot read it (", std::strerror(errno), ")"));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ":", e.mark.line + 1, ": ", e.msg));
  }
  const YAML::Node profiles = root && root.IsMap() ? root["profiles"] : YAML::Node();
  const YAML::Node entry = profiles && profiles.IsMap() ? profiles[name] : YAML::Node();
  if (!entry || entry.IsNull()) {
    if (required) {
      return absl::NotFoundError(absl::StrCat("--profile: ", path, " has no profile '", name, "'"));
    }
    return p;
  }
  if (!entry.IsMap()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ":", entry.Mark().line + 1, ": profile '", name, "' is not a mapping"));
  }
  std::map<std::string, std::string*> fields = {{"server", &p.server},     {"key", &p.key},
                                                {"key_file", &p.key_file}, {"tls_ca", &p.tls_ca},
                                                {"tls_cert", &p.tls_cert}, {"tls_key", &p.tls_key}};
  for (const auto& kv : entry) {
    const std::string key = kv.first.as<std::string>("");
    auto it = fields.find(key);
    if (it == fields.end() || !kv.second.IsScalar()) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ":", kv.first.Mark().line + 1, ": unknown or malformed profile key '", key, "'"));
    }
    *it->second = key == "server" || key == "key" ? kv.second.as<std::string>()
                                                  : ExpandHome(kv.second.as<std::string>());
  }
  return p;
}

}  // namespace urn::cli
