// File: protocols/imap/commands/search.cpp
//
// SEARCH and UID SEARCH (RFC 3501 §6.4.4): every search key, CHARSET UTF-8 / US-ASCII (others
// NO [BADCHARSET], §7.1), header keys on RFC 2047-decoded values, BODY/TEXT on transfer- and
// charset-decoded text parts. Keys on flags, sizes, dates and sets are answered from memory;
// only keys that need message content read it, one message at a time (asynchronously), using
// the cached MIME structure where it is enough (headers only). ESEARCH result options
// (RFC 4731: RETURN (MIN MAX ALL COUNT)) and SEARCHRES (RFC 5182: RETURN (SAVE), "$").
// SORT (RFC 5256 §3) is the same job: each match also gets its sort keys (from the header
// block: the cached structure says where it is, so only headers are read), and the result
// is sorted on them, ties by sequence number.
#include <algorithm>

#include "protocols/imap/commands/structure_cache.hpp"
#include "protocols/imap/render/render.hpp"
#include "protocols/imap/response.hpp"
#include "protocols/imap/session_impl.hpp"
#include "protocols/imap/sort_keys.hpp"
#include "protocols/mime/decode.hpp"
#include "protocols/imap/commands/thread_references.hpp"
#include "protocols/mime/message_structure.hpp"

namespace mb::imap::cmd {

namespace {

constexpr std::int64_t kDay = 86400;

enum Need : std::uint8_t { kNeedNothing = 0, kNeedHeader = 1, kNeedBody = 2 };

std::uint8_t needs(const SearchKey& k) {
  std::uint8_t n = kNeedNothing;
  switch (k.op) {
    case SearchOp::bcc: case SearchOp::cc: case SearchOp::from: case SearchOp::subject:
    case SearchOp::to: case SearchOp::header: case SearchOp::sentbefore:
    case SearchOp::senton: case SearchOp::sentsince:
      n = kNeedHeader;
      break;
    case SearchOp::body: case SearchOp::text:
      n = kNeedHeader | kNeedBody;
      break;
    default:
      break;
  }
  for (const auto& c : k.children) n |= needs(c);
  return n;
}

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x | 0x20) == (y | 0x20);
         });
}

std::int64_t days_of(int y, int m, int d) {
  Date date;
  date.year = y;
  date.month = m;
  date.day = d;
  return date.to_days();
}

// Floor division for dates before 1970.
std::int64_t epoch_days(std::int64_t t) { return t >= 0 ? t / kDay : -((-t + kDay - 1) / kDay); }

// One SORT match with its keys.
struct SortEntry {
  store::Uid uid = 0;
  std::uint32_t seq = 0;
  std::uint64_t size = 0;
  std::int64_t arrival = 0;
  std::int64_t date = 0;
  std::string subject, from, to, cc;
  // THREAD=REFERENCES only (RFC 5256 §2.2).
  bool reply = false;
  std::string message_id, in_reply_to, references;
};

bool sort_needs_header(const std::vector<SortKey>& keys) {
  for (const auto& k : keys) {
    if (k.criterion != SortCriterion::arrival && k.criterion != SortCriterion::size) return true;
  }
  return false;
}

// <0, 0, >0 as a is before, tied with, after b on one criterion (RFC 5256 §3).
int compare_on(const SortEntry& a, const SortEntry& b, SortCriterion c) {
  auto cmp = [](const auto& x, const auto& y) { return x < y ? -1 : (y < x ? 1 : 0); };
  switch (c) {
    case SortCriterion::arrival: return cmp(a.arrival, b.arrival);
    case SortCriterion::date: return cmp(a.date, b.date);
    case SortCriterion::size: return cmp(a.size, b.size);
    case SortCriterion::subject: return a.subject.compare(b.subject);
    case SortCriterion::from: return a.from.compare(b.from);
    case SortCriterion::to: return a.to.compare(b.to);
    case SortCriterion::cc: return a.cc.compare(b.cc);
  }
  return 0;
}

