#include "query/program.h"

#include <string.h>  // memmem (GNU)

#include <algorithm>
#include <bit>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <functional>
#include <type_traits>
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

static_assert(std::endian::native == std::endian::little, "StringKey assumes little-endian");

// A string's comparison key: its first min(len, 7) bytes in the low 7 bytes (the rest zero)
// and min(len, 255) in the top byte. Two strings of at most 7 bytes are equal iff their keys
// are; longer strings with equal keys still need their bytes compared. Reads 8 bytes at p when
// they lie before `end` (the end of the column's bytes), so the common case has no branch
// that depends on the data.
inline uint64_t StringKey(const char* p, size_t len, const char* end) {
  static constexpr uint64_t kLowBytes[8] = {
      0, 0xFF, 0xFFFF, 0xFFFFFF, 0xFFFFFFFF, 0xFFFFFFFFFF, 0xFFFFFFFFFFFF, 0xFFFFFFFFFFFFFF};
  uint64_t k = 0;
  if (end - p >= 8) {
    std::memcpy(&k, p, 8);
  } else {
    std::memcpy(&k, p, len < 8 ? len : 8);
  }
  k &= kLowBytes[len < 7 ? len : 7];
  return k | (static_cast<uint64_t>(len < 255 ? len : 255) << 56);
}

// Hot kernels, compiled for the baseline and for AVX2 (chosen once per process): the baseline
// (SSE2) has no 64-bit equality compare, so key comparisons only vectorize with AVX2.
#define URN_QUERY_KERNELS(ATTR, SUFFIX)                                                       \
  ATTR void CompareKeys##SUFFIX(const uint64_t* __restrict key, uint64_t want, uint8_t neg,   \
                                uint8_t* __restrict out, int n) {                             \
    for (int r = 0; r < n; ++r) out[r] = static_cast<uint8_t>((key[r] == want) ^ neg);        \
  }                                                                                           \
  ATTR void SelectMax##SUFFIX(double* __restrict acc, const uint8_t* __restrict on, double x, \
                              int n) {                                                        \
    for (int r = 0; r < n; ++r) acc[r] = std::max(acc[r], on[r] ? x : 0.0);                   \
  }                                                                                           \
  ATTR void SelectSum##SUFFIX(double* __restrict acc, const uint8_t* __restrict on, double x, \
                              int n) {                                                        \
    for (int r = 0; r < n; ++r) acc[r] += on[r] ? x : 0.0;                                    \
  }                                                                                           \
  ATTR void MaskWeights##SUFFIX(double* __restrict out, const double* __restrict w,           \
                                const uint8_t* __restrict on, int n) {                        \
    for (int r = 0; r < n; ++r) out[r] = on[r] ? w[r] : 0.0;                                  \
  }                                                                                           \
  ATTR void GatherBytes##SUFFIX(uint8_t* __restrict out, const uint8_t* __restrict table,     \
                                const uint16_t* __restrict index, int n) {                    \
    for (int r = 0; r < n; ++r) out[r] = table[index[r]];                                     \
  }                                                                                           \
  ATTR void GatherDoubles##SUFFIX(double* __restrict out, const double* __restrict table,     \
                                  const uint16_t* __restrict index, int n) {                  \
    for (int r = 0; r < n; ++r) out[r] = table[index[r]];                                     \
  }

// The gather kernels index by dictionary code.
static_assert(std::is_same_v<table::StringDictionary::Code, uint16_t>);

