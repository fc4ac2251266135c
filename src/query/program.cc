#include "query/program.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <functional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace urn::query {

const char* ValueKindName(ValueKind kind) {
  switch (kind) {
    case ValueKind::kBool:
      return "bool";
    case ValueKind::kInt64:
      return "int64";
    case ValueKind::kDouble:
      return "double";
    case ValueKind::kString:
      return "string";
    case ValueKind::kStringList:
      return "list<string>";
  }
  return "?";
}

namespace {

enum class Op {
  kLoadInt,
  kLoadDouble,
  kLoadBool,
  kLoadString,
  kLoadList,
  kStringKeys,
  kConst,
  kToDouble,
  kArith,
  kNegate,
  kCompare,
  kCompareKey,
  kNot,
  kAnd,
  kOr,
  kIsNull,
  kInInt,
  kInDouble,
  kInString,
  kInBool,
  kCall,
  kWeightCases,
};

const char* OpName(Op op) {
  static constexpr const char* kNames[] = {
      "load_int",  "load_double", "load_bool", "load_string", "load_list", "string_keys",
      "const",     "to_double",   "arith",     "negate",      "compare",   "compare_key",
      "not",       "and",         "or",        "is_null",     "in_int",    "in_double",
      "in_string", "in_bool",     "call",      "weight_cases"};
  return kNames[static_cast<int>(op)];
}

struct InSet {
  absl::flat_hash_set<int64_t> ints;
  std::vector<double> doubles;  // sorted
  absl::flat_hash_set<std::string> strings;
  bool has_true = false, has_false = false;
};

// The low `len` bytes (at most 8) of p as an integer, the rest zero. Reads 8 bytes when they
// are inside [p, end).
inline uint64_t PrefixKey(const char* p, size_t len, const char* end) {
  uint64_t k = 0;
  if (len >= 8) {
    std::memcpy(&k, p, 8);
    return k;
  }
  if (end - p >= 8) {
    std::memcpy(&k, p, 8);
    return len == 0 ? 0 : k & (~uint64_t{0} >> (64 - 8 * len));
  }
  if (len > 0) std::memcpy(&k, p, len);
  return k;
}

inline bool IsContinuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

}  // namespace

namespace {

// One register's block of values.
struct Slot {
  const int64_t* i = nullptr;
  const double* d = nullptr;
  const uint8_t* b = nullptr;
  const std::string_view* s = nullptr;
  const uint8_t* valid = nullptr;  // null: every value is present
  std::vector<int64_t> ibuf;
  std::vector<double> dbuf;
  std::vector<uint8_t> bbuf;
  std::vector<std::string_view> sbuf;
  std::vector<uint8_t> vbuf;
  std::vector<uint64_t> key;
  std::vector<uint32_t> len;
  std::string arena;
  int column = -1;
};

}  // namespace

struct Program::Instruction {
  Op op = Op::kConst;
  int dst = -1;
  std::vector<int> args;
  int column = -1;
  BinaryOp binop = BinaryOp::kEq;
  Function function = Function::kContains;
  ValueKind kind = ValueKind::kBool;  // operand kind (compare, arith, coalesce)
  bool flag = false;                  // negated (compare_key, is_null, in), sum (weight_cases)
  std::string text;                   // compare_key: the constant
  uint64_t key = 0;                   // compare_key: its prefix key
  std::shared_ptr<const InSet> set;
};

struct Program::RegisterInfo {
  ValueKind kind = ValueKind::kBool;
  bool nullable = false;
  bool constant = false;
  bool keys = false;  // a prefix-key register (key8 + len)
  Literal value;      // constant registers
};

// One thread's registers for one block.
struct Program::Scratch {
  std::vector<Slot> slots;
  int64_t bad_row = -1;  // first row with an invalid weight
  double bad_value = 0;

  explicit Scratch(const std::vector<RegisterInfo>& regs) : slots(regs.size()) {
    constexpr int n = kBlockRows;
    for (size_t r = 0; r < regs.size(); ++r) {
      const RegisterInfo& info = regs[r];
      Slot& s = slots[r];
      if (info.keys) {
        s.key.resize(n);
        s.len.resize(n);
        continue;
      }
      switch (info.kind) {
        case ValueKind::kBool:
          s.bbuf.assign(n, info.value.bool_value);
          s.b = s.bbuf.data();
          break;
        case ValueKind::kInt64:
          s.ibuf.assign(n, info.value.int_value);
          s.i = s.ibuf.data();
          break;
        case ValueKind::kDouble:
          s.dbuf.assign(n, info.value.double_value);
          s.d = s.dbuf.data();
          break;
        case ValueKind::kString:
          s.sbuf.assign(n, std::string_view(info.value.string_value));
          s.s = s.sbuf.data();
          break;
        case ValueKind::kStringList:
          break;
      }
      if (info.nullable) s.vbuf.resize(n);
    }
  }
};

