// File: tests/unit/protocols/pop3/pipelining_test.cpp
//
// RFC 2449 §6.6 PIPELINING: a whole script sent at once, byte by byte, or in chunks of any
// size from 1 to 512 octets produces exactly the same output.
#include <gtest/gtest.h>

#include "session_harness.hpp"

namespace mb::pop3::test {
namespace {

const std::string kScript =
    "CAPA\r\nXYZ\r\nUSER alice\r\nPASS secret\r\nSTAT\r\nLIST\r\nUIDL\r\nLIST 2\r\nUIDL 3\r\n"
    "TOP 1 2\r\nRETR 2\r\nRETR 1\r\nDELE 1\r\nDELE 1\r\nRETR 1\r\nNOOP\r\nRSET\r\nRETR 3\r\n"
    "TOP 3 0\r\nDELE 3\r\nLIST 9\r\nCAPA\r\n" + std::string(400, 'L') + "\r\nSTAT\r\nQUIT\r\nNOOP\r\n";

std::string run_script(std::size_t chunk) {
  Pop3Harness h;
  h.inbox()->add("Subject: a\r\n\r\n.a1\r\na2\r\na3\r\n");
  std::string big = "Subject: big\r\n\r\n";
  for (int i = 0; i < 600; ++i) big += (i % 7 == 0 ? "." : "") + std::to_string(i) + " line of text\r\n";
  h.inbox()->add(big);
  h.inbox()->add("Subject: c\r\n\r\nno final newline");
  std::string out = h.start();
  for (std::size_t i = 0; i < kScript.size(); i += chunk) out += h.send(kScript.substr(i, chunk));
  EXPECT_TRUE(h.sink.closed);
  EXPECT_EQ(h.inbox()->messages().size(), 2u);
  return out;
}

TEST(Pop3Pipelining, SameOutputForEveryChunkSize) {
  const std::string expected = run_script(kScript.size());
  // Spot-check the reference itself.
  EXPECT_NE(expected.find("+OK 3 "), std::string::npos);
  EXPECT_NE(expected.find("-ERR Line too long.\r\n"), std::string::npos);
  EXPECT_NE(expected.find("\r\nno final newline\r\n.\r\n"), std::string::npos);
  EXPECT_NE(expected.find("\r\n..a1\r\na2\r\n.\r\n"), std::string::npos);  // TOP 1 2
  EXPECT_TRUE(expected.ends_with("+OK Logging out.\r\n"));
  for (std::size_t chunk = 1; chunk <= 512; ++chunk) {
    ASSERT_EQ(run_script(chunk), expected) << "chunk size " << chunk;
  }
}

}  // namespace
}  // namespace mb::pop3::test
