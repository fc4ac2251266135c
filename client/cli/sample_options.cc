#include "sample_options.h"

#include <sys/random.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <cmath>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "flag_checks.h"
#include "query/error.h"
#include "query/parser.h"
#include "table/cell_text.h"

namespace urn::cli {
namespace {

// The seed of -s/--static-seed when no seed value is given.
constexpr uint64_t kStaticSeed = 2438424139;

// How fields are named (-w, -k): also printed alone by --help-fields.
constexpr char kFieldsHelp[] =
    R"(Fields (as tsv-utils 2.x): 1-based numbers ("3", "1,4", "2-5", "5-2") or, with -H, header
names, name ranges ("run-user_time") and '*' wildcards ("*_time"); a backslash makes the next
character literal ("time\-stamp", "\001" for a field named 001). -k 0 is the whole line; -w 0
(or no -w) gives every line the same weight.
)";

constexpr char kExitHelp[] =
    R"(Exit status: 0 on success; 1 on bad input data (the message names file:line) or field
names the input does not have; 2 on bad usage (tsv-sample exits 1 for both).
)";

constexpr char kModesHelp[] = R"(
Modes (the options select one):
  (none)              Shuffle: every line, in random order (up to 256 lines a Fisher-Yates
                      shuffle, beyond a keyed pseudorandom permutation). Memory: the whole input.
  -w F                Weighted shuffle: every line with weight > 0, in the order of successive
                      weighted draws (lines with weight 0 follow, in input order). Memory: input.
  -n N                Simple random sample of N lines, all N-sets equally likely, output in
                      random order (-i: input order). One pass (reservoir sampling, Algorithm L),
                      memory: N lines.
  -n N -w F           Weighted sample without replacement (Efraimidis-Spirakis exponential keys),
                      output in selection order, so the first M lines of the output are a
                      weighted sample of M (-i: input order): the first N lines of -w F. When
                      fewer than N lines have weight > 0, the first lines of weight 0 follow,
                      in input order (HT weight 1: no unbiased estimate depends on them). One
                      pass, memory: 2N lines. Exact for weights from 1e-300 to 1e300.
  -r -n N             N draws with replacement, in draw order; weighted with -w (alias table).
                      Without -n: draws until the output is closed. Memory: the whole input.
  -p P                Bernoulli: each line independently with probability P, input order.
                      Streaming, one random draw per selected line; memory: one line.
  -k F -p P           Distinct-key sampling (U-SQL UNIVERSE): a key (fields F, 0 = the whole
                      line) is selected with probability P and all its lines are kept, input
                      order. Streaming; memory: one line.
  -k F -p P --min-per-key M
                      U-SQL DISTINCT(P, M): the first M lines of every key are kept (weight 1),
                      later lines with probability P (weight 1/P). Memory: one counter per key.
  --query Q           A sampling query over the file's columns (names from -H, else 1, 2, ...):
                        SELECT * WHERE label != 'x' SAMPLE BY max_weight(contains(findings,
                          'Hernia'): 20, True: 1) REPLACE false LIMIT 100      (Deep Lake TQL)
                        SAMPLE ON ZipCode DISTINCT (0.1, 3) WITH WEIGHT AS _Weight   (U-SQL)
                        SELECT * USING SAMPLE 10% (bernoulli) REPEATABLE (42)        (DuckDB)
                      Output as the query says. Memory: the whole input, typed by column.
                      --list-delimiter C splits list fields for contains().

Reproducibility: the same seed (--seed, -s, -v) gives the same output on any machine and in
any run; without one every run differs. Every random decision is a pure function of the seed
and the line's number (or key), so samples repeat exactly.
Compatibility mode (--compat, implied by --print-random): with one seed, a Bernoulli sample at
P is a subset of the one at P' > P, and a sample of N (weighted or not) is a subset of the one
of N' > N. Distinct-key samples are always nested this way.
--with-weight NAME appends each line's Horvitz-Thompson weight (1 / its inclusion probability:
N_total/N, 1/P, 1 or 1/P for DISTINCT; for weighted samples the bottom-k rank-conditioning
weight) as a last column, named NAME in the header.
)";