namespace {

// dst.valid = a.valid AND b.valid (null when both are all-valid).
void CombineValid(Slot& dst, const Slot& a, const Slot* b, int n) {
  const uint8_t* av = a.valid;
  const uint8_t* bv = b != nullptr ? b->valid : nullptr;
  if (av == nullptr && bv == nullptr) {
    dst.valid = nullptr;
  } else if (bv == nullptr || av == nullptr) {
    dst.valid = av != nullptr ? av : bv;
  } else {
    uint8_t* v = dst.vbuf.data();
    for (int r = 0; r < n; ++r) v[r] = av[r] & bv[r];
    dst.valid = v;
  }
}

// Makes dst.valid writable, starting from a copy of `from` (or all ones).
uint8_t* OwnValid(Slot& dst, const uint8_t* from, int n) {
  uint8_t* v = dst.vbuf.data();
  if (from == nullptr) {
    std::memset(v, 1, n);
  } else if (from != v) {
    std::memcpy(v, from, n);
  }
  dst.valid = v;
  return v;
}

template <typename T, typename F>
void CompareLoop(const T* a, const T* b, uint8_t* out, int n, F f) {
  for (int r = 0; r < n; ++r) out[r] = f(a[r], b[r]);
}

template <typename T>
void CompareAll(BinaryOp op, const T* a, const T* b, uint8_t* out, int n) {
  switch (op) {
    case BinaryOp::kEq:
      CompareLoop(a, b, out, n, std::equal_to<T>());
      break;
    case BinaryOp::kNe:
      CompareLoop(a, b, out, n, std::not_equal_to<T>());
      break;
    case BinaryOp::kLt:
      CompareLoop(a, b, out, n, std::less<T>());
      break;
    case BinaryOp::kLe:
      CompareLoop(a, b, out, n, std::less_equal<T>());
      break;
    case BinaryOp::kGt:
      CompareLoop(a, b, out, n, std::greater<T>());
      break;
    case BinaryOp::kGe:
      CompareLoop(a, b, out, n, std::greater_equal<T>());
      break;
    default:
      break;
  }
}

void LoadValid(const table::Column& col, int64_t begin, int n, Slot& s) {
  if (!col.has_nulls()) {
    s.valid = nullptr;
    return;
  }
  uint8_t* v = s.vbuf.data();
  for (int r = 0; r < n; ++r) v[r] = !col.IsNull(begin + r);
  s.valid = v;
}

}  // namespace

