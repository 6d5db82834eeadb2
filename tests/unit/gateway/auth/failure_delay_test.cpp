// Tests for gateway/auth/failure_delay: computed delays (no wall time involved).
#include "gateway/auth/failure_delay.hpp"

#include <gtest/gtest.h>

#include <string>

namespace mb::auth {
namespace {

FailureDelaySettings settings(std::uint64_t base, std::uint64_t max) {
  FailureDelaySettings s;
  s.base_ms = base;
  s.max_ms = max;
  s.forget_after_ms = 60000;
  s.max_entries = 100;
  return s;
}

TEST(FailureDelayTest, DoublesPerConsecutiveFailureAndCaps) {
  FailureTracker t(settings(1000, 15000));
  EXPECT_EQ(t.next_delay("10.0.0.1", 0), 1000u);
  EXPECT_EQ(t.record_failure("10.0.0.1", 0), 1000u);
  EXPECT_EQ(t.record_failure("10.0.0.1", 1), 2000u);
  EXPECT_EQ(t.record_failure("10.0.0.1", 2), 4000u);
  EXPECT_EQ(t.record_failure("10.0.0.1", 3), 8000u);
  EXPECT_EQ(t.record_failure("10.0.0.1", 4), 15000u);
  EXPECT_EQ(t.record_failure("10.0.0.1", 5), 15000u);
  EXPECT_EQ(t.failures("10.0.0.1", 5), 6u);
  for (int i = 0; i < 200; ++i) t.record_failure("10.0.0.1", 6);
  EXPECT_EQ(t.next_delay("10.0.0.1", 6), 15000u);
}

TEST(FailureDelayTest, DelayFor) {
  FailureTracker t(settings(250, 3000));
  EXPECT_EQ(t.delay_for(0), 0u);
  EXPECT_EQ(t.delay_for(1), 250u);
  EXPECT_EQ(t.delay_for(2), 500u);
  EXPECT_EQ(t.delay_for(4), 2000u);
  EXPECT_EQ(t.delay_for(5), 3000u);
  EXPECT_EQ(t.delay_for(4000000000u), 3000u);
}

TEST(FailureDelayTest, OtherAddressesUnaffected) {
  FailureTracker t(settings(1000, 15000));
  t.record_failure("10.0.0.1", 0);
  t.record_failure("10.0.0.1", 0);
  t.record_failure("10.0.0.1", 0);
  EXPECT_EQ(t.next_delay("10.0.0.2", 0), 1000u);
  EXPECT_EQ(t.record_failure("10.0.0.2", 0), 1000u);
}

TEST(FailureDelayTest, SuccessResets) {
  FailureTracker t(settings(1000, 15000));
  t.record_failure("10.0.0.1:5000", 0);
  t.record_failure("10.0.0.1:5001", 0);
  EXPECT_EQ(t.failures("10.0.0.1", 0), 2u);
  t.record_success("10.0.0.1:6000");
  EXPECT_EQ(t.failures("10.0.0.1", 0), 0u);
  EXPECT_EQ(t.record_failure("10.0.0.1", 0), 1000u);
}

TEST(FailureDelayTest, EntriesAgeOut) {
  FailureTracker t(settings(1000, 15000));
  t.record_failure("10.0.0.1", 0);
  t.record_failure("10.0.0.1", 1000);
  EXPECT_EQ(t.failures("10.0.0.1", 60999), 2u);
  EXPECT_EQ(t.failures("10.0.0.1", 61000), 0u);
  EXPECT_EQ(t.record_failure("10.0.0.1", 61000), 1000u);
}

TEST(FailureDelayTest, TableIsBounded) {
  FailureTracker t(settings(1000, 15000));
  for (int i = 0; i < 1000; ++i) {
    t.record_failure("10.1." + std::to_string(i / 256) + "." + std::to_string(i % 256),
                     static_cast<std::uint64_t>(i));
    ASSERT_LE(t.size(), 100u);
  }
  // The most recent address is still tracked; the oldest were evicted.
  EXPECT_EQ(t.failures("10.1.3.231", 1000), 1u);
  EXPECT_EQ(t.failures("10.1.0.0", 1000), 0u);
}

TEST(FailureDelayTest, AddressKeys) {
  EXPECT_EQ(FailureTracker::address_key("192.0.2.1"), "192.0.2.1");
  EXPECT_EQ(FailureTracker::address_key("192.0.2.1:4321"), "192.0.2.1");
  EXPECT_EQ(FailureTracker::address_key("[2001:db8::1]:993"), "2001:db8::/64");
  EXPECT_EQ(FailureTracker::address_key("2001:db8::1:2:3:4"), "2001:db8::/64");
  EXPECT_EQ(FailureTracker::address_key("2001:db8:0:1::5"), "2001:db8:0:1::/64");
  EXPECT_EQ(FailureTracker::address_key("::ffff:192.0.2.7"), "192.0.2.7");
  EXPECT_EQ(FailureTracker::address_key("[::ffff:192.0.2.7]:1"), "192.0.2.7");
  EXPECT_EQ(FailureTracker::address_key("fe80::1%eth0"), "fe80::/64");
  EXPECT_EQ(FailureTracker::address_key("unix"), "unix");
}

TEST(FailureDelayTest, Ipv6SlashSixtyFourSharesCounter) {
  FailureTracker t(settings(100, 10000));
  t.record_failure("2001:db8::1", 0);
  EXPECT_EQ(t.record_failure("2001:db8::ffff", 0), 200u);
  EXPECT_EQ(t.record_failure("2001:db8:0:1::1", 0), 100u);
}

}  // namespace
}  // namespace mb::auth
