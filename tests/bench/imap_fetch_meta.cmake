# Metadata FETCH benchmark (not a ctest test; issue #5): imap_fetch_meta.py seeds a
# 10,000-message Maildir (../shared/bench/loadgen/seed.py), serves a copy with mailbridge and
# another with Debian's Dovecot on free ports from 127.0.0.1:36400 on, and times
# UID FETCH 1:* (FLAGS ENVELOPE BODYSTRUCTURE) cold (no index/cache files) and cached, with
# server CPU and the Dovecot/mailbridge ratios. Figures come from an optimized binary: run
#   tests/bench/imap_fetch_meta.py --server build/release/gateway/mailbridge [--corpus DIR]
# or, in a build with tests (release preset plus -DMB_TESTS=ON), build the target
#   bench_imap_fetch_meta   (builds mailbridge, then runs the script against it).
find_program(MB_BENCH_PYTHON3 python3)
if(TARGET mailbridge AND MB_BENCH_PYTHON3)
  add_custom_target(bench_imap_fetch_meta
    COMMAND ${MB_BENCH_PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/imap_fetch_meta.py
            --server $<TARGET_FILE:mailbridge>
    DEPENDS mailbridge
    USES_TERMINAL
    COMMENT "imap_fetch_meta: 10,000-message metadata FETCH, mailbridge beside Dovecot")
endif()
