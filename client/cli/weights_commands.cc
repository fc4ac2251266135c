#include "weights_commands.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string_view>
#include <system_error>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "exit_codes.h"
#include "field_names.h"
#include "output.h"
#include "table/cell_text.h"
#include "table/utf8.h"
#include "urn/errors.h"
#include "weights/weight_store.h"

namespace urn::cli {
namespace {

int BadInput(const std::string& message) {
  std::fprintf(stderr, "urn: %s\n", message.c_str());
  return 2;
}

// The update file, parsed whole before anything is sent: a bad line changes nothing.
struct Updates {
  std::string name;  // the file's name in messages
  std::vector<int64_t> slots;
  std::vector<std::string> keys;
  std::vector<double> priorities;
  std::vector<int64_t> lines;  // the line of each entry (blank lines are skipped)
};

// What the lines of an update or insert file hold.
enum class Lines { kSlots, kKeys, kInsert };  // slot<TAB>p, key<TAB>p, key[<TAB>p]

absl::StatusOr<Updates> ReadUpdates(const std::string& path, Lines kind) {
  const bool by_key = kind != Lines::kSlots;
  std::ifstream file;
  std::istream* in = &std::cin;
  if (path != "-") {
    if (std::error_code ec; std::filesystem::is_directory(path, ec)) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": is a directory, not a file"));
    }
    errno = 0;
    file.open(path);
    if (!file) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": cannot open it (", errno != 0 ? std::strerror(errno) : "unknown error", ")"));
    }
    in = &file;
  }
  const std::string name = path == "-" ? "<stdin>" : path;
  Updates u;
  u.name = name;
  std::string line;
  for (int64_t number = 1; std::getline(*in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const auto bad = [&](const std::string& why) {
      return absl::InvalidArgumentError(absl::StrCat(name, ":", number, ": ", why));
    };
    // urnd keeps keys as text (protobuf strings): a file of bytes that are no UTF-8 is refused
    // here, naming its line, rather than by urnd as a message it cannot read.
    // A key longer than a store takes is refused here too, by its line (urnd would name only its
    // index in the batch).
    const auto bad_key = [&](std::string_view key) -> std::optional<absl::Status> {
      if (key.size() > weights::WeightStore::kMaxKeyBytes) {
        return bad(absl::StrCat("key has ", key.size(), " bytes; at most ",
                                weights::WeightStore::kMaxKeyBytes));
      }
      const size_t valid = urn::table::Utf8Prefix(key);
      if (valid == key.size()) return std::nullopt;
      return bad(absl::StrCat("key is not valid UTF-8 at its byte ", valid + 1));
    };
    const size_t tab = line.find('\t');
    if (kind == Lines::kInsert && tab == std::string::npos) {  // a key alone
      if (!u.priorities.empty()) return bad("a key without a priority after keys with one");
      if (std::optional<absl::Status> s = bad_key(line)) return *s;
      u.keys.push_back(line);
      u.lines.push_back(number);
      continue;
    }
    if (tab == std::string::npos || line.find('\t', tab + 1) != std::string::npos) {
      return bad(kind == Lines::kSlots  ? "expected slot<TAB>priority"
                 : kind == Lines::kKeys ? "expected key<TAB>priority"
                                        : "expected key or key<TAB>priority");
    }
    if (kind == Lines::kInsert && u.priorities.size() != u.keys.size()) {
      return bad("a key with a priority after keys without one (give every key one, or none)");
    }
    const std::string first = line.substr(0, tab), second = line.substr(tab + 1);
    // Read as `urn sample -w` reads a weight (spaces around it allowed): a decimal numeral, not
    // hexadecimal; one out of a double's range (1e-400 would be 0) is refused.
    double p = 0;
    const std::string_view priority_text = table::TrimSpaces(second);
    if (!table::ParseDoubleInRange(priority_text, &p) || !std::isfinite(p) || p < 0) {
      const std::string shown = table::TextForMessage(second);
      if (table::IsOutOfDoubleRange(priority_text)) {
        return bad(absl::StrCat("priority '", shown,
                                "' is out of the range of a double (about 4.9e-324 to 1.8e308)"));
      }
      return bad(absl::StrCat("priority '", shown, "' is not a finite number >= 0"));
    }
    if (by_key) {
      if (first.empty()) return bad("empty key");
      if (std::optional<absl::Status> s = bad_key(first)) return *s;
      u.keys.push_back(first);
    } else {
      int64_t slot = 0;
      if (!absl::SimpleAtoi(first, &slot) || slot < 0) {
        return bad(absl::StrCat("slot '", first, "' is not an integer >= 0"));
      }
      u.slots.push_back(slot);
    }
    u.priorities.push_back(p + 0.0);  // -0 is 0
    u.lines.push_back(number);
  }
  if (in->bad()) return absl::InvalidArgumentError(absl::StrCat(name, ": read error"));
  return u;
}