struct MessageContext {
  store::Uid uid = 0;
  std::uint32_t seq = 0;
  const store::MessageInfo* info = nullptr;
  std::string_view header;  // root header block, when loaded
  std::string_view text;    // whole message, when loaded
  const mime::MessageStructure* structure = nullptr;
};

class SearchJob final : public Job {
 public:
  SearchJob(ImapSession& s, SearchArgs args, bool uid_cmd, std::vector<SortKey> sort_keys = {},
            bool thread = false, bool references = false)
      : s_(s), cache_puts_(s.mailbox_ptr()), key_(std::move(args.key)), uid_cmd_(uid_cmd),
        extended_(args.extended),
        returns_(args.returns), sort_keys_(std::move(sort_keys)), thread_(thread),
        references_(references) {
    // THREAD=ORDEREDSUBJECT (RFC 5256 §2.1) sorts by base subject, then sent date.
    if (thread_) sort_keys_ = {{SortCriterion::subject, false}, {SortCriterion::date, false}};
    need_ = needs(key_);
    if (sort_needs_header(sort_keys_)) need_ |= kNeedHeader;
    uids_ = s.view().uids().to_vector();
  }

  void resume() override { run(); }
  void run();

 private:
  bool eval(const SearchKey& k, const MessageContext& m);
  bool match_text(const MessageContext& m, std::string_view needle, bool header, bool body);
  // Loads the range into data_; true when that goes on asynchronously (run() is called
  // again when done), false when data_ holds it already.
  bool load(store::Uid uid, std::uint64_t offset, std::uint64_t size);
  void respond();
  void respond_sorted();
  SortEntry sort_entry(const MessageContext& m) const;
  bool in_saved(store::Uid uid) const {
    const auto& saved = s_.saved_search();
    return std::binary_search(saved.begin(), saved.end(), uid);
  }

  ImapSession& s_;
  CachePutBatch cache_puts_;  // structures parsed here, on their way to the store's cache
  SearchKey key_;
  bool uid_cmd_;
  bool extended_;
  std::uint8_t returns_;
  std::vector<SortKey> sort_keys_;  // SORT (or THREAD) when not empty
  bool thread_ = false;
  bool references_ = false;  // THREAD=REFERENCES
  std::vector<SortEntry> sorted_;
  std::uint8_t need_ = 0;
  std::vector<store::Uid> uids_;
  std::size_t index_ = 0;
  std::vector<store::Uid> hits_;  // ascending
  // Loaded content of the current message.
  std::string data_;
  bool loaded_ = false;
  bool cache_ready_ = false;  // load_cache() has been asked (need_ != kNeedNothing only)
  std::optional<mime::MessageStructure> structure_;
};

bool SearchJob::load(store::Uid uid, std::uint64_t offset, std::uint64_t size) {
  // Small and in the page cache: no thread-pool round trip per message.
  if (auto now = read_small_now(s_.mailbox(), uid, offset, size, data_)) {
    loaded_ = true;  // an unreadable message matches as if empty, as below
    return false;
  }
  s_.begin_async();
  s_.mailbox().read(uid, offset, static_cast<std::size_t>(size),
                    s_.guarded([this](store::StoreResult<std::string> r) {
                      data_ = r ? std::move(*r) : std::string();
                      loaded_ = true;
                      run();
                    }));
  return true;
}

