// File: protocols/imap/command.hpp
//
// The typed AST of every IMAP command mailbridge accepts, as produced by mb::imap::Parser
// (parser.hpp) and consumed by the session. Pure data plus a few inline helpers; no I/O.
//
// Contract:
//  - Every string is owned (std::string). Astrings/quoted strings/literals are unescaped.
//  - Keywords the grammar treats case-insensitively (command names, FETCH/SEARCH/STATUS items,
//    AUTHENTICATE mechanism, ENABLE capabilities) are already recognised or upper-cased;
//    flags keep the client's spelling (RFC 3501 §2.3.2: flags compare case-insensitively,
//    the session does that).
//  - Mailbox names arrive decoded from modified UTF-7 (RFC 3501 §5.1.3) into UTF-8;
//    "INBOX" in any case is canonicalised to "INBOX" (RFC 3501 §5.1). 8-bit bytes never
//    reach here, nor invalid modified UTF-7 in a name being created: the parser answers
//    ParseError{bad_mailbox_name}. A looked-up name that is not valid modified UTF-7 arrives
//    with MailboxName::undecodable set.
//  - Sequence sets keep '*' symbolic (value 0) and ranges in the order given; resolve them
//    against the current maximum with SequenceSet::resolve()/contains().
//  - Macros ALL/FAST/FULL are expanded into their FetchAtt lists (RFC 3501 §6.4.5).
//  - APPEND: the message literal is read by the parser straight into AppendArgs::message
//    and handed over by move: one copy in memory (no streaming of chunks).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace mb::imap {

// ---------------------------------------------------------------------------------------
// Sequence sets (RFC 3501 §9 sequence-set; ranges may be given in either order, §9 seq-range)

// One element of a sequence set. 0 stands for '*' (the largest number in use); a single
// number n is the range n:n. `first` may be greater than `last` ("4:2" == "2:4").
struct SeqRange {
  std::uint32_t first = 0;
  std::uint32_t last = 0;
  friend bool operator==(const SeqRange&, const SeqRange&) = default;
};

inline constexpr std::uint32_t kSeqStar = 0;

struct SequenceSet {
  std::vector<SeqRange> ranges;  // never empty in a parsed command, unless `saved`
  // "$": the session's saved search result (RFC 5182 SEARCHRES); `ranges` is then empty and
  // the session resolves the set itself (contains()/resolve() know nothing of it).
  bool saved = false;

  // True when any element uses '*'.
  bool has_star() const {
    for (const auto& r : ranges)
      if (r.first == kSeqStar || r.last == kSeqStar) return true;
    return false;
  }

  // `max` is the value '*' stands for: the highest sequence number (message count) or the
  // highest UID in use (0 in an empty mailbox). True when n lies in any range.
  bool contains(std::uint32_t n, std::uint32_t max) const {
    for (const auto& r : ranges) {
      auto [lo, hi] = bounds(r, max);
      if (n >= lo && n <= hi) return true;
    }
    return false;
  }

  // The set as ascending, non-overlapping, non-adjacent ranges with '*' replaced by `max`.
  // Numbers above `max` are kept (a sequence number > message count is a client error the
  // session reports; for UIDs, RFC 3501 §6.4.8 says non-existent UIDs are ignored, so the
  // session clips).
  std::vector<SeqRange> resolve(std::uint32_t max) const {
    std::vector<SeqRange> out;
    out.reserve(ranges.size());
    for (const auto& r : ranges) {
      auto [lo, hi] = bounds(r, max);
      out.push_back({lo, hi});
    }
    // Insertion sort: sets are short in practice and the parser caps their length.
    for (std::size_t i = 1; i < out.size(); ++i) {
      SeqRange v = out[i];
      std::size_t j = i;
      while (j > 0 && out[j - 1].first > v.first) {
        out[j] = out[j - 1];
        --j;
      }
      out[j] = v;
    }
    std::vector<SeqRange> merged;
    for (const auto& r : out) {
      if (!merged.empty() && r.first <= merged.back().last + std::uint64_t{1}) {
        if (r.last > merged.back().last) merged.back().last = r.last;
      } else {
        merged.push_back(r);
      }
    }
    return merged;
  }

  static std::pair<std::uint32_t, std::uint32_t> bounds(const SeqRange& r, std::uint32_t max) {
    std::uint32_t a = r.first == kSeqStar ? max : r.first;
    std::uint32_t b = r.last == kSeqStar ? max : r.last;
    return a <= b ? std::pair{a, b} : std::pair{b, a};
  }

