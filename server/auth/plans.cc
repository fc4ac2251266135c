#include "auth/plans.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace urn::auth {

Plans DefaultPlans() {
  Plan free;
  free.name = "free";
  free.requests_per_second = 10;
  free.burst = 20;
  free.rows_per_day = 1'000'000;
  free.datasets = 3;
  free.rows_per_dataset = 1'000'000;
  free.bytes_per_dataset = int64_t{128} << 20;
  free.weight_stores = 3;
  free.capacity_per_store = 1'000'000;
  free.concurrent_streams = 4;
  free.memory_bytes = int64_t{1} << 30;
  free.features = {kFeatureSample, kFeatureShuffle, kFeatureWeights};
  Plan pro;
  pro.name = "pro";
  pro.requests_per_second = 200;
  pro.burst = 400;
  pro.rows_per_day = 100'000'000;
  pro.datasets = 100;
  pro.rows_per_dataset = 100'000'000;
  pro.bytes_per_dataset = int64_t{16} << 30;
  pro.weight_stores = 50;
  pro.capacity_per_store = 100'000'000;
  pro.concurrent_streams = 64;
  pro.memory_bytes = int64_t{64} << 30;
  pro.features = {kFeatureSample, kFeatureShuffle, kFeatureWeights, kFeatureQuery};
  Plan enterprise;
  enterprise.name = "enterprise";
  enterprise.features = {"all"};
  return {{"free", free}, {"pro", pro}, {"enterprise", enterprise}};
}

absl::StatusOr<Plans> LoadPlans(const std::string& config_path) {
  if (config_path.empty()) return DefaultPlans();
  if (!std::filesystem::is_regular_file(config_path)) {
    return absl::InvalidArgumentError(absl::StrCat("--config: ", config_path, ": no such file"));
  }
  YAML::Node root;
  try {
    root = YAML::LoadFile(config_path);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(config_path, ":", e.mark.line + 1, ": ", e.msg));
  }
  if (!root || !root.IsMap() || !root["plans"]) return DefaultPlans();
  const YAML::Node section = root["plans"];
  const auto at = [&](const YAML::Node& n) {
    return absl::StrCat(config_path, ":", n.Mark().line + 1, ": ");
  };
  if (!section.IsMap() || section.size() == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(at(section), "plans must map plan names to their limits"));
  }
  Plans plans;
  for (const auto& entry : section) {
    Plan plan;
    plan.name = entry.first.as<std::string>("");
    if (plan.name.empty()) return absl::InvalidArgumentError(at(entry.first) + "empty plan name");
    if (!entry.second.IsMap()) {
      return absl::InvalidArgumentError(at(entry.second) + "a plan is a mapping of limits");
    }
    for (const auto& kv : entry.second) {
      const std::string key = kv.first.as<std::string>("");
      const YAML::Node& v = kv.second;
      if (key == "features") {
        if (!v.IsSequence()) {
          return absl::InvalidArgumentError(at(v) + "features is a list, e.g. [sample, shuffle]");
        }
        for (const auto& f : v) {
          const std::string name = f.as<std::string>("");
          if (name != kFeatureSample && name != kFeatureShuffle && name != kFeatureWeights &&
              name != kFeatureQuery && name != "all") {
            return absl::InvalidArgumentError(absl::StrCat(
                at(f), "unknown feature '", name, "' (sample, shuffle, weights, query or all)"));
          }
          plan.features.insert(name);
        }
        continue;
      }
      double* real = key == "requests_per_second" ? &plan.requests_per_second
                     : key == "burst"             ? &plan.burst
                                                  : nullptr;
      int64_t* count = key == "rows_per_day"         ? &plan.rows_per_day
                       : key == "datasets"           ? &plan.datasets
                       : key == "rows_per_dataset"   ? &plan.rows_per_dataset
                       : key == "bytes_per_dataset"  ? &plan.bytes_per_dataset
                       : key == "weight_stores"      ? &plan.weight_stores
                       : key == "capacity_per_store" ? &plan.capacity_per_store
                       : key == "concurrent_streams" ? &plan.concurrent_streams
                       : key == "memory_bytes"       ? &plan.memory_bytes
                                                     : nullptr;
      if (real == nullptr && count == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat(at(kv.first), "unknown plan key '", key, "'"));
      }
      const std::string text = v.IsScalar() ? v.as<std::string>() : "";
      if (text == "unlimited") continue;  // the default
      const bool ok = real != nullptr ? absl::SimpleAtod(text, real) && *real >= 0
                                      : absl::SimpleAtoi(text, count) && *count >= 0;
      if (!ok) {
        return absl::InvalidArgumentError(
            absl::StrCat(at(v), key, " must be a number >= 0 or 'unlimited'"));
      }
    }
    if (plan.requests_per_second >= 0 && plan.burst < 0) {
      plan.burst = std::max(1.0, plan.requests_per_second);
    }
    plans[plan.name] = std::move(plan);
  }
  return plans;
}

}  // namespace urn::auth
