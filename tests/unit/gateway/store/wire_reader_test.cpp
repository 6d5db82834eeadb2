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

namespace mb::store::test {
namespace {

using maildir::WireCursor;

// Wire form with every line that starts with `esc` given one more `esc` in front.
std::string escaped(const std::string& wire, char esc) {
  std::string out;
  bool start = true;
  for (char c : wire) {
    if (start && c == esc) out.push_back(esc);
    out.push_back(c);
    start = c == '\n';
  }
  return out;
}

// wire_read_into in chunks from `start`, blocking or not, escaping or not.
std::string read_into_chunks(const std::string& path, std::uint64_t start, std::size_t chunk, char esc,
                             bool nowait, std::uint64_t* wire_total) {
  WireCursor c;
  EXPECT_TRUE(maildir::wire_open(c, 1, path));
  if (start > 0) {
    auto s = maildir::wire_read_into(c, start, nullptr, 0, nowait);
    EXPECT_TRUE(s && !s->would_block && s->wire == start);
  }
  std::string out;
  std::vector<char> buf(2 * chunk + 1);
  *wire_total = 0;
  while (true) {
    auto r = maildir::wire_read_into(c, chunk, buf.data(), esc, nowait);
    EXPECT_TRUE(r.has_value());
    if (!r) break;
    EXPECT_FALSE(r->would_block);  // just written: in the page cache
    EXPECT_LE(r->written, esc ? 2 * chunk : chunk);
    out.append(buf.data(), r->written);
    *wire_total += r->wire;
    if (r->wire < chunk) break;
  }
  return out;
}

class WireReadIntoTest : public ::testing::Test {
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

// The fused pass (LF -> CRLF and line-start escaping) equals the two-step reference from
// every offset in every chunk size, for lines split at every point and dots everywhere.
TEST_F(WireReadIntoTest, EscapeAndConversionFusedEveryChunkAndOffset) {
  for (std::string stored : {std::string(".a\n..b\r\n.\n\n.\r\nx.y\n.end."), std::string("a\r\n.\r\n..\r\n.z"),
                             std::string("\n.\n.\r.\n")}) {
    std::string wire = reference_wire(stored);
    std::string p = put(stored);
    for (bool nowait : {false, true})
      for (std::size_t chunk = 1; chunk <= wire.size() + 1; ++chunk)
        for (std::uint64_t start = 0; start <= wire.size(); ++start) {
          std::uint64_t total = 0;
          std::string got = read_into_chunks(p, start, chunk, '.', nowait, &total);
          // A read from mid-line starts escaping at the next line start.
          std::string tail = wire.substr(start);
          bool line_start = start == 0 || wire[start - 1] == '\n';
          std::string expect = escaped(tail, '.');
          if (!line_start && !tail.empty() && tail[0] == '.') expect.erase(0, 1);
          EXPECT_EQ(got, expect) << chunk << " " << start << " " << nowait;
          EXPECT_EQ(total, tail.size());
          EXPECT_EQ(read_into_chunks(p, start, chunk, 0, nowait, &total), tail);
        }
  }
}

// Large LF and CRLF files with dot lines across the 64 KB block edges and the SIMD steps.
TEST_F(WireReadIntoTest, LargeFilesWithEscapesAcrossBlocks) {
  std::mt19937 rng(7);
  for (bool crlf : {false, true}) {
    std::string stored;
    while (stored.size() < 300000) {
      if (rng() % 5 == 0) stored += '.';
      stored.append(rng() % 70, 'x');
      if (rng() % 7 == 0) stored += '\r';  // a lone CR inside a line
      stored.append(rng() % 40, 'y');
      stored += crlf ? "\r\n" : "\n";
    }
    stored[65535] = '\n';
    stored[65536] = '.';
    std::string wire = reference_wire(stored);
    std::string p = put(stored);
    for (std::size_t chunk : {std::size_t{4093}, std::size_t{65536}, std::size_t{1} << 20}) {
      std::uint64_t total = 0;
      EXPECT_EQ(read_into_chunks(p, 0, chunk, '.', true, &total), escaped(wire, '.')) << crlf << chunk;
      EXPECT_EQ(total, wire.size());
    }
    // Random starts and odd chunk sizes: chunk ends split CRLFs and fall inside 16-octet steps.
    for (int i = 0; i < 40; ++i) {
      std::uint64_t start = rng() % wire.size();
      std::size_t chunk = 1 + rng() % 3000;
      std::uint64_t total = 0;
      std::string tail = wire.substr(start);
      bool line_start = start == 0 || wire[start - 1] == '\n';
      std::string expect = escaped(tail, '.');
      if (!line_start && !tail.empty() && tail[0] == '.') expect.erase(0, 1);
      EXPECT_EQ(read_into_chunks(p, start, chunk, '.', false, &total), expect) << start << " " << chunk;
      EXPECT_EQ(read_into_chunks(p, start, chunk, 0, true, &total), tail) << start << " " << chunk;
    }
  }
}

// The AVX2 blocks (where the CPU has them) and the SSE2 blocks give the same bytes: dense
// events (empty lines, 1-40 octet lines, dots, lone CRs) put 0, 1 and many events in a
// 16- or 32-octet block, at its first and last octet, and across chunk ends.
TEST_F(WireReadIntoTest, VectorWidthsAgreeOnDenseEvents) {
  std::mt19937 rng(11);
  std::string stored;
  while (stored.size() < 200000) {
    switch (rng() % 6) {
      case 0: stored += '\n'; break;                        // an empty line
      case 1: stored += ".\n"; break;                       // a dot line
      case 2: stored.append(rng() % 40, 'a'); break;
      case 3: stored.append(31 + rng() % 3, 'b'); break;   // lines near the block width
      case 4: stored += '\r'; break;                        // a lone CR (and CR LF)
      default: stored += "\n."; break;
    }
    if (rng() % 3 == 0) stored += '\n';
  }
  std::string wire = reference_wire(stored);
  std::string p = put(stored);
  for (bool avx2 : {true, false}) {
    maildir::set_vector_width_limit(avx2);
    for (std::size_t chunk : {std::size_t{97}, std::size_t{4096}, std::size_t{65536}, std::size_t{1} << 20}) {
      std::uint64_t total = 0;
      EXPECT_EQ(read_into_chunks(p, 0, chunk, '.', true, &total), escaped(wire, '.'))
          << "avx2 " << maildir::avx2_conversion_active() << " chunk " << chunk;
      EXPECT_EQ(total, wire.size());
      EXPECT_EQ(read_into_chunks(p, 0, chunk, 0, false, &total), wire) << "avx2 " << avx2 << " chunk " << chunk;
    }
  }
  maildir::set_vector_width_limit(true);
}

using ReadNowTest = StoreFixture;

// read_now gives the bytes read() gives, from any offset, and reuses one open cursor.
TEST_F(ReadNowTest, SameBytesAsReadAndEscapeHook) {
  auto mb = open("INBOX");
  std::string body;
  for (int i = 0; i < 5000; ++i) body += (i % 9 == 0 ? ".line " : "line ") + std::to_string(i) + "\n";
  Uid uid = append(*mb, "Subject: x\n\n" + body);
  std::string wire = read_all(*mb, uid);
  ASSERT_EQ(wire.size(), mb->find(uid)->size);
  std::vector<char> buf(2 * 65536);
  std::string got;
  while (true) {
    auto r = mb->read_now(uid, got.size(), 65536, buf.data(), 0);
    ASSERT_TRUE(r.has_value());  // just written: cached
    ASSERT_TRUE(r->has_value());
    EXPECT_EQ((*r)->wire, (*r)->written);
    got.append(buf.data(), (*r)->written);
    if ((*r)->wire < 65536) break;
  }
  EXPECT_EQ(got, wire);
  std::string stuffed;
  std::uint64_t off = 0;
  while (true) {
    auto r = mb->read_now(uid, off, 10000, buf.data(), '.');
    ASSERT_TRUE(r && *r);
    stuffed.append(buf.data(), (*r)->written);
    off += (*r)->wire;
    if ((*r)->wire < 10000) break;
  }
  EXPECT_EQ(stuffed, escaped(wire, '.'));
  auto mid = mb->read_now(uid, 12345, 100, buf.data(), 0);
  ASSERT_TRUE(mid && *mid);
  EXPECT_EQ(std::string(buf.data(), (*mid)->written), wire.substr(12345, 100));
}

// Expunged: an error at once. Forced off (the test hook standing in for an uncached file):
// "would block", and read() still serves the message from the thread pool.
TEST_F(ReadNowTest, ExpungedAndForcedFallback) {
  auto mb = open("INBOX");
  Uid a = append(*mb, "Subject: a\n\nbody a\n");
  Uid b = append(*mb, "Subject: b\n\nbody b\n");
  auto gone = await<StoreResult<std::vector<Uid>>>(&loop_, [&](auto cb) { mb->expunge({a}, nullptr, cb); });
  ASSERT_TRUE(gone);
  char buf[256];
  auto r = mb->read_now(a, 0, 100, buf, 0);
  ASSERT_TRUE(r.has_value());
  ASSERT_FALSE(r->has_value());
  EXPECT_EQ(r->error().kind, ErrorKind::expunged);
  maildir::set_read_nowait_enabled(false);
  EXPECT_FALSE(mb->read_now(b, 0, 100, buf, 0).has_value());
  EXPECT_EQ(read_all(*mb, b), "Subject: b\r\n\r\nbody b\r\n");
  maildir::set_read_nowait_enabled(true);
  auto ok = mb->read_now(b, 0, 100, buf, 0);
  ASSERT_TRUE(ok && *ok);
  EXPECT_EQ(std::string(buf, (*ok)->written), "Subject: b\r\n\r\nbody b\r\n");
}

// A name the table does not predict (another program renamed the file): read_now answers
// "would block" (the search is pool work) and read() finds it.
TEST_F(ReadNowTest, ForeignNameFallsBackToSearch) {
  auto mb = open("INBOX");
  Uid u = append(*mb, "Subject: c\n\nbody c\n");
  for (const auto& n : files_in(root() + "/cur")) {
    fs::rename(root() + "/cur/" + n, root() + "/cur/" + n + "Z");
  }
  char buf[256];
  EXPECT_FALSE(mb->read_now(u, 0, 100, buf, 0).has_value());
  EXPECT_EQ(read_all(*mb, u), "Subject: c\r\n\r\nbody c\r\n");
}

}  // namespace
}  // namespace mb::store::test

namespace mb::store::test {
namespace {

using ReadNowFolderTest = StoreFixture;

// read_now keeps cur/ directories open; after RENAME and a new folder of the old name, reads
// still give each folder's own messages (the stale directory entry misses and is dropped).
TEST_F(ReadNowFolderTest, RenamedAndRecreatedFolderReadsItsOwnMessages) {
  auto read_now_all = [&](Mailbox& mb, Uid uid) -> std::optional<std::string> {
    std::vector<char> buf(65536);
    auto r = mb.read_now(uid, 0, buf.size(), buf.data(), 0);
    if (!r || !*r) return std::nullopt;
    return std::string(buf.data(), (*r)->written);
  };
  ASSERT_TRUE(await<StoreResult<void>>(&loop_, [&](auto cb) { user_->create("A", cb); }));
  {
    auto a = open("A");
    Uid u = append(*a, "Subject: first\n\nold A\n");
    EXPECT_EQ(read_now_all(*a, u), "Subject: first\r\n\r\nold A\r\n");
  }
  ASSERT_TRUE(await<StoreResult<void>>(&loop_, [&](auto cb) { user_->rename("A", "B", cb); }));
  ASSERT_TRUE(await<StoreResult<void>>(&loop_, [&](auto cb) { user_->create("A", cb); }));
  auto a2 = open("A");
  Uid u2 = append(*a2, "Subject: second\n\nnew A\n");
  // Either served now or "would block" (then the pool path): never the renamed folder's file.
  auto got = read_now_all(*a2, u2);
  if (!got) got = read_all(*a2, u2);
  EXPECT_EQ(got, "Subject: second\r\n\r\nnew A\r\n");
  auto got_again = read_now_all(*a2, u2);
  ASSERT_TRUE(got_again.has_value());
  EXPECT_EQ(*got_again, "Subject: second\r\n\r\nnew A\r\n");
  auto b = open("B");
  ASSERT_EQ(b->messages().size(), 1u);
  Uid ub = b->messages()[0].uid;
  auto gb = read_now_all(*b, ub);
  if (!gb) gb = read_all(*b, ub);
  EXPECT_EQ(gb, "Subject: first\r\n\r\nold A\r\n");
}

}  // namespace
}  // namespace mb::store::test