  friend bool operator==(const SequenceSet&, const SequenceSet&) = default;
};

// ---------------------------------------------------------------------------------------
// Dates (RFC 3501 §9 date, date-time)

struct Date {
  int year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31 (validated against the month)

  // Days since 1970-01-01 (proleptic Gregorian); SEARCH compares dates by day only,
  // disregarding time and timezone (RFC 3501 §6.4.4).
  std::int64_t to_days() const {
    const int y = year - (month <= 2 ? 1 : 0);
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned m = static_cast<unsigned>(month);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + static_cast<unsigned>(day) - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
  }
  friend bool operator==(const Date&, const Date&) = default;
};

struct DateTime {
  Date date;
  int hour = 0, minute = 0, second = 0;
  int zone_minutes = 0;  // offset east of UTC: "+0130" -> 90, "-0800" -> -480

  // Seconds since the Unix epoch, UTC.
  std::int64_t to_unix() const {
    return date.to_days() * 86400 + hour * 3600 + minute * 60 + second -
           static_cast<std::int64_t>(zone_minutes) * 60;
  }
  friend bool operator==(const DateTime&, const DateTime&) = default;
};

// ---------------------------------------------------------------------------------------
// Mailbox names

struct MailboxName {
  std::string name;  // UTF-8; exactly "INBOX" in any case becomes "INBOX" ("inbox/sub" is
                     // left as sent: the hierarchy separator is the session's business)
  std::string wire;  // as sent by the client (modified UTF-7), for echoing in responses
  // A looked-up name in printable ASCII that is not valid modified UTF-7 (RFC 9051 §5.1.3
  // asks servers to verify the syntax only of names being created). No mailbox can carry it,
  // so the command answers NO, as Dovecot does (imaptest "atoms"); `name` is then empty and
  // ImapSession::to_store_name() refuses it. Names being created are BAD in the parser.
  bool undecodable = false;
  bool is_inbox() const { return name == "INBOX"; }
  friend bool operator==(const MailboxName&, const MailboxName&) = default;
};

// ---------------------------------------------------------------------------------------
// SEARCH (RFC 3501 §6.4.4, §9 search-key)

enum class SearchOp : std::uint8_t {
  all_of,      // parenthesised list or the implicit top-level AND: children
  or_,         // OR key1 key2: children[0], children[1]
  not_,        // NOT key: children[0]
  seqset,      // a bare sequence-set: set
  uid,         // UID set: set
  all, answered, deleted, draft, flagged, new_, old, recent, seen,
  unanswered, undeleted, undraft, unflagged, unseen,
  keyword, unkeyword,                   // text = flag keyword (atom)
  bcc, body, cc, from, subject, text, to,  // text = astring to match (substring, case-insens.)
  header,                               // header_name, text
  before, on, since,                    // date (internal date)
  sentbefore, senton, sentsince,        // date (Date: header)
  larger, smaller,                      // number (RFC822.SIZE)
};

struct SearchKey {
  SearchOp op = SearchOp::all;
  std::string text;          // string/keyword operand
  std::string header_name;   // HEADER field-name
  Date date;                 // date operand
  std::uint64_t number = 0;  // LARGER/SMALLER operand
  SequenceSet set;           // seqset / UID operand
  std::vector<SearchKey> children;
  friend bool operator==(const SearchKey&, const SearchKey&) = default;
};

// RFC 4731 ESEARCH result options and RFC 5182 SAVE, as bits of SearchArgs::returns.
inline constexpr std::uint8_t kReturnMin = 1;
inline constexpr std::uint8_t kReturnMax = 2;
inline constexpr std::uint8_t kReturnAll = 4;
inline constexpr std::uint8_t kReturnCount = 8;
inline constexpr std::uint8_t kReturnSave = 16;

struct SearchArgs {
  std::optional<std::string> charset;  // upper-cased; the session answers NO [BADCHARSET]
                                       // for anything but UTF-8 / US-ASCII
  // "RETURN (...)" was given (RFC 4731 §3.1): answer with one ESEARCH response (none when
  // SAVE is the only option, RFC 5182 §2.4). "RETURN ()" is stored as kReturnAll.
  bool extended = false;
  std::uint8_t returns = 0;            // kReturn* bits
  SearchKey key;                       // always op == all_of at the top
};

// ---------------------------------------------------------------------------------------
// FETCH (RFC 3501 §6.4.5, §9 fetch-att; RFC 3516 BINARY)

