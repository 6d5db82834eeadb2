// Tests for gateway/metrics/registry: the exposition output parsed back like a scraper would.
#include "gateway/metrics/registry.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <thread>
#include <vector>

#include "gateway/metrics/gateway_metrics.hpp"
#include "tests/unit/gateway/metrics/exposition_parser.hpp"

namespace mb::metrics {
namespace {

using test::parse_exposition;

TEST(Registry, CountersGaugesRenderAndParseBack) {
  Registry reg;
  auto& logins = reg.counter("mb_logins_total", "Login attempts.", {"protocol", "result"});
  logins.with({"imap", "ok"}).inc();
  logins.with({"imap", "ok"}).inc(2);
  logins.with({"pop3", "failed"}).inc();
  auto& open = reg.gauge("mb_open", "Open things.");
  open.get().inc(5);
  open.get().dec(2);

  auto e = parse_exposition(reg.render());
  ASSERT_EQ(e.error, "");
  EXPECT_EQ(e.type["mb_logins_total"], "counter");
  EXPECT_EQ(e.help["mb_logins_total"], "Login attempts.");
  EXPECT_EQ(e.type["mb_open"], "gauge");
  EXPECT_EQ(e.samples["mb_logins_total{protocol=\"imap\",result=\"ok\"}"], 3);
  EXPECT_EQ(e.samples["mb_logins_total{protocol=\"pop3\",result=\"failed\"}"], 1);
  EXPECT_EQ(e.samples["mb_open"], 3);
  EXPECT_EQ(e.samples.size(), 3u);
}

TEST(Registry, UnlabelledFamilyRendersZeroBeforeFirstEvent) {
  Registry reg;
  reg.counter("mb_events_total", "Events.");
  reg.counter("mb_labelled_total", "Labelled.", {"kind"});
  auto text = reg.render();
  auto e = parse_exposition(text);
  ASSERT_EQ(e.error, "");
  EXPECT_EQ(e.samples.at("mb_events_total"), 0);
  EXPECT_EQ(e.type["mb_labelled_total"], "counter");  // header without samples
  EXPECT_EQ(text.find("mb_labelled_total{"), std::string::npos);
}

TEST(Registry, HistogramBucketsAreCumulativeAndInclusive) {
  Registry reg;
  auto& h = reg.histogram("mb_latency_seconds", "Latency.", {"op"}, {0.1, 1, 10});
  auto& fetch = h.with({"fetch"});
  for (double v : {0.05, 0.1, 0.5, 1.0, 5.0, 50.0}) fetch.observe(v);
  auto e = parse_exposition(reg.render());
  ASSERT_EQ(e.error, "");
  EXPECT_EQ(e.type["mb_latency_seconds"], "histogram");
  EXPECT_EQ(e.samples["mb_latency_seconds_bucket{op=\"fetch\",le=\"0.1\"}"], 2);  // 0.05, 0.1
  EXPECT_EQ(e.samples["mb_latency_seconds_bucket{op=\"fetch\",le=\"1\"}"], 4);
  EXPECT_EQ(e.samples["mb_latency_seconds_bucket{op=\"fetch\",le=\"10\"}"], 5);
  EXPECT_EQ(e.samples["mb_latency_seconds_bucket{op=\"fetch\",le=\"+Inf\"}"], 6);
  EXPECT_EQ(e.samples["mb_latency_seconds_count{op=\"fetch\"}"], 6);
  EXPECT_DOUBLE_EQ(e.samples["mb_latency_seconds_sum{op=\"fetch\"}"], 56.65);
}

TEST(Registry, LabelValuesAndHelpAreEscaped) {
  Registry reg;
  reg.counter("mb_odd_total", "Help with \\ and\nnewline.", {"v"}).with({"a\"b\\c\nd"}).inc();
  auto text = reg.render();
  EXPECT_NE(text.find("# HELP mb_odd_total Help with \\\\ and\\nnewline.\n"), std::string::npos);
  EXPECT_NE(text.find("mb_odd_total{v=\"a\\\"b\\\\c\\nd\"} 1\n"), std::string::npos) << text;
  auto e = parse_exposition(text);
  EXPECT_EQ(e.error, "");
}

TEST(Registry, FormatValue) {
  EXPECT_EQ(format_value(0), "0");
  EXPECT_EQ(format_value(0.0005), "0.0005");
  EXPECT_EQ(format_value(2.5), "2.5");
  EXPECT_EQ(format_value(-3), "-3");
  EXPECT_EQ(format_value(HUGE_VAL), "+Inf");
  EXPECT_EQ(format_value(-HUGE_VAL), "-Inf");
  EXPECT_EQ(format_value(std::nan("")), "NaN");
}

TEST(Registry, NameValidation) {
  EXPECT_TRUE(valid_metric_name("mailbridge_logins_total"));
  EXPECT_TRUE(valid_metric_name("a:b_c9"));
  EXPECT_FALSE(valid_metric_name("9abc"));
  EXPECT_FALSE(valid_metric_name("a-b"));
  EXPECT_FALSE(valid_metric_name(""));
  EXPECT_TRUE(valid_label_name("protocol"));
  EXPECT_FALSE(valid_label_name("__reserved"));
  EXPECT_FALSE(valid_label_name("a:b"));
}

TEST(RegistryDeathTest, MisuseAborts) {
  EXPECT_DEATH({ Registry r; r.counter("bad-name", "x"); }, "invalid metric name");
  EXPECT_DEATH({ Registry r; r.counter("c", "x", {"a"}).with({"1", "2"}); }, "2 label values");
  EXPECT_DEATH({ Registry r; r.counter("c", "x"); r.gauge("c", "x"); }, "registered twice");
  EXPECT_DEATH({ Registry r; r.histogram("h", "x", {"le"}); }, "invalid label name");
}

TEST(Registry, SameDefinitionReturnsSameFamily) {
  Registry reg;
  auto& a = reg.counter("mb_x_total", "X.", {"k"});
  auto& b = reg.counter("mb_x_total", "X.", {"k"});
  EXPECT_EQ(&a, &b);
  EXPECT_EQ(&a.with({"v"}), &b.with({"v"}));
}

TEST(Registry, CollectorRunsBeforeEachRender) {
  Registry reg;
  auto& bytes = reg.counter("mb_bytes_total", "Bytes.", {"listener"});
  std::uint64_t external = 10;
  reg.add_collector([&] { bytes.with({"imap"}).set(external); });
  EXPECT_EQ(parse_exposition(reg.render()).samples["mb_bytes_total{listener=\"imap\"}"], 10);
  external = 25;
  EXPECT_EQ(parse_exposition(reg.render()).samples["mb_bytes_total{listener=\"imap\"}"], 25);
}

TEST(Registry, ConcurrentUpdatesAreNotLost) {
  Registry reg;
  auto& c = reg.counter("mb_c_total", "C.").get();
  auto& h = reg.histogram("mb_h_seconds", "H.", {}, {1}).get();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        c.inc();
        h.observe(0.5);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.value(), 40000u);
  EXPECT_EQ(h.count(), 40000u);
  EXPECT_DOUBLE_EQ(h.sum(), 20000.0);
}

TEST(GatewayMetrics, StandardFamiliesAndTransportMirror) {
  Registry reg;
  GatewayMetrics gm(reg, "0.1.0");
  gm.logins.with({"imap", "ok"}).inc();
  gm.command_done("imap", command_label("fetch", {"FETCH", "STORE"}), 0.002);
  gm.command_done("pop3", command_label("XYZZY", {"RETR"}), 0.5);
  struct FakeStats {
    std::uint64_t accepted = 3, bytes_in = 100, bytes_out = 2000, tls_handshakes = 2,
                  tls_failures = 1;
  } stats;
  gm.set_transport("imaps", stats);
  auto e = parse_exposition(reg.render());
  ASSERT_EQ(e.error, "");
  EXPECT_EQ(e.samples["mailbridge_build_info{version=\"0.1.0\"}"], 1);
  EXPECT_GT(e.samples["mailbridge_start_time_seconds"], 1.6e9);
  EXPECT_EQ(e.samples["mailbridge_logins_total{protocol=\"imap\",result=\"ok\"}"], 1);
  EXPECT_EQ(e.samples["mailbridge_commands_total{protocol=\"imap\",command=\"FETCH\"}"], 1);
  EXPECT_EQ(e.samples["mailbridge_commands_total{protocol=\"pop3\",command=\"UNKNOWN\"}"], 1);
  EXPECT_EQ(e.samples["mailbridge_command_duration_seconds_bucket{protocol=\"imap\",command=\"FETCH\",le=\"0.0025\"}"], 1);
  EXPECT_EQ(e.samples["mailbridge_command_duration_seconds_bucket{protocol=\"imap\",command=\"FETCH\",le=\"0.001\"}"], 0);
  EXPECT_EQ(e.samples["mailbridge_received_bytes_total{listener=\"imaps\"}"], 100);
  EXPECT_EQ(e.samples["mailbridge_sent_bytes_total{listener=\"imaps\"}"], 2000);
  EXPECT_EQ(e.samples["mailbridge_accepted_connections_total{listener=\"imaps\"}"], 3);
  EXPECT_EQ(e.samples["mailbridge_tls_handshakes_total{listener=\"imaps\",result=\"failed\"}"], 1);
  EXPECT_EQ(e.samples["mailbridge_mailboxes_open"], 0);
}

}  // namespace
}  // namespace mb::metrics
