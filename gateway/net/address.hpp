// File: gateway/net/address.hpp
//
// Listen-address parsing and peer-address formatting for the transport.
//
//   parse_listen_address("127.0.0.1:143")  -> sockaddr_storage for 127.0.0.1 port 143
//   parse_listen_address("[::1]:993")      -> IPv6 ::1 port 993
//   parse_listen_address("*:110")          -> 0.0.0.0:110;  "[::]:110" -> all IPv6
// Errors are one sentence naming the offending text ("bad listen address \"x\": ...").
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "protocols/common/result.hpp"

namespace mb::net {

Result<sockaddr_storage, std::string> parse_listen_address(std::string_view host_port);

// Numeric address without port ("127.0.0.1", "::1"); IPv4-mapped IPv6 shown as IPv4.
std::string format_address(const sockaddr_storage& addr);
std::uint16_t address_port(const sockaddr_storage& addr);
// 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104.
bool is_loopback(const sockaddr_storage& addr);

}  // namespace mb::net
