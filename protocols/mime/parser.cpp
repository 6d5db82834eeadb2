// File: protocols/mime/parser.cpp
//
// parse_message(): one pass over the lines of the message with a stack of active multipart
// boundaries, recursing once per nesting level (bounded by ParseLimits::max_depth).
//
// Boundary rules follow Dovecot's message-parser so that part ranges match its answers:
//   - a boundary line is "--" followed by one of the active boundaries as a prefix; when
//     several match, the longest wins (so an inner "abcdef" beats an outer "abc");
//   - the line end before a boundary line belongs to the boundary (RFC 2046 §5.1.1), so a
//     part's content ends before it; a boundary may also open a part's very first line, or
//     the line right after a closing delimiter (then the closing line keeps its line end);
//   - boundaries are recognised inside headers too: a part cut off in its header has an
//     empty body;
//   - after the closing "--b--" line the rest up to an outer boundary is epilogue.
#include <algorithm>
#include <cstring>

#include "protocols/mime/header.hpp"
#include "protocols/mime/message_structure.hpp"

namespace mb::mime {

bool BodyPart::is_multipart() const { return iequals(type, "multipart"); }
bool BodyPart::is_message() const {
  return iequals(type, "message") && iequals(subtype, "rfc822");
}

namespace {

// Number of LF octets, eight at a time (bodies are counted once per nesting level, and
// attachments make up most of the bytes).
std::uint64_t count_lf(std::string_view s) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ull;
  constexpr std::uint64_t kLow7 = 0x7f7f7f7f7f7f7f7full;
  std::uint64_t n = 0;
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    std::uint64_t t = w ^ (kOnes * '\n');  // zero bytes where LF was
    std::uint64_t y = ((t & kLow7) + kLow7) | t;
    // One bit per LF byte at bit 7; fold the eight 0/1 bytes into the top byte.
    n += (((~y & ~kLow7) >> 7) * kOnes) >> 56;
  }
  for (; i < s.size(); ++i) n += s[i] == '\n';
  return n;
}

struct Stop {
  std::size_t line_start;  // raw offset of the boundary line, or message size at EOF
  std::size_t next;        // raw offset after the boundary line
  int index = -1;          // index into the boundary stack; -1 = end of input
  bool closing = false;    // "--b--"
  // The boundary line opens an epilogue (right after a closing delimiter line): there is no
  // line end of the ended part to give to the boundary, as at a part's first line.
  bool at_segment_start = false;
};

class Parser {
 public:
  Parser(std::string_view m, const ParseLimits& limits) : m_(m), limits_(limits) {
    // Bare LFs (none in CRLF input); memchr per line beats a word-at-a-time scan here.
    for (std::size_t i = m_.find('\n'); i != std::string_view::npos; i = m_.find('\n', i + 1)) {
      if (i == 0 || m_[i - 1] != '\r') bare_lf_.push_back(i);
    }
  }

  MessageStructure run() {
    MessageStructure s;
    parse_entity(0, s.root, 0, /*message_root=*/true, /*in_multipart=*/false, false);
    s.size = wire(m_.size());
    s.degraded = degraded_;
    return s;
  }

 private:
  std::uint64_t wire(std::size_t raw) const {
    auto n = std::lower_bound(bare_lf_.begin(), bare_lf_.end(), raw) - bare_lf_.begin();
    return raw + static_cast<std::uint64_t>(n);
  }
  Range wire_range(std::size_t a, std::size_t b) const {
    std::uint64_t wa = wire(a);
    return Range{wa, wire(b) - wa};
  }

