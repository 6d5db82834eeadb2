// File: protocols/imap/commands/thread_references.hpp
//
// THREAD=REFERENCES (RFC 5256 §2.2) as a pure function over one small record per message.
// Contract: thread_references() returns the thread-list text that follows "* THREAD " (may
// be empty), e.g. "(1 2 (3)(4))((5)(6))". Limits: only the last kMaxReferences message IDs
// of a References header are considered; nothing recurses in proportion to input depth
// (pruning, sorting and rendering walk explicit stacks), so a 10^5-deep chain is safe.
// Duplicate Message-IDs: the later message is treated as having none (§2.2 step 1).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mb::imap {

inline constexpr std::size_t kMaxReferences = 100;

struct ThreadMessage {
  std::uint32_t number = 0;   // what is printed: sequence number or UID (non-zero)
  std::uint32_t seq = 0;      // tie-break for equal sent dates (§2.2 step 4 / 6)
  std::int64_t date = 0;      // sent date (Date:, or internal date when absent)
  std::string base_subject;   // RFC 5256 §2.1
  bool reply_or_forward = false;  // the Subject had a Re:/Fwd: prefix or (fwd) trailer
  std::string message_id;     // raw header values (may be empty)
  std::string in_reply_to;
  std::string references;
};

// The message IDs ("<...>" tokens holding an '@', brackets stripped) of a header value.
std::vector<std::string_view> parse_message_ids(std::string_view header);

// Whether a decoded Subject is a reply or forward (§2.1 steps that strip Re:/Fwd:/(fwd)).
bool subject_is_reply_or_forward(std::string_view decoded_subject);

std::string thread_references(const std::vector<ThreadMessage>& messages);

}  // namespace mb::imap
