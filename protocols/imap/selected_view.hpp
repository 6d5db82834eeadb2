// File: protocols/imap/selected_view.hpp
//
// One session's view of its selected mailbox: the UID behind each message sequence number as
// this client knows it, which messages are \Recent for this session, and the changes made by
// others that the client has not been told about yet.
//
// The shared store::Mailbox is always current; the view lags behind it on purpose. RFC 3501
// §7.4.1 forbids EXPUNGE responses while FETCH, STORE or SEARCH run (sequence numbers would
// shift under the client), and §5.2 says new messages and flag changes are announced at the
// end of a command. So changes are recorded by note_changes() (called from the session's
// MailboxObserver callback) and turned into untagged EXISTS / RECENT / EXPUNGE / FETCH
// responses by flush() at the points the session allows.
//
// Memory: the UID list as runs of consecutive UIDs (uid_list.hpp: 12 octets per run, at most
// 4 per message), a few octets for \Recent, plus the pending lists, which are empty while
// idle.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "gateway/store/store.hpp"
#include "protocols/imap/uid_list.hpp"

namespace mb::imap {

class SelectedView {
 public:
  // Takes the mailbox's current messages as the initial view and claims \Recent (SELECT).
  // `read_only` (EXAMINE): \Recent is reported but not claimed, so it stays for the next
  // SELECT (RFC 3501 §6.3.2); new messages seen later are not claimed either.
  void reset(store::Mailbox& mailbox, bool read_only = false);
  void clear();

  std::uint32_t exists() const { return uids_.size(); }
  // 1-based sequence number -> UID; seq must be in 1..exists().
  store::Uid uid_at(std::uint32_t seq) const { return uids_.at(seq - 1); }
  // UID -> 1-based sequence number, 0 if not in the view.
  std::uint32_t seq_of(store::Uid uid) const { return uids_.seq_of(uid); }
  const UidList& uids() const { return uids_; }
  // Highest UID in the view, 0 when empty.
  store::Uid max_uid() const { return uids_.empty() ? 0 : uids_.back(); }

  bool is_recent(store::Uid uid) const;
  std::uint32_t recent_count() const;

  // Record changes reported by the mailbox (from MailboxObserver::on_mailbox_changed).
  void note_changes(std::span<const store::Change> changes);
  // True when flush() would send something (or new messages exist in the mailbox).
  bool has_pending(const store::Mailbox& mailbox) const;

  // Append untagged responses for everything pending to `out`: EXPUNGE (only when
  // `allow_expunge`), then EXISTS/RECENT for new messages, then FETCH (FLAGS) for flag changes
  // of messages still present. A new keyword in the mailbox also sends FLAGS and
  // PERMANENTFLAGS (§7.2.6). `with_uid` adds UID to unsolicited FETCH responses.
  void flush(std::string& out, store::Mailbox& mailbox, bool allow_expunge);

  // RFC 3501 §7.2.6: a keyword new to the mailbox must be announced (FLAGS, then OK
  // [PERMANENTFLAGS]) before any FETCH response shows it. Appends both when the mailbox's
  // keyword table grew since the last announcement; otherwise nothing. Called by flush() and
  // before the FETCH responses of STORE and FETCH.
  void announce_keywords(std::string& out, const store::Mailbox& mailbox);

  // This session's own EXPUNGE (or MOVE) removed `removed`: send "* n EXPUNGE" for each in
  // ascending UID order and drop them from the view.
  void expunge_now(std::string& out, std::vector<store::Uid> removed);

  // This session changed flags itself; nothing pending for these UIDs any more.
  void forget_flag_changes(std::span<const store::Uid> uids);

 private:
  void send_expunges(std::string& out, std::vector<store::Uid>& uids);

  UidList uids_;                             // ascending
  // \Recent as ascending, disjoint UID ranges [first, last]: one claim per SELECT or batch of
  // new messages, so usually a single range (8 octets instead of 4 per recent message).
  // Expunged UIDs may stay inside a range: they are no longer in uids_ and never come back.
  struct UidRange {
    store::Uid first;
    store::Uid last;
  };
  std::vector<UidRange> recent_;
  std::vector<store::Uid> pending_expunge_;  // reported by others, not yet sent
  std::vector<store::Uid> pending_flags_;    // reported by others, not yet sent
  std::size_t keyword_count_ = 0;
  bool read_only_ = false;            // size of keywords() when FLAGS was last sent
};

}  // namespace mb::imap
