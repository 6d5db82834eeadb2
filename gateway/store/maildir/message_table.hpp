// File: gateway/store/maildir/message_table.hpp
//
// The compact per-message state of one folder: MessageInfo (what sessions read through
// Mailbox::messages()) plus the file's base name, kept in one arena string (8 bytes of index
// + the name's bytes per message, no std::string per message). Sorted by UID ascending.
// Not thread-safe; the mailbox hands it read-only to pool threads while an operation runs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/store/store.hpp"

namespace mb::store::maildir {

struct NameRef {
  std::uint32_t offset = 0;
  std::uint32_t length = 0;
};

class MessageTable {
 public:
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  std::size_t size() const { return infos_.size(); }
  const std::vector<MessageInfo>& infos() const { return infos_; }
  std::vector<MessageInfo>& infos() { return infos_; }
  std::string_view base(std::size_t i) const {
    return std::string_view(arena_).substr(refs_[i].offset, refs_[i].length);
  }
  const std::vector<NameRef>& refs() const { return refs_; }
  const std::string& arena() const { return arena_; }
  // Appends (caller keeps UID order).
  void push(const MessageInfo& info, std::string_view base) {
    infos_.push_back(info);
    refs_.push_back(NameRef{static_cast<std::uint32_t>(arena_.size()),
                            static_cast<std::uint32_t>(base.size())});
    arena_.append(base);
  }
  std::size_t index_of(Uid uid) const;
  // Removes the listed indexes (ascending) and compacts the arena.
  void erase_sorted(const std::vector<std::size_t>& indexes);
  void reserve(std::size_t n, std::size_t name_bytes) {
    infos_.reserve(n);
    refs_.reserve(n);
    arena_.reserve(name_bytes);
  }
  // Bulk load (the snapshot, folder_snapshot.cpp): sizes the three arrays for `n` messages
  // and `name_bytes` of names, to be filled in place by the caller, then checked by
  // loaded_ok() before any other use.
  struct Raw {
    MessageInfo* infos;
    NameRef* refs;
    char* arena;
  };
  Raw resize_for_load(std::size_t n, std::size_t name_bytes) {
    infos_.resize(n);
    refs_.resize(n);
    arena_.resize(name_bytes);
    return Raw{infos_.data(), refs_.data(), arena_.data()};
  }
  // Every name inside the arena and non-empty, UIDs strictly ascending and non-zero.
  bool loaded_ok() const;
  void shrink_to_fit() {
    infos_.shrink_to_fit();
    refs_.shrink_to_fit();
    arena_.shrink_to_fit();
  }
  // Bytes held (capacity), for the memory-per-message figure.
  std::size_t memory_bytes() const {
    return infos_.capacity() * sizeof(MessageInfo) + refs_.capacity() * sizeof(NameRef) +
           arena_.capacity();
  }

 private:
  std::vector<MessageInfo> infos_;
  std::vector<NameRef> refs_;
  std::string arena_;
};

}  // namespace mb::store::maildir
