// File: gateway/store/maildir/message_table.cpp
#include "gateway/store/maildir/message_table.hpp"

#include <algorithm>

namespace mb::store::maildir {

std::size_t MessageTable::index_of(Uid uid) const {
  auto it = std::lower_bound(infos_.begin(), infos_.end(), uid,
                             [](const MessageInfo& m, Uid u) { return m.uid < u; });
  if (it == infos_.end() || it->uid != uid) return npos;
  return static_cast<std::size_t>(it - infos_.begin());
}

bool MessageTable::loaded_ok() const {
  Uid prev = 0;
  for (std::size_t i = 0; i < infos_.size(); ++i) {
    const NameRef& r = refs_[i];
    if (infos_[i].uid <= prev || r.length == 0 || r.offset > arena_.size() || r.length > arena_.size() - r.offset)
      return false;
    prev = infos_[i].uid;
  }
  return true;
}

void MessageTable::erase_sorted(const std::vector<std::size_t>& indexes) {
  if (indexes.empty()) return;
  MessageTable out;
  out.reserve(infos_.size() - indexes.size(), arena_.size());
  std::size_t k = 0;
  for (std::size_t i = 0; i < infos_.size(); ++i) {
    if (k < indexes.size() && indexes[k] == i) {
      ++k;
      continue;
    }
    out.push(infos_[i], base(i));
  }
  *this = std::move(out);
}

}  // namespace mb::store::maildir
