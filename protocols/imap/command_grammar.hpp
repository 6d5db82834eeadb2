// File: protocols/imap/command_grammar.hpp
//
// The per-command argument grammar (RFC 3501 §9 command-any / -auth / -nonauth / -select and
// the extensions listed in parser.hpp), run by Parser over one fully assembled command.
//
// Contract: parse_command() reads tag SP ["UID" SP] name [SP args] to the end of the text,
// fills `out`, and returns true; on failure the cursor holds the error kind and text and
// `out.tag` / `out.name` are set as far as they were read.
#pragma once

#include <optional>
#include <string_view>

#include "protocols/imap/command.hpp"
#include "protocols/imap/cursor.hpp"

namespace mb::imap {

// Case-insensitive command name lookup ("UID" is not a command name).
std::optional<CommandName> command_from_name(std::string_view name);

// True for the commands that take a "UID" prefix (RFC 3501 §6.4.8, RFC 4315, RFC 6851).
bool takes_uid_prefix(CommandName name);

// tag = 1*<any ASTRING-CHAR except "+">, 7-bit only.
bool is_tag_char(char c);

bool parse_command(Cursor& cur, Command& out, bool& name_known);

}  // namespace mb::imap
