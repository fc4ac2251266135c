// urn: the command line for urn. Local sampling of files and the remote commands of urnd.
//
// Exit codes: 0 success; 1 the operation failed (server error, unhealthy); 2 usage error
// (bad flags or arguments).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "local_sample.h"
#include "sample_options.h"
#include "urn/client.h"

namespace {

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

int Fail(const absl::Status& s) {
  std::fprintf(stderr, "urn: %s\n", std::string(s.message()).c_str());
  return 1;
}

// `urn sample ...` on local files.
int RunSampleCommand(int argc, char** argv) {
  absl::StatusOr<urn::cli::SampleOptions> options = urn::cli::ParseSampleOptions(argc, argv);
  if (!options.ok()) {
    if (absl::IsCancelled(options.status())) {
      std::fputs(std::string(options.status().message()).c_str(), stdout);
      return 0;
    }
    std::fprintf(stderr, "urn sample: %s\n", std::string(options.status().message()).c_str());
    return 2;
  }
  urn::cli::Output out;
  absl::Status s = urn::cli::RunLocalSample(*options, out);
  absl::Status flushed = out.Flush();
  if (s.ok()) s = flushed;
  if (!s.ok()) {
    std::fprintf(stderr, "urn sample: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::string(argv[1]) == "sample") return RunSampleCommand(argc - 1, argv + 1);
  CLI::App app{"urn: exact, reproducible sampling of files and of datasets on a urnd server"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "urn " URN_VERSION);
  urn::ClientOptions options;
  options.server = EnvOr("URN_SERVER", options.server);
  options.key = EnvOr("URN_KEY", "");
  options.tls_ca = EnvOr("URN_TLS_CA", "");
  double timeout_s = 10;
  app.add_option("--server", options.server, "urnd address HOST:PORT (env URN_SERVER)")
      ->capture_default_str();
  app.add_option("--key", options.key, "API key (env URN_KEY)");
  app.add_option("--tls-ca", options.tls_ca, "PEM CA to verify the server (env URN_TLS_CA)");
  app.add_option("--tls-cert", options.tls_cert, "PEM client certificate for mutual TLS");
  app.add_option("--tls-key", options.tls_key, "PEM client key for mutual TLS");
  app.add_option("--timeout", timeout_s, "seconds before a call gives up")->capture_default_str();

  std::string service;
  CLI::App* health = app.add_subcommand("health", "exit 0 when the server reports SERVING");
  health->add_option("--service", service, "service name to check (default: the server)");
  CLI::App* info = app.add_subcommand("info", "print the server's version and uptime");
  CLI::App* sample = app.add_subcommand("sample", "sample local files (urn sample --help)");
  sample->allow_extras();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (*sample) {
    std::fputs("urn: write `urn sample ...` with no options before `sample`\n", stderr);
    return 2;
  }
  options.timeout = std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
  absl::StatusOr<urn::Client> client = urn::Client::Connect(options);
  if (!client.ok()) return Fail(client.status());

  if (*health) {
    absl::StatusOr<bool> ok = client->Healthy(service);
    if (!ok.ok()) return Fail(ok.status());
    std::puts(*ok ? "SERVING" : "NOT_SERVING");
    return *ok ? 0 : 1;
  }
  if (*info) {
    absl::StatusOr<urn::ServerInfo> si = client->GetServerInfo();
    if (!si.ok()) return Fail(si.status());
    std::printf("version\t%s\nuptime_seconds\t%lld\ntls\t%s\n", si->version.c_str(),
                static_cast<long long>(si->uptime_seconds), si->tls ? "true" : "false");
    return 0;
  }
  return 2;
}
