// File: gateway/store/store.hpp
//
// The message store as both protocol servers see it: users -> mailboxes -> messages.
// It knows nothing of IMAP or POP3 syntax. Backends (gateway/store/maildir, later mbox and a
// POP3 upstream) implement it; protocols include only this header (no libuv here).
//
//   Storage      one per process; opens users.
//   UserStore    one user's mailboxes: list, create, delete, rename, subscribe, status, open.
//   Mailbox      the shared in-memory state of one (user, mailbox): exactly one object per
//                pair in the process, shared (std::shared_ptr) by every IMAP and POP3 session
//                that has it open. Holds UIDs, flags, keywords, sizes, modseqs; applies every
//                change once and tells every observer (other sessions) in the same loop turn.
//
// Threading and completion: call everything on the loop thread. Operations that touch disk
// run on the libuv thread pool; their callback is invoked exactly once on the loop thread,
// never from inside the call that started them. Read-only accessors (messages(), uidnext(),
// ...) are synchronous and reflect the in-memory state.
//
// Mailbox names: UTF-8, hierarchy separator '/', "INBOX" (any case) is the inbox. The IMAP
// layer converts from modified UTF-7 and its presented separator before calling in.
// Backends refuse names that could leave the user's root (ErrorKind::bad_name).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/common/body_source.hpp"
#include "protocols/common/result.hpp"

namespace mb::store {

// ---------------------------------------------------------------------------------------
// Errors (kind for the protocol's response code, public text for the client, internal text
// for the log only).
enum class ErrorKind {
  not_found,      // no such mailbox / message
  exists,         // mailbox already exists
  expunged,       // message was expunged (RFC 5530 EXPUNGEISSUED)
  bad_name,       // invalid mailbox name (RFC 5530 CANNOT)
  no_permission,  // e.g. deleting INBOX
  too_big,        // message over the append limit (RFC 7889 TOOBIG)
  over_quota,     // disk full (RFC 5530 OVERQUOTA)
  limit,          // a fixed store limit reached, e.g. the 27th keyword of a Maildir (RFC 5530 LIMIT)
  temp,           // transient failure, try again (UNAVAILABLE, POP3 [SYS/TEMP])
  internal,       // bug or corrupt data (SERVERBUG, POP3 [SYS/PERM])
};

struct Error {
  ErrorKind kind = ErrorKind::internal;
  std::string public_text;    // safe to send to the client
  std::string internal_text;  // for the log (paths, errno)
};

template <class T>
using StoreResult = mb::Result<T, Error>;

using Uid = std::uint32_t;
using ModSeq = std::uint64_t;

// System flags (RFC 3501 §2.3.2) as bits. \Recent is not stored: see Mailbox::claim_recent().
enum Flag : std::uint8_t {
  kSeen = 1u << 0,
  kAnswered = 1u << 1,
  kFlagged = 1u << 2,
  kDeleted = 1u << 3,
  kDraft = 1u << 4,
};
using FlagSet = std::uint8_t;

// Bit i set = keyword i of Mailbox::keywords(). At most kMaxKeywords per mailbox (Maildir
// stores them as the letters a-z in the file name, as Dovecot does).
using KeywordMask = std::uint32_t;
inline constexpr std::size_t kMaxKeywords = 26;

struct MessageInfo {
  Uid uid = 0;
  FlagSet flags = 0;
  KeywordMask keywords = 0;
  std::int64_t internal_date = 0;  // seconds since the epoch (IMAP INTERNALDATE)
  std::uint64_t size = 0;          // RFC822.SIZE: octets of the wire form (CRLF line ends)
  ModSeq modseq = 0;               // modification sequence of the last change (RFC 7162)
};

// One change applied to a mailbox, as told to observers.
struct Change {
  enum class Kind : std::uint8_t { appended, flags, expunged };
  Kind kind;
  Uid uid;
  ModSeq modseq;
};

// A session that wants to hear about changes. Registered with Mailbox::add_observer();
// must remove itself before it dies.
class MailboxObserver {
 public:
  virtual ~MailboxObserver() = default;
  // Changes in the order applied; at the time of the call messages() already reflects them.
  virtual void on_mailbox_changed(std::span<const Change> changes) = 0;
};

enum class FlagOp : std::uint8_t { add, remove, replace };

struct AppendRequest {
  std::string message;                 // full message, CRLF or LF line ends
  FlagSet flags = 0;
  std::vector<std::string> keywords;   // created in the mailbox's table if needed
  std::optional<std::int64_t> internal_date;  // default: now
};

struct CopyResult {
  std::uint32_t dest_uidvalidity = 0;
  std::vector<Uid> source_uids;  // in the order copied
  std::vector<Uid> dest_uids;    // same order (RFC 4315 COPYUID)
};

// Cached per-message data kept in the backend's per-mailbox cache file (e.g. the parsed
// MIME structure, so a second FETCH ENVELOPE BODYSTRUCTURE never re-reads bodies).
enum class CacheField : std::uint8_t { mime_structure = 0 };

class Mailbox {
 public:
  virtual ~Mailbox() = default;

