// `urn sample` through the real binary: every mode against its exact distribution (fixed
// seeds), headers and field names, determinism, the compatibility superset property, and the
// error messages for bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "support/stats.h"
#include "support/subprocess.h"
#include "support/temp_dir.h"

namespace urn {
namespace {

using testing::RunResult;
using testing::TempDir;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

class UrnSample : public ::testing::Test {
 protected:
  RunResult Sample(std::vector<std::string> args, const std::string& stdin_path = "") {
    args.insert(args.begin(), {URN_CLI_PATH, "sample"});
    return testing::Run(args, stdin_path);
  }
  // A file of `n` lines "i<TAB>w_i<TAB>key" with a header "id weight key".
  std::string Table(const std::string& name, const std::vector<double>& weights, int keys = 1) {
    std::string text = "id\tweight\tkey\n";
    for (size_t i = 0; i < weights.size(); ++i) {
      std::ostringstream w;
      w << weights[i];
      text += std::to_string(i) + "\t" + w.str() + "\tk" + std::to_string(i % keys) + "\n";
    }
    const std::string path = dir_.Join(name);
    testing::WriteFileOrDie(path, text);
    return path;
  }
  TempDir dir_;
};

// Shuffle of 4 lines: each of the 24 orders has probability 1/24.
TEST_F(UrnSample, ShuffleOrdersAreUniform) {
  const std::string file = Table("t", {1, 1, 1, 1});
  std::map<std::string, int64_t> counts;
  for (int seed = 1; seed <= 480; ++seed) {
    RunResult r = Sample({"-H", "-v", std::to_string(seed), file});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ++counts[r.out];
  }
  ASSERT_EQ(counts.size(), 24u);
  std::vector<int64_t> observed;
  for (const auto& [order, c] : counts) observed.push_back(c);
  EXPECT_GT(testing::ChiSquareTest(observed, std::vector<double>(24, 1.0 / 24)).p_value, 1e-4);
}

// -n 2 of 5 in random order: each of the 20 ordered pairs has probability 1/20.
TEST_F(UrnSample, SimpleRandomSampleOrderedPairsAreUniform) {
  const std::string file = Table("t", {1, 1, 1, 1, 1});
  std::map<std::string, int64_t> counts;
  for (int seed = 1; seed <= 600; ++seed) {
    RunResult r = Sample({"-H", "-n", "2", "--seed", std::to_string(seed), file});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_EQ(Lines(r.out).size(), 3u);
    ++counts[r.out];
  }
  ASSERT_EQ(counts.size(), 20u);
  std::vector<int64_t> observed;
  for (const auto& [pair, c] : counts) observed.push_back(c);
  EXPECT_GT(testing::ChiSquareTest(observed, std::vector<double>(20, 1.0 / 20)).p_value, 1e-4);
}

// -n 2 -w: the first line of the output is the first weighted draw, P(i) = w_i / W.
TEST_F(UrnSample, WeightedSampleFirstDrawIsProportionalToWeight) {
  const std::vector<double> w = {1, 2, 3, 4, 5, 15};
  const std::string file = Table("t", w);
  std::vector<int64_t> first(6);
  for (int seed = 1; seed <= 600; ++seed) {
    RunResult r = Sample({"-H", "-n", "2", "-w", "weight", "-v", std::to_string(seed), file});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::vector<std::string> lines = Lines(r.out);
    ASSERT_EQ(lines.size(), 3u);
    ++first[std::stoi(lines[1])];
  }
  std::vector<double> p;
  for (double x : w) p.push_back(x / 30);
  EXPECT_GT(testing::ChiSquareTest(first, p).p_value, 1e-4);
}

// -r -n with -w: 60000 draws from weights 1,2,3,4 have frequencies w / 10.
TEST_F(UrnSample, WeightedDrawsWithReplacementMatchWeights) {
  const std::string file = Table("t", {1, 2, 3, 4});
  RunResult r = Sample({"-H", "-r", "-n", "60000", "-w", "2", "-s", file});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<int64_t> counts(4);
  const std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 60001u);
  for (size_t i = 1; i < lines.size(); ++i) ++counts[std::stoi(lines[i])];
  EXPECT_GT(testing::ChiSquareTest(counts, {0.1, 0.2, 0.3, 0.4}).p_value, 1e-4);
}

// -p 0.3 over 100000 lines: each tenth of the file keeps lines at rate 0.3 (chi-square of kept
// counts per tenth against equal shares) and the total is Binomial(100000, 0.3) (within 5 sd).
TEST_F(UrnSample, BernoulliKeepsEachLineWithProbabilityP) {
  std::string text;
  for (int i = 0; i < 100000; ++i) text += std::to_string(i) + "\n";
  const std::string file = dir_.Join("lines");
  testing::WriteFileOrDie(file, text);
  for (bool compat : {false, true}) {
    std::vector<std::string> args = {"-p", "0.3", "-v", "7", file};
    if (compat) args.insert(args.begin(), "--compat");
    RunResult r = Sample(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::vector<std::string> lines = Lines(r.out);
    EXPECT_LT(std::fabs(static_cast<double>(lines.size()) - 30000), 5 * std::sqrt(100000 * .21));
    std::vector<int64_t> tenths(10);
    int previous = -1;
    for (const std::string& l : lines) {
      const int v = std::stoi(l);
      ASSERT_GT(v, previous) << "input order";
      previous = v;
      ++tenths[v / 10000];
    }
    EXPECT_GT(testing::ChiSquareTest(tenths, std::vector<double>(10, 0.1)).p_value, 1e-4);
  }
}

// -k key -p 0.2: keys are kept whole, and the number of kept keys of 2000 is
// Binomial(2000, 0.2) (within 5 sd).
TEST_F(UrnSample, UniverseKeepsKeysWhole) {
  const std::string file = Table("t", std::vector<double>(20000, 1), 2000);
  RunResult r = Sample({"-H", "-k", "key", "-p", "0.2", "-v", "3", file});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, int> per_key;
  const std::vector<std::string> lines = Lines(r.out);
  for (size_t i = 1; i < lines.size(); ++i) ++per_key[lines[i].substr(lines[i].rfind('\t') + 1)];
  for (const auto& [key, count] : per_key) EXPECT_EQ(count, 10) << key;
  EXPECT_LT(std::fabs(static_cast<double>(per_key.size()) - 400), 5 * std::sqrt(2000 * .16));
}

// -k takes one value per use, as in tsv-sample: the files after `-k key` (or --key-fields=key,
// -kkey) are read, not taken as more key fields, and -k lists add up.
TEST_F(UrnSample, KeyFieldsAsTheLastOptionLeaveTheFilesFiles) {
  const std::string file = Table("t", std::vector<double>(200, 1), 20);
  const std::string empty = dir_.Join("empty");
  testing::WriteFileOrDie(empty, "");
  const RunResult expected = Sample({"-H", "-p", "0.5", "-v", "3", "-k", "key,id", "--", file});
  ASSERT_EQ(expected.exit_code, 0) << expected.err;
  ASSERT_GT(Lines(expected.out).size(), 20u);
  for (const std::vector<std::string>& keys :
       {std::vector<std::string>{"-k", "key,id"}, std::vector<std::string>{"-k", "key", "-k", "id"},
        std::vector<std::string>{"--key-fields=key,id"}, std::vector<std::string>{"-kkey,id"}}) {
    std::vector<std::string> args = {"-H", "-p", "0.5", "-v", "3"};
    args.insert(args.end(), keys.begin(), keys.end());
    args.push_back(file);
    const RunResult r = Sample(args, empty);  // standard input empty: the file must be read
    SCOPED_TRACE(keys[0]);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, expected.out);
  }
}

// DISTINCT(0.5, 2): the first two lines of every key have weight 1; later lines are kept at
// rate 0.5 with weight 2.
TEST_F(UrnSample, DistinctKeepsMinimumPerKeyThenSamples) {
  const std::string file = Table("t", std::vector<double>(4000, 1), 100);
  RunResult r = Sample({"-H", "-k", "3", "-p", "0.5", "--min-per-key", "2", "--with-weight",
                        "_Weight", "-v", "11", file});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> lines = Lines(r.out);
  EXPECT_EQ(lines[0], "id\tweight\tkey\t_Weight");
  int ones = 0, twos = 0;
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::string w = lines[i].substr(lines[i].rfind('\t') + 1);
    const int id = std::stoi(lines[i]);
    if (id < 200) {
      EXPECT_EQ(w, "1") << lines[i];
      ++ones;
    } else {
      EXPECT_EQ(w, "2") << lines[i];
      ++twos;
    }
  }
  EXPECT_EQ(ones, 200);
  EXPECT_LT(std::fabs(twos - 1900.0), 5 * std::sqrt(3800 * .25));
}

