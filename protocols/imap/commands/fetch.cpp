// File: protocols/imap/commands/fetch.cpp
//
// FETCH and UID FETCH (RFC 3501 §6.4.5, §7.4.2) as a resumable job:
//  - metadata items (FLAGS, UID, INTERNALDATE, RFC822.SIZE) come from the shared mailbox
//    state in memory, so FETCH 1:* (FLAGS UID) never touches the disk;
//  - ENVELOPE / BODY / BODYSTRUCTURE and section ranges come from the parsed MIME structure,
//    taken from the store's cache (CacheField::mime_structure) or parsed once and put there,
//    so a second FETCH ENVELOPE BODYSTRUCTURE never re-reads the message;
//  - whole-message literals (BODY[], BODY.PEEK[], RFC822) are written into the output by
//    Mailbox::read_now() on page-cache hits (no thread-pool round trip, no copy of their
//    own), else read() on the pool; section bytes of small messages come from one read of
//    the whole message; larger ones are streamed in chunks, stopping while the sink is above
//    proto::kOutputHighWater and resuming in on_writable(): a client that stops reading
//    never makes us buffer a whole large FETCH;
//  - streamed literals of kOffloadMin or more go, where the transport takes them, to its
//    body pump thread (SessionSink::offload_body) from a source the store opens on the loop
//    (Mailbox::open_body_now), and the job resumes at the octet the pump reached.
// Non-PEEK body items set \Seen first (one store_flags call for the whole set) and the new
// FLAGS are included in that message's response (§6.4.5). No EXPUNGE is sent during FETCH
// (§7.4.1); UID FETCH may send them at the end.
#include <algorithm>

#include "protocols/imap/commands/structure_cache.hpp"
#include "protocols/imap/render/render.hpp"
#include "protocols/imap/render/section.hpp"
#include "protocols/imap/response.hpp"
#include "protocols/imap/session_impl.hpp"
#include "protocols/mime/message_structure.hpp"

