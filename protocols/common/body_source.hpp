// File: protocols/common/body_source.hpp
//
// BodySource: a stretch of one message's wire form (CRLF line ends, and the protocol's
// line-start escape, e.g. POP3's '.' stuffing, already applied) that can be read from a
// thread other than the loop. The store makes them (store::Mailbox::open_body_now); the
// transport reads and sends them from its body pump (SessionSink::offload_body) without
// knowing where the bytes come from. It never touches shared mailbox state, only its own
// open file, so one other thread can use it while the loop goes on.
//
// Contract:
//   - read(): writes the next up to `max` wire octets at `dst`, which holds room_for(max)
//     bytes. Fewer than `max` with Status::ok only at the end of the message (the file
//     is shorter than announced when that comes before the caller's expected length: the
//     caller pads). Never waits for the disk: Status::would_block when the bytes are not in
//     the page cache (what was written before that still counts); Status::failed on a read
//     error. After either, drop the source and read the rest another way (store read()).
//   - One thread at a time; the transport's thread and the loop hand it over through a
//     mutex (which orders the accesses). It may be destroyed on either thread.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mb::proto {

class BodySource {
 public:
  enum class Status : std::uint8_t { ok, would_block, failed };
  struct Step {
    std::size_t wire = 0;     // wire octets consumed
    std::size_t written = 0;  // bytes written at dst (wire octets plus escapes)
    Status status = Status::ok;
  };

  virtual ~BodySource() = default;
  virtual Step read(char* dst, std::size_t max) = 0;
  // Bytes `dst` must hold for `max` wire octets (2 * max with a line-start escape).
  virtual std::size_t room_for(std::size_t max) const = 0;
};

}  // namespace mb::proto
