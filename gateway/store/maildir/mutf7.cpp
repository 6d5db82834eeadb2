// File: gateway/store/maildir/mutf7.cpp
//
// Intentionally empty: the codec is protocols/common/mutf7.hpp (header-only), shared with
// IMAP; gateway/store/maildir/mutf7.hpp forwards to it. This file stays only while
// gateway/store/CMakeLists.txt lists it.
#include "gateway/store/maildir/mutf7.hpp"
