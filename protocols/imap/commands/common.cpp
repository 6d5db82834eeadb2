// File: protocols/imap/commands/common.cpp
//
// Helpers shared by the command families: sequence-set resolution against the session's
// view, flag-list splitting, and mailbox-name presentation.
#include <algorithm>

#include "protocols/imap/response.hpp"
#include "protocols/imap/session_impl.hpp"
#include "protocols/imap/utf7.hpp"

namespace mb::imap {

std::vector<store::Uid> resolve_set(ImapSession& s, const SequenceSet& set, bool uid, bool* bad) {
  if (bad != nullptr) *bad = false;
  std::vector<store::Uid> out;
  const UidList& uids = s.view().uids();
  if (set.saved) {
    // RFC 5182 §2.1: "$" is the saved result, less what was expunged since; it may be empty.
    for (store::Uid u : s.saved_search()) {
      if (uids.contains(u)) out.push_back(u);
    }
    return out;
  }
  if (uids.empty()) {
    // RFC 3501 §6.4.8: UID ranges in an empty mailbox match nothing. For message sequence
    // numbers RFC 9051 §9 (seq-number) says a server "should" answer BAD, '*' included, and
    // Dovecot does. Clients use "1:*" and "*" to mean "all messages" whatever the count
    // (Python imaplib scripts raise on BAD; Cyrus and Gmail answer OK), so a set whose
    // every element involves '*' matches nothing and succeeds; an explicit number that
    // cannot exist ("1", "2:3") stays BAD as RFC 9051 and Dovecot have it.
    if (!uid && bad != nullptr) {
      for (const auto& r : set.ranges) {
        if (r.first != kSeqStar && r.last != kSeqStar) *bad = true;
      }
    }
    return out;
  }
  if (uid) {
    // '*' is the highest UID in use; "n:*" with n above it still means that message
    // (RFC 3501 §9 seq-range note).
    auto ranges = set.resolve(uids.back());
    for (const auto& r : ranges) uids.append_in(r.first, r.last, out);
    return out;
  }
  const std::uint32_t count = uids.size();
  auto ranges = set.resolve(count);
  for (const auto& r : ranges) {
    if (r.first == 0 || r.last > count) {
      if (bad != nullptr) *bad = true;
      return {};
    }
    for (std::uint32_t seq = r.first; seq <= r.last; ++seq) out.push_back(uids.at(seq - 1));
  }
  return out;
}

bool split_flags(const std::vector<std::string>& names, store::FlagSet& flags,
                 std::vector<std::string>& keywords) {
  flags = 0;
  keywords.clear();
  for (const auto& name : names) {
    if (name.empty()) return false;
    if (name[0] == '\\') {
      bool recent = false;
      store::FlagSet f = system_flag(name, &recent);
      if (f == 0 && !recent) return false;  // unknown system flag (RFC 3501 §2.3.2)
      flags |= f;                           // \Recent cannot be set: ignored
      continue;
    }
    for (char c : name) {
      if (!is_response_atom_char(c)) return false;
    }
    bool dup = false;
    for (const auto& k : keywords) {
      if (k.size() == name.size() &&
          std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
            return (a | 0x20) == (b | 0x20);
          })) {
        dup = true;
      }
    }
    if (!dup) keywords.push_back(name);
  }
  return true;
}

std::string ImapSession::to_wire_name(std::string_view store_name) const {
  std::string presented(store_name);
  if (settings_.separator != '/') {
    for (char& c : presented) {
      if (c == '/') c = settings_.separator;
    }
  }
  auto encoded = utf7_encode(presented);
  return encoded ? std::move(*encoded) : presented;
}

}  // namespace mb::imap