// -w alone: every positive line in selection order (its first N lines are exactly the weighted
// sample of N with the same seed), then the zero-weight lines in input order.
TEST_F(UrnSample, WeightedShuffleIsSelectionOrderThenZeroWeights) {
  const std::string file = Table("t", {0, 3, 1, 0, 2, 5, 0, 4});
  RunResult all = Sample({"-H", "-w", "weight", "-v", "9", file});
  RunResult top3 = Sample({"-H", "-w", "weight", "-n", "3", "-v", "9", file});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  ASSERT_EQ(top3.exit_code, 0) << top3.err;
  const std::vector<std::string> a = Lines(all.out), b = Lines(top3.out);
  ASSERT_EQ(a.size(), 9u);
  ASSERT_EQ(b.size(), 4u);
  EXPECT_TRUE(std::equal(b.begin(), b.end(), a.begin()));
  EXPECT_EQ(a[6].substr(0, 2), "0\t");
  EXPECT_EQ(a[7].substr(0, 2), "3\t");
  EXPECT_EQ(a[8].substr(0, 2), "6\t");
}

// -n N -w keeps the N smallest exponential keys, which the weighted shuffle of the same seed
// lists first: over an input of several read batches (65,536 lines each), for N from 1 to all
// lines, the sample is exactly the shuffle's first N lines (a tenth of the weights are 0), and
// so is --compat -n N with --compat's shuffle.
TEST_F(UrnSample, WeightedSampleIsThePrefixOfTheWeightedShuffleAcrossBatches) {
  std::vector<double> w(200000);
  for (size_t i = 0; i < w.size(); ++i) {
    w[i] = i % 10 == 3 ? 0.0 : 1.0 + static_cast<double>(i % 97);
  }
  const std::string file = Table("t", w);
  RunResult shuffle = Sample({"-H", "-w", "weight", "-v", "3", file});
  ASSERT_EQ(shuffle.exit_code, 0) << shuffle.err;
  const std::vector<std::string> all = Lines(shuffle.out);
  ASSERT_EQ(all.size(), w.size() + 1);
  for (const size_t n : {1, 1000, 70000, 150000, 180000, 199999, 200000}) {
    RunResult r = Sample({"-H", "-n", std::to_string(n), "-w", "weight", "-v", "3", file});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::vector<std::string> lines = Lines(r.out);
    ASSERT_EQ(lines.size(), n + 1);
    for (size_t i = 0; i <= n; ++i) ASSERT_EQ(lines[i], all[i]) << "-n " << n << ", line " << i;
  }
  // --compat -n N (unit weights, the same selection) is the first N lines of --compat's shuffle.
  RunResult compat_shuffle = Sample({"-H", "--compat", "-w", "0", "-v", "3", file});
  ASSERT_EQ(compat_shuffle.exit_code, 0) << compat_shuffle.err;
  const std::vector<std::string> compat_all = Lines(compat_shuffle.out);
  ASSERT_EQ(compat_all.size(), w.size() + 1);
  for (const size_t n : {70000, 150000}) {
    RunResult r = Sample({"-H", "--compat", "-n", std::to_string(n), "-v", "3", file});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::vector<std::string> lines = Lines(r.out);
    ASSERT_EQ(lines.size(), n + 1);
    for (size_t i = 0; i <= n; ++i) {
      ASSERT_EQ(lines[i], compat_all[i]) << "--compat -n " << n << ", line " << i;
    }
  }
  // The HT weights come from the (N+1)-th smallest key over all batches: the same as the query
  // sampler's, which keeps the keys of the whole input at once.
  for (const size_t n : {1000, 70000, 150000}) {
    const std::string limit = std::to_string(n);
    RunResult flags =
        Sample({"-H", "-n", limit, "-w", "weight", "-v", "3", "--with-weight", "ht", file});
    RunResult query = Sample(
        {"-H", "-v", "3", "--query",
         "SELECT * SAMPLE BY weight REPLACE false LIMIT " + limit + " WITH WEIGHT AS ht", file});
    ASSERT_EQ(flags.exit_code, 0) << flags.err;
    ASSERT_EQ(query.exit_code, 0) << query.err;
    EXPECT_EQ(flags.out, query.out) << "-n " << n;
  }
}

