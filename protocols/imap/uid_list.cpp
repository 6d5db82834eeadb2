// File: protocols/imap/uid_list.cpp
#include "protocols/imap/uid_list.hpp"

#include <algorithm>

namespace mb::imap {

namespace {

// Runs cost 12 octets, dense UIDs 4: runs stay while they average 3 or more UIDs.
bool runs_pay(std::size_t runs, std::uint32_t size) { return runs * 3 <= size || runs <= 1; }

}  // namespace

std::size_t UidList::run_of_index(std::uint32_t i) const {
  auto it = std::upper_bound(runs_.begin(), runs_.end(), i,
                             [](std::uint32_t v, const Run& r) { return v < r.start; });
  return static_cast<std::size_t>(it - runs_.begin()) - 1;
}

UidList::Uid UidList::at(std::uint32_t i) const {
  if (dense_mode_) return dense_[i];
  const Run& r = runs_[run_of_index(i)];
  return r.first + (i - r.start);
}

std::uint32_t UidList::seq_of(Uid uid) const {
  if (dense_mode_) {
    auto it = std::lower_bound(dense_.begin(), dense_.end(), uid);
    if (it == dense_.end() || *it != uid) return 0;
    return static_cast<std::uint32_t>(it - dense_.begin()) + 1;
  }
  auto it = std::upper_bound(runs_.begin(), runs_.end(), uid,
                             [](Uid u, const Run& r) { return u < r.first; });
  if (it == runs_.begin()) return 0;
  --it;
  if (uid - it->first >= it->count) return 0;
  return it->start + (uid - it->first) + 1;
}

std::uint32_t UidList::count_in(Uid lo, Uid hi) const {
  if (lo > hi || size_ == 0) return 0;
  if (dense_mode_) {
    auto a = std::lower_bound(dense_.begin(), dense_.end(), lo);
    auto b = std::upper_bound(a, dense_.end(), hi);
    return static_cast<std::uint32_t>(b - a);
  }
  // Index of the first UID >= v (size_ when none).
  auto lower_index = [this](Uid v) -> std::uint32_t {
    auto it = std::upper_bound(runs_.begin(), runs_.end(), v,
                               [](Uid u, const Run& r) { return u < r.first; });
    if (it == runs_.begin()) return 0;
    const Run& r = *(it - 1);
    if (v - r.first < r.count) return r.start + (v - r.first);
    return r.start + r.count;
  };
  std::uint32_t a = lower_index(lo);
  std::uint32_t b = hi == UINT32_MAX ? size_ : lower_index(hi + 1);
  return b > a ? b - a : 0;
}

void UidList::append_in(Uid lo, Uid hi, std::vector<Uid>& out) const {
  if (lo > hi || size_ == 0) return;
  if (dense_mode_) {
    auto a = std::lower_bound(dense_.begin(), dense_.end(), lo);
    auto b = std::upper_bound(a, dense_.end(), hi);
    out.insert(out.end(), a, b);
    return;
  }
  auto it = std::upper_bound(runs_.begin(), runs_.end(), lo,
                             [](Uid u, const Run& r) { return u < r.first; });
  if (it != runs_.begin()) --it;
  for (; it != runs_.end() && it->first <= hi; ++it) {
    Uid last = it->first + (it->count - 1);
    Uid from = std::max(lo, it->first);
    Uid to = std::min(hi, last);
    if (from > to) continue;
    for (Uid u = from;; ++u) {  // no u <= to test: to may be the largest UID
      out.push_back(u);
      if (u == to) break;
    }
  }
}

std::vector<UidList::Uid> UidList::to_vector() const {
  if (dense_mode_) return dense_;
  std::vector<Uid> out;
  out.reserve(size_);
  for (const Run& r : runs_) {
    for (std::uint32_t k = 0; k < r.count; ++k) out.push_back(r.first + k);
  }
  return out;
}

void UidList::push_back(Uid uid) {
  if (dense_mode_) {
    dense_.push_back(uid);
  } else if (!runs_.empty() && uid == runs_.back().first + runs_.back().count) {
    ++runs_.back().count;
  } else {
    runs_.push_back({uid, 1, size_});
  }
  ++size_;
}

void UidList::renumber_from(std::size_t run) {
  std::uint32_t start = run == 0 ? 0 : runs_[run - 1].start + runs_[run - 1].count;
  for (std::size_t k = run; k < runs_.size(); ++k) {
    runs_[k].start = start;
    start += runs_[k].count;
  }
}

void UidList::erase_at(std::uint32_t i) {
  if (dense_mode_) {
    dense_.erase(dense_.begin() + i);
    --size_;
    return;
  }
  std::size_t k = run_of_index(i);
  Run r = runs_[k];
  std::uint32_t off = i - r.start;
  if (r.count == 1) {
    runs_.erase(runs_.begin() + static_cast<std::ptrdiff_t>(k));
  } else if (off == 0) {
    runs_[k].first += 1;
    runs_[k].count -= 1;
  } else if (off == r.count - 1) {
    runs_[k].count -= 1;
  } else {
    // Split: [first, first+off) and (first+off, last].
    runs_[k].count = off;
    Run tail{r.first + off + 1, r.count - off - 1, 0};
    runs_.insert(runs_.begin() + static_cast<std::ptrdiff_t>(k) + 1, tail);
  }
  --size_;
  renumber_from(k);
  if (!runs_pay(runs_.size(), size_)) to_dense();
}

void UidList::clear() {
  std::vector<Run>().swap(runs_);
  std::vector<Uid>().swap(dense_);
  size_ = 0;
  dense_mode_ = false;
}

void UidList::to_dense() {
  std::vector<Uid> d = to_vector();
  dense_.swap(d);
  std::vector<Run>().swap(runs_);
  dense_mode_ = true;
}

void UidList::compact() {
  if (!dense_mode_ && !runs_pay(runs_.size(), size_)) {
    to_dense();
    return;
  }
  if (dense_mode_) {
    dense_.shrink_to_fit();
  } else {
    runs_.shrink_to_fit();
  }
}

}  // namespace mb::imap
