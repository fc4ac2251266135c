// urn: the command line for urn. Local sampling of files and the remote commands of urnd.
//
// Exit codes: 0 success; 1 the operation failed (server error, unhealthy); 2 usage error
// (bad flags or arguments).
#include <fcntl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <new>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "exit_codes.h"
#include "field_names.h"
#include "flag_checks.h"
#include "local_sample.h"
#include "profile.h"
#include "progress.h"
#include "remote_sample.h"
#include "sample_options.h"
#include "samplers/permutation.h"
#include "stats.h"
#include "urn/client.h"
#include "weights_commands.h"

namespace {

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

using urn::cli::Fail;

const char* TypeName(urn::v1::ColumnType t) {
  switch (t) {
    case urn::v1::COLUMN_TYPE_INT64:
      return "int64";
    case urn::v1::COLUMN_TYPE_DOUBLE:
      return "double";
    case urn::v1::COLUMN_TYPE_STRING:
      return "string";
    case urn::v1::COLUMN_TYPE_BOOL:
      return "bool";
    case urn::v1::COLUMN_TYPE_STRING_LIST:
      return "list<string>";
    default:
      return "?";
  }
}

// urn's own flags that take a value (before or after a command other than `sample`).
constexpr const char* kGlobalFlags[] = {"--profile",  "--profile-file", "--server",
                                        "--key",      "--key-file",     "--tls-ca",
                                        "--tls-cert", "--tls-key",      "--timeout"};

// The global flag `arg` is (`--flag` or `--flag=VALUE`), or null.
const char* GlobalFlagOf(const std::string& arg) {
  for (const char* flag : kGlobalFlags) {
    if (arg == flag || absl::StartsWith(arg, absl::StrCat(flag, "="))) return flag;
  }
  return nullptr;
}

// The key, strongest first: --key, the file of --key-file, URN_KEY, the file of URN_KEY_FILE,
// the profile's key, the profile's key file (flags beat the environment, which beats the
// profile). Without --key: a key file that wins (--key-file, given as `flag`, or URN_KEY_FILE
// without URN_KEY) clears the weaker key in *options, so that LoadKeyFile reads it.
void PreferKeyFile(bool flag, urn::ClientOptions* options) {
  if (flag || (EnvOr("URN_KEY", "").empty() && !EnvOr("URN_KEY_FILE", "").empty())) {
    options->key.clear();
  }
}

// Reads the key from `key_file` when no key was given.
absl::Status LoadKeyFile(const std::string& key_file, urn::ClientOptions& options) {
  if (!options.key.empty() || key_file.empty()) return absl::OkStatus();
  if (std::error_code ec; std::filesystem::is_directory(key_file, ec)) {
    return urn::cli::UsageError(absl::InvalidArgumentError(
        absl::StrCat("key file ", key_file, ": is a directory, not a file; nothing was sent")));
  }
  std::ifstream in(key_file);
  if (!in) {
    return urn::cli::UsageError(absl::NotFoundError(absl::StrCat(
        "key file ", key_file, ": cannot read it (", std::strerror(errno), "); nothing was sent")));
  }
  std::getline(in, options.key);
  // A file saved by a Windows editor: a byte-order mark before the key, CR LF after it.
  if (absl::StartsWith(options.key, "\xEF\xBB\xBF")) options.key.erase(0, 3);
  if (!options.key.empty() && options.key.back() == '\r') options.key.pop_back();
  if (options.key.empty()) {
    return urn::cli::UsageError(absl::InvalidArgumentError(
        absl::StrCat("key file ", key_file, ": its first line is empty; nothing was sent")));
  }
  return absl::OkStatus();
}

// `urn sample ...`: local files, or a dataset on the server with --dataset.
int RunSampleCommand(int argc, char** argv, urn::ClientOptions client_options,
                     const std::string& key_file, const absl::Status& profile_error) {
  absl::StatusOr<urn::cli::SampleOptions> options = urn::cli::ParseSampleOptions(argc, argv);
  if (!options.ok()) {
    if (absl::IsCancelled(options.status())) {
      std::fputs(std::string(options.status().message()).c_str(), stdout);
      return 0;
    }
    std::fprintf(stderr, "urn sample: %s\n", std::string(options.status().message()).c_str());
    for (int i = 1; i < argc; ++i) {
      if (const char* flag = GlobalFlagOf(argv[i])) {
        std::fprintf(stderr,
                     "urn sample: %s is a flag of urn, not of its sample command: write it "
                     "first (urn %s VALUE sample ...)\n",
                     flag, flag);
        return 2;
      }
    }
    return 2;
  }
  urn::cli::Output out;
  out.set_line_buffered(options->line_buffered);
  absl::Status s;
  if (options->dataset.empty()) {
    try {
      s = urn::cli::RunLocalSample(*options, out);
    } catch (const std::bad_alloc&) {
      // Shuffles and weighted or with-replacement samples without -n hold the whole input.
      s = absl::ResourceExhaustedError(
          "out of memory: shuffles and draws with replacement (-r) hold every line in "
          "memory; -n N without -r keeps only N");
    }
  } else if (!profile_error.ok()) {
    std::fprintf(stderr, "urn: %s\n", std::string(profile_error.message()).c_str());
    return 2;
  } else {
    s = LoadKeyFile(key_file, client_options);
    absl::StatusOr<urn::Client> client =
        s.ok() ? urn::Client::Connect(client_options) : absl::StatusOr<urn::Client>(s);
    if (!client.ok()) client = urn::cli::UsageError(client.status());
    s = client.ok() ? urn::cli::RunRemoteSample(*options, *client, out) : client.status();
  }
  absl::Status flushed = out.Flush();
  if (s.ok()) s = flushed;
  if (!s.ok()) {
    if (!options->dataset.empty()) return Fail(s);
    std::fprintf(stderr, "urn sample: %s\n", std::string(s.message()).c_str());
    return urn::cli::IsUsageError(s) ? urn::cli::kExitUsage : 1;
  }
  return 0;
}

// The profile's settings under the environment's (flags come on top of both).
urn::ClientOptions EnvClientOptions(const urn::cli::Profile& profile) {
  urn::ClientOptions options;
  if (!profile.server.empty()) options.server = profile.server;
  options.server = EnvOr("URN_SERVER", options.server);
  options.key = EnvOr("URN_KEY", profile.key);
  options.tls_ca = EnvOr("URN_TLS_CA", profile.tls_ca);
  options.tls_cert = profile.tls_cert;
  options.tls_key = profile.tls_key;
  return options;
}

// The index in argv of the command word: the first argument that is neither a flag nor a
// global flag's value (argc when there is none).
int CommandIndex(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.empty() || a[0] != '-') return i;
    if (const char* flag = GlobalFlagOf(a); flag != nullptr && a == flag) ++i;  // its value
  }
  return argc;
}

