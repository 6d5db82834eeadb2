// File: tests/unit/protocols/common/mutf7_test.cpp
//
// The one modified UTF-7 codec (protocols/common/mutf7.hpp) and both of its spellings: IMAP's
// (protocols/imap/utf7.hpp) and the Maildir store's (gateway/store/maildir/mutf7.hpp) must be
// the same function, so a folder created over IMAP has the directory Dovecot would give it.
#include "protocols/common/mutf7.hpp"

#include <gtest/gtest.h>

#include "gateway/store/maildir/mutf7.hpp"
#include "protocols/imap/utf7.hpp"

namespace mb::proto {
namespace {

TEST(Mutf7, RfcExampleAndMaildirNames) {
  // RFC 3501 §5.1.3: "~peter/mail/&U,BTFw-/&ZeVnLIqe-" is "~peter/mail/台北/日本語".
  const std::string utf8 = "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e";
  EXPECT_EQ(mutf7_encode(utf8), "~peter/mail/&U,BTFw-/&ZeVnLIqe-");
  EXPECT_EQ(mutf7_decode("~peter/mail/&U,BTFw-/&ZeVnLIqe-"), utf8);
  EXPECT_EQ(mutf7_encode("Caf\xc3\xa9"), "Caf&AOk-");  // Dovecot's ".Caf&AOk-"
  EXPECT_EQ(mutf7_decode("Caf&AOk-"), "Caf\xc3\xa9");
  EXPECT_EQ(mutf7_encode("a&b"), "a&-b");
  EXPECT_EQ(mutf7_decode("a&-b"), "a&b");
  EXPECT_EQ(mutf7_encode("x\xf0\x9f\x98\x80y"), "x&2D3eAA-y");  // surrogate pair
  EXPECT_EQ(mutf7_encode(""), "");
}

TEST(Mutf7, StrictDecodeAndEncodeFailures) {
  for (const char* bad : {"&", "&-x&", "&AGE-", "&ZeV", "a\x01", "&AOk-&AOk-", "&2D3-", "\xc3\xa9"}) {
    EXPECT_FALSE(mutf7_decode(bad)) << bad;
  }
  EXPECT_FALSE(mutf7_encode("\xc0\xaf"));      // overlong
  EXPECT_FALSE(mutf7_encode("\xed\xa0\x80"));  // surrogate
  EXPECT_FALSE(mutf7_encode("\xff"));
}

TEST(Mutf7, AllSpellingsAreTheSameCodec) {
  for (const char* name : {"INBOX", "Caf\xc3\xa9", "a&b", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
                           "Entw\xc3\xbcrfe", "tab\there"}) {
    const auto shared = mutf7_encode(name);
    ASSERT_TRUE(shared) << name;
    EXPECT_EQ(imap::utf7_encode(name), shared);
    EXPECT_EQ(store::maildir::mutf7_encode(name), *shared);
    EXPECT_EQ(imap::utf7_decode(*shared), name);
    EXPECT_EQ(store::maildir::mutf7_decode(*shared), name);
  }
  for (const char* bad : {"&AGE-", "&ZeV", "a\x01"}) {
    EXPECT_FALSE(imap::utf7_decode(bad));
    EXPECT_FALSE(store::maildir::mutf7_decode(bad));
  }
}

TEST(Mutf7, StoreSpellingNeverFailsOrYieldsEmptyOrSlash) {
  // Callers validate UTF-8 first; ill-formed input still maps to a safe directory name.
  const std::string odd = store::maildir::mutf7_encode("a\xff/b");
  EXPECT_EQ(odd, "a&AP8-/b");  // byte 0xFF taken as U+00FF; '/' is the caller's to split
  EXPECT_FALSE(store::maildir::mutf7_encode("\xff").empty());
  EXPECT_EQ(store::maildir::mutf7_encode("\xff").find('/'), std::string::npos);
}

}  // namespace
}  // namespace mb::proto
