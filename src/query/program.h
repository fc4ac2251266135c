// Program: a compiled, vectorized form of a query's expressions (its WHERE filter and its
// sampling weight), evaluated over a Table block by block.
//
// The planner (planner.h) type-checks the AST and emits instructions through ProgramBuilder.
// Each instruction reads and writes typed registers that hold one block of up to kBlockRows
// rows: int64 / double / bool (one byte) / string (string_view) arrays plus a validity byte
// array for values that may be null. Evaluating a block runs every instruction once over the
// block in tight loops the compiler vectorizes; there is no per-row dispatch and no variant.
// Column loads of numbers point straight at the column's arrays. `string_column == 'const'`
// compares a per-row 8-byte prefix and the length (loaded once per block and shared by every
// comparison on that column) before touching the bytes.
//
// Null semantics (SQL's): an operator or function with a null input gives null, except
// AND / OR (false AND null = false, true OR null = true), IS [NOT] NULL and coalesce. A null
// filter drops the row; a null weight is 0. Arithmetic that overflows int64, x / 0, x % 0 and
// ln(x <= 0) give null. `/` always divides as doubles.
//
// Weights: a weight that is negative, NaN or infinite where it is used is an InvalidArgument
// naming the row (constant weights are checked by the planner instead).
//
// Cost per row: a few cycles per instruction. Memory: one block per register per call.
// Thread safety: a Program is immutable; Evaluate may run concurrently on disjoint rows.
#ifndef URN_QUERY_PROGRAM_H_
#define URN_QUERY_PROGRAM_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "query/ast.h"
#include "table/table.h"

namespace urn::query {

// The type of a value inside a program (table::Type without null: nullness is per value).
enum class ValueKind { kBool, kInt64, kDouble, kString, kStringList };
const char* ValueKindName(ValueKind kind);

// A register as the builder hands it out.
struct Reg {
  int index = -1;
  ValueKind kind = ValueKind::kBool;
  bool nullable = false;
  bool constant = false;
};

enum class Function { kContains, kLower, kUpper, kLength, kAbs, kLn, kExp, kCoalesce };

class Program {
 public:
  static constexpr int kBlockRows = 1024;

  Program();
  ~Program();
  Program(const Program&) = delete;
  Program& operator=(const Program&) = delete;

  // Evaluates rows [begin, end) of `table` (which must have the schema the program was built
  // for). pass[i] (if not null) is 1 iff row begin + i passes the filter (every row when there
  // is none); weights[i] (if not null) is its weight, 0 where the filter fails. Adds the
  // number of passing rows to *passed. Sets up its registers on every call and evaluates every
  // row; ProgramRunner is the fast path for many calls on one table.
  absl::Status Evaluate(const table::Table& table, int64_t begin, int64_t end, uint8_t* pass,
                        double* weights, int64_t* passed) const;

  bool has_filter() const { return filter_ >= 0; }
  bool has_weight() const { return weight_ >= 0; }

  // The columns the program reads, ascending.
  const std::vector<int>& input_columns() const { return input_columns_; }

  // Bytes of the registers each evaluating thread allocates (a block of kBlockRows rows per
  // register), not counting the strings lower() / upper() produce.
  int64_t ScratchBytes() const;

  // One line per instruction, for EXPLAIN and tests.
  std::string ToString() const;

 private:
  friend class ProgramBuilder;
  friend class ProgramRunner;
  struct Instruction;
  struct RegisterInfo;
  struct Scratch;
  void Execute(const Instruction& ins, const table::Column* const* columns, int64_t begin, int n,
               Scratch& s) const;
  // Runs the program on rows [begin, begin + n) of `columns` (indexed like the table; only
  // input columns are read), n <= kBlockRows: pass[r] for every row, and weights[r] (if not
  // null) masked by the filter but not checked. Returns the number of rows that pass.
  int64_t RunBlock(const table::Column* const* columns, int64_t begin, int n, Scratch& s,
                   uint8_t* pass, double* weights) const;

  std::vector<Instruction> code_;
  std::vector<RegisterInfo> registers_;
  std::vector<int> input_columns_;
  int filter_ = -1;  // bool register, or -1
  int weight_ = -1;  // double register, or -1
  bool check_weight_ = true;
  std::vector<std::string> case_names_;  // of SetWeightCases, for errors
};

// A program bound to one table for a run, evaluated by any number of threads, each through
// its own Cursor (its block registers, set up once).
//
// Dictionary shortcut: when every column the program reads is one string or list column with a
// dictionary (table::Table::BuildDictionaries) of at most rows / kMinRowsPerEntry values, the
// constructor evaluates the program once per distinct value, and a cursor then gathers each
// row's filter and weight by its code: ~1 ns per row however complex the expression (a
// `max_weight` of six string comparisons costs ~6 ns per row evaluated). Results and errors are
// the same as evaluating every row (a value whose case weight is invalid turns the shortcut
// off, so that the error names the row).
// Cost of construction: the program over the dictionary's values. Thread safety: immutable
// after construction; a Cursor belongs to one thread.
class ProgramRunner {
 public:
  static constexpr int64_t kMinRowsPerEntry = 8;