uint64_t RandomSeed() {
  uint64_t seed = 0;
  if (::getrandom(&seed, sizeof(seed), 0) != sizeof(seed)) seed = 0x9E3779B97F4A7C15ULL;
  return seed;
}

// Where command-line token `arg` gives option `name` ("--seed", "-v"), as the whole token, as
// --name=VALUE or as -vVALUE (long names in any case where the option ignores case): the length
// of the spelling in `arg`, else 0.
size_t Gives(std::string_view arg, std::string_view name, bool ignore_case) {
  if (arg.size() < name.size()) return 0;
  const auto same = [ignore_case](char a, char b) {
    return ignore_case ? absl::ascii_tolower(a) == absl::ascii_tolower(b) : a == b;
  };
  if (!std::equal(name.begin(), name.end(), arg.begin(), same)) return 0;
  if (arg.size() > name.size() && name[1] == '-' && arg[name.size()] != '=') return 0;
  return name.size();
}

// CLI11 names an option in its errors by its first long name ("--seed-value: must be an
// integer ... not x"), which need not be the spelling on the command line (-v, --seed, --NUM).
// Puts the spelling used in its place, so that the message names what was typed: the last one
// whose value ends the message, else the last one. Other messages are returned as they are.
std::string NameAsTyped(const CLI::App& app, std::string message, int argc,
                        const char* const* argv) {
  for (const CLI::Option* option : app.get_options()) {
    if (option->get_lnames().empty()) continue;
    const std::string name = "--" + option->get_lnames()[0];
    const size_t at = message.find(name);
    if (at == std::string::npos) continue;
    const size_t end = at + name.size();
    if (end < message.size() && message[end] != ':' && message[end] != ' ') continue;
    std::vector<std::string> spellings;
    for (const std::string& l : option->get_lnames()) spellings.push_back("--" + l);
    for (const std::string& c : option->get_snames()) spellings.push_back("-" + c);
    std::string typed, typed_with_value;
    for (int i = 1; i < argc; ++i) {
      const std::string_view arg = argv[i];
      for (const std::string& spelling : spellings) {
        const size_t n = Gives(arg, spelling, spelling[1] == '-' && option->get_ignore_case());
        if (n == 0) continue;
        typed = arg.substr(0, n);
        // The value: the next token, or what follows the spelling (past a long name's '=').
        std::string_view value = arg.substr(n);
        if (value.empty() && i + 1 < argc) value = argv[i + 1];
        if (arg.size() > n && spelling[1] == '-') value.remove_prefix(1);
        if (!value.empty() && message.size() > value.size() &&
            message.compare(message.size() - value.size(), value.size(), value) == 0 &&
            message[message.size() - value.size() - 1] == ' ') {
          typed_with_value = typed;
        }
        break;
      }
    }
    const std::string& shown = typed_with_value.empty() ? typed : typed_with_value;
    if (!shown.empty()) message.replace(at, name.size(), shown);
    return message;
  }
  return message;
}

}  // namespace

