// File: gateway/store/maildir/modseq_file.hpp
//
// `mailbridge-modseq`: the folder's modification sequences across restarts (pool threads
// only), so CONDSTORE (RFC 7162) can rely on "a message's modseq never goes down".
//
//   line 1  "MBMODSEQ1 <ceiling> unclean"                 while a process has the folder open
//           "MBMODSEQ1 <ceiling> clean <highest>"         after it closed it in order
//   then    "<uid> <modseq> <flags> <keywords>" per message (clean snapshots only; flags and
//           the keyword mask as numbers, so a change made while nobody had it open shows)
//
// The ceiling is a reservation: every modseq handed out is <= it, and it is raised (written,
// temp + rename, fsync as configured) before a modseq above it can be assigned; raising it
// also marks the file unclean. On open: a clean file gives each message its recorded modseq
// and the highest back; an unclean one (the process was killed) gives every message, and
// the highest, the ceiling: never lower than anything a client saw, at the price of clients
// seeing every message as changed once. A lost or unreadable file is the same as a new
// folder: modseqs start again at 1 (logged).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gateway/store/maildir/message_table.hpp"
#include "gateway/store/store.hpp"

namespace mb::store::maildir {

inline constexpr const char* kModseqFile = "mailbridge-modseq";
inline constexpr ModSeq kModseqReserve = 1000;  // headroom taken per reservation write

struct ModseqFile {
  ModSeq ceiling = 0;
  bool clean = false;
  ModSeq highest = 0;
  std::vector<MessageInfo> messages;  // uid, modseq, flags, keywords; UID ascending
};

// header_only: ceiling, clean and highest only (messages left empty; the lines are not parsed).
std::optional<ModseqFile> read_modseq_file(const std::string& dir, bool header_only = false);
// Writes "unclean" with this ceiling.
bool write_modseq_reservation(const std::string& dir, ModSeq ceiling, bool fsync);
// Writes a clean snapshot, unless the file's ceiling is no longer `ceiling` (another opener
// of the folder reserved since: its state is newer than ours).
bool write_modseq_snapshot(const std::string& dir, ModSeq ceiling, ModSeq highest,
                           const std::vector<MessageInfo>& messages, bool fsync);
// Applies a file read at open to a freshly synced table (all modseqs 0); returns the
// mailbox's highest modseq to continue from (<= the file's ceiling + 1).
ModSeq restore_modseqs(const std::optional<ModseqFile>& file, MessageTable& table);

}  // namespace mb::store::maildir
