// WireCursor: stored bytes (LF, CRLF or mixed) streamed as CRLF wire octets from any offset in
// any chunk size, across the reader's 64 KB block boundaries, compared with a reference.
#include <gtest/gtest.h>

#include <random>

#include "gateway/store/maildir/wire_reader.hpp"
#include "store_test_support.hpp"

namespace mb::store::test {
namespace {

using maildir::WireCursor;

std::string reference_wire(const std::string& stored) {
  std::string out;
  bool prev_cr = false;
  for (char c : stored) {
    if (c == '\n' && !prev_cr) out.push_back('\r');
    out.push_back(c);
    prev_cr = c == '\r';
  }
  return out;
}

std::string read_chunks(const std::string& path, std::uint64_t start, std::size_t chunk) {
  WireCursor c;
  EXPECT_TRUE(maildir::wire_open(c, 1, path));
  if (start > 0) {
    EXPECT_TRUE(maildir::wire_read(c, start, nullptr));
  }
  EXPECT_EQ(c.wire_off, start);
  std::string out;
  while (true) {
    std::string part;
    EXPECT_TRUE(maildir::wire_read(c, chunk, &part));
    EXPECT_LE(part.size(), chunk);
    out += part;
    if (part.size() < chunk) break;
  }
  return out;
}

class WireReaderTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = make_temp_dir(); }
  void TearDown() override { fs::remove_all(dir_); }
  std::string put(const std::string& content) {
    std::string p = dir_ + "/m" + std::to_string(n_++);
    write_file(p, content);
    return p;
  }
  std::string dir_;
  int n_ = 0;
};

TEST_F(WireReaderTest, MixedLineEndsEveryChunkSizeAndOffset) {
  std::string stored = "a\nb\r\nc\r\r\n\n\r\nend\r";
  std::string wire = reference_wire(stored);
  std::string p = put(stored);
  for (std::size_t chunk = 1; chunk <= wire.size() + 1; ++chunk)
    for (std::uint64_t start = 0; start <= wire.size(); ++start)
      EXPECT_EQ(read_chunks(p, start, chunk), wire.substr(start)) << chunk << " " << start;
}

TEST_F(WireReaderTest, LargeFilesAcrossBlockBoundaries) {
  std::mt19937 rng(42);
  for (bool crlf : {false, true}) {
    std::string stored;
    while (stored.size() < 300000) {
      stored.append(rng() % 120, 'x');
      stored += crlf ? "\r\n" : "\n";
    }
    // Line ends exactly at the 64 KB block edge, both ways.
    stored[65535] = '\n';
    stored[131071] = '\r';
    stored[131072] = '\n';
    std::string wire = reference_wire(stored);
    std::string p = put(stored);
    for (std::size_t chunk : {std::size_t{1000}, std::size_t{65536}, std::size_t{65537}, std::size_t{1} << 20})
      for (std::uint64_t start : {std::uint64_t{0}, std::uint64_t{65535}, std::uint64_t{65536}, std::uint64_t{200001}})
        EXPECT_EQ(read_chunks(p, start, chunk), wire.substr(start)) << crlf << " " << chunk << " " << start;
  }
}

}  // namespace
}  // namespace mb::store::test

namespace mb::store::test {
namespace {

using ReadCursorTest = StoreFixture;

// Several sessions reading different messages of one folder at once each keep their own open
// file and position (a per-folder cursor LRU): an interleaved read continues from the file it
// opened instead of reopening by name and skipping to the offset again.
TEST_F(ReadCursorTest, InterleavedReadersEachKeepTheirOpenCursor) {
  auto mb = open("INBOX");
  std::string line(63, 'y');
  line += '\n';
  std::string a, b;
  while (a.size() < 200000) a += line;
  b = "From: b\n\n" + a;
  Uid ua = append(*mb, a);
  Uid ub = append(*mb, b);
  auto read = [&](Uid uid, std::uint64_t off) {
    return await<StoreResult<std::string>>(&loop_, [&](auto cb) { mb->read(uid, off, 65536, cb); });
  };
  auto a1 = read(ua, 0);
  auto b1 = read(ub, 0);
  ASSERT_TRUE(a1 && b1);
  // Each file is replaced behind the store's back by a new file of the same name (a rescan
  // sees nothing to change); a reader that reopened by name would now read 'z's.
  for (const auto& n : files_in(root() + "/cur")) {
    std::string p = root() + "/cur/" + n;
    write_file(root() + "/tmp/x", std::string(fs::file_size(p), 'z'));
    fs::rename(root() + "/tmp/x", p);
  }
  auto a2 = read(ua, a1->size());
  auto b2 = read(ub, b1->size());
  ASSERT_TRUE(a2) << a2.error().internal_text;
  ASSERT_TRUE(b2) << b2.error().internal_text;
  EXPECT_EQ(*a1 + *a2, reference_wire(a).substr(0, a1->size() + a2->size()));
  EXPECT_EQ(*b1 + *b2, reference_wire(b).substr(0, b1->size() + b2->size()));
}

}  // namespace
}  // namespace mb::store::test
