// File: protocols/imap/commands/mailbox.cpp
//
// Mailbox management in the authenticated state (RFC 3501 §6.3.3-10): CREATE, DELETE, RENAME,
// SUBSCRIBE, UNSUBSCRIBE, LIST, LSUB (wildcards '*' and '%', reference names, RFC 3348
// CHILDREN and RFC 6154 SPECIAL-USE attributes, the RFC 5258 basics) and STATUS.
#include <algorithm>

#include "protocols/imap/response.hpp"
#include "protocols/imap/session_impl.hpp"

namespace mb::imap::cmd {

namespace {

constexpr std::size_t kMaxPattern = 1024;

// Glob match of `name` against `pattern`: '*' matches any run, '%' any run without `sep`
// (RFC 3501 §6.3.8). Iterative dynamic programming: O(|name| * |pattern|), no recursion.
bool list_match(std::string_view pattern, std::string_view name, char sep) {
  const std::size_t m = pattern.size();
  std::vector<char> row(m + 1, 0);
  row[0] = 1;
  for (std::size_t j = 1; j <= m; ++j) {
    row[j] = static_cast<char>(row[j - 1] != 0 && (pattern[j - 1] == '*' || pattern[j - 1] == '%'));
  }
  for (char c : name) {
    char diag = row[0];
    row[0] = 0;
    for (std::size_t j = 1; j <= m; ++j) {
      char up = row[j];
      char p = pattern[j - 1];
      char v = 0;
      if (p == '*') {
        v = static_cast<char>(row[j - 1] != 0 || up != 0);
      } else if (p == '%') {
        v = static_cast<char>(row[j - 1] != 0 || (up != 0 && c != sep));
      } else {
        v = static_cast<char>(diag != 0 && p == c);
      }
      diag = up;
      row[j] = v;
    }
  }
  return row[m] != 0;
}

bool iequal_prefix(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if ((s[i] | 0x20) != (prefix[i] | 0x20)) return false;
  }
  return true;
}

// INBOX is case-insensitive (RFC 3501 §5.1): canonicalise a leading "inbox" in the pattern
// when it is followed by the end, a separator or a wildcard.
std::string canonical_pattern(std::string pattern, char sep) {
  if (iequal_prefix(pattern, "INBOX") &&
      (pattern.size() == 5 || pattern[5] == sep || pattern[5] == '*' || pattern[5] == '%')) {
    pattern.replace(0, 5, "INBOX");
  }
  return pattern;
}

std::string_view special_use_attr(store::SpecialUse use) {
  switch (use) {
    case store::SpecialUse::sent: return "\\Sent";
    case store::SpecialUse::drafts: return "\\Drafts";
    case store::SpecialUse::trash: return "\\Trash";
    case store::SpecialUse::junk: return "\\Junk";
    case store::SpecialUse::archive: return "\\Archive";
    case store::SpecialUse::none: return "";
  }
  return "";
}

bool has(const std::vector<std::string>& v, std::string_view what) {
  return std::find(v.begin(), v.end(), what) != v.end();
}

void simple_op_done(ImapSession& s, store::StoreResult<void> r, std::string_view ok_text) {
  if (!r) {
    s.finish_error(r.error());
    return;
  }
  s.finish("OK", ok_text);
}

}  // namespace

void create(ImapSession& s, Command& c) {
  auto name = s.to_store_name(c.get<MailboxArgs>().mailbox);
  if (!name) {
    s.finish("NO", "[CANNOT] Invalid mailbox name");
    return;
  }
  // RFC 3501 §6.3.3: a trailing separator only says the client means to create children.
  while (!name->empty() && name->back() == '/') name->pop_back();
  if (name->empty()) {
    s.finish("NO", "[CANNOT] Invalid mailbox name");
    return;
  }
  if (*name == "INBOX") {
    s.finish("NO", "[ALREADYEXISTS] Mailbox already exists");
    return;
  }
  s.begin_async();
  s.user_store().create(std::move(*name), s.guarded([&s](store::StoreResult<void> r) {
    simple_op_done(s, std::move(r), "Create completed");
  }));
}