  // LFs in [a, b). Nested message/rfc822 parts overlap, so counting each range directly
  // could cost depth x size; once direct counting has covered twice the message, a per-block
  // prefix index (one more pass) answers the rest in constant time plus two partial blocks.
  std::uint64_t lines_in(std::size_t a, std::size_t b) {
    if (lf_index_.empty() && counted_ + (b - a) <= 2 * m_.size()) {
      counted_ += b - a;
      return count_lf(m_.substr(a, b - a));
    }
    if (lf_index_.empty()) {
      lf_index_.reserve(m_.size() / kBlock + 2);
      std::uint64_t total = 0;
      lf_index_.push_back(0);
      for (std::size_t off = 0; off < m_.size(); off += kBlock) {
        total += count_lf(m_.substr(off, kBlock));
        lf_index_.push_back(total);
      }
    }
    std::size_t first_full = (a + kBlock - 1) / kBlock, last_full = b / kBlock;
    if (first_full >= last_full) return count_lf(m_.substr(a, b - a));
    return count_lf(m_.substr(a, first_full * kBlock - a)) + lf_index_[last_full] -
           lf_index_[first_full] + count_lf(m_.substr(last_full * kBlock, b - last_full * kBlock));
  }

  // If the line at `pos` is a boundary line, fills `stop`.
  bool boundary_at(std::size_t pos, Stop& stop) const {
    if (boundaries_.empty() || pos + 2 > m_.size() || m_[pos] != '-' || m_[pos + 1] != '-')
      return false;
    std::size_t eol = m_.find('\n', pos);
    std::size_t line_end = eol == std::string_view::npos ? m_.size() : eol;
    std::string_view line = m_.substr(pos + 2, line_end - pos - 2);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    int best = -1;
    std::size_t best_len = 0;
    for (int i = static_cast<int>(boundaries_.size()) - 1; i >= 0; --i) {
      std::string_view b = boundaries_[static_cast<std::size_t>(i)];
      if (b.size() <= line.size() && line.compare(0, b.size(), b) == 0 &&
          (best < 0 || b.size() > best_len)) {
        best = i;
        best_len = b.size();
      }
    }
    if (best < 0) return false;
    stop.line_start = pos;
    stop.next = eol == std::string_view::npos ? m_.size() : eol + 1;
    stop.index = best;
    stop.closing = line.size() >= best_len + 2 && line[best_len] == '-' && line[best_len + 1] == '-';
    return true;
  }

  // First boundary line at or after line start `pos`, or EOF.
  Stop find_boundary(std::size_t pos) const {
    Stop stop{m_.size(), m_.size(), -1, false};
    if (boundaries_.empty()) return stop;
    if (pos < m_.size() && boundary_at(pos, stop)) return stop;
    // Only lines starting with "--" can be boundaries: jump between "\n--" occurrences
    // (base64 bodies have none, so this runs at memchr speed).
    while (pos < m_.size()) {
      std::size_t hit = m_.find("\n--", pos);
      if (hit == std::string_view::npos) break;
      if (boundary_at(hit + 1, stop)) return stop;
      pos = hit + 1;
    }
    stop = Stop{m_.size(), m_.size(), -1, false};
    return stop;
  }

  // Where the content of an entity that started at `start` ends, given the stop.
  std::size_t content_end(const Stop& stop, std::size_t start) const {
    std::size_t end = stop.line_start;
    if (stop.index < 0 || end <= start || stop.at_segment_start) return std::max(end, start);
    --end;  // the LF before the boundary line
    if (end > start && m_[end - 1] == '\r') --end;
    return end;
  }

