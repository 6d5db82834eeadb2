// File: tests/unit/protocols/common/base64_test.cpp
#include "protocols/common/base64.hpp"

#include <gtest/gtest.h>

#include <string>

namespace mb::proto {
namespace {

TEST(Base64, Rfc4648TestVectors) {
  const std::pair<std::string, std::string> vectors[] = {
      {"", ""},         {"f", "Zg=="},        {"fo", "Zm8="},        {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(base64_encode(plain), encoded);
    auto d = base64_decode(encoded);
    ASSERT_TRUE(d) << encoded;
    EXPECT_EQ(*d, plain);
  }
}

TEST(Base64, RoundTripsAllByteValues) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (std::size_t len = 0; len <= all.size(); len += 7) {
    std::string part = all.substr(0, len);
    auto d = base64_decode(base64_encode(part));
    ASSERT_TRUE(d);
    EXPECT_EQ(*d, part);
  }
}

TEST(Base64, RejectsBadLength) {
  EXPECT_EQ(base64_decode("Zm9").error(), Base64Error::bad_length);
  EXPECT_EQ(base64_decode("Z").error(), Base64Error::bad_length);
}

TEST(Base64, RejectsCharactersOutsideTheAlphabet) {
  EXPECT_EQ(base64_decode("Zm9v Zg==").error(), Base64Error::bad_length);
  EXPECT_EQ(base64_decode("Zm 9").error(), Base64Error::bad_character);
  EXPECT_EQ(base64_decode("Zm9\n").error(), Base64Error::bad_character);
  EXPECT_EQ(base64_decode("Zm-_").error(), Base64Error::bad_character);  // base64url
  EXPECT_EQ(base64_decode(std::string("Zm9\0", 4)).error(), Base64Error::bad_character);
}

TEST(Base64, RejectsMisplacedPadding) {
  // RFC 5034 §4: "=AAA" and "AAA=BBB" are not allowed.
  EXPECT_EQ(base64_decode("=AAA").error(), Base64Error::bad_padding);
  EXPECT_EQ(base64_decode("AAA=BBBB").error(), Base64Error::bad_padding);
  EXPECT_EQ(base64_decode("AB=C").error(), Base64Error::bad_padding);
  EXPECT_EQ(base64_decode("A===").error(), Base64Error::bad_padding);
  EXPECT_EQ(base64_decode("====").error(), Base64Error::bad_padding);
}

TEST(Base64, RejectsNonCanonicalTrailingBits) {
  EXPECT_EQ(base64_decode("Zh==").error(), Base64Error::bad_padding);  // "f" is Zg==
  EXPECT_EQ(base64_decode("Zm9=").error(), Base64Error::bad_padding);  // "fo" is Zm8=
}

}  // namespace
}  // namespace mb::proto