void delete_(ImapSession& s, Command& c) {
  auto name = s.to_store_name(c.get<MailboxArgs>().mailbox);
  if (!name) {
    s.finish("NO", "[CANNOT] Invalid mailbox name");
    return;
  }
  if (*name == "INBOX") {
    s.finish("NO", "[CANNOT] INBOX cannot be deleted");
    return;
  }
  s.begin_async();
  s.user_store().remove(std::move(*name), s.guarded([&s](store::StoreResult<void> r) {
    simple_op_done(s, std::move(r), "Delete completed");
  }));
}

void rename(ImapSession& s, Command& c) {
  auto& args = c.get<RenameArgs>();
  auto from = s.to_store_name(args.from);
  auto to = s.to_store_name(args.to);
  if (!from || !to || to->empty()) {
    s.finish("NO", "[CANNOT] Invalid mailbox name");
    return;
  }
  while (!to->empty() && to->back() == '/') to->pop_back();
  if (*to == "INBOX") {
    s.finish("NO", "[ALREADYEXISTS] Mailbox already exists");
    return;
  }
  s.begin_async();
  s.user_store().rename(std::move(*from), std::move(*to),
                        s.guarded([&s](store::StoreResult<void> r) {
                          simple_op_done(s, std::move(r), "Rename completed");
                        }));
}

void subscribe(ImapSession& s, Command& c) {
  bool on = c.name == CommandName::subscribe;
  auto name = s.to_store_name(c.get<MailboxArgs>().mailbox);
  if (!name) {
    s.finish("NO", "[CANNOT] Invalid mailbox name");
    return;
  }
  s.begin_async();
  s.user_store().subscribe(std::move(*name), on, s.guarded([&s, on](store::StoreResult<void> r) {
    simple_op_done(s, std::move(r), on ? "Subscribe completed" : "Unsubscribe completed");
  }));
}

namespace {

// RFC 3501 §6.3.9: when '%' stops at a parent of a subscribed mailbox ("LSUB "" %" with only
// "par/child" subscribed), the parent is returned with \Noselect, unless it is subscribed
// itself (then it was listed already). `wire` presents a store name to the client.
template <class Wire>
void append_lsub_parents(std::string& out, const std::vector<store::MailboxEntry>& entries,
                         const std::vector<std::string>& patterns, char sep, Wire wire) {
  std::vector<std::string> subscribed;  // store names ('/' separated)
  for (const auto& e : entries) {
    if (e.subscribed) subscribed.push_back(e.name);
  }
  std::sort(subscribed.begin(), subscribed.end());
  std::vector<std::string> parents;
  std::string presented;
  for (const auto& name : subscribed) {
    // Each proper ancestor, nearest last: "a", "a/b" for "a/b/c".
    for (std::size_t pos = name.find('/'); pos != std::string::npos;
         pos = name.find('/', pos + 1)) {
      std::string parent = name.substr(0, pos);
      if (parent.empty()) continue;
      if (std::binary_search(subscribed.begin(), subscribed.end(), parent)) continue;
      presented = parent;
      if (sep != '/') std::replace(presented.begin(), presented.end(), '/', sep);
      bool matched = false;
      for (const auto& p : patterns) {
        if (p.find('%') != std::string::npos && list_match(p, presented, sep)) {
          matched = true;
          break;
        }
      }
      if (matched) parents.push_back(std::move(parent));
    }
  }
  std::sort(parents.begin(), parents.end());
  parents.erase(std::unique(parents.begin(), parents.end()), parents.end());
  for (const auto& parent : parents) {
    out += "* LSUB (\\Noselect) \"";
    if (sep == '\\' || sep == '"') out += '\\';
    out += sep;
    out += "\" ";
    append_mailbox(out, wire(parent));
    out += "\r\n";
  }
}

}  // namespace