// -n N -w F with fewer than N lines of positive weight: every positive line, then the lines of
// weight 0 in input order, as the weighted shuffle gives them (and tsv-sample keeps them).
TEST_F(UrnSample, WeightedSampleLargerThanThePositiveLinesEndsWithZeroWeightLines) {
  const std::string file = Table("z.tsv", {1, 0, 2, 0, 0});
  RunResult shuffle = Sample({"-H", "-w", "weight", "-v", "4", file});
  RunResult r = Sample({"-H", "-n", "4", "-w", "weight", "-v", "4", "--print-random", file});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> all = Lines(shuffle.out), got = Lines(r.out);
  ASSERT_EQ(all.size(), 6u);
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(all[3], "1\t0\tk0");
  EXPECT_EQ(all[4], "3\t0\tk0");
  for (size_t i = 1; i < 5; ++i) EXPECT_EQ(got[i].substr(got[i].find('\t') + 1), all[i]) << i;
  EXPECT_EQ(got[3], "0\t1\t0\tk0");  // a line of weight 0 has the random value 0
  r = Sample({"-H", "-n", "4", "-w", "weight", "-v", "4", "-i", file});
  EXPECT_EQ(r.out, "id\tweight\tkey\n0\t1\tk0\n1\t0\tk0\n2\t2\tk0\n3\t0\tk0\n");
}

// Field lists take tsv-utils 2.x names: ranges of names, '*' wildcards and backslash escapes.
TEST_F(UrnSample, FieldNamesTakeRangesWildcardsAndEscapes) {
  const std::string file = dir_.Join("names.tsv");
  testing::WriteFileOrDie(file, "run\tuser_time\tsys-time\n1\t2\t0\n4\t5\t6\n");
  for (const char* keys : {"run-sys\\-time", "*_time,run", "sys\\-time"}) {
    RunResult r = Sample({"-H", "-s", "-k", keys, "-p", "1", file});
    EXPECT_EQ(r.exit_code, 0) << keys << ": " << r.err;
    EXPECT_EQ(r.out, "run\tuser_time\tsys-time\n1\t2\t0\n4\t5\t6\n") << keys;
  }
  RunResult r = Sample({"-H", "-s", "-n", "2", "-w", "sys\\-time", file});
  EXPECT_EQ(r.out, "run\tuser_time\tsys-time\n4\t5\t6\n1\t2\t0\n") << r.err;
  r = Sample({"-H", "-s", "-n", "1", "-w", "nope*", file});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("unknown field name 'nope*'"), std::string::npos) << r.err;
}

// A quoted CSV field keeps its bytes: a "\r\n" inside it stays "\r\n" (the record's own line
// ends may be either).
TEST_F(UrnSample, CsvQuotedLineBreaksAreKeptAsTheyAre) {
  const std::string file = dir_.Join("crlf.csv");
  testing::WriteFileOrDie(file, "k,v\r\n1,\"a\r\nb\"\r\n2,\"c\nd\"\n");
  RunResult r = Sample({"--csv", "-H", "-n", "5", "-i", "-s", file});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "k,v\n1,\"a\r\nb\"\n2,\"c\nd\"\n");
}

// A UTF-8 byte order mark starting a file is not data (tsv-utils 2.x drops it too): the first
// header name matches, the header is printed without it, and without -H the first line keys
// as it would in a file without one. A second file's mark goes the same way.
TEST_F(UrnSample, AByteOrderMarkStartingAFileIsDropped) {
  const std::string plain = dir_.Join("plain.tsv"), marked = dir_.Join("marked.tsv");
  std::string text = "a\tw\n";
  for (int i = 0; i < 200; ++i) absl::StrAppend(&text, "k", i % 20, "\t1\n");
  testing::WriteFileOrDie(plain, text);
  std::string with_mark = "\xEF\xBB\xBF";
  with_mark += text;
  testing::WriteFileOrDie(marked, with_mark);
  RunResult r = Sample({"-H", "-k", "a", "-p", "0.5", "-v", "3", marked, marked});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, Sample({"-H", "-k", "a", "-p", "0.5", "-v", "3", plain, plain}).out);
  EXPECT_EQ(r.out.substr(0, 4), "a\tw\n");
  r = Sample({"-k", "1", "-p", "0.5", "-v", "3", marked});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, Sample({"-k", "1", "-p", "0.5", "-v", "3", plain}).out);
  EXPECT_EQ(r.out.find('\xEF'), std::string::npos);
}

// --gen-random-inorder prints every line with its random value; with --with-weight a line in
// the sample weighs 1/P and one outside it 0 (it weighed 1/P too), so the column still sums to
// an unbiased estimate of the number of lines.
TEST_F(UrnSample, RandomValuesWithWeightsWeighOnlyTheSample) {
  std::vector<double> weights(300, 1.0);
  const std::string file = Table("t.tsv", weights, 30);
  for (const std::vector<std::string>& mode : {std::vector<std::string>{"-p", "0.25"},
                                               std::vector<std::string>{"-k", "3", "-p", "0.25"}}) {
    std::vector<std::string> args = mode;
    args.insert(args.end(), {"-H", "-v", "5", "--compat"});
    std::vector<std::string> sample_args = args;
    sample_args.push_back(file);
    const std::vector<std::string> sample = Lines(Sample(sample_args).out);
    args.insert(args.end(), {"--gen-random-inorder", "--with-weight", "hw", file});
    RunResult r = Sample(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::vector<std::string> all = Lines(r.out);
    ASSERT_EQ(all.size(), 301u);
    std::vector<std::string> weighted = {sample[0]};
    for (size_t i = 1; i < all.size(); ++i) {
      const std::string hw = all[i].substr(all[i].rfind('\t') + 1);
      ASSERT_TRUE(hw == "0" || hw == "4") << all[i];
      // The line without its random value (first) and weight (last) columns.
      const std::string line = all[i].substr(all[i].find('\t') + 1);
      if (hw == "4") weighted.push_back(line.substr(0, line.rfind('\t')));
    }
    ASSERT_GT(sample.size(), 1u);
    EXPECT_EQ(weighted, sample) << mode[0];
  }
}

// A header-only input gives no rows and, for a query, no stray empty line either.
TEST_F(UrnSample, EmptyInputQueryPrintsNothing) {
  const std::string file = dir_.Join("empty.tsv");
  testing::WriteFileOrDie(file, "");
  RunResult r = Sample({"-H", "--query", "SELECT * USING SAMPLE 50%", file});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  // Fields named on an empty input: nothing to name them in, and nothing to sample.
  for (const std::vector<std::string>& args : {std::vector<std::string>{"-H", "-w", "weight"},
                                               {"-H", "-n", "2", "-w", "weight"},
                                               {"-H", "-k", "user", "-p", "0.1"}}) {
    std::vector<std::string> with_file = args;
    with_file.push_back(file);
    r = Sample(with_file);
    EXPECT_EQ(r.exit_code, 0) << args[1] << ": " << r.err;
    EXPECT_EQ(r.out, "");
  }
}

TEST_F(UrnSample, HeaderIsPrintedOnceAcrossFiles) {
  const std::string a = Table("a", {1, 1});
  const std::string b = Table("b", {1, 1});
  RunResult r = Sample({"-H", "-s", a, b});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0], "id\tweight\tkey");
  EXPECT_EQ(std::count(lines.begin(), lines.end(), "id\tweight\tkey"), 1);
}