bool SearchJob::match_text(const MessageContext& m, std::string_view needle, bool header,
                           bool body) {
  if (header && mime::contains_icase(mime::decode_header_value(m.header), needle)) return true;
  if (!body || m.structure == nullptr) return false;
  // Every leaf part's body, decoded (RFC 3501 §6.4.4 BODY: "in the body of the message").
  std::vector<const mime::BodyPart*> stack{&m.structure->root};
  while (!stack.empty()) {
    const mime::BodyPart* p = stack.back();
    stack.pop_back();
    if (!p->children.empty()) {
      for (const auto& c : p->children) stack.push_back(&c);
      continue;
    }
    if (p->body.end() > m.text.size()) continue;
    std::string_view raw = m.text.substr(static_cast<std::size_t>(p->body.offset),
                                         static_cast<std::size_t>(p->body.size));
    if (mime::contains_icase(mime::decode_body_text(raw, *p), needle)) return true;
  }
  return false;
}

bool SearchJob::eval(const SearchKey& k, const MessageContext& m) {
  const store::MessageInfo& info = *m.info;
  switch (k.op) {
    case SearchOp::all_of:
      for (const auto& c : k.children) {
        if (!eval(c, m)) return false;
      }
      return true;
    case SearchOp::or_:
      return k.children.size() == 2 && (eval(k.children[0], m) || eval(k.children[1], m));
    case SearchOp::not_:
      return k.children.size() == 1 && !eval(k.children[0], m);
    case SearchOp::seqset:
      if (k.set.saved) return in_saved(m.uid);  // "$" names messages either way (RFC 5182)
      return k.set.contains(m.seq, s_.view().exists());
    case SearchOp::uid:
      if (k.set.saved) return in_saved(m.uid);
      return k.set.contains(m.uid, s_.view().max_uid());
    case SearchOp::all: return true;
    case SearchOp::answered: return (info.flags & store::kAnswered) != 0;
    case SearchOp::deleted: return (info.flags & store::kDeleted) != 0;
    case SearchOp::draft: return (info.flags & store::kDraft) != 0;
    case SearchOp::flagged: return (info.flags & store::kFlagged) != 0;
    case SearchOp::seen: return (info.flags & store::kSeen) != 0;
    case SearchOp::unanswered: return (info.flags & store::kAnswered) == 0;
    case SearchOp::undeleted: return (info.flags & store::kDeleted) == 0;
    case SearchOp::undraft: return (info.flags & store::kDraft) == 0;
    case SearchOp::unflagged: return (info.flags & store::kFlagged) == 0;
    case SearchOp::unseen: return (info.flags & store::kSeen) == 0;
    case SearchOp::recent: return s_.view().is_recent(m.uid);
    case SearchOp::new_:
      return s_.view().is_recent(m.uid) && (info.flags & store::kSeen) == 0;
    case SearchOp::old: return !s_.view().is_recent(m.uid);
    case SearchOp::keyword:
    case SearchOp::unkeyword: {
      bool set = false;
      const auto& table = s_.mailbox().keywords();
      for (std::size_t i = 0; i < table.size() && i < 32; ++i) {
        if (iequal(table[i], k.text)) set = (info.keywords & (1u << i)) != 0;
      }
      return k.op == SearchOp::keyword ? set : !set;
    }
    case SearchOp::bcc: case SearchOp::cc: case SearchOp::from: case SearchOp::to: {
      std::string_view name = k.op == SearchOp::bcc  ? "Bcc"
                              : k.op == SearchOp::cc ? "Cc"
                              : k.op == SearchOp::from ? "From"
                                                       : "To";
      for (auto raw : mime::find_header(m.header, name)) {
        if (mime::contains_icase(mime::addresses_for_search(raw), k.text)) return true;
      }
      return false;
    }
    case SearchOp::subject:
    case SearchOp::header: {
      std::string_view name = k.op == SearchOp::subject ? std::string_view("Subject")
                                                          : std::string_view(k.header_name);
      for (auto raw : mime::find_header(m.header, name)) {
        if (mime::contains_icase(mime::decode_header_value(raw), k.text)) return true;
      }
      return false;
    }
    case SearchOp::body:
      return match_text(m, k.text, false, true);
    case SearchOp::text:
      return match_text(m, k.text, true, true);
    case SearchOp::before:
      return epoch_days(info.internal_date) < k.date.to_days();
    case SearchOp::on:
      return epoch_days(info.internal_date) == k.date.to_days();
    case SearchOp::since:
      return epoch_days(info.internal_date) >= k.date.to_days();
    case SearchOp::sentbefore:
    case SearchOp::senton:
    case SearchOp::sentsince: {
      auto raw = mime::find_header(m.header, "Date");
      if (raw.empty()) return false;
      auto d = mime::parse_date(raw.front());
      if (!d) return false;
      // RFC 3501 §6.4.4: compare the date as written, disregarding time and timezone.
      std::int64_t sent = days_of(d->year, d->month, d->day);
      std::int64_t want = k.date.to_days();
      if (k.op == SearchOp::sentbefore) return sent < want;
      if (k.op == SearchOp::senton) return sent == want;
      return sent >= want;
    }
    case SearchOp::larger: return info.size > k.number;
    case SearchOp::smaller: return info.size < k.number;
  }
  return false;
}

