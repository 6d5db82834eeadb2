// File: gateway/metrics/registry.cpp
#include "gateway/metrics/registry.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <type_traits>

namespace mb::metrics {
namespace {

[[noreturn]] void fail(const std::string& what) {
  // Metric definitions are compile-time facts of the program, never peer input.
  std::fprintf(stderr, "mb::metrics: %s\n", what.c_str());
  std::abort();
}

bool name_char(char c, bool first, bool colon_ok) {
  bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon_ok && c == ':');
  return alpha || (!first && c >= '0' && c <= '9');
}

void atomic_add(std::atomic<double>& a, double v) noexcept {
  double old = a.load(std::memory_order_relaxed);
  while (!a.compare_exchange_weak(old, old + v, std::memory_order_relaxed)) {
  }
}

void append_labels(std::string& out, const std::vector<std::string>& names,
                   const std::vector<std::string>& values, std::string_view extra_name = {},
                   std::string_view extra_value = {}) {
  if (names.empty() && extra_name.empty()) return;
  out += '{';
  bool first = true;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (!first) out += ',';
    first = false;
    out += names[i];
    out += "=\"";
    out += escape_label_value(values[i]);
    out += '"';
  }
  if (!extra_name.empty()) {
    if (!first) out += ',';
    out += extra_name;
    out += "=\"";
    out += extra_value;
    out += '"';
  }
  out += '}';
}

void append_header(std::string& out, const std::string& name, const std::string& help,
                   std::string_view type) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += escape_help(help);
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

}  // namespace

bool valid_metric_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (!name_char(name[i], i == 0, true)) return false;
  }
  return true;
}

bool valid_label_name(std::string_view name) {
  if (name.empty() || name.starts_with("__")) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (!name_char(name[i], i == 0, false)) return false;
  }
  return true;
}

std::string escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string escape_help(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

const std::vector<double>& default_latency_buckets() {
  static const std::vector<double> kBuckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                            0.1,    0.25,  0.5,    1,     2.5,  5,     10};
  return kBuckets;
}

// ---------------------------------------------------------------------------------------------

Histogram::Histogram(const std::vector<double>* bounds)
    : bounds_(bounds), buckets_(new std::atomic<std::uint64_t>[bounds->size() + 1]) {
  for (std::size_t i = 0; i <= bounds_->size(); ++i) buckets_[i].store(0);
}

