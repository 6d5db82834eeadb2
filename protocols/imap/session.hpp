// File: protocols/imap/session.hpp
//
// The IMAP4rev1 server session (RFC 3501 with IDLE, UIDPLUS, MOVE, LITERAL+, NAMESPACE, ENABLE,
// ID, UNSELECT, SPECIAL-USE, CHILDREN, SASL-IR and RFC 5530 response codes), sans-I/O: it
// implements mb::proto::Session and talks to its connection only through the SessionSink.
//
//   imap::Services services{authenticator, storage};
//   proto::SessionPtr s = imap::make_session(sink, settings, services);
//   s->on_start();               // "* OK [CAPABILITY ...] mailbridge ready"
//   s->on_data("a1 LOGIN u p\r\n");
//
// Lifetime: `sink`, `settings` and the objects in `services` must outlive the session. Store
// and auth completions that arrive after on_closed() or after destruction are ignored.
// While a command waits for the store or the authenticator the session calls
// sink.pause_reading(), so pipelined input stays in the kernel.
#pragma once

#include "protocols/common/session.hpp"
#include "protocols/imap/session_settings.hpp"

namespace mb::imap {

proto::SessionPtr make_session(proto::SessionSink& sink, const Settings& settings,
                               Services& services);

}  // namespace mb::imap
