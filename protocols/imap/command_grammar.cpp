// File: protocols/imap/command_grammar.cpp
#include "protocols/imap/command_grammar.hpp"

#include <string>
#include <utility>

#include "protocols/imap/datetime_parse.hpp"
#include "protocols/imap/fetch_parse.hpp"
#include "protocols/imap/search_parse.hpp"

namespace mb::imap {

std::optional<CommandName> command_from_name(std::string_view name) {
  for (std::size_t i = 0; i <= static_cast<std::size_t>(CommandName::thread); ++i) {
    const auto n = static_cast<CommandName>(i);
    if (iequals(name, command_name_text(n))) return n;
  }
  return std::nullopt;
}

bool takes_uid_prefix(CommandName name) {
  switch (name) {
    case CommandName::fetch: case CommandName::search: case CommandName::store:
    case CommandName::copy: case CommandName::move: case CommandName::expunge:
    case CommandName::sort: case CommandName::thread:
      return true;
    default:
      return false;
  }
}

bool is_tag_char(char c) {
  return c != '+' && static_cast<unsigned char>(c) < 0x80 && is_astring_char(c);
}

namespace {

bool is_name_char(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool is_capability_char(char c) {
  return is_atom_char(c) && static_cast<unsigned char>(c) < 0x80;
}

// "(" atom *(SP atom) ")", upper-cased (LIST-EXTENDED options).
bool atom_list(Cursor& cur, std::vector<std::string>& out) {
  if (!cur.consume('(')) return cur.fail_syntax("expected (");
  if (cur.consume(')')) return true;
  for (;;) {
    auto a = cur.atom();
    if (!a) return cur.fail_syntax("expected option");
    if (out.size() >= cur.limits().max_items)
      return cur.fail(ParseErrorKind::too_many, "too many options");
    out.push_back(to_upper(*a));
    if (cur.consume(')')) return true;
    if (!cur.sp()) return false;
  }
}

bool parse_list(Cursor& cur, ListArgs& a, bool lsub) {
  // RFC 5258: LIST [SP "(" selection-options ")"] SP mailbox SP mbox-or-pat [SP RETURN (...)]
  if (!lsub && cur.peek() == '(') {
    a.extended = true;
    if (!atom_list(cur, a.selection_options) || !cur.sp()) return false;
  }
  // The reference is a mailbox per the grammar; decoded like a pattern, without INBOX folding.
  if (!parse_list_mailbox(cur, a.reference)) return false;
  if (!cur.sp()) return false;
  if (!lsub && cur.peek() == '(') {
    a.extended = true;
    cur.consume('(');
    for (;;) {
      std::string p;
      if (!parse_list_mailbox(cur, p)) return false;
      if (a.patterns.size() >= cur.limits().max_items)
        return cur.fail(ParseErrorKind::too_many, "too many patterns");
      a.patterns.push_back(std::move(p));
      if (cur.consume(')')) break;
      if (!cur.sp()) return false;
    }
  } else {
    std::string p;
    if (!parse_list_mailbox(cur, p)) return false;
    a.patterns.push_back(std::move(p));
  }
  if (!lsub && cur.peek() == ' ') {
    cur.consume(' ');
    if (!cur.keyword("RETURN") || !cur.sp()) return cur.fail_syntax("expected RETURN");
    a.extended = true;
    if (!atom_list(cur, a.return_options)) return false;
  }
  return true;
}

bool parse_status(Cursor& cur, StatusArgs& a) {
  if (!parse_mailbox(cur, a.mailbox) || !cur.sp()) return false;
  if (!cur.consume('(')) return cur.fail_syntax("expected (");
  for (;;) {
    auto item = cur.atom();
    if (!item) return cur.fail_syntax("expected status item");
    const std::string u = to_upper(*item);
    StatusItem s;
    if (u == "MESSAGES") s = StatusItem::messages;
    else if (u == "RECENT") s = StatusItem::recent;
    else if (u == "UIDNEXT") s = StatusItem::uidnext;
    else if (u == "UIDVALIDITY") s = StatusItem::uidvalidity;
    else if (u == "UNSEEN") s = StatusItem::unseen;
    else if (u == "SIZE") s = StatusItem::size;  // RFC 8438
    else return cur.fail_syntax("unknown status item " + u);
    if (a.items.size() >= cur.limits().max_items)
      return cur.fail(ParseErrorKind::too_many, "too many status items");
    a.items.push_back(s);
    if (cur.consume(')')) return true;
    if (!cur.sp()) return false;
  }
}

bool parse_append(Cursor& cur, AppendArgs& a) {
  if (!parse_mailbox(cur, a.mailbox) || !cur.sp()) return false;
  if (cur.peek() == '(') {
    if (!parse_flags(cur, a.flags, true) || !cur.sp()) return false;
  }
  if (cur.peek() == '"') {
    auto q = cur.quoted();
    if (!q) return false;
    a.date = parse_date_time(*q);
    if (!a.date) return cur.fail_syntax("invalid date-time");
    if (!cur.sp()) return false;
  }
  // append = ... SP literal (RFC 3501 §9): the message must be a literal.
  auto msg = cur.literal();
  if (!msg) return cur.fail_syntax("expected message literal");
  a.message = std::move(*msg);
  a.size = a.message.size();
  // RFC 3502 §6: append = "APPEND" SP mailbox 1*append-message, each
  // append-message = SP [flag-list SP] [date-time SP] literal. The parser caps the count
  // and the total size of the literals (parser.cpp).
  while (cur.peek() == ' ') {
    cur.consume(' ');
    AppendMessage m;
    if (cur.peek() == '(') {
      if (!parse_flags(cur, m.flags, true) || !cur.sp()) return false;
    }
    if (cur.peek() == '"') {
      auto q = cur.quoted();
      if (!q) return false;
      m.date = parse_date_time(*q);
      if (!m.date) return cur.fail_syntax("invalid date-time");
      if (!cur.sp()) return false;
    }
    auto more = cur.literal();
    if (!more) return cur.fail_syntax("expected message literal");
    m.message = std::move(*more);
    a.more.push_back(std::move(m));
  }
  return true;
}

bool parse_store(Cursor& cur, StoreArgs& a) {
  if (!parse_seqset(cur, a.set) || !cur.sp()) return false;
  if (cur.consume('+')) a.mode = StoreMode::add;
  else if (cur.consume('-')) a.mode = StoreMode::remove;
  if (cur.keyword("FLAGS.SILENT")) a.silent = true;
  else if (!cur.keyword("FLAGS")) return cur.fail_syntax("expected FLAGS, +FLAGS or -FLAGS");
  if (!cur.sp()) return false;
  return parse_flags(cur, a.flags, cur.peek() == '(');
}

bool parse_id(Cursor& cur, IdArgs& a) {
  if (cur.keyword("NIL")) {
    a.nil = true;
    return true;
  }
  if (!cur.consume('(')) return cur.fail_syntax("expected ( or NIL");
  if (cur.consume(')')) return true;  // tolerated: Outlook sends ID ()
  for (;;) {
    auto key = cur.string();
    if (!key) return cur.fail_syntax("expected ID field name");
    std::optional<std::string> value;
    if (!cur.sp() || !cur.nstring(value)) return cur.fail_syntax("expected ID field value");
    if (a.params.size() >= 30)  // RFC 2971 §3.3: at most 30 field-value pairs
      return cur.fail(ParseErrorKind::too_many, "too many ID fields");
    a.params.emplace_back(std::move(*key), std::move(value));
    if (cur.consume(')')) return true;
    if (!cur.sp()) return false;
  }
}

// RFC 5256 §5: sort = ["UID" SP] "SORT" SP sort-criteria SP search-criteria;
// sort-criteria = "(" sort-criterion *(SP sort-criterion) ")";
// sort-criterion = ["REVERSE" SP] sort-key; search-criteria = charset 1*(SP search-key).
bool parse_sort(Cursor& cur, SortArgs& a) {
  if (a.thread) {
    // thread = ["UID" SP] "THREAD" SP thread-alg SP search-criteria (RFC 5256 §5).
    auto alg = cur.atom();
    if (alg && to_upper(*alg) == "REFERENCES") a.references = true;
    else if (!alg || to_upper(*alg) != "ORDEREDSUBJECT")
      return cur.fail_syntax("unsupported thread algorithm (ORDEREDSUBJECT, REFERENCES)");
  } else if (!cur.consume('(')) {
    return cur.fail_syntax("expected sort criteria");
  }
  while (!a.thread) {
    SortKey k;
    if (cur.keyword("REVERSE")) {
      k.reverse = true;
      if (!cur.sp()) return false;
    }
    auto name = cur.atom();
    if (!name) return cur.fail_syntax("expected sort key");
    const std::string u = to_upper(*name);
    if (u == "ARRIVAL") k.criterion = SortCriterion::arrival;
    else if (u == "CC") k.criterion = SortCriterion::cc;
    else if (u == "DATE") k.criterion = SortCriterion::date;
    else if (u == "FROM") k.criterion = SortCriterion::from;
    else if (u == "SIZE") k.criterion = SortCriterion::size;
    else if (u == "SUBJECT") k.criterion = SortCriterion::subject;
    else if (u == "TO") k.criterion = SortCriterion::to;
    else return cur.fail_syntax("unknown sort key " + u);
    if (a.keys.size() >= 16) return cur.fail(ParseErrorKind::too_many, "too many sort keys");
    a.keys.push_back(k);
    if (cur.consume(')')) break;
    if (!cur.sp()) return false;
  }
  if (!cur.sp()) return false;
  auto charset = cur.astring();
  if (!charset) return cur.fail_syntax("expected charset");
  a.search.charset = to_upper(*charset);
  if (!cur.sp()) return false;
  return parse_search_keys(cur, a.search.key);
}

bool parse_args(Cursor& cur, Command& out) {
  switch (out.name) {
    case CommandName::capability: case CommandName::noop: case CommandName::logout:
    case CommandName::starttls: case CommandName::check: case CommandName::close:
    case CommandName::unselect: case CommandName::idle: case CommandName::namespace_:
      out.args = NoArgs{};
      return true;
    case CommandName::expunge: {
      ExpungeArgs a;
      if (out.uid) {
        a.uid_set.emplace();
        if (!cur.sp() || !parse_seqset(cur, *a.uid_set)) return false;
      }
      out.args = std::move(a);
      return true;
    }
    case CommandName::login: {
      LoginArgs a;
      auto user = cur.sp() ? cur.astring() : std::nullopt;
      if (!user) return cur.fail_syntax("expected user name");
      auto pass = cur.sp() ? cur.astring() : std::nullopt;
      if (!pass) return cur.fail_syntax("expected password");
      a.user = std::move(*user);
      a.password = std::move(*pass);
      out.args = std::move(a);
      return true;
    }
    case CommandName::authenticate: {
      AuthenticateArgs a;
      auto mech = cur.sp() ? cur.atom() : std::nullopt;
      if (!mech) return cur.fail_syntax("expected SASL mechanism");
      a.mechanism = to_upper(*mech);
      if (cur.peek() == ' ') {
        cur.consume(' ');
        auto ir = cur.atom();  // base64 / "=" (RFC 4959)
        if (!ir) return cur.fail_syntax("expected initial response");
        a.initial_response = std::string(*ir);
      }
      out.args = std::move(a);
      return true;
    }
    case CommandName::select: case CommandName::examine: case CommandName::create:
    case CommandName::delete_: case CommandName::subscribe: case CommandName::unsubscribe: {
      MailboxArgs a;
      const NameUse use = out.name == CommandName::create ? NameUse::created : NameUse::existing;
      if (!cur.sp() || !parse_mailbox(cur, a.mailbox, use)) return false;
      out.args = std::move(a);
      return true;
    }
    case CommandName::rename: {
      RenameArgs a;
      if (!cur.sp() || !parse_mailbox(cur, a.from) || !cur.sp() ||
          !parse_mailbox(cur, a.to, NameUse::created))
        return false;
      out.args = std::move(a);
      return true;
    }
    case CommandName::list: case CommandName::lsub: {
      ListArgs a;
      if (!cur.sp() || !parse_list(cur, a, out.name == CommandName::lsub)) return false;
      out.args = std::move(a);
      return true;
    }
    case CommandName::status: {
      StatusArgs a;
      if (!cur.sp() || !parse_status(cur, a)) return false;
      out.args = std::move(a);
      return true;
    }
    case CommandName::append: {
      AppendArgs a;
      if (!cur.sp() || !parse_append(cur, a)) return false;
      out.args = std::move(a);
      return true;
    }
    case CommandName::search: {
      SearchArgs a;
      if (!cur.sp() || !parse_search(cur, a)) return false;
      out.args = std::move(a);
      return true;
    }
    case CommandName::fetch: {
      FetchArgs a;
      if (!cur.sp() || !parse_seqset(cur, a.set) || !cur.sp() || !parse_fetch_atts(cur, a.atts))
        return false;
      out.args = std::move(a);
      return true;
    }
    case CommandName::store: {
      StoreArgs a;
      if (!cur.sp() || !parse_store(cur, a)) return false;
      out.args = std::move(a);
      return true;
    }
    case CommandName::copy: case CommandName::move: {
      CopyArgs a;
      if (!cur.sp() || !parse_seqset(cur, a.set) || !cur.sp() || !parse_mailbox(cur, a.mailbox))
        return false;
      out.args = std::move(a);
      return true;
    }
    case CommandName::enable: {
      EnableArgs a;
      do {
        if (!cur.sp()) return false;
        auto cap = cur.take_while(is_capability_char);
        if (cap.empty()) return cur.fail_syntax("expected capability");
        if (a.capabilities.size() >= cur.limits().max_items)
          return cur.fail(ParseErrorKind::too_many, "too many capabilities");
        a.capabilities.push_back(to_upper(cap));
      } while (cur.peek() == ' ');
      out.args = std::move(a);
      return true;
    }
    case CommandName::sort: case CommandName::thread: {
      SortArgs a;
      a.thread = out.name == CommandName::thread;
      if (!cur.sp() || !parse_sort(cur, a)) return false;
      out.args = std::move(a);
      return true;
    }
    case CommandName::id: {
      IdArgs a;
      if (!cur.sp() || !parse_id(cur, a)) return false;
      out.args = std::move(a);
      return true;
    }
  }
  return false;
}

}  // namespace

bool parse_command(Cursor& cur, Command& out, bool& name_known) {
  name_known = false;
  auto tag = cur.take_while(is_tag_char);
  if (tag.empty()) return cur.fail(ParseErrorKind::bad_tag, "Invalid tag");
  out.tag = std::string(tag);
  if (!cur.consume(' ')) return cur.fail(ParseErrorKind::bad_tag, "Invalid tag");
  auto name = cur.take_while(is_name_char);
  if (iequals(name, "UID")) {
    out.uid = true;
    if (!cur.consume(' ')) return cur.fail_syntax("expected command after UID");
    name = cur.take_while(is_name_char);
  }
  auto cmd = command_from_name(name);
  if (!cmd || (cur.peek() != -1 && cur.peek() != ' ') || (out.uid && !takes_uid_prefix(*cmd)))
    return cur.fail(ParseErrorKind::unknown_command, "Unknown command");
  out.name = *cmd;
  name_known = true;
  if (!parse_args(cur, out)) {
    if (!cur.failed()) cur.fail_syntax("syntax error");
    return false;
  }
  if (!cur.at_end()) return cur.fail_syntax("unexpected characters at end of command");
  return true;
}

}  // namespace mb::imap
