# Third-party libraries, all from Debian 12 packages (installed by deploy/scripts/deps.sh).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
pkg_check_modules(LIBUV REQUIRED IMPORTED_TARGET libuv)
find_package(fmt REQUIRED)

# mbedTLS 2.28 ships no CMake or pkg-config files on Debian 12.
find_path(MBEDTLS_INCLUDE_DIR mbedtls/ssl.h REQUIRED)
find_library(MBEDTLS_LIB mbedtls REQUIRED)
find_library(MBEDX509_LIB mbedx509 REQUIRED)
find_library(MBEDCRYPTO_LIB mbedcrypto REQUIRED)
add_library(mb_mbedtls INTERFACE)
target_include_directories(mb_mbedtls SYSTEM INTERFACE ${MBEDTLS_INCLUDE_DIR})
target_link_libraries(mb_mbedtls INTERFACE ${MBEDTLS_LIB} ${MBEDX509_LIB} ${MBEDCRYPTO_LIB})

# libxcrypt (crypt_r for SHA*-CRYPT and BLF-CRYPT), libargon2 (ARGON2ID).
find_library(CRYPT_LIB crypt REQUIRED)
find_library(ARGON2_LIB argon2 REQUIRED)

# toml++ (header-only) for the config file; tl::expected (header-only) for Result<T, E>.
find_path(TOMLPP_INCLUDE_DIR toml++/toml.h REQUIRED)
find_path(TL_EXPECTED_INCLUDE_DIR tl/expected.hpp REQUIRED)

if(MB_TESTS)
  find_package(GTest REQUIRED)
endif()
