#include "progress.h"

#include <unistd.h>

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace urn::cli {
namespace {

std::string Bytes(int64_t b) {
  const double v = static_cast<double>(b);
  if (b < (1 << 10)) return absl::StrCat(b, " B");
  if (b < (1 << 20)) return absl::StrFormat("%.1f KiB", v / (1 << 10));
  if (b < (int64_t{1} << 30)) return absl::StrFormat("%.1f MiB", v / (1 << 20));
  return absl::StrFormat("%.2f GiB", v / (int64_t{1} << 30));
}

// 1,234,567
std::string Grouped(int64_t n) {
  std::string digits = absl::StrCat(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

std::string Eta(double seconds) {
  const int64_t s = static_cast<int64_t>(seconds + 0.5);
  if (s < 60) return absl::StrCat(s, "s");
  if (s < 3600) return absl::StrCat(s / 60, "m", s % 60, "s");
  return absl::StrCat(s / 3600, "h", (s % 3600) / 60, "m");
}

}  // namespace

ProgressBar::ProgressBar(std::string label)
    : label_(std::move(label)),
      enabled_(::isatty(2) == 1),
      start_(std::chrono::steady_clock::now()),
      last_(start_) {}

std::string ProgressBar::Render(const std::string& label, int64_t bytes, int64_t total,
                                int64_t rows, double seconds) {
  const double rate = seconds > 0 ? static_cast<double>(bytes) / seconds : 0;
  std::string line = absl::StrCat(label, " ");
  if (total > 0) {
    constexpr int kWidth = 24;
    const double f = std::min(1.0, static_cast<double>(bytes) / static_cast<double>(total));
    const int full = static_cast<int>(f * kWidth);
    line.push_back('[');
    line.append(static_cast<size_t>(full), '#');
    line.append(static_cast<size_t>(kWidth - full), '-');
    line.append("] ");
    absl::StrAppendFormat(&line, "%3d%%  %s of %s", static_cast<int>(f * 100), Bytes(bytes),
                          Bytes(total));
  } else {
    absl::StrAppend(&line, Bytes(bytes));
  }
  absl::StrAppend(&line, "  ", Grouped(rows), " rows  ", Bytes(static_cast<int64_t>(rate)), "/s");
  if (total > 0 && rate > 0) {
    absl::StrAppend(&line, "  ETA ", Eta(static_cast<double>(total - bytes) / rate));
  }
  return line;
}

void ProgressBar::Update(int64_t bytes, int64_t total, int64_t rows) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (drawn_ && now - last_ < std::chrono::milliseconds(100) && bytes != total) return;
  last_ = now;
  drawn_ = true;
  const double seconds = std::chrono::duration<double>(now - start_).count();
  std::fprintf(stderr, "\r\033[K%s", Render(label_, bytes, total, rows, seconds).c_str());
  std::fflush(stderr);
}

void ProgressBar::Done() {
  if (!enabled_ || !drawn_) return;
  std::fputs("\r\033[K", stderr);
  std::fflush(stderr);
  drawn_ = false;
}

}  // namespace urn::cli
