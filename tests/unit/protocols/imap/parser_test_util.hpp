// File: tests/unit/protocols/imap/parser_test_util.hpp
//
// Helpers for the imap parser suites: feed input in chunks of a given size, collect every
// event, and render events as text so that different chunkings can be compared exactly.
// NeedContinuation is accepted (as a session that sends "+ OK" would) unless told otherwise.
#pragma once

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "protocols/imap/parser.hpp"

namespace mb::imap::test {

inline void dump_set(std::ostringstream& o, const SequenceSet& s) {
  for (std::size_t i = 0; i < s.ranges.size(); ++i) {
    if (i) o << ',';
    o << s.ranges[i].first;
    if (s.ranges[i].last != s.ranges[i].first) o << ':' << s.ranges[i].last;
  }
}

inline void dump_key(std::ostringstream& o, const SearchKey& k) {
  o << '(' << static_cast<int>(k.op);
  if (!k.text.empty()) o << " t=" << k.text;
  if (!k.header_name.empty()) o << " h=" << k.header_name;
  if (k.number) o << " n=" << k.number;
  o << " d=" << k.date.year << '-' << k.date.month << '-' << k.date.day;
  if (!k.set.ranges.empty()) {
    o << " s=";
    dump_set(o, k.set);
  }
  for (const auto& c : k.children) dump_key(o, c);
  o << ')';
}

inline std::string describe(const Command& c) {
  std::ostringstream o;
  o << "CMD " << c.tag << ' ' << (c.uid ? "UID " : "") << command_name_text(c.name);
  std::visit(
      [&](const auto& a) {
        using T = std::decay_t<decltype(a)>;
        if constexpr (std::is_same_v<T, LoginArgs>) {
          o << " user=" << a.user << " pass=" << a.password;
        } else if constexpr (std::is_same_v<T, AuthenticateArgs>) {
          o << " mech=" << a.mechanism << " ir=" << a.initial_response.value_or("<none>");
        } else if constexpr (std::is_same_v<T, MailboxArgs>) {
          o << " mbox=" << a.mailbox.name << " wire=" << a.mailbox.wire;
        } else if constexpr (std::is_same_v<T, RenameArgs>) {
          o << " from=" << a.from.name << " to=" << a.to.name;
        } else if constexpr (std::is_same_v<T, ListArgs>) {
          o << " ref=" << a.reference;
          for (const auto& p : a.patterns) o << " pat=" << p;
          for (const auto& p : a.selection_options) o << " sel=" << p;
          for (const auto& p : a.return_options) o << " ret=" << p;
        } else if constexpr (std::is_same_v<T, StatusArgs>) {
          o << " mbox=" << a.mailbox.name;
          for (auto i : a.items) o << ' ' << static_cast<int>(i);
        } else if constexpr (std::is_same_v<T, AppendArgs>) {
          o << " mbox=" << a.mailbox.name;
          for (const auto& f : a.flags) o << " flag=" << f;
          if (a.date) o << " date=" << a.date->to_unix();
          o << " size=" << a.size << " msg=" << a.message;
          for (const auto& m : a.more) o << " more=" << m.message;
        } else if constexpr (std::is_same_v<T, ExpungeArgs>) {
          if (a.uid_set) {
            o << " set=";
            dump_set(o, *a.uid_set);
          }
        } else if constexpr (std::is_same_v<T, SearchArgs>) {
          o << " charset=" << a.charset.value_or("<none>") << ' ';
          dump_key(o, a.key);
        } else if constexpr (std::is_same_v<T, FetchArgs>) {
          o << " set=";
          dump_set(o, a.set);
          for (const auto& f : a.atts) {
            o << " att=" << static_cast<int>(f.item) << (f.peek ? ".peek" : "") << '[' << f.spec
                << ']';
            if (f.partial) o << '<' << f.partial->offset << '.' << f.partial->length << '>';
          }
        } else if constexpr (std::is_same_v<T, StoreArgs>) {
          o << " set=";
          dump_set(o, a.set);
          o << " mode=" << static_cast<int>(a.mode) << (a.silent ? " silent" : "");
          for (const auto& f : a.flags) o << " flag=" << f;
        } else if constexpr (std::is_same_v<T, CopyArgs>) {
          o << " set=";
          dump_set(o, a.set);
          o << " mbox=" << a.mailbox.name;
        } else if constexpr (std::is_same_v<T, EnableArgs>) {
          for (const auto& x : a.capabilities) o << ' ' << x;
        } else if constexpr (std::is_same_v<T, IdArgs>) {
          o << (a.nil ? " NIL" : "");
          for (const auto& [k, v] : a.params) o << ' ' << k << '=' << v.value_or("NIL");
        }
      },
      c.args);
  return o.str();
}

inline std::string describe(const ParseEvent& ev) {
  std::ostringstream o;
  if (auto* c = std::get_if<Command>(&ev)) return describe(*c);
  if (auto* n = std::get_if<NeedContinuation>(&ev))
    o << "CONT " << n->tag << ' ' << n->size << (n->append_message ? " msg" : "");
  else if (auto* r = std::get_if<RawLine>(&ev))
    o << "RAW " << r->line;
  else if (std::holds_alternative<IdleDone>(ev))
    o << "DONE";
  else if (auto* e = std::get_if<ParseError>(&ev))
    o << "ERR tag=" << e->tag << " kind=" << static_cast<int>(e->kind) << (e->fatal ? " fatal" : "")
      << " lit=" << e->literal_size << ' ' << e->text;
  else
    o << "NEEDMORE";
  return o.str();
}

// Feed `input` in chunks of `chunk` bytes (0 = all at once); collect events as text.
inline std::vector<std::string> run(Parser& p, std::string_view input, std::size_t chunk = 0) {
  std::vector<std::string> out;
  if (chunk == 0) chunk = input.size() ? input.size() : 1;
  for (std::size_t off = 0; off < input.size(); off += chunk) {
    p.feed(input.substr(off, chunk));
    for (;;) {
      ParseEvent ev = p.next();
      if (std::holds_alternative<NeedMore>(ev)) break;
      out.push_back(describe(ev));
    }
  }
  return out;
}

inline std::vector<std::string> run(std::string_view input, std::size_t chunk = 0,
                                    ParserLimits limits = {}) {
  Parser p(limits);
  return run(p, input, chunk);
}

// Parse exactly one command from `input` fed at once; fails the test otherwise.
inline Command one(std::string_view input) {
  Parser p;
  p.feed(input);
  ParseEvent ev = p.next();
  while (std::holds_alternative<NeedContinuation>(ev)) ev = p.next();
  if (auto* c = std::get_if<Command>(&ev)) return std::move(*c);
  ADD_FAILURE() << "expected a command for " << input << ", got " << describe(ev);
  return {};
}

// Parse `input` fed at once and return its first event that is not a continuation.
inline ParseEvent first(std::string_view input, ParserLimits limits = {}) {
  Parser p(limits);
  p.feed(input);
  ParseEvent ev = p.next();
  while (std::holds_alternative<NeedContinuation>(ev)) ev = p.next();
  return ev;
}

inline ParseError error_of(std::string_view input, ParserLimits limits = {}) {
  ParseEvent ev = first(input, limits);
  if (auto* e = std::get_if<ParseError>(&ev)) return *e;
  ADD_FAILURE() << "expected an error for " << input << ", got " << describe(ev);
  return {};
}

}  // namespace mb::imap::test
