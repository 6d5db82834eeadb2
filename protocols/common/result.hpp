// File: protocols/common/result.hpp
//
// Result<T, E>: the error-carrying return type used on the data path (parsers, sessions,
// transport, store), where exceptions are not used. A thin alias of tl::expected (Debian's
// libexpected-dev), the C++20 stand-in for std::expected.
//
//   mb::Result<int, ParseError> r = parse(...);
//   if (!r) return mb::unexpected(r.error());
#pragma once

#include <tl/expected.hpp>

namespace mb {

template <class T, class E>
using Result = tl::expected<T, E>;

using tl::unexpected;

}  // namespace mb