TEST_F(UrnSample, SameSeedSameOutputAndStdin) {
  const std::string file = Table("t", std::vector<double>(1000, 2));
  for (const std::vector<std::string>& mode :
       std::vector<std::vector<std::string>>{{},
                                             {"-n", "10"},
                                             {"-n", "10", "-w", "2"},
                                             {"-p", "0.1"},
                                             {"-r", "-n", "20"},
                                             {"-k", "0", "-p", "0.1"}}) {
    std::vector<std::string> args = mode;
    args.insert(args.end(), {"-H", "-v", "42"});
    std::vector<std::string> from_file = args, from_stdin = args, other = args;
    from_file.push_back(file);
    from_stdin.push_back("-");
    other[other.size() - 1] = "43";
    other.push_back(file);
    RunResult a = Sample(from_file), b = Sample(from_file), c = Sample(from_stdin, file),
              d = Sample(other);
    ASSERT_EQ(a.exit_code, 0) << a.err;
    EXPECT_EQ(a.out, b.out);
    EXPECT_EQ(a.out, c.out);
    EXPECT_NE(a.out, d.out);
  }
}

TEST_F(UrnSample, CompatModeSamplesAreNested) {
  const std::string file = Table("t", std::vector<double>(2000, 1));
  auto set_of = [&](std::vector<std::string> args) {
    args.insert(args.end(), {"--compat", "-H", "-v", "5", file});
    RunResult r = Sample(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::vector<std::string> lines = Lines(r.out);
    return std::set<std::string>(lines.begin() + 1, lines.end());
  };
  for (const auto& [small, large] :
       std::vector<std::pair<std::vector<std::string>, std::vector<std::string>>>{
           {{"-p", "0.2"}, {"-p", "0.3"}},
           {{"-n", "50"}, {"-n", "80"}},
           {{"-n", "50", "-w", "2"}, {"-n", "80", "-w", "2"}}}) {
    const std::set<std::string> a = set_of(small), b = set_of(large);
    EXPECT_FALSE(a.empty());
    EXPECT_LT(a.size(), b.size());
    EXPECT_TRUE(std::includes(b.begin(), b.end(), a.begin(), a.end()));
  }
}

TEST_F(UrnSample, PrintRandomAndGenRandomInorder) {
  const std::string file = Table("t", {1, 2, 3});
  RunResult r = Sample({"-H", "--gen-random-inorder", "-s", file});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], "random_value\tid\tweight\tkey");
  for (size_t i = 1; i < 4; ++i) {
    const double v = std::stod(lines[i].substr(0, lines[i].find('\t')));
    EXPECT_GT(v, 0);
    EXPECT_LE(v, 1);
    EXPECT_EQ(lines[i].substr(lines[i].find('\t') + 1, 1), std::to_string(i - 1));
  }
  // The printed values of a compat sample come out in decreasing order (selection order).
  r = Sample({"-H", "-n", "3", "--print-random", "-s", file});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> printed = Lines(r.out);
  ASSERT_EQ(printed.size(), 4u);
  EXPECT_GE(std::stod(printed[1]), std::stod(printed[2]));
  EXPECT_GE(std::stod(printed[2]), std::stod(printed[3]));
}