namespace mb::imap::cmd {

namespace {

constexpr std::uint64_t kInMemoryLimit = 256 * 1024;  // read small messages whole
// Streaming read unit, and the size at which out_ is handed to the connection. 256 KB
// rather than 64: a quarter of the write() calls and of the reader's wake-ups. imap-fetch
// c=10 (release, 3 back-to-back pairs): 31.4-33.7k msgs/s at 29.7-31.5 us server CPU/msg,
// against 27.6-30.0k at 33.3-36.1 us; 512 KB gained nothing more. A session still stops
// producing above kOutputHighWater, so a stalled reader costs at most about twice this.
constexpr std::size_t kChunk = 256 * 1024;
constexpr std::size_t kBatch = 256 * 1024;
// Literals this long are sent by the transport's body pump thread (SessionSink::
// offload_body) where it can: the loop keeps the protocol work and the small messages.
// imap-fetch c=10 (release, 2 vCPUs): 16 KB 40.6k msgs/s, 32 KB 48.6k, 64 KB 47.0k, 128 KB
// 49.1k, without the pump 33.5-40.2k (shorter literals cost the loop a hand-over each and
// lose the batching of small responses into one write). Up to kOffloadMax per hand-over,
// so a huge message does not hold the pump from other connections.
constexpr std::uint64_t kOffloadMin = 64 * 1024;
constexpr std::uint64_t kOffloadMax = 1024 * 1024;

render::SectionSpec to_spec(const Section& s) {
  render::SectionSpec spec;
  spec.part = s.part;
  switch (s.text) {
    case SectionText::none: spec.text = render::SectionText::none; break;
    case SectionText::header: spec.text = render::SectionText::header; break;
    case SectionText::header_fields: spec.text = render::SectionText::header_fields; break;
    case SectionText::header_fields_not:
      spec.text = render::SectionText::header_fields_not;
      break;
    case SectionText::text: spec.text = render::SectionText::text; break;
    case SectionText::mime: spec.text = render::SectionText::mime; break;
  }
  spec.fields = s.fields;
  return spec;
}

bool is_whole_message(const FetchAtt& a) {
  return (a.item == FetchItem::body_section && a.section.part.empty() &&
          a.section.text == SectionText::none) ||
         a.item == FetchItem::rfc822;
}

bool needs_structure(const FetchAtt& a) {
  switch (a.item) {
    case FetchItem::envelope:
    case FetchItem::body:
    case FetchItem::bodystructure:
    case FetchItem::rfc822_header:
    case FetchItem::rfc822_text:
      return true;
    case FetchItem::body_section:
      return !is_whole_message(a);
    default:
      return false;
  }
}

bool needs_bytes(const FetchAtt& a) {
  return a.item == FetchItem::body_section || a.item == FetchItem::rfc822 ||
         a.item == FetchItem::rfc822_header || a.item == FetchItem::rfc822_text;
}

bool sets_seen(const FetchAtt& a) {
  return (a.item == FetchItem::body_section && !a.peek) || a.item == FetchItem::rfc822 ||
         a.item == FetchItem::rfc822_text;
}

class FetchJob final : public Job {
 public:
  FetchJob(ImapSession& s, std::vector<store::Uid> uids, std::vector<FetchAtt> atts, bool uid_cmd)
      : s_(s), cache_puts_(s.mailbox_ptr()), uids_(std::move(uids)), atts_(std::move(atts)) {
    bool has_uid = false;
    for (const auto& a : atts_) {
      need_structure_ = need_structure_ || needs_structure(a);
      need_bytes_ = need_bytes_ || needs_bytes(a);
      need_text_ = need_text_ || (needs_bytes(a) && !is_whole_message(a));
      set_seen_ = set_seen_ || sets_seen(a);
      has_flags_ = has_flags_ || a.item == FetchItem::flags;
      has_uid = has_uid || a.item == FetchItem::uid;
    }
    // RFC 3501 §6.4.8: UID FETCH responses always carry UID.
    if (uid_cmd && !has_uid) {
      FetchAtt u;
      u.item = FetchItem::uid;
      atts_.insert(atts_.begin(), u);
    }
    if (s.read_only()) set_seen_ = false;
    // Only ENVELOPE / BODY / BODYSTRUCTURE need the structure, and nothing is streamed (so a
    // message's response is built in one go): the memoised renderings are copied straight
    // from the cache entry, no tree is built.
    renderings_only_ = need_structure_ && !need_bytes_;
    for (const auto& a : atts_) {
      if (needs_structure(a) && a.item != FetchItem::envelope && a.item != FetchItem::body &&
          a.item != FetchItem::bodystructure)
        renderings_only_ = false;
    }
  }

  void start() {
    if (!set_seen_) {
      run();
      return;
    }
    std::vector<store::Uid> unseen;
    store::Mailbox& mb = s_.mailbox();
    for (store::Uid uid : uids_) {
      const auto* info = mb.find(uid);
      if (info != nullptr && (info->flags & store::kSeen) == 0) unseen.push_back(uid);
    }
    if (unseen.empty()) {
      run();
      return;
    }
    s_.begin_async();
    mb.store_flags(std::move(unseen), store::FlagOp::add, store::kSeen, {}, &s_,
                   s_.guarded([this](store::StoreResult<std::vector<store::Change>> r) {
                     if (r) {
                       for (const auto& c : *r) seen_changed_.push_back(c.uid);
                       std::sort(seen_changed_.begin(), seen_changed_.end());
                       s_.view().forget_flag_changes(seen_changed_);
                     }
                     run();
                   }));
  }

  void resume() override { run(); }

