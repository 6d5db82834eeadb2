// File: protocols/pop3/session.hpp
//
// The POP3 server session (RFC 1939, RFC 2449 CAPA, RFC 2595 STLS, RFC 5034 AUTH, RFC 3206
// response codes) as an mb::proto::Session: sans-I/O, driven by the connection through
// Session and acting only through SessionSink, the Authenticator and the message store.
//
//   pop3::LockRegistry locks;                          // one per process
//   pop3::Services services{authenticator, storage, locks};
//   auto session = pop3::make_session(sink, settings, services);
//
// `sink`, `settings` and `services` must outlive the session. See session_impl.hpp for the
// state machine and its invariants.
#pragma once

#include "protocols/common/session.hpp"
#include "protocols/pop3/settings.hpp"

namespace mb::pop3 {

proto::SessionPtr make_session(proto::SessionSink& sink, const Settings& settings, Services& services);

}  // namespace mb::pop3