// tsv-sample's conventions: -n bounds --gen-random-inorder; random values print without an
// exponent down to 1e-12 (so `sort -n` orders them); distinct sampling's random value is the
// key's selection group, 0 for the selected keys; -w 0 is no weight; -i is accepted (and changes
// nothing) with -p; its informational and internal flags are accepted.
TEST_F(UrnSample, TsvSampleConventionsForFlagsAndRandomValues) {
  std::vector<double> weights(40, 0.05);
  const std::string file = Table("t", weights, 8);
  RunResult r = Sample({"-H", "-s", "--gen-random-inorder", "-n", "3", file});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Lines(r.out).size(), 4u);
  // tsv-sample's documented spellings of its one-letter options (--n|num, --H|header, ...).
  const RunResult spelled =
      Sample({"--H", "--s", "--n", "5", "--w", "weight", "--d", "\t", "--i", file});
  ASSERT_EQ(spelled.exit_code, 0) << spelled.err;
  EXPECT_EQ(spelled.out, Sample({"-H", "-s", "-n", "5", "-w", "weight", "-i", file}).out);
  const RunResult distinct = Sample({"--H", "--v", "7", "--k", "key", "--p", "0.5", file});
  ASSERT_EQ(distinct.exit_code, 0) << distinct.err;
  EXPECT_EQ(distinct.out, Sample({"-H", "-v", "7", "-k", "key", "-p", "0.5", file}).out);
  // As tsv-sample's parser: an option given again replaces its value (so a wrapper's default
  // can be overridden), -k lists add up, and names answer in any case except -H, -v and -V.
  const RunResult again = Sample({"-H", "-v", "3", "-n", "9", "-w", "id", "-v", "7", "-N", "5",
                                  "--WEIGHT-FIELD", "weight", "-S", "-I", file});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, Sample({"-H", "-v", "7", "-n", "5", "-w", "weight", "-i", file}).out);
  const RunResult keys = Sample({"-H", "-v", "7", "-k", "key", "-K", "id", "-P", "0.5", file});
  ASSERT_EQ(keys.exit_code, 0) << keys.err;
  EXPECT_EQ(keys.out, Sample({"-H", "-v", "7", "-k", "key,id", "-p", "0.5", file}).out);
  // A comma escaped in a field name stays part of the name, also across repeated -k.
  std::string comma = "a,\tb\n";
  for (int i = 0; i < 60; ++i) absl::StrAppend(&comma, i % 13, "\t", i % 3, "\n");
  const std::string comma_file = dir_.Join("comma.tsv");
  testing::WriteFileOrDie(comma_file, comma);
  const RunResult by_number = Sample({"-H", "-v", "3", "-k", "1,2", "-p", "0.4", comma_file});
  ASSERT_EQ(by_number.exit_code, 0) << by_number.err;
  for (const std::vector<std::string>& named :
       {std::vector<std::string>{"-k", "a\\,,b"},
        std::vector<std::string>{"-k", "a\\,", "-k", "b"}}) {
    std::vector<std::string> args = {"-H", "-v", "3", "-p", "0.4", comma_file};
    args.insert(args.begin(), named.begin(), named.end());
    const RunResult r = Sample(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, by_number.out) << named[1];
  }

  r = Sample({"-H", "-s", "--gen-random-inorder", "-w", "weight", file});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 41u);
  int fixed = 0;
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::string value = lines[i].substr(0, lines[i].find('\t'));
    const double v = std::stod(value);
    if (v >= 1e-12) {
      EXPECT_EQ(value.find('e'), std::string::npos) << value;
      ++fixed;
    }
  }
  EXPECT_GT(fixed, 0);  // u^20 for u uniform: about 1 value in 4 is >= 1e-12

  r = Sample({"-H", "-s", "--gen-random-inorder", "-k", "key", "-p", "0.25", file});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  RunResult kept = Sample({"-H", "-s", "-k", "key", "-p", "0.25", file});
  ASSERT_EQ(kept.exit_code, 0) << kept.err;
  std::string group0 = "id\tweight\tkey\n";
  lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 41u);
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::string value = lines[i].substr(0, lines[i].find('\t'));
    ASSERT_TRUE(value == "0" || value == "1" || value == "2" || value == "3") << value;
    if (value == "0") group0 += lines[i].substr(2) + "\n";
  }
  EXPECT_EQ(group0, kept.out);

  RunResult unweighted = Sample({"-H", "-s", "-n", "5", file});
  RunResult weight0 = Sample({"-H", "-s", "-n", "5", "-w", "0", file});
  ASSERT_EQ(unweighted.exit_code, 0) << unweighted.err;
  EXPECT_EQ(weight0.out, unweighted.out);

  RunResult bernoulli = Sample({"-H", "-s", "-p", "0.5", file});
  ASSERT_EQ(bernoulli.exit_code, 0) << bernoulli.err;
  for (const std::vector<std::string>& same :
       {std::vector<std::string>{"-H", "-s", "-p", "0.5", "-i", file},
        std::vector<std::string>{"-H", "-s", "-p", "0.5", "--line-buffered", file},
        std::vector<std::string>{"-H", "-s", "-p", "0.5", "--prefer-skip-sampling", file},
        std::vector<std::string>{"-H", "-s", "-p", "0.5", "--prefer-algorithm-r", file}}) {
    RunResult other = Sample(same);
    EXPECT_EQ(other.exit_code, 0) << other.err;
    EXPECT_EQ(other.out, bernoulli.out) << same[4];
  }
  r = Sample({"-V"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.rfind("urn sample (urn ", 0), 0u) << r.out;
  r = Sample({"--help-fields"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("-k 0 is the whole line"), std::string::npos) << r.out;
  r = Sample({"--help-verbose"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("Modes"), std::string::npos) << r.out;
}

// -r without -n draws until the output is closed, as tsv-sample: `urn sample -r file | head`.
TEST_F(UrnSample, DrawsWithReplacementWithoutNGoOnUntilTheOutputCloses) {
  const std::string file = Table("t", {1, 2, 3, 4});
  for (const std::string weighted : {"", " -w weight"}) {
    const RunResult r =
        testing::Run({"/bin/sh", "-c",
                      std::string(URN_CLI_PATH) + " sample -H -s -r" + weighted + " " + file +
                          " | head -n 200001 | tail -n +2 | cut -f1 | sort | uniq -c | sort -k2"},
                     "", std::chrono::seconds(60));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    int64_t total = 0;
    for (const std::string& line : Lines(r.out)) {
      std::istringstream in(line);
      int64_t count = 0;
      int id = -1;
      in >> count >> id;
      EXPECT_TRUE(id >= 0 && id < 4) << line;
      total += count;
    }
    EXPECT_EQ(total, 200000) << weighted;
  }
}

TEST_F(UrnSample, CsvRecordsWithQuotesAndNewlines) {
  const std::string file = dir_.Join("c.csv");
  testing::WriteFileOrDie(file, "name,weight\n\"a, b\",1\n\"multi\nline\",2\n\"q\"\"x\",0\n");
  RunResult r = Sample({"--csv", "-H", "-w", "weight", "-n", "5", "-s", file});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"multi\nline\",2\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"a, b\",1\n"), std::string::npos) << r.out;
  // Fewer than 5 lines have positive weight: the line of weight 0 follows them, last.
  EXPECT_TRUE(absl::EndsWith(r.out, "\n\"q\"\"x\",0\n")) << r.out;
}

