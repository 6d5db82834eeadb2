// File: protocols/imap/commands/thread_references.cpp
// RFC 5256 §2.2 REFERENCES threading over an arena of containers (indices, no pointers).
#include "protocols/imap/commands/thread_references.hpp"

#include <algorithm>
#include <cctype>
#include <unordered_map>

namespace mb::imap {
namespace {

constexpr std::size_t kNone = static_cast<std::size_t>(-1);

struct Container {
  std::size_t message = kNone;  // index into messages, kNone for a dummy
  std::size_t parent = kNone;
  std::vector<std::size_t> children;
};

class Threader {
 public:
  explicit Threader(const std::vector<ThreadMessage>& m) : msgs_(m) {}
  std::string run();

 private:
  std::size_t container_for(std::string_view id) {
    auto [it, inserted] = ids_.try_emplace(std::string(id), nodes_.size());
    if (inserted) nodes_.emplace_back();
    return it->second;
  }
  // Would making `parent` the parent of `child` create a loop? (child is parent or an ancestor)
  bool would_loop(std::size_t parent, std::size_t child) const {
    // A childless container is nobody's ancestor: the common case costs O(1), not O(depth).
    if (nodes_[child].children.empty()) return parent == child;
    for (std::size_t p = parent; p != kNone; p = nodes_[p].parent)
      if (p == child) return true;
    return false;
  }
  void unlink(std::size_t c) {
    auto& sib = nodes_[nodes_[c].parent].children;
    sib.erase(std::find(sib.begin(), sib.end(), c));
    nodes_[c].parent = kNone;
  }
  void link(std::size_t parent, std::size_t child) {
    nodes_[child].parent = parent;
    nodes_[parent].children.push_back(child);
  }
  bool dummy(std::size_t c) const { return nodes_[c].message == kNone; }
  // The message whose date/subject stands for c: itself, or a dummy's first child.
  const ThreadMessage* rep(std::size_t c) const {
    if (!dummy(c)) return &msgs_[nodes_[c].message];
    if (nodes_[c].children.empty() || dummy(nodes_[c].children.front())) return nullptr;
    return &msgs_[nodes_[nodes_[c].children.front()].message];
  }
  bool earlier(std::size_t a, std::size_t b) const {
    const ThreadMessage* x = rep(a);
    const ThreadMessage* y = rep(b);
    if (!x || !y) return x != nullptr && y == nullptr;
    return x->date != y->date ? x->date < y->date : x->seq < y->seq;
  }
  std::vector<std::size_t> post_order(const std::vector<std::size_t>& roots) const;
  void prune(std::vector<std::size_t>& roots);
  void group_by_subject(std::vector<std::size_t>& roots);
  void render(const std::vector<std::size_t>& roots, std::string& out) const;

