// File: protocols/imap/selected_view.cpp
#include "protocols/imap/selected_view.hpp"

#include <algorithm>

#include "protocols/imap/response.hpp"

namespace mb::imap {

namespace {

void sort_unique(std::vector<store::Uid>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

}  // namespace

void SelectedView::reset(store::Mailbox& mailbox, bool read_only) {
  clear();
  read_only_ = read_only;
  for (const auto& m : mailbox.messages()) uids_.push_back(m.uid);
  uids_.compact();
  store::Uid first_recent = read_only ? mailbox.first_recent() : mailbox.claim_recent();
  if (!uids_.empty() && uids_.back() >= first_recent) {
    recent_.push_back({std::max(first_recent, uids_.front()), uids_.back()});
  }
  keyword_count_ = mailbox.keywords().size();
}

void SelectedView::clear() {
  // Give the memory back: an idle session should stay small.
  uids_.clear();
  std::vector<UidRange>().swap(recent_);
  std::vector<store::Uid>().swap(pending_expunge_);
  std::vector<store::Uid>().swap(pending_flags_);
  keyword_count_ = 0;
  read_only_ = false;
}

bool SelectedView::is_recent(store::Uid uid) const {
  // The first range ending at or after uid.
  auto it = std::lower_bound(recent_.begin(), recent_.end(), uid,
                             [](const UidRange& r, store::Uid u) { return r.last < u; });
  return it != recent_.end() && it->first <= uid;
}

std::uint32_t SelectedView::recent_count() const {
  std::size_t n = 0;
  for (const auto& r : recent_) n += uids_.count_in(r.first, r.last);
  return static_cast<std::uint32_t>(n);
}

void SelectedView::note_changes(std::span<const store::Change> changes) {
  for (const auto& c : changes) {
    switch (c.kind) {
      case store::Change::Kind::appended:
        // Found at flush() time: every mailbox message above max_uid() is new.
        break;
      case store::Change::Kind::flags:
        if (c.uid <= max_uid()) pending_flags_.push_back(c.uid);
        break;
      case store::Change::Kind::expunged:
        if (c.uid <= max_uid()) pending_expunge_.push_back(c.uid);
        break;
    }
  }
}

bool SelectedView::has_pending(const store::Mailbox& mailbox) const {
  if (!pending_expunge_.empty() || !pending_flags_.empty()) return true;
  if (mailbox.keywords().size() != keyword_count_) return true;
  auto msgs = mailbox.messages();
  return !msgs.empty() && msgs.back().uid > max_uid();
}

void SelectedView::send_expunges(std::string& out, std::vector<store::Uid>& removed) {
  sort_unique(removed);
  // Walk in ascending UID order; each EXPUNGE renumbers the later messages (§7.4.1), so
  // the sequence number is computed after the earlier removals.
  for (store::Uid uid : removed) {
    std::uint32_t seq = seq_of(uid);
    if (seq == 0) continue;
    out.append("* ");
    append_number(out, seq);
    out.append(" EXPUNGE\r\n");
    uids_.erase_at(seq - 1);
  }
}

void SelectedView::expunge_now(std::string& out, std::vector<store::Uid> removed) {
  send_expunges(out, removed);
  // Our own expunge may overlap with one others already reported to us.
  if (!pending_expunge_.empty()) {
    std::erase_if(pending_expunge_, [&](store::Uid u) { return seq_of(u) == 0; });
  }
}

void SelectedView::forget_flag_changes(std::span<const store::Uid> uids) {
  if (pending_flags_.empty()) return;
  sort_unique(pending_flags_);
  for (store::Uid u : uids) {
    auto it = std::lower_bound(pending_flags_.begin(), pending_flags_.end(), u);
    if (it != pending_flags_.end() && *it == u) pending_flags_.erase(it);
  }
}

void SelectedView::announce_keywords(std::string& out, const store::Mailbox& mailbox) {
  const auto& keyword_table = mailbox.keywords();
  if (keyword_table.size() == keyword_count_) return;
  keyword_count_ = keyword_table.size();
  out.append("* FLAGS ");
  append_mailbox_flags(out, keyword_table);
  out.append("\r\n* OK [PERMANENTFLAGS ");
  std::string flags;
  append_mailbox_flags(flags, keyword_table);
  flags.insert(flags.size() - 1, " \\*");
  out.append(flags);
  out.append("] Flags permitted\r\n");
}

void SelectedView::flush(std::string& out, store::Mailbox& mailbox, bool allow_expunge) {
  if (allow_expunge && !pending_expunge_.empty()) {
    send_expunges(out, pending_expunge_);
    pending_expunge_.clear();
  }

  // New messages: everything the mailbox holds above our highest UID.
  auto msgs = mailbox.messages();
  store::Uid top = max_uid();
  auto first_new = std::upper_bound(msgs.begin(), msgs.end(), top,
                                    [](store::Uid u, const store::MessageInfo& m) {
                                      return u < m.uid;
                                    });
  if (first_new != msgs.end()) {
    for (auto it = first_new; it != msgs.end(); ++it) uids_.push_back(it->uid);
    uids_.compact();
    store::Uid first_recent = read_only_ ? mailbox.first_recent() : mailbox.claim_recent();
    // Ours: the new UIDs from the claim boundary on (above every earlier range).
    store::Uid lo = std::max(first_recent, first_new->uid);
    if (uids_.back() >= lo) recent_.push_back({lo, uids_.back()});
  }

  auto& keyword_table = mailbox.keywords();
  announce_keywords(out, mailbox);

  if (first_new != msgs.end()) {
    out.append("* ");
    append_number(out, uids_.size());
    out.append(" EXISTS\r\n* ");
    append_number(out, recent_count());
    out.append(" RECENT\r\n");
  }

  if (!pending_flags_.empty()) {
    sort_unique(pending_flags_);
    for (store::Uid uid : pending_flags_) {
      std::uint32_t seq = seq_of(uid);
      const store::MessageInfo* info = mailbox.find(uid);
      if (seq == 0 || info == nullptr) continue;  // expunged meanwhile
      out.append("* ");
      append_number(out, seq);
      out.append(" FETCH (FLAGS ");
      append_flag_list(out, info->flags, info->keywords, keyword_table, is_recent(uid));
      out.append(")\r\n");
    }
    std::vector<store::Uid>().swap(pending_flags_);
  }
  if (pending_expunge_.empty() && pending_expunge_.capacity() > 64) {
    std::vector<store::Uid>().swap(pending_expunge_);
  }
}

}  // namespace mb::imap
