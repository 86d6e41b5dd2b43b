#include "trace/volatile_tokens.h"

#include <array>

namespace llmtap::trace {
namespace {

bool digit(char c) { return c >= '0' && c <= '9'; }
bool alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool alnum(char c) { return digit(c) || alpha(c); }
bool hex(char c) { return digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

// A cursor over the text; each matcher returns the length it matched at `i` (0: no match).
struct Scan {
  std::string_view s;
  char at(std::size_t i) const { return i < s.size() ? s[i] : '\0'; }
  std::size_t run(std::size_t i, bool (*pred)(char), std::size_t max = std::string_view::npos) const {
    std::size_t n = 0;
    while (i + n < s.size() && n < max && pred(s[i + n])) ++n;
    return n;
  }
  bool word_end(std::size_t i) const { return !alnum(at(i)); }
  // Case-insensitive WORD at i.
  bool word(std::size_t i, std::string_view w) const {
    if (i + w.size() > s.size()) return false;
    for (std::size_t k = 0; k < w.size(); ++k)
      if (lower(s[i + k]) != w[k]) return false;
    return true;
  }
};

// 8-4-4-4-12 hex.
std::size_t match_uuid(const Scan& sc, std::size_t i) {
  static constexpr std::size_t kGroups[] = {8, 4, 4, 4, 12};
  std::size_t p = i;
  for (std::size_t g = 0; g < 5; ++g) {
    if (g > 0) {
      if (sc.at(p) != '-') return 0;
      ++p;
    }
    if (sc.run(p, hex, kGroups[g] + 1) != kGroups[g]) return 0;
    p += kGroups[g];
  }
  return sc.word_end(p) ? p - i : 0;
}

// hh:mm[:ss[.frac]] at i, whatever follows (a zone may).
std::size_t clock_len(const Scan& sc, std::size_t i) {
  std::size_t h = sc.run(i, digit, 3);
  if (h < 1 || h > 2 || sc.at(i + h) != ':' || sc.run(i + h + 1, digit, 3) != 2) return 0;
  std::size_t p = i + h + 3;
  if (sc.at(p) == ':' && sc.run(p + 1, digit, 3) == 2) {
    p += 3;
    if (sc.at(p) == '.' && digit(sc.at(p + 1))) p += 1 + sc.run(p + 1, digit);
  }
  return p - i;
}

// hh:mm[:ss[.frac]][ ?AM|PM] as a word.
std::size_t match_clock(const Scan& sc, std::size_t i) {
  std::size_t p = i + clock_len(sc, i);
  if (p == i) return 0;
  std::size_t q = sc.at(p) == ' ' ? p + 1 : p;
  if ((sc.word(q, "am") || sc.word(q, "pm")) && sc.word_end(q + 2)) p = q + 2;
  return sc.word_end(p) ? p - i : 0;
}

// yyyy-mm-dd or yyyy/mm/dd or dd/mm/yyyy, optionally followed by [T ]time[zone].
std::size_t match_numeric_date(const Scan& sc, std::size_t i) {
  std::size_t p = i;
  const std::size_t first = sc.run(i, digit, 5);
  const char sep = sc.at(i + first);
  if (first == 4 && (sep == '-' || sep == '/')) {
    std::size_t m = sc.run(i + 5, digit, 3);
    if (m < 1 || m > 2 || sc.at(i + 5 + m) != sep) return 0;
    std::size_t d = sc.run(i + 6 + m, digit, 3);
    if (d < 1 || d > 2) return 0;
    p = i + 6 + m + d;
  } else if ((first == 1 || first == 2) && sep == '/') {
    std::size_t m = sc.run(i + first + 1, digit, 3);
    if (m < 1 || m > 2 || sc.at(i + first + 1 + m) != '/' || sc.run(i + first + 2 + m, digit, 5) != 4) return 0;
    p = i + first + 2 + m + 4;
  } else {
    return 0;
  }
  if ((sc.at(p) == 'T' || sc.at(p) == ' ') && digit(sc.at(p + 1))) {
    if (std::size_t t = clock_len(sc, p + 1); t != 0) p += 1 + t;
    if (sc.at(p) == 'Z') {
      ++p;
    } else if (sc.at(p) == '+' || sc.at(p) == '-') {  // +01, +01:00, +0100
      const std::size_t hh = sc.run(p + 1, digit, 5);
      if (hh == 2 || hh == 4) p += 1 + hh;
      if (hh == 2 && sc.at(p) == ':' && sc.run(p + 1, digit, 3) == 2) p += 3;
    }
  }
  return sc.word_end(p) ? p - i : 0;
}

constexpr std::array<std::string_view, 12> kMonths = {"january", "february", "march",     "april",   "may",      "june",
                                                      "july",    "august",   "september", "october", "november", "december"};
constexpr std::array<std::string_view, 7> kWeekdays = {"monday", "tuesday",  "wednesday", "thursday",
                                                       "friday", "saturday", "sunday"};

// A month name (full or its first three letters, capitalized) at i; returns its length.
std::size_t match_month(const Scan& sc, std::size_t i) {
  if (sc.at(i) < 'A' || sc.at(i) > 'Z') return 0;
  for (auto m : kMonths) {
    if (m[0] != lower(sc.at(i))) continue;
    if (sc.word(i, m) && sc.word_end(i + m.size())) return m.size();
    if (sc.word(i, m.substr(0, 3)) && sc.word_end(i + 3)) return sc.at(i + 3) == '.' ? 4 : 3;
  }
  return 0;
}

// Day number with an optional ordinal suffix ("1", "21st").
std::size_t match_day(const Scan& sc, std::size_t i) {
  std::size_t d = sc.run(i, digit, 3);
  if (d < 1 || d > 2) return 0;
  for (std::string_view suf : {"st", "nd", "rd", "th"})
    if (sc.word(i + d, suf)) return d + 2;
  return d;
}

// "December 1, 2026", "Dec. 1 2026", "1 December 2026", "December 2026".
std::size_t match_month_date(const Scan& sc, std::size_t i) {
  auto year_after = [&](std::size_t p) -> std::size_t {
    if (sc.at(p) == ',') ++p;
    if (sc.at(p) != ' ') return 0;
    ++p;
    return sc.run(p, digit, 5) == 4 && sc.word_end(p + 4) ? p + 4 : 0;
  };
  if (std::size_t m = match_month(sc, i); m != 0) {
    std::size_t p = i + m;
    if (sc.at(p) == ' ') {
      if (std::size_t d = match_day(sc, p + 1); d != 0 && sc.word_end(p + 1 + d)) {
        std::size_t y = year_after(p + 1 + d);
        return y != 0 ? y - i : p + 1 + d - i;  // "December 1" alone is a date too
      }
    }
    std::size_t y = year_after(p);
    return y != 0 ? y - i : 0;
  }
  if (std::size_t d = match_day(sc, i); d != 0 && sc.at(i + d) == ' ') {
    if (std::size_t m = match_month(sc, i + d + 1); m != 0) {
      std::size_t y = year_after(i + d + 1 + m);
      return y != 0 ? y - i : i + d + 1 + m - i;
    }
  }
  return 0;
}

std::size_t match_weekday(const Scan& sc, std::size_t i) {
  if (sc.at(i) < 'A' || sc.at(i) > 'Z') return 0;
  for (auto w : kWeekdays)
    if (w[0] == lower(sc.at(i)) && sc.word(i, w) && sc.word_end(i + w.size())) return w.size();
  return 0;
}

// Keys whose value is a per-request stamp whatever its shape.
constexpr std::string_view kVolatileKeys[] = {
    "cch",        "checksum",   "nonce",      "timestamp",       "ts",         "request_id", "request-id",
    "requestid",  "req_id",     "x-request-id", "session_id",    "session-id", "sessionid",  "trace_id",
    "trace-id",   "span_id",    "run_id",     "conversation_id", "uuid",       "etag",       "seed",
    "cache_key",  "cache-key",  "cache_bust", "cachebust",       "cache_buster", "cache_marker", "cache-marker"};

// key[ ]*(=|:)[ ]*["']? at i: the length up to the value, 0 if none.
std::size_t match_volatile_key(const Scan& sc, std::size_t i) {
  static const std::array<bool, 256> kInitial = [] {
    std::array<bool, 256> t{};
    for (auto k : kVolatileKeys) t[static_cast<unsigned char>(k[0])] = t[static_cast<unsigned char>(k[0] - 32)] = true;
    return t;
  }();
  if (!kInitial[static_cast<unsigned char>(sc.at(i))]) return 0;
  const char first = lower(sc.at(i));
  for (auto k : kVolatileKeys) {
    if (k[0] != first || !sc.word(i, k)) continue;
    std::size_t p = i + k.size();
    if (alnum(sc.at(p)) || sc.at(p) == '_') continue;
    while (sc.at(p) == ' ') ++p;
    if (sc.at(p) != '=' && sc.at(p) != ':') continue;
    if (sc.at(p) == ':' && sc.at(p + 1) == ':') continue;
    ++p;
    while (sc.at(p) == ' ') ++p;
    if (sc.at(p) == '"' || sc.at(p) == '\'') ++p;
    return p - i;
  }
  return 0;
}

bool value_char(char c) { return alnum(c) || c == '-' || c == '_' || c == '.' || c == '+' || c == '/' || c == '='; }
bool base64_char(char c) { return alnum(c) || c == '+' || c == '/'; }

struct Masked {
  std::size_t len = 0;
  const char* placeholder = nullptr;
};

// The shaped volatile tokens (everything but keyed values) at i. Each shape starts with a digit,
// a hex letter or a capital: most prose words skip every matcher.
Masked match_shape(const Scan& sc, std::size_t i) {
  const char c = sc.at(i);
  const bool upper = c >= 'A' && c <= 'Z';
  if (!digit(c) && !upper && !hex(c)) return {};
  if (hex(c))
    if (std::size_t n = match_uuid(sc, i)) return {n, "<uuid>"};
  if (digit(c)) {
    if (std::size_t n = match_numeric_date(sc, i)) return {n, "<date>"};
    if (std::size_t n = match_month_date(sc, i)) return {n, "<date>"};
    if (std::size_t n = match_clock(sc, i)) return {n, "<time>"};
  } else if (upper) {
    if (std::size_t n = match_month_date(sc, i)) return {n, "<date>"};
    if (std::size_t n = match_weekday(sc, i)) return {n, "<date>"};
  }
  return {};
}

// A token of the base64 alphabet at i (with '=' padding): an opaque id or number, or text to keep.
Masked classify_token(const Scan& sc, std::size_t i) {
  std::size_t n = sc.run(i, base64_char);
  std::size_t digits = 0, lowers = 0, uppers = 0, others = 0;
  bool all_lower_hex = true, all_upper_hex = true;
  for (std::size_t k = i; k < i + n; ++k) {
    char c = sc.s[k];
    if (digit(c)) ++digits;
    else if (c >= 'a' && c <= 'z') ++lowers, all_upper_hex &= false, all_lower_hex &= c <= 'f';
    else if (c >= 'A' && c <= 'Z') ++uppers, all_lower_hex &= false, all_upper_hex &= c <= 'F';
    else ++others, all_lower_hex = all_upper_hex = false;
  }
  if (digits == n && n >= 6) {
    if (sc.at(i + n) == '.' && digit(sc.at(i + n + 1))) n += 1 + sc.run(i + n + 1, digit);
    return {n, "<n>"};
  }
  const bool letters = lowers + uppers > 0;
  if ((all_lower_hex || all_upper_hex) && n >= 8 && digits > 0 && letters) return {n, "<hex>"};
  if (n >= 16 && digits > 0 && letters && ((lowers > 0 && uppers > 0) || digits * 4 >= n)) {
    while (sc.at(i + n) == '=') ++n;
    return {n, "<id>"};
  }
  return {n, nullptr};
}

}  // namespace

std::string mask_volatile_tokens(std::string_view text) {
  const Scan sc{text};
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    const bool boundary = i == 0 || !alnum(text[i - 1]);  // '_' and '-' separate tokens
    if (!boundary || !base64_char(c)) {
      out.push_back(c);
      ++i;
      continue;
    }
    if (std::size_t k = match_volatile_key(sc, i)) {
      out.append(text.substr(i, k));
      i += k;
      if (Masked m = match_shape(sc, i); m.len != 0) {
        out.append(m.placeholder);
        i += m.len;
      } else if (std::size_t v = sc.run(i, value_char); v != 0) {
        out.append("<v>");
        i += v;
      }
      continue;
    }
    Masked m = match_shape(sc, i);
    if (m.len == 0) m = classify_token(sc, i);
    if (m.len == 0) {  // '+' or '/' alone
      out.push_back(c);
      ++i;
      continue;
    }
    if (m.placeholder != nullptr) out.append(m.placeholder);
    else out.append(text.substr(i, m.len));
    i += m.len;
  }
  return out;
}

}  // namespace llmtap::trace