  virtual const std::string& name() const = 0;
  virtual std::uint32_t uidvalidity() const = 0;
  virtual Uid uidnext() const = 0;
  virtual ModSeq highest_modseq() const = 0;

  // Current messages, sorted by UID ascending. Valid until the next change callback or
  // the next loop turn; copy what you keep.
  virtual std::span<const MessageInfo> messages() const = 0;
  // The message with this UID, or nullptr if absent (expunged or never existed).
  virtual const MessageInfo* find(Uid uid) const = 0;
  // Keyword table: index i names bit i of MessageInfo::keywords.
  virtual const std::vector<std::string>& keywords() const = 0;

  virtual void add_observer(MailboxObserver* observer) = 0;
  virtual void remove_observer(MailboxObserver* observer) = 0;

  // RFC 3501 \Recent: returns the first UID that is recent for the caller; every message
  // with uid >= that value is recent for this caller and for no other session. Claims all
  // messages currently present that no other session has claimed.
  virtual Uid claim_recent() = 0;
  // The UID claim_recent() would return now, claiming nothing: EXAMINE and STATUS report
  // \Recent without removing it (RFC 3501 §6.3.2). Default: nothing is recent.
  virtual Uid first_recent() const { return uidnext(); }

  // Look on disk for changes made outside this process (MDA delivery, other servers) and
  // apply and broadcast them. inotify makes this mostly unnecessary; sessions call it on
  // SELECT/NOOP/IDLE/POP3 login to cover filesystems without inotify.
  virtual void rescan(std::function<void(StoreResult<void>)> done) = 0;

  // Mutations. `origin` (may be null) is the observer that asked; it is not notified (it
  // reports the change to its own client from the callback's result). Every other observer
  // is. Mutations of one mailbox are applied in the order requested.
  virtual void append(AppendRequest request, MailboxObserver* origin,
                      std::function<void(StoreResult<Uid>)> done) = 0;
  // Changes flags and keywords of the listed UIDs (absent UIDs are skipped). The result
  // lists the UIDs whose flags actually changed, each with its new modseq.
  virtual void store_flags(std::vector<Uid> uids, FlagOp op, FlagSet flags,
                           std::vector<std::string> keywords, MailboxObserver* origin,
                           std::function<void(StoreResult<std::vector<Change>>)> done) = 0;
  // Removes the listed UIDs (absent ones are skipped); the result lists the UIDs removed.
  virtual void expunge(std::vector<Uid> uids, MailboxObserver* origin,
                       std::function<void(StoreResult<std::vector<Uid>>)> done) = 0;
  // Copies to another mailbox of the same user (opened and notified as needed). move()
  // copies then expunges the sources (RFC 6851).
  virtual void copy(std::vector<Uid> uids, std::string dest_mailbox, MailboxObserver* origin,
                    std::function<void(StoreResult<CopyResult>)> done) = 0;
  virtual void move(std::vector<Uid> uids, std::string dest_mailbox, MailboxObserver* origin,
                    std::function<void(StoreResult<CopyResult>)> done) = 0;

  // Reads up to `max_len` octets of the message's wire form (CRLF line ends) from wire
  // offset `offset`. Fewer octets only at the end of the message; empty at or past it.
  // ErrorKind::expunged if the message is gone.
  virtual void read(Uid uid, std::uint64_t offset, std::size_t max_len,
                    std::function<void(StoreResult<std::string>)> done) = 0;

  // Synchronous fast path of read() for streaming senders (RETR, FETCH BODY[]): when the
  // bytes can be had without blocking the loop (file name and data in the kernel's caches),
  // writes the wire octets read() would produce straight into `dst` and returns the wire
  // octets consumed (`wire`: fewer than `max_len` only at the end of the message) and the
  // bytes written (`written`). `line_escape` (0: none) is a generic transparency hook: a
  // line (at wire offset 0 or after an LF) starting with that byte gets one more copy of it
  // in front, counted in `written` only (POP3 passes '.': RFC 1939 §3 byte-stuffing). It
  // must not be CR or LF. `dst` must hold `max_len` bytes, 2 * `max_len` with an escape.
  // std::nullopt: it would have to wait for the disk, or the backend has no fast path;
  // nothing counts as written (`dst` holds garbage) and the caller uses read(). ErrorKind::expunged if the message is
  // gone. Loop thread; returns the result instead of calling back.
  struct ReadNow {
    std::size_t wire = 0;
    std::size_t written = 0;
  };
  virtual std::optional<StoreResult<ReadNow>> read_now(Uid /*uid*/, std::uint64_t /*offset*/,
                                                       std::size_t /*max_len*/, char* /*dst*/,
                                                       char /*line_escape*/) {
    return std::nullopt;
  }