 private:
  void run();
  void end_message();
  // Loads the whole message into text_; true when that goes on asynchronously (run() is
  // called again when done), false when it is done already (loaded, or missing_ and the
  // message ended).
  bool load_text(store::Uid uid, std::uint64_t size);
  // Appends one item; false when it must wait for an asynchronous step.
  bool emit(const FetchAtt& att, store::Uid uid, const store::MessageInfo& info,
            std::uint32_t seq);
  bool emit_bytes(store::Uid uid, std::uint64_t offset, std::uint64_t length);
  bool stream(store::Uid uid);
  // Hands the rest of the literal (up to kOffloadMax) and out_ to the transport's pump;
  // false when it declined (out_ was queued, body_ stays here).
  bool offload();

  ImapSession& s_;
  // Parsed structures on their way to the store's cache; a FETCH cut short (connection
  // closed) still puts what it parsed.
  CachePutBatch cache_puts_;
  std::vector<store::Uid> uids_;
  std::vector<FetchAtt> atts_;
  std::vector<store::Uid> seen_changed_;
  bool need_structure_ = false;
  bool need_bytes_ = false;
  bool need_text_ = false;  // a byte item other than the whole message (section, header)
  bool set_seen_ = false;
  bool has_flags_ = false;
  bool renderings_only_ = false;
  bool missing_ = false;
  bool busy_io_ = false;
  bool cache_ready_ = false;  // load_cache() has been asked (need_structure_ only)

