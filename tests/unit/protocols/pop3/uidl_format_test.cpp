// File: tests/unit/protocols/pop3/uidl_format_test.cpp
#include "protocols/pop3/uidl_format.hpp"

#include <gtest/gtest.h>

namespace mb::pop3 {
namespace {

TEST(UidlFormat, DefaultIsDovecots) {
  UidlFormat f;
  EXPECT_EQ(f.format(0x2A, 0x5F00AA01), "0000002a5f00aa01");
  auto g = UidlFormat::compile("%08Xu%08Xv");
  ASSERT_TRUE(g);
  EXPECT_EQ(g->format(0x2A, 0x5F00AA01), "0000002a5f00aa01");
}

TEST(UidlFormat, Variants) {
  EXPECT_EQ(UidlFormat::compile("%u")->format(42, 7), "42");
  EXPECT_EQ(UidlFormat::compile("%v.%u")->format(42, 7), "7.42");
  EXPECT_EQ(UidlFormat::compile("%xu-%Xv")->format(255, 255), "ff-ff");
  EXPECT_EQ(UidlFormat::compile("%05u%%")->format(42, 0), "00042%");
  EXPECT_EQ(UidlFormat::compile("x%u")->format(42, 0), "x42");
  EXPECT_EQ(UidlFormat::compile("%08Xu")->format(0xFFFFFFFF, 0), "ffffffff");
}

TEST(UidlFormat, RejectsWhatCannotBeAUidl) {
  EXPECT_FALSE(UidlFormat::compile(""));
  EXPECT_FALSE(UidlFormat::compile("%m"));  // header MD5: mbox-only in Dovecot
  EXPECT_FALSE(UidlFormat::compile("%f"));  // Maildir file name: not exposed by the store
  EXPECT_FALSE(UidlFormat::compile("%u%g"));
  EXPECT_EQ(UidlFormat::compile("%08X{uid}%08X{uidvalidity}")->format(42, 7), "0000002a00000007");
  EXPECT_FALSE(UidlFormat::compile("%08Xv"));  // not unique without %u
  EXPECT_FALSE(UidlFormat::compile("%8u"));  // would pad with spaces
  EXPECT_FALSE(UidlFormat::compile("a b%u"));
  EXPECT_FALSE(UidlFormat::compile("%08X"));
  EXPECT_FALSE(UidlFormat::compile("%021u"));
  EXPECT_FALSE(UidlFormat::compile(std::string(71, 'a')));
  EXPECT_TRUE(UidlFormat::compile(std::string(50, 'a') + "%u"));
  auto e = UidlFormat::compile("%08Xm");
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().find("%m"), std::string::npos);
}

}  // namespace
}  // namespace mb::pop3