void Program::Execute(const Instruction& ins, const table::Table& table, int64_t begin, int n,
                      Scratch& sc) const {
  Slot& d = sc.slots[ins.dst];
  auto arg = [&](size_t k) -> Slot& { return sc.slots[ins.args[k]]; };
  switch (ins.op) {
    case Op::kConst:
      return;
    case Op::kLoadInt: {
      const table::Column& col = table.column(ins.column);
      d.i = col.Int64Data() + begin;
      LoadValid(col, begin, n, d);
      return;
    }
    case Op::kLoadDouble: {
      const table::Column& col = table.column(ins.column);
      d.d = col.DoubleData() + begin;
      LoadValid(col, begin, n, d);
      return;
    }
    case Op::kLoadBool: {
      const table::Column& col = table.column(ins.column);
      d.b = col.BoolData() + begin;
      LoadValid(col, begin, n, d);
      return;
    }
    case Op::kLoadString: {
      const table::Column& col = table.column(ins.column);
      for (int r = 0; r < n; ++r) d.sbuf[r] = col.StringAt(begin + r);
      d.s = d.sbuf.data();
      LoadValid(col, begin, n, d);
      return;
    }
    case Op::kLoadList:
      d.column = ins.column;
      LoadValid(table.column(ins.column), begin, n, d);
      return;
    case Op::kStringKeys: {
      const table::Column& col = table.column(ins.column);
      const std::string_view last = col.StringAt(col.size() - 1);
      const char* end = last.data() + last.size();
      const std::string_view* s = arg(0).s;
      for (int r = 0; r < n; ++r) {
        d.len[r] = static_cast<uint32_t>(s[r].size());
        d.key[r] = PrefixKey(s[r].data(), s[r].size(), end);
      }
      return;
    }
    case Op::kCompareKey: {
      const Slot& keys = arg(0);
      const Slot& str = arg(1);
      const auto want_len = static_cast<uint32_t>(ins.text.size());
      const uint64_t want_key = ins.key;
      const uint8_t neg = ins.flag;
      for (int r = 0; r < n; ++r) {
        d.bbuf[r] = (keys.len[r] == want_len) & (keys.key[r] == want_key);
      }
      if (want_len > 8) {
        for (int r = 0; r < n; ++r) {
          if (d.bbuf[r])
            d.bbuf[r] = std::memcmp(str.s[r].data() + 8, ins.text.data() + 8, want_len - 8) == 0;
        }
      }
      if (neg) {
        for (int r = 0; r < n; ++r) d.bbuf[r] ^= 1;
      }
      d.b = d.bbuf.data();
      d.valid = str.valid;
      return;
    }
    case Op::kToDouble: {
      const Slot& a = arg(0);
      for (int r = 0; r < n; ++r) d.dbuf[r] = static_cast<double>(a.i[r]);
      d.d = d.dbuf.data();
      d.valid = a.valid;
      return;
    }
    case Op::kArith: {
      const Slot& a = arg(0);
      const Slot& b = arg(1);
      if (ins.kind == ValueKind::kDouble) {
        double* out = d.dbuf.data();
        const double* x = a.d;
        const double* y = b.d;
        switch (ins.binop) {
          case BinaryOp::kAdd:
            for (int r = 0; r < n; ++r) out[r] = x[r] + y[r];
            break;
          case BinaryOp::kSub:
            for (int r = 0; r < n; ++r) out[r] = x[r] - y[r];
            break;
          case BinaryOp::kMul:
            for (int r = 0; r < n; ++r) out[r] = x[r] * y[r];
            break;
          case BinaryOp::kDiv:
          case BinaryOp::kMod: {
            CombineValid(d, a, &b, n);
            uint8_t* v = OwnValid(d, d.valid, n);
            for (int r = 0; r < n; ++r) {
              const bool zero = y[r] == 0;
              v[r] &= !zero;
              const double den = zero ? 1.0 : y[r];
              out[r] = ins.binop == BinaryOp::kDiv ? x[r] / den : std::fmod(x[r], den);
            }
            d.d = out;
            return;
          }
          default:
            break;
        }
        d.d = out;
        CombineValid(d, a, &b, n);
        return;
      }
      int64_t* out = d.ibuf.data();
      const int64_t* x = a.i;
      const int64_t* y = b.i;
      CombineValid(d, a, &b, n);
      uint8_t* v = OwnValid(d, d.valid, n);
      for (int r = 0; r < n; ++r) {
        int64_t z = 0;
        bool bad = false;
        switch (ins.binop) {
          case BinaryOp::kAdd:
            bad = __builtin_add_overflow(x[r], y[r], &z);
            break;
          case BinaryOp::kSub:
            bad = __builtin_sub_overflow(x[r], y[r], &z);
            break;
          case BinaryOp::kMul:
            bad = __builtin_mul_overflow(x[r], y[r], &z);
            break;
          case BinaryOp::kMod:
            bad = y[r] == 0;
            z = (bad || y[r] == -1) ? 0 : x[r] % y[r];
            break;
          default:
            break;
        }
        out[r] = z;
        v[r] &= !bad;
      }
      d.i = out;
      return;
    }
    case Op::kNegate: {
      const Slot& a = arg(0);
      if (ins.kind == ValueKind::kDouble) {
        for (int r = 0; r < n; ++r) d.dbuf[r] = -a.d[r];
        d.d = d.dbuf.data();
        d.valid = a.valid;
        return;
      }
      uint8_t* v = OwnValid(d, a.valid, n);
      for (int r = 0; r < n; ++r) {
        const bool bad = a.i[r] == INT64_MIN;
        v[r] &= !bad;
        d.ibuf[r] = bad ? 0 : -a.i[r];
      }
      d.i = d.ibuf.data();
      return;
    }
    case Op::kCompare: {
      const Slot& a = arg(0);
      const Slot& b = arg(1);
      uint8_t* out = d.bbuf.data();
      switch (ins.kind) {
        case ValueKind::kInt64:
          CompareAll(ins.binop, a.i, b.i, out, n);
          break;
        case ValueKind::kDouble:
          CompareAll(ins.binop, a.d, b.d, out, n);
          break;
        case ValueKind::kBool:
          CompareAll(ins.binop, a.b, b.b, out, n);
          break;
        case ValueKind::kString:
          CompareAll(ins.binop, a.s, b.s, out, n);
          break;
        case ValueKind::kStringList:
          break;
      }
      d.b = out;
      CombineValid(d, a, &b, n);
      return;
    }
    case Op::kNot: {
      const Slot& a = arg(0);
      for (int r = 0; r < n; ++r) d.bbuf[r] = !a.b[r];
      d.b = d.bbuf.data();
      d.valid = a.valid;
      return;
    }
    case Op::kAnd:
    case Op::kOr: {
      // decided: some argument is (valid and false) for AND / (valid and true) for OR.
      const bool is_or = ins.op == Op::kOr;
      uint8_t* decided = d.bbuf.data();
      std::memset(decided, 0, n);
      bool any_null = false;
      for (size_t k = 0; k < ins.args.size(); ++k) {
        const Slot& a = arg(k);
        if (a.valid == nullptr) {
          for (int r = 0; r < n; ++r) decided[r] |= a.b[r] ^ !is_or;
        } else {
          any_null = true;
          for (int r = 0; r < n; ++r) decided[r] |= a.valid[r] & (a.b[r] ^ !is_or);
        }
      }
      if (any_null) {
        uint8_t* v = OwnValid(d, nullptr, n);
        for (size_t k = 0; k < ins.args.size(); ++k) {
          const Slot& a = arg(k);
          if (a.valid != nullptr) {
            for (int r = 0; r < n; ++r) v[r] &= a.valid[r];
          }
        }
        for (int r = 0; r < n; ++r) v[r] |= decided[r];
      } else {
        d.valid = nullptr;
      }
      if (!is_or) {
        for (int r = 0; r < n; ++r) decided[r] ^= 1;  // AND is true where nothing was false
      }
      d.b = decided;
      return;
    }
    case Op::kIsNull: {
      const Slot& a = arg(0);
      const uint8_t neg = ins.flag;
      for (int r = 0; r < n; ++r) d.bbuf[r] = (a.valid == nullptr ? 0 : !a.valid[r]) ^ neg;
      d.b = d.bbuf.data();
      d.valid = nullptr;
      return;
    }
    case Op::kInInt:
    case Op::kInDouble:
    case Op::kInString:
    case Op::kInBool: {
      const Slot& a = arg(0);
      const InSet& set = *ins.set;
      const uint8_t neg = ins.flag;
      uint8_t* out = d.bbuf.data();
      for (int r = 0; r < n; ++r) {
        bool hit = false;
        switch (ins.op) {
          case Op::kInInt:
            hit = set.ints.contains(a.i[r]);
            break;
          case Op::kInDouble:
            hit = std::binary_search(set.doubles.begin(), set.doubles.end(), a.d[r]);
            break;
          case Op::kInString:
            hit = set.strings.contains(absl::string_view(a.s[r].data(), a.s[r].size()));
            break;
          default:
            hit = a.b[r] ? set.has_true : set.has_false;
            break;
        }
        out[r] = hit ^ neg;
      }
      d.b = out;
      d.valid = a.valid;
      return;
    }
    case Op::kCall:
      break;
    case Op::kWeightCases: {
      double* acc = d.dbuf.data();
      std::memset(acc, 0, sizeof(double) * n);
      const bool sum = ins.flag;
      for (size_t k = 0; k + 1 < ins.args.size(); k += 2) {
        const Slot& c = arg(k);
        const Slot& w = arg(k + 1);
        uint8_t bad = 0;
        for (int r = 0; r < n; ++r) {
          const uint8_t on = c.b[r] & (c.valid == nullptr ? 1 : c.valid[r]) &
                             (w.valid == nullptr ? 1 : w.valid[r]);
          const double x = on ? w.d[r] : 0.0;
          bad |= on & !(x >= 0 && x <= DBL_MAX);
          acc[r] = sum ? acc[r] + x : std::max(acc[r], x);
        }
        if (bad && ins.key != 0) {  // key != 0: weights need checking
          for (int r = 0; r < n; ++r) {
            const bool on =
                c.b[r] && (c.valid == nullptr || c.valid[r]) && (w.valid == nullptr || w.valid[r]);
            if (on && !(w.d[r] >= 0 && w.d[r] <= DBL_MAX)) {
              if (sc.bad_row < 0 || begin + r < sc.bad_row) {
                sc.bad_row = begin + r;
                sc.bad_value = w.d[r];
              }
              break;
            }
          }
        }
      }
      d.d = acc;
      d.valid = nullptr;
      return;
    }
  }

  // Function calls.
  switch (ins.function) {
    case Function::kContains: {
      const Slot& hay = arg(0);
      const Slot& needle = arg(1);
      CombineValid(d, hay, &needle, n);
      uint8_t* out = d.bbuf.data();
      if (hay.column >= 0 && ins.kind == ValueKind::kStringList) {
        const table::Column& col = table.column(hay.column);
        for (int r = 0; r < n; ++r) {
          const std::string_view x = needle.s[r];
          const int64_t count = col.ListSize(begin + r);
          bool hit = false;
          for (int64_t e = 0; e < count && !hit; ++e) hit = col.ListElement(begin + r, e) == x;
          out[r] = hit;
        }
      } else {
        for (int r = 0; r < n; ++r) out[r] = hay.s[r].find(needle.s[r]) != std::string_view::npos;
      }
      d.b = out;
      return;
    }
    case Function::kLower:
    case Function::kUpper: {
      const Slot& a = arg(0);
      size_t total = 0;
      for (int r = 0; r < n; ++r) total += a.s[r].size();
      d.arena.resize(total);
      size_t at = 0;
      const bool upper = ins.function == Function::kUpper;
      for (int r = 0; r < n; ++r) {
        const std::string_view x = a.s[r];
        for (size_t i = 0; i < x.size(); ++i) {
          char ch = x[i];
          if (upper && ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - 'a' + 'A');
          if (!upper && ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
          d.arena[at + i] = ch;
        }
        d.sbuf[r] = std::string_view(d.arena.data() + at, x.size());
        at += x.size();
      }
      d.s = d.sbuf.data();
      d.valid = a.valid;
      return;
    }
    case Function::kLength: {
      const Slot& a = arg(0);
      if (a.column >= 0 && ins.kind == ValueKind::kStringList) {
        const table::Column& col = table.column(a.column);
        for (int r = 0; r < n; ++r) d.ibuf[r] = col.ListSize(begin + r);
      } else {
        for (int r = 0; r < n; ++r) {
          int64_t chars = 0;
          for (char ch : a.s[r]) chars += !IsContinuation(ch);
          d.ibuf[r] = chars;
        }
      }
      d.i = d.ibuf.data();
      d.valid = a.valid;
      return;
    }
    case Function::kAbs: {
      const Slot& a = arg(0);
      if (ins.kind == ValueKind::kDouble) {
        for (int r = 0; r < n; ++r) d.dbuf[r] = std::fabs(a.d[r]);
        d.d = d.dbuf.data();
        d.valid = a.valid;
        return;
      }
      uint8_t* v = OwnValid(d, a.valid, n);
      for (int r = 0; r < n; ++r) {
        const bool bad = a.i[r] == INT64_MIN;
        v[r] &= !bad;
        d.ibuf[r] = bad ? 0 : (a.i[r] < 0 ? -a.i[r] : a.i[r]);
      }
      d.i = d.ibuf.data();
      return;
    }
    case Function::kLn:
    case Function::kExp: {
      const Slot& a = arg(0);
      if (ins.function == Function::kExp) {
        for (int r = 0; r < n; ++r) d.dbuf[r] = std::exp(a.d[r]);
        d.valid = a.valid;
      } else {
        uint8_t* v = OwnValid(d, a.valid, n);
        for (int r = 0; r < n; ++r) {
          const bool ok = a.d[r] > 0;
          v[r] &= ok;
          d.dbuf[r] = ok ? std::log(a.d[r]) : 0.0;
        }
      }
      d.d = d.dbuf.data();
      return;
    }
    case Function::kCoalesce: {
      uint8_t* v = OwnValid(d, nullptr, n);
      std::memset(v, 0, n);
      for (size_t k = 0; k < ins.args.size(); ++k) {
        const Slot& a = arg(k);
        for (int r = 0; r < n; ++r) {
          if (v[r] || (a.valid != nullptr && !a.valid[r])) continue;
          v[r] = 1;
          switch (ins.kind) {
            case ValueKind::kBool:
              d.bbuf[r] = a.b[r];
              break;
            case ValueKind::kInt64:
              d.ibuf[r] = a.i[r];
              break;
            case ValueKind::kDouble:
              d.dbuf[r] = a.d[r];
              break;
            case ValueKind::kString:
              d.sbuf[r] = a.s[r];
              break;
            case ValueKind::kStringList:
              break;
          }
        }
      }
      for (int r = 0; r < n; ++r) {
        if (v[r]) continue;  // keep the arrays defined where the result is null
        switch (ins.kind) {
          case ValueKind::kBool:
            d.bbuf[r] = 0;
            break;
          case ValueKind::kInt64:
            d.ibuf[r] = 0;
            break;
          case ValueKind::kDouble:
            d.dbuf[r] = 0;
            break;
          case ValueKind::kString:
            d.sbuf[r] = std::string_view();
            break;
          case ValueKind::kStringList:
            break;
        }
      }
      d.b = d.bbuf.data();
      d.i = d.ibuf.data();
      d.d = d.dbuf.data();
      d.s = d.sbuf.data();
      return;
    }
  }
}

absl::Status Program::Evaluate(const table::Table& table, int64_t begin, int64_t end, uint8_t* pass,
                               double* weights, int64_t* passed) const {
  Scratch sc(registers_);
  std::vector<uint8_t> local_pass;
  if (pass == nullptr && weights != nullptr) local_pass.resize(kBlockRows);
  int64_t count = 0;
  for (int64_t block = begin; block < end; block += kBlockRows) {
    const int n = static_cast<int>(std::min<int64_t>(kBlockRows, end - block));
    for (const Instruction& ins : code_) Execute(ins, table, block, n, sc);
    uint8_t* p = pass != nullptr ? pass + (block - begin) : local_pass.data();
    if (p != nullptr) {
      if (filter_ >= 0) {
        const Slot& f = sc.slots[filter_];
        if (f.valid == nullptr) {
          for (int r = 0; r < n; ++r) p[r] = f.b[r];
        } else {
          for (int r = 0; r < n; ++r) p[r] = f.b[r] & f.valid[r];
        }
      } else {
        std::memset(p, 1, n);
      }
      for (int r = 0; r < n; ++r) count += p[r];
    } else {
      count += n;
    }
    if (weights != nullptr) {
      const Slot& w = sc.slots[weight_];
      double* out = weights + (block - begin);
      uint8_t bad = 0;
      for (int r = 0; r < n; ++r) {
        const bool on = p[r] && (w.valid == nullptr || w.valid[r]);
        const double x = on ? w.d[r] : 0.0;
        bad |= !(x >= 0 && x <= DBL_MAX);
        out[r] = x;
      }
      if (bad) {
        for (int r = 0; r < n; ++r) {
          if (!(out[r] >= 0 && out[r] <= DBL_MAX)) {
            if (sc.bad_row < 0 || block + r < sc.bad_row) {
              sc.bad_row = block + r;
              sc.bad_value = out[r];
            }
            break;
          }
        }
      }
    }
    if (sc.bad_row >= 0) {
      return absl::InvalidArgumentError(absl::StrCat("data row ", sc.bad_row + 1,
                                                     ": the sampling weight is ", sc.bad_value,
                                                     "; weights must be finite and >= 0"));
    }
  }
  *passed += count;
  return absl::OkStatus();
}

std::string Program::ToString() const {
  std::string out;
  for (const Instruction& ins : code_) {
    absl::StrAppend(&out, "r", ins.dst, " = ", OpName(ins.op));
    if (ins.op == Op::kArith || ins.op == Op::kCompare)
      absl::StrAppend(&out, " ", BinaryOpName(ins.binop));
    if (ins.column >= 0) absl::StrAppend(&out, " col", ins.column);
    for (int a : ins.args) absl::StrAppend(&out, " r", a);
    if (ins.op == Op::kCompareKey)
      absl::StrAppend(&out, ins.flag ? " != '" : " == '", ins.text, "'");
    absl::StrAppend(&out, "\n");
  }
  if (filter_ >= 0) absl::StrAppend(&out, "filter r", filter_, "\n");
  if (weight_ >= 0) absl::StrAppend(&out, "weight r", weight_, "\n");
  return out;
}

// --- builder ------------------------------------------------------------------------------

Program::Program() = default;
Program::~Program() = default;

ProgramBuilder::ProgramBuilder() : program_(new Program) {}
ProgramBuilder::~ProgramBuilder() = default;

Reg ProgramBuilder::NewRegister(ValueKind kind, bool nullable) {
  Program::RegisterInfo info;
  info.kind = kind;
  info.nullable = nullable;
  program_->registers_.push_back(std::move(info));
  return Reg{static_cast<int>(program_->registers_.size()) - 1, kind, nullable, false};
}

Reg ProgramBuilder::Emit(Program::Instruction ins, ValueKind kind, bool nullable) {
  const Reg r = NewRegister(kind, nullable);
  ins.dst = r.index;
  program_->code_.push_back(std::move(ins));
  return r;
}

Reg ProgramBuilder::Column(int column, table::Type type) {
  if (column >= static_cast<int>(column_registers_.size()))
    column_registers_.resize(column + 1, -1);
  if (column_registers_[column] >= 0) {
    const Program::RegisterInfo& r = program_->registers_[column_registers_[column]];
    return Reg{column_registers_[column], r.kind, r.nullable, false};
  }
  Program::Instruction ins;
  ins.column = column;
  ValueKind kind = ValueKind::kString;
  switch (type) {
    case table::Type::kInt64:
      ins.op = Op::kLoadInt;
      kind = ValueKind::kInt64;
      break;
    case table::Type::kDouble:
      ins.op = Op::kLoadDouble;
      kind = ValueKind::kDouble;
      break;
    case table::Type::kBool:
      ins.op = Op::kLoadBool;
      kind = ValueKind::kBool;
      break;
    case table::Type::kStringList:
      ins.op = Op::kLoadList;
      kind = ValueKind::kStringList;
      break;
    default:
      ins.op = Op::kLoadString;
      break;
  }
  // Whether the column has nulls is only known when the program runs.
  const Reg r = Emit(std::move(ins), kind, true);
  column_registers_[column] = r.index;
  return r;
}

Reg ProgramBuilder::Constant(const Literal& value) {
  ValueKind kind = ValueKind::kBool;
  switch (value.kind) {
    case Literal::Kind::kInt:
      kind = ValueKind::kInt64;
      break;
    case Literal::Kind::kDouble:
      kind = ValueKind::kDouble;
      break;
    case Literal::Kind::kString:
      kind = ValueKind::kString;
      break;
    case Literal::Kind::kBool:
      kind = ValueKind::kBool;
      break;
  }
  Reg r = NewRegister(kind, false);
  program_->registers_[r.index].constant = true;
  program_->registers_[r.index].value = value;
  r.constant = true;
  return r;
}

Reg ProgramBuilder::ToDouble(Reg a) {
  if (a.kind == ValueKind::kDouble) return a;
  if (a.constant) {
    Literal l;
    l.kind = Literal::Kind::kDouble;
    l.double_value = static_cast<double>(program_->registers_[a.index].value.int_value);
    return Constant(l);
  }
  Program::Instruction ins;
  ins.op = Op::kToDouble;
  ins.args = {a.index};
  return Emit(std::move(ins), ValueKind::kDouble, a.nullable);
}

Reg ProgramBuilder::Arithmetic(BinaryOp op, Reg a, Reg b) {
  Program::Instruction ins;
  ins.op = Op::kArith;
  ins.binop = op;
  ins.kind = a.kind;
  ins.args = {a.index, b.index};
  const bool nullable = a.nullable || b.nullable || a.kind == ValueKind::kInt64 ||
                        op == BinaryOp::kDiv || op == BinaryOp::kMod;
  return Emit(std::move(ins), a.kind, nullable);
}

Reg ProgramBuilder::Negate(Reg a) {
  if (a.constant) {
    Literal l = program_->registers_[a.index].value;
    if (l.kind == Literal::Kind::kDouble) {
      l.double_value = -l.double_value;
      return Constant(l);
    }
    if (l.int_value != INT64_MIN) {
      l.int_value = -l.int_value;
      return Constant(l);
    }
  }
  Program::Instruction ins;
  ins.op = Op::kNegate;
  ins.kind = a.kind;
  ins.args = {a.index};
  return Emit(std::move(ins), a.kind, a.nullable || a.kind == ValueKind::kInt64);
}

Reg ProgramBuilder::Compare(BinaryOp op, Reg a, Reg b) {
  Program::Instruction ins;
  ins.op = Op::kCompare;
  ins.binop = op;
  ins.kind = a.kind;
  ins.args = {a.index, b.index};
  return Emit(std::move(ins), ValueKind::kBool, a.nullable || b.nullable);
}

Reg ProgramBuilder::CompareStringColumn(BinaryOp op, Reg column, const std::string& value) {
  if (column.index >= static_cast<int>(key_registers_.size())) {
    key_registers_.resize(column.index + 1, -1);
  }
  if (key_registers_[column.index] < 0) {
    Program::Instruction ins;
    ins.op = Op::kStringKeys;
    ins.args = {column.index};
    for (size_t c = 0; c < column_registers_.size(); ++c) {
      if (column_registers_[c] == column.index) ins.column = static_cast<int>(c);
    }
    const Reg keys = NewRegister(ValueKind::kString, false);
    program_->registers_[keys.index].keys = true;
    ins.dst = keys.index;
    program_->code_.push_back(std::move(ins));
    key_registers_[column.index] = keys.index;
  }
  Program::Instruction ins;
  ins.op = Op::kCompareKey;
  ins.args = {key_registers_[column.index], column.index};
  ins.flag = op == BinaryOp::kNe;
  ins.text = value;
  ins.key = PrefixKey(value.data(), value.size(), value.data() + value.size());
  return Emit(std::move(ins), ValueKind::kBool, column.nullable);
}

Reg ProgramBuilder::Not(Reg a) {
  Program::Instruction ins;
  ins.op = Op::kNot;
  ins.args = {a.index};
  return Emit(std::move(ins), ValueKind::kBool, a.nullable);
}

Reg ProgramBuilder::Logical(bool is_or, const std::vector<Reg>& args) {
  Program::Instruction ins;
  ins.op = is_or ? Op::kOr : Op::kAnd;
  bool nullable = false;
  for (const Reg& a : args) {
    ins.args.push_back(a.index);
    nullable |= a.nullable;
  }
  return Emit(std::move(ins), ValueKind::kBool, nullable);
}

Reg ProgramBuilder::IsNull(Reg a, bool negated) {
  Program::Instruction ins;
  ins.op = Op::kIsNull;
  ins.flag = negated;
  ins.args = {a.index};
  return Emit(std::move(ins), ValueKind::kBool, false);
}

Reg ProgramBuilder::In(Reg value, const std::vector<const Literal*>& items, bool negated) {
  auto set = std::make_shared<InSet>();
  Program::Instruction ins;
  ins.flag = negated;
  switch (value.kind) {
    case ValueKind::kInt64:
      ins.op = Op::kInInt;
      for (const Literal* l : items) {
        if (l->kind == Literal::Kind::kInt) set->ints.insert(l->int_value);
        // A non-integral double never equals an int64; an integral one does.
        if (l->kind == Literal::Kind::kDouble && std::trunc(l->double_value) == l->double_value &&
            l->double_value >= -9223372036854775808.0 && l->double_value < 9223372036854775808.0) {
          set->ints.insert(static_cast<int64_t>(l->double_value));
        }
      }
      break;
    case ValueKind::kDouble:
      ins.op = Op::kInDouble;
      for (const Literal* l : items) {
        set->doubles.push_back(l->kind == Literal::Kind::kInt ? static_cast<double>(l->int_value)
                                                              : l->double_value);
      }
      std::sort(set->doubles.begin(), set->doubles.end());
      break;
    case ValueKind::kString:
      ins.op = Op::kInString;
      for (const Literal* l : items) set->strings.insert(l->string_value);
      break;
    default:
      ins.op = Op::kInBool;
      for (const Literal* l : items) (l->bool_value ? set->has_true : set->has_false) = true;
      break;
  }
  ins.set = std::move(set);
  ins.args = {value.index};
  return Emit(std::move(ins), ValueKind::kBool, value.nullable);
}

Reg ProgramBuilder::Call(Function f, const std::vector<Reg>& args, ValueKind result) {
  Program::Instruction ins;
  ins.op = Op::kCall;
  ins.function = f;
  ins.kind = f == Function::kCoalesce ? result : args[0].kind;
  bool nullable = false;
  for (const Reg& a : args) {
    ins.args.push_back(a.index);
    nullable |= a.nullable;
  }
  if (f == Function::kCoalesce) {
    nullable = true;
    for (const Reg& a : args) nullable &= a.nullable;
  }
  if (f == Function::kLn || (f == Function::kAbs && result == ValueKind::kInt64)) nullable = true;
  return Emit(std::move(ins), result, nullable);
}

void ProgramBuilder::SetFilter(Reg filter) { program_->filter_ = filter.index; }

void ProgramBuilder::SetWeight(Reg weight) { program_->weight_ = weight.index; }

void ProgramBuilder::SetWeightCases(bool sum, const std::vector<std::pair<Reg, Reg>>& cases,
                                    bool constant_weights) {
  Program::Instruction ins;
  ins.op = Op::kWeightCases;
  ins.flag = sum;
  ins.key = constant_weights ? 0 : 1;
  for (const auto& [cond, weight] : cases) {
    ins.args.push_back(cond.index);
    ins.args.push_back(weight.index);
  }
  program_->weight_ = Emit(std::move(ins), ValueKind::kDouble, false).index;
}

std::unique_ptr<Program> ProgramBuilder::Build() {
  // Registers an instruction writes need buffers even when their value is never null.
  for (Program::RegisterInfo& info : program_->registers_) {
    if (!info.constant) info.nullable = true;
  }
  return std::move(program_);
}

}  // namespace urn::query
