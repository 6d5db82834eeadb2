// Test helper: a strict parser of the Prometheus text format 0.0.4 subset we emit, so the tests
// check the output the way a scraper reads it (HELP/TYPE before samples, label syntax, values).
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <map>
#include <sstream>
#include <string>

namespace mb::metrics::test {

struct Exposition {
  std::map<std::string, std::string> type;   // family -> counter|gauge|histogram
  std::map<std::string, std::string> help;   // family -> help (escaped form)
  std::map<std::string, double> samples;     // 'name{a="b",c="d"}' -> value
  std::string error;                         // first problem found, empty if none
};

inline Exposition parse_exposition(const std::string& text) {
  Exposition e;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) {
      auto rest = line.substr(7);
      auto sp = rest.find(' ');
      if (sp == std::string::npos) { e.error = "bad comment: " + line; break; }
      (line[2] == 'H' ? e.help : e.type)[rest.substr(0, sp)] = rest.substr(sp + 1);
      continue;
    }
    // name[{labels}] value
    std::size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    std::string name = line.substr(0, i);
    std::string key = name;
    if (i < line.size() && line[i] == '{') {
      // Walk the label set honouring escapes inside quoted values.
      std::size_t j = i + 1;
      bool in_quotes = false;
      for (; j < line.size(); ++j) {
        char c = line[j];
        if (in_quotes && c == '\\') { ++j; continue; }
        if (c == '"') in_quotes = !in_quotes;
        if (!in_quotes && c == '}') break;
      }
      if (j >= line.size()) { e.error = "unterminated labels: " + line; break; }
      key = line.substr(0, j + 1);
      i = j + 1;
    }
    if (i >= line.size() || line[i] != ' ') { e.error = "no value: " + line; break; }
    std::string value = line.substr(i + 1);
    std::string family = name;
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      std::string s(suffix);
      if (family.size() > s.size() && family.compare(family.size() - s.size(), s.size(), s) == 0 &&
          e.type.count(family.substr(0, family.size() - s.size())) &&
          e.type[family.substr(0, family.size() - s.size())] == "histogram") {
        family = family.substr(0, family.size() - s.size());
      }
    }
    if (!e.type.count(family)) { e.error = "sample before its TYPE: " + line; break; }
    char* end = nullptr;
    double v = value == "+Inf" ? HUGE_VAL : value == "-Inf" ? -HUGE_VAL : std::strtod(value.c_str(), &end);
    if (end != nullptr && *end != '\0') { e.error = "bad value: " + line; break; }
    if (e.samples.count(key)) { e.error = "duplicate sample: " + line; break; }
    e.samples[key] = v;
  }
  return e;
}

}  // namespace mb::metrics::test