enum class FetchItem : std::uint8_t {
  envelope, flags, internaldate, rfc822, rfc822_header, rfc822_size, rfc822_text,
  body,           // BODY without section: non-extensible BODYSTRUCTURE
  bodystructure,
  uid,
  body_section,   // BODY[section]<partial> / BODY.PEEK[...]
  binary,         // BINARY[part]<partial> / BINARY.PEEK[...] (RFC 3516)
  binary_size,    // BINARY.SIZE[part]
};

enum class SectionText : std::uint8_t {
  none,               // BODY[] or BODY[1.2]: the whole message / part
  header,             // HEADER
  header_fields,      // HEADER.FIELDS (names)
  header_fields_not,  // HEADER.FIELDS.NOT (names)
  text,               // TEXT
  mime,               // MIME (only after a part number)
};

struct Section {
  std::vector<std::uint32_t> part;   // "1.2.3" -> {1,2,3}; empty = top level
  SectionText text = SectionText::none;
  std::vector<std::string> fields;   // header field names, upper-cased, for HEADER.FIELDS(.NOT)
  friend bool operator==(const Section&, const Section&) = default;
};

struct Partial {
  std::uint32_t offset = 0;
  std::uint32_t length = 0;  // > 0 (RFC 3501 §9: nz-number)
  friend bool operator==(const Partial&, const Partial&) = default;
};

struct FetchAtt {
  FetchItem item = FetchItem::flags;
  Section section;                 // body_section / binary / binary_size
  bool peek = false;               // BODY.PEEK / BINARY.PEEK: do not set \Seen
  std::optional<Partial> partial;  // <offset.length>
  // The bracketed section text to echo in the response as BODY[<spec>] (RFC 3501 §7.4.2):
  // keywords upper-cased, part numbers normalised, header field names as the client spelt
  // them, single spaces; e.g. "HEADER.FIELDS (From To)", "1.2.MIME", "" for BODY[].
  std::string spec;
  friend bool operator==(const FetchAtt&, const FetchAtt&) = default;
};

struct FetchArgs {
  SequenceSet set;
  std::vector<FetchAtt> atts;  // macros expanded, order as given
};

// ---------------------------------------------------------------------------------------
// Per-command arguments

struct NoArgs {};

struct LoginArgs {
  std::string user;
  std::string password;
};

struct AuthenticateArgs {
  std::string mechanism;                       // upper-cased, e.g. "PLAIN"
  std::optional<std::string> initial_response; // SASL-IR (RFC 4959), base64 as sent; "=" = empty
};

struct MailboxArgs {  // SELECT, EXAMINE, CREATE, DELETE, SUBSCRIBE, UNSUBSCRIBE
  MailboxName mailbox;
};

struct RenameArgs {
  MailboxName from;
  MailboxName to;
};

struct ListArgs {  // LIST and LSUB; LIST-EXTENDED (RFC 5258) fields empty when not used
  std::string reference;                     // UTF-8 (decoded like a mailbox name)
  std::vector<std::string> patterns;         // UTF-8, at least one; wildcards '*' '%' kept
  std::vector<std::string> selection_options;  // upper-cased, e.g. "SUBSCRIBED", "SPECIAL-USE"
  std::vector<std::string> return_options;     // upper-cased, e.g. "SPECIAL-USE", "CHILDREN"
  bool extended = false;                     // selection or RETURN options were given
};

enum class StatusItem : std::uint8_t { messages, recent, uidnext, uidvalidity, unseen, size };

struct StatusArgs {
  MailboxName mailbox;
  std::vector<StatusItem> items;  // as given, at least one
};

// One further message of a MULTIAPPEND (RFC 3502): its own flags, date and literal.
struct AppendMessage {
  std::vector<std::string> flags;
  std::optional<DateTime> date;
  std::string message;
};

struct AppendArgs {
  MailboxName mailbox;
  std::vector<std::string> flags;  // as given (e.g. "\\Seen", "$Forwarded")
  std::optional<DateTime> date;
  std::uint64_t size = 0;          // announced literal size
  bool non_sync = false;           // {n+} (RFC 7888)
  std::string message;             // the literal bytes (size() == size)
  std::vector<AppendMessage> more; // MULTIAPPEND: messages 2..n, in order (empty for one)
};

struct ExpungeArgs {                   // EXPUNGE; UID EXPUNGE set (RFC 4315 §2.1)
  std::optional<SequenceSet> uid_set;  // present iff Command::uid
};

