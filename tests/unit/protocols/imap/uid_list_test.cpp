// Unit tests for UidList (protocols/imap/uid_list.hpp): every query agrees with a plain
// sorted vector through appends and erasures, in both forms, and an unbroken UID range
// costs one run however long it is.
#include "protocols/imap/uid_list.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

namespace mb::imap {
namespace {

using Uid = store::Uid;

void expect_same(const UidList& list, const std::vector<Uid>& model) {
  ASSERT_EQ(list.size(), model.size());
  ASSERT_EQ(list.to_vector(), model);
  for (std::uint32_t i = 0; i < model.size(); ++i) {
    ASSERT_EQ(list.at(i), model[i]) << "index " << i;
    ASSERT_EQ(list.seq_of(model[i]), i + 1) << "uid " << model[i];
  }
  if (model.empty()) return;
  // Absent UIDs: the gaps, below the first and above the last.
  Uid hi = model.back() + 3;
  for (Uid u = 0; u <= hi; ++u) {
    bool present = std::binary_search(model.begin(), model.end(), u);
    ASSERT_EQ(list.contains(u), present) << "uid " << u;
  }
  // Ranges, including empty and reversed ones.
  for (Uid lo = 0; lo <= hi; lo += 3) {
    for (Uid up : {lo, lo + 1, lo + 7, hi, Uid{UINT32_MAX}}) {
      std::vector<Uid> want;
      for (Uid u : model) {
        if (u >= lo && u <= up) want.push_back(u);
      }
      std::vector<Uid> got;
      list.append_in(lo, up, got);
      ASSERT_EQ(got, want) << lo << ":" << up;
      ASSERT_EQ(list.count_in(lo, up), want.size()) << lo << ":" << up;
    }
  }
  std::vector<Uid> none;
  list.append_in(5, 4, none);
  EXPECT_TRUE(none.empty());
}

TEST(ImapUidList, ContiguousMailboxIsOneRun) {
  UidList list;
  std::vector<Uid> model;
  for (Uid u = 1; u <= 1000; ++u) {
    list.push_back(u);
    model.push_back(u);
  }
  list.compact();
  EXPECT_FALSE(list.is_dense());
  EXPECT_LE(list.heap_bytes(), 16u);  // one run instead of 4,000 octets
  expect_same(list, model);
  EXPECT_EQ(list.front(), 1u);
  EXPECT_EQ(list.back(), 1000u);
}

TEST(ImapUidList, ErasingSplitsAndShrinksRuns) {
  UidList list;
  std::vector<Uid> model;
  for (Uid u = 10; u < 40; ++u) {
    list.push_back(u);
    model.push_back(u);
  }
  list.compact();
  for (std::uint32_t i : {0u, 28u, 5u, 5u, 12u, 0u}) {  // first, last, middle (split), ...
    list.erase_at(i);
    model.erase(model.begin() + i);
    expect_same(list, model);
  }
  // Appending after the erasures: a new UID right after the last extends its run.
  list.push_back(model.back() + 1);
  model.push_back(model.back() + 1);
  list.push_back(model.back() + 5);
  model.push_back(model.back() + 5);
  expect_same(list, model);
}

TEST(ImapUidList, FragmentedListTurnsDenseAndStaysCorrect) {
  UidList list;
  std::vector<Uid> model;
  for (Uid u = 1; u <= 300; u += 2) {  // every other UID: runs of one
    list.push_back(u);
    model.push_back(u);
  }
  list.compact();
  EXPECT_TRUE(list.is_dense());
  EXPECT_LE(list.heap_bytes(), model.size() * sizeof(Uid));
  expect_same(list, model);
  list.erase_at(3);
  model.erase(model.begin() + 3);
  list.push_back(1000);
  model.push_back(1000);
  expect_same(list, model);
}

TEST(ImapUidList, RandomOperationsMatchAPlainVector) {
  std::mt19937 rng(5);
  for (int round = 0; round < 40; ++round) {
    UidList list;
    std::vector<Uid> model;
    Uid next = 1 + rng() % 5;
    for (int op = 0; op < 200; ++op) {
      if (model.empty() || rng() % 3 != 0) {
        list.push_back(next);
        model.push_back(next);
        next += (rng() % 4 == 0) ? 1 + rng() % 6 : 1;  // mostly consecutive, some gaps
      } else {
        auto i = static_cast<std::uint32_t>(rng() % model.size());
        list.erase_at(i);
        model.erase(model.begin() + i);
      }
      if (op % 50 == 49) list.compact();
    }
    expect_same(list, model);
  }
}

TEST(ImapUidList, ClearGivesMemoryBack) {
  UidList list;
  for (Uid u = 1; u <= 100; u += 2) list.push_back(u);
  list.compact();
  list.clear();
  EXPECT_TRUE(list.empty());
  EXPECT_EQ(list.heap_bytes(), 0u);
  EXPECT_FALSE(list.is_dense());
  list.push_back(7);
  EXPECT_EQ(list.seq_of(7), 1u);
}

}  // namespace
}  // namespace mb::imap
