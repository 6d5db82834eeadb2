// File: tests/unit/protocols/mime/dovecot_compat_test.cpp
//
// Compares our RFC822.SIZE, ENVELOPE, BODY, BODYSTRUCTURE and BODY[section] answers for every
// tests/data/mime/*.eml with Dovecot 2.3.19's answers saved in the matching .expected file
// (made by tests/data/mime/make_expected.py; see its header for how). The message is given
// in wire form (CRLF), as the store hands it out, and again with bare LF line ends, which
// must give the same structure.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "protocols/imap/render/render.hpp"
#include "protocols/imap/render/section.hpp"
#include "protocols/mime/message_structure.hpp"
#include "test_util.hpp"

namespace mb::mime {
namespace {

namespace fs = std::filesystem;
using imap::render::SectionSpec;
using imap::render::SectionText;

std::string unescape(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      char c = s[++i];
      out += c == 'r' ? '\r' : c == 'n' ? '\n' : c;
    } else {
      out += s[i];
    }
  }
  return out;
}

struct Expected {
  std::map<std::string, std::string> items;                // RFC822.SIZE, ENVELOPE, ...
  std::vector<std::pair<std::string, std::string>> sections;  // spec text, bytes or "NIL"
};

Expected load_expected(const fs::path& p) {
  Expected e;
  std::string all = test::read_file(p.string());
  std::size_t pos = 0;
  while (pos < all.size()) {
    std::size_t eol = all.find('\n', pos);
    if (eol == std::string::npos) eol = all.size();
    std::string line = all.substr(pos, eol - pos);
    pos = eol + 1;
    std::size_t tab = line.find('\t');
    if (tab == std::string::npos) continue;
    std::string key = line.substr(0, tab), value = unescape(line.substr(tab + 1));
    if (key.rfind("SECTION ", 0) == 0) {
      e.sections.emplace_back(key.substr(8), value);
    } else {
      e.items[key] = value;
    }
  }
  return e;
}

// "2.HEADER.FIELDS (Subject From)" -> SectionSpec
SectionSpec parse_spec(const std::string& text) {
  SectionSpec spec;
  std::string s = text;
  std::string list;
  if (auto paren = s.find(" ("); paren != std::string::npos) {
    list = s.substr(paren + 2, s.size() - paren - 3);
    s = s.substr(0, paren);
  }
  std::size_t pos = 0;
  while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
    std::size_t dot = s.find('.', pos);
    spec.part.push_back(static_cast<std::uint32_t>(std::stoul(s.substr(pos, dot - pos))));
    pos = dot == std::string::npos ? s.size() : dot + 1;
  }
  std::string word = s.substr(pos);
  if (word == "HEADER") spec.text = SectionText::header;
  else if (word == "TEXT") spec.text = SectionText::text;
  else if (word == "MIME") spec.text = SectionText::mime;
  else if (word == "HEADER.FIELDS") spec.text = SectionText::header_fields;
  else if (word == "HEADER.FIELDS.NOT") spec.text = SectionText::header_fields_not;
  std::size_t p = 0;
  while (p < list.size()) {
    std::size_t sp = list.find(' ', p);
    if (sp == std::string::npos) sp = list.size();
    spec.fields.push_back(list.substr(p, sp - p));
    p = sp + 1;
  }
  return spec;
}

std::string section_bytes(const MessageStructure& s, const std::string& wire,
                          const SectionSpec& spec) {
  auto r = imap::render::resolve_section(s, spec);
  if (!r) return "";
  EXPECT_LE(r->range.end(), wire.size());
  std::string bytes = wire.substr(r->range.offset, r->range.size);
  if (r->filter_fields) {
    bytes = imap::render::filter_header_fields(
        bytes, spec.fields, spec.text == SectionText::header_fields_not);
  }
  return bytes;
}

std::vector<std::string> corpus() {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(fs::path(MB_TEST_DATA_DIR) / "mime")) {
    if (e.path().extension() == ".eml") names.push_back(e.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class DovecotCompat : public ::testing::TestWithParam<std::string> {};

TEST_P(DovecotCompat, MatchesDovecotAnswers) {
  fs::path dir = fs::path(MB_TEST_DATA_DIR) / "mime";
  std::string wire = test::to_crlf(test::read_file((dir / (GetParam() + ".eml")).string()));
  Expected e = load_expected(dir / (GetParam() + ".expected"));
  ASSERT_FALSE(e.items.empty()) << "no expected file";

  MessageStructure s = parse_message(wire);
  EXPECT_EQ(std::to_string(s.size), e.items["RFC822.SIZE"]);
  EXPECT_EQ(s.size, wire.size());
  EXPECT_EQ(imap::render::envelope(s), e.items["ENVELOPE"]);
  EXPECT_EQ(imap::render::body_structure(s, false), e.items["BODY"]);
  EXPECT_EQ(imap::render::body_structure(s, true), e.items["BODYSTRUCTURE"]);
  for (const auto& [spec_text, want] : e.sections) {
    EXPECT_EQ(section_bytes(s, wire, parse_spec(spec_text)), want) << "BODY[" << spec_text << "]";
  }

  // Bare-LF input: same structure, ranges still in CRLF wire offsets.
  MessageStructure lf = parse_message(test::to_lf(wire));
  EXPECT_EQ(lf, s);

  // Cache round trip.
  auto back = deserialize(serialize(s));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, s);
}

INSTANTIATE_TEST_SUITE_P(Eml, DovecotCompat, ::testing::ValuesIn(corpus()),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
}  // namespace mb::mime