URN_QUERY_KERNELS(, Baseline)
#if defined(__x86_64__)
URN_QUERY_KERNELS(__attribute__((target("avx2"))), Avx2)
const bool kHaveAvx2 = __builtin_cpu_supports("avx2");
#define URN_QUERY_DISPATCH(NAME, ...) \
  (kHaveAvx2 ? NAME##Avx2(__VA_ARGS__) : NAME##Baseline(__VA_ARGS__))
#else
#define URN_QUERY_DISPATCH(NAME, ...) NAME##Baseline(__VA_ARGS__)
#endif

// The number of nonzero bytes among n <= 2^24 flags that are 0 or 1.
inline int64_t CountOnes(const uint8_t* flags, int n) {
  uint32_t count = 0;
  for (int r = 0; r < n; ++r) count += flags[r];
  return count;
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
  int64_t bad_row = -1;  // first row that passed the filter with an invalid weight
  double bad_value = 0;
  int bad_entry = -1;  // the weight case that gave it, or -1 (the weight itself)
  // The block's rows whose case weight is invalid, before the filter is known (RunBlock keeps
  // those that pass it: a row that WHERE removes is never weighed).
  bool any_bad_case = false;
  std::vector<uint32_t> bad_case = std::vector<uint32_t>(kBlockRows);  // case + 1, or 0
  std::vector<double> bad_case_value = std::vector<double>(kBlockRows);

  explicit Scratch(const std::vector<RegisterInfo>& regs) : slots(regs.size()) {
    constexpr int n = kBlockRows;
    for (size_t r = 0; r < regs.size(); ++r) {
      const RegisterInfo& info = regs[r];
      Slot& s = slots[r];
      if (info.keys) {
        s.key.resize(n);
        s.vbuf.resize(n);
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

void Program::Execute(const Instruction& ins, const table::Column* const* columns, int64_t begin,
                      int n, Scratch& sc) const {
  Slot& d = sc.slots[ins.dst];
  auto column = [columns](int c) -> const table::Column& { return *columns[c]; };
  auto arg = [&](size_t k) -> Slot& { return sc.slots[ins.args[k]]; };
  switch (ins.op) {
    case Op::kConst:
      return;
    case Op::kLoadInt: {
      const table::Column& col = column(ins.column);
      d.i = col.Int64Data() + begin;
      LoadValid(col, begin, n, d);
      return;
    }
    case Op::kLoadDouble: {
      const table::Column& col = column(ins.column);
      d.d = col.DoubleData() + begin;
      LoadValid(col, begin, n, d);
      return;
    }
    case Op::kLoadBool: {
      const table::Column& col = column(ins.column);
      d.b = col.BoolData() + begin;
      LoadValid(col, begin, n, d);
      return;
    }
    case Op::kLoadString: {
      const table::Column& col = column(ins.column);
      for (int r = 0; r < n; ++r) d.sbuf[r] = col.StringAt(begin + r);
      d.s = d.sbuf.data();
      LoadValid(col, begin, n, d);
      return;
    }
    case Op::kLoadList:
      d.column = ins.column;
      LoadValid(column(ins.column), begin, n, d);
      return;
    case Op::kStringKeys: {
      // The StringKey of each row, read straight from the column.
      const table::Column& col = column(ins.column);
      const std::string_view last = col.StringAt(col.size() - 1);
      const char* end = last.data() + last.size();
      uint64_t* __restrict key = d.key.data();
      for (int r = 0; r < n; ++r) {
        const std::string_view s = col.StringAt(begin + r);
        key[r] = StringKey(s.data(), s.size(), end);
      }
      LoadValid(col, begin, n, d);
      return;
    }
    case Op::kCompareKey: {
      const Slot& keys = arg(0);
      const uint64_t want = ins.key;
      const uint8_t neg = ins.flag;
      const uint64_t* __restrict key = keys.key.data();
      uint8_t* __restrict out = d.bbuf.data();
      URN_QUERY_DISPATCH(CompareKeys, key, want, neg, out, n);
      const size_t want_len = ins.text.size();
      if (want_len > 7) {
        // Candidates (equal keys) are rare: find them with memchr, then compare the bytes.
        const table::Column& col = column(ins.column);
        const uint8_t candidate = 1 ^ neg;
        for (auto* c = static_cast<uint8_t*>(std::memchr(out, candidate, n)); c != nullptr;
             c = static_cast<uint8_t*>(std::memchr(c + 1, candidate, out + n - (c + 1)))) {
          const std::string_view s = col.StringAt(begin + (c - out));
          const bool same = s.size() == want_len &&
                            std::memcmp(s.data() + 7, ins.text.data() + 7, want_len - 7) == 0;
          *c = static_cast<uint8_t>(same ^ neg);
          if (c + 1 == out + n) break;
        }
      }
      d.b = out;
      d.valid = keys.valid;
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
            // Integers exactly; double items as `=` compares them, the integer as a double.
            hit =
                set.ints.contains(a.i[r]) ||
                (!set.doubles.empty() && std::binary_search(set.doubles.begin(), set.doubles.end(),
                                                            static_cast<double>(a.i[r])));
            break;
          case Op::kInDouble:
            // NaN equals nothing (as `=` says); binary_search would find it anywhere.
            hit = !std::isnan(a.d[r]) &&
                  std::binary_search(set.doubles.begin(), set.doubles.end(), a.d[r]);
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
        const bool constant = registers_[ins.args[k + 1]].constant;
        if (constant && c.valid == nullptr) {
          // The common case (max_weight(label == 'x': 20, ...)): a vectorized select.
          if (sum) {
            URN_QUERY_DISPATCH(SelectSum, acc, c.b, w.d[0], n);
          } else {
            URN_QUERY_DISPATCH(SelectMax, acc, c.b, w.d[0], n);
          }
          continue;
        }
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
            if (on && !(w.d[r] >= 0 && w.d[r] <= DBL_MAX) && !sc.bad_case[r]) {
              // The first case's bad weight is the one reported.
              sc.bad_case[r] = static_cast<uint32_t>(k / 2 + 1);
              sc.bad_case_value[r] = w.d[r];
              sc.any_bad_case = true;
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
        const table::Column& col = column(hay.column);
        for (int r = 0; r < n; ++r) {
          const std::string_view x = needle.s[r];
          const int64_t count = col.ListSize(begin + r);
          bool hit = false;
          for (int64_t e = 0; e < count && !hit; ++e) hit = col.ListElement(begin + r, e) == x;
          out[r] = hit;
        }
      } else {
        // glibc's memmem is linear in the haystack (two-way search); string_view::find is
        // quadratic in the worst case (a 30,000-byte needle in 1 MB: seconds per row).
        for (int r = 0; r < n; ++r) {
          const std::string_view h = hay.s[r], x = needle.s[r];
          out[r] = x.empty() || (x.size() <= h.size() &&
                                 memmem(h.data(), h.size(), x.data(), x.size()) != nullptr);
        }
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
        const table::Column& col = column(a.column);
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

int64_t Program::RunBlock(const table::Column* const* columns, int64_t begin, int n, Scratch& sc,
                          uint8_t* pass, double* weights) const {
  for (const Instruction& ins : code_) Execute(ins, columns, begin, n, sc);
  int64_t passed = n;
  if (filter_ >= 0) {
    const Slot& f = sc.slots[filter_];
    if (f.valid == nullptr) {
      for (int r = 0; r < n; ++r) pass[r] = f.b[r];
    } else {
      for (int r = 0; r < n; ++r) pass[r] = f.b[r] & f.valid[r];
    }
    passed = CountOnes(pass, n);
  } else {
    std::memset(pass, 1, n);
  }
  if (sc.any_bad_case) {
    for (int r = 0; r < n; ++r) {
      if (sc.bad_case[r] && pass[r] && (sc.bad_row < 0 || begin + r < sc.bad_row)) {
        sc.bad_row = begin + r;
        sc.bad_value = sc.bad_case_value[r];
        sc.bad_entry = static_cast<int>(sc.bad_case[r]) - 1;
      }
    }
    std::fill(sc.bad_case.begin(), sc.bad_case.begin() + n, 0);
    sc.any_bad_case = false;
  }
  if (weights == nullptr) return passed;
  double* __restrict out = weights;
  const uint8_t* __restrict on = pass;
  if (weight_ < 0) {
    for (int r = 0; r < n; ++r) out[r] = on[r] ? 1.0 : 0.0;
    return passed;
  }
  const Slot& w = sc.slots[weight_];
  const double* __restrict wd = w.d;
  if (w.valid == nullptr && filter_ < 0) {
    std::memcpy(out, wd, sizeof(double) * n);
  } else if (w.valid == nullptr) {
    URN_QUERY_DISPATCH(MaskWeights, out, wd, on, n);
  } else {
    const uint8_t* __restrict wv = w.valid;
    for (int r = 0; r < n; ++r) out[r] = (on[r] & wv[r]) ? wd[r] : 0.0;
  }
  return passed;
}

absl::Status Program::Evaluate(const table::Table& table, int64_t begin, int64_t end, uint8_t* pass,
                               double* weights, int64_t* passed) const {
  return ProgramRunner(*this, table, /*use_dictionary=*/false)
      .NewCursor()
      .Evaluate(begin, end, pass, weights, passed);
}

int64_t Program::ScratchBytes() const {
  // As Scratch's constructor allocates them.
  int64_t per_row = sizeof(uint32_t) + sizeof(double);  // bad_case, bad_case_value
  for (const RegisterInfo& info : registers_) {
    if (info.keys) {
      per_row += sizeof(uint64_t) + sizeof(uint8_t);
      continue;
    }
    switch (info.kind) {
      case ValueKind::kBool:
        per_row += sizeof(uint8_t);
        break;
      case ValueKind::kInt64:
        per_row += sizeof(int64_t);
        break;
      case ValueKind::kDouble:
        per_row += sizeof(double);
        break;
      case ValueKind::kString:
        per_row += sizeof(std::string_view);
        break;
      case ValueKind::kStringList:
        break;
    }
    if (info.nullable) per_row += sizeof(uint8_t);
  }
  return per_row * kBlockRows + static_cast<int64_t>(sizeof(Slot) * registers_.size());
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
  uint64_t bits = 0;
  switch (value.kind) {
    case Literal::Kind::kInt:
      bits = static_cast<uint64_t>(value.int_value);
      break;
    case Literal::Kind::kDouble:
      bits = std::bit_cast<uint64_t>(value.double_value);  // -0 and 0 stay apart
      break;
    case Literal::Kind::kString:
      break;
    case Literal::Kind::kBool:
      bits = value.bool_value ? 1 : 0;
      break;
  }
  auto [it, added] = constants_.try_emplace(
      {static_cast<int>(value.kind), bits,
       value.kind == Literal::Kind::kString ? value.string_value : std::string()},
      0);
  if (!added) return Reg{it->second, kind, false, true};
  Reg r = NewRegister(kind, false);
  program_->registers_[r.index].constant = true;
  program_->registers_[r.index].value = value;
  r.constant = true;
  it->second = r.index;
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

Reg ProgramBuilder::CompareStringColumn(BinaryOp op, int column, const std::string& value) {
  if (column >= static_cast<int>(key_registers_.size())) key_registers_.resize(column + 1, -1);
  if (key_registers_[column] < 0) {
    Program::Instruction ins;
    ins.op = Op::kStringKeys;
    ins.column = column;
    const Reg keys = NewRegister(ValueKind::kString, true);
    program_->registers_[keys.index].keys = true;
    ins.dst = keys.index;
    program_->code_.push_back(std::move(ins));
    key_registers_[column] = keys.index;
  }
  Program::Instruction ins;
  ins.op = Op::kCompareKey;
  ins.args = {key_registers_[column]};
  ins.column = column;
  ins.flag = op == BinaryOp::kNe;
  ins.text = value;
  ins.key = StringKey(value.data(), value.size(), value.data() + value.size());
  return Emit(std::move(ins), ValueKind::kBool, true);
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
      // x IN (a, b) is x = a OR x = b: an int64 equals an integer item exactly and a double
      // item as a double (so 2^53 + 1 IN (2^53 + 0.0), as 2^53 + 1 = 2^53 + 0.0; NaN never).
      for (const Literal* l : items) {
        if (l->kind == Literal::Kind::kInt) set->ints.insert(l->int_value);
        if (l->kind == Literal::Kind::kDouble && !std::isnan(l->double_value)) {
          set->doubles.push_back(l->double_value);
        }
      }
      std::sort(set->doubles.begin(), set->doubles.end());
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
                                    bool constant_weights, std::vector<std::string> names) {
  program_->case_names_ = std::move(names);
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
  for (const Program::Instruction& ins : program_->code_) {
    if (ins.column >= 0) program_->input_columns_.push_back(ins.column);
  }
  std::vector<int>& inputs = program_->input_columns_;
  std::sort(inputs.begin(), inputs.end());
  inputs.erase(std::unique(inputs.begin(), inputs.end()), inputs.end());
  // Registers an instruction writes need buffers even when their value is never null.
  for (Program::RegisterInfo& info : program_->registers_) {
    if (!info.constant) info.nullable = true;
  }
  return std::move(program_);
}

// --- runner -------------------------------------------------------------------------------

ProgramRunner::ProgramRunner(const Program& program, const table::Table& table, bool use_dictionary)
    : program_(program) {
  columns_.reserve(table.num_columns());
  for (const table::Column& c : table.columns()) columns_.push_back(&c);
  if (!use_dictionary || program.input_columns().size() != 1) return;
  const int input = program.input_columns()[0];
  const table::StringDictionary* dict = table.column(input).dictionary();
  // Worth it when the dictionary is small beside the rows evaluated per run.
  if (dict == nullptr || dict->values.size() * kMinRowsPerEntry > table.num_rows()) return;
  const int64_t m = dict->values.size();
  std::vector<const table::Column*> values(columns_.size(), nullptr);
  values[input] = &dict->values;
  code_pass_.resize(m);
  code_weights_.resize(m);
  Program::Scratch sc(program.registers_);
  for (int64_t b = 0; b < m; b += Program::kBlockRows) {
    const int n = static_cast<int>(std::min<int64_t>(Program::kBlockRows, m - b));
    (void)program.RunBlock(values.data(), b, n, sc, code_pass_.data() + b,
                           code_weights_.data() + b);
  }
  // A value whose case weight is invalid: evaluate row by row, so the error names the row.
  if (sc.bad_row >= 0) return;
  every_code_passes_ =
      std::all_of(code_pass_.begin(), code_pass_.end(), [](uint8_t p) { return p != 0; });
  code_weights_valid_ = std::all_of(code_weights_.begin(), code_weights_.end(),
                                    [](double w) { return w >= 0 && w <= DBL_MAX; });
  codes_ = dict->codes.data();
}

ProgramRunner::~ProgramRunner() = default;

ProgramRunner::Cursor::Cursor(const ProgramRunner& runner)
    : runner_(&runner), local_pass_(Program::kBlockRows) {
  if (runner.codes_ == nullptr) {
    scratch_ = std::make_unique<Program::Scratch>(runner.program_.registers_);
  }
}

ProgramRunner::Cursor::~Cursor() = default;
ProgramRunner::Cursor::Cursor(Cursor&&) noexcept = default;

ProgramRunner::Cursor ProgramRunner::NewCursor() const { return Cursor(*this); }

absl::Status ProgramRunner::Cursor::Evaluate(int64_t begin, int64_t end, uint8_t* pass,
                                             double* weights, int64_t* passed) {
  const ProgramRunner& run = *runner_;
  int64_t count = 0;
  for (int64_t block = begin; block < end; block += Program::kBlockRows) {
    const int n = static_cast<int>(std::min<int64_t>(Program::kBlockRows, end - block));
    uint8_t* p = pass != nullptr ? pass + (block - begin) : local_pass_.data();
    double* out = weights != nullptr ? weights + (block - begin) : nullptr;
    if (run.codes_ != nullptr) {
      const table::StringDictionary::Code* codes = run.codes_ + block;
      if (out != nullptr) {
        URN_QUERY_DISPATCH(GatherDoubles, out, run.code_weights_.data(), codes, n);
      }
      if (run.every_code_passes_) {
        if (pass != nullptr) std::memset(p, 1, n);
        count += n;
      } else {
        URN_QUERY_DISPATCH(GatherBytes, p, run.code_pass_.data(), codes, n);
        count += CountOnes(p, n);
      }
      if (run.code_weights_valid_) continue;
    } else {
      count += run.program_.RunBlock(run.columns_.data(), block, n, *scratch_, p, out);
    }
    // A case's weight checked by the program, or the weight itself.
    int64_t bad_row = scratch_ != nullptr ? scratch_->bad_row : -1;
    double bad_value = scratch_ != nullptr ? scratch_->bad_value : 0;
    int bad_entry = scratch_ != nullptr ? scratch_->bad_entry : -1;
    if (out != nullptr) {
      bool bad = false;
      for (int r = 0; r < n; ++r) bad |= !(out[r] >= 0 && out[r] <= DBL_MAX);
      for (int r = 0; bad && r < n; ++r) {
        if (!(out[r] >= 0 && out[r] <= DBL_MAX)) {
          if (bad_row < 0 || block + r < bad_row) {
            bad_row = block + r;
            bad_value = out[r];
            bad_entry = -1;
          }
          break;
        }
      }
    }
    if (bad_row >= 0) {
      const std::vector<std::string>& names = run.program_.case_names_;
      // The row's weight combines the entries' (a sum_weight's is not this one): name the one.
      const std::string source = bad_entry >= 0 && bad_entry < static_cast<int>(names.size())
                                     ? absl::StrCat(names[bad_entry], ", gives the weight ")
                                     : std::string("the sampling weight is ");
      return absl::InvalidArgumentError(absl::StrCat(
          "data row ", bad_row + 1, ": ", source, bad_value, "; weights must be finite and >= 0"));
    }
  }
  *passed += count;
  return absl::OkStatus();
}

}  // namespace urn::query