absl::StatusOr<SampleOptions> ParseSampleOptions(int argc, char** argv) {
  SampleOptions o;
  CLI::App app{
      "urn sample: sample lines of files or standard input. Drop-in for tsv-sample, exact and "
      "reproducible.",
      "urn sample"};
  app.footer(absl::StrCat(kModesHelp, kFieldsHelp, kExitHelp));
  app.get_formatter()->column_width(34);
  bool replace = false, static_seed = false, compatibility_mode = false;
  std::string delimiter = "\t";
  uint64_t seed_value = 0;
  bool seed_given = false;
  // As tsv-sample's option parser: an option given again replaces its value (a wrapper script
  // may set a default the caller overrides), and -k lists add up.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("files", o.files, "input files; - or none for standard input")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  // Each of tsv-sample's one-letter options also answers to its --X spelling (--n 5, --H), as
  // tsv-sample's own option parser and its documentation have them.
  app.add_option("-n,--num,--n", o.num, "sample size (0 = all selected lines)")
      ->check(UnsignedInteger());
  // Read as text, then as a weight in a file is read (spaces around it allowed; no hex, no
  // numeral a double cannot hold), not by CLI11's strtod.
  std::string prob_text;
  app.add_option("-p,--prob,--p", prob_text, "inclusion probability, 0 < P <= 1");
  app.add_option("-w,--weight-field,--w", o.weight_field, "field with the line's weight (>= 0)");
  std::vector<std::string> key_lists;  // one per -k, joined below
  // One value per -k, as tsv-sample takes it: the files after `-k user` stay files.
  app.add_option("-k,--key-fields,--k", key_lists, "key fields for distinct sampling; 0 = line")
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_option("--min-per-key", o.min_per_key, "DISTINCT: lines always kept per key")
      ->check(UnsignedInteger());
  app.add_flag("-r,--replace,--r", replace,
               "sample with replacement (without -n: until the output closes)");
  app.add_flag("-i,--inorder,--i", o.inorder, "keep input order (-n, -n -w)");
  app.add_flag("-H,--header,--H", o.header, "the first line of each file is a header");
  app.add_flag("-s,--static-seed,--s", static_seed, "the same seed every run");
  app.add_option("-v,--seed-value,--seed,--v", seed_value, "the random seed")
      ->check(UnsignedInteger())
      ->each([&](const std::string&) { seed_given = true; });
  app.add_flag("--compat,--compatibility-mode", compatibility_mode,
               "per-line random values: nested samples across -p and -n");
  app.add_flag("--print-random", o.print_random, "prepend each line's random value");
  app.add_flag("--gen-random-inorder", o.gen_random_inorder,
               "all lines in input order with their random values prepended");
  app.add_option("--random-value-header", o.random_value_header,
                 "header of the random value column")
      ->capture_default_str();
  app.add_option("--with-weight", o.with_weight, "append the Horvitz-Thompson weight column");
  app.add_option("-d,--delimiter,--d", delimiter, "field delimiter (default TAB)");
  app.add_flag("--csv", o.csv, "RFC 4180 CSV input (delimiter ',' unless -d)");
  std::string list_delimiter;
  app.add_option("--dataset", o.dataset,
                 "sample this dataset on the server (--server, --key) instead of files");
  app.add_option("--query", o.query, "a sampling query (TQL, U-SQL SAMPLE, DuckDB USING SAMPLE)");
  app.add_option("--list-delimiter", list_delimiter, "splits list-valued fields, e.g. '|'");
  app.add_option("--threads", o.threads, "threads for weighted sampling")->capture_default_str();
  app.add_flag("--line-buffered", o.line_buffered,
               "write each selected line at once (-p, -k -p; other modes read all input first)");
  bool version = false, help_verbose = false, help_fields = false, algorithm_hint = false;
  app.add_flag("-V,--version,--V", version, "print the version");
  app.add_flag("--help-verbose", help_verbose, "this help (it is the detailed one)");
  app.add_flag("--help-fields", help_fields, "how to name fields");
  app.add_flag("--prefer-skip-sampling,--prefer-algorithm-r", algorithm_hint,
               "accepted for tsv-sample scripts, no effect: urn picks the algorithm");
  // tsv-sample's names answer in any case (-N, --NUM), except -H (-h is help), -v and -V.
  for (const char* name :
       {"--num", "--prob", "--weight-field", "--key-fields", "--replace", "--inorder",
        "--static-seed", "--compat", "--print-random", "--gen-random-inorder",
        "--random-value-header", "--delimiter", "--line-buffered", "--prefer-skip-sampling"}) {
    app.get_option(name)->ignore_case();
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    return absl::CancelledError(app.help());
  } catch (const CLI::ParseError& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(NameAsTyped(app, e.what(), argc, argv), " (see urn sample --help)"));
  }
  o.key_fields = absl::StrJoin(key_lists, ",");
  if (version) return absl::CancelledError("urn sample (urn " URN_VERSION ")\n");
  if (help_verbose) return absl::CancelledError(app.help());
  if (help_fields) return absl::CancelledError(kFieldsHelp);
  // An empty list (an unset shell variable, say) is refused rather than taken for no list,
  // which would silently select another mode.
  if (app.count("--key-fields") > 0 && absl::StripAsciiWhitespace(o.key_fields).empty()) {
    return absl::InvalidArgumentError("-k/--key-fields: the field list is empty");
  }
  if (app.count("--weight-field") > 0 && absl::StripAsciiWhitespace(o.weight_field).empty()) {
    return absl::InvalidArgumentError("-w/--weight-field: the field is empty");
  }
  if (o.weight_field == "0") o.weight_field.clear();  // as tsv-sample: equal weights
  if (!o.dataset.empty() && !o.files.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--dataset samples a dataset on urnd, so '", o.files[0],
                     "' would not be read: give --dataset or files, not both"));
  }
  if (!o.dataset.empty()) {
    // How to read a file: a dataset was read when it was uploaded (urn datasets create --format,
    // -d, --list-delimiter), and would silently ignore them here.
    for (const auto& [option, shown] :
         {std::pair{"--csv", "--csv"}, std::pair{"--delimiter", "-d/--delimiter"},
          std::pair{"--list-delimiter", "--list-delimiter"}}) {
      if (app.count(option) > 0) {
        return absl::InvalidArgumentError(
            absl::StrCat(shown,
                         " describes input files; a dataset on urnd was parsed when it was created "
                         "(urn datasets create --format, -d, --list-delimiter)"));
      }
    }
  }
  if (o.files.empty()) o.files.push_back("-");
  if (o.csv && app.count("--delimiter") == 0) delimiter = ",";
  if (delimiter.size() != 1) {
    return absl::InvalidArgumentError("-d/--delimiter must be a single character");
  }
  o.delimiter = delimiter[0];
  if (!list_delimiter.empty()) {
    if (list_delimiter.size() != 1 || list_delimiter[0] == o.delimiter) {
      return absl::InvalidArgumentError(
          "--list-delimiter must be one character other than the field delimiter");
    }
    o.list_delimiter = list_delimiter[0];
  }
  o.compat = compatibility_mode || o.print_random || o.gen_random_inorder;
  o.seed = seed_given && seed_value != 0 ? seed_value : static_seed ? kStaticSeed : RandomSeed();
  if (o.threads < 1 || o.threads > 256) {
    return absl::InvalidArgumentError("--threads must be between 1 and 256");
  }

  const bool has_prob = app.count("--prob") > 0;
  const bool has_weight = !o.weight_field.empty();
  const bool has_key = !o.key_fields.empty();
  if (has_prob && !table::ParseDoubleInRange(table::TrimSpaces(prob_text), &o.prob)) {
    return absl::InvalidArgumentError(
        absl::StrCat("-p/--prob must be a decimal number in (0, 1], got '",
                     table::TextForMessage(prob_text), "'"));
  }
  if (has_prob && !(o.prob > 0 && o.prob <= 1)) {  // also rejects NaN
    char shortest[32];  // every digit that tells it from 1 (StrCat printed 1.0000001 as 1)
    const auto end = std::to_chars(shortest, shortest + sizeof(shortest), o.prob).ptr;
    return absl::InvalidArgumentError(
        absl::StrCat("-p/--prob must be in (0, 1], got ", std::string(shortest, end - shortest)));
  }
  if (replace && o.num == 0 && !o.with_weight.empty()) {
    // Without -n, draws go on until the output is closed, and the weights depend on N.
    return absl::InvalidArgumentError("-r/--replace with --with-weight needs -n/--num N");
  }
  if (replace && (has_prob || has_key)) {
    return absl::InvalidArgumentError("-r/--replace cannot be combined with -p or -k");
  }
  if (has_key && !has_prob) return absl::InvalidArgumentError("-k/--key-fields needs -p/--prob");
  if (has_prob && has_weight) {
    return absl::InvalidArgumentError("-w/--weight-field cannot be combined with -p/--prob");
  }
  if (has_prob && o.num > 0 && !o.with_weight.empty()) {
    // -n keeps the first N selected lines, which are then not kept with probability P.
    return absl::InvalidArgumentError(
        "--with-weight with -p and -n: the first N lines of the sample are not kept with "
        "probability P, so 1/P would be a wrong weight; drop -n or --with-weight");
  }
  if (app.count("--min-per-key") > 0 && !has_key) {
    return absl::InvalidArgumentError("--min-per-key needs -k/--key-fields and -p/--prob");
  }
  if (o.inorder && (replace || (o.num == 0 && !has_prob && !o.gen_random_inorder))) {
    // As tsv-sample: the order of a shuffle or of draws with replacement is the sample itself.
    // (-p, -k -p and --gen-random-inorder keep the input order anyway: -i changes nothing.)
    return absl::InvalidArgumentError(
        "-i/--inorder needs -n/--num N without -r/--replace: it keeps the input order of a "
        "sample of N lines");
  }
  // A column's name in the header line: one field of that line.
  const auto bad_column_name = [&](const std::string& name) {
    return name.empty() ||
           name.find_first_of(std::string{o.delimiter, '\n', '\r'}) != std::string::npos;
  };
  constexpr char kColumnName[] =
      " must be a non-empty name without the field delimiter or a line break";
  if (bad_column_name(o.random_value_header)) {  // it has a default: always checked
    return absl::InvalidArgumentError(absl::StrCat("--random-value-header", kColumnName));
  }
  if (app.count("--with-weight") > 0 && bad_column_name(o.with_weight)) {
    return absl::InvalidArgumentError(absl::StrCat("--with-weight", kColumnName));
  }
  if (replace && (o.print_random || o.gen_random_inorder)) {
    return absl::InvalidArgumentError("random values are not defined with -r/--replace");
  }
  if (app.count("--min-per-key") > 0 && (o.print_random || o.gen_random_inorder)) {
    return absl::InvalidArgumentError("random values are not defined with --min-per-key");
  }
  if (o.gen_random_inorder && !o.with_weight.empty() && !has_prob) {
    // With -p a line is in the sample when its value is below P (weight 1/P, else 0); with -n
    // that is only known once every line was read.
    return absl::InvalidArgumentError(
        "--with-weight with --gen-random-inorder needs -p (or -k -p): without it a line's "
        "inclusion is not known line by line");
  }
  if (app.count("--query") > 0) {
    if (absl::StripAsciiWhitespace(o.query).empty()) {
      // An unset shell variable, say: refused rather than taken for no query (a shuffle).
      return absl::InvalidArgumentError("--query: the query is empty");
    }
    if (replace || has_prob || has_weight || has_key || o.num > 0 || !o.with_weight.empty() ||
        o.print_random || o.gen_random_inorder || o.inorder || o.compat) {
      return absl::InvalidArgumentError(
          "--query says everything itself: it cannot be combined with -n, -p, -w, -k, -r, -i, "
          "--compat, --with-weight (use WITH WEIGHT AS) or random values");
    }
    // A malformed query is bad usage (exit 2), found before any input is read or sent.
    absl::StatusOr<query::Query> parsed = query::ParseQuery(o.query);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(query::FormatError(o.query, parsed.status()));
    }
    // Rows of a dataset are printed as TSV whatever the flags.
    const bool tsv_out = !o.csv || !o.dataset.empty();
    const char out_delimiter = o.dataset.empty() ? o.delimiter : '\t';
    if (tsv_out && parsed->weight_column.has_value() &&
        parsed->weight_column->find_first_of(std::string{out_delimiter, '\r', '\n'}) !=
            std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--query: the WITH WEIGHT AS name \"", *parsed->weight_column,
          "\" holds the delimiter or a line break, which a TSV header cannot (--csv quotes it)"));
    }
    o.mode = SampleMode::kQuery;
    return o;
  }
  if (replace) {
    o.mode = has_weight ? SampleMode::kWeightedReplace : SampleMode::kReplace;
  } else if (has_key) {
    o.mode = app.count("--min-per-key") > 0 ? SampleMode::kDistinct : SampleMode::kUniverse;
  } else if (has_prob) {
    o.mode = SampleMode::kBernoulli;
  } else if (o.num > 0) {
    o.mode = has_weight ? SampleMode::kWeighted : SampleMode::kSimple;
  } else {
    o.mode = has_weight ? SampleMode::kWeightedShuffle : SampleMode::kShuffle;
  }
  return o;
}

}  // namespace urn::cli