// The index of the entry a batch was rejected for, as the server's message gives it
// ("slots[3]: ...", "priorities[3]: ...", "...: key \"k\" at index 3 is already stored").
std::optional<size_t> RejectedEntry(std::string_view message) {
  size_t at = message.find_first_not_of("abcdefghijklmnopqrstuvwxyz_");
  if (at != std::string_view::npos && at > 0 && message[at] == '[') {
    ++at;
  } else if (const size_t i = message.rfind(" at index "); i != std::string_view::npos) {
    at = i + std::strlen(" at index ");
  } else {
    return std::nullopt;
  }
  size_t index = 0;
  const auto [end, ec] =
      std::from_chars(message.data() + at, message.data() + message.size(), index);
  if (ec != std::errc() || end == message.data() + at) return std::nullopt;
  return index;
}

void WriteInt(Output& out, int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out.Write(std::string_view(buf, end - buf));
}

}  // namespace

int Fail(const absl::Status& s) {
  std::fprintf(stderr, "urn: %s\n", ErrorSentence(s).c_str());
  return ExitCodeFor(s);
}

int WeightsCreate(const Client& client, const WeightsFlags& f) {
  v1::CreateWeightStoreRequest r;
  r.set_name(f.name);
  r.set_capacity(f.capacity);
  if (f.alpha) r.set_alpha(*f.alpha);
  if (f.default_priority) {
    r.set_new_item_priority(v1::NEW_ITEM_PRIORITY_DEFAULT);
    r.set_default_priority(*f.default_priority);
  }
  absl::StatusOr<v1::WeightStore> w = client.CreateWeightStore(r);
  if (!w.ok()) {
    // urnd names the request's fields; name the flags they came from.
    absl::Status s = RenameField(w.status(), "capacity", "--capacity");
    s = RenameField(s, "alpha", "--alpha");
    return Fail(RenameField(s, "default_priority", "--default-priority"));
  }
  std::printf("created weight store '%s': %lld slots, alpha %g\n", w->name().c_str(),
              static_cast<long long>(w->capacity()), w->alpha());
  return 0;
}

int WeightsList(const Client& client) {
  absl::StatusOr<std::vector<v1::WeightStore>> all = client.ListWeightStores();
  if (!all.ok()) return Fail(all.status());
  std::printf("name\towner\tcapacity\talpha\tkeys\n");
  for (const v1::WeightStore& w : *all) {
    std::printf("%s\t%s\t%lld\t%g\t%lld\n", w.name().c_str(), w.owner().c_str(),
                static_cast<long long>(w.capacity()), w.alpha(), static_cast<long long>(w.size()));
  }
  return 0;
}