  const std::vector<ThreadMessage>& msgs_;
  std::vector<Container> nodes_;
  std::unordered_map<std::string, std::size_t> ids_;
};

std::vector<std::size_t> Threader::post_order(const std::vector<std::size_t>& roots) const {
  std::vector<std::size_t> pre, stack(roots.begin(), roots.end());
  while (!stack.empty()) {
    std::size_t c = stack.back();
    stack.pop_back();
    pre.push_back(c);
    for (std::size_t k : nodes_[c].children) stack.push_back(k);
  }
  std::reverse(pre.begin(), pre.end());  // every child now precedes its parent
  return pre;
}

// §2.2 step 4: drop childless dummies; promote a dummy's children to its level unless that
// would put several children at the root. Bottom-up, so each child list is final when used.
void Threader::prune(std::vector<std::size_t>& roots) {
  auto rebuild = [this](const std::vector<std::size_t>& in, std::size_t parent, bool root) {
    std::vector<std::size_t> out;
    for (std::size_t c : in) {
      if (dummy(c) && nodes_[c].children.empty()) continue;
      if (dummy(c) && (!root || nodes_[c].children.size() == 1)) {
        for (std::size_t k : nodes_[c].children) {
          nodes_[k].parent = parent;
          out.push_back(k);
        }
        nodes_[c].children.clear();
        continue;
      }
      out.push_back(c);
    }
    return out;
  };
  for (std::size_t c : post_order(roots)) nodes_[c].children = rebuild(nodes_[c].children, c, false);
  roots = rebuild(roots, kNone, true);
}

// §2.2 step 5.B/5.C: merge root threads sharing a base subject.
void Threader::group_by_subject(std::vector<std::size_t>& roots) {
  std::unordered_map<std::string_view, std::size_t> table;
  auto subject = [this](std::size_t c) -> std::string_view {
    const ThreadMessage* m = rep(c);
    return m ? std::string_view(m->base_subject) : std::string_view();
  };
  auto reply = [this](std::size_t c) { return !dummy(c) && msgs_[nodes_[c].message].reply_or_forward; };
  for (std::size_t c : roots) {
    std::string_view s = subject(c);
    if (s.empty()) continue;
    auto [it, inserted] = table.try_emplace(s, c);
    if (!inserted && !dummy(it->second) && (dummy(c) || (reply(it->second) && !reply(c))))
      it->second = c;
  }
  std::vector<std::size_t> out;
  std::vector<std::size_t> slot(nodes_.size(), kNone);  // container -> index in out
  for (std::size_t c : roots) {
    if (nodes_[c].parent != kNone) continue;  // merged into an earlier root's dummy
    std::string_view s = subject(c);
    auto it = s.empty() ? table.end() : table.find(s);
    if (it == table.end() || it->second == c) {
      slot[c] = out.size();
      out.push_back(c);
      continue;
    }
    std::size_t t = it->second;
    if (dummy(t) && dummy(c)) {
      for (std::size_t k : nodes_[c].children) link(t, k);
      nodes_[c].children.clear();
    } else if (dummy(t)) {
      link(t, c);
    } else if (reply(c) && !reply(t)) {
      link(t, c);
    } else {
      std::size_t d = nodes_.size();
      nodes_.emplace_back();
      slot.push_back(kNone);
      link(d, t);
      link(d, c);
      it->second = d;
      if (slot[t] != kNone) {
        out[slot[t]] = d;
        slot[d] = slot[t];
      } else {
        // The table message comes later in the root order: the dummy takes c's place, and t
        // (now parented) is skipped when reached.
        slot[d] = out.size();
        out.push_back(d);
      }
    }
  }
  roots = std::move(out);
}

void Threader::render(const std::vector<std::size_t>& roots, std::string& out) const {
  // Tasks: a container index, or one of the literal markers below.
  constexpr std::size_t kOpen = kNone - 1, kClose = kNone - 2, kSpace = kNone - 3;
  std::vector<std::size_t> tasks;
  for (auto r = roots.rbegin(); r != roots.rend(); ++r) {
    tasks.push_back(kClose);
    tasks.push_back(*r);
    tasks.push_back(kOpen);
  }
  while (!tasks.empty()) {
    std::size_t t = tasks.back();
    tasks.pop_back();
    if (t == kOpen) { out += '('; continue; }
    if (t == kClose) { out += ')'; continue; }
    if (t == kSpace) { out += ' '; continue; }
    const Container& c = nodes_[t];
    if (!dummy(t)) out += std::to_string(msgs_[c.message].number);
    // RFC 5256 §4: one child continues the list; several children each get a sub-list.
    if (c.children.size() == 1) {
      tasks.push_back(c.children.front());
      tasks.push_back(kSpace);
    } else if (c.children.size() > 1) {
      for (auto k = c.children.rbegin(); k != c.children.rend(); ++k) {
        tasks.push_back(kClose);
        tasks.push_back(*k);
        tasks.push_back(kOpen);
      }
      if (!dummy(t)) tasks.push_back(kSpace);
    }
  }
}

std::string Threader::run() {
  // §2.2 step 1: the id table, and links from each message's References.
  std::vector<std::size_t> own(msgs_.size());
  for (std::size_t i = 0; i < msgs_.size(); ++i) {
    const ThreadMessage& m = msgs_[i];
    auto ids = parse_message_ids(m.message_id);
    std::size_t c = kNone;
    if (!ids.empty()) {
      c = container_for(ids.front());
      if (nodes_[c].message != kNone) c = kNone;  // duplicate Message-ID: treat as absent
    }
    if (c == kNone) {
      c = nodes_.size();
      nodes_.emplace_back();
    }
    nodes_[c].message = i;
    own[i] = c;
    // 1.A: References (its last kMaxReferences IDs), else the first In-Reply-To ID.
    auto refs = parse_message_ids(m.references);
    if (refs.empty()) {
      auto irt = parse_message_ids(m.in_reply_to);
      if (!irt.empty()) refs.push_back(irt.front());
    }
    if (refs.size() > kMaxReferences) refs.erase(refs.begin(), refs.end() - kMaxReferences);
    std::size_t prev = kNone;
    for (std::string_view r : refs) {
      std::size_t rc = container_for(r);
      if (prev != kNone && nodes_[rc].parent == kNone && !would_loop(prev, rc)) link(prev, rc);
      prev = rc;
    }
    // 1.C: the last reference is the parent. A parent presumed from another message's
    // References is thrown away first, even when the new link is then refused because it would
    // make a loop (the message becomes a root; imaptest's `thread` script, as Dovecot does).
    if (prev != kNone && nodes_[c].parent == prev) continue;
    if (nodes_[c].parent != kNone) unlink(c);
    if (prev != kNone && !would_loop(prev, c)) link(prev, c);
  }
  // Step 2-3: the root set; the id table is no longer needed.
  std::vector<std::size_t> roots;
  for (std::size_t c = 0; c < nodes_.size(); ++c)
    if (nodes_[c].parent == kNone) roots.push_back(c);
  ids_.clear();
  prune(roots);
  // Step 6 applied first so a dummy's date is its first child's (step 4's rule for dummies).
  auto sort_children = [this](const std::vector<std::size_t>& rs) {
    for (std::size_t c : post_order(rs)) {
      auto& ch = nodes_[c].children;
      std::stable_sort(ch.begin(), ch.end(), [this](std::size_t a, std::size_t b) { return earlier(a, b); });
    }
  };
  sort_children(roots);
  std::stable_sort(roots.begin(), roots.end(), [this](std::size_t a, std::size_t b) { return earlier(a, b); });
  group_by_subject(roots);
  sort_children(roots);
  std::string out;
  render(roots, out);
  return out;
}

}  // namespace

std::vector<std::string_view> parse_message_ids(std::string_view h) {
  std::vector<std::string_view> ids;
  std::size_t i = 0;
  while ((i = h.find('<', i)) != std::string_view::npos) {
    std::size_t e = h.find_first_of("<>", i + 1);
    if (e == std::string_view::npos) break;
    if (h[e] == '<') {  // "<<id>": restart at the inner bracket
      i = e;
      continue;
    }
    std::string_view id = h.substr(i + 1, e - i - 1);
    bool ok = id.find('@') != std::string_view::npos &&
              id.find_first_of(" \t\r\n") == std::string_view::npos;
    if (ok) ids.push_back(id);
    i = e + 1;
  }
  return ids;
}

bool subject_is_reply_or_forward(std::string_view s) {
  std::string l;
  for (char ch : s) l += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  while (!l.empty() && (l.back() == ' ' || l.back() == '\t')) l.pop_back();
  std::size_t b = l.find_first_not_of(" \t");
  if (b == std::string::npos) return false;
  l.erase(0, b);
  if (l.size() >= 5 && l.compare(l.size() - 5, 5, "(fwd)") == 0) return true;
  if (l.rfind("[fwd:", 0) == 0) return true;
  for (std::string_view p : {"re", "fwd", "fw"}) {
    if (l.rfind(p, 0) != 0) continue;
    std::size_t k = p.size();
    if (k < l.size() && l[k] == '[') {
      k = l.find(']', k);
      if (k == std::string::npos) continue;
      ++k;
    }
    if (k < l.size() && l[k] == ':') return true;
  }
  return false;
}

std::string thread_references(const std::vector<ThreadMessage>& messages) {
  return Threader(messages).run();
}

}  // namespace mb::imap