// Also with --compat (and so --print-random), whose simple sample is drawn by exponential keys
// with unit weights: every 4-subset is still equally likely, so the weight is N_total/N.
TEST_F(UrnSample, HtWeightsOfSimpleSampleAreNOverK) {
  const std::string file = Table("t", std::vector<double>(10, 1));
  for (const std::string mode : {"", "--compat", "--print-random"}) {
    std::vector<std::string> args = {"-H", "-n", "4", "--with-weight", "w", "-s", file};
    if (!mode.empty()) args.push_back(mode);
    RunResult r = Sample(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::vector<std::string> lines = Lines(r.out);
    ASSERT_EQ(lines.size(), 5u);
    for (size_t i = 1; i < lines.size(); ++i) {
      EXPECT_EQ(lines[i].substr(lines[i].rfind('\t') + 1), "2.5") << mode;
    }
  }
}

struct BadInput {
  std::string contents;
  std::vector<std::string> args;
  int exit_code;
  std::string message;
};

TEST_F(UrnSample, BadInputGetsOneLineErrorNamingFileAndLine) {
  const std::string name = dir_.Join("bad.tsv");
  for (const BadInput& c : std::vector<BadInput>{
           {"a\t1\nb\t-2\n", {"-n", "1", "-w", "2"}, 1, name + ":2: weight '-2'"},
           {"a\t1\nb\tnan\n", {"-n", "1", "-w", "2"}, 1, name + ":2: weight 'nan'"},
           // A NUL in the text is shown escaped, so the message goes on past it.
           {std::string("a\t1\nb\t1\0\n", 9),
            {"-n", "1", "-w", "2"},
            1,
            name + ":2: weight '1\\x00' in field 2 is not a number"},
           {"a\t1\nb\tinf\n", {"-w", "2"}, 1, name + ":2: weight 'inf'"},
           {"a\tx1\n", {"-n", "1", "-w", "2"}, 1, name + ":1: weight 'x1' in field 2 is not a"},
           {"a\t1\nb\n", {"-n", "1", "-w", "2"}, 1, name + ":2: no field 2"},
           {"a\t1\n", {"-k", "3", "-p", "0.5"}, 1, name + ":1: no field 3"},
           {"a\t1\n",
            {"-r", "--with-weight", "W"},
            2,
            "-r/--replace with --with-weight needs -n/--num N"},
           {"a\t1\n", {"-p", "0"}, 2, "-p/--prob must be in (0, 1]"},
           {"a\t1\n", {"-p", "1.5"}, 2, "-p/--prob must be in (0, 1]"},
           {"h\tw\na\t1\n", {"-H", "-w", "weight"}, 1, "unknown field name 'weight'"},
           {"a\t1\n", {"--no-such-flag"}, 2, "no-such-flag"},
           {"a\t1\n",
            {"-n", "-1"},
            2,
            "urn sample: -n: must be an integer from 0 to 18446744073709551615, not -1"},
           // Not wrapped to 2^64 - 1 nor clamped to it: either would silently be another seed.
           {"a\t1\n", {"-v", "-1"}, 2, "urn sample: -v: must be an integer from 0 to"},
           // The message names the spelling that was typed, not CLI11's first long name.
           {"a\t1\n", {"--seed", "abc"}, 2, "urn sample: --seed: must be an integer"},
           {"a\t1\n", {"--seed=abc"}, 2, "urn sample: --seed: must be an integer"},
           {"a\t1\n", {"--NUM", "x"}, 2, "urn sample: --NUM: must be an integer"},
           {"a\t1\n", {"-v5x"}, 2, "urn sample: -v: must be an integer from 0 to"},
           // Given twice: the spelling whose value is refused.
           {"a\t1\n", {"-v", "x", "--seed-value", "1"}, 2, "urn sample: -v: must be"},
           {"a\t1\n", {"--seed-value", "1", "--seed", "y"}, 2, "urn sample: --seed: must be"},
           {"a\t1\n", {"--threads", "z"}, 2, "Could not convert: --threads = z"},
           {"a\t1\n", {"-v", "18446744073709551616"}, 2, "not 18446744073709551616"},
           {"a\t1\n", {"-k", "1", "-p", "0.5", "--min-per-key", "-2"}, 2, "--min-per-key: must be"},
           {"a\t1\n", {"--query", " "}, 2, "--query: the query is empty"},
           {"a\t1\n",
            {"-p", "0.5", "-n", "2", "--with-weight", "W"},
            2,
            "--with-weight with -p and -n"},
           // An empty list (an unset shell variable) would silently select another mode.
           {"a\t1\n", {"-k", "", "-p", "0.5"}, 2, "-k/--key-fields: the field list is empty"},
           {"a\t1\n", {"-w", " ", "-n", "1"}, 2, "-w/--weight-field: the field is empty"},
           // -i would be ignored: a shuffle's or draws' order is the sample (as tsv-sample).
           {"a\t1\n", {"-i"}, 2, "-i/--inorder needs -n/--num N without -r/--replace"},
           {"a\t1\n", {"-i", "-w", "2"}, 2, "-i/--inorder needs -n/--num N"},
           {"a\t1\n", {"-i", "-r", "-n", "2"}, 2, "-i/--inorder needs -n/--num N"},
           {"a\t1\n",
            {"--print-random", "--random-value-header", ""},
            2,
            "--random-value-header must be a non-empty name"},
           {"a\t1\n",
            {"--print-random", "--random-value-header", "rv\tx"},
            2,
            "--random-value-header must be a non-empty name without the field delimiter"},
           // A weight column's name splits no header line, adds no column, is not dropped.
           {"a\t1\n",
            {"-p", "0.5", "--with-weight", "w\nx"},
            2,
            "--with-weight must be a non-empty name without the field delimiter or a line break"},
           {"a\t1\n", {"-p", "0.5", "--with-weight", "w\tx"}, 2, "--with-weight must be"},
           {"a\t1\n", {"-p", "0.5", "--with-weight", ""}, 2, "--with-weight must be"},
           // A malformed CSV record is refused even where none of its fields is read.
           {"a,w\n\"x\"y,1\n",
            {"--csv", "-H", "-p", "1"},
            1,
            name + ":2: malformed CSV record in field 1: unexpected character after closing quote"},
           {"a,w\nb,1\nc,\"2\"z\n",
            {"--csv", "-H"},
            1,
            name + ":3: malformed CSV record in field 2"},
           {"a,w\n\"x\ny\",1\n\"z,2\n",
            {"--csv", "-H", "-n", "5", "-w", "w"},
            1,
            name + ":4: unterminated quoted field"},
           // 1e-400 would be 0 (never drawn) without a word, as 1e400 is refused.
           {"a\t1\nb\t1e-400\n", {"-n", "1", "-w", "2"}, 1, name + ":2: weight '1e-400'"},
           {"a\t1\nb\t1e-310\nc\t0e-999\n", {"-n", "1", "-w", "2", "-s"}, 0, ""},  // subnormal, 0
           // A bad field list is bad usage (2); a name the header lacks is about the input (1).
           {"a\t1\n",
            {"-w", "1-2"},
            2,
            "-w/--weight-field: exactly one field, got '1-2' (fields 1, 2)"},
           // A name the header holds twice: the message says which fields, so a number can pick.
           {"w\tw\n1\t2\n",
            {"-H", "-n", "1", "-w", "w"},
            2,
            "exactly one field, got 'w' (fields 1, 2)"},
           {"a\t1\n", {"-k", "0,1", "-p", "0.5"}, 2, "field '0': numbers start at 1"},
           {"a\t1\n", {"-w", "a"}, 2, "field 'a' is not a number (names need -H/--header)"},
           {"a\t1\n", {"-k", "4294967297", "-p", "0.5"}, 2, "too large a field number"},
           {"a\t1\n", {"-p", "1.0000001"}, 2, "-p/--prob must be in (0, 1], got 1.0000001"},
           // -p is read as a weight is: hex floats and numerals a double cannot hold are refused.
           {"a\t1\n",
            {"-p", "0x1p-1"},
            2,
            "-p/--prob must be a decimal number in (0, 1], got '0x1p-1'"},
           {"a\t1\n",
            {"-p", "1e-400"},
            2,
            "-p/--prob must be a decimal number in (0, 1], got '1e-400'"},
           {"a\t1\n",
            {"-p", "half"},
            2,
            "-p/--prob must be a decimal number in (0, 1], got 'half'"},
           {"a\t1\n", {"-p", "inf"}, 2, "-p/--prob must be in (0, 1], got inf"},
           {"a\t1\n", {"-p", " 1 ", "-s"}, 0, ""},  // spaces around it, as around a weight
           {"a\t1\n",
            {"-n", "1", "--gen-random-inorder", "--with-weight", "W"},
            2,
            "--with-weight with --gen-random-inorder needs -p"},
       }) {
    testing::WriteFileOrDie(name, c.contents);
    std::vector<std::string> args = c.args;
    args.push_back(name);
    RunResult r = Sample(args);
    EXPECT_EQ(r.exit_code, c.exit_code) << c.message << "\n" << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), c.exit_code == 0 ? 0 : 1) << r.err;
  }
  RunResult missing = Sample({dir_.Join("missing.tsv")});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("missing.tsv: No such file or directory"), std::string::npos)
      << missing.err;
}

