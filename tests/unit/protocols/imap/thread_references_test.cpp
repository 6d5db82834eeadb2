// Unit tests for protocols/imap/commands/thread_references (RFC 5256 §2.2).
#include "protocols/imap/commands/thread_references.hpp"

#include <gtest/gtest.h>

namespace mb::imap {
namespace {

ThreadMessage msg(std::uint32_t n, std::string id, std::string refs = {}, std::string subject = "s",
                  std::string irt = {}) {
  ThreadMessage m;
  m.number = n;
  m.seq = n;
  m.date = n;
  m.base_subject = std::move(subject);
  m.message_id = std::move(id);
  m.references = std::move(refs);
  m.in_reply_to = std::move(irt);
  return m;
}

TEST(ThreadReferences, ParsesMessageIds) {
  auto ids = parse_message_ids(" <a@b> junk <c@d>\t<nope> <<e@f>");
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(ids[0], "a@b");
  EXPECT_EQ(ids[1], "c@d");
  EXPECT_EQ(ids[2], "e@f");
}

TEST(ThreadReferences, ReplyOrForwardSubjects) {
  EXPECT_TRUE(subject_is_reply_or_forward("Re: x"));
  EXPECT_TRUE(subject_is_reply_or_forward("FWD: x"));
  EXPECT_TRUE(subject_is_reply_or_forward("x (fwd)"));
  EXPECT_TRUE(subject_is_reply_or_forward("re[2]: x"));
  EXPECT_FALSE(subject_is_reply_or_forward("x"));
  EXPECT_FALSE(subject_is_reply_or_forward("reply"));
}

// RFC 5256 §2.2 step 1.C: a parent presumed from another message's References is dropped when
// the message itself arrives, even if its own parent link is then refused as a loop
// (imaptest's `thread` script: a; b refs a c; c refs b -> c is a root over b, a alone).
TEST(ThreadReferences, PresumedParentDroppedWhenOwnLinkWouldLoop) {
  std::vector<ThreadMessage> m{msg(1, "<a@b>"), msg(2, "<b@b>", "<a@b> <c@b>"), msg(3, "<c@b>", "<b@b>")};
  m[0].date = 300;  // a is the latest, c the earliest root
  m[1].date = 100;
  m[2].date = 200;
  m[0].base_subject = "x";
  m[1].base_subject = "y";
  m[2].base_subject = "z";
  EXPECT_EQ(thread_references(m), "(3 2)(1)");
}

TEST(ThreadReferences, EmptyMailbox) { EXPECT_EQ(thread_references({}), ""); }

TEST(ThreadReferences, ChainAndBranches) {
  std::vector<ThreadMessage> m{msg(1, "<1@x>", "", "a"), msg(2, "<2@x>", "<1@x>", "b"),
                               msg(3, "<3@x>", "<1@x> <2@x>", "c"), msg(4, "<4@x>", "<1@x>", "d")};
  EXPECT_EQ(thread_references(m), "(1 (2 3)(4))");
}

TEST(ThreadReferences, InReplyToUsedWithoutReferences) {
  std::vector<ThreadMessage> m{msg(1, "<1@x>", "", "a"), msg(2, "<2@x>", "", "b", "<1@x> <9@x>")};
  EXPECT_EQ(thread_references(m), "(1 2)");
}

TEST(ThreadReferences, DummyParentAtRootKeepsSiblings) {
  // Both reply to a missing message: a dummy root with two children.
  std::vector<ThreadMessage> m{msg(1, "<1@x>", "<0@x>", "a"), msg(2, "<2@x>", "<0@x>", "b")};
  EXPECT_EQ(thread_references(m), "((1)(2))");
}

TEST(ThreadReferences, DummyWithOneChildIsPromoted) {
  std::vector<ThreadMessage> m{msg(1, "<1@x>", "<0@x> <9@x>", "a"), msg(2, "<2@x>", "", "b")};
  EXPECT_EQ(thread_references(m), "(1)(2)");
}

TEST(ThreadReferences, NonRootDummyChildrenPromoted) {
  std::vector<ThreadMessage> m{msg(1, "<1@x>", "", "a"), msg(2, "<2@x>", "<1@x> <0@x>", "b"),
                               msg(3, "<3@x>", "<1@x> <0@x>", "c")};
  EXPECT_EQ(thread_references(m), "(1 (2)(3))");
}

TEST(ThreadReferences, LoopsInReferencesAreIgnored) {
  std::vector<ThreadMessage> m{msg(1, "<1@x>", "<2@x>", "a"), msg(2, "<2@x>", "<1@x>", "b"),
                               msg(3, "<3@x>", "<3@x>", "c")};
  // 1's parent is 2's container; 2 would become 1's child: a loop, so 2 stays the root.
  EXPECT_EQ(thread_references(m), "(2 1)(3)");
}

TEST(ThreadReferences, MissingAndDuplicateMessageIds) {
  std::vector<ThreadMessage> m{msg(1, "", "", "a"), msg(2, "<d@x>", "", "b"),
                               msg(3, "<d@x>", "", "c"), msg(4, "<4@x>", "<d@x>", "e")};
  // 3's duplicate id is ignored: 4 replies to 2.
  EXPECT_EQ(thread_references(m), "(1)(2 4)(3)");
}

TEST(ThreadReferences, SubjectGrouping) {
  std::vector<ThreadMessage> m{msg(1, "<1@x>", "", "same"), msg(2, "<2@x>", "", "same"),
                               msg(3, "<3@x>", "", "same"), msg(4, "<4@x>", "", "")};
  m[2].reply_or_forward = true;
  // 1 and 2 are both non-replies: a dummy holds them; 3 (a reply) joins the dummy.
  EXPECT_EQ(thread_references(m), "((1)(2)(3))(4)");
  std::vector<ThreadMessage> r{msg(1, "<1@x>", "", "t"), msg(2, "<2@x>", "", "t")};
  r[1].reply_or_forward = true;
  EXPECT_EQ(thread_references(r), "(1 2)");
}

TEST(ThreadReferences, RootsAndChildrenSortedBySentDate) {
  std::vector<ThreadMessage> m{msg(1, "<1@x>", "", "a"), msg(2, "<2@x>", "<1@x>", "b"),
                               msg(3, "<3@x>", "<1@x>", "c"), msg(4, "<4@x>", "", "d")};
  m[0].date = 50;
  m[1].date = 40;
  m[2].date = 30;
  EXPECT_EQ(thread_references(m), "(4)(1 (3)(2))");
}

TEST(ThreadReferences, OnlyTheLastReferencesCount) {
  std::string refs;
  for (int i = 0; i < 300; ++i) refs += "<r" + std::to_string(i) + "@x> ";
  std::vector<ThreadMessage> m{msg(1, "<r0@x>", "", "a"), msg(2, "<2@x>", refs, "b")};
  // r0 is beyond the last 100 references: 1 and 2 are not linked.
  EXPECT_EQ(thread_references(m), "(1)(2)");
}

TEST(ThreadReferences, DeepChainDoesNotRecurse) {
  std::vector<ThreadMessage> m;
  const std::uint32_t n = 100000;
  for (std::uint32_t i = 1; i <= n; ++i)
    m.push_back(msg(i, "<" + std::to_string(i) + "@x>",
                    i > 1 ? "<" + std::to_string(i - 1) + "@x>" : std::string(), "s"));
  std::string out = thread_references(m);
  EXPECT_EQ(out.substr(0, 6), "(1 2 3");
  EXPECT_EQ(out.back(), ')');
}

}  // namespace
}  // namespace mb::imap