int WeightsDescribe(const Client& client, const WeightsFlags& f) {
  absl::StatusOr<v1::WeightStore> w = client.GetWeightStore(f.name);
  if (!w.ok()) return Fail(w.status());
  // Numbers as the shortest text that reads back exactly (0.6, not 0.59999999999999998).
  const auto shortest = [](double v) {
    std::string text;
    table::AppendDouble(v, &text);
    return text;
  };
  std::printf(
      "name\t%s\nowner\t%s\ncapacity\t%lld\nalpha\t%s\nkeys\t%lld\ntotal\t%s\nmax_priority\t%s\n",
      w->name().c_str(), w->owner().c_str(), static_cast<long long>(w->capacity()),
      shortest(w->alpha()).c_str(), static_cast<long long>(w->size()), shortest(w->total()).c_str(),
      shortest(w->max_priority()).c_str());
  if (w->new_item_priority() == v1::NEW_ITEM_PRIORITY_DEFAULT) {
    std::printf("new_item_priority\t%s\n", shortest(w->default_priority()).c_str());
  } else {
    std::printf("new_item_priority\tmax_seen\n");
  }
  return 0;
}

int WeightsDelete(const Client& client, const WeightsFlags& f) {
  if (absl::Status s = client.DeleteWeightStore(f.name); !s.ok()) return Fail(s);
  std::printf("deleted weight store '%s'\n", f.name.c_str());
  return 0;
}

int WeightsUpdate(const Client& client, const WeightsFlags& f) {
  if (f.batch < 1 || f.batch > 65536) return BadInput("--batch: must be between 1 and 65536");
  absl::StatusOr<Updates> u = ReadUpdates(f.file, f.by_key ? Lines::kKeys : Lines::kSlots);
  if (!u.ok()) {
    std::fprintf(stderr, "urn: %s (nothing was sent)\n", std::string(u.status().message()).c_str());
    return absl::IsInvalidArgument(u.status()) ? kExitUsage : kExitFailed;
  }
  const size_t total = u->priorities.size();
  // Batches of at most --batch entries and Client::kMaxMessageKeyBytes of keys; ends[b] is where
  // batch b + 1 (its sequence number) ends.
  std::vector<size_t> ends;
  int64_t acked = 0;
  size_t skipped = 0;  // keys that are not stored
  constexpr size_t kSkipsShown = 10;
  absl::Status s = client.UpdatePriorities(
      f.name,
      [&](v1::UpdatePrioritiesRequest* r) {
        const size_t at = ends.empty() ? 0 : ends.back();
        if (at == total) return false;
        size_t end = std::min(total, at + static_cast<size_t>(f.batch));
        if (f.by_key) {
          size_t bytes = u->keys[at].size();
          for (size_t i = at + 1; i < end; ++i) {
            bytes += u->keys[i].size();
            if (bytes > Client::kMaxMessageKeyBytes) end = i;
          }
          r->mutable_keys()->Add(u->keys.begin() + at, u->keys.begin() + end);
        } else {
          r->mutable_slots()->Add(u->slots.begin() + at, u->slots.begin() + end);
        }
        r->mutable_priorities()->Add(u->priorities.begin() + at, u->priorities.begin() + end);
        ends.push_back(end);
        return true;
      },
      8,
      [&](const v1::UpdatePrioritiesResponse& ack) {
        acked = ack.acknowledged_sequence();
        const size_t start = acked == 1 ? 0 : ends[acked - 2];
        for (const int32_t i : ack.skipped()) {
          if (++skipped <= kSkipsShown) {
            std::fprintf(stderr,
                         "urn: %s:%lld: key %s is not stored (evicted, or never inserted); its "
                         "update was skipped\n",
                         u->name.c_str(), static_cast<long long>(u->lines[start + i]),
                         absl::StrCat("\"", absl::CHexEscape(u->keys[start + i]), "\"").c_str());
          }
        }
      });
  const size_t durable = acked == 0 ? 0 : ends[acked - 1];
  if (skipped > kSkipsShown) {
    std::fprintf(stderr, "urn: %zu more keys were not stored; their updates were skipped\n",
                 skipped - kSkipsShown);
  }
  if (!s.ok()) {
    std::fprintf(stderr, "urn: %zu of %zu updates (the first %lld batches) were acknowledged\n",
                 durable, total, static_cast<long long>(acked));
    // The first batch not acknowledged is the one refused; name the line of its bad entry.
    const std::optional<size_t> entry = RejectedEntry(std::string(s.message()));
    if (absl::IsInvalidArgument(s) || absl::IsNotFound(s) || absl::IsAlreadyExists(s)) {
      if (static_cast<size_t>(acked) < ends.size() && entry.has_value() &&
          durable + *entry < ends[acked]) {
        std::fprintf(stderr, "urn: %s:%lld: %s\n", u->name.c_str(),
                     static_cast<long long>(u->lines[durable + *entry]),
                     std::string(s.message()).c_str());
        return kExitFailed;
      }
    }
    return Fail(RenameField(s, "weight_store", "name"));
  }
  std::fprintf(stderr, "acknowledged %zu updates in %lld batches", total - skipped,
               static_cast<long long>(acked));
  if (skipped > 0) std::fprintf(stderr, " (%zu keys not stored were skipped)", skipped);
  std::fputc('\n', stderr);
  return 0;
}

