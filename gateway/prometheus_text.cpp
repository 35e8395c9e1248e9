#include "gateway/prometheus_text.hpp"

#include <charconv>
#include <cmath>
#include <stdexcept>

#include "mapping/utf8.hpp"

namespace gw::gateway {
namespace {

bool name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool name_char(char c) { return name_start(c) || (c >= '0' && c <= '9'); }

// [a-zA-Z_][a-zA-Z0-9_]* (colons are for recording rules, not exporters).
void check_name(std::string_view name, const char* what) {
  bool ok = !name.empty() && name_start(name.front());
  for (const char c : name) ok = ok && name_char(c);
  if (!ok) throw std::logic_error(std::string("metrics: invalid ") + what + " '" + std::string(name) + "'");
}

std::string_view type_name(PrometheusText::Type type) {
  switch (type) {
    case PrometheusText::Type::counter: return "counter";
    case PrometheusText::Type::gauge: return "gauge";
    case PrometheusText::Type::histogram: return "histogram";
  }
  return "untyped";
}

// HELP text: backslash and newline escaped.
void append_help(std::string& out, std::string_view help) {
  for (const char c : help) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
}

bool belongs(std::string_view family, PrometheusText::Type type, std::string_view name) {
  if (name == family) return type != PrometheusText::Type::histogram;
  if (type != PrometheusText::Type::histogram || !name.starts_with(family)) return false;
  const std::string_view suffix = name.substr(family.size());
  return suffix == "_bucket" || suffix == "_sum" || suffix == "_count";
}

}  // namespace

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (std::size_t i = 0; i < value.size();) {
    const auto c = static_cast<unsigned char>(value[i]);
    if (c < 0x80) {
      if (c == '\\') out += "\\\\";
      else if (c == '"') out += "\\\"";
      else if (c == '\n') out += "\\n";
      else out += static_cast<char>(c);
      ++i;
      continue;
    }
    std::uint32_t code_point = 0;
    const std::size_t n = mapping::utf8_sequence(value, i, code_point);
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD for a byte that starts no well-formed sequence
      ++i;
    } else {
      out.append(value.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string format_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // Plain digits where they are short enough to read (0.0001, not 1e-04;
  // a Unix time in full), the shortest form that reads back the same.
  const double magnitude = std::fabs(value);
  const bool plain = magnitude == 0 || (magnitude >= 1e-4 && magnitude < 1e15);
  char buf[64];
  const auto r = plain ? std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed)
                       : std::to_chars(buf, buf + sizeof buf, value);
  return std::string(buf, r.ptr);
}

void PrometheusText::family(std::string_view name, Type type, std::string_view help) {
  check_name(name, "metric name");
  family_ = name;
  type_ = type;
  text_ += "# HELP ";
  text_ += name;
  text_ += ' ';
  append_help(text_, help);
  text_ += "\n# TYPE ";
  text_ += name;
  text_ += ' ';
  text_ += type_name(type);
  text_ += '\n';
}

void PrometheusText::begin_sample(std::string_view name, std::initializer_list<Label> labels, const Label* extra) {
  if (family_.empty() || !belongs(family_, type_, name))
    throw std::logic_error("metrics: sample '" + std::string(name) + "' outside its family");
  text_ += name;
  if (labels.size() == 0 && !extra) {
    text_ += ' ';
    return;
  }
  char sep = '{';
  const auto add = [&](const Label& l) {
    check_name(l.name, "label name");
    text_ += sep;
    text_ += l.name;
    text_ += "=\"";
    text_ += escape_label_value(l.value);
    text_ += '"';
    sep = ',';
  };
  for (const Label& l : labels) add(l);
  if (extra) add(*extra);
  text_ += "} ";
}

void PrometheusText::sample(std::string_view name, std::initializer_list<Label> labels, std::uint64_t value) {
  begin_sample(name, labels);
  text_ += std::to_string(value);
  text_ += '\n';
}

void PrometheusText::sample(std::string_view name, std::initializer_list<Label> labels, double value) {
  begin_sample(name, labels);
  text_ += format_value(value);
  text_ += '\n';
}

void PrometheusText::histogram(std::string_view name, std::initializer_list<Label> labels,
                               std::span<const double> bounds, std::span<const std::uint64_t> cumulative, double sum) {
  if (cumulative.size() != bounds.size() + 1) throw std::logic_error("metrics: a histogram needs a +Inf bucket");
  const std::size_t buckets = bounds.size();
  const std::string bucket = std::string(name) + "_bucket";
  for (std::size_t i = 0; i <= buckets; ++i) {
    const std::string le = i < buckets ? format_value(bounds[i]) : "+Inf";
    const Label extra{"le", le};
    begin_sample(bucket, labels, &extra);
    text_ += std::to_string(cumulative[i]);
    text_ += '\n';
  }
  sample(std::string(name) + "_sum", labels, sum);
  sample(std::string(name) + "_count", labels, cumulative[buckets]);
}

}  // namespace gw::gateway
