// File: protocols/mime/serialize.cpp
//
// Cache encoding of MessageStructure: byte 0 is the format version (kVersion); then the
// fields in a fixed order, numbers as LEB128 varints, strings as varint length + bytes,
// optional strings as varint (length + 1) with 0 meaning absent. Parts are written
// depth-first. deserialize() checks every length against the input and bounds the depth and
// the part count, so a corrupt cache entry yields nullopt, never a crash.
#include <cstdint>

#include "protocols/mime/message_structure.hpp"

namespace mb::mime {

namespace {

constexpr char kVersion = 2;  // 2: memoised IMAP renderings added
constexpr std::uint32_t kMaxDepth = 1000;
constexpr std::uint64_t kMaxParts = 1000000;

class Writer {
 public:
  void num(std::uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  void str(std::string_view s) {
    num(s.size());
    out_.append(s);
  }
  void opt(const std::optional<std::string>& s) {
    if (!s) {
      num(0);
      return;
    }
    num(s->size() + 1);
    out_.append(*s);
  }
  void params(const std::vector<Param>& ps) {
    num(ps.size());
    for (const Param& p : ps) {
      str(p.name);
      str(p.value);
    }
  }
  void part(const BodyPart& p) {
    num(p.header.offset);
    num(p.header.size);
    num(p.body.offset);
    num(p.body.size);
    num(p.body_lines);
    str(p.type);
    str(p.subtype);
    params(p.params);
    opt(p.id);
    opt(p.description);
    opt(p.md5);
    opt(p.location);
    opt(p.encoding);
    opt(p.disposition);
    params(p.disposition_params);
    num(p.language.size());
    for (const auto& l : p.language) str(l);
    num(p.envelope ? 1 : 0);
    if (p.envelope) {
      const Envelope& e = *p.envelope;
      for (const auto* f : {&e.date, &e.subject, &e.from, &e.sender, &e.reply_to, &e.to, &e.cc,
                            &e.bcc, &e.in_reply_to, &e.message_id})
        opt(*f);
    }
    num(p.children.size());
    for (const BodyPart& c : p.children) part(c);
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool ok() const { return ok_; }
  bool at_end() const { return pos_ == in_.size(); }
  std::uint64_t num() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= in_.size()) return fail();
      auto b = static_cast<unsigned char>(in_[pos_++]);
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    return fail();
  }
  std::string_view view() {
    std::uint64_t n = num();
    if (!ok_ || n > in_.size() - pos_) {
      fail();
      return {};
    }
    std::string_view s = in_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  std::string str() {
    std::uint64_t n = num();
    if (!ok_ || n > in_.size() - pos_) {
      fail();
      return {};
    }
    std::string s(in_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  std::optional<std::string> opt() {
    std::uint64_t n = num();
    if (!ok_ || n == 0) return std::nullopt;
    if (n - 1 > in_.size() - pos_) {
      fail();
      return std::nullopt;
    }
    std::string s(in_.substr(pos_, n - 1));
    pos_ += n - 1;
    return s;
  }
  // Count of items that each need at least one byte.
  std::uint64_t count() {
    std::uint64_t n = num();
    if (n > in_.size() - pos_) return fail();
    return n;
  }
  void params(std::vector<Param>& ps) {
    std::uint64_t n = count();
    for (std::uint64_t i = 0; ok_ && i < n; ++i) {
      Param p;
      p.name = str();
      p.value = str();
      ps.push_back(std::move(p));
    }
  }
  void part(BodyPart& p, std::uint32_t depth) {
    if (depth > kMaxDepth || ++parts_ > kMaxParts) {
      fail();
      return;
    }
    p.header.offset = num();
    p.header.size = num();
    p.body.offset = num();
    p.body.size = num();
    p.body_lines = num();
    p.type = str();
    p.subtype = str();
    params(p.params);
    p.id = opt();
    p.description = opt();
    p.md5 = opt();
    p.location = opt();
    p.encoding = opt();
    p.disposition = opt();
    params(p.disposition_params);
    std::uint64_t nl = count();
    for (std::uint64_t i = 0; ok_ && i < nl; ++i) p.language.push_back(str());
    if (num() == 1) {
      Envelope e;
      for (auto* f : {&e.date, &e.subject, &e.from, &e.sender, &e.reply_to, &e.to, &e.cc, &e.bcc,
                      &e.in_reply_to, &e.message_id})
        *f = opt();
      p.envelope = std::move(e);
    }
    std::uint64_t nc = count();
    for (std::uint64_t i = 0; ok_ && i < nc; ++i) {
      p.children.emplace_back();
      part(p.children.back(), depth + 1);
    }
  }

 private:
  std::uint64_t fail() {
    ok_ = false;
    pos_ = in_.size();
    return 0;
  }
  std::string_view in_;
  std::size_t pos_ = 0;
  bool ok_ = true;
  std::uint64_t parts_ = 0;
};

}  // namespace

std::string serialize(const MessageStructure& s) {
  Writer w;
  std::string head(1, kVersion);
  w.num(s.size);
  w.num(s.degraded ? 1 : 0);
  w.str(s.envelope_imap);
  w.str(s.body_imap);
  w.str(s.bodystructure_imap);
  w.part(s.root);
  return head + w.take();
}

std::optional<MessageStructure> deserialize(std::string_view data) {
  if (data.empty() || data[0] != kVersion) return std::nullopt;
  Reader r(data.substr(1));
  MessageStructure s;
  s.size = r.num();
  s.degraded = r.num() != 0;
  s.envelope_imap = r.str();
  s.body_imap = r.str();
  s.bodystructure_imap = r.str();
  r.part(s.root, 0);
  if (!r.ok() || !r.at_end()) return std::nullopt;
  return s;
}

std::optional<MemoizedRenderings> peek_renderings(std::string_view data) {
  if (data.empty() || data[0] != kVersion) return std::nullopt;
  Reader r(data.substr(1));
  r.num();  // size
  r.num();  // degraded
  MemoizedRenderings m;
  m.envelope = r.view();
  m.body = r.view();
  m.bodystructure = r.view();
  if (!r.ok() || m.envelope.empty() || m.body.empty() || m.bodystructure.empty())
    return std::nullopt;
  return m;
}

}  // namespace mb::mime