// A sample size far beyond the input, in every -n mode, prints every line (as tsv-sample does)
// instead of reserving N slots up front or wrapping N + 1 to 0; a tiny -p ends with the input
// instead of walking towards a kept line ~1/p rows away.
TEST_F(UrnSample, ExtremeSizesAndProbabilitiesEndWithTheInput) {
  const std::string path = Table("t.tsv", {1, 2, 3});
  const std::string empty = dir_.Join("empty.tsv");
  testing::WriteFileOrDie(empty, "");
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"-n", "100000000000"},
           {"-n", "18446744073709551615"},
           {"-n", "18446744073709551615", "-w", "2"},
           {"-n", "18446744073709551615", "--compat"},
       }) {
    std::vector<std::string> a = args;
    a.insert(a.end(), {"-H", path});
    RunResult r = Sample(a);
    EXPECT_EQ(r.exit_code, 0) << args[1] << r.err;
    EXPECT_EQ(Lines(r.out).size(), 4u) << args[1] << r.out;
  }
  // Weights whose sum overflows a double still give finite HT weights: W / (n w).
  const std::string huge = dir_.Join("huge.tsv");
  testing::WriteFileOrDie(huge, "a\t1e308\nb\t1.7e308\n");
  RunResult ht = Sample({"-r", "-n", "3", "-w", "2", "--with-weight", "W", huge});
  ASSERT_EQ(ht.exit_code, 0) << ht.err;
  ASSERT_EQ(Lines(ht.out).size(), 3u);
  for (const std::string& line : Lines(ht.out)) {
    const std::vector<std::string> f = absl::StrSplit(line, '\t');
    ASSERT_EQ(f.size(), 3u) << line;
    EXPECT_NEAR(std::stod(f[2]), 2.7 / (3 * (std::stod(f[1]) / 1e308)), 1e-12) << line;
  }
  for (const char* p : {"1e-18", "1e-300"}) {
    RunResult r = Sample({"-p", p, empty, path});
    EXPECT_EQ(r.exit_code, 0) << p << r.err;
    EXPECT_LE(Lines(r.out).size(), 4u) << p;
  }
}

// Fields named with -H mean columns of the first file's header: a later file whose header
// differs is an error naming it (in both the line-at-a-time and the batched modes), while
// numbered fields take every file as it is, as tsv-sample does. A CSV error in the first of two
// files names that file, and the second file's rows are not sampled after it.
TEST_F(UrnSample, NamedFieldsNeedTheSameHeaderInEveryFile) {
  const std::string a = dir_.Join("a.tsv"), b = dir_.Join("b.tsv");
  testing::WriteFileOrDie(a, "w\tv\n1\t1000000\n");
  testing::WriteFileOrDie(b, "v\tw\n1000000\t0\n");
  for (const std::vector<std::string>& mode : std::vector<std::vector<std::string>>{
           {"-w", "w"}, {"-n", "1", "-w", "w"}, {"-k", "w", "-p", "0.5"}}) {
    std::vector<std::string> args = mode;
    args.insert(args.end(), {"-H", a, b});
    RunResult r = Sample(args);
    EXPECT_EQ(r.exit_code, 1) << mode[0] << r.err;
    EXPECT_NE(r.err.find(b + ":1: header 'v\tw' differs from the first file's 'w\tv'"),
              std::string::npos)
        << r.err;
  }
  RunResult numbered = Sample({"-w", "1", "-H", a, b});
  EXPECT_EQ(numbered.exit_code, 0) << numbered.err;
  EXPECT_EQ(Lines(numbered.out).size(), 3u);

  const std::string bad = dir_.Join("bad.csv"), ok = dir_.Join("ok.csv");
  testing::WriteFileOrDie(bad, "a,w\n\"x\ny\",1\n\"z,2\n");
  testing::WriteFileOrDie(ok, "a,w\nq,3\n");
  RunResult r = Sample({"--csv", "-H", "-w", "w", bad, ok});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(bad + ":4: unterminated quoted field"), std::string::npos) << r.err;
}

