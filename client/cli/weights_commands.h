// The `urn weights ...` and `urn admin ...` commands: weight stores and users on a urnd server.
// Each returns the process exit code (0 ok, 1 failed, 2 bad input) after printing any error
// to standard error.
#ifndef URN_CLIENT_CLI_WEIGHTS_COMMANDS_H_
#define URN_CLIENT_CLI_WEIGHTS_COMMANDS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "urn/client.h"

namespace urn::cli {

struct WeightsFlags {
  std::string name;
  int64_t capacity = 0;
  std::optional<double> alpha;
  std::optional<double> default_priority;  // new items get this instead of the largest seen
  std::string file = "-";                  // update / insert: the lines to send
  bool by_key = false;                     // update: key<TAB>priority lines
  int64_t batch = 4096;                    // update: entries per message
  std::string slots;                       // get: "A-B" (inclusive) or "A"
  int64_t n = 0;                           // sample: batch size
  std::optional<double> beta;
  std::optional<uint64_t> seed;
  bool without_replacement = false;
  bool stratified = false;
  bool with_keys = false;  // sample: a fourth column with the key
};

int WeightsCreate(const Client& client, const WeightsFlags& f);
int WeightsList(const Client& client);
int WeightsDescribe(const Client& client, const WeightsFlags& f);
int WeightsDelete(const Client& client, const WeightsFlags& f);
int WeightsUpdate(const Client& client, const WeightsFlags& f);
// Inserts keys from lines of key or key<TAB>priority (all with a priority or none) and prints
// key<TAB>slot for each; exit 0 once all are durable.
int WeightsInsert(const Client& client, const WeightsFlags& f);
int WeightsGet(const Client& client, const WeightsFlags& f);
int WeightsSample(const Client& client, const WeightsFlags& f);
int AdminUsersCreate(const Client& client, const std::string& name, const std::string& plan);
int AdminUsersSetPlan(const Client& client, const std::string& name, const std::string& plan);
int AdminUsersDelete(const Client& client, const std::string& name);
int AdminKeysCreate(const Client& client, const std::string& user);
int AdminKeysList(const Client& client, const std::string& user);
int AdminKeysRevoke(const Client& client, const std::string& key_id);
// `urn usage`: the caller's usage today and plan limits.
int PrintUsage(const Client& client);

// Prints `urn: <message>` (with the kind of failure when the message does not say) and
// returns its exit code (exit_codes.h).
int Fail(const absl::Status& s);

}  // namespace urn::cli

#endif  // URN_CLIENT_CLI_WEIGHTS_COMMANDS_H_
