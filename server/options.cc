#include "options.h"

#include <yaml-cpp/yaml.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <map>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "auth/plans.h"

namespace urn::server {
namespace {

const std::set<std::string>& LogLevels() {
  static const auto* levels =
      new std::set<std::string>{"trace", "debug", "info", "warn", "error", "critical", "off"};
  return *levels;
}

// `flag`'s value `listen` must be HOST:PORT.
absl::Status CheckListen(std::string_view flag, const std::string& listen) {
  const size_t colon = listen.rfind(':');
  int port = 0;
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(listen.substr(colon + 1), &port) || port < 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(std::string(flag), ": '", listen,
                                                   "' is not HOST:PORT with a port in 0..65535"));
  }
  return absl::OkStatus();
}

// Applies the config file's keys to `opts`, except those in `from_flags`.
absl::Status ApplyConfigFile(const std::string& path, const std::set<std::string>& from_flags,
                             ServerOptions& opts, std::string& log_format, std::string& fsync) {
  if (!std::filesystem::is_regular_file(path)) {
    return absl::InvalidArgumentError(absl::StrCat("--config: ", path, ": no such file"));
  }
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ":", e.mark.line + 1, ": ", e.msg));
  }
  if (!root || root.IsNull()) return absl::OkStatus();
  if (!root.IsMap()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ":1: expected a mapping of keys"));
  }
  std::map<std::string, std::string*> strings = {{"listen", &opts.listen},
                                                 {"data_dir", &opts.data_dir},
                                                 {"log_level", &opts.log_level},
                                                 {"log_format", &log_format},
                                                 {"tls_cert", &opts.tls_cert},
                                                 {"tls_key", &opts.tls_key},
                                                 {"tls_client_ca", &opts.tls_client_ca},
                                                 {"admin_key_file", &opts.admin_key_file},
                                                 {"metrics_listen", &opts.metrics_listen},
                                                 {"fsync", &fsync}};
  std::map<std::string, double*> numbers = {
      {"shutdown_grace_seconds", &opts.shutdown_grace_seconds},
      {"fsync_interval_seconds", &opts.fsync_interval_seconds}};
  for (const auto& kv : root) {
    std::string key = kv.first.as<std::string>("");
    const int line = kv.first.Mark().line + 1;
    if (key == "plans") continue;  // read by the plan registry
    // The flags' names with '_' for '-' (shutdown_grace, fsync_interval), and the older names
    // that say the unit.
    if (key == "shutdown_grace" || key == "fsync_interval") key += "_seconds";
    const bool known = strings.count(key) > 0 || numbers.count(key) > 0 ||
                       key == "max_store_slots" || key == "snapshot_log_bytes" ||
                       key == "work_threads" || key == "memory_budget" || key == "plaintext";
    if (!known) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ":", line, ": unknown key '", key,
          "' (the keys are the flags' names with '_' for '-', e.g. data_dir, fsync_interval, "
          "plaintext; and plans)"));
    }
    if (from_flags.count(key)) continue;
    if (!kv.second.IsScalar()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", line, ": '", key, "' must be a single value"));
    }
    const std::string value = kv.second.as<std::string>();
    if (key == "plaintext") {
      if (value != "true" && value != "false") {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ":", line, ": plaintext must be true or false"));
      }
      opts.plaintext = value == "true";
    } else if (numbers.count(key)) {
      if (!absl::SimpleAtod(value, numbers[key])) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ":", line, ": ", key, " must be a number"));
      }
    } else if (key == "max_store_slots" || key == "snapshot_log_bytes" || key == "work_threads" ||
               key == "memory_budget") {
      int64_t* const field = key == "max_store_slots"      ? &opts.max_store_slots
                             : key == "snapshot_log_bytes" ? &opts.snapshot_log_bytes
                             : key == "memory_budget"      ? &opts.memory_budget
                                                           : &opts.work_threads;
      if (!absl::SimpleAtoi(value, field)) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ":", line, ": ", key, " must be an integer"));
      }
    } else {
      *strings[key] = value;
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ServerOptions> ParseServerOptions(int argc, char** argv) {
  ServerOptions opts;
  std::string log_format = "text";
  std::string fsync = "interval";
  CLI::App app{"urnd: the urn sampling service"};
  app.set_version_flag("--version", "urnd " URN_VERSION);
  app.add_option("--listen", opts.listen, "HOST:PORT to serve gRPC on")
      ->envname("URN_LISTEN")
      ->capture_default_str();
  app.add_option("--metrics-listen", opts.metrics_listen,
                 "HOST:PORT to serve Prometheus metrics on over plain HTTP, at GET /metrics (an "
                 "IPv4 address or host name; port 0 picks one); empty: no metrics endpoint")
      ->envname("URN_METRICS_LISTEN");
  app.add_option("--data-dir", opts.data_dir, "directory for durable state (created if missing)")
      ->envname("URN_DATA_DIR")
      ->capture_default_str();
  app.add_option("--config", opts.config, "YAML config file (server keys and plans)")
      ->envname("URN_CONFIG");
  app.add_option("--log-level", opts.log_level, "trace|debug|info|warn|error|critical|off")
      ->envname("URN_LOG_LEVEL")
      ->capture_default_str();
  app.add_option("--log-format", log_format, "text|json")
      ->envname("URN_LOG_FORMAT")
      ->capture_default_str();
  app.add_option("--tls-cert", opts.tls_cert, "PEM certificate chain; enables TLS")
      ->envname("URN_TLS_CERT");
  app.add_flag("--plaintext", opts.plaintext,
               "serve unencrypted on a non-loopback --listen address (e.g. behind a TLS proxy)")
      ->envname("URN_PLAINTEXT");
  app.add_option("--tls-client-ca", opts.tls_client_ca,
                 "PEM CA: require and verify client certificates (mutual TLS)")
      ->envname("URN_TLS_CLIENT_CA");
  app.add_option("--tls-key", opts.tls_key, "PEM private key for --tls-cert")
      ->envname("URN_TLS_KEY");
  app.add_option("--admin-key-file", opts.admin_key_file,
                 "file with the admin key to install on first start (instead of generating one)")
      ->envname("URN_ADMIN_KEY_FILE");
  app.add_option("--shutdown-grace", opts.shutdown_grace_seconds,
                 "seconds running streams get to finish after SIGTERM")
      ->envname("URN_SHUTDOWN_GRACE")
      ->capture_default_str();
  app.add_option("--fsync", fsync,
                 "always: fsync each acknowledged priority batch; interval: every --fsync-interval")
      ->envname("URN_FSYNC")
      ->capture_default_str();
  app.add_option("--fsync-interval", opts.fsync_interval_seconds,
                 "seconds between fsyncs of the priority log with --fsync=interval")
      ->envname("URN_FSYNC_INTERVAL")
      ->capture_default_str();
  app.add_option("--max-store-slots", opts.max_store_slots,
                 "largest weight store capacity accepted (~26 bytes of memory per slot)")
      ->envname("URN_MAX_STORE_SLOTS")
      ->capture_default_str();
  app.add_option("--snapshot-log-bytes", opts.snapshot_log_bytes,
                 "snapshot a weight store once its log grew by this many bytes")
      ->envname("URN_SNAPSHOT_LOG_BYTES")
      ->capture_default_str();
  app.add_option("--memory-budget", opts.memory_budget,
                 "bytes that all users' datasets and weight stores may hold together (0: no limit)")
      ->envname("URN_MEMORY_BUDGET")
      ->capture_default_str();
  app.add_option("--work-threads", opts.work_threads,
                 "threads for samples that may take long and for upload parsing (0: one per "
                 "core, at least 2)")
      ->envname("URN_WORK_THREADS")
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    return absl::CancelledError(app.help());
  } catch (const CLI::CallForVersion&) {
    return absl::CancelledError("urnd " URN_VERSION "\n");
  } catch (const CLI::ParseError& e) {
    return absl::InvalidArgumentError(absl::StrCat(e.what(), "; see urnd --help"));
  }

  if (!opts.config.empty()) {
    std::set<std::string> from_flags;
    for (const char* name :
         {"listen", "data-dir", "log-level", "log-format", "tls-cert", "tls-key", "tls-client-ca",
          "admin-key-file", "shutdown-grace", "fsync", "fsync-interval", "max-store-slots",
          "metrics-listen", "snapshot-log-bytes", "memory-budget", "work-threads", "plaintext"}) {
      if (app.count(std::string("--") + name) > 0) {
        std::string key = name;
        for (char& c : key) c = c == '-' ? '_' : c;
        if (key == "shutdown_grace") key = "shutdown_grace_seconds";
        if (key == "fsync_interval") key = "fsync_interval_seconds";
        from_flags.insert(key);
      }
    }
    if (absl::Status s = ApplyConfigFile(opts.config, from_flags, opts, log_format, fsync);
        !s.ok()) {
      return s;
    }
  }

  if (absl::Status s = CheckListen("--listen", opts.listen); !s.ok()) return s;
  if (!opts.metrics_listen.empty()) {
    if (absl::Status s = CheckListen("--metrics-listen", opts.metrics_listen); !s.ok()) return s;
  }
  if (absl::StatusOr<auth::Plans> plans = auth::LoadPlans(opts.config); !plans.ok()) {
    return plans.status();
  }
  if (!LogLevels().count(opts.log_level)) {
    return absl::InvalidArgumentError(absl::StrCat("--log-level: '", opts.log_level,
                                                   "' is not one of trace, debug, info, warn, "
                                                   "error, critical, off"));
  }
  if (log_format == "text") {
    opts.log_format = LogFormat::kText;
  } else if (log_format == "json") {
    opts.log_format = LogFormat::kJson;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("--log-format: '", log_format, "' is not text or json"));
  }
  if (opts.tls_cert.empty() != opts.tls_key.empty()) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key must be given together");
  }
  if (opts.tls_cert.empty() && !opts.plaintext) {
    const std::string host = opts.listen.substr(0, opts.listen.rfind(':'));
    const bool loopback =
        host.rfind("127.", 0) == 0 || host == "localhost" || host == "[::1]" || host == "::1";
    if (!loopback) {
      return absl::InvalidArgumentError(
          absl::StrCat("--listen ", opts.listen,
                       ": serving a network address without TLS; give --tls-cert and --tls-key, or "
                       "--plaintext to serve unencrypted on purpose"));
    }
  }
  if (!opts.tls_client_ca.empty() && opts.tls_cert.empty()) {
    return absl::InvalidArgumentError("--tls-client-ca needs --tls-cert and --tls-key");
  }
  if (opts.data_dir.empty()) return absl::InvalidArgumentError("--data-dir: must not be empty");
  if (!(opts.shutdown_grace_seconds >= 0 && opts.shutdown_grace_seconds <= 3600)) {
    return absl::InvalidArgumentError("--shutdown-grace: must be between 0 and 3600 seconds");
  }
  if (fsync == "always" || fsync == "interval") {
    opts.fsync_always = fsync == "always";
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("--fsync: '", fsync, "' is not always or interval"));
  }
  if (!(opts.fsync_interval_seconds > 0 && opts.fsync_interval_seconds <= 3600)) {
    return absl::InvalidArgumentError("--fsync-interval: must be above 0 and at most 3600 seconds");
  }
  if (opts.snapshot_log_bytes < 1) {
    return absl::InvalidArgumentError("--snapshot-log-bytes: must be at least 1");
  }
  if (opts.max_store_slots < 1 || opts.max_store_slots > (int64_t{1} << 31)) {
    return absl::InvalidArgumentError("--max-store-slots: must be between 1 and 2147483648");
  }
  if (opts.memory_budget < 0) {
    return absl::InvalidArgumentError("--memory-budget: must be 0 (no limit) or a number of bytes");
  }
  if (opts.work_threads < 0 || opts.work_threads > 256) {
    return absl::InvalidArgumentError("--work-threads: must be between 0 (one per core) and 256");
  }
  return opts;
}

}  // namespace urn::server
