// File: protocols/imap/search_parse.cpp
#include "protocols/imap/search_parse.hpp"

#include <array>
#include <string>
#include <utility>

#include "protocols/imap/datetime_parse.hpp"
#include "protocols/imap/seqset.hpp"

namespace mb::imap {
namespace {

enum class Operand : std::uint8_t { none, string, keyword, header, date, number, seqset, one, two };

struct KeyDef {
  std::string_view name;
  SearchOp op;
  Operand operand;
};

constexpr std::array<KeyDef, 35> kKeys = {{
    {"ALL", SearchOp::all, Operand::none},
    {"ANSWERED", SearchOp::answered, Operand::none},
    {"BCC", SearchOp::bcc, Operand::string},
    {"BEFORE", SearchOp::before, Operand::date},
    {"BODY", SearchOp::body, Operand::string},
    {"CC", SearchOp::cc, Operand::string},
    {"DELETED", SearchOp::deleted, Operand::none},
    {"DRAFT", SearchOp::draft, Operand::none},
    {"FLAGGED", SearchOp::flagged, Operand::none},
    {"FROM", SearchOp::from, Operand::string},
    {"HEADER", SearchOp::header, Operand::header},
    {"KEYWORD", SearchOp::keyword, Operand::keyword},
    {"LARGER", SearchOp::larger, Operand::number},
    {"NEW", SearchOp::new_, Operand::none},
    {"NOT", SearchOp::not_, Operand::one},
    {"OLD", SearchOp::old, Operand::none},
    {"ON", SearchOp::on, Operand::date},
    {"OR", SearchOp::or_, Operand::two},
    {"RECENT", SearchOp::recent, Operand::none},
    {"SEEN", SearchOp::seen, Operand::none},
    {"SENTBEFORE", SearchOp::sentbefore, Operand::date},
    {"SENTON", SearchOp::senton, Operand::date},
    {"SENTSINCE", SearchOp::sentsince, Operand::date},
    {"SINCE", SearchOp::since, Operand::date},
    {"SMALLER", SearchOp::smaller, Operand::number},
    {"SUBJECT", SearchOp::subject, Operand::string},
    {"TEXT", SearchOp::text, Operand::string},
    {"TO", SearchOp::to, Operand::string},
    {"UID", SearchOp::uid, Operand::seqset},
    {"UNANSWERED", SearchOp::unanswered, Operand::none},
    {"UNDELETED", SearchOp::undeleted, Operand::none},
    {"UNDRAFT", SearchOp::undraft, Operand::none},
    {"UNFLAGGED", SearchOp::unflagged, Operand::none},
    {"UNKEYWORD", SearchOp::unkeyword, Operand::keyword},
    {"UNSEEN", SearchOp::unseen, Operand::none},
}};

bool is_key_char(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool is_flag_atom_char(char c) { return is_atom_char(c) && static_cast<unsigned char>(c) < 0x80; }

class SearchParser {
 public:
  explicit SearchParser(Cursor& cur) : cur_(cur) {}

  bool key(SearchKey& out) {
    if (++count_ > cur_.limits().max_items)
      return cur_.fail(ParseErrorKind::too_many, "too many search keys");
    if (!cur_.enter()) return false;
    const bool ok = key_inner(out);
    cur_.leave();
    return ok;
  }

 private:
  bool key_inner(SearchKey& out) {
    const int c = cur_.peek();
    if (c == '(') {
      cur_.consume('(');
      out.op = SearchOp::all_of;
      for (;;) {
        out.children.emplace_back();
        if (!key(out.children.back())) return false;
        if (cur_.consume(')')) return true;
        if (!cur_.sp()) return false;
      }
    }
    if ((c >= '0' && c <= '9') || c == '*' || c == '$') {
      out.op = SearchOp::seqset;
      return parse_seqset(cur_, out.set);
    }
    const std::string name = to_upper(cur_.take_while(is_key_char));
    const KeyDef* def = nullptr;
    for (const auto& k : kKeys)
      if (k.name == name) def = &k;
    if (def == nullptr || (cur_.peek() != -1 && cur_.peek() != ' ' && cur_.peek() != ')'))
      return cur_.fail_syntax("unknown search key " + name);
    out.op = def->op;
    switch (def->operand) {
      case Operand::none:
        return true;
      case Operand::string:
        return cur_.sp() && string_operand(out.text);
      case Operand::keyword: {
        if (!cur_.sp()) return false;
        std::string flag;
        if (cur_.consume('\\')) flag = "\\";
        auto a = cur_.take_while(is_flag_atom_char);
        if (a.empty()) return cur_.fail_syntax("expected keyword");
        out.text = flag.append(a);
        return true;
      }
      case Operand::header:
        return cur_.sp() && string_operand(out.header_name) && cur_.sp() &&
               string_operand(out.text);
      case Operand::date: {
        if (!cur_.sp()) return false;
        std::string text;
        if (cur_.peek() == '"') {
          auto q = cur_.quoted();
          if (!q) return false;
          text = std::move(*q);
        } else {
          auto a = cur_.atom();
          if (!a) return cur_.fail_syntax("expected date");
          text = std::string(*a);
        }
        auto d = parse_date(text);
        if (!d) return cur_.fail_syntax("invalid date " + text);
        out.date = *d;
        return true;
      }
      case Operand::number: {
        if (!cur_.sp()) return false;
        auto n = cur_.number64();
        if (!n) return cur_.fail_syntax("expected number");
        out.number = *n;
        return true;
      }
      case Operand::seqset:
        return cur_.sp() && parse_seqset(cur_, out.set);
      case Operand::one:
        out.children.emplace_back();
        return cur_.sp() && key(out.children.back());
      case Operand::two:
        out.children.emplace_back();
        if (!cur_.sp() || !key(out.children.back())) return false;
        out.children.emplace_back();
        return cur_.sp() && key(out.children.back());
    }
    return false;
  }

  bool string_operand(std::string& out) {
    auto s = cur_.astring();
    if (!s) return cur_.fail_syntax("expected string");
    out = std::move(*s);
    return true;
  }

  Cursor& cur_;
  std::size_t count_ = 0;
};

}  // namespace

bool parse_search(Cursor& cur, SearchArgs& out) {
  out.key = SearchKey{};
  out.key.op = SearchOp::all_of;
  // RFC 4731 §4 / RFC 5182 §4: search = "SEARCH" [SP "RETURN" SP "(" [opt *(SP opt)] ")"]
  // [SP "CHARSET" SP astring] 1*(SP search-key).
  if (cur.keyword("RETURN")) {
    if (!cur.sp() || !cur.consume('(')) return cur.fail_syntax("expected RETURN (");
    out.extended = true;
    std::size_t count = 0;
    while (!cur.consume(')')) {
      if (count > 0 && !cur.sp()) return false;
      if (++count > 8) return cur.fail(ParseErrorKind::too_many, "too many RETURN options");
      const std::string opt = to_upper(cur.take_while(is_key_char));
      if (opt == "MIN") out.returns |= kReturnMin;
      else if (opt == "MAX") out.returns |= kReturnMax;
      else if (opt == "ALL") out.returns |= kReturnAll;
      else if (opt == "COUNT") out.returns |= kReturnCount;
      else if (opt == "SAVE") out.returns |= kReturnSave;
      else return cur.fail_syntax("unknown RETURN option " + opt);
    }
    if (out.returns == 0) out.returns = kReturnAll;  // "RETURN ()" means (ALL), §3.1
    if (!cur.sp()) return false;
  }
  if (cur.keyword("CHARSET")) {
    auto cs = cur.sp() ? cur.astring() : std::nullopt;
    if (!cs) return cur.fail_syntax("expected charset");
    out.charset = to_upper(*cs);
    if (!cur.sp()) return false;
  }
  return parse_search_keys(cur, out.key);
}

bool parse_search_keys(Cursor& cur, SearchKey& out) {
  out = SearchKey{};
  out.op = SearchOp::all_of;
  SearchParser p(cur);
  for (;;) {
    out.children.emplace_back();
    if (!p.key(out.children.back())) return false;
    if (cur.at_end()) return true;
    if (!cur.sp()) return false;
  }
}

}  // namespace mb::imap
