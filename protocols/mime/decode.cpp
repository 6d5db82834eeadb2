// File: protocols/mime/decode.cpp
//
// Decoding helpers for SEARCH (see decode.hpp). Charset conversion uses glibc iconv; the
// common single-byte charsets (US-ASCII, ISO-8859-1, Windows-1252) are converted in code so
// the hot path never opens an iconv descriptor.
#include "protocols/mime/decode.hpp"

#include <iconv.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "protocols/mime/header.hpp"

namespace mb::mime {

namespace {

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

// Length of the valid UTF-8 sequence at s[i], or 0.
std::size_t utf8_seq(std::string_view s, std::size_t i) {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  if (c < 0x80) return 1;
  std::size_t n = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k)
    if ((b(i + k) & 0xc0) != 0x80) return 0;
  if (n == 3 && c == 0xe0 && b(i + 1) < 0xa0) return 0;
  if (n == 4 && c == 0xf0 && b(i + 1) < 0x90) return 0;
  if (n == 4 && c == 0xf4 && b(i + 1) >= 0x90) return 0;
  return n;
}

std::string sanitize_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    std::size_t n = utf8_seq(s, i);
    if (n == 0) {
      out += "\xef\xbf\xbd";
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

// Windows-1252 0x80..0x9f.
constexpr std::array<std::uint16_t, 32> kCp1252 = {
    0x20ac, 0xfffd, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160,
    0x2039, 0x0152, 0xfffd, 0x017d, 0xfffd, 0xfffd, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022,
    0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0xfffd, 0x017e, 0x0178};

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  return out;
}

// iconv_open() loads gconv modules and costs far more than a conversion, and SEARCH converts
// the same few charsets for every message: keep a small per-thread cache of descriptors
// (unknown charsets are cached too, as failures).
class IconvCache {
 public:
  ~IconvCache() {
    for (auto& e : entries_)
      if (e.cd != kInvalid) iconv_close(e.cd);
  }
  // The descriptor for `charset` -> UTF-8 in its initial state, or kInvalid.
  iconv_t get(const std::string& charset) {
    for (auto& e : entries_) {
      if (e.name == charset) {
        if (e.cd != kInvalid) iconv(e.cd, nullptr, nullptr, nullptr, nullptr);
        return e.cd;
      }
    }
    iconv_t cd = iconv_open("UTF-8", charset.c_str());
    if (entries_.size() >= kMax) {
      if (entries_.front().cd != kInvalid) iconv_close(entries_.front().cd);
      entries_.erase(entries_.begin());
    }
    entries_.push_back(Entry{charset, cd});
    return cd;
  }
  static inline const iconv_t kInvalid = reinterpret_cast<iconv_t>(-1);

