// Prometheus' text exposition format 0.0.4, the one way gateway/ writes it
// (served at /metrics and written to --metrics-file): each family's # HELP
// and # TYPE lines, then its samples, one per line.
//
// Label values are escaped as the format demands (backslash, double quote,
// newline) and bytes that are not well-formed UTF-8 become U+FFFD, so a
// folder name can neither break a line nor make the page unparsable. Metric
// and label names are the program's own constants; a name the format does
// not allow is a bug and throws std::logic_error.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

namespace gw::gateway {

struct Label {
  std::string_view name;
  std::string_view value;
};

class PrometheusText {
 public:
  enum class Type { counter, gauge, histogram };

  // Starts the family `name`. Every sample after it, up to the next
  // family, must be named `name` or, for a histogram, `name` plus _bucket,
  // _sum or _count. A family starts once per page.
  void family(std::string_view name, Type type, std::string_view help);

  void sample(std::string_view name, std::initializer_list<Label> labels, std::uint64_t value);
  void sample(std::string_view name, std::initializer_list<Label> labels, double value);

  // A histogram's samples from cumulative bucket counts: `bounds` (upper
  // bounds, ascending) and `cumulative` (one more: the +Inf bucket, which is
  // also the _count), plus the sum; `labels` go on every line, before `le`.
  void histogram(std::string_view name, std::initializer_list<Label> labels, std::span<const double> bounds,
                 std::span<const std::uint64_t> cumulative, double sum);

  const std::string& text() const { return text_; }

 private:
  void begin_sample(std::string_view name, std::initializer_list<Label> labels, const Label* extra = nullptr);

  std::string text_;
  std::string family_;
  Type type_ = Type::gauge;
};

// `value` escaped for a label value (without the quotes).
std::string escape_label_value(std::string_view value);
// A float as the format writes it: shortest round-trip form, +Inf, -Inf, NaN.
std::string format_value(double value);

}  // namespace gw::gateway