enum class StoreMode : std::uint8_t { replace, add, remove };  // FLAGS, +FLAGS, -FLAGS

struct StoreArgs {
  SequenceSet set;
  StoreMode mode = StoreMode::replace;
  bool silent = false;             // .SILENT
  std::vector<std::string> flags;  // as given
};

struct CopyArgs {  // COPY and MOVE (RFC 6851)
  SequenceSet set;
  MailboxName mailbox;
};

struct EnableArgs {
  std::vector<std::string> capabilities;  // upper-cased
};

struct IdArgs {  // RFC 2971: NIL -> params empty and nil == true
  bool nil = false;
  std::vector<std::pair<std::string, std::optional<std::string>>> params;
};

// ---------------------------------------------------------------------------------------
// The command

enum class CommandName : std::uint8_t {
  capability, noop, logout, starttls, authenticate, login,
  select, examine, create, delete_, rename, subscribe, unsubscribe, list, lsub, status, append,
  check, close, unselect, expunge, search, fetch, store, copy, move, idle,
  namespace_, enable, id, sort, thread,
};

// Wire names indexed by CommandName.
inline constexpr std::string_view kCommandNames[] = {
    "CAPABILITY", "NOOP", "LOGOUT", "STARTTLS", "AUTHENTICATE", "LOGIN",
    "SELECT", "EXAMINE", "CREATE", "DELETE", "RENAME", "SUBSCRIBE", "UNSUBSCRIBE", "LIST",
    "LSUB", "STATUS", "APPEND", "CHECK", "CLOSE", "UNSELECT", "EXPUNGE", "SEARCH", "FETCH",
    "STORE", "COPY", "MOVE", "IDLE", "NAMESPACE", "ENABLE", "ID", "SORT", "THREAD"};

// The upper-case wire name, e.g. "DELETE", "NAMESPACE".
constexpr std::string_view command_name_text(CommandName n) {
  return kCommandNames[static_cast<std::size_t>(n)];
}

// SORT (RFC 5256 §3): criteria in order of precedence, each optionally REVERSE.
enum class SortCriterion : std::uint8_t { arrival, cc, date, from, size, subject, to };

struct SortKey {
  SortCriterion criterion = SortCriterion::arrival;
  bool reverse = false;
  friend bool operator==(const SortKey&, const SortKey&) = default;
};

struct SortArgs {
  // THREAD (RFC 5256 §4) also uses SortArgs: `thread` set, `keys` empty. Only
  // ORDEREDSUBJECT (§2.1) and REFERENCES (§2.2) are offered; others are a syntax error.
  bool thread = false;
  bool references = false;  // THREAD=REFERENCES (else ORDEREDSUBJECT)
  std::vector<SortKey> keys;  // SORT: at least one, at most 16
  SearchArgs search;          // charset always set (mandatory in SORT), upper-cased
};

using CommandArgs = std::variant<NoArgs, LoginArgs, AuthenticateArgs, MailboxArgs, RenameArgs,
                                 ListArgs, StatusArgs, AppendArgs, ExpungeArgs, SearchArgs,
                                 FetchArgs, StoreArgs, CopyArgs, EnableArgs, IdArgs, SortArgs>;

// Which CommandArgs alternative each command carries:
//   NoArgs: CAPABILITY NOOP LOGOUT STARTTLS CHECK CLOSE UNSELECT IDLE NAMESPACE
//   LoginArgs: LOGIN            AuthenticateArgs: AUTHENTICATE
//   MailboxArgs: SELECT EXAMINE CREATE DELETE SUBSCRIBE UNSUBSCRIBE
//   RenameArgs: RENAME          ListArgs: LIST LSUB       StatusArgs: STATUS
//   AppendArgs: APPEND          ExpungeArgs: EXPUNGE, UID EXPUNGE
//   SearchArgs: SEARCH, UID SEARCH          FetchArgs: FETCH, UID FETCH
//   StoreArgs: STORE, UID STORE             CopyArgs: COPY MOVE, UID COPY, UID MOVE
//   EnableArgs: ENABLE          IdArgs: ID      SortArgs: SORT, UID SORT, THREAD, UID THREAD
struct Command {
  std::string tag;
  CommandName name = CommandName::noop;
  bool uid = false;  // "UID" prefix (only FETCH SEARCH STORE COPY MOVE EXPUNGE SORT THREAD)
  CommandArgs args;

  template <class T>
  const T& get() const { return std::get<T>(args); }
  template <class T>
  T& get() { return std::get<T>(args); }
};

}  // namespace mb::imap
