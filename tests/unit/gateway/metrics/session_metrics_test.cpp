// Tests for gateway/metrics/session_metrics: SessionEvents calls land in the exported families.
#include "gateway/metrics/session_metrics.hpp"

#include <gtest/gtest.h>

#include "tests/unit/gateway/metrics/exposition_parser.hpp"

namespace mb::metrics {
namespace {

using namespace std::chrono_literals;

TEST(SessionMetrics, AuthAndProtocolErrorsCountInErrorsTotal) {
  Registry reg;
  GatewayMetrics gm(reg, "t");
  SessionMetrics events(gm);
  mb::proto::SessionEvents& ev = events;
  ev.login("pop3", "failed");  // bad credentials: a login result, not an error of ours
  ev.login("imap", "error");
  ev.protocol_error("pop3");
  ev.protocol_error("imap");
  ev.protocol_error("imap");
  auto e = test::parse_exposition(reg.render());
  ASSERT_EQ(e.error, "");
  EXPECT_EQ(e.samples["mailbridge_errors_total{kind=\"auth\"}"], 1);
  EXPECT_EQ(e.samples["mailbridge_errors_total{kind=\"protocol\"}"], 3);
}

TEST(SessionMetrics, EventsBecomeSamples) {
  Registry reg;
  GatewayMetrics gm(reg, "t");
  SessionMetrics events(gm);
  mb::proto::SessionEvents& ev = events;
  ev.session_started("imap", false);
  ev.session_started("imap", true);
  ev.session_started("pop3", false);
  ev.tls_upgraded("pop3");
  ev.login("imap", "ok");
  ev.login("pop3", "failed");
  ev.login("pop3", "failed");
  ev.command_done("imap", "FETCH", 3ms);
  ev.command_done("imap", "FETCH", 20ms);
  ev.command_done("pop3", "RETR", 1ms);
  ev.session_ended("imap");

  auto e = test::parse_exposition(reg.render());
  ASSERT_EQ(e.error, "");
  EXPECT_EQ(e.samples["mailbridge_connections_total{protocol=\"imap\",tls=\"none\"}"], 1);
  EXPECT_EQ(e.samples["mailbridge_connections_total{protocol=\"imap\",tls=\"implicit\"}"], 1);
  EXPECT_EQ(e.samples["mailbridge_connections_open{protocol=\"imap\"}"], 1);
  EXPECT_EQ(e.samples["mailbridge_connections_open{protocol=\"pop3\"}"], 1);
  EXPECT_EQ(e.samples["mailbridge_starttls_total{protocol=\"pop3\"}"], 1);
  EXPECT_EQ(e.samples["mailbridge_logins_total{protocol=\"imap\",result=\"ok\"}"], 1);
  EXPECT_EQ(e.samples["mailbridge_logins_total{protocol=\"pop3\",result=\"failed\"}"], 2);
  EXPECT_EQ(e.samples["mailbridge_commands_total{protocol=\"imap\",command=\"FETCH\"}"], 2);
  EXPECT_EQ(e.samples["mailbridge_commands_total{protocol=\"pop3\",command=\"RETR\"}"], 1);
  EXPECT_EQ(e.samples["mailbridge_command_duration_seconds_bucket{protocol=\"imap\",command=\"FETCH\",le=\"0.005\"}"], 1);
  EXPECT_EQ(e.samples["mailbridge_command_duration_seconds_count{protocol=\"imap\",command=\"FETCH\"}"], 2);
  EXPECT_NEAR(e.samples["mailbridge_command_duration_seconds_sum{protocol=\"imap\",command=\"FETCH\"}"], 0.023, 1e-9);
}

TEST(SessionMetrics, CommandSeriesAreBounded) {
  Registry reg;
  GatewayMetrics gm(reg);
  SessionMetrics events(gm);
  for (std::size_t i = 0; i < SessionMetrics::kMaxCommandSeries + 50; ++i) {
    events.command_done("imap", "X" + std::to_string(i), 1ms);
  }
  auto e = test::parse_exposition(reg.render());
  ASSERT_EQ(e.error, "");
  std::size_t series = 0;
  for (const auto& [key, value] : e.samples) {
    if (key.rfind("mailbridge_commands_total{", 0) == 0) ++series;
  }
  EXPECT_EQ(series, SessionMetrics::kMaxCommandSeries + 1);  // + the UNKNOWN series
  EXPECT_EQ(e.samples["mailbridge_commands_total{protocol=\"imap\",command=\"UNKNOWN\"}"], 50);
}

}  // namespace
}  // namespace mb::metrics