  // The message's wire form from wire offset `offset` as a proto::BodySource that another
  // thread may read (the transport's body pump: SessionSink::offload_body), with
  // `line_escape` applied as in read_now(). Opened on the loop without waiting for the disk:
  // nullptr when that would block, the message is gone, or the backend has no such path
  // (the caller uses read_now()/read()). The source reads the file it opened: an expunge
  // afterwards does not cut it short. Loop thread.
  virtual std::unique_ptr<proto::BodySource> open_body_now(Uid /*uid*/, std::uint64_t /*offset*/,
                                                           char /*line_escape*/) {
    return nullptr;
  }

  // Per-message cache (see CacheField). get is synchronous (in memory); put persists later.
  // The persisted cache is not read at open (an IDLE session never needs it, and it costs
  // ~1 KB per message): cache_get sees only entries put in this process until load_cache()
  // has completed. Puts made before then are kept (they win over the persisted ones).
  virtual std::optional<std::string_view> cache_get(Uid uid, CacheField field) const = 0;
  virtual void cache_put(Uid uid, CacheField field, std::string value) = 0;
  // Makes cache_get see the persisted cache. The first call reads it on the thread pool;
  // concurrent callers wait on that one load; once loaded, later calls cost nothing more.
  // `done` always runs later on the loop, never before load_cache returns (callers may
  // call it from inside a state machine step and continue in `done`). The caller keeps
  // itself alive (or guards `done`); the mailbox keeps itself alive until `done` has run.
  // A load that fails (unreadable file) completes as loaded and empty.
  virtual void load_cache(std::function<void()> done) = 0;
};

using MailboxPtr = std::shared_ptr<Mailbox>;

// RFC 6154 special-use attributes and RFC 3501/5258 list attributes.
enum class SpecialUse : std::uint8_t { none, sent, drafts, trash, junk, archive };

struct MailboxEntry {
  std::string name;          // UTF-8, '/' separated
  bool noselect = false;     // exists only as a parent of other mailboxes
  bool has_children = false;
  bool subscribed = false;
  SpecialUse special_use = SpecialUse::none;
};

struct MailboxStatus {
  std::uint32_t messages = 0;
  std::uint32_t recent = 0;
  std::uint32_t unseen = 0;
  Uid uidnext = 0;
  std::uint32_t uidvalidity = 0;
  ModSeq highest_modseq = 0;
  std::uint64_t size = 0;  // sum of message sizes
};

class UserStore {
 public:
  virtual ~UserStore() = default;
  virtual const std::string& user() const = 0;

  // Every mailbox of the user (INBOX first), with attributes; subscribed names that no
  // longer exist are listed too, with noselect set and `subscribed` true.
  virtual void list(std::function<void(StoreResult<std::vector<MailboxEntry>>)> done) = 0;
  // Creates the mailbox and any missing parents.
  virtual void create(std::string name, std::function<void(StoreResult<void>)> done) = 0;
  // Deletes a mailbox (RFC 3501 §6.3.4: not INBOX; one with children becomes noselect).
  virtual void remove(std::string name, std::function<void(StoreResult<void>)> done) = 0;
  // Renames a mailbox and its children; renaming INBOX moves its messages into a new
  // mailbox and leaves INBOX empty (RFC 3501 §6.3.5).
  virtual void rename(std::string from, std::string to,
                      std::function<void(StoreResult<void>)> done) = 0;
  virtual void subscribe(std::string name, bool subscribed,
                         std::function<void(StoreResult<void>)> done) = 0;
  virtual void status(std::string name, std::function<void(StoreResult<MailboxStatus>)> done) = 0;
  // Opens (or joins) the shared state of a mailbox.
  virtual void open(std::string name, std::function<void(StoreResult<MailboxPtr>)> done) = 0;
};

using UserStorePtr = std::shared_ptr<UserStore>;

class Storage {
 public:
  virtual ~Storage() = default;
  // `user` was authenticated by gateway/auth; `home` is its passwd-file home (may be empty).
  // Fails with bad_name if the user name cannot be used in a path.
  virtual void open_user(std::string user, std::string home,
                         std::function<void(StoreResult<UserStorePtr>)> done) = 0;
  // Shared mailbox states in memory now (open by a session, or lingering after release), for
  // the mailbridge_mailboxes_open gauge. Loop thread only.
  virtual std::size_t open_mailboxes() const { return 0; }
};

}  // namespace mb::store