 private:
  static constexpr std::size_t kMax = 16;
  struct Entry {
    std::string name;
    iconv_t cd;
  };
  std::vector<Entry> entries_;
};

std::string iconv_to_utf8(std::string_view bytes, const std::string& charset, bool& ok) {
  ok = false;
  thread_local IconvCache cache;
  iconv_t cd = cache.get(charset);
  if (cd == IconvCache::kInvalid) return {};
  std::string out;
  out.resize(bytes.size() * 4 + 16);
  std::string in(bytes);
  char* inp = in.data();
  std::size_t inleft = in.size();
  char* outp = out.data();
  std::size_t outleft = out.size();
  while (inleft > 0) {
    std::size_t r = iconv(cd, &inp, &inleft, &outp, &outleft);
    if (r != static_cast<std::size_t>(-1)) break;
    if (errno == E2BIG) {
      std::size_t used = static_cast<std::size_t>(outp - out.data());
      out.resize(out.size() * 2);
      outp = out.data() + used;
      outleft = out.size() - used;
      continue;
    }
    // Invalid or incomplete input: emit U+FFFD and skip one byte.
    if (outleft < 3) {
      std::size_t used = static_cast<std::size_t>(outp - out.data());
      out.resize(out.size() * 2);
      outp = out.data() + used;
      outleft = out.size() - used;
    }
    std::memcpy(outp, "\xef\xbf\xbd", 3);
    outp += 3;
    outleft -= 3;
    ++inp;
    --inleft;
  }
  out.resize(static_cast<std::size_t>(outp - out.data()));
  ok = true;
  return out;
}

int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

std::vector<std::string_view> find_header(std::string_view header_block, std::string_view name) {
  std::vector<std::string_view> out;
  for_each_field(header_block, [&](const HeaderField& f) {
    if (iequals(f.name, name)) out.push_back(f.raw);
  });
  return out;
}

std::string unfold(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (char c : raw) {
    if (c == '\r' || c == '\n') continue;
    out.push_back(c);
  }
  std::size_t a = out.find_first_not_of(" \t");
  if (a == std::string::npos) return {};
  std::size_t b = out.find_last_not_of(" \t");
  return out.substr(a, b - a + 1);
}

std::string to_utf8(std::string_view bytes, std::string_view charset) {
  std::string cs = lower_ascii(charset);
  // RFC 2231 §5 language suffix: "utf-8*en".
  if (auto star = cs.find('*'); star != std::string::npos) cs.resize(star);
  if (cs.empty() || cs == "utf-8" || cs == "utf8" || cs == "us-ascii" || cs == "ascii") {
    return sanitize_utf8(bytes);
  }
  if (cs == "iso-8859-1" || cs == "latin1" || cs == "windows-1252" || cs == "cp1252") {
    bool win = cs == "windows-1252" || cs == "cp1252";
    std::string out;
    out.reserve(bytes.size() + bytes.size() / 4);
    for (char ch : bytes) {
      auto c = static_cast<unsigned char>(ch);
      if (win && c >= 0x80 && c < 0xa0) {
        append_utf8(out, kCp1252[c - 0x80]);
      } else {
        append_utf8(out, c);
      }
    }
    return out;
  }
  bool ok = false;
  std::string out = iconv_to_utf8(bytes, cs, ok);
  if (!ok) return sanitize_utf8(bytes);
  return out;
}

std::string decode_quoted_printable(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c != '=') {
      out.push_back(c);
      continue;
    }
    // Soft line break: "=" [WSP] CRLF (RFC 2045 §6.7 rule 5).
    std::size_t j = i + 1;
    while (j < in.size() && (in[j] == ' ' || in[j] == '\t')) ++j;
    if (j < in.size() && (in[j] == '\r' || in[j] == '\n')) {
      if (in[j] == '\r' && j + 1 < in.size() && in[j + 1] == '\n') ++j;
      i = j;
      continue;
    }
    if (j >= in.size()) {
      i = j;
      continue;
    }
    if (i + 2 < in.size() + 0 && hexval(in[i + 1]) >= 0 && hexval(in[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hexval(in[i + 1]) * 16 + hexval(in[i + 2])));
      i += 2;
      continue;
    }
    out.push_back('=');  // lenient: a stray '='
  }
  return out;
}

std::string decode_base64(std::string_view in) {
  std::string out;
  out.reserve(in.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '+') v = 62;
    else if (c == '/') v = 63;
    else if (c == '=') break;
    else continue;  // whitespace and junk are skipped (RFC 2045 §6.8)
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

std::string decode_header_value(std::string_view raw) {
  std::string text = unfold(raw);
  std::string out;
  std::string pending_ws;  // whitespace after an encoded word, dropped if another follows
  bool last_encoded = false;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '=' && i + 1 < text.size() && text[i + 1] == '?') {
      // =?charset?enc?text?=
      std::size_t q1 = text.find('?', i + 2);
      std::size_t q2 = q1 == std::string::npos ? q1 : text.find('?', q1 + 1);
      std::size_t end = q2 == std::string::npos ? q2 : text.find("?=", q2 + 1);
      if (end != std::string::npos && q2 == q1 + 2) {
        std::string_view charset = std::string_view(text).substr(i + 2, q1 - i - 2);
        char enc = static_cast<char>(text[q1 + 1] | 0x20);
        std::string_view payload = std::string_view(text).substr(q2 + 1, end - q2 - 1);
        std::string bytes;
        bool known = true;
        if (enc == 'b') {
          bytes = decode_base64(payload);
        } else if (enc == 'q') {
          std::string p(payload);
          for (char& c : p)
            if (c == '_') c = ' ';
          bytes = decode_quoted_printable(p);
        } else {
          known = false;
        }
        if (known) {
          if (!last_encoded) out += pending_ws;  // RFC 2047 §6.2
          pending_ws.clear();
          out += to_utf8(bytes, charset);
          last_encoded = true;
          i = end + 2;
          continue;
        }
      }
    }
    if (text[i] == ' ' || text[i] == '\t') {
      pending_ws.push_back(text[i]);
      ++i;
      continue;
    }
    out += pending_ws;
    pending_ws.clear();
    last_encoded = false;
    // Plain text: take the run up to the next whitespace or encoded word.
    std::size_t j = i + 1;
    while (j < text.size() && text[j] != ' ' && text[j] != '\t' &&
           !(text[j] == '=' && j + 1 < text.size() && text[j + 1] == '?'))
      ++j;
    out += sanitize_utf8(std::string_view(text).substr(i, j - i));
    i = j;
  }
  out += pending_ws;
  return out;
}

