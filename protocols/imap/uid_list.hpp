// File: protocols/imap/uid_list.hpp
//
// The ascending UID list behind a session's message sequence numbers (SelectedView), kept
// small for idle sessions: as runs of consecutive UIDs, so a mailbox whose UIDs have few
// gaps costs a few octets instead of 4 per message (an IDLE session on a 1,000-message
// INBOX: 12 octets instead of 4 KB). A list so fragmented that runs would cost more than a
// plain array (over one run per 3 UIDs) is kept as the plain array instead.
//
// Contract: UIDs are strictly ascending; push_back() takes a UID above back(). Index and UID
// lookups are O(log runs); erase_at() is O(runs) (as erasing from an array was O(n)).
#pragma once

#include <cstdint>
#include <vector>

#include "gateway/store/store.hpp"

namespace mb::imap {

class UidList {
 public:
  using Uid = store::Uid;

  std::uint32_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // The UID at 0-based index i (i < size()).
  Uid at(std::uint32_t i) const;
  Uid front() const { return at(0); }
  Uid back() const { return at(size_ - 1); }
  // 1-based position of uid, 0 when absent (a message sequence number).
  std::uint32_t seq_of(Uid uid) const;
  bool contains(Uid uid) const { return seq_of(uid) != 0; }
  // How many UIDs lie in [lo, hi].
  std::uint32_t count_in(Uid lo, Uid hi) const;
  // Appends the UIDs in [lo, hi] to out, ascending.
  void append_in(Uid lo, Uid hi, std::vector<Uid>& out) const;
  std::vector<Uid> to_vector() const;

  void push_back(Uid uid);
  void erase_at(std::uint32_t i);
  // Empties the list and gives its memory back.
  void clear();
  // Converts a list built by push_back to the smaller of the two forms; frees slack.
  void compact();

  // Heap octets held (for tests and memory budgets).
  std::size_t heap_bytes() const {
    return runs_.capacity() * sizeof(Run) + dense_.capacity() * sizeof(Uid);
  }
  bool is_dense() const { return dense_mode_; }

 private:
  struct Run {
    Uid first;
    std::uint32_t count;
    std::uint32_t start;  // index of `first` in the list
  };
  // The run holding index i / the last run whose first UID is <= uid (runs mode).
  std::size_t run_of_index(std::uint32_t i) const;
  void to_dense();
  void renumber_from(std::size_t run);

  std::vector<Run> runs_;
  std::vector<Uid> dense_;
  std::uint32_t size_ = 0;
  bool dense_mode_ = false;
};

}  // namespace mb::imap
