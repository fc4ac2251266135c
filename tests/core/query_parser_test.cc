#include <gtest/gtest.h>

#include <string>

#include "query/error.h"
#include "query/parser.h"

namespace urn::query {
namespace {

std::string Parsed(const std::string& text, const QueryLimits& limits = {}) {
  absl::StatusOr<Query> q = ParseQuery(text, limits);
  if (!q.ok()) return "ERROR " + std::string(q.status().message());
  return QueryToString(*q);
}

// The error's "line:col: message" and its rendering.
std::string ErrorOf(const std::string& text, const QueryLimits& limits = {}) {
  absl::StatusOr<Query> q = ParseQuery(text, limits);
  if (q.ok()) return "OK " + QueryToString(*q);
  EXPECT_EQ(q.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(q.status().message());
}

TEST(QueryParser, DeepLakeMaxWeight) {
  EXPECT_EQ(Parsed("select * sample by max_weight(contains(findings, 'Hernia'): 20, "
                   "contains(findings, 'Pneumonia'): 8, contains(findings, 'Fibrosis'): 5, "
                   "True: 1)"),
            "(select :sample-by (max_weight ((contains findings 'Hernia') 20) ((contains "
            "findings 'Pneumonia') 8) ((contains findings 'Fibrosis') 5) (true 1)) "
            ":replace true)");
}

TEST(QueryParser, TqlClausesInAnyOrderAndCase) {
  EXPECT_EQ(Parsed("SELECT * FROM xray WHERE age >= 18 SAMPLE BY SUM_WEIGHT(a == 'x': 2.5, "
                   "b: 1) REPLACE FALSE LIMIT 100"),
            "(select :from xray :where (>= age 18) :sample-by (sum_weight ((== a 'x') 2.5) (b "
            "1)) :replace false :limit 100)");
  EXPECT_EQ(Parsed("select * sample by max_weight(t: 1) limit 7 replace true;"),
            "(select :sample-by (max_weight (t 1)) :replace true :limit 7)");
}

TEST(QueryParser, SampleByNumericExpression) {
  EXPECT_EQ(Parsed("select * sample by weight * 2"),
            "(select :sample-by (* weight 2) :replace true)");
  EXPECT_EQ(Parsed("select * sample by \"max_weight\""),
            "(select :sample-by \"max_weight\" :replace true)");
}

TEST(QueryParser, UsqlForms) {
  EXPECT_EQ(Parsed("SAMPLE @data UNIFORM (0.4) WITH WEIGHT AS _Weight;"),
            "(sample :from @data :uniform 0.4 :weight-as _Weight)");
  EXPECT_EQ(Parsed("SAMPLE @data ON Age UNIVERSE (0.1)"),
            "(sample :from @data :on (Age) :universe 0.1)");
  EXPECT_EQ(Parsed("SAMPLE @data ON ZipCode DISTINCT (0.1, 3) WITH WEIGHT AS _Weight"),
            "(sample :from @data :on (ZipCode) :distinct (0.1 3) :weight-as _Weight)");
  EXPECT_EQ(Parsed("sample on a, \"b c\" universe (1)"), "(sample :on (a \"b c\") :universe 1.0)");
  EXPECT_EQ(Parsed("sample UNIFORM (0.5)"), "(sample :uniform 0.5)");
  EXPECT_EQ(Parsed("sample uniform uniform (0.5)"), "(sample :from uniform :uniform 0.5)");
  // A statement as a U-SQL script writes it: the variable assigned to is skipped.
  EXPECT_EQ(Parsed("@result =\n SAMPLE @data UNIFORM (0.4) WITH WEIGHT AS _Weight;"),
            "(sample :from @data :uniform 0.4 :weight-as _Weight)");
  EXPECT_EQ(Parsed("@r = SELECT * FROM @data SAMPLE UNIFORM (0.1);"),
            "(sample :from @data :uniform 0.1)");
}

// U-SQL's SAMPLE after a query expression (Query_Expression SAMPLE (ANY (n) | UNIFORM (f))): a
// row passes WHERE and then the coin, which for a per-row coin is the same sample as the other
// order. ANY (n) promises n rows, any: a uniform n (DuckDB's n ROWS, reservoir).
TEST(QueryParser, UsqlSampleOfASelect) {
  EXPECT_EQ(Parsed("SELECT * FROM @input SAMPLE UNIFORM (0.1)"),
            "(sample :from @input :uniform 0.1)");
  EXPECT_EQ(Parsed("select * where Age > 30 sample uniform (0.5) with weight as w"),
            "(sample :where (> Age 30) :uniform 0.5 :weight-as w)");
  EXPECT_EQ(Parsed("SELECT * FROM @input SAMPLE ANY (10)"),
            "(select :from @input :using-sample 10 rows :method reservoir)");
  EXPECT_EQ(Parsed("select * sample by any"), "(select :sample-by any :replace true)");
}

TEST(QueryParser, DuckDbForms) {
  EXPECT_EQ(Parsed("SELECT * FROM tbl USING SAMPLE 5"),
            "(select :from tbl :using-sample 5 rows :method default)");
  EXPECT_EQ(Parsed("SELECT * FROM tbl USING SAMPLE 10%"),
            "(select :from tbl :using-sample 10.0% :method default)");
  EXPECT_EQ(Parsed("SELECT * FROM tbl USING SAMPLE 10 PERCENT (bernoulli)"),
            "(select :from tbl :using-sample 10.0% :method bernoulli)");
  EXPECT_EQ(Parsed("SELECT * FROM tbl USING SAMPLE 12.5% (reservoir)"),
            "(select :from tbl :using-sample 12.5% :method reservoir)");
  EXPECT_EQ(Parsed("SELECT * FROM tbl USING SAMPLE reservoir(50 ROWS) REPEATABLE (100)"),
            "(select :from tbl :using-sample 50 rows :method reservoir :seed 100)");
  EXPECT_EQ(Parsed("select * where x > 1 using sample 20% (system, 377)"),
            "(select :where (> x 1) :using-sample 20.0% :method system :seed 377)");
  EXPECT_EQ(Parsed("select * using sample 50 rows (reservoir)"),
            "(select :using-sample 50 rows :method reservoir)");
}

TEST(QueryParser, PlainSelect) {
  EXPECT_EQ(Parsed("select *"), "(select)");
  EXPECT_EQ(Parsed("select * from t where a"), "(select :from t :where a)");
}

TEST(QueryParser, ExpressionPrecedenceAndOperators) {
  EXPECT_EQ(Parsed("select * where a + b * c - d / e % f >= -3 and not x or y"),
            "(select :where (or (and (>= (- (+ a (* b c)) (% (/ d e) f)) -3) (not x)) y))");
  EXPECT_EQ(Parsed("select * where (a or b) and c and d"), "(select :where (and (or a b) c d))");
  EXPECT_EQ(Parsed("select * where a = 1 and b == 2 and c != 3 and d <> 4 and e < 5 and "
                   "f <= 6 and g > 7 and h >= 8"),
            "(select :where (and (== a 1) (== b 2) (!= c 3) (!= d 4) (< e 5) (<= f 6) (> g 7) "
            "(>= h 8)))");
  EXPECT_EQ(Parsed("select * where x in (1, -2, 3.5) and y not in ('a', 'it''s') and z is "
                   "null and w is not null"),
            "(select :where (and (in x (1 -2 3.5)) (not-in y ('a' 'it''s')) (is-null z) "
            "(is-not-null w)))");
  EXPECT_EQ(Parsed("select * where lower(\"Name\") = 'bo' and length(tags) > 2 and "
                   "abs(-x) < ln(exp(1.0)) and coalesce(a, b, 0) = 0 and -(a) = 1"),
            "(select :where (and (== (lower \"Name\") 'bo') (> (length tags) 2) (< (abs (neg "
            "x)) (ln (exp 1.0))) (== (coalesce a b 0) 0) (== (neg a) 1)))");
  EXPECT_EQ(Parsed("select * where x = -9223372036854775808 -- the smallest int64\n"),
            "(select :where (== x -9223372036854775808))");
  // Its negation overflows, so it is not folded: kNegate gives null, as any overflow does.
  EXPECT_EQ(Parsed("select * where -(-9223372036854775808) < 0 and - -2 = 2"),
            "(select :where (and (< (neg -9223372036854775808) 0) (== 2 2)))");
  EXPECT_EQ(Parsed("select * where 1e3 = .5 and TRUE and false"),
            "(select :where (and (== 1000.0 0.5) true false))");
}

TEST(QueryParser, KeywordsAreCaseInsensitive) {
  EXPECT_EQ(Parsed("SeLeCt * FrOm t WhErE a AnD NoT b SaMpLe By MaX_wEiGhT(a: 1) RePlAcE "
                   "TrUe LiMiT 3"),
            "(select :from t :where (and a (not b)) :sample-by (max_weight (a 1)) :replace true "
            ":limit 3)");
}

// --- errors: exact positions -----------------------------------------------------------

TEST(QueryParserErrors, MissingColonInMaxWeight) {
  const std::string text = "select * sample by max_weight(contains(findings, 'Hernia') 20)";
  EXPECT_EQ(ErrorOf(text),
            "1:60: expected ':' after the condition in max_weight(...), found a number; each "
            "entry is `condition: weight`, e.g. contains(findings, 'Hernia'): 20");
  absl::StatusOr<Query> q = ParseQuery(text);
  EXPECT_EQ(FormatError(text, q.status()), std::string(q.status().message()) + "\n  " + text +
                                               "\n  " + std::string(59, ' ') + "^~");
}

TEST(QueryParserErrors, UnterminatedString) {
  const std::string text = "select *\nwhere label = 'cat\n";
  EXPECT_EQ(ErrorOf(text),
            "2:15: unterminated string: the string that starts here has no closing quote "
            "(write '' for a quote inside a string)");
  absl::StatusOr<Query> q = ParseQuery(text);
  EXPECT_EQ(FormatError(text, q.status()),
            std::string(q.status().message()) + "\n  where label = 'cat\n                ^");
  EXPECT_EQ(ErrorOf("select * where \"col"),
            "1:16: unterminated quoted name: the name that starts here has no closing double "
            "quote (write \"\" for a double quote inside a name)");
}

TEST(QueryParserErrors, CaretCountsUtf8CharactersAndKeepsTabs) {
  const std::string text = "select * where name = 'héllo' and\t#";
  EXPECT_EQ(ErrorOf(text),
            "1:35: unexpected character '#'; strings take 'single quotes' and column names "
            "\"double quotes\"");
  absl::StatusOr<Query> q = ParseQuery(text);
  const std::string rendered = FormatError(text, q.status());
  EXPECT_EQ(rendered.substr(rendered.rfind('\n') + 1), "  " + std::string(33, ' ') + "\t^");
}

TEST(QueryParserErrors, Syntax) {
  EXPECT_EQ(ErrorOf("delete from t"),
            "1:1: expected SELECT (TQL or DuckDB) or SAMPLE (U-SQL) to start the query, found "
            "'delete'");
  EXPECT_EQ(ErrorOf("select a"),
            "1:8: expected '*' after SELECT (urn samples whole rows: SELECT *), found 'a'");
  EXPECT_EQ(ErrorOf("select * sample by 1 limit 5 lim 3"),
            "1:30: expected REPLACE, LIMIT, WITH WEIGHT AS or the end of the query, found "
            "'lim'");
  EXPECT_EQ(ErrorOf("select * where (a = 1\n sample by 1"),
            "2:2: expected ')' to close the '(' at 1:16, found 'sample'");
  EXPECT_EQ(ErrorOf("select * where a < b < c"),
            "1:22: comparisons do not chain: write `a < b AND b < c` instead of `a < b < c`");
  EXPECT_EQ(ErrorOf("select * where a and"),
            "1:21: expected an expression (a column, a number, a 'string', a function call or "
            "'('), found the end of the query");
  EXPECT_EQ(ErrorOf("select * where x in (1, y)"),
            "1:25: IN (...) takes constant values: numbers, 'strings', TRUE or FALSE");
  EXPECT_EQ(ErrorOf("select * where x = null"),
            "1:20: NULL is not a value here: test for it with `x IS NULL` or replace it with "
            "coalesce(x, default)");
  EXPECT_EQ(ErrorOf("select * where in = 1"),
            "1:16: expected an expression, found the keyword IN (quote a column with that "
            "name: \"in\")");
  EXPECT_EQ(ErrorOf("select * sample by max_weight()"),
            "1:31: max_weight() needs at least one `condition: weight` entry, e.g. "
            "max_weight(label == 'cat': 5, true: 1)");
  EXPECT_EQ(ErrorOf("select * where max_weight(a: 1)"),
            "1:16: max_weight(...) chooses the sampling weight; it only comes right after "
            "SAMPLE BY");
  EXPECT_EQ(ErrorOf("select * sample by a replace maybe"),
            "1:30: expected TRUE or FALSE after REPLACE, found 'maybe'");
  EXPECT_EQ(ErrorOf("select * sample by a limit -1"),
            "1:28: LIMIT takes a non-negative integer (the number of rows to return), found "
            "'-'");
  EXPECT_EQ(ErrorOf("select * where x = 10rows"),
            "1:20: malformed number '10rows'; put a space between a number and a word");
  EXPECT_EQ(ErrorOf("select * where x = 99999999999999999999"),
            "1:20: integer 99999999999999999999 is too large (the largest int64 is "
            "9223372036854775807)");
  EXPECT_EQ(ErrorOf("select * where x = 1e999"),
            "1:20: number 1e999 is out of the range of a double (about 1.8e308)");
  EXPECT_EQ(ErrorOf("select * where x = 1e-400"),
            "1:20: number 1e-400 is too small for a double (the smallest is about 4.9e-324); "
            "write 0 if that is meant");
}

TEST(QueryParserErrors, UsqlAndDuckDb) {
  EXPECT_EQ(ErrorOf("SAMPLE @data UNIFORM (1.5)"),
            "1:23: UNIFORM takes a fraction of rows in (0, 1], e.g. 0.1 for 10%; got 1.5");
  EXPECT_EQ(ErrorOf("SAMPLE @data ON ZipCode DISTINCT (0.1)"),
            "1:38: expected ',' after the fraction: DISTINCT takes (fraction, min_rows), found "
            "')'");
  EXPECT_EQ(ErrorOf("SAMPLE @data ON ZipCode SOMETIMES (0.1)"),
            "1:25: expected ',', UNIVERSE or DISTINCT after the ON columns, found 'SOMETIMES'");
  EXPECT_EQ(ErrorOf("SAMPLE @data UNIFORM (0.5) WITH WEIGHTS AS w"),
            "1:33: expected WEIGHT after WITH (WITH WEIGHT AS name), found 'WEIGHTS'");
  EXPECT_EQ(ErrorOf("select * using sample 10 rows (bernoulli)"),
            "1:32: bernoulli and system sampling keep a percentage of rows; for a fixed number "
            "of rows use reservoir (or write p%)");
  EXPECT_EQ(ErrorOf("select * using sample 150%"),
            "1:23: a sample percentage is between 0% and 100%");
  EXPECT_EQ(ErrorOf("select * using sample 2.5"),
            "1:23: a sample size in rows is a whole number; for a percentage write % or "
            "PERCENT after the number");
  EXPECT_EQ(ErrorOf("select * sample universe (0.1)"),
            "1:17: expected BY after SAMPLE in a SELECT (TQL: SAMPLE BY ...; U-SQL: SAMPLE "
            "UNIFORM (fraction) or SAMPLE ANY (rows)), found 'universe'");
  EXPECT_EQ(ErrorOf("select * sample uniform (2)"),
            "1:26: UNIFORM takes a fraction of rows in (0, 1], e.g. 0.1 for 10%; got 2");
  EXPECT_EQ(ErrorOf("select * sample any (2.5)"),
            "1:22: ANY takes a non-negative integer (the number of rows to return), found a "
            "number");
  EXPECT_EQ(ErrorOf("select * sample any (3) repeatable (1)"),
            "1:25: expected the end of the query, found 'repeatable'");
  EXPECT_EQ(ErrorOf("@r = @s"),
            "1:1: expected SELECT (TQL or DuckDB) or SAMPLE (U-SQL) to start the query, found "
            "'@r'");
  EXPECT_EQ(ErrorOf("select * using sample 5% (bernoulli, 1) repeatable (2)"),
            "1:53: the sample's seed is given twice");
}

TEST(QueryParserErrors, Limits) {
  QueryLimits limits;
  limits.max_query_bytes = 20;
  EXPECT_EQ(ErrorOf("select * where aaaaa = 'bbbbbb'", limits),
            "1:21: query is 31 bytes; the limit is 20 (QueryLimits::max_query_bytes). Shorten "
            "it: long IN lists or many conditions usually belong in a column");

  limits = QueryLimits();
  limits.max_depth = 4;
  EXPECT_EQ(ErrorOf("select * where ((((a))))", limits),
            "1:20: expression nests more than 4 levels deep (QueryLimits::max_depth); simplify "
            "it (a long chain of + or * counts one level per operator)");
  EXPECT_EQ(ErrorOf("select * where a + b + c + d + e = 1", limits),
            "1:30: expression nests more than 4 levels deep (QueryLimits::max_depth); simplify "
            "it (a long chain of + or * counts one level per operator)");
  // AND / OR chains are flat: many terms are one level.
  EXPECT_EQ(Parsed("select * where a or b or c or d or e or f or g", limits),
            "(select :where (or a b c d e f g))");

  limits = QueryLimits();
  limits.max_conditions = 2;
  EXPECT_EQ(ErrorOf("select * sample by max_weight(a: 1, b: 2, c: 3)", limits),
            "1:43: max_weight(...) has more than 2 conditions (QueryLimits::max_conditions); "
            "compute the weight into a column and write SAMPLE BY that column");

  limits = QueryLimits();
  limits.max_list_items = 3;
  EXPECT_EQ(ErrorOf("select * where x in (1, 2, 3, 4)", limits),
            "1:31: IN list has more than 3 values (QueryLimits::max_list_items)");

  limits = QueryLimits();
  limits.max_limit = 1000;
  EXPECT_EQ(ErrorOf("select * sample by w limit 1001", limits),
            "1:28: LIMIT 1001 is above the limit of 1000 (QueryLimits::max_limit)");
  EXPECT_EQ(ErrorOf("select * using sample 5000 rows", limits),
            "1:23: sample size 5000 is above the limit of 1000 rows (QueryLimits::max_limit)");

  limits = QueryLimits();
  limits.max_key_columns = 1;
  EXPECT_EQ(ErrorOf("sample on a, b universe (0.5)", limits),
            "1:14: the ON list has more than 1 columns (QueryLimits::max_key_columns)");
}

TEST(QueryParserErrors, DeepNestingIsRefusedWithoutDeepRecursion) {
  const std::string text = "select * where " + std::string(100000 / 2, '(');
  absl::StatusOr<Query> q = ParseQuery(text, QueryLimits{.max_query_bytes = 1 << 20});
  ASSERT_FALSE(q.ok());
  EXPECT_NE(std::string(q.status().message()).find("QueryLimits::max_depth"), std::string::npos);
  std::string minus = "select * where ";
  for (int i = 0; i < 30000; ++i) minus += "- ";
  minus += "x";
  q = ParseQuery(minus, QueryLimits{.max_query_bytes = 1 << 20});
  ASSERT_FALSE(q.ok());
  EXPECT_NE(std::string(q.status().message()).find("QueryLimits::max_depth"), std::string::npos);
}

TEST(QueryErrorFormat, WindowsLongLinesAndHandlesStatusesWithoutLocation) {
  EXPECT_EQ(FormatError("x", absl::InvalidArgumentError("data row 3: bad")), "data row 3: bad");
  const std::string text = "select * where " + std::string(200, 'a') + " = #";
  absl::StatusOr<Query> q = ParseQuery(text);
  ASSERT_FALSE(q.ok());
  const std::string rendered = FormatError(text, q.status());
  EXPECT_EQ(rendered.substr(0, 6), "1:219:");
  const size_t second = rendered.find('\n');
  const size_t third = rendered.find('\n', second + 1);
  const std::string shown = rendered.substr(second + 3, third - second - 3);
  const std::string carets = rendered.substr(third + 3);
  EXPECT_EQ(shown.substr(0, 3), "...");
  EXPECT_EQ(shown[carets.size() - 1], '#');
  EXPECT_EQ(carets.back(), '^');
}

}  // namespace
}  // namespace urn::query