  void apply_header(std::string_view block, BodyPart& part, bool message_root, bool in_multipart,
                    bool parent_digest) {
    bool is_mime = in_multipart;
    bool seen_type = false, seen_cte = false, seen_id = false, seen_desc = false, seen_md5 = false,
         seen_lang = false, seen_loc = false;
    Envelope env;
    for_each_field(block, [&](const HeaderField& f) {
      std::string_view n = f.name;
      if (message_root) {
        std::optional<std::string>* slot = nullptr;
        if (iequals(n, "date")) slot = &env.date;
        else if (iequals(n, "subject")) slot = &env.subject;
        else if (iequals(n, "from")) slot = &env.from;
        else if (iequals(n, "sender")) slot = &env.sender;
        else if (iequals(n, "reply-to")) slot = &env.reply_to;
        else if (iequals(n, "to")) slot = &env.to;
        else if (iequals(n, "cc")) slot = &env.cc;
        else if (iequals(n, "bcc")) slot = &env.bcc;
        else if (iequals(n, "in-reply-to")) slot = &env.in_reply_to;
        else if (iequals(n, "message-id")) slot = &env.message_id;
        // The last occurrence wins, as in Dovecot's envelope parser.
        if (slot != nullptr) *slot = full_value(f.raw);
      }
      if (iequals(n, "mime-version")) {
        is_mime = true;
        return;
      }
      if (n.size() < 8 || !iequals(n.substr(0, 8), "content-")) return;
      std::string_view c = n.substr(8);
      if (iequals(c, "type")) {
        if (seen_type) return;
        seen_type = true;
        is_mime = true;  // non-strict MIME-Version, as Dovecot
        ContentValue cv = parse_content_type(full_value(f.raw));
        std::size_t slash = cv.value.find('/');
        part.type = cv.value.substr(0, slash);
        part.subtype = slash == std::string::npos ? std::string() : cv.value.substr(slash + 1);
        part.params = std::move(cv.params);
      } else if (iequals(c, "transfer-encoding")) {
        if (seen_cte) return;
        if (auto t = parse_mime_token_value(full_value(f.raw))) {
          seen_cte = true;
          part.encoding = std::move(*t);
        }
      } else if (iequals(c, "id")) {
        if (!seen_id) part.id = full_value(f.raw);
        seen_id = true;
      } else if (iequals(c, "description")) {
        if (!seen_desc) part.description = full_value(f.raw);
        seen_desc = true;
      } else if (iequals(c, "md5")) {
        if (!seen_md5) part.md5 = full_value(f.raw);
        seen_md5 = true;
      } else if (iequals(c, "language")) {
        if (!seen_lang) {
          part.language = parse_language(full_value(f.raw));
          seen_lang = !part.language.empty();
        }
      } else if (iequals(c, "location")) {
        if (!seen_loc) part.location = full_value(f.raw);
        seen_loc = true;
      } else if (iequals(c, "disposition")) {
        // Dovecot re-parses while no parameters were found.
        if (part.disposition_params.empty()) {
          if (auto d = parse_content_disposition(full_value(f.raw))) {
            part.disposition = std::move(d->value);
            part.disposition_params = std::move(d->params);
          }
        }
      }
    });
    if (!is_mime) {
      // Without MIME-Version (or Content-Type) the Content-* fields are not MIME (RFC 2045 §4).
      BodyPart plain;
      part.type = plain.type;
      part.subtype = plain.subtype;
      part.params.clear();
      part.encoding.reset();
      part.id.reset();
      part.description.reset();
      part.md5.reset();
      part.disposition.reset();
      part.disposition_params.clear();
      part.language.clear();
      part.location.reset();
    }
    if (!seen_type && parent_digest) {
      // RFC 2046 §5.1.5: in a digest the default is message/rfc822.
      part.type = "message";
      part.subtype = "rfc822";
    }
    if (message_root) part.envelope = std::move(env);
  }