void SearchJob::run() {
  store::Mailbox& mb = s_.mailbox();
  if (need_ != kNeedNothing && !cache_ready_ && !uids_.empty()) {
    // Header/body keys use the cached structures: have the mailbox read them first (it
    // does not at open: issue #5). Flag-only searches never load them.
    cache_ready_ = true;
    s_.begin_async();
    mb.load_cache(s_.guarded([this] { run(); }));
    return;
  }
  while (index_ < uids_.size()) {
    store::Uid uid = uids_[index_];
    const store::MessageInfo* info = mb.find(uid);
    if (info == nullptr) {
      ++index_;
      continue;
    }
    MessageContext m;
    m.uid = uid;
    m.seq = s_.view().seq_of(uid);
    m.info = info;
    if (need_ != kNeedNothing) {
      if (!structure_) {
        if (auto cached = mb.cache_get(uid, store::CacheField::mime_structure)) {
          structure_ = mime::deserialize(*cached);
        }
      }
      if (!loaded_) {
        // Headers only and the structure is known: read just the header block.
        const bool pending = (need_ & kNeedBody) == 0 && structure_
                                 ? load(uid, structure_->root.header.offset,
                                        structure_->root.header.size)
                                 : load(uid, 0, info->size);
        if (pending) return;
      }
      bool whole = (need_ & kNeedBody) != 0 || !structure_;
      if (!structure_ && whole) {
        structure_ = mime::parse_message(data_);
        render::memoize(*structure_);
        cache_puts_.put(uid, mime::serialize(*structure_));
      }
      if (whole) {
        m.text = data_;
        const auto& h = structure_->root.header;
        if (h.end() <= data_.size()) {
          m.header = std::string_view(data_).substr(static_cast<std::size_t>(h.offset),
                                                    static_cast<std::size_t>(h.size));
        }
      } else {
        m.header = data_;
      }
      m.structure = &*structure_;
    }
    if (eval(key_, m)) {
      if (sort_keys_.empty()) {
        hits_.push_back(uid);
      } else {
        sorted_.push_back(sort_entry(m));
      }
    }
    loaded_ = false;
    structure_.reset();
    data_.clear();
    ++index_;
  }
  cache_puts_.flush();
  if (sort_keys_.empty()) {
    respond();
  } else {
    respond_sorted();
  }
}