void list(ImapSession& s, Command& c) {
  bool lsub = c.name == CommandName::lsub;
  auto& args = c.get<ListArgs>();
  const char sep = s.settings().separator;
  std::string_view keyword = lsub ? "LSUB" : "LIST";
  // RFC 3501 §6.3.8: an empty pattern asks for the hierarchy delimiter.
  if (args.patterns.size() == 1 && args.patterns[0].empty()) {
    s.out() += "* ";
    s.out() += keyword;
    s.out() += " (\\Noselect) \"";
    s.out() += sep;
    s.out() += "\" \"\"\r\n";
    s.finish("OK", lsub ? "Lsub completed" : "List completed");
    return;
  }
  std::vector<std::string> patterns;
  for (const auto& p : args.patterns) {
    std::string full = args.reference + p;
    if (full.size() > kMaxPattern) {
      s.finish("BAD", "Pattern too long");
      return;
    }
    patterns.push_back(canonical_pattern(std::move(full), sep));
  }
  bool subscribed_only = lsub || has(args.selection_options, "SUBSCRIBED");
  bool special_only = has(args.selection_options, "SPECIAL-USE");
  bool return_subscribed = has(args.return_options, "SUBSCRIBED") ||
                           has(args.selection_options, "SUBSCRIBED");
  s.begin_async();
  s.user_store().list(s.guarded([&s, patterns = std::move(patterns), lsub, keyword, sep,
                                 subscribed_only, special_only, return_subscribed](
                                    store::StoreResult<std::vector<store::MailboxEntry>> r) {
    if (!r) {
      s.finish_error(r.error());
      return;
    }
    std::string& out = s.out();
    std::string presented;
    for (const auto& e : *r) {
      if (subscribed_only && !e.subscribed) continue;
      if (special_only && e.special_use == store::SpecialUse::none) continue;
      presented = e.name;
      if (sep != '/') std::replace(presented.begin(), presented.end(), '/', sep);
      bool matched = false;
      for (const auto& p : patterns) {
        if (list_match(p, presented, sep)) {
          matched = true;
          break;
        }
      }
      if (!matched) continue;
      out += "* ";
      out += keyword;
      out += " (";
      std::size_t mark = out.size();
      auto attr = [&](std::string_view a) {
        if (out.size() != mark) out += ' ';
        out += a;
      };
      if (e.noselect) attr("\\Noselect");
      if (!lsub) attr(e.has_children ? "\\HasChildren" : "\\HasNoChildren");
      if (return_subscribed && e.subscribed) attr("\\Subscribed");
      if (auto su = special_use_attr(e.special_use); !su.empty()) attr(su);
      out += ") \"";
      if (sep == '\\' || sep == '"') out += '\\';
      out += sep;
      out += "\" ";
      append_mailbox(out, s.to_wire_name(e.name));
      out += "\r\n";
    }
    if (lsub) append_lsub_parents(out, *r, patterns, sep, [&s](std::string_view n) {
      return s.to_wire_name(n);
    });
    s.finish("OK", lsub ? "Lsub completed" : "List completed");
  }));
}

void status(ImapSession& s, Command& c) {
  auto& args = c.get<StatusArgs>();
  auto name = s.to_store_name(args.mailbox);
  if (!name) {
    s.finish("NO", "[CANNOT] Invalid mailbox name");
    return;
  }
  std::string wire = s.to_wire_name(*name);
  s.begin_async();
  s.user_store().status(
      std::move(*name), s.guarded([&s, items = args.items, wire = std::move(wire)](
                                      store::StoreResult<store::MailboxStatus> r) {
        if (!r) {
          s.finish_error(r.error());
          return;
        }
        std::string& out = s.out();
        out += "* STATUS ";
        append_mailbox(out, wire);
        out += " (";
        bool first = true;
        for (StatusItem item : items) {
          if (!first) out += ' ';
          first = false;
          switch (item) {
            case StatusItem::messages: out += "MESSAGES "; append_number(out, r->messages); break;
            case StatusItem::recent: out += "RECENT "; append_number(out, r->recent); break;
            case StatusItem::uidnext: out += "UIDNEXT "; append_number(out, r->uidnext); break;
            case StatusItem::uidvalidity:
              out += "UIDVALIDITY ";
              append_number(out, r->uidvalidity);
              break;
            case StatusItem::unseen: out += "UNSEEN "; append_number(out, r->unseen); break;
            case StatusItem::size: out += "SIZE "; append_number(out, r->size); break;
          }
        }
        out += ")\r\n";
        s.finish("OK", "Status completed");
      }));
}

}  // namespace mb::imap::cmd