  // Parses the entity starting at raw offset `start` into `part`; returns the boundary line
  // (of an ancestor) or EOF that ended it.
  Stop parse_entity(std::size_t start, BodyPart& part, std::uint32_t depth, bool message_root,
                    bool in_multipart, bool parent_digest) {
    ++parts_;
    // Header: up to and including the first empty line, or a boundary line, or EOF.
    std::size_t pos = start;
    std::size_t header_end = m_.size();
    std::size_t body_start = m_.size();
    Stop stop{m_.size(), m_.size(), -1, false};
    bool stopped = false;
    while (pos < m_.size()) {
      if (boundary_at(pos, stop)) {
        stopped = true;
        // An empty part: the boundary directly follows the previous boundary line, whose line
        // end then stays with the enclosing parts (they must contain this empty part).
        if (pos == start) stop.at_segment_start = true;
        header_end = body_start = pos;
        break;
      }
      std::size_t eol = m_.find('\n', pos);
      std::size_t next = eol == std::string_view::npos ? m_.size() : eol + 1;
      std::size_t len = (eol == std::string_view::npos ? m_.size() : eol) - pos;
      bool empty = len == 0 || (len == 1 && m_[pos] == '\r' && eol != std::string_view::npos);
      pos = next;
      if (empty) {
        header_end = body_start = next;
        break;
      }
    }

    std::string_view block = m_.substr(start, header_end - start);
    if (block.size() > limits_.max_header_size) {
      block = block.substr(0, limits_.max_header_size);
      degraded_ = true;
    }
    apply_header(block, part, message_root, in_multipart, parent_digest);

    bool nest_ok = depth < limits_.max_depth && parts_ < limits_.max_parts;
    if (!stopped) {
      if (part.is_multipart() && nest_ok) {
        stop = parse_multipart_body(body_start, part, depth);
      } else if (part.is_message() && nest_ok) {
        part.children.emplace_back();
        stop = parse_entity(body_start, part.children.back(), depth + 1, true, false, false);
      } else {
        if ((part.is_multipart() || part.is_message()) && !nest_ok) {
          // Over a limit: the rest of this entity is plain text.
          degraded_ = true;
          part.type = "text";
          part.subtype = "plain";
          part.params.clear();
        }
        stop = find_boundary(body_start);
      }
    }
    std::size_t end = content_end(stop, start);
    header_end = std::min(header_end, end);
    body_start = std::min(body_start, end);
    part.header = wire_range(start, header_end);
    part.body = wire_range(body_start, end);
    // Only text/* and message/rfc822 renderings carry a line count; skipping the rest avoids
    // counting large attachments (and every nesting level) again.
    const bool needs_lines = iequals(part.type, "text") || part.is_message();
    part.body_lines = needs_lines ? lines_in(body_start, end) : 0;
    return stop;
  }

  Stop parse_multipart_body(std::size_t body_start, BodyPart& part, std::uint32_t depth) {
    std::optional<std::string> boundary;
    for (const Param& p : part.params) {
      if (iequals(p.name, "boundary")) {
        boundary = p.value;
        break;
      }
    }
    if (!boundary || boundary->empty() || boundary->size() > limits_.max_boundary) {
      // No usable boundary: the body is one opaque block (Dovecot renders an empty
      // text/plain child for it).
      return find_boundary(body_start);
    }
    bool digest = iequals(part.subtype, "digest");
    boundaries_.push_back(*boundary);
    const int own = static_cast<int>(boundaries_.size()) - 1;
    Stop stop = find_boundary(body_start);  // end of the preamble
    while (stop.index == own && !stop.closing) {
      if (parts_ >= limits_.max_parts) {
        // Too many parts: the rest of this multipart is not split further.
        degraded_ = true;
        do {
          stop = find_boundary(stop.next);
        } while (stop.index == own && !stop.closing);
        break;
      }
      part.children.emplace_back();
      stop = parse_entity(stop.next, part.children.back(), depth + 1, false, true, digest);
    }
    boundaries_.pop_back();
    if (stop.index == own) {
      // Closing delimiter: the epilogue runs to an outer boundary or EOF. The closing line's
      // own line end stays in this multipart (Dovecot counts it too).
      const std::size_t epilogue = stop.next;
      stop = find_boundary(epilogue);
      stop.at_segment_start = stop.index >= 0 && stop.line_start == epilogue;
    }
    return stop;
  }

  std::string_view m_;
  const ParseLimits& limits_;
  std::vector<std::size_t> bare_lf_;
  std::vector<std::string> boundaries_;
  std::uint32_t parts_ = 0;
  bool degraded_ = false;
  static constexpr std::size_t kBlock = 4096;
  std::uint64_t counted_ = 0;             // octets counted directly so far
  std::vector<std::uint64_t> lf_index_;   // LFs before each block start (built on demand)
};

}  // namespace

MessageStructure parse_message(std::string_view message, const ParseLimits& limits) {
  return Parser(message, limits).run();
}

}  // namespace mb::mime