  // `program` and `table` must outlive the runner; the table has the program's schema.
  ProgramRunner(const Program& program, const table::Table& table, bool use_dictionary = true);
  ~ProgramRunner();
  ProgramRunner(const ProgramRunner&) = delete;
  ProgramRunner& operator=(const ProgramRunner&) = delete;

  bool uses_dictionary() const { return codes_ != nullptr; }

  class Cursor {
   public:
    ~Cursor();
    Cursor(Cursor&&) noexcept;
    // As Program::Evaluate on the runner's table.
    absl::Status Evaluate(int64_t begin, int64_t end, uint8_t* pass, double* weights,
                          int64_t* passed);

   private:
    friend class ProgramRunner;
    explicit Cursor(const ProgramRunner& runner);
    const ProgramRunner* runner_;
    std::unique_ptr<Program::Scratch> scratch_;  // null when gathering from the dictionary
    std::vector<uint8_t> local_pass_;
  };
  Cursor NewCursor() const;

 private:
  const Program& program_;
  std::vector<const table::Column*> columns_;
  // The shortcut: each row's code, and per code the filter and the masked weight.
  const table::StringDictionary::Code* codes_ = nullptr;
  std::vector<uint8_t> code_pass_;
  std::vector<double> code_weights_;
  bool every_code_passes_ = false;   // no row is filtered out
  bool code_weights_valid_ = false;  // no row needs its weight checked
};

// Emits a Program. Every method takes registers of the kinds its comment says (the planner
// has checked them) and returns the result register.
class ProgramBuilder {
 public:
  ProgramBuilder();
  ~ProgramBuilder();

  // A column's values. Loading one column twice returns the same register.
  Reg Column(int column, table::Type type);
  Reg Constant(const Literal& value);
  Reg ToDouble(Reg int_reg);
  // + - * % on two int64 or two double registers; / on two doubles.
  Reg Arithmetic(BinaryOp op, Reg a, Reg b);
  Reg Negate(Reg a);
  // A comparison of two registers of one kind (bool, int64, double or string).
  Reg Compare(BinaryOp op, Reg a, Reg b);
  // string column ==/!= constant, via the column's prefix keys (loaded once per block for all
  // comparisons on that column). REQUIRES: op is kEq or kNe; the column is a string column.
  Reg CompareStringColumn(BinaryOp op, int column, const std::string& value);
  Reg Not(Reg a);
  Reg Logical(bool is_or, const std::vector<Reg>& args);
  Reg IsNull(Reg a, bool negated);
  // value [NOT] IN (items); items are literals already checked against value's kind (numbers
  // may mix int and double).
  Reg In(Reg value, const std::vector<const Literal*>& items, bool negated);
  // contains / lower / upper / length / abs / ln / exp / coalesce.
  Reg Call(Function f, const std::vector<Reg>& args, ValueKind result);

  // The filter (a bool register).
  void SetFilter(Reg filter);
  // Weight as an expression (a double register). check: verify >= 0 and finite per row.
  void SetWeight(Reg weight);
  // Weight as max_weight / sum_weight over (condition, weight) pairs (bool, double).
  // constant_weights: every weight is a constant the planner checked, so rows need no check.
  // names[i] says which entry case i is in an error about its weight (say "max_weight entry 2,
  // `label == 'x': w`").
  void SetWeightCases(bool sum, const std::vector<std::pair<Reg, Reg>>& cases,
                      bool constant_weights, std::vector<std::string> names);

  std::unique_ptr<Program> Build();

 private:
  Reg NewRegister(ValueKind kind, bool nullable);
  Reg Emit(Program::Instruction ins, ValueKind kind, bool nullable);
  std::unique_ptr<Program> program_;
  // Constants by (kind, bits of the value, text): an equal literal reuses its register.
  std::map<std::tuple<int, uint64_t, std::string>, int> constants_;
  std::vector<int> column_registers_;  // by column index, or -1
  std::vector<int> key_registers_;     // prefix-key register by column index, or -1
};

}  // namespace urn::query

#endif  // URN_QUERY_PROGRAM_H_