SortEntry SearchJob::sort_entry(const MessageContext& m) const {
  SortEntry e;
  e.uid = m.uid;
  e.seq = m.seq;
  e.size = m.info->size;
  e.arrival = m.info->internal_date;
  e.date = m.info->internal_date;
  for (const auto& k : sort_keys_) {
    auto first_header = [&](std::string_view name) -> std::string_view {
      auto all = mime::find_header(m.header, name);
      return all.empty() ? std::string_view() : all.front();
    };
    switch (k.criterion) {
      case SortCriterion::subject:
      {
        std::string decoded = mime::decode_header_value(first_header("Subject"));
        e.subject = base_subject(decoded);
        if (references_) {
          e.reply = subject_is_reply_or_forward(decoded);
          e.message_id = first_header("Message-ID");
          e.in_reply_to = first_header("In-Reply-To");
          e.references = first_header("References");
        }
        break;
      }
      case SortCriterion::from: e.from = first_mailbox(first_header("From")); break;
      case SortCriterion::to: e.to = first_mailbox(first_header("To")); break;
      case SortCriterion::cc: e.cc = first_mailbox(first_header("Cc")); break;
      case SortCriterion::date:
        // RFC 5256 §3: a missing or unparsable Date: sorts by the internal date.
        if (auto d = sent_date(first_header("Date"))) e.date = *d;
        break;
      case SortCriterion::arrival:
      case SortCriterion::size:
        break;
    }
  }
  return e;
}

void SearchJob::respond_sorted() {
  std::stable_sort(sorted_.begin(), sorted_.end(), [this](const SortEntry& a, const SortEntry& b) {
    for (const auto& k : sort_keys_) {
      int c = compare_on(a, b, k.criterion);
      if (c != 0) return k.reverse ? c > 0 : c < 0;
    }
    return a.seq < b.seq;  // RFC 5256 §3: ties go by sequence number
  });
  std::string& out = s_.out();
  auto number = [&](const SortEntry& e) { append_number(out, uid_cmd_ ? e.uid : e.seq); };
  if (!thread_) {
    out += "* SORT";
    for (const auto& e : sorted_) {
      out += ' ';
      number(e);
    }
    out += "\r\n";
    s_.finish("OK", "Sort completed");
    return;
  }
  if (references_) {
    std::vector<ThreadMessage> msgs;
    msgs.reserve(sorted_.size());
    for (auto& e : sorted_) {
      msgs.push_back({uid_cmd_ ? e.uid : e.seq, e.seq, e.date, std::move(e.subject), e.reply,
                      std::move(e.message_id), std::move(e.in_reply_to), std::move(e.references)});
    }
    std::string list = thread_references(msgs);
    out += list.empty() ? "* THREAD" : "* THREAD ";
    out += list;
    out += "\r\n";
    s_.finish("OK", "Thread completed");
    return;
  }
  // ORDEREDSUBJECT: one thread per base subject, its first (earliest) message the parent of
  // the others; threads ordered by their first message's sent date (ties: sequence number).
  struct Thread {
    std::size_t first, end;  // [first, end) in sorted_
  };
  std::vector<Thread> threads;
  for (std::size_t i = 0; i < sorted_.size();) {
    std::size_t j = i + 1;
    while (j < sorted_.size() && sorted_[j].subject == sorted_[i].subject) ++j;
    threads.push_back({i, j});
    i = j;
  }
  std::stable_sort(threads.begin(), threads.end(), [this](const Thread& a, const Thread& b) {
    const SortEntry& x = sorted_[a.first];
    const SortEntry& y = sorted_[b.first];
    return x.date != y.date ? x.date < y.date : x.seq < y.seq;
  });
  out += threads.empty() ? "* THREAD" : "* THREAD ";  // thread-data = "THREAD" [SP 1*thread-list]
  for (const auto& t : threads) {
    // RFC 5256 §4: "(a)", "(a b)" for one child, "(a (b)(c))" for several.
    out += '(';
    number(sorted_[t.first]);
    const std::size_t children = t.end - t.first - 1;
    if (children == 1) {
      out += ' ';
      number(sorted_[t.first + 1]);
    } else if (children > 1) {
      out += ' ';
      for (std::size_t k = t.first + 1; k < t.end; ++k) {
        out += '(';
        number(sorted_[k]);
        out += ')';
      }
    }
    out += ')';
  }
  out += "\r\n";
  s_.finish("OK", "Thread completed");
}