int WeightsInsert(const Client& client, const WeightsFlags& f) {
  absl::StatusOr<Updates> u = ReadUpdates(f.file, Lines::kInsert);
  if (!u.ok()) {
    std::fprintf(stderr, "urn: %s (nothing was sent)\n", std::string(u.status().message()).c_str());
    return absl::IsInvalidArgument(u.status()) ? kExitUsage : kExitFailed;
  }
  // urnd refuses a message of more keys than the capacity whole; keys spread over messages
  // would instead evict the file's own first keys (their printed slots then wrong): refused
  // likewise, before anything is sent.
  absl::StatusOr<v1::WeightStore> w = client.GetWeightStore(f.name);
  if (!w.ok()) return Fail(w.status());
  if (static_cast<int64_t>(u->keys.size()) > w->capacity()) {
    std::fprintf(stderr,
                 "urn: %s: %zu keys, more than '%s' holds (capacity %lld): its FIFO ring would "
                 "evict the first of them for the last (nothing was sent)\n",
                 u->name.c_str(), u->keys.size(), f.name.c_str(),
                 static_cast<long long>(w->capacity()));
    return kExitUsage;
  }
  std::vector<int64_t> stored;
  absl::StatusOr<std::vector<int64_t>> slots =
      client.Insert(f.name, u->keys, u->priorities, &stored);
  // Messages are applied whole: on an error those before the refused one are stored, and their
  // key<TAB>slot lines are printed all the same.
  const std::vector<int64_t>& done = slots.ok() ? *slots : stored;
  Output out;
  for (size_t i = 0; i < done.size(); ++i) {
    out.Write(u->keys[i]);
    out.Put('\t');
    WriteInt(out, done[i]);
    out.Put('\n');
  }
  absl::Status flushed = out.Flush();
  if (!slots.ok()) {
    std::fprintf(stderr, "urn: %s: the first %zu keys were stored (printed), the rest not\n",
                 u->name.c_str(), done.size());
    return Fail(RenameField(slots.status(), "weight_store", "name"));
  }
  if (!flushed.ok()) return Fail(flushed);
  std::fprintf(stderr, "inserted %zu keys\n", slots->size());
  return 0;
}

