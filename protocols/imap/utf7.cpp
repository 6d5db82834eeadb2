// File: protocols/imap/utf7.cpp
//
// Intentionally empty: the codec is protocols/common/mutf7.hpp (header-only), shared with the
// Maildir store; protocols/imap/utf7.hpp forwards to it. This file stays only while
// protocols/imap/CMakeLists.txt lists it.
#include "protocols/imap/utf7.hpp"