  std::size_t index_ = 0;
  // Per-message state, reset by end_message().
  bool in_message_ = false;
  std::size_t att_index_ = 0;
  std::optional<mime::MessageStructure> structure_;
  // Views into the store's cache entry: used within one synchronous pass over the message
  // (renderings_only_), before any other session can replace the entry.
  std::optional<mime::MemoizedRenderings> rendered_;
  std::string text_;
  bool text_loaded_ = false;
  // A literal being streamed: octets still to send, and where they come from.
  bool streaming_ = false;
  std::uint64_t stream_offset_ = 0;
  std::uint64_t stream_left_ = 0;
  // The literal's source when it can be read off the loop (open_body_now), at stream_offset_.
  std::unique_ptr<proto::BodySource> body_;
};

void FetchJob::end_message() {
  in_message_ = false;
  att_index_ = 0;
  structure_.reset();
  rendered_.reset();
  if (text_.capacity() > kInMemoryLimit) {
    std::string().swap(text_);
  } else {
    text_.clear();
  }
  text_loaded_ = false;
  ++index_;
}

bool FetchJob::load_text(store::Uid uid, std::uint64_t size) {
  // Small and in the page cache: one synchronous copy, no thread-pool round trip (a cold
  // FETCH 1:* ENVELOPE BODYSTRUCTURE otherwise waits for the pool once per message).
  if (auto now = read_small_now(s_.mailbox(), uid, 0, size, text_)) {
    if (*now) {
      text_loaded_ = true;
    } else {
      missing_ = true;  // expunged meanwhile: leave it out of the response
      end_message();
    }
    return false;
  }
  busy_io_ = true;
  s_.begin_async();
  s_.mailbox().read(uid, 0, static_cast<std::size_t>(size),
                    s_.guarded([this](store::StoreResult<std::string> r) {
                      busy_io_ = false;
                      if (!r) {
                        // Expunged meanwhile or unreadable: leave it out of the response.
                        missing_ = true;
                        end_message();
                      } else {
                        text_ = std::move(*r);
                        text_loaded_ = true;
                      }
                      run();
                    }));
  return true;
}

bool FetchJob::stream(store::Uid uid) {
  std::string& out = s_.out();
  while (stream_left_ > 0) {
    if (s_.output_full()) {
      s_.send_out();
      s_.wait_writable();
      return false;
    }
    auto n = static_cast<std::size_t>(std::min<std::uint64_t>(stream_left_, kChunk));
    if (text_loaded_) {
      std::uint64_t avail = stream_offset_ < text_.size() ? text_.size() - stream_offset_ : 0;
      std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(avail, n));
      out.append(text_, static_cast<std::size_t>(stream_offset_), take);
      // A message shorter than announced (changed on disk): pad so the literal stays valid.
      if (take < n) out.append(n - take, ' ');
      stream_offset_ += n;
      stream_left_ -= n;
      if (out.size() >= kBatch) s_.send_out();
      continue;
    }
    if (!body_ && stream_left_ >= kOffloadMin && !s_.sink().is_tls())
      body_ = s_.mailbox().open_body_now(uid, stream_offset_, 0);
    if (body_) {
      if (stream_left_ >= kOffloadMin) {
        if (offload()) return false;
        if (s_.output_full()) continue;  // the head was queued: wait for the client
      }
      // Read here (the pump declined or the rest is short) from the same open file.
      const std::size_t base = out.size();
      out.resize(base + body_->room_for(n));
      proto::BodySource::Step step = body_->read(out.data() + base, n);
      if (step.status == proto::BodySource::Status::ok) {
        // Shorter than announced (changed on disk): pad so the literal stays valid.
        const std::size_t got = std::min(step.written, n);
        out.resize(base + n);
        if (got < n) std::fill(out.begin() + static_cast<std::ptrdiff_t>(base + got), out.end(), ' ');
        stream_offset_ += n;
        stream_left_ -= n;
      } else {
        // Not cached after all, or unreadable: keep what came, the rest by the paths below.
        out.resize(base + step.written);
        stream_offset_ += step.wire;
        stream_left_ -= step.wire;
        body_.reset();
      }
      if (out.size() >= kBatch) s_.send_out();
      continue;
    }
    // Page-cache hits: the wire octets go straight into the literal, on the loop.
    const std::size_t base = out.size();
    out.resize(base + n);
    if (auto now = s_.mailbox().read_now(uid, stream_offset_, n, out.data() + base, 0)) {
      const std::size_t got = *now ? std::min((*now)->written, n) : 0;
      // Expunged or shorter than announced: pad so the literal stays valid (as below).
      if (got < n) std::fill(out.begin() + static_cast<std::ptrdiff_t>(base + got), out.end(), ' ');
      stream_offset_ += n;
      stream_left_ -= n;
      if (out.size() >= kBatch) s_.send_out();
      continue;
    }
    out.resize(base);
    busy_io_ = true;
    s_.begin_async();
    s_.mailbox().read(uid, stream_offset_, n,
                      s_.guarded([this, n](store::StoreResult<std::string> r) {
                        busy_io_ = false;
                        std::string& o = s_.out();
                        std::size_t got = 0;
                        if (r) {
                          got = std::min(r->size(), n);
                          o.append(*r, 0, got);
                        }
                        if (got < n) o.append(n - got, ' ');
                        stream_offset_ += n;
                        stream_left_ -= n;
                        s_.send_out();
                        run();
                      }));
    return false;
  }
  body_.reset();
  streaming_ = false;
  return true;
}

bool FetchJob::offload() {
  const std::uint64_t length = std::min(stream_left_, kOffloadMax);
  std::string& out = s_.out();
  bool taken = s_.sink().offload_body(
      out, body_, length, s_.guarded([this](proto::SessionSink::OffloadResult r) {
        busy_io_ = false;
        stream_offset_ += r.consumed;
        stream_left_ -= r.consumed;
        if (!r.source_stopped) body_ = std::move(r.source);
        // The socket filled up (what it did not take is queued): wait for the client.
        if (s_.sink().output_queued() > 0) {
          s_.wait_writable();
          return;
        }
        run();
      }));
  out.clear();  // sent or queued either way
  if (!taken) return false;
  busy_io_ = true;
  s_.begin_async();
  return true;
}

bool FetchJob::emit_bytes(store::Uid uid, std::uint64_t offset, std::uint64_t length) {
  std::string& out = s_.out();
  out += '{';
  append_number(out, length);
  out += "}\r\n";
  streaming_ = true;
  stream_offset_ = offset;
  stream_left_ = length;
  return stream(uid);
}

bool FetchJob::emit(const FetchAtt& att, store::Uid uid, const store::MessageInfo& info,
                    std::uint32_t seq) {
  std::string& out = s_.out();
  (void)seq;
  switch (att.item) {
    case FetchItem::uid:
      out += "UID ";
      append_number(out, uid);
      return true;
    case FetchItem::flags:
      out += "FLAGS ";
      append_flag_list(out, info.flags, info.keywords, s_.mailbox().keywords(),
                       s_.view().is_recent(uid));
      return true;
    case FetchItem::internaldate:
      out += "INTERNALDATE ";
      append_internal_date(out, info.internal_date);
      return true;
    case FetchItem::rfc822_size:
      out += "RFC822.SIZE ";
      append_number(out, info.size);
      return true;
    case FetchItem::envelope:
      out += "ENVELOPE ";
      if (rendered_) {
        out += rendered_->envelope;
      } else {
        out += render::envelope(*structure_);
      }
      return true;
    case FetchItem::body:
      out += "BODY ";
      if (rendered_) {
        out += rendered_->body;
      } else {
        out += render::body_structure(*structure_, false);
      }
      return true;
    case FetchItem::bodystructure:
      out += "BODYSTRUCTURE ";
      if (rendered_) {
        out += rendered_->bodystructure;
      } else {
        out += render::body_structure(*structure_, true);
      }
      return true;
    case FetchItem::rfc822:
      out += "RFC822 ";
      return emit_bytes(uid, 0, info.size);
    case FetchItem::rfc822_header: {
      out += "RFC822.HEADER ";
      const auto& h = structure_->root.header;
      return emit_bytes(uid, h.offset, h.size);
    }
    case FetchItem::rfc822_text: {
      out += "RFC822.TEXT ";
      const auto& b = structure_->root.body;
      return emit_bytes(uid, b.offset, b.size);
    }
    case FetchItem::body_section:
    case FetchItem::binary:
    case FetchItem::binary_size:
      break;
  }
  // BODY[section]<partial>.
  out += "BODY[";
  out += att.spec;
  out += ']';
  std::uint64_t offset = 0;
  std::uint64_t size = info.size;
  bool filter = false;
  if (!is_whole_message(att)) {
    auto range = render::resolve_section(*structure_, to_spec(att.section));
    if (!range) {
      // A part that does not exist: an empty string, as Dovecot answers.
      if (att.partial) {
        out += '<';
        append_number(out, att.partial->offset);
        out += '>';
      }
      out += " \"\"";
      return true;
    }
    offset = range->range.offset;
    size = range->range.size;
    filter = range->filter_fields;
  }
  if (filter) {
    std::string_view block;
    if (text_loaded_ && offset + size <= text_.size()) {
      block = std::string_view(text_).substr(static_cast<std::size_t>(offset),
                                             static_cast<std::size_t>(size));
    }
    std::string filtered = render::filter_header_fields(
        block, att.section.fields, att.section.text == SectionText::header_fields_not);
    std::string_view part = filtered;
    if (att.partial) {
      out += '<';
      append_number(out, att.partial->offset);
      out += '>';
      part = part.substr(std::min<std::size_t>(att.partial->offset, part.size()),
                         att.partial->length);
    }
    out += " {";
    append_number(out, part.size());
    out += "}\r\n";
    out += part;
    return true;
  }
  if (att.partial) {
    out += '<';
    append_number(out, att.partial->offset);
    out += '>';
    std::uint64_t skip = std::min<std::uint64_t>(att.partial->offset, size);
    offset += skip;
    size = std::min<std::uint64_t>(size - skip, att.partial->length);
  }
  out += ' ';
  return emit_bytes(uid, offset, size);
}

void FetchJob::run() {
  if (busy_io_) return;
  store::Mailbox& mb = s_.mailbox();
  if (need_structure_ && !cache_ready_ && !uids_.empty()) {
    // The mailbox reads its persisted structures only when a command needs them (idle
    // sessions never do: issue #5); done comes back later, on the loop.
    cache_ready_ = true;
    busy_io_ = true;
    s_.begin_async();
    mb.load_cache(s_.guarded([this] {
      busy_io_ = false;
      run();
    }));
    return;
  }
  std::string& out = s_.out();
  while (index_ < uids_.size()) {
    if (streaming_) {
      if (!stream(uids_[index_])) return;
      ++att_index_;
    }
    if (!in_message_ && s_.output_full()) {
      s_.send_out();
      s_.wait_writable();
      return;
    }
    store::Uid uid = uids_[index_];
    const store::MessageInfo* info = mb.find(uid);
    std::uint32_t seq = s_.view().seq_of(uid);
    if (info == nullptr || seq == 0) {
      // Expunged by another session; its EXPUNGE is not sent yet (§7.4.1), so we cannot
      // send its data either (RFC 2180 §4.1.2: answer NO at the end).
      if (in_message_) out += ")\r\n";
      missing_ = true;
      end_message();
      continue;
    }
    if (!in_message_) {
      if (need_structure_ && !structure_ && !rendered_) {
        if (auto cached = mb.cache_get(uid, store::CacheField::mime_structure)) {
          if (renderings_only_) rendered_ = mime::peek_renderings(*cached);
          if (!rendered_) structure_ = mime::deserialize(*cached);
        }
        if (!structure_ && !rendered_) {
          if (!text_loaded_) {
            if (load_text(uid, info->size)) return;
            continue;
          }
          structure_ = mime::parse_message(text_);
          // Cache the renderings too: a later FETCH ENVELOPE BODYSTRUCTURE is a copy.
          render::memoize(*structure_);
          cache_puts_.put(uid, mime::serialize(*structure_));
        }
      }
      // Whole-message literals (BODY[], RFC822) stream from the store; only sections and
      // header filters work on the message in memory.
      if (need_text_ && !text_loaded_ && info->size <= kInMemoryLimit) {
        if (load_text(uid, info->size)) return;
        continue;
      }
      // Keywords added meanwhile (other sessions, APPEND/COPY here) are announced before a
      // FLAGS item can show them (RFC 3501 §7.2.6).
      s_.view().announce_keywords(out, mb);
      out += "* ";
      append_number(out, seq);
      out += " FETCH (";
      in_message_ = true;
      att_index_ = 0;
      bool seen_now = std::binary_search(seen_changed_.begin(), seen_changed_.end(), uid);
      if (seen_now && !has_flags_) {
        out += "FLAGS ";
        append_flag_list(out, info->flags, info->keywords, mb.keywords(),
                         s_.view().is_recent(uid));
        if (!atts_.empty()) out += ' ';
      }
    }
    while (att_index_ < atts_.size()) {
      if (att_index_ > 0) out += ' ';
      if (!emit(atts_[att_index_], uid, *info, seq)) return;
      ++att_index_;
    }
    out += ")\r\n";
    end_message();
    if (out.size() >= kBatch) s_.send_out();
  }
  cache_puts_.flush();
  if (missing_) {
    s_.finish("NO", "[EXPUNGEISSUED] Some of the requested messages no longer exist");
  } else {
    s_.finish("OK", "Fetch completed");
  }
}

}  // namespace

void fetch(ImapSession& s, Command& c) {
  auto& args = c.get<FetchArgs>();
  for (const auto& a : args.atts) {
    if (a.item == FetchItem::binary || a.item == FetchItem::binary_size) {
      s.finish("BAD", "BINARY is not supported");
      return;
    }
  }
  bool bad = false;
  auto uids = resolve_set(s, args.set, c.uid, &bad);
  if (bad) {
    s.finish("BAD", "Invalid message sequence number");
    return;
  }
  auto* job = static_cast<FetchJob*>(
      s.start_job(std::make_unique<FetchJob>(s, std::move(uids), std::move(args.atts), c.uid)));
  job->start();
}

}  // namespace mb::imap::cmd