std::string decode_body_text(std::string_view body_bytes, const BodyPart& part) {
  std::string decoded;
  std::string enc = part.encoding ? lower_ascii(*part.encoding) : std::string();
  if (enc == "base64") {
    decoded = decode_base64(body_bytes);
  } else if (enc == "quoted-printable") {
    decoded = decode_quoted_printable(body_bytes);
  } else {
    decoded.assign(body_bytes);
  }
  std::string charset = param_value(part.params, "charset").value_or("us-ascii");
  return to_utf8(decoded, charset);
}

namespace {

// Simple case folding of one code point: ASCII, Latin-1, Latin Extended-A, Greek, Cyrillic.
std::uint32_t fold(std::uint32_t c) {
  if (c >= 'A' && c <= 'Z') return c + 32;
  if (c < 0x80) return c;
  if ((c >= 0xc0 && c <= 0xde && c != 0xd7)) return c + 32;
  if (c >= 0x100 && c <= 0x17f) {
    if (c >= 0x139 && c <= 0x148) return (c & 1) ? c + 1 : c;
    if (c >= 0x179 && c <= 0x17e) return (c & 1) ? c + 1 : c;
    if (c == 0x178) return 0xff;
    return (c & 1) ? c : c + 1;
  }
  if (c >= 0x391 && c <= 0x3ab && c != 0x3a2) return c + 32;
  if (c == 0x3c2) return 0x3c3;  // final sigma
  if (c >= 0x410 && c <= 0x42f) return c + 32;
  if (c >= 0x400 && c <= 0x40f) return c + 80;
  return c;
}

std::vector<std::uint32_t> folded_cps(std::string_view s) {
  std::vector<std::uint32_t> out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    std::size_t n = utf8_seq(s, i);
    std::uint32_t cp;
    auto b = [&](std::size_t k) { return static_cast<std::uint32_t>(static_cast<unsigned char>(s[k])); };
    if (n == 0) {
      cp = 0xfffd;
      n = 1;
    } else if (n == 1) {
      cp = b(i);
    } else if (n == 2) {
      cp = ((b(i) & 0x1f) << 6) | (b(i + 1) & 0x3f);
    } else if (n == 3) {
      cp = ((b(i) & 0x0f) << 12) | ((b(i + 1) & 0x3f) << 6) | (b(i + 2) & 0x3f);
    } else {
      cp = ((b(i) & 0x07) << 18) | ((b(i + 1) & 0x3f) << 12) | ((b(i + 2) & 0x3f) << 6) |
           (b(i + 3) & 0x3f);
    }
    out.push_back(fold(cp));
    i += n;
  }
  return out;
}

}  // namespace

bool contains_icase(std::string_view haystack, std::string_view needle) {
  if (needle.empty()) return true;
  bool ascii = true;
  for (char c : needle)
    if (static_cast<unsigned char>(c) >= 0x80) ascii = false;
  for (char c : haystack) {
    if (!ascii) break;
    if (static_cast<unsigned char>(c) >= 0x80) ascii = false;
  }
  if (ascii) {
    if (needle.size() > haystack.size()) return false;
    auto low = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; };
    for (std::size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
      std::size_t k = 0;
      while (k < needle.size() && low(haystack[i + k]) == low(needle[k])) ++k;
      if (k == needle.size()) return true;
    }
    return false;
  }
  std::vector<std::uint32_t> h = folded_cps(haystack), n = folded_cps(needle);
  if (n.size() > h.size()) return false;
  for (std::size_t i = 0; i + n.size() <= h.size(); ++i) {
    std::size_t k = 0;
    while (k < n.size() && h[i + k] == n[k]) ++k;
    if (k == n.size()) return true;
  }
  return false;
}

std::optional<std::string> param_value(const std::vector<Param>& params, std::string_view name) {
  for (const Param& p : params) {
    std::string_view n = p.name;
    bool extended = !n.empty() && n.back() == '*';
    if (extended) n.remove_suffix(1);
    if (!iequals(n, name)) continue;
    if (!extended) return p.value;
    // RFC 2231 §4: charset'language'percent-encoded
    std::string_view v = p.value;
    std::size_t q1 = v.find('\'');
    std::size_t q2 = q1 == std::string_view::npos ? q1 : v.find('\'', q1 + 1);
    if (q2 == std::string_view::npos) return std::string(v);
    std::string_view charset = v.substr(0, q1);
    std::string bytes;
    for (std::size_t i = q2 + 1; i < v.size(); ++i) {
      if (v[i] == '%' && i + 2 < v.size() + 0 && hexval(v[i + 1]) >= 0 && hexval(v[i + 2]) >= 0) {
        bytes.push_back(static_cast<char>(hexval(v[i + 1]) * 16 + hexval(v[i + 2])));
        i += 2;
      } else {
        bytes.push_back(v[i]);
      }
    }
    return to_utf8(bytes, charset);
  }
  return std::nullopt;
}

}  // namespace mb::mime