// The value of `--flag VALUE` or `--flag=VALUE` in argv[1, end), before the full parse (the
// profile decides the defaults of every other option).
std::string ArgValue(int end, char** argv, const std::string& flag) {
  for (int i = 1; i < end; ++i) {
    const std::string a = argv[i];
    if (a == flag && i + 1 < end) return argv[i + 1];
    if (a.rfind(flag + "=", 0) == 0) return a.substr(flag.size() + 1);
  }
  return "";
}

// The command word of a command line that names none of urn's commands ("" when it names one,
// or none at all): the first argument that is neither a flag nor a global flag's value.
std::string UnknownCommand(const CLI::App& app, int argc, char** argv) {
  const int command = CommandIndex(argc, argv);
  if (command == argc) return "";
  for (int i = 1; i < command; ++i) {
    const std::string a = argv[i];  // a flag, or a global flag's value
    if (a[0] == '-' && GlobalFlagOf(a) == nullptr && a != "--help" && a != "-h" &&
        a != "--version") {
      return "";  // a misspelled flag: CLI11's message names it
    }
  }
  for (const CLI::App* c : app.get_subcommands({})) {
    if (c->get_name() == argv[command]) return "";
  }
  return argv[command];
}

int RunCommand(int argc, char** argv) {
  // urn sample's own arguments are not urn's: --profile after it is not read as urn's flag.
  const int command = CommandIndex(argc, argv);
  const bool sample_command = command < argc && std::string(argv[command]) == "sample";
  const int global_end = sample_command ? command : argc;
  std::string profile_name = ArgValue(global_end, argv, "--profile");
  std::string profile_file = ArgValue(global_end, argv, "--profile-file");
  const bool profile_required =
      !profile_name.empty() || !profile_file.empty() || !EnvOr("URN_PROFILE", "").empty();
  if (profile_name.empty()) profile_name = EnvOr("URN_PROFILE", "default");
  if (profile_file.empty()) profile_file = urn::cli::DefaultProfilePath();
  absl::StatusOr<urn::cli::Profile> profile =
      urn::cli::LoadProfile(profile_file, profile_name, profile_required);
  // Profiles are connection settings: a sample of local files reads none, and --help and
  // --version need none, so a profile that cannot be loaded fails only a command that connects.
  const absl::Status profile_error = profile.status();
  if (!profile.ok()) profile = urn::cli::Profile();
  if (command == 1 && sample_command) {
    urn::ClientOptions options = EnvClientOptions(*profile);
    PreferKeyFile(/*flag=*/false, &options);
    return RunSampleCommand(argc - 1, argv + 1, options, EnvOr("URN_KEY_FILE", profile->key_file),
                            profile_error);
  }
  CLI::App app{"urn: exact, reproducible sampling of files and of datasets on a urnd server"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "urn " URN_VERSION);
  app.footer(urn::cli::kExitCodesHelp);
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return absl::StrCat("urn: ", e.what(),
                        "\nRun 'urn --help' or 'urn COMMAND --help' for usage.\n");
  });
  urn::ClientOptions options = EnvClientOptions(*profile);
  app.add_option("--profile", profile_name, "profile of the profile file (env URN_PROFILE)");
  app.add_option("--profile-file", profile_file,
                 "YAML file of profiles (env URN_PROFILE_FILE; ~/.config/urn/config.yaml)");
  double timeout_s = 10;
  app.add_option("--server", options.server, "urnd address HOST:PORT (env URN_SERVER)")
      ->capture_default_str();
  app.add_option("--key", options.key, "API key (env URN_KEY)");
  app.add_option("--tls-ca", options.tls_ca, "PEM CA to verify the server (env URN_TLS_CA)");
  app.add_option("--tls-cert", options.tls_cert, "PEM client certificate for mutual TLS");
  app.add_option("--tls-key", options.tls_key, "PEM client key for mutual TLS");
  app.add_option("--timeout", timeout_s,
                 "seconds before a call gives up (not streams: sample, shuffle and weights "
                 "update run as long as they take; a server that stops answering fails them "
                 "within ~50 s)")
      ->check(urn::cli::PositiveNumber())
      ->capture_default_str();
  // The flags above may also follow the command (`urn shuffle --n 10 --timeout 60`).
  app.fallthrough();

  std::string service;
  CLI::App* health = app.add_subcommand("health", "exit 0 when the server reports SERVING");
  health->add_option("--service", service, "service name to check (default: the server)");
  CLI::App* info = app.add_subcommand("info", "print the server's version and uptime");
  std::string key_file = EnvOr("URN_KEY_FILE", profile->key_file);
  app.add_option("--key-file", key_file, "file holding the API key (env URN_KEY_FILE)");

  CLI::App* datasets = app.add_subcommand("datasets", "datasets on the server");
  datasets->require_subcommand(1);
  std::string ds_name, ds_file, ds_format = "tsv", ds_delimiter, ds_list_delimiter;
  bool ds_header = false;
  CLI::App* ds_create = datasets->add_subcommand("create", "upload FILE as dataset NAME");
  ds_create->add_option("name", ds_name, "dataset name")->required();
  ds_create->add_option("file", ds_file, "file to upload (- for standard input)")->required();
  ds_create->add_flag("-H,--header", ds_header, "the first line names the columns");
  ds_create->add_option("--format", ds_format, "tsv, csv or jsonl")->capture_default_str();
  ds_create->add_option("-d,--delimiter", ds_delimiter, "field delimiter");
  ds_create->add_option("--list-delimiter", ds_list_delimiter, "splits list-valued fields");
  CLI::App* ds_list = datasets->add_subcommand("list", "list your datasets");
  CLI::App* ds_describe = datasets->add_subcommand("describe", "show a dataset's columns");
  ds_describe->add_option("name", ds_name, "dataset name")->required();
  CLI::App* ds_delete = datasets->add_subcommand("delete", "delete a dataset");
  ds_delete->add_option("name", ds_name, "dataset name")->required();

  CLI::App* shuffle =
      app.add_subcommand("shuffle", "one rank's slice of an epoch shuffle (row ids)");
  urn::v1::ShuffleRequest shuffle_request;
  std::string sh_dataset;
  int64_t sh_n = 0, sh_rank = 0, sh_world = 1, sh_offset = 0;
  uint64_t sh_seed = 0, sh_epoch = 0;
  bool sh_drop_last = false;
  shuffle->add_option("--dataset", sh_dataset, "dataset whose rows to shuffle");
  shuffle->add_option("--n", sh_n, "shuffle [0, N) instead of a dataset")
      ->check(urn::cli::IntegerAtLeast(0));
  shuffle->add_option("--seed", sh_seed, "seed")
      ->check(urn::cli::UnsignedInteger())
      ->capture_default_str();
  shuffle->add_option("--epoch", sh_epoch, "epoch")
      ->check(urn::cli::UnsignedInteger())
      ->capture_default_str();
  shuffle->add_option("--rank", sh_rank, "this worker's rank, in [0, --world)")
      ->check(urn::cli::IntegerAtLeast(0))
      ->capture_default_str();
  shuffle->add_option("--world", sh_world, "number of workers, at least 1")
      ->check(urn::cli::IntegerAtLeast(1))
      ->capture_default_str();
  shuffle->add_option("--offset", sh_offset, "resume at this position of the slice")
      ->check(urn::cli::IntegerAtLeast(0))
      ->capture_default_str();
  shuffle->add_flag("--drop-last", sh_drop_last, "cut the tail instead of padding ranks");

  CLI::App* weights = app.add_subcommand("weights", "weight stores on the server");
  weights->require_subcommand(1);
  urn::cli::WeightsFlags wf;
  CLI::App* w_create = weights->add_subcommand("create", "create weight store NAME");
  w_create->add_option("name", wf.name, "weight store name")->required();
  w_create->add_option("--capacity", wf.capacity, "number of slots")
      ->check(urn::cli::SignedInteger())
      ->required();
  w_create->add_option("--alpha", wf.alpha, "priority exponent (default 1)");
  w_create->add_option("--default-priority", wf.default_priority,
                       "priority of inserted keys without one (default: the largest seen)");
  CLI::App* w_list = weights->add_subcommand("list", "list your weight stores");
  CLI::App* w_describe = weights->add_subcommand("describe", "show a weight store");
  w_describe->add_option("name", wf.name, "weight store name")->required();
  CLI::App* w_delete = weights->add_subcommand("delete", "delete a weight store");
  w_delete->add_option("name", wf.name, "weight store name")->required();
  CLI::App* w_update = weights->add_subcommand(
      "update", "set priorities from slot<TAB>priority lines; exit 0 once all are durable");
  w_update->add_option("name", wf.name, "weight store name")->required();
  w_update->add_option("file", wf.file, "file of updates (- or none: standard input)");
  w_update->add_flag("--keys", wf.by_key, "lines are key<TAB>priority");
  w_update->add_option("--batch", wf.batch, "updates per message")
      ->check(urn::cli::SignedInteger())
      ->capture_default_str();
  CLI::App* w_insert = weights->add_subcommand(
      "insert",
      "insert keys from key or key<TAB>priority lines into the FIFO ring; print key<TAB>slot");
  w_insert->add_option("name", wf.name, "weight store name")->required();
  w_insert->add_option("file", wf.file, "file of keys (- or none: standard input)");
  CLI::App* w_get = weights->add_subcommand("get", "print slot<TAB>priority");
  w_get->add_option("name", wf.name, "weight store name")->required();
  w_get->add_option("--slots", wf.slots, "A-B (inclusive) or A; default all");
  CLI::App* w_sample =
      weights->add_subcommand("sample", "draw a batch: slot<TAB>probability<TAB>importance_weight");
  w_sample->add_option("name", wf.name, "weight store name")->required();
  w_sample->add_option("-n", wf.n, "batch size")->check(urn::cli::SignedInteger())->required();
  w_sample->add_option("--beta", wf.beta, "importance exponent in [0, 1] (default 0.4)");
  w_sample->add_option("--seed", wf.seed, "seed (default: the server picks one, printed)")
      ->check(urn::cli::UnsignedInteger());
  w_sample->add_flag("--without-replacement", wf.without_replacement, "distinct slots");
  w_sample->add_flag("--stratified", wf.stratified, "one draw per equal-mass segment");
  w_sample->add_flag("--with-keys", wf.with_keys, "a fourth column with each slot's key");

  CLI::App* admin = app.add_subcommand("admin", "administration (admin key)");
  admin->require_subcommand(1);
  CLI::App* users = admin->add_subcommand("users", "users");
  users->require_subcommand(1);
  std::string user_name, user_plan;
  CLI::App* u_create = users->add_subcommand("create", "create a user; prints its key");
  u_create->add_option("name", user_name, "user name")->required();
  u_create->add_option("--plan", user_plan, "the user's plan")->required();
  CLI::App* u_plan = users->add_subcommand("set-plan", "move a user to another plan");
  u_plan->add_option("name", user_name, "user name")->required();
  u_plan->add_option("plan", user_plan, "plan")->required();
  CLI::App* u_delete =
      users->add_subcommand("delete", "delete a user with their keys, datasets, weight stores");
  u_delete->add_option("name", user_name, "user name")->required();
  CLI::App* keys = admin->add_subcommand("keys", "API keys");
  keys->require_subcommand(1);
  std::string key_arg;
  CLI::App* k_create = keys->add_subcommand("create", "a new key for USER; prints it");
  k_create->add_option("user", key_arg, "user name")->required();
  CLI::App* k_list = keys->add_subcommand("list", "key ids, owners and states (never secrets)");
  k_list->add_option("user", key_arg, "only this user's keys");
  CLI::App* k_revoke = keys->add_subcommand("revoke", "revoke a key by its id");
  k_revoke->add_option("key_id", key_arg, "the <keyid> part of urn_<keyid>_<secret>")->required();
  CLI::App* usage = app.add_subcommand("usage", "your usage today and your plan's limits");
  CLI::App* stats = app.add_subcommand(
      "stats", "class counts of a column as a bar chart (with --query: before and after)");
  std::string st_dataset, st_by, st_query;
  stats->add_option("--dataset", st_dataset, "dataset")->required();
  stats->add_option("--by", st_by, "the column to count")->required();
  stats->add_option("--query", st_query, "a sampling query: counts before and after it");

  CLI::App* sample = app.add_subcommand("sample", "sample local files (urn sample --help)");
  sample->allow_extras();
  sample->fallthrough(false);  // its flags are urn sample's, parsed by RunSampleCommand

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (const std::string unknown = UnknownCommand(app, argc, argv); !unknown.empty()) {
      std::fprintf(stderr, "urn: '%s' is not a command\nRun 'urn --help' for the commands.\n",
                   unknown.c_str());
      return 2;
    }
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (app.count("--key") == 0) PreferKeyFile(app.count("--key-file") > 0, &options);
  if (*sample) {
    std::vector<std::string> rest = sample->remaining();
    rest.insert(rest.begin(), "sample");
    std::vector<char*> args;
    for (std::string& a : rest) args.push_back(a.data());
    options.timeout = std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
    return RunSampleCommand(static_cast<int>(args.size()), args.data(), options, key_file,
                            profile_error);
  }
  options.timeout = std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
  if (!profile_error.ok()) {
    std::fprintf(stderr, "urn: %s\n", std::string(profile_error.message()).c_str());
    return 2;
  }
  if (absl::Status s = LoadKeyFile(key_file, options); !s.ok()) return Fail(s);
  absl::StatusOr<urn::Client> client = urn::Client::Connect(options);
  // Nothing is sent before Connect succeeds: a bad address or TLS file is usage.
  if (!client.ok()) return Fail(urn::cli::UsageError(client.status()));

  if (*health) {
    absl::StatusOr<bool> ok = client->Healthy(service);
    if (!ok.ok()) return Fail(ok.status());
    std::puts(*ok ? "SERVING" : "NOT_SERVING");
    return *ok ? 0 : 1;
  }
  if (*shuffle) {
    if (sh_dataset.empty() == (shuffle->count("--n") == 0)) {
      std::fputs("urn: shuffle needs exactly one of --dataset NAME and --n N\n", stderr);
      return 2;
    }
    if (sh_rank >= sh_world) {
      std::fprintf(stderr, "urn: shuffle --rank %lld must be below --world %lld\n",
                   static_cast<long long>(sh_rank), static_cast<long long>(sh_world));
      return 2;
    }
    if (shuffle->count("--n") > 0) {
      // Each rank's slice, as urnd cuts it (sh_n and sh_world are checked >= 0 and >= 1).
      const auto slice = static_cast<int64_t>(urn::samplers::PermutationShard::SliceSize(
          static_cast<uint64_t>(sh_n), static_cast<uint64_t>(sh_world),
          sh_drop_last ? urn::samplers::ShardTail::kDropLast : urn::samplers::ShardTail::kPad));
      if (sh_offset > slice) {
        std::fprintf(stderr,
                     "urn: shuffle --offset %lld is past the end of the rank's slice, %lld of "
                     "--n %lld values over --world %lld\n",
                     static_cast<long long>(sh_offset), static_cast<long long>(slice),
                     static_cast<long long>(sh_n), static_cast<long long>(sh_world));
        return 2;
      }
    }
    if (shuffle->count("--n") > 0) {
      shuffle_request.set_n(sh_n);
    } else {
      shuffle_request.set_dataset(sh_dataset);
    }
    shuffle_request.set_seed(sh_seed);
    shuffle_request.set_epoch(sh_epoch);
    shuffle_request.set_rank(sh_rank);
    shuffle_request.set_world_size(sh_world);
    shuffle_request.set_start_offset(sh_offset);
    shuffle_request.set_drop_last(sh_drop_last);
    shuffle_request.set_batch_size(8192);
    urn::cli::Output out;
    absl::Status s = client->Shuffle(shuffle_request, [&](const urn::v1::ShuffleBatch& b) {
      char buf[24];
      for (int64_t id : b.row_ids()) {
        auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), id);
        out.Write(std::string_view(buf, end - buf));
        out.Put('\n');
      }
      return !out.failed();  // output that cannot be written: stop the stream
    });
    // A write error first: it is why the stream was cancelled, if it was.
    if (absl::Status flushed = out.Flush(); !flushed.ok()) return Fail(flushed);
    if (!s.ok()) {
      // urnd names the request's fields; name the flags they came from.
      for (const auto& [field, flag] : {std::pair{"dataset", "--dataset"},
                                        {"n", "--n"},
                                        {"rank", "--rank"},
                                        {"world_size", "--world"},
                                        {"start_offset", "--offset"}}) {
        s = urn::cli::RenameField(s, field, flag);
      }
      return Fail(s);
    }
    return 0;
  }
  if (*ds_create) {
    urn::v1::CreateDatasetHeader header;
    header.set_name(ds_name);
    header.set_has_header(ds_header);
    if (ds_format == "tsv") {
      header.set_format(urn::v1::DATA_FORMAT_TSV);
    } else if (ds_format == "csv") {
      header.set_format(urn::v1::DATA_FORMAT_CSV);
    } else if (ds_format == "jsonl") {
      header.set_format(urn::v1::DATA_FORMAT_JSONL);
      // Each line is an object whose keys name the columns: a header line or a field delimiter
      // would be silently ignored.
      for (const auto& [option, shown] :
           {std::pair{"--header", "-H/--header"}, std::pair{"--delimiter", "-d/--delimiter"}}) {
        if (ds_create->count(option) > 0) {
          std::fprintf(stderr,
                       "urn: %s describes TSV and CSV files; JSONL has none (keys name "
                       "the columns)\n",
                       shown);
          return urn::cli::kExitUsage;
        }
      }
    } else {
      std::fprintf(stderr, "urn: --format: '%s' is not tsv, csv or jsonl\n", ds_format.c_str());
      return urn::cli::kExitUsage;
    }
    if (ds_file != "-" && !std::ifstream(ds_file)) {
      std::fprintf(stderr, "urn: %s: cannot open for reading (%s); nothing was sent\n",
                   ds_file.c_str(), std::strerror(errno));
      return urn::cli::kExitUsage;
    }
    if (std::error_code ec; ds_file != "-" && std::filesystem::is_directory(ds_file, ec)) {
      std::fprintf(stderr, "urn: %s: is a directory, not a file; nothing was sent\n",
                   ds_file.c_str());
      return urn::cli::kExitUsage;
    }
    const char field_delimiter =
        ds_delimiter.empty() ? (ds_format == "csv" ? ',' : '\t') : ds_delimiter[0];
    if (ds_delimiter.size() > 1 || field_delimiter == '\n' || field_delimiter == '\r') {
      std::fprintf(stderr, "urn: -d/--delimiter must be one character, not a line break\n");
      return urn::cli::kExitUsage;
    }
    if (ds_list_delimiter.size() > 1 || (ds_format != "jsonl" && ds_list_delimiter.size() == 1 &&
                                         ds_list_delimiter[0] == field_delimiter)) {
      std::fprintf(stderr,
                   "urn: --list-delimiter must be one character other than the field "
                   "delimiter\n");
      return urn::cli::kExitUsage;
    }
    header.set_delimiter(ds_delimiter);
    header.set_list_delimiter(ds_list_delimiter);
    urn::cli::ProgressBar bar(absl::StrCat("uploading ", ds_name));
    absl::StatusOr<urn::v1::Dataset> d =
        client->CreateDataset(header, ds_file, [&](const urn::UploadProgress& p) {
          // Rows so far: the lines sent, less the header line.
          bar.Update(p.bytes_sent, p.total_bytes,
                     p.lines_sent - (ds_header && p.lines_sent > 0 ? 1 : 0));
        });
    bar.Done();
    if (!d.ok()) {
      // urnd names the line of the upload ("line 3: ..."): name the file too, as file:line.
      const std::string message(d.status().message());
      // Its code is kept: a field over urnd's size limit is RESOURCE_EXHAUSTED, not a quota.
      if ((d.status().code() == absl::StatusCode::kInvalidArgument ||
           d.status().code() == absl::StatusCode::kResourceExhausted) &&
          absl::StartsWith(message, "line ")) {
        return Fail(absl::Status(
            d.status().code(),
            absl::StrCat(ds_file == "-" ? "<stdin>" : ds_file, ":", message.substr(5))));
      }
      // Its other errors about the name say header.name, the request's field: name the
      // argument the user typed instead.
      return Fail(urn::cli::RenameField(d.status(), "header.name", "name"));
    }
    std::printf("created dataset '%s': %lld rows, %d columns\n", d->name().c_str(),
                static_cast<long long>(d->num_rows()), d->columns_size());
    return 0;
  }
  if (*ds_list) {
    absl::StatusOr<std::vector<urn::v1::Dataset>> all = client->ListDatasets();
    if (!all.ok()) return Fail(all.status());
    std::printf("name\towner\trows\tcolumns\n");
    for (const urn::v1::Dataset& d : *all) {
      std::printf("%s\t%s\t%lld\t%d\n", d.name().c_str(), d.owner().c_str(),
                  static_cast<long long>(d.num_rows()), d.columns_size());
    }
    return 0;
  }
  if (*ds_describe) {
    absl::StatusOr<urn::v1::Dataset> d = client->GetDataset(ds_name);
    if (!d.ok()) return Fail(d.status());
    std::printf("name\t%s\nowner\t%s\nrows\t%lld\nmemory_bytes\t%lld\n", d->name().c_str(),
                d->owner().c_str(), static_cast<long long>(d->num_rows()),
                static_cast<long long>(d->memory_bytes()));
    std::printf("column\ttype\tnulls\n");
    for (const urn::v1::Column& c : d->columns()) {
      std::printf("%s\t%s\t%lld\n", c.name().c_str(), TypeName(c.type()),
                  static_cast<long long>(c.null_count()));
    }
    return 0;
  }
  if (*ds_delete) {
    if (absl::Status s = client->DeleteDataset(ds_name); !s.ok()) return Fail(s);
    std::printf("deleted dataset '%s'\n", ds_name.c_str());
    return 0;
  }
  if (*w_create) return urn::cli::WeightsCreate(*client, wf);
  if (*w_list) return urn::cli::WeightsList(*client);
  if (*w_describe) return urn::cli::WeightsDescribe(*client, wf);
  if (*w_delete) return urn::cli::WeightsDelete(*client, wf);
  if (*w_update) return urn::cli::WeightsUpdate(*client, wf);
  if (*w_insert) return urn::cli::WeightsInsert(*client, wf);
  if (*w_get) return urn::cli::WeightsGet(*client, wf);
  if (*w_sample) return urn::cli::WeightsSample(*client, wf);
  if (*u_create) return urn::cli::AdminUsersCreate(*client, user_name, user_plan);
  if (*u_plan) return urn::cli::AdminUsersSetPlan(*client, user_name, user_plan);
  if (*u_delete) return urn::cli::AdminUsersDelete(*client, user_name);
  if (*k_create) return urn::cli::AdminKeysCreate(*client, key_arg);
  if (*k_list) return urn::cli::AdminKeysList(*client, key_arg);
  if (*k_revoke) return urn::cli::AdminKeysRevoke(*client, key_arg);
  if (*usage) return urn::cli::PrintUsage(*client);
  if (*stats) {
    std::string chart;
    if (absl::Status s = urn::cli::RunStats(*client, st_dataset, st_by, st_query, &chart);
        !s.ok()) {
      return Fail(s);
    }
    std::fputs(chart.c_str(), stdout);
    return 0;
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

}  // namespace

// What a command printed with printf (lists, descriptions, usage) is checked here, once it is
// all flushed: a write that failed (a full disk) fails the command, which would otherwise exit 0
// with its output lost. (A pipe whose reader has gone ends urn by SIGPIPE, as it ends other
// tools, except where a key is shown once: see PrintSecret.)
int main(int argc, char** argv) {
  // With standard output closed (>&-), descriptor 1 would go to the first file or socket
  // opened (gRPC's), and the output into it: refuse before anything is sent.
  if (fcntl(STDOUT_FILENO, F_GETFD) < 0) {
    std::fprintf(stderr, "urn: standard output is closed; nothing was sent\n");
    return urn::cli::kExitUsage;
  }
  int code = RunCommand(argc, argv);
  errno = 0;
  const bool flushed = std::fflush(stdout) == 0;
  if (code == 0 && (!flushed || std::ferror(stdout))) {
    std::fprintf(stderr, "urn: write error on standard output%s%s\n", errno != 0 ? ": " : "",
                 errno != 0 ? std::strerror(errno) : "");
    code = urn::cli::kExitFailed;
  }
  return code;
}
