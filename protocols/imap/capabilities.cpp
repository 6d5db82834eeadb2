// File: protocols/imap/capabilities.cpp
#include "protocols/imap/capabilities.hpp"

namespace mb::imap {

std::string capability_list(const Settings& settings, const CapabilityState& state) {
  std::string out = "IMAP4rev1 SASL-IR LITERAL+ ID ENABLE IDLE";
  if (!state.authenticated) {
    if (settings.starttls_available && !state.tls) out += " STARTTLS";
    if (state.plaintext_allowed) {
      out += " AUTH=PLAIN AUTH=LOGIN";
    } else {
      out += " LOGINDISABLED";
    }
    return out;
  }
  out += " NAMESPACE UIDPLUS MOVE UNSELECT SPECIAL-USE CHILDREN ESEARCH SEARCHRES MULTIAPPEND SORT THREAD=ORDEREDSUBJECT THREAD=REFERENCES";
  for (const auto& extra : settings.capability_extras) {
    out += ' ';
    out += extra;
  }
  return out;
}

}  // namespace mb::imap