int WeightsGet(const Client& client, const WeightsFlags& f) {
  int64_t first = 0, last = -1;
  if (!f.slots.empty()) {
    std::vector<std::string> parts = absl::StrSplit(f.slots, '-');
    if (parts.size() > 2 || !absl::SimpleAtoi(parts[0], &first) ||
        !absl::SimpleAtoi(parts.back(), &last) || first < 0 || last < first) {
      return BadInput("--slots: expected A-B with 0 <= A <= B, or one slot A");
    }
  }
  // The capacity bounds the range (so A-B past it is refused before anything is printed).
  absl::StatusOr<v1::WeightStore> w = client.GetWeightStore(f.name);
  if (!w.ok()) return Fail(w.status());
  if (f.slots.empty()) {
    last = w->capacity() - 1;
  } else if (last >= w->capacity()) {
    // The store refuses it (exit 1, as the server would), before anything is printed.
    std::fprintf(stderr,
                 "urn: --slots: %s goes past the last slot of '%s', %lld (its capacity is %lld)\n",
                 f.slots.c_str(), f.name.c_str(), static_cast<long long>(w->capacity() - 1),
                 static_cast<long long>(w->capacity()));
    return kExitFailed;
  }
  absl::StatusOr<std::vector<double>> p = client.GetPriorities(f.name, first, last - first + 1);
  if (!p.ok()) return Fail(p.status());
  Output out;
  for (size_t i = 0; i < p->size(); ++i) {
    WriteInt(out, first + static_cast<int64_t>(i));
    out.Put('\t');
    out.WriteDouble((*p)[i]);
    out.Put('\n');
  }
  if (absl::Status s = out.Flush(); !s.ok()) return Fail(s);
  return 0;
}

int WeightsSample(const Client& client, const WeightsFlags& f) {
  if (f.n < 1 || f.n > 65536) return BadInput("-n: must be between 1 and 65536");
  if (f.beta && !(*f.beta >= 0 && *f.beta <= 1)) {
    return BadInput(absl::StrCat("--beta: must be in [0, 1], not ", *f.beta));
  }
  if (f.without_replacement && f.stratified) {
    return BadInput("--without-replacement and --stratified: choose one");
  }
  v1::SampleWeightsRequest r;
  r.set_weight_store(f.name);
  r.set_batch_size(static_cast<int32_t>(f.n));
  if (f.beta) r.set_beta(*f.beta);
  if (f.seed) r.set_seed(*f.seed);
  r.set_without_replacement(f.without_replacement);
  r.set_stratified(f.stratified);
  absl::StatusOr<v1::SampleWeightsResponse> batch = client.SampleWeights(r);
  if (!batch.ok()) return Fail(RenameField(batch.status(), "weight_store", "name"));
  Output out;
  for (int j = 0; j < batch->slots_size(); ++j) {
    WriteInt(out, batch->slots(j));
    out.Put('\t');
    out.WriteDouble(batch->probabilities(j));
    out.Put('\t');
    out.WriteDouble(batch->importance_weights(j));
    if (f.with_keys) {
      out.Put('\t');
      out.Write(batch->keys(j));
    }
    out.Put('\n');
  }
  if (absl::Status s = out.Flush(); !s.ok()) return Fail(s);
  if (!f.seed) std::fprintf(stderr, "seed %llu\n", static_cast<unsigned long long>(batch->seed()));
  return 0;
}

namespace {

// Prints a key that urnd shows only once, and checks that it was written: if not, says so and
// how to revoke it (the key exists and works, but nobody holds it).
// SIGPIPE is ignored from here on, so that a reader that has gone (a closed pipe) is reported
// too instead of ending urn silently with the key lost.
bool PrintSecret(const std::string& key, const std::string& key_id) {
  std::signal(SIGPIPE, SIG_IGN);
  if (std::printf("%s\n", key.c_str()) >= 0 && std::fflush(stdout) == 0) return true;
  std::fprintf(stderr,
               "urn: write error: %s; key %s was created but not written, and is shown only once: "
               "revoke it with 'urn admin keys revoke %s'\n",
               std::strerror(errno), key_id.c_str(), key_id.c_str());
  std::clearerr(stdout);  // reported here: main() need not report it again
  return false;
}

}  // namespace

int AdminUsersCreate(const Client& client, const std::string& name, const std::string& plan) {
  absl::StatusOr<v1::CreateUserResponse> user = client.CreateUser(name, plan);
  if (!user.ok()) return Fail(user.status());
  if (!PrintSecret(user->key(), user->key_id())) return kExitFailed;
  std::fprintf(stderr, "created user '%s' on plan '%s' (key id %s); the key is shown only once\n",
               user->name().c_str(), user->plan().c_str(), user->key_id().c_str());
  return 0;
}

