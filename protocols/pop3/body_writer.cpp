// File: protocols/pop3/body_writer.cpp
#include "protocols/pop3/body_writer.hpp"

#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace mb::pop3 {

bool BodyWriter::end_of_line(bool empty_line) {
  if (!limited_) return false;
  if (in_header_) {
    if (!empty_line) return false;
    in_header_ = false;  // the blank line ends the header and is sent
    return lines_left_ == 0;
  }
  if (lines_left_ > 0) --lines_left_;
  return lines_left_ == 0;
}

bool BodyWriter::feed(std::string_view chunk, std::string& out) {
  if (done_) return true;
  if (limited_ && !in_header_ && lines_left_ == 0) {
    done_ = true;
    return true;
  }
  const char* p = chunk.data();
  std::size_t n = chunk.size();
  while (n > 0) {
    if (at_line_start_ && *p == '.') out.push_back('.');  // RFC 1939 §3 byte-stuffing
    const void* hit = std::memchr(p, '\n', n);
    if (hit == nullptr) {
      out.append(p, n);
      line_len_ += n;
      prev_cr_ = p[n - 1] == '\r';
      at_line_start_ = false;
      return false;
    }
    const auto seg = static_cast<std::size_t>(static_cast<const char*>(hit) - p);
    const bool cr_before = seg > 0 ? p[seg - 1] == '\r' : prev_cr_;
    if (cr_before) {
      out.append(p, seg + 1);  // the common case: the line and its CRLF in one copy
    } else {
      out.append(p, seg);
      out.append("\r\n", 2);  // bare LF -> CRLF
    }
    line_len_ += seg;
    const std::size_t content = line_len_ - (cr_before ? 1 : 0);
    line_len_ = 0;
    prev_cr_ = false;
    at_line_start_ = true;
    p += seg + 1;
    n -= seg + 1;
    if (end_of_line(content == 0)) {
      done_ = true;
      return true;
    }
  }
  return false;
}

bool BodyWriter::passes_unchanged(std::string_view wire) const {
  if (wire.empty()) return true;
  if (at_line_start_ && wire[0] == '.') return false;
  const char* s = wire.data();
  const std::size_t n = wire.size();
  std::size_t k = 1;
#if defined(__SSE2__)
  // "\n." anywhere: the LF of 16 positions and the dot one further on, compared at once.
  const __m128i lf = _mm_set1_epi8('\n');
  const __m128i dot = _mm_set1_epi8('.');
  for (; k + 16 <= n; k += 16) {
    const __m128i p = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + k - 1));
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + k));
    if (_mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(p, lf), _mm_cmpeq_epi8(v, dot))) != 0) return false;
  }
#endif
  for (; k < n; ++k) {
    if (s[k] == '.' && s[k - 1] == '\n') return false;
  }
  return true;
}

void BodyWriter::finish(std::string& out) {
  if (!at_line_start_) {
    // A final line without a line end (or ending in a lone CR) is terminated.
    out.append(prev_cr_ ? "\n" : "\r\n");
    at_line_start_ = true;
  }
  out.append(".\r\n");
  done_ = true;
}

std::size_t BodyWriter::finish(char* dst) {
  std::size_t n = 0;
  if (!at_line_start_) {
    if (!prev_cr_) dst[n++] = '\r';
    dst[n++] = '\n';
    at_line_start_ = true;
  }
  std::memcpy(dst + n, ".\r\n", 3);
  done_ = true;
  return n + 3;
}

}  // namespace mb::pop3