// A query runs the same core sampler with the same seed as the equivalent flags.
TEST_F(UrnSample, QueryGivesTheSameRowsAsTheEquivalentFlags) {
  std::vector<double> w;
  for (int i = 0; i < 3000; ++i) w.push_back(i % 7);
  const std::string file = Table("t", w, 300);
  for (const auto& [query, flags] : std::vector<std::pair<std::string, std::vector<std::string>>>{
           {"SELECT * SAMPLE BY weight REPLACE false LIMIT 25", {"-n", "25", "-w", "weight"}},
           {"SELECT * SAMPLE BY weight LIMIT 40", {"-r", "-n", "40", "-w", "weight"}},
           {"SAMPLE UNIFORM (0.05)", {"-p", "0.05"}},
           {"SAMPLE ON key UNIVERSE (0.1)", {"-k", "key", "-p", "0.1"}},
           {"SAMPLE ON key DISTINCT (0.1, 2)", {"-k", "key", "-p", "0.1", "--min-per-key", "2"}},
           {"SELECT * USING SAMPLE 20 ROWS", {"-n", "20"}}}) {
    RunResult q = Sample({"-H", "-v", "77", "--query", query, file});
    std::vector<std::string> args = flags;
    args.insert(args.end(), {"-H", "-v", "77", file});
    RunResult f = Sample(args);
    ASSERT_EQ(q.exit_code, 0) << query << ": " << q.err;
    ASSERT_EQ(f.exit_code, 0) << f.err;
    EXPECT_GT(Lines(q.out).size(), 1u) << query;
    EXPECT_EQ(q.out, f.out) << query;
  }
}

// The U-SQL reference's five rows: DISTINCT (0.1, 3) on ZipCode keeps every row, weight 1.
TEST_F(UrnSample, QueryUsqlDistinctExampleKeepsAllFiveRows) {
  const std::string file = dir_.Join("zip.tsv");
  testing::WriteFileOrDie(file,
                          "ZipCode\tName\n98052\tAnn\n98052\tBob\n98004\tCid\n98052\tDee\n"
                          "98004\tEve\n");
  RunResult r = Sample(
      {"-H", "-s", "--query", "SAMPLE ON ZipCode DISTINCT (0.1, 3) WITH WEIGHT AS _Weight", file});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "ZipCode\tName\t_Weight\n98052\tAnn\t1\n98052\tBob\t1\n98004\tCid\t1\n"
            "98052\tDee\t1\n98004\tEve\t1\n");
}

TEST_F(UrnSample, BadQueryShowsLineColumnAndCaret) {
  const std::string file = Table("t", {1, 2});
  RunResult r = Sample({"-H", "--query", "SELECT * WHERE nope > 3 SAMPLE BY 1", file});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("1:16: unknown column 'nope'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("\n                 ^~~~"), std::string::npos) << r.err;
  r = Sample({"-H", "--query", "SAMPLE UNIFORM (0.1)", "-n", "3", file});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--query says everything itself"), std::string::npos) << r.err;
  // A query that does not parse is bad usage (2), known before any input is read: even a
  // missing file is not reached.
  r = Sample({"-H", "--query", "selec *", dir_.Join("no-such-file")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("1:1:"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("no-such-file"), std::string::npos) << r.err;
}

// A bad weight met by a query names the file and line of its row, as the other modes do (also
// in a later file, and for a CSV record that spans lines); standard input, which cannot be read
// again, keeps the row number.
TEST_F(UrnSample, QueryWeightErrorsNameFileAndLine) {
  const std::string a = dir_.Join("a.tsv"), b = dir_.Join("b.tsv"), c = dir_.Join("c.csv");
  testing::WriteFileOrDie(a, "id\tw\n1\t2\n2\t3\n");
  testing::WriteFileOrDie(b, "id\tw\n3\t1\n4\t-7\n");
  testing::WriteFileOrDie(c, "id,w\n1,2\n\"2\nx\",-1\n");
  RunResult r = Sample({"-H", "--query", "select * sample by w limit 2", a, b});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(b + ":3: the sampling weight is -7"), std::string::npos) << r.err;
  r = Sample({"-H", "--query", "select * sample by max_weight(w > 2: w, true: 0 - w)", a, b});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(a + ":2: max_weight entry 2, `true: 0 - w`, gives the weight -2"),
            std::string::npos)
      << r.err;
  r = Sample({"--csv", "-H", "--query", "select * sample by w", c});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(c + ":3: the sampling weight is -1"), std::string::npos) << r.err;
}

// A header line stays one line with one name per field: a CSV name holding the delimiter, a
// quote or a line break is quoted; a TSV header cannot hold a tab or line break, so such a
// WITH WEIGHT AS name is refused (exit 2) instead of adding a field.
TEST_F(UrnSample, QueryHeaderNamesAreQuotedForCsvAndRefusedWhereTsvCannotHoldThem) {
  const std::string csv = dir_.Join("c.csv");
  testing::WriteFileOrDie(csv, "a,\"b,c\"\n1,2\n3,4\n");
  RunResult r = Sample({"--csv", "-H", "-v", "1", "--query",
                        "SAMPLE UNIFORM (1) WITH WEIGHT AS \"w,\"\"x\"\"\"", csv});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Lines(r.out)[0], "a,\"b,c\",\"w,\"\"x\"\"\"");
  const std::string tsv = Table("t", {1, 2});
  r = Sample({"-H", "--query", "SAMPLE UNIFORM (1) WITH WEIGHT AS \"w\tx\"", tsv});
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.err.find("a TSV header cannot"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST_F(UrnSample, DelimiterAndListDelimiter) {
  const std::string file = dir_.Join("x.csv");
  testing::WriteFileOrDie(file, "id;findings;w\n1;Hernia|Effusion;1\n2;Effusion;1\n3;;1\n");
  RunResult r = Sample({"-H", "-d", ";", "-k", "findings", "-p", "1", file});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "id;findings;w\n1;Hernia|Effusion;1\n2;Effusion;1\n3;;1\n");
  r = Sample({"-H", "-d", ";", "--list-delimiter", "|", "-s", "--query",
              "SELECT * WHERE contains(findings, 'Hernia')", file});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "id;findings;w\n1;Hernia|Effusion;1\n");
  r = Sample({"-d", ";;", file});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("-d/--delimiter must be a single character"), std::string::npos);
}

TEST_F(UrnSample, HelpExplainsEveryMode) {
  RunResult r = Sample({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* needle :
       {"Shuffle", "Weighted shuffle", "Simple random sample", "Bernoulli", "UNIVERSE", "DISTINCT",
        "with replacement", "Compatibility mode", "Memory"}) {
    EXPECT_NE(r.out.find(needle), std::string::npos) << needle;
  }
}

}  // namespace
}  // namespace urn