void Histogram::observe(double v) noexcept {
  // Bucket i holds bounds[i-1] < v <= bounds[i] ("le" is inclusive).
  auto it = std::lower_bound(bounds_->begin(), bounds_->end(), v);
  buckets_[static_cast<std::size_t>(it - bounds_->begin())].fetch_add(1, std::memory_order_relaxed);
  atomic_add(sum_, v);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<std::uint64_t> Histogram::bucket_counts() const {
  std::vector<std::uint64_t> out(bounds_->size() + 1);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = buckets_[i].load(std::memory_order_relaxed);
  return out;
}

// ---------------------------------------------------------------------------------------------

template <class Metric>
Family<Metric>::Family(std::string name, std::string help, std::vector<std::string> label_names,
                       std::vector<double> bounds)
    : name_(std::move(name)),
      help_(std::move(help)),
      label_names_(std::move(label_names)),
      bounds_(std::move(bounds)) {
  if (!valid_metric_name(name_)) fail("invalid metric name \"" + name_ + "\"");
  for (const auto& l : label_names_) {
    if (!valid_label_name(l) || (std::is_same_v<Metric, Histogram> && l == "le")) {
      fail("invalid label name \"" + l + "\" for " + name_);
    }
  }
  for (std::size_t i = 1; i < bounds_.size(); ++i) {
    if (!(bounds_[i - 1] < bounds_[i])) fail("histogram buckets must increase: " + name_);
  }
  if (label_names_.empty()) child({});
}

template <class Metric>
Metric& Family<Metric>::child(std::vector<std::string> values) {
  if (values.size() != label_names_.size()) {
    fail(fmt::format("{}: {} label values for {} labels", name_, values.size(), label_names_.size()));
  }
  std::lock_guard lock(mutex_);
  auto it = children_.find(values);
  if (it != children_.end()) return *it->second;
  std::unique_ptr<Metric> metric;
  if constexpr (std::is_same_v<Metric, Histogram>) {
    metric = std::make_unique<Histogram>(&bounds_);
  } else {
    metric = std::make_unique<Metric>();
  }
  Metric& ref = *metric;
  children_.emplace(std::move(values), std::move(metric));
  return ref;
}

template <class Metric>
Metric& Family<Metric>::with(std::initializer_list<std::string_view> label_values) {
  return child(std::vector<std::string>(label_values.begin(), label_values.end()));
}

template <class Metric>
Metric& Family<Metric>::with(const std::vector<std::string>& label_values) {
  return child(label_values);
}

template <class Metric>
void Family<Metric>::for_each(
    const std::function<void(const std::vector<std::string>&, const Metric&)>& fn) const {
  std::lock_guard lock(mutex_);
  for (const auto& [values, metric] : children_) fn(values, *metric);
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

// ---------------------------------------------------------------------------------------------

Registry::Entry* Registry::find(const std::string& name) {
  for (auto& e : entries_) {
    const std::string& n = e.type == Type::counter ? e.counter->name()
                           : e.type == Type::gauge ? e.gauge->name()
                                                   : e.histogram->name();
    if (n == name) return &e;
  }
  return nullptr;
}

CounterFamily& Registry::counter(const std::string& name, const std::string& help,
                                 std::vector<std::string> label_names) {
  std::lock_guard lock(mutex_);
  if (Entry* e = find(name)) {
    if (e->type != Type::counter || e->counter->help() != help ||
        e->counter->label_names() != label_names) {
      fail("metric \"" + name + "\" registered twice with different definitions");
    }
    return *e->counter;
  }
  Entry e{Type::counter, std::make_unique<CounterFamily>(name, help, std::move(label_names)), {}, {}};
  entries_.push_back(std::move(e));
  return *entries_.back().counter;
}

GaugeFamily& Registry::gauge(const std::string& name, const std::string& help,
                             std::vector<std::string> label_names) {
  std::lock_guard lock(mutex_);
  if (Entry* e = find(name)) {
    if (e->type != Type::gauge || e->gauge->help() != help || e->gauge->label_names() != label_names) {
      fail("metric \"" + name + "\" registered twice with different definitions");
    }
    return *e->gauge;
  }
  Entry e{Type::gauge, {}, std::make_unique<GaugeFamily>(name, help, std::move(label_names)), {}};
  entries_.push_back(std::move(e));
  return *entries_.back().gauge;
}

HistogramFamily& Registry::histogram(const std::string& name, const std::string& help,
                                     std::vector<std::string> label_names,
                                     std::vector<double> bounds) {
  std::lock_guard lock(mutex_);
  if (Entry* e = find(name)) {
    if (e->type != Type::histogram || e->histogram->help() != help ||
        e->histogram->label_names() != label_names || e->histogram->bounds() != bounds) {
      fail("metric \"" + name + "\" registered twice with different definitions");
    }
    return *e->histogram;
  }
  Entry e{Type::histogram, {}, {},
          std::make_unique<HistogramFamily>(name, help, std::move(label_names), std::move(bounds))};
  entries_.push_back(std::move(e));
  return *entries_.back().histogram;
}

void Registry::add_collector(std::function<void()> collector) {
  std::lock_guard lock(mutex_);
  collectors_.push_back(std::move(collector));
}

std::string Registry::render() const {
  std::vector<std::function<void()>> collectors;
  {
    std::lock_guard lock(mutex_);
    collectors = collectors_;
  }
  for (const auto& c : collectors) c();

  std::lock_guard lock(mutex_);
  std::string out;
  out.reserve(4096);
  for (const auto& e : entries_) {
    if (e.type == Type::counter) {
      const auto& f = *e.counter;
      append_header(out, f.name(), f.help(), "counter");
      f.for_each([&](const std::vector<std::string>& values, const Counter& c) {
        out += f.name();
        append_labels(out, f.label_names(), values);
        out += fmt::format(" {}\n", c.value());
      });
    } else if (e.type == Type::gauge) {
      const auto& f = *e.gauge;
      append_header(out, f.name(), f.help(), "gauge");
      f.for_each([&](const std::vector<std::string>& values, const Gauge& g) {
        out += f.name();
        append_labels(out, f.label_names(), values);
        out += ' ';
        out += format_value(g.value());
        out += '\n';
      });
    } else {
      const auto& f = *e.histogram;
      append_header(out, f.name(), f.help(), "histogram");
      f.for_each([&](const std::vector<std::string>& values, const Histogram& h) {
        // Read the buckets first and derive the count from them, so that a concurrent
        // observe() never makes +Inf disagree with _count (both must be equal).
        auto counts = h.bucket_counts();
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i < counts.size(); ++i) {
          cumulative += counts[i];
          out += f.name();
          out += "_bucket";
          append_labels(out, f.label_names(), values, "le",
                        i < f.bounds().size() ? format_value(f.bounds()[i]) : "+Inf");
          out += fmt::format(" {}\n", cumulative);
        }
        out += f.name();
        out += "_sum";
        append_labels(out, f.label_names(), values);
        out += ' ';
        out += format_value(h.sum());
        out += '\n';
        out += f.name();
        out += "_count";
        append_labels(out, f.label_names(), values);
        out += fmt::format(" {}\n", cumulative);
      });
    }
  }
  return out;
}

}  // namespace mb::metrics
