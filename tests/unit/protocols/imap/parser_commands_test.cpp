// File: tests/unit/protocols/imap/parser_commands_test.cpp
//
// One test per command (RFC 3501 §6 and the extensions in parser.hpp): the AST it produces,
// and the syntax errors it rejects.
#include <gtest/gtest.h>

#include "parser_test_util.hpp"

namespace mb::imap::test {
namespace {

ParseErrorKind kind_of(std::string_view input) { return error_of(input).kind; }

TEST(ImapParserCommands, NoArgumentCommands) {
  for (auto [text, name] : std::vector<std::pair<std::string, CommandName>>{
           {"CAPABILITY", CommandName::capability}, {"noop", CommandName::noop},
           {"Logout", CommandName::logout}, {"STARTTLS", CommandName::starttls},
           {"CHECK", CommandName::check}, {"CLOSE", CommandName::close},
           {"UNSELECT", CommandName::unselect}, {"EXPUNGE", CommandName::expunge},
           {"IDLE", CommandName::idle}, {"NAMESPACE", CommandName::namespace_}}) {
    Command c = one("x1 " + text + "\r\n");
    EXPECT_EQ(c.tag, "x1");
    EXPECT_EQ(c.name, name) << text;
    EXPECT_FALSE(c.uid);
    EXPECT_EQ(kind_of("x1 " + text + " extra\r\n"), ParseErrorKind::syntax) << text;
  }
  EXPECT_FALSE(one("a EXPUNGE\r\n").get<ExpungeArgs>().uid_set.has_value());
}

TEST(ImapParserCommands, TagsAndNames) {
  EXPECT_EQ(one("A.1-x NOOP\r\n").tag, "A.1-x");
  EXPECT_EQ(one("a]b NOOP\r\n").tag, "a]b");  // ASTRING-CHAR allows "]"
  for (const char* bad : {"+a NOOP\r\n", "\"a\" NOOP\r\n", "a{ NOOP\r\n", "\r\n", " NOOP\r\n",
                          "a*b NOOP\r\n", "\xc3\xa9 NOOP\r\n"}) {
    ParseError e = error_of(bad);
    EXPECT_EQ(e.kind, ParseErrorKind::bad_tag) << bad;
    EXPECT_TRUE(e.tag.empty()) << bad;
  }
  ParseError e = error_of("t1 FROB x\r\n");
  EXPECT_EQ(e.kind, ParseErrorKind::unknown_command);
  EXPECT_EQ(e.tag, "t1");
  EXPECT_EQ(kind_of("t1\r\n"), ParseErrorKind::unknown_command);
  EXPECT_EQ(kind_of("t1 UID NOOP\r\n"), ParseErrorKind::unknown_command);
  EXPECT_EQ(kind_of("t1 UID LOGIN a b\r\n"), ParseErrorKind::unknown_command);
  EXPECT_EQ(kind_of("t1 NOOPX\r\n"), ParseErrorKind::unknown_command);
  EXPECT_EQ(kind_of("t1  NOOP\r\n"), ParseErrorKind::unknown_command);
}

TEST(ImapParserCommands, Login) {
  Command c = one("a LOGIN fred \"pa ss\\\"w\\\\d\"\r\n");
  EXPECT_EQ(c.get<LoginArgs>().user, "fred");
  EXPECT_EQ(c.get<LoginArgs>().password, "pa ss\"w\\d");
  EXPECT_EQ(describe(one("a LOGIN {4+}\r\nfr d {2+}\r\n\xff\x01\r\n")),
            "CMD a LOGIN user=fr d pass=\xff\x01");
  EXPECT_EQ(kind_of("a LOGIN fred\r\n"), ParseErrorKind::syntax);
  EXPECT_EQ(kind_of("a LOGIN \"fred\r\n"), ParseErrorKind::syntax);
  EXPECT_EQ(kind_of("a LOGIN \"f\\x\" y\r\n"), ParseErrorKind::syntax);  // only \" and \\ escapes
  EXPECT_EQ(kind_of("a LOGIN fred (x)\r\n"), ParseErrorKind::syntax);
}

TEST(ImapParserCommands, Authenticate) {
  EXPECT_EQ(describe(one("a authenticate plain\r\n")), "CMD a AUTHENTICATE mech=PLAIN ir=<none>");
  EXPECT_EQ(describe(one("a AUTHENTICATE PLAIN AGZyZWQAc2VjcmV0\r\n")),
            "CMD a AUTHENTICATE mech=PLAIN ir=AGZyZWQAc2VjcmV0");
  EXPECT_EQ(describe(one("a AUTHENTICATE PLAIN =\r\n")), "CMD a AUTHENTICATE mech=PLAIN ir==");
  EXPECT_EQ(kind_of("a AUTHENTICATE\r\n"), ParseErrorKind::syntax);
}

TEST(ImapParserCommands, MailboxCommands) {
  for (auto [text, name] : std::vector<std::pair<std::string, CommandName>>{
           {"SELECT", CommandName::select}, {"EXAMINE", CommandName::examine},
           {"CREATE", CommandName::create}, {"DELETE", CommandName::delete_},
           {"SUBSCRIBE", CommandName::subscribe}, {"UNSUBSCRIBE", CommandName::unsubscribe}}) {
    Command c = one("a " + text + " \"Sent Items\"\r\n");
    EXPECT_EQ(c.name, name);
    EXPECT_EQ(c.get<MailboxArgs>().mailbox.name, "Sent Items");
    EXPECT_EQ(kind_of("a " + text + "\r\n"), ParseErrorKind::syntax) << text;
    EXPECT_EQ(kind_of("a " + text + " a b\r\n"), ParseErrorKind::syntax) << text;
  }
  EXPECT_EQ(one("a SELECT inbox\r\n").get<MailboxArgs>().mailbox.name, "INBOX");
  EXPECT_TRUE(one("a SELECT InBoX\r\n").get<MailboxArgs>().mailbox.is_inbox());
  EXPECT_EQ(one("a SELECT InBoX\r\n").get<MailboxArgs>().mailbox.wire, "InBoX");
  EXPECT_EQ(one("a SELECT inbox.sub\r\n").get<MailboxArgs>().mailbox.name, "inbox.sub");
  EXPECT_EQ(one("a CREATE Entw&APw-rfe\r\n").get<MailboxArgs>().mailbox.name, "Entw\xc3\xbcrfe");
  EXPECT_EQ(one("a CREATE {5}\r\nA&-B]\r\n").get<MailboxArgs>().mailbox.name, "A&B]");
}

TEST(ImapParserCommands, MailboxNameEncodingErrors) {
  for (const char* bad : {"a SELECT Entw\xc3\xbcrfe\r\n", "a SELECT \"caf\xc3\xa9\"\r\n",
                          "a SELECT {4}\r\nA\tB\x01\r\n", "a CREATE &Jjo\r\n", "a CREATE &AGE-\r\n",
                          "a CREATE a&-&\r\n", "a RENAME x &ZeVnLIqe-&ZeVnLIqe-\r\n",
                          "a COPY 1 \"caf\xc3\xa9\"\r\n", "a LIST \"\" \"caf\xc3\xa9*\"\r\n"}) {
    ParseError e = error_of(bad);
    EXPECT_EQ(e.kind, ParseErrorKind::bad_mailbox_name) << bad;
    EXPECT_FALSE(e.fatal);
    EXPECT_EQ(e.tag, "a");
  }
}

// A looked-up name that is printable ASCII but not modified UTF-7 parses, marked undecodable
// (the session answers NO); the same name being created is a parse error (BAD).
TEST(ImapParserCommands, LookedUpNameThatIsNotModifiedUtf7IsMarkedUndecodable) {
  for (const char* cmd : {"a SELECT &Jjo\r\n", "a EXAMINE a&-&\r\n", "a STATUS &AGE- (MESSAGES)\r\n",
                          "a DELETE &2D0-\r\n", "a COPY 1 &2D0-\r\n", "a RENAME &Jjo x\r\n"}) {
    Command c = one(cmd);
    const MailboxName* m = nullptr;
    if (auto* a = std::get_if<MailboxArgs>(&c.args)) m = &a->mailbox;
    if (auto* a = std::get_if<StatusArgs>(&c.args)) m = &a->mailbox;
    if (auto* a = std::get_if<CopyArgs>(&c.args)) m = &a->mailbox;
    if (auto* a = std::get_if<RenameArgs>(&c.args)) m = &a->from;
    ASSERT_NE(m, nullptr) << cmd;
    EXPECT_TRUE(m->undecodable) << cmd;
    EXPECT_EQ(m->name, "") << cmd;
  }
  EXPECT_FALSE(one("a SELECT Entw&APw-rfe\r\n").get<MailboxArgs>().mailbox.undecodable);
  EXPECT_EQ(one("a SELECT &Jjo\r\n").get<MailboxArgs>().mailbox.wire, "&Jjo");
}

TEST(ImapParserCommands, Rename) {
  EXPECT_EQ(describe(one("a RENAME INBOX \"Old Mail\"\r\n")),
            "CMD a RENAME from=INBOX to=Old Mail");
  EXPECT_EQ(kind_of("a RENAME INBOX\r\n"), ParseErrorKind::syntax);
}

TEST(ImapParserCommands, ListAndLsub) {
  EXPECT_EQ(describe(one("a LIST \"\" *\r\n")), "CMD a LIST ref= pat=*");
  EXPECT_EQ(describe(one("a LIST \"\" %\r\n")), "CMD a LIST ref= pat=%");
  EXPECT_EQ(describe(one("a LIST ~/Mail/ %/a]b*\r\n")), "CMD a LIST ref=~/Mail/ pat=%/a]b*");
  EXPECT_EQ(describe(one("a LIST \"\" \"&ZeVnLIqe-/*\"\r\n")),
            "CMD a LIST ref= pat=\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e/*");
  EXPECT_EQ(describe(one("a LSUB \"\" \"*\"\r\n")), "CMD a LSUB ref= pat=*");
  // A pattern that is not valid modified UTF-7 is kept as written (LIST answers OK).
  EXPECT_EQ(describe(one("a LIST \"\" &Jjo!-\r\n")), "CMD a LIST ref= pat=&Jjo!-");
  EXPECT_EQ(describe(one("a LIST \"\" !#$&'+,-.0123456789:;<=>?@^_`|[}%*\r\n")),
            "CMD a LIST ref= pat=!#$&'+,-.0123456789:;<=>?@^_`|[}%*");
  Command ext = one("a LIST (SUBSCRIBED special-use) \"\" (INBOX \"Sent*\") RETURN (CHILDREN SPECIAL-USE)\r\n");
  EXPECT_EQ(describe(ext),
            "CMD a LIST ref= pat=INBOX pat=Sent* sel=SUBSCRIBED sel=SPECIAL-USE ret=CHILDREN "
            "ret=SPECIAL-USE");
  EXPECT_TRUE(ext.get<ListArgs>().extended);
  EXPECT_FALSE(one("a LIST \"\" *\r\n").get<ListArgs>().extended);
  EXPECT_TRUE(one("a LIST \"\" * RETURN ()\r\n").get<ListArgs>().extended);
  EXPECT_EQ(kind_of("a LIST \"\"\r\n"), ParseErrorKind::syntax);
  EXPECT_EQ(kind_of("a LSUB (SUBSCRIBED) \"\" *\r\n"), ParseErrorKind::syntax);
  EXPECT_EQ(kind_of("a LIST \"\" * FOO (X)\r\n"), ParseErrorKind::syntax);
}

TEST(ImapParserCommands, Status) {
  Command c = one("a STATUS blurdybloop (UIDNEXT MESSAGES unseen RECENT UIDVALIDITY SIZE)\r\n");
  const auto& s = c.get<StatusArgs>();
  EXPECT_EQ(s.mailbox.name, "blurdybloop");
  EXPECT_EQ(s.items, (std::vector<StatusItem>{StatusItem::uidnext, StatusItem::messages,
                                              StatusItem::unseen, StatusItem::recent,
                                              StatusItem::uidvalidity, StatusItem::size}));
  EXPECT_EQ(kind_of("a STATUS x ()\r\n"), ParseErrorKind::syntax);
  EXPECT_EQ(kind_of("a STATUS x (BOGUS)\r\n"), ParseErrorKind::syntax);
  EXPECT_EQ(kind_of("a STATUS x MESSAGES\r\n"), ParseErrorKind::syntax);
}

TEST(ImapParserCommands, Append) {
  Command c = one("a APPEND saved-messages (\\Seen) {3}\r\nabc\r\n");
  const auto& a = c.get<AppendArgs>();
  EXPECT_EQ(a.mailbox.name, "saved-messages");
  EXPECT_EQ(a.flags, std::vector<std::string>{"\\Seen"});
  EXPECT_FALSE(a.date.has_value());
  EXPECT_EQ(a.message, "abc");
  EXPECT_EQ(a.size, 3u);
  Command d = one("a APPEND x () \"07-Jul-1996 02:44:25 -0700\" {1+}\r\nz\r\n");
  ASSERT_TRUE(d.get<AppendArgs>().date.has_value());
  EXPECT_EQ(d.get<AppendArgs>().date->zone_minutes, -420);
  EXPECT_EQ(d.get<AppendArgs>().date->to_unix(), 836732665);
  EXPECT_TRUE(d.get<AppendArgs>().flags.empty());
  EXPECT_TRUE(d.get<AppendArgs>().non_sync);
  EXPECT_EQ(kind_of("a APPEND x \"abc\"\r\n"), ParseErrorKind::syntax);  // message must be a literal
  EXPECT_EQ(kind_of("a APPEND x \"32-Jul-1996 02:44:25 -0700\" {1+}\r\nz\r\n"), ParseErrorKind::syntax);
  EXPECT_EQ(kind_of("a APPEND x (\\Seen {1+}\r\nz\r\n"), ParseErrorKind::syntax);
  EXPECT_EQ(kind_of("a APPEND x {1+}\r\nz extra\r\n"), ParseErrorKind::syntax);
  EXPECT_EQ(kind_of("a APPEND x\r\n"), ParseErrorKind::syntax);
}

TEST(ImapParserCommands, UidExpunge) {
  Command c = one("a UID EXPUNGE 3000:3002,4000\r\n");
  EXPECT_TRUE(c.uid);
  ASSERT_TRUE(c.get<ExpungeArgs>().uid_set.has_value());
  EXPECT_EQ(c.get<ExpungeArgs>().uid_set->ranges.size(), 2u);
  EXPECT_EQ(kind_of("a UID EXPUNGE\r\n"), ParseErrorKind::syntax);
}

TEST(ImapParserCommands, Store) {
  EXPECT_EQ(describe(one("a STORE 2:4 +FLAGS (\\Deleted)\r\n")),
            "CMD a STORE set=2:4 mode=1 flag=\\Deleted");
  EXPECT_EQ(describe(one("a STORE 1 -flags.silent (\\Seen $Junk)\r\n")),
            "CMD a STORE set=1 mode=2 silent flag=\\Seen flag=$Junk");
  EXPECT_EQ(describe(one("a UID STORE 1:* FLAGS ()\r\n")), "CMD a UID STORE set=1:0 mode=0");
  EXPECT_EQ(describe(one("a STORE 1 +FLAGS \\Seen \\Flagged\r\n")),
            "CMD a STORE set=1 mode=1 flag=\\Seen flag=\\Flagged");
  EXPECT_EQ(kind_of("a STORE 1 *FLAGS (\\Seen)\r\n"), ParseErrorKind::syntax);
  EXPECT_EQ(kind_of("a STORE 1 +FLAGS.LOUD (\\Seen)\r\n"), ParseErrorKind::syntax);
  EXPECT_EQ(kind_of("a STORE 1 +FLAGS (\\Seen\r\n"), ParseErrorKind::syntax);
  EXPECT_EQ(kind_of("a STORE 1 +FLAGS (\\*)\r\n"), ParseErrorKind::syntax);
  EXPECT_EQ(kind_of("a STORE 0 +FLAGS (\\Seen)\r\n"), ParseErrorKind::syntax);
  EXPECT_EQ(kind_of("a STORE 1 +FLAGS (\\Seen )\r\n"), ParseErrorKind::syntax);
}

TEST(ImapParserCommands, CopyAndMove) {
  EXPECT_EQ(describe(one("a COPY 2:4 MEETING\r\n")), "CMD a COPY set=2:4 mbox=MEETING");
  EXPECT_EQ(describe(one("a UID MOVE 42:69 foo\r\n")), "CMD a UID MOVE set=42:69 mbox=foo");
  EXPECT_EQ(describe(one("a uid copy 1,3 inbox\r\n")), "CMD a UID COPY set=1,3 mbox=INBOX");
  EXPECT_EQ(kind_of("a COPY x y\r\n"), ParseErrorKind::syntax);
  EXPECT_EQ(kind_of("a MOVE 1\r\n"), ParseErrorKind::syntax);
}

TEST(ImapParserCommands, Enable) {
  EXPECT_EQ(describe(one("a ENABLE condstore X-GOOD-IDEA\r\n")),
            "CMD a ENABLE CONDSTORE X-GOOD-IDEA");
  EXPECT_EQ(kind_of("a ENABLE\r\n"), ParseErrorKind::syntax);
}

TEST(ImapParserCommands, Id) {
  EXPECT_EQ(describe(one("a ID NIL\r\n")), "CMD a ID NIL");
  EXPECT_EQ(describe(one("a ID (\"name\" \"sodr\" \"version\" NIL)\r\n")),
            "CMD a ID name=sodr version=NIL");
  EXPECT_EQ(describe(one("a ID ()\r\n")), "CMD a ID");
  EXPECT_EQ(kind_of("a ID (\"name\")\r\n"), ParseErrorKind::syntax);
  EXPECT_EQ(kind_of("a ID\r\n"), ParseErrorKind::syntax);
  std::string many = "a ID (";
  for (int i = 0; i < 31; ++i) many += (i ? " " : "") + std::string("\"k\" \"v\"");
  EXPECT_EQ(kind_of(many + ")\r\n"), ParseErrorKind::too_many);  // RFC 2971 §3.3
}

TEST(ImapParserCommands, ErrorCarriesRecognisedCommand) {
  ParseError e = error_of("a9 FETCH 1 (BOGUS)\r\n");
  EXPECT_EQ(e.tag, "a9");
  ASSERT_TRUE(e.command.has_value());
  EXPECT_EQ(*e.command, CommandName::fetch);
  EXPECT_FALSE(e.fatal);
  EXPECT_FALSE(e.text.empty());
}

TEST(ImapParserCommands, NulOutsideLiteralIsRejected) {
  ParseError e = error_of(std::string("a LOGIN u\0 p\r\n", 14));
  EXPECT_EQ(e.kind, ParseErrorKind::syntax);
  EXPECT_EQ(e.tag, "a");
}

TEST(ImapParserCommands, ErrorsDoNotDesynchronise) {
  auto ev = run("a STORE x\r\nb FETCH 1 FLAGS\r\n", 1);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[1], "CMD b FETCH set=1 att=1[]");
}

}  // namespace
}  // namespace mb::imap::test