int AdminUsersSetPlan(const Client& client, const std::string& name, const std::string& plan) {
  if (absl::Status s = client.SetPlan(name, plan); !s.ok()) return Fail(s);
  std::printf("user '%s' is now on plan '%s'\n", name.c_str(), plan.c_str());
  return 0;
}

int AdminUsersDelete(const Client& client, const std::string& name) {
  absl::StatusOr<v1::DeleteUserResponse> r = client.DeleteUser(name);
  if (!r.ok()) return Fail(r.status());
  std::printf("deleted user '%s': %d keys, %d datasets, %d weight stores\n", name.c_str(),
              r->keys_deleted(), r->datasets_deleted(), r->weight_stores_deleted());
  return 0;
}

int AdminKeysCreate(const Client& client, const std::string& user) {
  absl::StatusOr<v1::CreateKeyResponse> key = client.CreateKey(user);
  if (!key.ok()) return Fail(key.status());
  if (!PrintSecret(key->key(), key->key_id())) return kExitFailed;
  std::fprintf(stderr, "created key %s for '%s'; it is shown only once\n", key->key_id().c_str(),
               user.c_str());
  return 0;
}

int AdminKeysList(const Client& client, const std::string& user) {
  absl::StatusOr<std::vector<v1::KeyInfo>> keys = client.ListKeys(user);
  if (!keys.ok()) return Fail(keys.status());
  std::printf("key_id\tuser\tcreated_unix\trevoked\n");
  for (const v1::KeyInfo& k : *keys) {
    std::printf("%s\t%s\t%lld\t%s\n", k.key_id().c_str(), k.user().c_str(),
                static_cast<long long>(k.created_unix()), k.revoked() ? "yes" : "no");
  }
  return 0;
}

int AdminKeysRevoke(const Client& client, const std::string& key_id) {
  if (absl::Status s = client.RevokeKey(key_id); !s.ok()) return Fail(s);
  std::printf("revoked key %s\n", key_id.c_str());
  return 0;
}

int PrintUsage(const Client& client) {
  absl::StatusOr<v1::GetUsageResponse> u = client.GetUsage();
  if (!u.ok()) return Fail(u.status());
  // Counts print whole (a double's StrCat printed 100,000,000 rows as "1e+08"); rates as doubles.
  const auto limit = [](int64_t v) { return v < 0 ? std::string("unlimited") : absl::StrCat(v); };
  const auto rate = [](double v) { return v < 0 ? std::string("unlimited") : absl::StrCat(v); };
  std::printf("user\t%s\nplan\t%s\nday\t%s (UTC)\n", u->user().c_str(), u->plan().c_str(),
              u->day().c_str());
  std::printf("rows_today\t%lld of %s\n", static_cast<long long>(u->rows_today()),
              limit(u->rows_per_day()).c_str());
  std::printf("datasets\t%lld of %s\n", static_cast<long long>(u->datasets()),
              limit(u->datasets_limit()).c_str());
  std::printf("weight_stores\t%lld of %s\n", static_cast<long long>(u->weight_stores()),
              limit(u->weight_stores_limit()).c_str());
  std::printf("memory_bytes\t%lld of %s\n", static_cast<long long>(u->memory_bytes()),
              limit(u->memory_bytes_limit()).c_str());
  std::printf("requests_per_second\t%s (burst %s)\n", rate(u->requests_per_second()).c_str(),
              rate(u->burst()).c_str());
  std::printf(
      "rows_per_dataset\t%s\nbytes_per_dataset\t%s\ncapacity_per_store\t%s\n"
      "concurrent_streams\t%s\n",
      limit(u->rows_per_dataset()).c_str(), limit(u->bytes_per_dataset()).c_str(),
      limit(u->capacity_per_store()).c_str(), limit(u->concurrent_streams()).c_str());
  std::string features;
  for (const std::string& f : u->features())
    absl::StrAppend(&features, features.empty() ? "" : ",", f);
  std::printf("features\t%s\n", features.c_str());
  return 0;
}

}  // namespace urn::cli