void SearchJob::respond() {
  std::string& out = s_.out();
  // The numbers the client asked for: UIDs, or sequence numbers (ascending as the UIDs are).
  auto number = [&](store::Uid uid) -> std::uint32_t { return uid_cmd_ ? uid : s_.view().seq_of(uid); };
  if ((returns_ & kReturnSave) != 0) {
    // RFC 5182 §2.4: with MIN and/or MAX only, just those are saved; otherwise every match.
    std::vector<store::Uid>& saved = s_.saved_search();
    saved.clear();
    if ((returns_ & (kReturnAll | kReturnCount)) == 0 && (returns_ & (kReturnMin | kReturnMax)) != 0) {
      if (!hits_.empty() && (returns_ & kReturnMin) != 0) saved.push_back(hits_.front());
      if (!hits_.empty() && (returns_ & kReturnMax) != 0 && hits_.back() != hits_.front())
        saved.push_back(hits_.back());
    } else {
      saved = hits_;
    }
  }
  if (!extended_) {
    out += "* SEARCH";
    for (store::Uid uid : hits_) {
      out += ' ';
      append_number(out, number(uid));
    }
    out += "\r\n";
  } else if ((returns_ & ~kReturnSave) != 0) {
    // RFC 4731 §3.1: one ESEARCH response; MIN, MAX and ALL only when something matched.
    out += "* ESEARCH (TAG \"";
    out += s_.tag();  // tag chars exclude DQUOTE and backslash (RFC 3501 §9)
    out += '"';
    out += ')';
    if (uid_cmd_) out += " UID";
    if (!hits_.empty()) {
      if ((returns_ & kReturnMin) != 0) {
        out += " MIN ";
        append_number(out, number(hits_.front()));
      }
      if ((returns_ & kReturnMax) != 0) {
        out += " MAX ";
        append_number(out, number(hits_.back()));
      }
      if ((returns_ & kReturnAll) != 0) {
        out += " ALL ";
        std::size_t i = 0;
        while (i < hits_.size()) {
          // Runs of consecutive numbers collapse to "a:b" (sequence-set syntax).
          std::uint32_t first = number(hits_[i]);
          std::uint32_t last = first;
          std::size_t j = i + 1;
          while (j < hits_.size() && number(hits_[j]) == last + 1) last = number(hits_[j++]);
          if (i > 0) out += ',';
          append_number(out, first);
          if (last != first) {
            out += ':';
            append_number(out, last);
          }
          i = j;
        }
      }
    }
    if ((returns_ & kReturnCount) != 0) {
      out += " COUNT ";
      append_number(out, hits_.size());
    }
    out += "\r\n";
  }
  s_.finish("OK", "Search completed");
}

}  // namespace

void sort(ImapSession& s, Command& c) {
  auto& args = c.get<SortArgs>();
  const auto& cs = args.search.charset;
  if (cs && *cs != "UTF-8" && *cs != "US-ASCII") {
    s.finish("NO", "[BADCHARSET (UTF-8 US-ASCII)] Unsupported charset");
    return;
  }
  auto* job = static_cast<SearchJob*>(s.start_job(std::make_unique<SearchJob>(
      s, std::move(args.search), c.uid, std::move(args.keys), args.thread,
      args.references)));
  job->run();
}

void search(ImapSession& s, Command& c) {
  auto& args = c.get<SearchArgs>();
  if (args.charset && *args.charset != "UTF-8" && *args.charset != "US-ASCII") {
    // RFC 5182 §2.4: a failed SEARCH ... RETURN (SAVE) leaves "$" empty.
    if ((args.returns & kReturnSave) != 0) s.saved_search().clear();
    s.finish("NO", "[BADCHARSET (UTF-8 US-ASCII)] Unsupported charset");
    return;
  }
  auto* job = static_cast<SearchJob*>(
      s.start_job(std::make_unique<SearchJob>(s, std::move(args), c.uid)));
  job->run();
}

}  // namespace mb::imap::cmd
