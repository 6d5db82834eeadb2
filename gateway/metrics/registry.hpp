// File: gateway/metrics/registry.hpp
//
// A small metrics registry: counters, gauges and fixed-bucket histograms, grouped in labelled
// families, rendered in the Prometheus text exposition format 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/).
//
//   mb::metrics::Registry reg;
//   auto& logins = reg.counter("mailbridge_logins_total", "Login attempts.", {"protocol", "result"});
//   mb::metrics::Counter& imap_ok = logins.with({"imap", "ok"});   // cache this reference
//   imap_ok.inc();
//   std::string text = reg.render();
//
// Contract:
//   - Metric and label names must be valid Prometheus names (metric [a-zA-Z_:][a-zA-Z0-9_:]*,
//     label [a-zA-Z_][a-zA-Z0-9_]* not starting with "__", "le" reserved for histograms).
//     Invalid names, a wrong number of label values, or re-registering a name with another type,
//     help or label set are programming errors: they abort with a message (start-up only).
//     Registering the same name again with the same shape returns the existing family.
//   - Label VALUES are free text (escaped on output). Callers must keep their cardinality
//     bounded: e.g. command names come from a fixed table, unknown ones map to "unknown".
//   - References returned by with()/counter()/... stay valid for the registry's lifetime.
//   - Updates (inc/set/observe) are lock-free atomics, safe from the loop thread and the libuv
//     thread pool alike. with() and render() take a mutex: look children up once, not per event.
//   - A family without labels has its single child created at registration, so it renders 0
//     before the first event; a labelled family renders only the children created so far.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace mb::metrics {

class Counter {
 public:
  void inc(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  // Mirror a monotonic total kept elsewhere (e.g. transport byte counts) at scrape time.
  void set(std::uint64_t total) noexcept { value_.store(total, std::memory_order_relaxed); }
  std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Gauge {
 public:
  void set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
  void inc(double n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  void dec(double n = 1) noexcept { value_.fetch_sub(n, std::memory_order_relaxed); }
  double value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Fixed buckets (upper bounds, strictly increasing; +Inf is implicit).
class Histogram {
 public:
  explicit Histogram(const std::vector<double>* bounds);
  void observe(double v) noexcept;
  // Snapshot: per-bucket (non-cumulative) counts, one more than bounds for +Inf.
  std::vector<std::uint64_t> bucket_counts() const;
  std::uint64_t count() const noexcept { return count_.load(std::memory_order_relaxed); }
  double sum() const noexcept { return sum_.load(std::memory_order_relaxed); }
  const std::vector<double>& bounds() const noexcept { return *bounds_; }

 private:
  const std::vector<double>* bounds_;  // owned by the family
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;
  std::atomic<std::uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

// Buckets for latencies in seconds: 0.5 ms .. 10 s.
const std::vector<double>& default_latency_buckets();

enum class Type { counter, gauge, histogram };

// A named metric with a fixed list of label names and one child per label-value tuple.
template <class Metric>
class Family {
 public:
  Family(std::string name, std::string help, std::vector<std::string> label_names,
         std::vector<double> bounds = {});
  // The child for these label values (created on first use). Aborts on a count mismatch.
  Metric& with(std::initializer_list<std::string_view> label_values);
  Metric& with(const std::vector<std::string>& label_values);
  // The one child of a family without labels.
  Metric& get() { return child({}); }

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  const std::vector<double>& bounds() const { return bounds_; }
  // Calls fn(label_values, metric) for every child in label order, under the family lock.
  void for_each(const std::function<void(const std::vector<std::string>&, const Metric&)>& fn) const;

 private:
  Metric& child(std::vector<std::string> values);

  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
  std::vector<double> bounds_;
  mutable std::mutex mutex_;
  std::map<std::vector<std::string>, std::unique_ptr<Metric>> children_;
};

using CounterFamily = Family<Counter>;
using GaugeFamily = Family<Gauge>;
using HistogramFamily = Family<Histogram>;

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  CounterFamily& counter(const std::string& name, const std::string& help,
                         std::vector<std::string> label_names = {});
  GaugeFamily& gauge(const std::string& name, const std::string& help,
                     std::vector<std::string> label_names = {});
  HistogramFamily& histogram(const std::string& name, const std::string& help,
                             std::vector<std::string> label_names = {},
                             std::vector<double> bounds = default_latency_buckets());

  // Runs before every render(), on the rendering thread: copy values kept elsewhere (transport
  // counters, open mailbox count) into metrics. Must not call add_collector().
  void add_collector(std::function<void()> collector);

  // Text exposition format 0.0.4, families in registration order.
  std::string render() const;

 private:
  struct Entry {
    Type type;
    std::unique_ptr<CounterFamily> counter;
    std::unique_ptr<GaugeFamily> gauge;
    std::unique_ptr<HistogramFamily> histogram;
  };
  Entry* find(const std::string& name);

  mutable std::mutex mutex_;
  std::vector<Entry> entries_;
  std::vector<std::function<void()>> collectors_;
};

// The content type of render()'s output.
inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

// Exposition helpers (exposed for tests): label value escaping (\\, \", \n), HELP escaping
// (\\, \n), and sample value formatting (shortest round-trip, "+Inf", "-Inf", "NaN").
std::string escape_label_value(std::string_view v);
std::string escape_help(std::string_view v);
std::string format_value(double v);
bool valid_metric_name(std::string_view name);
bool valid_label_name(std::string_view name);

}  // namespace mb::metrics
